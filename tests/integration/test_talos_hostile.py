"""Hostile input to the talos_* modules and the talos_hardening role, through ansible-playbook
against the talosctl contract double.

Every case is refused with the field named, nothing is written, and talosctl is never called
(the double records every invocation). Secrets of patches and base configs never appear in
the output, even at -vvv with --diff, and the rendered file is 0600 with a umask of 0.
"""
import json
import os
import pathlib
import stat
import subprocess

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
CP, WORKER, JUMP = "198.18.1.21", "198.18.1.22", "198.18.2.5"
SCHEMA = str(SHARED / "specs" / "talos-v1.13.9-config.schema.json")
ADDRESSES = {"control_plane": [CP], "worker": [WORKER], "loadbalancer": ["198.18.1.11"], "jump_host": [JUMP]}
BOMB = "\n".join(["a0: &a0 [x,x,x,x,x,x,x,x,x]"] + ["a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)) for i in range(1, 9)]
                 + ["machine: {nodeLabels: {bomb: *a8}}"])


def rule(name, ports, subnets):
    return {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": name,
            "portSelector": {"ports": ports, "protocol": "tcp"}, "ingress": [{"subnet": s} for s in subnets]}


def run(tmp_path, double, playbook, variables, *args):
    (tmp_path / "site.yml").write_text(playbook)
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, **double.env)
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_PIPELINING="True",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "site.yml")] + list(args), capture_output=True, text=True, env=env, timeout=600,
                          check=False, preexec_fn=lambda: os.umask(0))


def task_results(proc):
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    out = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            out[task["task"]["name"]] = task["hosts"]["localhost"]
    return out


def cluster(double):
    double.write_talosconfig([CP])
    double.add_node(CP, "controlplane")
    double.add_node(WORKER, "worker")
    return double


APPLY_CASES = {
    # name: (module args, the field the error must name)
    "node with a command": ({"node": "10.0.0.1;touch {out}/X"}, "node"),
    "three nodes": ({"node": "198.18.1.21,198.18.1.22,198.18.1.23"}, "node"),
    "node as a flag": ({"node": "--insecure"}, "node"),
    "guard through a shell": ({"guard_commands": [["sh", "-c", "touch {out}/X; talosctl --nodes {node} version"]]}, "guard_commands[0][0]"),
    "guard with --insecure": ({"guard_commands": [["talosctl", "--insecure", "version", "--nodes", "{node}"]]}, "guard_commands[0][1]"),
    "guard probing another node": ({"guard_commands": [["talosctl", "version", "--nodes", WORKER]]}, "guard_commands[0][2]"),
    "endpoint as a flag": ({"endpoints": ["--insecure"]}, "endpoints[0]"),
    "endpoint list": ({"endpoints": ["198.18.1.21,198.18.1.22"]}, "endpoints[0]"),
    "timeout with a newline": ({"try_timeout": "1m\n--insecure"}, "try_timeout"),
    "no retries": ({"guard_retries": 0}, "guard_retries"),
}

MODULE_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/safespring.netsec.talos:
      talosconfig: "{{ talosconfig }}"
  tasks:
    - name: apply
      safespring.netsec.talos_apply: "{{ {'node': cp, 'config_path': config, 'mode': 'try'} | combine(item.value) }}"
      loop: "{{ apply_cases | dict2items }}"
      loop_control: {label: "{{ item.key }}"}
      ignore_errors: true
      register: apply
    - name: render
      safespring.netsec.talos_machine_config: "{{ render_base | combine(item.value) }}"
      loop: "{{ render_cases | dict2items }}"
      loop_control: {label: "{{ item.key }}"}
      ignore_errors: true
      register: render
