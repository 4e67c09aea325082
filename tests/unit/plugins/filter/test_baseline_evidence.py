# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence filters: each control's pass/fail from the documents that prove it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.filter import baseline_evidence as ev

BLOCK = {"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig", "ingress": "block"}


def rule(name, ports, subnets, protocol="tcp"):
    return {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": name,
            "portSelector": {"ports": ports, "protocol": protocol}, "ingress": [{"subnet": s} for s in subnets]}


def test_talos_block_mode_with_scoped_rules_passes():
    result = ev.talos_firewall_evidence([{"version": "v1alpha1"}, BLOCK, rule("etcd", ["2379-2380"], ["198.18.1.21/32"])])
    assert result["ok"] and result["rules"] == ["etcd"]


def test_talos_accept_mode_or_world_open_etcd_fails_and_says_why():
    result = ev.talos_firewall_evidence([dict(BLOCK, ingress="accept"), rule("etcd", ["2379-2380"], ["0.0.0.0/0"])])
    assert not result["ok"]
    assert result["drift"][0].startswith("NetworkDefaultActionConfig ingress is ['accept']")
    assert "opens etcd" in result["drift"][1]


def test_cilium_profile_needs_encryption_with_node_encryption_and_no_audit_mode():
    good = {"encryption": {"enabled": True, "type": "wireguard", "nodeEncryption": True}, "policyEnforcementMode": "always",
            "policyAuditMode": False, "hostFirewall": {"enabled": True}}
    assert ev.cilium_profile_evidence(good)["ok"]
    bad = dict(good, policyAuditMode=True, encryption={"enabled": True, "type": "wireguard"})
    drift = ev.cilium_profile_evidence(bad)["drift"]
    assert any("nodeEncryption" in d for d in drift) and any("policyAuditMode" in d for d in drift)


def test_oidc_without_an_amr_rule_accepts_tokens_without_mfa():
    jwt = {"issuer": {"url": "https://z"}, "claimMappings": {"groups": {"claim": "g"}},
           "claimValidationRules": [{"expression": "claims.amr.exists(m, m in ['mfa'])"}]}
    config = {"kind": "AuthenticationConfiguration", "jwt": [jwt]}
    assert ev.oidc_mfa_evidence(config)["ok"]
    config["jwt"][0]["claimValidationRules"] = []
    assert ev.oidc_mfa_evidence(config)["drift"] == ["jwt[0] (https://z) accepts tokens without MFA (no claimValidationRule on amr)"]


def test_a_system_masters_binding_fails_rbac():
    binding = {"kind": "ClusterRoleBinding", "metadata": {"name": "oops"}, "subjects": [{"kind": "Group", "name": "system:masters"}]}
    assert ev.rbac_evidence([binding])["drift"] == ["ClusterRoleBinding oops binds system:masters"]


def test_ingress_gateway_routes_and_loadbalancer_services_are_exposure():
    objects = [{"kind": "Service", "metadata": {"namespace": "a", "name": "s"}, "spec": {"type": "LoadBalancer"}},
               {"kind": "HTTPRoute", "metadata": {"namespace": "a", "name": "r"}},
               {"kind": "Service", "metadata": {"namespace": "a", "name": "c"}, "spec": {"type": "ClusterIP"}}]
    assert ev.exposure_evidence(objects)["drift"] == ["Service a/s is of type LoadBalancer", "HTTPRoute a/r exposes a service"]


def test_live_talos_node_with_an_extension_service_or_world_apid_fails():
    info = {"talos_version": "v1.13.9",
            "firewall": {"default_action": "block", "rules": [{"protocol": "tcp", "ports": [50000], "sources": ["0.0.0.0/0"]}]},
            "services": [{"id": "apid"}, {"id": "kubelet"}, {"id": "ext-tailscale"}]}
    result = ev.talos_live_evidence(info)
    assert not result["ok"] and "opens talos-apid" in result["drift"][0]
    assert result["extra_services"] == ["ext-tailscale"]
    clean = ev.talos_live_evidence(dict(info, firewall={"default_action": "block", "rules": [
        {"protocol": "tcp", "ports": ["2379-2380"], "sources": ["198.18.1.21/32"]}]}, services=[{"id": "apid"}]))
    assert clean["ok"] and clean["services_ok"]
