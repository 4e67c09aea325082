"""cilium_network_policy / cilium_status / cilium_mesh_opt_in / the cilium role through
ansible-playbook against a real kube-apiserver 1.36 + etcd (a fresh instance of the lab component
`kube` per test, audit log on) with Cilium's and Istio's own published CRDs installed.

Request shapes (server-side apply with force=false, dryRun=All in check mode, uid + resourceVersion
preconditions on every DELETE, no write from a read-only module) are proven from the apiserver's
audit log; CRD validation is the apiserver's own and the module's against the live CRD schema.
No kubelet or Cilium agent runs here: the agent state cilium_status reads (the DaemonSet's status,
agent Pods, CiliumNodes with their WireGuard keys, cilium-config) is seeded as real objects, the
statuses written through the status subresource as the DaemonSet controller and the kubelet would.
What only running agents can show is in test_cilium_live.py (opt-in, needs a cluster with Cilium).
"""
import copy

import pytest

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, run_playbook

from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies as cpol
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned

pytestmark = pytest.mark.lab

SET = "cilium-baseline"
CNP, CCNP = ("cilium.io/v2", "CiliumNetworkPolicy"), ("cilium.io/v2", "CiliumClusterwideNetworkPolicy")
PA = ("security.istio.io/v1", "PeerAuthentication")


@pytest.fixture
def kube(kube_audited):
    kube_audited.install_cilium_crds()
    kube_audited.install_istio_crds()
    return kube_audited


@pytest.fixture
def baseline():
    return cpol.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK)


def policy_task(kube, policies, name="apply", **options):
    args = {"kubeconfig": kube.kubeconfig, "owned_set": SET, "policies": policies}
    args.update(options)
    return {"name": name, "safespring.netsec.cilium_network_policy": args}


