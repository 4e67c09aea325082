"""A Zitadel REST v1 contract double: a real HTTP server on 127.0.0.1 with state.

It is NOT Zitadel. It serves the endpoints the collection uses, with the behaviour of the real
service that matters to a client (ids, NotChanged / AlreadyExists / NotFound errors, role
removal cascading into grants, the client id format), and validates every request against the
API descriptors: unknown route -> 404, wrong method -> 405, unknown field / wrong type / unknown
enum value / missing required field -> 400 with Zitadel's error body
``{"code": <grpc code>, "message": ..., "details": [...]}``; a missing or wrong bearer token -> 401.
Responses are validated against the response messages too, so the double cannot drift from
the interface it claims. Default values are omitted from responses as protojson does.
"""
import copy
import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .descriptors import REQUIRED, Descriptors, Invalid

GRPC_HTTP = {3: 400, 5: 404, 6: 409, 7: 403, 9: 400, 12: 501, 13: 500, 16: 401}

DEFAULT_INSTANCE_POLICY = {
    "allowUsernamePassword": True,
    "allowRegister": True,
    "allowExternalIdp": True,
    "forceMfa": False,
    "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED",
    "passwordCheckLifetime": "864000s",
    "externalLoginCheckLifetime": "864000s",
    "mfaInitSkipLifetime": "2592000s",
    "secondFactorCheckLifetime": "64800s",
    "multiFactorCheckLifetime": "43200s",
    "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"],
    "multiFactors": ["MULTI_FACTOR_TYPE_U2F_WITH_VERIFICATION"],
    "allowDomainDiscovery": True,
}
POLICY_SCALARS = [
    "allowUsernamePassword", "allowRegister", "allowExternalIdp", "forceMfa", "passwordlessType", "hidePasswordReset",
    "ignoreUnknownUsernames", "defaultRedirectUri", "passwordCheckLifetime", "externalLoginCheckLifetime",
    "mfaInitSkipLifetime", "secondFactorCheckLifetime", "multiFactorCheckLifetime", "allowDomainDiscovery",
    "disableLoginWithEmail", "disableLoginWithPhone", "forceMfaLocalOnly",
]


