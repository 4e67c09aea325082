"""Verify of scenario lb_ha_bgp: both containers announce the anycast address to the lab router,
clients are served through it, and a stopped haproxy withdraws its node's route.

Addresses come from tests/lab/topology.yml (through tests/lab/netns/topology.py), never typed here.
"""
import importlib.util
import os
import pathlib
import subprocess
import time

import pytest

REPO = pathlib.Path(os.environ.get("REPO") or pathlib.Path(__file__).resolve().parents[4])
_spec = importlib.util.spec_from_file_location("lab_topology", REPO / "tests" / "lab" / "netns" / "topology.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
TOPOLOGY = _module.load()
LBS = sorted(TOPOLOGY.bgp["peers"])
ANYCAST = {family: TOPOLOGY.data["anycast"][family] for family in ("ipv4", "ipv6")}

testinfra_hosts = [f"podman://{name}" for name in LBS]


def router_paths(prefix):
    family = "-6" if ":" in prefix else "-4"
    out = subprocess.run(["ip", "-n", TOPOLOGY.router_netns, family, "route", "show", prefix], capture_output=True,
                         text=True, check=True).stdout
    addresses = {str(TOPOLOGY.hosts[n].ipv4): n for n in LBS} | {str(TOPOLOGY.hosts[n].ipv6): n for n in LBS}
    return sorted({addresses[t] for t in out.split() if t in addresses})


def wait_paths(prefix, expected, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if router_paths(prefix) == expected:
            return True
        time.sleep(0.05)
    return False


def test_units_run_and_bird_has_the_session_up(host):
    for unit in ("haproxy", "bird", "lb-ha-health", "lb-ha-addresses"):
        assert host.service(unit).is_running or unit == "lb-ha-addresses", unit
        assert host.service(unit).is_enabled, unit
    protocols = host.check_output("birdc show protocols lb_ha_peer")
    assert "Established" in protocols, protocols
    assert host.file("/etc/bird/bird.conf").mode == 0o640


def test_anycast_addresses_are_on_lo_and_the_health_frontend_answers(host):
    addresses = host.check_output("ip -o addr show dev lo")
    for cidr in ANYCAST.values():
        assert f" {cidr} " in addresses, addresses
    assert host.check_output("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8405/healthz") == "200"


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_router_has_an_ecmp_route_over_both_lbs_and_clients_are_served(family):
    assert wait_paths(ANYCAST[family], LBS, timeout=20), router_paths(ANYCAST[family])
    address = ANYCAST[family].split("/")[0]
    url = f"http://[{address}]/" if family == "ipv6" else f"http://{address}/"
    code = subprocess.run(["ip", "netns", "exec", TOPOLOGY.hosts["client1"].netns, "curl", "-s", "-o", "/dev/null",
                           "-w", "%{http_code}", "--max-time", "3", url], capture_output=True, text=True, check=False).stdout
    assert code == "301"


def test_stopped_haproxy_withdraws_the_route_and_its_return_restores_it():
    container = LBS[0]
    prefix = ANYCAST["ipv4"]
    subprocess.run(["podman", "exec", container, "systemctl", "stop", "haproxy"], check=True)
    try:
        assert wait_paths(prefix, LBS[1:], timeout=3), router_paths(prefix)
    finally:
        subprocess.run(["podman", "exec", container, "systemctl", "start", "haproxy"], check=True)
    assert wait_paths(prefix, LBS, timeout=15), router_paths(prefix)