def run(tmp_path, *tasks, args=()):
    book = [{"hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]
    rc, results, dummy_stats, proc = run_playbook(tmp_path, book, None, *args, TMPDIR=str(tmp_path))
    return rc, results, proc


def get(kube, kind, name, namespace=None):
    return kube.get(*kind, name, namespace)


def is_ssa(request, manager=owned.FIELD_MANAGER):
    """A server-side apply by `manager` that does not force conflicts (as the audit log recorded it)."""
    return request.verb == "patch" and request.query.get("fieldManager") == manager and request.query.get("force") == "false"


def has_preconditions(request, live_before):
    pre = (request.body or {}).get("preconditions") or {}
    return pre.get("uid") == live_before["metadata"]["uid"] and pre.get("resourceVersion") == live_before["metadata"]["resourceVersion"]


def test_converge_with_ssa_then_second_run_changes_nothing(tmp_path, kube, baseline):
    mark = kube.audit.mark()
    rc, res, proc = run(tmp_path, policy_task(kube, baseline))
    assert rc == 0, proc.stdout[-3000:]
    assert res["apply"]["changed"] and len(res["apply"]["created"]) == len(baseline)
    sent = kube.audit.writes(mark)
    assert len(sent) == len(baseline) and all(is_ssa(r) and "dryRun" not in r.query for r in sent), sent
    stored = get(kube, CCNP, "netsec-host-worker")
    assert stored["metadata"]["labels"][owned.OWNED_SET_LABEL] == SET
    assert [(m["manager"], m["operation"]) for m in stored["metadata"]["managedFields"]] == [(owned.FIELD_MANAGER, "Apply")]
    versions = [get(kube, (p["apiVersion"], p["kind"]), p["metadata"]["name"], p["metadata"].get("namespace"))["metadata"]["resourceVersion"]
                for p in baseline]

    mark = kube.audit.mark()
    rc, res, dummy_proc = run(tmp_path, policy_task(kube, baseline))
    assert rc == 0 and res["apply"]["changed"] is False
    assert set(a["action"] for a in res["apply"]["plan"]) == {"unchanged"}
    assert kube.audit.writes(mark) == [], "nothing sent the second time"
    assert versions == [get(kube, (p["apiVersion"], p["kind"]), p["metadata"]["name"], p["metadata"].get("namespace"))["metadata"]["resourceVersion"]
                        for p in baseline]


def test_check_mode_sends_dry_run_all_and_persists_nothing(tmp_path, kube, baseline):
    mark = kube.audit.mark()
    rc, res, proc = run(tmp_path, policy_task(kube, baseline), args=("--check", "--diff"))
    assert rc == 0, proc.stdout[-3000:]
    assert res["apply"]["changed"] is True and len(res["apply"]["diff"]) == len(baseline)
    sent = kube.audit.writes(mark)
    assert len(sent) == len(baseline) and all(is_ssa(r) and r.query.get("dryRun") == "All" for r in sent), sent
    assert get(kube, CCNP, "netsec-host-worker") is None
    assert kube.list(*CNP, namespace="kube-system") == []


def test_refusals_come_before_any_write_foreign_name_and_invalid_policy_by_live_crd_schema(tmp_path, kube, baseline):
    foreign = copy.deepcopy(baseline[1])
    foreign["spec"]["description"] = "hand-made by the platform team"
    before = kube.seed(foreign)
    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "bad"},
           "spec": {"nodeSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "443", "protocol": "QUIC"}]}]}]}}
    tasks = [dict(policy_task(kube, baseline, name="foreign"), ignore_errors=True),
             dict(policy_task(kube, [bad], name="invalid"), ignore_errors=True)]
    mark = kube.audit.mark()
    rc, res, proc = run(tmp_path, *tasks)
    assert rc == 0, proc.stdout[-3000:]
    assert res["foreign"]["failed"] and res["foreign"]["field"] == "policies[1]"
    assert "not managed by this collection" in res["foreign"]["msg"]
    assert get(kube, CCNP, foreign["metadata"]["name"]) == before
    assert res["invalid"]["failed"] and res["invalid"]["field"].startswith("policies[0].spec.ingress[0].toPorts[0].ports[0].protocol")
    served = kube.audit.requests(mark)
    assert any(r.path.endswith("/customresourcedefinitions/ciliumclusterwidenetworkpolicies.cilium.io") for r in served)
    assert [r for r in served if r.method != "GET"] == []
    assert get(kube, CCNP, "bad") is None and get(kube, CCNP, "netsec-host-control-plane") is None


def test_prune_deletes_only_owned_policies_no_longer_declared_with_preconditions(tmp_path, kube, baseline):
    kube.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    other_set = owned.stamp({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
                             "metadata": {"name": "team-a", "namespace": "shop"},
                             "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}, "namespace-policies")
    other = kube.seed(other_set, manager=owned.FIELD_MANAGER)
    legacy = kube.seed({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "legacy"},
                        "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}})
    run(tmp_path, policy_task(kube, baseline))
    live_before = dict((p["metadata"]["name"], get(kube, (p["apiVersion"], p["kind"]), p["metadata"]["name"], p["metadata"].get("namespace")))
                       for p in baseline[2:])
    mark = kube.audit.mark()
    rc, res, proc = run(tmp_path, policy_task(kube, baseline[:2]))
    assert rc == 0, proc.stdout[-3000:]
    pruned = res["apply"]["pruned"]
    assert sorted(pruned) == sorted(owned.describe(owned.key_of(p)) for p in baseline[2:])
    assert get(kube, CNP, "netsec-kube-dns", "kube-system") is None
    assert get(kube, CNP, "team-a", "shop") == other, "another owned set is never touched"
    assert get(kube, CCNP, "legacy") == legacy, "an object without the owner labels is never touched"
    deletes = list(kube.audit.writes(mark))
    assert len(deletes) == len(pruned) and all(r.verb == "delete" for r in deletes), deletes
    for request in deletes:
        name = request.path.rsplit("/", 1)[1]
        assert has_preconditions(request, live_before[name]), request


def test_field_taken_over_by_another_manager_conflicts_unless_forced(tmp_path, kube, baseline):
    mine = owned.stamp(baseline[0], SET)
    edited = copy.deepcopy(mine)
    edited["spec"]["description"] = "edited by hand"
    kube.seed(edited, manager="kubectl-edit")
    mark = kube.audit.mark()
    rc, res, dummy_proc = run(tmp_path, policy_task(kube, baseline[:1], prune=False))
    assert rc != 0 and "force_conflicts" in res["apply"]["msg"]
    assert [(r.verb, r.query.get("force")) for r in kube.audit.writes(mark)] == [("patch", "false")], "the apiserver refused it: 409"
    assert get(kube, CCNP, edited["metadata"]["name"])["spec"]["description"] == "edited by hand"
    mark = kube.audit.mark()
    rc, res, dummy_proc = run(tmp_path, policy_task(kube, baseline[:1], prune=False, force_conflicts=True))
    assert rc == 0
    assert [(r.verb, r.query.get("force")) for r in kube.audit.writes(mark)] == [("patch", "true")]
    assert get(kube, CCNP, edited["metadata"]["name"])["spec"]["description"] == baseline[0]["spec"]["description"]


def seed_cilium(kube, ready=True, nodes=("cp1", "w1"), config=None):
    """What a Cilium install leaves in the API: the agents' DaemonSet (status as its controller writes it),
    one Running agent Pod per node (status as the kubelet writes it), CiliumNodes with the WireGuard public
    key each agent publishes, and cilium-config."""
    labels = {"k8s-app": "cilium"}
    container = {"name": "cilium-agent", "image": "quay.io/cilium/cilium:v1.18.2"}
    kube.seed({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": "kube-system"}})
    kube.seed({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "cilium", "namespace": "kube-system", "labels": labels},
               "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}},
              manager="helm",
              status={"currentNumberScheduled": len(nodes), "numberMisscheduled": 0, "desiredNumberScheduled": len(nodes),
                      "numberReady": len(nodes) - (0 if ready else 1), "numberAvailable": len(nodes) - (0 if ready else 1),
                      "updatedNumberScheduled": len(nodes), "observedGeneration": 1})
    for n in nodes:
        kube.seed({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "cilium-" + n, "namespace": "kube-system", "labels": labels},
                   "spec": {"nodeName": n, "containers": [container]}},
                  manager="kube-controller-manager",
                  status={"phase": "Running", "containerStatuses": [
                      {"name": "cilium-agent", "ready": True, "restartCount": 0, "image": container["image"], "imageID": "",
                       "state": {"running": {"startedAt": "2026-12-04T08:00:00Z"}}}]})
        kube.seed({"apiVersion": "cilium.io/v2", "kind": "CiliumNode",
                   "metadata": {"name": n, "annotations": {"network.cilium.io/wg-pub-key": "key-" + n}}, "spec": {}}, manager="cilium-agent")
    kube.seed({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config", "namespace": "kube-system"},
               "data": config or {"enable-wireguard": "true", "encrypt-node": "true", "enable-host-firewall": "true",
                                  "policy-audit-mode": "true", "enable-policy": "default"}}, manager="helm")


def test_status_proves_encryption_from_published_keys_and_writes_nothing(tmp_path, kube):
    nodes = ["cp1", "w1"]
    seed_cilium(kube, nodes=nodes, config={"enable-wireguard": "true", "encrypt-node": "true", "enable-host-firewall": "true",
                                           "policy-audit-mode": "false", "enable-policy": "always"})
    mark = kube.audit.mark()
    rc, res, proc = run(tmp_path, {"name": "status", "safespring.netsec.cilium_status": {"kubeconfig": kube.kubeconfig}})
    assert rc == 0, proc.stdout[-3000:]
    st = res["status"]
    assert st["changed"] is False and st["agents"]["all_ready"]
    assert st["encryption"]["proven"] and st["encryption"]["nodes_with_key"] == nodes
    assert st["host_firewall"] == {"enabled": True, "enforcing": True} and st["enforcement"]["mode"] == "always"
    served = kube.audit.requests(mark)
    assert served and [r for r in served if r.method != "GET"] == [], "a read-only module sends no write"


def role_cluster_play(kube, **overrides):
    variables = {"cilium_cluster": LAB_CLUSTER, "cilium_addresses": LAB_ADDRESS_BOOK, "cilium_kubeconfig": kube.kubeconfig,
                 "cilium_mesh": "istio-ambient", "cilium_mesh_namespaces": ["shop"], "cilium_wait_retries": 1, "cilium_wait_delay": 0}
    variables.update(overrides)
    return [{"hosts": "localhost", "gather_facts": False, "vars": variables, "tasks": [
        {"name": "profile", "register": "cilium_profile", "safespring.netsec.cilium_install": {
            "cluster": "{{ cilium_cluster }}", "mesh": "{{ cilium_mesh }}", "mesh_namespaces": "{{ cilium_mesh_namespaces }}"}},
        {"name": "after install", "ansible.builtin.include_role": {"name": "safespring.netsec.cilium", "tasks_from": "cluster.yml"}},
    ]}]


def labels_of(kube, namespace):
    labels = dict(kube.get("v1", "Namespace", namespace)["metadata"].get("labels") or {})
    assert labels.pop("kubernetes.io/metadata.name") == namespace  # the apiserver's own label
    return labels


def test_role_waits_proves_and_applies_policies_and_mesh_opt_in_then_changes_nothing(tmp_path, kube):
    seed_cilium(kube)
    kube.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}})
    mark = kube.audit.mark()
    rc, res, dummy_stats, proc = run_playbook(tmp_path, role_cluster_play(kube), None, TMPDIR=str(tmp_path))
    assert rc == 0, proc.stdout[-4000:]
    assert get(kube, CCNP, "netsec-host-control-plane") is not None
    assert get(kube, CCNP, "netsec-allow-ambient-hostprobes") is not None
    pa = get(kube, PA, "default", "shop")
    assert pa["spec"] == {"mtls": {"mode": "STRICT"}} and pa["metadata"]["labels"][owned.OWNED_SET_LABEL] == "cilium-mesh"
    assert labels_of(kube, "shop") == {"team": "shop", "istio.io/dataplane-mode": "ambient"}
    ns = kube.get("v1", "Namespace", "shop")
    managers = sorted(e["manager"] for e in ns["metadata"]["managedFields"])
    assert managers == ["kubectl-client-side-apply", "safespring.netsec-mesh"]
    writes = kube.audit.writes(mark)
    assert writes and all(is_ssa(r) or is_ssa(r, "safespring.netsec-mesh") for r in writes), writes

    mark = kube.audit.mark()
    rc, res, dummy_stats, proc = run_playbook(tmp_path, role_cluster_play(kube), None, TMPDIR=str(tmp_path))
    # "profile" compares with no deployed values here (helm_info is the role's job), so only it reports a change.
    assert rc == 0 and [n for n, r in res.items() if r.get("changed")] == ["profile"], proc.stdout[-4000:]
    assert kube.audit.writes(mark) == [], "the second run sends no write"


def test_role_fails_when_an_agent_is_not_ready_and_applies_no_policy(tmp_path, kube):
    seed_cilium(kube, ready=False)
    kube.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}})
    mark = kube.audit.mark()
    rc, res, dummy_stats, proc = run_playbook(tmp_path, role_cluster_play(kube), None, TMPDIR=str(tmp_path))
    assert rc != 0
    failed = [name for name, r in res.items() if r.get("failed")]
    assert failed == ["safespring.netsec.cilium : Wait until every agent is ready (fails the role when they are not)"], failed
    assert kube.audit.writes(mark) == []
    assert kube.list(*CCNP) == []


