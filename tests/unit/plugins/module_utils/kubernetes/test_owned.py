# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owned-set planning on live state shaped as an API server returns it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned

from fixtures.cilium import as_live, foreign

SET = "cilium-baseline"


def ccnp(name, port="6443", labels=None):
    obj = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name},
           "spec": {"nodeSelector": {"matchLabels": {"node-role.kubernetes.io/control-plane": ""}},
                    "ingress": [{"fromEntities": ["remote-node"], "toPorts": [{"ports": [{"port": port, "protocol": "TCP"}]}]}]}}
    if labels:
        obj["metadata"]["labels"] = labels
    return obj


def applied(obj, owned_set=SET):
    return as_live(owned.stamp(obj, owned_set))


def actions_by_name(actions):
    return dict((a.key.name, a.action) for a in actions)


def test_new_objects_are_created_with_owner_labels():
    actions = owned.plan([ccnp("a")], [], SET)
    assert [a.action for a in actions] == ["create"]
    labels = actions[0].desired["metadata"]["labels"]
    assert labels == {"app.kubernetes.io/managed-by": "safespring.netsec", "netsec.safespring.com/owned-set": SET}


def test_live_object_with_server_fields_and_status_is_unchanged():
    live = [applied(ccnp("a"))]
    assert actions_by_name(owned.plan([ccnp("a")], live, SET)) == {"a": "unchanged"}


def test_changed_port_is_an_update():
    live = [applied(ccnp("a", port="6443"))]
    actions = owned.plan([ccnp("a", port="50000")], live, SET)
    assert actions_by_name(actions) == {"a": "update"}
    assert actions[0].reasons == ["fields differ"]


def test_field_we_applied_before_and_no_longer_declare_is_an_update():
    before = ccnp("a")
    before["spec"]["description"] = "old text"
    actions = owned.plan([ccnp("a")], [applied(before)], SET)
    assert actions_by_name(actions) == {"a": "update"}
    assert "fields removed: spec.description" in actions[0].reasons


def test_label_added_by_another_manager_does_not_cause_an_update():
    live = applied(ccnp("a"))
    live["metadata"]["labels"]["team"] = "platform"  # added later with kubectl label
    assert actions_by_name(owned.plan([ccnp("a")], [live], SET)) == {"a": "unchanged"}


def test_owned_objects_no_longer_declared_are_pruned_foreign_ones_never():
    live = [applied(ccnp("keep")), applied(ccnp("gone")), foreign(ccnp("someone-elses"))]
    actions = owned.plan([ccnp("keep")], live, SET)
    assert actions_by_name(actions) == {"keep": "unchanged", "gone": "prune"}


def test_objects_of_another_owned_set_are_not_pruned():
    live = [applied(ccnp("x"), owned_set="namespace-policies")]
    assert owned.plan([], live, SET) == []


def test_prune_false_keeps_stale_owned_objects():
    assert owned.plan([], [applied(ccnp("gone"))], SET, prune=False) == []


def test_foreign_object_with_the_declared_name_is_a_conflict_not_an_update():
    live = [foreign(ccnp("a"))]
    with pytest.raises(NetsecError) as err:
        owned.plan([ccnp("b"), ccnp("a")], live, SET, field="policies")
    assert err.value.field == "policies[1]"
    assert "not managed by this collection" in str(err.value)


def test_object_owned_by_another_set_with_the_declared_name_is_a_conflict():
    live = [applied(ccnp("a"), owned_set="namespace-policies")]
    with pytest.raises(NetsecError, match="belongs to owned set 'namespace-policies'"):
        owned.plan([ccnp("a")], live, SET)


def test_foreign_look_alike_labels_do_not_make_an_object_ours():
    impostor = foreign(ccnp("a"))
    impostor["metadata"]["labels"] = {"netsec.safespring.com/owned-set": SET}  # managed-by missing
    with pytest.raises(NetsecError):
        owned.plan([ccnp("a")], [impostor], SET)
    assert owned.plan([], [impostor], SET) == []


def test_duplicate_declarations_are_refused():
    with pytest.raises(NetsecError, match="declared twice"):
        owned.plan([ccnp("a"), ccnp("a")], [], SET, field="policies")


def test_same_name_in_two_namespaces_is_two_objects():
    a = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "p", "namespace": "n1"}, "spec": {}}
    b = copy.deepcopy(a)
    b["metadata"]["namespace"] = "n2"
    assert [x.action for x in owned.plan([a, b], [], SET)] == ["create", "create"]


def test_invalid_owned_set_name_is_refused():
    with pytest.raises(NetsecError) as err:
        owned.plan([], [], "not a label!")
    assert err.value.field == "owned_set"


def test_diff_shows_normalised_before_and_after_for_changes_only():
    live = [applied(ccnp("a", port="6443")), applied(ccnp("same"))]
    entries = owned.diff(owned.plan([ccnp("a", port="50000"), ccnp("same")], live, SET))
    assert len(entries) == 1
    assert "managedFields" not in entries[0]["before"]["metadata"]
    assert "status" not in entries[0]["before"]
    assert entries[0]["after"]["spec"]["ingress"][0]["toPorts"][0]["ports"][0]["port"] == "50000"


def test_selector_lists_exactly_one_owned_set():
    assert owned.selector(SET) == "app.kubernetes.io/managed-by=safespring.netsec,netsec.safespring.com/owned-set=cilium-baseline"
