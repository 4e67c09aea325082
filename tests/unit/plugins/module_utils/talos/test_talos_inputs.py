# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What reaches talosctl or a guard command is typed: one node per call, endpoints, guard argv
lists without a shell or talosctl overrides; and the talos_hardening role's variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import apply as A
from ansible_collections.safespring.netsec.plugins.module_utils.talos import inputs as I
from ansible_collections.safespring.netsec.plugins.module_utils.talos import talosctl as T

# Characters that split, join or end an argument somewhere downstream (shell, ssh, pflag, CSV).
PAYLOADS = [";", "$(", "`", ",", "\n", "\r", "\u2028", "\u2029", " ", "&&", "|", "'", '"', "\x00"]


@pytest.mark.parametrize("node", ["10.0.0.1;touch X", "a,b,c", "198.18.1.21,198.18.1.22", "--insecure", "-i", "10.0.0.1 --insecure",
                                  "$(id)", "cp1\n", "", "a" * 300, "198.18.1.21/32", "..", "cp_1"])
def test_a_node_is_one_address_or_dns_name(node):
    with pytest.raises(NetsecError) as err:
        T.parse_node(node)
    assert err.value.field == "node"


@settings(max_examples=60, deadline=None)
@given(prefix=st.sampled_from(["198.18.1.21", "cp1.example.net", "fd5a:fe:1::21"]), payload=st.sampled_from(PAYLOADS),
       suffix=st.text(max_size=8))
def test_no_payload_survives_in_a_node(prefix, payload, suffix):
    with pytest.raises(NetsecError):
        T.parse_node(prefix + payload + suffix)


def test_valid_nodes_are_normalised():
    assert T.parse_node("198.18.1.21") == "198.18.1.21"
    assert T.parse_node("FD5A:FE:1::21") == "fd5a:fe:1::21"
    assert T.parse_node("CP1.Example.net") == "cp1.example.net"


@pytest.mark.parametrize("endpoint, ok", [
    ("198.18.1.21", True), ("198.18.1.21:50000", True), ("[fd5a:fe:1::21]:50000", True), ("fd5a:fe:1::21", True),
    ("cp1.example.net:50000", True), ("a,b", False), ("--insecure", False), ("1.2.3.4:99999", False), ("[1.2.3.4]:1", False),
])
def test_endpoints(endpoint, ok):
    if ok:
        T.parse_endpoints([endpoint])
    else:
        with pytest.raises(NetsecError) as err:
            T.parse_endpoints([endpoint])
        assert err.value.field == "endpoints[0]"


def test_the_client_refuses_bad_values_whoever_built_it():
    with pytest.raises(NetsecError) as err:
        T.Talosctl(endpoints=["198.18.1.21", "x,y"])
    assert err.value.field == "endpoints[1]"
    with pytest.raises(NetsecError):
        T.Talosctl(binary="--insecure")
    with pytest.raises(NetsecError) as err:
        T.Talosctl().argv(["version"], nodes=["a,b"])
    assert err.value.field == "node"
    assert T.Talosctl(talosconfig="-i").argv(["version"])[-1].startswith("/"), "a file argument never reads as a flag"


@pytest.mark.parametrize("text", ["1m\n", "1m;x", "0s", "25h", "-1m", "1.5m", "", "1m 2s"])
def test_durations_are_strict(text):
    with pytest.raises(NetsecError) as err:
        T.duration_seconds(text, "try_timeout")
    assert err.value.field == "try_timeout"


