"""Edge operations: health-gated rollback and rolling maintenance, side by side with the plain way.

    source scripts/env.sh && python bench/lb_ha_edge_ops.py [--rounds 3]

Real daemons: the role's rendered pair (roles/lb_ha + roles/haproxy) in private edge- namespaces
(a copy of the lab topology with its own router BIRD), NodePort stand-ins in edge-node1/2.
Modules run for real (ansible, inside the LB's namespace). Probes from edge-client1 through the router:
- rollback: a config that validates but breaks serving, applied by safespring.netsec.gated_config
  with the checks the roles compute (detect + rollback seconds, failed requests) vs a plain reload
  of the same file (the failed requests over the same window; the broken config stays until
  someone acts):
  haproxy (app backend on a dead port; HTTPS probe, new TLS connection each, 20/s) on the VIP
  holder, and on the VRRP backup (the probe meets the holder; what the change leaves is the
  backup's app backend, which serves only after a failover), and on the holder of a pair without
  keepalived's track_process (before track_process matched by name, a reload lost its quorum and moved the VIP),
  BIRD (export filter lets no service route out; port-80 probe every 10 ms),
  keepalived (the VIP renamed; port-80 probe every 10 ms);
- rolling maintenance of both LBs (playbooks/maintenance.yml, a haproxy restart as the
  maintenance) vs a plain stop/start of haproxy on each LB in turn; vrrp also without the linger
  on lo. New connection every 10 ms (failed = refused, reset, timed out or slower than 0.5 s, i.e.
  a SYN retransmit), plus one long-lived keep-alive connection (a request every 100 ms) and how
  often it broke.
Medians over the rounds. The machine is shared (2 cores, other agents): figures are noisy.
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import types

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / ".build" / "collections"))

from fixtures.haproxy import NODEPORT_APP, _pki, finish_probe, start_probe, wait_for  # noqa: E402
from fixtures.lb_ha import Pair, Prober, pair_vars, render_pair, router_paths  # noqa: E402
from fixtures.ops_edge import (DATA, ROLE_CHECKS, edge_lab_down, edge_lab_up, maintenance_inventory, netns_sh,  # noqa: E402
                               role_checks, run_maintenance, run_module, start_backends, stop_restarted)

HTTPS_RATE = 20.0
WINDOW = 6.0  # seconds from the change over which the failed requests are counted


class KeepAlive:
    """One long-lived HTTP/1.1 connection from a client namespace: a request every 100 ms; counts breaks."""

    SCRIPT = r'''
import signal, socket, sys, time
address = sys.argv[1]
breaks, requests, conn = 0, 0, None
running = [True]
signal.signal(signal.SIGTERM, lambda *a: running.__setitem__(0, False))
while running[0]:
    try:
        if conn is None:
            conn = socket.create_connection((address, 80), timeout=2)
        conn.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
        reply = conn.recv(4096)
        if not reply.startswith(b"HTTP/1.1 301"):
            raise OSError("reply %r" % reply[:20])
        requests += 1
    except OSError:
        breaks += 1
        try:
            conn.close()
        except Exception:
            pass
        conn = None
    time.sleep(0.1)
print(breaks, requests)
'''

    def __init__(self, netns, address):
        self.proc = subprocess.Popen(["ip", "netns", "exec", netns, sys.executable, "-c", self.SCRIPT, address],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def result(self):
        self.proc.terminate()
        out, dummy_err = self.proc.communicate(timeout=30)
        breaks, requests = (int(x) for x in out.split())
        return breaks, requests


def start_pair(lab, pki, root, mode, **overrides):
    inventory = pair_vars(lab.topology, pki, root, mode, **overrides)
    render_pair(root, inventory, post_tasks=ROLE_CHECKS)
    pair = Pair(lab, root, inventory, mode)
    pair.start()
    if mode == "bgp":
        wait_for(lambda: router_paths(lab, pair.service[0]) == ["lb1", "lb2"], timeout=40, what="both LBs announce")
    else:
        wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="one VIP holder")
    return pair


def stable_holder(pair, hold=2.0, timeout=30):
    """The LB that has held the VIP alone for `hold` seconds (a hand-over still settling would move
    the probe's traffic away from the LB being changed in the middle of a round)."""
    deadline = time.monotonic() + timeout
    since, last = time.monotonic(), None
    while time.monotonic() < deadline:
        now = pair.holders()
        if now != last:
            since, last = time.monotonic(), now
        elif len(now) == 1 and time.monotonic() - since >= hold:
            return now[0]
        time.sleep(0.2)
    raise AssertionError("no stable VIP holder within %d s (holders: %s)" % (timeout, last))


def target(pair, daemon):
    if pair.mode == "bgp":
        return pair.nodes["lb1"]
    name = stable_holder(pair)
    if daemon == "haproxy-backup":
        name = "lb2" if name == "lb1" else "lb1"
    return pair.nodes[name]


def plain_reload(pair, node, daemon):
    """The baseline: what the handler used to do, a reload of the file as it is."""
    if daemon.startswith("haproxy"):
        from fixtures.haproxy import runtime
        try:
            runtime(node.vars["haproxy_master_socket"], "reload")
        except OSError:
            pass
    elif daemon == "bird":
        node.birdc("configure")
    else:
        node.reload_keepalived()


def app_servers(node):
    """The node's own route_app servers as its haproxy sees them (runtime API)."""
    from fixtures.haproxy import runtime
    reply = runtime(node.vars["haproxy_runtime_socket"], "show servers state route_app")
    states = [line.split()[5] for line in reply.splitlines()[2:] if line.strip()]
    return "UP" if states and set(states) == {"2"} else "DOWN" if "2" not in states else "partly DOWN"


def rollback_round(pair, daemon, tmp, gated):
    """(seconds detect+rollback or None, failed requests, requests, left behind, rolled back) for one broken change."""
    tmp.mkdir(parents=True, exist_ok=True)
    node = target(pair, daemon)
    vip = pair.service[0]
    if daemon.startswith("haproxy"):
        path = node.path("lab_haproxy_config")
        good = path.read_text()
        broken = good.replace(f":{NODEPORT_APP} check", ":30999 check")
        # The role's own checks: health frontend, port 80 and the app route through the VIP, every
        # backend over the local runtime API.
        args = {"daemon": "haproxy", "master_socket": node.vars["haproxy_master_socket"], "checks": role_checks(node)}
    elif daemon == "bird":
        path = node.path("lb_ha_bird_config")
        good = path.read_text()
        broken = good.replace("198.18.0.10/32{32,32}", "198.18.0.11/32{32,32}")
        broken = broken.replace("fd5a:fe::10/128{128,128}", "fd5a:fe::11/128{128,128}")
        sock = str(node.path("lb_ha_bird_socket"))
        args = {"daemon": "bird", "control_socket": sock,
                "checks": [{"type": "bird_protocol", "protocol": "lb_ha_peer", "socket": sock, "min_exported": 2}]}
    else:
        path = node.path("lb_ha_keepalived_config")
        good = path.read_text()
        broken = good.replace(f"{vip}/24 dev", "198.18.1.101/24 dev")
        args = {"daemon": "keepalived", "pid_file": str(node.base / "keepalived.pid"),
                "checks": [{"type": "http", "url": f"http://{vip}:80/", "host": "localhost", "expect": [301]},
                           {"type": "address_held", "address": vip, "warn": False}]}
    assert broken != good
    window = WINDOW
    if daemon.startswith("haproxy"):
        probe = start_probe(pair.lab, "edge-client1", types.SimpleNamespace(address=vip, pki=pair.pki),
                            count=int(HTTPS_RATE * window), rate=HTTPS_RATE)
    else:
        probe = Prober(pair.lab, "edge-client1", vip, duration=window, root=tmp)
    started = time.monotonic()
    seconds, rolled_back = None, None
    if gated:
        args.update(dest=str(path), content=broken, reload="native", timeout=10)
        rc, result = run_module(pair.lab, tmp, node.netns, "safespring.netsec.gated_config", args)
        rolled_back = bool(rc == 1 and result.get("rolled_back") and result.get("restored_healthy"))
        if rolled_back:
            seconds = result["detect_seconds"] + result["rollback_seconds"]
        else:
            # Recorded, not raised: one round must not end the run (and the table says it).
            log("rollback %s gated: NOT rolled back: %s" % (daemon, result.get("msg") or result.get("warnings")))
    else:
        path.write_text(broken)
        plain_reload(pair, node, daemon)
    if daemon.startswith("haproxy"):
        codes = finish_probe(probe, timeout=60).codes
        failed, total = sum(1 for c in codes if c != 200), len(codes)
    else:
        time.sleep(max(0.0, window - (time.monotonic() - started)))
        samples = probe.stop()
        failed, total = sum(1 for s in samples if not s[1]), len(samples)
    # What the broken change left behind at the end of the window (before the baseline's manual fix).
    if daemon == "bird":
        left = "router paths: %s" % (",".join(router_paths(pair.lab, vip)) or "none")
    elif daemon == "keepalived":
        bogus = [n.name for n in pair.nodes.values() if n.holds("198.18.1.101")]
        left = "VIP on: %s%s" % (",".join(pair.holders()) or "nobody", "; bogus .101 on: " + ",".join(bogus) if bogus else "")
    else:
        left = "%s app backend: %s (VIP on %s)" % (node.name, app_servers(node), ",".join(pair.holders()) or "nobody")
    if not gated or not rolled_back:
        path.write_text(good)
        plain_reload(pair, node, daemon)
    log("rollback %s %s: %s s, %d of %d failed, left %s" % (daemon, "gated" if gated else "plain", seconds, failed, total, left))
    time.sleep(3)  # settle (VRRP back to one holder, BGP paths back, old workers gone)
    if pair.mode == "vrrp":
        stable_holder(pair)
    else:
        wait_for(lambda: router_paths(pair.lab, pair.service[0]) == ["lb1", "lb2"], timeout=30, what="both LBs announce")
    return seconds, failed, total, left, rolled_back


def plain_stop_start(pair, tmp):
    """The baseline maintenance: the same haproxy restart on each LB in turn, nothing withdrawn."""
    for name in ("lb1", "lb2"):
        node = pair.nodes[name]
        subprocess.run(["ip", "netns", "exec", node.netns, sys.executable, str(DATA / "lab_haproxy_restart.py"),
                        node.vars["haproxy_master_socket"], str(node.path("lab_haproxy_config")),
                        str(node.base / "restarted-haproxy.pids"), str(node.base / "haproxy-restarted.log"),
                        "http://127.0.0.1:8405/healthz"], capture_output=True, check=True, timeout=120)
        time.sleep(3)  # the health loop's rise (2 s) before the next, as a careful operator would


def maintenance_round(pair, tmp, how):
    """(failed new connections, probes, keep-alive breaks, keep-alive requests, seconds)."""
    tmp.mkdir(parents=True, exist_ok=True)
    inventory = maintenance_inventory(pair, tmp, **({"lb_ha_maintenance_linger": 0} if how == "no-linger" else {}))
    probe = Prober(pair.lab, "edge-client1", pair.service[0], duration=400, root=tmp)
    keep = KeepAlive("edge-client2", pair.service[0])
    started = time.monotonic()
    proc = None
    try:
        if how == "plain":
            plain_stop_start(pair, tmp)
        else:
            proc = run_maintenance(inventory)
    finally:
        seconds = time.monotonic() - started
        try:
            samples = probe.stop()
        except subprocess.TimeoutExpired:
            probe.proc.kill()
            samples = sorted(probe.samples)
        breaks, requests = keep.result()
    if proc is not None and proc.returncode != 0:
        raise AssertionError("maintenance.yml failed:\n" + proc.stdout[-5000:] + proc.stderr[-2000:])
    failed = sum(1 for s in samples if not s[1])
    log("maintenance %s/%s: %d of %d failed, keep-alive breaks %d, %.0f s" % (pair.mode, how, failed, len(samples), breaks, seconds))
    if pair.mode == "vrrp":
        wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="one VIP holder")
    else:
        wait_for(lambda: router_paths(pair.lab, pair.service[0]) == ["lb1", "lb2"], timeout=30, what="both LBs announce")
    return sum(1 for s in samples if not s[1]), len(samples), breaks, requests, seconds


