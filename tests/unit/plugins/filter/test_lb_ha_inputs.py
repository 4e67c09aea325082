# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lb_ha role's variables are typed before keepalived.conf, bird.conf or the root-run address
script is written: each class of issue 13 is refused naming the variable, and the lab's values
come back unchanged."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from hypothesis import assume, given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.filter.lb_ha_inputs import lb_ha_inputs
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.lb_ha import inputs as I

# Characters that end a line, a statement, a block or a string in sh, keepalived or BIRD.
PAYLOADS = [";", "$(", "`", "\n", "\r", "\u2028", "\u2029", " ", "&&", "|", "'", '"', "{", "}", "#", "!", "\\", "\x00", ".."]
NOTIFY = "\nnotify_master \"/bin/sh -c 'touch /tmp/pwned'\"\n"

BASE = {
    "host": "lb1", "group": "lb", "group_hosts": ["lb1", "lb2"], "primary": "lb1",
    "mode": "bgp", "service_addresses": ["198.18.0.10/32", "fd5a:fe::10/128"],
    "address": "198.18.1.11", "address6": "fd5a:fe:1::11",
    "health_check": {"address": "127.0.0.1", "port": 8405, "uri": "/healthz", "interval_ms": 100, "timeout_ms": 200, "fall": 2, "rise": 20},
    "bgp_peer_address": "198.18.255.1", "bgp_peer_as": 65000, "bgp_local_as": 65101, "bgp_export_prefixes": [],
    "bgp_topology": "active_standby", "bgp_standby_prepend": 1, "bgp_bfd": True, "bgp_bfd_interval_ms": 100, "bgp_bfd_multiplier": 3,
    "bgp_hold_time": 0, "bgp_connect_retry": 2, "bgp_error_wait": [1, 5], "bgp_password": "", "bird_config": "/etc/bird/bird.conf",
    "bird_socket": "/run/bird/bird.ctl", "bird_log": "syslog",
    "vrrp_interface": "eth0", "vrrp_router_id": 51, "vrrp_priority_primary": 150, "vrrp_priority": 100, "vrrp_advert_int": 0.1,
    "vrrp_nopreempt": True, "vrrp_unicast_peers": [], "peer_hosts": [], "vrrp_track_process": True,
    "keepalived_config": "/etc/keepalived/keepalived.conf", "vrrp_transitions_log": "/var/log/lb_ha_vrrp.log",
    "include_haproxy": True, "vrrp_track_process_name": "haproxy", "config_dir": "/etc/lb_ha", "run_dir": "/run/lb_ha",
    "bin_dir": "/usr/local/sbin", "install": True, "manage_service": True,
}
VRRP = dict(BASE, mode="vrrp", service_addresses=["198.18.1.100/24"], peer_hosts=[["lb2", "198.18.1.12"]])


def values(base=None, **changes):
    out = copy.deepcopy(BASE if base is None else base)
    out.update(changes)
    return out


def refused(vals, field):
    with pytest.raises(NetsecError) as err:
        I.parse(vals)
    assert err.value.field == field, str(err.value)
    return err.value


# --- the lab's values are accepted and come back as they were ------------------------------

def test_the_lab_bgp_pair_is_accepted_with_its_values_unchanged():
    typed = I.parse(values())
    assert typed["service_addresses"] == ["198.18.0.10/32", "fd5a:fe::10/128"]
    assert typed["bgp"]["export4"] == ["198.18.0.10/32"] and typed["bgp"]["export6"] == ["fd5a:fe::10/128"]
    assert typed["bgp"]["prepend"] == 0  # lb1 is the primary
    assert I.parse(values(host="lb2"))["bgp"]["prepend"] == 1
    assert typed["addresses_json"] == {"addresses": ["198.18.0.10/32", "fd5a:fe::10/128"]}
    assert typed["bgp"]["password_set"] is False and "bgp_password" not in str(typed)


