# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lb_ha role's variables, typed in Python before any task writes to the host.

Every value below ends up in keepalived.conf, bird.conf, a systemd unit, the JSON file the
root-run address script reads, or a command line: each is parsed here (addresses with
ipaddress, numbers with their daemon's range, names and paths against strict grammars) and
refused with the role variable named, so that no value can end a line, a block or a string.
The templates then write only the values returned here, through the quoting helper.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

PREFIX = "lb_ha_"
MODES = ("bgp", "vrrp")
TOPOLOGIES = ("active_active", "active_standby")
HEALTH_KEYS = ("address", "port", "uri", "interval_ms", "timeout_ms", "fall", "rise")
# Linux interface names: at most 15 bytes (IFNAMSIZ - 1); no '/', blanks or quotes.
_IFNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,14}")
# A process name as the kernel keeps it (/proc/PID/comm: at most 15 bytes), one bare word in keepalived.conf.
_PROCESS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,14}")
# VRRPv3 advert_int: seconds with up to two decimals (centiseconds), 0.01-40.95.
_ADVERT = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")
# The kernel's TCP MD5 key limit (TCP_MD5SIG_MAXKEYLEN).
PASSWORD_MAX = 80
AS_MAX = 4294967295


def _var(name):
    return PREFIX + name


def host_interface(value, field, host_route=False):
    """An address with its prefix length ('198.18.1.100/24'), normalised; refused without one."""
    raw = _typed.text(value, field, max_len=64)
    if "/" not in raw:
        raise NetsecError("%r has no prefix length" % raw, field=field,
                          fix="write it in CIDR form, like 198.18.0.10/32 or fd5a:fe::10/128")
    addr_part, prefix = raw.split("/", 1)
    addr = ipaddress.ip_address(_typed.address(addr_part, field))
    limit = 32 if addr.version == 4 else 128
    length = _typed.integer(prefix, field, 1, limit) if re.fullmatch(r"[0-9]{1,3}", prefix) else None
    if length is None:
        raise NetsecError("%r has no valid prefix length (1-%d)" % (raw, limit), field=field,
                          fix="write it in CIDR form, like 198.18.0.10/32 or fd5a:fe::10/128")
    if addr.is_unspecified or addr.is_multicast or addr.is_loopback:
        raise NetsecError("%s is not a unicast service address" % addr, field=field)
    if host_route and length != limit:
        raise NetsecError("%s/%d is a network: bgp mode announces host routes only" % (addr, length), field=field,
                          fix="write %s/%d" % (addr, limit))
    return "%s/%d" % (addr, length)


def parse_service(values, field, host_route):
    if not isinstance(values, list) or not values:
        raise NetsecError("must be a non-empty list of IPv4/IPv6 addresses in CIDR form", field=field)
    out, seen = [], {}
    for i, value in enumerate(values):
        item = host_interface(value, field_path(field, i), host_route=host_route)
        bare = item.split("/")[0]
        if bare in seen:
            raise NetsecError("%s is also %s[%d]" % (bare, field, seen[bare]), field=field_path(field, i), fix="list each address once")
        seen[bare] = i
        out.append(item)
    return out


def parse_export(prefixes, service, field):
    """The export filter's prefixes: each covers only service addresses, every service address is covered.

    The filter is the last guard before BIRD's table reaches the platform: a prefix wider than
    the service addresses (0.0.0.0/0, ::/0, or any network holding other addresses) would let
    whatever else enters the table be announced.
    """
    if not isinstance(prefixes, list):
        raise NetsecError("must be a list of prefixes", field=field)
    hosts = [ipaddress.ip_interface(s).ip for s in service]
    nets = []
    for i, value in enumerate(prefixes):
        item = field_path(field, i)
        net = ipaddress.ip_network(_typed.cidr(value, item))
        if net.prefixlen == 0:
            raise NetsecError("%s is a default route (every IPv%d address)" % (net, net.version), field=item,
                              fix="list the service addresses' host routes (or leave %s empty for exactly them)" % field)
        covered = [h for h in hosts if h.version == net.version and h in net]
        if len(covered) < net.num_addresses:
            raise NetsecError("%s covers %d addresses but only %d service address(es) of lb_ha_service_addresses"
                              % (net, net.num_addresses, len(covered)), field=item,
                              fix="export only the service addresses (for example %s), or leave %s empty"
                                  % (", ".join("%s/%d" % (h, h.max_prefixlen) for h in covered) or "their host routes", field))
        nets.append(net)
    if not nets:
        return list(service)
    for i, host in enumerate(hosts):
        if not any(host.version == n.version and host in n for n in nets):
            raise NetsecError("%s is outside %s %s" % (service[i], field, [str(n) for n in nets]), field=field_path(_var("service_addresses"), i),
                              fix="add its host route to %s" % field)
    return [str(n) for n in nets]


