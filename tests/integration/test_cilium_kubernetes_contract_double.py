"""cilium_network_policy / cilium_status / the cilium role through ansible-playbook against the
Kubernetes API contract double (strict about server-side apply, dry run, preconditions and CRD
validation).

Why not the real apiserver (yet): the status and role tests need Cilium agent state (a DaemonSet's
status, running agent Pods, CiliumNodes with WireGuard keys) that only a kubelet and the Cilium
agents produce, and the lab control plane has neither. The policy-delivery behaviour itself (SSA,
no-change re-apply, prune with preconditions, foreign-name refusal, dry-run check mode) is proven
against the real kube-apiserver with Cilium's CRDs in tests/lab/test_kube_delivery.py; the
playbook-level policy tests here are still to be moved there.
"""
import copy


import pytest

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, run_playbook

from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies as cpol
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned

SET = "cilium-baseline"


@pytest.fixture
def baseline():
    return cpol.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK)


def policy_task(double, policies, name="apply", **options):
    args = {"host": double.url, "api_key": double.token, "owned_set": SET, "policies": policies}
    args.update(options)
    return {"name": name, "safespring.netsec.cilium_network_policy": args}


def run(tmp_path, *tasks, args=()):
    book = [{"hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]
    rc, results, stats, proc = run_playbook(tmp_path, book, None, *args, TMPDIR=str(tmp_path))
    return rc, results, proc


def patches(double):
    return [r for r in double.requests if r[0] == "PATCH"]


def test_converge_with_ssa_then_second_run_changes_nothing(tmp_path, kubernetes_contract_double, baseline):
    double = kubernetes_contract_double
    rc, res, proc = run(tmp_path, policy_task(double, baseline))
    assert rc == 0, proc.stdout[-3000:]
    assert res["apply"]["changed"] and len(res["apply"]["created"]) == len(baseline)
    sent = patches(double)
    assert len(sent) == len(baseline)
    assert all(ct == "application/apply-patch+yaml" and q["fieldManager"] == "safespring.netsec" and q.get("force") == "false"
               for dummy_method, dummy_path, ct, q in sent)
    stored = double.get("CiliumClusterwideNetworkPolicy", "netsec-host-worker")
    assert stored["metadata"]["labels"][owned.OWNED_SET_LABEL] == SET

    rc, res, dummy_proc = run(tmp_path, policy_task(double, baseline))
    assert rc == 0 and res["apply"]["changed"] is False
    assert set(a["action"] for a in res["apply"]["plan"]) == {"unchanged"}
    assert len(patches(double)) == len(baseline)  # nothing sent the second time
    assert double.violations == []


def test_check_mode_sends_dry_run_all_and_persists_nothing(tmp_path, kubernetes_contract_double, baseline):
    double = kubernetes_contract_double
    rc, res, proc = run(tmp_path, policy_task(double, baseline), args=("--check", "--diff"))
    assert rc == 0, proc.stdout[-3000:]
    assert res["apply"]["changed"] is True and len(res["apply"]["diff"]) == len(baseline)
    assert all(q.get("dryRun") == "All" for dummy_method, dummy_path, dummy_ctype, q in patches(double))
    assert double.get("CiliumClusterwideNetworkPolicy", "netsec-host-worker") is None
    assert double.violations == []


def test_refusals_come_before_any_write_foreign_name_and_invalid_policy_by_live_crd_schema(tmp_path, kubernetes_contract_double, baseline):
    double = kubernetes_contract_double
    foreign = copy.deepcopy(baseline[1])
    foreign["spec"]["description"] = "hand-made by the platform team"
    before = copy.deepcopy(double.seed(foreign))
    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "bad"},
           "spec": {"nodeSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "443", "protocol": "QUIC"}]}]}]}}
    tasks = [dict(policy_task(double, baseline, name="foreign"), ignore_errors=True),
             dict(policy_task(double, [bad], name="invalid"), ignore_errors=True)]
    rc, res, proc = run(tmp_path, *tasks)
    assert rc == 0, proc.stdout[-3000:]
    assert res["foreign"]["failed"] and res["foreign"]["field"] == "policies[1]"
    assert "not managed by this collection" in res["foreign"]["msg"]
    assert double.get(foreign["kind"], foreign["metadata"]["name"]) == before
    assert res["invalid"]["failed"] and res["invalid"]["field"].startswith("policies[0].spec.ingress[0].toPorts[0].ports[0].protocol")
    assert any(r[1].endswith("/customresourcedefinitions/ciliumclusterwidenetworkpolicies.cilium.io") for r in double.requests)
    assert patches(double) == []


def test_prune_deletes_only_owned_policies_no_longer_declared(tmp_path, kubernetes_contract_double, baseline):
    double = kubernetes_contract_double
    other_set = owned.stamp({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
                             "metadata": {"name": "team-a", "namespace": "shop"},
                             "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}, "namespace-policies")
    double.seed(other_set, manager="safespring.netsec")
    unlabelled = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "legacy"},
                  "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}
    double.seed(unlabelled)
    run(tmp_path, policy_task(double, baseline))
    rc, res, proc = run(tmp_path, policy_task(double, baseline[:2]))
    assert rc == 0, proc.stdout[-3000:]
    pruned = res["apply"]["pruned"]
    assert len(pruned) == len(baseline) - 2
    assert double.get("CiliumNetworkPolicy", "netsec-kube-dns", "kube-system") is None
    assert double.get("CiliumNetworkPolicy", "team-a", "shop") is not None
    assert double.get("CiliumClusterwideNetworkPolicy", "legacy") is not None
    deletes = [r for r in double.requests if r[0] == "DELETE"]
    assert len(deletes) == len(pruned) and double.violations == []


def test_field_taken_over_by_another_manager_conflicts_unless_forced(tmp_path, kubernetes_contract_double, baseline):
    double = kubernetes_contract_double
    mine = owned.stamp(baseline[0], SET)
    edited = copy.deepcopy(mine)
    edited["spec"]["description"] = "edited by hand"
    double.seed(edited, manager="kubectl-edit")
    rc, res, dummy_proc = run(tmp_path, policy_task(double, baseline[:1], prune=False))
    assert rc != 0 and "force_conflicts" in res["apply"]["msg"]
    assert double.get(edited["kind"], edited["metadata"]["name"])["spec"]["description"] == "edited by hand"
    rc, res, dummy_proc = run(tmp_path, policy_task(double, baseline[:1], prune=False, force_conflicts=True))
    assert rc == 0
    assert double.get(edited["kind"], edited["metadata"]["name"])["spec"]["description"] == baseline[0]["spec"]["description"]


def test_status_proves_encryption_from_published_keys(tmp_path, kubernetes_contract_double):
    double = kubernetes_contract_double
    nodes = ["cp1", "w1"]
    double.seed({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system"},
                 "spec": {}, "status": {"desiredNumberScheduled": 2, "numberReady": 2, "numberAvailable": 2,
                                        "updatedNumberScheduled": 2, "observedGeneration": 1}})
    for n in nodes:
        double.seed({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cilium-" + n, "namespace": "kube-system",
                                                                     "labels": {"k8s-app": "cilium"}},
                     "spec": {"nodeName": n},
                     "status": {"phase": "Running", "containerStatuses": [{"name": "cilium-agent", "ready": True, "restartCount": 0}]}})
        double.seed({"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
                     "metadata": {"name": n, "annotations": {"network.cilium.io/wg-pub-key": "key-" + n}}, "spec": {}})
    double.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config", "namespace": "kube-system"},
                 "data": {"enable-wireguard": "true", "encrypt-node": "true", "enable-host-firewall": "true",
                          "policy-audit-mode": "false", "enable-policy": "always"}})
    rc, res, proc = run(tmp_path, {"name": "status", "safespring.netsec.cilium_status": {"host": double.url, "api_key": double.token}})
    assert rc == 0, proc.stdout[-3000:]
    st = res["status"]
    assert st["changed"] is False and st["agents"]["all_ready"]
    assert st["encryption"]["proven"] and st["encryption"]["nodes_with_key"] == nodes
    assert st["host_firewall"] == {"enabled": True, "enforcing": True} and st["enforcement"]["mode"] == "always"
    assert [r[0] for r in double.requests if r[0] != "GET"] == []


