# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mesh opt-in objects: strict mTLS per namespace."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import validate


def test_istio_ambient_labels_the_namespace_and_makes_peer_authentication_strict():
    out = mesh.namespace_objects("istio-ambient", ["shop"])
    assert out["namespace_patches"] == [{"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": "shop", "labels": {"istio.io/dataplane-mode": "ambient"}}}]
    pa = out["objects"][0]
    assert (pa["kind"], pa["metadata"]["namespace"], pa["spec"]["mtls"]["mode"]) == ("PeerAuthentication", "shop", "STRICT")


def test_linkerd_injects_and_accepts_only_authenticated_meshed_clients():
    out = mesh.namespace_objects("linkerd", ["shop"])
    annotations = out["namespace_patches"][0]["metadata"]["annotations"]
    assert annotations == {"linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "all-authenticated"}
    kinds = [o["kind"] for o in out["objects"]]
    assert kinds == ["MeshTLSAuthentication", "AuthorizationPolicy"]
    assert out["objects"][1]["spec"]["targetRef"] == {"kind": "Namespace", "name": "shop"}


@pytest.mark.parametrize("name", ["istio-ambient", "linkerd"])
def test_namespace_patches_are_valid_kubernetes_objects(name):
    for obj in mesh.namespace_objects(name, ["shop", "billing"])["namespace_patches"]:
        validate.validate_core(obj)


def test_system_namespaces_cannot_opt_in():
    with pytest.raises(NetsecError) as err:
        mesh.namespace_objects("linkerd", ["shop", "kube-system"])
    assert err.value.field == "mesh_namespaces[1]"


def test_namespaces_without_a_mesh_are_refused():
    with pytest.raises(NetsecError, match="mesh is none"):
        mesh.namespace_objects("none", ["shop"])


def namespace(name, labels=None, mesh_manager=False):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": name, "labels": dict(labels or {}), "resourceVersion": "77", "uid": "u-" + name,
        "managedFields": [{"manager": "kubectl-create", "operation": "Update", "fieldsV1": {"f:metadata": {"f:labels": {}}}}]},
        "status": {"phase": "Active"}}
    if mesh_manager:
        ns["metadata"]["labels"][mesh.ISTIO_DATAPLANE_LABEL] = "ambient"
        ns["metadata"]["managedFields"].append({"manager": mesh.NAMESPACE_FIELD_MANAGER, "operation": "Apply", "fieldsV1": {
            "f:metadata": {"f:labels": {"f:" + mesh.ISTIO_DATAPLANE_LABEL: {}}}}})
    return ns


def test_namespace_plan_updates_new_keeps_current_and_releases_dropped():
    patches = mesh.namespace_objects("istio-ambient", ["new", "kept"])["namespace_patches"]
    live = [namespace("new", {"team": "a"}), namespace("kept", mesh_manager=True), namespace("dropped", mesh_manager=True),
            namespace("never-ours", {mesh.ISTIO_DATAPLANE_LABEL: "ambient"})]
    steps = [(a, n) for a, n, dummy_body in mesh.plan_namespaces(patches, live)]
    assert steps == [("update", "new"), ("unchanged", "kept"), ("release", "dropped")]


def test_switching_mesh_removes_keys_our_manager_applied_before():
    patches = mesh.namespace_objects("linkerd", ["kept"])["namespace_patches"]
    steps = [(a, n) for a, n, dummy_body in mesh.plan_namespaces(patches, [namespace("kept", mesh_manager=True)])]
    assert steps == [("update", "kept")]


def test_opting_in_a_missing_namespace_is_refused_before_any_change():
    patches = mesh.namespace_objects("istio-ambient", ["ghost"])["namespace_patches"]
    with pytest.raises(NetsecError) as err:
        mesh.plan_namespaces(patches, [namespace("other")])
    assert err.value.field == "mesh_namespaces[0]"
