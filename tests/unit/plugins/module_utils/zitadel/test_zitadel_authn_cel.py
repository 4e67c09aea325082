"""The AuthenticationConfiguration's CEL, evaluated by two real CEL runtimes on Zitadel tokens.

cel-python (a pure-Python interpreter) and cel-expr-python (Google's cel-cpp) must agree. The
API server runs cel-go with ``claims`` as a lazy map(string, any) and ``user`` as UserInfo: `any`
needs dyn() before a comprehension, the map has no `in` and iterates its values, so the renderer
tests presence with an optional index. Neither runtime here parses optionals: ``portable()``
rewrites that one form to its meaning. What the real API server accepts and does is proven in
tests/lab/test_kube_identity.py; these tests cover the logic on many more token shapes.
`authenticate()` below applies the configuration as the API server does: every
claimValidationRule must be true, the mappings must evaluate (an error rejects the token),
then every userValidationRule must be true.
"""
import copy
import re

import celpy
import pytest
from cel_expr_python import cel as celcpp

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import authn

PROJECT = "285441962217030421"
ORG = "285441962217030400"
OTHER_ORG = "291113402218840117"
CLIENT = "285441962217161493@kubernetes-prod"
ROLES = authn.role_claim(PROJECT)


class Rejected(Exception):
    pass


_OPTIONAL_INDEX = re.compile(r"claims\[\?('(?:[^'\\]|\\.)*')\]\.orValue\(dyn\(\{\}\)\)")


def portable(expression):
    """claims[?'k'].orValue(dyn({})) -> ('k' in claims ? claims['k'] : {}): same value, no optionals."""
    return _OPTIONAL_INDEX.sub(r"(\1 in claims ? claims[\1] : {})", expression)


def test_portable_rewrites_the_optional_index_of_the_rendered_groups_expression():
    expression = authn.groups_expression(PROJECT, "zitadel:", org_id=ORG)
    assert "[?" in expression and "[?" not in portable(expression)


class CelPython:
    name = "cel-python"

    def __init__(self):
        self.env = celpy.Environment()

    def eval(self, expression, variables):
        program = self.env.program(self.env.compile(portable(expression)))
        try:
            value = program.evaluate({k: celpy.json_to_cel(v) for k, v in variables.items()})
        except celpy.CELEvalError as exc:
            raise Rejected("evaluation error: %s" % (exc,))
        if isinstance(value, celpy.CELEvalError):
            raise Rejected("evaluation error: %s" % (value,))
        return _plain(value)


class CelCpp:
    name = "cel-expr-python"

    def __init__(self):
        dyn_map = celcpp.Type.Map(celcpp.Type.STRING, celcpp.Type.DYN)
        self.env = celcpp.NewEnv(variables={"claims": dyn_map, "user": dyn_map})

    def eval(self, expression, variables):
        value = self.env.compile(portable(expression)).eval(data=variables)
        if value.type() == celcpp.Type.ERROR:
            raise Rejected("evaluation error: %s" % (value,))
        return value.plain_value()


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, celpy.celtypes.BoolType):
        return bool(value)
    if isinstance(value, celpy.celtypes.StringType):
        return str(value)
    return value


EVALUATORS = [CelPython(), CelCpp()]


def authenticate(config, claims, evaluator):
    """The API server's JWT authenticator after signature/iss/aud checks: returns UserInfo."""
    jwt = config["jwt"][0]
    for rule in jwt.get("claimValidationRules", []):
        if evaluator.eval(rule["expression"], {"claims": claims}) is not True:
            raise Rejected(rule["message"])
    mapping = jwt["claimMappings"]
    username = mapping["username"]["prefix"] + claims[mapping["username"]["claim"]]
    groups = evaluator.eval(mapping["groups"]["expression"], {"claims": claims})
    if isinstance(groups, str):
        groups = [groups]
    assert all(isinstance(g, str) for g in groups), groups
    user = {"username": username, "uid": claims[mapping["uid"]["claim"]], "groups": sorted(groups), "extra": {}}
    for rule in jwt["userValidationRules"]:
        if evaluator.eval(rule["expression"], {"user": user}) is not True:
            raise Rejected(rule["message"])
    return user


