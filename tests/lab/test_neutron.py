"""The lab's Neutron (tests/lab/neutron.sh) is a real Neutron API with a real cloud's semantics."""
import json
import os
import pathlib
import socket
import subprocess
import urllib.request
import uuid

import pytest
import yaml
from openstack import exceptions

from fixtures.lab import REPO
from fixtures.openstack import LAB_DIR, connect, count_requests

pytestmark = pytest.mark.lab

DEFAULT_EGRESS = {("egress", "IPv4"), ("egress", "IPv6")}
# Our User-Agent: request counts pick out this client's calls in a shared lab.
AGENT = f"lab-test-neutron-{os.getpid()}"


@pytest.fixture(scope="module")
def conn(neutron_cloud):
    return connect(neutron_cloud, app_name=AGENT)


@pytest.fixture
def group(conn):
    sg = conn.network.create_security_group(name=f"lab-test-{uuid.uuid4().hex[:8]}")
    yield sg
    conn.network.delete_security_group(sg, ignore_missing=True)


def rule(group, port, cidr="10.0.0.0/8"):
    return {"security_group_id": group.id, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": port, "port_range_max": port, "remote_ip_prefix": cidr}


def rules_of(conn, group):
    return list(conn.network.security_group_rules(security_group_id=group.id))


def test_neutron_serves_its_v2_api_on_the_lab_endpoint(neutron_cloud):
    with urllib.request.urlopen(neutron_cloud["endpoint"], timeout=10) as resp:
        versions = json.load(resp)["versions"]
    assert {"id": "v2.0", "status": "CURRENT"}.items() <= versions[0].items()


def test_new_security_group_comes_up_with_only_the_default_egress_rules(conn, group):
    rules = rules_of(conn, group)
    assert {(r.direction, r.ether_type) for r in rules} == DEFAULT_EGRESS
    assert len(rules) == 2
    assert all(r.protocol is None and r.remote_ip_prefix is None and r.port_range_min is None for r in rules)


def test_duplicate_rule_is_refused_with_409_conflict(conn, group):
    conn.network.create_security_group_rule(**rule(group, 22))
    with pytest.raises(exceptions.ConflictException) as err:
        conn.network.create_security_group_rule(**rule(group, 22))
    assert err.value.status_code == 409
    assert len(rules_of(conn, group)) == 3


def test_bulk_rule_post_with_one_duplicate_creates_nothing(conn, group, neutron_cloud):
    conn.network.create_security_group_rule(**rule(group, 22))
    before = {r.id for r in rules_of(conn, group)}
    with count_requests(neutron_cloud["access_log"], agent=AGENT) as counts:
        with pytest.raises(exceptions.ConflictException):
            conn.network.create_security_group_rules([rule(group, 80), rule(group, 443), rule(group, 22)])
    assert counts["POST"] == 1, "the whole batch must go in one request"
    assert counts.paths("POST") == ["/v2.0/security-group-rules"]
    assert {r.id for r in rules_of(conn, group)} == before


def test_bulk_rule_post_creates_all_rules_in_one_request(conn, group, neutron_cloud):
    with count_requests(neutron_cloud["access_log"], agent=AGENT) as counts:
        created = conn.network.create_security_group_rules([rule(group, p) for p in (80, 443, 8443)])
    assert counts == {"POST": 1}
    assert sorted(r.port_range_min for r in created) == [80, 443, 8443]
    assert len(rules_of(conn, group)) == 5


def test_duplicate_check_compares_cidrs_as_written_not_normalised(conn, group):
    # A real Neutron keeps 10.1.2.3/8 and 10.0.0.0/8 as two rules: callers must normalise.
    conn.network.create_security_group_rule(**rule(group, 22, "10.0.0.0/8"))
    conn.network.create_security_group_rule(**rule(group, 22, "10.1.2.3/8"))
    prefixes = sorted(r.remote_ip_prefix for r in rules_of(conn, group) if r.direction == "ingress")
    assert prefixes == ["10.0.0.0/8", "10.1.2.3/8"]


def test_security_group_quotas_are_unlimited_for_benchmarks(conn, group):
    quota = conn.network.get_quota(group.project_id)
    assert (quota.security_groups, quota.security_group_rules) == (-1, -1)


def test_count_requests_counts_each_api_call_of_its_client_once_by_method(conn, neutron_cloud):
    with count_requests(neutron_cloud["access_log"], agent=AGENT) as counts:
        sg = conn.network.create_security_group(name=f"lab-test-{uuid.uuid4().hex[:8]}")
        conn.network.get_security_group(sg.id)
        # another client (its own User-Agent) in the same window is not counted
        urllib.request.urlopen(neutron_cloud["endpoint"] + "v2.0/security-groups", timeout=30).close()
        conn.network.delete_security_group(sg)
    assert counts == {"POST": 1, "GET": 1, "DELETE": 1}
    assert counts.paths("GET") == [f"/v2.0/security-groups/{sg.id}"]
    assert all(AGENT in r.agent and r.milliseconds is not None for r in counts.requests)


def test_up_is_idempotent_and_status_reports_healthy(neutron_cloud):
    script = str(REPO / "tests" / "lab" / "neutron.sh")
    up = subprocess.run([script, "up"], capture_output=True, text=True, timeout=120, check=False)
    assert up.returncode == 0, up.stderr
    assert "already" in up.stdout
    assert subprocess.run([script, "status"], capture_output=True, timeout=60, check=False).returncode == 0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_down_stops_every_process_it_started_and_removes_its_state(neutron_cloud, tmp_path):
    # A private copy (own LAB_DIR and port, the shared venvs) so the shared lab stays up.
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    (lab_dir / "venvs").symlink_to(LAB_DIR / "venvs")
    port = _free_port()
    env = dict(os.environ, LAB_DIR=str(lab_dir), LAB_NEUTRON_PORT=str(port))
    script = str(REPO / "tests" / "lab" / "neutron.sh")
    up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=600, check=False)
    assert up.returncode == 0, up.stderr
    master = int((lab_dir / "neutron" / "gunicorn.pid").read_text())
    workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True,
                                              check=False).stdout.split()]
    assert workers and _listening(port)
    assert "lab" in yaml.safe_load((lab_dir / "clouds.yaml").read_text())["clouds"]

    down = subprocess.run([script, "down"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 0, down.stderr
    assert not [pid for pid in [master, *workers] if pathlib.Path(f"/proc/{pid}").exists()]
    assert not _listening(port)
    assert not (lab_dir / "neutron").exists()
    assert not (lab_dir / "clouds.yaml").exists()
    status = subprocess.run([script, "status"], env=env, capture_output=True, timeout=60, check=False)
    assert status.returncode == 1
