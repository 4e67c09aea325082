# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layered exposure proof (pure): end-to-end reachability through every layer, against
the port model's intent.

A path is (source class -> destination, service). Source classes are sets of concrete
addresses (every address of the class is judged, so a rule that forgets one load balancer
shows as `partial`): the Internet (documentation addresses outside every declared range), the
admin ranges, the jump host, the load balancers, the control-plane and worker nodes, the BGP
peer, the API client ranges. Destinations are the roles; pods by namespace come from the
namespace-policy analysis (netpol engine) as their own layer.

For each path and layer: allow / stop / partial / - (the layer does not filter it). The path
is open for the addresses every filtering layer admits. Three checks, each finding named:
1. open == intended, address by address (every declared flow open, nothing else);
2. every layer admits exactly what the design asks of it: the port model, except the Cilium
   host firewall, which cannot tell node roles apart (one remote-node identity), so a flow
   from any node role is expected there from every node;
3. defence in depth: a sensitive service that must stay closed is stopped by at least two
   independent layers wherever two or more layers filter it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine

# Services a node or load balancer answers on (egress-only and pod-port services are not destinations here).
SERVICES = ("kube-apiserver", "talos-apid", "talos-trustd", "etcd", "kubelet", "cilium-vxlan", "cilium-geneve",
            "cilium-wireguard", "cilium-health", "cilium-health-icmp", "hubble-server", "kubespan", "nodeports",
            "http", "https", "haproxy-admin", "ssh", "bgp", "bfd-multihop", "vrrp")
DESTINATIONS = ("loadbalancer", "control_plane", "worker", "jump_host")
# The Internet as documentation addresses (RFC 5737 / RFC 3849): inside no range a cluster declares.
INTERNET = {4: "203.0.113.77", 6: "2001:db8:77::77"}
POD_LAYER = "namespace_policies"


def _address(value):
    return ipaddress.ip_network(str(value).strip(), strict=False).network_address


def _admin_addresses(cidrs, taken):
    out = []
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr, strict=False)
        # A workstation in the range: not the jump host (a class of its own).
        for candidate in (network.network_address + min(100, network.num_addresses - 1), network.network_address):
            if candidate not in taken:
                out.append(candidate)
                break
    return out


def source_classes(spec, address_book):
    """[(class name, [address, ...])] in a stable order; empty classes are left out."""
    versions = spec.ip_versions
    book = dict((role, [_address(a) for a in pm.resolve(pm.role(role), address_book)]) for role in pm.ROLES if role in address_book)
    lb, jump = spec["loadbalancer"], spec["jump_host"]
    classes = [("internet", [ipaddress.ip_address(INTERNET[v]) for v in versions])]
    if jump["enabled"]:
        classes.append(("admin", _admin_addresses(jump["admin_cidrs"], set(book.get("jump_host", [])))))
        classes.append(("jump_host", book.get("jump_host", [])))
    for role in ("loadbalancer", "control_plane", "worker"):
        classes.append((role, book.get(role, [])))
    if lb["ha_mode"] == "bgp":
        classes.append(("bgp_peer", [_address(c) for c in lb["bgp_peers"]]))
    if lb["api_cidrs"]:
        classes.append(("api_clients", [_address(c) for c in lb["api_cidrs"]]))
    # Only the cluster's IP families: an admin range of another family reaches nothing the model renders.
    classes = [(name, [a for a in addrs if a.version in versions]) for name, addrs in classes]
    return [(name, addrs) for name, addrs in classes if addrs]


class Intent(object):
    """The port model's flows into each role, as address sets."""

    def __init__(self, spec, address_book):
        self.sources = {}
        for flow in pm.flows(spec):
            if flow.destination.kind != "role":
                continue
            nets = [ipaddress.ip_network(c, strict=False) for c in pm.resolve(flow.source, address_book)]
            self.sources.setdefault((flow.destination.name, flow.service.name), []).extend(nets)

    def allows(self, destination, service, address):
        return any(address.version == n.version and address in n for n in self.sources.get((destination, service), []))


def _mark(verdicts):
    values = [v for v in verdicts if v is not None]
    if not values:
        return "-"
    if all(values):
        return "allow"
    return "stop" if not any(values) else "partial"


def _port(service):
    return pm._port_text(service)  # pylint: disable=protected-access


def _addresses_text(addresses):
    return ", ".join(str(a) for a in addresses)