def test_the_lab_vrrp_pair_is_accepted_and_takes_its_peers_from_the_other_hosts():
    typed = I.parse(values(VRRP))
    assert typed["vrrp"]["peers"] == ["198.18.1.12"]
    assert typed["vrrp"]["advert_int"] == "0.1" and typed["vrrp"]["priority"] == 150
    assert typed["vrrp"]["notify"] == "/usr/local/sbin/lb_ha_notify /var/log/lb_ha_vrrp.log"
    assert typed["addresses_json"] == {"addresses": []}
    assert I.parse(values(VRRP, host="lb2", peer_hosts=[["lb1", "198.18.1.11"]], address="198.18.1.12"))["vrrp"]["priority"] == 100


def test_addresses_are_normalised_as_ip_prints_them():
    typed = I.parse(values(service_addresses=["198.18.0.10/32", "FD5A:FE:0::10/128"]))
    assert typed["service_addresses"] == ["198.18.0.10/32", "fd5a:fe::10/128"]


# --- class 1: root command execution through the address script ---------------------------

@pytest.mark.parametrize("address", ["198.18.0.10/32; touch /tmp/pwned", "198.18.0.10/32\ntouch /tmp/pwned", "$(touch /tmp/x)/32",
                                     "198.18.0.10/32 dev eth0", "198.18.0.10", "198.18.0.10/24", "198.18.0.10/", "0.0.0.0/32",
                                     "`id`", "198.18.0.10/32 #"])
def test_a_service_address_is_one_host_route_in_bgp_mode(address):
    refused(values(service_addresses=["fd5a:fe::10/128", address]), "lb_ha_service_addresses[1]")


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(["198.18.0.10/32", "fd5a:fe::10/128", "198.18.1.100/24"]), payload=st.sampled_from(PAYLOADS),
       suffix=st.text(max_size=12), mode=st.sampled_from(["bgp", "vrrp"]))
def test_no_payload_survives_in_a_service_address(prefix, payload, suffix, mode):
    base = BASE if mode == "bgp" else VRRP
    refused(values(base, service_addresses=[prefix + payload + suffix]), "lb_ha_service_addresses[0]")


def test_the_script_input_holds_only_parsed_host_routes():
    typed = I.parse(values())
    for item in typed["addresses_json"]["addresses"]:
        iface = ipaddress.ip_interface(item)
        assert str(iface) == item and iface.network.prefixlen == iface.max_prefixlen


# --- class 2: keepalived statements through peers, VIPs, names ----------------------------

@pytest.mark.parametrize("field, changes", [
    ("lb_ha_vrrp_unicast_peers[0]", {"vrrp_unicast_peers": ["198.18.1.12" + NOTIFY]}),
    ("lb_ha_vrrp_unicast_peers[1]", {"vrrp_unicast_peers": ["198.18.1.12", "198.18.1.13 }"]}),
    ("hostvars[lb2].lb_ha_address", {"peer_hosts": [["lb2", "198.18.1.12" + NOTIFY]]}),
    ("lb_ha_service_addresses[0]", {"service_addresses": ["198.18.1.100/24" + NOTIFY]}),
    ("lb_ha_service_addresses[0]", {"service_addresses": ["198.18.1.100/24 dev eth1"]}),
    ("lb_ha_address", {"address": "198.18.1.11" + NOTIFY}),
    ("lb_ha_vrrp_interface", {"vrrp_interface": "eth0\n}"}),
    ("lb_ha_vrrp_interface", {"vrrp_interface": "eth0 {"}),
    ("lb_ha_vrrp_interface", {"vrrp_interface": "averyveryverylongname0"}),
    ("lb_ha_vrrp_router_id", {"vrrp_router_id": "51\nvrrp_script x {"}),
    ("lb_ha_vrrp_router_id", {"vrrp_router_id": 256}),
    ("lb_ha_vrrp_priority_primary", {"vrrp_priority_primary": 0}),
    ("lb_ha_vrrp_priority_primary", {"vrrp_priority_primary": "150 }"}),
    ("lb_ha_vrrp_advert_int", {"vrrp_advert_int": "0.1\nnotify_master x"}),
    ("lb_ha_vrrp_advert_int", {"vrrp_advert_int": 0}),
    ("lb_ha_vrrp_advert_int", {"vrrp_advert_int": True}),
    ("lb_ha_vrrp_nopreempt", {"vrrp_nopreempt": "false"}),
    ("lb_ha_vrrp_transitions_log", {"vrrp_transitions_log": "/var/log/x\"; touch /tmp/p"}),
    ("lb_ha_vrrp_transitions_log", {"vrrp_transitions_log": "/var/log/x /tmp/y"}),
    ("lb_ha_vrrp_track_process_name", {"vrrp_track_process_name": "haproxy\n}"}),
    ("lb_ha_vrrp_track_process_name", {"vrrp_track_process_name": "haproxy -Ws"}),
    ("lb_ha_vrrp_track_process_name", {"vrrp_track_process_name": "/usr/sbin/haproxy"}),
    ("lb_ha_vrrp_track_process_name", {"vrrp_track_process_name": "haproxy-a-very-long"}),
    ("lb_ha_vrrp_track_process_name", {"vrrp_track_process_name": ""}),
    ("lb_ha_bin_dir", {"bin_dir": "/usr/local/sbin/../../tmp"}),
    ("lb_ha_run_dir", {"run_dir": "relative/run"}),
    ("inventory_hostname", {"host": "lb1\nvrrp_script x {"}),
    ("inventory_hostname", {"host": "lb1 {"}),
])
def test_every_keepalived_value_is_typed(field, changes):
    refused(values(VRRP, **changes), field)


