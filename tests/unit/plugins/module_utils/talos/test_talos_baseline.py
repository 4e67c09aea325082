# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The merged config is checked against the baseline: whatever a patch does, the result must
block by default, keep sensitive ports within the port model, and keep off what hardening
turns off, unless a named waiver allows it. Refusals name the patch (or option) at fault."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import baseline as B
from ansible_collections.safespring.netsec.plugins.modules import talos_machine_config as M

from fixtures.talos import BASES

ADDRESSES = {"control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"], "loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5"]}
DEFAULT_ACTION = {"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig"}


def params(**overrides):
    out = dict(dest="/nonexistent/cp1.yaml", role="control_plane", node="cp1", talos_version="1.13", cluster={"name": "c1"},
               addresses=ADDRESSES, firewall=True, default_action="block", admin_sources=[], hardening={}, patches=[],
               node_patches=[], schema_path=None, waivers=[], baseline_waivers=[])
    out.update(overrides)
    return out


def refused(**overrides):
    with pytest.raises(NetsecError) as err:
        M.render(params(**overrides), overrides.pop("base_text", None))
    return err.value


def rule(name, ports, subnets, protocol="tcp"):
    return {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": name,
            "portSelector": {"ports": ports, "protocol": protocol}, "ingress": [{"subnet": s} for s in subnets]}


# --- the firewall stays on -------------------------------------------------------------------

def test_default_action_accept_is_refused_naming_the_option():
    err = refused(default_action="accept")
    assert err.field == "default_action" and "ingress is 'accept'" in err.message
    assert "check: default-action" in err.fix


@pytest.mark.parametrize("option", ["patches", "node_patches"])
def test_a_patch_setting_ingress_accept_is_refused_naming_the_patch(option):
    err = refused(**{option: [{"machine": {"nodeLabels": {"a": "b"}}}, dict(DEFAULT_ACTION, ingress="accept")]})
    assert err.field == option + "[1]" and "NetworkDefaultActionConfig.ingress is 'accept'" in err.message


def test_deleting_the_default_action_document_is_refused():
    err = refused(node_patches=[dict(DEFAULT_ACTION, **{"$patch": "delete"})])
    assert err.field == "node_patches[0]" and "NetworkDefaultActionConfig is missing" in err.message


def test_json6902_cannot_rename_the_default_action_document_away():
    patch = {"type": "json6902", "document": {"kind": "NetworkDefaultActionConfig"},
             "patch": [{"op": "replace", "path": "/kind", "value": "NetworkRuleConfig"}]}
    err = refused(patches=[patch])
    assert err.field == "patches[0]" and "may not replace a document or change its kind" in err.message


def test_json6902_replacing_ingress_is_refused():
    patch = {"document": {"kind": "NetworkDefaultActionConfig"}, "patch": [{"op": "replace", "path": "/ingress", "value": "accept"}]}
    assert refused(patches=[patch]).field == "patches[0]"


def test_without_rendered_firewall_the_base_must_block():
    err = refused(firewall=False)
    assert err.field == "firewall" and "is missing" in err.message


def test_a_later_patch_that_restores_block_is_accepted():
    M.render(params(patches=[dict(DEFAULT_ACTION, ingress="accept"), dict(DEFAULT_ACTION, ingress="block")]), None)


# --- sensitive ports: not to the world, not wider than the port model -------------------------

WORLD_SPLITS = [
    ["0.0.0.0/0"], ["0.0.0.0/1", "128.0.0.0/1"], ["::/0"], ["::/1", "8000::/1"], ["2000::/3"],
    ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
]


@pytest.mark.parametrize("sources", WORLD_SPLITS, ids=["+".join(s) for s in WORLD_SPLITS])
@pytest.mark.parametrize("service", ["etcd", "talos-apid", "kubelet", "kube-apiserver", "talos-trustd"])
def test_a_sensitive_port_opened_to_the_world_in_any_split_is_refused(service, sources):
    svc = pm.SERVICES[service]
    err = refused(patches=[rule("extra-" + service, ["%d-%d" % (svc.port_min, svc.port_max)], sources)])
    assert err.field == "patches[0]"
    assert "opens %s" % service in err.message or "admits" in err.message


def test_all_ports_to_the_world_is_refused_and_names_a_sensitive_service():
    err = refused(patches=[rule("everything", ["1-65535"], ["0.0.0.0/0", "::/0"])])
    assert err.field == "patches[0]" and "NetworkRuleConfig/everything" in err.message
    assert len(err.extra["baseline_problems"]) >= 5, "every sensitive service is reported"


def test_a_rule_without_sources_counts_as_every_address():
    doc = rule("open", [10250], [])
    err = refused(patches=[doc])
    assert "opens kubelet" in err.message and err.field == "patches[0]"


