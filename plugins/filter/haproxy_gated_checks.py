# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_gated_checks
short_description: The health checks the haproxy role gates a configuration change on
version_added: 0.2.0
description:
  - Turns the role's typed inputs into the O(safespring.netsec.gated_config#module:checks) list
    (module_utils/gated_change.py, C(haproxy_checks)).
author:
  - Safespring platform team (@safespring)
options:
  _input:
    description: The role's typed inputs (C(haproxy_typed)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- safespring.netsec.gated_config:
    daemon: haproxy
    dest: /etc/x.conf
    checks: "{{ haproxy_typed | safespring.netsec.haproxy_gated_checks }}"
"""

RETURN = r"""
_value:
  description: Checks for M(safespring.netsec.gated_config).
  type: list
  elements: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import haproxy_checks


class FilterModule(object):
    def filters(self):
        return {"haproxy_gated_checks": haproxy_checks}
