#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compliance_report
short_description: Write the baseline's compliance evidence (HTML, Markdown, JUnit, SARIF, OSCAL, JSON, drift) and fail on drift
version_added: 0.1.0
description:
  - Takes the controls that C(playbooks/verify.yml) evaluated (M(safespring.netsec.compliance_evaluate)), each with
    its status, evidence level, the evidence found, the drift and its findings, and writes into O(dest) from one run
    C(index.html), C(report.md), C(junit.xml) (evidence level and framework items as test case properties),
    C(report.sarif) (SARIF 2.1.0, each finding located at the inventory or rendered file and line that caused it),
    C(oscal-assessment-results.json) (OSCAL 1.1.2) and C(report.json) (the machine-readable report).
  - When the controls differ from the previous C(report.json) in O(dest), also writes C(drift.md) and C(drift.json), saying
    what changed since that report, control by control (new failures, fixed, evidence level changes).
  - Fails when any control has status C(fail) and O(fail_on_drift=true), after the report
    is written, so that an AWX job or a CI run goes red and the report says why.
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written; the result still says which controls fail.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The files are rewritten only when a control, its evidence or its drift changed; a new
        generation time alone is no change (the previous time is kept), and the drift report then
        still describes the last change.
options:
  controls:
    description: The evaluated controls.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: Stable identifier, for example C(PERIM-01).
        type: str
        required: true
      title:
        description: What the control asserts.
        type: str
        required: true
      layer:
        description: Part of the baseline (perimeter, edge, nodes, cni, identity, workloads).
        type: str
      status:
        description:
          - Outcome. V(pass) only for a control proven against a running system; V(static) for one met by
            rendered files only (shown as STATIC, never as a bare PASS; a passing JUnit case with
            C(evidence_level=static)).
        type: str
        required: true
        choices: [pass, static, fail, not_applicable]
      evidence:
        description: What was found (text or data), shown as is.
        type: raw
      source:
        description: Where the evidence came from (API, host, file).
        type: str
      drift:
        description: Differences from the baseline, one line each.
        type: list
        elements: str
      evidence_level:
        description:
          - How strong the evidence is. Defaults to C(not_applicable) for a not applicable control and to C(live) otherwise.
        type: str
        choices: [live, static, not_applicable]
      findings:
        description: The drift lines with location hints (as M(safespring.netsec.compliance_evaluate) returns them).
        type: list
        elements: dict
      requirement:
        description: The seed's requirement the control proves.
        type: str
      cis:
        description: CIS Kubernetes Benchmark items covered, each C({id, title}).
        type: list
        elements: dict
      nsa:
        description: NSA/CISA Kubernetes Hardening Guidance sections covered, each C({id, title}).
        type: list
        elements: dict
  inventory_dir:
    description: The inventory whose group_vars and host_vars findings are located in (SARIF locations).
    type: path
  render_dir:
    description: The directory of rendered artifacts that static findings are located in.
    type: path
  project_root:
    description: Paths under this directory are written relative to it in SARIF (C(uriBaseId) C(PROJECTROOT)).
    type: path
  exposure:
    description:
      - The result of M(safespring.netsec.exposure_proof) (its C(paths), C(layers) and C(summary)); the HTML report then
        shows the layered exposure as a graph and a matrix per destination with per-layer marks.
    type: dict
  dest:
    description: Directory for the report files (created, mode 0750).
    type: path
    required: true
  environment:
    description: Name of the environment the report is about.
    type: str
    required: true
  title:
    description: Report title.
    type: str
    default: Network-security baseline compliance
  generated_at:
    description: Timestamp printed in the report (defaults to now, UTC).
    type: str
  fail_on_drift:
    description: Fail the task when a control failed.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Write the report and fail on drift
  safespring.netsec.compliance_report:
    environment: prod
    dest: /var/lib/netsec/reports/prod
    controls:
      - id: PERIM-03
        title: No sensitive port open to the world
        layer: perimeter
        status: pass
        source: Neutron security groups
        evidence: "4 groups, 112 rules checked"
"""

RETURN = r"""
summary:
  description: Number of controls per status.
  returned: always
  type: dict
  sample: {"pass": 12, "static": 2, "fail": 1, "not_applicable": 2}
failed_controls:
  description: Ids of the controls that failed.
  returned: always
  type: list
  elements: str
