"""playbooks/maintenance.yml on the role's pair in the private edge- namespaces: each LB in turn is
withdrawn (bgp: its routes gone from the lab router, asked through the router's BIRD; vrrp: the peer
answers ARP for the VIP), drained, its haproxy restarted (the maintenance), verified and
re-announced. A probe opens a new connection every 10 ms from edge-client1 through the router for
the whole run: no new connection may fail (or take a SYN retransmit, > 0.5 s)."""
import pytest

from fixtures.haproxy import wait_for
from fixtures.lb_ha import Prober, gaps, router_paths
from fixtures.ops_edge import maintenance_inventory, run_maintenance, stop_restarted

pytestmark = pytest.mark.lab

BOTH = ["lb1", "lb2"]


def _failed(samples):
    return [s for s in samples if not s[1]]


def test_rolling_maintenance_in_bgp_mode_fails_no_new_connection(edge_pair_factory, edge_lab, tmp_path):
    pair = edge_pair_factory("bgp")
    anycast4 = pair.service[0]
    wait_for(lambda: router_paths(edge_lab, anycast4) == BOTH, timeout=40, what="both LBs announce to the router")
    inventory = maintenance_inventory(pair, tmp_path)
    probe = Prober(edge_lab, "edge-client1", anycast4, duration=300, root=tmp_path)
    try:
        proc = run_maintenance(inventory)
    finally:
        samples = probe.stop()
    try:
        print("bgp rolling maintenance:", len(samples), "probes,", len(_failed(samples)), "failed, gaps:", gaps(samples))
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        # Both LBs went through it, one after the other (serial: 1).
        assert proc.stdout.count("Restart haproxy (lab stand-in") == 2, proc.stdout[-4000:]
        assert router_paths(edge_lab, anycast4) == BOTH
        assert _failed(samples) == [], gaps(samples)
    finally:
        stop_restarted(pair)


def test_rolling_maintenance_in_vrrp_mode_hands_the_vip_over_without_a_failed_new_connection(edge_pair_factory, edge_lab, tmp_path):
    pair = edge_pair_factory("vrrp")
    vip = pair.service[0]
    wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="one LB holds the VIP")
    first = pair.holders()[0]
    inventory = maintenance_inventory(pair, tmp_path)
    probe = Prober(edge_lab, "edge-client1", vip, duration=300, root=tmp_path)
    try:
        proc = run_maintenance(inventory)
    finally:
        samples = probe.stop()
    try:
        print("vrrp rolling maintenance:", len(samples), "probes,", len(_failed(samples)), "failed, gaps:", gaps(samples),
              "first holder", first, "now", pair.holders())
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        assert len(pair.holders()) == 1
        # The VIP really moved: each LB was MASTER while the other was in maintenance.
        other = "lb2" if first == "lb1" else "lb1"
        log = (pair.nodes[other].base / "vrrp-transitions.log").read_text()
        assert "-> FAULT" in log and "-> MASTER" in log, log
        assert _failed(samples) == [], gaps(samples)
    finally:
        stop_restarted(pair)
