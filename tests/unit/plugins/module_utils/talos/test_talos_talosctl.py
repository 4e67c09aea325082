# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talosctl runner: argv it builds and the outputs it parses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import talosctl as T
from fixtures.talos import process_run

DRY_RUN = """Dry run summary:
Applied configuration without a reboot (skipped in dry-run).
Config diff:

--- a
+++ b
@@ -1,3 +1,4 @@
+  ntp: [a]
"""


def test_dry_run_with_a_diff_is_a_change_without_reboot():
    parsed = T.parse_apply_output(DRY_RUN)
    assert parsed["changed"] and not parsed["reboot_required"]
    assert parsed["mode_details"] == "Applied configuration without a reboot"
    assert parsed["diff"].startswith("--- a\n+++ b")


def test_dry_run_with_no_changes_is_not_a_change():
    parsed = T.parse_apply_output("Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\nNo changes.\n")
    assert not parsed["changed"]


@pytest.mark.parametrize("details, reboot", [
    ("Applied configuration with a reboot", True),
    ("Staged configuration to be applied after a reboot", True),
    ("Applied configuration without a reboot", False),
    ("Applied configuration without a reboot. The config is applied in 'try' mode and will be automatically reverted back in 1m0s", False),
])
def test_reboot_is_read_from_the_mode_details(details, reboot):
    assert T.parse_apply_output(details + "\n")["reboot_required"] is reboot


def test_version_output_parses_client_and_each_server():
    text = ("Client:\n\tTag:         v1.13.9\n\tSHA:         3ebd10a7\nServer:\n\tNODE:        10.5.0.2\n\tTag:         v1.13.9\n"
            "\tEnabled:     RBAC\n\tNODE:        10.5.0.3\n\tTag:         v1.13.8\n")
    parsed = T.parse_version(text)
    assert parsed["client"]["Tag"] == "v1.13.9"
    assert [(s["NODE"], s["Tag"]) for s in parsed["server"]] == [("10.5.0.2", "v1.13.9"), ("10.5.0.3", "v1.13.8")]


def test_get_yaml_output_is_one_resource_per_document():
    text = "node: 10.5.0.2\nmetadata:\n    id: apid\nspec:\n    running: true\n---\nnode: 10.5.0.2\nmetadata:\n    id: etcd\nspec:\n    running: false\n"
    assert [r["metadata"]["id"] for r in T.parse_resources(text)] == ["apid", "etcd"]


@pytest.mark.parametrize("text, seconds", [("1m", 60), ("90s", 90), ("1m30s", 90), ("1h", 3600)])
def test_durations(text, seconds):
    assert T.duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "1 m", "-1s", "1d"])
def test_bad_durations_name_the_field(text):
    with pytest.raises(NetsecError) as err:
        T.duration_seconds(text)
    assert err.value.field == "try_timeout"


def test_go_duration_matches_talos_printing():
    assert [T.go_duration(s) for s in (5, 60, 90, 3661)] == ["5s", "1m0s", "1m30s", "1h1m1s"]


def test_apply_argv_passes_the_config_as_a_file_with_connection_flags():
    seen = []

    def run(argv, env):
        seen.append(argv)
        return 0, "Applied configuration without a reboot\n", ""

    tc = T.Talosctl("talosctl", talosconfig="/s/talosconfig", endpoints=["10.0.0.1", "10.0.0.2"], run=run)
    tc.apply_config("10.0.0.9", "/s/n.yaml", mode="try", timeout="2m")
    assert seen == [["talosctl", "apply-config", "--file", "/s/n.yaml", "--mode", "try", "--timeout", "2m",
                     "--talosconfig", "/s/talosconfig", "--endpoints", "10.0.0.1,10.0.0.2", "--nodes", "10.0.0.9"]]


def test_failing_talosctl_raises_with_its_stderr():
    tc = T.Talosctl(run=lambda argv, env: (1, "", "error applying new configuration: rpc error: code = InvalidArgument\n"))
    with pytest.raises(T.TalosctlError, match="apply-config --file failed \\(rc=1\\): error applying new configuration"):
        tc.apply_config("n", "/x.yaml")


def test_missing_binary_says_what_to_install():
    with pytest.raises(T.TalosctlError, match="cannot run /nonexistent/talosctl") as err:
        T.Talosctl("/nonexistent/talosctl", run=process_run).version("n")
    assert "install talosctl" in err.value.fix


def test_unknown_apply_mode_is_refused_before_running():
    with pytest.raises(NetsecError) as err:
        T.Talosctl(run=lambda *a: pytest.fail("must not run")).apply_config("n", "/x", mode="interactive")
    assert err.value.field == "mode"