@pytest.mark.parametrize("commands, field, message", [
    ("ssh jump", "guard_commands", "list of argv lists"),
    (["ssh jump"], "guard_commands[0]", "non-empty argv list"),
    ([[]], "guard_commands[0]", "non-empty argv list"),
    ([["sh", "-c", "talosctl --nodes {node} version"]], "guard_commands[0][0]", "without a shell"),
    ([["/bin/bash", "-c", "x"]], "guard_commands[0][0]", "without a shell"),
    ([["env", "A=1", "-i", "dash", "-c", "x"]], "guard_commands[0][3]", "without a shell"),
    ([["talosctl", "--insecure", "version", "--nodes", "{node}"]], "guard_commands[0][1]", "turns off the mTLS check"),
    ([["talosctl", "-i", "version"]], "guard_commands[0][1]", "turns off the mTLS check"),
    ([["talosctl", "--insecure=true", "version"]], "guard_commands[0][1]", "turns off the mTLS check"),
    ([["ssh", "jump", "talosctl", "-e", "10.9.9.9", "version"]], "guard_commands[0][3]", "other endpoints"),
    ([["talosctl", "--endpoints=10.9.9.9", "version"]], "guard_commands[0][1]", "other endpoints"),
    ([["talosctl", "--nodes", "10.9.9.9", "version"]], "guard_commands[0][1]", "targets the node being changed"),
    ([["talosctl", "-n10.9.9.9", "version"]], "guard_commands[0][1]", "targets the node being changed"),
    ([["talosctl", "--nodes={node},10.9.9.9", "version"]], "guard_commands[0][1]", "targets the node being changed"),
    ([["talosctl", "-vi", "version"]], "guard_commands[0][1]", "may not combine"),
    ([["probe", "a\nb"]], "guard_commands[0][1]", "line break"),
    ([["probe", {"x": 1}]], "guard_commands[0][1]", "must be a string"),
])
def test_guard_commands_are_argv_lists_without_shell_or_overrides(commands, field, message):
    with pytest.raises(NetsecError) as err:
        A.parse_guard_commands(commands)
    assert err.value.field == field and message in str(err.value)


def test_legitimate_guard_commands_pass_and_get_the_node():
    commands = [["ssh", "jump.example", "talosctl", "--nodes", "{node}", "version"],
                ["env", "TALOSCTL_DOUBLE_SOURCE=198.18.2.5", "talosctl", "version", "-n", "{node}"],
                ["/usr/local/bin/probe-apid", "--node={node}"]]
    parsed = A.parse_guard_commands(commands)
    assert [A.substitute(c, "198.18.1.21") for c in parsed][2] == ["/usr/local/bin/probe-apid", "--node=198.18.1.21"]
    A.parse_guard_commands([["talosctl", "--nodes", "198.18.1.21", "version"]], node="198.18.1.21")


def test_the_applier_refuses_a_hostile_node_before_talosctl_runs():
    calls = []

    def run(argv, env=None):
        calls.append(argv)
        return 0, "", ""
    applier = A.Applier(T.Talosctl(run=run), run_command=run)
    for node in ("10.0.0.1;touch X", "a,b,c", "--insecure"):
        with pytest.raises(NetsecError):
            applier.run(node, "/tmp/x.yaml")
    with pytest.raises(NetsecError):
        applier.run("198.18.1.21", "/tmp/x.yaml", guard_commands=[["sh", "-c", "true"]])
    assert calls == []


# --- the role's variables -------------------------------------------------------------------

def role_values(**overrides):
    values = {
        "nodes": [{"name": "cp1", "role": "control_plane", "address": "198.18.1.21", "addresses": ["fd5a:fe:1::21"]},
                  {"name": "w1", "role": "worker", "address": "198.18.1.22", "patches": [{"machine": {}}]}],
        "addresses": {"loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5/32"]},
        "output_dir": "/srv/rendered/../talos", "schema_path": None, "render_only": False, "admin_sources": [],
        "endpoints": ["198.18.1.21"], "try_timeout": "1m", "guard_commands": [], "guard_retries": 3, "guard_delay": 2,
        "rollback_grace": 5, "base_configs": {}, "waivers": [], "baseline_waivers": [], "cluster": {"name": "c1"},
    }
    values.update(overrides)
    return values


def test_role_inputs_give_the_book_the_nodes_without_patches_and_a_normal_output_dir():
    out = I.parse(role_values())
    assert out["book"] == {"loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5/32"],
                           "control_plane": ["198.18.1.21", "fd5a:fe:1::21"], "worker": ["198.18.1.22"]}
    assert out["nodes"][1] == {"index": 1, "name": "w1", "role": "worker", "address": "198.18.1.22"}
    assert out["output_dir"] == "/srv/talos"


