# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layered exposure proof on artifacts rendered from a small cluster by the collection's own
renderers (security groups as Neutron would return them, Talos documents, Cilium host policies,
an HAProxy edge as the role writes it), then one layer broken at a time."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies as cilium_policies
from ansible_collections.safespring.netsec.plugins.module_utils.layered import layers as L, picture, proof as P
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import render as sg_render, rules as sg_rules
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as talos_firewall
from ansible_collections.safespring.netsec.plugins.modules import exposure_proof

CLUSTER = {"name": "c1", "ip_versions": [4], "cni": {"tunnel": "vxlan", "wireguard": True, "health": True, "hubble": True},
           "loadbalancer": {"ha_mode": "bgp", "bgp_peers": ["198.51.100.1/32"], "bfd": True, "ingress_cidrs": ["0.0.0.0/0"],
                            "api_cidrs": [], "nodeport_targets": ["worker"]},
           "jump_host": {"enabled": True, "admin_cidrs": ["192.0.2.0/24"]}}
BOOK = {"control_plane": ["10.0.0.21"], "worker": ["10.0.0.22", "10.0.0.23"], "loadbalancer": ["10.0.0.11/32", "10.0.0.12/32"],
        "jump_host": ["192.0.2.5/32"]}
NODES = [{"name": "cp1", "role": "control_plane"}, {"name": "w1", "role": "worker"}, {"name": "w2", "role": "worker"}]
LISTS = "/etc/haproxy/lists"


def _groups():
    """The model's groups as Neutron returns them after a clean sync."""
    spec = pm.ClusterSpec.from_dict(CLUSTER)
    desired = sg_render.render(spec)
    ids = dict((g.name, "id-" + g.name) for g in desired)
    return [{"id": ids[g.name], "name": g.name, "security_group_rules": [
        dict(sg_rules.api_body(rule, ids[g.name], ids), id="%s-%d" % (g.name, j)) for j, rule in enumerate(g.rules)]} for g in desired]


def _talos():
    spec = pm.ClusterSpec.from_dict(CLUSTER)
    return dict((n["name"], talos_firewall.render(spec, n["role"], BOOK)[0]) for n in NODES)


def _host_policies():
    spec = pm.ClusterSpec.from_dict(CLUSTER)
    return [cilium_policies.host_policy(spec, role, BOOK) for role in pm.NODE_ROLES]


def _edge(allow_api="192.0.2.5/32"):
    """An edge as roles/haproxy writes it (frontends, binds, the source filter on each list file)."""
    frontends = []
    for name, port in (("http", 80), ("https", 443), ("kube-apiserver", 6443), ("talos-apid", 50000)):
        frontends.append("frontend %s\n    mode tcp\n    bind 198.18.0.10:%d\n    acl denied src -f %s/deny.lst\n"
                         "    acl allowed src -f %s/%s.allow\n    acl exempt src -f %s/exempt.lst\n"
                         "    tcp-request connection reject if denied || !allowed\n" % (name, port, LISTS, LISTS, name, LISTS))
    frontends.append("frontend haproxy-admin\n    bind 10.0.0.11:8404\n    acl denied src -f %s/deny.lst\n"
                     "    acl allowed src -f %s/haproxy-admin.allow\n    tcp-request connection reject if denied || !allowed\n" % (LISTS, LISTS))
    lists = {LISTS + "/deny.lst": "# none\n", LISTS + "/exempt.lst": "", LISTS + "/http.allow": "0.0.0.0/0\n",
             LISTS + "/https.allow": "0.0.0.0/0\n", LISTS + "/kube-apiserver.allow": allow_api + "\n",
             LISTS + "/talos-apid.allow": "192.0.2.5/32\n", LISTS + "/haproxy-admin.allow": "192.0.2.5/32\n"}
    return {"config": "global\n    log stdout local0\n" + "\n".join(frontends), "lists": lists}


def _params(**override):
    params = {"cluster": CLUSTER, "addresses": BOOK, "security_groups": _groups(), "nodes": NODES, "talos": _talos(),
              "haproxy": {"lb1": _edge(), "lb2": _edge()}, "cilium_policies": _host_policies(), "cilium_host_firewall": True,
              "namespace_policies": None, "namespaces": [], "paths": [], "dns": None, "cluster_cidrs": [], "field_prefix": "",
              "create_namespaces": None}
    params.update(override)
    return params


def _failing(result):
    return sorted((p["source"], p["destination"], p["service"]) for p in result["paths"] if p["problems"])


