"""safespring.netsec.security_group `clusters:` (a fleet in one call) against the lab's real Neutron.

Several clusters converge in one task, the rerun reads the whole fleet in one list request
and writes nothing, a change in one cluster touches that cluster's groups only, and bad
or hostile input in one cluster stops the whole call, naming `clusters[i]...`, before a
single request.
"""
import uuid
from collections import Counter

import pytest

from integration.test_security_group import Neutron, cloud, rule_lines, run

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def neutron(neutron_cloud):
    return Neutron(neutron_cloud)


@pytest.fixture
def prefix(neutron):
    name = "f%s-" % uuid.uuid4().hex[:6]
    yield name
    neutron.cleanup(name)


def fleet(prefix, admin_b=("198.18.2.5/32",)):
    """Three clusters of different shapes: anycast LB with IPv6, VRRP LB, IPv4 only with a restricted egress."""
    return [
        {"name": prefix + "a", "loadbalancer": {"api_cidrs": ["198.51.100.0/24", "2001:db8:7::/48"]},
         "jump_host": {"admin_cidrs": ["198.18.2.5/32", "fd5a:fe:2::5/128"]}},
        {"name": prefix + "b", "ip_versions": [4], "loadbalancer": {"ha_mode": "vrrp", "vrrp_addresses": ["198.18.1.100"]},
         "jump_host": {"admin_cidrs": list(admin_b)}},
        {"name": prefix + "c", "ip_versions": [4], "jump_host": {"admin_cidrs": ["198.18.3.0/28"]},
         "egress": {"restrict": ["worker"], "dns": ["192.0.2.53"]}},
    ]


def group_names(prefix):
    return sorted("%s%s-%s" % (prefix, c, role) for c in "abc" for role in ("control_plane", "worker", "loadbalancer", "jump_host"))


def test_clusters_converge_in_one_call_and_the_rerun_reads_the_fleet_in_one_request(neutron, prefix, tmp_path):
    args = {"cloud": cloud(), "clusters": fleet(prefix)}
    with neutron.requests() as counts:
        predicted = run(tmp_path, args, "--check")
    assert predicted.get("failed") is not True, predicted.get("msg")
    assert set(counts) == {"GET"} and neutron.groups(prefix) == {}  # check mode writes nothing
    first = run(tmp_path, args)
    assert first.get("failed") is not True, first.get("msg")
    assert first["changed"] and first["summary"]["groups_created"] == 12
    assert first["summary"] == predicted["summary"]
    assert rule_lines(first["created_rules"]) == rule_lines(predicted["created_rules"])
    live = neutron.groups(prefix)
    assert sorted(live) == group_names(prefix)
    # Role peers are remote-group references within each cluster, never across clusters.
    ids = dict((g["id"], name) for name, g in live.items())
    for name, group in live.items():
        cluster = name[len(prefix)]
        for rule in group["security_group_rules"]:
            if rule["remote_group_id"]:
                assert ids[rule["remote_group_id"]].startswith(prefix + cluster + "-"), (name, rule)
    # Cluster b is IPv4 only, cluster a has IPv6 rules.
    assert all(r["ethertype"] == "IPv4" for r in live[prefix + "b-worker"]["security_group_rules"] if r["direction"] == "ingress")
    assert any(r["ethertype"] == "IPv6" for r in live[prefix + "a-worker"]["security_group_rules"] if r["direction"] == "ingress")

    with neutron.requests() as counts:
        second = run(tmp_path, args)
    assert second.get("failed") is not True, second.get("msg")
    assert second["changed"] is False and second["created_rules"] == [] and second["deleted_rules"] == []
    assert counts == Counter({"GET": 1}), counts.requests  # the whole fleet in one list request, no write
    assert len(second["security_groups"]) == 12 and not any(g["changed"] for g in second["security_groups"])


def test_a_change_in_one_cluster_touches_only_that_clusters_groups(neutron, prefix, tmp_path):
    run(tmp_path, {"cloud": cloud(), "clusters": fleet(prefix)})
    before = neutron.groups(prefix)
    args = {"cloud": cloud(), "clusters": fleet(prefix, admin_b=("198.18.2.5/32", "198.18.2.64/26"))}
    with neutron.requests() as counts:
        result = run(tmp_path, args, "--diff")
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] and result["deleted_rules"] == []
    touched = sorted(set(r["group"] for r in result["created_rules"]))
    assert touched and all(name.startswith(prefix + "b-") for name in touched), touched
    assert all("from 198.18.2.64/26" in r["rule"] for r in result["created_rules"])
    assert sorted(g["name"] for g in result["security_groups"] if g["changed"]) == touched
    assert [d["before_header"] for d in result["diff"]] == ["security group %s" % n for n in touched]
    assert counts == Counter({"GET": 1, "POST": len(touched)}), counts.requests  # one bulk POST per touched group
    after = neutron.groups(prefix)
    for name in before:
        old = set(r["id"] for r in before[name]["security_group_rules"])
        new = set(r["id"] for r in after[name]["security_group_rules"])
        if name in touched:
            assert old < new
        else:
            assert old == new, name
    assert run(tmp_path, args)["changed"] is False


def test_bad_or_hostile_input_in_one_cluster_is_refused_naming_it_before_any_request(neutron, prefix, tmp_path):
    def with_second(**fields):
        clusters = fleet(prefix)
        clusters[1] = dict(clusters[1], **fields)
        return clusters

    cases = [
        (with_second(loadbalancer={"api_cidrs": ["10.0.0/33"]}),
         "clusters[1].loadbalancer.api_cidrs[0]: '10.0.0/33' is not an IPv4/IPv6 address or CIDR"),
        (with_second(name=prefix + "b; rm -rf /"), "clusters[1].name: %r is not a valid cluster name" % (prefix + "b; rm -rf /")),
        (with_second(name=prefix + "a"), "clusters[1].name: cluster %r is given twice" % (prefix + "a")),
        (with_second(loadbalancer={"api_cidrs": ["0.0.0.0/0"]}),
         "clusters[1].loadbalancer.api_cidrs: opens kube-apiserver (tcp/6443) to 0.0.0.0/0"),
        (with_second(loadbalancer={"api_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}),
         "clusters[1].loadbalancer.api_cidrs: opens kube-apiserver (tcp/6443) to"),
        (with_second(jump_host={"admin_cidrs": ["198.18.2.5/32"], "sudo": True}), "clusters[1].jump_host.sudo: unknown key"),
        (with_second(egress={"restrict": ["worker"], "dns": ["192.0.2.53\n- 0.0.0.0/0"]}), "clusters[1].egress.dns[0]:"),
        (fleet(prefix) + ["c2"], "clusters[3]: "),
    ]
    with neutron.requests() as counts:
        for clusters, expected in cases:
            result = run(tmp_path, {"cloud": cloud(), "clusters": clusters})
            assert result["failed"] is True and result["msg"].startswith(expected), (expected, result["msg"])
    assert counts == Counter(), counts.requests  # not a single request: the valid clusters were not created either
    assert neutron.groups(prefix) == {}
