# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_ingress_routes
short_description: Validated host/SNI routes of the HAProxy edge with their servers
version_added: 0.1.0
description:
  - Checks each route (name, hosts, target) and resolves its servers. C(target=nodeport) sends the route to
    its C(nodeport) on every NodePort target node of the address book (the port must lie in the port model's
    NodePort range); C(target=servers) to explicit C({address, port}) servers such as a Gateway.
  - A host may be routed once. Errors name the field, for example C(haproxy_ingress_routes[1].nodeport).
options:
  _input:
    description: The routes, a list of C({name, hosts, target, nodeport | servers, send_proxy, health_path}).
    type: list
    elements: dict
    required: true
  cluster:
    description: The cluster specification.
    type: dict
    required: true
  addresses:
    description: Address book, role name -> list of host addresses.
    type: dict
    required: true
seealso:
  - plugin: safespring.netsec.haproxy_upstreams
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Routes for haproxy.cfg
  ansible.builtin.set_fact:
    routes: "{{ haproxy_ingress_routes | safespring.netsec.haproxy_ingress_routes(netsec_cluster, addresses) }}"
"""

RETURN = r"""
_value:
  description: The routes with normalised C(hosts) and C(servers) (C({name, address, port})).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge


def haproxy_ingress_routes(routes, cluster, addresses):
    try:
        return edge.ingress_routes(routes, cluster, addresses)
    except NetsecError as exc:
        raise AnsibleFilterError("haproxy_ingress_routes: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"haproxy_ingress_routes": haproxy_ingress_routes}
