# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""compliance_report through ansible-playbook: writes, stays unchanged, fails on drift."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - safespring.netsec.compliance_report:
        environment: unit
        dest: "{dest}"
        controls: {controls}
      register: out
    - ansible.builtin.copy: {{content: "{{{{ out | to_json }}}}", dest: "{dest}/result.json", mode: "0600"}}
"""


def run(tmp_path, controls, check=False):
    play = tmp_path / "play.yml"
    play.write_text(PLAY.format(dest=tmp_path / "r", controls=json.dumps(controls)))
    # implicit localhost: the controller's own Python, no interpreter discovery
    cmd = ["ansible-playbook", str(play)] + (["--check"] if check else [])
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=dict(os.environ))


OK = [{"id": "A-1", "title": "a", "status": "pass", "evidence": "e"}]


def test_second_run_with_the_same_controls_reports_no_change(tmp_path):
    first = run(tmp_path, OK)
    assert first.returncode == 0, first.stdout
    before = (tmp_path / "r" / "report.md").read_text()
    second = run(tmp_path, OK)
    assert second.returncode == 0
    assert json.loads((tmp_path / "r" / "result.json").read_text())["changed"] is False
    assert (tmp_path / "r" / "report.md").read_text() == before


def test_a_failed_control_writes_the_report_then_fails_naming_it(tmp_path):
    proc = run(tmp_path, [{"id": "P-3", "title": "p", "status": "fail", "drift": ["6443 open to 0.0.0.0/0"]}])
    assert proc.returncode != 0
    assert "1 control(s) failed: P-3" in proc.stdout
    assert "6443 open to 0.0.0.0/0" in (tmp_path / "r" / "junit.xml").read_text()


def test_check_mode_writes_nothing(tmp_path):
    (tmp_path / "r").mkdir()
    proc = run(tmp_path, OK, check=True)
    assert proc.returncode == 0, proc.stdout
    assert sorted(os.listdir(tmp_path / "r")) == []


def test_one_run_writes_every_output_and_a_later_change_writes_the_drift_report(tmp_path):
    first = run(tmp_path, OK)
    assert first.returncode == 0, first.stdout
    out = tmp_path / "r"
    names = sorted(os.listdir(out))
    for name in ("index.html", "report.md", "junit.xml", "report.sarif", "oscal-assessment-results.json", "report.json", "drift.md", "drift.json"):
        assert name in names, names
    assert json.loads((out / "report.sarif").read_text())["version"] == "2.1.0"
    assert json.loads((out / "oscal-assessment-results.json").read_text())["assessment-results"]["metadata"]["oscal-version"] == "1.1.2"
    assert json.loads((out / "drift.json").read_text())["baseline"] is True
    # The same controls again: nothing rewritten, the drift report still describes the last change.
    before = (out / "drift.md").read_text()
    assert run(tmp_path, OK).returncode == 0
    assert json.loads((out / "result.json").read_text())["changed"] is False and (out / "drift.md").read_text() == before
    # A to fail: the drift report names the new failure.
    proc = run(tmp_path, [{"id": "A-1", "title": "a", "status": "fail", "drift": ["6443 open to 0.0.0.0/0"]}])
    assert proc.returncode != 0
    changes = json.loads((out / "drift.json").read_text())["changes"]
    assert [(c["control"], c["kind"], c["added_drift"]) for c in changes] == [("A-1", "new_failure", ["6443 open to 0.0.0.0/0"])]
    assert "| A-1 a | New failures | PASS (live) | FAIL (live) |" in (out / "drift.md").read_text()
