"""The Zitadel contract double refuses what the real API refuses (so module tests can fail)."""
import json
import urllib.error
import urllib.request

import pytest


def call(double, method, path, body=None, token=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(double.url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + (token or double.token), "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize("method,path,body,status,code,text", [
    ("POST", "/management/v1/projects", {"name": "p", "roleAssertion": True}, 400, 3, 'unknown field "roleAssertion"'),
    ("POST", "/management/v1/projects", {"name": "p", "projectRoleAssertion": "yes"}, 400, 3, "invalid value for bool"),
    ("POST", "/management/v1/projects", {"projectRoleAssertion": True}, 400, 3, "AddProjectRequest.name: value is required"),
    ("POST", "/management/v1/projects/1/apps/oidc", {"name": "a", "appType": "OIDC_APP_TYPE_CLI"}, 400, 3, "invalid value for enum"),
    ("POST", "/management/v1/projects/1/roles/_bulk", {"roles": [{"key": "a"}]}, 400, 3, "Role.displayName: value is required"),
    ("POST", "/admin/v1/policies/login/multi_factors", {"type": "MULTI_FACTOR_TYPE_UNSPECIFIED"}, 400, 3, "type: value is required"),
    ("POST", "/management/v1/users/grants/_search", {"queries": [{"projectIdQuery": {"projectId": "1"}, "userIdQuery": {"userId": "2"}}]},
     400, 3, "oneof"),
    ("POST", "/management/v1/policies/login/second_factors/_search", {"x": 1}, 400, 3, "takes no request body"),
    ("DELETE", "/management/v1/projects", None, 405, 12, "Method Not Allowed"),
    ("POST", "/management/v2/projects", {}, 404, 5, "Not Found"),
    ("POST", "/management/v1/projects/1/grants", {"grantedOrgId": "2"}, 501, 12, "not implemented by the contract double"),
])
def test_invalid_requests_get_zitadels_error_shape(zitadel_double, method, path, body, status, code, text):
    got_status, payload = call(zitadel_double, method, path, body)
    assert (got_status, payload["code"]) == (status, code)
    assert text in payload["message"]


def test_malformed_json_is_invalid_argument(zitadel_double):
    status, payload = call(zitadel_double, "POST", "/management/v1/projects", raw=b"{name:")
    assert (status, payload["code"]) == (400, 3)


def test_wrong_or_missing_token_is_unauthenticated(zitadel_double):
    status, payload = call(zitadel_double, "GET", "/management/v1/policies/login", token="nope")
    assert (status, payload["code"]) == (401, 16)
    req = urllib.request.Request(zitadel_double.url + "/management/v1/policies/login")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 401


def test_state_is_kept_and_unchanged_updates_fail_like_zitadel(zitadel_double):
    status, created = call(zitadel_double, "POST", "/management/v1/projects", {"name": "p", "projectRoleAssertion": True})
    assert status == 200
    pid = created["id"]
    assert call(zitadel_double, "GET", "/management/v1/projects/" + pid)[1]["project"]["projectRoleAssertion"] is True
    status, payload = call(zitadel_double, "PUT", "/management/v1/projects/" + pid, {"name": "p", "projectRoleAssertion": True})
    assert (status, payload["code"]) == (400, 9)
    assert call(zitadel_double, "POST", "/management/v1/projects", {"name": "p"})[0] == 409


def test_removing_a_role_removes_it_from_user_grants(zitadel_double):
    uid = zitadel_double.state.add_user("a@acme.example")
    pid = call(zitadel_double, "POST", "/management/v1/projects", {"name": "p"})[1]["id"]
    call(zitadel_double, "POST", "/management/v1/projects/%s/roles/_bulk" % pid,
         {"roles": [{"key": "a", "displayName": "A"}, {"key": "b", "displayName": "B"}]})
    call(zitadel_double, "POST", "/management/v1/users/%s/grants" % uid, {"projectId": pid, "roleKeys": ["a", "b"]})
    assert call(zitadel_double, "DELETE", "/management/v1/projects/%s/roles/a" % pid)[0] == 200
    grants = call(zitadel_double, "POST", "/management/v1/users/grants/_search", {})[1]["result"]
    assert grants[0]["roleKeys"] == ["b"]


def test_native_app_without_auth_method_secret_gets_no_client_secret(zitadel_double):
    pid = call(zitadel_double, "POST", "/management/v1/projects", {"name": "p"})[1]["id"]
    dummy_status, native = call(zitadel_double, "POST", "/management/v1/projects/%s/apps/oidc" % pid,
                                {"name": "kubectl", "appType": "OIDC_APP_TYPE_NATIVE", "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE"})
    dummy_status, web = call(zitadel_double, "POST", "/management/v1/projects/%s/apps/oidc" % pid, {"name": "web"})
    assert "clientSecret" not in native and native["clientId"].endswith("@p")
    assert web["clientSecret"]
