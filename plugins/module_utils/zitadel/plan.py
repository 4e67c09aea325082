# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure plans for Zitadel resources: desired + live -> the calls that converge them.

No I/O here. A plan is a list of `Op` (method, path, body, summary); paths may hold
``{project_id}`` which `apply()` fills in from earlier responses (a project created in the
same run). Check mode stops after the plan; `apply()` is the only place that calls the API.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import urlsplit

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel.client import ADMIN, MANAGEMENT, path_segment

# kubelogin listens on 8000 and falls back to 18000 when 8000 is taken.
KUBELOGIN_REDIRECT_URIS = ["http://localhost:8000", "http://localhost:18000"]

SECOND_FACTORS = {
    "otp": "SECOND_FACTOR_TYPE_OTP",
    "u2f": "SECOND_FACTOR_TYPE_U2F",
    "otp_email": "SECOND_FACTOR_TYPE_OTP_EMAIL",
    "otp_sms": "SECOND_FACTOR_TYPE_OTP_SMS",
}
MULTI_FACTORS = {"u2f_with_verification": "MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"}
PASSWORDLESS = {"allowed": "PASSWORDLESS_TYPE_ALLOWED", "not_allowed": "PASSWORDLESS_TYPE_NOT_ALLOWED"}

# Scalar login-policy fields the module manages (snake option -> Zitadel JSON name).
LOGIN_POLICY_FIELDS = [
    ("force_mfa", "forceMfa"),
    ("force_mfa_local_only", "forceMfaLocalOnly"),
    ("allow_username_password", "allowUsernamePassword"),
    ("allow_register", "allowRegister"),
    ("allow_external_idp", "allowExternalIdp"),
    ("passwordless", "passwordlessType"),
]
# Fields an Update/AddCustom login-policy request carries besides the managed ones; copied
# from the live policy because v1 updates replace the whole policy (omitted bool == false).
LOGIN_POLICY_CARRIED = [
    "allowUsernamePassword", "allowRegister", "allowExternalIdp", "forceMfa", "passwordlessType",
    "hidePasswordReset", "ignoreUnknownUsernames", "defaultRedirectUri", "passwordCheckLifetime",
    "externalLoginCheckLifetime", "mfaInitSkipLifetime", "secondFactorCheckLifetime",
    "multiFactorCheckLifetime", "allowDomainDiscovery", "disableLoginWithEmail",
    "disableLoginWithPhone", "forceMfaLocalOnly",
]
_BOOL_DEFAULT_FALSE = set(LOGIN_POLICY_CARRIED) - set(["passwordlessType", "defaultRedirectUri"]) - set(
    [f for f in LOGIN_POLICY_CARRIED if f.endswith("Lifetime")])


class Op(object):
    """One API call of a plan."""

    def __init__(self, method, path, body=None, summary="", capture=None):
        self.method = method
        self.path = path
        self.body = body
        self.summary = summary
        self.capture = capture  # (response key, context key) to remember, e.g. ("id", "project_id")

    def as_dict(self):
        return {"method": self.method, "path": self.path, "summary": self.summary}

    def __repr__(self):
        return "Op(%s %s)" % (self.method, self.path)


def apply(client, ops, context=None):
    """Run the ops in order; returns the context (ids captured from responses)."""
    context = dict(context or {})
    for op in ops:
        path = op.path.format(**{k: path_segment(v) for k, v in context.items()})
        body = op.body
        if isinstance(body, dict) and "projectId" in body and body["projectId"] == "{project_id}":
            body = dict(body, projectId=context["project_id"])
        result = client.request(op.method, path, body)
        if op.capture:
            context[op.capture[1]] = result.get(op.capture[0])
    return context


# ---------------------------------------------------------------------------------------------
# project + roles

def normalise_roles(roles, field="roles"):
    out = {}
    for idx, role in enumerate(roles or []):
        key = (role.get("key") or "").strip()
        if not key:
            raise NetsecError("role key is empty", field=field_path(field, idx, "key"), fix="give every role a non-empty key")
        if len(key) > 200:
            raise NetsecError("role key is longer than 200 characters", field=field_path(field, idx, "key"))
        if key in out:
            raise NetsecError("duplicate role key %r" % key, field=field_path(field, idx, "key"), fix="list each role once")
        out[key] = {"key": key, "displayName": role.get("display_name") or key, "group": role.get("group") or ""}
    return out


def live_roles(result):
    return {r["key"]: {"key": r["key"], "displayName": r.get("displayName", ""), "group": r.get("group", "")} for r in result}


