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


LIVE_CILIUM = {
    "agents": {"desired": 3, "ready": 3, "all_ready": True, "not_ready": []},
    "encryption": {"mode": "wireguard", "node_encryption": True, "nodes_with_key": 3, "evidence_level": "live", "problems": [],
                   "proven": True},
    "enforcement": {"mode": "default", "audit_mode": False},
    "host_firewall": {"enabled": True, "enforcing": True},
}


def test_live_cilium_passes_only_with_encryption_proven_every_agent_ready_no_audit_and_the_host_firewall_enforcing():
    assert ev.cilium_live_evidence(LIVE_CILIUM) == {"ok": True, "drift": [], "encryption": LIVE_CILIUM["encryption"],
                                                    "enforcement": LIVE_CILIUM["enforcement"]}
    broken = dict(LIVE_CILIUM, agents={"all_ready": False, "not_ready": ["cilium-x2"]},
                  encryption=dict(LIVE_CILIUM["encryption"], proven=False, problems=["node lab-w1 has no WireGuard key"]),
                  enforcement={"mode": "default", "audit_mode": True}, host_firewall={"enabled": True, "enforcing": False})
    result = ev.cilium_live_evidence(broken)
    assert not result["ok"]
    assert result["drift"] == ["node lab-w1 has no WireGuard key", "agents not ready: ['cilium-x2']", "policy audit mode is on",
                               "host firewall not enforcing"]
    # Not proven without a named problem is still a failure that says why.
    unproven = ev.cilium_live_evidence(dict(LIVE_CILIUM, encryption=dict(LIVE_CILIUM["encryption"], proven=False)))
    assert unproven["drift"] == ["encryption is not proven on the agents"]
    assert ev.cilium_live_evidence({})["drift"][:2] == ["encryption is not proven on the agents", "agents not ready: no agent answered"]


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


def _review(username, groups):
    return {"status": 201, "json": {"kind": "SelfSubjectReview", "status": {"userInfo": {"username": username, "groups": groups}}}}


def test_a_401_to_the_probe_token_without_mfa_is_the_passing_evidence():
    got = ev.identity_probe_evidence({"without_mfa": {"status": 401}})
    assert got["ok"] and got["drift"] == [] and got["without_mfa"] == 401


def test_a_probe_token_without_mfa_that_is_accepted_or_unanswered_fails_and_says_so():
    accepted = ev.identity_probe_evidence({"without_mfa": _review("zitadel:bob", [])})
    assert not accepted["ok"] and accepted["drift"] == ["a token without MFA got HTTP 201 from the API server, not 401 (it was accepted)"]
    unanswered = ev.identity_probe_evidence({"without_mfa": {"status": -1, "msg": "connection refused"}})
    assert not unanswered["ok"] and "not 401" in unanswered["drift"][0]
    assert ev.identity_probe_evidence({})["drift"] == ["no answer from the API server to the probe token without MFA"]


def test_the_mfa_probe_must_map_to_exactly_the_promised_user_and_groups():
    probes = {"without_mfa": {"status": 401}, "with_mfa": _review("zitadel:310", ["zitadel:cluster-admin", "system:authenticated"])}
    assert ev.identity_probe_evidence(probes, {"username": "zitadel:310", "groups": ["zitadel:cluster-admin"]})["ok"]
    wrong = ev.identity_probe_evidence(probes, {"username": "zitadel:310", "groups": ["zitadel:viewer"]})
    assert wrong["drift"] == ["a token with MFA maps to groups ['zitadel:cluster-admin'], not ['zitadel:viewer']"]
    refused = ev.identity_probe_evidence({"without_mfa": {"status": 401}, "with_mfa": {"status": 401}}, {"username": "zitadel:310"})
    assert refused["drift"] == ["a token with MFA got HTTP 401 from the API server, not 201"]


def test_the_probe_loop_results_of_verify_are_read_by_their_item():
    results = [{"item": "without_mfa", "status": 401, "json": {"kind": "Status"}},
               dict(_review("zitadel:310", ["zitadel:viewer"]), item="with_mfa"),
               {"item": "unused", "skipped": True}]
    got = ev.identity_probe_evidence(results, {"username": "zitadel:310", "groups": ["zitadel:viewer"]})
    assert got["ok"] and (got["without_mfa"], got["with_mfa"]) == (401, 201)


def test_the_api_servers_own_cluster_admin_binding_is_not_drift_and_only_owned_bindings_count():
    builtin = {"kind": "ClusterRoleBinding", "metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
               "subjects": [{"kind": "Group", "name": "system:masters"}]}
    system = {"kind": "ClusterRoleBinding", "metadata": {"name": "system:kube-scheduler", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
              "subjects": [{"kind": "User", "name": "system:kube-scheduler"}]}
    ours = {"kind": "RoleBinding", "metadata": {"name": "zitadel-developer", "namespace": "shop",
                                                "labels": {"netsec.safespring.com/owned-set": "zitadel-rbac-lab"}},
            "subjects": [{"kind": "Group", "name": "zitadel:developer:shop"}]}
    got = ev.rbac_evidence([builtin, system, ours])
    assert got["ok"] and got["bindings"] == 1
    forged = dict(builtin, metadata={"name": "cluster-admin"})  # same name, not the bootstrap object
    assert ev.rbac_evidence([forged, ours])["drift"] == ["ClusterRoleBinding cluster-admin binds system:masters"]
    widened = dict(builtin, subjects=builtin["subjects"] + [{"kind": "User", "name": "mallory"}])
    assert not ev.rbac_evidence([widened, ours])["ok"]
