# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controls -> SARIF 2.1.0: one rule per control, one result per finding (kind fail), and one
result per passing or not-applicable control (kind pass / notApplicable), so that the evidence
level of every control reaches code-scanning tools. Pure; deterministic for equal input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible_collections.safespring.netsec.plugins.module_utils.compliance import mapping

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL = "safespring.netsec verify"
INFORMATION_URI = "https://github.com/safespring/ansible-collection-netsec"


def _rule(control):
    tags = ["layer:" + control["layer"]] + ["CIS-%s" % i["id"] for i in control.get("cis") or []] + \
        ["NSA:%s" % i["id"] for i in control.get("nsa") or []]
    help_lines = ["Requirement: %s" % (control.get("requirement") or "-")]
    help_lines += ["%s %s: %s" % (mapping.CIS["name"], i["id"], i["title"]) for i in control.get("cis") or []]
    help_lines += ["%s: %s" % (mapping.NSA["name"], i["title"]) for i in control.get("nsa") or []]
    return {
        "id": control["id"],
        "name": control["id"].replace("-", ""),
        "shortDescription": {"text": control["title"]},
        "fullDescription": {"text": control.get("requirement") or control["title"]},
        "help": {"text": "\n".join(help_lines)},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": tags, "layer": control["layer"], "cis": control.get("cis") or [], "nsa": control.get("nsa") or []},
    }


def _location(found):
    location = {}
    if found.get("uri"):
        artifact = {"uri": found["uri"] if found.get("uri_base") or not found["uri"].startswith("/") else "file://" + found["uri"]}
        if found.get("uri_base"):
            artifact["uriBaseId"] = found["uri_base"]
        physical = {"artifactLocation": artifact}
        if found.get("line"):
            physical["region"] = {"startLine": int(found["line"])}
        location["physicalLocation"] = physical
    if found.get("logical"):
        location["logicalLocations"] = [{"fullyQualifiedName": found["logical"]}]
    return location


def _fingerprint(*parts):
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def render(controls, environment, project_root=None, tool_version="0.0.0", generated_at=None):
    rules = [_rule(c) for c in controls]
    index = dict((c["id"], i) for i, c in enumerate(controls))
    results = []
    for control in controls:
        props = {"evidence_level": control.get("evidence_level", "live"), "source": control.get("source", ""), "layer": control["layer"]}
        if control["status"] == "fail":
            findings = control.get("findings") or [{"message": d} for d in control.get("drift") or []] or [{"message": "control failed"}]
            for finding in findings:
                location = _location(finding.get("location") or {})
                result = {
                    "ruleId": control["id"], "ruleIndex": index[control["id"]], "kind": "fail", "level": "error",
                    "message": {"text": finding["message"]},
                    "partialFingerprints": {"netsecFinding/v1": _fingerprint(environment, control["id"], finding["message"])},
                    "properties": props,
                }
                if location:
                    result["locations"] = [location]
                results.append(result)
        else:
            level_text = control.get("evidence_level", "live")
            results.append({
                "ruleId": control["id"], "ruleIndex": index[control["id"]],
                "kind": "notApplicable" if control["status"] == "not_applicable" else "pass", "level": "none",
                "message": {"text": "%s: %s (%s evidence)" % (control["id"], control["status"].upper(), level_text)},
                "properties": props,
            })
    run = {
        "tool": {"driver": {"name": TOOL, "version": tool_version, "informationUri": INFORMATION_URI, "rules": rules}},
        "automationDetails": {"id": "netsec-verify/%s/" % environment},
        "results": results,
        "properties": {"environment": environment},
    }
    if generated_at:
        run["invocations"] = [{"executionSuccessful": True, "endTimeUtc": generated_at}]
    if project_root:
        root = project_root.rstrip("/") + "/"
        run["originalUriBaseIds"] = {"PROJECTROOT": {"uri": "file://" + root}}
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def dumps(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
