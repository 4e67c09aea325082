# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Talos host firewall rendered from the port model, and the lock-out check.

One NetworkRuleConfig per service flowing into the node's role (sources resolved through
the address book), plus NetworkDefaultActionConfig. ICMP and VRRP flows are not rendered:
Talos requires `portSelector.ports` on every rule, which ICMP has not, and in block mode
Talos itself admits ICMP (rate-limited), which carries cilium-health's echo probes; its
TCP probe (4240) gets a rule. Nodes never speak VRRP.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import bisect
import ipaddress
import re
from collections import namedtuple

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D

DEFAULT_ACTION_KIND = "NetworkDefaultActionConfig"
RULE_KIND = "NetworkRuleConfig"
DEFAULT_ACTIONS = ("block", "accept")
APID = pm.SERVICES["talos-apid"]
NOT_RENDERED = {
    "icmp": "Talos rules need ports; Talos admits ICMP itself in block mode (rate-limited)",
    "vrrp": "not a node protocol",
}


def collapse(cidr_values, versions):
    """Sorted, de-duplicated, collapsed CIDRs of the wanted IP versions."""
    out = []
    for version in (4, 6):
        if version not in versions:
            continue
        nets = [ipaddress.ip_network(c, strict=False) for c in cidr_values if pm.cidr_version(c) == version]
        out.extend(str(n) for n in ipaddress.collapse_addresses(nets))
    return out


def port_list(service):
    if service.port_min == service.port_max:
        return [service.port_min]
    return ["%d-%d" % (service.port_min, service.port_max)]


def render(spec, role, addresses, default_action="block", field="addresses"):
    """Firewall documents for nodes of `role`: ([documents], [(service, reason) not rendered])."""
    if role not in pm.NODE_ROLES:
        raise NetsecError("%r is not a node role (%s)" % (role, ", ".join(pm.NODE_ROLES)), field="role")
    if default_action not in DEFAULT_ACTIONS:
        raise NetsecError("%r is not one of %s" % (default_action, ", ".join(DEFAULT_ACTIONS)), field="default_action")
    if not isinstance(spec, pm.ClusterSpec):
        spec = pm.ClusterSpec.from_dict(spec)
    docs = [{"apiVersion": "v1alpha1", "kind": DEFAULT_ACTION_KIND, "ingress": default_action}]
    skipped = []
    for service, peers in pm.ingress_flows(spec, role):
        if service.protocol in NOT_RENDERED:
            skipped.append((service.name, NOT_RENDERED[service.protocol]))
            continue
        sources = []
        for peer in peers:
            sources.extend(pm.resolve(peer, addresses, field=field))
        subnets = collapse(sources, spec.ip_versions)
        if not subnets:
            skipped.append((service.name, "no source address of the cluster's IP versions"))
            continue
        docs.append({
            "apiVersion": "v1alpha1",
            "kind": RULE_KIND,
            "name": service.name,
            "portSelector": {"ports": port_list(service), "protocol": service.protocol},
            "ingress": [{"subnet": s} for s in subnets],
        })
    return docs, skipped


def replace_firewall(docs, firewall_docs):
    """Drop every firewall document of the config and add these."""
    out = [d for d in docs if not (isinstance(d, dict) and d.get("kind") in (DEFAULT_ACTION_KIND, RULE_KIND))]
    return out + list(firewall_docs)


# --- what a config admits ------------------------------------------------------------------
#
# Judged on address coverage: each family's admitted addresses are a sorted list of merged
# integer intervals, so "does this config admit that CIDR" is a binary search and a whole
# config is judged in O(n log n) (the old per-source scan of every rule was quadratic: 53 s
# at 10k addresses). Talos applies a rule's `except` entries to the whole rule.

Rule = namedtuple("Rule", "label name protocol ranges subnets excepts")
PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6")
_PORT = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?")


def default_action(docs):
    """The ingress default action Talos applies: 'block' only when a document says so."""
    doc = D.find(docs, DEFAULT_ACTION_KIND)
    return "block" if (doc or {}).get("ingress") == "block" else "accept"


def parse_ports(ports, field):
    """portSelector.ports ([6443, "2379-2380"]) -> [(low, high)], refusing what Talos would not parse."""
    if not isinstance(ports, list) or not ports:
        raise NetsecError("must be a non-empty list of ports or ranges like 2379-2380", field=field)
    out = []
    for i, port in enumerate(ports):
        pfield = field_path(field, i)
        match = _PORT.fullmatch(port) if isinstance(port, str) else None
        if isinstance(port, int) and not isinstance(port, bool):
            low = high = port
        elif match:
            low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        else:
            raise NetsecError("%s is not a port or a range like 2379-2380" % _typed.secret_safe(port, False), field=pfield)
        if not 1 <= low <= high <= 65535:
            raise NetsecError("%s is not a port range within 1-65535" % (port,), field=pfield)
        out.append((low, high))
    return out


