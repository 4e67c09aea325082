"""The health gate's rules (pure parts; the lab tests run the real daemons)."""
import os
import stat

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import gated_change
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import (Health, apply_change, bird_protocol_state,
                                                                                     parse_checks, parse_request, plan)

BIRD_SHOW = """BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
lb_ha_peer BGP        ---        up     19:00:01.000  Established
  BGP state:          Established
    Neighbor address: 198.18.255.1
  Channel ipv4
    State:          UP
    Routes:         0 imported, 1 exported, 0 preferred
  Channel ipv6
    State:          UP
    Routes:         0 imported, 1 exported, 0 preferred
"""


def test_bird_state_and_exports_are_read_from_show_protocols_all():
    assert bird_protocol_state(BIRD_SHOW) == ("Established", 2)
    assert bird_protocol_state(BIRD_SHOW.replace("1 exported", "0 exported")) == ("Established", 0)
    down = BIRD_SHOW.replace("up     19:00:01.000  Established", "start  19:00:01.000  Active").replace(
        "BGP state:          Established", "BGP state:          Active")
    assert bird_protocol_state(down)[0] == "Active"


@pytest.mark.parametrize("check, field", [
    ({"type": "ping"}, "checks[0].type"),
    ({"type": "http"}, "checks[0].url"),
    ({"type": "http", "url": "ftp://x/"}, "checks[0].url"),
    ({"type": "http", "url": "http://198.18.0.10/", "expect": ["200"]}, "checks[0].expect"),
    ({"type": "haproxy_backend", "backend": "a b", "socket": "/s"}, "checks[0].backend"),
    ({"type": "bird_protocol", "protocol": "lb_ha_peer; down", "socket": "/s"}, "checks[0].protocol"),
    ({"type": "bird_protocol", "protocol": "p", "socket": "/s", "min_exported": -1}, "checks[0].min_exported"),
])
def test_a_bad_check_is_refused_naming_its_field(check, field):
    with pytest.raises(NetsecError) as err:
        parse_checks([check])
    assert err.value.field == field


def test_native_reloads_need_their_socket_or_pid_file_named():
    for daemon, field in (("haproxy", "master_socket"), ("bird", "control_socket"), ("keepalived", "pid_file")):
        with pytest.raises(NetsecError) as err:
            parse_request({"daemon": daemon, "dest": "/etc/x.conf", "reload": "native"})
        assert err.value.field == field
    assert parse_request({"daemon": "bird", "dest": "/etc/x.conf", "reload": "systemd"})["unit"] == "bird.service"
    with pytest.raises(NetsecError) as err:
        parse_request({"daemon": "bird", "dest": "/etc/x.conf", "reload": "systemd", "unit": "bird; reboot"})
    assert err.value.field == "unit"
    with pytest.raises(NetsecError) as err:
        parse_request({"daemon": "bird", "dest": "relative.conf", "reload": "none"})
    assert err.value.field == "dest"


def test_plan_only_changes_what_differs():
    assert plan("a", "a") == "none"
    assert plan("a", "b") == "update"
    assert plan(None, "b") == "create"
    assert plan("a", None) == "reload"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def scripted(results):
    """Health with one fake check whose outcomes come from a list (last one repeats)."""
    clock = Clock()
    health = Health([{"type": "http", "url": "http://x/", "host": "x"}], timeout=5, grace=0, passes=3, clock=clock,
                    sleep=clock.sleep)
    outcomes = list(results)

    def snapshot():
        return [outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]]
    health.snapshot = snapshot
    return health, clock


def test_a_check_that_passed_before_and_fails_after_rolls_back_at_once():
    health, clock = scripted([(True, "status 200"), (False, "status 503")])
    failure, warnings = health.gate([True])
    assert failure == ("GET http://x/ (Host x)", "status 503") and warnings == []
    assert clock.now < 0.2


def test_a_check_that_failed_before_gets_the_timeout_and_only_warns():
    health, clock = scripted([(False, "ConnectionRefusedError")])
    failure, warnings = health.gate([False])
    assert failure is None and "failed before the change and still fails" in warnings[0]
    assert clock.now >= 5


def test_three_passes_in_a_row_are_healthy():
    health, dummy_clock = scripted([(True, "status 200")])
    assert health.gate([True]) == (None, [])


