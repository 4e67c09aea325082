"""Service gap of the load-balancer HA pair (roles/lb_ha) on the lab, ours beside the defaults.

    source scripts/env.sh; python bench/lb_ha_failover.py [--runs 3] [--json reports/lb_ha_failover.json]

Runs the role's rendered configs (render-only ansible run, as tests/integration/test_lb_ha_*.py)
with real haproxy, BIRD and keepalived in ssn-lb1/ssn-lb2 and the router's BIRD as the platform
peer. A client in ssn-client1 sends an independent HTTP request to the service address every
10 ms; a request that fails or takes longer than 100 ms (a lost SYN is retried after 1 s) is
"bad". Gap = from the first to the last bad request after the event (with ECMP the
requests hashed to the surviving node succeed in between: the span is what the failed node's
clients see). Median over --runs runs:
  (a) haproxy on the active node is SIGKILLed (restarted after 2.5 s)
  (b) the active node's link goes down (up again after 2.5 s)
  (c) reload of every daemon (birdc configure / keepalived SIGHUP, haproxy USR2): failed requests
  return: bad requests and route/holder changes in the 4 s after (a)/(b) are undone.
Baselines: keepalived VRRPv2 advert_int 1 + vrrp_script (1 s interval, fall 2); BGP without BFD.
BGP with BIRD's default hold time (240 s) loses the link for ~216 s (../shared/notes/lab.md):
it is measured here once with hold 3 s (BIRD's minimum) instead, and said so.
"""
import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / ".build" / "collections"), str(REPO / "tests")]

from fixtures.haproxy import _pki, wait_for  # noqa: E402  pylint: disable=wrong-import-position
from fixtures.lb_ha import Pair, Prober, pair_vars, render_pair, router_paths  # noqa: E402
from fixtures.netns import LabNetns, load_topology  # noqa: E402

SLOW = 0.1
INTERVAL = 0.01

BASELINE_KEEPALIVED = """\
vrrp_script chk_haproxy {{
  script "/usr/bin/curl -sf -o /dev/null --max-time 1 http://127.0.0.1:{health_port}/healthz"
  interval 1
  fall 2
  rise 2
}}
global_defs {{
  script_user root
  enable_script_security
}}
vrrp_instance base {{
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority {priority}
  advert_int 1
  unicast_src_ip {me}
  unicast_peer {{
    {peer}
  }}
  virtual_ipaddress {{
    {vip} dev eth0
  }}
  track_script {{
    chk_haproxy
  }}
}}
"""


class Watch:
    """Samples a function every 50 ms; counts changes of its value (route / holder flaps)."""

    def __init__(self, func):
        self.func = func
        self.values = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            value = self.func()
            if not self.values or self.values[-1][1] != value:
                self.values.append((time.monotonic(), value))
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join(5)
        return self.values


def bad_gap(samples, after):
    """From the first to the last bad request after the event. With ECMP the requests hashed to the
    surviving node keep succeeding in between: the span, not the longest run of failures, is the
    outage the failed node's clients see."""
    bad = [s[0] for s in samples if s[0] >= after and not s[1]]
    return (bad[-1] - bad[0] + INTERVAL) if bad else 0.0


def active_of(pair, lab, target):
    if pair.mode == "vrrp":
        return pair.holders()[0]
    return "lb1"


def observed(pair, lab, target):
    if pair.mode == "vrrp":
        return tuple(pair.holders())
    return tuple(router_paths(lab, target + "/32"))


def settle(pair, lab, target, expected, timeout=30):
    wait_for(lambda: observed(pair, lab, target) == expected, timeout=timeout, interval=0.1,
             what=f"{pair.mode}: {expected} (now {observed(pair, lab, target)})")


def one_failover(pair, lab, target, event, root, down=2.5):
    name = active_of(pair, lab, target)
    node = pair.nodes[name]
    probe = Prober(lab, "ssn-client1", target, interval=INTERVAL, duration=30, root=root, slow=SLOW)
    time.sleep(1.0)
    t_event = probe.now()
    if event == "haproxy":
        node.kill_haproxy()
    else:
        node.link("down")
    time.sleep(down)
    watch = Watch(lambda: observed(pair, lab, target))
    t_back = probe.now()
    if event == "haproxy":
        node.start_haproxy()
    else:
        node.link("up")
    time.sleep(4.0)
    changes = watch.stop()
    samples = probe.stop()
    return {"gap": bad_gap([s for s in samples if s[0] < t_back], t_event - 0.02),
            "return_bad": sum(1 for s in samples if s[0] >= t_back and not s[1]),
            "return_changes": max(0, len(changes) - 1)}


def reload_run(pair, lab, target, root, keepalived_reload=True):
    probe = Prober(lab, "ssn-client1", target, interval=INTERVAL, duration=30, root=root, slow=SLOW)
    time.sleep(0.5)
    for node in pair.nodes.values():
        if pair.mode == "bgp" and "bird" in node.daemons:
            node.birdc("configure")
        if pair.mode == "vrrp" and keepalived_reload:
            node.reload_keepalived()
    time.sleep(1.0)
    for node in pair.nodes.values():
        node.lab.run(node.netns, "kill", "-USR2", str(node.daemons["haproxy"].proc.pid))
    time.sleep(1.5)
    samples = probe.stop()
    return {"failed": sum(1 for s in samples if not s[1]), "requests": len(samples)}


