"""The zitadel_* modules through ansible-playbook against the Zitadel contract double.

Converge, second run without change, drift correction, check mode that predicts and changes
nothing, and the token never appearing in any output.
"""
import json
import os
import pathlib
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/safespring.netsec.zitadel:
      url: "{{ zitadel_url }}"
      token: "{{ zitadel_token }}"
  tasks:
    - name: project
      safespring.netsec.zitadel_project:
        name: kubernetes-prod
        roles:
          - {key: cluster-admin}
          - {key: viewer, display_name: Read-only}
          - {key: "developer:payments"}
        purge_roles: true
      register: project
    - name: app
      safespring.netsec.zitadel_oidc_app:
        project_id: "{{ project.project_id }}"
        name: kubectl
      register: app
      when: project.project_id | length > 0
    - name: policy
      safespring.netsec.zitadel_login_policy:
        force_mfa: true
        force_mfa_local_only: false
        second_factors: [otp, u2f]
        multi_factors: [u2f_with_verification]
      register: policy
    - name: grants
      safespring.netsec.zitadel_user_grants:
        project_id: "{{ project.project_id }}"
        exclusive: true
        grants:
          - {login_name: alice@acme.example, role_keys: [cluster-admin]}
          - {login_name: bob@acme.example, role_keys: ["developer:payments", viewer]}
      register: grants
      when: project.project_id | length > 0
