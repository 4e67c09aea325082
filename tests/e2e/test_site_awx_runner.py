# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The main job end to end, run the way AWX runs it, against the lab's real components.

ansible-runner with a private data dir (project/, inventory/, env/envvars, env/extravars),
credentials injected the way AWX's credential types inject them (the OpenStack credential's
clouds.yaml with its `devstack` cloud, Zitadel's token as an environment variable), the site
job, a check job of verify, and a control broken by hand that verify must name.
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

from fixtures.lab import REPO, SHARED, lab_up
from fixtures.openstack import connect

pytestmark = [pytest.mark.lab, pytest.mark.slow]

# A stand-in secret of the shape a Zitadel PAT has: it must never show up in any job output.
ZITADEL_TOKEN = "pat-e2e-9c1f0b7d52e84a6f8d2b3c4d5e6f7a8b"


@pytest.fixture(scope="module")
def lab():
    for component in ("netns", "neutron", "hosts", "backends"):
        lab_up(component)
    with open(REPO / ".lab" / "clouds.yaml") as handle:
        return yaml.safe_load(handle)["clouds"]["lab"]


@pytest.fixture(scope="module")
def private_data_dir(tmp_path_factory, lab):
    """What AWX lays out for a job: project checkout, inventory, injected credentials."""
    pdd = tmp_path_factory.mktemp("awx-job")
    shutil.copytree(REPO, pdd / "project", symlinks=True,
                    ignore=shutil.ignore_patterns(".git", ".venv", ".lab", ".build", "reports", "tests", "bench"))
    shutil.copytree(REPO / "inventories" / "lab", pdd / "inventory")
    # The lab's PKI and rendered files live beside the project as in the work tree.
    os.symlink(REPO / ".lab", pdd / "project" / ".lab")
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
    root = ET.parse(str(pdd / "report" / "junit.xml")).getroot()
    out = {}
    for case in root.iter("testcase"):
        status = "fail" if case.find("failure") is not None else "not_applicable" if case.find("skipped") is not None else "pass"
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
    assert cases and all(status in ("pass", "not_applicable") for status in cases.values()), cases
    # Every layer of the baseline is evidenced, not only the ones that happen to run here.
    for control in ("PERIM-01", "PERIM-02", "PERIM-03", "EDGE-01", "EDGE-02", "EDGE-03", "EDGE-04", "EDGE-05",
                    "TALOS-01", "CNI-01", "ID-01", "ID-02", "WL-01", "WL-02", "WL-03"):
        assert cases.get(control) == "pass", (control, cases)
    for name in ("index.html", "report.md", "junit.xml"):
        assert (private_data_dir / "report" / name).stat().st_size > 0


def test_no_secret_reaches_job_output(site_job, private_data_dir):
    text = job_output_text(private_data_dir)
    assert len(text) > 10000, "no job events recorded"
    assert ZITADEL_TOKEN not in text
    key = (REPO / ".lab" / "pki" / "edge-ecdsa.key").read_text().strip().splitlines()[1]
    assert key not in text, "a private key line reached the job events"


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
        assert cases["PERIM-03"] == "fail" and cases["PERIM-01"] == "fail", cases
        report = (private_data_dir / "report" / "report.md").read_text()
        assert "opens kube-apiserver (tcp/6443) to 0.0.0.0/0" in report
        assert "lab-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)" in report
        # The perimeter stage repairs it (exclusive sync), and verify passes again.
        result, stdout = run_job(private_data_dir, "playbooks/security_groups.yml")
        assert result.rc == 0, stdout[-4000:]
        result, stdout = run_job(private_data_dir, "playbooks/verify.yml")
        assert result.rc == 0, stdout[-6000:]
    finally:
        if conn.network.find_security_group_rule(rule.id):
            conn.network.delete_security_group_rule(rule.id)


def test_the_lab_client_reaches_the_service_address_through_the_router(site_job):
    proc = subprocess.run(["ip", "netns", "exec", "ssn-client2", "curl", "-sS", "--max-time", "10", "--cacert",
                           str(REPO / ".lab" / "pki" / "ca.pem"), "--resolve", "shop.apps.lab.netsec.test:443:198.18.0.10",
                           "https://shop.apps.lab.netsec.test/hello"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["node"] == "node2-ingress"
