# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance evidence: controls of the baseline -> Markdown, HTML and JUnit XML. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import json
import re
from xml.sax.saxutils import escape as _xml_escape, quoteattr as _xml_quoteattr

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.layered import picture

# pass: proven against a running system (live evidence); static: met, but judged from rendered
# files only (no running system to ask), never shown as a bare pass; fail; not_applicable.
STATUSES = ("pass", "static", "fail", "not_applicable")
STATUS_TEXT = {"pass": "PASS", "static": "STATIC", "fail": "FAIL", "not_applicable": "NOT_APPLICABLE"}
# How strong the evidence of a control is: read from the running system, judged on rendered files, or none here.
EVIDENCE_LEVELS = ("live", "static", "not_applicable")

# A control id is an anchor and a test name: a closed grammar, so no id can carry markup or control characters.
_CONTROL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
# Characters XML 1.0 cannot carry at all (not even as references): replaced, so the JUnit file always parses.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text):
    return _XML_INVALID.sub("\ufffd", str(text))


def escape(text):
    """HTML text and attribute escaping (quotes too) of a cleaned string."""
    return html.escape(_clean(text), quote=True)


def quoteattr(text):
    return '"%s"' % escape(text)


def _x(text):
    return _xml_escape(_clean(text))


def _xattr(text):
    return _xml_quoteattr(_clean(text), {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def parse_controls(controls, field="controls"):
    """Validate the controls list; every failure names its entry."""
    if not isinstance(controls, list) or not controls:
        raise NetsecError("must be a non-empty list of controls", field=field)
    seen = set()
    out = []
    for i, raw in enumerate(controls):
        here = field_path(field, i)
        if not isinstance(raw, dict):
            raise NetsecError("must be a mapping", field=here)
        for key in ("id", "title", "status"):
            if not raw.get(key):
                raise NetsecError("is required", field=field_path(here, key))
        if raw["status"] not in STATUSES:
            raise NetsecError("%r is not one of %s" % (raw["status"], ", ".join(STATUSES)), field=field_path(here, "status"))
        if not isinstance(raw["id"], str) or not _CONTROL_ID.match(raw["id"]):
            raise NetsecError("must be letters, digits, '.', '_', ':' or '-' (at most 64, starting with a letter or digit)",
                              field=field_path(here, "id"))
        if raw["id"] in seen:
            raise NetsecError("duplicate control id %r" % raw["id"], field=field_path(here, "id"))
        seen.add(raw["id"])
        drift = raw.get("drift") or []
        if not isinstance(drift, list):
            drift = [drift]
        status, level = _status_and_level(raw, here)
        out.append({
            "id": str(raw["id"]),
            "title": str(raw["title"]),
            "layer": str(raw.get("layer") or "baseline"),
            "status": status,
            "evidence": raw.get("evidence") if raw.get("evidence") is not None else "",
            "source": str(raw.get("source") or ""),
            "drift": [str(d) for d in drift],
            "evidence_level": level,
            "findings": _findings(raw.get("findings"), drift),
            "requirement": str(raw.get("requirement") or ""),
            "cis": _items(raw.get("cis")),
            "nsa": _items(raw.get("nsa")),
        })
    return out


def _status_and_level(raw, here):
    """Status and evidence level agree: a pass judged on rendered files is STATIC, never a bare PASS.

    A caller that names no level: static and not_applicable say theirs, anything else is what the caller read live.
    """
    status = raw["status"]
    default = {"static": "static", "not_applicable": "not_applicable"}.get(status, "live")
    level = raw.get("evidence_level") or default
    if level not in EVIDENCE_LEVELS:
        raise NetsecError("%r is not one of %s" % (level, ", ".join(EVIDENCE_LEVELS)), field=field_path(here, "evidence_level"))
    if (status == "not_applicable") != (level == "not_applicable") or (status == "static" and level != "static"):
        raise NetsecError("status %s cannot have %s evidence" % (status, level), field=field_path(here, "evidence_level"),
                          fix="not_applicable goes with not_applicable, static with static")
    if status == "pass" and level == "static":
        status = "static"
    return status, level


def _findings(findings, drift):
    """Findings as the evaluators give them ({message, locations}); a plain drift list becomes findings without location."""
    if isinstance(findings, list) and findings:
        return [{"message": str(f.get("message", "")), "locations": list(f.get("locations") or [])}
                for f in findings if isinstance(f, dict)]
    return [{"message": str(d), "locations": []} for d in drift]


def _items(items):
    return [{"id": str(i.get("id", "")), "title": str(i.get("title", ""))} for i in items or [] if isinstance(i, dict)]


def mapping_text(control):
    """'CIS 5.3.2; NSA/CISA network-policies' (or '-'), as every output shows it."""
    parts = ["CIS %s" % i["id"] for i in control.get("cis") or []] + ["NSA/CISA %s" % i["id"] for i in control.get("nsa") or []]
    return "; ".join(parts) or "-"


def summary(controls):
    counts = dict((s, 0) for s in STATUSES)
    for control in controls:
        counts[control["status"]] += 1
    return counts


def _evidence_text(evidence):
    if isinstance(evidence, str):
        return evidence
    return json.dumps(evidence, indent=2, sort_keys=True, default=str)


def generated_at_of(markdown):
    """The generation time a previous Markdown report states (None when there is none)."""
    for line in (markdown or "").splitlines():
        if line.startswith("Environment: ") and " · generated " in line:
            return line.split(" · generated ", 1)[1].split(" · ", 1)[0]
    return None


def render_markdown(title, environment, generated_at, controls):
    counts = summary(controls)
    lines = [
        "# %s" % title,
        "",
        "Environment: **%s** · generated %s · %s" % (environment, generated_at, _counts_text(counts)),
        "",
        "| control | layer | status | evidence | evidence source | CIS / NSA-CISA | drift |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in controls:
        lines.append("| %s %s | %s | %s | %s | %s | %s | %s |" % (
            c["id"], _md(c["title"]), c["layer"], STATUS_TEXT[c["status"]], c["evidence_level"], _md(c["source"]) or "-",
            _md(mapping_text(c)), _md("; ".join(c["drift"])) or "-"))
    lines.append("")
    for c in controls:
        lines += ["## %s %s: %s" % (c["id"], c["title"], STATUS_TEXT[c["status"]]), ""]
        lines += ["Evidence level: %s%s" % (c["evidence_level"], " · requirement: %s" % c["requirement"] if c["requirement"] else ""), ""]
        lines += ["- CIS Kubernetes Benchmark %s: %s" % (i["id"], i["title"]) for i in c["cis"]]
        lines += ["- NSA/CISA Kubernetes Hardening Guidance: %s" % i["title"] for i in c["nsa"]]
        if c["cis"] or c["nsa"]:
            lines.append("")
        if c["drift"]:
            lines += ["Drift:", ""] + ["- %s" % d for d in c["drift"]] + [""]
        lines += ["```", _evidence_text(c["evidence"]), "```", ""]
    return "\n".join(lines)


def _counts_text(counts):
    return "%d pass, %d static, %d fail, %d not applicable" % (counts["pass"], counts["static"], counts["fail"], counts["not_applicable"])


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


_CSS = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:4px 8px;text-align:left}.pass{background:#d4f4d4}.fail{background:#f8d0d0}"
        ".static{background:#dde8fb}.not_applicable{background:#eee}pre{background:#f6f6f6;padding:8px;overflow-x:auto}")


def render_html(title, environment, generated_at, controls, exposure=None):
    counts = summary(controls)
    rows = []
    for c in controls:
        rows.append("<tr class=%s><td><a href='#%s'>%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            quoteattr(c["status"]), escape(c["id"]), escape(c["id"]), escape(c["title"]), escape(c["layer"]),
            escape(STATUS_TEXT[c["status"]]), escape(c["evidence_level"]), escape(mapping_text(c)), escape("; ".join(c["drift"])) or "-"))
    details = []
    for c in controls:
        drift = "".join("<li>%s</li>" % escape(d) for d in c["drift"])
        items = "".join("<li>CIS Kubernetes Benchmark %s: %s</li>" % (escape(i["id"]), escape(i["title"])) for i in c["cis"])
        items += "".join("<li>NSA/CISA Kubernetes Hardening Guidance: %s</li>" % escape(i["title"]) for i in c["nsa"])
        details.append("<h2 id=%s class=%s>%s %s: %s</h2><p>evidence level: %s &middot; source: %s</p>%s%s%s<pre>%s</pre>" % (
            quoteattr(c["id"]), quoteattr(c["status"]), escape(c["id"]), escape(c["title"]), escape(STATUS_TEXT[c["status"]]),
            escape(c["evidence_level"]), escape(c["source"]) or "-",
            ("<p>requirement: %s</p>" % escape(c["requirement"])) if c["requirement"] else "",
            ("<ul class='map'>%s</ul>" % items) if items else "",
            ("<ul>%s</ul>" % drift) if drift else "", escape(_evidence_text(c["evidence"]))))
    # The layered exposure proof's pictures (EXP-01), drawn from its result data here, escaped like the rest.
    figures = picture.section(exposure) if exposure else ""
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title><style>%s%s</style></head><body>"
            "<h1>%s</h1><p>Environment: <b>%s</b> &middot; generated %s &middot; %s</p>"
            "<p>PASS: proven against the running system. STATIC: met by the rendered files, not proven live.</p>"
            "<table><tr><th>control</th><th>title</th><th>layer</th><th>status</th><th>evidence</th><th>CIS / NSA-CISA</th><th>drift</th></tr>"
            "%s</table>%s%s"
            "</body></html>\n") % (escape(title), _CSS, picture.CSS if figures else "", escape(title), escape(environment),
                                   escape(generated_at), escape(_counts_text(counts)), "".join(rows), figures, "".join(details))


