"""Certificate renewal: hot-swap over the runtime API vs a plain reload (the baseline), under load.

    source scripts/env.sh && python bench/haproxy_cert_hotswap.py [--rounds 3] [--seconds 8]
    python bench/haproxy_cert_hotswap.py --rounds 0 --reloads 10 --variants 'close-spread-time 5s,close-spread-time 10s'

The role's haproxy (ACME enabled: the acme crt-list) in the private netns acme-edge, a NodePort
stand-in behind it, on loopback. Per round and method, while wrk keeps 10 keep-alive TLS
connections busy on https://app.acme.test/ and a probe opens a new TLS connection every 20 ms:
- `hot-swap`: set ssl cert + commit ssl cert (module_utils/haproxy/runtime_api.py, the code
  safespring.netsec.haproxy_certificate runs);
- `reload`: the same PEM written to the file, then a master-worker reload (master CLI `reload`);
- `reload+icor`: the reload with `option idle-close-on-response` in defaults (a candidate fix for
  the keep-alive reload errors).
Reports, medians over the rounds: seconds until a new TLS client sees the new certificate, wrk
socket errors (keep-alive), failed probe connections, and whether the workers changed.
Then the keep-alive errors of reloads per config variant (VARIANTS: close-spread-time 0 .. 20s,
infinite, grace, idle-close-on-response), interleaved passes, medians.
The machine is shared (2 cores, other agents): figures are noisy.
"""
import argparse
import datetime
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / ".build" / "collections"))

from fixtures.acme import ACME_HOST, LB, NETNS, NODE, AcmeEdge, acme_vars, netns_run, run_role  # noqa: E402
from fixtures.haproxy import NODE_BACKEND, Daemon, _pki, parse_wrk, wait_for  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import certificates as C  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy.runtime_api import RuntimeAPI  # noqa: E402

PROBE = textwrap.dedent("""\
    import os, socket, ssl, sys, time, json
    host, stop = sys.argv[1], sys.argv[2]
    ctx = ssl._create_unverified_context()
    ok = failed = 0
    while not os.path.exists(stop):
        try:
            with socket.create_connection(("127.0.0.1", 443), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as tls:
                    tls.sendall(b"GET / HTTP/1.1\\r\\nHost: " + host.encode() + b"\\r\\nConnection: close\\r\\n\\r\\n")
                    ok += tls.recv(64).startswith(b"HTTP/1.1 200")
        except Exception:
            failed += 1
        time.sleep(0.02)
    print(json.dumps({"ok": ok, "failed": failed}))
    """)
SEEN = textwrap.dedent("""\
    import hashlib, socket, ssl, sys
    ctx = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", 443), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=sys.argv[1]) as tls:
            print(hashlib.sha1(tls.getpeercert(binary_form=True)).hexdigest().upper())
    """)