def node_paths(spec, address_book, layers):
    """Every (source class, destination role, service) path through the given layers."""
    intent = Intent(spec, address_book)
    classes = source_classes(spec, address_book)
    node_classes = [c for c in classes if c[0] in pm.NODE_ROLES]
    destinations = [d for d in DESTINATIONS if d != "jump_host" or spec["jump_host"]["enabled"]]
    paths = []
    for destination in destinations:
        for name in SERVICES:
            service = pm.SERVICES[name]
            for cls, addresses in classes:
                verdicts = dict((layer.name, [layer.admits(destination, service, a) for a in addresses]) for layer in layers)
                intended = [intent.allows(destination, name, a) for a in addresses]
                opened = [all(v[i] is not False for v in verdicts.values()) for i in range(len(addresses))]
                marks = dict((layer, _mark(v)) for layer, v in verdicts.items())
                problems = []
                extra = [a for a, o, w in zip(addresses, opened, intended) if o and not w]
                missing = [a for a, o, w in zip(addresses, opened, intended) if w and not o]
                if extra:
                    problems.append("open but not in the port model (from %s)" % _addresses_text(extra))
                if missing:
                    stoppers = sorted(layer for layer, v in verdicts.items() if any(v[i] is False for i, a in enumerate(addresses) if a in missing))
                    problems.append("declared but stopped by %s (from %s)" % (", ".join(stoppers), _addresses_text(missing)))
                for layer in layers:
                    got = verdicts[layer.name]
                    if all(v is None for v in got):
                        continue
                    if layer.name == "cilium_host" and cls in pm.NODE_ROLES:
                        # One remote-node identity: a flow from any node role is expected from every node.
                        want = [any(intent.allows(destination, name, b) for dummy, addrs in node_classes for b in addrs)] * len(addresses)
                    else:
                        want = intended
                    wide = [a for a, g, w in zip(addresses, got, want) if g and not w]
                    narrow = [a for a, g, w in zip(addresses, got, want) if g is False and w]
                    if wide:
                        problems.append("%s admits it, the port model does not (from %s)" % (layer.name, _addresses_text(wide)))
                    if narrow:
                        problems.append("%s stops a declared flow (from %s)" % (layer.name, _addresses_text(narrow)))
                filtering = [layer for layer, m in marks.items() if m != "-"]
                stopped_by = sorted(layer for layer, m in marks.items() if m == "stop")
                if name in pm.SENSITIVE_SERVICES and not any(intended) and len(filtering) >= 2 and len(stopped_by) < 2:
                    problems.append("defence in depth: stopped by %d of %d layers (%s), at least 2 must stop a sensitive service"
                                    % (len(stopped_by), len(filtering), ", ".join(stopped_by) or "none"))
                paths.append({"source": cls, "destination": destination, "service": name, "port": _port(service),
                              "intended": _mark(intended), "open": _mark(opened), "layers": marks,
                              "stopped_by": stopped_by, "problems": problems})
    return paths


def pod_paths(reach, expected, managed):
    """Namespace-policy paths, pods grouped by namespace: (source namespace or address/entity
    endpoint -> destination namespace, port). Open when any pod pair is, intended when any is
    declared; a problem names the first pod pair that differs."""
    uni = reach.universe
    groups = dict((ns, mask) for ns, mask in uni.ns_mask.items())
    others = [(ep.name, 1 << ep.index) for ep in uni.endpoints if ep.kind != "pod"]
    sources = sorted(groups.items()) + others
    agg = {}
    for d, ep in enumerate(uni.endpoints):
        if ep.kind != "pod":
            continue
        scope = (uni.all_mask if managed >> d & 1 else managed) & ~(1 << d)
        for kid in ep.keys:
            got = reach.allowed[d].get(kid, 0) & scope
            want = expected[d].get(kid, 0) & scope
            label = uni.key_label(kid)
            for name, mask in sources:
                if not mask & scope:
                    continue
                key = (name, ep.namespace, label)
                entry = agg.setdefault(key, [0, 0, None])
                g, w = got & mask, want & mask
                entry[0] |= 1 if g else 0
                entry[1] |= 1 if w else 0
                if entry[2] is None and g != w:
                    s = engine.iter_bits(g ^ w)[0]
                    entry[2] = ("extra" if g >> s & 1 else "missing", uni.endpoints[s].name, ep.name)
    paths = []
    for (src, dst, label), (g, w, diff) in sorted(agg.items()):
        problems = []
        if diff:
            kind, s, d = diff
            problems.append("%s %s -> %s %s" % ("open but not declared:" if kind == "extra" else "declared but stopped:", s, d, label)
                            + " (%s)" % POD_LAYER)
        paths.append({"source": ("pods:" + src) if src in groups else src, "destination": "pods:" + dst, "service": label,
                      "port": label, "intended": "allow" if w else "stop", "open": "allow" if g else "stop",
                      "layers": {POD_LAYER: "allow" if g else "stop"}, "stopped_by": [] if g else [POD_LAYER], "problems": problems})
    return paths


def summarize(paths, lb_differences=()):
    problems = ["%s -> %s %s: %s" % (p["source"], p["destination"], p["port"] if p["port"] == p["service"] else "%s (%s)" % (p["service"], p["port"]), text)
                for p in paths for text in p["problems"]]
    problems += ["load balancers differ: %s" % d for d in lb_differences]
    opened = sum(1 for p in paths if p["open"] != "stop")
    return {"ok": not problems, "problems": problems, "paths": len(paths), "open": opened, "blocked": len(paths) - opened,
            "failing_paths": sum(1 for p in paths if p["problems"])}
