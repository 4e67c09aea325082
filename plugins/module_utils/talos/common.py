# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the talos_* modules share: connection options, the talosctl client, redaction."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import Talosctl

CONNECTION_SPEC = dict(
    talosconfig=dict(type="path"),
    endpoints=dict(type="list", elements="str", default=[]),
    talosctl_path=dict(type="str", default="talosctl"),
)

REDACTED = "VALUE_REDACTED"
# Keys that hold key material or bootstrap tokens anywhere in a machine config.
SECRET_KEYS = ("key", "token", "secret", "aescbcEncryptionSecret", "secretboxEncryptionSecret", "bootstraptoken")


def client_from_module(module):
    def run(argv, env):
        rc, out, err = module.run_command(argv, environ_update=env or {})
        return rc, out, err
    return Talosctl(binary=module.params["talosctl_path"], talosconfig=module.params["talosconfig"],
                    endpoints=module.params["endpoints"], run=run)


def redact(value):
    """A copy of a document tree with key material and tokens replaced (for diffs and logs)."""
    if isinstance(value, dict):
        return dict((k, REDACTED if k in SECRET_KEYS and isinstance(v, str) else redact(v)) for k, v in value.items())
    if isinstance(value, list):
        return [redact(v) for v in value]
    return copy.deepcopy(value)


_SECRET_LINE = re.compile(r"^([-+ ]?\s*-?\s*(?:%s):\s*)(\S.*)$" % "|".join(SECRET_KEYS))


def redact_text(text):
    """Redact `key: value` lines of secret keys in YAML text or a unified diff of it."""
    if not text:
        return text
    return "\n".join(_SECRET_LINE.sub(lambda m: m.group(1) + REDACTED, line) for line in text.split("\n"))
