"""Zitadel identity at a real kube-apiserver: the AuthenticationConfiguration and RBAC that the
lab's identity stage (playbooks/zitadel_rbac.yml: role zitadel_rbac -> zitadel_kubernetes_access,
render-only) writes for the lab inventory's `netsec_zitadel`, unchanged, in a kube-apiserver 1.36
(a second instance of the lab component `kube`) that verifies tokens from a real HTTPS OIDC
issuer minting Zitadel-shaped tokens (tests/fixtures/oidc_issuer.py). Only the issuer URL and CA
point at the test issuer, and the environment asks for apiserver.config.k8s.io/v1.

Identity is read back with SelfSubjectReview (what the apiserver made of the token), access with
SelfSubjectAccessReview sent with the token itself, so each answer covers authentication, the CEL
mappings and RBAC together. A refused token is a 401 on any request.
"""
import json
import os
import pathlib
import subprocess
import time

import pytest
import yaml

from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import authn
from ansible_collections.safespring.netsec.plugins.modules import zitadel_kubernetes_access as module
from fixtures.kube import kube_instance
from fixtures.lab import REPO
from fixtures.oidc_issuer import OTHER_ORG_DOMAIN, OTHER_ORG_ID, OidcIssuer, zitadel_amr

pytestmark = pytest.mark.lab

INVENTORY = REPO / "inventories" / "lab" / "group_vars" / "all" / "netsec.yml"
ROLE_DEFAULTS = REPO / "roles" / "zitadel_rbac" / "defaults" / "main.yml"
API_VERSION = "apiserver.config.k8s.io/v1"  # stable since 1.34; the lab runs 1.36
SSR = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
# The built-in roles whose rules kube-controller-manager aggregates (it does not run in the lab).
AGGREGATED = ("view", "edit", "admin")


def lab_zitadel():
    return yaml.safe_load(INVENTORY.read_text())["netsec_zitadel"]


