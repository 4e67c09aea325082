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

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge


def haproxy_allowlists(cluster, addresses):
    try:
        return edge.allowlists(cluster, addresses)
    except NetsecError as exc:
        raise AnsibleFilterError("haproxy_allowlists: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"haproxy_allowlists": haproxy_allowlists}
