# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one delivery path, pure parts: parse, plan on a live state, result shape, redaction, render."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import delivery, owned

from fixtures.cilium import as_live

RBAC = "rbac.authorization.k8s.io/v1"


def np(name, namespace="shop", port=80):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": port}]}]}}


def crb(name, labels=None):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": RBAC, "kind": "ClusterRoleBinding", "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": []}


def namespace(name, **labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_parse_names_the_field_as_written():
    with pytest.raises(NetsecError) as err:
        delivery.parse([np("a"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}], "team")
    assert err.value.field == "objects[1].metadata.name"
    with pytest.raises(NetsecError) as err:
        delivery.parse([], "team", patches=[{"object": namespace("shop"), "create": "yes"}])
    assert err.value.field == "patches[0].create"
    with pytest.raises(NetsecError) as err:
        delivery.parse([], "team", kinds=[{"kind": "NetworkPolicy"}])
    assert err.value.field == "kinds[0]"
    with pytest.raises(NetsecError) as err:
        delivery.parse([], "team a")
    assert err.value.field == "owned_set"


def test_objects_are_stamped_and_patches_are_not():
    req = delivery.parse([np("a")], "team", patches=[{"object": namespace("shop", x="1"), "create": True}])
    assert owned.in_owned_set(req.objects[0], "team")
    assert not owned.in_owned_set(req.patches[0].object, "team") and req.patches[0].create
    assert req.kinds == [("networking.k8s.io/v1", "NetworkPolicy")]


def test_plan_creates_updates_prunes_and_refuses_a_foreign_name():
    req = delivery.parse([np("a"), np("b", port=443)], "team")
    live = [as_live(owned.stamp(np("b"), "team")), as_live(owned.stamp(np("stale"), "team"), uid="u2"),
            as_live(np("hand-made"), manager="kubectl")]
    actions, patches = delivery.plan_live(req, live, [])
    assert [(a.action, a.key.name) for a in actions] == [("create", "a"), ("update", "b"), ("prune", "stale")]
    assert patches == []
    with pytest.raises(NetsecError) as err:
        delivery.plan_live(delivery.parse([np("a"), np("hand-made")], "team"), live, [])
    assert err.value.field == "objects[1]" and "not managed by this collection" in str(err.value)


def test_prunes_follow_the_order_of_kinds_and_legacy_objects_count_as_ours():
    kinds = [{"api_version": RBAC, "kind": k} for k in ("ClusterRoleBinding", "ClusterRole")]
    req = delivery.parse([], "zitadel-rbac-prod", kinds=kinds, legacy_managed_by=["safespring.netsec.zitadel_rbac"])
    role = {"apiVersion": RBAC, "kind": "ClusterRole", "metadata": {"name": "a-role"}, "rules": []}
    live = [as_live(owned.stamp(role, "zitadel-rbac-prod")), as_live(crb("z-binding", {owned.MANAGED_BY_LABEL: "safespring.netsec.zitadel_rbac"})),
            as_live(crb("other", owned.owner_labels("zitadel-rbac-staging")))]
    actions, dummy = delivery.plan_live(req, live, [])
    assert [(a.action, a.key.kind) for a in actions] == [("prune", "ClusterRoleBinding"), ("prune", "ClusterRole")]


def test_patch_targets_are_created_only_when_asked_and_never_pruned():
    req = delivery.parse([], "team", patches=[{"object": namespace("shop", a="1"), "create": True},
                                              {"object": namespace("ingress", a="1"), "create": False},
                                              {"object": namespace("web", a="1"), "create": False}])
    live_web = as_live(namespace("web", a="1"))
    actions, patches = delivery.plan_live(req, [], [live_web])
    assert [(a.action, a.key.name) for a in patches] == [("create", "shop"), ("skip", "ingress"), ("unchanged", "web")]
    out = delivery.result(actions, patches)
    assert out["created"] == ["Namespace shop"] and out["skipped"] == ["Namespace ingress"] and out["unchanged"] == ["Namespace web"]
    assert out["changed"] is True and out["pruned"] == []


def test_result_diff_redacts_secret_data():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "shop"}, "data": {"config": "c2VjcmV0"}}
    actions, patches = delivery.plan_live(delivery.parse([secret], "team"), [], [])
    out = delivery.result(actions, patches, want_diff=True)
    assert out["diff"][0]["after"]["data"] == {"config": "VALUE_REDACTED"}
    assert "c2VjcmV0" not in repr(out)


class FakeClient(object):
    """Records the order of writes; execute() is pure orchestration over a plan."""

    def __init__(self):
        self.sent = []

    def apply(self, obj, dry_run=False, force_conflicts=False):
        self.sent.append(("apply", obj["kind"], obj["metadata"]["name"], dry_run, force_conflicts))

    def delete(self, obj, dry_run=False):
        self.sent.append(("delete", obj["kind"], obj["metadata"]["name"], dry_run, None))


def test_execute_orders_patches_then_prunes_first_when_asked_and_forces_only_owned_objects():
    req = delivery.parse([np("a")], "team", patches=[{"object": namespace("shop", a="1"), "create": True}], prune_first=True,
                         force_conflicts=True)
    live = [as_live(owned.stamp(np("stale"), "team"))]
    actions, patches = delivery.plan_live(req, live, [as_live(namespace("shop"))])
    client = FakeClient()
    assert delivery.execute(client, req, actions, patches) == []
    assert client.sent == [("apply", "Namespace", "shop", False, False), ("delete", "NetworkPolicy", "stale", False, None),
                           ("apply", "NetworkPolicy", "a", False, True)]


def test_check_mode_does_not_dry_run_into_a_namespace_the_run_creates():
    req = delivery.parse([np("a", namespace="new")], "team", patches=[{"object": namespace("new"), "create": True}])
    actions, patches = delivery.plan_live(req, [], [])
    client = FakeClient()
    assert delivery.execute(client, req, actions, patches, check_mode=True) == ["NetworkPolicy new/a"]
    assert client.sent == [("apply", "Namespace", "new", True, False)]


def test_render_reports_the_same_shape_and_a_second_render_changes_nothing(tmp_path):
    req = delivery.parse([np("a"), np("b")], "team", patches=[{"object": namespace("shop", a="1"), "create": False}])
    first = delivery.render(req, str(tmp_path))
    assert first["changed"] and first["created"] == ["NetworkPolicy shop/a", "NetworkPolicy shop/b", "Namespace shop"]
    second = delivery.render(req, str(tmp_path))
    assert second["changed"] is False and len(second["unchanged"]) == 3
    fewer = delivery.render(delivery.parse([np("a")], "team"), str(tmp_path))
    assert fewer["pruned"] == ["namespace-shop.yaml", "networkpolicy-shop-b.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kustomization.yaml", "networkpolicy-shop-a.yaml"]