def plan_project(name, live, state="present", role_assertion=True, role_check=False, has_project_check=False):
    """Project create/update/delete. `live` is the Project JSON or None."""
    base = MANAGEMENT + "/projects"
    if state == "absent":
        if live is None:
            return []
        return [Op("DELETE", base + "/" + path_segment(live["id"]), summary="remove project %s" % name)]
    desired = {"name": name, "projectRoleAssertion": bool(role_assertion), "projectRoleCheck": bool(role_check),
               "hasProjectCheck": bool(has_project_check)}
    if live is None:
        return [Op("POST", base, desired, summary="create project %s" % name, capture=("id", "project_id"))]
    current = project_view(live)
    if current == desired:
        return []
    body = dict(desired, privateLabelingSetting=live.get("privateLabelingSetting", "PRIVATE_LABELING_SETTING_UNSPECIFIED"))
    return [Op("PUT", base + "/{project_id}", body, summary="update project %s" % name)]


def project_view(live):
    if live is None:
        return None
    return {"name": live.get("name", ""), "projectRoleAssertion": bool(live.get("projectRoleAssertion")),
            "projectRoleCheck": bool(live.get("projectRoleCheck")), "hasProjectCheck": bool(live.get("hasProjectCheck"))}


def plan_roles(desired, live, purge=False):
    """Roles: one bulk create for the missing ones, a PUT per changed role, DELETE when purged."""
    ops = []
    base = MANAGEMENT + "/projects/{project_id}/roles"
    missing = [desired[k] for k in sorted(desired) if k not in live]
    if missing:
        ops.append(Op("POST", base + "/_bulk", {"projectId": "{project_id}", "roles": missing},
                      summary="add roles %s" % ", ".join(r["key"] for r in missing)))
    for key in sorted(desired):
        if key in live and live[key] != desired[key]:
            ops.append(Op("PUT", base + "/" + path_segment(key),
                          {"displayName": desired[key]["displayName"], "group": desired[key]["group"]},
                          summary="update role %s" % key))
    if purge:
        for key in sorted(set(live) - set(desired)):
            ops.append(Op("DELETE", base + "/" + path_segment(key), summary="remove role %s" % key))
    return ops


# ---------------------------------------------------------------------------------------------
# OIDC application for kubectl (native, PKCE, no secret)

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def check_redirect_uri(uri, field, dev_mode=False):
    """A parsed, exact check: a prefix match let http://localhost.evil.com and http://localhost@evil.com through."""
    fix = "use http://localhost:<port>, http://127.0.0.1:<port>, http://[::1]:<port> (kubelogin) or https://host/path"
    if not isinstance(uri, str) or not uri or any(ord(ch) < 0x21 or ord(ch) == 0x7f or ch in "\\\u2028\u2029" for ch in uri):
        raise NetsecError("must be a URI without spaces, control characters or backslashes", field=field, fix=fix)
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        raise NetsecError("is not a valid URI (bad host or port)", field=field, fix=fix)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetsecError("must be an absolute http(s) URI with a host", field=field, fix=fix)
    if "@" in parts.netloc:
        raise NetsecError("must not carry userinfo (user@host): the part after '@' is the real host", field=field, fix=fix)
    if parts.fragment or uri.endswith("#"):
        raise NetsecError("must not carry a fragment", field=field, fix=fix)
    if port == 0:
        raise NetsecError("port 0 is not a port", field=field, fix=fix)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS and not dev_mode:
        raise NetsecError("http is only allowed to the loopback hosts localhost, 127.0.0.1 and [::1] exactly, not %s" % parts.hostname,
                          field=field, fix=fix + ", or set dev_mode (labs only)")
    return uri


def desired_oidc_config(redirect_uris=None, post_logout_redirect_uris=None, dev_mode=False,
                        id_token_role_assertion=True, id_token_userinfo_assertion=True,
                        access_token_role_assertion=False, refresh_tokens=True):
    for idx, uri in enumerate(redirect_uris or []):
        check_redirect_uri(uri, field_path("redirect_uris", idx), dev_mode)
    for idx, uri in enumerate(post_logout_redirect_uris or []):
        check_redirect_uri(uri, field_path("post_logout_redirect_uris", idx), dev_mode)
    grants = ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"]
    if refresh_tokens:
        grants.append("OIDC_GRANT_TYPE_REFRESH_TOKEN")
    return {
        "redirectUris": list(redirect_uris if redirect_uris is not None else KUBELOGIN_REDIRECT_URIS),
        "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
        "grantTypes": grants,
        "appType": "OIDC_APP_TYPE_NATIVE",
        # PKCE: a public client without a secret; the code verifier proves possession.
        "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE",
        "postLogoutRedirectUris": list(post_logout_redirect_uris or []),
        "devMode": bool(dev_mode),
        "accessTokenType": "OIDC_TOKEN_TYPE_BEARER",
        "accessTokenRoleAssertion": bool(access_token_role_assertion),
        "idTokenRoleAssertion": bool(id_token_role_assertion),
        "idTokenUserinfoAssertion": bool(id_token_userinfo_assertion),
    }