"""


def test_hostile_module_options_are_refused_naming_the_field_and_nothing_runs(talosctl_double, tmp_path):
    double = cluster(talosctl_double)
    out = tmp_path / "out"
    out.mkdir()
    config = tmp_path / "cp1.yaml"
    config.write_text(double.config(CP))
    render_base = {"dest": str(out / "cp1.yaml"), "role": "control_plane", "node": "cp1", "talos_version": "1.13",
                   "cluster": {"name": "c1", "ip_versions": [4]}, "addresses": ADDRESSES, "schema_path": SCHEMA}
    render_cases = {
        "accept": ({"default_action": "accept"}, "default_action"),
        "ingress accept": ({"patches": [{"type": "json6902", "document": {"kind": "NetworkDefaultActionConfig"},
                                         "patch": [{"op": "replace", "path": "/ingress", "value": "accept"}]}]}, "patches[0]"),
        "delete default action": ({"node_patches": [{"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig", "$patch": "delete"}]},
                                  "node_patches[0]"),
        "etcd to the world": ({"patches": [rule("etcd", ["2379-2380"], ["0.0.0.0/1", "128.0.0.0/1"])]}, "patches[0]"),
        "all ports to 2000::/3": ({"patches": [rule("all", ["1-65535"], ["2000::/3"])]}, "patches[0]"),
        "flannel": ({"patches": [{"cluster": {"network": {"cni": {"name": "flannel"}}}}]}, "patches[0]"),
        "os:admin": ({"patches": [{"machine": {"features": {"kubernetesTalosAPIAccess": {"enabled": True, "allowedRoles": ["os:admin"]}}}}]},
                     "patches[0]"),
        "jump host is the world": ({"addresses": dict(ADDRESSES, jump_host=["0.0.0.0/0"])}, "addresses.jump_host[0]"),
        "alias bomb": ({"patches": [BOMB]}, "patches[0]"),
        "bad port": ({"patches": [rule("x", ["abc"], ["198.18.1.21/32"])]}, "patches[0]"),
        "world-readable mode": ({"mode": "0644"}, "mode"),
    }
    variables = {"talosconfig": str(double.talosconfig), "cp": CP, "config": str(config), "render_base": render_base,
                 "apply_cases": dict((k, dict((key, v.replace("{out}", str(out)) if isinstance(v, str) else v) for key, v in a.items()))
                                     for k, (a, _f) in APPLY_CASES.items()),
                 "render_cases": dict((k, a) for k, (a, _f) in render_cases.items())}
    proc = run(tmp_path, double, MODULE_PLAYBOOK, variables)
    res = task_results(proc)
    for result in res["apply"]["results"]:
        name = result["item"]["key"]
        field = APPLY_CASES[name][1]
        assert result.get("failed") and result["msg"].startswith(field + ":"), (name, result.get("msg"))
    for result in res["render"]["results"]:
        name = result["item"]["key"]
        field = render_cases[name][1]
        assert result.get("failed") and result["msg"].startswith(field + ":"), (name, result.get("msg"))
    assert double.invocations() == [], "talosctl was called for refused input"
    assert list(out.iterdir()) == [], "something was written"


SECRET_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: render
      safespring.netsec.talos_machine_config:
        dest: "{{ out }}/w1.yaml"
        role: worker
        node: w1
        talos_version: "1.13"
        base: "{{ base }}"
        cluster: {name: c1, ip_versions: [4]}
        addresses: "{{ addresses }}"
        schema_path: "{{ schema }}"
        patches: "{{ patches }}"
      register: render
    - name: schema error with a secret
      safespring.netsec.talos_machine_config:
        dest: "{{ out }}/bad.yaml"
        role: worker
        talos_version: "1.13"
        cluster: {name: c1, ip_versions: [4]}
        addresses: "{{ addresses }}"
        schema_path: "{{ schema }}"
        patches: "{{ bad_patches }}"
      ignore_errors: true
      register: bad
"""


