"""The one delivery path (module_utils/kubernetes/delivery.py, behind kubernetes_owned_set,
namespace_policies, zitadel_rbac and cilium_network_policy) against a real kube-apiserver 1.36 +
etcd (a named instance of the lab component `kube`) with Cilium's own published CRDs installed
(KubeLab.install_cilium_crds): NetworkPolicies, CiliumNetworkPolicies,
CiliumClusterwideNetworkPolicies and RBAC objects are applied, re-applied with no change, drifted
by hand (a REST merge patch under another field manager) and corrected, pruned (foreign objects and
other owned sets untouched), a foreign object under a declared name is refused before any write, and
check mode (the apiserver's dry run) reports exactly what the real run then does.
"""
import copy
import os
import tempfile

import pytest

from fixtures.kube import kube_instance

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import delivery
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned

pytestmark = pytest.mark.lab

SET = "lab-delivery"
NS = "shop"
RESULT = ("created", "updated", "pruned", "unchanged", "skipped")


@pytest.fixture(scope="module")
def kube():
    with kube_instance(f"delivery-{os.getpid()}") as lab:
        lab.install_cilium_crds()
        for name in (NS, "other"):
            lab.admin_request("POST", "/api/v1/namespaces", json={"metadata": {"name": name}})
        yield lab


@pytest.fixture
def client(kube, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # discovery cache of the kubernetes client
    return kclient.KubeClient(kubeconfig=kube.kubeconfig)


def declared(suffix=""):
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "default-deny" + suffix, "namespace": NS},
         "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "allow-dns" + suffix, "namespace": NS},
         "spec": {"endpointSelector": {}, "egress": [{"toEndpoints": [{"matchLabels": {"k8s-app": "kube-dns"}}],
                                                      "toPorts": [{"ports": [{"port": "53", "protocol": "UDP"}]}]}]}},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "lab-host" + suffix},
         "spec": {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "lab-reader" + suffix},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "lab-reader" + suffix, "namespace": NS},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "lab-reader" + suffix},
         "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "lab-team"}]},
    ]


