# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.json and the drift report: what changed since the previous report, control by control."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import pathlib
import sys

from ansible_collections.safespring.netsec.plugins.module_utils import report
from ansible_collections.safespring.netsec.plugins.module_utils.compliance import drift, evaluators, mapping

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import recorded  # noqa: E402


def document(evidence, when):
    controls = report.parse_controls(evaluators.evaluate(evidence))
    # Through JSON, as the module reads the previous report back from disk.
    return json.loads(drift.dumps(drift.report_document(controls, "lab", when, mapping.frameworks())))


def kinds(result):
    return [(c["control"], c["kind"]) for c in result["changes"]]


CLEAN = document(recorded.evidence(), "2026-12-04 10:00:00Z")
WORLD = document(recorded.evidence(groups=recorded.world_6443(recorded.live_groups())), "2026-12-04 11:00:00Z")


def test_a_first_report_is_the_baseline():
    result = drift.compare(drift.load(None), CLEAN)
    assert result["baseline"] and result["changes"] == []
    assert "first report" in drift.render_markdown(result)


def test_new_failures_are_listed_first_with_their_new_drift():
    result = drift.compare(CLEAN, WORLD)
    assert kinds(result) == [("PERIM-01", "new_failure"), ("PERIM-03", "new_failure")]
    change = result["changes"][0]
    assert change["before"] == {"status": "pass", "evidence_level": "live"} and change["after"]["status"] == "fail"
    assert change["added_drift"] == ["lab-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)"]
    md = drift.render_markdown(result)
    assert "| PERIM-01 Stateful default-deny inbound; no ingress rule beyond the port model | New failures | PASS (live) | FAIL (live) |" in md
    assert "- new: lab-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)" in md


def test_a_repair_is_listed_as_fixed():
    result = drift.compare(WORLD, CLEAN)
    assert kinds(result) == [("PERIM-01", "fixed"), ("PERIM-03", "fixed")]
    assert result["changes"][0]["removed_drift"] == ["lab-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)"]


def test_a_failure_whose_drift_changed_is_still_failing_with_both_sides():
    groups = recorded.world_6443(recorded.live_groups())
    groups[0]["security_group_rules"].pop()
    worse = document(recorded.evidence(groups=groups), "2026-12-04 12:00:00Z")
    result = drift.compare(WORLD, worse)
    assert ("PERIM-02", "new_failure") in kinds(result)
    unchanged = drift.compare(WORLD, document(recorded.evidence(groups=recorded.world_6443(recorded.live_groups())), "x"))
    assert unchanged["changes"] == [] and "No control changed." in drift.render_markdown(unchanged)


def test_static_evidence_becoming_live_is_an_evidence_level_change():
    live = recorded.evidence(level="live")
    for node in live["nodes"]["talos"].values():
        node.update(extra_services=[], version="v1.13.9")
    result = drift.compare(CLEAN, document(live, "2026-12-04 13:00:00Z"))
    changed = dict((c["control"], c) for c in result["changes"])
    assert set(changed) == {"TALOS-01", "TALOS-02", "CNI-01", "ID-01", "ID-02", "WL-01", "WL-02", "EXP-01", "WL-03"}
    assert all(c["kind"] == "evidence_level" for c in changed.values())
    assert changed["TALOS-02"]["before"] == {"status": "not_applicable", "evidence_level": "not_applicable"}
    assert changed["TALOS-02"]["after"] == {"status": "pass", "evidence_level": "live"}


def test_added_and_removed_controls():
    fewer = dict(CLEAN, controls=[c for c in CLEAN["controls"] if c["id"] != "WL-03"])
    assert kinds(drift.compare(CLEAN, fewer)) == [("WL-03", "removed")]
    assert kinds(drift.compare(fewer, CLEAN)) == [("WL-03", "added")]


def test_a_report_of_another_format_is_no_previous_report():
    assert drift.load("not json") is None
    assert drift.load(json.dumps({"format": "other", "controls": []})) is None
    assert drift.load(drift.dumps(CLEAN))["environment"] == "lab"
