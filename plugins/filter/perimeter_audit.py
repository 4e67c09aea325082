# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: perimeter_audit
short_description: Audit live security groups against the port model
version_added: 0.1.0
description:
  - Compares the live security groups of a project (as C(openstack.cloud.security_group_info)
    returns them) with the groups the port model renders for the cluster, using the same plan
    as the C(safespring.netsec.security_group) module, so the audit and the sync agree on what
    drift is.
  - Lints every live rule of every group in the project, not only the cluster's, for sensitive
    services (etcd, kubelet, trustd, apid, NodePorts, 6443) open to the Internet, with the lint entries the
    C(safespring.netsec.security_group) module builds (C(openstack/rules.py) C(lint_entry)). Judged on coverage,
    C(0.0.0.0/0), C(::/0), split world CIDRs (C(0.0.0.0/1) + C(128.0.0.0/1)), very wide ones (C(2000::/3)) and a rule
    with B(no remote prefix and no remote group), which Neutron applies to every source, are all exposures.
    Rules whose source is a remote group are not address sources and are not linted.
author:
  - Safespring platform team (@safespring)
positional: cluster
options:
  _input:
    description: Live security groups, each with its C(security_group_rules).
    type: list
    elements: dict
    required: true
  cluster:
    description: The cluster description of the port model (C(netsec_cluster)).
    type: dict
    required: true
  waivers:
    description: Named waivers C({name, service, scope, reason}) for the lint.
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: Perimeter evidence
  ansible.builtin.set_fact:
    perimeter: "{{ live.security_groups | safespring.netsec.perimeter_audit(netsec_cluster) }}"
"""

RETURN = r"""
_value:
  description: Audit result.
  type: dict
  contains:
    groups:
      description: The cluster's groups and whether each exists.
      type: dict
    missing_groups:
      description: Groups the port model wants that do not exist.
      type: list
      elements: str
    drift:
      description: One line per rule missing, extra or duplicated in the cluster's groups.
      type: list
      elements: str
    exposures:
      description: Lint findings over every group of the project.
      type: list
      elements: str
    rules_checked:
      description: Number of live rules linted.
      type: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import render, rules


def perimeter_audit(live_groups, cluster, waivers=None):
    try:
        spec = pm.ClusterSpec.from_dict(cluster)
        desired = render.render(spec)
    except NetsecError as err:
        raise AnsibleFilterError(str(err))
    live_by_name = dict((g["name"], g) for g in live_groups)
    names_by_id = dict((g["id"], g["name"]) for g in live_groups)
    wanted = [d.name for d in desired]
    env_live = dict((n, live_by_name[n]) for n in wanted if n in live_by_name)
    plan = rules.plan(desired, env_live, external_names=names_by_id)

    drift = []
    missing = [n for n in wanted if n not in live_by_name]
    for name in missing:
        drift.append("%s: group missing" % name)
    for group in plan.groups:
        if group.name in missing:
            continue
        drift += ["%s: missing %s" % (group.name, rules.describe(r)) for r in group.to_create]
        drift += ["%s: extra %s" % (group.name, rules.describe(r)) for dummy, r in group.to_delete]
        drift += ["%s: duplicate %s" % (group.name, rules.describe(r)) for dummy, r in group.duplicates]

    # The module's own builder: what the sync refuses, the audit flags.
    entries = rules.live_lint_entries(live_groups, names_by_id)
    exposures = [str(problem) for problem in pm.lint(entries, waivers or [])]
    return {
        "groups": dict((n, n in live_by_name) for n in wanted),
        "missing_groups": missing,
        "drift": drift,
        "exposures": exposures,
        "rules_checked": len(entries),
    }


class FilterModule(object):
    def filters(self):
        return {"perimeter_audit": perimeter_audit}
