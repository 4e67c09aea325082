# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: policy_exposure_evidence
short_description: World-exposure evidence of NetworkPolicies and Cilium policies, rendered or live
version_added: 0.1.0
description:
  - The lint the cilium and namespace_policies roles run before they apply (C(port_model.lint) over the entries of
    C(kubernetes/exposure.py)), on objects read back from a GitOps tree or a live cluster, whoever made them.
  - Returns C(ok), C(drift) (one line per sensitive service the policies of one namespace, or the clusterwide
    policies together, open to the Internet without a waiver), C(policies) and C(entries) (how many were checked).
options:
  _input:
    description: Kubernetes objects; kinds other than NetworkPolicy, CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy are skipped.
    type: list
    elements: dict
    required: true
  waivers:
    description: Named waivers C({name, service, scope, reason}), as given to the roles (C(netsec_waivers)).
    type: list
    elements: dict
    default: []
"""

EXAMPLES = r"""
- name: No policy admits the Internet to a sensitive port
  ansible.builtin.set_fact:
    policy_exposure: "{{ netsec_objects | safespring.netsec.policy_exposure_evidence(netsec_waivers | default([])) }}"
"""

RETURN = r"""
_value:
  description: C(ok), C(drift), C(policies), C(entries).
  type: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import exposure


def policy_exposure_evidence(objects, waivers=None):
    policies = [o for o in objects or [] if isinstance(o, dict) and o.get("kind") in exposure.KINDS]
    names = []
    for obj in policies:
        meta = obj.get("metadata") or {}
        names.append("%s %s%s" % (obj["kind"], meta.get("namespace") + "/" if meta.get("namespace") else "", meta.get("name")))
    try:
        entries = exposure.lint_entries(policies, fields=names)
    except NetsecError as exc:  # a source that is no address: drift, not a crash of the report
        return {"ok": False, "drift": [str(exc)], "policies": len(policies), "entries": 0}
    drift = [str(p) for p in pm.lint(entries, waivers or [])]
    return {"ok": not drift, "drift": drift, "policies": len(policies), "entries": len(entries)}


class FilterModule(object):
    def filters(self):
        return {"policy_exposure_evidence": policy_exposure_evidence}