def render_junit(title, environment, controls):
    counts = summary(controls)
    cases = []
    for c in controls:
        name = _xattr("%s %s" % (c["id"], c["title"]))
        classname = _xattr("%s.%s" % (environment, c["layer"]))
        body = ""
        if c["status"] == "fail":
            message = "; ".join(c["drift"]) or "control failed"
            body = "<failure message=%s>%s</failure>" % (_xattr(message), _x(_evidence_text(c["evidence"])))
        elif c["status"] == "not_applicable":
            body = "<skipped message=%s/>" % _xattr(_evidence_text(c["evidence"])[:500] or "not applicable")
        # Every case says how strong its evidence is (a passing case either way for pass and static) and what it maps to.
        props = [("evidence_level", c["evidence_level"]), ("layer", c["layer"])]
        props += [("cis", i["id"]) for i in c["cis"]] + [("nsa_cisa", i["id"]) for i in c["nsa"]]
        properties = "<properties>%s</properties>" % "".join("<property name=%s value=%s/>" % (_xattr(k), _xattr(v)) for k, v in props)
        cases.append("  <testcase classname=%s name=%s>%s%s</testcase>" % (classname, name, properties, body))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name=%s tests="%d" failures="%d" skipped="%d">\n%s\n</testsuite>\n'
            % (_xattr("%s (%s)" % (title, environment)), len(controls), counts["fail"], counts["not_applicable"], "\n".join(cases)))
