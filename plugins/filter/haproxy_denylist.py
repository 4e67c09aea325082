# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_denylist
short_description: Entries of the HAProxy edge's deny (or limit-exempt) list
version_added: 0.1.0
description:
  - Normalises CIDRs (C(10.1.2.3/8) becomes C(10.0.0.0/8), a bare address a host prefix), sorts them and drops
    duplicates, so that the list file changes only when its meaning does. A C(/0) is refused.
options:
  _input:
    description: CIDRs to refuse on every frontend.
    type: list
    elements: str
    required: true
  field:
    description: Variable name used in error messages.
    type: str
    default: haproxy_deny_cidrs
"""

EXAMPLES = r"""
- name: Deny list
  ansible.builtin.debug:
    msg: "{{ ['203.0.113.7', '198.51.100.0/24'] | safespring.netsec.haproxy_denylist }}"
"""

RETURN = r"""
_value:
  description: Normalised CIDRs, IPv4 first.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge


def haproxy_denylist(values, field="haproxy_deny_cidrs"):
    try:
        return edge.denylist(values, field)
    except NetsecError as exc:
        raise AnsibleFilterError("haproxy_denylist: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"haproxy_denylist": haproxy_denylist}
