"""The HAProxy edge (roles/haproxy) on real haproxy in the lab: ssn-lb1, backends in ssn-node1/2.

Traffic, TLS, filtering and the runtime API; load shedding and reloads are in
test_haproxy_shedding.py.
"""
import json

import pytest

from fixtures.haproxy import APP_HOST, CLIENT_CN, PROXY_HOST, WILD_HOST, runtime, wait_for

pytestmark = pytest.mark.lab


def test_https_is_terminated_and_routed_by_host_with_hsts_and_forwarded_source(haproxy_edge):
    code, body = haproxy_edge.curl("ssn-client1", "/", extra=("-D", "/dev/stderr"))
    assert code == 200, body
    assert body.startswith(("node1 ", "node2 "))
    assert f"host={APP_HOST}" in body
    assert "xff=198.18.2.11 " in body and "proto=https" in body

    proc = haproxy_edge.lab.run("ssn-client1", "curl", "-sS", "-o", "/dev/null", "-D", "-", "--resolve",
                                f"{APP_HOST}:443:{haproxy_edge.address}", "--cacert", haproxy_edge.pki["paths"]["ca"],
                                f"https://{APP_HOST}/")
    assert "strict-transport-security: max-age=63072000; includesubdomains" in proc.stdout.lower()


def test_client_supplied_forwarded_for_is_replaced_not_trusted(haproxy_edge):
    code, body = haproxy_edge.curl("ssn-client1", "/", extra=("-H", "X-Forwarded-For: 10.6.6.6"))
    assert code == 200
    assert "xff=198.18.2.11 " in body and "10.6.6.6" not in body


def test_wildcard_host_routes_and_unknown_host_gets_404(haproxy_edge):
    assert haproxy_edge.curl("ssn-client1", "/", host=WILD_HOST)[0] == 200
    # SNI of a served name, Host of nothing routed: refused as misdirected, never sent on.
    code, dummy_body = haproxy_edge.curl("ssn-client1", "/", extra=("-H", "Host: other.lab.test"))
    assert code == 421


def test_proxy_protocol_route_delivers_the_client_address(haproxy_edge):
    code, body = haproxy_edge.curl("ssn-client2", "/", host=PROXY_HOST)
    assert code == 200, body
    assert "src=198.18.2.12" in body


def test_http_redirects_to_https_with_301(haproxy_edge):
    proc = haproxy_edge.lab.run("ssn-client1", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                                "--resolve", f"{APP_HOST}:80:{haproxy_edge.address}", f"http://{APP_HOST}/x?y=1")
    assert proc.stdout == f"301 https://{APP_HOST}/x?y=1"


def test_ecdsa_and_rsa_certificates_are_chosen_per_client(haproxy_edge):
    def served(sigalgs):
        proc = haproxy_edge.lab.run("ssn-client1", "sh", "-c",
                                    f"openssl s_client -connect {haproxy_edge.address}:443 -servername {APP_HOST} "
                                    f"-tls1_2 -sigalgs {sigalgs} </dev/null 2>/dev/null | openssl x509 -noout -text",
                                    check=False)
        return proc.stdout
    assert "id-ecPublicKey" in served("ECDSA+SHA256")
    assert "rsaEncryption" in served("RSA-PSS+SHA256:RSA+SHA256")


def test_invalid_and_oversized_requests_are_refused(haproxy_edge):
    assert haproxy_edge.curl("ssn-client1", "/", extra=("-X", "TRACE"))[0] == 405
    assert haproxy_edge.curl("ssn-client1", "/", extra=("-H", "Content-Length: 99999999999", "-X", "POST"))[0] == 413
    many = []
    for i in range(80):
        many += ["-H", f"X-Pad-{i}: x"]
    assert haproxy_edge.curl("ssn-client1", "/", extra=tuple(many))[0] == 431                   # HTTP/2
    # HTTP/1.1: the parser refuses it (400, or the connection closed before curl reads it).
    assert haproxy_edge.curl("ssn-client1", "/", extra=("--http1.1",) + tuple(many))[0] in (0, 400, 431)
    big = ("-H", "X-Big: " + "a" * 20000)
    # Larger than tune.bufsize: HTTP/2 resets the stream (curl: no status), HTTP/1.1 gets 400.
    assert haproxy_edge.curl("ssn-client1", "/", extra=big)[0] in (0, 400, 431)
    assert haproxy_edge.curl("ssn-client1", "/", extra=("--http1.1",) + big)[0] in (0, 400, 431)