def test_the_artifacts_the_collection_renders_prove_the_port_model_exactly():
    result = exposure_proof.run(_params())
    assert result["ok"], result["problems"][:10]
    assert result["problems"] == [] and result["lb_differences"] == []
    by = dict(((p["source"], p["destination"], p["service"]), p) for p in result["paths"])
    # Open end to end, through every layer that filters it.
    assert by[("jump_host", "loadbalancer", "kube-apiserver")]["layers"] == {
        "security_groups": "allow", "haproxy": "allow", "talos": "-", "cilium_host": "-"}
    assert by[("loadbalancer", "worker", "nodeports")]["open"] == "allow"
    # Closed, and by how many layers: etcd from the Internet is stopped by all three node layers.
    etcd = by[("internet", "control_plane", "etcd")]
    assert etcd["open"] == "stop" and etcd["stopped_by"] == ["cilium_host", "security_groups", "talos"]
    # Cilium cannot tell node roles apart: a worker passes its layer for etcd, the other two stop it.
    assert by[("worker", "control_plane", "etcd")]["layers"] == {
        "security_groups": "stop", "haproxy": "-", "talos": "stop", "cilium_host": "allow"}
    assert result["summary"]["paths"] == len(result["paths"]) == len(P.SERVICES) * 4 * 7


def test_a_security_group_rule_opened_by_hand_fails_exactly_the_paths_it_opens():
    groups = _groups()
    worker = [g for g in groups if g["name"] == "c1-worker"][0]
    worker["security_group_rules"].append({"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 10250,
                                           "port_range_max": 10250, "remote_ip_prefix": "0.0.0.0/0"})
    result = exposure_proof.run(_params(security_groups=groups))
    assert not result["ok"]
    assert _failing(result) == sorted((s, "worker", "kubelet") for s in ("internet", "admin", "jump_host", "loadbalancer", "bgp_peer"))
    assert "internet -> worker kubelet (tcp/10250): security_groups admits it, the port model does not (from 203.0.113.77)" in result["problems"]


def test_a_talos_rule_widened_in_the_rendered_config_fails_its_paths_and_defence_in_depth_holds():
    talos = _talos()
    etcd = [d for d in talos["cp1"] if d.get("name") == "etcd"][0]
    etcd["ingress"].append({"subnet": "0.0.0.0/0"})
    result = exposure_proof.run(_params(talos=talos))
    failing = _failing(result)
    assert failing == sorted((s, "control_plane", "etcd") for s in ("internet", "admin", "jump_host", "loadbalancer", "worker", "bgp_peer"))
    assert all(any("talos admits it" in text for text in p["problems"]) for p in result["paths"] if p["problems"])
    # The worker is now stopped by the security groups alone (Cilium admits every node): named.
    worker = [p for p in result["paths"] if (p["source"], p["destination"], p["service"]) == ("worker", "control_plane", "etcd")][0]
    assert any(text.startswith("defence in depth: stopped by 1 of 3 layers (security_groups)") for text in worker["problems"])


def test_an_allowlist_opened_on_one_load_balancer_is_named_with_the_difference_between_them():
    result = exposure_proof.run(_params(haproxy={"lb1": _edge(allow_api="0.0.0.0/0"), "lb2": _edge()}))
    assert ("internet", "loadbalancer", "kube-apiserver") in _failing(result)
    assert all(p["service"] == "kube-apiserver" and p["destination"] == "loadbalancer" for p in result["paths"] if p["problems"])
    assert result["lb_differences"] == ["frontend kube-apiserver: list allowed differs (only on lb1: ['0.0.0.0/0']; only on lb2: ['192.0.2.5/32'])"]
    assert "load balancers differ: " + result["lb_differences"][0] in result["problems"]


def test_a_declared_flow_stopped_by_one_layer_says_which_layer_and_for_which_address():
    talos = _talos()
    for doc in talos["w2"]:
        if doc.get("name") == "nodeports":
            doc["ingress"] = [s for s in doc["ingress"] if s["subnet"] != "10.0.0.12/32"]
    result = exposure_proof.run(_params(talos=talos))
    path = [p for p in result["paths"] if (p["source"], p["destination"], p["service"]) == ("loadbalancer", "worker", "nodeports")][0]
    assert path["open"] == "partial" and path["layers"]["talos"] == "partial"
    assert path["problems"] == ["declared but stopped by talos (from 10.0.0.12)", "talos stops a declared flow (from 10.0.0.12)"]


def test_without_the_host_firewall_cilium_admits_everything_and_sensitive_paths_lose_a_layer():
    result = exposure_proof.run(_params(cilium_host_firewall=False))
    kubelet = [p for p in result["paths"] if (p["source"], p["destination"], p["service"]) == ("internet", "worker", "kubelet")][0]
    assert kubelet["layers"]["cilium_host"] == "allow" and kubelet["open"] == "stop"
    assert "cilium_host admits it, the port model does not (from 203.0.113.77)" in kubelet["problems"]


