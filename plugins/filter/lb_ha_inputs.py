# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: lb_ha_inputs
short_description: Type the lb_ha role's variables before any task writes to the host
version_added: 0.2.0
description:
  - The first task of the C(safespring.netsec.lb_ha) role (and of its C(status.yml)). Service
    addresses, the host's addresses, VRRP peers, BGP export prefixes, AS numbers, timers,
    interface names, paths, the BIRD log target and the BGP password are parsed in Python
    (C(module_utils/lb_ha/inputs.py)), and an error names the role variable, such as
    C(lb_ha_service_addresses[1]) or C(lb_ha_bgp_export_prefixes[0]).
  - Returns the typed values the templates write; the BGP password is checked but not
    returned (set_fact results print at -v).
author:
  - Safespring platform team (@safespring)
positional: scope
options:
  _input:
    description: The role's variables, keyed by their names without the C(lb_ha_) prefix, plus C(host), C(group_hosts) and C(peer_hosts).
    type: dict
    required: true
  scope:
    description: C(main) types everything; C(status) only what the read-only status tasks use.
    type: str
    default: main
    choices: [main, status]
"""

EXAMPLES = r"""
- ansible.builtin.set_fact:
    lb_ha_typed: "{{ lb_ha_inputs_raw | safespring.netsec.lb_ha_inputs }}"
"""

RETURN = r"""
_value:
  description: The typed values (C(service_addresses), C(address), C(health_check), C(paths), C(bgp), C(vrrp), C(addresses_json), ...).
  type: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.lb_ha import inputs
from ansible_collections.safespring.netsec.plugins.plugin_utils.role_inputs import typed


def lb_ha_inputs(values, scope="main"):
    return typed("lb_ha_inputs", values, inputs.parse_status if scope == "status" else inputs.parse)


class FilterModule(object):
    def filters(self):
        return {"lb_ha_inputs": lb_ha_inputs}
