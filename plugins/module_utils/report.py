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

STATUSES = ("pass", "fail", "not_applicable")

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
        out.append({
            "id": str(raw["id"]),
            "title": str(raw["title"]),
            "layer": str(raw.get("layer") or "baseline"),
            "status": raw["status"],
            "evidence": raw.get("evidence") if raw.get("evidence") is not None else "",
            "source": str(raw.get("source") or ""),
            "drift": [str(d) for d in drift],
        })
    return out


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
        "Environment: **%s** · generated %s · %d pass, %d fail, %d not applicable" % (
            environment, generated_at, counts["pass"], counts["fail"], counts["not_applicable"]),
        "",
        "| control | layer | status | evidence source | drift |",
        "|---|---|---|---|---|",
    ]
    for c in controls:
        lines.append("| %s %s | %s | %s | %s | %s |" % (
            c["id"], _md(c["title"]), c["layer"], c["status"].upper(), _md(c["source"]) or "-",
            _md("; ".join(c["drift"])) or "-"))
    lines.append("")
    for c in controls:
        lines += ["## %s %s: %s" % (c["id"], c["title"], c["status"].upper()), ""]
        if c["drift"]:
            lines += ["Drift:", ""] + ["- %s" % d for d in c["drift"]] + [""]
        lines += ["```", _evidence_text(c["evidence"]), "```", ""]
    return "\n".join(lines)


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


_CSS = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
        "padding:4px 8px;text-align:left}.pass{background:#d4f4d4}.fail{background:#f8d0d0}"
        ".not_applicable{background:#eee}pre{background:#f6f6f6;padding:8px;overflow-x:auto}")


def render_html(title, environment, generated_at, controls):
    counts = summary(controls)
    rows = []
    for c in controls:
        rows.append("<tr class=%s><td><a href='#%s'>%s</a></td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
            quoteattr(c["status"]), escape(c["id"]), escape(c["id"]), escape(c["title"]), escape(c["layer"]),
            escape(c["status"].upper()), escape("; ".join(c["drift"])) or "-"))
    details = []
    for c in controls:
        drift = "".join("<li>%s</li>" % escape(d) for d in c["drift"])
        details.append("<h2 id=%s class=%s>%s %s: %s</h2><p>source: %s</p>%s<pre>%s</pre>" % (
            quoteattr(c["id"]), quoteattr(c["status"]), escape(c["id"]), escape(c["title"]), escape(c["status"].upper()),
            escape(c["source"]) or "-", ("<ul>%s</ul>" % drift) if drift else "", escape(_evidence_text(c["evidence"]))))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title><style>%s</style></head><body>"
            "<h1>%s</h1><p>Environment: <b>%s</b> &middot; generated %s &middot; %d pass, %d fail, %d not applicable</p>"
            "<table><tr><th>control</th><th>title</th><th>layer</th><th>status</th><th>drift</th></tr>%s</table>%s"
            "</body></html>\n") % (escape(title), _CSS, escape(title), escape(environment), escape(generated_at),
                                   counts["pass"], counts["fail"], counts["not_applicable"], "".join(rows), "".join(details))


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
        cases.append("  <testcase classname=%s name=%s>%s</testcase>" % (classname, name, body))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name=%s tests="%d" failures="%d" skipped="%d">\n%s\n</testsuite>\n'
            % (_xattr("%s (%s)" % (title, environment)), len(controls), counts["fail"], counts["not_applicable"], "\n".join(cases)))