@settings(max_examples=150, deadline=None)
@given(field=st.sampled_from(["vrrp_unicast_peers", "vrrp_interface", "address", "bin_dir", "vrrp_transitions_log", "run_dir",
                              "vrrp_track_process_name"]),
       payload=st.sampled_from(PAYLOADS), suffix=st.text(max_size=12))
def test_no_payload_survives_in_a_keepalived_value(field, payload, suffix):
    good = {"vrrp_unicast_peers": "198.18.1.12", "vrrp_interface": "eth0", "address": "198.18.1.11", "bin_dir": "/usr/local/sbin",
            "vrrp_transitions_log": "/var/log/lb_ha_vrrp.log", "run_dir": "/run/lb_ha", "vrrp_track_process_name": "haproxy"}[field]
    # '..' only matters in paths ('eth0..' is a harmless, if odd, interface name).
    assume(payload != ".." or field in ("bin_dir", "vrrp_transitions_log", "run_dir"))
    hostile = good + ("/../" if payload == ".." else payload) + suffix
    with pytest.raises(NetsecError) as err:
        I.parse(values(VRRP, **{field: [hostile] if field == "vrrp_unicast_peers" else hostile}))
    assert err.value.field.startswith("lb_ha_" + field)


def test_own_address_as_peer_and_no_peer_are_refused_with_the_fix():
    err = refused(values(VRRP, vrrp_unicast_peers=["198.18.1.11"]), "lb_ha_vrrp_unicast_peers[0]")
    assert "own lb_ha_address" in str(err)
    err = refused(values(VRRP, peer_hosts=[]), "lb_ha_vrrp_unicast_peers")
    assert "no unicast peer: set lb_ha_address on every host of group lb" in str(err)


# --- class 3: BIRD statements through the password and the log -----------------------------

@pytest.mark.parametrize("secret", ['x"; bfd off; passive on; password "y', "a\\", "line\nbreak", "tab\there", "nul\x00", "\u2028",
                                    "x" * 81])
def test_a_bgp_password_that_would_end_its_string_is_refused_and_never_echoed(secret):
    err = refused(values(bgp_password=secret), "lb_ha_bgp_password")
    assert secret not in str(err) and (secret[:8] not in str(err) or len(secret) > 80)


@settings(max_examples=150, deadline=None)
@given(before=st.text(max_size=10), payload=st.sampled_from(['"', "\\", "\n", "\r", "\x00", "\x1b", "\u2028", "\u2029", "\x7f"]),
       after=st.text(max_size=10))
def test_no_payload_survives_in_the_bgp_password(before, payload, after):
    secret = before + payload + after
    err = refused(values(bgp_password=secret), "lb_ha_bgp_password")
    # The message says "the value" instead (a one-character secret may occur in the fix's text).
    assert "the value" in str(err) and (len(secret) < 3 or secret not in str(err))


def test_an_ordinary_password_is_accepted_but_not_returned():
    typed = I.parse(values(bgp_password="lab-md5-Secret-7f3a;{}#!"))
    assert typed["bgp"]["password_set"] is True
    assert "lab-md5-Secret-7f3a" not in repr(typed)


