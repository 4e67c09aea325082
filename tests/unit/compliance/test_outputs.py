# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SARIF 2.1.0 and OSCAL 1.1.2 outputs: valid against the official schemas, findings located at the
inventory or rendered file and line that caused them, and every control's evidence level carried
through every output (HTML, Markdown, JUnit, SARIF, OSCAL, report.json)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import pathlib
import sys
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils import report
from ansible_collections.safespring.netsec.plugins.module_utils.compliance import drift, evaluators, locations, mapping, oscal, sarif

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import recorded  # noqa: E402
import schemas  # noqa: E402

REPO = recorded.REPO
NOW = "2026-12-04 19:00:00Z"


@pytest.fixture(scope="module")
def sarif_schema():
    return schemas.sarif_validator()


@pytest.fixture(scope="module")
def oscal_schema():
    return schemas.oscal_validator()


def judged(evidence=None, render_dir=None):
    controls = report.parse_controls(evaluators.evaluate(evidence or recorded.evidence()))
    return locations.locate_controls(controls, locations.Locator(str(REPO), str(recorded.INVENTORY), render_dir))


def broken():
    """Two layers broken at once: a world rule on 6443 (live) and a world-open Talos rule (rendered)."""
    return recorded.evidence(groups=recorded.world_6443(recorded.live_groups()), talos=recorded.talos_docs(apid_source="0.0.0.0/0"))


def rendered_tree(tmp_path):
    talos = tmp_path / "talos"
    talos.mkdir()
    (talos / "lab-cp1.yaml").write_text(
        "version: v1alpha1\n---\napiVersion: v1alpha1\nkind: NetworkDefaultActionConfig\ningress: block\n---\n"
        "apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: apid\nportSelector:\n  ports: [50000]\n  protocol: tcp\n"
        "ingress:\n  - subnet: 0.0.0.0/0\n")
    return str(tmp_path)


def test_the_stored_schemas_are_the_upstream_files():
    for name in schemas.SHA256:
        schemas.load(name)  # asserts the sha256 of tests/schemas/README.md


def test_the_oscal_token_pattern_is_translated_exactly():
    pattern = schemas.python_pattern(r"^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$")
    import re
    assert re.search(pattern, "perim-01") and re.search(pattern, "Åsa_2") and re.search(pattern, "x\u0663")  # Arabic-Indic 3 is N
    assert not re.search(pattern, "1abc") and not re.search(pattern, "a b") and not re.search(pattern, "-a")
    with pytest.raises(ValueError):
        schemas.python_pattern(r"\p{Lu}")


def test_sarif_of_a_passing_and_a_failing_run_is_valid_sarif_2_1_0(sarif_schema):
    for evidence in (recorded.evidence(), broken()):
        document = sarif.render(judged(evidence), "lab", str(REPO), "0.1.0", oscal.timestamp(NOW))
        assert schemas.errors(sarif_schema, document) == []
        assert document["version"] == "2.1.0" and document["$schema"].endswith("sarif-schema-2.1.0.json")


def test_sarif_locates_a_live_finding_at_the_inventory_line_that_declares_the_group(sarif_schema):
    document = sarif.render(judged(broken()), "lab", str(REPO), "0.1.0")
    results = [r for r in document["runs"][0]["results"] if r["ruleId"] == "PERIM-01"]
    assert len(results) == 1
    physical = results[0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "inventories/lab/group_vars/all/netsec.yml", "uriBaseId": "PROJECTROOT"}
    line = (recorded.INVENTORY / "group_vars" / "all" / "netsec.yml").read_text().splitlines()[physical["region"]["startLine"] - 1]
    assert line.strip() == "loadbalancer:"
    assert document["runs"][0]["originalUriBaseIds"]["PROJECTROOT"]["uri"] == "file://%s/" % REPO