def seed_cilium(double, ready=True, nodes=("cp1", "w1")):
    double.seed({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system"},
                 "spec": {}, "status": {"desiredNumberScheduled": len(nodes), "numberReady": len(nodes) - (0 if ready else 1),
                                        "numberAvailable": len(nodes), "updatedNumberScheduled": len(nodes), "observedGeneration": 1}})
    for n in nodes:
        double.seed({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cilium-" + n, "namespace": "kube-system",
                                                                     "labels": {"k8s-app": "cilium"}},
                     "spec": {"nodeName": n},
                     "status": {"phase": "Running", "containerStatuses": [{"name": "cilium-agent", "ready": True, "restartCount": 0}]}})
        double.seed({"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
                     "metadata": {"name": n, "annotations": {"network.cilium.io/wg-pub-key": "key-" + n}}, "spec": {}})
    double.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config", "namespace": "kube-system"},
                 "data": {"enable-wireguard": "true", "encrypt-node": "true", "enable-host-firewall": "true",
                          "policy-audit-mode": "true", "enable-policy": "default"}})
    double.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}})


def role_cluster_play(tmp_path, double, **overrides):
    variables = {"cilium_cluster": LAB_CLUSTER, "cilium_addresses": LAB_ADDRESS_BOOK, "cilium_kubeconfig": double.kubeconfig(tmp_path),
                 "cilium_mesh": "istio-ambient", "cilium_mesh_namespaces": ["shop"], "cilium_wait_retries": 1, "cilium_wait_delay": 0}
    variables.update(overrides)
    return [{"hosts": "localhost", "gather_facts": False, "vars": variables, "tasks": [
        {"name": "profile", "register": "cilium_profile", "safespring.netsec.cilium_install": {
            "cluster": "{{ cilium_cluster }}", "mesh": "{{ cilium_mesh }}", "mesh_namespaces": "{{ cilium_mesh_namespaces }}"}},
        {"name": "after install", "ansible.builtin.include_role": {"name": "safespring.netsec.cilium", "tasks_from": "cluster.yml"}},
    ]}]