def _subnet(value, field):
    if not isinstance(value, str):
        raise NetsecError("must be a CIDR string like 192.0.2.0/24", field=field)
    return ipaddress.ip_network(_typed.cidr(value, field), strict=False)


def parse_rule(doc, label):
    """A NetworkRuleConfig document -> Rule; every error names the field inside the document."""
    selector = doc.get("portSelector")
    if not isinstance(selector, dict):
        raise NetsecError("is required (ports and protocol)", field=field_path(label, "portSelector"))
    protocol = selector.get("protocol")
    if protocol not in PROTOCOLS:
        raise NetsecError("%s is not one of %s" % (_typed.secret_safe(protocol, False), ", ".join(PROTOCOLS)),
                          field=field_path(label, "portSelector", "protocol"))
    ranges = parse_ports(selector.get("ports"), field_path(label, "portSelector", "ports"))
    ingress = doc.get("ingress")
    if ingress is None:
        ingress = []
    if not isinstance(ingress, list):
        raise NetsecError("must be a list of {subnet, except}", field=field_path(label, "ingress"))
    subnets, excepts = [], []
    for i, item in enumerate(ingress):
        ifield = field_path(label, "ingress", i)
        if not isinstance(item, dict) or "subnet" not in item:
            raise NetsecError("needs a subnet", field=ifield, fix="write {subnet: 192.0.2.0/24} (except is optional)")
        unknown = set(item) - {"subnet", "except"}
        if unknown:
            raise NetsecError("unknown key(s) %s" % ", ".join(sorted(str(k) for k in unknown)), field=ifield, fix="known keys: except, subnet")
        subnets.append((_subnet(item["subnet"], field_path(ifield, "subnet")), field_path(ifield, "subnet")))
        if item.get("except") is not None:
            excepts.append(_subnet(item["except"], field_path(ifield, "except")))
    return Rule(label, doc.get("name"), protocol, ranges, subnets, excepts)


def document_label(index, doc):
    return "config.documents[%d](%s)" % (index, D.describe(D.identity(doc)) if D.identity(doc) else "?")


def rules(docs):
    """Every NetworkRuleConfig of a config, parsed."""
    return [parse_rule(doc, document_label(i, doc)) for i, doc in enumerate(docs)
            if isinstance(doc, dict) and doc.get("kind") == RULE_KIND]


def _interval(net):
    return int(net.network_address), int(net.broadcast_address)


def merge(intervals):
    """Sorted, merged (lo, hi) intervals."""
    out = []
    for low, high in sorted(intervals):
        if out and low <= out[-1][1] + 1:
            if high > out[-1][1]:
                out[-1] = (out[-1][0], high)
        else:
            out.append((low, high))
    return out


def subtract(have, minus):
    """Merged intervals `have` without the merged intervals `minus` (one sweep)."""
    out, j = [], 0
    for low, high in have:
        while j < len(minus) and minus[j][1] < low:
            j += 1
        k = j
        while low <= high:
            if k >= len(minus) or minus[k][0] > high:
                out.append((low, high))
                break
            if minus[k][0] > low:
                out.append((low, minus[k][0] - 1))
            low = max(low, minus[k][1] + 1)
            k += 1
    return out


def covers(merged, low, high):
    """Whether the merged intervals hold all of [low, high]: a binary search."""
    i = bisect.bisect_right(merged, (low, float("inf"))) - 1
    return i >= 0 and merged[i][0] <= low and high <= merged[i][1]


WORLD = {4: [(0, 2 ** 32 - 1)], 6: [(0, 2 ** 128 - 1)]}


def rule_coverage(rule):
    """{family: merged intervals} a rule admits: its subnets without its excepts."""
    out = {}
    for family in (4, 6):
        have = merge(_interval(n) for n, _f in rule.subnets if n.version == family)
        minus = merge(_interval(n) for n in rule.excepts if n.version == family)
        out[family] = subtract(have, minus)
    return out


def _overlaps(rule, protocol, low, high):
    return rule.protocol == protocol and any(a <= high and low <= b for a, b in rule.ranges)


def coverage(parsed_rules, protocol, low, high):
    """{family: merged intervals} of sources the rules admit to any port of protocol/low-high."""
    parts = {4: [], 6: []}
    for rule in parsed_rules:
        if _overlaps(rule, protocol, low, high):
            for family, intervals in rule_coverage(rule).items():
                parts[family].extend(intervals)
    return dict((family, merge(parts[family])) for family in parts)


def admitted(docs, protocol, port):
    """{family: merged intervals} of every source that reaches protocol/port (all of it without block)."""
    if default_action(docs) != "block":
        return dict(WORLD)
    return coverage(rules(docs), protocol, port, port)