_LIST_FIELDS = ("redirectUris", "responseTypes", "grantTypes", "postLogoutRedirectUris")


def oidc_view(app):
    """The managed part of a live App's oidcConfig; protojson omits zero values, so fill them."""
    if app is None:
        return None
    cfg = app.get("oidcConfig") or {}
    view = {
        "redirectUris": list(cfg.get("redirectUris") or []),
        "responseTypes": list(cfg.get("responseTypes") or []),
        "grantTypes": list(cfg.get("grantTypes") or []),
        "appType": cfg.get("appType", "OIDC_APP_TYPE_WEB"),
        "authMethodType": cfg.get("authMethodType", "OIDC_AUTH_METHOD_TYPE_BASIC"),
        "postLogoutRedirectUris": list(cfg.get("postLogoutRedirectUris") or []),
        "devMode": bool(cfg.get("devMode")),
        "accessTokenType": cfg.get("accessTokenType", "OIDC_TOKEN_TYPE_BEARER"),
        "accessTokenRoleAssertion": bool(cfg.get("accessTokenRoleAssertion")),
        "idTokenRoleAssertion": bool(cfg.get("idTokenRoleAssertion")),
        "idTokenUserinfoAssertion": bool(cfg.get("idTokenUserinfoAssertion")),
    }
    return view


def _same_config(a, b):
    for key in a:
        if key in _LIST_FIELDS:
            if sorted(a[key]) != sorted(b.get(key) or []):
                return False
        elif a[key] != b.get(key):
            return False
    return True


def plan_oidc_app(project_id, name, desired, live, state="present"):
    base = MANAGEMENT + "/projects/" + path_segment(project_id) + "/apps"
    if state == "absent":
        return [] if live is None else [Op("DELETE", base + "/" + path_segment(live["id"]), summary="remove app %s" % name)]
    if live is None:
        body = dict(desired, name=name, projectId=project_id, version="OIDC_VERSION_1_0")
        return [Op("POST", base + "/oidc", body, summary="create OIDC app %s" % name, capture=("appId", "app_id"))]
    if live.get("oidcConfig") is None:
        raise NetsecError("app %r in project %s exists but is not an OIDC app" % (name, project_id), field="name",
                          fix="choose another name or remove the existing app")
    if _same_config(desired, oidc_view(live)):
        return []
    body = dict(desired, projectId=project_id, appId=live["id"])
    return [Op("PUT", base + "/" + path_segment(live["id"]) + "/oidc_config", body, summary="update OIDC config of %s" % name)]


# ---------------------------------------------------------------------------------------------
# login policy (forced MFA)

def desired_login_policy(params):
    """Managed fields from module params (None = leave as is)."""
    out = {}
    for option, field in LOGIN_POLICY_FIELDS:
        value = params.get(option)
        if value is None:
            continue
        out[field] = PASSWORDLESS[value] if option == "passwordless" else bool(value)
    factors = {}
    if params.get("second_factors") is not None:
        factors["secondFactors"] = sorted(SECOND_FACTORS[f] for f in params["second_factors"])
    if params.get("multi_factors") is not None:
        factors["multiFactors"] = sorted(MULTI_FACTORS[f] for f in params["multi_factors"])
    if out.get("forceMfa") and factors.get("secondFactors") == [] and factors.get("multiFactors") == []:
        raise NetsecError("force_mfa with no second factor and no multi factor locks every user out",
                          field="second_factors", fix="allow at least one factor, e.g. [otp, u2f]")
    return out, factors


def login_policy_view(policy):
    view = {}
    for field in LOGIN_POLICY_CARRIED:
        if field in policy:
            view[field] = policy[field]
        elif field in _BOOL_DEFAULT_FALSE:
            view[field] = False
        elif field == "passwordlessType":
            view[field] = "PASSWORDLESS_TYPE_NOT_ALLOWED"
    view["secondFactors"] = sorted(policy.get("secondFactors") or [])
    view["multiFactors"] = sorted(policy.get("multiFactors") or [])
    return view


