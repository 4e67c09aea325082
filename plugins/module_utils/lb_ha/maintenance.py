# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Graceful maintenance of one LB of the pair: withdraw, drain, re-announce (and the router's view).

Withdrawing goes through the role's own health loop (files/lb_ha_health.py): while the
maintenance flag file exists the loop treats haproxy as down - bgp: BIRD's lb_ha_vip* protocols
are disabled (the routes withdrawn), vrrp: the track file faults the instance, keepalived sends
priority 0 and the peer takes the VIP at once. Removing the flag brings the node back after the
loop's `rise` (no flapping), exactly as after a real outage.

VRRP hand-over without a failed new connection: for `linger` seconds the withdrawn LB keeps the
VIP as a /32 on lo (with arp_ignore=1 on the segment interface, so it never answers ARP for it)
and its haproxy keeps serving whatever still reaches it while the router's ARP entry moves to the
peer's gratuitous ARP. The peer owning the VIP is seen on the wire (an ARP request on the
segment answered by another MAC), not assumed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import re
import socket
import struct
import time

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import (bird_protocol_state, describe_check, parse_checks,
                                                                                     run_argv, run_check, unix_command)

STATES = ("withdrawn", "drained", "announced", "route_absent", "route_present")
_IFNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")


def parse(params):
    """Typed parameters; NetsecError naming the field before anything changes."""
    state = params.get("state")
    if state not in STATES:
        raise NetsecError("%r is not a state" % (state,), field="state", fix="one of %s" % ", ".join(STATES))
    out = dict(params)
    out["addresses"] = []
    for index, value in enumerate(params.get("addresses") or []):
        try:
            out["addresses"].append(str(ipaddress.ip_interface(value).ip))
        except ValueError:
            raise NetsecError("%r is not an address" % (value,), field="addresses[%d]" % index, fix="e.g. 198.18.0.10")
    if state in ("withdrawn", "announced"):
        if params.get("mode") not in ("bgp", "vrrp"):
            raise NetsecError("%r is not an HA mode" % (params.get("mode"),), field="mode", fix="bgp or vrrp")
        if not params.get("flag_file") or not os.path.isabs(params["flag_file"]):
            raise NetsecError("must be an absolute path", field="flag_file", fix="the health loop's maintenance_file")
        if params["mode"] == "bgp" and not params.get("bird_socket"):
            raise NetsecError("needed in bgp mode", field="bird_socket", fix="BIRD's control socket")
        if params["mode"] == "vrrp":
            if not out["addresses"]:
                raise NetsecError("needed in vrrp mode", field="addresses", fix="the VIP(s)")
            if not _IFNAME.match(params.get("interface") or ""):
                raise NetsecError("%r is not an interface name" % (params.get("interface"),), field="interface", fix="e.g. eth0")
    if state == "drained" and not params.get("runtime_socket"):
        raise NetsecError("needed to count haproxy's sessions", field="runtime_socket", fix="haproxy's stats socket")
    if state in ("route_absent", "route_present"):
        if not params.get("bird_socket"):
            raise NetsecError("needed to read the router's routes", field="bird_socket", fix="the router's BIRD control socket")
        try:
            out["next_hop"] = str(ipaddress.ip_address(params.get("next_hop")))
        except ValueError:
            raise NetsecError("%r is not an address" % (params.get("next_hop"),), field="next_hop", fix="this LB's address")
        if not out["addresses"]:
            raise NetsecError("name the service routes", field="addresses", fix="e.g. [198.18.0.10/32]")
    out["checks"] = parse_checks(params.get("checks") or [])
    return out


# --- what this host sees -------------------------------------------------------------------

def exported_routes(bird_socket, run=run_argv):
    rc, out, err = run(["birdc", "-s", bird_socket, "show", "protocols", "all", "lb_ha_peer"])
    if rc != 0:
        raise NetsecError("birdc: %s" % (out + err).strip()[-300:], field="bird_socket")
    return bird_protocol_state(out)


