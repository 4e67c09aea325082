# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security-group rules: normalisation, identity, the pure plan and its diff."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R

GROUPS = ("c1-worker", "c1-loadbalancer")


def norm(**raw):
    return R.normalize_rule(raw, "rules[0]", GROUPS)


def key(**raw):
    return R.rule_key(norm(**raw))


def api(rule_id, **fields):
    base = {"id": rule_id, "direction": "ingress", "ethertype": "IPv4", "protocol": None, "port_range_min": None,
            "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": None, "description": ""}
    base.update(fields)
    return base


def group(name, rules, state="present", **attrs):
    parsed = [R.normalize_rule(r, "x", GROUPS + (name,)) for r in rules]
    return R.DesiredGroup(name, state, attrs.get("description"), attrs.get("stateful"), attrs.get("tags"), parsed,
                          "security_groups[0]", None)


# --- normalisation ----------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ({"protocol": "tcp", "port": 443, "remote_ip_prefix": "10.1.2.3/8"}, {"protocol": "6", "port_range_min": 443, "remote_ip_prefix": "10.0.0.0/8"}),
    ({"protocol": "vrrp"}, {"protocol": 112}),
    ({"protocol": "any"}, {"protocol": None}),
    ({"protocol": -1}, {}),
    ({"protocol": "tcp", "port": "any"}, {"protocol": "tcp", "port_range_min": -1, "port_range_max": -1}),
    ({"protocol": "tcp", "port": "1-65535"}, {"protocol": "tcp"}),
    ({"protocol": "icmp", "ethertype": "IPv6"}, {"protocol": "ipv6-icmp", "ethertype": "ipv6"}),
    ({"protocol": "icmpv6", "remote_ip_prefix": "::/0"}, {"protocol": 58, "ethertype": "IPv6"}),
    ({"remote_ip_prefix": "0.0.0.0/0"}, {"ethertype": "IPv4"}),
    ({"protocol": "udp", "port": "30000-32767"}, {"protocol": "UDP", "port_range_min": "30000", "port_range_max": 32767}),
])
def test_equivalent_spellings_have_one_identity(a, b):
    assert key(**a) == key(**b)


@pytest.mark.parametrize("a, b", [
    ({"protocol": "tcp", "port": 443}, {"protocol": "udp", "port": 443}),
    ({"protocol": "tcp", "port": 443}, {"protocol": "tcp", "port": 443, "direction": "egress"}),
    ({"remote_ip_prefix": "10.0.0.0/8"}, {"remote_ip_prefix": "10.0.0.0/16"}),
    ({"remote_group": "c1-worker"}, {"remote_group": "c1-loadbalancer"}),
    ({"ethertype": "IPv4"}, {"ethertype": "IPv6"}),
    ({"protocol": "icmp", "port_range_min": 8}, {"protocol": "icmp", "port_range_min": 8, "port_range_max": 0}),
])
def test_different_rules_have_different_identities(a, b):
    assert key(**a) != key(**b)


def test_ethertype_follows_the_cidr_and_the_cidr_is_its_network():
    rule = norm(remote_ip_prefix="2001:db8::1/64")
    assert (rule.ethertype, rule.remote_ip_prefix) == ("IPv6", "2001:db8::/64")


def test_icmp_type_and_code_travel_in_the_port_fields():
    rule = norm(protocol="icmp", port_range_min=3, port_range_max=4)
    assert (rule.port_range_min, rule.port_range_max) == (3, 4)
    assert R.describe(rule) == "ingress icmp type 3 code 4 from any (IPv4)"


def test_single_port_sets_max_to_min():
    assert norm(protocol="tcp", port_range_min=22)[3:5] == (22, 22)