def log(text):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), text))
    sys.stderr.flush()


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def attempt(errors, what, function, *args):
    """function(*args), or None with the error recorded: one broken round must not end the run (the
    table then says which rows are short)."""
    try:
        return function(*args)
    except Exception as exc:  # pylint: disable=broad-except
        log("%s FAILED: %s" % (what, str(exc)[-3000:]))
        errors.append("%s: %s" % (what, str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__))
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="bgp,vrrp", help="HA modes to run (comma-separated)")
    parser.add_argument("--parts", default="rollback,maintenance", help="parts to run (comma-separated)")
    args = parser.parse_args()
    was_up = netns_sh("status").returncode == 0
    lab = edge_lab_up()
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-edge-ops-"))
    pki = _pki(root / "pki")
    backends = start_backends(lab, root / "backends")
    rollback, maintenance, errors = {}, {}, []
    pair = None
    try:
        for mode in args.modes.split(","):
            pair = start_pair(lab, pki, root / mode, mode)
            pair.pki = pki
            daemons = (["bird"] if mode == "bgp" else ["keepalived", "haproxy", "haproxy-backup"]) if "rollback" in args.parts else []
            for daemon in daemons:
                for gated in (True, False):
                    rows = [attempt(errors, "rollback %s %s round %d" % (daemon, "gated" if gated else "plain", i), rollback_round,
                                    pair, daemon, root / f"{daemon}-{gated}-{i}", gated) for i in range(args.rounds)]
                    rollback[(daemon, gated)] = [r for r in rows if r is not None]
            hows = (["ours", "plain"] + (["no-linger"] if mode == "vrrp" else [])) if "maintenance" in args.parts else []
            for how in hows:
                rows = [attempt(errors, "maintenance %s/%s round %d" % (mode, how, i), maintenance_round, pair,
                                root / f"m-{mode}-{how}-{i}", how) for i in range(args.rounds)]
                maintenance[(mode, how)] = [r for r in rows if r is not None]
            stop_restarted(pair)
            pair.stop()
            pair = None
            if mode == "vrrp" and "rollback" in args.parts:
                # The same haproxy rounds with track_process off: while track_process matched haproxy's command
                # line, a reload's re-exec lost its quorum and the VIP left the changed LB (nopreempt); by name it
                # no longer does, and these rows stay as the comparison.
                pair = start_pair(lab, pki, root / "vrrp-notrack", mode, lb_ha_vrrp_track_process=False)
                pair.pki = pki
                for gated in (True, False):
                    rows = [attempt(errors, "rollback haproxy-notrack %s round %d" % ("gated" if gated else "plain", i),
                                    rollback_round, pair, "haproxy-notrack", root / f"haproxy-notrack-{gated}-{i}", gated)
                            for i in range(args.rounds)]
                    rollback[("haproxy-notrack", gated)] = [r for r in rows if r is not None]
                pair.stop()
                pair = None
    finally:
        if pair:
            stop_restarted(pair)
            pair.stop()
        for daemon in backends:
            daemon.stop()
        if not was_up:
            edge_lab_down()

    print("\n== health-gated change with rollback vs a plain reload of the same broken config, median of %d ==" % args.rounds)
    header = ("daemon", "", "rollback s", "failed requests", "requests", "rolled back", "left after the window (last round)")
    print("%-34s %-24s %11s %15s %9s %12s  %s" % header)
    labels = {"haproxy": "haproxy (VIP holder)", "haproxy-backup": "haproxy (backup)",
              "haproxy-notrack": "haproxy (holder, no track_process)"}
    for daemon in ("haproxy", "haproxy-notrack", "haproxy-backup", "bird", "keepalived"):
        for gated, label in ((True, "gated_config (rollback)"), (False, "plain reload (baseline)")):
            rows = rollback.get((daemon, gated))
            if rows is None:
                continue
            if not rows:
                print("%-34s %-24s %s" % (labels.get(daemon, daemon), label, "no round completed (see errors)"))
                continue
            seconds = "%.2f" % med(r[0] for r in rows) if gated else "never"
            failed, total = med(r[1] for r in rows), med(r[2] for r in rows)
            back = "%d of %d" % (sum(1 for r in rows if r[4]), len(rows)) if gated else "-"
            print("%-34s %-24s %11s %15.0f %9.0f %12s  %s" % (labels.get(daemon, daemon), label, seconds, failed, total, back,
                                                              rows[-1][3]))
    print("(failed requests over a %.0f s window from the change; haproxy: HTTPS 20/s new TLS connection each, "
          "bird/keepalived: port 80 every 10 ms)" % WINDOW)
    print("\n== rolling maintenance of both LBs (haproxy restarted on each), median of %d ==" % args.rounds)
    print("%-6s %-42s %10s %10s %10s %14s %7s" % ("mode", "", "failed", "probes", "ratio", "keep-alive breaks", "rounds"))
    for mode in ("bgp", "vrrp"):
        for how, label in (("ours", "playbooks/maintenance.yml"), ("no-linger", "maintenance.yml, linger 0 (ablation)"),
                           ("plain", "plain stop/start per LB (baseline)")):
            rows = maintenance.get((mode, how))
            if rows is None:
                continue
            if not rows:
                print("%-6s %-42s %s" % (mode, label, "no round completed (see errors)"))
                continue
            failed, probes = med(r[0] for r in rows), med(r[1] for r in rows)
            ratio = failed / probes if probes else 0
            print("%-6s %-42s %10.0f %10.0f %10.4f %14.0f %7d" % (mode, label, failed, probes, ratio, med(r[2] for r in rows),
                                                                  len(rows)))
    print("raw rollback rows (seconds, failed, total, left, rolled back): %s"
          % {"%s/%s" % (d, "gated" if g else "plain"): r for (d, g), r in rollback.items()})
    print("raw maintenance rows (failed, probes, keep-alive breaks, keep-alive requests, seconds): %s"
          % {"%s/%s" % k: [tuple(round(x, 1) for x in r) for r in v] for k, v in maintenance.items()})
    print("errors (%d): %s" % (len(errors), "; ".join(errors) or "none"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