def zitadel_id_token(amr=("pwd", "otp", "mfa"), roles=None, drop=()):
    """An ID token payload as Zitadel issues it for the kubectl app (project role assertion on)."""
    roles = {"developer:payments": {ORG: "acme.zitadel.example"}, "viewer": {ORG: "acme.zitadel.example"}} if roles is None else roles
    token = {
        "iss": "https://id.example.com",
        "sub": "291113402218905653",
        "aud": [CLIENT, PROJECT],
        "exp": 1795000000, "iat": 1794956800, "auth_time": 1794956790,
        "amr": list(amr),
        "azp": CLIENT, "client_id": CLIENT,
        "at_hash": "Vt2fPmMhkGdT3iCFsHNv1Q", "sid": "V1_291113464453728309",
        "preferred_username": "bob@acme.example", "email": "bob@acme.example", "email_verified": True,
        "urn:zitadel:iam:user:resourceowner:id": ORG,
        "urn:zitadel:iam:org:project:roles": copy.deepcopy(roles),
        ROLES: copy.deepcopy(roles),
    }
    for claim in drop:
        token.pop(claim, None)
    return token


@pytest.fixture(params=EVALUATORS, ids=lambda e: e.name)
def evaluator(request):
    return request.param


@pytest.fixture
def config():
    return authn.authentication_configuration("https://id.example.com", CLIENT, PROJECT, org_id=ORG)


def test_role_map_keys_become_prefixed_groups(config, evaluator):
    user = authenticate(config, zitadel_id_token(), evaluator)
    assert user["groups"] == ["zitadel:developer:payments", "zitadel:viewer"]
    assert user["username"] == "zitadel:291113402218905653"


def test_roles_granted_in_another_org_are_not_groups(config, evaluator):
    roles = {"cluster-admin": {OTHER_ORG: "evil.zitadel.example"}, "viewer": {ORG: "acme.zitadel.example", OTHER_ORG: "evil.zitadel.example"}}
    assert authenticate(config, zitadel_id_token(roles=roles), evaluator)["groups"] == ["zitadel:viewer"]


def test_without_org_filter_every_granted_role_counts(evaluator):
    config = authn.authentication_configuration("https://id.example.com", CLIENT, PROJECT)
    roles = {"cluster-admin": {OTHER_ORG: "other.zitadel.example"}, "viewer": {ORG: "acme.zitadel.example"}}
    assert authenticate(config, zitadel_id_token(roles=roles), evaluator)["groups"] == ["zitadel:cluster-admin", "zitadel:viewer"]


def test_roles_of_another_project_are_ignored(config, evaluator):
    token = zitadel_id_token(drop=(ROLES,))
    token["urn:zitadel:iam:org:project:roles"] = {"cluster-admin": {ORG: "acme.zitadel.example"}}
    token["urn:zitadel:iam:org:project:999999999999999999:roles"] = {"cluster-admin": {ORG: "acme.zitadel.example"}}
    assert authenticate(config, token, evaluator)["groups"] == []


@pytest.mark.parametrize("drop_or_empty", ["missing", "empty"])
def test_user_without_roles_gets_no_groups_and_no_error(config, evaluator, drop_or_empty):
    token = zitadel_id_token(drop=(ROLES,)) if drop_or_empty == "missing" else zitadel_id_token(roles={})
    user = authenticate(config, token, evaluator)
    assert user["groups"] == [] and user["username"].startswith("zitadel:")


@pytest.mark.parametrize("amr", [["pwd"], ["otp"], ["user"], ["pwd", "password"], []], ids=str)
def test_token_without_mfa_amr_is_rejected(config, evaluator, amr):
    with pytest.raises(Rejected, match="multi-factor"):
        authenticate(config, zitadel_id_token(amr=amr), evaluator)


