"""The real talosctl (v1.13.9, built from its module by the fixture) where it runs without a node.

Checks what module_utils/talos/talosctl.py and the talosctl contract double rely on: the flags
of apply-config/get/version/validate (names, shorthands, types), the apply modes, the error
messages the double imitates, `gen config` output as a base for our builder, `validate --strict`
of what we render, and that every argv talosctl.py builds for apply-config parses (it then fails
only on the missing node, not on a flag).
"""
import importlib.machinery
import importlib.util
import re
import subprocess

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F
from ansible_collections.safespring.netsec.plugins.module_utils.talos import hardening as H
from ansible_collections.safespring.netsec.plugins.module_utils.talos import talosctl as T

from fixtures.talos import ADDRESSES, DOUBLE_DIR, SPEC, stdin_run

FLAG = re.compile(r"^\s+(?:-(\w), )?--([\w-]+)(?: (\S.*?))?(?:\s{2,}|$)")
KINDS = {"bool": (None,), "string": ("string",), "strings": ("strings", "stringArray"), "duration": ("duration",)}


def double_module():
    loader = importlib.machinery.SourceFileLoader("talosctl_contract_double", str(DOUBLE_DIR / "talosctl"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def real(talosctl, *args):
    proc = subprocess.run([talosctl] + list(args), capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def real_flags(talosctl, command):
    """{long name: (shorthand, type word)} from `talosctl <command> --help`."""
    rc, out, _err = real(talosctl, command, "--help")
    assert rc == 0
    flags = {}
    for line in out.split("Flags:", 1)[1].splitlines():
        match = FLAG.match(line)
        if match:
            flags[match.group(2)] = (match.group(1), match.group(3))
    return flags


@pytest.mark.parametrize("command", ["apply-config", "get", "version", "validate"])
def test_every_flag_the_double_models_is_real_with_its_shorthand_and_type(talosctl_real, command):
    double = double_module()
    flags = real_flags(talosctl_real, command)
    modelled = dict(double.COMMANDS[command])
    if command != "validate":  # validate is local: talosctl refuses the connection flags on it
        modelled.update(double.PERSISTENT)
    else:
        assert "talosconfig" not in flags and "nodes" not in flags and "endpoints" not in flags
    for name, (short, kind, _default) in sorted(modelled.items()):
        assert name in flags, "talosctl %s has no --%s" % (command, name)
        assert flags[name][0] == short, (command, name, flags[name])
        if kind == "mode":
            assert flags[name][1] == ", ".join(double.MODES)
        else:
            assert flags[name][1] in KINDS[kind], (command, name, flags[name])


def test_apply_modes_are_the_real_ones_in_talosctl_py_and_in_the_double(talosctl_real):
    real_modes = tuple(real_flags(talosctl_real, "apply-config")["mode"][1].split(", "))
    assert real_modes == ("auto", "no-reboot", "reboot", "staged", "try")
    assert tuple(T.APPLY_MODES) == real_modes and tuple(double_module().MODES) == real_modes
    for flag in ("file", "mode", "dry-run", "timeout", "talosconfig", "endpoints", "nodes"):
        assert flag in real_flags(talosctl_real, "apply-config"), "talosctl.py passes --%s" % flag


ERRORS = [
    ["apply-config", "--force"],
    ["get", "-z", "services"],
    ["applyconfig"],
    ["apply-config", "--mode", "interactive"],
    ["apply-config", "--mode", "yolo"],
    ["apply-config", "--mode"],
    ["apply-config", "--timeout", "5x"],
    ["apply-config", "--timeout", "soon"],
    ["validate", "--config", "c.yaml", "--mode", "metal", "--talosconfig", "t"],
    ["validate", "--config", "/nonexistent/c.yaml", "--mode", "metal"],
    ["validate", "--config", "{config}", "--mode", "bogus"],
]


@pytest.mark.parametrize("argv", ERRORS, ids=[" ".join(a) for a in ERRORS])
def test_the_double_fails_with_the_real_talosctl_message(talosctl_real, talosctl_double, generated, argv):
    argv = [a.replace("{config}", str(generated / "controlplane.yaml")) for a in argv]
    rc, _out, err = real(talosctl_real, *argv)
    proc = talosctl_double.run(*argv)
    assert rc == 1 and proc.returncode == 1
    assert proc.stderr.splitlines()[0] == err.splitlines()[0], (proc.stderr, err)


@pytest.fixture(scope="module")
def generated(talosctl_real, tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    rc, _o, err = real(talosctl_real, "gen", "config", "c1", "https://198.18.0.10:6443", "--output-dir", str(out),
                       "--kubernetes-version", "1.35.0")
    assert rc == 0, err
    return out


@pytest.mark.parametrize("role, machine_type", [("control_plane", "controlplane"), ("worker", "worker")])
def test_our_config_on_a_real_gen_config_base_passes_talosctl_validate_strict(
        talosctl_real, talos_validators, generated, tmp_path, role, machine_type):
    base = D.load((generated / ("%s.yaml" % machine_type)).read_text())
    firewall, _skipped = F.render(SPEC, role, ADDRESSES)
    knobs = H.parse_knobs({"authentication": {"mode": "none"}, "talos_api_access": {"enabled": True}})
    docs = H.build(base, "1.13", role, knobs, firewall_docs=firewall)
    path = tmp_path / "node.yaml"
    path.write_text(D.dump(docs))
    # talosconfig and endpoints set, as the modules' group defaults do: validate must not pass them on.
    client = T.Talosctl(binary=talosctl_real, talosconfig=str(generated / "talosconfig"), endpoints=["198.18.1.21"],
                        run=lambda argv, env: stdin_run(argv))
    for mode in ("metal", "cloud"):
        assert client.validate(str(path), mode=mode) is True
    assert talos_validators["1.13"].validate(docs, ("metal", "cloud"))["talos"] == "v1.13.9"

    path.write_text(D.dump(docs + [{"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "bad",
                                    "portSelector": {"ports": ["9000-8000"], "protocol": "tcp"}}]))
    with pytest.raises(T.TalosctlError, match="invalid port range: 9000-8000"):
        client.validate(str(path))


@pytest.mark.parametrize("mode", T.APPLY_MODES)
def test_every_apply_argv_talosctl_py_builds_parses_and_fails_only_for_want_of_a_node(talosctl_real, generated, mode):
    calls = []

    def run(argv, env):
        calls.append(argv)
        return stdin_run(argv)
    client = T.Talosctl(binary=talosctl_real, talosconfig=str(generated / "talosconfig"), endpoints=["127.0.0.1:1"], run=run)
    with pytest.raises(T.TalosctlError) as err:
        client.apply_config("127.0.0.1", str(generated / "worker.yaml"), mode=mode, dry_run=True, timeout="30s")
    assert "--dry-run" in calls[0] and ("--timeout" in calls[0]) == (mode == "try")
    assert "error applying new configuration" in err.value.message and "connection refused" in err.value.message, err.value.message
