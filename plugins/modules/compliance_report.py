#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compliance_report
short_description: Write the baseline's compliance evidence (HTML, Markdown, JUnit) and fail on drift
version_added: 0.1.0
description:
  - Takes the controls that C(playbooks/verify.yml) evaluated, each with its status, the
    evidence found and the drift, and writes C(index.html), C(report.md) and C(junit.xml)
    into O(dest).
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
        generation time alone is no change (the previous time is kept).
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
        description: Outcome.
        type: str
        required: true
        choices: [pass, fail, not_applicable]
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
  sample: {"pass": 12, "fail": 1, "not_applicable": 2}
failed_controls:
  description: Ids of the controls that failed.
  returned: always
  type: list
  elements: str
files:
  description: Paths of the written report files.
  returned: always
  type: dict
  sample: {"html": "/r/index.html", "markdown": "/r/report.md", "junit": "/r/junit.xml"}
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils import report


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _write(path, content, check_mode):
    if _read(path) == content:
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
            )),
            dest=dict(type="path", required=True),
            environment=dict(type="str", required=True),
            title=dict(type="str", default="Network-security baseline compliance"),
            generated_at=dict(type="str"),
            fail_on_drift=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        controls = report.parse_controls(p["controls"])
    except NetsecError as err:
        err.fail(module)
    files = {
        "html": os.path.join(p["dest"], "index.html"),
        "markdown": os.path.join(p["dest"], "report.md"),
        "junit": os.path.join(p["dest"], "junit.xml"),
    }

    def render_all(generated_at):
        return {
            "html": report.render_html(p["title"], p["environment"], generated_at, controls),
            "markdown": report.render_markdown(p["title"], p["environment"], generated_at, controls),
            "junit": report.render_junit(p["title"], p["environment"], controls),
        }

    # Same controls as last time: keep the previous report (and its time) as it is.
    previous = report.generated_at_of(_read(files["markdown"]))
    contents = render_all(p["generated_at"] or previous) if (p["generated_at"] or previous) else None
    if contents is None or any(_read(files[k]) != contents[k] for k in files):
        contents = render_all(p["generated_at"] or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"))
    if not module.check_mode and not os.path.isdir(p["dest"]):
        os.makedirs(p["dest"], 0o750)
    changed = False
    for kind, path in files.items():
        changed = _write(path, contents[kind], module.check_mode) or changed
    counts = report.summary(controls)
    failed = [c["id"] for c in controls if c["status"] == "fail"]
    result = dict(changed=changed, summary=counts, failed_controls=failed, files=files)
    if failed and p["fail_on_drift"]:
        module.fail_json(msg="%d control(s) failed: %s; report: %s" % (len(failed), ", ".join(failed), files["html"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
