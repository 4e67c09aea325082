"""Role safespring.netsec.zitadel_rbac in apply mode against the strict Kubernetes API contract
double (tests/fixtures/cilium.py): server-side apply of the RBAC, pruning of exactly its own
owned set (bindings before roles, uid preconditions), check mode that changes nothing."""
import copy

import pytest

from fixtures.cilium import run_playbook

PLAY = [{"hosts": "localhost", "gather_facts": False, "roles": ["safespring.netsec.zitadel_rbac"]}]
RBAC = "rbac.authorization.k8s.io"
OWNED = {"app.kubernetes.io/managed-by": "safespring.netsec", "netsec.safespring.com/owned-set": "zitadel-rbac-prod"}
TEAMS = [
    {"name": "platform", "members": ["alice@acme.example"], "access": [{"environment": "prod", "level": "cluster-admin"}]},
    {"name": "payments", "members": ["bob@acme.example"],
     "access": [{"environment": "prod", "level": "developer", "namespaces": ["payments"]}, {"environment": "prod", "level": "viewer"}]},
]


@pytest.fixture
def api_double(kubernetes_contract_double):
    """The contract double, also serving rbac.authorization.k8s.io/v1 for this test only."""
    for plural, kind, namespaced in (("clusterroles", "ClusterRole", False), ("clusterrolebindings", "ClusterRoleBinding", False),
                                     ("roles", "Role", True), ("rolebindings", "RoleBinding", True)):
        kubernetes_contract_double.serve(RBAC, "v1", plural, kind, namespaced)
    return kubernetes_contract_double


def role_vars(tmp_path, double, teams=None):
    # render-only: the ids a Zitadel run would return are given, so no Zitadel call is made
    return {
        "zitadel_rbac_url": "https://id.example.com", "zitadel_rbac_render_only": True, "zitadel_rbac_apply": True,
        "zitadel_rbac_environments": [{"name": "prod", "project_id": "285441962217030421", "client_id": "1@kubernetes-prod",
                                       "kubeconfig": double.kubeconfig(tmp_path)}],
        "zitadel_rbac_teams": copy.deepcopy(TEAMS if teams is None else teams),
    }


def binding(kind, name, labels=None, namespace=None, role="view", group="auditors"):
    meta = {"name": name}
    if labels:
        meta["labels"] = labels
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": RBAC + "/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "Group", "apiGroup": RBAC, "name": group}]}


def rbac_state(double):
    """(kind, namespace, name) -> uid of every RBAC object the double holds."""
    return dict(((o["kind"], ns, name), o["metadata"]["uid"]) for (plural, ns, name), o in double.objects.items()
                if o["apiVersion"].startswith(RBAC))


def writes(double, since=0):
    return [(m, path, q) for m, path, dummy_ctype, q in double.requests[since:] if m not in ("GET",)]


