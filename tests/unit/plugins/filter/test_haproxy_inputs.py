# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The haproxy role's variables are typed before anything is written: every value that
reaches haproxy.cfg, the crt-list or a file name is either refused naming the variable as
the user wrote it, or comes back unchanged as one haproxy word (issue 13)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import pathlib
import re

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.filter import haproxy_inputs as F
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import inputs

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "haproxy"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
PROFILES = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["haproxy_tls_profiles"]
PAIR = {"cert": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "key": "-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----"}

# A haproxy word must not split, end a line, open a comment, a quoted string, a block or an ACL.
ONE_WORD = re.compile(r"[^\s#\"'\\{}$;`\u2028\u2029\x00-\x1f\x7f-\x9f]+")
PAYLOADS = ["\n", "\r", "\u2028", "\u2029", "\x00", " ", "\t", "#", '"', "'", "\\", "{", "}", "[", "]", ";", "$(", "..", "/", "!",
            "\n    tcp-request connection accept", " } || { always_true", "[ssl-min-ver TLSv1.0 ciphers ALL:@SECLEVEL=0]"]
# '..' comes from two dots; the rest are the characters that end or split a word somewhere.
ALPHABET = u"aZ09.-_*/:@%+=~!|&,()[]{}<>$;#'\"\\ \t\n\r\u2028\u2029\x00\x85"


def base():
    """The role defaults plus the required variables, lab-like."""
    values = dict((k[len(inputs.PREFIX):], copy.deepcopy(v)) for k, v in DEFAULTS.items())
    values.update({
        "cluster": {"name": "lab", "ip_versions": [4, 6], "loadbalancer": {"ha_mode": "none", "api_cidrs": ["198.18.2.11/32"]}},
        "addresses": {"jump_host": ["198.18.2.5", "fd5a:fe:2::5"], "control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"],
                      "loadbalancer": ["198.18.1.11"]},
        "admin_address": "fd5a:fe:1::11",
        "service_addresses": ["198.18.0.10", "fd5a:fe::10"],
        "tls_profiles": PROFILES,
        "certificates": [{"name": "apps", "hosts": ["*.apps.lab.netsec.test", "apps.lab.netsec.test"], "ecdsa": dict(PAIR), "rsa": dict(PAIR)}],
        "ingress_routes": [{"name": "apps", "hosts": ["*.apps.lab.netsec.test", "apps.lab.netsec.test"], "target": "nodeport",
                            "nodeport": 30080, "health_path": "/readyz"}],
        "health_frontend": {"address": "127.0.0.1", "port": 8405, "uri": "/healthz"},
    })
    return values


def refused(values, field):
    with pytest.raises(NetsecError) as err:
        inputs.parse(values)
    assert err.value.field == field, str(err.value)
    return err.value


def with_value(path, value):
    """base() with the value at `path` (keys and list indexes) replaced."""
    values = base()
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return values


def test_lab_values_are_typed_unchanged():
    out = inputs.parse(base())
    assert out["timeouts"] == DEFAULTS["haproxy_timeouts"]
    assert out["rate_period"] == "10s" and out["retry_after"] == 10
    assert out["certificates"] == [{"index": 0, "name": "apps", "hosts": ["*.apps.lab.netsec.test", "apps.lab.netsec.test"],
                                    "pairs": ["ecdsa", "rsa"]}]
    assert out["crt_list"] == [["/etc/haproxy/certs/apps.ecdsa.pem", "*.apps.lab.netsec.test", "apps.lab.netsec.test"],
                               ["/etc/haproxy/certs/apps.rsa.pem", "*.apps.lab.netsec.test", "apps.lab.netsec.test"]]
    route = out["routes"][0]
    assert (route["exact_hosts"], route["wildcard_suffixes"], route["health_path"]) == (
        ["apps.lab.netsec.test"], [".apps.lab.netsec.test"], "/readyz")
    assert out["upstreams"]["kube-apiserver"]["servers"] == ["198.18.1.21"]
    assert out["runtime_socket_mode"] == "600" and out["user"] == "haproxy" and out["log_target"] == "/dev/log"
    assert out["allowed_methods"] == DEFAULTS["haproxy_allowed_methods"]


def test_keys_never_come_back():
    assert "secret" not in repr(inputs.parse(base()))