def test_secrets_never_reach_the_output_and_the_file_is_0600_with_umask_0(talosctl_double, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    secrets = {"base": "YmFzZS1jbHVzdGVyLXNlY3JldA==", "token": "q1w2e3.r4t5y6u7i8o9p0a1", "wg": "d2ctcHJpdmF0ZS1rZXktMTIzNDU2Nzg5MA==",
               "psk": "d2ctcHNrLTk4NzY1NDMyMTA=", "password": "reg-Pa55w0rd-xyz", "auth": "dXNlcjpyZWctUGE1NXcwcmQ=",
               "identity": "reg-identity-token-abc", "schema": "c2NoZW1hLWVycm9yLXNlY3JldA=="}
    base = yaml.safe_dump({"version": "v1alpha1", "machine": {"type": "worker", "token": secrets["token"]},
                           "cluster": {"secret": secrets["base"], "controlPlane": {"endpoint": "https://198.18.1.21:6443"}}})
    patches = [{"apiVersion": "v1alpha1", "kind": "WireguardConfig", "name": "wg0", "privateKey": secrets["wg"],
                "peers": [{"publicKey": "cHVibGljLWtleQ==", "presharedKey": secrets["psk"], "allowedIPs": ["10.9.0.0/24"]}]},
               {"apiVersion": "v1alpha1", "kind": "RegistryAuthConfig", "name": "registry.example.net", "username": "robot",
                "password": secrets["password"], "auth": secrets["auth"], "identityToken": secrets["identity"]}]
    bad = [{"apiVersion": "v1alpha1", "kind": "RegistryAuthConfig", "name": "r.example", "password": [secrets["schema"]]}]
    variables = {"out": str(out), "base": base, "addresses": ADDRESSES, "schema": SCHEMA, "patches": patches, "bad_patches": bad}
    proc = run(tmp_path, talosctl_double, SECRET_PLAYBOOK, variables, "-vvv", "--diff")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    res = task_results(proc)
    assert res["render"]["changed"] and "VALUE_REDACTED" in res["render"]["diff"]["after"]
    assert res["schema error with a secret"]["failed"]
    assert res["schema error with a secret"]["msg"].startswith("config.documents[")
    for name, secret in secrets.items():
        assert secret not in proc.stdout and secret not in proc.stderr, "%s leaked" % name
    text = (out / "w1.yaml").read_text()
    assert secrets["wg"] in text and secrets["password"] in text, "the file itself holds the real values"
    assert stat.S_IMODE((out / "w1.yaml").stat().st_mode) == 0o600
    assert sorted(p.name for p in out.iterdir()) == ["w1.yaml"]


ROLE_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: hostile role variables
      ansible.builtin.include_tasks: case.yml
      loop: "{{ cases | dict2items }}"
      loop_control: {loop_var: case, label: "{{ case.key }}"}
    - name: report
      ansible.builtin.debug:
        var: outcomes
"""

CASE_TASKS = """
- name: "case {{ case.key }}"
  block:
    - name: "role {{ case.key }}"
      ansible.builtin.include_role:
        name: safespring.netsec.talos_hardening
      vars:
        talos_hardening_cluster: "{{ case.value.cluster | default(base.cluster) }}"
        talos_hardening_nodes: "{{ case.value.nodes | default(base.nodes) }}"
        talos_hardening_addresses: "{{ case.value.addresses | default(base.addresses) }}"
        talos_hardening_talos_version: "1.13"
        talos_hardening_schema_path: "{{ base.schema }}"
        talos_hardening_output_dir: "{{ base.out }}"
        talos_hardening_talosconfig: "{{ base.talosconfig }}"
        talos_hardening_endpoints: "{{ case.value.endpoints | default([base.cp]) }}"
        talos_hardening_default_action: "{{ case.value.default_action | default('block') }}"
        talos_hardening_patches: "{{ case.value.patches | default([]) }}"
        talos_hardening_guard_commands: "{{ case.value.guard_commands | default([]) }}"
        talos_hardening_admin_sources: "{{ case.value.admin_sources | default([]) }}"
        talos_hardening_knobs: "{{ case.value.knobs | default({}) }}"
    - name: "accepted {{ case.key }}"
      ansible.builtin.set_fact:
        outcomes: "{{ outcomes | default({}) | combine({case.key: 'ACCEPTED'}) }}"
  rescue:
    - name: "refused {{ case.key }}"
      ansible.builtin.set_fact:
        outcomes: "{{ outcomes | default({}) | combine({case.key: _messages | join(' | ') or ansible_failed_result.msg | default('')}) }}"
      vars:
        # A loop task fails as a whole; the per-item messages name the field.
        _messages: "{{ ansible_failed_result.results | default([]) | selectattr('failed', 'defined') | selectattr('failed')
                       | map(attribute='msg') | list }}"
