# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HAProxy edge as data: the port model's flows rendered for haproxy.cfg.

Pure functions, no I/O. The load balancer's frontends, their ports and who may reach
them come from port_model.flows(); so do the upstreams (the flows that leave the load
balancer towards the cluster). Nothing here knows a port number.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

# Services the load balancer answers with haproxy (ssh and BGP reach the host, not haproxy).
FRONTEND_SERVICES = ("http", "https", "kube-apiserver", "talos-apid", "haproxy-admin")
# Passed through as TCP: the client's certificate must reach the API server.
PASSTHROUGH_SERVICES = ("kube-apiserver", "talos-apid")
ROUTE_TARGETS = ("nodeport", "servers")
ROUTE_KEYS = ("name", "hosts", "target", "nodeport", "servers", "send_proxy", "health_path")
SERVER_KEYS = ("address", "port")
# fullmatch, never match + '$': '$' also matches before a final newline.
_NAME = re.compile(r"[a-z0-9]([a-z0-9_-]{0,46}[a-z0-9])?")


def _spec(cluster):
    if isinstance(cluster, pm.ClusterSpec):
        return cluster
    return pm.ClusterSpec.from_dict(cluster)


def _sorted_cidrs(values):
    """Unique, IPv4 before IPv6, numeric order: stable list files (idempotent runs)."""
    nets = set(ipaddress.ip_network(v, strict=False) for v in values)
    return [str(n) for n in sorted(nets, key=lambda n: (n.version, n.network_address, n.prefixlen))]


def allowlists(cluster, addresses, field="addresses"):
    """{service: {port, sources, world}} for every haproxy frontend of the load balancer.

    `addresses` maps a role (jump_host, ...) to its addresses/CIDRs. A frontend nobody may
    reach still appears, with no sources: it renders closed rather than disappearing.
    """
    spec = _spec(cluster)
    if not isinstance(addresses, dict):
        raise NetsecError("must be a mapping of role -> list of addresses", field=field)
    grouped = dict((service.name, peers) for service, peers in pm.ingress_flows(spec, "loadbalancer"))
    out = {}
    for name in FRONTEND_SERVICES:
        service = pm.SERVICES[name]
        cidrs = []
        for peer in grouped.get(name, []):
            cidrs.extend(pm.resolve(peer, addresses, field))
        cidrs = _sorted_cidrs(pm.filter_versions(cidrs, spec.ip_versions))
        out[name] = {
            "port": service.port_min,
            "sources": cidrs,
            "world": any(pm.is_world(c) for c in cidrs),
            "passthrough": name in PASSTHROUGH_SERVICES,
        }
    return out


def upstreams(cluster, addresses, field="addresses"):
    """Where the load balancer forwards to, from the flows that leave it towards roles.

    {service: {port_min, port_max, servers: [address, ...]}}: kube-apiserver and
    talos-apid to the control plane, nodeports to the nodeport targets.
    """
    spec = _spec(cluster)
    out = {}
    for flow in pm.flows(spec):
        if flow.source != pm.role("loadbalancer") or flow.destination.kind != "role":
            continue
        if flow.destination.name == "loadbalancer":
            continue
        servers = []
        for cidr in pm.resolve(flow.destination, addresses, field):
            net = ipaddress.ip_network(cidr, strict=False)
            if net.num_addresses != 1:
                raise NetsecError("%s is a network, a backend needs host addresses" % cidr,
                                  field=field_path(field, flow.destination.name),
                                  fix="list each %s host's address" % flow.destination.name)
            if net.version in spec.ip_versions:
                servers.append(str(net.network_address))
        entry = out.setdefault(flow.service.name, {
            "port_min": flow.service.port_min, "port_max": flow.service.port_max, "servers": []})
        for server in servers:
            if server not in entry["servers"]:
                entry["servers"].append(server)
    return out