def test_the_modern_profile_keeps_only_ecdsa_lines_and_needs_an_ecdsa_pair():
    values = base()
    values["tls_profile"] = "modern"
    assert [line[0] for line in inputs.parse(values)["crt_list"]] == ["/etc/haproxy/certs/apps.ecdsa.pem"]
    del values["certificates"][0]["ecdsa"]
    assert "modern" in refused(values, "haproxy_certificates[0]").message


@pytest.mark.parametrize("key", inputs.TIMEOUT_KEYS)
def test_a_line_break_in_any_timeout_is_refused_naming_it(key):
    err = refused(with_value(["timeouts", key], "5s\n    tcp-request connection accept"), "haproxy_timeouts." + key)
    assert "line break" in err.message


@pytest.mark.parametrize("value", ["10s\n    tcp-request connection accept", "10s tcp-request", "10 s", "10s\u2028x", "-1s", "10x", ""])
def test_the_rate_period_is_a_duration(value):
    refused(with_value(["rate_period"], value), "haproxy_rate_period")


@pytest.mark.parametrize("key", ["close_spread_time", "hard_stop_after"])
def test_reload_windows_are_durations(key):
    refused(with_value([key], "5s\nhard-stop-after 1d"), "haproxy_" + key)


def test_unknown_and_missing_timeout_keys_are_refused_with_the_known_keys():
    values = base()
    values["timeouts"]["clinet"] = "30s"
    err = refused(values, "haproxy_timeouts")
    assert "clinet" in err.message and "client_fin" in err.fix
    values = base()
    del values["timeouts"]["tarpit"]
    assert "tarpit" in refused(values, "haproxy_timeouts").message


@pytest.mark.parametrize("path, value, field", [
    (["limits", "conn_cur"], "100\n    tcp-request connection accept", "haproxy_limits.conn_cur"),
    (["limits", "conn_rate"], "2e3", "haproxy_limits.conn_rate"),
    (["limits", "api_conn_cur"], 0, "haproxy_limits.api_conn_cur"),
    (["limits", "http_req_rate"], 5000, "haproxy_limits.http_req_rate"),
    (["bufsize"], "16384 } || {", "haproxy_bufsize"),
    (["max_header_count"], True, "haproxy_max_header_count"),
    (["max_body_size"], 1.5, "haproxy_max_body_size"),
    (["hsts_max_age"], "63072000; preload", "haproxy_hsts_max_age"),
    (["maxconn"], -1, "haproxy_maxconn"),
])
def test_counts_are_whole_numbers_in_range(path, value, field):
    refused(with_value(path, value), field)


def test_unknown_limit_keys_are_refused():
    values = base()
    values["limits"]["conn_currr"] = 1
    assert "conn_currr" in refused(values, "haproxy_limits").message


@pytest.mark.parametrize("host", ["[ssl-min-ver TLSv1.0 ciphers ALL:@SECLEVEL=0]", "a.example [verify none]", "!apps.lab.netsec.test",
                                  "a.example b.example", "a.example\n/etc/haproxy/certs/x.pem", "*.*.example", "a*.example",
                                  "a.example#", "-a.example", "a..example", ""])
def test_certificate_hosts_are_sni_names_not_crt_list_options(host):
    refused(with_value(["certificates", 0, "hosts", 1], host), "haproxy_certificates[0].hosts[1]")


@pytest.mark.parametrize("name", ["../../../etc/ssl/private/x", "a/b", "..", "a..b", ".hidden", "apps\n", "apps x", "apps[x]", "", None])
def test_certificate_names_stay_inside_certs(name):
    refused(with_value(["certificates", 0, "name"], name), "haproxy_certificates[0].name")


def test_certificate_shape_is_checked():
    values = base()
    values["certificates"][0]["host"] = ["typo.example"]
    assert "host" in refused(values, "haproxy_certificates[0]").message
    values = base()
    values["certificates"][0]["ecdsa"] = {"cert": PAIR["cert"]}
    refused(values, "haproxy_certificates[0].ecdsa.key")
    values = base()
    values["certificates"][0]["rsa"]["passphrase"] = "x"
    refused(values, "haproxy_certificates[0].rsa")
    values = base()
    values["certificates"].append(dict(values["certificates"][0]))
    refused(values, "haproxy_certificates[1].name")
    refused(with_value(["certificates"], []), "haproxy_certificates")


@pytest.mark.parametrize("path", ["/healthz\n    server rogue 203.0.113.66:80 check", "/healthz\u2028server rogue 203.0.113.66:80",
                                  "/healthz HTTP/1.1", "healthz", "/a#b", "/a\"b", "/a{b}", "/a;b", "/a$b"])
