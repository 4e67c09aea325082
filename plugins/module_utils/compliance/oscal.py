# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controls -> an OSCAL 1.1.2 assessment-results document. Pure; deterministic for equal input
(UUIDs are name-based, from the environment, the control and the report's content)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import uuid

from ansible_collections.safespring.netsec.plugins.module_utils.compliance import mapping

OSCAL_VERSION = "1.1.2"
NS = "https://github.com/safespring/ansible-collection-netsec/ns/oscal"
# The namespace of this collection's name-based UUIDs (uuid5 of the collection's URL).
_UUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/safespring/ansible-collection-netsec")

# Evidence level -> OSCAL observation method: live evidence is a test of the running system,
# static evidence an examination of rendered artifacts.
_METHODS = {"live": "TEST", "static": "EXAMINE", "not_applicable": "UNKNOWN"}


def _uuid(*parts):
    return str(uuid.uuid5(_UUID_NS, "\x00".join(parts)))


def timestamp(generated_at):
    """'2026-12-04 19:00:00Z' (the report's form) -> '2026-12-04T19:00:00Z' (RFC 3339, as OSCAL wants)."""
    text = str(generated_at).strip().replace(" ", "T", 1)
    return text if text.endswith("Z") or "+" in text[10:] else text + "Z"


def _line(text):
    """OSCAL's string and markup-line fields take no leading/trailing or line-breaking whitespace: one line, never empty."""
    return " ".join(str(text).split()) or "-"


def _prop(name, value):
    return {"name": name, "ns": NS, "value": _line(value)}


def _evidence_text(evidence):
    return evidence if isinstance(evidence, str) else json.dumps(evidence, sort_keys=True, default=str)


def render(controls, environment, generated_at, title="Network-security baseline compliance", tool_version="0.0.0"):
    when = timestamp(generated_at)
    digest = hashlib.sha256(json.dumps([[c["id"], c["status"], c.get("evidence_level"), c.get("drift")] for c in controls],
                                       sort_keys=True).encode("utf-8")).hexdigest()
    plan_uuid = _uuid("plan", environment)
    observations, findings = [], []
    for control in controls:
        level = control.get("evidence_level", "live")
        obs_uuid = _uuid("observation", environment, digest, control["id"])
        observation = {
            "uuid": obs_uuid,
            "title": _line("%s evidence" % control["id"]),
            "description": "%s. Source: %s." % (control["title"], control.get("source") or "-"),
            "methods": [_METHODS[level]],
            "props": [_prop("evidence-level", level), _prop("layer", control["layer"])],
            "collected": when,
            "relevant-evidence": [{"description": _evidence_text(control.get("evidence"))[:4000] or "-"}],
        }
        observations.append(observation)
        if control["status"] in ("pass", "static"):
            # static: met by the rendered files; the observation's method (EXAMINE) and evidence-level say so.
            status = {"state": "satisfied", "reason": "pass"}
        elif control["status"] == "fail":
            status = {"state": "not-satisfied", "reason": "fail", "remarks": "; ".join(control.get("drift") or []) or "control failed"}
        else:
            status = {"state": "satisfied", "reason": "other", "remarks": "not applicable: %s" % _evidence_text(control.get("evidence"))[:500]}
        target = {"type": "objective-id", "target-id": control["id"].lower(), "status": status,
                  "props": [_prop("evidence-level", level)]}
        if control["status"] == "not_applicable":
            target["implementation-status"] = {"state": "not-applicable"}
        props = [_prop("evidence-level", level), _prop("layer", control["layer"])]
        props += [dict(_prop("cis-kubernetes-benchmark", i["id"]), remarks=i["title"]) for i in control.get("cis") or []]
        props += [dict(_prop("nsa-cisa-hardening", i["id"]), remarks=i["title"]) for i in control.get("nsa") or []]
        findings.append({
            "uuid": _uuid("finding", environment, digest, control["id"]),
            "title": _line("%s %s" % (control["id"], control["title"])),
            "description": control.get("requirement") or control["title"],
            "props": props,
            "target": target,
            "related-observations": [{"observation-uuid": obs_uuid}],
        })
    frameworks = mapping.frameworks()
    return {"assessment-results": {
        "uuid": _uuid("assessment-results", environment, digest, when),
        "metadata": {
            "title": _line("%s (%s)" % (title, environment)),
            "last-modified": when,
            "version": tool_version,
            "oscal-version": OSCAL_VERSION,
            "props": [_prop("environment", environment)],
        },
        "import-ap": {"href": "#%s" % plan_uuid},
        "results": [{
            "uuid": _uuid("result", environment, digest, when),
            "title": _line("verify.yml on %s" % environment),
            "description": "Controls of the safespring.netsec baseline judged on the evidence verify.yml collected; "
                           "frameworks mapped: %s %s; %s %s." % (
                               frameworks["cis"]["name"], frameworks["cis"]["version"], frameworks["nsa"]["name"], frameworks["nsa"]["version"]),
            "start": when,
            "end": when,
            "reviewed-controls": {"control-selections": [{"include-controls": [{"control-id": c["id"].lower()} for c in controls]}]},
            "observations": observations,
            "findings": findings,
        }],
        "back-matter": {"resources": [{
            "uuid": plan_uuid,
            "title": "safespring.netsec playbooks/verify.yml",
            "description": "The assessment plan: the read-only verify playbook and the controls it evaluates "
                           "(plugins/module_utils/compliance/evaluators.py).",
        }]},
    }}


def dumps(document):
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
