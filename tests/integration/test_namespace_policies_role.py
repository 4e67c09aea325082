"""The namespace_policies role end to end with ansible-playbook: render for GitOps, prove,
refuse bad input and wrong policies before anything is written; opt-in live apply."""
import copy
import json
import os

import jsonschema
import kubernetes_validate
import pytest
import yaml

from fixtures.netpol import SHOP, run_playbook


def role_vars(tmp_path, **extra):
    out = {"namespace_policies_%s" % k: copy.deepcopy(v) for k, v in SHOP.items()}
    out.update(namespace_policies_render_dir=str(tmp_path / "gitops"), namespace_policies_report_dir=str(tmp_path / "report"))
    out.update(extra)
    return out


PLAY = [{"hosts": "localhost", "gather_facts": False, "roles": ["safespring.netsec.namespace_policies"]}]


def task(tasks, name):
    return tasks["safespring.netsec.namespace_policies : " + name]


def load_dir(path):
    return [yaml.safe_load(p.read_text()) for p in sorted(path.glob("*.yaml")) if p.name != "kustomization.yaml"]


def test_role_renders_valid_manifests_and_pictures(tmp_path, shared_specs):
    rc, tasks, proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path))
    assert rc == 0, proc.stdout[-3000:]
    objects = load_dir(tmp_path / "gitops")
    kinds = sorted(set(o["kind"] for o in objects))
    assert kinds == ["CiliumNetworkPolicy", "Namespace", "NetworkPolicy"]
    version = kubernetes_validate.utils.latest_version()
    schema = json.loads((shared_specs / "cilium-ciliumnetworkpolicy_v2.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)  # the CRD holds Go regexps: no check_schema
    for obj in objects:
        if obj["kind"] == "CiliumNetworkPolicy":
            validator.validate(obj)
        else:
            kubernetes_validate.validate(obj, version, strict=True)
    report = sorted(p.name for p in (tmp_path / "report").iterdir())
    assert {"segmentation.mmd", "segmentation.dot", "segmentation.md", "segmentation.html"} <= set(report)
    assert "shop" in (tmp_path / "report" / "segmentation.mmd").read_text()


def test_role_check_mode_writes_nothing(tmp_path):
    rc, dummy_tasks, proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path), "--check", "--diff")
    assert rc == 0, proc.stdout[-3000:]
    assert not (tmp_path / "gitops").exists() and not (tmp_path / "report").exists()


def test_role_second_run_changes_nothing(tmp_path):
    run_playbook(tmp_path, PLAY, role_vars(tmp_path))
    rc, tasks, dummy_proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path))
    assert rc == 0
    assert [name for name, res in tasks.items() if res.get("changed")] == []


def test_role_proof_fails_on_a_deliberately_wrong_policy_before_writing(tmp_path):
    wrong = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": "shop", "name": "allow-db-from-anywhere"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"port": 5432}]}]}}
    rc, tasks, dummy_proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path, namespace_policies_extra_objects=[wrong]))
    assert rc != 0
    proof = task(tasks, "Prove the policies allow exactly the declared paths plus DNS")
    # kube-system is not managed (the cilium baseline covers it), so its DNS pods' egress is open too
    assert proof["failed"] and sorted(proof["differences"]["extra"], key=lambda e: e["from"]) == [
        {"from": "kube-system/{k8s-app=kube-dns}", "to": "shop/db", "port": "TCP/5432"},
        {"from": "unmanaged.probe/{any pod}", "to": "shop/db", "port": "TCP/5432"}]
    assert "extra: unmanaged.probe/{any pod} -> shop/db TCP/5432" in proof["msg"]
    assert not (tmp_path / "gitops").exists()


def test_role_refuses_a_path_to_an_unknown_namespace_naming_the_entry(tmp_path):
    paths = copy.deepcopy(SHOP["paths"])
    paths[3] = {"from": {"namespace": "shop"}, "to": {"namespace": "payments"}, "ports": [{"port": 443}]}
    rc, tasks, dummy_proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path, namespace_policies_paths=paths))
    assert rc != 0
    build = task(tasks, "Build the policies from the declaration (bad input fails here, naming the entry)")
    assert build["field"] == "namespace_policies_paths[3].to.namespace"
    assert not (tmp_path / "gitops").exists()