def render_with_the_identity_stage(zitadel, issuer, directory):
    """Run playbooks/zitadel_rbac.yml on the lab inventory, render-only: (config path, RBAC objects)."""
    zitadel = dict(zitadel, environments=[dict(env, authentication_api_version=API_VERSION) for env in zitadel["environments"]])
    variables = directory / "vars.json"
    variables.write_text(json.dumps({"netsec_zitadel": zitadel, "netsec_render_dir": str(directory / "rendered"),
                                     "zitadel_rbac_issuer_url": issuer.url, "zitadel_rbac_issuer_ca": issuer.ca_pem}))
    proc = subprocess.run(["ansible-playbook", "-i", str(REPO / "inventories" / "lab"), str(REPO / "playbooks" / "zitadel_rbac.yml"),
                           "-e", "@" + str(variables)], capture_output=True, text=True, timeout=300, check=False,
                          cwd=REPO, env=dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = directory / "rendered" / "zitadel" / zitadel["environments"][0]["name"]
    return out / "authentication-config.yaml", list(yaml.safe_load_all((out / "rbac.yaml").read_text()))


def module_params(zitadel, issuer):
    """What roles/zitadel_rbac/tasks/environment.yml passes the module for the lab environment
    (render-only ids from the inventory, knobs from the role defaults), the issuer being the test's."""
    defaults = yaml.safe_load(ROLE_DEFAULTS.read_text())
    env = zitadel["environments"][0]
    params = {k: v.get("default") for k, v in module.argument_spec().items()}
    params.update(
        issuer_url=issuer.url, certificate_authority=issuer.ca_pem, client_id=env["client_id"], project_id=env["project_id"],
        org_id=zitadel["org_id"], api_version=API_VERSION, username_claim=defaults["zitadel_rbac_username_claim"],
        username_prefix=defaults["zitadel_rbac_username_prefix"], groups_prefix=defaults["zitadel_rbac_groups_prefix"],
        require_mfa=defaults["zitadel_rbac_require_mfa"], mfa_amr_values=defaults["zitadel_rbac_mfa_amr_values"],
        cluster_name=env["name"], server=env["api_server"],
        access=[{"level": a["level"], "namespaces": a.get("namespaces", [])}
                for team in zitadel["teams"] for a in team["access"] if a["environment"] == env["name"]])
    return params


def aggregate_cluster_roles(kube):
    """kube-controller-manager's clusterrole-aggregation, once: each aggregated role gets the union
    of the rules of the roles its selectors match, aggregated ones included (`view` carries the
    aggregate-to-edit label, `edit` aggregate-to-admin), hence view before edit before admin."""
    roles = {r["metadata"]["name"]: r for r in kube.admin_request("GET", RBAC + "/clusterroles")["items"]}
    for name in AGGREGATED:
        target = roles[name]
        selectors = [s["matchLabels"] for s in target["aggregationRule"]["clusterRoleSelectors"]]
        rules = []
        for other, role in sorted(roles.items()):
            labels = role["metadata"].get("labels") or {}
            if other != name and any(all(labels.get(k) == v for k, v in s.items()) for s in selectors):
                rules += [r for r in role.get("rules") or [] if r not in rules]
        target["rules"] = rules
        roles[name] = kube.admin_request("PUT", f"{RBAC}/clusterroles/{name}", json=target)


def apply(kube, obj):
    kind = obj["kind"]
    ns = obj["metadata"].get("namespace")
    path = f"{RBAC}/namespaces/{ns}/{kind.lower()}s" if ns else f"{RBAC}/{kind.lower()}s"
    kube.admin_request("POST", path, json=obj)


class IdentityLab:
    def __init__(self, kube, issuer, config_path, rbac=()):
        self.kube, self.issuer, self.config_path, self.rbac = kube, issuer, config_path, list(rbac)

    def review(self, token):
        """SelfSubjectReview with the token: (status code, userInfo or None)."""
        resp = self.kube.bearer_request("POST", SSR, token, json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        return resp.status_code, (resp.json()["status"]["userInfo"] if resp.status_code == 201 else None)

    def can(self, token, verb, resource, namespace="", group="", subresource=""):
        attrs = {"verb": verb, "resource": resource, "group": group, "namespace": namespace, "subresource": subresource}
        resp = self.kube.bearer_request("POST", SSAR, token, json={
            "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": attrs}})
        assert resp.status_code == 201, resp.text
        return resp.json()["status"]["allowed"]


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    directory = tmp_path_factory.mktemp("identity")
    zitadel = lab_zitadel()
    env = zitadel["environments"][0]
    issuer = OidcIssuer(directory, project_id=env["project_id"], client_id=env["client_id"], org_id=zitadel["org_id"])
    try:
        config_path, rbac = render_with_the_identity_stage(zitadel, issuer, directory)
        with kube_instance(f"identity-{os.getpid()}", authentication_config=config_path) as kube:
            lab = IdentityLab(kube, issuer, config_path, rbac)
            kube.admin_request("POST", "/api/v1/namespaces", json={"metadata": {"name": "shop"}})
            aggregate_cluster_roles(kube)
            for obj in rbac:
                apply(kube, obj)
            # The JWT authenticator fetches discovery/JWKS after start: wait until a valid token passes.
            deadline = time.monotonic() + 30
            while lab.review(issuer.token())[0] != 201:
                if time.monotonic() > deadline:
                    log = pathlib.Path(kube.info["logs"]["kube-apiserver"]).read_text().splitlines()
                    pytest.fail("the apiserver never accepted a valid token:\n" + "\n".join(log[-15:]))
                time.sleep(0.5)
            wait_until_rbac_is_in_effect(lab)
            yield lab
    finally:
        issuer.close()


SUB = "310000000000000042"


def wait_until_rbac_is_in_effect(lab, seconds=30):
    """The RBAC authorizer reads roles and bindings from a watch cache: wait until one grant of each
    applied binding (and of the aggregated roles) answers allowed, so no test meets a stale cache."""
    issuer = lab.issuer
    probes = [(issuer.roles("cluster-admin"), ("get", "secrets", "kube-system")),
              (issuer.roles("viewer"), ("list", "pods", "kube-system")),
              (issuer.roles("viewer"), ("list", "customresourcedefinitions", "", "apiextensions.k8s.io")),
              (issuer.roles("developer:shop"), ("create", "deployments", "shop", "apps"))]
    deadline = time.monotonic() + seconds
    for roles, (verb, resource, namespace, *group) in probes:
        token = issuer.token(roles=roles)
        while not lab.can(token, verb, resource, namespace=namespace, group=group[0] if group else ""):
            assert time.monotonic() < deadline, f"RBAC never allowed {verb} {resource} for {sorted(roles)}"
            time.sleep(0.2)


def groups(info):
    return sorted(info["groups"])


# -- the configuration is the module's, and the apiserver loaded it --------------------------------------------------

def test_apiserver_runs_the_rendered_configuration_unchanged_and_fetched_discovery_and_jwks(identity):
    started = pathlib.Path(identity.kube.info["authentication_config"])
    assert started.read_text() == identity.config_path.read_text()
    config = yaml.safe_load(identity.config_path.read_text())
    assert config["apiVersion"] == API_VERSION
    assert config["jwt"][0]["issuer"]["url"] == identity.issuer.url
    assert {"/.well-known/openid-configuration", "/oauth/v2/keys"} <= set(identity.issuer.requests)


def test_the_stage_renders_what_the_module_plans_for_the_same_inputs(identity):
    planned = module.plan(module_params(lab_zitadel(), identity.issuer))
    assert yaml.safe_load(identity.config_path.read_text()) == planned["authentication_configuration"]
    assert identity.rbac == planned["rbac"]


# -- MFA: only `mfa` in amr passes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("methods", [("password", "totp"), ("passkey",), ("password", "u2f"), ("password", "passkey")],
                         ids="+".join)
