"""Load shedding on the role's edge: abusers are limited, legitimate clients keep being served.

The limits are lowered for the test (EDGE_OVERRIDES) so that one load generator on this
small machine can be an abuser. Timing bounds are generous: CI machines are noisy.
"""
import socket
import ssl
import subprocess
import time

import pytest

from fixtures.haproxy import APP_HOST, finish_probe, parse_wrk, start_probe, with_hosts

pytestmark = pytest.mark.lab

EDGE_OVERRIDES = {
    "haproxy_limits": {"http_req_rate": 100, "http_req_rate_abuse": 300, "conn_rate": 120, "conn_cur": 20,
                       "api_conn_rate": 60, "api_conn_cur": 50},
}


def test_abusive_source_is_limited_while_a_legitimate_one_keeps_99_percent(haproxy_edge):
    probe = start_probe(haproxy_edge.lab, "ssn-client2", haproxy_edge, count=100, rate=8)
    time.sleep(0.5)
    abuser = ["wrk", "-t1", "-c20", "-d12s", "--timeout", "2s", f"https://{APP_HOST}/"]
    wrk = haproxy_edge.lab.run("ssn-client1", *with_hosts(haproxy_edge, abuser, haproxy_edge.root), timeout=60, check=False)
    legit = finish_probe(probe)
    abuse = parse_wrk(wrk.stdout)
    assert legit.success >= 0.99, legit
    assert legit.median < 0.25 and legit.p95 < 1.0, legit
    served = abuse["requests"] - abuse["non2xx"]
    # The abuser was served at first (the route works), then shed: 100 requests per 10 s are
    # allowed, so over ~12 s a few hundred at most, out of thousands attempted.
    assert served >= 50, wrk.stdout
    assert served < 600, wrk.stdout
    assert abuse["requests"] + abuse["errors"] > 3 * served, wrk.stdout


def test_fast_source_gets_429_and_its_connection_closed(haproxy_edge):
    ctx = ssl.create_default_context(cafile=haproxy_edge.pki["paths"]["ca"])
    # A source of its own (ssn-scanner): client1 is the other tests' abuser, client2 the legitimate client.
    with _netns_socket("ssn-scanner", haproxy_edge.address) as raw:
        conn = ctx.wrap_socket(raw, server_hostname=APP_HOST)
        request = f"GET / HTTP/1.1\r\nHost: {APP_HOST}\r\n\r\n".encode()
        statuses = []
        for dummy_request in range(130):
            try:
                conn.sendall(request)
                head = _read_response(conn)
            except (ConnectionError, ssl.SSLError, OSError):
                break
            statuses.append(head.split(b" ")[1])
            if b"\r\nconnection: close" in head.lower():
                break
        limit = EDGE_OVERRIDES["haproxy_limits"]["http_req_rate"]
        assert statuses.count(b"200") >= limit * 0.9 and set(statuses[:-1]) == {b"200"}, statuses
        # The first request over the limit gets 429 with Connection: close ...
        assert statuses[-1] == b"429"
        # Closed by the edge: nothing more is read from it.
        assert conn.recv(1) == b""


def _netns_socket(netns, address):
    """A TCP connection made from inside a lab namespace (setns on a helper thread is not needed:
    a child process hands over the connected socket)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    code = ("import socket,sys,array;"
            "s=socket.create_connection((sys.argv[1],443),timeout=5);"
            "u=socket.socket(fileno=int(sys.argv[2]));"
            "socket.send_fds(u,[b'x'],[s.fileno()])")
    subprocess.run(["ip", "netns", "exec", netns, "python3", "-c", code, address, str(child.fileno())],
                   pass_fds=(child.fileno(),), check=True, timeout=15)
    dummy_data, fds, dummy_flags, dummy_address = socket.recv_fds(parent, 1, 1)
    parent.close()
    child.close()
    sock = socket.socket(fileno=fds[0])
    sock.settimeout(5)
    return sock


def _read_response(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, dummy_separator, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, dummy_colon, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(4096)
    return head


def test_slowloris_does_not_deny_service_to_a_legitimate_client(haproxy_edge, tmp_path):
    slow = subprocess.Popen(["ip", "netns", "exec", "ssn-client1", "slowhttptest", "-H", "-c", "400", "-r", "100",
                             "-i", "2", "-x", "10", "-l", "20", "-u", f"https://{haproxy_edge.address}/"],
                            stdout=open(tmp_path / "slowhttptest.log", "w"), stderr=subprocess.STDOUT)
    try:
        time.sleep(3)
        legit = finish_probe(start_probe(haproxy_edge.lab, "ssn-client2", haproxy_edge, count=100, rate=8))
    finally:
        slow.wait(60)
    assert legit.success >= 0.99, legit
    assert legit.p95 < 1.0, legit


def test_incomplete_request_header_is_cut_off_by_timeout_http_request(haproxy_edge):
    ctx = ssl.create_default_context(cafile=haproxy_edge.pki["paths"]["ca"])
    conn = ctx.wrap_socket(_netns_socket("ssn-client2", haproxy_edge.address), server_hostname=APP_HOST)
    conn.settimeout(20)
    conn.sendall(f"GET / HTTP/1.1\r\nHost: {APP_HOST}\r\n".encode())
    started = time.monotonic()
    trickle_until = started + 15
    closed_after = None
    while time.monotonic() < trickle_until:
        try:
            conn.sendall(b"X-a: b\r\n")
            conn.settimeout(1)
            data = conn.recv(4096)
            if data == b"" or data.startswith(b"HTTP/1.1 408"):
                closed_after = time.monotonic() - started
                break
        except socket.timeout:
            continue
        except (ConnectionError, ssl.SSLError, OSError):
            closed_after = time.monotonic() - started
            break
    assert closed_after is not None and 4 <= closed_after <= 9, closed_after