def test_sarif_locates_a_static_finding_at_the_rendered_file_and_line(tmp_path):
    render_dir = rendered_tree(tmp_path)
    document = sarif.render(judged(broken(), render_dir), "lab", str(REPO), "0.1.0")
    result = [r for r in document["runs"][0]["results"] if r["ruleId"] == "TALOS-01"][0]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "file://%s/talos/lab-cp1.yaml" % tmp_path
    assert (tmp_path / "talos" / "lab-cp1.yaml").read_text().splitlines()[physical["region"]["startLine"] - 1] == "name: apid"
    assert result["properties"]["evidence_level"] == "static"
    assert result["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "Talos node lab-cp1"}]


def test_sarif_has_a_result_with_the_evidence_level_for_every_control():
    document = sarif.render(judged(broken()), "lab", str(REPO), "0.1.0")
    run = document["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [c for c, dummy in evaluators.EVALUATORS]
    kinds = dict((r["ruleId"], (r["kind"], r["properties"]["evidence_level"])) for r in run["results"])
    assert kinds["PERIM-01"] == ("fail", "live") and kinds["WL-01"] == ("pass", "static")
    assert kinds["TALOS-02"] == ("notApplicable", "not_applicable")
    wl01 = [r for r in run["tool"]["driver"]["rules"] if r["id"] == "WL-01"][0]
    assert "CIS-5.3.2" in wl01["properties"]["tags"]


def test_oscal_assessment_results_are_valid_oscal_1_1_2(oscal_schema):
    for evidence in (recorded.evidence(), broken()):
        document = oscal.render(judged(evidence), "lab", NOW, tool_version="0.1.0")
        assert schemas.errors(oscal_schema, document) == []
        assert document["assessment-results"]["metadata"]["oscal-version"] == "1.1.2"


def test_oscal_the_schema_really_rejects_a_broken_document(oscal_schema):
    document = oscal.render(judged(), "lab", NOW)
    del document["assessment-results"]["results"][0]["reviewed-controls"]
    document["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] = "maybe"
    found = schemas.errors(oscal_schema, document)
    assert found, "the validator accepts anything"


def test_oscal_findings_carry_status_and_evidence_level_per_control():
    document = oscal.render(judged(broken()), "lab", NOW)
    result = document["assessment-results"]["results"][0]
    findings = dict((f["target"]["target-id"], f) for f in result["findings"])
    assert findings["perim-01"]["target"]["status"]["state"] == "not-satisfied"
    assert findings["wl-01"]["target"]["status"] == {"state": "satisfied", "reason": "pass"}
    assert findings["talos-02"]["target"]["implementation-status"] == {"state": "not-applicable"}
    levels = dict((f["target"]["target-id"], [p["value"] for p in f["props"] if p["name"] == "evidence-level"][0]) for f in result["findings"])
    assert levels["perim-01"] == "live" and levels["talos-01"] == "static" and levels["talos-02"] == "not_applicable"
    methods = dict((o["title"].split(" ")[0], o["methods"]) for o in result["observations"])
    assert methods["PERIM-01"] == ["TEST"] and methods["WL-01"] == ["EXAMINE"]
    cis = [p["value"] for p in findings["wl-01"]["props"] if p["name"] == "cis-kubernetes-benchmark"]
    assert cis == ["5.3.2"]


def test_outputs_are_deterministic_for_equal_input():
    a, b = judged(broken()), judged(broken())
    assert oscal.dumps(oscal.render(a, "lab", NOW)) == oscal.dumps(oscal.render(b, "lab", NOW))
    assert sarif.dumps(sarif.render(a, "lab", str(REPO))) == sarif.dumps(sarif.render(b, "lab", str(REPO)))


def test_the_evidence_level_reaches_markdown_html_junit_and_report_json():
    controls = judged()
    md = report.render_markdown("t", "lab", NOW, controls)
    assert "| TALOS-01 Talos host firewall blocks by default and opens only the port model's flows | nodes | STATIC | static |" in md
    assert "| PERIM-01 Stateful default-deny inbound; no ingress rule beyond the port model | perimeter | PASS | live |" in md
    assert "## TALOS-01 Talos host firewall blocks by default and opens only the port model's flows: STATIC" in md
    assert "- CIS Kubernetes Benchmark 5.3.2: Ensure that all Namespaces have NetworkPolicies defined" in md
    html = report.render_html("t", "lab", NOW, controls)
    assert "<td>STATIC</td><td>static</td>" in html and "<td>PASS</td><td>live</td>" in html
    root = ET.fromstring(report.render_junit("t", "lab", controls))
    props = {}
    for case in root.iter("testcase"):
        props[case.get("name").split(" ")[0]] = [(p.get("name"), p.get("value")) for p in case.iter("property")]
    assert ("evidence_level", "live") in props["PERIM-01"] and ("evidence_level", "static") in props["WL-01"]
    assert ("evidence_level", "not_applicable") in props["TALOS-02"] and ("cis", "5.3.2") in props["WL-01"]
    document = drift.report_document(controls, "lab", NOW, mapping.frameworks())
    assert dict((c["id"], c["evidence_level"]) for c in document["controls"])["TALOS-01"] == "static"
    json.dumps(document)


_VALIDATORS = {}


def validators():
    if not _VALIDATORS:
        _VALIDATORS.update(sarif=schemas.sarif_validator(), oscal=schemas.oscal_validator())
    return _VALIDATORS["sarif"], _VALIDATORS["oscal"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["\r", " a", "a\nb", "\x00", "<script>", "\u2028"]) | st.text(min_size=1, max_size=40))
def test_hostile_drift_text_keeps_sarif_and_oscal_valid(payload):
    sarif_schema, oscal_schema = validators()
    control = {"id": "X-01", "title": payload, "layer": payload, "status": "fail", "evidence": {"k": payload},
               "source": payload, "drift": [payload], "evidence_level": "static"}
    controls = report.parse_controls([control])
    assert schemas.errors(sarif_schema, sarif.render(controls, payload, str(REPO))) == []
    assert schemas.errors(oscal_schema, oscal.render(controls, payload, NOW)) == []