def test_zitadel_multi_factor_logins_are_accepted(identity, methods):
    amr = zitadel_amr(*methods)
    assert "mfa" in amr
    status, info = identity.review(identity.issuer.token(sub=SUB, amr=amr))
    assert status == 201
    assert info["username"] == "zitadel:" + SUB


@pytest.mark.parametrize("amr", [zitadel_amr("password"), zitadel_amr("totp"), zitadel_amr("u2f"), zitadel_amr("idp"),
                                 ["pwd", "otp"], ["MFA"], ["mfa "]],
                         ids=["pwd", "otp", "user", "idp-empty", "pwd+otp-without-mfa", "upper-case", "trailing-space"])
def test_tokens_without_mfa_in_amr_are_refused(identity, amr):
    assert identity.review(identity.issuer.token(sub=SUB, amr=amr))[0] == 401


def test_a_token_without_amr_is_refused(identity):
    assert identity.review(identity.issuer.token(sub=SUB, drop=("amr",)))[0] == 401


def test_amr_that_is_not_a_list_is_refused(identity):
    assert identity.review(identity.issuer.token(sub=SUB, amr="mfa"))[0] == 401


# -- username and groups exactly as the CEL mappings promise ---------------------------------------------------------

def test_username_is_the_prefixed_sub_and_groups_are_the_prefixed_role_keys_of_the_own_org(identity):
    token = identity.issuer.token(sub=SUB, username="bob@lab.netsec.test", roles=identity.issuer.roles("developer:shop", "viewer"))
    status, info = identity.review(token)
    assert status == 201
    assert info["username"] == "zitadel:" + SUB
    assert info["uid"] == SUB
    assert groups(info) == ["system:authenticated", "zitadel:developer:shop", "zitadel:viewer"]