def test_client_certificate_reaches_the_api_server_untouched(haproxy_edge):
    paths = haproxy_edge.pki["paths"]
    proc = haproxy_edge.lab.run("ssn-jump", "curl", "-sS", "--max-time", "10", "--cacert", paths["ca"],
                                "--cert", paths["client.cert"], "--key", paths["client.key"],
                                "--resolve", f"kubernetes:6443:{haproxy_edge.address}", "https://kubernetes:6443/whoami")
    seen = json.loads(proc.stdout)
    assert seen == {"client_cn": CLIENT_CN, "client_sha256": haproxy_edge.pki["client_sha256"]}


def test_api_health_checks_cause_no_tls_handshake_errors_on_the_api_servers(haproxy_edge, edge_backends):
    # The edge has been checking every 3 s since it started; wait for a few more rounds.
    wait_for(lambda: haproxy_edge.server_states("kube-apiserver") == ["UP", "UP"], what="both API servers UP")
    import time
    time.sleep(7)
    errors = {str(f): int(f.read_text() or 0) for f in edge_backends["error_files"] if "-6443" in f.name}
    assert errors and all(count == 0 for count in errors.values()), errors


def test_api_ports_refuse_sources_outside_the_port_models_allowlist(haproxy_edge):
    # client2 is neither the jump host nor in api_cidrs.
    proc = haproxy_edge.lab.run("ssn-client2", "curl", "-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                                f"https://{haproxy_edge.address}:6443/readyz", check=False)
    assert proc.stdout in ("000", "")
    proc = haproxy_edge.lab.run("ssn-client1", "curl", "-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                                f"https://{haproxy_edge.address}:6443/readyz", check=False)
    assert proc.stdout == "200"


def test_admin_endpoint_only_for_the_jump_host(haproxy_edge):
    admin = haproxy_edge.vars["haproxy_admin_address"]
    url = f"http://[{admin}]:8404/metrics"
    ok = haproxy_edge.lab.run("ssn-jump", "curl", "-sS", "--max-time", "5", url)
    assert "haproxy_process_" in ok.stdout
    refused = haproxy_edge.lab.run("ssn-client1", "curl", "-sS", "--max-time", "5", url, check=False)
    assert refused.returncode != 0


def test_runtime_socket_is_private(haproxy_edge):
    mode = haproxy_edge.sock.stat()
    assert mode.st_uid == 0 and (mode.st_mode & 0o777) == 0o600


def test_denied_cidr_is_refused_and_runtime_allowlist_change_needs_no_reload(haproxy_edge):
    workers = haproxy_edge.workers()
    deny = haproxy_edge.lists / "deny.lst"
    api_allow = haproxy_edge.lists / "kube-apiserver.allow"
    url = f"https://{haproxy_edge.address}:6443/readyz"

    def api_from(netns):
        return haproxy_edge.lab.run(netns, "curl", "-sk", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}",
                                    url, check=False).stdout

    assert haproxy_edge.curl("ssn-client2", "/")[0] == 200
    assert runtime(haproxy_edge.sock, f"add acl {deny} 198.18.2.12/32").strip() == ""
    try:
        assert haproxy_edge.curl("ssn-client2", "/")[0] == 0          # refused before TLS
        assert haproxy_edge.curl("ssn-client1", "/")[0] == 200        # others unaffected
    finally:
        runtime(haproxy_edge.sock, f"del acl {deny} 198.18.2.12/32")
    assert haproxy_edge.curl("ssn-client2", "/")[0] == 200

    assert api_from("ssn-client2") == "000"
    runtime(haproxy_edge.sock, f"add acl {api_allow} 198.18.2.12/32")
    try:
        assert api_from("ssn-client2") == "200"
    finally:
        runtime(haproxy_edge.sock, f"del acl {api_allow} 198.18.2.12/32")
    assert api_from("ssn-client2") == "000"
    assert haproxy_edge.workers() == workers, "a runtime list change must not reload"


def test_list_sync_script_loads_a_changed_file_atomically_without_reload(haproxy_edge):
    import subprocess
    import sys
    from fixtures.haproxy import ROLE_DIR
    workers = haproxy_edge.workers()
    deny = haproxy_edge.lists / "deny.lst"
    original = deny.read_text()
    deny.write_text(original + "198.18.2.12/32\n")
    try:
        proc = subprocess.run([sys.executable, str(ROLE_DIR / "files" / "haproxy_list_sync.py"), str(haproxy_edge.sock),
                               str(deny), str(haproxy_edge.lists / "https.allow")], capture_output=True, text=True,
                              check=True)
        assert json.loads(proc.stdout) == {"changed": [str(deny)], "skipped": []}
        assert haproxy_edge.curl("ssn-client2", "/")[0] == 0
    finally:
        deny.write_text(original)
        subprocess.run([sys.executable, str(ROLE_DIR / "files" / "haproxy_list_sync.py"), str(haproxy_edge.sock),
                        str(deny)], check=True, capture_output=True)
    assert haproxy_edge.curl("ssn-client2", "/")[0] == 200
    assert haproxy_edge.workers() == workers
