# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""perimeter_audit: live groups vs the port model, and the world-exposure lint."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.filter.perimeter_audit import perimeter_audit
from fixtures.openstack import converged_groups

CLUSTER = {"name": "c1", "ip_versions": [4], "jump_host": {"admin_cidrs": ["192.0.2.0/28"]}}


def live_from_model(cluster):
    """The groups as Neutron would return them after a clean converge."""
    return converged_groups(cluster)


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


# --- rules on Neutron address groups (remote_address_group_id) -----------------------------

def _with_address_group_rule(port, ag_id="ag-1"):
    live = live_from_model(CLUSTER) + [{"id": "ops", "name": "ops", "security_group_rules": [
        {"id": "via-ag", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": port,
         "port_range_max": port, "remote_ip_prefix": None, "remote_group_id": None, "remote_address_group_id": ag_id}]}]
    return live


def test_an_address_group_holding_the_world_on_a_sensitive_port_is_an_exposure():
    ags = [{"id": "ag-1", "name": "ops-ranges", "addresses": ["198.51.100.0/24", "0.0.0.0/0"]}]
    result = perimeter_audit(_with_address_group_rule(6443), CLUSTER, address_groups=ags)
    assert len(result["exposures"]) == 1, result["exposures"]
    assert "kube-apiserver" in result["exposures"][0] and "0.0.0.0/0" in result["exposures"][0]


def test_an_address_group_of_admin_ranges_only_is_not_an_exposure():
    ags = [{"id": "ag-1", "name": "ops-ranges", "addresses": ["198.51.100.0/24", "192.0.2.0/28", "2001:db8::/64"]}]
    assert perimeter_audit(_with_address_group_rule(6443), CLUSTER, address_groups=ags)["exposures"] == []
    # The same world split in two halves is still the world.
    split = [{"id": "ag-1", "name": "ops-ranges", "addresses": ["0.0.0.0/1", "128.0.0.0/1"]}]
    assert len(perimeter_audit(_with_address_group_rule(10250), CLUSTER, address_groups=split)["exposures"]) == 1


def test_an_address_group_that_was_not_read_fails_closed():
    # Not given (or another project's): its addresses are unknown, so it counts as every source.
    ags = [{"id": "ag-other", "name": "elsewhere", "addresses": ["192.0.2.0/28"]}]
    for kwargs in ({}, {"address_groups": ags}):
        result = perimeter_audit(_with_address_group_rule(2379), CLUSTER, **kwargs)
        assert len(result["exposures"]) == 1 and "etcd" in result["exposures"][0], kwargs


def test_a_cluster_synced_with_address_groups_audits_without_drift_and_reports_address_drift():
    from ansible_collections.safespring.netsec.plugins.module_utils.openstack import render, rules

    cluster = dict(CLUSTER, jump_host={"admin_cidrs": ["192.0.2.0/28", "198.18.0.0/24"]})
    desired = render.render(cluster, address_groups=True)
    ags = [{"id": "id-" + a.name, "name": a.name, "addresses": list(a.addresses)} for a in render.render_address_groups(cluster)]
    ids = dict((g.name, "id-" + g.name) for g in desired)
    ag_ids = dict((a["name"], a["id"]) for a in ags)
    live = [{"id": ids[g.name], "name": g.name, "security_group_rules": [
        dict(rules.api_body(r, ids[g.name], ids, ag_ids), id="%s-r%d" % (g.name, j)) for j, r in enumerate(g.rules)]}
        for g in desired]
    result = perimeter_audit(live, cluster, address_groups=ags, cluster_address_groups=True)
    assert result["drift"] == [] and result["exposures"] == [], result
    # Audited as per-CIDR rules instead, the same groups are drift: the audit must be told.
    assert perimeter_audit(live, cluster, address_groups=ags)["drift"] != []
    ags[-1]["addresses"] = ["192.0.2.0/28", "0.0.0.0/0"]
    result = perimeter_audit(live, cluster, address_groups=ags, cluster_address_groups=True)
    assert result["drift"] == ["c1-admin_cidrs: missing address 198.18.0.0/24", "c1-admin_cidrs: extra address 0.0.0.0/0"]
    assert result["exposures"] == []  # ssh to the world is the operator's call, not a sensitive service