def test_renaming_the_user_keeps_the_kubernetes_username(identity):
    infos = [identity.review(identity.issuer.token(sub=SUB, username=name))[1] for name in ("bob@lab.netsec.test", "robert@lab.netsec.test")]
    assert infos[0]["username"] == infos[1]["username"] == "zitadel:" + SUB


def test_a_user_without_roles_is_authenticated_with_no_zitadel_group(identity):
    status, info = identity.review(identity.issuer.token(sub=SUB, roles={}))
    assert status == 201
    assert groups(info) == ["system:authenticated"]


def test_roles_granted_in_another_organisation_do_not_become_groups(identity):
    issuer = identity.issuer
    roles = issuer.roles("cluster-admin", org_id=OTHER_ORG_ID, org_domain=OTHER_ORG_DOMAIN)
    roles.update(issuer.roles("viewer"))
    status, info = identity.review(issuer.token(sub=SUB, roles=roles))
    assert status == 201
    assert groups(info) == ["system:authenticated", "zitadel:viewer"]


def test_a_role_granted_in_both_organisations_counts_once(identity):
    issuer = identity.issuer
    roles = {"viewer": {issuer.org_id: issuer.org_domain, OTHER_ORG_ID: OTHER_ORG_DOMAIN}}
    assert groups(identity.review(issuer.token(sub=SUB, roles=roles))[1]) == ["system:authenticated", "zitadel:viewer"]


def test_roles_of_another_project_do_not_become_groups(identity):
    # The generic urn:zitadel:iam:org:project:roles claim carries them too: only the pinned claim counts.
    status, info = identity.review(identity.issuer.token(sub=SUB, project_id="399999999999999910",
                                                         roles=identity.issuer.roles("cluster-admin")))
    assert status == 201
    assert groups(info) == ["system:authenticated"]


def test_a_role_claim_that_is_not_a_map_rejects_the_token(identity):
    # e.g. rewritten by a Zitadel Action into a list: the CEL fails, and the apiserver fails closed.
    claim = authn.role_claim(identity.issuer.project_id)
    assert identity.review(identity.issuer.token(sub=SUB, roles={}, **{claim: ["cluster-admin"]}))[0] == 401


# -- system: identities ----------------------------------------------------------------------------------------------

def test_system_names_in_the_token_stay_under_the_zitadel_prefix(identity):
    token = identity.issuer.token(sub="system:admin", roles=identity.issuer.roles("system:masters"))
    status, info = identity.review(token)
    assert status == 201
    assert info["username"] == "zitadel:system:admin"
    assert groups(info) == ["system:authenticated", "zitadel:system:masters"]
    assert not identity.can(token, "get", "secrets", namespace="kube-system")


# -- the token itself: signature, issuer, audience, lifetime ---------------------------------------------------------

def test_an_es256_token_is_accepted_as_well(identity):
    assert identity.review(identity.issuer.token(sub=SUB, alg="ES256"))[0] == 201


@pytest.mark.parametrize("case", ["expired", "wrong-audience", "forged", "other-issuer"])
def test_tokens_the_apiserver_must_not_trust_are_refused(identity, case):
    issuer = identity.issuer
    token = {
        "expired": lambda: issuer.token(sub=SUB, expires_in=-60),
        "wrong-audience": lambda: issuer.token(sub=SUB, audience=["399999999999999911@other-app", issuer.project_id]),
        "forged": lambda: issuer.token(sub=SUB, forged=True),
        "other-issuer": lambda: issuer.token(sub=SUB, iss="https://zitadel.lab.netsec.test"),
    }[case]()
    assert identity.review(token)[0] == 401


def test_the_project_id_alone_is_not_an_accepted_audience(identity):
    assert identity.review(identity.issuer.token(sub=SUB, audience=[identity.issuer.project_id]))[0] == 401


# -- RBAC: each team/level of netsec_zitadel gets exactly what it is meant to ----------------------------------------

