# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health-gated change of a daemon's configuration file (haproxy, BIRD, keepalived).

    validate (the daemon's own parser) -> swap (atomic rename, the previous file kept beside
    it) -> reload (the daemon's own way, or systemd) -> health checks through the service
    address -> keep, or put the previous file back, reload, and fail naming the check and what
    it saw.

The gate is "do not make it worse": the checks run once before the swap. A check that passed
then and fails after the reload is a regression and rolls the change back at once (a BGP
session that is re-establishing gets a grace first); a check that failed before (first deploy, a peer that is down) gets the whole
timeout to come up and, if it does not, is reported as a warning - rolling back would not
make it pass. No Ansible import here: the module, the lab tests and the bench share it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import http.client
import ipaddress
import os
import pwd
import re
import signal
import socket
import ssl
import time

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported, the import only keeps sanity's compile test quiet
    from urlparse import urlsplit  # pylint: disable=import-error

from ansible_collections.safespring.netsec.plugins.module_utils._files import read_text
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

# The daemon's own validator ({path} is the candidate file), its systemd unit, how its native
# reload works, and the grace of a check that is only settling (see settling()): `birdc
# configure` restarts a session whose options changed (BGP re-establishes in 1-3 s); haproxy
# reloads hitlessly and keepalived's SIGHUP keeps the VRRP state, so any failure there counts at once.
DAEMONS = {
    "haproxy": {"validate": ["haproxy", "-c", "-f", "{path}"], "unit": "haproxy.service", "native": "master socket or SIGUSR2",
                "grace": 0.0},
    "bird": {"validate": ["bird", "-p", "-c", "{path}"], "unit": "bird.service", "native": "birdc configure", "grace": 5.0},
    "keepalived": {"validate": ["keepalived", "-t", "-f", "{path}"], "unit": "keepalived.service", "native": "SIGHUP",
                   "grace": 0.0},
}
CHECK_TYPES = ("http", "haproxy_backend", "bird_protocol", "address_held")
PREVIOUS_SUFFIX = ".netsec-previous"
CANDIDATE_SUFFIX = ".netsec-candidate"
_UNIT = re.compile(r"^[A-Za-z0-9:_.@-]+$")
_BACKEND = re.compile(r"^[A-Za-z0-9_.:-]+$")
_PROTOCOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def run_argv(argv, timeout=30):
    """The default runner: none. Modules pass a wrapper of module.run_command (argv, never a shell),
    so every command goes through Ansible's runner and its logging."""
    raise NetsecError("no command runner given for %s" % (argv[0] if argv else "a command"),
                      fix="pass run=, a wrapper of module.run_command returning (rc, stdout, stderr)")


# --- typing the request (pure) ----------------------------------------------------------

def _need(check, key, index, kind=str):
    value = check.get(key)
    if value is None or value == "" or not isinstance(value, kind):
        raise NetsecError("required for a %s check" % check.get("type"), field=field_path("checks", index, key),
                          fix="set %s" % key)
    return value


def parse_checks(checks):
    """Typed checks (dicts with defaults filled in); NetsecError naming checks[i].field."""
    out = []
    for index, raw in enumerate(checks or []):
        if not isinstance(raw, dict):
            raise NetsecError("must be a mapping", field=field_path("checks", index), fix="give type: and its options")
        kind = raw.get("type")
        if kind not in CHECK_TYPES:
            raise NetsecError("%r is not a check type" % (kind,), field=field_path("checks", index, "type"),
                              fix="one of %s" % ", ".join(CHECK_TYPES))
        check = {"type": kind, "timeout": raw.get("timeout") or 1.0, "warn": raw.get("warn", True) is not False,
                 "after_rollback": raw.get("after_rollback", True)}
        if not isinstance(check["after_rollback"], bool):
            raise NetsecError("%r is not a boolean" % (check["after_rollback"],),
                              field=field_path("checks", index, "after_rollback"), fix="true or false")
        if not isinstance(check["timeout"], (int, float)) or not 0 < check["timeout"] <= 60:
            raise NetsecError("%r is not a timeout in seconds (0-60]" % (raw.get("timeout"),),
                              field=field_path("checks", index, "timeout"), fix="e.g. 1.0")
        if kind == "http":
            url = _need(raw, "url", index)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise NetsecError("%r is not an http(s) URL with an address" % url, field=field_path("checks", index, "url"),
                                  fix="e.g. https://198.18.0.10:443/healthz")
            expect = raw.get("expect") or [200]
            if not isinstance(expect, list) or not all(isinstance(c, int) and 100 <= c <= 599 for c in expect):
                raise NetsecError("%r is not a list of HTTP status codes" % (expect,), field=field_path("checks", index, "expect"),
                                  fix="e.g. [200, 301]")
            check.update(url=url, host=raw.get("host") or parts.hostname, cafile=raw.get("cafile") or None, expect=expect)
        elif kind == "haproxy_backend":
            backend = _need(raw, "backend", index)
            if not _BACKEND.match(backend):
                raise NetsecError("%r is not a backend name" % backend, field=field_path("checks", index, "backend"),
                                  fix="the name of a backend section")
            check.update(backend=backend, socket=_need(raw, "socket", index))
        elif kind == "address_held":
            address = _need(raw, "address", index)
            try:
                check["address"] = str(ipaddress.ip_address(address))
            except ValueError:
                raise NetsecError("%r is not an IP address" % address, field=field_path("checks", index, "address"),
                                  fix="the VIP without prefix length")
        else:
            protocol = _need(raw, "protocol", index)
            if not _PROTOCOL.match(protocol):
                raise NetsecError("%r is not a BIRD protocol name" % protocol, field=field_path("checks", index, "protocol"),
                                  fix="e.g. lb_ha_peer")
            min_exported = raw.get("min_exported", 0)
            if not isinstance(min_exported, int) or min_exported < 0:
                raise NetsecError("%r is not a route count" % (min_exported,), field=field_path("checks", index, "min_exported"),
                                  fix="0 or more")
            check.update(protocol=protocol, socket=_need(raw, "socket", index), min_exported=min_exported)
        out.append(check)
    return out


def parse_request(params):
    """The module's parameters typed: NetsecError naming the field before anything changes."""
    daemon = params.get("daemon")
    if daemon not in DAEMONS:
        raise NetsecError("%r is not a supported daemon" % (daemon,), field="daemon", fix="one of %s" % ", ".join(sorted(DAEMONS)))
    dest = params.get("dest")
    if not dest or not os.path.isabs(dest):
        raise NetsecError("%r is not an absolute path" % (dest,), field="dest", fix="the live configuration file")
    reload_method = params.get("reload") or "native"
    unit = params.get("unit") or DAEMONS[daemon]["unit"]
    if not _UNIT.match(unit):
        raise NetsecError("%r is not a systemd unit name" % unit, field="unit", fix="e.g. %s" % DAEMONS[daemon]["unit"])
    if reload_method == "native":
        if daemon == "haproxy" and not (params.get("master_socket") or params.get("pid_file")):
            raise NetsecError("haproxy's native reload needs its master socket or its pid file", field="master_socket",
                              fix="set master_socket (haproxy -S) or pid_file, or reload=systemd")
        if daemon == "bird" and not params.get("control_socket"):
            raise NetsecError("birdc configure needs BIRD's control socket", field="control_socket", fix="e.g. /run/bird/bird.ctl")
        if daemon == "keepalived" and not params.get("pid_file"):
            raise NetsecError("keepalived is reloaded by SIGHUP to the pid in its pid file", field="pid_file",
                              fix="e.g. /run/keepalived.pid, or reload=systemd")
    mode = params.get("mode")
    if mode is not None:
        try:
            mode = int(str(mode), 8)
        except ValueError:
            raise NetsecError("%r is not an octal mode" % (params.get("mode"),), field="mode", fix="e.g. '0640'")
        if not 0 <= mode <= 0o7777:
            raise NetsecError("%r is not a file mode" % (params.get("mode"),), field="mode", fix="e.g. '0640'")
    owner = _ids(params.get("owner"), pwd.getpwnam, "owner")
    group = _ids(params.get("group"), grp.getgrnam, "group")
    timeout = params.get("timeout") if params.get("timeout") is not None else 10.0
    if not 0 < timeout <= 600:
        raise NetsecError("%r is not a timeout in seconds (0-600]" % (timeout,), field="timeout", fix="e.g. 10")
    grace = params.get("grace")
    grace = DAEMONS[daemon]["grace"] if grace is None else grace
    if not 0 <= grace <= timeout:
        raise NetsecError("%r must lie between 0 and timeout" % (grace,), field="grace", fix="e.g. %s" % DAEMONS[daemon]["grace"])
    passes = params.get("passes") or 3
    return {
        "daemon": daemon, "dest": dest, "content": params.get("content"), "reload": reload_method, "unit": unit,
        "master_socket": params.get("master_socket"), "pid_file": params.get("pid_file"),
        "control_socket": params.get("control_socket"), "mode": mode, "owner": owner, "group": group,
        "checks": parse_checks(params.get("checks")), "timeout": float(timeout), "grace": float(grace), "passes": int(passes),
    }


def _ids(name, lookup, field):
    if name in (None, ""):
        return None
    try:
        entry = lookup(name)
    except KeyError:
        raise NetsecError("%r does not exist on this host" % name, field=field, fix="create it first or leave %s out" % field)
    return entry[2]


def plan(live, content):
    """What the change would do (pure): 'none', 'create' or 'update'."""
    if content is None:
        return "reload"
    if live is None:
        return "create"
    return "none" if live == content else "update"


# --- the daemons ----------------------------------------------------------------------

def unix_command(path, command, timeout=5.0, until_close=True):
    """One command on a line-oriented unix control socket (haproxy CLI); the reply text."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(path)
        conn.sendall(command.encode() + b"\n")
        chunks = []
        while until_close:
            data = conn.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def haproxy_workers(master_socket):
    """PIDs of the current workers; the old ones (still finishing their connections) are listed
    after "# old workers" and do not count."""
    pids = []
    for line in unix_command(master_socket, "show proc; quit").splitlines():
        if line.startswith("# old workers"):
            break
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "worker" and parts[0].isdigit():
            pids.append(int(parts[0]))
    return pids


def _read_pid(path):
    with open(path) as handle:
        text = handle.read().split()
    if not text or not text[0].isdigit():
        raise OSError("no pid in %s" % path)
    return int(text[0])


class Reloader(object):
    """Reloads one daemon; reload() returns None or what went wrong (text)."""

    def __init__(self, request, run=run_argv, timeout=10.0):
        self.request = request
        self.run = run
        self.timeout = timeout

    def describe(self):
        req = self.request
        if req["reload"] == "systemd":
            return "systemctl reload-or-restart %s" % req["unit"]
        if req["reload"] == "none":
            return "none"
        if req["daemon"] == "haproxy":
            return "haproxy master socket reload" if req["master_socket"] else "SIGUSR2 to haproxy's master"
        return DAEMONS[req["daemon"]]["native"]

    def running(self):
        """Whether the daemon runs (a baseline is only meaningful then)."""
        req = self.request
        if req["reload"] == "none":
            return False
        if req["reload"] == "systemd":
            return self.run(["systemctl", "is-active", "--quiet", req["unit"]])[0] == 0
        try:
            if req["daemon"] == "haproxy" and req["master_socket"]:
                return bool(haproxy_workers(req["master_socket"]))
            if req["daemon"] == "bird":
                return self.run(["birdc", "-s", req["control_socket"], "show", "status"])[0] == 0
            os.kill(_read_pid(req["pid_file"]), 0)
            return True
        except OSError:
            return False

    def reload(self):
        req = self.request
        if req["reload"] == "none":
            return None
        if req["reload"] == "systemd":
            # A stopped unit is started (first deploy); a running one is reloaded, never restarted.
            rc, out, err = self.run(["systemctl", "reload-or-restart", req["unit"]], timeout=self.timeout + 30)
            return None if rc == 0 else "systemctl reload-or-restart %s exited %d: %s" % (req["unit"], rc, (out + err).strip()[-500:])
        if req["daemon"] == "haproxy":
            return self._haproxy()
        if req["daemon"] == "bird":
            rc, out, err = self.run(["birdc", "-s", req["control_socket"], "configure"])
            text = (out + err).strip()
            return None if rc == 0 and "Reconfigur" in text else "birdc configure: %s" % text[-500:]
        try:
            os.kill(_read_pid(req["pid_file"]), signal.SIGHUP)
        except OSError as exc:
            return "SIGHUP to keepalived: %s" % exc
        return None

    def _haproxy(self):
        req = self.request
        if not req["master_socket"]:
            try:
                os.kill(_read_pid(req["pid_file"]), signal.SIGUSR2)
            except OSError as exc:
                return "SIGUSR2 to haproxy's master: %s" % exc
            return None
        try:
            before = set(haproxy_workers(req["master_socket"]))
        except OSError as exc:
            return "haproxy master socket %s: %s" % (req["master_socket"], exc)
        try:
            unix_command(req["master_socket"], "reload", until_close=False)
        except OSError:
            pass  # the master re-executes itself and drops the CLI connection
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                now = set(haproxy_workers(req["master_socket"]))
                if now and not now & before:
                    return None
            except OSError:
                pass
            time.sleep(0.05)
        return "no new haproxy worker within %.0f s of the reload" % self.timeout


# --- health checks ----------------------------------------------------------------------

def describe_check(check):
    if check["type"] == "http":
        return "GET %s (Host %s)" % (check["url"], check["host"])
    if check["type"] == "haproxy_backend":
        return "haproxy backend %s has a server UP" % check["backend"]
    if check["type"] == "address_held":
        return "%s is held by this host" % check["address"]
    return "BIRD protocol %s Established with >= %d routes exported" % (check["protocol"], check["min_exported"])


def http_check(check):
    """(ok, seen) for one request on a new connection through the service address."""
    url = urlsplit(check["url"])
    wait = check["timeout"]
    try:
        if url.scheme == "https":
            ctx = ssl.create_default_context(cafile=check["cafile"])
            if not check["cafile"]:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=ctx, timeout=wait)
            conn.sock = ctx.wrap_socket(socket.create_connection((url.hostname, url.port or 443), timeout=wait),
                                        server_hostname=check["host"])
        else:
            conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=wait)
        conn.request("GET", url.path or "/", headers={"Host": check["host"], "Connection": "close"})
        status = conn.getresponse().status
        conn.close()
    except (OSError, http.client.HTTPException) as exc:
        return False, "%s: %s" % (type(exc).__name__, exc)
    return status in check["expect"], "status %d" % status


# `show servers state` (format 1) columns, and haproxy's own codes in them (2.6 check-t.h / server-t.h).
_SRV_NAME, _SRV_OP, _SRV_ADMIN, _SRV_CHECK_RESULT, _SRV_CHECK_STATE = 3, 5, 6, 11, 13
_SRV_RUNNING = 2
_CHECK_ENABLED = 0x4
_RESULT_FAILED, _RESULT_PASSED, _RESULT_CONDPASS = 2, 3, 4


def server_states(reply):
    """[(server, state, label)] from `show servers state BACKEND`; state is 'up', 'down' or 'pending'.

    A new worker starts every checked server UP with no check result, and one failed check marks it
    DOWN (health starts at rise): until its first check after the reload has completed, UP only means
    "not checked yet" - pending, not a pass. A server DOWN whose last check passed is rising (the
    normal UP transition of a healthy one) - pending, not a failure. A server without health checks
    is what haproxy says it is; one in maintenance or drain takes no new traffic - down."""
    out = []
    for line in reply.splitlines():
        parts = line.split()
        if len(parts) <= _SRV_CHECK_STATE or not parts[0].isdigit():
            continue
        try:
            op, admin, result, checking = (int(parts[i]) for i in (_SRV_OP, _SRV_ADMIN, _SRV_CHECK_RESULT, _SRV_CHECK_STATE))
        except ValueError:
            continue
        name, running = parts[_SRV_NAME], op == _SRV_RUNNING
        passed = result in (_RESULT_PASSED, _RESULT_CONDPASS)
        if admin:
            out.append((name, "down", "%s=MAINT" % name))
        elif not checking & _CHECK_ENABLED:
            out.append((name, "up" if running else "down", "%s=%s" % (name, "UP" if running else "DOWN")))
        elif running and passed:
            out.append((name, "up", "%s=UP" % name))
        elif running:
            out.append((name, "pending", "%s=UP, %s" % (name, "going down" if result == _RESULT_FAILED else "not checked yet")))
        elif result == _RESULT_FAILED:
            out.append((name, "down", "%s=DOWN" % name))
        else:
            out.append((name, "pending", "%s=DOWN, %s" % (name, "rising" if passed else "not checked yet")))
    return out


def backend_verdict(servers):
    """(ok, seen): True once a server is UP by a check of this worker, None while none is and one is still
    pending, False when every server is settled DOWN (or there are none)."""
    states = [state for _name, state, _label in servers]
    ok = True if "up" in states else None if "pending" in states else False
    return ok, ",".join(label for _name, _state, label in servers)


def haproxy_backend_check(check):
    """(ok, seen) for one backend of the local haproxy over its runtime API (never through the service
    address: on a VRRP backup that is the peer's haproxy); ok None while its servers are settling."""
    try:
        reply = unix_command(check["socket"], "show servers state %s" % check["backend"], timeout=check["timeout"])
    except OSError as exc:
        return False, "runtime API %s: %s" % (check["socket"], exc)
    servers = server_states(reply)
    if not servers:
        return False, "no servers (%s)" % (reply.strip()[:200] or "empty reply")
    return backend_verdict(servers)


def bird_protocol_state(text):
    """(state, exported) from `birdc show protocols all NAME`."""
    state, exported = None, 0
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 6 and words[1] == "BGP" and state is None:
            state = words[5] if words[3] == "up" else words[3]
        match = re.search(r"Routes:\s+\d+ imported, (?:\d+ filtered, )?(\d+) exported", line)
        if match:
            exported += int(match.group(1))
        match = re.match(r"\s+BGP state:\s+(\S+)", line)
        if match:
            state = match.group(1)
    return state, exported


def bird_protocol_check(check, run=run_argv):
    rc, out, err = run(["birdc", "-s", check["socket"], "show", "protocols", "all", check["protocol"]], timeout=check["timeout"] + 4)
    if rc != 0:
        return False, "birdc: %s" % (out + err).strip()[-300:]
    state, exported = bird_protocol_state(out)
    return state == "Established" and exported >= check["min_exported"], "%s, %d exported" % (state, exported)


def settling(check, seen):
    """A failure that may be a legitimate restart: a BGP session not (yet) Established. It gets
    the grace; anything else that regressed (a refused request, routes not exported) does not."""
    return check["type"] == "bird_protocol" and not seen.startswith("Established")


def address_held_check(check, run=run_argv):
    """(ok, seen): the address is on one of this host's interfaces (a VRRP master keeps its VIP)."""
    rc, out, err = run(["ip", "-o", "addr", "show"])
    if rc != 0:
        return False, "ip addr: %s" % (out + err).strip()[-300:]
    for line in out.splitlines():
        words = line.split()
        if len(words) > 3 and words[2] in ("inet", "inet6") and words[3].split("/")[0] == check["address"]:
            return True, "on %s" % words[1]
    return False, "not on any interface"


def run_check(check, run=run_argv):
    if check["type"] == "address_held":
        return address_held_check(check, run)
    if check["type"] == "http":
        return http_check(check)
    if check["type"] == "haproxy_backend":
        return haproxy_backend_check(check)
    return bird_protocol_check(check, run)


def settled_failure(check, ok):
    """A failure that waiting will not turn into a pass within the gate: a backend whose servers all
    failed their first check of the new worker. (Any other failing check may still come up.)"""
    return ok is False and check["type"] == "haproxy_backend"


class Health(object):
    """The checks against a baseline (see the module docstring for the rule). A check answers
    (True|False|None, seen): None is "settling" (haproxy servers whose first check of the new worker
    has not completed) - neither a pass nor a failure, for at most the timeout."""

    def __init__(self, checks, timeout, grace, passes, run=run_argv, clock=time.monotonic, sleep=time.sleep, interval=0.1):
        self.checks = checks
        self.timeout = timeout
        self.grace = grace
        self.passes = passes
        self.run = run
        self.clock = clock
        self.sleep = sleep
        self.interval = interval

    def snapshot(self):
        return [run_check(c, self.run) for c in self.checks]

    def baseline(self):
        """Each check's verdict before the change; one still settling (a reload just before) is waited for
        up to the timeout, then counts as failing (only warnings then: nothing known to protect)."""
        deadline = self.clock() + self.timeout
        while True:
            seen = self.snapshot()
            if all(ok is not None for ok, _what in seen) or self.clock() >= deadline:
                return [ok is True for ok, _what in seen]
            self.sleep(self.interval)

    def _warnings(self, seen):
        return ["%s failed before the change and still fails (saw %s): kept, a rollback would not fix it"
                % (describe_check(self.checks[i]), what) for i, (ok, what) in enumerate(seen)
                if ok is not True and self.checks[i].get("warn", True)]

    def gate(self, baseline):
        """None when healthy (or only baseline-failing checks still fail: then warnings),
        else (check description, seen). Returns (failure, warnings)."""
        start = self.clock()
        first_fail = {}
        streak = 0
        seen = []
        while True:
            seen = self.snapshot()
            now = self.clock()
            for index, (ok, what) in enumerate(seen):
                if ok:
                    first_fail.pop(index, None)
                elif ok is False and baseline[index]:
                    first_fail.setdefault(index, now)
                    if not settling(self.checks[index], what) or now - first_fail[index] >= self.grace:
                        return (describe_check(self.checks[index]), what), []
            # Healthy: every check passes, except baseline failures that have settled as failing.
            if all(ok is True or (not baseline[i] and settled_failure(self.checks[i], ok)) for i, (ok, _w) in enumerate(seen)):
                streak += 1
                if streak >= self.passes:
                    return None, self._warnings(seen)
            else:
                streak = 0
            if now - start >= self.timeout:
                break
            self.sleep(self.interval)
        for index, (ok, what) in enumerate(seen):
            if ok is None and baseline[index]:
                # Passed before; cannot be shown to pass now: not kept on trust.
                return (describe_check(self.checks[index]), "%s (still settling %.0f s after the reload)" % (what, self.timeout)), []
        return None, self._warnings(seen)

    def wait_healthy(self, baseline):
        """After a rollback: (None, warnings) once every baseline-passing check required after a rollback
        passes `passes` times in a row, else ((check, seen), []). A check with after_rollback false (a VRRP
        holder's VIP, which the peer keeps once it took it over) only warns when it still fails."""
        deadline = self.clock() + self.timeout
        streak, last, seen = 0, None, []
        while self.clock() < deadline:
            last = None
            seen = self.snapshot()
            for index, (ok, what) in enumerate(seen):
                if baseline[index] and ok is not True and self.checks[index].get("after_rollback", True):
                    last = (describe_check(self.checks[index]), what)
                    break
            streak = streak + 1 if last is None else 0
            if streak >= self.passes:
                return None, ["after the rollback %s still fails (saw %s)" % (describe_check(self.checks[i]), what)
                              for i, (ok, what) in enumerate(seen) if baseline[i] and ok is not True]
            self.sleep(self.interval)
        return last or ("health", "timeout"), []


# --- the change ---------------------------------------------------------------------------

def _write_candidate(path, content, request, like):
    """The candidate beside the live file, 0600 from creation, then its final owner and mode."""
    if os.path.exists(path):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    stat = os.stat(like) if like and os.path.exists(like) else None
    uid = request["owner"] if request["owner"] is not None else (stat.st_uid if stat else -1)
    gid = request["group"] if request["group"] is not None else (stat.st_gid if stat else -1)
    if (uid, gid) != (-1, -1) and os.geteuid() == 0:
        os.chown(path, uid, gid)
    mode = request["mode"] if request["mode"] is not None else (stat.st_mode & 0o7777 if stat else 0o644)
    os.chmod(path, mode)


def validate(request, path, run=run_argv):
    """None or the validator's complaint."""
    argv = [a.replace("{path}", path) for a in DAEMONS[request["daemon"]]["validate"]]
    rc, out, err = run(argv)
    if rc != 0:
        return "%s exited %d: %s" % (" ".join(argv[:2]), rc, (out + err).strip()[-2000:])
    return None


def _metadata_drift(request, dest):
    """Owner/group/mode of the live file that differ from the request (a change without new content)."""
    try:
        stat = os.stat(dest)
    except OSError:
        return {}
    drift = {}
    if request["mode"] is not None and stat.st_mode & 0o7777 != request["mode"]:
        drift["mode"] = request["mode"]
    if request["owner"] is not None and stat.st_uid != request["owner"]:
        drift["owner"] = request["owner"]
    if request["group"] is not None and stat.st_gid != request["group"]:
        drift["group"] = request["group"]
    return drift


def apply_change(request, check_mode=False, run=run_argv, clock=time.monotonic, sleep=time.sleep):
    """The whole gated change; a result dict (failed: msg when it did not stick)."""
    dest = request["dest"]
    live = read_text(dest)
    action = plan(live, request["content"])
    result = {"changed": False, "rolled_back": False, "change": action, "dest": dest, "warnings": []}
    if request["content"] is not None:
        result["diff"] = {"before": live or "", "after": request["content"], "before_header": dest, "after_header": dest}
    reloader = Reloader(request, run=run, timeout=request["timeout"])
    result["reload"] = reloader.describe()
    drift = _metadata_drift(request, dest) if action == "none" else {}
    if drift and not check_mode:
        if "mode" in drift:
            os.chmod(dest, drift["mode"])
        if os.geteuid() == 0 and ("owner" in drift or "group" in drift):
            os.chown(dest, drift.get("owner", -1), drift.get("group", -1))
    if action == "none":
        result["changed"] = bool(drift)
        return result
    candidate = dest + CANDIDATE_SUFFIX
    if action != "reload":
        if check_mode:
            # Validate in a private temp copy: --check refuses what the real run would refuse.
            candidate = os.path.join(os.path.dirname(dest) if os.access(os.path.dirname(dest) or ".", os.W_OK) else "/tmp",
                                     ".%s.%d.check" % (os.path.basename(dest), os.getpid()))
        _write_candidate(candidate, request["content"], request, dest)
    try:
        complaint = validate(request, candidate if action != "reload" else dest, run)
    finally:
        if check_mode and action != "reload" and os.path.exists(candidate):
            os.unlink(candidate)
    if complaint and check_mode:
        # Files the config refers to (certificates, lists) are not written in check mode either: say it, do not fail.
        result["warnings"].append("check mode: the new %s config does not validate yet (%s); files it refers to may be "
                                  "written only in a real run" % (request["daemon"], complaint))
        result["changed"] = action != "reload"
        return result
    if complaint:
        if action != "reload" and os.path.exists(candidate):
            os.unlink(candidate)
        result["failed"] = "validation of the new %s config refused, live file untouched: %s" % (request["daemon"], complaint)
        return result
    if check_mode:
        result["changed"] = action != "reload"
        return result
    health = Health(request["checks"], request["timeout"], request["grace"], request["passes"], run=run, clock=clock, sleep=sleep)
    running = reloader.running()
    baseline = health.baseline() if running else [False] * len(request["checks"])
    result["baseline"] = [{"check": describe_check(c), "ok": ok} for c, ok in zip(request["checks"], baseline)]
    started = clock()
    previous = dest + PREVIOUS_SUFFIX
    if action == "update":
        with open(dest, "rb") as src, open(previous + ".tmp", "wb") as out:
            out.write(src.read())
        stat = os.stat(dest)
        os.chmod(previous + ".tmp", stat.st_mode & 0o7777)
        if os.geteuid() == 0:
            os.chown(previous + ".tmp", stat.st_uid, stat.st_gid)
        os.replace(previous + ".tmp", previous)
    if action != "reload":
        os.replace(candidate, dest)
        result["changed"] = True
    failure = None
    problem = reloader.reload()
    result["reload_seconds"] = [round(clock() - started, 3)]
    if problem:
        failure = ("reload (%s)" % reloader.describe(), problem)
    elif request["reload"] != "none":
        failure, result["warnings"] = health.gate(baseline)
    if failure is None:
        if os.path.exists(previous):
            os.unlink(previous)
        result["seconds"] = round(clock() - started, 3)
        return result
    detected = clock()
    result.update({"failed_check": failure[0], "saw": failure[1], "detect_seconds": round(detected - started, 3)})
    if action != "update":
        result["failed"] = ("%s change of %s failed: %s (saw %s); no previous file to restore"
                            % (request["daemon"], dest, failure[0], failure[1]))
        return result
    os.replace(previous, dest)
    problem = reloader.reload()
    result["reload_seconds"].append(round(clock() - detected, 3))
    restored, after = (("reload (%s)" % reloader.describe(), problem), []) if problem else health.wait_healthy(baseline)
    result["warnings"] = list(result.get("warnings") or []) + after
    result.update({"changed": False, "rolled_back": True, "rollback_seconds": round(clock() - detected, 3),
                   "restored_healthy": restored is None})
    result["failed"] = "%s change of %s rolled back: %s failed (saw %s)" % (request["daemon"], dest, failure[0], failure[1])
    if restored is None:
        result["failed"] += "; the previous config serves again (%.2f s after detection)" % result["rollback_seconds"]
    else:
        result["failed"] += "; the previous config is back but %s still fails (saw %s)" % restored
    return result


# --- the checks the roles gate their changes on -------------------------------------------

def _url(scheme, address, port, path):
    host = "[%s]" % address if ":" in address else address
    return "%s://%s:%d%s" % (scheme, host, port, path)


def haproxy_checks(typed):
    """From the haproxy role's typed inputs: its health frontend answers 200, port 80 of the first
    service address answers haproxy's own 301, each route with a health path and an exact host
    answers 2xx/3xx over TLS through the service address, and every backend it renders with servers
    has a server UP by this haproxy's own health checks (runtime API).

    The backend checks are what protect a VRRP backup: there the service address is the peer's, so
    the requests through it are answered by the other LB's haproxy, whatever this change broke."""
    checks = []
    health = typed.get("health_frontend") or {}
    if health:
        checks.append({"type": "http", "url": _url("http", health["address"], int(health["port"]), health["uri"]), "expect": [200]})
    service = typed.get("service_addresses") or []
    if service:
        checks.append({"type": "http", "url": _url("http", service[0], 80, "/"), "host": "localhost", "expect": [301]})
        for route in typed.get("routes") or []:
            path = route.get("health_path")
            if path and path.startswith("/") and route.get("exact_hosts"):
                checks.append({"type": "http", "url": _url("https", service[0], 443, path), "host": route["exact_hosts"][0],
                               "expect": list(range(200, 400))})
    if typed.get("runtime_socket"):
        checks.extend({"type": "haproxy_backend", "backend": name, "socket": typed["runtime_socket"]}
                      for name in typed.get("backends") or [])
    return checks


def lb_ha_checks(typed):
    """From the lb_ha role's typed inputs. bgp: the session to the platform peer stays Established
    and exports every service route; vrrp: the VIP (whoever holds it) answers haproxy's 301, and a
    holder still holds it."""
    if typed["mode"] == "bgp":
        return [{"type": "bird_protocol", "protocol": "lb_ha_peer", "socket": typed["paths"]["bird_socket"],
                 "min_exported": len(typed["service_addresses"])}]
    # The holder keeps the VIP (a backup does not hold it before either: no warning for that). The
    # peer taking over would hide a broken master from the HTTP check alone. After a rollback the peer
    # keeps a VIP it took over (nopreempt, or a higher priority): served through it is what counts then.
    return [{"type": "http", "url": _url("http", typed["bare_addresses"][0], 80, "/"), "host": "localhost", "expect": [301]}] + [
        {"type": "address_held", "address": address, "warn": False, "after_rollback": False} for address in typed["bare_addresses"]]
