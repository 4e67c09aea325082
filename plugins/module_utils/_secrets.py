# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generic secret handling for modules outside Talos: secret-looking leaves redacted, private files 0600 from creation."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

REDACTED = "VALUE_REDACTED"
# A leaf is secret when its key looks like one (tls.key, caKey, password, token, ...) or its value is PEM key material.
_SECRET_KEY = re.compile(r"(?i:(^|[._-])(key|password|passwd|passphrase|token|secret|psk|credentials?))$"
                         r"|[a-z0-9](Key|Password|Passphrase|Token|Secret)$")
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def is_secret(key, value=None):
    return bool(_SECRET_KEY.search(str(key))) or (isinstance(value, str) and bool(_PEM_KEY.search(value)))


def redact(value, key=""):
    """A copy with every secret-looking leaf replaced by REDACTED (mappings and lists walked)."""
    if isinstance(value, dict):
        return dict((k, REDACTED if is_secret(k, v) and not isinstance(v, (dict, list)) else redact(v, k)) for k, v in value.items())
    if isinstance(value, list):
        return [REDACTED if is_secret(key, v) and not isinstance(v, (dict, list)) else redact(v, key) for v in value]
    if isinstance(value, str) and _PEM_KEY.search(value):
        return REDACTED
    return value


def write_private(dest, data, validate=None):
    """Write dest atomically and 0600 from its first byte; validate(tmp_path), when given, runs before the rename.

    No moment exists where the content is readable by others, and any failure (validation
    included) removes the temporary file and leaves dest as it was."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(dest))
    tmp = os.path.join(directory, ".%s.%d.tmp" % (os.path.basename(dest), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)  # the umask can only narrow os.open's mode; make it exact
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if validate:
            validate(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