def addresses_on(run=run_argv):
    """{address: [interfaces]} of this host."""
    rc, out, err = run(["ip", "-o", "addr", "show"])
    held = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) > 3 and words[2] in ("inet", "inet6"):
            held.setdefault(words[3].split("/")[0], []).append(words[1])
    return held


def _mac(interface):
    with open("/sys/class/net/%s/address" % interface) as handle:
        return bytes.fromhex(handle.read().strip().replace(":", ""))


def arp_owner(interface, address, source, timeout=0.5):
    """The MAC (text) that answers an ARP request for `address` on `interface`, other than ours; None."""
    mine = _mac(interface)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    try:
        sock.bind((interface, 0))
        sock.settimeout(timeout)
        # Ethernet broadcast, ARP who-has `address` tell `source` (RFC 826 layout).
        header = b"\xff" * 6 + mine + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
        request = header + mine + socket.inet_aton(source) + b"\x00" * 6 + socket.inet_aton(address)
        sock.send(request)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = sock.recv(128)
            except socket.timeout:
                break
            if len(frame) < 42 or frame[12:14] != b"\x08\x06" or struct.unpack("!H", frame[20:22])[0] != 2:
                continue
            sender_mac, sender_ip = frame[22:28], socket.inet_ntoa(frame[28:32])
            if sender_ip == address and sender_mac != mine:
                return sender_mac.hex(":")
    finally:
        sock.close()
    return None


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(text)


def wait(predicate, timeout, interval=0.05, clock=time.monotonic, sleep=time.sleep):
    """Seconds it took, or None on timeout."""
    start = clock()
    while True:
        if predicate():
            return round(clock() - start, 3)
        if clock() - start >= timeout:
            return None
        sleep(interval)


# --- the steps ---------------------------------------------------------------------------

