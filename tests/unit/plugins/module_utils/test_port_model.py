# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The port model: who may talk to whom, on what."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError


def spec(**overrides):
    data = {"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/28"]}}
    data.update(overrides)
    return pm.ClusterSpec.from_dict(data)


def sources(flows, service, destination):
    return sorted(f.source.name for f in flows if f.service.name == service and f.destination.name == destination)


def test_kube_apiserver_on_nodes_only_from_load_balancers_and_nodes():
    flows = pm.flows(spec())
    assert sources(flows, "kube-apiserver", "control_plane") == ["control_plane", "loadbalancer", "worker"]
    assert sources(flows, "kube-apiserver", "worker") == []


def test_apid_on_control_plane_from_jump_host_lb_and_control_plane_workers_only_via_control_plane():
    flows = pm.flows(spec())
    assert sources(flows, "talos-apid", "control_plane") == ["control_plane", "jump_host", "loadbalancer"]
    assert sources(flows, "talos-apid", "worker") == ["control_plane"]


def test_nodeports_reachable_only_from_load_balancers():
    flows = pm.flows(spec())
    assert sources(flows, "nodeports", "worker") == ["loadbalancer"]
    assert sources(flows, "nodeports", "control_plane") == []


def test_intra_cluster_sources_are_roles_never_cidrs():
    for flow in pm.flows(spec()):
        if flow.destination.kind == "role" and flow.destination.name in pm.NODE_ROLES:
            assert flow.source.kind == "role", pm.describe(flow)


def test_etcd_only_between_control_plane_nodes():
    flows = pm.flows(spec())
    assert [(f.source.name, f.destination.name) for f in flows if f.service.name == "etcd"] == [("control_plane", "control_plane")]


def test_vrrp_mode_adds_protocol_112_between_lbs_and_no_bgp():
    flows = pm.flows(spec(loadbalancer={"ha_mode": "vrrp"}))
    names = set(f.service.name for f in flows)
    assert "vrrp" in names and "bgp" not in names
    assert sources(flows, "vrrp", "loadbalancer") == ["loadbalancer"]


def test_bgp_mode_opens_179_and_bfd_with_the_platform_peer_both_ways():
    flows = pm.flows(spec())
    assert sources(flows, "bgp", "loadbalancer") == ["bgp_peer"]
    assert sources(flows, "bgp", "bgp_peer") == ["loadbalancer"]
    assert sources(flows, "bfd-multihop", "loadbalancer") == ["bgp_peer"]
    assert "vrrp" not in set(f.service.name for f in flows)


def test_cni_options_select_tunnel_wireguard_and_kubespan_ports():
    geneve = set(f.service.name for f in pm.flows(spec(cni={"tunnel": "geneve", "wireguard": False}, talos={"kubespan": True})))
    assert "cilium-geneve" in geneve and "cilium-vxlan" not in geneve
    assert "cilium-wireguard" not in geneve and "kubespan" in geneve
    native = set(f.service.name for f in pm.flows(spec(cni={"tunnel": "native"})))
    assert not native & {"cilium-geneve", "cilium-vxlan"}


def test_declared_egress_only_for_restricted_roles():
    open_flows = pm.flows(spec(egress={"dns": ["192.0.2.53/32"]}))
    assert not [f for f in open_flows if f.service.name == "dns-udp"]
    restricted = pm.flows(spec(egress={"restrict": ["worker"], "dns": ["192.0.2.53"]}))
    dns = [f for f in restricted if f.service.name == "dns-udp"]
    assert [(f.source.name, f.destination.cidrs) for f in dns] == [("worker", ("192.0.2.53/32",))]


def test_ingress_flows_groups_sources_by_service():
    grouped = dict((s.name, [p.name for p in peers]) for s, peers in pm.ingress_flows(spec(), "control_plane"))
    assert grouped["etcd"] == ["control_plane"]
    assert grouped["kubelet"] == ["control_plane", "worker"]


def test_no_port_number_is_defined_twice_for_different_meanings():
    seen = {}
    for service in pm.SERVICES.values():
        if service.port_min is None:
            continue
        key = (service.protocol, service.port_min, service.port_max)
        seen.setdefault(key, []).append(service.name)
    # 443/tcp is one port with three destinations (ingress, registries, OIDC issuer); nothing else repeats.
    assert dict((k, v) for k, v in seen.items() if len(v) > 1) == {("tcp", 443, 443): ["https", "registry-https", "oidc-https"]}


@pytest.mark.parametrize("data, field", [
    ({"name": "c1", "loadbalancer": {"ha_mode": "anycast"}}, "cluster.loadbalancer.ha_mode"),
    ({"name": "c1", "jump_host": {"admin_cidrs": ["10.0.0.300/24"]}}, "cluster.jump_host.admin_cidrs[0]"),
    ({"name": "c1", "egress": {"extra": [{"name": "x", "port": 70000, "cidrs": []}]}}, "cluster.egress.extra[0].port"),
    ({"name": "c1", "egress": {"restrict": ["router"]}}, "cluster.egress.restrict[0]"),
    ({"name": "c1", "loadbalancer": {"nodeport_targets": ["loadbalancer"]}}, "cluster.loadbalancer.nodeport_targets[0]"),
    ({"name": "c1", "cni": {"wireguard": "yes"}}, "cluster.cni.wireguard"),
    ({"name": "c1", "typo": 1}, "cluster.typo"),
    ({"name": "bad name!"}, "cluster.name"),
])
def test_bad_input_names_the_field(data, field):
    with pytest.raises(NetsecError) as err:
        pm.ClusterSpec.from_dict(data)
    assert err.value.field == field
    assert str(err.value).startswith(field + ":")


