# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: talos_hardening_inputs
short_description: Type the talos_hardening role's variables before any task writes or sends
version_added: 0.2.0
description:
  - The first task of the C(safespring.netsec.talos_hardening) role. Node names (file names), node
    addresses (talosctl C(--nodes) and firewall sources), the address book, admin sources, guard
    commands, endpoints, durations and paths are parsed in Python (C(module_utils/talos/inputs.py)),
    and an error names the role variable, such as C(talos_hardening_nodes[2].address).
  - Returns the nodes without their patches (loop items are printed at -v; patches may hold keys),
    the address book and the normalised output directory.
author:
  - Safespring platform team (@safespring)
options:
  _input:
    description: The role's variables, keyed by their names without the C(talos_hardening_) prefix.
    type: dict
    required: true
"""

EXAMPLES = r"""
- ansible.builtin.set_fact:
    _talos_hardening: "{{ {'nodes': talos_hardening_nodes, 'addresses': talos_hardening_addresses, ...} | safespring.netsec.talos_hardening_inputs }}"
"""

RETURN = r"""
_value:
  description: A mapping with C(nodes) (C([{index, name, role, address}])), C(book) (role to addresses) and C(output_dir).
  type: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.talos import inputs
from ansible_collections.safespring.netsec.plugins.plugin_utils.role_inputs import typed


def talos_hardening_inputs(values):
    return typed("talos_hardening_inputs", values, inputs.parse)


class FilterModule(object):
    def filters(self):
        return {"talos_hardening_inputs": talos_hardening_inputs}
