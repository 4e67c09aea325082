"""safespring.netsec.security_group with Keystone: project scoping through application credentials.

The lab's second Neutron (behind a real Keystone) serves two projects, each with its own
application credential (clouds lab-project-a / lab-project-b in $LAB_DIR/clouds.yaml,
selected with module_defaults exactly like AWX's OpenStack credential does through
OS_CLIENT_CONFIG_FILE). project-b can neither see nor change project-a's groups, even
under the same names.
"""
import json
import os
import pathlib
import subprocess
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def keystone(keystone_clouds):
    return keystone_clouds["clouds_yaml"]


def play(tmp_path, clouds, cloud, tasks):
    book = tmp_path / "play.json"
    book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                 "module_defaults": {"group/safespring.netsec.openstack": {"cloud": cloud}},
                                 "tasks": tasks}]))
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(book)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return [t["hosts"]["localhost"] for t in data["plays"][0]["tasks"]]


def sync(name, rules, state="present"):
    return {"name": name, "safespring.netsec.security_group": {"security_groups": [{"name": name, "state": state, "rules": rules}]}}


def test_project_b_cannot_see_or_change_project_a_groups(keystone, tmp_path):
    name = "k%s-web" % uuid.uuid4().hex[:6]
    rules_a = [{"protocol": "tcp", "port": 443, "remote_ip_prefix": "198.18.2.0/24"}]
    rules_b = [{"protocol": "tcp", "port": 80, "remote_ip_prefix": "198.18.2.0/24"}]
    a_create, = play(tmp_path, keystone, "lab-project-a", [sync(name, rules_a)])
    assert a_create.get("failed") is not True, a_create.get("msg")
    assert a_create["security_groups"][0]["created"] is True
    a_id = a_create["security_groups"][0]["id"]
    try:
        # Same name in project-b: its own group, project-a's is invisible to it.
        b_create, b_absent = play(tmp_path, keystone, "lab-project-b", [sync(name, rules_b), sync(name, [], "absent")])
        assert b_create["security_groups"][0]["created"] is True
        assert b_create["security_groups"][0]["id"] != a_id
        assert b_absent["security_groups"][0]["deleted"] is True
        # Referencing project-a's group by id from project-b: project-b cannot see it, so the module
        # refuses it before the first write (issue 18, defect 2), naming the field, and creates nothing.
        foreign = {"name": "ref", "safespring.netsec.security_group": {"security_groups": [
            {"name": name + "-b", "rules": [{"protocol": "tcp", "port": 22, "remote_group_id": a_id}]}]}}
        cleanup_b = sync(name + "-b", [], "absent")
        refused, cleanup = play(tmp_path, keystone, "lab-project-b", [dict(foreign, ignore_errors=True), cleanup_b])
        assert refused["failed"] is True, refused
        assert "security_groups[0].rules[0].remote_group_id" in refused["msg"] and a_id in refused["msg"], refused["msg"]
        assert cleanup["changed"] is False, "the refused run left %s-b behind in project-b" % name
        # project-a's group is untouched: a rerun there changes nothing.
        a_again, = play(tmp_path, keystone, "lab-project-a", [sync(name, rules_a)])
        assert a_again["changed"] is False and a_again["security_groups"][0]["id"] == a_id
    finally:
        play(tmp_path, keystone, "lab-project-a", [sync(name, [], "absent")])


def test_a_cloud_given_whole_authenticates_without_clouds_yaml_and_scopes_to_its_project(keystone, tmp_path):
    # The direct path (no openstacksdk config loader): the application credential as a dict, no OS_CLIENT_CONFIG_FILE.
    import yaml
    with open(keystone) as f:
        whole = yaml.safe_load(f)["clouds"]["lab-project-a"]
    name = "k%s-direct" % uuid.uuid4().hex[:6]
    rules = [{"protocol": "tcp", "port": 443, "remote_ip_prefix": "198.18.2.0/24"}]
    empty = tmp_path / "no-clouds.yaml"
    empty.write_text("clouds: {}\n")
    created, = play(tmp_path, empty, whole, [sync(name, rules)])
    try:
        assert created.get("failed") is not True, created.get("msg")
        assert created["security_groups"][0]["created"] is True
        # The same group seen through clouds.yaml and the SDK's loader: project-a's, unchanged.
        again, = play(tmp_path, keystone, "lab-project-a", [sync(name, rules)])
        assert again["changed"] is False and again["security_groups"][0]["id"] == created["security_groups"][0]["id"]
        other, = play(tmp_path, keystone, "lab-project-b", [sync(name, [], "absent")])
        assert other["changed"] is False  # invisible to project-b
    finally:
        play(tmp_path, keystone, "lab-project-a", [sync(name, [], "absent")])