def leaf(ca_key, ca_cert, serial_hint):
    """A fresh ECDSA certificate for app.acme.test signed by the bench CA; returns (cert_pem, key_pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ACME_HOST)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30 + serial_hint))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(ACME_HOST)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode())


def bench_ca():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).sign(key, hashes.SHA256()))
    return key, cert


def seen(host=ACME_HOST):
    return netns_run(sys.executable, "-c", SEEN, host, check=False, timeout=10).stdout.strip()


def wrk(root, seconds):
    hosts = root / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n{LB} {ACME_HOST}\n")
    cmd = 'mount --bind "$0" /etc/hosts && exec "$@"'
    return subprocess.Popen(["ip", "netns", "exec", NETNS, "unshare", "-m", "sh", "-c", cmd, str(hosts), "wrk", "-t1", "-c10",
                             f"-d{seconds}s", "--timeout", "3s", f"https://{ACME_HOST}/"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def one_round(edge, method, pem, fingerprint, seconds, root):
    stop = root / f"stop-{method}-{time.monotonic_ns()}"
    load = wrk(root, seconds)
    probe = subprocess.Popen(["ip", "netns", "exec", NETNS, sys.executable, "-c", PROBE, ACME_HOST, str(stop)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    workers = edge.workers()
    t0 = time.monotonic()
    if method == "hot-swap":
        RuntimeAPI(str(edge.sock)).replace_cert(edge.acme_file, pem)
    else:
        pathlib.Path(edge.acme_file).write_text(pem)
        edge.reload()
    while seen() != fingerprint:
        if time.monotonic() - t0 > 30:
            raise SystemExit(f"{method}: new certificate not served after 30 s")
        time.sleep(0.02)
    visible = time.monotonic() - t0
    out, dummy = load.communicate(timeout=seconds + 30)
    stop.touch()
    probed = json.loads(probe.communicate(timeout=30)[0])
    result = parse_wrk(out)
    return {"visible_s": visible, "wrk_errors": result["errors"], "wrk_requests": result["requests"],
            "probe_failed": probed["failed"], "probe_ok": probed["ok"], "workers_changed": edge.workers() != workers}


def _global(text, directive, value):
    """The rendered config with one global directive set (None: removed)."""
    lines = [line for line in text.split("\n") if line.split()[:1] != [directive]]
    at = lines.index("global") + 1
    if value is not None:
        lines.insert(at, "    %s %s" % (directive, value))
    return "\n".join(lines)


# name -> (global directives to set, extra defaults line); close-spread-time 10s is the role's default.
VARIANTS = {
    "close-spread-time 0": ({"close-spread-time": "0"}, None),
    "close-spread-time 5s": ({"close-spread-time": "5s"}, None),
    "close-spread-time 10s": ({"close-spread-time": "10s"}, None),
    "close-spread-time 20s": ({"close-spread-time": "20s"}, None),
    "close-spread-time infinite": ({"close-spread-time": "infinite"}, None),
    "infinite+hard-stop-after 3s": ({"close-spread-time": "infinite", "hard-stop-after": "3s"}, None),
    "grace 1s": ({"grace": "1s"}, None),
    "idle-close-on-response": ({}, "option idle-close-on-response"),
}


def variant_cfg(plain_cfg, name):
    directives, defaults_line = VARIANTS[name]
    text = plain_cfg
    for directive, value in directives.items():
        text = _global(text, directive, value)
    if defaults_line:
        text = text.replace("defaults\n", "defaults\n    %s\n" % defaults_line, 1)
    return text


def keepalive_reload_errors(edge, cfg, plain_cfg, reloads, root, names, repeat):
    """wrk keep-alive errors over `reloads` reloads, one per second, per config variant."""
    print()
    print(f"keep-alive errors over {reloads} reloads (wrk -c10, one reload per second), {repeat} pass(es), interleaved")
    errors = {name: [] for name in names}
    for dummy_pass in range(repeat):
        for name in names:
            text = variant_cfg(plain_cfg, name)
            subprocess.run(["haproxy", "-c", "-q", "-f", "/dev/stdin"], input=text, text=True, check=True)
            cfg.write_text(text)
            edge.reload()
            time.sleep(2)
            load = wrk(root, reloads + 4)
            time.sleep(2)
            for dummy in range(reloads):
                edge.reload()
                time.sleep(1)
            out, dummy_err = load.communicate(timeout=reloads + 60)
            result = parse_wrk(out)
            errors[name].append(result["errors"])
            detail = next((line.strip() for line in out.splitlines() if line.strip().startswith("Socket errors")), "Socket errors: none")
            print(f"{name:<30} errors {result['errors']:>4}  requests {result['requests']:>8}  ({detail})", flush=True)
    print()
    print(f"{'variant':<30}{'errors per pass':>24}{'median':>8}{'per reload':>12}")
    for name in names:
        med = statistics.median(errors[name])
        print(f"{name:<30}{' '.join(str(e) for e in errors[name]):>24}{med:>8.0f}{med / reloads:>12.2f}")
    cfg.write_text(plain_cfg)
    edge.reload()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--reloads", type=int, default=10, help="reloads per variant in the keep-alive error count (0: skip)")
    parser.add_argument("--variants", default="close-spread-time 5s,close-spread-time 10s,idle-close-on-response",
                        help="comma-separated, of: " + ", ".join(VARIANTS))
    parser.add_argument("--variant-repeat", type=int, default=3, help="interleaved passes over the variants")
    args = parser.parse_args()
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error("unknown variant(s) %s; known: %s" % (unknown, ", ".join(VARIANTS)))
    root = pathlib.Path(tempfile.mkdtemp(prefix="bench-hotswap-"))
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    daemons, edge = [], None
    try:
        netns_run("ip", "link", "set", "lo", "up")
        pki = _pki(root / "pki")
        backend_cfg = root / "node.cfg"
        backend_cfg.write_text(NODE_BACKEND.format(address=NODE, app_port=30080, pp_port=30081, name="node1"))
        daemons.append(Daemon(NETNS, ["haproxy", "-W", "-f", str(backend_cfg)], root / "node.log"))
        role_vars = acme_vars(pki, root / "edge")
        run_role(root / "edge", role_vars)
        cfg = pathlib.Path(role_vars["haproxy_config_dir"]) / "haproxy.cfg"
        plain_cfg = cfg.read_text()
        edge = AcmeEdge(None, root / "edge", role_vars, pki)
        edge.acme_file = role_vars["haproxy_config_dir"] + "/certs/acme-app.pem"
        edge.start()
        wait_for(lambda: "UP" in edge.server_states("route_app"), timeout=20, what="NodePort stand-in UP")
        ca_key, ca_cert = bench_ca()
        cert, key = leaf(ca_key, ca_cert, 0)
        text, dummy_fp = C.bundle(cert, key)
        crt_list = role_vars["haproxy_config_dir"] + "/certs/acme-crt-list.txt"
        RuntimeAPI(str(edge.sock)).add_cert(edge.acme_file, text, crt_list, [ACME_HOST])
        pathlib.Path(edge.acme_file).write_text(text)
        pathlib.Path(crt_list).write_text(f"{edge.acme_file} {ACME_HOST}\n")
        methods = ("hot-swap", "reload", "reload+icor") if args.rounds else ()
        results = {m: [] for m in methods}
        for round_no in range(args.rounds):
            for method in methods:
                wanted = plain_cfg.replace("defaults\n", "defaults\n    option idle-close-on-response\n", 1) \
                    if method == "reload+icor" else plain_cfg
                if cfg.read_text() != wanted:
                    cfg.write_text(wanted)
                    edge.reload()
                    time.sleep(1)
                cert, key = leaf(ca_key, ca_cert, round_no + 1)
                text, fingerprint = C.bundle(cert, key)
                results[method].append(one_round(edge, method, text, fingerprint, args.seconds, root))
                print(method, round_no + 1, json.dumps(results[method][-1]), flush=True)
        if not args.rounds:
            keepalive_reload_errors(edge, cfg, plain_cfg, args.reloads, root, names, args.variant_repeat)
            return
        print()
        print(f"certificate renewal under load ({args.rounds} rounds, wrk -c10 keep-alive {args.seconds}s + new-TLS probe every 20 ms; medians)")
        print(f"{'method':<14}{'visible after':>15}{'wrk errors':>12}{'wrk requests':>14}{'probe failed':>14}{'workers changed':>17}")
        med = {}
        for method in methods:
            rows = results[method]
            med[method] = {k: statistics.median([r[k] for r in rows]) for k in ("visible_s", "wrk_errors", "wrk_requests", "probe_failed")}
            changed = sum(1 for r in rows if r["workers_changed"])
            print(f"{method:<14}{med[method]['visible_s'] * 1000:>12.0f} ms{med[method]['wrk_errors']:>12.0f}"
                  f"{med[method]['wrk_requests']:>14.0f}{med[method]['probe_failed']:>14.0f}{changed:>12}/{len(rows)}")
        base = med["reload"]
        hot = med["hot-swap"]
        ratio = base["visible_s"] / hot["visible_s"] if hot["visible_s"] else float("inf")
        print(f"hot-swap vs reload: visible {ratio:.1f}x sooner; keep-alive errors {hot['wrk_errors']:.0f} vs {base['wrk_errors']:.0f}; "
              f"reload+icor keep-alive errors {med['reload+icor']['wrk_errors']:.0f}")
        print("raw:", json.dumps(results))
        if args.reloads:
            keepalive_reload_errors(edge, cfg, plain_cfg, args.reloads, root, names, args.variant_repeat)
    finally:
        if edge:
            edge.stop()
        for daemon in daemons:
            daemon.stop()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)


if __name__ == "__main__":
    main()