@pytest.mark.parametrize("log", ['/var/log/bird.log" all; protocol static x { }; log "/tmp/y', "stderr", "/var/log/a b",
                                 "/var/log/../../etc/shadow", "syslog\n", "relative.log", "/var/log/x;"])
def test_bird_log_is_syslog_or_an_absolute_path(log):
    refused(values(bird_log=log), "lb_ha_bird_log")


@pytest.mark.parametrize("field, changes", [
    ("lb_ha_bgp_local_as", {"bgp_local_as": "65101; export all"}),
    ("lb_ha_bgp_local_as", {"bgp_local_as": 0}),
    ("lb_ha_bgp_local_as", {"bgp_local_as": None}),
    ("lb_ha_bgp_peer_as", {"bgp_peer_as": 4294967296}),
    ("lb_ha_bgp_peer_address", {"bgp_peer_address": "198.18.255.1 as 1; protocol x"}),
    ("lb_ha_address", {"address": "fd5a:fe:1::11"}),
    ("lb_ha_address6", {"address6": "198.18.1.11"}),
    ("lb_ha_address6", {"address6": ""}),
    ("lb_ha_bgp_hold_time", {"bgp_hold_time": 2}),
    ("lb_ha_bgp_error_wait", {"bgp_error_wait": [5, 1]}),
    ("lb_ha_bgp_error_wait[1]", {"bgp_error_wait": [1, "5; passive on"]}),
    ("lb_ha_bgp_standby_prepend", {"bgp_standby_prepend": "1); export all; ("}),
    ("lb_ha_bgp_bfd_interval_ms", {"bgp_bfd_interval_ms": 0}),
    ("lb_ha_bgp_topology", {"bgp_topology": "active_active;"}),
    ("lb_ha_primary", {"primary": "lb9"}),
    ("lb_ha_bird_socket", {"bird_socket": "/run/bird/bird.ctl\n"}),
    ("lb_ha_health_check", {"health_check": dict(BASE["health_check"], extra=1)}),
    ("lb_ha_health_check.uri", {"health_check": dict(BASE["health_check"], uri="/healthz\nserver x 1.2.3.4:80")}),
    ("lb_ha_health_check.port", {"health_check": dict(BASE["health_check"], port=0)}),
    ("lb_ha_health_check.fall", {"health_check": dict(BASE["health_check"], fall=0)}),
    ("lb_ha_mode", {"mode": "static"}),
])
def test_every_bird_value_is_typed(field, changes):
    refused(values(**changes), field)


# --- class 4: export prefixes wider than the service addresses ----------------------------

@pytest.mark.parametrize("prefix", ["0.0.0.0/0", "::/0"])
def test_a_default_route_is_never_exported(prefix):
    err = refused(values(bgp_export_prefixes=["198.18.0.10/32", "fd5a:fe::10/128", prefix]), "lb_ha_bgp_export_prefixes[2]")
    assert "default route" in str(err)


@pytest.mark.parametrize("prefixes, index", [
    (["0.0.0.0/1", "128.0.0.0/1", "fd5a:fe::10/128"], 0),
    (["198.18.0.0/24", "fd5a:fe::10/128"], 0),
    (["198.18.0.10/31", "fd5a:fe::10/128"], 0),
    (["198.18.0.10/32", "fd5a:fe::/64"], 1),
    (["198.18.0.10/32", "2000::/3"], 1),
])
def test_an_export_prefix_covering_other_addresses_is_refused(prefixes, index):
    err = refused(values(bgp_export_prefixes=prefixes), "lb_ha_bgp_export_prefixes[%d]" % index)
    assert "service address" in str(err)


def test_a_service_address_outside_the_export_prefixes_is_refused():
    refused(values(bgp_export_prefixes=["198.18.0.10/32"]), "lb_ha_service_addresses[1]")


def test_a_prefix_holding_only_service_addresses_is_accepted():
    typed = I.parse(values(service_addresses=["198.18.0.10/32", "198.18.0.11/32"], bgp_export_prefixes=["198.18.0.10/31"], address6=""))
    assert typed["bgp"]["export4"] == ["198.18.0.10/31"] and typed["bgp"]["export6"] == []


