# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Talos host firewall rendered from the port model, and the lock-out check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F

SPEC = {"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/28"]}}
ADDRESSES = {
    "control_plane": ["198.18.1.21", "198.18.1.23", "fd5a:fe:1::21"],
    "worker": ["198.18.1.22", "fd5a:fe:1::22"],
    "loadbalancer": ["198.18.1.11", "198.18.1.12"],
    "jump_host": ["198.18.2.5"],
}


def rules(docs):
    return dict((d["name"], d) for d in docs if d["kind"] == "NetworkRuleConfig")


def sources(rule):
    return [i["subnet"] for i in rule["ingress"]]


def test_default_action_document_comes_first_and_blocks():
    docs, _skipped = F.render(SPEC, "control_plane", ADDRESSES)
    assert docs[0] == {"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig", "ingress": "block"}


def test_one_rule_per_service_flowing_into_the_role_in_model_order():
    docs, skipped = F.render(SPEC, "control_plane", ADDRESSES)
    expected = [s.name for s, _peers in pm.ingress_flows(pm.ClusterSpec.from_dict(SPEC), "control_plane") if s.protocol in ("tcp", "udp")]
    assert [d["name"] for d in docs[1:]] == expected
    assert "etcd" in expected and "nodeports" not in expected


def test_ports_and_protocols_come_from_the_port_model_not_typed_again():
    docs, _skipped = F.render(SPEC, "worker", ADDRESSES)
    for name, rule in rules(docs).items():
        service = pm.SERVICES[name]
        low, _sep, high = str(rule["portSelector"]["ports"][0]).partition("-")
        assert (int(low), int(high or low)) == (service.port_min, service.port_max)
        assert rule["portSelector"]["protocol"] == service.protocol


def test_port_range_is_written_as_talos_range_string():
    docs, _skipped = F.render(SPEC, "control_plane", ADDRESSES)
    assert rules(docs)["etcd"]["portSelector"]["ports"] == ["2379-2380"]
    assert rules(docs)["kube-apiserver"]["portSelector"]["ports"] == [6443]


def test_apid_on_control_plane_admits_jump_host_lbs_and_control_plane_only():
    docs, _skipped = F.render(SPEC, "control_plane", ADDRESSES)
    assert sources(rules(docs)["talos-apid"]) == [
        "198.18.1.11/32", "198.18.1.12/32", "198.18.1.21/32", "198.18.1.23/32", "198.18.2.5/32", "fd5a:fe:1::21/128"]


def test_worker_apid_only_from_control_plane_and_nodeports_only_from_lbs():
    docs, _skipped = F.render(SPEC, "worker", ADDRESSES)
    assert sources(rules(docs)["talos-apid"]) == ["198.18.1.21/32", "198.18.1.23/32", "fd5a:fe:1::21/128"]
    assert sources(rules(docs)["nodeports"]) == ["198.18.1.11/32", "198.18.1.12/32"]
    assert "etcd" not in rules(docs)


def test_icmp_flow_is_reported_as_not_rendered_with_the_reason():
    docs, skipped = F.render(SPEC, "worker", ADDRESSES)
    assert not [d for d in docs if (d.get("portSelector") or {}).get("protocol") in ("icmp", "icmpv6")]
    assert dict(skipped)["cilium-health-icmp"].startswith("Talos rules need ports")


def test_sources_are_collapsed_and_filtered_to_the_cluster_ip_versions():
    addresses = dict(ADDRESSES, control_plane=["198.18.1.0/24", "198.18.1.21", "fd5a:fe:1::21"])
    docs, _skipped = F.render(dict(SPEC, ip_versions=[4]), "control_plane", addresses)
    assert sources(rules(docs)["etcd"]) == ["198.18.1.0/24"]


def test_unknown_node_role_fails_naming_the_field():
    with pytest.raises(NetsecError) as err:
        F.render(SPEC, "loadbalancer", ADDRESSES)
    assert err.value.field == "role"


def test_invalid_cidr_in_the_address_book_fails_naming_the_entry():
    with pytest.raises(NetsecError) as err:
        F.render(SPEC, "control_plane", dict(ADDRESSES, loadbalancer=["198.18.1.300"]))
    assert err.value.field == "addresses.loadbalancer[0]"


def test_missing_role_addresses_fail_before_rendering():
    addresses = dict(ADDRESSES)
    del addresses["loadbalancer"]
    with pytest.raises(NetsecError, match="no addresses for role 'loadbalancer'"):
        F.render(SPEC, "control_plane", addresses)


