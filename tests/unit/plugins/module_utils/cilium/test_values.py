# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security profile -> Helm values, and the combinations it refuses."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import values as cv

from fixtures.cilium import LAB_CLUSTER


def compute(**knobs):
    return cv.compute(knobs)


def refused(**knobs):
    problems = compute(**knobs)["refusals"]
    assert problems, "expected a refusal"
    return problems


def test_default_profile_is_talos_wireguard_with_node_encryption_and_tls_hubble():
    v = compute()["values"]
    assert v["kubeProxyReplacement"] is True
    assert v["encryption"] == {"enabled": True, "type": "wireguard", "nodeEncryption": True}
    assert v["hubble"]["tls"] == {"enabled": True, "auto": {"enabled": True, "method": "cronJob"}}
    assert v["hubble"]["relay"]["tls"]["server"]["enabled"] is True
    assert v["ipam"] == {"mode": "kubernetes"}
    assert (v["k8sServiceHost"], v["k8sServicePort"]) == ("localhost", pm.KUBEPRISM_PORT)
    assert v["cgroup"] == {"autoMount": {"enabled": False}, "hostRoot": "/sys/fs/cgroup"}
    caps = v["securityContext"]["capabilities"]
    assert "SYS_MODULE" not in caps["ciliumAgent"] and "SYS_MODULE" not in caps["cleanCiliumState"]
    assert compute()["refusals"] == []


def test_ports_come_from_the_port_model():
    v = compute(cluster=dict(LAB_CLUSTER, cni={"tunnel": "geneve"}))["values"]
    assert (v["routingMode"], v["tunnelProtocol"], v["tunnelPort"]) == ("tunnel", "geneve", pm.SERVICES["cilium-geneve"].port_min)
    assert v["hubble"]["listenAddress"] == ":%d" % pm.SERVICES["hubble-server"].port_min
    native = compute(cluster=dict(LAB_CLUSTER, cni={"tunnel": "native"}))["values"]
    assert native["routingMode"] == "native" and "tunnelPort" not in native


def test_host_firewall_audit_turns_on_agent_wide_audit_mode_and_says_so():
    result = compute(host_firewall="audit")
    assert result["values"]["hostFirewall"] == {"enabled": True}
    assert result["values"]["policyAuditMode"] is True
    assert any("agent-wide" in w for w in result["warnings"])


def test_host_firewall_enforce_after_the_audit_phase_enforces():
    v = compute(host_firewall="enforce", current_values={"hostFirewall": {"enabled": True}, "policyAuditMode": True})["values"]
    assert v["hostFirewall"] == {"enabled": True} and v["policyAuditMode"] is False


def test_host_firewall_enforce_without_audit_phase_is_refused_with_the_way_forward():
    for current in (None, {"hostFirewall": {"enabled": False}}):
        problem = refused(host_firewall="enforce", current_values=current)[0]
        assert problem.field == "host_firewall"
        assert "host_firewall: audit" in problem.fix


def test_host_firewall_enforce_is_allowed_on_evidence_from_the_cluster_or_explicit_skip():
    assert compute(host_firewall="enforce", host_firewall_deployed=True)["refusals"] == []
    assert compute(host_firewall="enforce", host_firewall_skip_audit=True)["refusals"] == []


def test_spire_mutual_auth_on_1_20_is_refused_pointing_at_mesh_integrations():
    problem = refused(version="1.20.0", extra_values={"authentication": {"mutual": {"spire": {"enabled": True}}}})[0]
    assert "deprecated since Cilium 1.20" in problem.message
    assert "istio-ambient" in problem.fix and "linkerd" in problem.fix


def test_spire_on_1_18_is_not_refused():
    assert compute(version="1.18.2", extra_values={"authentication": {"mutual": {"spire": {"enabled": True}}}})["refusals"] == []


def test_ipsec_with_wireguard_values_is_refused():
    problem = refused(encryption="ipsec", extra_values={"encryption": {"wireguard": {"persistentKeepalive": "25s"}}})[0]
    assert "cannot be used together" in problem.message


