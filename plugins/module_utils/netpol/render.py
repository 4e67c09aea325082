# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pictures of a Reachability for people who would rather look than read: a namespace
graph (Mermaid, DOT) and an endpoint matrix (Markdown, HTML). Pure text; no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine


def _compress(uni, kids, all_keys):
    """Port labels, with 'TCP/*' when every probed interval of a protocol is allowed."""
    out = []
    by_proto = {}
    for kid in kids:
        by_proto.setdefault(uni.keys[kid][0], []).append(kid)
    for proto in engine.PROTOCOLS:
        have = by_proto.get(proto)
        if not have:
            continue
        every = [k for k in all_keys if uni.keys[k][0] == proto]
        if len(every) > 1 and set(have) >= set(every):
            out.append("%s/*" % proto)
        else:
            out.extend(uni.key_label(k) for k in sorted(have, key=lambda k: uni.keys[k][1]))
    return out


def pair_ports(reach, scope):
    """{(src name, dst name): [port labels]} for flows that touch `scope` (a mask)."""
    uni = reach.universe
    pairs = {}
    for d, ep in enumerate(uni.endpoints):
        limit = uni.all_mask if scope >> d & 1 else scope
        for kid, mask in reach.allowed[d].items():
            for s in engine.iter_bits(mask & limit):
                pairs.setdefault((s, d), []).append(kid)
    out = {}
    for (s, d), kids in pairs.items():
        out[(uni.endpoints[s].name, uni.endpoints[d].name)] = _compress(uni, kids, uni.endpoints[d].keys)
    return out


def _group(uni, name):
    ep = uni.endpoints[uni.index[name]]
    if ep.kind == "pod":
        return ep.namespace
    if ep.kind == "cidr":
        return "cidr " + ep.name
    return ep.name


def namespace_edges(reach, scope):
    """{(src group, dst group): sorted port labels}: namespaces, CIDR atoms, FQDNs, entities."""
    uni = reach.universe
    edges = {}
    for (src, dst), ports in pair_ports(reach, scope).items():
        key = (_group(uni, src), _group(uni, dst))
        edges.setdefault(key, set()).update(ports)
    return dict((k, sorted(v)) for k, v in edges.items())


def _node_id(name):
    return "n_" + re.sub("[^A-Za-z0-9_]", "_", name)


def mermaid(edges, title="Allowed paths"):
    lines = ["---", "title: %s" % title, "---", "flowchart LR"]
    nodes = sorted(set(n for edge in edges for n in edge))
    for node in nodes:
        shape = '(["%s"])' if not node.startswith(("cidr ", "entity:")) and "." in node else '["%s"]'
        lines.append("  %s%s" % (_node_id(node), shape % node.replace('"', "'")))
    for (src, dst), ports in sorted(edges.items()):
        lines.append('  %s -->|"%s"| %s' % (_node_id(src), ", ".join(ports), _node_id(dst)))
    return "\n".join(lines) + "\n"


def dot(edges, title="Allowed paths"):
    lines = ["digraph segmentation {", '  label="%s"; rankdir=LR; node [shape=box, fontname="sans-serif"];' % title,
             '  edge [fontname="sans-serif", fontsize=10];']
    for node in sorted(set(n for edge in edges for n in edge)):
        style = ', style=dashed' if node.startswith(("cidr ", "entity:")) or "." in node else ""
        lines.append('  "%s" [label="%s"%s];' % (node, node, style))
    for (src, dst), ports in sorted(edges.items()):
        lines.append('  "%s" -> "%s" [label="%s"];' % (src, dst, "\\n".join(ports)))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _matrix_axes(pairs):
    sources = sorted(set(pair[0] for pair in pairs))
    dests = sorted(set(pair[1] for pair in pairs))
    return sources, dests


def markdown_matrix(pairs):
    """Rows: sources; columns: destinations; cells: allowed ports (blank = denied)."""
    sources, dests = _matrix_axes(pairs)
    if not pairs:
        return "_No allowed flows._\n"
    lines = ["| from \\ to | %s |" % " | ".join("`%s`" % d for d in dests),
             "|---|" + "---|" * len(dests)]
    for src in sources:
        cells = [", ".join(pairs.get((src, d), [])) for d in dests]
        lines.append("| `%s` | %s |" % (src, " | ".join(cells)))
    return "\n".join(lines) + "\n"


def _esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_matrix(pairs, title="Allowed flows"):
    sources, dests = _matrix_axes(pairs)
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"><title>%s</title>" % _esc(title),
           "<style>table{border-collapse:collapse;font:12px sans-serif}td,th{border:1px solid #bbb;padding:2px 4px}"
           "td.y{background:#cfc}td.n{background:#fee}th{background:#eee}</style></head><body>",
           "<h1>%s</h1><table><tr><th>from \\ to</th>%s</tr>" % (_esc(title), "".join("<th>%s</th>" % _esc(d) for d in dests))]
    for src in sources:
        cells = []
        for dst in dests:
            ports = pairs.get((src, dst))
            cells.append('<td class="y">%s</td>' % _esc(", ".join(ports)) if ports else '<td class="n"></td>')
        out.append("<tr><th>%s</th>%s</tr>" % (_esc(src), "".join(cells)))
    out.append("</table></body></html>")
    return "\n".join(out) + "\n"
