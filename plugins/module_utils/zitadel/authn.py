# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes authentication against Zitadel: the apiserver's AuthenticationConfiguration and
the kubelogin kubeconfig. Pure builders, no I/O.

Choices (docs/zitadel-rbac.md explains them with sources):

* Roles come from the project-specific claim ``urn:zitadel:iam:org:project:<projectId>:roles``,
  a map ``roleKey -> {orgId: orgDomain}``. Pinning the project id means roles of another
  project (the generic ``urn:zitadel:iam:org:project:roles`` claim follows the client's
  project) never become Kubernetes groups. With ``org_id`` only roles granted within that
  organisation count, which shuts out roles granted through project grants to other orgs.
* MFA: Zitadel's ``amr`` lists ``pwd``, ``otp``, ``user`` (U2F/passkey presence) and adds
  ``mfa`` when two factors were checked or a passkey was used
  (zitadel internal/api/oidc/amr.go, AuthMethodTypesToAMR). ``otp`` or ``user`` alone is not
  proof of two factors, so by default only ``mfa`` is accepted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

API_VERSIONS = ("apiserver.config.k8s.io/v1beta1", "apiserver.config.k8s.io/v1")
DEFAULT_MFA_AMR = ("mfa",)
USERNAME_CLAIMS = ("sub", "preferred_username", "email")
KUBELOGIN_LISTEN = ("127.0.0.1:8000", "127.0.0.1:18000")
_PROJECT_ID = re.compile(r"^[0-9A-Za-z_-]{1,200}$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9.:_-]*[:/-]$")


def role_claim(project_id):
    """The token claim that holds the user's roles of one project."""
    return "urn:zitadel:iam:org:project:%s:roles" % project_id


def _cel_string(value):
    """A CEL single-quoted string literal (json escapes are valid CEL escapes)."""
    return "'" + json.dumps(value)[1:-1].replace("'", "\\'") + "'"


def groups_expression(project_id, groups_prefix, org_id=None):
    """CEL: the keys of the role-claim map, filtered to `org_id` if given, prefixed.

    A missing claim (user without roles) gives [] rather than an evaluation error; a claim that
    is not a map fails the evaluation (the token is refused).
    """
    # Proven against kube-apiserver 1.36 (tests/lab/test_kube_identity.py): its `claims` is a lazy
    # map(string, any) without `in` ("no such overload" for every token) whose iteration yields
    # values, not keys, so presence is tested with an optional index (CEL optionals, 1.28+); and
    # `any` must be made dyn() before a comprehension may range over it.
    roles = "dyn(claims[?%s].orValue(dyn({})))" % _cel_string(role_claim(project_id))
    keys = roles
    if org_id:
        keys = "%s.filter(r, %s in %s[r])" % (roles, _cel_string(org_id), roles)
    return "%s.map(r, %s + r)" % (keys, _cel_string(groups_prefix))


def mfa_expression(amr_values=DEFAULT_MFA_AMR):
    allowed = "[" + ", ".join(_cel_string(v) for v in amr_values) + "]"
    # dyn(): claims.amr is typed `any` at the apiserver, which a comprehension cannot range over.
    return "has(claims.amr) && dyn(claims.amr).exists(m, m in %s)" % allowed


USER_VALIDATION_RULES = [
    {"expression": "!user.username.startsWith('system:')",
     "message": "username must not use the reserved system: prefix"},
    {"expression": "user.groups.all(g, !g.startsWith('system:'))",
     "message": "groups must not use the reserved system: prefix"},
]


def _check_prefix(value, field):
    if not value or not _PREFIX.match(value):
        raise NetsecError("%r is not a usable prefix" % (value,), field=field,
                          fix="use a non-empty lowercase prefix ending in ':', '-' or '/', e.g. 'zitadel:'")
    if value.startswith("system:"):
        raise NetsecError("%r would put Zitadel identities into Kubernetes' reserved system: namespace" % value,
                          field=field, fix="use a prefix such as 'zitadel:'")


