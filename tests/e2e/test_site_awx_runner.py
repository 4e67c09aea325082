# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main job end to end, run the way AWX runs it, against the lab's real components.

ansible-runner with a private data dir (project/, inventory/, env/envvars, env/extravars),
credentials injected the way AWX's credential types inject them (the OpenStack credential's
clouds.yaml with its `devstack` cloud, Zitadel's token as an environment variable), the site
job, a check job of verify, and a control broken by hand that verify must name.

The lab's Kubernetes control plane (tests/lab/control-plane.sh: the lab OIDC issuer and a
kube-apiserver started with the AuthenticationConfiguration the collection renders) runs, so the
Cilium, namespace-policy and identity stages apply to it and verify proves ID-01, ID-02 and WL-*
live (PASS); Talos and Cilium's agents cannot run here, so TALOS-01 and CNI-01 are STATIC, and so
is the layered proof EXP-01 (its Talos layer is the rendered machine configs).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from fixtures.kube import KubeLab
from fixtures.lab import REPO, SHARED, lab_up
from fixtures.netns import podman_exec as _podman
from fixtures.openstack import LAB_DIR, connect

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# A stand-in secret of the shape a Zitadel PAT has: it must never show up in any job output.
ZITADEL_TOKEN = "pat-e2e-9c1f0b7d52e84a6f8d2b3c4d5e6f7a8b"


@pytest.fixture(scope="module")
def lab():
    for component in ("netns", "neutron", "hosts", "backends", "control-plane"):
        lab_up(component)
    with open(LAB_DIR / "clouds.yaml") as handle:
        return yaml.safe_load(handle)["clouds"]["lab"]


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory, lab):
    """What AWX lays out for a job: project checkout, inventory, injected credentials."""
    pdd = tmp_path_factory.mktemp("awx-job")
    shutil.copytree(REPO, pdd / "project", symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", ".lab", ".build", "reports", "tests", "bench"))
    shutil.copytree(REPO / "inventories" / "lab", pdd / "inventory")
    (pdd / "env").mkdir()
    # AWX's OpenStack credential type writes clouds.yaml with a cloud named `devstack`.
    clouds = pdd / "env" / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {"devstack": lab}}))
    clouds.chmod(0o600)
    envvars = {
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "ZITADEL_TOKEN": ZITADEL_TOKEN,
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
        "SHARED_DIR": str(SHARED),
        # The lab inventory finds the lab (PKI, rendered files, control plane, probe tokens) through it.
        "LAB_DIR": str(LAB_DIR),
        "ANSIBLE_NOCOLOR": "1",
    }
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    # The job template's extra vars (awx/controller.yml) plus the report location.
    (pdd / "env" / "extravars").write_text(yaml.safe_dump({
        "netsec_openstack_cloud": "devstack",
        "netsec_report_dir": str(pdd / "report"),
    }))
    return pdd


def run_job(pdd, playbook, check=False):
    import ansible_runner

    # The job type of every job is set explicitly, as AWX does: ansible-runner keeps a cmdline it
    # was given in env/cmdline, so a check job would otherwise turn every later job into one.
    cmdline = pdd / "env" / "cmdline"
    if check:
        cmdline.write_text("--check")
    elif cmdline.exists():
        cmdline.unlink()
    result = ansible_runner.run(private_data_dir=str(pdd), playbook=playbook, quiet=True, timeout=1500)
    stdout = result.stdout.read()
    return result, stdout


def job_output_text(pdd):
    """What AWX shows of a job: its stdout and every job event (not runner's record of the
    environment it was given, which AWX keeps out of the job output and redacts)."""
    chunks = []
    for run_dir in (pdd / "artifacts").iterdir():
        chunks.append((run_dir / "stdout").read_text(errors="replace"))
        for event in sorted((run_dir / "job_events").iterdir()):
            chunks.append(event.read_text(errors="replace"))
    return "\n".join(chunks)


def junit_cases(pdd):
    """control id -> pass (proven live), static (met by rendered files only), fail or not_applicable."""
    root = ET.parse(str(pdd / "report" / "junit.xml")).getroot()
    out = {}
    for case in root.iter("testcase"):
        levels = [p.get("value") for p in case.iter("property") if p.get("name") == "evidence_level"]
        status = ("fail" if case.find("failure") is not None else "not_applicable" if case.find("skipped") is not None
                  else "static" if levels == ["static"] else "pass")
        out[case.get("name").split(" ")[0]] = status
    return out


@pytest.fixture(scope="module")
def site_job(private_data_dir):
    result, stdout = run_job(private_data_dir, "playbooks/site.yml")
    return result, stdout


