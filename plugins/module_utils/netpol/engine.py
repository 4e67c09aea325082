# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reachability under Kubernetes NetworkPolicy semantics (+ the CiliumNetworkPolicy subset
the namespace_policies role emits). Pure: no I/O.

The universe is a list of endpoints: pods (namespace, labels, ports, optional IPs), the
address space cut into atoms by every CIDR in sight (so an ipBlock matches an atom wholly
or not at all), FQDN names and the kube-apiserver entity. Sets of endpoints are Python
ints used as bitsets; selectors are evaluated once per distinct selector over groups of
pods with identical labels, so cost grows with the number of distinct selectors rather
than with pods x policies.

Semantics followed (networking.k8s.io/v1 and the upstream e2e suite):
- a pod is isolated for ingress (egress) when any policy whose policyTypes holds Ingress
  (Egress) selects it; policyTypes missing means Ingress, plus Egress when spec.egress is
  non-empty (API server defaulting); a connection needs egress of the source AND ingress
  of the destination; allows are a union, nothing denies;
- rule.from/to missing or empty = every peer; ports missing or empty = every port;
  a peer with podSelector only = that policy's namespace; namespaceSelector only = every
  pod there; both = AND; separate peers = OR; ipBlock matches addresses (atoms) and pod
  IPs, minus except;
- ports: protocol defaults to TCP, port missing = all ports of that protocol, endPort is an
  inclusive range, a named port is resolved against the destination pod's container ports;
- traffic from a pod to itself is not evaluated (the upstream suite ignores loopback).
CiliumNetworkPolicy subset: endpointSelector, from/toEndpoints (namespaced: own namespace
unless the selector names io.kubernetes.pod.namespace), from/toCIDR(Set), from/toEntities
(kube-apiserver, world, cluster, all), toFQDNs (matchName/matchPattern), toPorts (ANY,
endPort, named ports; L7 rules narrow what is said inside a connection and are reported,
not modelled), enableDefaultDeny. CIDR rules never select pods or cluster entities (Cilium).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import ipaddress
import json

from ansible_collections.safespring.netsec.plugins.module_utils.netpol.selectors import (
    SelectorError,
    compile_selector,
    matches,
    selector_key,
)

PROTOCOLS = ("TCP", "UDP", "SCTP")
NS_NAME_LABEL = "kubernetes.io/metadata.name"
CILIUM_NS_LABEL = "io.kubernetes.pod.namespace"
CILIUM_NS_LABELS_PREFIX = "io.cilium.k8s.namespace.labels."
ENTITY_APISERVER = "kube-apiserver"
MAX_PORT = 65535


class PolicyError(ValueError):
    """A policy the analyser cannot evaluate faithfully; `where` names it."""

    def __init__(self, message, where=""):
        self.where = where
        super(PolicyError, self).__init__("%s: %s" % (where, message) if where else message)


def iter_bits(mask):
    """Indices of the set bits of `mask`, ascending."""
    text = bin(mask)[:1:-1]
    out = []
    pos = text.find("1")
    while pos >= 0:
        out.append(pos)
        pos = text.find("1", pos + 1)
    return out


def _net(cidr, where):
    try:
        return ipaddress.ip_network(str(cidr), strict=False)
    except ValueError as exc:
        raise PolicyError("%r is not a CIDR (%s)" % (cidr, exc), where)


def _span(net):
    return net.version, int(net.network_address), int(net.broadcast_address)


class Endpoint(object):
    """One node of the graph: a pod, an address atom, an FQDN or an entity."""

    __slots__ = ("index", "kind", "name", "namespace", "labels", "ips", "span", "keys")

    def __init__(self, index, kind, name, namespace=None, labels=None, ips=(), span=None):
        self.index = index
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.labels = labels or {}
        self.ips = ips
        self.span = span
        self.keys = ()

    def __repr__(self):
        return "Endpoint(%s)" % self.name