def plan_login_policy(level, scalars, factors, live_policy, is_default, state="present"):
    """Ops converging the login policy at `level` (org|instance).

    An org that still inherits the instance default gets a custom policy created from the
    inherited values plus the desired ones (Zitadel rejects an update of a policy it does
    not have); `state=absent` (org only) resets to the default.
    """
    base = (MANAGEMENT if level == "org" else ADMIN) + "/policies/login"
    current = login_policy_view(live_policy or {})
    if state == "absent":
        if level != "org":
            raise NetsecError("the instance login policy cannot be removed", field="state", fix="use state=present at level instance")
        return [] if is_default else [Op("DELETE", base, summary="reset org login policy to the instance default")]
    target = dict(current)
    target.update(scalars)
    target.update(factors)
    carried = {f: target[f] for f in LOGIN_POLICY_CARRIED if f in target}
    if level == "org" and is_default:
        body = dict(carried, secondFactors=target["secondFactors"], multiFactors=target["multiFactors"])
        return [Op("POST", base, body, summary="create custom org login policy")]
    ops = []
    if any(current.get(f) != carried.get(f) for f in carried):
        ops.append(Op("PUT", base, carried, summary="update login policy settings"))
    for kind, path in (("secondFactors", "second_factors"), ("multiFactors", "multi_factors")):
        for value in sorted(set(target[kind]) - set(current[kind])):
            ops.append(Op("POST", base + "/" + path, {"type": value}, summary="allow %s" % value))
        for value in sorted(set(current[kind]) - set(target[kind])):
            ops.append(Op("DELETE", base + "/" + path + "/" + value, summary="disallow %s" % value))
    return ops


def login_policy_after(current, scalars, factors):
    after = dict(current)
    after.update(scalars)
    after.update(factors)
    return after


# ---------------------------------------------------------------------------------------------
# user grants (who holds which project roles)

def normalise_grants(grants, role_keys=None):
    """[{user_id, role_keys}] -> {user_id: sorted role keys}; roles must exist in the project."""
    out = {}
    for idx, grant in enumerate(grants or []):
        user = grant.get("user_id")
        if not user:
            raise NetsecError("user_id is empty", field=field_path("grants", idx, "user_id"))
        keys = sorted(set(grant.get("role_keys") or []))
        if not keys:
            raise NetsecError("no role_keys", field=field_path("grants", idx, "role_keys"),
                              fix="give at least one role, or leave the user out (with exclusive=true to revoke)")
        if role_keys is not None:
            unknown = [k for k in keys if k not in role_keys]
            if unknown:
                raise NetsecError("unknown role(s) %s" % ", ".join(unknown), field=field_path("grants", idx, "role_keys"),
                                  fix="add the role to the project first (zitadel_project roles)")
        if user in out:
            keys = sorted(set(out[user]) | set(keys))
        out[user] = keys
    return out


def plan_user_grants(project_id, desired, live, exclusive=False):
    """desired {user_id: [keys]}; live {user_id: {"id": grant id, "roleKeys": [...]}}."""
    ops = []
    for user in sorted(desired):
        have = live.get(user)
        if have is None:
            ops.append(Op("POST", MANAGEMENT + "/users/" + path_segment(user) + "/grants",
                          {"projectId": project_id, "roleKeys": desired[user]}, summary="grant %s to %s" % (desired[user], user)))
        elif sorted(have["roleKeys"]) != desired[user]:
            ops.append(Op("PUT", MANAGEMENT + "/users/" + path_segment(user) + "/grants/" + path_segment(have["id"]),
                          {"roleKeys": desired[user]}, summary="set roles of %s to %s" % (user, desired[user])))
    if exclusive:
        for user in sorted(set(live) - set(desired)):
            ops.append(Op("DELETE", MANAGEMENT + "/users/" + path_segment(user) + "/grants/" + path_segment(live[user]["id"]),
                          summary="revoke grant of %s" % user))
    return ops


def live_grants(result, project_id):
    """Index ListUserGrants results of one project by user (project grants of other orgs ignored)."""
    out = {}
    for grant in result:
        if grant.get("projectId") != project_id or grant.get("projectGrantId"):
            continue
        out[grant["userId"]] = {"id": grant["id"], "roleKeys": sorted(grant.get("roleKeys") or [])}
    return out
