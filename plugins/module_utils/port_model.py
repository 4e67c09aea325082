# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who may talk to whom, on what: the cluster's port model.

Pure data and functions, no I/O and no knowledge of OpenStack, Talos, HAProxy or
Kubernetes. Every port number of the baseline is written here once; renderers in the
system packages turn the flows into security-group rules, Talos NetworkRuleConfig
documents, HAProxy allowlists and NetworkPolicies.

A flow says "source may open connections to destination on service". Peers are roles
(resolved by each renderer: a security-group reference in OpenStack, node addresses in
Talos) or named CIDR sets. Intra-cluster peers are always roles, never address pools:
on Safespring the pools are shared between tenants.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re
from collections import namedtuple

from ansible_collections.safespring.netsec.plugins.module_utils import _schema as S
from ansible_collections.safespring.netsec.plugins.module_utils import _typed as T
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

# --- services -------------------------------------------------------------------------

Service = namedtuple("Service", "name protocol port_min port_max description")
# protocol: tcp | udp | icmp (ICMP echo of the flow's IP family) | vrrp (IP protocol 112)

_SERVICE_LIST = [
    Service("kube-apiserver", "tcp", 6443, 6443, "Kubernetes API server"),
    Service("talos-apid", "tcp", 50000, 50000, "Talos API (apid)"),
    Service("talos-trustd", "tcp", 50001, 50001, "Talos trustd"),
    Service("etcd", "tcp", 2379, 2380, "etcd client and peer"),
    Service("kubelet", "tcp", 10250, 10250, "kubelet API"),
    Service("cilium-vxlan", "udp", 8472, 8472, "Cilium VXLAN overlay"),
    Service("cilium-geneve", "udp", 6081, 6081, "Cilium Geneve overlay"),
    Service("cilium-wireguard", "udp", 51871, 51871, "Cilium WireGuard encryption"),
    Service("cilium-health", "tcp", 4240, 4240, "cilium-health probes"),
    Service("cilium-health-icmp", "icmp", None, None, "cilium-health ICMP echo"),
    Service("hubble-server", "tcp", 4244, 4244, "Hubble server (peer service for relay)"),
    # Pod ports (the chart's container ports), reached through Cilium policies, never a node rule.
    Service("hubble-relay", "tcp", 4245, 4245, "Hubble relay API (pod port)"),
    Service("hubble-ui", "tcp", 8081, 8081, "Hubble UI (pod port)"),
    Service("kubespan", "udp", 51820, 51820, "Talos KubeSpan (WireGuard)"),
    Service("nodeports", "tcp", 30000, 32767, "Kubernetes NodePort range"),
    Service("http", "tcp", 80, 80, "HTTP ingress (redirects to HTTPS)"),
    Service("https", "tcp", 443, 443, "HTTPS ingress"),
    Service("haproxy-admin", "tcp", 8404, 8404, "HAProxy stats and Prometheus endpoint"),
    Service("ssh", "tcp", 22, 22, "SSH (jump host and load-balancer administration)"),
    Service("bgp", "tcp", 179, 179, "BGP session with the platform peer (anycast)"),
    Service("bfd-multihop", "udp", 4784, 4784, "BFD for multihop BGP sessions"),
    Service("vrrp", "vrrp", None, None, "VRRP between the load balancers (IP protocol 112)"),
    Service("dns-udp", "udp", 53, 53, "DNS"),
    Service("dns-tcp", "tcp", 53, 53, "DNS over TCP"),
    Service("ntp", "udp", 123, 123, "NTP"),
    Service("registry-https", "tcp", 443, 443, "container image registries"),
    Service("oidc-https", "tcp", 443, 443, "OIDC issuer (Zitadel)"),
]
SERVICES = dict((s.name, s) for s in _SERVICE_LIST)


