"""Kubernetes objects built for Zitadel logins: RBAC valid per kubernetes-validate, never
system:masters; the AuthenticationConfiguration valid per the apiserver's Go types and
validation rules; the kubeconfig loadable by the Kubernetes client with a kubelogin exec user."""
import copy

import jsonschema
import kubernetes_validate
import pytest
from kubernetes.config.exec_provider import ExecProvider
from kubernetes.config.kube_config import KubeConfigLoader

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import authn, rbac

K8S = kubernetes_validate.latest_version()
PROJECT = "285441962217030421"
CLIENT = "285441962217161493@kubernetes-prod"

ALL_LEVELS = [{"level": "cluster-admin"}, {"level": "operator"}, {"level": "viewer"},
              {"level": "developer", "namespaces": ["payments", "web"]}]

# JSON schema transcribed from k8s.io/apiserver/pkg/apis/apiserver/{v1beta1,v1}/types.go
# (AuthenticationConfiguration, JWTAuthenticator, Issuer, ClaimValidationRule, ClaimMappings,
# PrefixedClaimOrExpression, ClaimOrExpression, ExtraMapping, UserValidationRule); fields are
# strict (the apiserver decodes its config files strictly).
_CLAIM_OR_EXPR = {"type": "object", "additionalProperties": False,
                  "properties": {"claim": {"type": "string"}, "expression": {"type": "string"}}}
_PREFIXED = {"type": "object", "additionalProperties": False,
             "properties": {"claim": {"type": "string"}, "prefix": {"type": "string"}, "expression": {"type": "string"}}}
AUTHN_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "jwt"],
    "properties": {
        "apiVersion": {"enum": ["apiserver.config.k8s.io/v1beta1", "apiserver.config.k8s.io/v1"]},
        "kind": {"const": "AuthenticationConfiguration"},
        "anonymous": {"type": "object"},
        "jwt": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["issuer", "claimMappings"],
            "properties": {
                "issuer": {"type": "object", "additionalProperties": False, "required": ["url", "audiences"], "properties": {
                    "url": {"type": "string", "pattern": "^https://"},
                    "discoveryURL": {"type": "string"},
                    "certificateAuthority": {"type": "string"},
                    "audiences": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                    "audienceMatchPolicy": {"enum": ["MatchAny"]},
                }},
                "claimValidationRules": {"type": "array", "items": {"type": "object", "additionalProperties": False, "properties": {
                    "claim": {"type": "string"}, "requiredValue": {"type": "string"},
                    "expression": {"type": "string"}, "message": {"type": "string"}}}},
                "claimMappings": {"type": "object", "additionalProperties": False, "required": ["username"], "properties": {
                    "username": _PREFIXED, "groups": _PREFIXED, "uid": _CLAIM_OR_EXPR,
                    "extra": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                         "required": ["key", "valueExpression"],
                                                         "properties": {"key": {"type": "string"}, "valueExpression": {"type": "string"}}}},
                }},
                "userValidationRules": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False, "required": ["expression"],
                    "properties": {"expression": {"type": "string"}, "message": {"type": "string"}}}},
            }}},
    },
}


def apiserver_rules(config):
    """The cross-field rules of apiserver validation.go that a schema cannot say."""
    for jwt in config["jwt"]:
        issuer = jwt["issuer"]
        assert "#" not in issuer["url"] and "?" not in issuer["url"]
        if len(issuer["audiences"]) > 1:
            assert issuer.get("audienceMatchPolicy") == "MatchAny"
        assert issuer.get("discoveryURL") != issuer["url"]
        for name in ("username", "groups"):
            mapping = jwt["claimMappings"].get(name)
            if not mapping:
                continue
            assert ("claim" in mapping) != ("expression" in mapping), name  # exactly one
            if "claim" in mapping:
                assert "prefix" in mapping, "%s.claim needs a prefix" % name
            else:
                assert "prefix" not in mapping
        for rule in jwt.get("claimValidationRules", []):
            assert ("claim" in rule) != ("expression" in rule)
            if "expression" in rule:
                assert "requiredValue" not in rule


@pytest.mark.parametrize("api_version", authn.API_VERSIONS)
@pytest.mark.parametrize("options", [{}, {"org_id": "1"}, {"username_claim": "email", "certificate_authority": "-----BEGIN CERTIFICATE-----\n"},
                                     {"require_mfa": False}, {"extra_audiences": ["285441962217030421"]}], ids=str)
def test_authentication_configuration_is_structurally_valid(api_version, options):
    config = authn.authentication_configuration("https://id.example.com/", CLIENT, PROJECT, api_version=api_version, **options)
    jsonschema.validate(config, AUTHN_SCHEMA)
    apiserver_rules(config)
    assert config["jwt"][0]["issuer"]["url"] == "https://id.example.com"  # Zitadel's iss has no trailing slash


def test_schema_check_is_strict_about_unknown_fields():
    config = authn.authentication_configuration("https://id.example.com", CLIENT, PROJECT)
    broken = copy.deepcopy(config)
    broken["jwt"][0]["claimMappings"]["groups"]["prefix"] = "x:"
    with pytest.raises(AssertionError):
        apiserver_rules(broken)
    broken = copy.deepcopy(config)
    broken["jwt"][0]["issuer"]["audience"] = CLIENT
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, AUTHN_SCHEMA)


