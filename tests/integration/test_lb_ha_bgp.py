"""lb_ha in bgp mode on the lab: the role's rendered BIRD, health loop and haproxy on ssn-lb1/2,
announcing the anycast address to the router's real BIRD (the platform peer); clients on the
outside segment reach it through the router.

Timing bounds are generous (CI is noisy); bench/lb_ha_failover.py measures the figures.
"""
import time

import pytest

from fixtures.haproxy import wait_for
from fixtures.lb_ha import Prober, gaps, pair_vars, render_pair, router_paths
from ansible_collections.safespring.netsec.plugins.module_utils.port_model import SERVICES

pytestmark = pytest.mark.lab

BOTH = ["lb1", "lb2"]


def wait_paths(lab, prefix, expected, timeout=30):
    wait_for(lambda: router_paths(lab, prefix) == expected, timeout=timeout, interval=0.05,
             what=f"router paths for {prefix} == {expected} (now {router_paths(lab, prefix)})")


def failures(samples, after):
    return [s for s in samples if s[0] >= after and not s[1]][:20]


def watch_paths(lab, prefix, expected, timeout):
    """Wait for the router's paths to become `expected`; (last poll before, first poll after) the change."""
    before = time.monotonic()
    deadline = before + timeout
    while True:
        now = time.monotonic()
        if router_paths(lab, prefix) == expected:
            return before, now
        assert now < deadline, f"router paths for {prefix} != {expected} after {timeout}s (now {router_paths(lab, prefix)})"
        before = now
        time.sleep(0.01)


def failures_beyond_rehash(samples, probe, after, change):
    """Failed probes after `after`, less the resets of connections in flight when the path set changed.

    Adding a path rehashes the router's ECMP buckets: a connection whose handshake was under way
    through one LB when its hash moved to the other is reset by that LB (it has no socket for it).
    That is a property of stateless ECMP, bounded to the connections open at that instant; a
    blackhole (traffic sent to an LB that cannot serve yet) shows as timeouts, refusals or resets
    outside that instant, and those are returned.
    """
    before, seen = (t - probe.t0 for t in change)
    return [s for s in failures(samples, after)
            if not (s[2] == "ECONNRESET" and before - 0.5 <= s[0] <= seen)]


def health_transitions(node):
    return [line for line in (node.base / "health.log").read_text().splitlines() if "haproxy " in line]


@pytest.fixture(scope="module")
def anycast(lab_netns):
    data = lab_netns.topology.data["anycast"]
    return {"ipv4": data["ipv4"], "ipv6": data["ipv6"], "v4": data["ipv4"].split("/")[0], "v6": data["ipv6"].split("/")[0]}


@pytest.fixture(scope="module")
def ecmp_pair(lb_ha_pair_factory, lab_netns, anycast):
    pair = lb_ha_pair_factory("bgp")
    wait_paths(lab_netns, anycast["ipv4"], BOTH)
    wait_paths(lab_netns, anycast["ipv6"], BOTH)
    return pair


def test_both_lbs_announce_v4_and_v6_and_clients_are_served_through_the_router(ecmp_pair, lab_netns, anycast):
    for family in ("v4", "v6"):
        for client in ("ssn-client1", "ssn-client2"):
            out = lab_netns.run(client, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3",
                                f"http://{'[%s]' % anycast[family] if family == 'v6' else anycast[family]}/")
            assert out.stdout == "301", (family, client, out.stdout)
    # The session runs on the port model's BGP port (BIRD's default, never typed in the config).
    port = SERVICES["bgp"].port_min
    sessions = lab_netns.run("ssn-lb1", "ss", "-Htn", "state", "established",
                             f"( dport = :{port} or sport = :{port} )").stdout
    peer = str(lab_netns.topology.peer_address.ip)
    # Columns: Recv-Q Send-Q local peer. Either side may have opened the session, so the BGP
    # port is the local or the peer port; the peer address is the router's either way.
    endpoints = [[end.rsplit(":", 1) for end in line.split()[-2:]] for line in sessions.splitlines() if line.strip()]
    assert any(remote[0].strip("[]") == peer and str(port) in (local[1], remote[1]) for local, remote in endpoints), sessions
    # Multihop BFD with the router comes up (the session goes down with it on link loss).
    for node in ecmp_pair.nodes.values():
        wait_for(lambda n=node: " Up " in n.birdc("show", "bfd", "sessions"), timeout=15, what=f"{node.name} BFD Up")


def test_only_the_assigned_host_routes_are_exported(ecmp_pair, anycast):
    exported = ecmp_pair.nodes["lb1"].birdc("show", "route", "export", "lb_ha_peer")
    prefixes = sorted(line.split()[0] for line in exported.splitlines() if line[:1].isalnum() and "/" in line.split()[0])
    assert prefixes == sorted([anycast["ipv4"], anycast["ipv6"]]), exported


