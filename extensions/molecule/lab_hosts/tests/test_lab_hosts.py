"""Verify of scenario lab_hosts: the converged echo service answers across the lab.

Addresses come from tests/lab/topology.yml (through tests/lab/netns/topology.py), never typed here.
"""
import importlib.util
import os
import pathlib

import pytest

REPO = pathlib.Path(os.environ.get("REPO") or pathlib.Path(__file__).resolve().parents[4])
_spec = importlib.util.spec_from_file_location("lab_topology", REPO / "tests" / "lab" / "netns" / "topology.py")
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)
TOPOLOGY = _module.load()
LBS = sorted(TOPOLOGY.bgp["peers"])
ECHO_PORT = 7000

# Platform names (../../config.yml) are the container names.
testinfra_hosts = [f"podman://{name}" for name in LBS]


def test_echo_service_is_enabled_and_running(host):
    service = host.service("ssn-lab-echo")
    assert service.is_enabled
    assert service.is_running
    assert host.socket(f"tcp://{ECHO_PORT}").is_listening


def peers_of(name):
    return [TOPOLOGY.hosts[other] for other in LBS if other != name]


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_lb_reaches_the_other_lb_over_the_edge_segment(host, family):
    me = host.check_output("hostname")
    for peer in peers_of(me):
        address = getattr(peer, family)
        target = f"[{address}]" if family == "ipv6" else str(address)
        reply = host.check_output(f"socat -T 3 - TCP:{target}:{ECHO_PORT} </dev/null")
        assert reply == peer.name, f"{me} -> {address}: {reply!r}"


def test_lb_reaches_the_router_and_its_bgp_peer_address(host):
    for address in TOPOLOGY.router_addresses("ipv4") + TOPOLOGY.router_addresses("ipv6") + [TOPOLOGY.peer_address.ip]:
        assert host.run(f"ping -n -q -c1 -W2 {address}").rc == 0, address