class Universe(object):
    """Endpoints, port keys and cached selector masks for one analysis.

    namespaces: [{name, labels}]; pods: [{namespace, name, labels, ports: [{port, protocol,
    name}], ips}]; a pod without ports is probed on every port interval that any policy
    or `ports` distinguishes. `policies` contribute their CIDRs and port boundaries so
    that the atoms and intervals are exact for them.
    """

    def __init__(self, namespaces, pods, policies=(), cidrs=(), fqdns=(), ports=(), entities=(ENTITY_APISERVER,)):
        self.namespaces = []
        self.ns_labels = {}
        for ns in namespaces:
            name = ns["name"] if isinstance(ns, dict) else str(ns)
            labels = dict((ns.get("labels") or {}) if isinstance(ns, dict) else {})
            labels[NS_NAME_LABEL] = name
            if name in self.ns_labels:
                raise PolicyError("namespace %r listed twice" % name, "namespaces")
            self.namespaces.append(name)
            self.ns_labels[name] = labels
        self.endpoints = []
        self.ns_mask = dict((name, 0) for name in self.namespaces)
        self._pod_ports = []
        seen = set()
        for idx, pod in enumerate(pods):
            ns = pod["namespace"]
            if ns not in self.ns_mask:
                raise PolicyError("pod %s/%s is in a namespace that is not listed" % (ns, pod.get("name")), "pods[%d]" % idx)
            name = "%s/%s" % (ns, pod["name"])
            if name in seen:
                raise PolicyError("pod %s listed twice" % name, "pods[%d]" % idx)
            seen.add(name)
            ips = tuple(ipaddress.ip_address(str(ip)) for ip in (pod.get("ips") or ()))
            ep = Endpoint(len(self.endpoints), "pod", name, ns, dict(pod.get("labels") or {}), ips)
            self.endpoints.append(ep)
            self.ns_mask[ns] |= 1 << ep.index
            self._pod_ports.append(pod.get("ports") or [])
        self.pods_mask = (1 << len(self.endpoints)) - 1
        self._build_atoms(policies, cidrs)
        self.fqdn_mask = 0
        for fqdn in sorted(set(str(f).rstrip(".").lower() for f in fqdns)):
            ep = Endpoint(len(self.endpoints), "fqdn", fqdn)
            self.endpoints.append(ep)
            self.fqdn_mask |= 1 << ep.index
        self.entity_mask = {}
        for entity in entities:
            ep = Endpoint(len(self.endpoints), "entity", "entity:%s" % entity)
            self.endpoints.append(ep)
            self.entity_mask[entity] = 1 << ep.index
        self.all_mask = (1 << len(self.endpoints)) - 1
        self.index = dict((ep.name, ep.index) for ep in self.endpoints)
        self._build_keys(policies, ports)
        # Pods with identical labels share one selector evaluation.
        groups = {}
        for ep in self.endpoints[:len(self._pod_ports)]:
            key = frozenset(ep.labels.items())
            groups[key] = groups.get(key, 0) | (1 << ep.index)
        self._label_groups = [(dict(k), m) for k, m in groups.items()]
        self._pod_sel_cache = {}
        self._ns_sel_cache = {}
        self._ipblock_cache = {}
        self._ports_cache = {}

    # -- construction ---------------------------------------------------------------
    def _build_atoms(self, policies, cidrs):
        spans = [_span(_net(c, "cidrs")) for c in cidrs]
        for pol in policies:
            for cidr in _policy_cidrs(pol):
                spans.append(_span(_net(cidr, _where(pol))))
        self.atom_mask = 0
        self.atom_slash0 = 0  # atoms only a /0 reaches: FQDN names count as "anywhere"
        for version, bits in ((4, 32), (6, 128)):
            bounds = set([0, 1 << bits])
            for ver, start, end in spans:
                if ver == version:
                    bounds.add(start)
                    bounds.add(end + 1)
            edges = sorted(bounds)
            cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
            for start, stop in zip(edges, edges[1:]):
                nets = list(ipaddress.summarize_address_range(cls(start), cls(stop - 1)))
                name = str(nets[0]) if len(nets) == 1 else "%s-%s" % (cls(start), cls(stop - 1))
                ep = Endpoint(len(self.endpoints), "cidr", name, span=(version, start, stop - 1))
                self.endpoints.append(ep)
                self.atom_mask |= 1 << ep.index

    def _build_keys(self, policies, ports):
        """Port keys: (protocol, low, high, name). Declared pod ports are single ports;
        probed endpoints get every interval the policies and `ports` distinguish."""
        bounds = dict((p, set([1, MAX_PORT + 1])) for p in PROTOCOLS)
        specs = list(ports)
        for pol in policies:
            specs.extend(_policy_port_specs(pol))
        for proto, low, high in specs:
            for prt in (PROTOCOLS if proto == "ANY" else (proto,)):
                if prt in bounds and low is not None:
                    bounds[prt].add(low)
                    bounds[prt].add(high + 1)
        self.keys = []
        self._key_ids = {}
        probe = []
        for proto in PROTOCOLS:
            edges = sorted(b for b in bounds[proto] if 1 <= b <= MAX_PORT + 1)
            for low, stop in zip(edges, edges[1:]):
                probe.append(self._key(proto, low, stop - 1, None))
        self.probe_keys = tuple(probe)
        for idx, ep in enumerate(self.endpoints):
            if ep.kind != "pod":
                ep.keys = self.probe_keys
                continue
            declared = self._pod_ports[idx]
            if not declared:
                ep.keys = self.probe_keys
                continue
            keys = []
            for port in declared:
                proto = str(port.get("protocol") or "TCP").upper()
                num = int(port["port"])
                keys.append(self._key(proto, num, num, port.get("name")))
            ep.keys = tuple(sorted(set(keys)))

    def _key(self, proto, low, high, name):
        key = (proto, low, high, name)
        if key not in self._key_ids:
            self._key_ids[key] = len(self.keys)
            self.keys.append(key)
        return self._key_ids[key]

    # -- selectors -------------------------------------------------------------------
    def pod_label_mask(self, selector, where=""):
        """Pods (any namespace) whose labels match; cached per distinct selector."""
        ckey = selector_key(selector)
        if ckey not in self._pod_sel_cache:
            try:
                reqs = compile_selector(selector, where)
            except SelectorError as exc:
                raise PolicyError(str(exc), exc.path)
            mask = 0
            for labels, group in self._label_groups:
                if matches(reqs, labels):
                    mask |= group
            self._pod_sel_cache[ckey] = mask
        return self._pod_sel_cache[ckey]

    def namespace_mask(self, selector, where=""):
        """Pods of the namespaces whose labels match the selector."""
        ckey = selector_key(selector)
        if ckey not in self._ns_sel_cache:
            try:
                reqs = compile_selector(selector, where)
            except SelectorError as exc:
                raise PolicyError(str(exc), exc.path)
            mask = 0
            for name in self.namespaces:
                if matches(reqs, self.ns_labels[name]):
                    mask |= self.ns_mask[name]
            self._ns_sel_cache[ckey] = mask
        return self._ns_sel_cache[ckey]

    def cidr_mask(self, cidr, excepts=(), pods=True, where=""):
        """Atoms inside cidr and outside every except (+ pod IPs when `pods`)."""
        ckey = (str(cidr), tuple(sorted(str(e) for e in excepts)), pods)
        if ckey in self._ipblock_cache:
            return self._ipblock_cache[ckey]
        net = _net(cidr, where)
        outs = [_net(e, where) for e in excepts]
        for out in outs:
            if out.version != net.version or not out.subnet_of(net):
                raise PolicyError("except %s is not inside %s" % (out, net), where)
        inside = _span(net)
        mask = 0
        for idx in iter_bits(self.atom_mask):
            ver, start, end = self.endpoints[idx].span
            if ver == inside[0] and inside[1] <= start and end <= inside[2]:
                if not any(_span(o)[1] <= start and end <= _span(o)[2] for o in outs):
                    mask |= 1 << idx
        if net.prefixlen == 0:
            mask |= self.fqdn_mask
        if pods:
            for ep in self.endpoints[:len(self._pod_ports)]:
                for ip in ep.ips:
                    if ip.version == net.version and ip in net and not any(ip in o for o in outs):
                        mask |= 1 << ep.index
                        break
        self._ipblock_cache[ckey] = mask
        return mask

    def matched_keys(self, port_specs, where=""):
        """frozenset of key ids a list of (protocol, port, endPort) specs admits;
        None = every key. Each spec: protocol in PROTOCOLS or ANY; port None (all), int
        or a port name."""
        if not port_specs:
            return None
        ckey = json.dumps(port_specs, sort_keys=True, default=str)
        if ckey in self._ports_cache:
            return self._ports_cache[ckey]
        out = set()
        for kid, (proto, low, high, name) in enumerate(self.keys):
            for sproto, port, end in port_specs:
                if sproto != "ANY" and sproto != proto:
                    continue
                if port is None:
                    out.add(kid)
                elif isinstance(port, int):
                    if port <= low and high <= (end if end is not None else port):
                        out.add(kid)
                elif name is not None and name == port:
                    out.add(kid)
        result = frozenset(out)
        self._ports_cache[ckey] = result
        return result

    def key_label(self, kid):
        proto, low, high, name = self.keys[kid]
        text = "%s/%d" % (proto, low) if low == high else "%s/%d-%d" % (proto, low, high)
        return "%s(%s)" % (text, name) if name else text


