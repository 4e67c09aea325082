# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The port model as OpenStack security groups (pure; no I/O).

One group per role, named `<cluster>-<role>`. A flow becomes an ingress rule in the
destination role's group: a role source is a remote-group reference (never the shared
address pool), a CIDR source one rule per CIDR. Egress is open (explicit IPv4 and IPv6
"any", the rules OpenStack gives a new group) unless the role's egress is restricted;
then the role's outgoing flows become its egress rules.

With address_groups=True the large CIDR sets of the spec (ADDRESS_GROUP_SETS: admin ranges,
API ranges, BGP peers) are Neutron address groups named `<cluster>-<set>`
(render_address_groups()): one rule per service and family admits the whole set, and a
change to the set changes the address group's addresses, not the rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import field_path
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.address_groups import DesiredAddressGroup
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.rules import (
    DesiredGroup, normalize_cidr, normalize_rule,
)

ETHERTYPE = {4: "IPv4", 6: "IPv6"}
DESCRIPTION_PREFIX = "netsec: "

# Where a CIDR peer of the model comes from in the cluster spec (for error messages).
_PEER_FIELDS = {
    "ingress_cidrs": ("loadbalancer", "ingress_cidrs"),
    "api_cidrs": ("loadbalancer", "api_cidrs"),
    "bgp_peer": ("loadbalancer", "bgp_peers"),
    "admin_cidrs": ("jump_host", "admin_cidrs"),
    "dns": ("egress", "dns"),
    "ntp": ("egress", "ntp"),
    "registries": ("egress", "registries"),
    "oidc_issuer": ("egress", "oidc_issuer"),
}


# Model CIDR peers rendered as address groups when asked for: {peer name: address-group suffix}.
# The sets an operator grows (admin and API ranges, the platform's BGP peers); ingress_cidrs
# (usually the world) and the egress destinations stay rules.
ADDRESS_GROUP_SETS = {"admin_cidrs": "admin_cidrs", "api_cidrs": "api_cidrs", "bgp_peer": "bgp_peers"}


def group_name(spec, role_name):
    return "%s-%s" % (spec.name, role_name)


def address_group_name(spec, peer_name):
    return "%s-%s" % (spec.name, ADDRESS_GROUP_SETS[peer_name])


def group_roles(spec):
    return [r for r in pm.ROLES if r != "jump_host" or spec["jump_host"]["enabled"]]


def _service_rules(service, ethertype):
    """Protocol and ports of a model service for one IP family."""
    if service.protocol == "icmp":
        # cilium-health: echo request only (type 8 / 128).
        return {"protocol": "icmp" if ethertype == "IPv4" else "ipv6-icmp",
                "port_range_min": pm.ICMP_ECHO_REQUEST[4 if ethertype == "IPv4" else 6]}
    if service.protocol == "vrrp":
        return {"protocol": "vrrp"}
    return {"protocol": service.protocol, "port_range_min": service.port_min, "port_range_max": service.port_max}


def _peer_field(cluster_field, peer):
    section = _PEER_FIELDS.get(peer.name)
    if section:
        return field_path(cluster_field, *section)
    if peer.name.startswith("egress-"):
        return field_path(cluster_field, "egress", "extra")
    return cluster_field


def _rules_for(spec, flow, direction, peer, cluster_field, address_groups=False):
    """[(raw rule dict, field)] for one flow seen from one group."""
    out = []
    description = "%s%s %s %s" % (DESCRIPTION_PREFIX, flow.service.name, "from" if direction == "ingress" else "to", peer.name)
    if peer.kind != "role" and address_groups and peer.name in ADDRESS_GROUP_SETS:
        # One rule per family the set holds, on the set's address group.
        versions = set(pm.cidr_version(c) for c in pm.filter_versions(peer.cidrs, spec.ip_versions))
        for version in sorted(versions):
            ethertype = ETHERTYPE[version]
            raw = dict(_service_rules(flow.service, ethertype), direction=direction, ethertype=ethertype,
                       remote_address_group=address_group_name(spec, peer.name), description=description)
            out.append((raw, _peer_field(cluster_field, peer)))
    elif peer.kind == "role":
        for version in spec.ip_versions:
            ethertype = ETHERTYPE[version]
            raw = dict(_service_rules(flow.service, ethertype), direction=direction, ethertype=ethertype,
                       remote_group=group_name(spec, peer.name), description=description)
            out.append((raw, field_path(cluster_field, "flows", flow.service.name)))
    else:
        field = _peer_field(cluster_field, peer)
        for cidr in pm.filter_versions(peer.cidrs, spec.ip_versions):
            ethertype = ETHERTYPE[pm.cidr_version(cidr)]
            raw = dict(_service_rules(flow.service, ethertype), direction=direction, remote_ip_prefix=cidr,
                       description=description)
            out.append((raw, field))
    return out


