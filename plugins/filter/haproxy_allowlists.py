# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_allowlists
short_description: Source allowlists of the HAProxy frontends, rendered from the port model
version_added: 0.1.0
description:
  - Turns the port model's flows into the load balancer (C(port_model.flows(cluster))) into one entry per
    HAProxy frontend (C(http), C(https), C(kube-apiserver), C(talos-apid), C(haproxy-admin)) with the
    frontend's port and the CIDRs allowed to connect.
  - Roles such as C(jump_host) are resolved through the address book; CIDR sets (C(ingress_cidrs), C(api_cidrs))
    are taken as they are. Only the cluster's IP versions are kept.
  - Errors name the field at fault, for example C(addresses.jump_host).
options:
  _input:
    description: The cluster specification (the same mapping the security groups are built from).
    type: dict
    required: true
  addresses:
    description: Address book, role name -> list of addresses or CIDRs (at least C(jump_host) when the jump host is enabled).
    type: dict
    required: true
  waivers:
    description:
      - Named waivers C({name, service, scope, reason}) for the world-exposure lint, the same shape and check as the
        C(safespring.netsec.security_group) module's. The scope of an HAProxy frontend is V(loadbalancer).
    type: list
    elements: dict
    default: []
  cluster_field:
    description: How the caller names the cluster mapping in errors (the role passes V(haproxy_cluster)).
    type: str
    default: cluster
  addresses_field:
    description: How the caller names the address book in errors (the role passes V(haproxy_addresses)).
    type: str
    default: addresses
  waivers_field:
    description: How the caller names O(waivers) in errors.
    type: str
    default: waivers
notes:
  - The sources of the sensitive frontends (C(kube-apiserver), C(talos-apid)) go through the port model's world-exposure
    lint (C(port_model.lint)), judged on coverage; C(api_cidrs) or jump-host addresses of C(0.0.0.0/0), C(::/0), a split
    world (C(0.0.0.0/1) + C(128.0.0.0/1), C(::/1) + C(8000::/1)) or anything as wide as C(2000::/3) are refused unless a
    named waiver allows them, and the error names the variable, for example C(cluster.loadbalancer.api_cidrs[0]).
seealso:
  - plugin: safespring.netsec.haproxy_upstreams
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Allowlists for haproxy.cfg
  ansible.builtin.set_fact:
    edge_allowlists: "{{ netsec_cluster | safespring.netsec.haproxy_allowlists({'jump_host': ['198.18.2.5']}) }}"
# edge_allowlists['kube-apiserver'] == {'port': 6443, 'sources': ['198.18.2.5/32'], 'world': false, 'passthrough': true}
"""

RETURN = r"""
_value:
  description: Frontend service name -> C(port), C(sources) (CIDRs, sorted, unique), C(world) (sources include a /0), C(passthrough).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge


# Where each kind of CIDR set of the port model comes from in the cluster mapping.
_CIDR_SET_FIELDS = {"api_cidrs": ("loadbalancer", "api_cidrs"), "ingress_cidrs": ("loadbalancer", "ingress_cidrs")}
# A frontend is on the load balancers: that is the scope a waiver names.
SCOPE = "loadbalancer"


def lint_entries(spec, addresses, cluster_field="cluster", addresses_field="addresses"):
    """port_model.lint() entries for the allowed sources of every frontend, each naming the
    variable it came from (`cluster.loadbalancer.api_cidrs[0]`, `addresses.jump_host[1]`)."""
    entries = []
    for service, peers in pm.ingress_flows(spec, SCOPE):
        if service.name not in edge.FRONTEND_SERVICES:
            continue
        for peer in peers:
            if peer.kind == "cidrs":
                base = field_path(cluster_field, *_CIDR_SET_FIELDS.get(peer.name, ("loadbalancer", peer.name)))
            else:
                base = field_path(addresses_field, peer.name)
            for i, cidr in enumerate(pm.resolve(peer, addresses, addresses_field)):
                if pm.cidr_version(cidr) not in spec.ip_versions:
                    continue  # not rendered: the frontend never admits it
                entries.append({"field": field_path(base, i), "scope": SCOPE, "direction": "ingress", "protocol": service.protocol,
                                "port_min": service.port_min, "port_max": service.port_max, "remote": cidr})
    return entries


def allowlists(cluster, addresses, waivers=None, cluster_field="cluster", addresses_field="addresses", waivers_field="waivers"):
    """edge.allowlists() after the world-exposure lint: refused before anything is rendered."""
    spec = pm.ClusterSpec.from_dict(cluster, field=cluster_field)
    if not isinstance(addresses, dict):
        raise NetsecError("must be a mapping of role -> list of addresses", field=addresses_field)
    pm.refuse(pm.lint(lint_entries(spec, addresses, cluster_field, addresses_field), waivers or [], field=waivers_field))
    return edge.allowlists(spec, addresses, addresses_field)


def haproxy_allowlists(cluster, addresses, waivers=None, cluster_field="cluster", addresses_field="addresses", waivers_field="waivers"):
    try:
        return allowlists(cluster, addresses, waivers, cluster_field, addresses_field, waivers_field)
    except NetsecError as exc:
        raise AnsibleFilterError("haproxy_allowlists: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"haproxy_allowlists": haproxy_allowlists}