def _port_text(service):
    if service.port_min is None:
        return service.protocol
    if service.port_min == service.port_max:
        return "%s/%d" % (service.protocol, service.port_min)
    return "%s/%d-%d" % (service.protocol, service.port_min, service.port_max)


VRRP_PROTOCOL_NUMBER = 112
ICMP_ECHO_REQUEST = {4: 8, 6: 128}
KUBEPRISM_PORT = 7445  # loopback only on every node: no rule needed, but Cilium values point at it

# Services that must never be reachable from the whole Internet (lint, unless waived).
SENSITIVE_SERVICES = ("etcd", "kubelet", "talos-trustd", "talos-apid", "nodeports", "kube-apiserver")

# --- roles and peers ------------------------------------------------------------------

ROLES = ("control_plane", "worker", "loadbalancer", "jump_host")
NODE_ROLES = ("control_plane", "worker")
WORLD_CIDRS = ("0.0.0.0/0", "::/0")

Peer = namedtuple("Peer", "kind name cidrs")  # kind: role | cidrs


def role(name):
    return Peer("role", name, ())


def cidrs(name, values):
    return Peer("cidrs", name, tuple(values))


Flow = namedtuple("Flow", "name service source destination")


def flow_key(flow):
    return (flow.destination.name, flow.service.name, flow.source.name)


# --- cluster specification -------------------------------------------------------------

def _ports(*names):
    return " and ".join(_port_text(SERVICES[n]) for n in names)


def _cluster_name(value, field):
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", value):
        raise NetsecError("%s is not a valid cluster name" % T.secret_safe(value, False), field=field,
                          fix="use letters, digits, '-' and '_' (at most 63, starting with a letter or digit)")
    return value


def check_port(value, field):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise NetsecError("%r is not a port number" % (value,), field=field)
    if port < 1 or port > 65535 or str(port) != str(value).strip():
        raise NetsecError("%s is not a port (1-65535)" % (value,), field=field)
    return port


def _cidr(value, field):
    if not isinstance(value, str):
        raise NetsecError("%s is not an IPv4/IPv6 address or CIDR" % T.secret_safe(value, False), field=field,
                          fix="write it like 192.0.2.0/24 or 2001:db8::/64")
    return T.cidr(value, field)


def _cidrs(description, default=None):
    return S.Option("list", description, parse=_cidr, elements="str", default=[] if default is None else default)


def _roles(description, choices, default):
    return S.Option("list", description, choices=choices, elements="str", default=default)


def _flag(description):
    return S.Option("bool", description, default=True)