def test_token_without_amr_claim_is_rejected(config, evaluator):
    with pytest.raises(Rejected, match="multi-factor"):
        authenticate(config, zitadel_id_token(drop=("amr",)), evaluator)


# amr as Zitadel's AuthMethodTypesToAMR builds it: password+TOTP, password+U2F, passkey alone
@pytest.mark.parametrize("amr", [["pwd", "otp", "mfa"], ["pwd", "user", "mfa"], ["user", "mfa"]], ids=str)
def test_token_with_mfa_is_accepted(config, evaluator, amr):
    assert authenticate(config, zitadel_id_token(amr=amr), evaluator)["groups"]


def test_mfa_rule_can_be_switched_off_for_labs(evaluator):
    config = authn.authentication_configuration("https://id.example.com", CLIENT, PROJECT, require_mfa=False)
    assert "claimValidationRules" not in config["jwt"][0]
    assert authenticate(config, zitadel_id_token(amr=["pwd"]), evaluator)


def test_role_claim_that_is_not_a_map_fails_closed(config, evaluator):
    token = zitadel_id_token()
    token[ROLES] = "cluster-admin"  # e.g. an Action overwriting the claim
    with pytest.raises(Rejected):
        authenticate(config, token, evaluator)


def test_role_key_named_system_masters_stays_under_the_prefix(config, evaluator):
    token = zitadel_id_token(roles={"system:masters": {ORG: "acme.zitadel.example"}})
    assert authenticate(config, token, evaluator)["groups"] == ["zitadel:system:masters"]


@pytest.mark.parametrize("user,ok", [
    ({"username": "zitadel:1", "groups": ["zitadel:viewer"]}, True),
    ({"username": "system:admin", "groups": []}, False),
    ({"username": "zitadel:1", "groups": ["zitadel:viewer", "system:masters"]}, False),
], ids=["plain", "system-username", "system-group"])
def test_user_validation_rules_refuse_system_identities(evaluator, user, ok):
    results = [evaluator.eval(r["expression"], {"user": dict(user, uid="1", extra={})}) for r in authn.USER_VALIDATION_RULES]
    assert all(results) is ok


def test_email_username_requires_verified_email(evaluator):
    config = authn.authentication_configuration("https://id.example.com", CLIENT, PROJECT, username_claim="email")
    assert authenticate(config, zitadel_id_token(), evaluator)["username"] == "zitadel:bob@acme.example"
    token = zitadel_id_token()
    token["email_verified"] = False
    with pytest.raises(Rejected, match="not verified"):
        authenticate(config, token, evaluator)


def test_quotes_in_ids_cannot_break_out_of_the_cel_string(evaluator):
    expression = authn.groups_expression("1", "zitadel:", org_id="x' || true || '")
    token = {authn.role_claim("1"): {"viewer": {"x' || true || '": "d"}, "admin": {"other": "d"}}}
    assert sorted(evaluator.eval(expression, {"claims": token})) == ["zitadel:viewer"]


@pytest.mark.parametrize("kwargs,field", [
    ({"username_prefix": ""}, "username_prefix"),
    ({"groups_prefix": "system:"}, "groups_prefix"),
    ({"groups_prefix": "system:zitadel:"}, "groups_prefix"),
    ({"mfa_amr_values": ["pwd"]}, "mfa_amr_values"),
    ({"api_version": "apiserver.config.k8s.io/v1alpha1"}, "api_version"),
    ({"issuer_url": "http://id.example.com"}, "issuer_url"),
    ({"project_id": "1 2"}, "project_id"),
])
def test_unsafe_settings_are_refused_with_the_field(kwargs, field):
    args = dict(issuer_url="https://id.example.com", client_id=CLIENT, project_id=PROJECT)
    args.update(kwargs)
    with pytest.raises(NetsecError) as err:
        authn.authentication_configuration(**args)
    assert err.value.field == field
