"""Role safespring.netsec.zitadel_rbac through ansible-playbook against the Zitadel contract double."""
import json
import os
import pathlib
import stat
import subprocess

import kubernetes_validate
import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: safespring.netsec.zitadel_rbac
  post_tasks:
    - name: exposed
      ansible.builtin.debug:
        msg:
          configs: "{{ zitadel_rbac_authentication_configs | default({}) }}"
          client_ids: "{{ zitadel_rbac_client_ids | default({}) }}"
          project_ids: "{{ zitadel_rbac_project_ids | default({}) }}"
"""


def inventory(double, out_dir, **extra):
    data = {
        "zitadel_rbac_url": double.url,
        "zitadel_rbac_issuer_url": "https://id.example.com",
        "zitadel_rbac_token": double.token,
        "zitadel_rbac_org_id": double.state.default_org,
        "zitadel_rbac_output_dir": str(out_dir),
        "zitadel_rbac_environments": [
            {"name": "prod", "api_server": "https://prod.k8s.example:6443"},
            {"name": "staging", "api_server": "https://staging.k8s.example:6443",
             "authentication_api_version": "apiserver.config.k8s.io/v1"},
        ],
        "zitadel_rbac_teams": [
            {"name": "platform", "members": ["alice@acme.example"],
             "access": [{"environment": "prod", "level": "cluster-admin"}, {"environment": "staging", "level": "cluster-admin"}]},
            {"name": "payments", "members": ["bob@acme.example"],
             "access": [{"environment": "prod", "level": "developer", "namespaces": ["payments"]},
                        {"environment": "prod", "level": "viewer"},
                        {"environment": "staging", "level": "operator"}]},
        ],
    }
    data.update(extra)
    return data


def run(tmp_path, variables, *args):
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "site.yml")] + list(args), capture_output=True, text=True, env=env, timeout=300, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):]) if "{" in proc.stdout else {}
    return proc, data


def exposed(data):
    for play in data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == "exposed":
                return task["hosts"]["localhost"]["msg"]
    raise AssertionError("no exposed task")


@pytest.fixture
def users(zitadel_double):
    return {name: zitadel_double.state.add_user(name + "@acme.example") for name in ("alice", "bob")}


def test_role_converges_renders_and_is_idempotent(tmp_path, zitadel_double, users):
    out = tmp_path / "gitops"
    proc, data = run(tmp_path, inventory(zitadel_double, out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    org = zitadel_double.org
    projects = {p["name"]: p for p in org["projects"].values()}
    assert sorted(projects) == ["kubernetes-prod", "kubernetes-staging"]
    assert sorted(projects["kubernetes-prod"]["roles"]) == ["cluster-admin", "developer:payments", "viewer"]
    assert sorted(projects["kubernetes-staging"]["roles"]) == ["cluster-admin", "operator"]
    assert org["login_policy"]["forceMfa"] is True
    grants = {(g["userId"], projects_by_id) for g in org["grants"].values() for projects_by_id in [g["projectId"]]}
    assert len(grants) == 4
    facts = exposed(data)
    prod_cfg = facts["configs"]["prod"]
    assert prod_cfg["apiVersion"] == "apiserver.config.k8s.io/v1beta1"
    assert facts["configs"]["staging"]["apiVersion"] == "apiserver.config.k8s.io/v1"
    assert prod_cfg["jwt"][0]["issuer"]["audiences"] == [facts["client_ids"]["prod"]]
    assert facts["project_ids"]["prod"] in prod_cfg["jwt"][0]["claimMappings"]["groups"]["expression"]

    for env in ("prod", "staging"):
        for name in ("authentication-config.yaml", "rbac.yaml", "kubeconfig.yaml"):
            path = out / env / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for obj in yaml.safe_load_all((out / env / "rbac.yaml").read_text()):
            kubernetes_validate.validate(obj, kubernetes_validate.latest_version(), strict=True)
        written = yaml.safe_load((out / env / "authentication-config.yaml").read_text())
        assert written == facts["configs"][env]
        kubeconfig = yaml.safe_load((out / env / "kubeconfig.yaml").read_text())
        assert "--oidc-client-id=" + facts["client_ids"][env] in kubeconfig["users"][0]["user"]["exec"]["args"]
    assert zitadel_double.token not in proc.stdout

    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.yaml")}
    again, data2 = run(tmp_path, inventory(zitadel_double, out))
    assert again.returncode == 0
    assert data2["stats"]["localhost"]["changed"] == 0, [
        t["task"]["name"] for p in data2["plays"] for t in p["tasks"] if t["hosts"]["localhost"].get("changed")]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.yaml")} == mtimes


def prod_only(variables):
    variables["zitadel_rbac_environments"] = variables["zitadel_rbac_environments"][:1]
    for team in variables["zitadel_rbac_teams"]:
        team["access"] = [a for a in team["access"] if a["environment"] == "prod"]
    return variables


def test_leaving_a_team_revokes_the_grant_and_unused_roles_go(tmp_path, zitadel_double, users):
    out = tmp_path / "gitops"
    assert run(tmp_path, prod_only(inventory(zitadel_double, out)))[0].returncode == 0
    variables = prod_only(inventory(zitadel_double, out))
    variables["zitadel_rbac_teams"] = variables["zitadel_rbac_teams"][:1]  # team payments disbanded
    proc, dummy_data = run(tmp_path, variables)
    assert proc.returncode == 0, proc.stdout[-3000:]
    org = zitadel_double.org
    assert users["bob"] not in {g["userId"] for g in org["grants"].values()}
    prod = next(p for p in org["projects"].values() if p["name"] == "kubernetes-prod")
    assert sorted(prod["roles"]) == ["cluster-admin"]
    assert "developer" not in (out / "prod" / "rbac.yaml").read_text()


def test_check_mode_on_empty_zitadel_changes_nothing(tmp_path, zitadel_double, users):
    proc, data = run(tmp_path, prod_only(inventory(zitadel_double, tmp_path / "gitops")), "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert zitadel_double.org["projects"] == {} and zitadel_double.org["login_policy"] is None
    assert not (tmp_path / "gitops").exists()


def test_bad_namespace_fails_before_zitadel_changes(tmp_path, zitadel_double, users):
    variables = prod_only(inventory(zitadel_double, tmp_path / "gitops"))
    variables["zitadel_rbac_teams"][1]["access"][0]["namespaces"] = ["Payments_Team"]
    proc, data = run(tmp_path, variables)
    assert proc.returncode != 0
    assert "access[1].namespaces[0]" in proc.stdout and "Payments_Team" in proc.stdout
    assert zitadel_double.org["projects"] == {} and zitadel_double.org["login_policy"] is None


def test_access_for_an_unknown_environment_is_refused(tmp_path, zitadel_double):
    variables = inventory(zitadel_double, tmp_path / "gitops")
    variables["zitadel_rbac_environments"] = variables["zitadel_rbac_environments"][:1]  # teams still name "staging"
    proc, dummy_data = run(tmp_path, variables)
    assert proc.returncode != 0 and "unknown environment(s) staging" in proc.stdout
    assert zitadel_double.state.requests == []


def test_argument_specs_refuse_an_unknown_access_level(tmp_path, zitadel_double):
    variables = inventory(zitadel_double, tmp_path / "gitops")
    variables["zitadel_rbac_teams"][0]["access"][0]["level"] = "root"
    proc, dummy_data = run(tmp_path, variables)
    assert proc.returncode != 0 and "root" in proc.stdout and "level" in proc.stdout
    assert zitadel_double.state.requests == []


def test_render_only_needs_no_zitadel(tmp_path):
    out = tmp_path / "gitops"
    variables = {
        "zitadel_rbac_url": "https://id.example.com", "zitadel_rbac_render_only": True,
        "zitadel_rbac_output_dir": str(out),
        "zitadel_rbac_environments": [{"name": "prod", "project_id": "285441962217030421", "client_id": "1@kubernetes-prod"}],
        "zitadel_rbac_teams": [{"name": "ops", "members": ["a@x"], "access": [{"environment": "prod", "level": "viewer"}]}],
    }
    proc, data = run(tmp_path, variables)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert exposed(data)["configs"]["prod"]["jwt"][0]["issuer"]["audiences"] == ["1@kubernetes-prod"]
    assert sorted(p.name for p in (out / "prod").iterdir()) == ["authentication-config.yaml", "rbac.yaml"]


def test_readme_and_defaults_agree_with_argument_specs():
    role = REPO / "roles" / "zitadel_rbac"
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    readme = (role / "README.md").read_text()
    for name, spec in options.items():
        assert "`%s`" % name in readme, name
        if "default" in spec:
            assert defaults.get(name) == spec["default"], name
    assert set(defaults) <= set(options)
