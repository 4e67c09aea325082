"""What the role's hardening costs, and what shedding saves (real haproxy in the lab).

    source scripts/env.sh && python bench/haproxy_edge.py [--rounds 3] [--seconds 8]

Same run, same backends (haproxy stand-ins for NodePorts in ssn-node1/2), wrk from
ssn-client1, rounds alternated between the configurations, medians reported:

1. requests/s over keep-alive TLS and TLS handshakes/s (Connection: close, a full
   handshake per request) through
   - `hardened`: the role's haproxy.cfg (rendered by ansible), limits raised so that the
     stick tables are tracked and checked but never trigger;
   - `minimal`: one frontend, `ssl crt` + the same backends, nothing else.
   Target: the hardened config costs < 10 %.
2. An abuser (wrk, 50 connections, keep-alive) against the hardened config with its real
   limits, with and without the shedding response:
   - `shed`: as rendered: 429 + Connection: close, connection-rate/concurrency rejects
     before the TLS handshake, silent-drop above the abuse rate;
   - `429-keepalive`: the same limits answered by a plain 429 that keeps the connection.
   Reported: haproxy CPU (user+sys of the worker) per refused attempt and per second.
"""
import argparse
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
                              _listening, _pki, edge_vars, parse_wrk, render_edge, wait_for, with_hosts)
from fixtures.netns import LabNetns, load_topology  # noqa: E402

MINIMAL = """\
global
    maxconn {maxconn}
defaults
    mode http
    timeout client 30s
    timeout server 30s
    timeout connect 5s
frontend minimal
    bind {address}:{port} ssl crt {pem} alpn h2,http/1.1
    default_backend nodes
backend nodes
    balance roundrobin
    server n1 {n1}:{app} check
    server n2 {n2}:{app} check
"""
MINIMAL_PORT = 9443
HIGH = 100000000


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks (USER_HZ = 100)


