# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layered exposure proof as pictures for the HTML report (pure; every text escaped).

- A matrix per destination: one row per service, one column per source class. A cell is green
  when the path is open, white when it is blocked, and carries one small mark per layer
  (A allow, S stop, P partial, . not filtered by that layer); a red frame marks a finding.
- A graph (inline SVG): source classes on the left, destinations on the right, one edge per
  (source, destination) with an open path, labelled with its services; red dashed edges are
  findings (open but not declared, or declared but stopped).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html

POD_MATRIX_LIMIT = 40
LAYER_SHORT = {"security_groups": "SG", "haproxy": "HA", "talos": "TA", "cilium_host": "CH", "namespace_policies": "NP"}
MARK = {"allow": ("A", "#2e8b57"), "stop": ("S", "#c0392b"), "partial": ("P", "#e67e22"), "-": (".", "#999")}

CSS = (".xm td,.xm th{border:1px solid #bbb;padding:2px 4px;font-size:11px;text-align:center}"
       ".xm .open{background:#cdeccd}.xm .blocked{background:#fff}.xm .bad{outline:3px solid #d00;outline-offset:-3px}"
       ".xm .l{font-family:monospace;font-weight:bold;margin:0 1px}.xm th.svc{text-align:left}")


def _e(text):
    return html.escape(str(text), quote=True)


def _cell(path, layer_names):
    marks = "".join("<span class='l' style='color:%s' title=%s>%s</span>" % (
        MARK[path["layers"].get(name, "-")][1], '"%s"' % _e("%s: %s" % (name, path["layers"].get(name, "-"))),
        MARK[path["layers"].get(name, "-")][0]) for name in layer_names)
    classes = ("open" if path["open"] != "stop" else "blocked") + (" bad" if path["problems"] else "")
    findings = ("; " + "; ".join(path["problems"])) if path["problems"] else ""
    title = "%s -> %s %s: %s%s" % (path["source"], path["destination"], path["port"], path["open"], findings)
    return "<td class=%s title=%s>%s</td>" % ('"%s"' % classes, '"%s"' % _e(title), marks)


def matrices(paths, layers):
    """One table per destination (nodes and load balancers), services x source classes."""
    names = [layer["name"] for layer in layers if layer.get("read") and layer["name"] != "namespace_policies"]
    legend = " ".join("<b>%s</b> %s" % (_e(LAYER_SHORT.get(n, n)), _e(n)) for n in names)
    out = ["<p class='xm'>Per cell, one mark per layer in the order %s: "
           "<span class='l' style='color:#2e8b57'>A</span> allows, <span class='l' style='color:#c0392b'>S</span> stops, "
           "<span class='l' style='color:#e67e22'>P</span> partly, <span class='l' style='color:#999'>.</span> does not filter. "
           "Green cell: open end to end. Red frame: a finding (hover for it).</p>" % legend]
    node_paths = [p for p in paths if not str(p["destination"]).startswith("pods:")]
    destinations = []
    for p in node_paths:
        if p["destination"] not in destinations:
            destinations.append(p["destination"])
    for destination in destinations:
        rows = [p for p in node_paths if p["destination"] == destination]
        sources, services = [], []
        for p in rows:
            if p["source"] not in sources:
                sources.append(p["source"])
            if (p["service"], p["port"]) not in services:
                services.append((p["service"], p["port"]))
        index = dict(((p["source"], p["service"]), p) for p in rows)
        head = "".join("<th>%s</th>" % _e(s) for s in sources)
        body = "".join("<tr><th class='svc'>%s <small>%s</small></th>%s</tr>" % (
            _e(svc), _e(port), "".join(_cell(index[(s, svc)], names) for s in sources)) for svc, port in services)
        out.append("<h3>to %s</h3><table class='xm'><tr><th>service \\ from</th>%s</tr>%s</table>" % (_e(destination), head, body))
    pod_rows = [p for p in paths if str(p["destination"]).startswith("pods:")]
    namespaces = sorted(set(p["destination"] for p in pod_rows))
    if len(namespaces) > POD_MATRIX_LIMIT:
        # A matrix of hundreds of namespaces is read by nobody: the findings and the graph carry them.
        out.append("<p>%d namespaces: the pod matrix is drawn up to %d; findings are listed with EXP-01.</p>" % (len(namespaces), POD_MATRIX_LIMIT))
        pod_rows = []
    if pod_rows:
        sources, dests = [], []
        for p in pod_rows:
            if p["source"] not in sources:
                sources.append(p["source"])
            if p["destination"] not in dests:
                dests.append(p["destination"])
        cells = {}
        for p in pod_rows:
            cell = cells.setdefault((p["source"], p["destination"]), {"open": [], "bad": []})
            if p["open"] != "stop":
                cell["open"].append(p["port"])
            cell["bad"] += p["problems"]
        head = "".join("<th>%s</th>" % _e(d) for d in dests)
        body = []
        for s in sources:
            tds = []
            for d in dests:
                cell = cells.get((s, d), {"open": [], "bad": []})
                tds.append("<td class=%s title=%s>%s</td>" % (
                    '"%s"' % (("open" if cell["open"] else "blocked") + (" bad" if cell["bad"] else "")),
                    '"%s"' % _e("; ".join(cell["bad"]) or ", ".join(cell["open"]) or "blocked"), _e(", ".join(cell["open"]) or "")))
            body.append("<tr><th class='svc'>%s</th>%s</tr>" % (_e(s), "".join(tds)))
        out.append("<h3>between pods (namespace policies)</h3><table class='xm'><tr><th>from \\ to</th>%s</tr>%s</table>"
                   % (head, "".join(body)))
    return "".join(out)