def test_mesh_opt_out_removes_only_our_keys_and_objects(tmp_path, kube):
    for name, labels in (("shop", {"team": "shop"}), ("billing", None)):
        kube.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": dict({"name": name}, **({"labels": labels} if labels else {}))})
    foreign_pa = kube.seed({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                            "metadata": {"name": "legacy", "namespace": "billing"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}})

    def opt_in(namespaces, *args):
        book = [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "mesh", "safespring.netsec.cilium_mesh_opt_in": {
            "kubeconfig": kube.kubeconfig, "mesh": "istio-ambient", "namespaces": namespaces}}]}]
        rc, res, dummy_stats, proc = run_playbook(tmp_path, book, None, *args, TMPDIR=str(tmp_path))
        assert rc == 0, proc.stdout[-3000:]
        return res["mesh"]

    first = opt_in(["shop", "billing"])
    assert first["changed"] and sorted(first["created"]) == ["PeerAuthentication billing/default", "PeerAuthentication shop/default"]
    assert first["updated"] == ["Namespace shop", "Namespace billing"] and first["pruned"] == [] and first["requests"] > 0
    mark = kube.audit.mark()
    dry = opt_in(["shop"], "--check")
    assert dry["namespaces"] == [{"namespace": "shop", "action": "unchanged"}, {"namespace": "billing", "action": "release"}]
    assert dry["pruned"] == ["PeerAuthentication billing/default"] and dry["updated"] == ["Namespace billing"]
    dry_writes = kube.audit.writes(mark)
    assert [r.verb for r in dry_writes] == ["delete", "patch"] and all(r.query.get("dryRun") == "All" for r in dry_writes), dry_writes
    assert labels_of(kube, "billing") == {"istio.io/dataplane-mode": "ambient"}
    assert get(kube, PA, "default", "billing") is not None, "check mode deletes nothing"
    out = opt_in(["shop"])
    assert out["pruned"] == ["PeerAuthentication billing/default"]
    assert labels_of(kube, "billing") == {}
    assert get(kube, PA, "legacy", "billing") == foreign_pa
    assert labels_of(kube, "shop") == {"team": "shop", "istio.io/dataplane-mode": "ambient"}
    mark = kube.audit.mark()
    again = opt_in(["shop"])
    assert again["changed"] is False and kube.audit.writes(mark) == []
