# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.json (the machine-readable report) and the drift report: what changed since the previous
report, control by control. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

FORMAT = "safespring.netsec/compliance-report/v1"

# Kinds of change, in the order the drift report lists them (the worst first).
CHANGES = ("new_failure", "still_failing", "fixed", "evidence_level", "added", "removed")
_TITLES = {
    "new_failure": "New failures", "still_failing": "Still failing, drift changed", "fixed": "Fixed",
    "evidence_level": "Evidence level changed", "added": "New controls", "removed": "Controls no longer evaluated",
}


def report_document(controls, environment, generated_at, frameworks):
    """The report as data: every field of every control, as the other outputs show them."""
    keep = ("id", "title", "layer", "status", "evidence_level", "source", "evidence", "drift", "findings", "requirement", "cis", "nsa")
    counts = {}
    for control in controls:
        counts[control["status"]] = counts.get(control["status"], 0) + 1
    return {
        "format": FORMAT, "environment": environment, "generated_at": generated_at, "frameworks": frameworks,
        "summary": dict((s, counts.get(s, 0)) for s in ("pass", "static", "fail", "not_applicable")),
        "controls": [dict((k, c.get(k)) for k in keep) for c in controls],
    }


def load(text):
    """A previous report.json -> its document, or None (absent, unreadable, or another format)."""
    try:
        document = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT or not isinstance(document.get("controls"), list):
        return None
    return document


def compare(previous, current):
    """-> {"previous_generated_at", "generated_at", "changes": [{control, kind, before, after, added_drift, removed_drift}]}."""
    before = dict((c["id"], c) for c in (previous or {}).get("controls") or [] if isinstance(c, dict) and c.get("id"))
    changes = []
    for control in current["controls"]:
        old = before.pop(control["id"], None)
        if old is None:
            if previous is not None:
                changes.append(_change(control["id"], "added", None, control))
            continue
        added = [d for d in control.get("drift") or [] if d not in (old.get("drift") or [])]
        removed = [d for d in old.get("drift") or [] if d not in (control.get("drift") or [])]
        if control["status"] == "fail" and old.get("status") != "fail":
            changes.append(_change(control["id"], "new_failure", old, control, added, removed))
        elif control["status"] != "fail" and old.get("status") == "fail":
            changes.append(_change(control["id"], "fixed", old, control, added, removed))
        elif control["status"] == "fail" and (added or removed):
            changes.append(_change(control["id"], "still_failing", old, control, added, removed))
        elif old.get("status") != control["status"]:
            # pass <-> static <-> not_applicable: how much is proven changed, which is what the level says too.
            changes.append(_change(control["id"], "evidence_level", old, control))
        if old.get("evidence_level") != control.get("evidence_level") and not any(
                c["control"] == control["id"] and c["kind"] == "evidence_level" for c in changes):
            changes.append(_change(control["id"], "evidence_level", old, control))
    for cid in sorted(before):
        changes.append(_change(cid, "removed", before[cid], None))
    changes.sort(key=lambda c: (CHANGES.index(c["kind"]), c["control"]))
    return {"previous_generated_at": (previous or {}).get("generated_at"), "generated_at": current["generated_at"],
            "environment": current["environment"], "baseline": previous is None, "changes": changes}


def _state(control):
    return None if control is None else {"status": control.get("status"), "evidence_level": control.get("evidence_level")}


def _change(cid, kind, old, new, added=None, removed=None):
    return {"control": cid, "kind": kind, "before": _state(old), "after": _state(new),
            "title": (new or old or {}).get("title", ""), "added_drift": added or [], "removed_drift": removed or []}


def _state_text(state):
    return "-" if state is None else "%s (%s)" % (state["status"].upper(), state.get("evidence_level") or "?")


def render_markdown(result):
    lines = ["# Drift since the previous report", ""]
    if result["baseline"]:
        lines += ["Environment: **%s** · %s · first report: nothing to compare with." % (result["environment"], result["generated_at"]), ""]
        return "\n".join(lines)
    lines += ["Environment: **%s** · %s compared with %s · %d change(s)" % (
        result["environment"], result["generated_at"], result["previous_generated_at"], len(result["changes"])), ""]
    if not result["changes"]:
        return "\n".join(lines + ["No control changed.", ""])
    lines += ["| control | change | before | after |", "|---|---|---|---|"]
    for change in result["changes"]:
        title = change["title"].replace("|", "\\|")
        lines.append("| %s %s | %s | %s | %s |" % (change["control"], title, _TITLES[change["kind"]],
                                                   _state_text(change["before"]), _state_text(change["after"])))
    lines.append("")
    for change in result["changes"]:
        if change["added_drift"] or change["removed_drift"]:
            lines += ["## %s: %s" % (change["control"], _TITLES[change["kind"]]), ""]
            lines += ["- new: %s" % d for d in change["added_drift"]]
            lines += ["- gone: %s" % d for d in change["removed_drift"]]
            lines.append("")
    return "\n".join(lines)


def dumps(document):
    return json.dumps(document, indent=2, sort_keys=True, default=str) + "\n"
