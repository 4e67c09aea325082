"""Health-gated BIRD and keepalived changes (safespring.netsec.gated_config run for real inside the LB's
namespace) on the role's rendered pair in the private edge- namespaces, with the lab router as the
platform's BGP peer. Each change validates (bird -p, keepalived -t) but breaks serving; the probe
(a new connection every 10 ms from edge-client1 through the router) counts the failed requests
while it is detected and rolled back. haproxy on the VRRP backup: the requests through the VIP meet
the peer, so only the role's local backend checks (runtime API) can see what the change broke."""
import pytest

from fixtures.haproxy import NODEPORT_APP, runtime, wait_for
from fixtures.lb_ha import Prober, gaps, router_paths
from fixtures.ops_edge import role_checks, run_module

pytestmark = pytest.mark.lab

BOTH = ["lb1", "lb2"]
# The bound the tests set: detection + rollback (until the old config passes the checks again).
ROLLBACK_BOUND_S = 5.0


def failed(samples, after=0.0):
    return sum(1 for s in samples if s[0] >= after and not s[1])


def test_a_bird_change_that_stops_exporting_the_service_routes_is_rolled_back(edge_pair_factory, edge_lab, tmp_path):
    pair = edge_pair_factory("bgp")
    anycast4 = pair.service[0]
    wait_for(lambda: router_paths(edge_lab, anycast4) == BOTH, timeout=40, what="both LBs announce to the router")
    node = pair.nodes["lb1"]
    conf = node.path("lb_ha_bird_config")
    good = conf.read_text()
    # Valid for bird -p, but the export filters now let only an address nobody serves out.
    broken = good.replace("198.18.0.10/32{32,32}", "198.18.0.11/32{32,32}")
    broken = broken.replace("fd5a:fe::10/128{128,128}", "fd5a:fe::11/128{128,128}")
    assert broken != good
    socket = str(node.path("lb_ha_bird_socket"))
    probe = Prober(edge_lab, "edge-client1", anycast4, duration=12, root=tmp_path)
    rc, result = run_module(edge_lab, tmp_path, node.netns, "safespring.netsec.gated_config", {
        "daemon": "bird", "dest": str(conf), "content": broken, "reload": "native", "control_socket": socket,
        "checks": [{"type": "bird_protocol", "protocol": "lb_ha_peer", "socket": socket, "min_exported": 2}]})
    wait_for(lambda: router_paths(edge_lab, anycast4) == BOTH, timeout=20, what="lb1 back at the router")
    samples = probe.stop()
    print("bird gated rollback:", {k: result.get(k) for k in ("msg", "detect_seconds", "rollback_seconds", "reload_seconds")},
          "failed probes:", failed(samples), "of", len(samples), "gaps:", gaps(samples))
    assert rc == 1 and result["rolled_back"] and result["restored_healthy"], result
    assert result["failed_check"] == "BIRD protocol lb_ha_peer Established with >= 2 routes exported", result
    assert result["saw"] == "Established, 0 exported", result
    assert result["detect_seconds"] + result["rollback_seconds"] < ROLLBACK_BOUND_S, result
    assert conf.read_text() == good
    assert "Established" in node.birdc("show", "protocols", "lb_ha_peer")
    # lb2 kept announcing: the router's ECMP moved lb1's share to it; nothing should fail beyond
    # the flows in flight at the withdrawal (a handful of 10 ms probes).
    assert failed(samples) <= 10, gaps(samples)


def test_a_keepalived_change_that_moves_the_vip_away_is_rolled_back(edge_pair_factory, edge_lab, tmp_path):
    pair = edge_pair_factory("vrrp")
    vip = pair.service[0]
    wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="one LB holds the VIP")
    node = pair.nodes[pair.holders()[0]]
    conf = node.path("lb_ha_keepalived_config")
    good = conf.read_text()
    # Valid for keepalived -t, but the instance now owns an address no client uses.
    broken = good.replace(f"{vip}/24 dev", "198.18.1.101/24 dev")
    assert broken != good
    probe = Prober(edge_lab, "edge-client1", vip, duration=10, root=tmp_path)
    rc, result = run_module(edge_lab, tmp_path, node.netns, "safespring.netsec.gated_config", {
        "daemon": "keepalived", "dest": str(conf), "content": broken, "reload": "native",
        "pid_file": str(node.base / "keepalived.pid"),
        "checks": [{"type": "http", "url": f"http://{vip}:80/", "host": "localhost", "expect": [301]},
                   {"type": "address_held", "address": vip, "warn": False, "after_rollback": False}]})
    wait_for(lambda: len(pair.holders()) == 1, timeout=10, what="one LB holds the VIP again")
    samples = probe.stop()
    print("keepalived gated rollback:", {k: result.get(k) for k in ("msg", "detect_seconds", "rollback_seconds", "reload_seconds")},
          "failed probes:", failed(samples), "of", len(samples), "gaps:", gaps(samples))
    assert rc == 1 and result["rolled_back"] and result["restored_healthy"], result
    # The peer takes the VIP over within ~0.3 s (the HTTP check alone would pass again): the holder losing it is the regression.
    assert result["failed_check"] in (f"GET http://{vip}:80/ (Host localhost)", f"{vip} is held by this host"), result
    assert result["detect_seconds"] + result["rollback_seconds"] < ROLLBACK_BOUND_S, result
    assert conf.read_text() == good
    assert not any(n.holds("198.18.1.101") for n in pair.nodes.values())
    # Whichever LB holds the VIP now (a higher-priority peer keeps it), the task says so.
    if node.name not in pair.holders():
        assert any("is held by this host still fails" in w for w in result.get("warnings", [])), result
    # Every probe that failed fell inside the outage the bad config caused (detect + rollback).
    outage = sum(g[1] for g in gaps(samples))
    assert outage <= result["detect_seconds"] + result["rollback_seconds"] + 1.5, gaps(samples)