def test_cidrs_are_normalised_to_network_address():
    s = spec(jump_host={"admin_cidrs": ["10.1.2.3/8", "2001:db8::1"]})
    assert s["jump_host"]["admin_cidrs"] == ["10.0.0.0/8", "2001:db8::1/128"]


def test_resolve_roles_through_address_book_and_complain_when_missing():
    assert pm.resolve(pm.role("worker"), {"worker": ["198.18.1.21"]}) == ["198.18.1.21/32"]
    with pytest.raises(NetsecError) as err:
        pm.resolve(pm.role("jump_host"), {}, field="talos.addresses")
    assert err.value.field == "talos.addresses.jump_host"


@pytest.mark.parametrize("protocol, low, high, remote, expected", [
    ("tcp", 6443, 6443, "0.0.0.0/0", ["kube-apiserver"]),
    ("tcp", 2379, 2379, "::/0", ["etcd"]),
    (None, None, None, "0.0.0.0/0", list(pm.SENSITIVE_SERVICES)),
    ("tcp", 30000, 30010, "0.0.0.0/0", ["nodeports"]),
    ("tcp", 443, 443, "0.0.0.0/0", []),
    ("udp", 10250, 10250, "0.0.0.0/0", []),
    ("tcp", 6443, 6443, "192.0.2.0/24", []),
])
def test_lint_refuses_sensitive_ports_open_to_the_world(protocol, low, high, remote, expected):
    entry = {"field": "rules[0]", "scope": "lb", "direction": "ingress", "protocol": protocol,
             "port_min": low, "port_max": high, "remote": remote}
    assert sorted(e.message.split()[1] for e in pm.lint([entry])) == sorted(expected)


def test_lint_waiver_must_be_named_scoped_and_reasoned():
    entry = {"field": "rules[0]", "scope": "c1-loadbalancer", "direction": "ingress", "protocol": "tcp",
             "port_min": 6443, "port_max": 6443, "remote": "0.0.0.0/0"}
    waiver = {"name": "public-api-demo", "service": "kube-apiserver", "scope": "c1-loadbalancer", "reason": "demo cluster"}
    assert pm.lint([entry], [waiver]) == []
    assert len(pm.lint([entry], [dict(waiver, scope="other-group")])) == 1
    problems = pm.lint([entry], [{"name": "w", "service": "kube-apiserver"}])
    assert any(p.field == "waivers[0]" for p in problems)
    assert pm.lint([dict(entry, direction="egress")]) == []


def test_vrrp_addresses_are_normalised_cidrs_and_validated():
    s = spec(loadbalancer={"ha_mode": "vrrp", "vrrp_addresses": ["198.18.1.100"]})
    assert s["loadbalancer"]["vrrp_addresses"] == ["198.18.1.100/32"]
    with pytest.raises(NetsecError) as err:
        spec(loadbalancer={"vrrp_addresses": ["vip"]})
    assert err.value.field == "cluster.loadbalancer.vrrp_addresses[0]"


def test_hubble_pod_ports_never_become_node_rules():
    # Relay and UI are pod ports: Cilium policies admit them; no security group or Talos rule may.
    everything = spec(cni={"tunnel": "vxlan", "wireguard": True, "health": True, "hubble": True})
    names = set(f.service.name for f in pm.flows(everything))
    assert "hubble-server" in names
    assert not names & {"hubble-relay", "hubble-ui"}


def _entry(remote, port=6443, scope="c1-control-plane", field="rules[0]", protocol="tcp"):
    return {"field": field, "scope": scope, "direction": "ingress", "protocol": protocol,
            "port_min": port, "port_max": port, "remote": remote}


@pytest.mark.parametrize("remotes, port, service", [
    (["0.0.0.0/1", "128.0.0.0/1"], 6443, "kube-apiserver"),
    (["::/1", "8000::/1"], 2379, "etcd"),
    (["2000::/3"], 10250, "kubelet"),
    ([pm.ANY_SOURCE], 50001, "talos-trustd"),
    (["10.0.0.0/8", "11.0.0.0/8"], 6443, "kube-apiserver"),
])
def test_lint_judges_the_union_of_sources_not_the_literal_string(remotes, port, service):
    entries = [_entry(r, port, field="rules[%d]" % i) for i, r in enumerate(remotes)]
    problems = pm.lint(entries)
    assert set(p.message.split()[1] for p in problems) == {service}
    assert problems[0].field in [e["field"] for e in entries]


def test_lint_keeps_admin_sized_ranges_and_other_targets_apart():
    assert pm.lint([_entry("10.0.0.0/8"), _entry("2001:db8::/32"), _entry(None)]) == []
    # Halves of the world on two different targets do not add up.
    assert pm.lint([_entry("10.0.0.0/8", scope="a"), _entry("11.0.0.0/8", scope="b")]) == []


def test_lint_waiver_takes_its_scoped_entries_out_of_the_union():
    entries = [_entry("0.0.0.0/1", scope="lb"), _entry("128.0.0.0/1", scope="lb")]
    waiver = {"name": "public-api", "service": "kube-apiserver", "scope": "lb", "reason": "demo"}
    assert pm.lint(entries, [waiver]) == []
    problems = pm.lint(entries, [dict(waiver, scop="lb")])
    assert any(p.field == "waivers[0]" and "scop" in p.message for p in problems)


def test_lint_is_near_linear_at_ten_thousand_sources():
    import time
    entries = [_entry("10.%d.%d.0/24" % (i // 256, i % 256), field="rules[%d]" % i) for i in range(10000)]
    start = time.monotonic()
    assert pm.lint(entries) == []
    assert time.monotonic() - start < 5  # generous: ~0.1 s here