def test_a_route_health_path_is_one_http_path(path):
    refused(with_value(["ingress_routes", 0, "health_path"], path), "haproxy_ingress_routes[0].health_path")


@pytest.mark.parametrize("path, value, field", [
    (["ingress_routes", 0, "name"], "apps\n", "haproxy_ingress_routes[0].name"),
    (["ingress_routes", 0, "name"], "apps if TRUE", "haproxy_ingress_routes[0].name"),
    (["ingress_routes", 0, "hosts", 1], "apps.lab.netsec.test } || { always_true", "haproxy_ingress_routes[0].hosts[1]"),
    (["ingress_routes", 0, "hosts", 1], "apps.lab.netsec.test\n", "haproxy_ingress_routes[0].hosts[1]"),
    (["ingress_routes", 0, "hosts", 1], " apps.lab.netsec.test", "haproxy_ingress_routes[0].hosts[1]"),
    (["ingress_routes", 0, "send_proxy"], "maybe", "haproxy_ingress_routes[0].send_proxy"),
    (["stats_path"], "/stats } || { always_true", "haproxy_stats_path"),
    (["stats_path"], "/stats\n    stats admin if TRUE", "haproxy_stats_path"),
    (["metrics_path"], "/metrics if TRUE", "haproxy_metrics_path"),
    (["allowed_methods", 1], "HEAD } || { always_true", "haproxy_allowed_methods[1]"),
    (["allowed_methods", 1], "get", "haproxy_allowed_methods[1]"),
    (["allowed_methods", 1], "-m", "haproxy_allowed_methods[1]"),
    (["allowed_methods"], [], "haproxy_allowed_methods"),
    (["health_frontend", "uri"], "/healthz\n    monitor fail if TRUE", "haproxy_health_frontend.uri"),
    (["health_frontend", "port"], "8405 ssl", "haproxy_health_frontend.port"),
    (["health_frontend", "interval"], 1, "haproxy_health_frontend"),
    (["api_health_checks", "kube-apiserver", "path"], "/readyz\n    server x 1.2.3.4:1", "haproxy_api_health_checks.kube-apiserver.path"),
    (["api_health_checks", "kube-apiserver", "type"], "http", "haproxy_api_health_checks.kube-apiserver.type"),
    (["api_health_checks", "etcd"], {"type": "tcp"}, "haproxy_api_health_checks"),
    (["log_target"], "/dev/log\n    stats socket /tmp/x level admin", "haproxy_log_target"),
    (["log_target"], "/dev/log local0 debug", "haproxy_log_target"),
    (["config_dir"], "/etc/haproxy/../../tmp", "haproxy_config_dir"),
    (["config_dir"], "/etc/ha proxy", "haproxy_config_dir"),
    (["runtime_socket"], "/run/haproxy.sock mode 666", "haproxy_runtime_socket"),
    (["runtime_socket_mode"], "0666", "haproxy_runtime_socket_mode"),
    (["chroot"], "/var/lib/haproxy\n    user root", "haproxy_chroot"),
    (["user"], "haproxy\n    user root", "haproxy_user"),
    (["group"], "haproxy root", "haproxy_group"),
    (["service_addresses", 0], "198.18.0.10:80 ssl crt /tmp/x", "haproxy_service_addresses[0]"),
    (["admin_address"], "0.0.0.0 interface eth0", "haproxy_admin_address"),
    (["admin_address6"], "fd5a:fe:1::11\n    bind :8404", "haproxy_admin_address6"),
    (["admin_address6"], "198.18.2.5", "haproxy_admin_address6"),
    (["default_route"], "nope", "haproxy_default_route"),
    (["abuse_action"], "accept", "haproxy_abuse_action"),
    (["hsts_preload"], "maybe", "haproxy_hsts_preload"),
    (["deny_cidrs"], ["0.0.0.0/0"], "haproxy_deny_cidrs[0]"),
    (["limit_exempt_cidrs"], ["198.18.2.0/24\n"], "haproxy_limit_exempt_cidrs[0]"),
    (["addresses", "control_plane"], [], "haproxy_addresses.control_plane"),
    (["tls_profile"], "old", "haproxy_tls_profile"),
])
def test_acl_and_directive_syntax_is_refused_naming_the_variable(path, value, field):
    refused(with_value(path, value), field)


