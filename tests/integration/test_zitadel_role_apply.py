"""Role safespring.netsec.zitadel_rbac in apply mode against a real kube-apiserver 1.36 + etcd (a
fresh instance of the lab component `kube` per test, audit log on): server-side apply of the RBAC,
pruning of exactly its own owned set (bindings before roles, uid + resourceVersion preconditions,
as the apiserver's audit log records them), check mode that is the apiserver's dry run and changes
nothing. The apiserver's own bootstrap RBAC (system:*) is there as on any cluster, and never touched."""
import copy

import pytest

from fixtures.cilium import run_playbook

pytestmark = pytest.mark.lab

PLAY = [{"hosts": "localhost", "gather_facts": False, "roles": ["safespring.netsec.zitadel_rbac"]}]
RBAC = "rbac.authorization.k8s.io"
KINDS = ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
OWNED = {"app.kubernetes.io/managed-by": "safespring.netsec", "netsec.safespring.com/owned-set": "zitadel-rbac-prod"}
TEAMS = [
    {"name": "platform", "members": ["alice@acme.example"], "access": [{"environment": "prod", "level": "cluster-admin"}]},
    {"name": "payments", "members": ["bob@acme.example"],
     "access": [{"environment": "prod", "level": "developer", "namespaces": ["payments"]}, {"environment": "prod", "level": "viewer"}]},
]


def rbac_objects(kube):
    """(kind, namespace, name) -> object, of every RBAC object the apiserver holds."""
    out = {}
    for kind in KINDS:
        for obj in kube.list(RBAC + "/v1", kind):
            out[(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])] = obj
    return out


@pytest.fixture
def kube(kube_audited):
    """A fresh apiserver with the namespaces the role's bindings and the seeded objects live in; `bootstrap`
    holds the keys of the apiserver's own RBAC, left out of every comparison below."""
    for name in ("payments", "retired"):
        kube_audited.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    kube_audited.bootstrap = set(rbac_objects(kube_audited))
    return kube_audited