def test_sources_appended_to_the_rendered_etcd_rule_beyond_the_port_model_are_refused():
    err = refused(node_patches=[rule("etcd", ["2379-2380"], ["10.0.0.0/16"])])
    assert err.field == "node_patches[0]"
    assert "admits 10.0.0.0/16 to etcd (tcp/2379-2380): beyond the port model's sources for control_plane" in err.message


def test_widening_a_rule_to_other_ports_opens_them_to_its_sources_and_is_refused():
    # kubelet's sources include the workers; etcd on the control plane is for the control plane only.
    patch = {"type": "json6902", "document": {"kind": "NetworkRuleConfig", "name": "kubelet"},
             "patch": [{"op": "replace", "path": "/portSelector/ports", "value": ["2379-10250"]}]}
    err = refused(patches=[patch])
    assert "admits 198.18.1.22/32 to etcd" in err.message and err.field == "patches[0]"


def test_etcd_on_a_worker_has_no_port_model_source_at_all():
    err = refused(role="worker", patches=[rule("etcd", ["2379-2380"], ["198.18.1.21/32"])])
    assert "beyond no IPv4 source in the port model" in err.message


def test_admin_sources_count_as_apid_sources_on_the_control_plane():
    # A patch replaces the rule's ingress (Talos' merge), so it keeps the jump host in.
    M.render(params(admin_sources=["203.0.113.7"], patches=[rule("talos-apid", [50000], ["203.0.113.7/32", "198.18.2.5/32"])]), None)
    err = refused(admin_sources=["203.0.113.7"], patches=[rule("talos-apid", [50000], ["203.0.113.0/24", "198.18.2.5/32"])])
    assert "admits 203.0.113.0/30, 203.0.113.4/31, 203.0.113.6/32, 203.0.113.8/29 and 4 more to talos-apid" in err.message


def test_a_patch_that_replaces_the_apid_sources_without_the_jump_host_locks_it_out():
    # Talos replaces NetworkRuleConfig.ingress on merge: the jump host is no longer admitted.
    with pytest.raises(NetsecError, match="would lock out jump_host 198.18.2.5/32 from talos-apid"):
        M.render(params(admin_sources=["203.0.113.7"], patches=[rule("talos-apid", [50000], ["203.0.113.7/32"])]), None)


def test_an_except_narrowing_a_wider_subnet_is_judged_on_what_remains():
    doc = rule("etcd", ["2379-2380"], [])
    doc["ingress"] = [{"subnet": "198.18.1.20/31", "except": "198.18.1.20/32"}]
    M.render(params(patches=[doc]), None)  # only 198.18.1.21 remains: the port model's own source


def test_a_named_waiver_for_the_node_or_its_role_allows_the_exposure():
    patch = [rule("etcd", ["2379-2380"], ["10.0.0.0/16"])]
    for scope in ("cp1", "control_plane", None):
        waiver = {"name": "backup-net", "service": "etcd", "reason": "etcd backups from the backup network"}
        if scope:
            waiver["scope"] = scope
        _docs, report = M.render(params(patches=patch, waivers=[waiver]), None)
        assert report["waivers_applied"] == [{"name": "backup-net", "service": "etcd", "reason": waiver["reason"]}]
    err = refused(patches=patch, waivers=[{"name": "w", "service": "etcd", "scope": "cp2", "reason": "another node"}])
    assert "etcd" in err.message, "a waiver scoped to another node does not apply"


@pytest.mark.parametrize("waiver, field", [
    ({"name": "w", "service": "ssh", "reason": "r"}, "waivers[0].service"),
    ({"service": "etcd", "reason": "r"}, "waivers[0]"),
    ({"name": "w", "service": "etcd", "reason": "r", "scopes": "x"}, "waivers[0]"),
])
def test_malformed_waivers_are_refused(waiver, field):
    assert refused(waivers=[waiver]).field == field


# --- what hardening turns off stays off ------------------------------------------------------

@pytest.mark.parametrize("patch, check", [
    ({"cluster": {"network": {"cni": {"name": "flannel"}}}}, "cni"),
    ({"cluster": {"network": {"cni": {"$patch": "delete"}}}}, "cni"),
    ({"cluster": {"proxy": {"disabled": False}}}, "kube-proxy"),
    ({"machine": {"features": {"kubernetesTalosAPIAccess": {"enabled": True, "allowedRoles": ["os:admin"]}}}}, "talos-api-access"),
    ({"machine": {"features": {"kubernetesTalosAPIAccess": {"enabled": True, "allowedRoles": ["os:reader"]}}}}, "talos-api-access"),
])
def test_v113_patches_re_enabling_what_hardening_disables_are_refused(patch, check):
    err = refused(patches=[patch])
    assert err.field == "patches[0]" and "check: %s" % check in err.fix


def _v114(**overrides):
    return params(talos_version="1.14", hardening={"kubernetes_version": "1.35.0"}, **overrides)


