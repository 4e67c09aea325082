"""Opt-in, read-only checks against a real Talos node (TALOSCONFIG + TALOS_LIVE_NODE).

They hold the contract double to account: the real talosctl's version, get -o yaml and
apply-config --dry-run output must parse the way the double's does. Nothing is applied:
the node's own config goes back through a dry run, which must report no changes.
"""
import os

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils.talos import apply as A
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import Talosctl
from fixtures.talos import process_run
from ansible_collections.safespring.netsec.plugins.modules.talos_info import firewall_facts

pytestmark = pytest.mark.live


def client(live):
    return Talosctl(talosconfig=live["talosconfig"], run=process_run)


def test_real_node_answers_version_services_and_firewall_in_the_parsed_shapes(talos_live):
    tc = client(talos_live)
    version = tc.version(talos_live["node"])
    assert version["server"] and version["server"][0]["Tag"].startswith("v1.")
    services = tc.get("services", talos_live["node"])
    assert "apid" in [s["metadata"]["id"] for s in services]
    facts = firewall_facts(tc.get("nftableschain", talos_live["node"]))
    assert facts["default_action"] in ("block", "accept", None)


def test_real_dry_run_of_the_nodes_own_config_reports_no_changes(talos_live, tmp_path):
    tc = client(talos_live)
    [machineconfig] = tc.get("machineconfig", talos_live["node"])
    path = tmp_path / "node.yaml"
    path.touch(mode=0o600)
    spec = machineconfig["spec"]
    path.write_text(spec if isinstance(spec, str) else D.dump([spec]))
    plan = A.Applier(tc, run_command=process_run).plan(talos_live["node"], str(path), "no-reboot")
    assert plan["changed"] is False, plan["diff"]
    assert plan["mode_details"].startswith("Applied configuration")
    os.unlink(str(path))