files:
  description: Paths of the written report files.
  returned: always
  type: dict
  sample: {"html": "/r/index.html", "markdown": "/r/report.md", "junit": "/r/junit.xml", "sarif": "/r/report.sarif",
           "oscal": "/r/oscal-assessment-results.json", "json": "/r/report.json", "drift_markdown": "/r/drift.md",
           "drift_json": "/r/drift.json"}
changes:
  description: What changed since the previous report, control by control (empty when the report did not change).
  returned: always
  type: list
  elements: dict
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._files import read_text
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils import report
from ansible_collections.safespring.netsec.plugins.module_utils.compliance import drift, locations, mapping, oscal, sarif

VERSION = "0.1.0"


def _write(path, content, check_mode):
    if read_text(path) == content:
        return False
    if not check_mode:
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o640)
        os.rename(tmp, path)
    return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            controls=dict(type="list", elements="dict", required=True, options=dict(
                id=dict(type="str", required=True),
                title=dict(type="str", required=True),
                layer=dict(type="str"),
                status=dict(type="str", required=True, choices=list(report.STATUSES)),
                evidence=dict(type="raw"),
                source=dict(type="str"),
                drift=dict(type="list", elements="str"),
                evidence_level=dict(type="str", choices=list(report.EVIDENCE_LEVELS)),
                findings=dict(type="list", elements="dict"),
                requirement=dict(type="str"),
                cis=dict(type="list", elements="dict"),
                nsa=dict(type="list", elements="dict"),
            )),
            inventory_dir=dict(type="path"),
            render_dir=dict(type="path"),
            project_root=dict(type="path"),
            dest=dict(type="path", required=True),
            environment=dict(type="str", required=True),
            title=dict(type="str", default="Network-security baseline compliance"),
            generated_at=dict(type="str"),
            fail_on_drift=dict(type="bool", default=True),
            exposure=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        controls = report.parse_controls(p["controls"])
    except NetsecError as err:
        err.fail(module)
    locations.locate_controls(controls, locations.Locator(p["project_root"], p["inventory_dir"], p["render_dir"]))
    files = {
        "html": os.path.join(p["dest"], "index.html"),
        "markdown": os.path.join(p["dest"], "report.md"),
        "junit": os.path.join(p["dest"], "junit.xml"),
        "sarif": os.path.join(p["dest"], "report.sarif"),
        "oscal": os.path.join(p["dest"], "oscal-assessment-results.json"),
        "json": os.path.join(p["dest"], "report.json"),
    }
    drift_files = {"drift_markdown": os.path.join(p["dest"], "drift.md"), "drift_json": os.path.join(p["dest"], "drift.json")}

    def render_all(generated_at):
        document = drift.report_document(controls, p["environment"], generated_at, mapping.frameworks())
        return {
            "html": report.render_html(p["title"], p["environment"], generated_at, controls, p["exposure"]),
            "markdown": report.render_markdown(p["title"], p["environment"], generated_at, controls),
            "junit": report.render_junit(p["title"], p["environment"], controls),
            "sarif": sarif.dumps(sarif.render(controls, p["environment"], p["project_root"], VERSION, oscal.timestamp(generated_at))),
            "oscal": oscal.dumps(oscal.render(controls, p["environment"], generated_at, p["title"], VERSION)),
            "json": drift.dumps(document),
        }, document

    # Same controls as last time: keep the previous report (and its time, and its drift report) as it is.
    previous_json = read_text(files["json"])
    previous = report.generated_at_of(read_text(files["markdown"]))
    contents = render_all(p["generated_at"] or previous)[0] if (p["generated_at"] or previous) else None
    changes = []
    if contents is None or any(read_text(files[k]) != contents[k] for k in files):
        contents, document = render_all(p["generated_at"] or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"))
        compared = drift.compare(drift.load(previous_json), document)
        changes = compared["changes"]
        contents["drift_markdown"] = drift.render_markdown(compared)
        contents["drift_json"] = drift.dumps(compared)
        files.update(drift_files)
    if not module.check_mode and not os.path.isdir(p["dest"]):
        os.makedirs(p["dest"], 0o750)
    changed = False
    for kind, path in files.items():
        changed = _write(path, contents[kind], module.check_mode) or changed
    files.update(drift_files)
    counts = report.summary(controls)
    failed = [c["id"] for c in controls if c["status"] == "fail"]
    result = dict(changed=changed, summary=counts, failed_controls=failed, files=files, changes=changes)
    if failed and p["fail_on_drift"]:
        module.fail_json(msg="%d control(s) failed: %s; report: %s" % (len(failed), ", ".join(failed), files["html"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