def test_haproxy_frontends_and_lists_are_read_as_haproxy_reads_them():
    fes = L.parse_haproxy("frontend f\n    bind ipv4@:443\n    bind [fd00::1]:443 v6only\n    acl allowed src -f /l/a\n"
                          "    tcp-request connection reject if denied || !allowed\n", {"/l/a": "10.0.0.0/8 # office\n\n"}, "lb1")
    assert fes["f"]["binds"] == [(4, 443), (6, 443)] and fes["f"]["filtered"]
    assert [str(c) for c in fes["f"]["acls"]["allowed"]] == ["10.0.0.0/8"]
    with pytest.raises(Exception) as err:
        L.parse_haproxy("frontend f\n    acl allowed src -f /l/missing\n", {}, "lb1")
    assert "/l/missing" in str(err.value)


def test_the_pictures_escape_every_name_and_mark_findings():
    result = exposure_proof.run(_params(haproxy={"lb1": _edge(allow_api="0.0.0.0/0"), "lb2": _edge()}))
    paths = result["paths"] + [{"source": "<script>", "destination": "pods:x", "service": "TCP/1", "port": "TCP/1", "open": "allow",
                                "intended": "stop", "layers": {"namespace_policies": "allow"}, "stopped_by": [], "problems": ["x"]}]
    html = picture.section({"paths": paths, "layers": result["layers"], "summary": result["summary"]})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "stroke-dasharray" in html and "class=\"open bad\"" in html


def test_cilium_host_rules_match_protocol_port_range_and_icmp_type_and_deny_wins():
    import ipaddress
    policy = {"kind": "CiliumClusterwideNetworkPolicy", "spec": {"nodeSelector": {}, "ingress": [
        {"fromCIDR": ["192.0.2.0/24"], "toPorts": [{"ports": [{"port": "10250", "protocol": "UDP"}]}]},
        {"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "30000", "endPort": 32767, "protocol": "TCP"}]}]},
        {"fromEntities": ["remote-node"], "icmps": [{"fields": [{"type": 8, "family": "IPv4"}]}]}],
        "ingressDeny": [{"fromCIDR": ["203.0.113.0/24"]}]}}
    layer = L.CiliumHost([policy], True, ["10.0.0.22"])
    admin, internet, other, node = (ipaddress.ip_address(a) for a in ("192.0.2.9", "203.0.113.77", "198.51.100.7", "10.0.0.22"))
    assert layer.admits("worker", pm.SERVICES["kubelet"], admin) is False  # UDP rule, TCP service
    assert layer.admits("worker", pm.SERVICES["nodeports"], other) is True
    assert layer.admits("worker", pm.SERVICES["nodeports"], internet) is False  # the deny wins
    assert layer.admits("worker", pm.SERVICES["nodeports"], node) is False  # a node is not `world`
    assert layer.admits("worker", pm.SERVICES["cilium-health-icmp"], node) is True
    assert layer.admits("worker", pm.SERVICES["cilium-health-icmp"], other) is False


def test_a_namespace_policy_that_opens_more_than_declared_names_the_first_pod_pair():
    namespaces = [{"name": "shop", "workloads": [{"name": "web", "labels": {"app": "web"}, "ports": [{"port": 8080}]},
                                                 {"name": "db", "labels": {"app": "db"}, "ports": [{"port": 5432}]}]}]
    from ansible_collections.safespring.netsec.plugins.module_utils.netpol import model
    from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration_spec
    spec = dict((k, v) for k, v in declaration_spec().items() if k in ("namespaces", "paths", "dns", "cluster_cidrs"))
    declared = ArgumentSpecValidator(spec).validate({"namespaces": namespaces, "paths": []}).validated_parameters
    norm = model.validate(declaration(dict(declared, create_namespaces=None)), "")
    policies = [o for o in model.build_objects(norm, "namespace-policies", "") if o["kind"] == "NetworkPolicy"]
    allow_all = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-all", "namespace": "shop"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}}
    result = exposure_proof.run(_params(namespace_policies=policies + [allow_all], **declared))
    bad = [p for p in result["paths"] if p["problems"]]
    assert bad and all(p["destination"] == "pods:shop" for p in bad)
    assert any(t.startswith("open but not declared: ") and t.endswith("(namespace_policies)") for p in bad for t in p["problems"])
    assert exposure_proof.run(_params(namespace_policies=policies, **declared))["ok"]