# The one definition of the cluster spec: validation (from_dict), the defaults, the
# roles' argument_specs and the doc fragment plugins/doc_fragments/cluster_spec.py all
# come from it (tests/tools/cluster_spec.py writes the YAML copies; tests hold them to it).
_CLUSTER_OPTIONS = [
    ("name", S.Option("str", "Cluster name; the security groups are named C(<name>-<role>).", parse=_cluster_name, required=True)),
    ("ip_versions", S.Option("list", "IP families to open.", elements="int", choices=(4, 6), default=[4, 6])),
    ("cni", S.Option("dict", "Cilium options.", options=[
        ("tunnel", S.Option("str", "Overlay (%s for V(vxlan), %s for V(geneve), none for V(native) routing)."
                            % (_ports("cilium-vxlan"), _ports("cilium-geneve")), choices=("vxlan", "geneve", "native"), default="vxlan")),
        ("wireguard", _flag("Cilium WireGuard encryption (%s between nodes)." % _ports("cilium-wireguard"))),
        ("health", _flag("cilium-health probes (%s and ICMP echo between nodes)." % _ports("cilium-health"))),
        ("hubble", _flag("Hubble server (%s between nodes)." % _ports("hubble-server"))),
    ])),
    ("talos", S.Option("dict", "Talos options.", options=[
        ("kubespan", S.Option("bool", "KubeSpan (%s between nodes)." % _ports("kubespan"), default=False)),
    ])),
    ("loadbalancer", S.Option("dict", "The load balancers (the only entry into the cluster).", options=[
        ("ha_mode", S.Option("str", "V(bgp) anycast (%s and BFD with the platform peer), V(vrrp) (IP protocol %d between the load"
                                    " balancers), or V(none)." % (_ports("bgp"), VRRP_PROTOCOL_NUMBER),
                             choices=("bgp", "vrrp", "none"), default="bgp")),
        ("bgp_peers", _cidrs("The platform's BGP peer addresses (BGP mode; at least one).", ["169.254.169.254/32"])),
        ("bfd", _flag("BFD (%s) with the BGP peer." % _ports("bfd-multihop"))),
        ("ingress_cidrs", _cidrs("Who may reach %s on the load balancers (the default is the world)." % _ports("http", "https"),
                                 list(WORLD_CIDRS))),
        ("api_cidrs", _cidrs("CIDRs besides the jump host that may reach %s on the load balancers."
                             % _ports("kube-apiserver", "talos-apid"))),
        ("nodeport_targets", _roles("Node roles the load balancers reach on the NodePort range (%s)." % _ports("nodeports"),
                                    NODE_ROLES, ["worker"])),
        # VRRP mode: the virtual addresses keepalived moves between the LBs (each LB port
        # must allow them, e.g. Neutron allowed_address_pairs).
        ("vrrp_addresses", _cidrs("VRRP mode, the virtual addresses the load balancers' ports must allow.")),
    ])),
    ("jump_host", S.Option("dict", "The jump host, the only admin source.", options=[
        ("enabled", _flag("Render the jump host's group and its admin flows.")),
        ("admin_cidrs", _cidrs("Who may reach SSH (%s) on the jump host." % _ports("ssh"))),
    ])),
    ("egress", S.Option("dict", "Egress restriction; egress is open unless a role is listed in C(restrict).", options=[
        ("restrict", _roles("Roles whose egress is limited to the declared destinations and the cluster's own flows.", ROLES, [])),
        ("dns", _cidrs("DNS servers (%s)." % _ports("dns-udp", "dns-tcp"))),
        ("ntp", _cidrs("NTP servers (%s)." % _ports("ntp"))),
        ("registries", _cidrs("Container image registries (%s)." % _ports("registry-https"))),
        ("oidc_issuer", _cidrs("The OIDC issuer (%s)." % _ports("oidc-https"))),
        ("extra", S.Option("list", "Further egress destinations.", elements="dict", default=[], options=[
            ("name", S.Option("str", "Name of the destination (the service is called C(egress-<name>)).", parse=T.name, required=True)),
            ("protocol", S.Option("str", "Transport protocol.", choices=("tcp", "udp"), default="tcp")),
            ("port", S.Option("int", "Port (or first port of a range).", parse=check_port, required=True)),
            ("port_max", S.Option("int", "Last port of a range; the default is C(port).", parse=check_port)),
            ("cidrs", _cidrs("Destination addresses or CIDRs.")),
            ("roles", _roles("Roles that may use this destination (when their egress is restricted).", ROLES, list(NODE_ROLES))),
        ])),
    ])),
]
CLUSTER_SCHEMA = S.Option("dict", "The cluster as the port model reads it, the one mapping security groups, Talos firewall documents,"
                          " HAProxy allowlists and Cilium policies are rendered from. Unset keys take the defaults below;"
                          " unknown keys are refused at every level.", options=_CLUSTER_OPTIONS)
_DEFAULTS = CLUSTER_SCHEMA.defaults()


def _cidr_list(values, field):
    if not isinstance(values, (list, tuple)):
        raise NetsecError("must be a list of CIDRs", field=field)
    out = []
    for i, value in enumerate(values):
        out.append(normalize_cidr(value, field_path(field, i)))
    return out