def test_after_a_rollback_a_vip_the_peer_kept_only_warns_while_the_service_answers():
    # nopreempt or a higher-priority peer keeps a VIP it took over: the rollback restored serving.
    clock = Clock()
    checks = parse_checks([{"type": "http", "url": "http://198.18.1.100/", "expect": [301]},
                           {"type": "address_held", "address": "198.18.1.100", "warn": False, "after_rollback": False}])
    health = Health(checks, timeout=5, grace=0, passes=3, clock=clock, sleep=clock.sleep)
    health.snapshot = lambda: [(True, "status 301"), (False, "not on any interface")]
    restored, warnings = health.wait_healthy([True, True])
    assert restored is None and clock.now < 0.5
    assert warnings == ["after the rollback 198.18.1.100 is held by this host still fails (saw not on any interface)"]
    # Required after the rollback (the default), the same evidence is a failed restore.
    checks[1]["after_rollback"] = True
    clock.now = 0.0
    assert health.wait_healthy([True, True]) == (("198.18.1.100 is held by this host", "not on any interface"), [])
    # ...and the service not answering through the VIP is one either way.
    checks[1]["after_rollback"] = False
    health.snapshot = lambda: [(False, "ConnectionRefusedError"), (False, "not on any interface")]
    assert health.wait_healthy([True, True])[0] == ("GET http://198.18.1.100/ (Host 198.18.1.100)", "ConnectionRefusedError")
    with pytest.raises(NetsecError) as err:
        parse_checks([{"type": "address_held", "address": "198.18.1.100", "after_rollback": "no"}])
    assert err.value.field == "checks[0].after_rollback"


def test_a_bgp_session_restarting_gets_the_grace_but_missing_exports_do_not():
    clock = Clock()
    check = {"type": "bird_protocol", "protocol": "lb_ha_peer", "socket": "/s", "min_exported": 2}
    health = Health([check], timeout=10, grace=3, passes=3, clock=clock, sleep=clock.sleep)
    seen = iter([(False, "Connect, 0 exported")] * 15 + [(True, "Established, 2 exported")] * 5)
    health.snapshot = lambda: [next(seen)]
    assert health.gate([True]) == (None, [])
    clock.now = 0.0
    health.snapshot = lambda: [(False, "Established, 0 exported")]
    failure, dummy_warnings = health.gate([True])
    assert failure[1] == "Established, 0 exported" and clock.now < 0.2


def test_a_refused_candidate_leaves_the_live_file_and_a_rerun_of_a_kept_one_changes_nothing(tmp_path):
    live = tmp_path / "bird.conf"
    live.write_text("old\n")
    live.chmod(0o640)
    calls = []

    def run(argv, timeout=30):
        calls.append(argv)
        if argv[0] == "bird":
            with open(argv[-1]) as handle:
                return (0, "", "") if "good" in handle.read() else (1, "", "bird.conf:1:1 syntax error")
        return 0, "Reconfigured", ""
    request = parse_request({"daemon": "bird", "dest": str(live), "content": "bad\n", "reload": "none"})
    result = apply_change(request, run=run)
    assert "syntax error" in result["failed"] and live.read_text() == "old\n"
    assert not os.path.exists(str(live) + gated_change.CANDIDATE_SUFFIX)
    request = parse_request({"daemon": "bird", "dest": str(live), "content": "good\n", "reload": "none", "mode": "0600"})
    result = apply_change(request, run=run)
    assert result["changed"] and "failed" not in result and live.read_text() == "good\n"
    assert stat.S_IMODE(live.stat().st_mode) == 0o600
    assert not os.path.exists(str(live) + gated_change.PREVIOUS_SUFFIX)
    again = apply_change(request, run=run)
    assert not again["changed"] and again["change"] == "none"


def test_check_mode_validates_and_writes_nothing(tmp_path):
    live = tmp_path / "haproxy.cfg"
    live.write_text("old\n")
    seen = []

    def run(argv, timeout=30):
        seen.append(open(argv[-1]).read())
        return 0, "", ""
    request = parse_request({"daemon": "haproxy", "dest": str(live), "content": "new\n", "reload": "systemd"})
    result = apply_change(request, check_mode=True, run=run)
    assert result["changed"] and seen == ["new\n"] and live.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["haproxy.cfg"]


