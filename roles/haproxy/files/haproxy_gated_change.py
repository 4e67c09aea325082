# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Safespring platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Health-gated haproxy configuration change with automatic rollback.
#
#   haproxy_gated_change.py SPEC.json
#
# SPEC: {"config": live haproxy.cfg, "candidate": the new file, "master_socket": ...,
#        "runtime_socket": ..., "checks": [{"url": "https://ADDR:443/", "host": "app.example",
#        "cafile": null, "expect": [200], "timeout": 1.0}], "backends": ["route_app"], "timeout": 10}
# validate (haproxy -c) -> swap (atomic rename, previous kept) -> reload (master CLI) ->
# health (each check through the service address, and the runtime API: every named backend
# has a server UP) -> keep, or put the previous file back, reload, and exit 1 naming the check
# and what it saw. Prints one JSON line. A rerun converges: the previous file is only
# replaced once the candidate passed.
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse


def cli(sock, command, timeout=10):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(sock)
        conn.sendall(command.encode() + b"\n")
        chunks = []
        while True:
            data = conn.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode()


def workers(master):
    out = []
    for line in cli(master, "show proc; quit").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "worker" and parts[0].isdigit():
            out.append(int(parts[0]))
    return out


def reload(master, timeout):
    """Reload through the master CLI; True once a worker that was not there before runs."""
    before = set(workers(master))
    try:
        cli(master, "reload")
    except OSError:
        pass  # the master re-executes itself and drops the CLI connection
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            now = set(workers(master))
            if now and not now & before:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def http_check(check):
    """(ok, what was seen) for one request through the service address. A reply slower than
    check_timeout (default 1 s) is a failure: clients of a broken backend wait that long too."""
    wait = check.get("timeout", 1.0)
    url = urllib.parse.urlsplit(check["url"])
    host = check.get("host") or url.hostname
    try:
        if url.scheme == "https":
            ctx = ssl.create_default_context(cafile=check.get("cafile"))
            if not check.get("cafile"):
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            raw = socket.create_connection((url.hostname, url.port or 443), timeout=wait)
            conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=ctx, timeout=wait)
            conn.sock = ctx.wrap_socket(raw, server_hostname=host)
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=wait)
        conn.request("GET", url.path or "/", headers={"Host": host, "Connection": "close"})
        status = conn.getresponse().status
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return False, "%s: %s" % (type(exc).__name__, exc)
    return status in check.get("expect", [200]), "status %d" % status


def backend_check(runtime, backend):
    """(ok, seen): at least one server of the backend is UP (srv_op_state 2) per the runtime API."""
    states = []
    for line in cli(runtime, "show servers state %s" % backend).splitlines()[2:]:
        parts = line.split()
        if len(parts) > 5:
            states.append("%s=%s" % (parts[3], "UP" if parts[5] == "2" else "DOWN"))
    return any(s.endswith("=UP") for s in states), ",".join(states) or "no servers"


def healthy(spec):
    """None when every check passes within the timeout (3 passes in a row), else (check, seen)."""
    deadline = time.monotonic() + spec.get("timeout", 10)
    streak, last = 0, None
    while time.monotonic() < deadline:
        last = None
        for check in spec.get("checks", []):
            ok, seen = http_check(check)
            if not ok:
                last = ("GET %s (Host %s)" % (check["url"], check.get("host", "")), seen)
                break
        if last is None:
            for backend in spec.get("backends", []):
                ok, seen = backend_check(spec["runtime_socket"], backend)
                if not ok:
                    last = ("backend %s has no server UP" % backend, seen)
                    break
        streak = streak + 1 if last is None else 0
        if streak >= spec.get("passes", 3):
            return None
        # A failed request is a failed client request: stop at the first one unless told to wait.
        if last is not None and not spec.get("wait_for_health", False):
            return last
        time.sleep(0.1)
    return last or ("health", "timeout")


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: haproxy_gated_change.py SPEC.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    live, candidate = spec["config"], spec["candidate"]
    previous = live + ".netsec-previous"
    result = {"changed": False, "rolled_back": False}
    with open(candidate, "rb") as handle:
        new = handle.read()
    with open(live, "rb") as handle:
        old = handle.read()
    if new == old:
        print(json.dumps(result))
        return 0
    proc = subprocess.run(["haproxy", "-c", "-q", "-f", candidate], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        result["failed"] = "validation (haproxy -c): %s" % (proc.stdout + proc.stderr).strip()[-2000:]
        print(json.dumps(result))
        return 1
    started = time.monotonic()
    shutil.copy2(live, previous)
    tmp = live + ".netsec-new"
    shutil.copy2(candidate, tmp)
    os.replace(tmp, live)
    result["changed"] = True
    failed = None if reload(spec["master_socket"], spec.get("timeout", 10)) else ("reload", "no new worker")
    if failed is None:
        failed = healthy(spec)
    if failed is None:
        os.unlink(previous)
        result["seconds"] = round(time.monotonic() - started, 3)
        print(json.dumps(result))
        return 0
    detected = time.monotonic()
    os.replace(previous, live)
    reloaded = reload(spec["master_socket"], spec.get("timeout", 10))
    restored = healthy(dict(spec, wait_for_health=True)) if reloaded else ("reload", "no new worker")
    result.update({"changed": False, "rolled_back": True, "failed_check": failed[0], "saw": failed[1],
                   "detect_seconds": round(detected - started, 3),
                   "rollback_seconds": round(time.monotonic() - detected, 3),
                   "restored_healthy": restored is None})
    result["failed"] = "haproxy change rolled back: %s failed (saw %s)" % failed
    if restored is not None:
        result["failed"] += "; the previous config is back but %s failed too (saw %s)" % restored
    print(json.dumps(result))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