def test_node_encryption_asked_for_with_ipsec_is_refused_but_default_is_not():
    assert refused(encryption="ipsec", node_encryption=True)[0].field == "node_encryption"
    ipsec = compute(encryption="ipsec")
    assert ipsec["refusals"] == [] and "nodeEncryption" not in ipsec["values"]["encryption"]


def test_certmanager_hubble_tls_needs_an_issuer_the_chart_would_otherwise_refuse():
    problem = refused(hubble_tls_method="certmanager")[0]
    assert problem.field == "hubble_tls_method" and "certManagerIssuerRef" in problem.fix
    assert refused(hubble_tls_method="certmanager", extra_values={"hubble": {"tls": {"auto": {"certManagerIssuerRef": {}}}}})
    issuer = {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "netsec-ca"}
    assert compute(hubble_tls_method="certmanager", extra_values={"hubble": {"tls": {"auto": {"certManagerIssuerRef": issuer}}}})["refusals"] == []
    assert compute(hubble_tls_method="certmanager", hubble=False)["refusals"] == []


def test_extra_values_may_add_but_not_override_the_profile():
    ok = compute(extra_values={"operator": {"replicas": 2}, "hubble": {"metrics": {"enabled": ["drop"]}}})
    assert ok["refusals"] == [] and ok["values"]["operator"] == {"replicas": 2}
    assert ok["values"]["hubble"]["tls"]["enabled"] is True
    problem = refused(extra_values={"hubble": {"tls": {"enabled": False}}})[0]
    assert problem.field == "extra_values.hubble.tls.enabled"
    assert refused(extra_values={"encryption": {"enabled": False}})[0].field == "extra_values.encryption.enabled"


def test_extra_value_equal_to_the_profile_is_not_an_override():
    assert compute(extra_values={"kubeProxyReplacement": True})["refusals"] == []


def test_wireguard_profile_against_a_port_model_without_the_wireguard_port_is_refused():
    problem = refused(cluster=dict(LAB_CLUSTER, cni={"wireguard": False}))[0]
    assert problem.field == "cluster.cni.wireguard" and "51871" in problem.message


def test_mesh_sets_cni_chaining_and_host_namespace_socket_lb():
    for mesh in ("istio-ambient", "linkerd"):
        v = compute(mesh=mesh)["values"]
        assert v["cni"] == {"exclusive": False} and v["socketLB"] == {"hostNamespaceOnly": True}
    assert "cni" not in compute()["values"]


def test_unknown_knob_and_bad_choice_name_the_field():
    with pytest.raises(NetsecError) as err:
        cv.compute({"encryptoin": "wireguard"})
    assert err.value.field == "encryptoin"
    with pytest.raises(NetsecError) as err:
        cv.compute({"policy_enforcement": "never"})
    assert err.value.field == "policy_enforcement"


def test_values_diff_lists_changed_added_and_removed_leaves():
    before = {"hostFirewall": {"enabled": False}, "operator": {"replicas": 2}, "gone": 1}
    after = {"hostFirewall": {"enabled": True}, "operator": {"replicas": 2}, "new": {"x": "y"}}
    assert cv.values_diff(before, after) == [
        {"path": "gone", "before": 1, "after": None},
        {"path": "hostFirewall.enabled", "before": False, "after": True},
        {"path": "new.x", "before": None, "after": "y"},
    ]
    assert cv.values_diff(after, after) == []


def test_helm_template_command_line_has_no_shell_and_pins_the_version():
    argv = cv.helm_template_argv("/usr/bin/helm", "cilium", "cilium/cilium", "1.18.2", "kube-system", "/tmp/v.yaml")
    assert argv == ["/usr/bin/helm", "template", "cilium", "cilium/cilium", "--version", "1.18.2",
                    "--namespace", "kube-system", "--values", "/tmp/v.yaml"]