"""


def test_hostile_role_variables_are_refused_before_anything_is_written_or_sent(talosctl_double, tmp_path):
    double = cluster(talosctl_double)
    out = tmp_path / "rendered"
    nodes = [{"name": "cp1", "role": "control_plane", "address": CP}, {"name": "w1", "role": "worker", "address": WORKER}]
    cases = {
        "node name with a path": ({"nodes": [dict(nodes[0], name="../../escape"), nodes[1]]}, "talos_hardening_nodes[0].name"),
        "node address with a command": ({"nodes": [nodes[0], dict(nodes[1], address="10.0.0.1;touch X")]}, "talos_hardening_nodes[1].address"),
        "node address list": ({"nodes": [dict(nodes[0], address="198.18.1.21,198.18.1.23"), nodes[1]]}, "talos_hardening_nodes[0].address"),
        "jump host is the world": ({"addresses": {"loadbalancer": ["198.18.1.11"], "jump_host": ["0.0.0.0/1", "128.0.0.0/1"]}},
                                   "talos_hardening_addresses.jump_host[0]"),
        "guard through a shell": ({"guard_commands": [["bash", "-c", "talosctl -n {node} version"]]}, "talos_hardening_guard_commands[0][0]"),
        "guard with --insecure": ({"guard_commands": [["talosctl", "-i", "version"]]}, "talos_hardening_guard_commands[0][1]"),
        "endpoint as a flag": ({"endpoints": ["--insecure"]}, "talos_hardening_endpoints[0]"),
        "admin sources are the world": ({"admin_sources": ["::/0"]}, "talos_hardening_admin_sources"),
        # Judged per node by the module after merging: the last node's refusal leaves no file of the first.
        "etcd patch to the world": ({"patches": [rule("etcd", ["2379-2380"], ["0.0.0.0/0"])]}, "patches[0]"),
        "default action accept": ({"default_action": "accept"}, "default_action"),
        "os:admin through the knob": ({"knobs": {"talos_api_access": {"enabled": True, "allowed_roles": ["os:admin"]}}},
                                      "hardening.talos_api_access"),
        "w1 patch enables flannel": ({"nodes": [nodes[0], dict(nodes[1], patches=[{"cluster": {"network": {"cni": {"name": "flannel"}}}}])]},
                                     "node_patches[0]"),
    }
    base = {"cluster": {"name": "c1", "ip_versions": [4]}, "nodes": nodes, "addresses": {"loadbalancer": ["198.18.1.11"], "jump_host": [JUMP]},
            "schema": SCHEMA, "out": str(out), "talosconfig": str(double.talosconfig), "cp": CP}
    (tmp_path / "case.yml").write_text(CASE_TASKS)
    proc = run(tmp_path, double, ROLE_PLAYBOOK, {"cases": dict((k, v) for k, (v, _f) in cases.items()), "base": base})
    assert proc.returncode == 0, proc.stdout[-3000:]
    outcomes = task_results(proc)["report"]["outcomes"]
    for name, (_value, field) in cases.items():
        assert field + ":" in outcomes[name], (name, outcomes[name])
    assert double.invocations() == [], "talosctl was called for refused input"
    assert not out.exists() or list(out.iterdir()) == [], "a config was written"