# (verb, resource, api group, namespace, subresource) -> allowed, per lab team's role keys.
MATRIX = [
    # what                                             cluster-admin developer:shop viewer  no-role other-org-admin
    (("get", "secrets", "", "kube-system", ""), (True, False, False, False, False)),
    (("create", "clusterrolebindings", "rbac.authorization.k8s.io", "", ""), (True, False, False, False, False)),
    (("delete", "nodes", "", "", ""), (True, False, False, False, False)),
    (("list", "pods", "", "shop", ""), (True, True, True, False, False)),
    (("list", "pods", "", "kube-system", ""), (True, False, True, False, False)),
    (("create", "deployments", "apps", "shop", ""), (True, True, False, False, False)),
    (("create", "deployments", "apps", "default", ""), (True, False, False, False, False)),
    (("get", "secrets", "", "shop", ""), (True, True, False, False, False)),
    (("get", "secrets", "", "default", ""), (True, False, False, False, False)),
    (("create", "pods", "", "shop", "exec"), (True, True, False, False, False)),
    (("create", "rolebindings", "rbac.authorization.k8s.io", "shop", ""), (True, False, False, False, False)),
    (("list", "roles", "rbac.authorization.k8s.io", "shop", ""), (True, False, False, False, False)),
    (("list", "nodes", "", "", ""), (True, False, True, False, False)),
    (("list", "namespaces", "", "", ""), (True, False, True, False, False)),
    (("list", "customresourcedefinitions", "apiextensions.k8s.io", "", ""), (True, False, True, False, False)),
    (("patch", "nodes", "", "", ""), (True, False, False, False, False)),
    (("impersonate", "users", "", "", ""), (True, False, False, False, False)),
    (("escalate", "clusterroles", "rbac.authorization.k8s.io", "", ""), (True, False, False, False, False)),
]
SUBJECTS = ["cluster-admin", "developer:shop", "viewer", None, "other-org-cluster-admin"]


def subject_token(identity, subject):
    issuer = identity.issuer
    if subject is None:
        return issuer.token(sub="310000000000000099", roles={})
    if subject == "other-org-cluster-admin":
        return issuer.token(sub="310000000000000098", roles=issuer.roles("cluster-admin", org_id=OTHER_ORG_ID, org_domain=OTHER_ORG_DOMAIN))
    return issuer.token(sub="310000000000000097", roles=issuer.roles(subject))


def test_the_lab_teams_are_exactly_the_levels_the_matrix_covers(identity):
    keys = sorted({o["metadata"]["annotations"]["netsec.safespring.com/zitadel-role"] for o in identity.rbac if o["kind"].endswith("Binding")})
    assert keys == ["cluster-admin", "developer:shop", "viewer"]


@pytest.mark.parametrize("subject", SUBJECTS, ids=lambda s: s or "no-role")
def test_each_level_gets_exactly_the_intended_verbs_and_namespaces(identity, subject):
    token = subject_token(identity, subject)
    column = SUBJECTS.index(subject)
    got = {(verb, resource, group, ns, sub): identity.can(token, verb, resource, namespace=ns, group=group, subresource=sub)
           for (verb, resource, group, ns, sub), dummy in MATRIX}
    want = {attrs: allowed[column] for attrs, allowed in MATRIX}
    assert got == want


# The lab has no operator team: the module's objects for that level, in an owned set of their own.
OPERATOR_MATRIX = [
    (("patch", "deployments", "apps", "shop", ""), True),
    (("update", "statefulsets", "apps", "kube-system", "scale"), True),
    (("create", "jobs", "batch", "shop", ""), True),
    (("delete", "pods", "", "shop", ""), True),
    (("create", "pods", "", "shop", "eviction"), True),
    (("get", "pods", "", "shop", "log"), True),
    (("patch", "nodes", "", "", ""), True),
    (("list", "nodes", "", "", ""), True),
    (("create", "deployments", "apps", "shop", ""), False),
    (("get", "secrets", "", "shop", ""), False),
    (("list", "secrets", "", "kube-system", ""), False),
    (("create", "pods", "", "shop", "exec"), False),
    (("create", "rolebindings", "rbac.authorization.k8s.io", "shop", ""), False),
    (("delete", "nodes", "", "", ""), False),
    (("delete", "namespaces", "", "", ""), False),
]