def test_unknown_route_and_server_keys_are_refused():
    values = base()
    values["ingress_routes"][0]["helth_path"] = "/x"
    assert "helth_path" in refused(values, "haproxy_ingress_routes[0]").message
    values = base()
    values["ingress_routes"] = [{"name": "gw", "hosts": ["gw.example"], "target": "servers",
                                 "servers": [{"address": "198.18.1.30", "port": 443, "weight": 1}]}]
    refused(values, "haproxy_ingress_routes[0].servers[0]")


def test_survey_spellings_of_flags_and_counts_are_read_as_meant():
    values = base()
    values.update(hsts_preload="false", bind_transparent="yes", bufsize="32768")
    values["ingress_routes"][0]["send_proxy"] = "false"
    out = inputs.parse(values)
    assert (out["hsts_preload"], out["bind_transparent"], out["bufsize"], out["routes"][0]["send_proxy"]) == (False, True, 32768, False)


@pytest.mark.parametrize("target", ["/dev/log", "127.0.0.1:514", "[fd00::1]:514", "stdout format raw", "stderr format short"])
def test_log_targets(target):
    assert inputs.parse(with_value(["log_target"], target))["log_target"] == target


def test_retry_after_is_whole_seconds_of_the_rate_period():
    assert [inputs.seconds(v) for v in ("10s", "1m", "250ms", "1500", "2h", "1d", "900us")] == [10, 60, 1, 2, 7200, 86400, 1]


def test_the_filter_names_the_field_in_its_error():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match=r"^haproxy_timeouts\.client: "):
        F.haproxy_inputs(with_value(["timeouts", "client"], "30s\naccept"))
    assert list(F.FilterModule().filters()) == ["haproxy_inputs"]


# --- properties: any string is either refused naming the field, or one unchanged word -----

# (path into the variables, the field named in errors, a valid value, where the typed value is read back)
FIELDS = [
    (["rate_period"], "haproxy_rate_period", "10s", lambda o: o["rate_period"]),
    (["timeouts", "client"], "haproxy_timeouts.client", "30s", lambda o: o["timeouts"]["client"]),
    (["timeouts", "api_tunnel"], "haproxy_timeouts.api_tunnel", "1h", lambda o: o["timeouts"]["api_tunnel"]),
    (["hard_stop_after"], "haproxy_hard_stop_after", "30m", lambda o: o["hard_stop_after"]),
    (["stats_path"], "haproxy_stats_path", "/stats", lambda o: o["stats_path"]),
    (["metrics_path"], "haproxy_metrics_path", "/metrics", lambda o: o["metrics_path"]),
    (["allowed_methods", 0], "haproxy_allowed_methods[0]", "GET", lambda o: o["allowed_methods"][0]),
    (["certificates", 0, "name"], "haproxy_certificates[0].name", "apps", lambda o: o["certificates"][0]["name"]),
    (["certificates", 0, "hosts", 1], "haproxy_certificates[0].hosts[1]", "apps.lab.netsec.test", lambda o: o["crt_list"][0][2]),
    (["ingress_routes", 0, "name"], "haproxy_ingress_routes[0].name", "apps", lambda o: o["routes"][0]["name"]),
    (["ingress_routes", 0, "hosts", 1], "haproxy_ingress_routes[0].hosts[1]", "apps.lab.netsec.test", lambda o: o["routes"][0]["hosts"][1]),
    (["ingress_routes", 0, "health_path"], "haproxy_ingress_routes[0].health_path", "/readyz", lambda o: o["routes"][0]["health_path"]),
    (["health_frontend", "uri"], "haproxy_health_frontend.uri", "/healthz", lambda o: o["health_frontend"]["uri"]),
    (["config_dir"], "haproxy_config_dir", "/etc/haproxy", lambda o: o["config_dir"]),
    (["log_target"], "haproxy_log_target", "/dev/log", lambda o: o["log_target"]),
    (["user"], "haproxy_user", "haproxy", lambda o: o["user"]),
]

# Empty switches these off or to their documented default.
EMPTY = {"haproxy_user": "", "haproxy_ingress_routes[0].health_path": None, "haproxy_health_frontend.uri": "/healthz"}


def check_one_word(index, value):
    path, field, dummy_valid, read = FIELDS[index]
    try:
        out = inputs.parse(with_value(path, value))
    except NetsecError as err:
        assert err.field == field, (value, str(err))
        return
    typed = read(out)
    if value == "" and field in EMPTY:
        assert typed == EMPTY[field]
        return
    expected = value
    if "hosts" in path:  # host names are lower-cased, one trailing dot dropped
        expected = value.lower()[:-1] if value.endswith(".") and not value.endswith("..") else value.lower()
    assert typed == expected, (value, typed)
    assert ONE_WORD.fullmatch(typed), typed
    for line in out["crt_list"]:
        assert not any(t.startswith(("[", "!")) or "[" in t or "]" in t for t in line), line


