# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the talos_* modules share: connection options, the talosctl client, redaction (secrets.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import Talosctl

CONNECTION_SPEC = dict(
    talosconfig=dict(type="path"),
    endpoints=dict(type="list", elements="str", default=[]),
    talosctl_path=dict(type="str", default="talosctl"),
)


def client_from_module(module):
    def run(argv, env):
        rc, out, err = module.run_command(argv, environ_update=env or {})
        return rc, out, err
    return Talosctl(binary=module.params["talosctl_path"], talosconfig=module.params["talosconfig"],
                    endpoints=module.params["endpoints"], run=run)


def mask(module, secrets):
    """Have Ansible mask these secret strings in everything the module returns (invocation too)."""
    module.no_log_values.update(s for s in secrets if s)