def authentication_configuration(issuer_url, client_id, project_id, api_version=API_VERSIONS[0], org_id=None,
                                 username_claim="sub", username_prefix="zitadel:", groups_prefix="zitadel:",
                                 mfa_amr_values=DEFAULT_MFA_AMR, require_mfa=True, certificate_authority=None,
                                 discovery_url=None, extra_audiences=()):
    """The kube-apiserver's structured AuthenticationConfiguration for one Zitadel issuer.

    issuer_url: Zitadel's issuer (``https://id.example.com``; must equal the token's ``iss``).
    client_id: the kubectl OIDC app's client id (the token's audience).
    project_id: the Zitadel project whose roles become groups ``<groups_prefix><roleKey>``.
    api_version: apiserver.config.k8s.io/v1beta1 (Kubernetes 1.30+) or /v1 (1.34+).
    org_id: only roles granted in this organisation count (recommended).
    username_claim: sub (stable, default), preferred_username or email (adds an email_verified rule).
    require_mfa / mfa_amr_values: reject tokens whose ``amr`` holds none of these values.
    certificate_authority: PEM bundle to verify the issuer's TLS, if not publicly trusted.
    """
    if api_version not in API_VERSIONS:
        raise NetsecError("%r is not supported" % (api_version,), field="api_version", fix="use one of %s" % ", ".join(API_VERSIONS))
    if not issuer_url or not issuer_url.startswith("https://"):
        raise NetsecError("%r is not an https URL" % (issuer_url,), field="issuer_url",
                          fix="the API server only accepts https issuers, e.g. https://id.example.com")
    if "#" in issuer_url or "?" in issuer_url:
        raise NetsecError("the issuer URL must not carry a query or fragment", field="issuer_url")
    if not client_id:
        raise NetsecError("is empty", field="client_id", fix="use client_id returned by safespring.netsec.zitadel_oidc_app")
    if not project_id or not _PROJECT_ID.match(str(project_id)):
        raise NetsecError("%r is not a Zitadel project id" % (project_id,), field="project_id")
    if username_claim not in USERNAME_CLAIMS:
        raise NetsecError("%r is not supported" % (username_claim,), field="username_claim", fix="use one of %s" % ", ".join(USERNAME_CLAIMS))
    _check_prefix(username_prefix, "username_prefix")
    _check_prefix(groups_prefix, "groups_prefix")
    if require_mfa and not mfa_amr_values:
        raise NetsecError("is empty while MFA is required", field="mfa_amr_values", fix="keep the default ['mfa']")
    weak = sorted(set(mfa_amr_values) & set(["pwd", "password"]))
    if require_mfa and weak:
        raise NetsecError("%s is a single factor" % ", ".join(weak), field="mfa_amr_values", fix="accept only 'mfa'")

    audiences = [client_id] + [a for a in extra_audiences if a != client_id]
    # Zitadel's iss has no trailing slash; the API server compares it byte for byte
    issuer = {"url": issuer_url.rstrip("/"), "audiences": audiences}
    if len(audiences) > 1:
        issuer["audienceMatchPolicy"] = "MatchAny"
    if discovery_url:
        issuer["discoveryURL"] = discovery_url
    if certificate_authority:
        issuer["certificateAuthority"] = certificate_authority

    rules = []
    if require_mfa:
        rules.append({"expression": mfa_expression(mfa_amr_values),
                      "message": "Kubernetes requires multi-factor authentication: log in to Zitadel with a second factor"})
    if username_claim == "email":
        rules.append({"expression": "has(claims.email_verified) && claims.email_verified == true",
                      "message": "the e-mail address used as username is not verified"})

    jwt = {
        "issuer": issuer,
        "claimValidationRules": rules,
        "claimMappings": {
            "username": {"claim": username_claim, "prefix": username_prefix},
            "groups": {"expression": groups_expression(project_id, groups_prefix, org_id)},
            "uid": {"claim": "sub"},
        },
        "userValidationRules": [dict(r) for r in USER_VALIDATION_RULES],
    }
    if not rules:
        del jwt["claimValidationRules"]
    return {"apiVersion": api_version, "kind": "AuthenticationConfiguration", "jwt": [jwt]}


def kubelogin_args(issuer_url, client_id, project_id=None, extra_scopes=(), refresh_tokens=True,
                   listen_addresses=KUBELOGIN_LISTEN, token_cache_storage=None):
    """Arguments of `kubectl oidc-login get-token` for Zitadel with PKCE and no client secret."""
    args = ["oidc-login", "get-token", "--oidc-issuer-url=" + issuer_url, "--oidc-client-id=" + client_id,
            # PKCE S256 explicitly (kubelogin >= 1.29; older releases spelled it --oidc-use-pkce)
            "--oidc-pkce-method=S256"]
    scopes = ["profile", "email"]
    if project_id:
        # roles of this project in the token even if role assertion is switched off later
        scopes += ["urn:zitadel:iam:org:project:id:%s:aud" % project_id, "urn:zitadel:iam:org:projects:roles"]
    if refresh_tokens:
        scopes.append("offline_access")
    for scope in list(scopes) + [s for s in extra_scopes if s not in scopes]:
        args.append("--oidc-extra-scope=" + scope)
    for address in listen_addresses or ():
        args.append("--listen-address=" + address)
    if token_cache_storage:
        args.append("--token-cache-storage=" + token_cache_storage)
    return args


def kubeconfig(cluster_name, server, issuer_url, client_id, project_id=None, certificate_authority_data=None,
               user_name=None, namespace=None, extra_scopes=(), refresh_tokens=True, token_cache_storage=None):
    """A kubeconfig (as a dict) whose user logs in with kubelogin; it holds no secret."""
    if not server.startswith("https://"):
        raise NetsecError("%r is not an https URL" % (server,), field="server")
    user_name = user_name or "%s-oidc" % cluster_name
    cluster = {"server": server}
    if certificate_authority_data:
        cluster["certificate-authority-data"] = certificate_authority_data
    context = {"cluster": cluster_name, "user": user_name}
    if namespace:
        context["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster}],
        "users": [{"name": user_name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "kubectl",
            "args": kubelogin_args(issuer_url, client_id, project_id, extra_scopes, refresh_tokens,
                                   token_cache_storage=token_cache_storage),
            "interactiveMode": "IfAvailable",
            "provideClusterInfo": False,
        }}}],
        "contexts": [{"name": cluster_name, "context": context}],
        "current-context": cluster_name,
        "preferences": {},
    }
