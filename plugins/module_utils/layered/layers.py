# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filtering layers of the baseline, read from their artifacts (pure; no I/O).

Each layer answers one question for a destination role, a service and one source address:
does this layer let it in? The answer is True, False, or None when the layer does not
filter that traffic at all (Talos in block mode always admits ICMP; HAProxy only fronts the
services it has a frontend for). The artifacts are what was rendered or read back, never the
port model, so the renderers are proven too:
- security groups: as Neutron returns them (security_group_info), rules by remote prefix or
  remote group (a group's members are the addresses of its role in the address book);
- Talos: each node's machine-config documents (NetworkDefaultActionConfig, NetworkRuleConfig);
- HAProxy: each load balancer's haproxy.cfg and the list files its frontends read;
- Cilium host policies: CiliumClusterwideNetworkPolicies with a nodeSelector, when the host
  firewall is on.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as talos_firewall


def net(value, field):
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise NetsecError("%r is not an address or CIDR" % (value,), field=field, fix="write it like 192.0.2.0/24 or 2001:db8::/64")


def _in(address, cidrs):
    return any(address.version == c.version and address in c for c in cidrs)


def _overlap(low, high, service):
    return low <= service.port_max and service.port_min <= high


def _icmp_type(address):
    return pm.ICMP_ECHO_REQUEST[address.version]


# --- security groups ------------------------------------------------------------------

class SecurityGroups(object):
    """Ingress rules of each role's group (`<cluster>-<role>`), as read back from Neutron."""

    name = "security_groups"
    title = "security groups"

    def __init__(self, groups, cluster_name, role_addresses, field="security_groups"):
        by_name = dict((g.get("name"), g) for g in groups or [] if isinstance(g, dict))
        role_of_id = {}
        for role in pm.ROLES:
            group = by_name.get("%s-%s" % (cluster_name, role))
            if group:
                role_of_id[group.get("id")] = role
        self.rules = {}
        for role in pm.ROLES:
            group = by_name.get("%s-%s" % (cluster_name, role))
            if group is None:
                continue
            out = []
            for j, rule in enumerate(group.get("security_group_rules") or []):
                if rule.get("direction") != "ingress":
                    continue
                here = field_path(field, group.get("name"), "security_group_rules", j)
                if rule.get("remote_group_id"):
                    sources = [net(a, here) for a in role_addresses.get(role_of_id.get(rule["remote_group_id"]), [])]
                elif rule.get("remote_ip_prefix"):
                    sources = [net(rule["remote_ip_prefix"], field_path(here, "remote_ip_prefix"))]
                else:
                    sources = [net("0.0.0.0/0", here), net("::/0", here)]
                version = {"IPv4": 4, "IPv6": 6}.get(rule.get("ethertype"))
                out.append((str(rule.get("protocol") or "any").lower(), rule.get("port_range_min"), rule.get("port_range_max"),
                            [s for s in sources if version is None or s.version == version]))
            self.rules[role] = out

    def admits(self, role, service, address):
        if role not in self.rules:
            return False  # no group: nothing is attached that could admit (the perimeter audit names it missing)
        for protocol, low, high, sources in self.rules[role]:
            if not _in(address, sources):
                continue
            if protocol in ("any", "none"):
                return True
            if service.protocol == "icmp":
                if protocol in (("icmp",) if address.version == 4 else ("ipv6-icmp", "icmpv6", "icmp")) and low in (None, _icmp_type(address)):
                    return True
            elif service.protocol == "vrrp":
                if protocol in ("vrrp", "112"):
                    return True
            elif protocol == service.protocol:
                if low is None or _overlap(int(low), int(high if high is not None else low), service):
                    return True
        return False


# --- Talos ----------------------------------------------------------------------------

class Talos(object):
    """Every node's NetworkRuleConfig documents (parsed by the talos package, errors naming the
    document); a role admits what all of its nodes admit."""

    name = "talos"
    title = "Talos firewall"

    def __init__(self, node_documents, node_roles, field="talos"):
        self.nodes = {}  # role -> [(node, block, parsed rules)]
        self._cache = {}
        for node, documents in sorted((node_documents or {}).items()):
            role = node_roles.get(node)
            if role is None:
                raise NetsecError("node %r is not in the inventory's node list" % node, field=field_path(field, node),
                                  fix="name the configs after netsec_nodes")
            docs = [d for d in documents or [] if isinstance(d, dict)]
            try:
                parsed = talos_firewall.rules(docs)
            except NetsecError as exc:
                raise NetsecError(exc.message, field=field_path(field, node, exc.field), fix=exc.fix)
            self.nodes.setdefault(role, []).append((node, talos_firewall.default_action(docs) == "block", parsed))

    def _coverage(self, node, parsed, service):
        key = (node, service.name)
        if key not in self._cache:
            self._cache[key] = talos_firewall.coverage(parsed, service.protocol, service.port_min, service.port_max)
        return self._cache[key]

    def admits(self, role, service, address):
        if role not in self.nodes or service.protocol not in ("tcp", "udp"):
            return None  # not a Talos host, or ICMP (always admitted, rate-limited, in block mode)
        for node, block, parsed in self.nodes[role]:
            if block and not talos_firewall.covers(self._coverage(node, parsed, service)[address.version], int(address), int(address)):
                return False
        return True


# --- HAProxy --------------------------------------------------------------------------

# Services the edge fronts (a frontend each); any other traffic to a load balancer is not HAProxy's.
FRONTED = ("http", "https", "kube-apiserver", "talos-apid", "haproxy-admin")
_BIND = re.compile(r"^\s*bind\s+(\S+)")
_ACL_FILE = re.compile(r"^\s*acl\s+(\S+)\s+src\s+-f\s+(\S+)\s*$")


def _bind(text):
    """'ipv4@:80' / '[fd5a::10]:443' / '198.18.0.10:443' -> (family or None, port)."""
    family = None
    if text.startswith("ipv4@"):
        family, text = 4, text[5:]
    elif text.startswith("ipv6@"):
        family, text = 6, text[5:]
    host, dummy, port = text.rpartition(":")
    host = host.strip("[]")
    if host and host != "*":
        family = ipaddress.ip_address(host).version
    return family, int(port)


def parse_haproxy(config, lists, field):
    """haproxy.cfg text + {list path: text} -> {frontend: {binds, allow, deny, filtered}}."""
    frontends, current = {}, None
    for n, line in enumerate((config or "").splitlines()):
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.strip():
            continue
        if not line.startswith((" ", "\t")):
            words = stripped.split()
            current = None
            if words[0] == "frontend" and len(words) > 1:
                current = frontends.setdefault(words[1], {"binds": [], "acls": {}, "filtered": False})
            continue
        if current is None:
            continue
        match = _BIND.match(stripped)
        if match:
            try:
                current["binds"].append(_bind(match.group(1)))
            except ValueError:
                raise NetsecError("cannot read the bind line %r" % stripped.strip(), field="%s line %d" % (field, n + 1))
            continue
        match = _ACL_FILE.match(stripped)
        if match:
            path = match.group(2)
            if path not in (lists or {}):
                raise NetsecError("the list file %s its frontend reads was not given" % path, field=field,
                                  fix="read every list file the configuration names")
            current["acls"][match.group(1)] = [net(entry, "%s %s" % (field, path)) for entry in _list_entries(lists[path])]
        elif re.match(r"^\s*tcp-request\s+connection\s+reject\s+if\s+denied\s*\|\|\s*!allowed\s*$", stripped):
            current["filtered"] = True
    return frontends


def _list_entries(text):
    return [line.split("#", 1)[0].strip() for line in (text or "").splitlines() if line.split("#", 1)[0].strip()]


def _binds_text(frontend):
    return ", ".join("%s:%d" % ({4: "ipv4", 6: "ipv6"}.get(f, "*"), p) for f, p in sorted(frontend["binds"], key=str))


class HAProxy(object):
    """Every load balancer's frontends; the layer admits what any of them admits (anycast or
    VRRP may hand a client to either), and the load balancers are compared with each other."""

    name = "haproxy"
    title = "HAProxy"

    def __init__(self, loadbalancers, field="haproxy"):
        self.lbs = {}
        for name, lb in sorted((loadbalancers or {}).items()):
            self.lbs[name] = parse_haproxy(lb.get("config"), lb.get("lists"), field_path(field, name))

    def _frontend_admits(self, frontend, service, address):
        if not any(port and service.port_min <= port <= service.port_max and family in (None, address.version)
                   for family, port in frontend["binds"]):
            return False
        if not frontend["filtered"]:
            return True
        acls = frontend["acls"]
        return _in(address, acls.get("allowed", [])) and not _in(address, acls.get("denied", []))

    def admits(self, role, service, address):
        if role != "loadbalancer" or service.name not in FRONTED or not self.lbs:
            return None
        return any(self._frontend_admits(fe, service, address) for fes in self.lbs.values() for fe in fes.values())

    def differences(self):
        """What one load balancer's edge has and another's has not, frontend by frontend."""
        out = []
        names = sorted(self.lbs)
        for a, b in zip(names, names[1:]):
            for fe in sorted(set(self.lbs[a]) | set(self.lbs[b])):
                left, right = self.lbs[a].get(fe), self.lbs[b].get(fe)
                if left is None or right is None:
                    out.append("frontend %s exists on %s only" % (fe, a if right is None else b))
                    continue
                if sorted(left["binds"], key=str) != sorted(right["binds"], key=str):
                    out.append("frontend %s: binds differ (%s: %s, %s: %s)" % (fe, a, _binds_text(left), b, _binds_text(right)))
                if left["filtered"] != right["filtered"]:
                    out.append("frontend %s: source filter only on %s" % (fe, a if left["filtered"] else b))
                for acl in sorted(set(left["acls"]) | set(right["acls"])):
                    l_set = set(str(c) for c in left["acls"].get(acl, []))
                    r_set = set(str(c) for c in right["acls"].get(acl, []))
                    if l_set != r_set:
                        out.append("frontend %s: list %s differs (only on %s: %s; only on %s: %s)" % (
                            fe, acl, a, sorted(l_set - r_set) or "-", b, sorted(r_set - l_set) or "-"))
        return out


# --- Cilium host policies -------------------------------------------------------------

NODE_LABELS = {"control_plane": {"node-role.kubernetes.io/control-plane": ""}, "worker": {}}
_L3 = ("fromEndpoints", "fromRequires", "fromCIDR", "fromCIDRSet", "fromEntities", "fromGroups", "fromNodes")


def _selects(selector, labels):
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class CiliumHost(object):
    """Host policies (a CCNP's spec/specs with nodeSelector) of each node role, when the host
    firewall is on. Node entities: `host` and `remote-node` are every node (Cilium gives all
    nodes one identity), `world` is every address that is not a node, `cluster` the nodes."""

    name = "cilium_host"
    title = "Cilium host firewall"

    def __init__(self, policies, host_firewall, node_addresses, field="cilium_host_policies"):
        self.enabled = bool(host_firewall)
        self.node_addresses = [net(a, field_path(field, "node_addresses")) for a in node_addresses]
        self.specs = []  # (nodeSelector, [(peer, rule)] allows, [(peer, rule)] denies); peers parsed once
        for i, pol in enumerate(policies or []):
            if not isinstance(pol, dict) or pol.get("kind") != "CiliumClusterwideNetworkPolicy":
                continue
            specs = ([pol["spec"]] if pol.get("spec") else []) + list(pol.get("specs") or [])
            for spec in specs:
                if isinstance(spec, dict) and spec.get("nodeSelector") is not None:
                    here = field_path(field, i)
                    self.specs.append((spec["nodeSelector"], [(self._parse_peer(r, here), r) for r in spec.get("ingress") or []],
                                       [(self._parse_peer(r, here), r) for r in spec.get("ingressDeny") or []]))

    @staticmethod
    def _parse_peer(rule, here):
        cidrs = [(net(c, field_path(here, "fromCIDR")), []) for c in rule.get("fromCIDR") or []]
        cidrs += [(net(e["cidr"], field_path(here, "fromCIDRSet")), [net(x, field_path(here, "fromCIDRSet", "except")) for x in e.get("except") or []])
                  for e in rule.get("fromCIDRSet") or [] if e.get("cidr")]
        return (not any(k in rule for k in _L3), set(rule.get("fromEntities") or []), cidrs)

    def _is_node(self, address):
        return _in(address, self.node_addresses)

    def _peer(self, peer, address):
        any_source, entities, cidrs = peer
        if any_source or "all" in entities:
            return True  # an L4-only rule admits every source
        node = self._is_node(address)
        if node and entities & set(["host", "remote-node", "cluster", "kube-apiserver"]):
            return True
        if not node and ("world" in entities or ("world-ipv%d" % address.version) in entities):
            return True
        return any(address.version == c.version and address in c and not _in(address, excepts) for c, excepts in cidrs)

    @staticmethod
    def _l4(rule, service, address):
        if service.protocol == "icmp":
            if "icmps" in rule:
                return any(int(f.get("type", -1)) == _icmp_type(address) and f.get("family", "IPv4") == ("IPv4" if address.version == 4 else "IPv6")
                           for entry in rule["icmps"] for f in entry.get("fields") or [])
            return "toPorts" not in rule
        if "toPorts" not in rule:
            return "icmps" not in rule
        for entry in rule.get("toPorts") or []:
            for port in entry.get("ports") or [{}]:
                protocol = str(port.get("protocol") or "ANY").lower()
                if protocol not in ("any", service.protocol):
                    continue
                low = int(port.get("port") or 0) if str(port.get("port") or "0").isdigit() else None
                if low is None:
                    return True  # a named port: judged as every port (never narrower than true)
                if low == 0 or _overlap(low, int(port.get("endPort") or low), service):
                    return True
        return False

    def admits(self, role, service, address):
        if role not in NODE_LABELS or service.protocol == "vrrp":
            return None
        if not self.enabled:
            return True  # no host firewall: Cilium does not filter what reaches the node
        selected = [(allows, denies) for selector, allows, denies in self.specs if _selects(selector, NODE_LABELS[role])]
        if not selected:
            return True
        if any(self._peer(peer, address) and self._l4(rule, service, address) for dummy, denies in selected for peer, rule in denies):
            return False
        return any(self._peer(peer, address) and self._l4(rule, service, address) for allows, dummy in selected for peer, rule in allows)
