# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Address groups: parse, plan (add/remove addresses, never a rule) and the lint judging them by their addresses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import address_groups as AG
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R


def groups_on(port, ag="admins", ethertype="IPv4"):
    return R.parse_groups([{"name": "jump", "rules": [
        {"protocol": "tcp", "port": port, "remote_address_group": ag, "ethertype": ethertype}]}], address_group_names=[ag])


def test_addresses_are_normalised_like_neutron_and_repeats_dropped():
    (ag,) = AG.parse([{"name": "admins", "addresses": ["10.1.2.3/8", "192.0.2.9", "10.0.0.0/8", "2001:db8::1/64"]}])
    assert ag.addresses == ["10.0.0.0/8", "192.0.2.9/32", "2001:db8::/64"]
    assert ag.fields["192.0.2.9/32"] == "address_groups[0].addresses[1]"


@pytest.mark.parametrize("raw, field", [
    ([{"name": "a", "addresses": ["10.0.0/33"]}], "address_groups[0].addresses[0]"),
    ([{"name": "a", "addresses": [10]}], "address_groups[0].addresses[0]"),
    ([{"name": "a", "addresses": "10.0.0.0/8"}], "address_groups[0].addresses"),
    ([{"name": "a"}, {"name": "a"}], "address_groups[1].name"),
    ([{"name": "a\nb"}], "address_groups[0].name"),
    ([{"name": "a", "adresses": []}], "address_groups[0]"),
    ([{"name": "a", "state": "gone"}], "address_groups[0].state"),
])
def test_bad_address_groups_are_refused_naming_the_field(raw, field):
    with pytest.raises(NetsecError) as err:
        AG.parse(raw)
    assert err.value.field == field


def test_plan_adds_and_removes_addresses_in_neutrons_spelling():
    desired = AG.parse([{"name": "admins", "addresses": ["192.0.2.0/24", "198.51.100.7"]}])
    live = {"admins": {"id": "x", "addresses": ["192.0.2.0/24", "203.0.113.0/24"], "description": ""}}
    (ap,) = AG.plan(desired, live)
    assert (ap.add, ap.remove, ap.create, ap.delete, ap.update) == (["198.51.100.7/32"], ["203.0.113.0/24"], False, False, {})
    assert ap.diff()["before"] == "192.0.2.0/24\n203.0.113.0/24\n" and ap.diff()["after"] == "192.0.2.0/24\n198.51.100.7/32\n"
    (same,) = AG.plan(AG.parse([{"name": "admins", "addresses": ["203.0.113.9/24", "192.0.2.0/24"]}]), live)
    assert not same.changed


def test_a_rule_on_an_address_group_is_judged_by_its_addresses():
    admins = AG.lint_addresses(AG.parse([{"name": "admins", "addresses": ["198.18.2.0/24", "0.0.0.0/0", "::/0"]}]))
    problems = pm.lint(R.lint_entries(groups_on(6443), admins))
    assert [p.field for p in problems] == ["address_groups[0].addresses[1]"]
    assert problems[0].message.startswith("opens kube-apiserver (tcp/6443) to 0.0.0.0/0")
    # The rule's family picks: an IPv6 rule sees ::/0 only.
    assert [p.field for p in pm.lint(R.lint_entries(groups_on(6443, ethertype="IPv6"), admins))] == ["address_groups[0].addresses[2]"]
    assert pm.lint(R.lint_entries(groups_on(443), admins)) == []  # https to the world is allowed
    split = AG.lint_addresses(AG.parse([{"name": "admins", "addresses": ["0.0.0.0/1", "128.0.0.0/1"]}]))
    assert len(pm.lint(R.lint_entries(groups_on(10250), split))) == 1
    # Not read (unknown addresses): judged as any source, fail closed.
    assert len(pm.lint(R.lint_entries(groups_on(10250), {}))) == 1


def test_live_rules_on_address_groups_are_judged_by_the_address_groups_read():
    live = [{"id": "g", "name": "jump", "security_group_rules": [
        {"id": "r", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 2379,
         "port_range_max": 2379, "remote_address_group_id": "ag"}]}]
    assert pm.lint(R.live_lint_entries(live, address_groups=[{"id": "ag", "addresses": ["198.18.2.0/24"]}])) == []
    wide = pm.lint(R.live_lint_entries(live, address_groups=[{"id": "ag", "addresses": ["198.18.2.0/24", "0.0.0.0/0"]}]))
    assert [p.field for p in wide] == ["jump: ingress tcp/2379 from address group id ag (IPv4)"]
    assert len(pm.lint(R.live_lint_entries(live))) == 1  # address group not read: any source


def test_live_rule_on_an_address_group_of_the_environment_is_the_wanted_rule():
    desired = groups_on(22)
    aps = AG.plan(AG.parse([{"name": "admins", "addresses": ["192.0.2.0/24"]}]),
                  {"admins": {"id": "ag1", "addresses": ["192.0.2.0/24"]}})
    live = {"jump": {"id": "g", "security_group_rules": [
        {"id": "r", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
         "port_range_max": 22, "remote_address_group_id": "ag1"}]}}
    assert not R.plan(desired, live, address_groups=aps).changed
    body = R.api_body(desired[0].rules[0], "g", {}, {"admins": "ag1"})
    assert body["remote_address_group_id"] == "ag1" and "remote_ip_prefix" not in body