@pytest.fixture(scope="module")
def vrrp_backup(edge_pair_factory):
    """A fresh VRRP pair; (pair, holder, backup) once one LB holds the VIP."""
    pair = edge_pair_factory("vrrp")
    wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="one LB holds the VIP")
    holder = pair.holders()[0]
    return pair, holder, pair.nodes["lb2" if holder == "lb1" else "lb1"]


def _gated_haproxy(pair, node, content, tmp_path):
    """gated_config on node's haproxy.cfg with the checks the role itself gates on."""
    return run_module(pair.lab, tmp_path, node.netns, "safespring.netsec.gated_config", {
        "daemon": "haproxy", "dest": str(node.path("lab_haproxy_config")), "content": content, "reload": "native",
        "master_socket": node.vars["haproxy_master_socket"], "timeout": 10, "checks": role_checks(node)})


def _route_app_servers(node):
    reply = runtime(node.vars["haproxy_runtime_socket"], "show servers state route_app")
    return [line.split()[5] for line in reply.splitlines()[2:] if line.strip()]


def test_a_haproxy_change_that_kills_a_backend_on_the_vrrp_backup_is_rolled_back_naming_the_backend(
        vrrp_backup, edge_lab, tmp_path):
    pair, holder, backup = vrrp_backup
    cfg = backup.path("lab_haproxy_config")
    good = cfg.read_text()
    # Valid for haproxy -c, but the app route's servers point at a port nothing listens on. Through the
    # VIP (the holder's haproxy) every request still succeeds: the old gate kept this change.
    broken = good.replace(f":{NODEPORT_APP} check", ":30999 check")
    assert broken != good
    probe = Prober(edge_lab, "edge-client1", pair.service[0], duration=12, root=tmp_path)
    rc, result = _gated_haproxy(pair, backup, broken, tmp_path)
    samples = probe.stop()
    print("haproxy on the backup:", {k: result.get(k) for k in ("msg", "detect_seconds", "rollback_seconds", "baseline")})
    assert rc == 1 and result["rolled_back"] and result["restored_healthy"], result
    assert result["failed_check"] == "haproxy backend route_app has a server UP", result
    assert "route_app" in result["msg"] and "=DOWN" in result["saw"], result
    # Seen DOWN by the new worker's first checks (spread over one 3 s interval), not a fixed wait.
    assert result["detect_seconds"] < 5 and result["detect_seconds"] + result["rollback_seconds"] < 10, result
    assert cfg.read_text() == good
    wait_for(lambda: set(_route_app_servers(backup)) == {"2"}, timeout=10, what="the backup's app servers UP again")
    # The holder served throughout: the change never touched it.
    assert pair.holders() == [holder]
    assert sum(1 for s in samples if not s[1]) <= 3, gaps(samples)  # a slow probe on the shared CPUs, not an outage


def test_a_healthy_haproxy_change_on_the_vrrp_backup_is_kept(vrrp_backup, tmp_path):
    pair, dummy_holder, backup = vrrp_backup
    cfg = backup.path("lab_haproxy_config")
    good = cfg.read_text()
    changed = good + "\n# gated change on the backup\n"
    rc, result = _gated_haproxy(pair, backup, changed, tmp_path)
    print("healthy change on the backup:", {k: result.get(k) for k in ("seconds", "warnings", "baseline")})
    assert rc == 0 and result["changed"] and not result["rolled_back"], result
    baseline = {b["check"]: b["ok"] for b in result["baseline"]}
    # The route's servers were UP before; after the reload they are UP again by the new worker's checks.
    assert baseline["haproxy backend route_app has a server UP"] is True, baseline
    assert cfg.read_text() == changed
    assert set(_route_app_servers(backup)) == {"2"}
    rc, result = _gated_haproxy(pair, backup, good, tmp_path)
    assert rc == 0 and result["changed"], result