def admits(docs, protocol, port, source):
    """Whether the config lets every address of `source` (a CIDR) reach protocol/port."""
    net = ipaddress.ip_network(source, strict=False)
    return covers(admitted(docs, protocol, port)[net.version], *_interval(net))


def to_cidrs(intervals, family):
    """Merged intervals -> CIDR strings (for messages)."""
    make = ipaddress.IPv4Address if family == 4 else ipaddress.IPv6Address
    out = []
    for low, high in intervals:
        out.extend(str(n) for n in ipaddress.summarize_address_range(make(low), make(high)))
    return out


def lint_entries(parsed_rules, scope, target, service=None):
    """Port-model lint entries (port_model.lint) of Talos rules, one per source and port range.

    With `service`, only the parts of rules that reach that service, clipped to its ports, so
    that each service is judged on its own. A rule without sources counts as every address."""
    entries = []
    for rule in parsed_rules:
        for low, high in rule.ranges:
            if service is not None:
                if rule.protocol != service.protocol or high < service.port_min or low > service.port_max:
                    continue
                low, high = max(low, service.port_min), min(high, service.port_max)
            base = {"scope": scope, "target": target, "direction": "ingress", "protocol": rule.protocol, "port_min": low, "port_max": high}
            if not rule.subnets:
                entries.append(dict(base, field=field_path(rule.label, "ingress"), remote=pm.ANY_SOURCE))
            for net, field in rule.subnets:
                entries.append(dict(base, field=field, remote=str(net)))
    return entries


# --- who must keep reaching apid --------------------------------------------------------------

def parse_addresses(addresses, field="addresses", roles=pm.ROLES):
    """The address book: known roles only, each a list of CIDRs narrow enough to be hosts.

    A role's addresses become firewall sources; 0.0.0.0/0 (or 0.0.0.0/1 + 128.0.0.0/1) as the
    jump host or load balancer would open apid and the API server to the Internet."""
    addresses = _typed.known_keys(addresses or {}, field, roles)
    out = {}
    for role_name, values in addresses.items():
        rfield = field_path(field, role_name)
        cidrs = pm._cidr_list(values, rfield) if values is not None else []
        wide = pm.wide_families(cidrs)
        if wide:
            widest = max(range(len(cidrs)), key=lambda i: pm.source_coverage([cidrs[i]])[pm.cidr_version(cidrs[i])])
            raise NetsecError("together cover %s: an address book entry lists hosts, not the Internet" % pm._coverage_text(cidrs, wide),
                              field=field_path(rfield, widest), fix="list the %s hosts' own addresses" % role_name)
        out[role_name] = values if values is not None else []
    return out


def parse_sources(values, field):
    """admin_sources: CIDRs of controllers, as narrow as the address book."""
    cidrs = pm._cidr_list(values or [], field)
    wide = pm.wide_families(cidrs)
    if wide:
        raise NetsecError("together cover %s: list the controllers' own addresses" % pm._coverage_text(cidrs, wide), field=field)
    return cidrs


def lockout_requirements(role, addresses, admin_sources, ip_versions):
    """Who must keep reaching apid on a node of `role`: [(who, cidr)].

    Control plane: the jump host and the controller (admin_sources) talk to apid directly.
    Workers: reached through the control plane's apid proxy, so the control-plane nodes.
    """
    wanted = []
    if role == "control_plane":
        wanted += [("jump_host", c, field_path("addresses", "jump_host", i)) for i, c in enumerate(addresses.get("jump_host") or [])]
        wanted += [("admin_sources", c, field_path("admin_sources", i)) for i, c in enumerate(admin_sources or [])]
    else:
        wanted += [("control_plane", c, field_path("addresses", "control_plane", i)) for i, c in enumerate(addresses.get("control_plane") or [])]
    out = []
    for who, value, field in wanted:
        cidr = pm.normalize_cidr(value, field)
        if pm.cidr_version(cidr) in ip_versions:
            out.append((who, cidr))
    return out


def check_lockout(docs, requirements, node, field="firewall"):
    """Raise before anything is applied when the final config would cut apid off.

    Every required source must lie wholly inside what the config admits to apid, however the
    rules split it up (coverage, not a lookup of the source's own string)."""
    reach = admitted(docs, APID.protocol, APID.port_min)
    locked = []
    for who, cidr in requirements:
        net = ipaddress.ip_network(cidr, strict=False)
        if not covers(reach[net.version], *_interval(net)):
            locked.append("%s %s" % (who, cidr))
    if locked:
        shown = ", ".join(locked[:8]) + (" and %d more" % (len(locked) - 8) if len(locked) > 8 else "")
        raise NetsecError(
            "node %s would lock out %s from talos-apid (%s/%d) with ingress: block" % (node, shown, APID.protocol, APID.port_min),
            field=field,
            fix="keep the jump host in the cluster spec (jump_host.enabled) and its addresses in the address book, "
                "list the controller in admin_sources, or do not patch the talos-apid rule away")