class ApiError(Exception):
    def __init__(self, code, message, error_id="DOUBLE-0000"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.error_id = error_id


def _strip_defaults(value):
    """protojson omits zero values (false, "", 0, [], {}); enum zero values are dropped by Descriptors.strip."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _strip_defaults(item)
            if item is None or item is False or (isinstance(item, (str, list, dict)) and not item):
                continue
            if type(item) in (int, float) and item == 0:
                continue
            out[key] = item
        return out
    if isinstance(value, list):
        return [_strip_defaults(v) for v in value]
    return value


class ZitadelState:
    """Everything the double knows: orgs with projects, users, grants, policies."""

    def __init__(self, token, org_id="100000000000000001", org_name="acme"):
        self.token = token
        self.default_org = org_id
        self._ids = itertools.count(200000000000000001)
        self.lock = threading.RLock()
        self.orgs = {}
        self.instance_policy = copy.deepcopy(DEFAULT_INSTANCE_POLICY)
        self.add_org(org_id, org_name)
        self.requests = []  # (method, path, headers, body) as received; for assertions

    def new_id(self):
        return str(next(self._ids))

    def add_org(self, org_id, name):
        self.orgs[org_id] = {"id": org_id, "name": name, "domain": "%s.zitadel.example" % name, "projects": {},
                             "users": {}, "grants": {}, "login_policy": None}
        return self.orgs[org_id]

    def add_user(self, login_name, org_id=None, user_id=None):
        org = self.orgs[org_id or self.default_org]
        user_id = user_id or self.new_id()
        org["users"][user_id] = {"id": user_id, "userName": login_name.split("@")[0], "loginNames": [login_name],
                                 "preferredLoginName": login_name, "state": "USER_STATE_ACTIVE"}
        return user_id

    def details(self, org):
        return {"sequence": str(next(self._ids) % 100000), "changeDate": "2026-11-26T10:00:00Z", "resourceOwner": org["id"]}


class Handlers:
    """One method per RPC; `req` is the merged request message (body + path + query params)."""

    def __init__(self, state):
        self.s = state

    # -- helpers -------------------------------------------------------------------------------
    def _project(self, org, project_id):
        project = org["projects"].get(project_id)
        if project is None:
            raise ApiError(5, "Project not found (Errors.Project.NotFound)", "PROJECT-3M9sd")
        return project

    @staticmethod
    def _page(items, req):
        query = req.get("query") or {}
        offset = int(query.get("offset", 0) or 0)
        limit = int(query.get("limit", 0) or 0) or 1000
        return {"details": {"totalResult": str(len(items))}, "result": items[offset:offset + limit]}

    @staticmethod
    def _project_json(p):
        return {k: p[k] for k in ("id", "name", "state", "projectRoleAssertion", "projectRoleCheck", "hasProjectCheck",
                                  "privateLabelingSetting", "details") if k in p}

    # -- org -----------------------------------------------------------------------------------
    def GetMyOrg(self, org, req):
        return {"org": {"id": org["id"], "name": org["name"], "state": "ORG_STATE_ACTIVE", "primaryDomain": org["domain"]}}

    def Healthz(self, org, req):
        return {}

    # -- projects ------------------------------------------------------------------------------
    def ListProjects(self, org, req):
        items = sorted(org["projects"].values(), key=lambda p: p["id"])
        for q in req.get("queries") or []:
            name_q = q.get("nameQuery")
            if name_q:
                method = name_q.get("method", "TEXT_QUERY_METHOD_EQUALS")
                if method != "TEXT_QUERY_METHOD_EQUALS":
                    raise ApiError(12, "the double implements only TEXT_QUERY_METHOD_EQUALS")
                items = [p for p in items if p["name"] == name_q.get("name")]
        return self._page([self._project_json(p) for p in items], req)

    def GetProjectByID(self, org, req):
        return {"project": self._project_json(self._project(org, req["id"]))}

    def AddProject(self, org, req):
        if any(p["name"] == req["name"] for p in org["projects"].values()):
            raise ApiError(6, "Project already exists (Errors.Project.AlreadyExists)", "PROJECT-74M0s")
        pid = self.s.new_id()
        org["projects"][pid] = {"id": pid, "name": req["name"], "state": "PROJECT_STATE_ACTIVE",
                                "projectRoleAssertion": bool(req.get("projectRoleAssertion")),
                                "projectRoleCheck": bool(req.get("projectRoleCheck")),
                                "hasProjectCheck": bool(req.get("hasProjectCheck")),
                                "privateLabelingSetting": req.get("privateLabelingSetting", "PRIVATE_LABELING_SETTING_UNSPECIFIED"),
                                "details": self.s.details(org), "roles": {}, "apps": {}}
        return {"id": pid, "details": self.s.details(org)}

    def UpdateProject(self, org, req):
        project = self._project(org, req["id"])
        new = {k: req.get(k, False) for k in ("projectRoleAssertion", "projectRoleCheck", "hasProjectCheck")}
        new["name"] = req["name"]
        new["privateLabelingSetting"] = req.get("privateLabelingSetting", "PRIVATE_LABELING_SETTING_UNSPECIFIED")
        if all(project.get(k) == v for k, v in new.items()):
            raise ApiError(9, "No changes (Errors.Project.NotChanged)", "COMMAND-1m88i")
        project.update(new)
        return {"details": self.s.details(org)}

    def RemoveProject(self, org, req):
        self._project(org, req["id"])
        del org["projects"][req["id"]]
        for gid in [g for g, grant in org["grants"].items() if grant["projectId"] == req["id"]]:
            del org["grants"][gid]
        return {"details": self.s.details(org)}

    # -- roles ---------------------------------------------------------------------------------
    def ListProjectRoles(self, org, req):
        project = self._project(org, req["projectId"])
        items = [{"key": r["key"], "displayName": r["displayName"], "group": r.get("group", ""), "details": self.s.details(org)}
                 for dummy_key, r in sorted(project["roles"].items())]
        return self._page(items, req)

    def _add_roles(self, org, project, roles):
        for role in roles:
            if role["key"] in project["roles"]:
                raise ApiError(6, "Role already exists (Errors.Project.Role.AlreadyExists)", "PROJECT-8sd0s")
        for role in roles:
            project["roles"][role["key"]] = {"key": role["key"], "displayName": role.get("displayName", ""), "group": role.get("group", "")}

    def BulkAddProjectRoles(self, org, req):
        self._add_roles(org, self._project(org, req["projectId"]), req["roles"])
        return {"details": self.s.details(org)}

    def AddProjectRole(self, org, req):
        self._add_roles(org, self._project(org, req["projectId"]), [dict(req, key=req["roleKey"])])
        return {"details": self.s.details(org)}

    def UpdateProjectRole(self, org, req):
        project = self._project(org, req["projectId"])
        role = project["roles"].get(req["roleKey"])
        if role is None:
            raise ApiError(5, "Role not found (Errors.Project.Role.NotFound)", "COMMAND-DfgSd")
        new = {"displayName": req.get("displayName", ""), "group": req.get("group", "")}
        if all(role[k] == v for k, v in new.items()):
            raise ApiError(9, "No changes (Errors.Project.Role.NotChanged)", "COMMAND-0kj5s")
        role.update(new)
        return {"details": self.s.details(org)}

    def RemoveProjectRole(self, org, req):
        project = self._project(org, req["projectId"])
        if req["roleKey"] not in project["roles"]:
            raise ApiError(5, "Role not found (Errors.Project.Role.NotFound)", "COMMAND-DfgSd")
        del project["roles"][req["roleKey"]]
        # Zitadel cascades: the role disappears from every user grant of the project
        for grant in org["grants"].values():
            if grant["projectId"] == project["id"]:
                grant["roleKeys"] = [k for k in grant["roleKeys"] if k != req["roleKey"]]
        return {"details": self.s.details(org)}

    # -- apps ----------------------------------------------------------------------------------
    def ListApps(self, org, req):
        project = self._project(org, req["projectId"])
        return self._page([copy.deepcopy(a) for dummy_id, a in sorted(project["apps"].items())], req)

    def GetAppByID(self, org, req):
        app = self._project(org, req["projectId"])["apps"].get(req["appId"])
        if app is None:
            raise ApiError(5, "App not found (Errors.Project.App.NotFound)", "APP-ii80s")
        return {"app": copy.deepcopy(app)}

    OIDC_FIELDS = ("redirectUris", "responseTypes", "grantTypes", "appType", "authMethodType", "postLogoutRedirectUris",
                   "version", "devMode", "accessTokenType", "accessTokenRoleAssertion", "idTokenRoleAssertion",
                   "idTokenUserinfoAssertion", "clockSkew", "additionalOrigins", "skipNativeAppSuccessPage", "backChannelLogoutUri")

    def AddOIDCApp(self, org, req):
        project = self._project(org, req["projectId"])
        if any(a["name"] == req["name"] for a in project["apps"].values()):
            raise ApiError(6, "App already exists (Errors.Project.App.AlreadyExists)", "PROJECT-3M9sd")
        app_id = self.s.new_id()
        client_id = "%s@%s" % (self.s.new_id(), project["name"])
        config = {k: copy.deepcopy(req[k]) for k in self.OIDC_FIELDS if k in req}
        config["clientId"] = client_id
        project["apps"][app_id] = {"id": app_id, "name": req["name"], "state": "APP_STATE_ACTIVE", "oidcConfig": config,
                                   "details": self.s.details(org)}
        out = {"appId": app_id, "clientId": client_id, "details": self.s.details(org)}
        if req.get("authMethodType", "OIDC_AUTH_METHOD_TYPE_BASIC") in ("OIDC_AUTH_METHOD_TYPE_BASIC", "OIDC_AUTH_METHOD_TYPE_POST"):
            out["clientSecret"] = "double-secret-" + app_id  # only ever returned here, as in Zitadel
        return out

    def UpdateOIDCAppConfig(self, org, req):
        app = self._project(org, req["projectId"])["apps"].get(req["appId"])
        if app is None or "oidcConfig" not in app:
            raise ApiError(5, "App not found (Errors.Project.App.NotFound)", "APP-ii80s")
        new = {k: copy.deepcopy(req[k]) for k in self.OIDC_FIELDS if k in req}
        old = {k: v for k, v in app["oidcConfig"].items() if k in self.OIDC_FIELDS and k != "version"}
        if _strip_defaults(new) == _strip_defaults(old):
            raise ApiError(9, "No changes (Errors.Project.App.OIDCConfigInvalid)", "COMMAND-1m88i")
        keep = {k: v for k, v in app["oidcConfig"].items() if k in ("clientId", "version")}
        app["oidcConfig"] = dict(new, **keep)
        return {"details": self.s.details(org)}

    def RemoveApp(self, org, req):
        project = self._project(org, req["projectId"])
        if req["appId"] not in project["apps"]:
            raise ApiError(5, "App not found (Errors.Project.App.NotFound)", "APP-ii80s")
        del project["apps"][req["appId"]]
        return {"details": self.s.details(org)}

    # -- users and grants ------------------------------------------------------------------------
    def ListUsers(self, org, req):
        items = sorted(org["users"].values(), key=lambda u: u["id"])
        for q in req.get("queries") or []:
            if "loginNameQuery" in q:
                name = q["loginNameQuery"].get("loginName")
                items = [u for u in items if name in u["loginNames"]]
            else:
                raise ApiError(12, "the double implements only loginNameQuery")
        return self._page(copy.deepcopy(items), req)

    def ListUserGrants(self, org, req):
        items = sorted(org["grants"].values(), key=lambda g: g["id"])
        for q in req.get("queries") or []:
            if "projectIdQuery" in q:
                items = [g for g in items if g["projectId"] == q["projectIdQuery"].get("projectId")]
            elif "userIdQuery" in q:
                items = [g for g in items if g["userId"] == q["userIdQuery"].get("userId")]
            else:
                raise ApiError(12, "the double implements only projectIdQuery and userIdQuery")
        return self._page(copy.deepcopy(items), req)

    def AddUserGrant(self, org, req):
        user = org["users"].get(req["userId"])
        if user is None:
            raise ApiError(5, "User not found (Errors.User.NotFound)", "COMMAND-2N0fs")
        project = self._project(org, req["projectId"])
        unknown = [k for k in req.get("roleKeys") or [] if k not in project["roles"]]
        if unknown:
            raise ApiError(5, "Role not found (Errors.Project.Role.NotFound): %s" % ", ".join(unknown), "COMMAND-4m9gd")
        if any(g["userId"] == user["id"] and g["projectId"] == project["id"] for g in org["grants"].values()):
            raise ApiError(6, "User grant already exists (Errors.UserGrant.AlreadyExists)", "COMMAND-2N0fs")
        gid = self.s.new_id()
        org["grants"][gid] = {"id": gid, "userId": user["id"], "projectId": project["id"], "projectName": project["name"],
                              "roleKeys": list(req.get("roleKeys") or []), "state": "USER_GRANT_STATE_ACTIVE",
                              "userName": user["userName"], "preferredLoginName": user["preferredLoginName"], "orgId": org["id"]}
        return {"userGrantId": gid, "details": self.s.details(org)}

    def _grant(self, org, req):
        grant = org["grants"].get(req["grantId"])
        if grant is None or grant["userId"] != req["userId"]:
            raise ApiError(5, "User grant not found (Errors.UserGrant.NotFound)", "COMMAND-4M0fs")
        return grant

    def UpdateUserGrant(self, org, req):
        grant = self._grant(org, req)
        project = self._project(org, grant["projectId"])
        keys = list(req.get("roleKeys") or [])
        unknown = [k for k in keys if k not in project["roles"]]
        if unknown:
            raise ApiError(5, "Role not found (Errors.Project.Role.NotFound): %s" % ", ".join(unknown), "COMMAND-4m9gd")
        if sorted(keys) == sorted(grant["roleKeys"]):
            raise ApiError(9, "No changes (Errors.UserGrant.NotChanged)", "COMMAND-Rs8fy")
        grant["roleKeys"] = keys
        return {"details": self.s.details(org)}

    def RemoveUserGrant(self, org, req):
        self._grant(org, req)
        del org["grants"][req["grantId"]]
        return {"details": self.s.details(org)}

    # -- login policy: management (org) ----------------------------------------------------------
    def _effective(self, org):
        return org["login_policy"] if org["login_policy"] is not None else self.s.instance_policy

    def _policy_json(self, policy, is_default):
        out = copy.deepcopy(policy)
        out["isDefault"] = is_default
        return out

    def mgmt_GetLoginPolicy(self, org, req):
        is_default = org["login_policy"] is None
        return {"policy": self._policy_json(self._effective(org), is_default), "isDefault": is_default}

    def AddCustomLoginPolicy(self, org, req):
        if org["login_policy"] is not None:
            raise ApiError(6, "Login policy already exists (Errors.Org.LoginPolicy.AlreadyExists)", "Org-Dgfb2")
        org["login_policy"] = {k: copy.deepcopy(v) for k, v in req.items() if k in POLICY_SCALARS + ["secondFactors", "multiFactors"]}
        return {"details": self.s.details(org)}

    def _update_policy(self, policy, req, not_changed):
        new = {k: req.get(k) for k in POLICY_SCALARS}
        old = {k: policy.get(k) for k in POLICY_SCALARS}
        if _strip_defaults(new) == _strip_defaults(old):
            raise ApiError(9, "No changes (%s)" % not_changed, "Org-5M9vdd")
        for key in POLICY_SCALARS:
            if key in req:
                policy[key] = req[key]
            else:
                policy.pop(key, None)  # a v1 update replaces the whole policy

    def UpdateCustomLoginPolicy(self, org, req):
        if org["login_policy"] is None:
            raise ApiError(5, "Login policy not found (Errors.Org.LoginPolicy.NotFound)", "Org-13Fs1")
        self._update_policy(org["login_policy"], req, "Errors.Org.LoginPolicy.NotChanged")
        return {"details": self.s.details(org)}

    def ResetLoginPolicyToDefault(self, org, req):
        if org["login_policy"] is None:
            raise ApiError(5, "Login policy not found (Errors.Org.LoginPolicy.NotFound)", "Org-13Fs1")
        org["login_policy"] = None
        return {"details": self.s.details(org)}

    def _factor(self, policy, kind, value, add):
        items = policy.setdefault(kind, [])
        if add:
            if value in items:
                raise ApiError(6, "Factor already exists (Errors.Org.LoginPolicy.MFA.AlreadyExists)", "Org-1N8sd")
            items.append(value)
        else:
            if value not in items:
                raise ApiError(5, "Factor not found (Errors.Org.LoginPolicy.MFA.NotExisting)", "Org-3M9od")
            items.remove(value)

    def _org_policy(self, org):
        if org["login_policy"] is None:
            raise ApiError(5, "Login policy not found (Errors.Org.LoginPolicy.NotFound)", "Org-13Fs1")
        return org["login_policy"]

    def mgmt_ListLoginPolicySecondFactors(self, org, req):
        return self._page(list(self._effective(org).get("secondFactors", [])), req)

    def mgmt_AddSecondFactorToLoginPolicy(self, org, req):
        self._factor(self._org_policy(org), "secondFactors", req["type"], True)
        return {"details": self.s.details(org)}

    def mgmt_RemoveSecondFactorFromLoginPolicy(self, org, req):
        self._factor(self._org_policy(org), "secondFactors", req["type"], False)
        return {"details": self.s.details(org)}

    def mgmt_ListLoginPolicyMultiFactors(self, org, req):
        return self._page(list(self._effective(org).get("multiFactors", [])), req)

    def mgmt_AddMultiFactorToLoginPolicy(self, org, req):
        self._factor(self._org_policy(org), "multiFactors", req["type"], True)
        return {"details": self.s.details(org)}

    def mgmt_RemoveMultiFactorFromLoginPolicy(self, org, req):
        self._factor(self._org_policy(org), "multiFactors", req["type"], False)
        return {"details": self.s.details(org)}

    # -- login policy: admin (instance) ---------------------------------------------------------
    def admin_GetLoginPolicy(self, org, req):
        return {"policy": self._policy_json(self.s.instance_policy, True)}

    def admin_UpdateLoginPolicy(self, org, req):
        self._update_policy(self.s.instance_policy, req, "Errors.IAM.LoginPolicy.NotChanged")
        return {"details": self.s.details(org)}

    def admin_AddSecondFactorToLoginPolicy(self, org, req):
        self._factor(self.s.instance_policy, "secondFactors", req["type"], True)
        return {"details": self.s.details(org)}

    def admin_RemoveSecondFactorFromLoginPolicy(self, org, req):
        self._factor(self.s.instance_policy, "secondFactors", req["type"], False)
        return {"details": self.s.details(org)}

    def admin_AddMultiFactorToLoginPolicy(self, org, req):
        self._factor(self.s.instance_policy, "multiFactors", req["type"], True)
        return {"details": self.s.details(org)}

    def admin_RemoveMultiFactorFromLoginPolicy(self, org, req):
        self._factor(self.s.instance_policy, "multiFactors", req["type"], False)
        return {"details": self.s.details(org)}

    def handler_for(self, route):
        prefix = "mgmt_" if route.service.startswith("zitadel.management") else "admin_"
        return getattr(self, prefix + route.rpc, None) or (getattr(self, route.rpc, None) if prefix == "mgmt_" else None)


_ENUM_PATH_FIELDS = ("type",)


def make_handler(state, descriptors, handlers):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40-200 ms delayed-ACK stalls

        def log_message(self, *args):  # keep test output clean
            pass

        def _send(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, exc):
            self._send(GRPC_HTTP.get(exc.code, 500), {"code": exc.code, "message": exc.message, "details": [
                {"@type": "type.googleapis.com/zitadel.v1.ErrorDetail", "id": exc.error_id, "message": exc.message}]})

        def _dispatch(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            with state.lock:
                state.requests.append((method, url.path, {k.lower(): v for k, v in self.headers.items()}, raw.decode("utf-8", "replace")))
                try:
                    self._serve(method, url, raw)
                except ApiError as exc:
                    self._error(exc)

        def _serve(self, method, url, raw):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                raise ApiError(16, "auth header missing", "AUTH-7fs1e")
            if auth[len("Bearer "):] != state.token:
                raise ApiError(16, "invalid token (Errors.Token.Invalid)", "AUTHZ-Kl3p0")
            org_id = self.headers.get("x-zitadel-orgid") or state.default_org
            org = state.orgs.get(org_id)
            if org is None:
                raise ApiError(7, "No matching permissions found (AUTH-5mWD2)", "AUTH-5mWD2")
            try:
                route, params = descriptors.match(method, url.path)
            except LookupError as exc:
                if str(exc) == "405":
                    self._send(405, {"code": 12, "message": "Method Not Allowed", "details": []})
                else:
                    self._send(404, {"code": 5, "message": "Not Found", "details": []})
                return
            req = {}
            if raw:
                if route.body != "*":
                    raise ApiError(3, "%s takes no request body" % route.rpc)
                try:
                    req = json.loads(raw)
                except ValueError as exc:
                    raise ApiError(3, "proto: syntax error: %s" % exc)
            elif route.body == "*" and method in ("POST", "PUT"):
                req = {}
            fields = descriptors.fields(route.request)
            for name, value in params.items():
                req[fields[name]["json_name"]] = unquote(value)
            for name, value in parse_qsl(url.query):
                field = fields.get(name)
                if field is None:
                    raise ApiError(3, 'unknown query parameter "%s"' % name)
                req[field["json_name"]] = value
            try:
                descriptors.validate(route.request, req, required=REQUIRED.get(route.rpc))
            except Invalid as exc:
                raise ApiError(3, str(exc), "DOUBLE-400")
            fn = handlers.handler_for(route)
            if fn is None:
                raise ApiError(12, "%s is not implemented by the contract double" % route.rpc, "DOUBLE-501")
            out = fn(org, req)
            out = descriptors.strip(route.response, _strip_defaults(out))
            try:
                descriptors.validate(route.response, out)
            except Invalid as exc:  # the double itself broke the contract: fail loudly
                raise ApiError(13, "contract double produced an invalid %s: %s" % (route.response, exc))
            self._send(200, out)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def do_PATCH(self):
            self._dispatch("PATCH")

    return Handler


_DESCRIPTORS = None


class ZitadelContractDouble:
    """Start with `.start()`, stop with `.stop()`; `.url`, `.token`, `.state`."""

    def __init__(self, token="double-pat-0123456789", descriptors=None):
        global _DESCRIPTORS
        if descriptors is None:
            if _DESCRIPTORS is None:
                _DESCRIPTORS = Descriptors()
            descriptors = _DESCRIPTORS
        self.descriptors = descriptors
        self.token = token
        self.state = ZitadelState(token)
        self.handlers = Handlers(self.state)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state, descriptors, self.handlers))
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="zitadel-contract-double", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    @property
    def org(self):
        return self.state.orgs[self.state.default_org]


def main():
    """Run standalone: python -m tests.zitadel_contract_double.server [port]."""
    import sys
    double = ZitadelContractDouble()
    if len(sys.argv) > 1:
        double.httpd.server_close()
        double.httpd = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), make_handler(double.state, double.descriptors, double.handlers))
        double.url = "http://127.0.0.1:%s" % sys.argv[1]
    print("zitadel contract double at %s token %s" % (double.url, double.token), flush=True)
    double.httpd.serve_forever()


if __name__ == "__main__":
    main()
