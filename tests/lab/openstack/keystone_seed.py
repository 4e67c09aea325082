"""Seed the lab's Keystone through its own API: the network service and its endpoint, the
Neutron service user, and two projects each with a member user and an application credential.

Input (environment): K_URL (http://127.0.0.1:5000), K_NETWORK_URL, K_ADMIN_PASSWORD,
K_NEUTRON_PASSWORD, K_USER_PASSWORD_A, K_USER_PASSWORD_B, K_APPCRED_SECRET_A,
K_APPCRED_SECRET_B. Output: JSON {"project-a": {"project_id", "user_id",
"application_credential_id"}, ...} on stdout (ids only; the secrets stay in the environment).
Idempotent: existing objects are found by name and reused; the application credentials are
re-created so that their secrets match the input.
"""
import json
import os
import sys
import urllib.error
import urllib.request

URL = os.environ["K_URL"].rstrip("/") + "/v3"
REGION = "RegionOne"
PROJECTS = {
    "project-a": {"user": "user-a", "password": "K_USER_PASSWORD_A", "secret": "K_APPCRED_SECRET_A"},
    "project-b": {"user": "user-b", "password": "K_USER_PASSWORD_B", "secret": "K_APPCRED_SECRET_B"},
}
APPCRED_NAME = "lab"


def call(method, path, token=None, body=None, expect=(200, 201, 204), with_headers=False):
    req = urllib.request.Request(URL + path, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(req, data=data, timeout=60) as resp:
            raw = resp.read()
            headers = resp.headers
            status = resp.status
    except urllib.error.HTTPError as err:
        # Never echo the request body: it may hold a password.
        raise SystemExit("keystone %s %s -> %s: %s" % (method, path, err.code, err.read()[:300]))
    if status not in expect:
        raise SystemExit("keystone %s %s -> %s" % (method, path, status))
    answer = json.loads(raw) if raw else {}
    return (answer, headers) if with_headers else answer


def password_token(user, password, project):
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    headers = call("POST", "/auth/tokens", body=body, with_headers=True)[1]
    return headers["X-Subject-Token"]


def find(token, collection, **filters):
    query = "&".join("%s=%s" % kv for kv in sorted(filters.items()))
    data = call("GET", "/%s?%s" % (collection, query), token)
    items = data[collection]
    return items[0] if items else None


def ensure(token, collection, singular, attrs, **filters):
    found = find(token, collection, **(filters or {"name": attrs["name"]}))
    if found:
        return found
    data = call("POST", "/" + collection, token, {singular: attrs})
    return data[singular]


def ensure_user(token, name, password, project_id):
    user = find(token, "users", name=name, domain_id="default")
    attrs = {"name": name, "domain_id": "default", "password": password, "default_project_id": project_id}
    if user:
        call("PATCH", "/users/" + user["id"], token, {"user": {"password": password}})
        return user
    data = call("POST", "/users", token, {"user": attrs})
    return data["user"]


def grant(token, project_id, user_id, role_id):
    call("PUT", "/projects/%s/users/%s/roles/%s" % (project_id, user_id, role_id), token)


def main():
    env = os.environ
    admin = password_token("admin", env["K_ADMIN_PASSWORD"], "admin")
    roles = {name: find(admin, "roles", name=name)["id"] for name in ("admin", "member", "service")}

    service = ensure(admin, "services", "service", {"name": "neutron", "type": "network", "enabled": True},
                     type="network")
    for interface in ("public", "internal"):
        existing = find(admin, "endpoints", service_id=service["id"], interface=interface)
        if existing and existing["url"] != env["K_NETWORK_URL"]:
            call("DELETE", "/endpoints/" + existing["id"], admin)
            existing = None
        if not existing:
            call("POST", "/endpoints", admin, {"endpoint": {
                "service_id": service["id"], "interface": interface, "region_id": REGION,
                "url": env["K_NETWORK_URL"], "enabled": True}})

    svc_project = ensure(admin, "projects", "project", {"name": "service", "domain_id": "default"},
                         name="service", domain_id="default")
    neutron = ensure_user(admin, "neutron", env["K_NEUTRON_PASSWORD"], svc_project["id"])
    grant(admin, svc_project["id"], neutron["id"], roles["admin"])
    grant(admin, svc_project["id"], neutron["id"], roles["service"])

    out = {}
    for project_name, spec in sorted(PROJECTS.items()):
        project = ensure(admin, "projects", "project",
                         {"name": project_name, "domain_id": "default", "description": "lab project"},
                         name=project_name, domain_id="default")
        user = ensure_user(admin, spec["user"], env[spec["password"]], project["id"])
        grant(admin, project["id"], user["id"], roles["member"])
        # The user creates its own application credential, scoped to its project and roles.
        user_token = password_token(spec["user"], env[spec["password"]], project_name)
        listed = call("GET", "/users/%s/application_credentials?name=%s" % (user["id"], APPCRED_NAME), user_token)
        for old in listed["application_credentials"]:
            call("DELETE", "/users/%s/application_credentials/%s" % (user["id"], old["id"]), user_token)
        created = call("POST", "/users/%s/application_credentials" % user["id"], user_token, {
            "application_credential": {"name": APPCRED_NAME, "secret": env[spec["secret"]],
                                       "description": "safespring.netsec lab"}})
        out[project_name] = {"project_id": project["id"], "user_id": user["id"],
                             "application_credential_id": created["application_credential"]["id"]}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
