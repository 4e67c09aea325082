# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cluster_spec
short_description: Check a cluster spec against the port model's schema, naming the role variable
version_added: 0.1.0
description:
  - The same validator the modules run (C(port_model.ClusterSpec.from_dict)), for a role's first task, so that an
    error names the variable as the user wrote it, for example C(security_groups_cluster.jump_host.admin_cidrs[1]).
  - Returns the spec with every default filled in and every CIDR normalised to its network address.
  - The keys, types and defaults are those of the C(cluster) option of M(safespring.netsec.security_group).
options:
  _input:
    description: The cluster spec.
    type: dict
    required: true
  field:
    description: The variable's name, used in error messages.
    type: str
    default: cluster
seealso:
  - module: safespring.netsec.security_group
"""

EXAMPLES = r"""
- name: Cluster spec checked before anything changes
  ansible.builtin.assert:
    that: (security_groups_cluster | safespring.netsec.cluster_spec('security_groups_cluster')) is mapping
    quiet: true
"""

RETURN = r"""
_value:
  description: The validated cluster spec, defaults filled in (C(egress.extra[].port_max) defaults to its C(port)).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError


def cluster_spec(cluster, field="cluster"):
    try:
        return pm.validate_cluster(cluster, field)
    except NetsecError as exc:
        raise AnsibleFilterError("cluster_spec: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"cluster_spec": cluster_spec}