def wrk(lab, root, edge, url, seconds, connections, close=False):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "3s"]
    if close:
        argv += ["-H", "Connection: close"]
    proc = lab.run("ssn-client1", *with_hosts(edge, argv + [url], root), check=False, timeout=seconds + 60)
    return parse_wrk(proc.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()

    subprocess.run([str(REPO / "tests" / "lab" / "netns.sh"), "up"], check=True, stdout=subprocess.DEVNULL)
    lab = LabNetns(load_topology())
    lb = lab.hosts["lb1"]
    busy = [p for p in (80, 443, 6443, 50000, MINIMAL_PORT) if _listening(lab, "ssn-lb1", p, lb.ipv4)]
    busy += [8404] if _listening(lab, "ssn-lb1", 8404, lb.ipv6) else []
    if busy:
        sys.exit(f"ports {busy} already listen on lb1's addresses in ssn-lb1; stop whatever runs there first")
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-haproxy-"))
    pki = _pki(root / "pki")
    daemons = []
    try:
        for name in ("node1", "node2"):
            host = lab.hosts[name]
            cfg = root / f"{name}.cfg"
            cfg.write_text(NODE_BACKEND.format(address=host.ipv4, app_port=NODEPORT_APP, pp_port=NODEPORT_PROXY, name=name))
            daemons.append(Daemon(host.netns, ["haproxy", "-W", "-f", str(cfg)], root / f"{name}.log"))
            wait_for(lambda n=host.netns: _listening(lab, n, NODEPORT_APP), what=f"{name} backend")

        def edge_with(sub, **overrides):
            role_vars = edge_vars(pki, root / sub, lab.topology, **overrides)
            render_edge(root / sub, role_vars)
            return Edge(lab, root / sub, role_vars, pki)

        hardened = edge_with("hardened", haproxy_limits={k: HIGH for k in (
            "http_req_rate", "conn_rate", "conn_cur", "api_conn_rate", "api_conn_cur")} | {"http_req_rate_abuse": HIGH + 1})
        hardened.start()
        address = hardened.address
        pem = root / "minimal.pem"
        pem.write_text(pki["ecdsa"]["cert"] + pki["ecdsa"]["key"])
        minimal_cfg = root / "minimal.cfg"
        minimal_cfg.write_text(MINIMAL.format(maxconn=hardened.cfg.read_text().split("maxconn ")[1].split()[0],
                                              address=address, port=MINIMAL_PORT, pem=pem,
                                              n1=lab.hosts["node1"].ipv4, n2=lab.hosts["node2"].ipv4, app=NODEPORT_APP))
        daemons.append(Daemon("ssn-lb1", ["haproxy", "-W", "-f", str(minimal_cfg)], root / "minimal.log"))
        wait_for(lambda: _listening(lab, "ssn-lb1", MINIMAL_PORT), what="minimal haproxy")
        time.sleep(4)  # health checks settle

        urls = {"hardened": f"https://{APP_HOST}/", "minimal": f"https://{APP_HOST}:{MINIMAL_PORT}/"}
        results = {(cfg, mode): [] for cfg in urls for mode in ("keepalive", "handshake")}
        for dummy_round in range(args.rounds):
            for mode in ("keepalive", "handshake"):
                for cfg, url in urls.items():
                    out = wrk(lab, root, hardened, url, args.seconds, 50 if mode == "keepalive" else 20,
                              close=(mode == "handshake"))
                    bad = out["non2xx"] + out["errors"]
                    assert out["requests"] > 0 and bad <= out["requests"] * 0.001, (cfg, mode, out)
                    results[(cfg, mode)].append(out["rps"])
        hardened.stop()

        print("\n== throughput (median of %d rounds, %d s each, wrk from ssn-client1) ==" % (args.rounds, args.seconds))
        print("%-22s %12s %12s %9s" % ("", "minimal", "hardened", "cost"))
        for mode, label in (("keepalive", "requests/s keep-alive"), ("handshake", "TLS handshakes/s")):
            base = statistics.median(results[("minimal", mode)])
            ours = statistics.median(results[("hardened", mode)])
            print("%-22s %12.0f %12.0f %8.1f%%" % (label, base, ours, (1 - ours / base) * 100))

        # -- the abuser ----------------------------------------------------------------
        limits = {"http_req_rate": 100, "http_req_rate_abuse": 300, "conn_rate": 100, "conn_cur": 20,
                  "api_conn_rate": 60, "api_conn_cur": 50}
        abuse = {}
        for variant in ("shed", "429-keepalive"):
            edge = edge_with("abuse-" + variant, haproxy_limits=limits)
            if variant == "429-keepalive":
                text = edge.cfg.read_text()
                text = text.replace(" hdr Connection close", "")
                text = "\n".join(line for line in text.splitlines()
                                 if "silent-drop" not in line and "reject if { sc0_conn_cur" not in line) + "\n"
                edge.cfg.write_text(text)
            edge.start()
            runs = []
            for dummy_round in range(args.rounds):
                time.sleep(21)  # the sliding rate counters of the previous round decay (two periods)
                worker = edge.workers()[0]
                cpu0, t0 = cpu_seconds(worker), time.monotonic()
                out = wrk(lab, root, edge, f"https://{APP_HOST}/", args.seconds, 50)
                cpu, wall = cpu_seconds(worker) - cpu0, time.monotonic() - t0
                served = out["requests"] - out["non2xx"]
                refused = out["non2xx"] + out["errors"]
                runs.append((cpu / max(refused, 1) * 1e6, cpu / wall * 100, refused / wall, served))
            edge.stop()
            abuse[variant] = [statistics.median(r[i] for r in runs) for i in range(4)]

        print("\n== one abuser, 50 connections (median of %d rounds) ==" % args.rounds)
        print("%-16s %18s %16s %18s %10s" % ("", "CPU us/refused", "haproxy CPU %", "refused/s", "served"))
        for variant, (per, share, rate, served) in abuse.items():
            print("%-16s %18.1f %16.1f %18.0f %10.0f" % (variant, per, share, rate, served))
        shed, plain = abuse["shed"], abuse["429-keepalive"]
        print("shedding: CPU per refused attempt x%.2f, haproxy CPU spent on the abuser x%.2f" % (
            shed[0] / plain[0], shed[1] / plain[1]))
    finally:
        for daemon in daemons:
            daemon.stop()


if __name__ == "__main__":
    main()