def test_the_roles_gate_on_the_service_address_and_the_bgp_session():
    from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import haproxy_checks, lb_ha_checks
    typed = {"health_frontend": {"address": "127.0.0.1", "port": 8405, "uri": "/healthz"}, "service_addresses": ["fd5a:fe::10"],
             "routes": [{"name": "app", "exact_hosts": ["app.example"], "health_path": "/healthz"},
                        {"name": "wild", "exact_hosts": [], "health_path": "/healthz"}, {"name": "plain", "exact_hosts": ["a"]}]}
    urls = [(c["url"], c.get("host")) for c in parse_checks(haproxy_checks(typed))]
    assert urls == [("http://127.0.0.1:8405/healthz", "127.0.0.1"), ("http://[fd5a:fe::10]:80/", "localhost"),
                    ("https://[fd5a:fe::10]:443/healthz", "app.example")]
    bgp = parse_checks(lb_ha_checks({"mode": "bgp", "paths": {"bird_socket": "/run/bird/bird.ctl"},
                                     "service_addresses": ["198.18.0.10/32", "fd5a:fe::10/128"]}))
    assert [(c["protocol"], c["min_exported"]) for c in bgp] == [("lb_ha_peer", 2)]
    vrrp = parse_checks(lb_ha_checks({"mode": "vrrp", "bare_addresses": ["198.18.1.100"]}))
    assert [(c["type"], c["warn"], c["after_rollback"]) for c in vrrp] == [("http", True, True), ("address_held", False, False)]


@pytest.mark.parametrize("params, field", [
    ({"state": "pause"}, "state"),
    ({"state": "withdrawn", "mode": "bgp", "flag_file": "run/maintenance"}, "flag_file"),
    ({"state": "withdrawn", "mode": "bgp", "flag_file": "/run/lb_ha/maintenance"}, "bird_socket"),
    ({"state": "withdrawn", "mode": "vrrp", "flag_file": "/run/m", "addresses": ["198.18.1.100"], "interface": "eth0; x"}, "interface"),
    ({"state": "withdrawn", "mode": "vrrp", "flag_file": "/run/m", "addresses": ["vip"]}, "addresses[0]"),
    ({"state": "drained"}, "runtime_socket"),
    ({"state": "route_absent", "bird_socket": "/s", "next_hop": "lb1", "addresses": ["198.18.0.10/32"]}, "next_hop"),
])
def test_maintenance_steps_refuse_bad_input_naming_the_field(params, field):
    from ansible_collections.safespring.netsec.plugins.module_utils.lb_ha.maintenance import parse
    with pytest.raises(NetsecError) as err:
        parse(dict({"addresses": [], "checks": [], "timeout": 30, "linger": 3}, **params))
    assert err.value.field == field


def test_a_withdrawn_lb_is_not_withdrawn_again_and_the_router_view_reads_next_hops(tmp_path):
    from ansible_collections.safespring.netsec.plugins.module_utils.lb_ha.maintenance import parse, router_view, withdraw
    flag = tmp_path / "maintenance"
    flag.write_text("x")
    req = parse({"state": "withdrawn", "mode": "bgp", "flag_file": str(flag), "bird_socket": "/s", "addresses": [], "timeout": 1,
                 "linger": 0})
    assert withdraw(req, run=lambda argv, timeout=30: (1, "", "must not run")) == {"changed": False, "mode": "bgp"}
    show = "Table master4:\n198.18.0.10/32       unicast [lb2 20:00:00.000] * (100) [AS65101i]\n\tvia 198.18.1.12 on br-edge\n"
    req = parse({"state": "route_absent", "bird_socket": "/s", "next_hop": "198.18.1.11", "addresses": ["198.18.0.10/32"],
                 "timeout": 1})
    assert "failed" not in router_view(req, run=lambda argv, timeout=30: (0, show, ""))
    req["state"] = "route_present"
    assert "still has no routes via 198.18.1.11" in router_view(req, run=lambda argv, timeout=30: (0, show, ""))["failed"]


def test_check_mode_warns_instead_of_failing_when_the_new_config_does_not_validate_yet(tmp_path):
    live = tmp_path / "haproxy.cfg"
    live.write_text("old\n")
    request = parse_request({"daemon": "haproxy", "dest": str(live), "content": "new\n", "reload": "systemd"})
    result = apply_change(request, check_mode=True, run=lambda argv, timeout=30: (1, "", "unable to load crt-list"))
    assert result["changed"] and "failed" not in result and "unable to load crt-list" in result["warnings"][0]
    assert live.read_text() == "old\n"


# `show servers state` rows as haproxy 2.6 printed them in the lab: a new worker's servers before and
# after their first health check (columns: op_state 5, admin_state 6, check_result 11, check_state 13).
SERVERS_HEAD = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight " \
               "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state ...\n"


def row(name, op, admin=0, result=0, health=2, check_state=6):
    return "3 route_app 1 %s 198.18.1.21 %d %d 1 1 0 1 %d %d %d 0 0 0 - 30080 - 0 0 - - 0\n" % (name, op, admin, result, health,
                                                                                                check_state)


