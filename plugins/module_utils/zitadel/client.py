# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zitadel REST v1 client on Ansible's own URL helpers (no SDK: zitadel-client covers only v2).

Authenticates with the personal access token (PAT) of a service user; optionally scopes every
call to one organisation with the ``x-zitadel-orgid`` header. Errors carry the HTTP status, the
method/path and Zitadel's own message, never the token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote
from ansible.module_utils.urls import Request, make_context

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

# v1 services are served under these base paths (grpc-gateway bindings).
MANAGEMENT = "/management/v1"
ADMIN = "/admin/v1"

# Options every zitadel_* module shares (module_defaults for group/safespring.netsec.zitadel).
CONNECTION_ARGSPEC = dict(
    url=dict(type="str", required=True),
    token=dict(type="str", required=True, no_log=True),
    org_id=dict(type="str"),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
)


class ZitadelError(NetsecError):
    """An API call that failed: HTTP status, method + path and Zitadel's message."""

    def __init__(self, message, status=None, method=None, path=None, code=None, fix=None):
        self.status = status
        self.method = method
        self.path = path
        self.code = code
        super(ZitadelError, self).__init__(message, fix=fix, status=status, api_path=path)


def _zitadel_message(raw):
    """Zitadel's error body is a gRPC status as JSON: {"code": 5, "message": "...", "details": [...]}."""
    try:
        body = json.loads(raw)
    except ValueError:
        return (raw or "").strip()[:500], None
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:500], body.get("code")
    return str(body)[:500], None


class ZitadelClient(object):
    """Thin JSON client: one method per HTTP verb, paths relative to the instance URL."""

    def __init__(self, url, token, org_id=None, validate_certs=True, timeout=30):
        if not url or not (url.startswith("https://") or url.startswith("http://")):
            raise NetsecError("%r is not an http(s) URL" % (url,), field="url", fix="give the Zitadel instance URL, e.g. https://id.example.com")
        if not token:
            raise NetsecError("is empty", field="token", fix="give the personal access token of a Zitadel service user")
        self.url = url.rstrip("/")
        self._token = token
        self.org_id = org_id
        self.validate_certs = validate_certs
        self.timeout = timeout
        self._http = Request()  # the class behind open_url; lets one SSL context serve every call
        self._context = None  # built once: loading the CA bundle costs ~80 ms per request otherwise
        self.calls = []  # (method, path) log: lets tests and reports say what was touched

    def __repr__(self):
        return "ZitadelClient(%r, org_id=%r)" % (self.url, self.org_id)

    def request(self, method, path, body=None, org_id=None):
        headers = {
            "Authorization": "Bearer " + self._token,
            "Accept": "application/json",
        }
        scope = org_id if org_id is not None else self.org_id
        if scope:
            headers["x-zitadel-orgid"] = scope
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.calls.append((method, path))
        if self._context is None:
            self._context = make_context(validate_certs=self.validate_certs)
        try:
            resp = self._http.open(
                method, self.url + path, data=data, headers=headers,
                validate_certs=self.validate_certs, timeout=self.timeout, follow_redirects="none",
                context=self._context,
            )
            raw = resp.read()
        except HTTPError as exc:
            try:
                raw = exc.read()
            except Exception:  # pylint: disable=broad-except
                raw = b""
            text, code = _zitadel_message(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)
            fix = None
            if exc.code in (401, 403):
                fix = "check that the service user's token is valid and has the needed manager role"
            raise ZitadelError(
                "Zitadel %s %s failed with HTTP %s: %s" % (method, path, exc.code, text or exc.reason),
                status=exc.code, method=method, path=path, code=code, fix=fix,
            )
        except URLError as exc:
            raise ZitadelError(
                "cannot reach Zitadel at %s (%s %s): %s" % (self.url, method, path, exc.reason),
                method=method, path=path, fix="check url and network access to the instance",
            )
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise ZitadelError("Zitadel %s %s returned a non-JSON body" % (method, path), method=method, path=path)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body if body is not None else {}, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body if body is not None else {}, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def search(self, path, body=None, **kw):
        """POST .../_search following offset pagination until every result is read."""
        body = dict(body or {})
        out = []
        offset = 0
        while True:
            body["query"] = {"offset": str(offset), "limit": 100, "asc": True}
            page = self.post(path, body, **kw)
            result = page.get("result") or []
            out.extend(result)
            total = int((page.get("details") or {}).get("totalResult") or 0)
            offset += len(result)
            if not result or offset >= total:
                return out


def client_from_module(module):
    """Build the client from the shared connection options of an AnsibleModule."""
    p = module.params
    return ZitadelClient(p["url"], p["token"], org_id=p.get("org_id"), validate_certs=p["validate_certs"], timeout=p["timeout"])


def path_segment(value):
    """Quote one path parameter (role keys may hold ':' or '/')."""
    return quote(str(value), safe="")