@settings(max_examples=1500, deadline=None)
@given(index=st.integers(0, len(FIELDS) - 1), payload=st.sampled_from(PAYLOADS), where=st.integers(0, 12), tail=st.text(ALPHABET, max_size=6))
def test_a_payload_inside_a_valid_value_is_refused_with_its_field_or_stays_one_word(index, payload, where, tail):
    valid = FIELDS[index][2]
    where = min(where, len(valid))
    check_one_word(index, valid[:where] + payload + tail + valid[where:])


@settings(max_examples=1500, deadline=None)
@given(index=st.integers(0, len(FIELDS) - 1), value=st.text(ALPHABET, min_size=0, max_size=16))
def test_any_value_is_refused_with_its_field_or_one_unchanged_word(index, value):
    check_one_word(index, value)


# --- the inventories ----------------------------------------------------------------------

INVENTORIES = ROLE.parents[1] / "inventories"


@pytest.mark.parametrize("env", ["lab", "dev", "staging", "prod"])
def test_every_inventory_s_edge_values_are_accepted(env):
    """As playbooks/loadbalancers.yml (and lb_ha) pass them; environments that keep their
    certificates and routes outside the repository get a stand-in of the same shape."""
    inv = yaml.safe_load((INVENTORIES / env / "group_vars" / "all" / "netsec.yml").read_text())
    hosts = yaml.safe_load((INVENTORIES / env / "hosts.yml").read_text())["all"]
    inv.update(hosts.get("vars") or {})
    lbs = hosts["children"]["netsec_loadbalancers"]["hosts"]
    cluster = inv["netsec_cluster"]
    nodes = inv["netsec_nodes"]
    book = dict((role, [n["address"] for n in nodes if n["role"] == role] + [a for n in nodes if n["role"] == role for a in n.get("addresses", [])])
                for role in ("control_plane", "worker"))
    book.update(loadbalancer=inv["netsec_lb_addresses"], jump_host=inv["netsec_jump_addresses"])
    ha = cluster["loadbalancer"]["ha_mode"]
    service = [inv["netsec_vrrp"]["virtual_address"].split("/")[0]] if ha == "vrrp" else inv["netsec_service_addresses"]
    certificates = inv.get("netsec_edge_certificates") or [{"name": "edge", "hosts": ["*.apps.%s.example.com" % env], "ecdsa": PAIR, "rsa": PAIR}]
    for host in lbs.values():
        values = base()
        values.update(cluster=cluster, addresses=book, service_addresses=service, bind_transparent=ha == "vrrp",
                      admin_address=host["netsec_management_address"], tls_profile=inv["netsec_tls_profile"],
                      certificates=certificates, ingress_routes=inv.get("netsec_ingress_routes") or [],
                      limit_exempt_cidrs=inv.get("netsec_scanner_cidrs") or [],
                      health_frontend={"address": "127.0.0.1", "port": 8405, "uri": "/healthz"} if ha != "none" else {})
        out = inputs.parse(values)
        assert out["service_addresses"] == service and out["certificates"][0]["hosts"] == certificates[0]["hosts"]


# --- the templates, rendered with what parse() returns ------------------------------------

def render(values, template="haproxy.cfg.j2"):
    """The role's template rendered as the role does (trim_blocks), from typed values."""
    import jinja2
    from ansible_collections.safespring.netsec.plugins.filter.config_quote import config_quote
    from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge

    typed = inputs.parse(values)
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["safespring.netsec.config_quote"] = config_quote
    profile = PROFILES[typed["tls_profile"]]
    return env.from_string((ROLE / "templates" / template).read_text()).render(
        haproxy_typed=typed, _haproxy_tls=dict(profile, curves=profile["tls_curves"]), _haproxy_maxconn=1000, _haproxy_nofile=3000,
        _haproxy_allow=edge.allowlists(values["cluster"], values["addresses"]), ansible_managed="Ansible managed")


def shape(text, template):
    """Per line: its keyword (a crt-list line starts with a file name instead) and how many
    words haproxy splits it into."""
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(words[0] if template == "haproxy.cfg.j2" else "", len(words)) for words in lines]


