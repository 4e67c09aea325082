"""Pure plans for Zitadel resources: what calls converge desired with live."""
import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import plan
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel.client import ZitadelClient, ZitadelError


def calls(ops):
    return [(op.method, op.path) for op in ops]


LIVE_PROJECT = {"id": "7", "name": "k8s", "projectRoleAssertion": True}


def test_missing_project_is_created_and_its_id_captured_for_the_roles():
    ops = plan.plan_project("k8s", None) + plan.plan_roles(plan.normalise_roles([{"key": "viewer"}]), {})
    assert calls(ops) == [("POST", "/management/v1/projects"), ("POST", "/management/v1/projects/{project_id}/roles/_bulk")]
    assert ops[0].capture == ("id", "project_id") and ops[0].body["projectRoleAssertion"] is True


def test_project_as_desired_needs_no_call_even_though_zitadel_omits_false_fields():
    assert plan.plan_project("k8s", LIVE_PROJECT) == []


def test_role_assertion_switched_off_in_zitadel_is_switched_back_on():
    ops = plan.plan_project("k8s", dict(LIVE_PROJECT, projectRoleAssertion=False))
    assert calls(ops) == [("PUT", "/management/v1/projects/{project_id}")] and ops[0].body["projectRoleAssertion"] is True


def test_roles_are_added_in_one_bulk_call_updated_one_by_one_and_purged_only_when_asked():
    desired = plan.normalise_roles([{"key": "a"}, {"key": "b"}, {"key": "c", "display_name": "C"}])
    live = {"c": {"key": "c", "displayName": "old", "group": ""}, "x": {"key": "x", "displayName": "x", "group": ""}}
    ops = plan.plan_roles(desired, live)
    assert calls(ops) == [("POST", "/management/v1/projects/{project_id}/roles/_bulk"), ("PUT", "/management/v1/projects/{project_id}/roles/c")]
    assert [r["key"] for r in ops[0].body["roles"]] == ["a", "b"]
    assert calls(plan.plan_roles(desired, live, purge=True))[-1] == ("DELETE", "/management/v1/projects/{project_id}/roles/x")


def test_role_keys_with_colons_are_quoted_in_paths():
    ops = plan.plan_roles({}, {"developer:web": {}}, purge=True)
    assert calls(ops) == [("DELETE", "/management/v1/projects/{project_id}/roles/developer%3Aweb")]


def test_duplicate_role_keys_are_refused_naming_the_entry():
    with pytest.raises(NetsecError) as err:
        plan.normalise_roles([{"key": "a"}, {"key": "a"}])
    assert err.value.field == "roles[1].key"


def test_kubectl_app_is_a_native_pkce_client_without_secret():
    desired = plan.desired_oidc_config()
    assert desired["appType"] == "OIDC_APP_TYPE_NATIVE" and desired["authMethodType"] == "OIDC_AUTH_METHOD_TYPE_NONE"
    assert desired["redirectUris"] == ["http://localhost:8000", "http://localhost:18000"]
    assert desired["grantTypes"] == ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN"]
    assert desired["devMode"] is False


def test_non_loopback_http_redirect_is_refused_unless_dev_mode():
    with pytest.raises(NetsecError) as err:
        plan.desired_oidc_config(["http://laptop.example:8000"])
    assert err.value.field == "redirect_uris[0]"
    assert plan.desired_oidc_config(["http://laptop.example:8000"], dev_mode=True)["devMode"] is True


def test_app_config_compared_after_filling_protojson_defaults_and_ignoring_order():
    desired = plan.desired_oidc_config()
    live = {"id": "9", "oidcConfig": {"redirectUris": list(reversed(desired["redirectUris"])), "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"],
                                      "grantTypes": desired["grantTypes"], "appType": "OIDC_APP_TYPE_NATIVE",
                                      "authMethodType": "OIDC_AUTH_METHOD_TYPE_NONE", "idTokenRoleAssertion": True,
                                      "idTokenUserinfoAssertion": True, "clientId": "1@k8s"}}
    assert plan.plan_oidc_app("7", "kubectl", desired, live) == []
    live["oidcConfig"]["devMode"] = True
    assert calls(plan.plan_oidc_app("7", "kubectl", desired, live)) == [("PUT", "/management/v1/projects/7/apps/9/oidc_config")]


def test_existing_non_oidc_app_with_the_name_is_an_error_not_an_overwrite():
    with pytest.raises(NetsecError, match="not an OIDC app"):
        plan.plan_oidc_app("7", "kubectl", plan.desired_oidc_config(), {"id": "9", "apiConfig": {}})


