# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recorded evidence of the lab, in the shape verify.yml gives compliance_evaluate.

data/evidence-lab.json is what verify.yml recorded on the converged lab
(``-e netsec_evidence_file=...``, registered command results trimmed to rc/stdout/stderr). Its edge
section is used as is (sslyze, curl, haproxy's runtime API, lb_ha on lb1/lb2); the other sections are
rebuilt here by the collection's own evidence functions (perimeter_audit on the groups the port model
renders for the lab cluster, talos/cilium/oidc/rbac/exposure filters on lab-shaped documents), so a
test can break one input and the evaluators see what those functions really return for it.

These tests live outside tests/unit/plugins/module_utils/ because they use the filters (controller
code): ansible-test runs module_utils tests without the controller's ansible package.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import pathlib

import yaml

from ansible_collections.safespring.netsec.plugins.filter import baseline_evidence as ev
from ansible_collections.safespring.netsec.plugins.filter.perimeter_audit import perimeter_audit
from ansible_collections.safespring.netsec.plugins.filter.policy_exposure import policy_exposure_evidence
from fixtures.openstack import converged_groups

REPO = pathlib.Path(__file__).resolve().parents[3]
INVENTORY = REPO / "inventories" / "lab"
LAB = yaml.safe_load((INVENTORY / "group_vars" / "all" / "netsec.yml").read_text())
CLUSTER = LAB["netsec_cluster"]
RECORDED = json.loads((pathlib.Path(__file__).parent / "data" / "evidence-lab.json").read_text())
EDGE = RECORDED["edge"]


def live_groups(cluster=CLUSTER):
    """The groups as Neutron returns them after a clean converge of the port model."""
    return converged_groups(cluster)


def world_6443(groups):
    lb = [g for g in groups if g["name"] == "lab-loadbalancer"][0]
    lb["security_group_rules"].append({"id": "evil", "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                                       "port_range_min": 6443, "port_range_max": 6443, "remote_ip_prefix": "0.0.0.0/0"})
    return groups


BLOCK = {"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig", "ingress": "block"}


def talos_docs(apid_source="198.18.2.5/32"):
    return [{"version": "v1alpha1"}, BLOCK,
            {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "apid",
             "portSelector": {"ports": [50000], "protocol": "tcp"}, "ingress": [{"subnet": apid_source}]},
            {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "etcd",
             "portSelector": {"ports": ["2379-2380"], "protocol": "tcp"}, "ingress": [{"subnet": "198.18.1.21/32"}]}]


CILIUM = {"encryption": {"enabled": True, "type": "wireguard", "nodeEncryption": True}, "policyEnforcementMode": "always",
          "policyAuditMode": False, "hostFirewall": {"enabled": True}}
AUTHN = {"kind": "AuthenticationConfiguration", "jwt": [{
    "issuer": {"url": "https://zitadel.lab.netsec.test"},
    "claimValidationRules": [{"expression": "'mfa' in claims.amr"}],
    "claimMappings": {"groups": {"expression": "claims['urn:zitadel:iam:org:project:roles'].map(k, k)"}}}]}
# As zitadel_kubernetes_access renders them: labelled with their owned set (ID-02 counts only those).
OWNED = {"netsec.safespring.com/owned-set": "zitadel-rbac-lab"}
RBAC = [{"kind": "ClusterRoleBinding", "metadata": {"name": "platform-cluster-admin", "labels": OWNED},
         "subjects": [{"kind": "Group", "name": "zitadel:platform"}]},
        {"kind": "RoleBinding", "metadata": {"name": "shop-developer", "namespace": "shop", "labels": OWNED},
         "subjects": [{"kind": "Group", "name": "zitadel:shop"}]}]
POLICIES = [{"kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "shop"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}]
PROOF = {"equal": True, "flows": 4, "endpoints": 6, "notes": [], "differences": {"extra": [], "missing": [], "extra_count": 0, "missing_count": 0}}


# The exposure_proof module's result (the fields verify passes on) for a lab whose layers agree with the port model.
EXPOSURE = {"ok": True, "problems": [], "lb_differences": [],
            "summary": {"paths": 96, "open": 21, "blocked": 75, "defence_in_depth": {"required": 12, "met": 12}}}


def evidence(groups=None, talos=None, cilium=None, authn=None, rbac=None, objects=None, proof=None, edge=None, level="static",
             exposure_proof=None):
    """The whole evidence; each argument replaces one input with a broken one."""
    objects = objects if objects is not None else POLICIES + RBAC
    return {
        "perimeter": {"cloud": "lab", "cluster_name": "lab", "waivers": 0,
                      "audit": perimeter_audit(groups if groups is not None else live_groups(), CLUSTER)},
        "edge": edge if edge is not None else copy.deepcopy(EDGE),
        "nodes": {"level": level, "talos": {"lab-cp1": ev.talos_firewall_evidence(talos or talos_docs()),
                                            "lab-w1": ev.talos_firewall_evidence(talos_docs())}},
        "cni": {"level": level, "cilium": ev.cilium_profile_evidence(cilium or CILIUM)},
        "identity": {"level": level, "environment": "lab", "oidc": ev.oidc_mfa_evidence(authn or AUTHN),
                     "rbac": ev.rbac_evidence(rbac if rbac is not None else objects)},
        "workloads": {"level": level, "waivers": 0, "netpol": proof or PROOF, "exposure": ev.exposure_evidence(objects),
                      "policy_exposure": policy_exposure_evidence(objects)},
        "exposure": {"render_only": level == "static", "kube_live": level == "live", "cloud": "lab", "loadbalancers": ["lb1", "lb2"],
                     "proof": copy.deepcopy(exposure_proof or EXPOSURE)},
    }
