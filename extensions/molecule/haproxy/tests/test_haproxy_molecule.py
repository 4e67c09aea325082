"""Verify of scenario haproxy: the role's edge on a real systemd host (lb1 in ssn-lb1).

Addresses come from tests/lab/topology.yml, never typed here.
"""
import importlib.util
import os
import pathlib
import subprocess

REPO = pathlib.Path(os.environ.get("REPO") or pathlib.Path(__file__).resolve().parents[4])
_spec = importlib.util.spec_from_file_location("lab_topology", REPO / "tests" / "lab" / "netns" / "topology.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
TOPOLOGY = _module.load()
LB = TOPOLOGY.hosts["lb1"]

testinfra_hosts = ["podman://lb1"]


def test_haproxy_runs_master_worker_under_systemd(host):
    service = host.service("haproxy")
    assert service.is_enabled and service.is_running
    exec_start = host.check_output("systemctl show haproxy -p ExecStart --value")
    assert " -Ws " in exec_start
    assert host.check_output("systemctl show haproxy -p Type --value") == "notify"


def test_live_config_is_valid_and_files_are_private(host):
    assert host.run("haproxy -c -f /etc/haproxy/haproxy.cfg").rc == 0
    certs = host.file("/etc/haproxy/certs")
    assert certs.mode == 0o700 and certs.user == "root"
    for name in ("lab.ecdsa.pem", "lab.rsa.pem"):
        pem = host.file(f"/etc/haproxy/certs/{name}")
        assert pem.mode == 0o600 and pem.user == "root", name
    sock = host.file("/run/haproxy/admin.sock")
    assert sock.is_socket and sock.user == "root" and sock.mode == 0o600


def test_frontends_listen_on_the_service_and_management_address(host):
    for port in (80, 443, 6443, 50000, 8404):
        assert host.socket(f"tcp://{LB.ipv4}:{port}").is_listening, port


def test_deny_list_change_by_the_role_went_live_without_a_reload(host):
    # side_effect.yml recorded the workers, then re-ran the role with one more deny entry.
    live = host.check_output("echo 'show acl /etc/haproxy/lists/deny.lst' | socat - UNIX-CONNECT:/run/haproxy/admin.sock")
    assert "198.51.100.7/32" in live and "203.0.113.0/24" in live
    before = host.check_output("cat /root/haproxy-workers.before")
    now = host.check_output('pgrep -P "$(systemctl show haproxy -p MainPID --value)" haproxy | sort')
    assert before and now == before


def test_systemctl_reload_replaces_the_worker_but_not_the_master(host):
    master = host.check_output("systemctl show haproxy -p MainPID --value")
    workers = host.check_output("pgrep -P %s -d ' ' haproxy" % master)
    host.check_output("systemctl reload haproxy")
    host.run("sleep 2")
    assert host.check_output("systemctl show haproxy -p MainPID --value") == master
    assert host.check_output("pgrep -P %s -d ' ' haproxy" % master) != workers


def _from(netns, *argv):
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=20, check=False)


def test_metrics_only_for_the_jump_host():
    url = f"http://{LB.ipv4}:8404/metrics"
    assert "haproxy_process_" in _from(TOPOLOGY.hosts["jump"].netns, "curl", "-sS", "--max-time", "5", url).stdout
    assert _from(TOPOLOGY.hosts["client1"].netns, "curl", "-sS", "--max-time", "5", url).returncode != 0


def test_http_redirects_and_denied_cidr_list_is_loaded(host):
    proc = _from(TOPOLOGY.hosts["client1"].netns, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                 "-H", "Host: app.lab.test", f"http://{LB.ipv4}/")
    assert proc.stdout == "301"
    assert "203.0.113.0/24" in host.check_output(
        "echo 'show acl /etc/haproxy/lists/deny.lst' | socat - UNIX-CONNECT:/run/haproxy/admin.sock")
