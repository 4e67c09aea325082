# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One lint-entry builder for desired rules (the module) and live rules (verify's PERIM-03)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

import pytest
from fixtures.exposure import narrow_set, world_split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R

RULES = [
    {"protocol": "tcp", "port": 6443, "remote_ip_prefix": "198.51.100.0/24"},
    {"protocol": "tcp", "port": 6443},
    {"protocol": "tcp", "port": 6443, "ethertype": "IPv6"},
    {"protocol": "tcp", "port": "2379-2380", "remote_group": "cp"},
    {"protocol": "any", "remote_ip_prefix": "::/0"},
    {"protocol": "icmp", "port_range_min": 8, "remote_ip_prefix": "0.0.0.0/0"},
    {"protocol": "udp", "port": "1-65535", "remote_ip_prefix": "10.0.0.0/8"},
    {"direction": "egress"},
]


def desired_and_live(raw_rules, group="cp"):
    """The same rules as the module parses them and as Neutron returns them after a sync."""
    desired = R.parse_groups([{"name": group, "rules": raw_rules}])
    ids = {group: "id-" + group}
    api_rules = []
    for j, rule in enumerate(desired[0].rules):
        body = R.api_body(rule, ids[group], ids)
        body.setdefault("remote_ip_prefix", None)
        body["id"] = "r%d" % j
        api_rules.append(body)
    live = [{"id": ids[group], "name": group, "security_group_rules": api_rules}]
    return desired, live


def without_field(entries):
    return [dict((k, v) for k, v in e.items() if k != "field") for e in entries]


def test_desired_and_live_give_the_same_entries_for_the_same_rules():
    desired, live = desired_and_live(RULES)
    from_desired = R.lint_entries(desired)
    from_live = R.live_lint_entries(live)
    assert without_field(from_desired) == without_field(from_live)
    assert [e["field"] for e in from_desired] == ["security_groups[0].rules[%d]" % j for j in range(len(RULES))]
    assert from_live[1]["field"] == "cp: ingress tcp/6443 from any (IPv4)"


def test_no_remote_prefix_and_no_remote_group_is_any_source_and_flagged_live():
    # Neutron applies such a rule to every source: the live audit missed it before.
    live = [{"id": "g", "name": "edge", "security_group_rules": [
        {"id": "x", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
         "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": None, "remote_group_id": None}]}]
    entries = R.live_lint_entries(live)
    assert entries[0]["remote"] == pm.ANY_SOURCE and entries[0]["families"] == (4,)
    problems = pm.lint(entries)
    assert [(p.field, p.message) for p in problems] == [
        ("edge: ingress tcp/6443 from any (IPv4)", "opens kube-apiserver (tcp/6443) to any (all of IPv4)")]


def test_remote_group_rules_are_not_address_sources():
    desired, live = desired_and_live([{"protocol": "tcp", "port": 2379, "remote_group": "cp"}])
    assert R.lint_entries(desired)[0]["remote"] is None
    live[0]["security_group_rules"].append({"id": "y", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                                            "port_range_min": 10250, "port_range_max": 10250, "remote_group_id": "other"})
    assert [e["remote"] for e in R.live_lint_entries(live)] == [None, None]
    assert pm.lint(R.live_lint_entries(live)) == []


@pytest.mark.parametrize("protocol", [None, "0", "any"])
def test_a_live_protocol_meaning_any_opens_every_sensitive_service(protocol):
    live = [{"id": "g", "name": "dbg", "security_group_rules": [
        {"id": "x", "direction": "ingress", "ethertype": "IPv6", "protocol": protocol, "remote_ip_prefix": "2000::/3"}]}]
    problems = pm.lint(R.live_lint_entries(live))
    assert sorted(p.message.split(" ")[1] for p in problems) == sorted(pm.SENSITIVE_SERVICES)


def test_waiver_scope_is_the_group_for_desired_and_live_alike():
    desired, live = desired_and_live([{"protocol": "tcp", "port": 6443, "remote_ip_prefix": "0.0.0.0/0"}], group="edge")
    waivers = [{"name": "public-api", "service": "kube-apiserver", "scope": "edge", "reason": "public API"}]
    assert pm.lint(R.lint_entries(desired), waivers) == [] and pm.lint(R.live_lint_entries(live), waivers) == []
    other = [dict(waivers[0], scope="elsewhere")]
    assert len(pm.lint(R.lint_entries(desired), other)) == 1 and len(pm.lint(R.live_lint_entries(live), other)) == 1


# --- property: coverage, not spelling -------------------------------------------------------

def rules_on_6443(cidrs):
    return [{"protocol": "tcp", "port": 6443, "remote_ip_prefix": c} for c in cidrs]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world_split())
def test_any_split_of_the_world_is_flagged_desired_and_live(cidrs):
    desired, live = desired_and_live(rules_on_6443(cidrs))
    for entries in (R.lint_entries(desired), R.live_lint_entries(live)):
        problems = pm.lint(entries)
        assert len(problems) == 1 and "kube-apiserver" in problems[0].message and "all of IPv" in problems[0].message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(narrow_set())
def test_sets_narrower_than_the_limit_are_never_flagged(cidrs):
    desired, live = desired_and_live(rules_on_6443(cidrs))
    assert pm.lint(R.lint_entries(desired)) == [] and pm.lint(R.live_lint_entries(live)) == []


@st.composite
def raw_rule(draw):
    """A valid user rule of any shape the module accepts."""
    rule = {"direction": draw(st.sampled_from(["ingress", "egress"])),
            "protocol": draw(st.sampled_from(["tcp", "udp", "any", "icmp", "vrrp", "6", "sctp"]))}
    if rule["protocol"] in ("tcp", "udp", "6", "sctp") and draw(st.booleans()):
        low = draw(st.integers(min_value=1, max_value=65535))
        rule["port"] = "%d-%d" % (low, draw(st.integers(min_value=low, max_value=65535)))
    remote = draw(st.sampled_from(["none", "cidr", "group"]))
    if remote == "cidr":
        rule["remote_ip_prefix"] = draw(st.sampled_from(["0.0.0.0/0", "::/0", "10.1.2.3/8", "2000::/3", "192.0.2.7", "fd00::/1"]))
    elif remote == "group":
        rule["remote_group"] = "cp"
    if remote != "cidr" and draw(st.booleans()):
        rule["ethertype"] = "IPv6"
    return rule


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(raw_rule(), min_size=1, max_size=12))
def test_desired_and_live_entries_and_verdicts_agree_for_any_rules(raw_rules):
    desired, live = desired_and_live(raw_rules)
    from_desired, from_live = R.lint_entries(desired), R.live_lint_entries(live)
    assert without_field(from_desired) == without_field(from_live)
    # The verdicts match; only the field names (input path vs `<group>: <rule>`) differ.
    assert verdicts(pm.lint(from_desired)) == verdicts(pm.lint(from_live))


def verdicts(problems):
    return sorted(re.sub(r"; together with .*\)$", ")", p.message) for p in problems)
