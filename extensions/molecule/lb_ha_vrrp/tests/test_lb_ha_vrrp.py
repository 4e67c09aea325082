"""Verify of scenario lb_ha_vrrp: exactly one container holds the VIP, clients are served through
the router, and a stopped haproxy moves the VIP to the other node (nopreempt: it stays there).

Addresses come from tests/lab/topology.yml (through tests/lab/netns/topology.py), never typed here.
"""
import importlib.util
import os
import pathlib
import subprocess
import time

REPO = pathlib.Path(os.environ.get("REPO") or pathlib.Path(__file__).resolve().parents[4])
_spec = importlib.util.spec_from_file_location("lab_topology", REPO / "tests" / "lab" / "netns" / "topology.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
TOPOLOGY = _module.load()
LBS = sorted(TOPOLOGY.bgp["peers"])
VIP = TOPOLOGY.data["vrrp"]["vip"]

testinfra_hosts = [f"podman://{name}" for name in LBS]


def holders():
    out = {}
    for name in LBS:
        text = subprocess.run(["ip", "-n", TOPOLOGY.hosts[name].netns, "-o", "addr", "show"], capture_output=True,
                              text=True, check=True).stdout
        out[name] = f" {VIP} " in text
    return sorted(n for n, held in out.items() if held)


def wait_holders(expected, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holders() == expected:
            return True
        time.sleep(0.05)
    return False


def test_units_run_and_the_config_is_private(host):
    for unit in ("haproxy", "keepalived", "lb-ha-health"):
        assert host.service(unit).is_running, unit
        assert host.service(unit).is_enabled, unit
    assert host.file("/etc/keepalived/keepalived.conf").mode == 0o600


def wait_single_holder(timeout):
    """The one node holding the VIP, or None. With nopreempt the start order decides which node wins the first
    election (a converge restarts keepalived on both in parallel), so the tests follow the holder, not a name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = holders()
        if len(held) == 1:
            return held[0]
        time.sleep(0.05)
    return None


def test_exactly_one_holder_and_clients_are_served_through_the_router():
    assert wait_single_holder(timeout=10), holders()
    time.sleep(1)
    assert len(holders()) == 1, holders()  # and it stays single (no split brain after the election settles)
    code = subprocess.run(["ip", "netns", "exec", TOPOLOGY.hosts["client1"].netns, "curl", "-s", "-o", "/dev/null",
                           "-w", "%{http_code}", "--max-time", "3", f"http://{VIP.split('/')[0]}/"],
                          capture_output=True, text=True, check=False).stdout
    assert code == "301"


def test_stopped_haproxy_moves_the_vip_and_the_return_does_not_take_it_back():
    holder = wait_single_holder(timeout=10)
    assert holder, holders()
    other = next(name for name in LBS if name != holder)
    subprocess.run(["podman", "exec", holder, "systemctl", "stop", "haproxy"], check=True)
    try:
        assert wait_holders([other], timeout=3), holders()
    finally:
        subprocess.run(["podman", "exec", holder, "systemctl", "start", "haproxy"], check=True)
    time.sleep(3)
    assert holders() == [other]
    log = subprocess.run(["podman", "exec", other, "cat", "/var/log/lb_ha_vrrp.log"], capture_output=True, text=True,
                         check=True).stdout
    assert log.strip().splitlines()[-1].endswith(f"lb_ha -> MASTER (priority {150 if other == LBS[0] else 100})"), log