@pytest.mark.slow
def test_role_applies_rbac_with_owner_labels_and_prunes_only_a_dropped_teams_bindings(tmp_path, api_double):
    foreign = api_double.seed(binding("ClusterRoleBinding", "hand-made-auditors"))
    other_set = api_double.seed(binding("ClusterRoleBinding", "zitadel:staging-viewers",
                                        dict(OWNED, **{"netsec.safespring.com/owned-set": "zitadel-rbac-staging"})))
    # written by a release before owned sets (managed-by value only this role used): stale, so pruned
    legacy = {"app.kubernetes.io/managed-by": "safespring.netsec.zitadel_rbac"}
    api_double.seed(binding("RoleBinding", "zitadel:developer", legacy, namespace="retired"))
    # still declared (roleRef is immutable, so as the old release wrote it): relabelled in place
    adopted = api_double.seed(binding("ClusterRoleBinding", "zitadel:cluster-admin", legacy, role="cluster-admin",
                                      group="zitadel:cluster-admin"))
    base = role_vars(tmp_path, api_double)

    before = copy.deepcopy(api_double.objects)
    rc, dummy_tasks, stats, proc = run_playbook(tmp_path, PLAY, base, "--check")
    assert rc == 0, proc.stdout[-4000:]
    assert api_double.objects == before, "check mode changes nothing"
    sent = writes(api_double)
    assert sent and all(m in ("PATCH", "DELETE") and q.get("dryRun") == "All" for m, dummy_path, q in sent), sent
    # the legacy binding's prune is dry-run too: check mode reports it as the real run then does
    assert [p for m, p, dummy_q in sent if m == "DELETE"] == ["/apis/rbac.authorization.k8s.io/v1/namespaces/retired/rolebindings/zitadel:developer"]
    assert stats["changed"] > 0

    rc, dummy_tasks, stats, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-4000:]
    assert api_double.violations == []
    declared = {
        ("ClusterRole", "", "zitadel:cluster-reader"),
        ("ClusterRoleBinding", "", "zitadel:cluster-admin"),
        ("ClusterRoleBinding", "", "zitadel:viewer:view"),
        ("ClusterRoleBinding", "", "zitadel:viewer:cluster-reader"),
        ("RoleBinding", "payments", "zitadel:developer"),
    }
    survivors = {("ClusterRoleBinding", "", "hand-made-auditors"): foreign["metadata"]["uid"],
                 ("ClusterRoleBinding", "", "zitadel:staging-viewers"): other_set["metadata"]["uid"]}
    state = rbac_state(api_double)
    assert set(state) == declared | set(survivors), "the legacy object of this role is pruned, nothing else"
    for kind, namespace, name in declared:
        assert api_double.get(kind, name, namespace)["metadata"]["labels"] == OWNED, (kind, name)
    assert api_double.get("ClusterRoleBinding", "hand-made-auditors")["metadata"].get("labels") is None
    assert state[("ClusterRoleBinding", "", "zitadel:cluster-admin")] == adopted["metadata"]["uid"]
    assert api_double.get("ClusterRoleBinding", "zitadel:cluster-admin")["metadata"]["labels"] == OWNED

    mark = len(api_double.requests)
    rc, dummy_tasks, stats, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-4000:]
    assert stats["changed"] == 0, "second run changes nothing"
    assert rbac_state(api_double) == state
    assert not [w for w in writes(api_double, mark) if w[0] == "DELETE"]

    fewer = role_vars(tmp_path, api_double, teams=TEAMS[:1])  # team payments disbanded
    mark = len(api_double.requests)
    rc, tasks, stats, proc = run_playbook(tmp_path, PLAY, fewer, "--check")
    assert rc == 0, proc.stdout[-4000:]
    assert rbac_state(api_double) == state, "check mode deletes nothing"
    dry = writes(api_double, mark)
    assert all(m in ("PATCH", "DELETE") and q.get("dryRun") == "All" for m, dummy_path, q in dry), dry
    would = [r for n, r in tasks.items() if n.startswith("safespring.netsec.zitadel_rbac : Revoke stale RBAC")]
    assert len(would) == 1 and would[0]["changed"]
    assert sorted(would[0]["pruned"]) == sorted([
        "ClusterRole zitadel:cluster-reader", "ClusterRoleBinding zitadel:viewer:cluster-reader",
        "ClusterRoleBinding zitadel:viewer:view", "RoleBinding payments/zitadel:developer"]), would[0]["pruned"]
    assert len([m for m, dummy_path, dummy_q in dry if m == "DELETE"]) == 4, "check mode dry-runs the same four deletions"

    mark = len(api_double.requests)
    rc, tasks, stats, proc = run_playbook(tmp_path, PLAY, fewer)
    assert rc == 0, proc.stdout[-4000:]
    assert api_double.violations == [], "every DELETE carried its uid precondition"
    after = rbac_state(api_double)
    assert set(state) - set(after) == {
        ("ClusterRoleBinding", "", "zitadel:viewer:view"), ("ClusterRoleBinding", "", "zitadel:viewer:cluster-reader"),
        ("RoleBinding", "payments", "zitadel:developer"), ("ClusterRole", "", "zitadel:cluster-reader")}
    assert set(after) == {("ClusterRoleBinding", "", "zitadel:cluster-admin")} | set(survivors)
    for key, uid in survivors.items():
        assert after[key] == uid, "foreign objects and other owned sets are never touched"
    sent = writes(api_double, mark)
    deletes = [path for m, path, dummy_q in sent if m == "DELETE"]
    assert len(deletes) == 4
    assert deletes[-1].endswith("/clusterroles/zitadel:cluster-reader"), "bindings go before the role they reference"
    # revoked first; the remaining binding is unchanged on the live state, so nothing is applied
    assert [m for m, dummy_path, dummy_q in sent] == ["DELETE"] * 4, "access is revoked, nothing unchanged is re-sent"


def test_role_refuses_a_foreign_object_under_a_declared_name_before_any_change(tmp_path, api_double):
    api_double.seed(binding("ClusterRoleBinding", "zitadel:cluster-admin"))
    stale = api_double.seed(binding("ClusterRoleBinding", "zitadel:viewer:view", OWNED))
    before = copy.deepcopy(api_double.objects)
    rc, dummy_tasks, dummy_stats, proc = run_playbook(tmp_path, PLAY, role_vars(tmp_path, api_double, teams=TEAMS[:1]))
    assert rc != 0
    assert "ClusterRoleBinding//zitadel:cluster-admin" in proc.stdout and "zitadel-rbac-prod" in proc.stdout
    assert api_double.objects == before, "nothing applied, nothing pruned"
    assert stale["metadata"]["uid"] == api_double.get("ClusterRoleBinding", "zitadel:viewer:view")["metadata"]["uid"]
    assert writes(api_double) == []


def test_role_refuses_an_owned_set_name_that_is_no_label_value_before_any_change(tmp_path, api_double):
    variables = role_vars(tmp_path, api_double)
    variables["zitadel_rbac_environments"][0]["owned_set"] = "zitadel rbac/prod"
    rc, dummy_tasks, dummy_stats, proc = run_playbook(tmp_path, PLAY, variables)
    assert rc != 0 and "owned_set" in proc.stdout and "not a valid label value" in proc.stdout
    assert api_double.requests == []