def _node(**fields):
    node = {"name": "cp1", "role": "control_plane", "address": "198.18.1.21"}
    node.update(fields)
    return [node]


@pytest.mark.parametrize("overrides, field", [
    ({"nodes": _node(name="../../etc/cron.d/x")}, "talos_hardening_nodes[0].name"),
    ({"nodes": _node(name="cp1\nx")}, "talos_hardening_nodes[0].name"),
    ({"nodes": _node(address="10.0.0.1;touch X")}, "talos_hardening_nodes[0].address"),
    ({"nodes": _node(address="a,b,c")}, "talos_hardening_nodes[0].address"),
    ({"nodes": _node(address="cp1.example.net")}, "talos_hardening_nodes[0].address"),
    ({"nodes": _node(role="loadbalancer")}, "talos_hardening_nodes[0].role"),
    ({"nodes": _node(addresses=["0.0.0.0/0"])}, "talos_hardening_nodes[0].addresses[0]"),
    ({"nodes": _node(patchs=[])}, "talos_hardening_nodes[0]"),
    ({"nodes": _node() + _node(address="198.18.1.23")}, "talos_hardening_nodes[1].name"),
    ({"nodes": _node() + _node(name="cp2")}, "talos_hardening_nodes[1].address"),
    ({"nodes": []}, "talos_hardening_nodes"),
    ({"addresses": {"jump_host": ["0.0.0.0/1", "128.0.0.0/1"]}}, "talos_hardening_addresses.jump_host[0]"),
    ({"addresses": {"loadbalancer": ["::/0"]}}, "talos_hardening_addresses.loadbalancer[0]"),
    ({"addresses": {"control_plane": ["10.0.0.1"]}}, "talos_hardening_addresses"),
    ({"admin_sources": ["0.0.0.0/0"]}, "talos_hardening_admin_sources"),
    ({"guard_commands": [["sh", "-c", "x"]]}, "talos_hardening_guard_commands[0][0]"),
    ({"guard_commands": [["talosctl", "--nodes", "198.18.1.21", "version"]]}, "talos_hardening_guard_commands[0][1]"),
    ({"endpoints": ["--insecure"]}, "talos_hardening_endpoints[0]"),
    ({"try_timeout": "1m;x"}, "talos_hardening_try_timeout"),
    ({"guard_retries": 0}, "talos_hardening_guard_retries"),
    ({"output_dir": "relative/dir"}, "talos_hardening_output_dir"),
    ({"output_dir": "/srv/a dir"}, "talos_hardening_output_dir"),
    ({"base_configs": {"controlplane": "/x"}}, "talos_hardening_base_configs"),
    ({"render_only": True}, "talos_hardening_schema_path"),
    ({"cluster": {"name": "c1", "loadbalancer": {"api_cidr": ["10.0.0.0/8"]}}}, "talos_hardening_cluster.loadbalancer.api_cidr"),
    ({"cluster": None}, "talos_hardening_cluster"),
    ({"waivers": [{"name": "w", "service": "ssh", "reason": "r"}]}, "talos_hardening_waivers[0].service"),
    ({"baseline_waivers": [{"name": "w", "check": "cni", "reason": "r"}]}, "talos_hardening_baseline_waivers[0].scope"),
])
def test_hostile_role_variables_are_refused_naming_the_variable(overrides, field):
    with pytest.raises(NetsecError) as err:
        I.parse(role_values(**overrides))
    assert err.value.field == field


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(["name", "address"]), payload=st.sampled_from(PAYLOADS + ["/", "/..", "{", "}"]), tail=st.text(max_size=6))
def test_no_payload_survives_in_a_node_name_or_address(key, payload, tail):
    value = {"name": "cp1", "address": "198.18.1.21"}[key] + payload + tail
    with pytest.raises(NetsecError) as err:
        I.parse(role_values(nodes=_node(**{key: value})))
    assert err.value.field == "talos_hardening_nodes[0].%s" % key
