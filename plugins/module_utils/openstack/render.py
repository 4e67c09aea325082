# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The port model as OpenStack security groups (pure; no I/O).

One group per role, named `<cluster>-<role>`. A flow becomes an ingress rule in the
destination role's group: a role source is a remote-group reference (never the shared
address pool), a CIDR source one rule per CIDR. Egress is open (explicit IPv4 and IPv6
"any", the rules OpenStack gives a new group) unless the role's egress is restricted;
then the role's outgoing flows become its egress rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import field_path
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.rules import (
    DesiredGroup, normalize_rule,
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


def group_name(spec, role_name):
    return "%s-%s" % (spec.name, role_name)


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


def _rules_for(spec, flow, direction, peer, cluster_field):
    """[(raw rule dict, field)] for one flow seen from one group."""
    out = []
    description = "%s%s %s %s" % (DESCRIPTION_PREFIX, flow.service.name, "from" if direction == "ingress" else "to", peer.name)
    if peer.kind == "role":
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


def render(spec, cluster_field="cluster", stateful=None, tags=None):
    """ClusterSpec (or dict) -> [DesiredGroup], one per role, rules normalised."""
    if not isinstance(spec, pm.ClusterSpec):
        spec = pm.ClusterSpec.from_dict(spec, field=cluster_field)
    roles = group_roles(spec)
    names = [group_name(spec, r) for r in roles]
    all_flows = pm.flows(spec)
    groups = []
    for role_name in roles:
        raw_rules = []
        for flow in all_flows:
            if flow.destination.kind == "role" and flow.destination.name == role_name:
                if flow.source.kind == "role" and flow.source.name not in roles:
                    continue
                raw_rules.extend(_rules_for(spec, flow, "ingress", flow.source, cluster_field))
        if pm.egress_restricted(spec, role_name):
            for flow in all_flows:
                if flow.source.kind == "role" and flow.source.name == role_name:
                    if flow.destination.kind == "role" and flow.destination.name not in roles:
                        continue
                    raw_rules.extend(_rules_for(spec, flow, "egress", flow.destination, cluster_field))
        else:
            for raw in open_egress_rules():
                raw["description"] = DESCRIPTION_PREFIX + "open egress"
                raw_rules.append((raw, field_path(cluster_field, "egress", "restrict")))
        rules = [normalize_rule(raw, field, names) for raw, field in raw_rules]
        groups.append(DesiredGroup(
            group_name(spec, role_name), "present",
            "%s of cluster %s (safespring.netsec port model)" % (role_name, spec.name),
            stateful, tags, rules, field_path(cluster_field, role_name), [field for dummy, field in raw_rules]))
    return groups