def normalize_cidr(value, field):
    """'10.1.2.3/8' -> '10.0.0.0/8'; a bare address becomes a host prefix."""
    try:
        return str(ipaddress.ip_network(str(value).strip(), strict=False))
    except ValueError:
        raise NetsecError("%r is not an IPv4/IPv6 address or CIDR" % (value,), field=field,
                          fix="write it like 192.0.2.0/24 or 2001:db8::/64")


def cidr_version(cidr):
    return ipaddress.ip_network(cidr, strict=False).version


class ClusterSpec(object):
    """A validated cluster description; build it with ClusterSpec.from_dict()."""

    def __init__(self, data):
        self.data = data

    def __getitem__(self, key):
        return self.data[key]

    @property
    def name(self):
        return self.data["name"]

    @property
    def ip_versions(self):
        return tuple(self.data["ip_versions"])

    @classmethod
    def from_dict(cls, raw, field="cluster"):
        """Validate `raw` against CLUSTER_SCHEMA; `field` is the variable as the user wrote it."""
        data = validate_cluster(raw, field)
        data["egress"]["extra"] = [_extra_egress(extra) for extra in data["egress"]["extra"]]
        return cls(data)


def validate_cluster(raw, field="cluster"):
    """`raw` checked against CLUSTER_SCHEMA and the rules between keys: plain data in the
    input's shape, every default filled in and every CIDR normalised (the cluster_spec filter)."""
    if raw is None:
        raise NetsecError("must be a mapping", field=field)
    data = CLUSTER_SCHEMA.validate(raw, field)
    if not data["ip_versions"]:
        raise NetsecError("must name at least one IP family (4 and/or 6)", field=field_path(field, "ip_versions"))
    lb = data["loadbalancer"]
    if lb["ha_mode"] == "bgp" and not lb["bgp_peers"]:
        raise NetsecError("bgp mode needs the platform's BGP peer address", field=field_path(field, "loadbalancer", "bgp_peers"))
    for i, extra in enumerate(data["egress"]["extra"]):
        if extra["port_max"] is None:
            extra["port_max"] = extra["port"]
        elif extra["port_max"] < extra["port"]:
            raise NetsecError("%d is below port %d" % (extra["port_max"], extra["port"]), field=field_path(field, "egress", "extra", i, "port_max"))
    return data


def _extra_egress(extra):
    port, port_max = extra["port"], extra["port_max"]
    return {
        "service": Service("egress-" + extra["name"], extra["protocol"], port, port_max, "declared egress: %s" % extra["name"]),
        "cidrs": extra["cidrs"],
        "roles": extra["roles"],
    }


# --- flows ----------------------------------------------------------------------------

