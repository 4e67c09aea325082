# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generic redaction and private files (used by cilium_install)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import _secrets as secrets


def test_secret_looking_leaves_are_redacted_and_the_rest_kept():
    got = secrets.redact({"tls": {"key": "K", "cert": "C", "caKey": "CK"}, "password": "P", "apiToken": "T", "keyFile": "/x",
                          "list": ["-----BEGIN RSA PRIVATE KEY-----\nx"], "replicas": 2, "monkey": "m"})
    assert got == {"tls": {"key": "VALUE_REDACTED", "cert": "C", "caKey": "VALUE_REDACTED"}, "password": "VALUE_REDACTED",
                   "apiToken": "VALUE_REDACTED", "keyFile": "/x", "list": ["VALUE_REDACTED"], "replicas": 2, "monkey": "m"}


def test_private_file_is_0600_with_umask_0_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    old = os.umask(0)
    try:
        dest = tmp_path / "v.yaml"
        secrets.write_private(str(dest), "a: 1\n")
        assert (dest.stat().st_mode & 0o777) == 0o600 and dest.read_text() == "a: 1\n"
        monkeypatch.setattr(os, "fsync", lambda fd: (never for never in ()).throw(OSError("disk full")))
        with pytest.raises(OSError):
            secrets.write_private(str(dest), "b: 2\n")
        assert dest.read_text() == "a: 1\n" and sorted(p.name for p in tmp_path.iterdir()) == ["v.yaml"]
    finally:
        os.umask(old)