def test_role_argument_spec_refuses_a_wrong_psa_level(tmp_path):
    namespaces = copy.deepcopy(SHOP["namespaces"])
    namespaces[0]["psa_level"] = "strict"
    rc, dummy_tasks, proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path, namespace_policies_namespaces=namespaces))
    assert rc != 0 and "psa_level" in proc.stdout and "strict" in proc.stdout


@pytest.mark.live
def test_role_applies_proves_and_prunes_on_a_live_cluster(tmp_path):
    """Needs KUBECONFIG of a disposable cluster with Cilium (it creates namespace shop)."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("set KUBECONFIG to a disposable cluster with Cilium to run the live test")
    owned = "netsec-live-test"
    base = role_vars(tmp_path, namespace_policies_kubeconfig=kubeconfig, namespace_policies_owned_set=owned,
                     namespace_policies_render_dir="", namespace_policies_report_dir="")
    rc, dummy_tasks, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-3000:]
    rc, tasks, dummy_proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0 and not [n for n, r in tasks.items() if r.get("changed")], "second apply must change nothing"
    fewer = dict(base, namespace_policies_paths=SHOP["paths"][:-1])
    rc, tasks, proc = run_playbook(tmp_path, PLAY, fewer)
    assert rc == 0, proc.stdout[-3000:]
    pruned = [r for n, r in tasks.items() if "Delete owned" in n]
    assert any(item.get("changed") for r in pruned for item in r.get("results", [])), "the dropped path's policy is pruned"


@pytest.fixture
def api_double(kubernetes_contract_double):
    """The strict Kubernetes API contract double (tests/fixtures/cilium.py), also serving
    networking.k8s.io/v1 NetworkPolicy for this test only, with existing kube-system/ingress."""
    kubernetes_contract_double.serve("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True)
    for name in ("kube-system", "ingress"):
        kubernetes_contract_double.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, manager="kube-apiserver")
    return kubernetes_contract_double


SMALL = {
    "namespace_policies_namespaces": [{"name": "ingress", "psa_level": "baseline"},
                                      {"name": "shop", "psa_level": "restricted", "create": True, "dns": False}],
    "namespace_policies_paths": [
        {"from": {"namespace": "ingress"}, "to": {"namespace": "shop", "pods": {"app": "web"}}, "ports": [{"port": 8080}]},
        {"from": {"namespace": "ingress"}, "to": {"entity": "kube-apiserver"}, "ports": [{"port": 6443}]}],
    "namespace_policies_render_dir": "", "namespace_policies_report_dir": "",
}


@pytest.mark.slow
def test_role_applies_with_server_side_apply_and_prunes_only_its_own_set(tmp_path, api_double):
    foreign = api_double.seed({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                               "metadata": {"name": "hand-made", "namespace": "ingress"}, "spec": {"podSelector": {}}})
    base = dict(SMALL, namespace_policies_kubeconfig=api_double.kubeconfig(tmp_path))
    before = dict(api_double.objects)
    rc, tasks, proc = run_playbook(tmp_path, PLAY, base, "--check", "--diff")
    assert rc == 0, proc.stdout[-4000:]
    assert api_double.objects == before, "check mode changes nothing"
    assert all(q.get("dryRun") == "All" for m, dummy_path, dummy_ctype, q in api_double.requests if m in ("PATCH", "DELETE"))
    rc, tasks, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-4000:]
    assert api_double.violations == []
    policies = dict(((k[1], k[2]), o) for k, o in api_double.objects.items() if k[0] in ("networkpolicies", "ciliumnetworkpolicies"))
    assert ("shop", "default-deny") in policies and ("ingress", "hand-made") in policies
    shop = api_double.get("Namespace", "shop")
    assert shop["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert api_double.get("Namespace", "ingress")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert api_double.get("Namespace", "kube-system")["metadata"].get("labels") is None, "not managed, not touched"

    fewer = dict(base, namespace_policies_paths=SMALL["namespace_policies_paths"][:1])
    rc, tasks, proc = run_playbook(tmp_path, PLAY, fewer)
    assert rc == 0, proc.stdout[-4000:]
    left = set((k[1], k[2]) for k in api_double.objects if k[0] == "ciliumnetworkpolicies")
    assert not [name for dummy_ns, name in left if "apiserver" in name], "the dropped path's policy is pruned"
    assert api_double.get("NetworkPolicy", "hand-made", "ingress") is not None, "foreign objects are never pruned"
    assert foreign["metadata"]["uid"] == api_double.get("NetworkPolicy", "hand-made", "ingress")["metadata"]["uid"]
    assert api_double.violations == []