def test_a_new_workers_servers_are_pending_until_their_first_check_completes():
    from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import server_states
    reply = SERVERS_HEAD + "".join([
        row("fresh", 2),                              # UP as started, not checked yet
        row("passed", 2, result=3, health=4),         # UP by a check of this worker
        row("failed", 0, result=2, health=0),         # its first check failed: DOWN
        row("rising", 0, result=3, health=1),         # DOWN, last check passed (the normal way up)
        row("going", 2, result=2, health=3),          # UP, a check failed (fall not reached)
        row("plain", 2, check_state=0),               # no health check configured
        row("maint", 2, admin=1, result=3, health=4),  # set to maintenance
    ])
    assert [(name, state) for name, state, _label in server_states(reply)] == [
        ("fresh", "pending"), ("passed", "up"), ("failed", "down"), ("rising", "pending"), ("going", "pending"),
        ("plain", "up"), ("maint", "down")]


def test_a_backend_passes_on_a_checked_server_up_fails_when_all_are_settled_down():
    from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import backend_verdict
    assert backend_verdict([("a", "up", "a=UP"), ("b", "down", "b=DOWN")]) == (True, "a=UP,b=DOWN")
    assert backend_verdict([("a", "pending", "a=UP, not checked yet"), ("b", "down", "b=DOWN")])[0] is None
    assert backend_verdict([("a", "down", "a=DOWN"), ("b", "down", "b=DOWN")]) == (False, "a=DOWN,b=DOWN")
    assert backend_verdict([])[0] is False


def backend_health(seen, timeout=10.0):
    clock = Clock()
    health = Health([{"type": "haproxy_backend", "backend": "route_app", "socket": "/s"}], timeout=timeout, grace=0, passes=3,
                    clock=clock, sleep=clock.sleep)
    outcomes = iter(seen)
    last = [None]

    def snapshot():
        last[0] = next(outcomes, last[0])
        return [last[0]]
    health.snapshot = snapshot
    return health, clock


def test_a_backend_still_unchecked_is_not_kept_and_one_that_then_goes_down_is_rolled_back():
    # Before the fix, "UP, not checked yet" counted as a pass: three rounds (0.3 s) kept a dead backend.
    pending = (None, "route_app1=UP, not checked yet")
    health, clock = backend_health([pending] * 20 + [(False, "route_app1=DOWN")])
    failure, warnings = health.gate([True])
    assert failure == ("haproxy backend route_app has a server UP", "route_app1=DOWN") and warnings == []
    assert 1.9 < clock.now < 2.2


def test_a_healthy_backend_rising_after_the_reload_is_kept():
    health, clock = backend_health([(None, "route_app1=DOWN, rising")] * 30 + [(True, "route_app1=UP")])
    assert health.gate([True]) == (None, [])
    assert clock.now < 3.5


def test_a_backend_that_never_settles_within_the_timeout_is_rolled_back_if_it_passed_before():
    health, clock = backend_health([(None, "route_app1=UP, not checked yet")], timeout=4)
    failure, dummy_warnings = health.gate([True])
    assert failure[0] == "haproxy backend route_app has a server UP" and "still settling 4 s after the reload" in failure[1]


def test_a_backend_down_before_the_change_only_warns_once_settled_and_does_not_hold_the_gate():
    health, clock = backend_health([(None, "kube-apiserver1=UP, not checked yet")] * 10 + [(False, "kube-apiserver1=DOWN")])
    failure, warnings = health.gate([False])
    assert failure is None and "kube-apiserver1=DOWN" in warnings[0]
    assert clock.now < 1.5


def test_the_baseline_waits_for_servers_settling_from_an_earlier_reload():
    health, clock = backend_health([(None, "a=UP, not checked yet")] * 5 + [(True, "a=UP")])
    assert health.baseline() == [True]
    health, clock = backend_health([(None, "a=UP, not checked yet")], timeout=2)
    assert health.baseline() == [False] and clock.now >= 2


def test_the_haproxy_role_gates_each_backend_it_renders_over_the_runtime_socket():
    from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import haproxy_checks
    typed = {"health_frontend": {"address": "127.0.0.1", "port": 8405, "uri": "/healthz"}, "service_addresses": ["198.18.1.100"],
             "routes": [], "runtime_socket": "/run/haproxy/admin.sock", "backends": ["kube-apiserver", "talos-apid", "route_app"]}
    backends = [(c["backend"], c["socket"]) for c in parse_checks(haproxy_checks(typed)) if c["type"] == "haproxy_backend"]
    assert backends == [("kube-apiserver", "/run/haproxy/admin.sock"), ("talos-apid", "/run/haproxy/admin.sock"),
                        ("route_app", "/run/haproxy/admin.sock")]
