# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_inputs
short_description: Type the haproxy role's variables before any task writes anything
version_added: 0.2.0
description:
  - The first task of the C(safespring.netsec.haproxy) role. Durations, counts, paths, addresses, host and
    SNI names, HTTP paths and methods, certificate and route names are parsed in Python
    (C(module_utils/haproxy/inputs.py)) and must be writable as single haproxy words; unknown keys in
    C(haproxy_timeouts), C(haproxy_limits), C(haproxy_certificates), C(haproxy_ingress_routes) and the
    health settings are refused. An error names the role variable, such as C(haproxy_timeouts.client).
  - Returns the typed values haproxy.cfg and the crt-list are rendered from; certificates come back
    without their keys.
author:
  - Safespring platform team (@safespring)
options:
  _input:
    description: The role's variables, keyed by their names without the C(haproxy_) prefix.
    type: dict
    required: true
"""

EXAMPLES = r"""
- ansible.builtin.set_fact:
    haproxy_typed: "{{ {'timeouts': haproxy_timeouts, 'rate_period': haproxy_rate_period, ...} | safespring.netsec.haproxy_inputs }}"
"""

RETURN = r"""
_value:
  description: >-
    A mapping of typed values (C(timeouts), C(limits), C(certificates) as C([{index, name, hosts, pairs}]),
    C(crt_list), C(routes), C(upstreams), C(deny), C(exempt), paths and flags).
  type: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import inputs
from ansible_collections.safespring.netsec.plugins.plugin_utils.role_inputs import typed


def haproxy_inputs(values):
    return typed("haproxy_inputs", values, inputs.parse)


class FilterModule(object):
    def filters(self):
        return {"haproxy_inputs": haproxy_inputs}