def test_role_waits_proves_and_applies_policies_and_mesh_opt_in_then_changes_nothing(tmp_path, kubernetes_contract_double):
    double = kubernetes_contract_double
    seed_cilium(double)
    rc, res, stats, proc = run_playbook(tmp_path, role_cluster_play(tmp_path, double), None, TMPDIR=str(tmp_path))
    assert rc == 0, proc.stdout[-4000:]
    assert double.get("CiliumClusterwideNetworkPolicy", "netsec-host-control-plane") is not None
    assert double.get("CiliumClusterwideNetworkPolicy", "netsec-allow-ambient-hostprobes") is not None
    pa = double.get("PeerAuthentication", "default", "shop")
    assert pa["spec"] == {"mtls": {"mode": "STRICT"}} and pa["metadata"]["labels"][owned.OWNED_SET_LABEL] == "cilium-mesh"
    ns = double.get("Namespace", "shop")
    assert ns["metadata"]["labels"] == {"team": "shop", "istio.io/dataplane-mode": "ambient"}
    managers = sorted(e["manager"] for e in ns["metadata"]["managedFields"])
    assert managers == ["kubectl-client-side-apply", "safespring.netsec-mesh"]
    assert double.violations == []

    rc, res, stats, proc = run_playbook(tmp_path, role_cluster_play(tmp_path, double), None, TMPDIR=str(tmp_path))
    # "profile" compares with no deployed values here (helm_info is the role's job), so only it reports a change.
    assert rc == 0 and [n for n, r in res.items() if r.get("changed")] == ["profile"], proc.stdout[-4000:]


def test_role_fails_when_an_agent_is_not_ready_and_applies_no_policy(tmp_path, kubernetes_contract_double):
    double = kubernetes_contract_double
    seed_cilium(double, ready=False)
    rc, res, dummy_stats, proc = run_playbook(tmp_path, role_cluster_play(tmp_path, double), None, TMPDIR=str(tmp_path))
    assert rc != 0
    failed = [name for name, r in res.items() if r.get("failed")]
    assert failed == ["safespring.netsec.cilium : Wait until every agent is ready (fails the role when they are not)"], failed
    assert patches(double) == []


def test_mesh_opt_out_removes_only_our_keys_and_objects(tmp_path, kubernetes_contract_double):
    double = kubernetes_contract_double
    seed_cilium(double)
    double.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "billing"}})
    foreign_pa = {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "legacy", "namespace": "billing"},
                  "spec": {"mtls": {"mode": "PERMISSIVE"}}}
    double.seed(foreign_pa)

    def opt_in(namespaces, *args):
        book = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "mesh", "safespring.netsec.cilium_mesh_opt_in": {
            "host": double.url, "api_key": double.token, "mesh": "istio-ambient", "namespaces": namespaces}}]}]
        rc, res, dummy_stats, proc = run_playbook(tmp_path, book, None, *args, TMPDIR=str(tmp_path))
        assert rc == 0, proc.stdout[-3000:]
        return res["mesh"]

    first = opt_in(["shop", "billing"])
    assert first["changed"] and sorted(first["objects"]["create"]) == ["PeerAuthentication billing/default", "PeerAuthentication shop/default"]
    dry = opt_in(["shop"], "--check")
    assert dry["namespaces"] == [{"namespace": "shop", "action": "unchanged"}, {"namespace": "billing", "action": "release"}]
    assert double.get("Namespace", "billing")["metadata"]["labels"] == {"istio.io/dataplane-mode": "ambient"}
    out = opt_in(["shop"])
    assert out["objects"]["prune"] == ["PeerAuthentication billing/default"]
    billing = double.get("Namespace", "billing")
    assert not billing["metadata"].get("labels")
    assert double.get("PeerAuthentication", "legacy", "billing")["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    assert double.get("Namespace", "shop")["metadata"]["labels"] == {"team": "shop", "istio.io/dataplane-mode": "ambient"}
    assert opt_in(["shop"])["changed"] is False
    assert double.violations == []