def _kernel_name(value, field, pattern, what, fix):
    """A name the kernel keeps in 15 bytes (interface, process), written as one bare word."""
    raw = _typed.text(value, field, max_len=64)
    if not pattern.fullmatch(raw):
        raise NetsecError("%r is not %s" % (raw, what), field=field, fix=fix)
    return raw


def interface_name(value, field):
    return _kernel_name(value, field, _IFNAME, "an interface name",
                        "write a Linux interface name like eth0 or ens3 (letters, digits, '.', '_', '-'; at most 15)")


def process_name(value, field):
    return _kernel_name(value, field, _PROCESS_NAME, "a process name as /proc/PID/comm shows it",
                        "write the executable's file name, like haproxy (letters, digits, '.', '_', '+', '-'; at most 15)")


def advert_int(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise NetsecError("must be a number of seconds", field=field)
    # As Jinja printed it before: 0.1 -> "0.1", 1 -> "1".
    text = repr(value) if isinstance(value, float) else str(value)
    _typed.text(text, field, max_len=16)
    if not _ADVERT.fullmatch(text) or not 0.01 <= float(text) <= 40.95:
        raise NetsecError("%r is not a VRRPv3 advert interval" % text, field=field, fix="write seconds between 0.01 and 40.95, like 0.1")
    return text


def parse_health(value, field):
    check = _typed.known_keys(value, field, HEALTH_KEYS)
    missing = [k for k in HEALTH_KEYS if k not in check]
    if missing:
        raise NetsecError("missing key(s) %s" % ", ".join(missing), field=field)
    out = {
        "address": _typed.address(check["address"], field_path(field, "address")),
        "port": _typed.integer(check["port"], field_path(field, "port"), 1, 65535),
        "uri": _typed.http_path(check["uri"], field_path(field, "uri")),
        "interval_ms": _typed.integer(check["interval_ms"], field_path(field, "interval_ms"), 10, 60000),
        "timeout_ms": _typed.integer(check["timeout_ms"], field_path(field, "timeout_ms"), 1, 60000),
        "fall": _typed.integer(check["fall"], field_path(field, "fall"), 1, 1000),
        "rise": _typed.integer(check["rise"], field_path(field, "rise"), 1, 1000),
    }
    return out


def health_url(check):
    host = "[%s]" % check["address"] if ":" in check["address"] else check["address"]
    return "http://%s:%d%s" % (host, check["port"], check["uri"])


def bird_log(value, field):
    if value == "syslog":
        return value
    return _typed.path(value, field)


def password(value, field):
    """'' (none) or a TCP MD5 key BIRD can hold in a string; never echoed."""
    if value is None or value == "":
        return ""
    _typed.quote(value, field, "bird", quoted=True, secret=True)
    if len(value) > PASSWORD_MAX:
        raise NetsecError("the value is %d characters long; the kernel's TCP MD5 keys hold at most %d" % (len(value), PASSWORD_MAX),
                          field=field)
    return value


def parse_peers(values, address, field_peers):
    """VRRP unicast peers: lb_ha_vrrp_unicast_peers, else the other hosts' lb_ha_address."""
    given = values.get("vrrp_unicast_peers") or []
    if not isinstance(given, list):
        raise NetsecError("must be a list of addresses", field=field_peers)
    if given:
        pairs = [(field_path(field_peers, i), v) for i, v in enumerate(given)]
    else:
        hosts = values.get("peer_hosts") or []
        pairs = [("hostvars[%s].%s" % (h, _var("address")), a) for h, a in hosts if a not in (None, "")]
    peers = []
    for item, value in pairs:
        peer = _typed.address(value, item)
        if peer == address:
            raise NetsecError("%s is this host's own lb_ha_address" % peer, field=item,
                              fix="list the other LBs' addresses, not this host's %s" % address)
        if peer not in peers:
            peers.append(peer)
    if not peers:
        raise NetsecError("no unicast peer: set lb_ha_address on every host of group %s or list lb_ha_vrrp_unicast_peers "
                          "(the other LBs' addresses, not this host's %s)" % (values.get("group"), address), field=field_peers)
    return peers


def _int(values, key, low, high):
    return _typed.integer(values.get(key), _var(key), low, high)


def _paths(values, keys):
    return dict((k, _typed.path(values.get(k), _var(k))) for k in keys)


PATH_KEYS = ("bird_config", "bird_socket", "keepalived_config", "vrrp_transitions_log", "config_dir", "run_dir", "bin_dir")


def parse_bgp(values, address, service, is_primary):
    for key in ("bgp_local_as", "bgp_peer_as"):
        if values.get(key) in (None, ""):
            raise NetsecError("required in bgp mode", field=_var(key),
                              fix="set lb_ha_bgp_local_as (your AS) and lb_ha_bgp_peer_as (the platform's)")
    hosts6 = [s for s in service if ":" in s]
    address6 = values.get("address6") or ""
    if address6:
        address6 = _typed.address(address6, _var("address6"), versions=(6,))
    elif hosts6:
        raise NetsecError("required when announcing an IPv6 address (%s): the next hop of the IPv6 routes" % hosts6[0], field=_var("address6"),
                          fix="set this host's IPv6 address")
    topology = _typed.choice(values.get("bgp_topology"), _var("bgp_topology"), TOPOLOGIES)
    if topology == "active_standby" and values.get("primary") not in (values.get("group_hosts") or [values.get("host")]):
        raise NetsecError("%r is not a member of group %s" % (values.get("primary"), values.get("group")), field=_var("primary"),
                          fix="name a member of group %s as lb_ha_primary for active_standby" % values.get("group"))
    prepend = _int(values, "bgp_standby_prepend", 0, 32)
    hold = _int(values, "bgp_hold_time", 0, 65535)
    if 0 < hold < 3:
        raise NetsecError("%d is below BIRD's minimum hold time (3)" % hold, field=_var("bgp_hold_time"), fix="write 0 (BIRD's default) or 3-65535")
    wait = values.get("bgp_error_wait")
    if not isinstance(wait, list) or len(wait) != 2:
        raise NetsecError("must be [min, max] seconds", field=_var("bgp_error_wait"))
    wait = [_typed.integer(w, field_path(_var("bgp_error_wait"), i), 1, 65535) for i, w in enumerate(wait)]
    if wait[0] > wait[1]:
        raise NetsecError("min %d is above max %d" % tuple(wait), field=_var("bgp_error_wait"))
    export = parse_export(values.get("bgp_export_prefixes") or [], service, _var("bgp_export_prefixes"))
    return {
        "peer_address": _typed.address(values.get("bgp_peer_address"), _var("bgp_peer_address"), versions=(4,)),
        "peer_as": _int(values, "bgp_peer_as", 1, AS_MAX),
        "local_as": _int(values, "bgp_local_as", 1, AS_MAX),
        "address6": address6,
        "topology": topology,
        "prepend": prepend if topology == "active_standby" and not is_primary else 0,
        "bfd": _typed.boolean(values.get("bgp_bfd"), _var("bgp_bfd")),
        "bfd_interval_ms": _int(values, "bgp_bfd_interval_ms", 1, 60000),
        "bfd_multiplier": _int(values, "bgp_bfd_multiplier", 1, 255),
        "hold_time": hold,
        "keepalive_time": max(1, hold // 3),
        "connect_retry": _int(values, "bgp_connect_retry", 1, 65535),
        "error_wait": wait,
        "password_set": bool(password(values.get("bgp_password"), _var("bgp_password"))),
        "log": bird_log(values.get("bird_log"), _var("bird_log")),
        "routes4": [s for s in service if ":" not in s],
        "routes6": hosts6,
        "export4": [p for p in export if ":" not in p],
        "export6": [p for p in export if ":" in p],
        "protocols": (["lb_ha_vip4"] if any(":" not in s for s in service) else []) + (["lb_ha_vip6"] if hosts6 else []),
    }


def parse_vrrp(values, address, is_primary, paths):
    priority = _int(values, "vrrp_priority_primary", 1, 255) if is_primary else _int(values, "vrrp_priority", 1, 255)
    # keepalived's router_id is the inventory name, written as one bare word.
    router_id = _typed.quote(values.get("host"), "inventory_hostname", "keepalived")
    return {
        "router_id": router_id,
        "interface": interface_name(values.get("vrrp_interface"), _var("vrrp_interface")),
        "virtual_router_id": _int(values, "vrrp_router_id", 1, 255),
        "priority": priority,
        "advert_int": advert_int(values.get("vrrp_advert_int"), _var("vrrp_advert_int")),
        "nopreempt": _typed.boolean(values.get("vrrp_nopreempt"), _var("vrrp_nopreempt")),
        "track_process": _typed.boolean(values.get("vrrp_track_process"), _var("vrrp_track_process")),
        "peers": parse_peers(values, address, _var("vrrp_unicast_peers")),
        # By name, not command line: a reload's master re-execs with -sf/-x before the original options,
        # which a parameter match stops matching (the VIP left the reloaded master).
        "track_process_name": process_name(values.get("vrrp_track_process_name"), _var("vrrp_track_process_name")),
        "notify": "%s/lb_ha_notify %s" % (paths["bin_dir"], paths["vrrp_transitions_log"]),
        "track_file": "%s/health.track" % paths["run_dir"],
    }


def parse_status(values):
    """What tasks/status.yml (read-only evidence) uses."""
    mode = _typed.choice(values.get("mode"), _var("mode"), MODES)
    service = parse_service(values.get("service_addresses"), _var("service_addresses"), host_route=mode == "bgp")
    return {
        "mode": mode,
        "service_addresses": service,
        "bare_addresses": [s.split("/")[0] for s in service],
        "health_url": health_url(parse_health(values.get("health_check"), _var("health_check"))),
        "bird_socket": _typed.path(values.get("bird_socket"), _var("bird_socket")),
        "peer_address": _typed.address(values.get("bgp_peer_address"), _var("bgp_peer_address")),
    }


def parse(values):
    """All role variables (names without the prefix, plus host, group_hosts, peer_hosts) -> the typed values."""
    if not isinstance(values, dict):
        raise NetsecError("the role's variables must be given as a mapping", field="lb_ha")
    host = _typed.text(values.get("host"), "inventory_hostname", max_len=253)
    _typed.text(values.get("group"), _var("group"), max_len=253)
    primary = _typed.text(values.get("primary"), _var("primary"), max_len=253)
    mode = _typed.choice(values.get("mode"), _var("mode"), MODES)
    service = parse_service(values.get("service_addresses"), _var("service_addresses"), host_route=mode == "bgp")
    # bgp: the BGP source address and BIRD's router id, which is an IPv4 address.
    address = _typed.address(values.get("address"), _var("address"), versions=(4,) if mode == "bgp" else (4, 6))
    paths = _paths(values, PATH_KEYS)
    is_primary = host == primary
    health = parse_health(values.get("health_check"), _var("health_check"))
    flags = dict((k, _typed.boolean(values.get(k), _var(k))) for k in ("include_haproxy", "install", "manage_service"))
    out = {
        "mode": mode,
        "host": host,
        "is_primary": is_primary,
        "address": address,
        "service_addresses": service,
        "bare_addresses": [s.split("/")[0] for s in service],
        "health_check": health,
        "health_url": health_url(health),
        "paths": paths,
        "addresses_file": paths["config_dir"] + "/addresses.json",
        "run_dir_name": paths["run_dir"].rstrip("/").rsplit("/", 1)[-1],
        "bgp": parse_bgp(values, address, service, is_primary) if mode == "bgp" else {},
        "vrrp": parse_vrrp(values, address, is_primary, paths) if mode == "vrrp" else {},
    }
    out.update(flags)
    # The address script's input: typed host routes only (the device, lo, is fixed in the script).
    out["addresses_json"] = {"addresses": service if mode == "bgp" else []}
    return out