def _where(pol):
    meta = pol.get("metadata") or {}
    return "%s %s/%s" % (pol.get("kind", "?"), meta.get("namespace", "?"), meta.get("name", "?"))


def _is_cnp(pol):
    return pol.get("kind") == "CiliumNetworkPolicy"


def _cnp_specs(pol):
    specs = []
    if pol.get("spec"):
        specs.append(pol["spec"])
    specs.extend(pol.get("specs") or [])
    return specs


def _policy_cidrs(pol):
    out = []
    if _is_cnp(pol):
        for spec in _cnp_specs(pol):
            for direction in ("ingress", "egress"):
                for rule in spec.get(direction) or []:
                    out.extend(rule.get("fromCIDR") or [])
                    out.extend(rule.get("toCIDR") or [])
                    for item in (rule.get("fromCIDRSet") or []) + (rule.get("toCIDRSet") or []):
                        if item.get("cidr"):
                            out.append(item["cidr"])
                        out.extend(item.get("except") or [])
        return out
    if pol.get("kind") != "NetworkPolicy":
        return out
    spec = pol.get("spec") or {}
    for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
        for peer in (rule.get("from") or []) + (rule.get("to") or []):
            block = peer.get("ipBlock")
            if block:
                out.append(block.get("cidr"))
                out.extend(block.get("except") or [])
    return out