def test_admits_honours_block_rules_and_except():
    docs = [{"kind": "NetworkDefaultActionConfig", "ingress": "block"},
            {"kind": "NetworkRuleConfig", "name": "apid", "portSelector": {"ports": ["49000-50001"], "protocol": "tcp"},
             "ingress": [{"subnet": "10.0.0.0/8", "except": "10.9.0.0/16"}]}]
    assert F.admits(docs, "tcp", 50000, "10.1.2.3/32")
    assert not F.admits(docs, "tcp", 50000, "10.9.1.1/32")
    assert not F.admits(docs, "udp", 50000, "10.1.2.3/32")
    assert not F.admits(docs, "tcp", 50000, "192.0.2.1/32")
    assert F.admits(docs[1:], "tcp", 1, "192.0.2.1/32"), "without a default action Talos accepts"


def test_lockout_check_passes_for_the_rendered_rules():
    for role in pm.NODE_ROLES:
        docs, _skipped = F.render(SPEC, role, ADDRESSES)
        F.check_lockout(docs, F.lockout_requirements(role, ADDRESSES, ["198.18.2.5"], (4, 6)), "n1")


def test_jump_host_left_out_of_apid_sources_is_a_lockout():
    docs, _skipped = F.render(dict(SPEC, jump_host={"enabled": False}), "control_plane", ADDRESSES)
    with pytest.raises(NetsecError, match=r"lock out jump_host 198\.18\.2\.5/32 from talos-apid \(tcp/50000\)"):
        F.check_lockout(docs, F.lockout_requirements("control_plane", ADDRESSES, [], (4, 6)), "cp1")


def test_controller_outside_apid_sources_is_a_lockout():
    docs, _skipped = F.render(SPEC, "control_plane", ADDRESSES)
    with pytest.raises(NetsecError, match="admin_sources 203.0.113.7/32"):
        F.check_lockout(docs, F.lockout_requirements("control_plane", ADDRESSES, ["203.0.113.7"], (4, 6)), "cp1")


def test_accept_mode_never_locks_out():
    docs, _skipped = F.render(dict(SPEC, jump_host={"enabled": False}), "control_plane", ADDRESSES, default_action="accept")
    F.check_lockout(docs, F.lockout_requirements("control_plane", ADDRESSES, ["203.0.113.7"], (4, 6)), "cp1")


def test_worker_must_stay_reachable_from_the_control_plane_apid_proxy():
    docs, _skipped = F.render(SPEC, "worker", ADDRESSES)
    docs = [d for d in docs if d.get("name") != "talos-apid"]
    with pytest.raises(NetsecError, match="control_plane 198.18.1.21/32"):
        F.check_lockout(docs, F.lockout_requirements("worker", ADDRESSES, [], (4, 6)), "w1")


def test_invalid_admin_source_names_its_index():
    with pytest.raises(NetsecError) as err:
        F.lockout_requirements("control_plane", ADDRESSES, ["198.18.2.5", "not-an-address"], (4, 6))
    assert err.value.field == "admin_sources[1]"


# --- coverage, not lookups ---------------------------------------------------------------------

def _apid(*ingress):
    return [{"kind": "NetworkDefaultActionConfig", "ingress": "block"},
            {"kind": "NetworkRuleConfig", "name": "apid", "portSelector": {"ports": [50000], "protocol": "tcp"}, "ingress": list(ingress)}]


def test_a_source_split_over_several_rule_entries_is_admitted():
    docs = _apid({"subnet": "198.18.2.0/25"}, {"subnet": "198.18.2.128/25"})
    F.check_lockout(docs, F.lockout_requirements("control_plane", {}, ["198.18.2.0/24"], (4,)), "cp1")


def test_a_source_only_partly_admitted_is_a_lockout():
    docs = _apid({"subnet": "198.18.2.0/25"})
    with pytest.raises(NetsecError, match="admin_sources 198.18.2.0/24"):
        F.check_lockout(docs, F.lockout_requirements("control_plane", {}, ["198.18.2.0/24"], (4,)), "cp1")


def test_an_except_applies_to_the_whole_rule_as_in_talos():
    # Talos puts every except of a rule into one exclude set for all of its subnets.
    docs = _apid({"subnet": "10.0.0.0/8"}, {"subnet": "192.0.2.0/24", "except": "10.9.0.0/16"})
    assert not F.admits(docs, "tcp", 50000, "10.9.1.1/32")
    assert F.admits(docs, "tcp", 50000, "10.8.1.1/32") and F.admits(docs, "tcp", 50000, "192.0.2.0/24")


def test_a_controller_anywhere_outside_the_address_book_is_judged_by_coverage():
    docs = _apid({"subnet": "0.0.0.0/1"}, {"subnet": "128.0.0.0/1"})
    F.check_lockout(docs, F.lockout_requirements("control_plane", {}, ["203.0.113.0/24", "10.0.0.0/8"], (4,)), "cp1")


