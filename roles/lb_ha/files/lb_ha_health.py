# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Safespring platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lb_ha health loop: is haproxy's frontend answering? Withdraw the service address if not.

Every `interval_ms` it sends `GET <uri>` to haproxy's local health frontend (monitor-uri) and
expects a 200 within `timeout_ms`. After `fall` consecutive failures the node is DOWN, after
`rise` consecutive successes UP again (hysteresis: a flapping haproxy does not flap routes).

    bgp mode:  DOWN disables BIRD's static protocols that carry the service routes (the
               route is withdrawn), UP enables them, over BIRD's control socket. The state is
               re-asserted on every tick because `birdc configure` resets it to the config.
    vrrp mode: writes 1 (DOWN) or 0 (UP) to keepalived's track_file; keepalived watches it
               with inotify and goes to FAULT (releases the VIP) on non-zero.
    While `maintenance_file` exists the node is DOWN whatever haproxy answers (graceful
    maintenance: lb_ha_maintenance writes and removes it).

Usage: python3 lb_ha_health CONFIG.json   (written by the lb_ha role; the unit runs it so)
Transitions are logged to stderr (journald under systemd).
"""
import json
import os
import socket
import sys
import time


def log(message):
    sys.stderr.write("lb_ha_health: %s\n" % message)
    sys.stderr.flush()


def check_http(address, port, uri, timeout):
    """True when the health frontend answers 200 within timeout seconds."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as conn:
            conn.settimeout(timeout)
            conn.connect((address, port))
            conn.sendall(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % uri).encode())
            status = conn.recv(64)
    except OSError:
        return False
    return status.startswith(b"HTTP/1.") and status[9:12] == b"200"


class Bird(object):
    """BIRD's control socket: one persistent connection, reconnected when BIRD restarts."""

    def __init__(self, path, protocols, timeout):
        self.path = path
        self.protocols = protocols
        self.timeout = timeout
        self.conn = None
        self.buffer = b""

    def _connect(self):
        self.conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.conn.settimeout(self.timeout)
        self.conn.connect(self.path)
        self.buffer = b""
        self._reply()  # 0001 welcome

    def _reply(self):
        """Lines up to the final one (`NNNN text`, a space after the code); returns its code."""
        while True:
            while b"\n" not in self.buffer:
                data = self.conn.recv(4096)
                if not data:
                    raise OSError("BIRD closed the control socket")
                self.buffer += data
            line, self.buffer = self.buffer.split(b"\n", 1)
            if len(line) > 4 and line[:4].isdigit() and line[4:5] == b" ":
                return int(line[:4])

    def apply(self, up):
        """Enable (up) or disable the service protocols; returns the codes BIRD answered."""
        verb = "enable" if up else "disable"
        codes = []
        try:
            if self.conn is None:
                self._connect()
            for name in self.protocols:
                self.conn.sendall(("%s %s\n" % (verb, name)).encode())
                codes.append(self._reply())
        except OSError as exc:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            log("BIRD control socket %s: %s" % (self.path, exc))
        return codes


class TrackFile(object):
    """keepalived track_file: 0 = OK, non-zero = FAULT (weight 0)."""

    def __init__(self, path):
        self.path = path
        self.written = None

    def apply(self, up):
        value = "0\n" if up else "1\n"
        if value == self.written and os.path.exists(self.path):
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(value)
        os.rename(tmp, self.path)  # atomic: keepalived never reads a half-written file
        self.written = value


class Health(object):
    """Consecutive-result counters with fall/rise; state None until the first verdict."""

    def __init__(self, fall, rise):
        self.fall = fall
        self.rise = rise
        self.state = None
        self.ok_run = 0
        self.fail_run = 0

    def update(self, ok):
        if ok:
            self.ok_run += 1
            self.fail_run = 0
            # The first success decides at once: a restart of this loop must not withdraw a serving node.
            if self.state is None or (not self.state and self.ok_run >= self.rise):
                self.state = True
        else:
            self.fail_run += 1
            self.ok_run = 0
            if self.state is not False and self.fail_run >= self.fall:
                self.state = False
        return self.state


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as handle:
        cfg = json.load(handle)
    check = cfg["check"]
    interval = check["interval_ms"] / 1000.0
    timeout = check["timeout_ms"] / 1000.0
    if cfg["mode"] == "bgp":
        actuator = Bird(cfg["bird_socket"], cfg["bird_protocols"], timeout=2.0)
    else:
        actuator = TrackFile(cfg["track_file"])
    health = Health(check["fall"], check["rise"])
    # Graceful maintenance (lb_ha_maintenance): while this file exists the node is withdrawn as if
    # haproxy were down; once it is gone, `rise` successes bring it back (no flapping).
    maintenance = cfg.get("maintenance_file")
    last = None
    log("checking http://%s:%d%s every %d ms (fall %d, rise %d), mode %s" % (
        check["address"], check["port"], check["uri"], check["interval_ms"], check["fall"], check["rise"], cfg["mode"]))
    next_tick = time.monotonic()
    while True:
        if maintenance and os.path.exists(maintenance):
            health.state, health.ok_run, health.fail_run = False, 0, health.fall
            state = False
        else:
            state = health.update(check_http(check["address"], check["port"], check["uri"], timeout))
        if state is not None:
            if state != last:
                log("haproxy %s: service address %s" % ("answers" if state else "does not answer",
                                                        "announced" if state else "withdrawn"))
                last = state
            actuator.apply(state)
        next_tick += interval
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_tick = time.monotonic()  # a slow check: do not burst to catch up


if __name__ == "__main__":
    sys.exit(main(sys.argv))