def _port_value(port):
    if port is None:
        return None
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    text = str(port)
    return int(text) if text.isdigit() else text


def np_port_specs(ports):
    specs = []
    for item in ports or []:
        port = _port_value(item.get("port"))
        end = item.get("endPort")
        specs.append((str(item.get("protocol") or "TCP"), port, int(end) if end is not None else None))
    return specs


def cnp_port_specs(to_ports):
    specs = []
    for block in to_ports or []:
        ports = block.get("ports") or []
        if not ports:
            specs.append(("ANY", None, None))
        for item in ports:
            port = _port_value(item.get("port"))
            if port == 0:
                port = None  # Cilium: port 0 = every port
            end = item.get("endPort")
            specs.append((str(item.get("protocol") or "ANY").upper(), port, int(end) if end else None))
    return specs


def _policy_port_specs(pol):
    out = []
    rules = []
    if _is_cnp(pol):
        for spec in _cnp_specs(pol):
            for direction in ("ingress", "egress"):
                for rule in spec.get(direction) or []:
                    rules.extend(cnp_port_specs(rule.get("toPorts")))
    elif pol.get("kind") == "NetworkPolicy":
        spec = pol.get("spec") or {}
        for rule in (spec.get("ingress") or []) + (spec.get("egress") or []):
            rules.extend(np_port_specs(rule.get("ports")))
    for proto, port, end in rules:
        if isinstance(port, int):
            out.append((proto, port, end if end is not None else port))
    return out


