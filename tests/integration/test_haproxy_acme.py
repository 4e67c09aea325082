"""Real ACME (issue 17, part 3) and the chunked body limit (part 4) against real daemons.

Pebble, built from its Go module, validates HTTP-01 for app.acme.test by fetching the token from
the role's haproxy on :80 (no PEBBLE_VA_ALWAYS_VALID); the role issues, renews and hot-swaps the
certificate over the runtime API. The proof a TLS client sees the new certificate without a reload:
the master pid, the worker pids and the master's reload counter are unchanged, and a probe making a
new TLS connection (verified against Pebble's root) every few milliseconds sees no failure.
"""
import hashlib
import json
import subprocess
import sys
import textwrap
import time

import pytest
from cryptography import x509

from fixtures.acme import ACME_HOST, LB, NETNS, RETIRED_HOST, netns_run, run_role, served_certificate

pytestmark = [pytest.mark.lab, pytest.mark.slow]

PROBE = textwrap.dedent("""\
    import hashlib, json, socket, ssl, sys, time
    import os
    host, cafile, stop, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    ctx = ssl.create_default_context(cafile=cafile)
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end and not os.path.exists(stop):
        try:
            with socket.create_connection(("127.0.0.1", 443), timeout=5) as raw:
                with ctx.wrap_socket(raw, server_hostname=host) as tls:
                    der = tls.getpeercert(binary_form=True)
                    tls.sendall(b"GET / HTTP/1.1\\r\\nHost: " + host.encode() + b"\\r\\nConnection: close\\r\\n\\r\\n")
                    status = tls.recv(64).split(b" ")[1].decode()
            out.append([status, hashlib.sha256(der).hexdigest()[:16]])
        except Exception as exc:
            out.append(["error:" + type(exc).__name__, None])
        time.sleep(0.02)
    print(json.dumps(out))
    """)


def fp(der):
    return hashlib.sha256(der).hexdigest()[:16]


def _backend_sessions(edge):
    """Sessions the NodePort stand-in's server got (stot of route_app/node1 in `show stat`)."""
    lines = edge.runtime("show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row.get("pxname") == "route_app" and row.get("svname") not in ("FRONTEND", "BACKEND"):
            return int(row["stot"])
    raise AssertionError("no route_app server in show stat")


def _upload(tmp_path, size, *args):
    body = tmp_path / f"body-{size}"
    body.write_bytes(b"x" * size)
    proc = netns_run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "15", "--resolve", f"app.lab.test:443:{LB}",
                     "--cacert", str(ACME_CA[0]), *args, "--data-binary", f"@{body}", "https://app.lab.test/upload",
                     check=False, timeout=20)
    return proc.stdout.strip(), proc.returncode


ACME_CA = []
CHUNKED = ("--http1.1", "-H", "Transfer-Encoding: chunked")
H2_NO_LENGTH = ("--http2", "-H", "Content-Length:")  # HTTP/2 DATA frames, no declared length


def test_chunked_upload_over_the_limit_is_refused_413_and_under_it_reaches_the_backend(acme_edge, tmp_path):
    ACME_CA[:] = [acme_edge.pki["paths"]["ca"]]
    limit = 8192  # the role's default haproxy_max_chunked_body_size
    for framing in (CHUNKED, H2_NO_LENGTH):
        sessions = _backend_sessions(acme_edge)
        assert _upload(tmp_path, limit, *framing) == ("200", 0), framing
        assert _backend_sessions(acme_edge) == sessions + 1
        assert _upload(tmp_path, limit + 1, *framing) == ("413", 0), framing
        # A body far past the buffer: refused before any byte reaches a backend. The client may be
        # cut off while still sending (curl 55 broken pipe / 92 stream reset) instead of reading the 413.
        code, rc = _upload(tmp_path, 1024 * 1024, *framing)
        assert code == "413" or (code == "000" and rc in (55, 92)), (framing, code, rc)
        assert _backend_sessions(acme_edge) == sessions + 1, framing
    # A declared Content-Length is judged by haproxy_max_body_size (10 MiB), not by the chunked limit.
    assert _upload(tmp_path, limit + 1, "--http1.1") == ("200", 0)


