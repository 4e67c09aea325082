# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each control's evaluator on recorded lab evidence: passes when the lab is converged, fails for
exactly its own breakage, names it, and says how strong its evidence is."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import pathlib
import sys

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.compliance import evaluators

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import recorded  # noqa: E402  (this directory's recorded evidence)

ALL = [cid for cid, dummy in evaluators.EVALUATORS]


def by_id(controls):
    return dict((c["id"], c) for c in controls)


def failing(controls):
    return sorted(c["id"] for c in controls if c["status"] == "fail")


def test_the_converged_lab_passes_every_control_with_honest_evidence_levels():
    controls = by_id(evaluators.evaluate(recorded.evidence()))
    assert list(controls) == ALL
    assert failing(controls.values()) == []
    assert [c for c in ALL if controls[c]["evidence_level"] == "live"] == [
        "PERIM-01", "PERIM-02", "PERIM-03", "EDGE-01", "EDGE-02", "EDGE-03", "EDGE-04", "EDGE-05"]
    # Rendered-only: judged on the files and saying so (STATIC, never a bare PASS); the running-node control is not applicable.
    assert [c for c in ALL if controls[c]["status"] == "static"] == [
        "TALOS-01", "CNI-01", "ID-01", "ID-02", "WL-01", "WL-02", "EXP-01", "WL-03"]
    assert controls["TALOS-01"]["evidence_level"] == "static" and "rendered" in controls["TALOS-01"]["source"]
    assert (controls["TALOS-02"]["status"], controls["TALOS-02"]["evidence_level"]) == ("not_applicable", "not_applicable")


def test_the_recorded_lab_run_passes_and_keeps_the_old_jinja_results():
    """data/evidence-lab.json, recorded by verify.yml on the converged lab (before EXP-01 and the lab control plane
    existed, so without their sections): the results the Jinja controls gave on it."""
    controls = by_id(evaluators.evaluate(copy.deepcopy(recorded.RECORDED), only=[c for c in ALL if c != "EXP-01"]))
    assert failing(controls.values()) == [] and controls["TALOS-02"]["status"] == "not_applicable"
    assert controls["WL-01"]["evidence"] == "15 allowed flows over 15 endpoints; notes: []"
    assert controls["EDGE-03"]["source"] == "lb_ha status on lb1, lb2"
    assert controls["EDGE-01"]["evidence"] == [
        line.strip() for line in recorded.EDGE["tls"]["stdout_lines"] if "ompliant" in line or "Supplied CA file" in line]


def test_the_recorded_run_against_the_lab_control_plane_gives_the_jinja_verdicts():
    """data/evidence-lab-kube.json: verify on the shared lab with its kube-apiserver (live objects, live MFA probes) at a
    moment when lb1's BGP session was down, the apiserver's bootstrap cluster-admin binding was read back and
    haproxy refused the jump host's IPv6 address on the admin port. The Jinja controls of main gave the same verdicts
    on that state (EDGE-03 and ID-02; EXP-01's difference was the haproxy state between the two runs)."""
    kube = json.loads((pathlib.Path(__file__).parent / "data" / "evidence-lab-kube.json").read_text())
    controls = by_id(evaluators.evaluate(kube))
    assert failing(controls.values()) == ["EDGE-03", "EXP-01", "ID-02"]
    assert controls["EDGE-03"]["drift"] == ["BGP session to 198.18.255.1 not Established"]
    assert controls["ID-02"]["drift"] == ["ClusterRoleBinding cluster-admin binds system:masters"]
    assert controls["ID-02"]["findings"][0]["locations"] == [{"logical": "ClusterRoleBinding cluster-admin"}]
    assert (controls["ID-01"]["status"], controls["ID-01"]["evidence_level"]) == ("pass", "live")
    assert controls["ID-01"]["source"].startswith("SelfSubjectReview probes to https://127.0.0.1:")
    assert [c for c in ALL if controls[c]["status"] == "static"] == ["TALOS-01", "CNI-01"]
    assert controls["EXP-01"]["evidence_level"] == "static" and controls["WL-01"]["evidence_level"] == "live"


def test_live_cluster_evidence_is_marked_live_and_talos_02_is_judged():
    ev = recorded.evidence(level="live")
    for node in ev["nodes"]["talos"].values():
        node.update(extra_services=[], version="v1.13.9")
    controls = by_id(evaluators.evaluate(ev))
    assert all(controls[c]["evidence_level"] == "live" for c in ALL) and all(controls[c]["status"] == "pass" for c in ALL)
    assert controls["TALOS-02"]["status"] == "pass" and controls["TALOS-02"]["evidence"] == ["v1.13.9", "v1.13.9"]
    ev["nodes"]["talos"]["lab-w1"]["extra_services"] = ["ext-sshd"]
    assert by_id(evaluators.evaluate(ev))["TALOS-02"]["drift"] == ["ext-sshd"]