def test_the_operator_level_runs_workloads_but_reads_no_secrets_and_changes_no_rbac(identity):
    kube, issuer = identity.kube, identity.issuer
    params = dict(module_params(lab_zitadel(), issuer), access=[{"level": "operator", "namespaces": []}], owned_set="zitadel-rbac-operator-probe")
    for obj in module.plan(params)["rbac"]:
        if obj["metadata"]["name"] != "zitadel:cluster-reader":  # the lab's viewer already brought it
            apply(kube, obj)
    token = issuer.token(sub=SUB, roles=issuer.roles("operator"))
    deadline = time.monotonic() + 30
    while not identity.can(token, "patch", "nodes"):
        assert time.monotonic() < deadline, "the operator bindings never took effect"
        time.sleep(0.2)
    got = {(verb, resource, group, ns, sub): identity.can(token, verb, resource, namespace=ns, group=group, subresource=sub)
           for (verb, resource, group, ns, sub), dummy in OPERATOR_MATRIX}
    assert got == dict(OPERATOR_MATRIX)


def test_a_real_request_agrees_with_the_review(identity):
    kube, issuer = identity.kube, identity.issuer
    developer = issuer.token(sub=SUB, roles=issuer.roles("developer:shop"))
    assert kube.bearer_request("GET", "/api/v1/namespaces/shop/configmaps", developer).status_code == 200
    resp = kube.bearer_request("GET", "/api/v1/namespaces/default/configmaps", developer)
    assert resp.status_code == 403
    assert f'User "zitadel:{SUB}" cannot list resource "configmaps"' in resp.json()["message"]
    without_mfa = issuer.token(sub=SUB, roles=issuer.roles("cluster-admin"), amr=zitadel_amr("password"))
    assert kube.bearer_request("GET", "/api/v1/namespaces/shop/configmaps", without_mfa).status_code == 401


def test_nothing_applied_binds_system_masters_or_any_system_group(identity):
    bindings = (identity.kube.admin_request("GET", RBAC + "/clusterrolebindings")["items"]
                + identity.kube.admin_request("GET", RBAC + "/rolebindings")["items"])
    owned_set = identity.rbac[0]["metadata"]["labels"]["netsec.safespring.com/owned-set"]
    ours = [b for b in bindings if (b["metadata"].get("labels") or {}).get("netsec.safespring.com/owned-set") == owned_set]
    assert len(ours) == sum(1 for o in identity.rbac if o["kind"].endswith("Binding"))
    for binding in ours:
        for subject in binding["subjects"]:
            assert subject["kind"] == "Group" and subject["name"].startswith("zitadel:"), binding["metadata"]["name"]
    # And no Zitadel token, whatever its roles, is in system:masters.
    status, info = identity.review(subject_token(identity, "cluster-admin"))
    assert status == 201 and "system:masters" not in info["groups"]


