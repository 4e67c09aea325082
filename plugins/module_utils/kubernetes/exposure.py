# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The world-exposure lint (port_model.lint) of Kubernetes policy objects: NetworkPolicy,
CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy. Pure; one builder for what a role
renders, what a user adds as extra policies, and what is live in a cluster.

Each ingress rule becomes lint entries (one per address source and port range):
- sources: ipBlock/fromCIDRSet cidr minus its excepts, fromCIDR, the entities world/all
  (and world-ipv4/world-ipv6), and a rule or peer list that names no source at all (which
  admits every source) count as addresses; pod, namespace, node and other entity peers are
  not addresses and are not judged here;
- ports: a rule without ports (or a port without a number) covers every port; a named port
  resolves through `named_ports` when the caller knows it, else it covers every port.
Entries are united per namespace (a clusterwide policy: the whole cluster), so a world split
over two rules or two policies of one namespace is judged as the world. A waiver's scope is
the policy's namespace, or the clusterwide policy's name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

NETWORK_POLICY = "NetworkPolicy"
CNP = "CiliumNetworkPolicy"
CCNP = "CiliumClusterwideNetworkPolicy"
KINDS = (NETWORK_POLICY, CNP, CCNP)

# Entities that are every address outside the cluster (with `all`, every address there is).
WORLD_ENTITIES = {"world": pm.ANY_SOURCE, "all": pm.ANY_SOURCE, "world-ipv4": "0.0.0.0/0", "world-ipv6": "::/0"}
# Cilium's address peers of an ingress rule; the other from* keys select identities, not addresses.
CILIUM_PEERS = ("fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet", "fromEntities", "fromGroups", "fromNodes")
# cidr minus excepts is computed exactly up to this many pieces; beyond, the excepts are ignored (never narrower than true).
EXCEPT_PIECES_LIMIT = 4096
CLUSTERWIDE_TARGET = "clusterwide"


def _net(value, field):
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise NetsecError("%r is not an IPv4/IPv6 CIDR" % (value,), field=field, fix="write it like 192.0.2.0/24 or 2001:db8::/64")


def remaining(cidr, excepts, field):
    """`cidr` minus `excepts` as CIDR strings, in O(n log n) on address intervals; past
    EXCEPT_PIECES_LIMIT pieces the whole cidr is judged, which can only over-count."""
    net = _net(cidr, field_path(field, "cidr"))
    low, high = int(net.network_address), int(net.broadcast_address)
    cuts = []
    for i, value in enumerate(_items(excepts)):
        cut = _net(value, field_path(field, "except", i))
        if cut.version == net.version:
            cuts.append((max(low, int(cut.network_address)), min(high, int(cut.broadcast_address))))
    gaps, cursor = [], low
    for start, end in sorted(c for c in cuts if c[0] <= c[1]):
        if start > cursor:
            gaps.append((cursor, start - 1))
        cursor = max(cursor, end + 1)
    if cursor <= high:
        gaps.append((cursor, high))
    make = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    pieces = []
    for start, end in gaps:
        pieces.extend(ipaddress.summarize_address_range(make(start), make(end)))
        if len(pieces) > EXCEPT_PIECES_LIMIT:
            return [str(net)]
    return [str(p) for p in pieces]


def _items(value):
    """A list as it is; anything else as empty (the CRD schema check refuses the shape)."""
    return value if isinstance(value, list) else []