def test_a_world_rule_on_6443_fails_perim_01_and_03_only_and_points_at_the_loadbalancer_role():
    controls = by_id(evaluators.evaluate(recorded.evidence(groups=recorded.world_6443(recorded.live_groups()))))
    assert failing(controls.values()) == ["PERIM-01", "PERIM-03"]
    assert controls["PERIM-01"]["drift"] == ["lab-loadbalancer: extra ingress tcp/6443 from 0.0.0.0/0 (IPv4)"]
    assert "opens kube-apiserver (tcp/6443) to 0.0.0.0/0" in controls["PERIM-03"]["drift"][0]
    assert controls["PERIM-01"]["findings"][0]["locations"][0] == {"inventory": "netsec_cluster.loadbalancer",
                                                                   "logical": "security group lab-loadbalancer"}


def test_a_deleted_rule_fails_perim_02_only():
    groups = recorded.live_groups()
    worker = [g for g in groups if g["name"] == "lab-worker"][0]
    worker["security_group_rules"].pop()
    controls = evaluators.evaluate(recorded.evidence(groups=groups))
    assert failing(controls) == ["PERIM-02"]
    assert by_id(controls)["PERIM-02"]["drift"][0].startswith("lab-worker: missing ")


def edge_with(**changes):
    edge = copy.deepcopy(recorded.EDGE)
    for path, value in changes.items():
        here = edge
        keys = path.split("__")
        for key in keys[:-1]:
            here = here[key]
        here[keys[-1]] = value
    return edge


@pytest.mark.parametrize("changes, control, drift", [
    ({"tls__rc": 1, "tls__stdout": "    198.18.0.10:443: FAILED - Not compliant.\n        * tls_versions: TLSv1.1 is enabled\n",
      "tls__stdout_lines": ["    198.18.0.10:443: FAILED - Not compliant.", "        * tls_versions: TLSv1.1 is enabled"]},
     "EDGE-01", ["* tls_versions: TLSv1.1 is enabled"]),
    ({"client__rc": 60, "client__stdout": "", "client__stderr": "curl: (60) SSL certificate problem"},
     "EDGE-02", ["https://web.apps.lab.netsec.test via 198.18.0.10: curl: (60) SSL certificate problem"]),
    ({"loadbalancers__lb2__ha__drift": ["BGP session to the platform peer is not established"]},
     "EDGE-03", ["BGP session to the platform peer is not established"]),
    ({"loadbalancers__lb1__tables": []}, "EDGE-04", ["lb1: no stick table"]),
    ({"loadbalancers__lb2__haproxy_rc": 1}, "EDGE-04", ["lb2: haproxy.cfg invalid"]),
    ({"api__client": "200"}, "EDGE-05", ["a client reached the API (HTTP 200)"]),
    ({"api__jump": "000"}, "EDGE-05", ["the jump host could not reach the API (HTTP 000)"]),
])
def test_each_edge_breakage_fails_only_its_control_and_names_it(changes, control, drift):
    controls = evaluators.evaluate(recorded.evidence(edge=edge_with(**changes)))
    assert failing(controls) == [control]
    assert by_id(controls)[control]["drift"] == drift


def test_vrrp_needs_exactly_one_holder():
    edge = edge_with(ha_mode="vrrp")
    assert by_id(evaluators.evaluate(recorded.evidence(edge=edge)))["EDGE-03"]["drift"] == [
        "2 nodes hold the virtual address (exactly one must)"]


def test_edge_02_evidence_drops_the_alternating_peer_address():
    assert by_id(evaluators.evaluate(recorded.evidence()))["EDGE-02"]["evidence"] == {
        "node": "node2-ingress", "path": "/verify", "x_forwarded_for": "198.18.2.11", "client_cert_subject": None}


def test_a_world_open_talos_rule_fails_talos_01_and_points_at_the_rendered_rule():
    controls = by_id(evaluators.evaluate(recorded.evidence(talos=recorded.talos_docs(apid_source="0.0.0.0/0"))))
    assert failing(controls.values()) == ["TALOS-01"]
    finding = controls["TALOS-01"]["findings"][0]
    assert finding["message"].startswith("NetworkRuleConfig apid: opens talos-apid (tcp/50000) to 0.0.0.0/0")
    assert finding["locations"][0] == {"rendered": "talos/lab-cp1.yaml", "match": "name: apid", "logical": "Talos node lab-cp1"}


