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

import ipaddress

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

def default_action(docs):
    doc = D.find(docs, DEFAULT_ACTION_KIND)
    return (doc or {}).get("ingress") or "accept"


def _port_ranges(ports):
    out = []
    for port in ports or []:
        text = str(port)
        if "-" in text:
            low, high = text.split("-", 1)
            out.append((int(low), int(high)))
        else:
            out.append((int(text), int(text)))
    return out


def admits(docs, protocol, port, source):
    """Whether the config lets every address of `source` (a CIDR) reach protocol/port."""
    if default_action(docs) != "block":
        return True
    src = ipaddress.ip_network(source, strict=False)
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != RULE_KIND:
            continue
        selector = doc.get("portSelector") or {}
        if selector.get("protocol") != protocol:
            continue
        if not any(low <= port <= high for low, high in _port_ranges(selector.get("ports"))):
            continue
        for rule in doc.get("ingress") or []:
            subnet = ipaddress.ip_network(rule["subnet"], strict=False)
            if subnet.version != src.version or not src.subnet_of(subnet):
                continue
            except_ = rule.get("except")
            if except_ and ipaddress.ip_network(except_, strict=False).version == src.version \
                    and src.overlaps(ipaddress.ip_network(except_, strict=False)):
                continue
            return True
    return False


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
    """Raise before anything is applied when the final config would cut apid off."""
    port = APID.port_min
    locked = ["%s %s" % (who, cidr) for who, cidr in requirements if not admits(docs, APID.protocol, port, cidr)]
    if locked:
        raise NetsecError(
            "node %s would lock out %s from talos-apid (%s/%d) with ingress: block" % (node, ", ".join(locked), APID.protocol, port),
            field=field,
            fix="keep the jump host in the cluster spec (jump_host.enabled) and its addresses in the address book, "
                "list the controller in admin_sources, or do not patch the talos-apid rule away")
