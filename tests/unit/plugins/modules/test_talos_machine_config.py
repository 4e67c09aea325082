# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""talos_machine_config's pure render(): every check runs before a file is written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.modules import talos_machine_config as M

from fixtures.talos import SCHEMA_PATHS

SCHEMA_113 = SCHEMA_PATHS["1.13"]
ADDRESSES = {"control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"], "loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5"]}


def params(**overrides):
    out = dict(dest="/nonexistent/cp1.yaml", role="control_plane", node="cp1", talos_version="1.13", cluster={"name": "c1"},
               addresses=ADDRESSES, firewall=True, default_action="block", admin_sources=[], hardening={}, patches=[],
               node_patches=[], schema_path=SCHEMA_113)
    out.update(overrides)
    return out


def test_render_reports_documents_rules_and_the_validated_release():
    docs, report = M.render(params(), None)
    assert report["validated_against"] == "1.13"
    assert report["documents"][:2] == ["v1alpha1", "NetworkDefaultActionConfig"]
    apid = [r for r in report["firewall_rules"] if r["name"] == "talos-apid"][0]
    assert apid == {"name": "talos-apid", "protocol": "tcp", "ports": [50000],
                    "sources": ["198.18.1.11/32", "198.18.1.21/32", "198.18.2.5/32"]}
    assert report["skipped_flows"][0]["service"] == "cilium-health-icmp"


@pytest.mark.parametrize("overrides, field, message", [
    ({"addresses": dict(ADDRESSES, loadbalancer=["198.18.1.300"])}, "addresses.loadbalancer[0]", "is not an IPv4/IPv6 address"),
    ({"role": "loadbalancer"}, "role", "is not a node role"),
    ({"cluster": None}, "cluster", "is required when firewall is true"),
    ({"cluster": {"name": "c1", "jump_host": {"enabled": False}}}, "firewall", "would lock out jump_host 198.18.2.5/32"),
    ({"admin_sources": ["203.0.113.7"]}, "firewall", "would lock out admin_sources 203.0.113.7/32"),
    ({"node_patches": [{"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "talos-apid", "$patch": "delete"}]},
     "firewall", "would lock out jump_host"),
    ({"patches": [{"machine": {"kubelet": {"extraArgs": {"v": 2}}}}]},
     "config.documents[0](v1alpha1).machine.kubelet.extraArgs.v", "is not valid under any of the given schemas"),
    ({"hardening": {"authentication": {"mode": "oidc_flags"}}}, "hardening.authentication.oidc.issuer_url", "is required"),
    ({"talos_version": "1.14", "schema_path": SCHEMA_113}, "hardening.kubernetes_version", "need an image"),
])
def test_bad_input_fails_in_render_naming_the_field(overrides, field, message):
    with pytest.raises(NetsecError) as err:
        M.render(params(**overrides), None)
    assert err.value.field == field and message in str(err.value)


def test_schema_of_the_wrong_release_is_refused():
    with pytest.raises(NetsecError, match="is the schema of Talos 1.13, not 1.14"):
        M.render(params(talos_version="1.14", hardening={"kubernetes_version": "1.35.0"}), None)


def test_base_text_that_is_not_yaml_names_base():
    with pytest.raises(NetsecError) as err:
        M.render(params(), "machine: [unclosed")
    assert err.value.field == "base"