def test_lockout_check_of_10k_addresses_is_near_linear():
    import ipaddress
    import time
    jump = [str(ipaddress.ip_address("10.0.0.0") + 2 * i) for i in range(10000)]
    addresses = dict(ADDRESSES, jump_host=jump)
    docs, _skipped = F.render(dict(SPEC, ip_versions=[4]), "control_plane", addresses)
    requirements = F.lockout_requirements("control_plane", addresses, jump[:5000], (4,))
    started = time.time()
    F.check_lockout(docs, requirements, "cp1")
    # The quadratic check took 53 s here; the bound is generous for a loaded CI machine.
    assert time.time() - started < 10
    gone = jump[-1] + "/32"
    docs = [d if d.get("name") != "talos-apid" else dict(d, ingress=[i for i in d["ingress"] if i["subnet"] != gone]) for d in docs]
    with pytest.raises(NetsecError, match="would lock out jump_host %s from talos-apid" % gone):
        F.check_lockout(docs, requirements, "cp1")


@pytest.mark.parametrize("doc, field", [
    ({"portSelector": {"ports": ["abc"], "protocol": "tcp"}, "ingress": []}, "x.portSelector.ports[0]"),
    ({"portSelector": {"ports": ["90-80"], "protocol": "tcp"}, "ingress": []}, "x.portSelector.ports[0]"),
    ({"portSelector": {"ports": [True], "protocol": "tcp"}, "ingress": []}, "x.portSelector.ports[0]"),
    ({"portSelector": {"ports": [], "protocol": "tcp"}, "ingress": []}, "x.portSelector.ports"),
    ({"portSelector": {"ports": [1], "protocol": "sctp"}, "ingress": []}, "x.portSelector.protocol"),
    ({"ingress": []}, "x.portSelector"),
    ({"portSelector": {"ports": [1], "protocol": "tcp"}, "ingress": [{"cidr": "10.0.0.0/8"}]}, "x.ingress[0]"),
    ({"portSelector": {"ports": [1], "protocol": "tcp"}, "ingress": [{"subnet": 10}]}, "x.ingress[0].subnet"),
    ({"portSelector": {"ports": [1], "protocol": "tcp"}, "ingress": [{"subnet": "10.0.0.0/8\n"}]}, "x.ingress[0].subnet"),
    ({"portSelector": {"ports": [1], "protocol": "tcp"}, "ingress": [{"subnet": "10.0.0.0/8", "except": "x"}]}, "x.ingress[0].except"),
    ({"portSelector": {"ports": [1], "protocol": "tcp"}, "ingress": "10.0.0.0/8"}, "x.ingress"),
])
def test_a_rule_the_checks_cannot_read_is_refused_naming_the_field(doc, field):
    with pytest.raises(NetsecError) as err:
        F.parse_rule(doc, "x")
    assert err.value.field == field


@pytest.mark.parametrize("addresses, field", [
    (dict(ADDRESSES, jump_host=["0.0.0.0/0"]), "addresses.jump_host[0]"),
    (dict(ADDRESSES, loadbalancer=["198.18.1.11", "0.0.0.0/1", "128.0.0.0/1"]), "addresses.loadbalancer[1]"),
    (dict(ADDRESSES, jump_host=["2000::/3"]), "addresses.jump_host[0]"),
    (dict(ADDRESSES, jumphost=["198.18.2.5"]), "addresses"),
    (dict(ADDRESSES, jump_host="198.18.2.5"), "addresses.jump_host"),
])
def test_the_address_book_lists_hosts_not_the_internet(addresses, field):
    with pytest.raises(NetsecError) as err:
        F.parse_addresses(addresses)
    assert err.value.field == field


def test_lint_entries_are_built_from_the_rule_documents():
    docs, _skipped = F.render(SPEC, "control_plane", ADDRESSES)
    entries = F.lint_entries(F.rules(docs), "control_plane", "cp1", service=pm.SERVICES["etcd"])
    assert [(e["remote"], e["port_min"], e["port_max"]) for e in entries] == [
        ("198.18.1.21/32", 2379, 2380), ("198.18.1.23/32", 2379, 2380), ("fd5a:fe:1::21/128", 2379, 2380)]
    assert pm.lint(entries) == []
    split_world = dict(docs[-1], name="w", portSelector={"ports": ["1-65535"], "protocol": "tcp"},
                       ingress=[{"subnet": "0.0.0.0/1"}, {"subnet": "128.0.0.0/1"}])
    wide = F.lint_entries(F.rules(docs + [split_world]), "control_plane", "cp1")
    assert {p.message.split(" ")[1] for p in pm.lint(wide)} == set(pm.SENSITIVE_SERVICES)
