# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The port model rendered as security groups."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.pairs import cluster_pairs
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.render import render


def cluster(**overrides):
    data = {"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/28", "2001:db8:5::/64"]}}
    data.update(overrides)
    return data


def lines(groups, name):
    return [R.describe(r) for g in groups if g.name == name for r in g.rules]


def test_one_group_per_role_named_after_the_cluster():
    assert [g.name for g in render(cluster())] == ["c1-control_plane", "c1-worker", "c1-loadbalancer", "c1-jump_host"]
    assert [g.name for g in render(cluster(jump_host={"enabled": False}))] == ["c1-control_plane", "c1-worker", "c1-loadbalancer"]


def test_role_peers_are_group_references_in_both_families():
    cp = lines(render(cluster()), "c1-control_plane")
    assert "ingress tcp/6443 from group c1-loadbalancer (IPv4)" in cp
    assert "ingress tcp/6443 from group c1-loadbalancer (IPv6)" in cp
    assert "ingress tcp/2379-2380 from group c1-control_plane (IPv4)" in cp
    for group in render(cluster()):
        if group.name in ("c1-control_plane", "c1-worker"):
            assert all(r.remote_ip_prefix is None for r in group.rules), group.name  # never a pool CIDR


def test_cidr_peers_become_one_rule_per_cidr_with_its_ethertype():
    assert lines(render(cluster()), "c1-jump_host")[:2] == [
        "ingress tcp/22 from 192.0.2.0/28 (IPv4)", "ingress tcp/22 from 2001:db8:5::/64 (IPv6)"]


def test_ip_versions_4_only_drops_ipv6_rules_but_keeps_open_egress_for_both():
    groups = render(cluster(ip_versions=[4]))
    jump = lines(groups, "c1-jump_host")
    assert jump == ["ingress tcp/22 from 192.0.2.0/28 (IPv4)", "egress any to any (IPv4)", "egress any to any (IPv6)"]
    assert not [line for line in lines(groups, "c1-worker") if line.startswith("ingress") and "(IPv6)" in line]


def test_health_icmp_is_echo_request_per_family():
    worker = lines(render(cluster()), "c1-worker")
    assert "ingress icmp type 8 from group c1-worker (IPv4)" in worker
    assert "ingress ipv6-icmp type 128 from group c1-worker (IPv6)" in worker


def test_vrrp_mode_opens_protocol_112_between_load_balancers_and_renders_address_pairs():
    spec = cluster(loadbalancer={"ha_mode": "vrrp", "vrrp_addresses": ["198.18.1.100", "fd5a:fe:1::100/128"]})
    lb = lines(render(spec), "c1-loadbalancer")
    assert "ingress vrrp from group c1-loadbalancer (IPv4)" in lb
    assert not [line for line in lb if "tcp/179" in line]
    assert cluster_pairs(spec) == [("198.18.1.100", "cluster.loadbalancer.vrrp_addresses[0]"),
                                   ("fd5a:fe:1::100", "cluster.loadbalancer.vrrp_addresses[1]")]
    assert cluster_pairs(cluster()) == []


def test_egress_is_open_unless_restricted_then_only_declared_flows():
    open_worker = lines(render(cluster()), "c1-worker")
    assert [line for line in open_worker if line.startswith("egress")] == ["egress any to any (IPv4)", "egress any to any (IPv6)"]
    spec = cluster(egress={"restrict": ["worker"], "dns": ["192.0.2.53"], "registries": ["198.51.100.0/24"]})
    worker = [line for line in lines(render(spec), "c1-worker") if line.startswith("egress")]
    assert "egress any to any (IPv4)" not in worker
    assert "egress udp/53 to 192.0.2.53/32 (IPv4)" in worker
    assert "egress tcp/443 to 198.51.100.0/24 (IPv4)" in worker
    assert "egress tcp/6443 to group c1-control_plane (IPv4)" in worker
    assert "egress tcp/10250 to group c1-worker (IPv6)" in worker


def test_rendered_groups_pass_the_lint_and_every_rule_is_unique():
    groups = render(cluster())
    assert pm.lint(R.lint_entries(groups)) == []
    for group in groups:
        keys = [R.rule_key(r) for r in group.rules]
        assert len(keys) == len(set(keys)), group.name


