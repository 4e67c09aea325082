"""A `cloud` dict (as the security_groups role documents it) never shows its secrets.

Real ansible-playbook runs on localhost at -vvv, against an auth_url nothing listens on:
the password, application credential secret and token must not appear in the output,
on the failure paths too (connection refused, argument validation), and `invocation`
keeps only masked values. No lab needed: nothing is ever reached.
"""
import json
import os
import pathlib
import socket
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
PASSWORD = "pw-Zq9-never-printed"
APP_SECRET = "appsecret-Kx7-never-printed"
TOKEN = "gAAAAA-token-Vb3-never-printed"
SECRETS = (PASSWORD, APP_SECRET, TOKEN)


def closed_port():
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def password_cloud(port):
    return {"auth_type": "password", "auth": {"auth_url": "http://127.0.0.1:%d/v3" % port, "username": "ops",
                                              "password": PASSWORD, "project_name": "p", "user_domain_name": "Default",
                                              "project_domain_name": "Default"}, "region_name": "RegionOne"}


def app_credential_cloud(port):
    return {"auth_type": "v3applicationcredential", "auth": {"auth_url": "http://127.0.0.1:%d/v3" % port,
                                                             "application_credential_id": "abc123",
                                                             "application_credential_secret": APP_SECRET}}


def token_cloud(port):
    return {"auth_type": "v3token", "auth": {"auth_url": "http://127.0.0.1:%d/v3" % port, "token": TOKEN, "project_id": "p"}}


def run(tmp_path, tasks, json_callback):
    """All cases as tasks of one play (each may fail): one ansible-playbook run per callback."""
    book = tmp_path / "play.json"
    book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "case %d" % i, "safespring.netsec." + module: args, "ignore_errors": True} for i, (module, args) in enumerate(tasks)]}]))
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python",
               ANSIBLE_NOCOLOR="1", OS_CLIENT_CONFIG_FILE=str(tmp_path / "no-clouds.yaml"))
    if json_callback:
        env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    for name in [k for k in env if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
        del env[name]
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(book), "-vvv"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def cases():
    port = closed_port()
    return [
        ("security_group", {"cloud": password_cloud(port), "security_groups": [{"name": "g", "rules": []}]}),
        ("security_group", {"cloud": app_credential_cloud(port), "security_groups": [{"name": "g", "rules": []}]}),
        ("port_address_pairs", {"cloud": token_cloud(port), "ports": ["lb1"], "addresses": ["198.18.1.100"]}),
        # Argument validation fails before the module's own code runs: the invocation is still masked.
        ("security_group", {"cloud": password_cloud(port), "security_groups": [], "no_such_option": 1}),
        # Our own input refusal (before any connection) is masked as well.
        ("port_address_pairs", {"cloud": password_cloud(port), "ports": ["lb1"], "addresses": ["0.0.0.0/0"]}),
    ]


def test_cloud_dict_secrets_never_appear_at_vvv_even_when_the_run_fails(tmp_path, cases):
    proc = run(tmp_path, cases, json_callback=False)
    output = proc.stdout + proc.stderr
    assert output.count("fatal: [localhost]") == len(cases), output[-3000:]  # every case took its failure path
    for secret in SECRETS:
        assert secret not in output


def test_invocation_keeps_the_cloud_readable_with_its_secret_leaves_masked(tmp_path, cases):
    proc = run(tmp_path, cases, json_callback=True)
    text = proc.stdout
    for secret in SECRETS:
        assert secret not in text and secret not in proc.stderr
    results = [task["hosts"]["localhost"] for task in json.loads(text[text.index("{"):])["plays"][0]["tasks"]]
    assert [r["failed"] for r in results] == [True] * len(cases)
    assert results[0]["msg"].startswith("cloud: cannot connect to OpenStack"), results[0]["msg"]
    assert results[4]["msg"].startswith("addresses[0]: 0.0.0.0/0 lets the port send as any address"), results[4]["msg"]
    for (dummy, args), result in zip(cases, results):
        cloud = result["invocation"]["module_args"]["cloud"]
        # The masked leaf is still there (the output shows which option was set); the rest stays readable.
        assert cloud["auth_type"] == args["cloud"]["auth_type"]
        assert cloud["auth"]["auth_url"] == args["cloud"]["auth"]["auth_url"]
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in json.dumps(cloud)


def test_the_security_groups_role_with_a_cloud_dict_never_prints_its_password(tmp_path):
    # The role documents security_groups_cloud as "clouds.yaml name or cloud dict".
    book = tmp_path / "role.json"
    book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "roles": [{
        "role": "safespring.netsec.security_groups", "security_groups_cloud": password_cloud(closed_port()),
        "security_groups_cluster": {"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/28"]}}}]}]))
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(book), "-vvv"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    output = proc.stdout + proc.stderr
    assert "cloud: cannot connect to OpenStack" in output, output[-3000:]
    assert PASSWORD not in output
    assert '"password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output