@pytest.mark.parametrize("patch, check", [
    ({"apiVersion": "v1alpha1", "kind": "KubeFlannelCNIConfig"}, "cni"),
    ({"apiVersion": "v1alpha1", "kind": "KubeProxyConfig", "enabled": True}, "kube-proxy"),
    ({"apiVersion": "v1alpha1", "kind": "KubeProxyConfig", "$patch": "delete"}, "kube-proxy"),
    ({"apiVersion": "v1alpha1", "kind": "KubeTalosAPIAccessConfig", "allowedRoles": ["os:admin"]}, "talos-api-access"),
])
def test_v114_patches_re_enabling_what_hardening_disables_are_refused(patch, check):
    with pytest.raises(NetsecError) as err:
        M.render(_v114(patches=[patch]), BASES["1.14"]["control_plane"])
    assert err.value.field == "patches[0]" and "check: %s" % check in err.value.fix


def test_os_admin_through_the_knob_needs_a_waiver_too():
    knobs = {"talos_api_access": {"enabled": True, "allowed_roles": ["os:reader", "os:admin"]}}
    err = refused(hardening=knobs)
    assert err.field == "hardening.talos_api_access" and "grants pods os:admin" in err.message
    waiver = {"name": "backup-operator", "check": "talos-api-access", "scope": "control_plane", "reason": "etcd backups"}
    _docs, report = M.render(params(hardening=knobs, baseline_waivers=[waiver]), None)
    assert report["waivers_applied"] == [{"name": "backup-operator", "check": "talos-api-access", "reason": "etcd backups"}]


def test_read_only_api_access_through_the_knob_needs_no_waiver():
    M.render(params(hardening={"talos_api_access": {"enabled": True}}), None)


def test_turning_a_disabling_knob_off_names_the_knob():
    assert refused(hardening={"cni_none": False}).field == "hardening.cni_none"
    assert refused(hardening={"kube_proxy_disabled": False}).field == "hardening.kube_proxy_disabled"


@pytest.mark.parametrize("waiver, field", [
    ({"name": "w", "check": "firewall", "scope": "cp1", "reason": "r"}, "baseline_waivers[0].check"),
    ({"name": "w", "check": "cni", "reason": "r"}, "baseline_waivers[0].scope"),
    ({"name": "", "check": "cni", "scope": "cp1", "reason": "r"}, "baseline_waivers[0].name"),
    ({"name": "w", "check": "cni", "scope": "cp1", "reason": "r", "until": "x"}, "baseline_waivers[0]"),
])
def test_baseline_waivers_are_named_scoped_and_explained(waiver, field):
    assert refused(baseline_waivers=[waiver]).field == field


def test_several_problems_are_all_reported_with_their_fields():
    err = refused(patches=[{"cluster": {"proxy": {"disabled": False}}}], node_patches=[dict(DEFAULT_ACTION, ingress="accept")])
    fields = dict((p["field"], p["message"]) for p in err.extra["baseline_problems"])
    assert set(fields) == {"patches[0]", "node_patches[0]"}


# --- coverage, property-based -----------------------------------------------------------------

def _split(prefix, depth):
    """`prefix` cut into 2**depth equal parts."""
    return [str(n) for n in ipaddress.ip_network(prefix).subnets(prefixlen_diff=depth)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=st.sampled_from(["0.0.0.0/0", "::/0"]), depth=st.integers(1, 5), service=st.sampled_from(pm.SENSITIVE_SERVICES),
       drop=st.integers(0, 3))
def test_the_world_cut_into_pieces_is_refused_whatever_the_cut(family, depth, service, drop):
    svc = pm.SERVICES[service]
    pieces = _split(family, depth)
    # Leaving out a few pieces still covers far more than the exposure limit.
    pieces = pieces[: max(1, len(pieces) - min(drop, len(pieces) // 2))]
    with pytest.raises(NetsecError):
        M.render(params(patches=[rule("x", ["%d-%d" % (svc.port_min, svc.port_max)], pieces)]), None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host=st.integers(0, 2 ** 16 - 1), prefix=st.integers(17, 32))
def test_any_source_outside_the_port_model_is_refused_on_etcd(host, prefix):
    net = ipaddress.ip_network((int(ipaddress.ip_address("10.0.0.0")) + (host << 8), prefix), strict=False)
    with pytest.raises(NetsecError, match="beyond the port model"):
        M.render(params(patches=[rule("etcd", ["2379-2380"], [str(net)])]), None)


def test_legitimate_configs_need_no_waiver():
    for role in ("control_plane", "worker"):
        for version, knobs in (("1.13", {}), ("1.14", {"kubernetes_version": "1.35.0"})):
            _docs, report = M.render(params(role=role, node="n1", talos_version=version, hardening=knobs), BASES[version][role])
            assert report["waivers_applied"] == []


def test_the_checks_are_those_documented():
    assert sorted(B.CHECKS) == ["cni", "default-action", "kube-proxy", "talos-api-access"]