class Reachability(object):
    """Result: for each destination endpoint and each of its port keys, the bitset of
    sources that may open a connection."""

    def __init__(self, universe, allowed, notes):
        self.universe = universe
        self.allowed = allowed  # list (per destination) of {key id: source mask}
        self.notes = notes

    def allows(self, src, dst, key):
        """src/dst: endpoint names; key: key id or (protocol, port[, name])."""
        uni = self.universe
        s, d = uni.index[src], uni.index[dst]
        kid = key if isinstance(key, int) else self._find_key(d, key)
        if kid is None:
            raise KeyError("%s has no port %r" % (dst, key))
        return bool(self.allowed[d].get(kid, 0) >> s & 1)

    def _find_key(self, d, key):
        proto, port = key[0], key[1]
        for kid in self.universe.endpoints[d].keys:
            kproto, low, high, name = self.universe.keys[kid]
            if kproto == proto and low <= port <= high and (len(key) < 3 or key[2] == name):
                return kid
        return None

    def flows(self):
        """Every allowed (source, destination, port label), sorted."""
        uni = self.universe
        out = []
        for d, per_key in enumerate(self.allowed):
            for kid, mask in per_key.items():
                label = uni.key_label(kid)
                for s in iter_bits(mask):
                    out.append((uni.endpoints[s].name, uni.endpoints[d].name, label))
        return sorted(out)

    def count(self):
        return sum(bin(m).count("1") for per_key in self.allowed for m in per_key.values())


def _types(spec):
    types = spec.get("policyTypes")
    if types:
        return set(types)
    # API server defaulting (SetDefaults_NetworkPolicySpec): Ingress, plus Egress when
    # the policy has egress rules.
    return set(["Ingress", "Egress"]) if spec.get("egress") else set(["Ingress"])


class _Collector(object):
    """Accumulates allow rules per direction before the final join."""

    def __init__(self, universe):
        self.uni = universe
        self.isolated_in = 0
        self.isolated_out = 0
        # (targets, peers, keys) triples; grouped later to share the expensive loops
        self.ingress = {}
        self.egress = {}

    def add(self, direction, targets, peers, keys):
        if not targets or not peers:
            return
        table = self.ingress if direction == "ingress" else self.egress
        if direction == "ingress":
            # grouped by (targets, keys): union of allowed sources
            gkey = (targets, keys)
            table[gkey] = table.get(gkey, 0) | peers
        else:
            # grouped by (destinations, keys): union of allowed sources
            gkey = (peers, keys)
            table[gkey] = table.get(gkey, 0) | targets


def _np_peer_mask(uni, peer, ns, where):
    if not isinstance(peer, dict):
        raise PolicyError("a peer must be a mapping", where)
    block = peer.get("ipBlock")
    pod_sel = peer.get("podSelector")
    ns_sel = peer.get("namespaceSelector")
    if block is not None:
        if pod_sel is not None or ns_sel is not None:
            raise PolicyError("ipBlock cannot be combined with a selector in one peer", where)
        return uni.cidr_mask(block.get("cidr"), block.get("except") or (), True, where + ".ipBlock")
    if pod_sel is None and ns_sel is None:
        raise PolicyError("a peer needs podSelector, namespaceSelector or ipBlock", where)
    if ns_sel is None:
        return uni.pod_label_mask(pod_sel, where + ".podSelector") & uni.ns_mask[ns]
    mask = uni.namespace_mask(ns_sel, where + ".namespaceSelector")
    if pod_sel is not None:
        mask &= uni.pod_label_mask(pod_sel, where + ".podSelector")
    return mask


def _add_network_policy(col, pol, where):
    uni = col.uni
    ns = (pol.get("metadata") or {}).get("namespace")
    if ns not in uni.ns_mask:
        return "%s: namespace not in the universe, ignored" % where
    spec = pol.get("spec") or {}
    types = _types(spec)
    unknown = types - set(["Ingress", "Egress"])
    if unknown:
        raise PolicyError("unknown policyTypes %s" % ", ".join(sorted(unknown)), where + ".spec.policyTypes")
    targets = uni.pod_label_mask(spec.get("podSelector") or {}, where + ".spec.podSelector") & uni.ns_mask[ns]
    for direction, ptype, peer_field in (("ingress", "Ingress", "from"), ("egress", "Egress", "to")):
        if ptype not in types:
            continue
        if direction == "ingress":
            col.isolated_in |= targets
        else:
            col.isolated_out |= targets
        for ridx, rule in enumerate(spec.get(direction) or []):
            rwhere = "%s.spec.%s[%d]" % (where, direction, ridx)
            rule = rule or {}
            peers = rule.get(peer_field)
            if not peers:
                mask = uni.all_mask
            else:
                mask = 0
                for pidx, peer in enumerate(peers):
                    mask |= _np_peer_mask(uni, peer, ns, "%s.%s[%d]" % (rwhere, peer_field, pidx))
            specs = np_port_specs(rule.get("ports"))
            for proto, port, end in specs:
                if proto not in PROTOCOLS:
                    raise PolicyError("protocol %r is not TCP, UDP or SCTP" % proto, rwhere + ".ports")
                if end is not None and not isinstance(port, int):
                    raise PolicyError("endPort needs a numeric port", rwhere + ".ports")
            col.add(direction, targets, mask, uni.matched_keys(specs, rwhere))
    return None


