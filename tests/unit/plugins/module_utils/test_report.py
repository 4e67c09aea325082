# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance evidence rendering."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import xml.etree.ElementTree as ET

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import report
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

CONTROLS = [
    {"id": "PERIM-01", "title": "Default deny inbound", "layer": "perimeter", "status": "pass", "evidence": {"groups": 4}},
    {"id": "PERIM-03", "title": "No sensitive port open to the world", "layer": "perimeter", "status": "fail",
     "evidence": "c1-loadbalancer: ingress tcp/6443 from 0.0.0.0/0", "drift": ["c1-loadbalancer opens kube-apiserver to 0.0.0.0/0"]},
    {"id": "TALOS-01", "title": "Talos firewall <block>", "layer": "nodes", "status": "not_applicable", "evidence": "no node"},
]


def test_junit_counts_failures_and_skips_and_names_the_drift():
    controls = report.parse_controls(CONTROLS)
    root = ET.fromstring(report.render_junit("t", "lab", controls))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("3", "1", "1")
    failure = root.find("testcase/failure")
    assert "kube-apiserver to 0.0.0.0/0" in failure.get("message")


def test_markdown_and_html_show_each_control_and_escape_markup():
    controls = report.parse_controls(CONTROLS)
    md = report.render_markdown("t", "lab", "now", controls)
    assert "| PERIM-03 No sensitive port open to the world | perimeter | FAIL |" in md
    html = report.render_html("t", "lab", "now", controls)
    assert "Talos firewall &lt;block&gt;" in html and "<block>" not in html
    assert "1 pass, 0 static, 1 fail, 1 not applicable" in html


def test_a_control_met_by_rendered_files_only_is_static_never_a_bare_pass():
    controls = report.parse_controls(CONTROLS + [{"id": "CNI-01", "title": "Cilium encrypts", "layer": "cni", "status": "static",
                                                  "evidence": "rendered values"}])
    md = report.render_markdown("t", "lab", "now", controls)
    assert "| CNI-01 Cilium encrypts | cni | STATIC |" in md and "1 pass, 1 static, 1 fail, 1 not applicable" in md
    assert "<tr class=\"static\">" in report.render_html("t", "lab", "now", controls)
    root = ET.fromstring(report.render_junit("t", "lab", controls))
    levels = dict((case.get("name").split(" ")[0], [p.get("value") for p in case.iter("property") if p.get("name") == "evidence_level"])
                  for case in root.iter("testcase"))
    # Every case names its level, the failing and the not applicable ones too.
    assert levels == {"PERIM-01": ["live"], "PERIM-03": ["live"], "TALOS-01": ["not_applicable"], "CNI-01": ["static"]}
    assert (root.get("failures"), root.get("skipped")) == ("1", "1")


@pytest.mark.parametrize("controls, field", [
    ([], "controls"),
    ([{"id": "A", "title": "t", "status": "maybe"}], "controls[0].status"),
    ([{"id": "A", "title": "t", "status": "pass"}, {"id": "A", "title": "u", "status": "pass"}], "controls[1].id"),
    ([{"title": "t", "status": "pass"}], "controls[0].id"),
])
def test_bad_controls_name_the_entry(controls, field):
    with pytest.raises(NetsecError) as err:
        report.parse_controls(controls)
    assert err.value.field == field


def test_the_generation_time_is_read_back_from_a_previous_report():
    controls = report.parse_controls(CONTROLS)
    md = report.render_markdown("t", "lab", "2026-11-26 10:00:00Z", controls)
    assert report.generated_at_of(md) == "2026-11-26 10:00:00Z"
    assert report.generated_at_of("no report") is None


# --- hostile input (issue 13): ids are typed, HTML is escaped everywhere, JUnit always parses ---

from html.parser import HTMLParser  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402

HOSTILE = ["<script>alert(1)</script>", "' onmouseover='alert(1)", '" onload="x', "a\x00b\x1bc\x08", "\u2028\u2029", "]]>&amp;"]


class _Tags(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, dummy in attrs]


def _structure(html_text):
    parser = _Tags()
    parser.feed(html_text)
    return parser.tags, sorted(set(parser.attrs))


@pytest.mark.parametrize("bad_id", ["x' onmouseover='alert(1)", "<script>", "A B", "A\x00", "", "-lead", "a" * 65, 7])
def test_control_id_outside_the_grammar_is_refused_with_its_field(bad_id):
    with pytest.raises(NetsecError) as err:
        report.parse_controls([{"id": bad_id, "title": "t", "status": "pass"}])
    assert err.value.field in ("controls[0].id",)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(HOSTILE) | st.text(min_size=1, max_size=30))
def test_hostile_text_adds_no_markup_and_junit_parses(payload):
    safe = {"id": "X-01", "title": "t", "layer": "l", "status": "fail", "evidence": "e", "source": "s", "drift": ["d"]}
    hostile = {"id": "X-01", "title": payload, "layer": payload, "status": "fail", "evidence": {"k": payload},
               "source": payload, "drift": [payload]}
    base = _structure(report.render_html("t", "lab", "now", report.parse_controls([safe])))
    got = _structure(report.render_html(payload, payload, payload, report.parse_controls([hostile])))
    assert got == base
    root = ET.fromstring(report.render_junit(payload, payload, report.parse_controls([hostile])).encode("utf-8"))
    assert len(root.findall("testcase/failure")) == 1