# -- system: names, the role's default v1beta1 rendering, email as username ----------------------------------------
# The module cannot render a prefix that lets a token name a system: user or group, so its
# userValidationRules are proven on a probe instance: one JWT authenticator per issuer, (a) the
# role's default rendering (v1beta1) unchanged, (b) prefixes emptied, the module's rules kept,
# (c) prefixes emptied and no rules: what the apiserver does on its own, (d) username_claim email.
@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    directory = tmp_path_factory.mktemp("probe")
    zitadel = lab_zitadel()
    env = zitadel["environments"][0]
    issuers = {}
    try:
        for case in ("v1beta1", "rules", "no-rules", "email"):
            (directory / case).mkdir()
            issuers[case] = OidcIssuer(directory / case, project_id=env["project_id"], client_id=env["client_id"], org_id=zitadel["org_id"])
        params = dict(module_params(zitadel, issuers["v1beta1"]), api_version=module.argument_spec()["api_version"]["default"])
        config = module.plan(params)["authentication_configuration"]
        assert config["apiVersion"] == "apiserver.config.k8s.io/v1beta1"
        for case in ("rules", "no-rules"):
            jwt = module.plan(module_params(zitadel, issuers[case]))["authentication_configuration"]["jwt"][0]
            jwt["claimMappings"]["username"]["prefix"] = ""
            jwt["claimMappings"]["groups"]["expression"] = authn.groups_expression(env["project_id"], "", zitadel["org_id"])
            if case == "no-rules":
                del jwt["userValidationRules"]
            config["jwt"].append(jwt)
        # (d) the other username choice the module offers, unchanged
        config["jwt"].append(module.plan(dict(module_params(zitadel, issuers["email"]), username_claim="email"))["authentication_configuration"]["jwt"][0])
        path = directory / "authentication-config.yaml"
        path.write_text(module.render([config]))
        with kube_instance(f"probe-{os.getpid()}", authentication_config=path) as kube:
            lab = {case: IdentityLab(kube, issuer, path) for case, issuer in issuers.items()}
            deadline = time.monotonic() + 30
            while any(lab[case].review(issuers[case].token())[0] != 201 for case in issuers):
                assert time.monotonic() < deadline, "the probe apiserver never accepted a valid token of each issuer"
                time.sleep(0.5)
            yield lab
    finally:
        for issuer in issuers.values():
            issuer.close()


def test_the_roles_default_v1beta1_rendering_works_on_kubernetes_1_36_too(probe):
    lab = probe["v1beta1"]
    status, info = lab.review(lab.issuer.token(sub=SUB, roles=lab.issuer.roles("viewer")))
    assert status == 201
    assert (info["username"], groups(info)) == ("zitadel:" + SUB, ["system:authenticated", "zitadel:viewer"])
    assert lab.review(lab.issuer.token(sub=SUB, amr=zitadel_amr("password")))[0] == 401


def test_the_rendered_user_validation_rules_refuse_system_usernames_and_groups(probe):
    lab = probe["rules"]
    assert lab.review(lab.issuer.token(sub=SUB))[0] == 201
    assert lab.review(lab.issuer.token(sub="system:admin", roles={}))[0] == 401
    assert lab.review(lab.issuer.token(sub="system:kube-controller-manager", roles={}))[0] == 401
    assert lab.review(lab.issuer.token(sub=SUB, roles=lab.issuer.roles("system:masters")))[0] == 401


def test_without_those_rules_the_apiserver_itself_would_let_a_token_into_system_masters(probe):
    # Why the rules and the prefixes matter: nothing else in the apiserver refuses these names.
    lab = probe["no-rules"]
    token = lab.issuer.token(sub="system:admin", roles=lab.issuer.roles("system:masters"))
    status, info = lab.review(token)
    assert status == 201
    assert info["username"] == "system:admin"
    assert "system:masters" in info["groups"]
    assert lab.can(token, "get", "secrets", namespace="kube-system")


def test_email_as_username_needs_a_verified_address(probe):
    lab = probe["email"]
    status, info = lab.review(lab.issuer.token(sub=SUB, username="carol@lab.netsec.test"))
    assert status == 201
    assert info["username"] == "zitadel:carol@lab.netsec.test"
    assert lab.review(lab.issuer.token(sub=SUB, username="carol@lab.netsec.test", email_verified=False))[0] == 401
    assert lab.review(lab.issuer.token(sub=SUB, username="carol@lab.netsec.test", drop=("email_verified",)))[0] == 401