def _int_port(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _port_ranges(protocol, port, end_port, named):
    """(protocol, low, high) for one port entry; None bounds mean every port."""
    protocol = str(protocol or "any").lower()
    if port is None:
        return [(protocol, None, None)]
    number = _int_port(port)
    if number is None:
        resolved = [(p.lower(), n, n) for (p, n) in named.get(str(port), []) if protocol in ("any", p.lower())]
        return resolved or [(protocol, None, None)]  # unknown name: it may be any number
    if number == 0:  # Cilium: port 0 is every port
        return [(protocol, None, None)]
    high = _int_port(end_port) if end_port not in (None, "", 0) else None
    return [(protocol, number, high if high and high >= number else number)]


def _np_ports(rule, named):
    ports = _items(rule.get("ports"))
    if not ports:
        return [("any", None, None)]
    out = []
    for port in ports:
        port = port if isinstance(port, dict) else {}
        out.extend(_port_ranges(port.get("protocol") or "TCP", port.get("port"), port.get("endPort"), named))
    return out


def _cilium_ports(rule, named):
    if rule.get("icmps") and not rule.get("toPorts"):
        return [("icmp", None, None)]
    out = []
    for to_port in _items(rule.get("toPorts")):
        ports = _items(to_port.get("ports")) if isinstance(to_port, dict) else []
        if not ports:
            return [("any", None, None)]
        for port in ports:
            port = port if isinstance(port, dict) else {}
            out.extend(_port_ranges(port.get("protocol") or "ANY", port.get("port"), port.get("endPort"), named))
    return out or [("any", None, None)]


def _np_sources(rule, field):
    peers = _items(rule.get("from"))
    if not peers:
        return [(pm.ANY_SOURCE, field_path(field, "from"))]
    out = []
    for k, peer in enumerate(peers):
        pfield = field_path(field, "from", k)
        peer = peer if isinstance(peer, dict) else {}
        block = peer.get("ipBlock")
        if isinstance(block, dict):
            bfield = field_path(pfield, "ipBlock")
            out.extend((c, field_path(bfield, "cidr")) for c in remaining(block.get("cidr"), block.get("except"), bfield))
        elif "podSelector" not in peer and "namespaceSelector" not in peer:
            out.append((pm.ANY_SOURCE, pfield))  # a peer that restricts nothing
    return out


def _cilium_sources(rule, field):
    if not any(rule.get(key) for key in CILIUM_PEERS):
        return [(pm.ANY_SOURCE, field)]  # only ports (or nothing): every source
    out = []
    for k, cidr in enumerate(_items(rule.get("fromCIDR"))):
        out.append((str(_net(cidr, field_path(field, "fromCIDR", k))), field_path(field, "fromCIDR", k)))
    for k, item in enumerate(_items(rule.get("fromCIDRSet"))):
        sfield = field_path(field, "fromCIDRSet", k)
        item = item if isinstance(item, dict) else {}
        if item.get("cidr") is None:
            out.append((pm.ANY_SOURCE, sfield))  # a CIDR group: its addresses are not known here
            continue
        out.extend((c, field_path(sfield, "cidr")) for c in remaining(item["cidr"], item.get("except"), sfield))
    for k, entity in enumerate(_items(rule.get("fromEntities"))):
        if isinstance(entity, str) and entity in WORLD_ENTITIES:
            out.append((WORLD_ENTITIES[entity], field_path(field, "fromEntities", k)))
    return out


def policy_entries(policy, field, named_ports=None, source_fields=None):
    """Lint entries of one policy object; `field` names it as the caller's user wrote it.

    named_ports: {port name: [(protocol, number), ...]} of the selected pods, when known.
    source_fields: {CIDR: field} naming a source by where it came from (an address book)."""
    named_ports = named_ports or {}
    source_fields = source_fields or {}
    if not isinstance(policy, dict) or policy.get("kind") not in KINDS:
        return []
    kind = policy["kind"]
    meta = policy.get("metadata") or {}
    if kind == CCNP:
        scope, target = meta.get("name"), CLUSTERWIDE_TARGET
    else:
        scope = meta.get("namespace")
        target = "namespace/%s" % scope
    if kind == NETWORK_POLICY:
        specs = [(field_path(field, "spec"), policy.get("spec") or {})]
        sources, ports = _np_sources, _np_ports
    else:
        specs = [(field_path(field, "spec"), policy.get("spec"))] if policy.get("spec") else []
        specs += [(field_path(field, "specs", i), s) for i, s in enumerate(_items(policy.get("specs")))]
        sources, ports = _cilium_sources, _cilium_ports
    entries = []
    for sfield, spec in specs:
        if not isinstance(spec, dict):
            continue
        for j, rule in enumerate(_items(spec.get("ingress"))):
            rfield = field_path(sfield, "ingress", j)
            rule = rule if isinstance(rule, dict) else {}
            ranges = ports(rule, named_ports)
            for remote, efield in sources(rule, rfield):
                for protocol, low, high in ranges:
                    entries.append({"field": source_fields.get(remote, efield), "scope": scope, "target": target,
                                    "direction": "ingress", "protocol": protocol, "port_min": low, "port_max": high,
                                    "remote": remote})
    return entries


def lint_entries(policies, field="policies", fields=None, named_ports=None, source_fields=None):
    """Entries of every policy; fields[i] (when given) names policy i instead of field[i], and
    source_fields only rename the sources of the policies without one (those built from them);
    named_ports: {namespace: {port name: [(protocol, number)]}}."""
    entries = []
    for i, policy in enumerate(policies or []):
        given = fields[i] if fields and i < len(fields) else None
        namespace = ((policy or {}).get("metadata") or {}).get("namespace") if isinstance(policy, dict) else None
        entries.extend(policy_entries(policy, given or field_path(field, i), (named_ports or {}).get(namespace),
                                      None if given else source_fields))
    return entries


def refuse_exposure(policies, waivers=None, field="policies", waivers_field="waivers", **kw):
    """Raise the first world exposure of a sensitive port (NetsecError naming the field), unless waived."""
    pm.refuse(pm.lint(lint_entries(policies, field, **kw), waivers or [], field=waivers_field))
