"""Role safespring.netsec.cilium in render mode (GitOps): what it writes, validated independently."""
import json

import yaml

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, cilium_schema_files, run_playbook

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import validate


def role_play(render_dir, **overrides):
    variables = {"cilium_delivery": "render", "cilium_render_dir": str(render_dir), "cilium_cluster": LAB_CLUSTER,
                 "cilium_addresses": LAB_ADDRESS_BOOK, "cilium_policy_schema_files": cilium_schema_files()}
    variables.update(overrides)
    return [{"hosts": "localhost", "gather_facts": False, "roles": [{"role": "safespring.netsec.cilium", "vars": variables}]}]


def test_render_writes_schema_valid_policies_idempotently_and_prunes_stale_files(tmp_path, cilium_schemas):
    out = tmp_path / "gitops"
    rc, tasks, stats, proc = run_playbook(tmp_path, role_play(out, cilium_hubble_ui=True))
    assert rc == 0, proc.stdout[-3000:]
    assert stats["changed"] == 2
    values = yaml.safe_load((out / "install" / "cilium-values.yaml").read_text())
    assert values["hostFirewall"] == {"enabled": True} and values["policyAuditMode"] is True
    kust = yaml.safe_load((out / "policies" / "kustomization.yaml").read_text())
    names = []
    for name in kust["resources"]:
        obj = yaml.safe_load((out / "policies" / name).read_text())
        validate.validate_custom(obj, cilium_schemas[obj["kind"]], field=name)
        names.append(obj["metadata"]["name"])
    assert set(names) == {"netsec-host-control-plane", "netsec-host-worker", "netsec-kube-system-baseline",
                          "netsec-kube-dns", "netsec-hubble-relay", "netsec-hubble-ui"}
    # The worker host policy opens exactly the port model's ports into workers.
    worker = yaml.safe_load((out / "policies" / "ciliumclusterwidenetworkpolicy-netsec-host-worker.yaml").read_text())
    ports = set()
    for rule in worker["spec"]["ingress"]:
        for tp in rule.get("toPorts", []):
            ports |= set(int(p["port"]) for p in tp["ports"])
    spec = pm.ClusterSpec.from_dict(LAB_CLUSTER)
    assert ports == set(s.port_min for s, dummy_sources in pm.ingress_flows(spec, "worker") if s.port_min is not None)

    rc, tasks, stats, proc = run_playbook(tmp_path, role_play(out, cilium_hubble_ui=True))
    assert rc == 0 and stats["changed"] == 0, json.dumps(stats)

    rc, dummy_tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, role_play(out, cilium_hubble_ui=False))
    assert rc == 0
    files = sorted(p.name for p in (out / "policies").iterdir())
    assert "ciliumnetworkpolicy-kube-system-netsec-hubble-ui.yaml" not in files
    assert "ciliumnetworkpolicy-kube-system-netsec-hubble-relay.yaml" in files


def test_host_firewall_enforce_without_audit_phase_fails_the_role_before_writing(tmp_path):
    out = tmp_path / "gitops"
    rc, tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, role_play(out, cilium_host_firewall="enforce"))
    failed = [t for t in tasks.values() if t.get("failed")]
    assert rc != 0 and failed[0]["field"] == "host_firewall"
    assert not out.exists()


def test_enforce_after_the_audit_phase_renders_enforcing_values(tmp_path):
    out = tmp_path / "gitops"
    rc, dummy_tasks, dummy_stats, proc = run_playbook(tmp_path, role_play(out, cilium_host_firewall="enforce", cilium_policy_enforcement="always",
                                                      cilium_current_values={"hostFirewall": {"enabled": True}}))
    assert rc == 0, proc.stdout[-2000:]
    values = yaml.safe_load((out / "install" / "cilium-values.yaml").read_text())
    assert values["policyAuditMode"] is False and values["policyEnforcementMode"] == "always"


def test_role_argument_spec_rejects_an_unknown_encryption(tmp_path):
    rc, tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, role_play(tmp_path / "o", cilium_encryption="tls"))
    assert rc != 0
    assert any("cilium_encryption" in t.get("msg", "") for t in tasks.values())
