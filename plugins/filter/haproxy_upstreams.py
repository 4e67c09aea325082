# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_upstreams
short_description: Where the HAProxy edge forwards to, rendered from the port model
version_added: 0.1.0
description:
  - The port model's flows that leave the load balancer towards cluster roles, with the roles resolved
    through the address book, for example C(kube-apiserver) and C(talos-apid) to the control-plane nodes and
    C(nodeports) to the NodePort targets.
options:
  _input:
    description: The cluster specification.
    type: dict
    required: true
  addresses:
    description: Address book, role name -> list of host addresses (C(control_plane), C(worker), ...).
    type: dict
    required: true
seealso:
  - plugin: safespring.netsec.haproxy_allowlists
    plugin_type: filter
  - plugin: safespring.netsec.haproxy_ingress_routes
    plugin_type: filter
"""

EXAMPLES = r"""
- name: API servers behind the edge
  ansible.builtin.debug:
    msg: "{{ (netsec_cluster | safespring.netsec.haproxy_upstreams(addresses))['kube-apiserver'].servers }}"
"""

RETURN = r"""
_value:
  description: Service name -> C(port_min), C(port_max), C(servers) (host addresses, in address-book order).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge


def haproxy_upstreams(cluster, addresses):
    try:
        return edge.upstreams(cluster, addresses)
    except NetsecError as exc:
        raise AnsibleFilterError("haproxy_upstreams: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"haproxy_upstreams": haproxy_upstreams}