"""


def run_playbook(tmp_path, double, *args, playbook=PLAYBOOK, extra=None):
    book = tmp_path / "site.yml"
    book.write_text(playbook)
    variables = {"zitadel_url": double.url, "zitadel_token": double.token}
    variables.update(extra or {})
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(book)] + list(args), capture_output=True, text=True, env=env, timeout=300, check=False)
    return proc


def results(proc):
    text = proc.stdout
    data = json.loads(text[text.index("{\n") if not text.startswith("{") else 0:])  # -vvv prints a banner first
    out = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            out[task["task"]["name"]] = task["hosts"]["localhost"]
    return out, data["stats"]["localhost"]


def snapshot(double):
    org = double.org
    return json.dumps({"projects": org["projects"], "grants": org["grants"], "policy": org["login_policy"]}, sort_keys=True)


@pytest.fixture
def team_users(zitadel_double):
    return {"alice": zitadel_double.state.add_user("alice@acme.example"), "bob": zitadel_double.state.add_user("bob@acme.example")}


def test_converge_then_second_run_changes_nothing(tmp_path, zitadel_double, team_users):
    first = run_playbook(tmp_path, zitadel_double)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    res, stats = results(first)
    assert stats["changed"] == 4
    project = next(iter(zitadel_double.org["projects"].values()))
    assert project["projectRoleAssertion"] is True
    assert sorted(project["roles"]) == ["cluster-admin", "developer:payments", "viewer"]
    app = next(iter(project["apps"].values()))
    cfg = app["oidcConfig"]
    assert (cfg["appType"], cfg["authMethodType"]) == ("OIDC_APP_TYPE_NATIVE", "OIDC_AUTH_METHOD_TYPE_NONE")
    assert cfg["redirectUris"] == ["http://localhost:8000", "http://localhost:18000"]
    assert cfg["idTokenRoleAssertion"] is True and not cfg.get("devMode")
    assert res["app"]["client_id"] == cfg["clientId"]
    policy = zitadel_double.org["login_policy"]
    assert policy["forceMfa"] is True and policy["secondFactors"] == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
    grants = {g["userId"]: sorted(g["roleKeys"]) for g in zitadel_double.org["grants"].values()}
    assert grants == {team_users["alice"]: ["cluster-admin"], team_users["bob"]: ["developer:payments", "viewer"]}

    before = snapshot(zitadel_double)
    writes = len([r for r in zitadel_double.state.requests if r[0] != "GET" and not r[1].endswith("_search")])
    second = run_playbook(tmp_path, zitadel_double)
    assert second.returncode == 0, second.stdout[-3000:]
    dummy_res, stats = results(second)
    assert stats["changed"] == 0
    assert snapshot(zitadel_double) == before
    assert len([r for r in zitadel_double.state.requests if r[0] != "GET" and not r[1].endswith("_search")]) == writes


def test_drift_made_in_zitadel_is_corrected(tmp_path, zitadel_double, team_users):
    assert run_playbook(tmp_path, zitadel_double).returncode == 0
    org = zitadel_double.org
    project = next(iter(org["projects"].values()))
    # someone clicks around in the console:
    project["projectRoleAssertion"] = False
    project["roles"]["rogue"] = {"key": "rogue", "displayName": "rogue", "group": ""}
    del project["roles"]["viewer"]
    for grant in org["grants"].values():
        grant["roleKeys"] = [k for k in grant["roleKeys"] if k != "viewer"]
    app = next(iter(project["apps"].values()))
    app["oidcConfig"]["devMode"] = True
    app["oidcConfig"]["redirectUris"].append("http://evil.example/cb")
    org["login_policy"]["forceMfa"] = False
    org["login_policy"]["secondFactors"] = ["SECOND_FACTOR_TYPE_OTP_SMS"]
    mallory = zitadel_double.state.add_user("mallory@acme.example")
    org["grants"]["999"] = {"id": "999", "userId": mallory, "projectId": project["id"], "roleKeys": ["cluster-admin"],
                            "state": "USER_GRANT_STATE_ACTIVE"}

    proc = run_playbook(tmp_path, zitadel_double, "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:]
    res, stats = results(proc)
    assert stats["changed"] == 4
    assert project["projectRoleAssertion"] is True
    assert sorted(project["roles"]) == ["cluster-admin", "developer:payments", "viewer"]
    assert not app["oidcConfig"].get("devMode") and "http://evil.example/cb" not in app["oidcConfig"]["redirectUris"]
    assert org["login_policy"]["forceMfa"] is True
    assert sorted(org["login_policy"]["secondFactors"]) == ["SECOND_FACTOR_TYPE_OTP", "SECOND_FACTOR_TYPE_U2F"]
    assert mallory not in {g["userId"] for g in org["grants"].values()}
    bob = team_users["bob"]
    assert {g["userId"]: sorted(g["roleKeys"]) for g in org["grants"].values()}[bob] == ["developer:payments", "viewer"]
    assert res["grants"]["diff"]["before"][mallory] == ["cluster-admin"]


def test_check_mode_predicts_changes_and_changes_nothing(tmp_path, zitadel_double, team_users):
    assert run_playbook(tmp_path, zitadel_double).returncode == 0
    project = next(iter(zitadel_double.org["projects"].values()))
    del project["roles"]["viewer"]
    zitadel_double.org["login_policy"]["forceMfa"] = False
    before = snapshot(zitadel_double)
    proc = run_playbook(tmp_path, zitadel_double, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:]
    res, dummy_stats = results(proc)
    assert res["project"]["changed"] and res["policy"]["changed"]
    assert [op["method"] for op in res["project"]["operations"]] == ["POST"]
    assert "viewer" in res["project"]["diff"]["after"]["roles"] and "viewer" not in res["project"]["diff"]["before"]["roles"]
    assert res["policy"]["diff"]["before"]["forceMfa"] is False and res["policy"]["diff"]["after"]["forceMfa"] is True
    assert snapshot(zitadel_double) == before
    writes = [r for r in zitadel_double.state.requests[-40:] if r[0] in ("PUT", "DELETE") or (r[0] == "POST" and not r[1].endswith("_search"))]
    assert writes[-1][1].endswith("/grants")  # the last write is from the converge run, none from check mode


def test_check_mode_on_empty_zitadel_predicts_creation(tmp_path, zitadel_double, team_users):
    proc = run_playbook(tmp_path, zitadel_double, "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    res, dummy_stats = results(proc)
    assert res["project"]["changed"] and res["project"]["project_id"] == ""
    assert res["policy"]["changed"]
    assert zitadel_double.org["projects"] == {} and zitadel_double.org["login_policy"] is None


def test_token_never_appears_in_output_even_on_failure(tmp_path, zitadel_double, team_users):
    ok = run_playbook(tmp_path, zitadel_double, "-vvv", "--diff")
    broken = PLAYBOOK.replace("alice@acme.example", "nobody@acme.example")
    failed = run_playbook(tmp_path, zitadel_double, "-vvv", playbook=broken)
    assert failed.returncode != 0
    res, dummy_stats = results(failed)
    assert "nobody@acme.example" in res["grants"]["msg"] and res["grants"]["field"] == "grants[0].login_name"
    for proc in (ok, failed):
        assert zitadel_double.token not in proc.stdout + proc.stderr


def test_wrong_token_fails_with_status_and_zitadel_message(tmp_path, zitadel_double):
    proc = run_playbook(tmp_path, zitadel_double, extra={"zitadel_token": "not-the-token"})
    assert proc.returncode != 0
    res, dummy_stats = results(proc)
    msg = res["project"]["msg"]
    assert "HTTP 401" in msg and "Errors.Token.Invalid" in msg and "not-the-token" not in proc.stdout
    assert res["project"]["status"] == 401


def test_instance_level_policy_goes_through_the_admin_api(tmp_path, zitadel_double):
    book = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: instance
      safespring.netsec.zitadel_login_policy:
        url: "{{ zitadel_url }}"
        token: "{{ zitadel_token }}"
        level: instance
        second_factors: [otp]
"""
    first = run_playbook(tmp_path, zitadel_double, playbook=book)
    second = run_playbook(tmp_path, zitadel_double, playbook=book)
    assert first.returncode == 0 and second.returncode == 0, first.stdout[-2000:]
    assert results(first)[0]["instance"]["changed"] and not results(second)[0]["instance"]["changed"]
    assert zitadel_double.state.instance_policy["forceMfa"] is True
    assert zitadel_double.state.instance_policy["secondFactors"] == ["SECOND_FACTOR_TYPE_OTP"]
    assert zitadel_double.org["login_policy"] is None
    assert {r[1] for r in zitadel_double.state.requests if r[0] != "GET"} <= {
        "/admin/v1/policies/login", "/admin/v1/policies/login/second_factors/SECOND_FACTOR_TYPE_U2F"}


def test_module_defaults_group_lists_every_zitadel_api_module():
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())
    # zitadel_kubernetes_access only renders documents: it takes no url/token
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("zitadel_*.py") if p.stem != "zitadel_kubernetes_access")
    assert sorted(runtime["action_groups"]["zitadel"]) == modules