KINDS = [{"api_version": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding"},
         {"api_version": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"},
         {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy"},
         {"api_version": "cilium.io/v2", "kind": "CiliumNetworkPolicy"},
         {"api_version": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy"}]

PATHS = {"NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s",
         "CiliumNetworkPolicy": "/apis/cilium.io/v2/namespaces/%s/ciliumnetworkpolicies/%s",
         "CiliumClusterwideNetworkPolicy": "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies/%s",
         "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles/%s",
         "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/%s/rolebindings/%s"}


def path_of(obj):
    meta = obj["metadata"]
    template = PATHS[obj["kind"]]
    return template % ((meta["namespace"], meta["name"]) if "namespace" in meta else (meta["name"],))


def live(kube, obj):
    resp = kube.request("GET", path_of(obj), identity=kube.admin)
    return resp.json() if resp.status_code == 200 else None


def versions(kube, objects):
    return dict((path_of(o), (live(kube, o) or {}).get("metadata", {}).get("resourceVersion")) for o in objects)


def run(client, objects, check=False, **options):
    request = delivery.parse(objects, SET, kinds=KINDS, **options)
    out = delivery.deliver(client, request, check_mode=check)
    return dict((k, sorted(out[k])) for k in RESULT), out


def test_apply_reapply_drift_and_check_mode_equal_to_the_real_run(kube, client):
    objects = declared("-a")
    dry, dry_raw = run(client, objects, check=True)
    assert dry_raw["changed"] and len(dry["created"]) == 5 and dry_raw["not_sent"] == []
    assert all(live(kube, o) is None for o in objects), "check mode (server dry run) persists nothing"

    real, real_raw = run(client, objects)
    assert real == dry, "check mode reports exactly what the real run does"
    for obj in objects:
        stored = live(kube, obj)
        assert stored["metadata"]["labels"][owned.OWNED_SET_LABEL] == SET
        assert any(m["manager"] == owned.FIELD_MANAGER and m["operation"] == "Apply" for m in stored["metadata"]["managedFields"])

    before = versions(kube, objects)
    again, again_raw = run(client, objects)
    assert again_raw["changed"] is False and len(again["unchanged"]) == 5
    assert versions(kube, objects) == before, "a second run writes nothing"

    # drifted by hand: a merge patch by another field manager (as kubectl edit does)
    cnp = objects[1]
    kube.admin_request("PATCH", path_of(cnp), params={"fieldManager": "kubectl-edit"},
                       headers={"Content-Type": "application/merge-patch+json"},
                       json={"spec": {"egress": [{"toEntities": ["world"]}]}})
    kube.admin_request("PATCH", path_of(objects[3]), params={"fieldManager": "kubectl-edit"},
                       headers={"Content-Type": "application/merge-patch+json"},
                       json={"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})
    drifted = versions(kube, objects)
    dry, dry_raw = run(client, objects, check=True, force_conflicts=True)
    assert dry["updated"] == sorted([owned.describe(owned.key_of(cnp)), owned.describe(owned.key_of(objects[3]))])
    assert versions(kube, objects) == drifted, "check mode corrects nothing"
    with pytest.raises(NetsecError) as err:
        run(client, objects)  # without force_conflicts the hand edit's manager owns the fields: a real 409
    assert "force_conflicts" in str(err.value) or "conflict" in str(err.value).lower()
    real, real_raw = run(client, objects, force_conflicts=True)
    assert real == dry
    assert live(kube, cnp)["spec"] == cnp["spec"]
    assert live(kube, objects[3])["rules"] == objects[3]["rules"]
    assert run(client, objects)[1]["changed"] is False


def test_prune_leaves_foreign_objects_and_other_sets_alone_and_check_mode_equals_it(kube, client):
    objects = declared("-p")
    foreign = copy.deepcopy(declared("-foreign")[0])
    kube.admin_request("POST", "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies" % NS, json=foreign)
    other = owned.stamp(copy.deepcopy(declared("-other")[2]), "another-set")
    kube.admin_request("POST", "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", json=other)
    run(client, objects)
    untouched = versions(kube, [foreign, other])

    keep = [objects[0], objects[3]]
    dry, dry_raw = run(client, keep, check=True, prune_first=True)
    assert len(dry["pruned"]) == 3 and all(live(kube, o) is not None for o in objects), "dry-run DELETEs delete nothing"
    real, real_raw = run(client, keep, prune_first=True)
    assert real == dry
    assert [live(kube, o) is not None for o in objects] == [True, False, False, True, False]
    assert versions(kube, [foreign, other]) == untouched, "foreign objects and another set's are never touched"
    assert run(client, keep)[1]["changed"] is False


def test_foreign_object_under_a_declared_name_is_refused_before_any_write(kube, client):
    objects = declared("-f")
    squatter = copy.deepcopy(objects[2])
    squatter["spec"] = {"nodeSelector": {}, "ingress": [{"fromEntities": ["world"]}]}
    kube.admin_request("POST", "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", json=squatter)
    before = versions(kube, objects)
    with pytest.raises(NetsecError) as err:
        run(client, objects)
    assert err.value.field == "objects[2]", err.value.field
    assert versions(kube, objects) == before, "nothing was written, not even the objects before the refused one"
    assert live(kube, squatter)["spec"] == squatter["spec"]


def test_delete_precondition_protects_an_object_changed_after_the_plan(kube, client):
    """Moved here from the contract double: the real apiserver enforces the DELETE's uid + resourceVersion."""
    obj = owned.stamp(declared("-pre")[0], SET)
    client.apply(obj)
    planned = client.get(obj["apiVersion"], obj["kind"], obj["metadata"]["name"], NS)
    relabelled = copy.deepcopy(obj)
    relabelled["metadata"]["labels"]["keep"] = "yes"
    client.apply(relabelled)  # someone changed it after our plan
    with pytest.raises(kclient.KubeError) as err:
        client.delete(planned)
    assert err.value.status == 409
    assert live(kube, obj) is not None
