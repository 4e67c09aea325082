"""Role talos_hardening through ansible-playbook against the talosctl contract double.

Render-only writes validated 0600 configs and touches no node; apply goes workers first and
the talosctl endpoint last, each node rules-first then try + guard + commit; a second run
changes nothing; bad inventory fails in argument validation before any node is touched.
"""
import json
import os
import pathlib
import subprocess

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = pathlib.Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
CP1, CP2, W1, JUMP = "198.18.1.21", "198.18.1.23", "198.18.1.22", "198.18.2.5"

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: safespring.netsec.talos_hardening
"""


def role_vars(tmp_path, double, **overrides):
    variables = {
        "talos_hardening_cluster": {"name": "c1", "ip_versions": [4]},
        "talos_hardening_nodes": [
            {"name": "cp1", "role": "control_plane", "address": CP1},
            {"name": "cp2", "role": "control_plane", "address": CP2},
            {"name": "w1", "role": "worker", "address": W1, "patches": [{"machine": {"nodeLabels": {"zone": "b"}}}]},
        ],
        "talos_hardening_addresses": {"loadbalancer": ["198.18.1.11", "198.18.1.12"], "jump_host": [JUMP]},
        "talos_hardening_talos_version": "1.13",
        "talos_hardening_schema_path": str(SHARED / "specs" / "talos-v1.13.9-config.schema.json"),
        "talos_hardening_output_dir": str(tmp_path / "rendered"),
        "talos_hardening_admin_sources": [JUMP],
        "talos_hardening_talosconfig": str(double.talosconfig),
        "talos_hardening_endpoints": [CP1],
        "talos_hardening_try_timeout": "6s",
        "talos_hardening_guard_delay": 1,
        "talos_hardening_rollback_grace": 1,
        # The jump host's own view of the node's apid; {node} is the node being changed.
        "talos_hardening_guard_commands": [["env", "TALOSCTL_DOUBLE_SOURCE=" + JUMP, "talosctl", "version", "--nodes", "{node}"]],
    }
    variables.update(overrides)
    return variables


def run_role(tmp_path, double, *args, **overrides):
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps(role_vars(tmp_path, double, **overrides)))
    env = dict(os.environ, **double.env)
    env.update(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False", ANSIBLE_PIPELINING="True",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"),
                           str(tmp_path / "site.yml")] + list(args), capture_output=True, text=True, env=env, timeout=600, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return proc, data


def nodes(double):
    double.write_talosconfig([CP1])
    double.add_node(CP1, "controlplane")
    double.add_node(CP2, "controlplane")
    double.add_node(W1, "worker")
    return double


def test_render_only_writes_validated_private_configs_and_touches_no_node(talosctl_double, tmp_path):
    double = nodes(talosctl_double)
    proc, data = run_role(tmp_path, double, talos_hardening_render_only=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    out = tmp_path / "rendered"
    assert sorted(p.name for p in out.iterdir()) == ["cp1.yaml", "cp2.yaml", "w1.yaml"]
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    for path in out.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    worker = [d for d in yaml.safe_load_all((out / "w1.yaml").read_text()) if d]
    assert worker[0]["machine"]["nodeLabels"] == {"zone": "b"}
    assert "etcd" not in [d.get("name") for d in worker]
    assert double.events() == []


def test_render_only_without_a_schema_is_refused(talosctl_double, tmp_path):
    proc, _data = run_role(tmp_path, nodes(talosctl_double), talos_hardening_render_only=True, talos_hardening_schema_path=None)
    assert proc.returncode != 0 and "talos_hardening_schema_path: required with talos_hardening_render_only" in proc.stdout


@pytest.mark.slow
def test_apply_orders_nodes_rules_first_then_try_and_commit_and_is_idempotent(talosctl_double, tmp_path):
    double = nodes(talosctl_double)
    proc, data = run_role(tmp_path, double)
    assert proc.returncode == 0, proc.stdout[-4000:]
    applies = [e.split(" ", 1)[1] for e in double.events() if " apply " in e]
    assert applies == [
        W1 + " apply mode=no-reboot", W1 + " apply mode=try", W1 + " apply mode=no-reboot",
        CP2 + " apply mode=no-reboot", CP2 + " apply mode=try", CP2 + " apply mode=no-reboot",
        CP1 + " apply mode=no-reboot", CP1 + " apply mode=try", CP1 + " apply mode=no-reboot",
    ]
    for node in (CP1, CP2, W1):
        kinds = [(d.get("kind"), d.get("ingress")) for d in double.config_docs(node)]
        assert ("NetworkDefaultActionConfig", "block") in kinds
    again, data2 = run_role(tmp_path, double)
    assert again.returncode == 0 and data2["stats"]["localhost"]["changed"] == 0
    assert len([e for e in double.events() if " apply " in e]) == len(applies)


def test_unknown_node_role_fails_argument_validation_before_any_node_is_touched(talosctl_double, tmp_path):
    double = nodes(talosctl_double)
    proc, _data = run_role(tmp_path, double, talos_hardening_nodes=[{"name": "lb1", "role": "loadbalancer", "address": CP1}])
    assert proc.returncode != 0
    assert "value of role must be one of: control_plane, worker" in proc.stdout
    assert double.events() == [] and not (tmp_path / "rendered").exists()


def test_jump_host_lockout_in_one_node_stops_the_role_before_any_node_is_touched(talosctl_double, tmp_path):
    double = nodes(talosctl_double)
    patch = [{"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "talos-apid",
              "ingress": [{"subnet": "198.18.1.0/24"}], "$patch": "delete"}]
    nodes_ = role_vars(tmp_path, double)["talos_hardening_nodes"]
    nodes_[0]["patches"] = patch
    proc, _data = run_role(tmp_path, double, talos_hardening_nodes=nodes_)
    assert proc.returncode != 0 and "node cp1 would lock out jump_host 198.18.2.5/32" in proc.stdout
    assert double.events() == []


def test_check_mode_writes_nothing_and_touches_no_node(talosctl_double, tmp_path):
    double = nodes(talosctl_double)
    proc, data = run_role(tmp_path, double, "--check")
    assert proc.returncode == 0, proc.stdout[-3000:]
    tasks = dict((t["task"]["name"].split(" : ")[-1], t["hosts"]["localhost"]) for t in data["plays"][0]["tasks"])
    assert tasks["Render the final config of each node"]["changed"]
    assert tasks["Not planned on the nodes in check mode (render for real first, or use render-only)"]["msg"] == ["cp1", "cp2", "w1"]
    assert not any((tmp_path / "rendered").glob("*.yaml")) and double.events() == []


def test_readme_documents_every_variable_with_its_default():
    role = REPO / "roles" / "talos_hardening"
    options = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text())
    rows = dict((line.split("|")[1].strip().strip("`"), line.split("|")[2].strip())
                for line in (role / "README.md").read_text().splitlines() if line.startswith("| `talos_hardening_"))
    assert sorted(rows) == sorted(options)
    for name, spec in options.items():
        if spec.get("required"):
            assert rows[name] == "required", name
            assert name not in defaults, name
        else:
            assert defaults[name] == spec.get("default"), name
            shown = rows[name].strip("`").strip("'")
            assert shown == ("unset" if spec.get("default") is None else str(spec["default"]).lower()
                             if isinstance(spec["default"], bool) else json.dumps(spec["default"]) if isinstance(spec["default"], (list, dict))
                             else str(spec["default"])), name
