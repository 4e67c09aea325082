# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import _typed as T
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

PAYLOADS = ["a\nb", "a\rb", "a\u2028b", "a\u2029b", "a\x00b", "a\x85b", "a;b", 'a"b', "a b", "a#b", "a{b", "a}b", "$(id)", "a\\b"]


# ';' and braces are literal to haproxy, so its bare words may not need them refused.
CASES = [(d, p) for d in ("haproxy", "keepalived", "bird", "systemd") for p in PAYLOADS
         if not (d == "haproxy" and p in ("a;b", "a{b", "a}b"))]


@pytest.mark.parametrize("dialect, payload", CASES)
def test_quote_refuses_anything_that_could_end_a_word(dialect, payload):
    with pytest.raises(NetsecError) as err:
        T.quote(payload, "lb_ha_bgp_password", dialect)
    assert err.value.field == "lb_ha_bgp_password"


@pytest.mark.parametrize("payload", ['x"; bfd off; passive on; "', "a\nb", "a\\", "a\u2028b"])
def test_quoted_strings_cannot_carry_their_delimiter_and_secrets_are_not_echoed(payload):
    with pytest.raises(NetsecError) as err:
        T.quote(payload, "lb_ha_bgp_password", "bird", quoted=True, secret=True)
    assert payload not in str(err.value) and "the value" in str(err.value)
    assert T.quote("s3cr3t; {x}", "f", "bird", quoted=True) == '"s3cr3t; {x}"'


@pytest.mark.parametrize("kind, good, bad", [
    ("duration", ["5s", "250ms", "1h", "30"], ["5s\n", "5 s", "5s\ntcp-request connection accept", "-1s", "5x"]),
    ("hostname", ["api.example.com", "a"], ["a..b", "-a.com", "a b", "*.example.com", "x.com\n"]),
    ("sni", ["*.example.com", "www.example.com"], ["[ssl-min-ver TLSv1.0]", "a b", "*.*.a.com", "a*.com"]),
    ("http_path", ["/healthz", "/a/b-c_d.e"], ["healthz", "/a b", "/a\nserver x", "/a#b", "/a'b", '/a"b', "/a?x"]),
    ("http_method", ["GET", "PROPFIND"], ["get", "GET POST", "G\nET", ""]),
    ("name", ["web", "api-v2"], ["../x", ".hidden", "a/b", "a b", ""]),
    ("path", ["/run/haproxy.sock", "/etc/x"], ["/etc/../x", "relative", "/a b", "/a/./b", "/a/.."]),
])
def test_grammars(kind, good, bad):
    for value in good:
        T.grammar(value, "f", kind)
    for value in bad:
        with pytest.raises(NetsecError):
            T.grammar(value, "f", kind)


def test_integers_addresses_and_keys():
    assert T.integer("42", "f", 1, 100) == 42
    for bad in [True, 1.5, "abc", "4 2", 0, "1\n"]:
        with pytest.raises(NetsecError) as err:
            T.integer(bad, "f", 1, 100)
        assert err.value.field == "f"
    assert T.address("2001:DB8::1", "f") == "2001:db8::1"
    assert T.cidr("10.1.2.3/8", "f") == "10.0.0.0/8"
    for bad in ["10.0.0.1;touch /x", "10.0.0.1\n", "10.0.0.1 ", "10.0.0.1,10.0.0.2"]:
        with pytest.raises(NetsecError):
            T.address(bad, "f")
    with pytest.raises(NetsecError) as err:
        T.known_keys({"descripton": "x"}, "protected_rules[0]", ["description", "tag"])
    assert "descripton" in str(err.value) and "known keys" in str(err.value)
    assert T.argv("talosctl", ["-n", "10.0.0.1"]) == ["talosctl", "-n", "10.0.0.1"]
    with pytest.raises(NetsecError):
        T.argv("talosctl", "a\nb")