def flows(spec):
    """All allowed flows of a cluster, in a stable order. The heart of the baseline."""
    if not isinstance(spec, ClusterSpec):
        spec = ClusterSpec.from_dict(spec)
    cni, talos, lb, jump, egress = spec["cni"], spec["talos"], spec["loadbalancer"], spec["jump_host"], spec["egress"]
    CP, W, LB, JH = role("control_plane"), role("worker"), role("loadbalancer"), role("jump_host")
    nodes = (CP, W)
    admins = [JH] if jump["enabled"] else []
    api_sources = admins + ([cidrs("api_cidrs", lb["api_cidrs"])] if lb["api_cidrs"] else [])
    out = []

    def add(service, sources, destinations, name=None):
        for destination in destinations:
            for source in sources:
                out.append(Flow(name or service, SERVICES[service] if isinstance(service, str) else service, source, destination))

    # The edge: the load balancers are the only entry to the cluster.
    if lb["ingress_cidrs"]:
        add("http", [cidrs("ingress_cidrs", lb["ingress_cidrs"])], [LB])
        add("https", [cidrs("ingress_cidrs", lb["ingress_cidrs"])], [LB])
    add("kube-apiserver", api_sources, [LB])
    add("talos-apid", api_sources, [LB])
    add("haproxy-admin", admins, [LB])
    add("ssh", admins, [LB])
    if lb["ha_mode"] == "vrrp":
        add("vrrp", [LB], [LB])
    elif lb["ha_mode"] == "bgp":
        peer = cidrs("bgp_peer", lb["bgp_peers"])
        # Either side may open the session; BFD control packets flow both ways.
        add("bgp", [peer], [LB])
        add("bgp", [LB], [peer])
        if lb["bfd"]:
            add("bfd-multihop", [peer], [LB])
            add("bfd-multihop", [LB], [peer])
    if jump["enabled"] and jump["admin_cidrs"]:
        add("ssh", [cidrs("admin_cidrs", jump["admin_cidrs"])], [JH])

    # Control plane.
    add("kube-apiserver", [LB, CP, W], [CP])
    add("talos-apid", admins + [LB, CP], [CP])
    add("talos-trustd", [CP, W], [CP])
    add("etcd", [CP], [CP])
    # Workers: apid is reached through the control plane's apid proxy.
    add("talos-apid", [CP], [W])

    # Every node from every node.
    add("kubelet", nodes, nodes)
    if cni["tunnel"] != "native":
        add("cilium-" + cni["tunnel"], nodes, nodes)
    if cni["wireguard"]:
        add("cilium-wireguard", nodes, nodes)
    if cni["health"]:
        add("cilium-health", nodes, nodes)
        add("cilium-health-icmp", nodes, nodes)
    if cni["hubble"]:
        add("hubble-server", nodes, nodes)
    if talos["kubespan"]:
        add("kubespan", nodes, nodes)
    add("nodeports", [LB], [role(r) for r in lb["nodeport_targets"]])

    # Declared egress destinations (only rendered for roles whose egress is restricted).
    restricted = [role(r) for r in egress["restrict"]]
    restricted_nodes = [r for r in restricted if r.name in NODE_ROLES]
    for service, key in (("dns-udp", "dns"), ("dns-tcp", "dns"), ("ntp", "ntp"),
                         ("registry-https", "registries"), ("oidc-https", "oidc_issuer")):
        if egress[key]:
            add(service, restricted_nodes, [cidrs(key, egress[key])])
    for extra in egress["extra"]:
        if extra["cidrs"]:
            add(extra["service"], [r for r in restricted if r.name in extra["roles"]],
                [cidrs(extra["service"].name, extra["cidrs"])], name=extra["service"].name)
    return _dedupe(out)


def _dedupe(items):
    seen, out = set(), []
    for flow in items:
        key = (flow.service.name, flow.source, flow.destination)
        if key not in seen:
            seen.add(key)
            out.append(flow)
    return out


def ingress_flows(spec, destination_role):
    """Flows into a role, grouped by service in model order: [(Service, [Peer, ...]), ...]."""
    grouped = []
    index = {}
    for flow in flows(spec):
        if flow.destination.kind == "role" and flow.destination.name == destination_role:
            if flow.service.name not in index:
                index[flow.service.name] = len(grouped)
                grouped.append((flow.service, []))
            grouped[index[flow.service.name]][1].append(flow.source)
    return grouped


def egress_restricted(spec, source_role):
    return source_role in spec["egress"]["restrict"]


def resolve(peer, addresses, field="addresses"):
    """A peer as CIDRs: roles via `addresses` (role -> list of CIDRs/addresses), CIDR sets as they are."""
    if peer.kind == "cidrs":
        return list(peer.cidrs)
    if peer.name not in addresses:
        raise NetsecError("no addresses for role %r" % peer.name, field=field_path(field, peer.name),
                          fix="list the %s hosts' addresses" % peer.name)
    return _cidr_list(addresses[peer.name], field_path(field, peer.name))


def filter_versions(cidr_values, versions):
    return [c for c in cidr_values if cidr_version(c) in versions]


# --- lint: sensitive services open to the world ----------------------------------------

