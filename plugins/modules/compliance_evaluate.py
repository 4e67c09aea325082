#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compliance_evaluate
short_description: Judge the baseline's controls on the evidence verify collected
version_added: 0.1.0
description:
  - Runs the evaluator of every control of the baseline (C(plugins/module_utils/compliance/evaluators.py)) on the
    evidence C(playbooks/verify.yml) collected and returns the controls, each with its status, its evidence level
    (C(live), C(static) or C(not_applicable)), its drift, the findings with a hint of what caused each one, the seed's
    requirement and the CIS Kubernetes Benchmark and NSA/CISA Kubernetes Hardening Guidance items it covers.
  - Pure evaluation; nothing is read or changed. Give the result to M(safespring.netsec.compliance_report).
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.INFO_MODULE
  - safespring.netsec.attributes.IDEMPOTENT
options:
  evidence:
    description:
      - The evidence sections C(perimeter), C(edge), C(nodes), C(cni), C(identity) and C(workloads), as
        C(playbooks/verify.yml) assembles them (docs/compliance-outputs.md describes each).
      - C(nodes), C(cni), C(identity) and C(workloads) carry C(level), C(live) or C(static).
    type: dict
    required: true
  only:
    description: Evaluate only these controls (all when empty).
    type: list
    elements: str
    default: []
seealso:
  - module: safespring.netsec.compliance_report
"""

EXAMPLES = r"""
- name: Judge the controls
  safespring.netsec.compliance_evaluate:
    evidence: "{{ netsec_evidence }}"
  register: netsec_evaluated

- name: Write the report
  safespring.netsec.compliance_report:
    environment: lab
    dest: /var/lib/netsec/reports/lab
    controls: "{{ netsec_evaluated.controls }}"
"""

RETURN = r"""
controls:
  description: The judged controls, in the baseline's order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Control id, for example C(PERIM-03).
      type: str
    status:
      description: C(pass), C(fail) or C(not_applicable).
      type: str
    evidence_level:
      description: C(live), C(static) (rendered files) or C(not_applicable).
      type: str
    drift:
      description: One line per difference from the baseline.
      type: list
      elements: str
    findings:
      description: Each drift line with C(locations), hints of the inventory key, rendered file or object that caused it.
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.compliance import evaluators


def main():
    module = AnsibleModule(
        argument_spec=dict(
            evidence=dict(type="dict", required=True),
            only=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        controls = evaluators.evaluate(module.params["evidence"], module.params["only"])
    except NetsecError as err:
        err.fail(module)
    module.exit_json(changed=False, controls=controls)


if __name__ == "__main__":
    main()
