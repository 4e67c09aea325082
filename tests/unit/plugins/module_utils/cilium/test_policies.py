# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baseline policies from the port model; every one valid against the Cilium 1.18.2 CRD schemas."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh, policies
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import validate

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER

VARIANTS = [
    dict(),
    dict(hubble_ui=True),
    dict(hubble=False),
    dict(mesh="istio-ambient", mesh_namespaces=["shop", "billing"]),
]


def by_name(items):
    return dict((p["metadata"]["name"], p) for p in items)


def admitted(policy):
    """{(protocol, port): set of sources} a host policy admits ('entity:x' / CIDR / 'icmp')."""
    out = {}
    for rule in policy["spec"]["ingress"]:
        sources = set("entity:" + e for e in rule.get("fromEntities", [])) | set(rule.get("fromCIDR", []))
        sources |= set("pod:" + sel["matchLabels"]["k8s-app"] for sel in rule.get("fromEndpoints", []))
        if "icmps" in rule:
            keys = [("icmp", f["type"]) for f in rule["icmps"][0]["fields"]]
        else:
            keys = [(p["protocol"].lower(), int(p["port"])) for tp in rule["toPorts"] for p in tp["ports"]]
        for key in keys:
            out.setdefault(key, set()).update(sources)
    return out


@pytest.mark.parametrize("variant", VARIANTS, ids=["default", "hubble-ui", "no-hubble", "istio-ambient"])
def test_every_baseline_policy_is_valid_against_the_cilium_crd_schema(variant, cilium_schemas):
    for i, policy in enumerate(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, **variant)):
        validate.validate_custom(policy, cilium_schemas[policy["kind"]], field="baseline[%d]" % i)


def test_host_policies_admit_exactly_the_port_models_ingress_services():
    spec = pm.ClusterSpec.from_dict(LAB_CLUSTER)
    pols = by_name(policies.baseline(spec, LAB_ADDRESS_BOOK))
    for node_role in pm.NODE_ROLES:
        got = admitted(pols["netsec-host-" + node_role.replace("_", "-")])
        want = set()
        for service, _peers in pm.ingress_flows(spec, node_role):
            if service.protocol == "icmp":
                want |= set(("icmp", pm.ICMP_ECHO_REQUEST[v]) for v in spec.ip_versions)
            else:
                want.add((service.protocol, service.port_min))
        assert set(got) == want, node_role


def test_etcd_is_not_open_to_the_load_balancers_or_the_jump_host():
    got = admitted(by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK))["netsec-host-control-plane"])
    assert got[("tcp", 2379)] == {"entity:host", "entity:remote-node"}


def test_load_balancer_and_jump_host_sources_are_their_addresses_not_entities():
    got = admitted(by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK))["netsec-host-control-plane"])
    assert "198.18.1.11/32" in got[("tcp", 6443)] and "fd5a:fe:1::12/128" in got[("tcp", 6443)]
    assert "198.18.2.5/32" in got[("tcp", 50000)]
    assert "198.18.2.5/32" not in got[("tcp", 6443)]  # the jump host reaches the API through the LBs
    assert "entity:world" not in set().union(*got.values())


def test_nodeports_on_workers_only_from_the_load_balancers():
    got = admitted(by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK))["netsec-host-worker"])
    assert got[("tcp", 30000)] == {"198.18.1.11/32", "198.18.1.12/32", "fd5a:fe:1::11/128", "fd5a:fe:1::12/128"}
    assert ("tcp", 6443) not in got


def test_ipv4_only_cluster_drops_ipv6_addresses_and_icmpv6():
    pols = by_name(policies.baseline(dict(LAB_CLUSTER, ip_versions=[4]), LAB_ADDRESS_BOOK))
    got = admitted(pols["netsec-host-control-plane"])
    cidrs = [src for srcs in got.values() for src in srcs if not src.startswith(("entity:", "pod:"))]
    assert cidrs and all(":" not in src for src in cidrs)
    assert ("icmp", 128) not in got and ("icmp", 8) in got


def test_missing_load_balancer_addresses_name_the_address_book_field():
    with pytest.raises(NetsecError) as err:
        policies.baseline(LAB_CLUSTER, {"jump_host": ["198.18.2.5"]})
    assert err.value.field == "address_book.loadbalancer"


def test_hubble_relay_and_ui_accept_the_jump_host_only():
    pols = by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, hubble_ui=True))
    relay = pols["netsec-hubble-relay"]["spec"]["ingress"]
    assert relay[0]["fromCIDR"] == ["198.18.2.5/32", "fd5a:fe:2::5/128"]
    assert relay[0]["toPorts"][0]["ports"][0]["port"] == "4245"
    assert relay[1]["fromEndpoints"] == [{"matchLabels": {"k8s-app": "hubble-ui"}}]
    ui = pols["netsec-hubble-ui"]["spec"]["ingress"]
    assert ui == [{"fromCIDR": ["198.18.2.5/32", "fd5a:fe:2::5/128"],
                   "toPorts": [{"ports": [{"port": "8081", "protocol": "TCP"}]}]}]


def test_kube_system_is_default_deny_with_dns_open_to_the_cluster_on_dns_ports_only():
    pols = by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK))
    base = pols["netsec-kube-system-baseline"]
    assert base["metadata"]["namespace"] == "kube-system" and base["spec"]["endpointSelector"] == {}
    assert "cluster" not in base["spec"]["ingress"][0]["fromEntities"]
    dns = pols["netsec-kube-dns"]["spec"]["ingress"][0]
    assert dns["fromEntities"] == ["cluster"]
    assert [(p["ports"][0]["port"], p["ports"][0]["protocol"]) for p in dns["toPorts"]] == [("53", "UDP"), ("53", "TCP")]


def test_istio_ambient_probe_allowance_never_switches_on_default_deny():
    pols = by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, mesh="istio-ambient", mesh_namespaces=["shop"]))
    probe = pols["netsec-allow-ambient-hostprobes"]["spec"]
    assert probe["enableDefaultDeny"] == {"ingress": False, "egress": False}
    assert probe["ingress"] == [{"fromCIDR": [mesh.ISTIO_AMBIENT_PROBE_SOURCE]}]
    assert probe["endpointSelector"]["matchExpressions"][0]["values"] == ["shop"]


def test_hubble_relay_pods_reach_every_nodes_hubble_server():
    pols = by_name(policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK))
    for name in ("netsec-host-control-plane", "netsec-host-worker"):
        assert admitted(pols[name])[("tcp", 4244)] == {"entity:host", "entity:remote-node", "pod:hubble-relay"}


def extra_with_port(port, where="ingress"):
    rule = {"toPorts": [{"ports": [{"port": port, "protocol": "TCP"}]}]}
    rule["fromEntities" if where.startswith("ingress") else "toEntities"] = ["cluster"]
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": "shop"},
            "spec": {"endpointSelector": {}, where: [rule]}}


@pytest.mark.parametrize("port", ["70000", "80_http", "7000-7100", "-1", "", "a-very-long-port-name"])
def test_an_extra_policy_port_ciliums_agent_would_refuse_is_refused_naming_it(port):
    with pytest.raises(NetsecError) as err:
        policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, extra_policies=[extra_with_port(port, "egressDeny")], extra_field="cilium_extra_policies")
    assert err.value.field == "cilium_extra_policies[0].spec.egressDeny[0].toPorts[0].ports[0].port"
    assert "port name" in err.value.fix


@pytest.mark.parametrize("port", ["0", "443", "65535", "http", "dns-tcp", "HTTP"])
def test_ports_and_port_names_cilium_accepts_pass(port):
    policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, extra_policies=[extra_with_port(port)])