def test_pebble_issues_over_http01_through_haproxy_and_it_is_served_without_a_reload(acme_edge, pebble):
    master, workers, reloads = acme_edge.master_pid(), acme_edge.workers(), acme_edge.reloads()
    before = served_certificate()  # the default certificate: nothing issued yet
    assert ACME_HOST not in [n.value for n in x509.load_der_x509_certificate(before).extensions
                             .get_extension_for_class(x509.SubjectAlternativeName).value]

    proc = run_role(acme_edge.role_root, dict(acme_edge.vars, haproxy_acme_issue=True, haproxy_acme_ca_file=pebble["minica"]))
    assert "Hot-swap the certificates" in proc.stdout

    der = served_certificate(cafile=pebble["roots"])  # verifies the chain up to Pebble's root, and the name
    cert = x509.load_der_x509_certificate(der)
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [ACME_HOST]
    assert "Pebble" in cert.issuer.rfc4514_string()
    # Pebble really fetched the token from haproxy's :80 (its validation authority logs the fetch).
    log = pebble["log"].read_text()
    assert "http://app.acme.test/.well-known/acme-challenge/" in log or "acme-challenge" in (acme_edge.root / "haproxy.log").read_text()
    # Served with no reload: same master, same workers, same reload counter.
    assert (acme_edge.master_pid(), acme_edge.workers(), acme_edge.reloads()) == (master, workers, reloads)
    # The tokens are gone again from the running haproxy and from the map file.
    assert "0x" not in acme_edge.runtime(f"show map {acme_edge.vars['haproxy_config_dir']}/lists/acme-challenge.map")
    # Key files 0600 from the start.
    for name in ("account.key", "app.key"):
        mode = (acme_edge.cfg.parent / "acme" / name).stat().st_mode & 0o777
        assert mode == 0o600, (name, oct(mode))
    assert (acme_edge.cfg.parent / "certs" / "acme-app.pem").stat().st_mode & 0o777 == 0o600

    # Not due for renewal: a second run orders nothing and changes nothing.
    again = run_role(acme_edge.role_root, dict(acme_edge.vars, haproxy_acme_issue=True, haproxy_acme_ca_file=pebble["minica"]))
    assert "changed=0" in again.stdout.split("PLAY RECAP")[1], again.stdout[-3000:]
    assert fp(served_certificate()) == fp(der)


