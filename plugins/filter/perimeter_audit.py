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
  - A rule whose source is a Neutron address group (C(remote_address_group_id)) is judged by the addresses of that
    group, given in O(address_groups); an address group holding C(0.0.0.0/0) on a sensitive port is an exposure like a
    literal rule. Without O(address_groups) (or for an address group not in it) such a rule counts as every source
    (fail closed), so every sensitive port it opens is reported.
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
  address_groups:
    description:
      - The project's live address groups, each with C(id), C(name) and C(addresses), as Neutron's
        C(GET /v2.0/address-groups) returns them in C(address_groups) (openstack.cloud has no info module for them; the
        SDK's C(network.address_groups()) gives the same dicts).
    type: list
    elements: dict
    default: []
  cluster_address_groups:
    description:
      - The cluster is synced with C(safespring.netsec.security_group)'s O(safespring.netsec.security_group#module:cluster_address_groups)
        (its admin ranges, API ranges and BGP peers are address groups). The port model is then rendered the same way,
        so the audit and the sync agree on what drift is, and the address groups' addresses are compared too.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Perimeter evidence
  ansible.builtin.set_fact:
    perimeter: "{{ live.security_groups | safespring.netsec.perimeter_audit(netsec_cluster) }}"

- name: Perimeter evidence with address groups (rules on them judged by their addresses)
  ansible.builtin.set_fact:
    perimeter: >-
      {{ live.security_groups | safespring.netsec.perimeter_audit(netsec_cluster,
         address_groups=live_address_groups.json.address_groups, cluster_address_groups=true) }}
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
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import address_groups as AG
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import render, rules


def perimeter_audit(live_groups, cluster, waivers=None, address_groups=None, cluster_address_groups=False):
    live_ags = list(address_groups or [])
    try:
        spec = pm.ClusterSpec.from_dict(cluster)
        desired = render.render(spec, address_groups=bool(cluster_address_groups))
        wanted_ags = render.render_address_groups(spec) if cluster_address_groups else []
        if not isinstance(live_ags, list) or not all(isinstance(a, dict) and a.get("id") for a in live_ags):
            raise NetsecError("must be a list of address groups, each with its id and addresses", field="address_groups",
                              fix="pass the address_groups list of GET /v2.0/address-groups")
    except NetsecError as err:
        raise AnsibleFilterError(str(err))
    live_by_name = dict((g["name"], g) for g in live_groups)
    names_by_id = dict((g["id"], g["name"]) for g in live_groups)
    wanted = [d.name for d in desired]
    env_live = dict((n, live_by_name[n]) for n in wanted if n in live_by_name)
    # The cluster's own address groups compare by name (their ids are the live ones).
    ag_plans = AG.plan(wanted_ags, dict((a.get("name"), a) for a in live_ags))
    plan = rules.plan(desired, env_live, external_names=names_by_id, address_groups=ag_plans)

    drift = []
    missing = [n for n in wanted if n not in live_by_name]
    for name in missing:
        drift.append("%s: group missing" % name)
    for ap in ag_plans:
        if ap.create:
            drift.append("%s: address group missing" % ap.name)
            continue
        drift += ["%s: missing address %s" % (ap.name, c) for c in ap.add]
        drift += ["%s: extra address %s" % (ap.name, c) for c in ap.remove]
    for group in plan.groups:
        if group.name in missing:
            continue
        drift += ["%s: missing %s" % (group.name, rules.describe(r)) for r in group.to_create]
        drift += ["%s: extra %s" % (group.name, rules.describe(r)) for dummy, r in group.to_delete]
        drift += ["%s: duplicate %s" % (group.name, rules.describe(r)) for dummy, r in group.duplicates]

    # The module's own builder: what the sync refuses, the audit flags.
    # Rules on an address group are judged by its live addresses (one not given: any source).
    entries = rules.live_lint_entries(live_groups, names_by_id, address_groups=live_ags)
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
