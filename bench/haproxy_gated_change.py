"""Health-gated haproxy change: rollback of a bad change vs a plain reload of a good one.

    source scripts/env.sh && python bench/haproxy_gated_change.py [--rounds 3]

Real haproxy (the role's rendered edge) in ssn-lb1, NodePort stand-ins in ssn-node1/2, the
lab probe (a new TLS connection per request, 20/s) from ssn-client1. Per round, through
roles/haproxy/files/haproxy_gated_change.py:
- `good`: a change that keeps serving (baseline): swap -> reload -> healthy, seconds and failed requests;
- `bad`: the app backend pointed at a dead port: bad change detected -> old config serving
  again (rollback time), and the failed requests during it.
Medians over the rounds. The machine is shared (2 cores, other agents): figures are noisy.
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / ".build" / "collections"))

from fixtures.haproxy import (APP_HOST, NODE_BACKEND, NODEPORT_APP, NODEPORT_PROXY, Daemon, Edge,  # noqa: E402
                              _listening, _pki, edge_vars, finish_probe, render_edge, start_probe, wait_for)
from fixtures.netns import LabNetns, load_topology  # noqa: E402

HELPER = REPO / "roles" / "haproxy" / "files" / "haproxy_gated_change.py"
RATE = 20.0


def gated(edge, text, name):
    candidate = edge.root / f"{name}.cfg"
    candidate.write_text(text)
    spec = edge.root / f"{name}.json"
    spec.write_text(json.dumps({
        "config": str(edge.cfg), "candidate": str(candidate), "master_socket": str(edge.master_sock),
        "runtime_socket": str(edge.sock), "backends": ["route_app"], "timeout": 10,
        "checks": [{"url": f"https://{edge.address}:443/", "host": APP_HOST, "cafile": edge.pki["paths"]["ca"]}]}))
    probe = start_probe(edge.lab, "ssn-client1", edge, count=int(RATE * 6), rate=RATE)
    proc = edge.lab.run("ssn-lb1", sys.executable, str(HELPER), str(spec), check=False, timeout=60)
    probed = finish_probe(probe)
    return json.loads(proc.stdout.strip().splitlines()[-1]), sum(1 for c in probed.codes if c != 200)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lab = LabNetns(load_topology())
    component = REPO / "tests" / "lab" / "backends.sh"
    paused = component.exists() and subprocess.run([str(component), "status"], capture_output=True, check=False).returncode == 0
    if paused:
        subprocess.run([str(component), "down"], capture_output=True, check=True)
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-gated-"))
    pki = _pki(root / "pki")
    daemons, edge = [], None
    try:
        for name in ("node1", "node2"):
            host = lab.hosts[name]
            cfg = root / f"{name}.cfg"
            cfg.write_text(NODE_BACKEND.format(address=host.ipv4, app_port=NODEPORT_APP, pp_port=NODEPORT_PROXY, name=name))
            daemons.append(Daemon(host.netns, ["haproxy", "-W", "-f", str(cfg)], root / f"{name}.log"))
            wait_for(lambda n=host.netns: _listening(lab, n, NODEPORT_APP), what=f"{name} backend")
        role_vars = edge_vars(pki, root / "edge", lab.topology, haproxy_limit_exempt_cidrs=["198.18.2.11/32"])
        render_edge(root / "edge", role_vars)
        edge = Edge(lab, root / "edge", role_vars, pki)
        edge.start()
        time.sleep(3)
        good = edge.cfg.read_text()
        rows = {"good": [], "bad": []}
        for i in range(args.rounds):
            result, failed = gated(edge, good + f"\n# round {i}\n", f"good{i}")
            assert result["changed"], result
            rows["good"].append((result["seconds"], failed))
            result, failed = gated(edge, edge.cfg.read_text().replace(f":{NODEPORT_APP} check", ":30999 check"), f"bad{i}")
            assert result["rolled_back"] and result["restored_healthy"], result
            rows["bad"].append((result["detect_seconds"] + result["rollback_seconds"], failed))
            time.sleep(2)
        print("\n== health-gated change, median of %d rounds (shared 2-core machine: noisy) ==" % args.rounds)
        print("%-34s %12s %16s" % ("", "seconds", "failed requests"))
        print("%-34s %12.2f %16d" % ("good change (plain reload, baseline)", statistics.median(r[0] for r in rows["good"]),
                                     statistics.median(r[1] for r in rows["good"])))
        print("%-34s %12.2f %16d" % ("bad change: detect -> old serving", statistics.median(r[0] for r in rows["bad"]),
                                     statistics.median(r[1] for r in rows["bad"])))
        print("probe: %d req/s, new TLS connection each; raw rounds %s" % (RATE, rows))
    finally:
        if edge:
            edge.stop()
        for daemon in daemons:
            daemon.stop()
        if paused:
            subprocess.run([str(component), "up"], capture_output=True, check=False)


if __name__ == "__main__":
    main()