@pytest.mark.parametrize("raw, field, words", [
    ({"protocol": "tcp", "port_range_min": 70000}, "rules[0].port_range_min", "not a port"),
    ({"protocol": "tcp", "port_range_min": 0}, "rules[0].port_range_min", "not a port"),
    ({"protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, "rules[0].port_range_min", "above"),
    ({"protocol": "tcp", "port_range_max": 80}, "rules[0].port_range_min", "without"),
    ({"protocol": "tcp", "port": "80-"}, "rules[0].port", "not a port"),
    ({"protocol": "tcp", "port_range_min": "http"}, "rules[0].port_range_min", "not a port"),
    ({"protocol": "tpc"}, "rules[0].protocol", "not a known protocol"),
    ({"protocol": 300}, "rules[0].protocol", "not a known protocol"),
    ({"protocol": "vrrp", "port": 112}, "rules[0].port", "no ports"),
    ({"port": 22}, "rules[0].port", "no ports"),
    # Errors name the key that was written (issue 18, defect 4).
    ({"protocol": "tcp", "port": 70000}, "rules[0].port", "70000 is not a port"),
    ({"protocol": "tcp", "port": "90-80"}, "rules[0].port", "'90-80' runs from high to low"),
    ({"ether_type": "IPv5"}, "rules[0].ether_type", "not IPv4 or IPv6"),
    ({"remote_ip_prefix": "10.0.0.0/8", "ether_type": "IPv6"}, "rules[0].ether_type", "contradicts"),
    ({"protocol": "icmp", "port_range_min": 256}, "rules[0].port_range_min", "ICMP type"),
    ({"protocol": "icmp", "port_range_max": 0}, "rules[0].port_range_min", "needs a type"),
    ({"remote_ip_prefix": "10.0.0.300/8"}, "rules[0].remote_ip_prefix", "not an IPv4/IPv6"),
    ({"remote_ip_prefix": "10.0.0.0/8", "ethertype": "IPv6"}, "rules[0].ethertype", "contradicts"),
    ({"remote_group": "c2-worker"}, "rules[0].remote_group", "not a group of this environment"),
    ({"remote_group": "c1-worker", "remote_ip_prefix": "10.0.0.0/8"}, "rules[0].remote_group", "mutually exclusive"),
    ({"direction": "inbound"}, "rules[0].direction", "not ingress or egress"),
    ({"protocol": "ipv6-icmp", "ethertype": "IPv4"}, "rules[0].protocol", "IPv6 protocol"),
    ({"portt": 22}, "rules[0]", "unknown key"),
])
def test_bad_rules_fail_naming_the_field(raw, field, words):
    with pytest.raises(NetsecError) as err:
        R.normalize_rule(raw, "rules[0]", GROUPS)
    assert err.value.field == field
    assert words in err.value.message


def test_parse_groups_names_nested_fields():
    groups = [{"name": "a", "rules": []}, {"name": "b", "rules": []},
              {"name": "c", "rules": [{}, {}, {}, {}, {}, {"protocol": "tcp", "port_range_min": 70000}]}]
    with pytest.raises(NetsecError) as err:
        R.parse_groups(groups)
    assert str(err.value).startswith("security_groups[2].rules[5].port_range_min: 70000 is not a port (1-65535)")


def test_parse_groups_refuses_a_name_listed_twice_and_a_reference_to_an_absent_group():
    with pytest.raises(NetsecError) as err:
        R.parse_groups([{"name": "a"}, {"name": "a"}])
    assert err.value.field == "security_groups[1].name"
    with pytest.raises(NetsecError) as err:
        R.parse_groups([{"name": "a", "state": "absent"}, {"name": "b", "rules": [{"remote_group": "a"}]}])
    assert err.value.field == "security_groups[1].rules[0].remote_group"


def test_rule_with_no_remote_is_linted_as_open_to_the_world():
    groups = R.parse_groups([{"name": "cp", "rules": [
        {"protocol": "tcp", "port": 2379}, {"protocol": "tcp", "port": 2379, "ethertype": "IPv6"},
        {"protocol": "tcp", "port": 2379, "remote_group": "cp"}]}])
    problems = pm.lint(R.lint_entries(groups))
    assert [(p.field, p.message) for p in problems] == [
        ("security_groups[0].rules[0]", "opens etcd (tcp/2379-2380) to any (all of IPv4)"),
        ("security_groups[0].rules[1]", "opens etcd (tcp/2379-2380) to any (all of IPv6)"),
    ]


# --- plan ---------------------------------------------------------------------------------------

def live_group(gid, name, rules, **attrs):
    return dict({"id": gid, "name": name, "description": "", "stateful": True, "tags": [], "security_group_rules": rules}, **attrs)


def test_plan_keeps_matching_rules_creates_missing_deletes_unwanted():
    desired = [group("c1-worker", [{"protocol": "tcp", "port": 10250, "remote_group": "c1-worker"},
                                   {"protocol": "tcp", "port": 22, "remote_ip_prefix": "192.0.2.0/28"}])]
    live = {"c1-worker": live_group("w", "c1-worker", [
        api("r1", protocol="tcp", port_range_min=10250, port_range_max=10250, remote_group_id="w"),
        api("r2", protocol="tcp", port_range_min=23, port_range_max=23, remote_ip_prefix="192.0.2.0/28"),
    ])}
    gp = R.plan(desired, live).group("c1-worker")
    assert [r.port_range_min for r in gp.to_create] == [22]
    assert [a["id"] for a, dummy_rule in gp.to_delete] == ["r2"]
    assert [a["id"] for a, dummy_rule in gp.keep] == ["r1"]


def test_rerun_against_what_neutron_stores_plans_nothing():
    desired = [group("g", [{"protocol": "vrrp", "remote_group": "g"}, {"protocol": "tcp", "port": "1-65535"},
                           {"protocol": "icmp", "ethertype": "IPv6"}, {"remote_ip_prefix": "10.1.2.3/8"},
                           {"direction": "egress", "ethertype": "IPv4"}])]
    live = {"g": live_group("gid", "g", [
        api("a", protocol="112", remote_group_id="gid"), api("b", protocol="tcp"),
        api("c", protocol="ipv6-icmp", ethertype="IPv6"), api("d", remote_ip_prefix="10.1.2.3/8"),
        api("e", direction="egress"),
    ])}
    plan = R.plan(desired, live)
    assert not plan.changed
    assert plan.diff() == []


def test_live_duplicates_are_cleaned_up_keeping_one():
    desired = [group("g", [{"remote_ip_prefix": "10.0.0.0/8"}])]
    live = {"g": live_group("gid", "g", [api("a", remote_ip_prefix="10.0.0.0/8"), api("b", remote_ip_prefix="10.1.2.3/8")])}
    gp = R.plan(desired, live).group("g")
    assert [a["id"] for a, dummy_rule in gp.keep] == ["a"]
    assert [a["id"] for a, dummy_rule in gp.duplicates] == ["b"]
    assert gp.to_create == [] and gp.changed


def test_protected_rules_are_never_deleted_but_drift_is():
    protected = R.compile_protected({"descriptions": ["^platform:"], "tags": ["keep"]})
    desired = [group("g", [])]
    live = {"g": live_group("gid", "g", [api("p1", description="platform: monitoring"), api("p2", description="ops [keep]", protocol="udp"),
                                         api("drift", protocol="tcp", port_range_min=22, port_range_max=22)])}
    gp = R.plan(desired, live, protected).group("g")
    assert sorted(a["id"] for a, dummy_rule in gp.protected) == ["p1", "p2"]
    assert [a["id"] for a, dummy_rule in gp.to_delete] == ["drift"]


@pytest.mark.parametrize("markers, field, words", [
    ({"description": ["^platform:"]}, "protected_rules", "unknown key(s) description (known keys: descriptions, tags)"),
    ({"descriptions": ["x"], "tag": ["keep"]}, "protected_rules", "unknown key(s) tag (known keys: descriptions, tags)"),
    ({"descriptions": "^platform:"}, "protected_rules.descriptions", "must be a list of strings"),
    ({"tags": ["keep", 3]}, "protected_rules.tags[1]", "3 is not a non-empty string"),
    (["^platform:"], "protected_rules", "must be a mapping"),
])
def test_misspelled_or_mistyped_protected_rules_are_refused_naming_the_key(markers, field, words):
    # A typo would otherwise protect nothing, and exclusive sync would delete the rules it meant to keep.
    with pytest.raises(NetsecError) as err:
        R.compile_protected(markers)
    assert err.value.field == field and words in str(err.value)


def test_empty_protected_rules_protect_nothing():
    for markers in (None, {}, {"descriptions": [], "tags": []}):
        assert R.compile_protected(markers)({"description": "anything [keep]"}) is False


def test_protected_copy_is_the_one_kept_among_duplicates():
    protected = R.compile_protected({"descriptions": ["keep me"]})
    desired = [group("g", [{"remote_ip_prefix": "10.0.0.0/8"}])]
    live = {"g": live_group("gid", "g", [api("a", remote_ip_prefix="10.0.0.0/8"), api("b", remote_ip_prefix="10.0.0.1/8", description="keep me")])}
    gp = R.plan(desired, live, protected).group("g")
    assert [a["id"] for a, dummy_rule in gp.keep] == ["b"]
    assert [a["id"] for a, dummy_rule in gp.duplicates] == ["a"]


def test_new_group_plan_accounts_for_the_rules_neutron_gives_it():
    defaults = [api(None, direction="egress", ethertype="IPv4"), api(None, direction="egress", ethertype="IPv6")]
    desired = [group("g", [{"protocol": "tcp", "port": 22}, {"direction": "egress", "ethertype": "IPv4"}])]
    gp = R.plan(desired, {}, new_group_rules=defaults).group("g")
    assert gp.create_group
    assert [R.describe(r) for r in gp.to_create] == ["ingress tcp/22 from any (IPv4)"]
    assert [R.describe(r) for dummy_live, r in gp.to_delete] == ["egress any to any (IPv6)"]


def test_groups_referencing_each_other_compare_by_name_not_id():
    desired = [group("c1-worker", [{"remote_group": "c1-loadbalancer"}]), group("c1-loadbalancer", [{"remote_group": "c1-worker"}])]
    live = {"c1-worker": live_group("W", "c1-worker", [api("1", remote_group_id="L")]),
            "c1-loadbalancer": live_group("L", "c1-loadbalancer", [api("2", remote_group_id="W")])}
    assert not R.plan(desired, live).changed


def test_group_attributes_and_tags_are_updated_only_when_given_and_different():
    live = {"g": live_group("gid", "g", [], description="old", tags=["b", "a"])}
    assert not R.plan([group("g", [])], live).changed
    assert not R.plan([group("g", [], tags=["a", "b"], description="old", stateful=True)], live).changed
    gp = R.plan([group("g", [], tags=["a"], description="new", stateful=False)], live).group("g")
    assert gp.update == {"description": "new", "stateful": False}
    assert gp.set_tags == ["a"]


def test_absent_group_is_deleted_and_missing_absent_group_is_no_change():
    live = {"g": live_group("gid", "g", [api("x")])}
    assert R.plan([group("g", [], state="absent")], live).group("g").delete_group
    assert not R.plan([group("h", [], state="absent")], live).changed


def test_diff_shows_readable_before_and_after_lines_per_changed_group():
    desired = [group("c1-worker", [{"protocol": "tcp", "port": 6443, "remote_group": "c1-loadbalancer"},
                                   {"protocol": "tcp", "port": 6443, "remote_group": "c1-loadbalancer", "ethertype": "IPv6"}]),
               group("c1-loadbalancer", [])]
    live = {"c1-worker": live_group("W", "c1-worker", [api("1", protocol="tcp", port_range_min=6443, port_range_max=6443, remote_group_id="L")]),
            "c1-loadbalancer": live_group("L", "c1-loadbalancer", [])}
    diff = R.plan(desired, live).diff()
    assert diff == [{
        "before_header": "security group c1-worker", "after_header": "security group c1-worker",
        "before": "ingress tcp/6443 from group c1-loadbalancer (IPv4)\n",
        "after": "ingress tcp/6443 from group c1-loadbalancer (IPv4)\ningress tcp/6443 from group c1-loadbalancer (IPv6)\n",
    }]


def test_api_body_resolves_remote_groups_and_omits_nulls():
    rule = norm(protocol="tcp", port=443, remote_group="c1-worker", description="x")
    assert R.api_body(rule, "G", {"c1-worker": "W"}) == {
        "security_group_id": "G", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 443, "port_range_max": 443, "remote_group_id": "W", "description": "x"}
    assert R.api_body(norm(protocol=112), "G", {})["protocol"] == "vrrp"
    assert R.api_body(norm(protocol=200), "G", {})["protocol"] == "200"


def test_merge_adds_user_rules_to_a_rendered_group_and_keeps_their_fields():
    rendered = [R.DesiredGroup("c1-worker", "present", "d", None, None, [norm(protocol="tcp", port=1)], "cluster.worker", ["cluster.flows.x"])]
    user = R.parse_groups([{"name": "c1-worker", "rules": [{"protocol": "tcp", "port": 2}]}, {"name": "other"}])
    merged = R.merge_groups(rendered, user)
    assert [g.name for g in merged] == ["c1-worker", "other"]
    assert [merged[0].rule_field(j) for j in range(2)] == ["cluster.flows.x", "security_groups[0].rules[0]"]


# --- remote_group_id references (issue 18, defects 1 and 2) -------------------------------

def test_remote_group_id_of_an_environment_group_compares_as_its_name():
    rule = api("r1", protocol="tcp", port_range_min=22, port_range_max=22, remote_group_id="W")
    live = {"c1-worker": {"id": "W", "security_group_rules": [rule]}}
    desired = [group("c1-worker", [{"protocol": "tcp", "port": 22, "remote_group_id": "W"}])]
    assert R.external_remote_ids(desired, live) == []
    resolved = R.resolve_remote_ids(desired, live, set())
    assert resolved[0].rules[0].remote_group == "c1-worker" and resolved[0].rules[0].remote_group_id is None
    assert not R.plan(resolved, live).changed


def test_unknown_remote_group_id_is_refused_naming_the_rule():
    desired = [group("c1-worker", [{"protocol": "tcp", "port": 22}, {"protocol": "tcp", "port": 22, "remote_group_id": "X"}])]
    assert R.external_remote_ids(desired, {}) == ["X"]
    assert R.resolve_remote_ids(desired, {}, {"X"})[0].rules[1].remote_group_id == "X"
    with pytest.raises(NetsecError) as exc:
        R.resolve_remote_ids(desired, {}, set())
    assert exc.value.field == "security_groups[0].rules[1].remote_group_id" and "no security group has the id X" in str(exc.value)