def test_haproxy_death_withdraws_the_route_within_a_second_and_the_other_lb_serves(
        ecmp_pair, lab_netns, anycast, tmp_path):
    lb1 = ecmp_pair.nodes["lb1"]
    probe = Prober(lab_netns, "ssn-client1", anycast["v4"], duration=20, root=tmp_path)
    time.sleep(1.0)
    killed_at = probe.now()
    lb1.kill_haproxy()
    wait_paths(lab_netns, anycast["ipv4"], ["lb2"], timeout=1.0)
    wait_paths(lab_netns, anycast["ipv6"], ["lb2"], timeout=1.0)
    # `birdc configure` resets the disabled protocols to the config (enabled): the health loop
    # disables them again on its next tick, so the dead node stays withdrawn.
    assert "Reconfigured" in lb1.birdc("configure")
    time.sleep(1.0)
    assert router_paths(lab_netns, anycast["ipv4"]) == ["lb2"]
    assert "lb_ha_vip4" in lb1.birdc("show", "protocols", "lb_ha_vip4") and \
        " down " in lb1.birdc("show", "protocols", "lb_ha_vip4")
    # Back: announced again only after the rise hysteresis (20 x 100 ms), once.
    lb1.start_haproxy()
    restarted_at = probe.now()
    change = watch_paths(lab_netns, anycast["ipv4"], BOTH, timeout=10)
    returned_after = probe.now() - restarted_at
    time.sleep(2.0)
    samples = probe.stop()
    windows = gaps(samples, after=killed_at - 0.05)
    assert windows, "killing haproxy on lb1 caused no failure at all: were its clients really hashed to it?"
    assert windows[0][1] < 1.0, windows
    lost = failures_beyond_rehash(samples, probe, restarted_at, change)
    assert not lost, ("lb1's return caused failed requests", lost)
    assert len(failures(samples, restarted_at)) <= 2, failures(samples, restarted_at)
    assert returned_after >= 1.5, f"route back after {returned_after:.2f}s: the rise hysteresis did not hold"
    assert router_paths(lab_netns, anycast["ipv4"]) == BOTH
    transitions = health_transitions(lb1)
    assert [t.split("haproxy ")[1] for t in transitions][-3:] == [
        "answers: service address announced", "does not answer: service address withdrawn",
        "answers: service address announced"], transitions


def test_bird_reload_and_haproxy_reload_fail_no_request(ecmp_pair, lab_netns, anycast, tmp_path):
    probe = Prober(lab_netns, "ssn-client2", anycast["v4"], duration=8, root=tmp_path)
    time.sleep(0.5)
    for node in ecmp_pair.nodes.values():
        assert "Reconfigured" in node.birdc("configure")
    time.sleep(1.0)
    for node in ecmp_pair.nodes.values():
        node.lab.run(node.netns, "kill", "-USR2", str(node.daemons["haproxy"].proc.pid))
    time.sleep(1.5)
    samples = probe.stop()
    assert len(samples) > 100
    assert not gaps(samples), gaps(samples)
    assert router_paths(lab_netns, anycast["ipv4"]) == BOTH


def test_link_down_is_detected_by_bfd_and_the_return_is_no_blackhole(ecmp_pair, lab_netns, anycast, tmp_path):
    lb1 = ecmp_pair.nodes["lb1"]
    probe = Prober(lab_netns, "ssn-client1", anycast["v4"], duration=30, root=tmp_path)
    time.sleep(1.0)
    down_at = probe.now()
    lb1.link("down")
    wait_paths(lab_netns, anycast["ipv4"], ["lb2"], timeout=2.0)
    time.sleep(1.0)
    up_at = probe.now()
    lb1.link("up")
    change = watch_paths(lab_netns, anycast["ipv4"], BOTH, timeout=20)
    time.sleep(2.0)
    samples = probe.stop()
    windows = gaps(samples, after=down_at - 0.05)
    assert windows and windows[0][1] < 1.5, windows
    lost = failures_beyond_rehash(samples, probe, up_at, change)
    assert not lost, ("lb1's return lost requests (blackhole)", lost)
    # At most the connections open at that instant (one probe every 10 ms, each a few ms long).
    assert len(failures(samples, up_at)) <= 2, failures(samples, up_at)


def test_active_standby_prefers_the_primary_and_fails_over_to_the_standby(ecmp_pair, lab_netns, anycast, tmp_path):
    pair = ecmp_pair
    pair.rerender_routing(tmp_path / "standby", lb_ha_bgp_topology="active_standby")
    wait_paths(lab_netns, anycast["ipv4"], ["lb1"])
    wait_paths(lab_netns, anycast["ipv6"], ["lb1"])
    # The standby's path, prepended once, is there but not best (it is not merged into ECMP).
    standby_path = f"BGP.as_path: {lab_netns.topology.bgp['lb_asn']} {lab_netns.topology.bgp['lb_asn']}"
    wait_for(lambda: standby_path in lab_netns.birdc("show", "route", "all", anycast["ipv4"]), timeout=20,
             what="the standby's prepended path at the router")
    assert router_paths(lab_netns, anycast["ipv4"]) == ["lb1"]
    probe = Prober(lab_netns, "ssn-client1", anycast["v4"], duration=10, root=tmp_path)
    time.sleep(0.5)
    killed_at = probe.now()
    pair.nodes["lb1"].kill_haproxy()
    wait_paths(lab_netns, anycast["ipv4"], ["lb2"], timeout=1.0)
    time.sleep(1.0)
    samples = probe.stop()
    windows = gaps(samples, after=killed_at - 0.05)
    assert len(windows) == 1 and windows[0][1] < 1.0, windows


def test_a_service_address_outside_the_assigned_prefixes_is_refused_before_any_change(
        lab_netns, haproxy_pki, tmp_path):
    inventory = pair_vars(lab_netns.topology, haproxy_pki, tmp_path, "bgp",
                          lb_ha_service_addresses=["198.18.0.10/32", "198.18.9.9/32"],
                          # only host routes: on shared address pools a wider prefix covers other tenants' addresses
                          lb_ha_bgp_export_prefixes=["198.18.0.10/32"])
    proc = render_pair(tmp_path, inventory, check=False)
    assert proc.returncode != 0
    assert "198.18.9.9/32 is outside lb_ha_bgp_export_prefixes" in proc.stdout
    assert not (tmp_path / "lb1" / "bird" / "bird.conf").exists()