def _ranges_overlap(a_min, a_max, b_min, b_max):
    return a_min <= b_max and b_min <= a_max


def exposed_services(protocol, port_min, port_max):
    """Sensitive services a rule with this protocol/port range would open.

    protocol None / 'any' and missing ports mean 'everything'.
    """
    hits = []
    for name in SENSITIVE_SERVICES:
        service = SERVICES[name]
        if protocol not in (None, "any", service.protocol):
            continue
        low = 1 if port_min is None else port_min
        high = 65535 if port_max is None else port_max
        if _ranges_overlap(low, high, service.port_min, service.port_max):
            hits.append(name)
    return hits


def is_world(cidr):
    """True for a source that is every address: 0.0.0.0/0, ::/0, or ANY_SOURCE (no prefix at all)."""
    if cidr is None:
        return False
    if cidr == ANY_SOURCE:
        return True
    return ipaddress.ip_network(cidr, strict=False).prefixlen == 0


# A rule source with no address restriction at all (Neutron: no remote prefix and no
# remote group; Cilium: fromEntities world/all). Counts as every address of both families.
ANY_SOURCE = "any"

# A union of sources wider than one /8 (IPv4) or one /16 (IPv6) counts as the Internet:
# 0.0.0.0/1 + 128.0.0.0/1 or 2000::/3 must not pass where 0.0.0.0/0 is refused. Admin and
# peer ranges are orders of magnitude smaller; a legitimately wider range needs a waiver.
EXPOSURE_LIMIT_PREFIX = {4: 8, 6: 16}
_FAMILY_BITS = {4: 32, 6: 128}


def source_coverage(sources):
    """Sources (CIDRs or ANY_SOURCE) -> {4: addresses covered, 6: addresses covered}.

    Overlaps count once (the union, not the sum), in O(n log n)."""
    nets = {4: [], 6: []}
    for source in sources:
        if source == ANY_SOURCE:
            nets[4].append(ipaddress.ip_network("0.0.0.0/0"))
            nets[6].append(ipaddress.ip_network("::/0"))
            continue
        net = ipaddress.ip_network(source, strict=False)
        nets[net.version].append(net)
    return dict((v, sum(n.num_addresses for n in ipaddress.collapse_addresses(nets[v])) if nets[v] else 0)
                for v in (4, 6))


def wide_families(sources):
    """The IP families in which `sources` together cover more than EXPOSURE_LIMIT_PREFIX allows."""
    covered = source_coverage(sources)
    return [v for v in (4, 6) if covered[v] > 2 ** (_FAMILY_BITS[v] - EXPOSURE_LIMIT_PREFIX[v])]


def _coverage_text(sources, families):
    covered = source_coverage(sources)
    parts = []
    for v in families:
        if covered[v] == 2 ** _FAMILY_BITS[v]:
            parts.append("all of IPv%d" % v)
        else:
            prefix = _FAMILY_BITS[v] - (covered[v].bit_length() - 1)
            parts.append("IPv%d space as wide as a /%d (limit /%d)" % (v, prefix, EXPOSURE_LIMIT_PREFIX[v]))
    return ", ".join(parts)


def check_waivers(waivers, field="waivers"):
    """Waivers are {name, service, scope (optional), reason}; returns the problems as NetsecError."""
    problems = []
    if not isinstance(waivers, list):
        return [NetsecError("must be a list of {name, service, scope, reason}", field=field)]
    for i, waiver in enumerate(waivers):
        wfield = field_path(field, i)
        if not isinstance(waiver, dict) or not waiver.get("name") or not waiver.get("reason"):
            problems.append(NetsecError("a waiver needs a name and a reason", field=wfield))
            continue
        unknown = set(waiver) - {"name", "service", "scope", "reason"}
        if unknown:
            problems.append(NetsecError("unknown key(s) %s" % ", ".join(sorted(unknown)), field=wfield,
                                        fix="a waiver has name, service, scope and reason"))
        if waiver.get("service") not in SENSITIVE_SERVICES:
            problems.append(NetsecError("%r is not a sensitive service (%s)" % (waiver.get("service"), ", ".join(SENSITIVE_SERVICES)),
                                        field=field_path(wfield, "service")))
    return problems