def role_vars(kube, teams=None):
    # render-only: the ids a Zitadel run would return are given, so no Zitadel call is made
    return {
        "zitadel_rbac_url": "https://id.example.com", "zitadel_rbac_render_only": True, "zitadel_rbac_apply": True,
        "zitadel_rbac_environments": [{"name": "prod", "project_id": "285441962217030421", "client_id": "1@kubernetes-prod",
                                       "kubeconfig": kube.kubeconfig}],
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


def rbac_state(kube):
    """(kind, namespace, name) -> uid of every RBAC object but the apiserver's bootstrap ones."""
    return dict((k, o["metadata"]["uid"]) for k, o in rbac_objects(kube).items() if k not in kube.bootstrap)


def versions(kube):
    """(kind, namespace, name) -> resourceVersion of every RBAC object, bootstrap ones included."""
    return dict((k, o["metadata"]["resourceVersion"]) for k, o in rbac_objects(kube).items())


def get(kube, kind, name, namespace=None):
    return kube.get(RBAC + "/v1", kind, name, namespace)


def all_dry_run(sent):
    return sent and all(r.verb in ("patch", "delete") and r.query.get("dryRun") == "All" for r in sent)


def deletes_with_preconditions(sent, live):
    """The DELETEs sent, each checked to carry the uid and resourceVersion the object had when planned."""
    out = []
    for r in sent:
        if r.verb != "delete":
            continue
        parts = r.path.split("/")
        kind = {"clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding", "roles": "Role", "rolebindings": "RoleBinding"}[parts[-2]]
        key = (kind, parts[-3] if "namespaces" in parts else "", parts[-1])
        pre = (r.body or {}).get("preconditions") or {}
        assert pre == {"uid": live[key]["metadata"]["uid"], "resourceVersion": live[key]["metadata"]["resourceVersion"]}, (key, pre)
        out.append(r.path)
    return out


@pytest.mark.slow
def test_role_applies_rbac_with_owner_labels_and_prunes_only_a_dropped_teams_bindings(tmp_path, kube):
    foreign = kube.seed(binding("ClusterRoleBinding", "hand-made-auditors"))
    other_set = kube.seed(binding("ClusterRoleBinding", "zitadel:staging-viewers",
                                  dict(OWNED, **{"netsec.safespring.com/owned-set": "zitadel-rbac-staging"})))
    # written by a release before owned sets (managed-by value only this role used): stale, so pruned
    legacy = {"app.kubernetes.io/managed-by": "safespring.netsec.zitadel_rbac"}
    kube.seed(binding("RoleBinding", "zitadel:developer", legacy, namespace="retired"))
    # still declared (roleRef is immutable, so as the old release wrote it): relabelled in place
    adopted = kube.seed(binding("ClusterRoleBinding", "zitadel:cluster-admin", legacy, role="cluster-admin",
                                group="zitadel:cluster-admin"))
    base = role_vars(kube)

    before, live = versions(kube), rbac_objects(kube)
    mark = kube.audit.mark()
    rc, dummy_tasks, stats, proc = run_playbook(tmp_path, PLAY, base, "--check")
    assert rc == 0, proc.stdout[-4000:]
    assert versions(kube) == before, "check mode changes nothing"
    sent = kube.audit.writes(mark)
    assert all_dry_run(sent), sent
    # the legacy binding's prune is dry-run too: check mode reports it as the real run then does
    assert deletes_with_preconditions(sent, live) == ["/apis/rbac.authorization.k8s.io/v1/namespaces/retired/rolebindings/zitadel:developer"]
    assert stats["changed"] > 0

    live = rbac_objects(kube)
    mark = kube.audit.mark()
    rc, dummy_tasks, stats, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-4000:]
    sent = kube.audit.writes(mark)
    assert len(deletes_with_preconditions(sent, live)) == 1, "every DELETE carried its uid + resourceVersion preconditions"
    assert all(r.query.get("fieldManager") == "safespring.netsec" for r in sent if r.verb == "patch")
    assert not [r for r in sent if "dryRun" in r.query]
    declared = {
        ("ClusterRole", "", "zitadel:cluster-reader"),
        ("ClusterRoleBinding", "", "zitadel:cluster-admin"),
        ("ClusterRoleBinding", "", "zitadel:viewer:view"),
        ("ClusterRoleBinding", "", "zitadel:viewer:cluster-reader"),
        ("RoleBinding", "payments", "zitadel:developer"),
    }
    survivors = {("ClusterRoleBinding", "", "hand-made-auditors"): foreign["metadata"]["uid"],
                 ("ClusterRoleBinding", "", "zitadel:staging-viewers"): other_set["metadata"]["uid"]}
    state = rbac_state(kube)
    assert set(state) == declared | set(survivors), "the legacy object of this role is pruned, nothing else"
    for kind, namespace, name in declared:
        assert get(kube, kind, name, namespace)["metadata"]["labels"] == OWNED, (kind, name)
    assert get(kube, "ClusterRoleBinding", "hand-made-auditors")["metadata"].get("labels") is None
    assert state[("ClusterRoleBinding", "", "zitadel:cluster-admin")] == adopted["metadata"]["uid"]
    assert get(kube, "ClusterRoleBinding", "zitadel:cluster-admin")["metadata"]["labels"] == OWNED
    assert {k: before[k] for k in kube.bootstrap} == {k: versions(kube)[k] for k in kube.bootstrap}, "bootstrap RBAC untouched"

    before = versions(kube)
    mark = kube.audit.mark()
    rc, dummy_tasks, stats, proc = run_playbook(tmp_path, PLAY, base)
    assert rc == 0, proc.stdout[-4000:]
    assert stats["changed"] == 0, "second run changes nothing"
    assert kube.audit.writes(mark) == [] and versions(kube) == before

    fewer = role_vars(kube, teams=TEAMS[:1])  # team payments disbanded
    live = rbac_objects(kube)
    mark = kube.audit.mark()
    rc, tasks, stats, proc = run_playbook(tmp_path, PLAY, fewer, "--check")
    assert rc == 0, proc.stdout[-4000:]
    assert versions(kube) == before, "check mode deletes nothing"
    dry = kube.audit.writes(mark)
    assert all_dry_run(dry), dry
    would = [r for n, r in tasks.items() if n.startswith("safespring.netsec.zitadel_rbac : Revoke stale RBAC")]
    assert len(would) == 1 and would[0]["changed"]
    assert sorted(would[0]["pruned"]) == sorted([
        "ClusterRole zitadel:cluster-reader", "ClusterRoleBinding zitadel:viewer:cluster-reader",
        "ClusterRoleBinding zitadel:viewer:view", "RoleBinding payments/zitadel:developer"]), would[0]["pruned"]
    assert len(deletes_with_preconditions(dry, live)) == 4, "check mode dry-runs the same four deletions"

    mark = kube.audit.mark()
    rc, tasks, stats, proc = run_playbook(tmp_path, PLAY, fewer)
    assert rc == 0, proc.stdout[-4000:]
    after = rbac_state(kube)
    assert set(state) - set(after) == {
        ("ClusterRoleBinding", "", "zitadel:viewer:view"), ("ClusterRoleBinding", "", "zitadel:viewer:cluster-reader"),
        ("RoleBinding", "payments", "zitadel:developer"), ("ClusterRole", "", "zitadel:cluster-reader")}
    assert set(after) == {("ClusterRoleBinding", "", "zitadel:cluster-admin")} | set(survivors)
    for key, uid in survivors.items():
        assert after[key] == uid, "foreign objects and other owned sets are never touched"
    sent = kube.audit.writes(mark)
    deletes = deletes_with_preconditions(sent, live)
    assert len(deletes) == 4
    assert deletes[-1].endswith("/clusterroles/zitadel:cluster-reader"), "bindings go before the role they reference"
    # revoked first; the remaining binding is unchanged on the live state, so nothing is applied
    assert [r.verb for r in sent] == ["delete"] * 4, "access is revoked, nothing unchanged is re-sent"


def test_role_refuses_a_foreign_object_under_a_declared_name_before_any_change(tmp_path, kube):
    kube.seed(binding("ClusterRoleBinding", "zitadel:cluster-admin"))
    stale = kube.seed(binding("ClusterRoleBinding", "zitadel:viewer:view", OWNED))
    before = versions(kube)
    mark = kube.audit.mark()
    rc, dummy_tasks, dummy_stats, proc = run_playbook(tmp_path, PLAY, role_vars(kube, teams=TEAMS[:1]))
    assert rc != 0
    assert "ClusterRoleBinding//zitadel:cluster-admin" in proc.stdout and "zitadel-rbac-prod" in proc.stdout
    assert versions(kube) == before, "nothing applied, nothing pruned"
    assert stale["metadata"]["uid"] == get(kube, "ClusterRoleBinding", "zitadel:viewer:view")["metadata"]["uid"]
    assert kube.audit.writes(mark) == []


def test_role_refuses_an_owned_set_name_that_is_no_label_value_before_any_change(tmp_path, kube):
    variables = role_vars(kube)
    variables["zitadel_rbac_environments"][0]["owned_set"] = "zitadel rbac/prod"
    mark = kube.audit.mark()
    rc, dummy_tasks, dummy_stats, proc = run_playbook(tmp_path, PLAY, variables)
    assert rc != 0 and "owned_set" in proc.stdout and "not a valid label value" in proc.stdout
    assert kube.audit.requests(mark) == [], "refused before any request"
