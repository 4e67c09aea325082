"""VRRP hand-overs under a fast probe: which new connections fail, why, and when relative to the
router's neighbour entry for the VIP.

    source scripts/env.sh && flock /work/wt/lab-lb.lock python bench/lb_ha_vrrp_handover.py [N] [INTERVAL] [LINGER]

The role's pair in the private edge- namespaces; each hand-over is what playbooks/maintenance.yml does
on the holder (safespring.netsec.lb_ha_maintenance withdrawn with the linger, then announced); the
probe opens a new connection every INTERVAL s (default 2 ms, 5x the tests' rate, to make a rare race
countable); `ip monitor neigh` in the router records when its entry for the VIP changes MAC.
"""
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / ".build" / "collections"))
from fixtures.haproxy import _pki, wait_for  # noqa: E402
from fixtures.lb_ha import Pair, Prober, pair_vars, render_pair  # noqa: E402
from fixtures.ops_edge import edge_lab_up, run_module, start_backends  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10
INTERVAL = float(sys.argv[2]) if len(sys.argv) > 2 else 0.002
LINGER = float(sys.argv[3]) if len(sys.argv) > 3 else 3
lab = edge_lab_up()
root = pathlib.Path(tempfile.mkdtemp(prefix="bench-vrrp-handover-"))
pki = _pki(root / "pki")
backends = start_backends(lab, root / "backends")
inv = pair_vars(lab.topology, pki, root / "vrrp", "vrrp")
render_pair(root / "vrrp", inv)
pair = Pair(lab, root / "vrrp", inv, "vrrp")
pair.start()
vip = pair.service[0]
macs = {}
for name, node in pair.nodes.items():
    macs[lab.run(node.netns, "cat", "/sys/class/net/eth0/address").stdout.strip()] = name
mon = subprocess.Popen(["ip", "netns", "exec", lab.router, "ip", "-ts", "monitor", "neigh"], stdout=subprocess.PIPE, text=True)
events = []


def read():
    for line in mon.stdout:
        if vip + " " in line:
            events.append((time.time(), line.strip()))


threading.Thread(target=read, daemon=True).start()
try:
    wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="holder")
    time.sleep(3)
    wall0, mono0 = time.time(), time.monotonic()
    probe = Prober(lab, "edge-client1", vip, interval=INTERVAL, duration=3600, root=root)
    wall_probe0 = wall0 + (probe.t0 - mono0)
    handovers = []
    for i in range(N):
        holder = pair.holders()[0]
        node = pair.nodes[holder]
        base = {"mode": "vrrp", "flag_file": str(node.path("lb_ha_run_dir") / "maintenance"), "addresses": [vip],
                "interface": "eth0", "timeout": 30}
        t = time.time()
        rc, res = run_module(lab, root / f"m{i}", node.netns, "safespring.netsec.lb_ha_maintenance",
                             dict(base, state="withdrawn", linger=LINGER))
        assert rc == 0, res
        handovers.append((t, holder, res.get("handed_over_seconds")))
        rc, res = run_module(lab, root / f"a{i}", node.netns, "safespring.netsec.lb_ha_maintenance",
                             dict(base, state="announced", transitions_log=str(node.path("lb_ha_vrrp_transitions_log")),
                                  checks=[{"type": "http", "url": "http://127.0.0.1:8405/healthz"}]))
        assert rc == 0, res
        time.sleep(2.5)
    samples = probe.stop()
finally:
    pair.stop()
    for d in backends:
        d.stop()
    mon.terminate()
failed = [s for s in samples if not s[1]]
print("hand-overs", N, "probe interval", INTERVAL, "linger", LINGER, "probes", len(samples), "failed", len(failed))
for t, ok, why in failed:
    w = wall_probe0 + t
    near = min(events, key=lambda e: abs(e[0] - w)) if events else None
    print("  failed at %.3f (%s): %s; nearest neigh event %+.3f s: %s" % (w, time.strftime("%H:%M:%S", time.localtime(w)), why,
          (near[0] - w) if near else 0, near[1] if near else "-"))
print("router neighbour events for the VIP:")
for w, line in events:
    mac = next((n for m, n in macs.items() if m in line), "?")
    print("  %.3f %s [%s]" % (w, line, mac))
print("hand-overs:", [(round(t, 3), h, s) for t, h, s in handovers])