def _cilium_selector_mask(uni, selector, ns, where, namespaced=True):
    """Endpoints a Cilium endpoint selector picks: pods of `ns` unless the selector names
    the namespace (io.kubernetes.pod.namespace) or namespace labels."""
    try:
        reqs = compile_selector(selector or {}, where)
    except SelectorError as exc:
        raise PolicyError(str(exc), exc.path)
    pod_reqs, name_reqs, nslabel_reqs = [], [], []
    for key, oper, values in reqs:
        for prefix in ("k8s:", "any:"):
            if key.startswith(prefix):
                key = key[len(prefix):]
        if key == CILIUM_NS_LABEL:
            name_reqs.append((NS_NAME_LABEL, oper, values))
        elif key.startswith(CILIUM_NS_LABELS_PREFIX):
            nslabel_reqs.append((key[len(CILIUM_NS_LABELS_PREFIX):], oper, values))
        else:
            pod_reqs.append((key, oper, values))
    if name_reqs or nslabel_reqs or not namespaced:
        nsm = 0
        for name in uni.namespaces:
            if matches(name_reqs + nslabel_reqs, uni.ns_labels[name]):
                nsm |= uni.ns_mask[name]
    else:
        nsm = uni.ns_mask[ns]
    pmask = 0
    for labels, group in uni._label_groups:
        if matches(pod_reqs, labels):
            pmask |= group
    return nsm & pmask


def _cilium_entities(uni, entities, where):
    mask = 0
    for entity in entities:
        if entity == "all":
            mask |= uni.all_mask
        elif entity == "world":
            mask |= uni.atom_mask | uni.fqdn_mask
        elif entity == "cluster":
            mask |= uni.pods_mask
            for emask in uni.entity_mask.values():
                mask |= emask
        elif entity in uni.entity_mask:
            mask |= uni.entity_mask[entity]
        else:
            raise PolicyError("entity %r is outside the modelled subset (kube-apiserver, world, cluster, all)" % entity, where)
    return mask


def _cilium_peers(uni, rule, ns, direction, where):
    pre = "from" if direction == "ingress" else "to"
    fields = [pre + "Endpoints", pre + "CIDR", pre + "CIDRSet", pre + "Entities"]
    if direction == "egress":
        fields.append("toFQDNs")
    unsupported = [k for k in rule if k.startswith(pre) and k not in fields and k != "toPorts"]
    if unsupported:
        raise PolicyError("field(s) %s are outside the modelled subset" % ", ".join(sorted(unsupported)), where)
    if not any(f in rule for f in fields):
        return uni.all_mask  # L3 wildcard
    mask = 0
    for idx, sel in enumerate(rule.get(pre + "Endpoints") or []):
        mask |= _cilium_selector_mask(uni, sel, ns, "%s.%sEndpoints[%d]" % (where, pre, idx))
    for cidr in rule.get(pre + "CIDR") or []:
        mask |= uni.cidr_mask(cidr, (), False, where)
    for item in rule.get(pre + "CIDRSet") or []:
        mask |= uni.cidr_mask(item.get("cidr"), item.get("except") or (), False, where)
    mask |= _cilium_entities(uni, rule.get(pre + "Entities") or [], where)
    for item in rule.get("toFQDNs") or []:
        if item.get("matchName"):
            name = str(item["matchName"]).rstrip(".").lower()
            if name in uni.index:
                mask |= 1 << uni.index[name]
        elif item.get("matchPattern"):
            pattern = str(item["matchPattern"]).rstrip(".").lower()
            for idx in iter_bits(uni.fqdn_mask):
                if fnmatch.fnmatchcase(uni.endpoints[idx].name, pattern):
                    mask |= 1 << idx
    return mask


