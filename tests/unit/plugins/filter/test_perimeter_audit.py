# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""perimeter_audit: live groups vs the port model, and the world-exposure lint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.filter.perimeter_audit import perimeter_audit
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import render, rules

CLUSTER = {"name": "c1", "ip_versions": [4], "jump_host": {"admin_cidrs": ["192.0.2.0/28"]}}


def live_from_model(cluster):
    """The groups as Neutron would return them after a clean converge."""
    desired = render.render(cluster)
    ids = dict((g.name, "id-" + g.name) for g in desired)
    groups = []
    for g in desired:
        api_rules = []
        for j, rule in enumerate(g.rules):
            body = rules.api_body(rule, ids[g.name], ids)
            body["id"] = "%s-r%d" % (g.name, j)
            api_rules.append(body)
        groups.append({"id": ids[g.name], "name": g.name, "security_group_rules": api_rules})
    return groups


def test_a_converged_environment_has_no_drift_and_no_exposure():
    result = perimeter_audit(live_from_model(CLUSTER), CLUSTER)
    assert result["drift"] == [] and result["exposures"] == [] and result["missing_groups"] == []
    assert result["rules_checked"] > 20


def test_a_hand_made_world_rule_on_6443_is_drift_and_an_exposure():
    live = live_from_model(CLUSTER)
    lb = [g for g in live if g["name"] == "c1-loadbalancer"][0]
    lb["security_group_rules"].append({"id": "evil", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                                       "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": "0.0.0.0/0"})
    result = perimeter_audit(live, CLUSTER)
    assert result["drift"] == ["c1-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)"]
    assert len(result["exposures"]) == 1 and "kube-apiserver" in result["exposures"][0]


def test_exposures_are_found_in_groups_outside_the_cluster_too():
    live = live_from_model(CLUSTER) + [{"id": "dbg", "name": "debug", "security_group_rules": [
        {"id": "x", "direction": "ingress", "ethertype": "IPv6", "protocol": None, "remote_ip_prefix": "::/0"}]}]
    result = perimeter_audit(live, CLUSTER)
    assert result["drift"] == []
    assert sorted(e.split(" opens ")[1].split(" ")[0] for e in result["exposures"]) == sorted(
        ["etcd", "kubelet", "talos-trustd", "talos-apid", "nodeports", "kube-apiserver"])


def test_a_deleted_rule_and_a_missing_group_are_drift():
    live = live_from_model(CLUSTER)
    cp = [g for g in live if g["name"] == "c1-control_plane"][0]
    cp["security_group_rules"] = [r for r in cp["security_group_rules"] if r.get("port_range_min") != 2379]
    live = [g for g in live if g["name"] != "c1-jump_host"]
    result = perimeter_audit(live, CLUSTER)
    assert result["missing_groups"] == ["c1-jump_host"]
    assert "c1-control_plane: missing ingress tcp/2379-2380 from group c1-control_plane (IPv4)" in result["drift"]


def test_a_live_6443_rule_without_any_remote_is_an_exposure():
    # No remote prefix and no remote group: Neutron admits every source.
    live = live_from_model(CLUSTER)
    lb = [g for g in live if g["name"] == "c1-loadbalancer"][0]
    lb["security_group_rules"].append({"id": "open", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                                       "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": None,
                                       "remote_group_id": None})
    result = perimeter_audit(live, CLUSTER)
    assert result["exposures"] == ["c1-loadbalancer: ingress tcp/6443 from any (IPv4): opens kube-apiserver (tcp/6443) to any "
                                   "(all of IPv4) (restrict the source to the load balancers or admin CIDRs, or add a named "
                                   "waiver {name, service: kube-apiserver, scope, reason})"]
    waiver = {"name": "public-api", "service": "kube-apiserver", "scope": "c1-loadbalancer", "reason": "test"}
    assert perimeter_audit(live, CLUSTER, [waiver])["exposures"] == []


def test_a_split_world_on_etcd_is_an_exposure_in_the_live_audit():
    live = live_from_model(CLUSTER)
    cp = [g for g in live if g["name"] == "c1-control_plane"][0]
    for i, cidr in enumerate(["::/1", "8000::/1"]):
        cp["security_group_rules"].append({"id": "s%d" % i, "direction": "ingress", "ethertype": "IPv6", "protocol": "tcp",
                                           "port_range_min": 2379, "port_range_max": 2380, "remote_ip_prefix": cidr})
    exposures = perimeter_audit(live, CLUSTER)["exposures"]
    assert len(exposures) == 1 and "opens etcd" in exposures[0] and "all of IPv6" in exposures[0]