def test_site_job_converges_the_lab_and_the_report_shows_it_passing(site_job, private_data_dir):
    result, stdout = site_job
    assert result.rc == 0, stdout[-6000:]
    cases = junit_cases(private_data_dir)
    # Proven against running systems: the perimeter (Neutron), the edge (the LB hosts, probes through
    # the router), identity and workloads (the lab kube-apiserver: objects and authentication).
    live = ("PERIM-01", "PERIM-02", "PERIM-03", "EDGE-01", "EDGE-02", "EDGE-03", "EDGE-04", "EDGE-05",
            "ID-01", "ID-02", "WL-01", "WL-02", "WL-03")
    # Judged from rendered files only (no Talos node, no Cilium agent here): never a bare PASS.
    static = ("TALOS-01", "CNI-01", "EXP-01")
    assert cases == dict([(c, "pass") for c in live] + [(c, "static") for c in static] + [("TALOS-02", "not_applicable")]), cases
    report = (private_data_dir / "report" / "report.md").read_text()
    # The live identity evidence: the probe token without MFA got 401, the MFA one mapped as promised.
    assert '"without_mfa": 401' in report and '"with_mfa": 201' in report and '"username": "zitadel:310000000000000077"' in report
    html = (private_data_dir / "report" / "index.html").read_text()
    assert "<h2 id='exposure'>Layered exposure</h2>" in html and "<svg" in html
    for name in ("index.html", "report.md", "junit.xml", "report.sarif", "oscal-assessment-results.json", "report.json", "drift.md"):
        assert (private_data_dir / "report" / name).stat().st_size > 0
    # The machine-readable report carries the same verdicts and every control's evidence level.
    document = json.loads((private_data_dir / "report" / "report.json").read_text())
    assert dict((c["id"], c["status"]) for c in document["controls"]) == cases
    assert dict((c["id"], c["evidence_level"]) for c in document["controls"])["TALOS-02"] == "not_applicable"


def test_no_secret_reaches_job_output(site_job, private_data_dir):
    text = job_output_text(private_data_dir)
    assert len(text) > 10000, "no job events recorded"
    assert ZITADEL_TOKEN not in text
    key = (LAB_DIR / "pki" / "edge-ecdsa.key").read_text().strip().splitlines()[1]
    assert key not in text, "a private key line reached the job events"
    for probe in ("probe-without-mfa.jwt", "probe-with-mfa.jwt"):
        token = (LAB_DIR / "control-plane" / probe).read_text().strip()
        assert token.split(".")[2] not in text, "a probe token reached the job events"


def test_a_second_site_run_changes_nothing(site_job, private_data_dir):
    result, stdout = run_job(private_data_dir, "playbooks/site.yml")
    assert result.rc == 0, stdout[-6000:]
    # Every role is idempotent, and evidence of an unchanged environment is identical, so the
    # report (which keeps its timestamp when its content is equal) is not rewritten either.
    changed_tasks = set()
    for event in result.events:
        data = event.get("event_data", {})
        if event.get("event") in ("runner_on_ok", "runner_item_on_ok") and (data.get("res") or {}).get("changed"):
            changed_tasks.add((data.get("host"), data.get("task")))
    assert changed_tasks == set(), (changed_tasks, stdout[-4000:])


def test_verify_as_a_check_job_passes_without_changing_anything(site_job, private_data_dir):
    result, stdout = run_job(private_data_dir, "playbooks/verify.yml", check=True)
    assert result.rc == 0, stdout[-6000:]


def test_opening_6443_to_the_world_by_hand_makes_verify_fail_and_name_it(site_job, private_data_dir, neutron_cloud):
    conn = connect(neutron_cloud, app_name="e2e-operator")
    group = conn.network.find_security_group("lab-loadbalancer")
    rule = conn.network.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4",
                                                   protocol="tcp", port_range_min=6443, port_range_max=6443,
                                                   remote_ip_prefix="0.0.0.0/0")
    try:
        result, stdout = run_job(private_data_dir, "playbooks/verify.yml")
        assert result.rc != 0
        cases = junit_cases(private_data_dir)
        assert cases["PERIM-03"] == "fail" and cases["PERIM-01"] == "fail" and cases["EXP-01"] == "fail", cases
        assert [c for c, status in cases.items() if status == "fail"] == ["PERIM-01", "PERIM-03", "EXP-01"], cases
        report = (private_data_dir / "report" / "report.md").read_text()
        assert "opens kube-apiserver (tcp/6443) to 0.0.0.0/0" in report
        assert "lab-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)" in report
        # The layered proof names the layer: the security groups now admit it, HAProxy's allowlist still stops it.
        assert "internet -> loadbalancer kube-apiserver (tcp/6443): security_groups admits it, the port model does not" in report
        # The drift report names the new failures; SARIF locates the rule at the inventory line of the group's role.
        changes = json.loads((private_data_dir / "report" / "drift.json").read_text())["changes"]
        assert [(c["control"], c["kind"]) for c in changes] == [("EXP-01", "new_failure"), ("PERIM-01", "new_failure"),
                                                                ("PERIM-03", "new_failure")], changes
        sarif = json.loads((private_data_dir / "report" / "report.sarif").read_text())
        perim01 = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "PERIM-01"][0]["locations"][0]["physicalLocation"]
        inventory_file = private_data_dir / "inventory" / "group_vars" / "all" / "netsec.yml"
        assert perim01["artifactLocation"]["uri"] == "file://%s" % inventory_file
        assert inventory_file.read_text().splitlines()[perim01["region"]["startLine"] - 1].strip() == "loadbalancer:"
        # The perimeter stage repairs it (exclusive sync), and verify passes again.
        result, stdout = run_job(private_data_dir, "playbooks/security_groups.yml")
        assert result.rc == 0, stdout[-4000:]
        result, stdout = run_job(private_data_dir, "playbooks/verify.yml")
        assert result.rc == 0, stdout[-6000:]
    finally:
        if conn.network.find_security_group_rule(rule.id):
            conn.network.delete_security_group_rule(rule.id)