def withdraw(req, run=run_argv):
    result = {"changed": False, "mode": req["mode"]}
    if os.path.exists(req["flag_file"]):
        return result  # already withdrawn (a rerun): nothing to do
    result["changed"] = True
    timeout = req["timeout"]
    linger = []
    if req["mode"] == "vrrp":
        held = addresses_on(run)
        linger = [a for a in req["addresses"] if req["interface"] in held.get(a, []) and ":" not in a]
        if linger and req["linger"] > 0:
            # Never answer ARP for the lingering /32 (it sits on lo): the peer's gratuitous ARP wins.
            arp = "/proc/sys/net/ipv4/conf/%s/arp_ignore" % req["interface"]
            with open(arp) as handle:
                result["arp_ignore_was"] = handle.read().strip()
            _write(arp, "1\n")
            for address in linger:
                run(["ip", "addr", "replace", "%s/32" % address, "dev", "lo"])
        else:
            linger = []
    started = time.monotonic()
    fd = os.open(req["flag_file"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"maintenance (lb_ha_maintenance)\n")
    os.close(fd)
    if req["mode"] == "bgp":
        took = wait(lambda: exported_routes(req["bird_socket"], run)[1] == 0, timeout)
        if took is None:
            result["failed"] = "BIRD still exports service routes %.0f s after the withdrawal was asked" % timeout
            return result
        result["withdrawn_seconds"] = took
        return result
    source = req.get("source") or _first_v4(addresses_on(run), req["interface"], req["addresses"])

    def peer_owns():
        now = addresses_on(run)
        if any(req["interface"] in now.get(a, []) for a in req["addresses"]):
            return False  # keepalived has not released it yet
        return all(arp_owner(req["interface"], a, source) for a in req["addresses"] if ":" not in a)
    took = wait(peer_owns, timeout)
    if took is None:
        result["failed"] = "no peer answers ARP for %s %.0f s after the hand-over" % (", ".join(req["addresses"]), timeout)
        return result
    result["handed_over_seconds"] = took
    result["owner"] = {a: arp_owner(req["interface"], a, source) for a in req["addresses"] if ":" not in a}
    if linger:
        time.sleep(max(0.0, req["linger"] - (time.monotonic() - started - took)))
        for address in linger:
            run(["ip", "addr", "del", "%s/32" % address, "dev", "lo"])
        _write("/proc/sys/net/ipv4/conf/%s/arp_ignore" % req["interface"], result["arp_ignore_was"] + "\n")
        result["lingered"] = linger
    return result


def _first_v4(held, interface, skip):
    for address, interfaces in held.items():
        if interface in interfaces and ":" not in address and address not in skip:
            return address
    raise NetsecError("no IPv4 address on %s to ask ARP from" % interface, field="interface")


def sessions(runtime_socket):
    """Client sessions haproxy holds (the CLI's own session left out)."""
    reply = unix_command(runtime_socket, "show sess")
    return [line for line in reply.splitlines() if line.startswith("0x") and "fe=GLOBAL" not in line]


def drain(req):
    """Wait until haproxy holds no client session (or drain_timeout); report what is left."""
    start = time.monotonic()
    left = sessions(req["runtime_socket"])
    while left and time.monotonic() - start < req["drain_timeout"]:
        time.sleep(0.1)
        left = sessions(req["runtime_socket"])
    return {"changed": False, "drain_seconds": round(time.monotonic() - start, 3), "sessions_left": len(left),
            "sessions_left_sample": left[:5]}


def announce(req, run=run_argv):
    result = {"changed": False, "mode": req["mode"]}
    for check in req["checks"]:
        ok, seen = run_check(check, run)
        if not ok:
            result["failed"] = "not re-announced: %s fails (saw %s); the LB stays withdrawn" % (describe_check(check), seen)
            return result
    if os.path.exists(req["flag_file"]):
        os.unlink(req["flag_file"])
        result["changed"] = True
    if req["mode"] == "bgp":
        took = wait(lambda: exported_routes(req["bird_socket"], run)[1] >= max(1, len(req["addresses"])), req["timeout"])
        if took is None:
            result["failed"] = "BIRD does not export the service routes %.0f s after the flag went" % req["timeout"]
        result["announced_seconds"] = took
        return result
    # vrrp: the instance left FAULT (BACKUP, or MASTER where it is alone); nopreempt keeps the VIP where it is.
    log = req.get("transitions_log")
    if log:
        def ready():
            try:
                with open(log) as handle:
                    lines = handle.read().splitlines()
            except IOError:
                return False
            return bool(lines) and re.search(r"-> (BACKUP|MASTER) ", lines[-1] + " ") is not None
        took = wait(ready, req["timeout"])
        if took is None:
            result["failed"] = "keepalived did not leave FAULT %.0f s after the flag went (see %s)" % (req["timeout"], log)
        result["announced_seconds"] = took
    return result


def router_view(req, run=run_argv):
    """On the router: wait until (route_absent) none / (route_present) every service route has next_hop."""
    want = req["state"] == "route_present"

    def has_next_hop():
        present = []
        for address in req["addresses"]:
            rc, out, err = run(["birdc", "-s", req["bird_socket"], "show", "route", "for", address, "all"])
            hop = re.escape(req["next_hop"])
            present.append(rc == 0 and re.search(r"\bvia %s\b|\bfrom %s\b" % (hop, hop), out) is not None)
        return all(present) if want else not any(present)
    took = wait(has_next_hop, req["timeout"])
    result = {"changed": False, "seconds": took}
    if took is None:
        verb = "still has no" if want else "still has"
        result["failed"] = "the router %s routes via %s after %.0f s" % (verb, req["next_hop"], req["timeout"])
    return result


def run_state(req, run=run_argv):
    if req["state"] == "withdrawn":
        return withdraw(req, run)
    if req["state"] == "drained":
        return drain(req)
    if req["state"] == "announced":
        return announce(req, run)
    return router_view(req, run)
