"""Opt-in (marked live): against a real cluster with running Cilium agents when KUBECONFIG is set
(read-only + dry run).

Why it cannot run against the lab's apiserver: what these tests read is produced by running Cilium
agents (the DaemonSet's real status, agents publishing their WireGuard keys on CiliumNodes, the
datapath's own view), and no agent can run here (no kubelet or CNI; the kernel lacks
CRYPTO_USER_API_HASH and SCHEDSTATS). Everything else - the modules and the role against the API,
with that agent state seeded as real objects - is proven against a real kube-apiserver in
test_cilium_kubernetes.py."""
import os

import pytest

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, run_playbook

from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies as cpol

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not os.environ.get("KUBECONFIG"), reason="KUBECONFIG not set: no cluster to test against")]


def test_status_reads_a_real_cilium_and_reports_encryption_evidence(tmp_path):
    rc, res, dummy_stats, proc = run_playbook(tmp_path, [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "status", "safespring.netsec.cilium_status": {}}]}], None, TMPDIR=str(tmp_path))
    assert rc == 0, proc.stdout[-3000:]
    st = res["status"]
    assert st["config_found"] and st["agents"]["found"]
    assert st["encryption"]["mode"] in ("wireguard", "ipsec", "none")
    assert st["encryption"]["proven"] == (st["encryption"]["mode"] != "none" and not st["encryption"]["problems"])


def test_baseline_policies_pass_the_real_api_servers_validation_in_dry_run(tmp_path):
    policies = cpol.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK)
    rc, res, dummy_stats, proc = run_playbook(tmp_path, [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "dry", "safespring.netsec.cilium_network_policy": {"owned_set": "netsec-live-test", "policies": policies, "prune": False}}]}],
        None, "--check", TMPDIR=str(tmp_path))
    assert rc == 0, proc.stdout[-3000:]
    assert set(a["action"] for a in res["dry"]["plan"]) <= {"create", "update", "unchanged"}
