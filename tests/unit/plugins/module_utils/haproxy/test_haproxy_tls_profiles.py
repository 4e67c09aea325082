# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's TLS profiles match the Mozilla guideline they name (read in place from ../shared/specs)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import pathlib

import pytest
import yaml

ROLE = pathlib.Path(__file__).resolve().parents[5] / "roles" / "haproxy"
PROFILES = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
COMPARED = ("tls_versions", "ciphersuites", "tls_curves", "certificate_types", "rsa_key_size", "hsts_min_age",
            "server_preferred_order")


def guideline(shared_specs, version):
    return json.loads((shared_specs / ("mozilla-server-side-tls-%s.json" % version)).read_text())


@pytest.mark.parametrize("profile", ["intermediate", "modern"])
def test_profile_equals_the_guideline_it_names(shared_specs, profile):
    ours = PROFILES["haproxy_tls_profiles"][profile]
    theirs = guideline(shared_specs, ours["guideline"])["configurations"][profile]
    for key in COMPARED:
        assert ours[key] == theirs[key], "%s.%s drifted from guideline %s" % (profile, key, ours["guideline"])
    # OpenSSL names, same order (the order is the server's preference list for old clients).
    assert ours["ciphers"] == theirs["ciphers"]["openssl"]


def test_profiles_follow_the_newest_guideline_available(shared_specs):
    newest = max((p.name[len("mozilla-server-side-tls-"):-len(".json")] for p in shared_specs.glob("mozilla-server-side-tls-*.json")),
                 key=lambda v: tuple(int(x) for x in v.split(".")))
    for name, profile in PROFILES["haproxy_tls_profiles"].items():
        assert profile["guideline"] == newest, "%s follows %s, newest is %s" % (name, profile["guideline"], newest)


def test_groups_held_back_for_old_openssl_are_in_the_guideline():
    curves = set()
    for profile in PROFILES["haproxy_tls_profiles"].values():
        curves.update(profile["tls_curves"])
    assert set(PROFILES["haproxy_tls_group_min_openssl"]) <= curves