def flag(value, field):
    """true/false, or a YAML/survey spelling of one ('yes', 'false'); never bool('false')."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise NetsecError("%s is not true or false" % _typed.secret_safe(value, False), field=field)


def check_hosts(hosts, field, allow_empty=False):
    """Host / SNI names (one leading '*.' allowed), lower-cased; one trailing dot is dropped."""
    if not isinstance(hosts, list) or not (hosts or allow_empty):
        raise NetsecError("must be a non-empty list of host names", field=field)
    out = []
    for i, host in enumerate(hosts):
        if isinstance(host, str) and host.endswith(".") and not host.endswith(".."):
            host = host[:-1]
        out.append(_typed.sni(host, field_path(field, i)))
    return out


def ingress_routes(routes, cluster, addresses, field="haproxy_ingress_routes"):
    """Validate host/SNI routes and resolve their servers.

    A route sends the HTTP requests for `hosts` either to a NodePort on the nodeport
    targets (`target: nodeport`, `nodeport: 30080`) or to explicit servers
    (`target: servers`, e.g. a Gateway's address and port). Returns the routes with
    `servers: [{name, address, port}]`, in input order.
    """
    spec = _spec(cluster)
    if not isinstance(routes, list):
        raise NetsecError("must be a list of routes", field=field)
    nodeports = pm.SERVICES["nodeports"]
    targets = None
    seen_names, seen_hosts, out = set(), {}, []
    for i, route in enumerate(routes):
        rfield = field_path(field, i)
        _typed.known_keys(route, rfield, ROUTE_KEYS)
        name = route.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise NetsecError("%r is not a route name" % (name,), field=field_path(rfield, "name"),
                              fix="lower-case letters, digits, '-' and '_', at most 48 characters")
        if name in seen_names:
            raise NetsecError("route %r is defined twice" % name, field=field_path(rfield, "name"))
        seen_names.add(name)
        hosts = check_hosts(route.get("hosts"), field_path(rfield, "hosts"))
        for j, host in enumerate(hosts):
            if host in seen_hosts:
                raise NetsecError("%s is already routed by %r" % (host, seen_hosts[host]), field=field_path(rfield, "hosts", j))
            seen_hosts[host] = name
        target = route.get("target", "nodeport")
        if target not in ROUTE_TARGETS:
            raise NetsecError("%r is not one of %s" % (target, ", ".join(ROUTE_TARGETS)), field=field_path(rfield, "target"))
        servers = []
        if target == "nodeport":
            port = pm.check_port(route.get("nodeport"), field_path(rfield, "nodeport"))
            if not nodeports.port_min <= port <= nodeports.port_max:
                raise NetsecError("%d is outside the NodePort range %d-%d" % (port, nodeports.port_min, nodeports.port_max),
                                  field=field_path(rfield, "nodeport"))
            if targets is None:
                targets = upstreams(spec, addresses).get("nodeports", {"servers": []})["servers"]
            if not targets:
                raise NetsecError("no nodeport target addresses", field=field_path("addresses", spec["loadbalancer"]["nodeport_targets"][0]),
                                  fix="list the node addresses the load balancer forwards NodePorts to")
            servers = [{"address": a, "port": port} for a in targets]
        else:
            given = route.get("servers")
            if not isinstance(given, list) or not given:
                raise NetsecError("target servers needs a non-empty list of {address, port}", field=field_path(rfield, "servers"))
            for j, server in enumerate(given):
                sfield = field_path(rfield, "servers", j)
                _typed.known_keys(server, sfield, SERVER_KEYS)
                address = _typed.address(server.get("address"), field_path(sfield, "address"))
                servers.append({"address": address, "port": pm.check_port(server.get("port"), field_path(sfield, "port"))})
        for j, server in enumerate(servers):
            server["name"] = "%s%d" % (name, j + 1)
        health_path = route.get("health_path")
        if health_path not in (None, ""):
            health_path = _typed.quote(_typed.http_path(health_path, field_path(rfield, "health_path")),
                                       field_path(rfield, "health_path"), "haproxy")
        out.append({
            "name": name,
            "hosts": hosts,
            # haproxy.cfg matches exact names with -m str and '*.d' as the suffix '.d' with -m end.
            "exact_hosts": [h for h in hosts if not h.startswith("*.")],
            "wildcard_suffixes": [h[1:] for h in hosts if h.startswith("*.")],
            "target": target,
            "servers": servers,
            # bool("false") is True: a survey's string must not switch PROXY protocol on.
            "send_proxy": flag(route.get("send_proxy") or False, field_path(rfield, "send_proxy")),
            "health_path": health_path or None,
        })
    return out


def server_address(address, port):
    """haproxy's address:port (IPv6 in brackets are not needed, but a colon-free form reads better)."""
    if ipaddress.ip_address(address).version == 6:
        return "[%s]:%d" % (address, port)
    return "%s:%d" % (address, port)


def denylist(values, field="haproxy_deny_cidrs"):
    """The deny list file's entries: normalised CIDRs, sorted, unique; a /0 is refused."""
    if not isinstance(values, list):
        raise NetsecError("must be a list of CIDRs", field=field)
    out = []
    for i, value in enumerate(values):
        cidr = _typed.cidr(value, field_path(field, i))
        if pm.is_world(cidr):
            raise NetsecError("%s would refuse every client" % cidr, field=field_path(field, i),
                              fix="stop the service instead, or list the abusive networks")
        out.append(cidr)
    return _sorted_cidrs(out)
