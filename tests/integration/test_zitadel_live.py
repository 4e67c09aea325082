"""Opt-in: the zitadel_* modules against a real Zitadel (ZITADEL_URL + ZITADEL_TOKEN).

Works in a throw-away project that it removes at the end; the login policy is only
planned (check mode), never changed, on the real instance.
"""
import json
import os
import pathlib
import subprocess
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/safespring.netsec.zitadel:
      url: "{{ zitadel_url }}"
      token: "{{ zitadel_token }}"
      org_id: "{{ zitadel_org_id or omit }}"
  tasks:
    - name: project
      safespring.netsec.zitadel_project:
        name: "{{ project_name }}"
        state: "{{ project_state }}"
        roles: [{key: cluster-admin}, {key: "developer:payments"}]
        purge_roles: true
      register: project
    - name: app
      safespring.netsec.zitadel_oidc_app:
        project_id: "{{ project.project_id }}"
        name: kubectl
      when: project_state == 'present'
      register: app
    - name: policy
      safespring.netsec.zitadel_login_policy:
        second_factors: [otp, u2f]
      check_mode: true
      register: policy
"""


def run(tmp_path, live, name, state):
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps({"zitadel_url": live["url"], "zitadel_token": live["token"],
                                                    "zitadel_org_id": live["org_id"] or "", "project_name": name,
                                                    "project_state": state}))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "site.yml")], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert live["token"] not in proc.stdout + proc.stderr
    return proc, json.loads(proc.stdout[proc.stdout.index("{"):])


@pytest.mark.live
def test_modules_converge_against_real_zitadel_and_clean_up(tmp_path, zitadel_live):
    name = "netsec-live-test-" + uuid.uuid4().hex[:8]
    try:
        first, data = run(tmp_path, zitadel_live, name, "present")
        assert first.returncode == 0, first.stdout[-3000:]
        tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]}
        assert tasks["project"]["changed"] and tasks["app"]["client_id"]
        second, data = run(tmp_path, zitadel_live, name, "present")
        assert second.returncode == 0
        tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]}
        assert not tasks["project"]["changed"] and not tasks["app"]["changed"]
    finally:
        gone, dummy_data = run(tmp_path, zitadel_live, name, "absent")
        assert gone.returncode == 0


ROLE_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: safespring.netsec.zitadel_rbac
"""


@pytest.mark.live
def test_rendered_rbac_passes_a_real_api_servers_dry_run(tmp_path):
    """With KUBECONFIG: the role's server-side apply in check mode (dry run), nothing persisted."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("live Kubernetes test: set KUBECONFIG (an admin kubeconfig) to dry-run the RBAC objects")
    (tmp_path / "site.yml").write_text(ROLE_PLAYBOOK)
    variables = {
        "zitadel_rbac_url": "https://id.example.com", "zitadel_rbac_render_only": True,
        "zitadel_rbac_apply": True,
        "zitadel_rbac_environments": [{"name": "live", "project_id": "1", "client_id": "1@live", "kubeconfig": kubeconfig}],
        "zitadel_rbac_teams": [{"name": "t", "access": [{"environment": "live", "level": "operator"},
                                                        {"environment": "live", "level": "viewer"},
                                                        {"environment": "live", "level": "developer", "namespaces": ["default"]}]}],
    }
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "--check", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "site.yml")], capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