@pytest.mark.parametrize("kwargs, control, needle, hint", [
    ({"cilium": dict(recorded.CILIUM, encryption={"enabled": True, "type": "wireguard"})}, "CNI-01", "nodeEncryption",
     {"rendered": "cilium/install/cilium-values.yaml", "key": "encryption.nodeEncryption"}),
    ({"authn": dict(recorded.AUTHN, jwt=[dict(recorded.AUTHN["jwt"][0], claimValidationRules=[])])}, "ID-01", "without MFA",
     {"rendered": "zitadel/lab/authentication-config.yaml", "match": "jwt:", "logical": "AuthenticationConfiguration"}),
    ({"rbac": recorded.RBAC + [{"kind": "ClusterRoleBinding", "metadata": {"name": "break-glass"},
                                "subjects": [{"kind": "Group", "name": "system:masters"}]}]}, "ID-02", "binds system:masters",
     {"rendered": "zitadel/lab/rbac.yaml", "match": "name: break-glass", "logical": "ClusterRoleBinding break-glass"}),
])
def test_cni_and_identity_breakage_fails_only_its_control(kwargs, control, needle, hint):
    controls = by_id(evaluators.evaluate(recorded.evidence(**kwargs)))
    assert failing(controls.values()) == [control]
    assert needle in controls[control]["drift"][0]
    assert controls[control]["findings"][0]["locations"][0] == hint


def test_no_binding_at_all_fails_id_02_with_a_reason():
    control = by_id(evaluators.evaluate(recorded.evidence(rbac=[])))["ID-02"]
    assert control["status"] == "fail" and control["drift"] == ["no RoleBinding or ClusterRoleBinding found"]


def test_an_extra_reachable_flow_fails_wl_01_and_lists_it():
    proof = dict(recorded.PROOF, equal=False, differences={"extra": [{"from": "shop/web", "to": "db/pg", "port": "tcp/5432"}], "missing": []})
    control = by_id(evaluators.evaluate(recorded.evidence(proof=proof)))["WL-01"]
    assert control["status"] == "fail"
    assert control["drift"] == ['extra {"from": "shop/web", "to": "db/pg", "port": "tcp/5432"}']


def test_an_ingress_fails_wl_02_and_a_world_policy_fails_wl_03():
    ingress = {"kind": "Ingress", "metadata": {"name": "shop", "namespace": "shop"}}
    world = {"kind": "NetworkPolicy", "metadata": {"name": "open-api", "namespace": "shop"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 6443, "protocol": "TCP"}]}]}}
    controls = by_id(evaluators.evaluate(recorded.evidence(objects=recorded.POLICIES + recorded.RBAC + [ingress, world])))
    assert failing(controls.values()) == ["WL-02", "WL-03"]
    assert controls["WL-02"]["drift"] == ["Ingress shop/shop exposes a service"]
    assert controls["WL-02"]["findings"][0]["locations"] == [{"logical": "Ingress shop/shop"}]
    assert "kube-apiserver" in controls["WL-03"]["drift"][0]


def test_every_control_carries_its_requirement_and_mapping():
    for control in evaluators.evaluate(recorded.evidence()):
        assert control["requirement"], control["id"]
        for item in control["cis"] + control["nsa"]:
            assert item["id"] and item["title"]
    controls = by_id(evaluators.evaluate(recorded.evidence()))
    assert [i["id"] for i in controls["WL-01"]["cis"]] == ["5.3.2"]
    assert [i["id"] for i in controls["ID-02"]["cis"]] == ["5.1.7"]


@pytest.mark.parametrize("evidence, field", [
    ("nope", "evidence"),
    ({"perimeter": {}}, "evidence.edge"),
])
def test_missing_sections_are_refused_with_their_field(evidence, field):
    with pytest.raises(NetsecError) as err:
        evaluators.evaluate(evidence)
    assert err.value.field == field


def test_an_unknown_level_is_refused_with_its_field():
    ev = recorded.evidence()
    ev["cni"]["level"] = "rendered"
    with pytest.raises(NetsecError) as err:
        evaluators.evaluate(ev)
    assert err.value.field == "evidence.cni.level"


def test_only_selects_controls_and_refuses_unknown_ids():
    assert [c["id"] for c in evaluators.evaluate(recorded.evidence(), only=["WL-01"])] == ["WL-01"]
    with pytest.raises(NetsecError) as err:
        evaluators.evaluate(recorded.evidence(), only=["WL-99"])
    assert err.value.field == "only"


def test_a_layer_that_admits_an_undeclared_path_fails_exp_01_only_and_names_the_path():
    problem = "internet -> loadbalancer kube-apiserver (tcp/6443): security_groups admits it, the port model does not"
    proof = dict(recorded.EXPOSURE, ok=False, problems=[problem])
    controls = by_id(evaluators.evaluate(recorded.evidence(exposure_proof=proof)))
    assert failing(controls.values()) == ["EXP-01"]
    assert controls["EXP-01"]["drift"] == [problem]
    assert controls["EXP-01"]["findings"][0]["locations"] == [
        {"inventory": "netsec_cluster"}, {"logical": "internet -> loadbalancer kube-apiserver (tcp/6443)"}]
    # A cluster that runs: no layer is read from rendered files (live Talos nodes are TALOS-01's), so the proof is live.
    control = by_id(evaluators.evaluate(recorded.evidence(level="live")))["EXP-01"]
    assert (control["status"], control["evidence_level"]) == ("pass", "live")
    assert control["evidence"]["layers"]["talos"] == "not read: live nodes are judged by TALOS-01"
