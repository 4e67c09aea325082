"""The talosctl contract double holds to talosctl's documented interface, strictly."""
import time

import yaml

CP = "198.18.1.21"


def node(double, **kw):
    double.write_talosconfig([CP])
    double.add_node(CP, "controlplane", **kw)
    return double


def write(tmp_path, docs, name="c.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return str(path)


def block_without(double, source):
    docs = double.config_docs(CP)
    return docs + [{"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig", "ingress": "block"},
                   {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "apid",
                    "portSelector": {"ports": [50000], "protocol": "tcp"}, "ingress": [{"subnet": source}]}]


def test_unknown_flags_commands_and_modes_fail_like_cobra(talosctl_double):
    double = node(talosctl_double)
    for args, message in [
        (["apply-config", "--force"], "unknown flag: --force"),
        (["get", "-z", "services"], "unknown shorthand flag: 'z' in -z"),
        (["applyconfig"], 'unknown command "applyconfig" for "talosctl"'),
        (["apply-config", "--mode", "yolo"],
         'invalid argument "yolo" for "-m, --mode" flag: possible options are: auto, no-reboot, reboot, staged, try'),
        (["apply-config", "--timeout", "soon"], 'time: invalid duration "soon"'),
    ]:
        proc = double.run(*args)
        assert proc.returncode == 1 and message in proc.stderr, (args, proc.stderr)


def test_mtls_material_is_required_in_the_talosconfig(talosctl_double):
    double = node(talosctl_double)
    double.talosconfig.write_text(yaml.safe_dump({"context": "lab", "contexts": {"lab": {"endpoints": [CP]}}}))
    proc = double.run("version", "--nodes", CP)
    assert proc.returncode == 1 and "has no ca" in proc.stderr


def test_config_failing_the_nodes_schema_is_refused(talosctl_double, tmp_path):
    double = node(talosctl_double, talos_version="1.14")
    docs = double.config_docs(CP)  # cluster.clusterName is not a v1alpha1 field in 1.14
    proc = double.run("apply-config", "--file", write(tmp_path, docs), "--nodes", CP)
    assert proc.returncode == 1 and "code = InvalidArgument desc = configuration validation failed" in proc.stderr


def test_no_reboot_refuses_a_change_that_needs_a_reboot(talosctl_double, tmp_path):
    double = node(talosctl_double)
    docs = double.config_docs(CP)
    docs[0]["machine"]["install"] = {"disk": "/dev/sdb"}
    proc = double.run("apply-config", "--file", write(tmp_path, docs), "--mode", "no-reboot", "--nodes", CP)
    assert proc.returncode == 1 and "can't be applied without a reboot: machine.install" in proc.stderr


def test_dry_run_prints_the_summary_and_a_unified_diff(talosctl_double, tmp_path):
    double = node(talosctl_double)
    proc = double.run("apply-config", "-f", write(tmp_path, block_without(double, "198.18.2.5/32")), "--dry-run", "-n", CP)
    assert proc.returncode == 0
    assert proc.stdout.startswith("Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\n--- a\n+++ b\n")
    assert "+ingress: block" in proc.stdout


def test_unconfirmed_try_rolls_back_after_the_timeout_and_blocks_until_then(talosctl_double, tmp_path):
    double = node(talosctl_double)
    before = double.config(CP)
    path = write(tmp_path, block_without(double, "10.0.0.0/8"))
    proc = double.run("apply-config", "-f", path, "-m", "try", "--timeout", "4s", "-n", CP)
    assert proc.stdout.strip().endswith("will be automatically reverted back in 4s")
    locked = double.run("version", "-n", CP)
    assert locked.returncode == 1 and "code = Unavailable" in locked.stderr and "198.18.1.21:50000: i/o timeout" in locked.stderr
    time.sleep(4.2)
    assert double.run("version", "-n", CP).returncode == 0 and double.config(CP) == before


def test_a_real_apply_during_the_try_commits_it(talosctl_double, tmp_path):
    double = node(talosctl_double)
    path = write(tmp_path, block_without(double, "198.18.2.0/24"))
    double.run("apply-config", "-f", path, "-m", "try", "--timeout", "4s", "-n", CP)
    assert double.run("apply-config", "-f", path, "-m", "no-reboot", "-n", CP).stdout == "Applied configuration without a reboot\n"
    time.sleep(4.2)
    assert "NetworkDefaultActionConfig" in double.config(CP)


def test_validate_checks_the_client_release_schema(talosctl_double, tmp_path):
    double = node(talosctl_double)
    good = write(tmp_path, double.config_docs(CP), "good.yaml")
    proc = double.run("validate", "--config", good, "--mode", "metal", "--strict")
    assert proc.returncode == 0 and proc.stdout == "%s is valid for metal mode\n" % good
    bad = write(tmp_path, [{"version": "v1alpha1", "machine": {"type": "controlplane", "kubelet": {"extraArgs": {"v": 2}}}}], "bad.yaml")
    proc = double.run("validate", "-c", bad, "-m", "metal")
    assert proc.returncode == 1 and "1 error(s) occurred" in proc.stderr