def _add_cilium_policy(col, pol, where):
    uni = col.uni
    ns = (pol.get("metadata") or {}).get("namespace")
    if ns not in uni.ns_mask:
        return "%s: namespace not in the universe, ignored" % where
    notes = []
    for sidx, spec in enumerate(_cnp_specs(pol)):
        swhere = "%s.spec" % where if sidx == 0 and pol.get("spec") else "%s.specs[%d]" % (where, sidx)
        if "nodeSelector" in spec:
            raise PolicyError("host policies (nodeSelector) are outside the modelled subset", swhere)
        for deny in ("ingressDeny", "egressDeny"):
            if spec.get(deny):
                raise PolicyError("%s is outside the modelled subset" % deny, swhere)
        targets = _cilium_selector_mask(uni, spec.get("endpointSelector") or {}, ns, swhere + ".endpointSelector")
        default_deny = spec.get("enableDefaultDeny") or {}
        for direction in ("ingress", "egress"):
            rules = spec.get(direction) or []
            if rules and default_deny.get(direction, True) is not False:
                if direction == "ingress":
                    col.isolated_in |= targets
                else:
                    col.isolated_out |= targets
            for ridx, rule in enumerate(rules):
                rwhere = "%s.%s[%d]" % (swhere, direction, ridx)
                peers = _cilium_peers(uni, rule or {}, ns, direction, rwhere)
                specs = cnp_port_specs((rule or {}).get("toPorts"))
                if any((block or {}).get("rules") for block in (rule or {}).get("toPorts") or []):
                    notes.append("%s: L7 rules narrow this rule inside the connection (reported, not modelled)" % rwhere)
                col.add(direction, targets, peers, uni.matched_keys(specs, rwhere))
    return "; ".join(notes) or None


def analyze(universe, policies):
    """Evaluate `policies` (NetworkPolicy / CiliumNetworkPolicy manifests; other kinds are
    skipped) over `universe`. Returns a Reachability."""
    uni = universe
    col = _Collector(uni)
    notes = []
    for idx, pol in enumerate(policies):
        kind = pol.get("kind")
        where = "%s[%d] %s/%s" % (kind, idx, (pol.get("metadata") or {}).get("namespace"), (pol.get("metadata") or {}).get("name"))
        if kind == "NetworkPolicy":
            note = _add_network_policy(col, pol, where)
        elif kind == "CiliumNetworkPolicy":
            note = _add_cilium_policy(col, pol, where)
        else:
            continue
        if note:
            notes.append(note)
    endpoints = uni.endpoints
    n = len(endpoints)
    all_mask = uni.all_mask

    # Ingress side: per destination and key, the sources its policies admit.
    ingress = [None] * n
    for (targets, keys), sources in col.ingress.items():
        for d in iter_bits(targets):
            per_key = ingress[d]
            if per_key is None:
                per_key = ingress[d] = {}
            for kid in endpoints[d].keys:
                if keys is None or kid in keys:
                    per_key[kid] = per_key.get(kid, 0) | sources

    # Egress side: per destination and key, the isolated sources allowed to reach it.
    egress = [None] * n
    for (dests, keys), sources in col.egress.items():
        for d in iter_bits(dests):
            per_key = egress[d]
            if per_key is None:
                per_key = egress[d] = {}
            for kid in endpoints[d].keys:
                if keys is None or kid in keys:
                    per_key[kid] = per_key.get(kid, 0) | sources

    free_out = all_mask & ~col.isolated_out
    isolated_in = col.isolated_in
    allowed = []
    for d in range(n):
        ep = endpoints[d]
        inn = ingress[d] or {}
        out = egress[d] or {}
        self_off = all_mask & ~(1 << d)
        is_iso = isolated_in >> d & 1
        per_key = {}
        for kid in ep.keys:
            srcs = inn.get(kid, 0) if is_iso else all_mask
            srcs &= free_out | out.get(kid, 0)
            srcs &= self_off
            if srcs:
                per_key[kid] = srcs
        allowed.append(per_key)
    return Reachability(uni, allowed, notes)