def open_egress_rules():
    return [{"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"}]


def _cidr_peers(spec, all_flows, roles):
    """The CIDR peers of the flows that render (both ends of every flow), first seen first."""
    seen = {}
    for flow in all_flows:
        for peer, other in ((flow.source, flow.destination), (flow.destination, flow.source)):
            if peer.kind != "role" and other.kind == "role" and other.name in roles and peer.name not in seen:
                seen[peer.name] = peer
    return list(seen.values())


def render_address_groups(spec, cluster_field="cluster"):
    """The address groups render(spec, address_groups=True) admits: [DesiredAddressGroup], one per
    CIDR set of ADDRESS_GROUP_SETS that a rendered flow uses, with the set's CIDRs of the spec's
    IP families. Errors (the lint) name the CIDR where it was written, e.g. cluster.jump_host.admin_cidrs[3]."""
    if not isinstance(spec, pm.ClusterSpec):
        spec = pm.ClusterSpec.from_dict(spec, field=cluster_field)
    out = []
    for peer in _cidr_peers(spec, pm.flows(spec), group_roles(spec)):
        if peer.name not in ADDRESS_GROUP_SETS:
            continue
        section, key = _PEER_FIELDS[peer.name]
        addresses, fields = [], {}
        for j, cidr in enumerate(spec[section][key]):  # validated, in the order written
            cidr = normalize_cidr(cidr, field_path(cluster_field, section, key, j))
            if cidr not in fields and pm.cidr_version(cidr) in spec.ip_versions:
                addresses.append(cidr)
                fields[cidr] = field_path(cluster_field, section, key, j)
        if not addresses:
            continue
        out.append(DesiredAddressGroup(
            address_group_name(spec, peer.name), "present",
            "%s of cluster %s (safespring.netsec port model)" % (ADDRESS_GROUP_SETS[peer.name], spec.name),
            list(addresses), field_path(cluster_field, section, key), fields))
    return out


def render(spec, cluster_field="cluster", stateful=None, tags=None, address_groups=False):
    """ClusterSpec (or dict) -> [DesiredGroup], one per role, rules normalised. address_groups:
    the sets of ADDRESS_GROUP_SETS are admitted through render_address_groups()' address groups."""
    if not isinstance(spec, pm.ClusterSpec):
        spec = pm.ClusterSpec.from_dict(spec, field=cluster_field)
    roles = group_roles(spec)
    names = [group_name(spec, r) for r in roles]
    all_flows = pm.flows(spec)
    ag_names = [address_group_name(spec, p) for p in ADDRESS_GROUP_SETS] if address_groups else []
    groups = []
    for role_name in roles:
        raw_rules = []
        for flow in all_flows:
            if flow.destination.kind == "role" and flow.destination.name == role_name:
                if flow.source.kind == "role" and flow.source.name not in roles:
                    continue
                raw_rules.extend(_rules_for(spec, flow, "ingress", flow.source, cluster_field, address_groups))
        if pm.egress_restricted(spec, role_name):
            for flow in all_flows:
                if flow.source.kind == "role" and flow.source.name == role_name:
                    if flow.destination.kind == "role" and flow.destination.name not in roles:
                        continue
                    raw_rules.extend(_rules_for(spec, flow, "egress", flow.destination, cluster_field, address_groups))
        else:
            for raw in open_egress_rules():
                raw["description"] = DESCRIPTION_PREFIX + "open egress"
                raw_rules.append((raw, field_path(cluster_field, "egress", "restrict")))
        rules = [normalize_rule(raw, field, names, address_group_names=ag_names) for raw, field in raw_rules]
        groups.append(DesiredGroup(
            group_name(spec, role_name), "present",
            "%s of cluster %s (safespring.netsec port model)" % (role_name, spec.name),
            stateful, tags, rules, field_path(cluster_field, role_name), [field for dummy, field in raw_rules]))
    return groups