INSTANCE_DEFAULT = {"allowUsernamePassword": True, "passwordCheckLifetime": "864000s",
                    "secondFactors": ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"], "isDefault": True}


def test_org_inheriting_the_default_gets_a_custom_policy_with_inherited_values_kept():
    scalars, factors = plan.desired_login_policy({"force_mfa": True, "second_factors": ["otp"]})
    ops = plan.plan_login_policy("org", scalars, factors, INSTANCE_DEFAULT, is_default=True)
    assert calls(ops) == [("POST", "/management/v1/policies/login")]
    body = ops[0].body
    assert body["forceMfa"] is True and body["allowUsernamePassword"] is True and body["passwordCheckLifetime"] == "864000s"
    assert body["secondFactors"] == ["SECOND_FACTOR_TYPE_OTP"] and body["multiFactors"] == []


def test_custom_policy_update_sends_the_whole_policy_and_adjusts_factors_one_by_one():
    live = dict(INSTANCE_DEFAULT, isDefault=False)
    scalars, factors = plan.desired_login_policy({"force_mfa": True, "second_factors": ["otp", "otp_email"]})
    ops = plan.plan_login_policy("org", scalars, factors, live, is_default=False)
    assert calls(ops) == [("PUT", "/management/v1/policies/login"),
                          ("POST", "/management/v1/policies/login/second_factors"),
                          ("DELETE", "/management/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_U2F")]
    assert ops[0].body["allowUsernamePassword"] is True  # a v1 update replaces every field
    assert ops[1].body == {"type": "SECOND_FACTOR_TYPE_OTP_EMAIL"}


def test_instance_policy_goes_to_the_admin_api_and_cannot_be_removed():
    scalars, factors = plan.desired_login_policy({"force_mfa": True})
    assert calls(plan.plan_login_policy("instance", scalars, factors, INSTANCE_DEFAULT, True)) == [("PUT", "/admin/v1/policies/login")]
    with pytest.raises(NetsecError) as err:
        plan.plan_login_policy("instance", {}, {}, INSTANCE_DEFAULT, True, state="absent")
    assert err.value.field == "state"


def test_forced_mfa_without_any_factor_is_refused_before_it_locks_everyone_out():
    with pytest.raises(NetsecError) as err:
        plan.desired_login_policy({"force_mfa": True, "second_factors": [], "multi_factors": []})
    assert err.value.field == "second_factors"


def test_grants_created_changed_and_revoked_only_when_exclusive():
    desired = plan.normalise_grants([{"user_id": "u1", "role_keys": ["viewer"]}, {"user_id": "u2", "role_keys": ["a", "b"]}],
                                    role_keys={"viewer", "a", "b"})
    live = {"u2": {"id": "g2", "roleKeys": ["a"]}, "u3": {"id": "g3", "roleKeys": ["viewer"]}}
    ops = plan.plan_user_grants("7", desired, live)
    assert calls(ops) == [("POST", "/management/v1/users/u1/grants"), ("PUT", "/management/v1/users/u2/grants/g2")]
    assert ops[0].body == {"projectId": "7", "roleKeys": ["viewer"]}
    assert calls(plan.plan_user_grants("7", desired, live, exclusive=True))[-1] == ("DELETE", "/management/v1/users/u3/grants/g3")


def test_grant_of_a_role_the_project_lacks_is_refused_naming_the_entry():
    with pytest.raises(NetsecError) as err:
        plan.normalise_grants([{"user_id": "u1", "role_keys": ["viewer"]}, {"user_id": "u2", "role_keys": ["root"]}], role_keys={"viewer"})
    assert err.value.field == "grants[1].role_keys"


def test_grants_through_project_grants_of_other_orgs_are_not_managed_here():
    result = [{"id": "g1", "userId": "u1", "projectId": "7", "roleKeys": ["viewer"]},
              {"id": "g2", "userId": "u2", "projectId": "7", "projectGrantId": "pg", "roleKeys": ["viewer"]}]
    assert plan.live_grants(result, "7") == {"u1": {"id": "g1", "roleKeys": ["viewer"]}}


def test_client_refuses_non_http_url_and_empty_token_naming_the_field():
    with pytest.raises(NetsecError) as err:
        ZitadelClient("id.example.com", "t")
    assert err.value.field == "url"
    with pytest.raises(NetsecError) as err:
        ZitadelClient("https://id.example.com", "")
    assert err.value.field == "token"


def test_api_error_carries_status_and_zitadel_message_but_not_the_token(zitadel_double):
    client = ZitadelClient(zitadel_double.url, zitadel_double.token)
    with pytest.raises(ZitadelError) as err:
        client.get("/management/v1/projects/404")
    assert err.value.status == 404 and "Errors.Project.NotFound" in str(err.value) and zitadel_double.token not in str(err.value)
    assert "GET /management/v1/projects/404" in str(err.value)


def test_client_sends_bearer_token_and_org_header(zitadel_double):
    other = zitadel_double.state.add_org("300000000000000001", "other")
    ZitadelClient(zitadel_double.url, zitadel_double.token, org_id=other["id"]).post("/management/v1/projects", {"name": "p"})
    method, path, headers, _body = zitadel_double.state.requests[-1]
    assert headers["authorization"] == "Bearer " + zitadel_double.token and headers["x-zitadel-orgid"] == other["id"]
    assert [p["name"] for p in other["projects"].values()] == ["p"] and zitadel_double.org["projects"] == {}


def test_search_follows_pagination_to_the_last_page(zitadel_double):
    client = ZitadelClient(zitadel_double.url, zitadel_double.token)
    for idx in range(130):
        zitadel_double.state.add_user("u%03d@acme.example" % idx)
    assert len(client.search("/management/v1/users/_search")) == 130