def test_renewal_is_hot_swapped_under_load_with_no_failed_request_and_no_reload(acme_edge, pebble, tmp_path):
    first = served_certificate(cafile=pebble["roots"])
    master, workers, reloads = acme_edge.master_pid(), acme_edge.workers(), acme_edge.reloads()
    stop = tmp_path / "stop"
    probe = subprocess.Popen(["ip", "netns", "exec", NETNS, sys.executable, "-c", PROBE, ACME_HOST, pebble["roots"], str(stop), "300"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    # haproxy_acme_renew_days above the 90-day validity: due now.
    t0 = time.monotonic()
    run_role(acme_edge.role_root, dict(acme_edge.vars, haproxy_acme_issue=True, haproxy_acme_ca_file=pebble["minica"],
                                       haproxy_acme_renew_days=3650))
    renew_s = time.monotonic() - t0
    time.sleep(2)
    stop.touch()
    out, err = probe.communicate(timeout=120)
    assert probe.returncode == 0, err
    results = json.loads(out)
    renewed = served_certificate(cafile=pebble["roots"])
    assert fp(renewed) != fp(first)
    assert x509.load_der_x509_certificate(renewed).serial_number != x509.load_der_x509_certificate(first).serial_number
    runs = []
    for r in results:
        if runs and runs[-1][0] == (r[0], r[1]):
            runs[-1][1] += 1
        else:
            runs.append([(r[0], r[1]), 1])
    print("first", fp(first), "renewed", fp(renewed), "timeline", runs[:20])
    failed = [r for r in results if r[0] != "200"]
    seen = [r[1] for r in results if r[1]]
    print(f"renewal run {renew_s:.1f}s; probe {len(results)} TLS connections, {len(failed)} failed; "
          f"old cert {seen.count(fp(first))}, new cert {seen.count(fp(renewed))}")
    assert not failed, failed[:5]
    # The probe saw the old certificate, then only the new one (a clean switch, no flapping).
    switch = seen.index(fp(renewed))
    assert set(seen[:switch]) == {fp(first)} and set(seen[switch:]) == {fp(renewed)}
    assert (acme_edge.master_pid(), acme_edge.workers(), acme_edge.reloads()) == (master, workers, reloads)


def _names(der):
    return x509.load_der_x509_certificate(der).extensions.get_extension_for_class(x509.SubjectAlternativeName) \
        .value.get_values_for_type(x509.DNSName)


def _recap(proc):
    return proc.stdout.split("PLAY RECAP")[1]


def test_a_certificate_removed_from_the_role_is_retired_without_a_reload_and_its_sni_gets_the_default(acme_edge, pebble):
    certs, acme_dir = acme_edge.cfg.parent / "certs", acme_edge.cfg.parent / "acme"
    retired_file, crt_list = certs / "acme-old.pem", certs / "acme-crt-list.txt"
    both = [{"name": "app", "hosts": [ACME_HOST]}, {"name": "old", "hosts": [RETIRED_HOST]}]
    run_role(acme_edge.role_root, dict(acme_edge.vars, haproxy_acme_certificates=both, haproxy_acme_issue=True,
                                       haproxy_acme_ca_file=pebble["minica"]))
    assert _names(served_certificate(RETIRED_HOST, cafile=pebble["roots"])) == [RETIRED_HOST]
    app = fp(served_certificate(cafile=pebble["roots"]))
    default = fp(served_certificate("unknown.acme.test"))  # what haproxy presents for a name no certificate has
    assert default not in (app, fp(served_certificate(RETIRED_HOST)))
    # A token a killed run left behind, in the map file and the running haproxy.
    stale = "StaleTokenOfAKilledRun_0123456789"
    map_file = f"{acme_edge.vars['haproxy_config_dir']}/lists/acme-challenge.map"
    acme_edge.runtime(f"add map {map_file} {stale} {stale}.thumbprintthumbprint")
    with open(map_file, "a") as handle:
        handle.write(f"{stale} {stale}.thumbprintthumbprint\n")
    master, workers, reloads = acme_edge.master_pid(), acme_edge.workers(), acme_edge.reloads()
    only_app = dict(acme_edge.vars, haproxy_acme_issue=True, haproxy_acme_ca_file=pebble["minica"])  # haproxy_acme_certificates: [app]

    # Check mode with diff: reports the retirement by path and fingerprint, changes nothing, shows no key.
    check = run_role(acme_edge.role_root, only_app, args=("--check", "--diff"))
    assert "Retire them from the running haproxy" in check.stdout and "live_fingerprint" in check.stdout
    assert "PRIVATE KEY" not in check.stdout + check.stderr
    assert retired_file.exists() and _names(served_certificate(RETIRED_HOST)) == [RETIRED_HOST]

    proc = run_role(acme_edge.role_root, only_app)
    assert "PRIVATE KEY" not in proc.stdout + proc.stderr
    # The TLS client for the retired name now gets the default certificate (haproxy falls back, no handshake failure).
    assert fp(served_certificate(RETIRED_HOST)) == default
    assert fp(served_certificate(cafile=pebble["roots"])) == app
    assert str(retired_file) not in acme_edge.runtime("show ssl cert")
    assert str(retired_file) not in acme_edge.runtime(f"show ssl crt-list {crt_list}")
    # Nothing on disk brings it back at the next start: no crt-list line, no PEM, no ACME key.
    assert str(retired_file) not in crt_list.read_text() and str(certs / "acme-app.pem") in crt_list.read_text()
    assert not retired_file.exists() and not any(acme_dir.glob("old.*"))
    assert (acme_dir / "app.key").exists()
    # The stale token is gone too.
    assert stale not in acme_edge.runtime(f"show map {map_file}") and stale not in open(map_file).read()
    # No reload: same master, same workers, same reload counter.
    assert (acme_edge.master_pid(), acme_edge.workers(), acme_edge.reloads()) == (master, workers, reloads)
    # The configuration still starts from the files (what a later reload or restart would read).
    netns_run("haproxy", "-c", "-f", str(acme_edge.cfg))

    again = run_role(acme_edge.role_root, only_app)
    assert "changed=0" in _recap(again), again.stdout[-3000:]
