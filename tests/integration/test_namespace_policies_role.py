"""The namespace_policies role end to end with ansible-playbook: render for GitOps, prove,
refuse bad input and wrong policies before anything is written; apply, re-apply and prune against
a real kube-apiserver 1.36 + etcd with Cilium's own CRDs (a fresh instance of the lab component
`kube` per test, audit log on: request shapes are the apiserver's record)."""
import copy
import json

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


NP = ("networking.k8s.io/v1", "NetworkPolicy")
CNP = ("cilium.io/v2", "CiliumNetworkPolicy")


@pytest.fixture
def kube(kube_audited):
    """A fresh apiserver with Cilium's CRDs and namespace ingress (kube-system is the apiserver's own)."""
    kube_audited.install_cilium_crds()
    kube_audited.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ingress"}})
    return kube_audited


def policy_versions(kube):
    """(kind, namespace, name) -> resourceVersion of every policy and namespace the apiserver holds."""
    out = {}
    for api_version, kind in (NP, CNP, ("v1", "Namespace")):
        for obj in kube.list(api_version, kind):
            out[(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = obj["metadata"]["resourceVersion"]
    return out


def own_labels(kube, namespace):
    labels = dict(kube.get("v1", "Namespace", namespace)["metadata"].get("labels") or {})
    assert labels.pop("kubernetes.io/metadata.name") == namespace  # the apiserver's own label
    return labels


SMALL = {
    "namespace_policies_namespaces": [{"name": "ingress", "psa_level": "baseline"},
                                      {"name": "shop", "psa_level": "restricted", "create": True, "dns": False}],
    "namespace_policies_paths": [
        {"from": {"namespace": "ingress"}, "to": {"namespace": "shop", "pods": {"app": "web"}}, "ports": [{"port": 8080}]},
        {"from": {"namespace": "ingress"}, "to": {"entity": "kube-apiserver"}, "ports": [{"port": 6443}]}],
    "namespace_policies_render_dir": "", "namespace_policies_report_dir": "",
}


@pytest.mark.slow
def test_role_applies_with_server_side_apply_and_prunes_only_its_own_set(tmp_path, kube):
    foreign = kube.seed({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                         "metadata": {"name": "hand-made", "namespace": "ingress"}, "spec": {"podSelector": {}}})
    base = dict(SMALL, namespace_policies_kubeconfig=kube.kubeconfig)
    before = policy_versions(kube)
    mark = kube.audit.mark()
    rc, tasks, proc = run_playbook(tmp_path, PLAY, base, "--check", "--diff")
    assert rc == 0, proc.stdout[-4000:]
    assert policy_versions(kube) == before, "check mode changes nothing"
    sent = kube.audit.writes(mark)
    # namespace shop would be created, so the policies in it are not sent (the dry-run Namespace was not persisted)
    assert sent and all(r.verb == "patch" and r.query.get("dryRun") == "All" for r in sent), sent
    assert kube.get("v1", "Namespace", "shop") is None
    mark = kube.audit.mark()
    rc, tasks, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-4000:]
    sent = kube.audit.writes(mark)
    assert all(r.verb == "patch" and r.query.get("force") == "false" and "dryRun" not in r.query for r in sent), sent
    assert kube.get(*NP, "default-deny", "shop") is not None and kube.get(*NP, "hand-made", "ingress") is not None
    assert own_labels(kube, "shop")["pod-security.kubernetes.io/enforce"] == "restricted"
    assert own_labels(kube, "ingress")["pod-security.kubernetes.io/enforce"] == "baseline"
    assert own_labels(kube, "kube-system") == {}, "not managed, not touched"

    fewer = dict(base, namespace_policies_paths=SMALL["namespace_policies_paths"][:1])
    live = dict((("networkpolicies" if kind == NP else "ciliumnetworkpolicies", o["metadata"]["namespace"], o["metadata"]["name"]), o)
                for kind in (NP, CNP) for o in kube.list(*kind))
    mark = kube.audit.mark()
    rc, tasks, proc = run_playbook(tmp_path, PLAY, fewer)
    assert rc == 0, proc.stdout[-4000:]
    left = set((o["metadata"]["namespace"], o["metadata"]["name"]) for o in kube.list(*CNP))
    assert [name for plural, dummy_ns, name in live if plural == "ciliumnetworkpolicies" and "apiserver" in name], "the path's policy was there"
    assert not [name for dummy_ns, name in left if "apiserver" in name], "the dropped path's policy is pruned"
    assert kube.get(*NP, "hand-made", "ingress")["metadata"]["uid"] == foreign["metadata"]["uid"], "foreign objects are never pruned"
    deletes = [r for r in kube.audit.writes(mark) if r.verb == "delete"]
    assert deletes, "the prune was a DELETE"
    for r in deletes:
        namespace, plural, name = r.path.split("/")[-3:]
        before = live[(plural, namespace, name)]["metadata"]
        assert r.body["preconditions"] == {"uid": before["uid"], "resourceVersion": before["resourceVersion"]}, r


@pytest.mark.slow
def test_role_applies_proves_and_prunes_the_full_declaration_and_a_second_run_writes_nothing(tmp_path, kube):
    owned_set = "netsec-lab-test"
    base = role_vars(tmp_path, namespace_policies_kubeconfig=kube.kubeconfig, namespace_policies_owned_set=owned_set,
                     namespace_policies_render_dir="", namespace_policies_report_dir="")
    rc, tasks, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-3000:]
    applied = task(tasks, "Apply the policies and the namespace labels, prune owned policies no longer declared")
    assert applied["changed"] and applied["created"] and not applied["pruned"]
    stored = kube.list(*NP, label_selector="netsec.safespring.com/owned-set=" + owned_set) + \
        kube.list(*CNP, label_selector="netsec.safespring.com/owned-set=" + owned_set)
    assert len(stored) == len([c for c in applied["created"] if not c.startswith("Namespace ")])
    before = policy_versions(kube)
    mark = kube.audit.mark()
    rc, tasks, dummy_proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0 and not [n for n, r in tasks.items() if r.get("changed")], "second apply must change nothing"
    assert kube.audit.writes(mark) == [] and policy_versions(kube) == before
    fewer = dict(base, namespace_policies_paths=SHOP["paths"][:-1])
    rc, tasks, proc = run_playbook(tmp_path, PLAY, fewer)
    assert rc == 0, proc.stdout[-3000:]
    pruned = task(tasks, "Apply the policies and the namespace labels, prune owned policies no longer declared")["pruned"]
    assert pruned, "the dropped path's policy is pruned"
    for what in pruned:
        kind, where = what.split(" ", 1)
        namespace, name = where.split("/")
        assert kube.get(*(NP if kind == "NetworkPolicy" else CNP), name, namespace) is None, what