def test_every_rbac_object_is_valid_for_kubernetes():
    objects = rbac.rbac_objects(rbac.role_keys_for(ALL_LEVELS))
    kinds = [o["kind"] for o in objects]
    assert kinds.count("RoleBinding") == 2 and "ClusterRole" in kinds
    for obj in objects:
        kubernetes_validate.validate(obj, K8S, strict=True)


def test_groups_map_to_the_expected_roles():
    objects = rbac.rbac_objects(rbac.role_keys_for(ALL_LEVELS))
    bound = {(o["kind"], o["metadata"].get("namespace"), o["roleRef"]["name"], o["subjects"][0]["name"])
             for o in objects if o["kind"].endswith("Binding")}
    assert ("ClusterRoleBinding", None, "cluster-admin", "zitadel:cluster-admin") in bound
    assert ("RoleBinding", "payments", "edit", "zitadel:developer:payments") in bound
    assert ("RoleBinding", "web", "edit", "zitadel:developer:web") in bound
    assert ("ClusterRoleBinding", None, "view", "zitadel:viewer") in bound
    assert ("ClusterRoleBinding", None, "zitadel:operator", "zitadel:operator") in bound
    # developers get nothing cluster-wide
    assert not [b for b in bound if b[3].startswith("zitadel:developer") and b[0] == "ClusterRoleBinding"]


def test_operator_and_viewer_cannot_read_secrets_or_change_rbac():
    objects = rbac.rbac_objects(["operator", "viewer"])
    for role in (o for o in objects if o["kind"] == "ClusterRole"):
        for rule in role["rules"]:
            assert "secrets" not in rule["resources"] and "*" not in rule["resources"] and "*" not in rule["verbs"]
            assert "rbac.authorization.k8s.io" not in rule["apiGroups"]
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])


def test_no_binding_ever_names_system_masters():
    for obj in rbac.rbac_objects(rbac.role_keys_for(ALL_LEVELS)):
        for subject in obj.get("subjects", []):
            assert not subject["name"].startswith("system:")


def test_binding_system_masters_is_refused_with_a_clear_error():
    with pytest.raises(NetsecError, match="system:masters") as err:
        rbac.rbac_objects(["masters"], groups_prefix="system:")
    assert err.value.field == "groups_prefix"
    foreign = [{"kind": "ClusterRoleBinding", "metadata": {"name": "x"}, "roleRef": {}, "subjects": [{"kind": "Group", "name": "system:masters"}]}]
    with pytest.raises(NetsecError, match="break-glass") as err:
        rbac.assert_no_system_masters(foreign)
    assert err.value.field == "objects[0].subjects[0]"


@pytest.mark.parametrize("access,field", [
    ([{"level": "root"}], "access[0].level"),
    ([{"level": "developer"}], "access[0].namespaces"),
    ([{"level": "developer", "namespaces": ["Payments"]}], "access[0].namespaces[0]"),
    ([{"level": "developer", "namespaces": ["kube-system"]}], "access[0].namespaces[0]"),
    ([{"level": "viewer", "namespaces": ["a"]}], "access[0].namespaces"),
])
def test_bad_access_is_refused_naming_the_field(access, field):
    with pytest.raises(NetsecError) as err:
        rbac.role_keys_for(access)
    assert err.value.field == field


def test_kubeconfig_loads_with_a_kubelogin_exec_user_and_no_secret():
    config = authn.kubeconfig("prod", "https://prod.k8s.example:6443", "https://id.example.com", CLIENT, project_id=PROJECT,
                              certificate_authority_data="LS0tLS1CRUdJTg==")
    loader = KubeConfigLoader(config_dict=copy.deepcopy(config))
    assert loader.current_context["name"] == "prod"
    exec_config = config["users"][0]["user"]["exec"]
    provider = ExecProvider(loader._user["exec"], cwd=None, cluster=None)
    assert provider.args[:3] == ["kubectl", "oidc-login", "get-token"]
    args = exec_config["args"]
    assert "--oidc-issuer-url=https://id.example.com" in args and "--oidc-client-id=" + CLIENT in args
    assert "--oidc-pkce-method=S256" in args
    assert "--oidc-extra-scope=urn:zitadel:iam:org:projects:roles" in args
    assert "--oidc-extra-scope=urn:zitadel:iam:org:project:id:%s:aud" % PROJECT in args
    assert not [a for a in args if "secret" in a]
    assert exec_config["apiVersion"] == "client.authentication.k8s.io/v1" and exec_config["interactiveMode"] == "IfAvailable"


def test_role_definitions_for_zitadel_follow_the_role_keys():
    roles = rbac.zitadel_roles(rbac.role_keys_for(ALL_LEVELS))
    assert [r["key"] for r in roles] == ["cluster-admin", "developer:payments", "developer:web", "operator", "viewer"]
    assert roles[1]["display_name"] == "Kubernetes developer in namespace payments"
