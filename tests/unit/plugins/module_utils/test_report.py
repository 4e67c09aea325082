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
    assert "1 pass, 1 fail, 1 not applicable" in html


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