def measure(label, pair, lab, target, runs, root, expected, reload=True, down=2.5):
    out = {"label": label}
    for event in ("haproxy", "link"):
        results = []
        for i in range(runs):
            settle(pair, lab, target, expected)
            results.append(one_failover(pair, lab, target, event, pathlib.Path(root), down=down))
            print(f"  {label} {event} run {i + 1}: {results[-1]}", flush=True)
            if pair.mode == "vrrp":
                expected = tuple(pair.holders()) or expected
        out[event] = {"median_gap_s": statistics.median(r["gap"] for r in results),
                      "gaps_s": [round(r["gap"], 3) for r in results],
                      "return_bad": sum(r["return_bad"] for r in results),
                      "return_changes": [r["return_changes"] for r in results]}
    if reload:
        settle(pair, lab, target, expected)
        out["reload"] = reload_run(pair, lab, target, pathlib.Path(root))
    return out


def restart_keepalived_with(pair, lab, text_of):
    for name, node in pair.nodes.items():
        for what in ("keepalived",):
            daemon = node.daemons.pop(what, None)
            if daemon:
                daemon.stop()
    vip = pair.inventory["all"]["children"]["lb"]["vars"]["lb_ha_service_addresses"][0]
    for name, node in pair.nodes.items():
        node.lab.run(node.netns, "ip", "addr", "del", vip, "dev", "eth0", check=False)
    for name, node in pair.nodes.items():
        path = node.base / "baseline-keepalived.conf"
        path.write_text(text_of(name, node))
        path.chmod(0o600)
        node.vars["lb_ha_keepalived_config"] = str(path)
        node.start_keepalived()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", default=str(REPO / "reports" / "lb_ha_failover.json"))
    parser.add_argument("--modes", default="bgp,vrrp")
    parser.add_argument("--health-port", type=int, default=8405,
                        help="port of the health frontend (another one when something else holds 8405 in the LB namespaces)")
    args = parser.parse_args()
    lab = LabNetns(load_topology())
    topo = lab.topology
    report = []
    health = {"lb_ha_health_check": {"address": "127.0.0.1", "port": args.health_port, "uri": "/healthz",
                                     "interval_ms": 100, "timeout_ms": 200, "fall": 2, "rise": 20}}
    with tempfile.TemporaryDirectory(prefix="lb_ha-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        pki = _pki(tmp / "pki")
        if "bgp" in args.modes:
            target = topo.data["anycast"]["ipv4"].split("/")[0]
            inventory = pair_vars(topo, pki, tmp / "bgp", "bgp", **health)
            render_pair(tmp / "bgp", inventory)
            pair = Pair(lab, tmp / "bgp", inventory, "bgp")
            try:
                pair.start()
                report.append(measure("BGP ours (ECMP, health 100 ms x2, BFD 100 ms x3)", pair, lab, target,
                                      args.runs, tmp, ("lb1", "lb2")))
                pair.rerender_routing(tmp / "bgp-base", lb_ha_bgp_bfd=False, lb_ha_bgp_hold_time=3)
                report.append(measure("BGP baseline: no BFD, hold 3 s (BIRD min; default 240 s: ~216 s)", pair, lab,
                                      target, 1, tmp, ("lb1", "lb2"), reload=False, down=6.0))
            finally:
                pair.stop()
        if "vrrp" in args.modes:
            vip_cidr = topo.data["vrrp"]["vip"]
            target = vip_cidr.split("/")[0]
            inventory = pair_vars(topo, pki, tmp / "vrrp", "vrrp", **health)
            render_pair(tmp / "vrrp", inventory)
            pair = Pair(lab, tmp / "vrrp", inventory, "vrrp")
            try:
                pair.start()
                settle(pair, lab, target, ("lb1",))
                report.append(measure("VRRP ours (v3 advert 0.1 s, track_process, health 100 ms x2, nopreempt)",
                                      pair, lab, target, args.runs, tmp, ("lb1",)))

                def baseline(name, node):
                    other = [n for n in pair.nodes if n != name][0]
                    return BASELINE_KEEPALIVED.format(priority=150 if name == "lb1" else 100, health_port=args.health_port,
                                                      me=node.host.ipv4, peer=lab.hosts[other].ipv4, vip=vip_cidr)
                for node in pair.nodes.values():
                    daemon = node.daemons.pop("health", None)
                    if daemon:
                        daemon.stop()
                restart_keepalived_with(pair, lab, baseline)
                settle(pair, lab, target, ("lb1",))
                report.append(measure("VRRP baseline: v2 advert_int 1, vrrp_script 1 s fall 2, preempt", pair, lab,
                                      target, args.runs, tmp, ("lb1",), down=6.0))
            finally:
                pair.stop()
    print_report(report, args.runs)
    pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.json).write_text(json.dumps(report, indent=2))


def print_report(report, runs):
    print()
    print(f"lb_ha failover, probe every 10 ms (bad = failed or > {SLOW * 1000:.0f} ms), median of {runs} runs"
          " (baselines of BGP: 1 run)")
    print(f"{'configuration':72} {'(a) haproxy':>12} {'(b) link':>10} {'(c) reload':>12} {'return':>16}")
    for row in report:
        reload = row.get("reload")
        reload_text = f"{reload['failed']}/{reload['requests']}" if reload else "-"
        ret = f"bad {row['haproxy']['return_bad'] + row['link']['return_bad']}, moves " + \
            "/".join(str(c) for c in row["haproxy"]["return_changes"] + row["link"]["return_changes"])
        print(f"{row['label']:72} {row['haproxy']['median_gap_s'] * 1000:>10.0f}ms {row['link']['median_gap_s'] * 1000:>8.0f}ms"
              f" {reload_text:>12} {ret:>16}")
    print("targets: median gap <= 300 ms for (a) and (b), 0 failed requests for (c), no flapping on return "
          "(BGP ECMP: 1 route change = the node back; VRRP nopreempt: 0 moves)")


if __name__ == "__main__":
    main()
