# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' input side (everything that happens before the first API call) and the
address-pair plan."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.modules import port_address_pairs as pap
from ansible_collections.safespring.netsec.plugins.modules.security_group import desired_from_params


def params(**kw):
    base = {"security_groups": [], "cluster": None, "waivers": [], "protected_rules": {}}
    base.update(kw)
    return base


def test_cluster_renders_groups_and_user_rules_join_the_rendered_group():
    groups, dummy_protected = desired_from_params(params(
        cluster={"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/28"]}},
        security_groups=[{"name": "c1-loadbalancer", "rules": [{"protocol": "tcp", "port": 8443, "remote_ip_prefix": "198.51.100.0/24"}],
                          "tags": ["env=lab"], "description": None, "stateful": None, "state": "present"}]))
    names = [g.name for g in groups]
    assert names == ["c1-control_plane", "c1-worker", "c1-loadbalancer", "c1-jump_host"]
    lb = groups[2]
    assert lb.tags == ["env=lab"]
    assert lb.rules[-1].port_range_min == 8443 and lb.rule_field(len(lb.rules) - 1) == "security_groups[0].rules[0]"


def test_lint_violation_names_the_field_and_lists_the_others():
    with pytest.raises(NetsecError) as err:
        desired_from_params(params(security_groups=[{"name": "g", "rules": [
            {"protocol": "tcp", "port": 6443, "remote_ip_prefix": "0.0.0.0/0"},
            {"protocol": "tcp", "port": 2379}]}]))
    assert err.value.field == "security_groups[0].rules[0]"
    assert "opens kube-apiserver" in str(err.value) and "and 1 more" in str(err.value) and "etcd" in str(err.value)


def test_named_waiver_scoped_to_the_group_lets_the_rule_through():
    waiver = {"name": "demo-api", "service": "kube-apiserver", "scope": "g", "reason": "public demo"}
    groups, dummy_protected = desired_from_params(params(security_groups=[{"name": "g", "rules": [
        {"protocol": "tcp", "port": 6443, "remote_ip_prefix": "0.0.0.0/0"}]}], waivers=[waiver]))
    assert len(groups[0].rules) == 1
    with pytest.raises(NetsecError):
        desired_from_params(params(security_groups=[{"name": "h", "rules": [
            {"protocol": "tcp", "port": 6443, "remote_ip_prefix": "0.0.0.0/0"}]}], waivers=[waiver]))


def test_user_rule_may_reference_a_rendered_group_but_not_an_unknown_one():
    cluster = {"name": "c1"}
    desired_from_params(params(cluster=cluster, security_groups=[{"name": "extra", "rules": [{"remote_group": "c1-worker"}]}]))
    with pytest.raises(NetsecError) as err:
        desired_from_params(params(cluster=cluster, security_groups=[{"name": "extra", "rules": [{"remote_group": "c2-worker"}]}]))
    assert err.value.field == "security_groups[0].rules[0].remote_group"


def test_bad_protected_pattern_and_empty_input_fail_naming_the_field():
    with pytest.raises(NetsecError) as err:
        desired_from_params(params(security_groups=[{"name": "g"}], protected_rules={"descriptions": ["("]}))
    assert err.value.field == "protected_rules.descriptions[0]"
    with pytest.raises(NetsecError) as err:
        desired_from_params(params(security_groups=[{"name": "g"}], protected_rules={"description": ["^platform:"]}))
    assert str(err.value) == "protected_rules: unknown key(s) description (known keys: descriptions, tags)"
    with pytest.raises(NetsecError) as err:
        desired_from_params(params())
    assert err.value.field == "security_groups"


PORT = {"id": "p1", "mac_address": "FA:16:3E:00:00:01", "allowed_address_pairs": [{"ip_address": "10.0.0.5", "mac_address": "fa:16:3e:00:00:01"}]}


def test_address_pairs_are_added_once_normalised_and_other_pairs_kept():
    wanted = pap.parse_pairs(["198.18.1.100/32"])
    new = pap.plan_port(PORT, wanted, "present", exclusive=False)
    assert new == [{"ip_address": "10.0.0.5", "mac_address": "fa:16:3e:00:00:01"},
                   {"ip_address": "198.18.1.100", "mac_address": "fa:16:3e:00:00:01"}]
    assert pap.plan_port(dict(PORT, allowed_address_pairs=new), wanted, "present", exclusive=False) is None


def test_address_pairs_exclusive_and_absent():
    wanted = pap.parse_pairs([{"ip_address": "198.18.1.100"}])
    assert pap.plan_port(PORT, wanted, "present", exclusive=True) == [{"ip_address": "198.18.1.100", "mac_address": "fa:16:3e:00:00:01"}]
    assert pap.plan_port(PORT, pap.parse_pairs(["10.0.0.5"]), "absent", exclusive=False) == []
    assert pap.plan_port(PORT, wanted, "absent", exclusive=False) is None


def test_address_pair_input_errors_name_the_field():
    with pytest.raises(NetsecError) as err:
        pap.parse_pairs([{"ip_address": "198.18.1.300"}])
    assert err.value.field == "addresses[0].ip_address"
    with pytest.raises(NetsecError) as err:
        pap.parse_pairs([{"ip": "198.18.1.1"}])
    assert err.value.field == "addresses[0]"


def test_cluster_address_groups_render_the_sets_and_the_lint_names_the_cidr_in_the_spec():
    from ansible_collections.safespring.netsec.plugins.modules.security_group import parse_params

    spec = {"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/28", "198.18.0.0/24"]},
            "loadbalancer": {"api_cidrs": ["198.51.100.0/24"]}}
    groups, dummy, ags = parse_params(params(cluster=spec, cluster_address_groups=True))
    assert [a.name for a in ags] == ["c1-api_cidrs", "c1-bgp_peers", "c1-admin_cidrs"]
    jump = [g for g in groups if g.name == "c1-jump_host"][0]
    # Two IPv4 admin ranges: one IPv4 rule on their address group (no IPv6 rule for an IPv4-only set).
    assert [(r.ethertype, r.remote_address_group) for r in jump.rules if r.port_range_min == 22] == [("IPv4", "c1-admin_cidrs")]
    # Off: no address group, one rule per CIDR.
    groups, dummy, ags = parse_params(params(cluster=spec))
    assert ags == [] and all(r.remote_address_group is None for g in groups for r in g.rules)
    with pytest.raises(NetsecError) as err:
        parse_params(params(cluster=dict(spec, loadbalancer={"api_cidrs": ["198.51.100.0/24", "0.0.0.0/0"]}),
                            cluster_address_groups=True))
    assert err.value.field == "cluster.loadbalancer.api_cidrs[1]" and "kube-apiserver" in str(err.value)
    with pytest.raises(NetsecError) as err:
        parse_params(params(cluster=spec, cluster_address_groups=True, address_groups=[{"name": "c1-admin_cidrs"}]))
    assert err.value.field == "address_groups[0].name" and "cluster.jump_host.admin_cidrs" in str(err.value)