def _networks(version, longest):
    return st.ip_addresses(v=version).flatmap(
        lambda a: st.integers(0, longest).map(lambda n: ipaddress.ip_network("%s/%d" % (a, n), strict=False)))


@settings(max_examples=150, deadline=None)
@given(network=st.one_of(_networks(4, 31), _networks(6, 127)))
def test_no_network_wider_than_the_service_addresses_is_exported(network):
    # Whatever the network (split world halves, 2000::/3, the service address's own /24 or /64):
    # it covers an address that is not a service address, or leaves a service address out.
    with pytest.raises(NetsecError) as err:
        I.parse(values(bgp_export_prefixes=[str(network)]))
    assert err.value.field in ("lb_ha_bgp_export_prefixes[0]", "lb_ha_service_addresses[0]", "lb_ha_service_addresses[1]")


# --- status.yml ----------------------------------------------------------------------------

def test_status_types_what_it_reads():
    typed = I.parse_status(values())
    assert typed["bare_addresses"] == ["198.18.0.10", "fd5a:fe::10"]
    assert typed["health_url"] == "http://127.0.0.1:8405/healthz"
    with pytest.raises(NetsecError) as err:
        I.parse_status(values(service_addresses=["198.18.0.10/32;reboot"]))
    assert err.value.field == "lb_ha_service_addresses[0]"


# --- the inventories' values (as playbooks/vars/lb_ha.yml derives them) are accepted ---------

REPO = pathlib.Path(__file__).resolve().parents[4]


def inventory_values(env):
    """Each LB host's raw role values from inventories/<env>, derived as playbooks/vars/lb_ha.yml does."""
    inv = REPO / "inventories" / env
    group_vars = yaml.safe_load((inv / "group_vars" / "all" / "netsec.yml").read_text())
    lbs = yaml.safe_load((inv / "hosts.yml").read_text())["all"]["children"]["netsec_loadbalancers"]["hosts"]
    cluster, bgp = group_vars["netsec_cluster"], group_vars.get("netsec_bgp", {})
    mode = cluster["loadbalancer"]["ha_mode"]
    service = group_vars["netsec_service_addresses"]
    if mode == "bgp":
        service = [a + ("/128" if ":" in a else "/32") for a in service]
    else:
        service = [group_vars["netsec_vrrp"]["virtual_address"]]
    out = {}
    for host, hvars in lbs.items():
        others = [h for h in lbs if h != host]
        out[host] = values(BASE, host=host, group="netsec_loadbalancers", group_hosts=sorted(lbs), primary=sorted(lbs)[0], mode=mode,
                           service_addresses=service, address=hvars["netsec_management_address"],
                           address6=hvars.get("netsec_management_address6", ""),
                           bgp_peer_address=bgp.get("peer_address", "169.254.169.254"), bgp_peer_as=bgp.get("peer_as"),
                           bgp_local_as=bgp.get("local_as"), bgp_topology=bgp.get("mode", "active_active"),
                           bgp_bfd=cluster["loadbalancer"].get("bfd", True),
                           vrrp_unicast_peers=[lbs[h]["netsec_management_address"] for h in others])
    return out


@pytest.mark.parametrize("env", ["lab", "dev", "staging", "prod"])
def test_the_inventories_values_are_accepted(env):
    for host, raw in inventory_values(env).items():
        typed = I.parse(raw)
        assert typed["service_addresses"] and typed["address"] == raw["address"], host


def test_an_ipv6_service_address_needs_the_lbs_ipv6_address():
    # The next hop of a /128: prod was refused by name (lb_ha_address6) until its LBs got one.
    for host, raw in inventory_values("prod").items():
        assert refused(dict(raw, address6=""), "lb_ha_address6")


def test_the_filter_reports_the_named_error_to_ansible():
    with pytest.raises(AnsibleFilterError) as err:
        lb_ha_inputs(values(service_addresses=["198.18.0.10/32;id"]))
    assert str(err.value).startswith("lb_ha_service_addresses[0]: ")
    assert lb_ha_inputs(values(), "status")["bare_addresses"] == ["198.18.0.10", "fd5a:fe::10"]