def graph(paths):
    """Inline SVG: sources left, destinations right, an edge per (source, destination) with open or failing paths."""
    edges = {}
    pod_names = set(p["destination"] for p in paths if str(p["destination"]).startswith("pods:"))
    many = len(pod_names) > POD_MATRIX_LIMIT

    def node(name):
        # Hundreds of namespaces collapse into one node each side (the matrix and findings name them).
        return "pods (%d namespaces)" % len(pod_names) if many and str(name).startswith("pods:") else name

    for p in paths:
        if p["open"] == "stop" and not p["problems"]:
            continue
        edge = edges.setdefault((node(p["source"]), node(p["destination"])), {"services": [], "bad": False})
        if p["service"] not in edge["services"]:
            edge["services"].append(p["service"])
        edge["bad"] = edge["bad"] or bool(p["problems"])
    sources, dests = [], []
    for (s, d) in edges:
        if s not in sources:
            sources.append(s)
        if d not in dests:
            dests.append(d)
    row, width = 34, 980
    height = max(len(sources), len(dests), 1) * row + 40
    y_src = dict((s, 30 + i * row) for i, s in enumerate(sources))
    y_dst = dict((d, 30 + i * row) for i, d in enumerate(dests))
    parts = ["<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='11'>" % (width, height)]
    for (s, d), edge in sorted(edges.items(), key=lambda kv: kv[1]["bad"]):
        x1, y1, x2, y2 = 190, y_src[s], width - 190, y_dst[d]
        label = ", ".join(edge["services"][:4]) + (" +%d" % (len(edge["services"]) - 4) if len(edge["services"]) > 4 else "")
        color, dash = ("#d00", " stroke-dasharray='6,3'") if edge["bad"] else ("#2e8b57", "")
        parts.append("<g><title>%s</title><line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='1.5'%s/>"
                     "<text x='%d' y='%d' fill='%s'>%s</text></g>" % (
                         _e("%s -> %s: %s" % (s, d, ", ".join(edge["services"]))), x1, y1, x2, y2, color, dash,
                         (x1 + x2) // 2 - 80, (y1 + y2) // 2 - 3, color, _e(label)))
    for name, y in y_src.items():
        parts.append("<rect x='10' y='%d' width='180' height='22' rx='4' fill='#eef' stroke='#446'/><text x='18' y='%d'>%s</text>"
                     % (y - 11, y + 4, _e(name)))
    for name, y in y_dst.items():
        parts.append("<rect x='%d' y='%d' width='180' height='22' rx='4' fill='#efe' stroke='#464'/><text x='%d' y='%d'>%s</text>"
                     % (width - 190, y - 11, width - 182, y + 4, _e(name)))
    parts.append("</svg>")
    return "".join(parts)


def section(exposure):
    """The HTML section of the report for one proof result ({paths, layers, summary})."""
    summary = exposure.get("summary") or {}
    paths = exposure.get("paths") or []
    layers = exposure.get("layers") or []
    read = ", ".join(layer["title"] for layer in layers if layer.get("read")) or "none"
    return ("<h2 id='exposure'>Layered exposure</h2><p>%s paths: %s open, %s blocked, %s with a finding. Layers read: %s.</p>"
            "<h3>graph: open paths (green) and findings (red, dashed)</h3>%s%s" % (
                _e(summary.get("paths", len(paths))), _e(summary.get("open", "?")), _e(summary.get("blocked", "?")),
                _e(summary.get("failing_paths", "?")), _e(read), graph(paths), matrices(paths, layers)))