BASE_SHAPES = {}


def test_rendered_lab_values_match_the_role_s_own_rendering():
    cfg = render(base())
    assert "    stick-table type ipv6 size 1m expire 60s store conn_rate(10s),conn_cur,http_req_rate(10s)" in cfg
    assert "    use_backend route_apps if { var(txn.host) -m end .apps.lab.netsec.test }" in cfg
    assert render(base(), "crt-list.txt.j2").splitlines()[-1] == "/etc/haproxy/certs/apps.rsa.pem *.apps.lab.netsec.test apps.lab.netsec.test"


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, len(FIELDS) - 1), payload=st.sampled_from(PAYLOADS + ["", "x", "9", "-", "."]), tail=st.text(ALPHABET, max_size=4))
def test_an_accepted_value_never_adds_removes_or_splits_a_directive(index, payload, tail):
    path, field, valid, dummy_read = FIELDS[index]
    values = with_value(path, valid + payload + tail)
    try:
        inputs.parse(values)
    except NetsecError as err:
        assert err.field == field
        return
    for template in ("haproxy.cfg.j2", "crt-list.txt.j2"):
        if template not in BASE_SHAPES:
            BASE_SHAPES[template] = shape(render(base(), template), template)
        assert shape(render(values, template), template) == BASE_SHAPES[template], (field, values)


def test_chunked_body_limit_must_fit_half_the_request_buffer():
    values = base()
    values["bufsize"], values["max_chunked_body_size"] = 16384, 8193
    err = refused(values, "haproxy_max_chunked_body_size")
    assert "8192" in err.fix and "16386" in err.fix
    values["max_chunked_body_size"] = 8192
    assert inputs.parse(values)["max_chunked_body_size"] == 8192


@pytest.mark.parametrize("value", [0, -1, "8192 } || {", True, 1.5])
def test_chunked_body_limit_is_a_positive_whole_number(value):
    refused(with_value(["max_chunked_body_size"], value), "haproxy_max_chunked_body_size")


def acme_values(**changes):
    values = base()
    values.update({"acme_certificates": [{"name": "app", "hosts": ["app.lab.netsec.test"]}],
                   "acme_directory": "https://acme.example/directory", "acme_terms_agreed": True, "acme_email": ""})
    values.update(changes)
    return values


def test_acme_certificates_get_their_files_under_the_config_dir():
    typed = inputs.parse(acme_values())["acme"]
    assert typed["enabled"] and typed["certificates"] == [{"name": "app", "hosts": ["app.lab.netsec.test"],
                                                          "file": "/etc/haproxy/certs/acme-app.pem"}]
    assert typed["map_file"] == "/etc/haproxy/lists/acme-challenge.map"
    assert typed["crt_list"] == "/etc/haproxy/certs/acme-crt-list.txt"
    assert not inputs.parse(base())["acme"]["enabled"]  # no ACME certificates: nothing ACME is rendered


@pytest.mark.parametrize("changes, field", [
    ({"acme_certificates": [{"name": "app", "hosts": ["*.apps.lab.netsec.test"]}]}, "haproxy_acme_certificates[0].hosts[0]"),
    ({"acme_certificates": [{"name": "../x", "hosts": ["a.example"]}]}, "haproxy_acme_certificates[0].name"),
    ({"acme_certificates": [{"name": "app", "hosts": ["a.example"], "key": "x"}]}, "haproxy_acme_certificates[0]"),
    ({"acme_directory": "http://acme.example/directory"}, "haproxy_acme_directory"),
    ({"acme_directory": "https://acme.example/dir ectory"}, "haproxy_acme_directory"),
    ({"acme_terms_agreed": False}, "haproxy_acme_terms_agreed"),
    ({"acme_email": "ops@example.com\n"}, "haproxy_acme_email"),
])
def test_acme_inputs_are_refused_naming_the_variable(changes, field):
    refused(acme_values(**changes), field)


def test_the_backends_with_servers_are_listed_for_the_gated_change():
    values = base()
    values["ingress_routes"].append({"name": "gw", "hosts": ["gw.lab.netsec.test"], "target": "servers",
                                     "servers": [{"address": "198.18.1.30", "port": 8443}]})
    typed = inputs.parse(values)
    assert typed["backends"] == ["kube-apiserver", "talos-apid", "route_apps", "route_gw"]
    assert typed["passthrough_services"] == ["kube-apiserver", "talos-apid"]