def test_lint_violation_from_the_model_names_the_cluster_field():
    groups = render(cluster(loadbalancer={"api_cidrs": ["0.0.0.0/0"]}))
    problems = pm.lint(R.lint_entries(groups))
    assert sorted(set(p.field for p in problems)) == ["cluster.loadbalancer.api_cidrs"]
    assert sorted(set(p.message.split()[1] for p in problems)) == ["kube-apiserver", "talos-apid"]


def test_bad_cluster_fails_naming_the_field():
    with pytest.raises(NetsecError) as err:
        render(cluster(loadbalancer={"vrrp_addresses": ["198.18.1.300"]}))
    assert err.value.field == "cluster.loadbalancer.vrrp_addresses[0]"


def test_benchmark_sized_environment_is_about_two_hundred_rules():
    spec = cluster(talos={"kubespan": True}, loadbalancer={"api_cidrs": ["198.51.100.0/24", "2001:db8:7::/48"]},
                   egress={"restrict": ["control_plane", "worker"], "dns": ["192.0.2.53", "2001:db8::53"],
                           "ntp": ["192.0.2.123"], "registries": ["198.51.100.10", "2001:db8:1::10"]})
    total = sum(len(g.rules) for g in render(spec))
    assert 150 <= total <= 260


# --- CIDR sets as Neutron address groups (cluster_address_groups) ---------------------------

from ansible_collections.safespring.netsec.plugins.module_utils.openstack.render import render_address_groups  # noqa: E402

AG_CLUSTER = {"name": "c1", "ip_versions": [4, 6],
              "loadbalancer": {"bgp_peers": ["192.0.2.1", "192.0.2.2", "2001:db8::1"], "api_cidrs": ["198.51.100.0/24"]},
              "jump_host": {"admin_cidrs": ["192.0.2.0/28", "198.18.0.7/24", "2001:db8:5::/64"]}}


def test_large_cidr_sets_become_one_rule_per_service_and_family_on_an_address_group():
    groups = render(AG_CLUSTER, address_groups=True)
    assert lines(groups, "c1-jump_host")[:2] == ["ingress tcp/22 from address group c1-admin_cidrs (IPv4)",
                                                 "ingress tcp/22 from address group c1-admin_cidrs (IPv6)"]
    lb = lines(groups, "c1-loadbalancer")
    assert "ingress tcp/179 from address group c1-bgp_peers (IPv6)" in lb
    assert "ingress udp/4784 from address group c1-bgp_peers (IPv4)" in lb
    # api_cidrs holds IPv4 only: no IPv6 rule for it.
    assert [x for x in lb if "c1-api_cidrs" in x] == [
        "ingress tcp/6443 from address group c1-api_cidrs (IPv4)", "ingress tcp/50000 from address group c1-api_cidrs (IPv4)"]
    for group in groups:
        for rule in group.rules:
            assert rule.remote_ip_prefix is None or rule.remote_ip_prefix in ("0.0.0.0/0", "::/0"), (group.name, rule)
    # Off (the default): the same sets are one rule per CIDR, as before.
    assert sum(1 for x in lines(render(AG_CLUSTER), "c1-jump_host") if x.startswith("ingress tcp/22 from ")) == 3


def test_rendered_address_groups_hold_the_sets_normalised_with_the_field_each_cidr_was_written_at():
    ags = dict((a.name, a) for a in render_address_groups(AG_CLUSTER))
    assert sorted(ags) == ["c1-admin_cidrs", "c1-api_cidrs", "c1-bgp_peers"]
    admin = ags["c1-admin_cidrs"]
    assert admin.addresses == ["192.0.2.0/28", "198.18.0.0/24", "2001:db8:5::/64"] and admin.state == "present"
    assert admin.fields["198.18.0.0/24"] == "cluster.jump_host.admin_cidrs[1]"
    assert ags["c1-bgp_peers"].fields["2001:db8::1/128"] == "cluster.loadbalancer.bgp_peers[2]"
    # Only the families the cluster opens, and only sets a rendered flow uses.
    v4 = dict(AG_CLUSTER, ip_versions=[4], loadbalancer=dict(AG_CLUSTER["loadbalancer"], ha_mode="vrrp"))
    ags = dict((a.name, a) for a in render_address_groups(v4, cluster_field="clusters[2]"))
    assert sorted(ags) == ["c1-admin_cidrs", "c1-api_cidrs"]  # no BGP in VRRP mode
    assert ags["c1-admin_cidrs"].addresses == ["192.0.2.0/28", "198.18.0.0/24"]
    assert ags["c1-admin_cidrs"].field == "clusters[2].jump_host.admin_cidrs"