def waived(waivers, service, scope):
    return any(isinstance(w, dict) and w.get("service") == service and w.get("scope") in (None, scope)
               for w in waivers or [])


def lint(entries, waivers=None, field="waivers"):
    """Refuse sensitive services open to the Internet unless a named waiver allows it.

    Judged on address coverage, not on the literal source: all sources that open one
    sensitive service on one target are united, so split world CIDRs (0.0.0.0/1 +
    128.0.0.0/1), very wide ones (2000::/3) and rules with no source at all (ANY_SOURCE)
    are refused like 0.0.0.0/0.

    entries: dicts with field (where it came from, for the message), scope (what a waiver
    names, e.g. the group), target (optional: what the rule protects; defaults to scope;
    sources are united per target), direction, protocol, port_min, port_max, remote (a
    CIDR, ANY_SOURCE, or None for sources that are not addresses, such as group refs) and
    optionally families (the IP versions an ANY_SOURCE entry admits; default both).
    waivers: [{name, service, scope (optional), reason}]. Returns the violations as
    NetsecError (empty when clean); malformed waivers are errors too.
    """
    waivers = waivers or []
    problems = check_waivers(waivers, field)
    # (target, service, family) -> [entry, ...] in input order: one pass, then one union each.
    exposing = {}
    for entry in entries:
        remote = entry.get("remote")
        if entry.get("direction", "ingress") != "ingress" or remote is None:
            continue
        # ANY_SOURCE is every address of the entry's `families` (a Neutron rule: its ethertype), else of both.
        families = tuple(entry.get("families") or (4, 6)) if remote == ANY_SOURCE else (ipaddress.ip_network(remote, strict=False).version,)
        for service in exposed_services(entry.get("protocol"), entry.get("port_min"), entry.get("port_max")):
            if waived(waivers, service, entry.get("scope")):
                continue
            for family in families:
                exposing.setdefault((entry.get("target", entry.get("scope")), service, family), []).append(entry)
    for (dummy, service, family), group in exposing.items():
        sources = [e["remote"] for e in group]
        if family not in wide_families(sources):
            continue
        # Name the widest single entry first: that is the one to fix.
        group = sorted(group, key=lambda e: -source_coverage([e["remote"]])[family])
        shown = sorted(set(sources), key=sources.index)
        text = ", ".join(shown[:4]) + (" and %d more" % (len(shown) - 4) if len(shown) > 4 else "")
        others = sorted(set(e.get("field") for e in group[1:] if e.get("field") and e.get("field") != group[0].get("field")))
        problems.append(NetsecError(
            "opens %s (%s) to %s (%s%s)" % (service, _port_text(SERVICES[service]), text, _coverage_text(sources, [family]),
                                            "; together with %s" % ", ".join(others[:4]) if others else ""),
            field=group[0].get("field"),
            fix="restrict the source to the load balancers or admin CIDRs, or add a named waiver "
                "{name, service: %s, scope, reason}" % service))
    return problems


def describe(flow):
    """One line for humans: 'loadbalancer -> control_plane tcp/6443 (kube-apiserver)'."""
    return "%s -> %s %s (%s)" % (flow.source.name, flow.destination.name, _port_text(flow.service), flow.service.name)


def refuse(problems):
    """Raise the first lint problem (its field and fix), the others summed up in its message; nothing when clean."""
    if problems:
        first = problems[0]
        more = "" if len(problems) == 1 else " (and %d more: %s)" % (len(problems) - 1, "; ".join(str(p) for p in problems[1:]))
        raise NetsecError(first.message + more, field=first.field, fix=first.fix)
