"""The talos_* modules through ansible-playbook against the talosctl contract double.

Render -> apply in try mode with the guard -> read the live firewall; a second run changes
nothing; check mode predicts from the node's dry run and changes nothing; a rule set that
locks the controller out is rolled back by Talos and fails clearly; bad input fails before
any node is touched. Secrets from the base config never appear in any output.
"""
import json
import os
import pathlib
import subprocess

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
CP, WORKER, JUMP = "198.18.1.21", "198.18.1.22", "198.18.2.5"
SECRET = "c2VjcmV0LW11c3Qtbm90LWxlYWs="

CLUSTER = {"name": "c1", "ip_versions": [4]}
ADDRESSES = {"control_plane": [CP], "worker": [WORKER], "loadbalancer": ["198.18.1.11", "198.18.1.12"], "jump_host": [JUMP]}

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/safespring.netsec.talos:
      talosconfig: "{{ talosconfig }}"
  tasks:
    - name: render
      safespring.netsec.talos_machine_config:
        dest: "{{ out }}/{{ item.name }}.yaml"
        node: "{{ item.name }}"
        role: "{{ item.role }}"
        talos_version: "1.13"
        base: "{{ lookup('file', base) }}"
        cluster: "{{ cluster }}"
        addresses: "{{ addresses }}"
        admin_sources: "{{ admin_sources | default([]) }}"
        schema_path: "{{ schema }}"
        node_patches: "{{ item.patches | default([]) }}"
      loop: "{{ nodes }}"
      register: render
    - name: apply
      safespring.netsec.talos_apply:
        node: "{{ item.address }}"
        config_path: "{{ out }}/{{ item.name }}.yaml"
        mode: try
        try_timeout: 6s
        guard_retries: 2
        guard_delay: 1
        rollback_grace: 1
      loop: "{{ nodes }}"
      register: apply
    - name: info
      safespring.netsec.talos_info:
        node: "{{ cp }}"
      register: info
"""


def base_config(tmp_path):
    path = tmp_path / "base.yaml"
    path.write_text(yaml.safe_dump({"version": "v1alpha1", "machine": {"type": "controlplane", "token": "abcdef.0123456789abcdef"},
                                    "cluster": {"clusterName": "c1", "secret": SECRET,
                                                "controlPlane": {"endpoint": "https://198.18.1.21:6443"}}}))
    return str(path)


def run_playbook(tmp_path, double, *args, playbook=PLAYBOOK, extra=None):
    (tmp_path / "site.yml").write_text(playbook)
    variables = {"talosconfig": str(double.talosconfig), "out": str(tmp_path / "out"), "cp": CP, "base": base_config(tmp_path),
                 "cluster": CLUSTER, "addresses": ADDRESSES, "schema": str(SHARED / "specs" / "talos-v1.13.9-config.schema.json"),
                 "nodes": [{"name": "cp1", "role": "control_plane", "address": CP}]}
    variables.update(extra or {})
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, **double.env)
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_PIPELINING="True",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "site.yml")] + list(args), capture_output=True, text=True, env=env, timeout=300, check=False)


def results(proc):
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    out = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            out[task["task"]["name"]] = task["hosts"]["localhost"]
    return out, data["stats"]["localhost"]


def cluster_double(double):
    double.write_talosconfig([CP])
    double.add_node(CP, "controlplane")
    double.add_node(WORKER, "worker")
    return double


def test_render_apply_verify_then_nothing_changes(talosctl_double, tmp_path):
    double = cluster_double(talosctl_double)
    proc = run_playbook(tmp_path, double, "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    res, _stats = results(proc)
    [render] = res["render"]["results"]
    assert render["changed"] and render["validated_against"] == "1.13"
    assert oct(os.stat(tmp_path / "out" / "cp1.yaml").st_mode & 0o777) == "0o600"
    [apply] = res["apply"]["results"]
    assert apply["changed"] and apply["committed"] and not apply["reboot_required"]
    assert apply["guard"] == [{"check": "apid from the controller", "ok": True, "detail": "ok"}]
    assert "+kind: NetworkDefaultActionConfig" in apply["diff"]["prepared"]
    firewall = res["info"]["firewall"]
    assert firewall["default_action"] == "block"
    assert {"protocol": "tcp", "ports": [50000], "sources": ["198.18.1.11/32", "198.18.1.12/32", CP + "/32", JUMP + "/32"]} in firewall["rules"]
    assert res["info"]["talos_version"] == "v1.13.9" and {"id": "etcd", "running": True, "healthy": True} in res["info"]["services"]
    assert SECRET not in proc.stdout and SECRET not in proc.stderr, "the base config's secret leaked into the output"
    assert "VALUE_REDACTED" in render["diff"]["after"]

    again = run_playbook(tmp_path, double)
    res2, stats = results(again)
    assert again.returncode == 0 and stats["changed"] == 0, res2


def test_check_mode_predicts_from_the_dry_run_and_touches_nothing(talosctl_double, tmp_path):
    double = cluster_double(talosctl_double)
    assert run_playbook(tmp_path, double).returncode == 0  # render files for real first
    double.state.joinpath("nodes", CP, "config.yaml").write_text(double.config(WORKER).replace("worker", "controlplane"))
    before, events = double.config(CP), len(double.events())
    proc = run_playbook(tmp_path, double, "--check", "--diff")
    res, _stats = results(proc)
    [apply] = res["apply"]["results"]
    assert apply["changed"] and not apply["committed"]
    assert double.config(CP) == before and len(double.events()) == events


def test_lockout_in_try_mode_is_rolled_back_and_fails_clearly(talosctl_double, tmp_path):
    double = cluster_double(talosctl_double)
    # The rendered rules admit the jump host; the controller really sits elsewhere (203.0.113.7) and was not declared.
    double.source = "203.0.113.7"
    before = double.config(CP)
    proc = run_playbook(tmp_path, double)
    assert proc.returncode != 0
    res, _stats = results(proc)
    [apply] = res["apply"]["results"]
    assert apply["failed"] and apply["rolled_back"] and not apply["committed"]
    assert "guard failed after the try apply" in apply["msg"] and "Talos rolled the node back" in apply["msg"]
    assert double.config(CP) == before


def test_declared_controller_outside_apid_sources_fails_before_anything_is_applied(talosctl_double, tmp_path):
    double = cluster_double(talosctl_double)
    proc = run_playbook(tmp_path, double, extra={"admin_sources": ["203.0.113.7"]})
    res, _stats = results(proc)
    [render] = res["render"]["results"]
    assert render["failed"] and "would lock out admin_sources 203.0.113.7/32 from talos-apid" in render["msg"]
    assert "apply" not in res and double.events() == []
    assert not (tmp_path / "out" / "cp1.yaml").exists()


def test_bad_input_fails_before_any_node_is_touched(talosctl_double, tmp_path):
    # More bad inputs are unit-tested on the module's pure render(); these two go through Ansible.
    double = cluster_double(talosctl_double)
    cases = [
        ({"nodes": [{"name": "lb1", "role": "loadbalancer", "address": CP}]}, "value of role must be one of: control_plane, worker"),
        ({"cluster": dict(CLUSTER, jump_host={"enabled": False})}, "would lock out jump_host 198.18.2.5/32 from talos-apid"),
    ]
    for extra, message in cases:
        proc = run_playbook(tmp_path, double, extra=extra)
        res, _stats = results(proc)
        [render] = res["render"]["results"]
        assert render["failed"] and message in render["msg"], (message, render["msg"])
        assert "apply" not in res
    assert double.events() == []