def test_an_allowlist_a_talos_rule_and_a_namespace_policy_broken_by_hand_fail_exactly_their_controls(
        site_job, private_data_dir, tmp_path):
    """The other three layers the layered proof reads, broken at once the way an operator could, and
    verify run as AWX runs it: exactly the controls that judge those layers fail, each naming what broke."""
    allow = "/etc/haproxy/lists/kube-apiserver.allow"
    allow_before = _podman("ssn-lb1", "cat", allow)
    talos_file = LAB_DIR / "rendered" / "talos" / "lab-cp1.yaml"
    talos_before = talos_file.read_text()
    docs = list(yaml.safe_load_all(talos_before))
    etcd = [d for d in docs if d and d.get("kind") == "NetworkRuleConfig" and d.get("name") == "etcd"][0]
    etcd["ingress"].append({"subnet": "0.0.0.0/0"})
    kube = KubeLab(json.loads((LAB_DIR / "kube-site" / "kube.json").read_text()), tmp_path)
    policies = "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies"
    allow_all = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "operator-allow-all", "namespace": "shop"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}}
    try:
        # lb1's kube-apiserver allowlist opened to the world and reloaded (live on lb1 now).
        _podman("ssn-lb1", "tee", allow, data=allow_before + "0.0.0.0/0\n")
        _podman("ssn-lb1", "systemctl", "reload", "haproxy")
        talos_file.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        resp = kube.request("POST", policies, identity=kube.admin, json=allow_all)
        assert resp.status_code == 201, resp.text[:300]
        result, stdout = run_job(private_data_dir, "playbooks/verify.yml")
        assert result.rc != 0
        cases = junit_cases(private_data_dir)
        # WL-01 (the namespace's paths) and WL-03: a policy admitting every source on every port admits the
        # Internet to any sensitive port a shop pod listens on.
        assert sorted(c for c, status in cases.items() if status == "fail") == ["EDGE-05", "EXP-01", "TALOS-01", "WL-01", "WL-03"], cases
        report = (private_data_dir / "report" / "report.md").read_text()
        # Each names what broke: the client now reaches the API through lb1, the Talos etcd rule, the
        # namespace the policy opens, and the layered proof names each layer and the LB that differs.
        assert "a client reached the API (HTTP " in report
        assert "only on lb1: ['0.0.0.0/0']" in report
        assert "talos admits it, the port model does not" in report and "(namespace_policies)" in report
        changes = json.loads((private_data_dir / "report" / "drift.json").read_text())["changes"]
        assert sorted(c["control"] for c in changes if c["kind"] == "new_failure") == ["EDGE-05", "EXP-01", "TALOS-01", "WL-01",
                                                                                       "WL-03"], changes
    finally:
        kube.request("DELETE", policies + "/operator-allow-all", identity=kube.admin)
        talos_file.write_text(talos_before)
        _podman("ssn-lb1", "tee", allow, data=allow_before)
        _podman("ssn-lb1", "systemctl", "reload", "haproxy")
    result, stdout = run_job(private_data_dir, "playbooks/verify.yml")
    assert result.rc == 0, stdout[-6000:]


def test_the_lab_client_reaches_the_service_address_through_the_router(site_job):
    proc = subprocess.run(["ip", "netns", "exec", "ssn-client2", "curl", "-sS", "--max-time", "10", "--cacert",
                           str(LAB_DIR / "pki" / "ca.pem"), "--resolve", "shop.apps.lab.netsec.test:443:198.18.0.10",
                           "https://shop.apps.lab.netsec.test/hello"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["node"] == "node2-ingress"
