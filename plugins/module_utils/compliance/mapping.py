# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each control -> the seed's requirement it proves and the framework items it covers. Pure data.

Only items checked against a source are listed (docs/compliance-outputs.md says which source):

* CIS Kubernetes Benchmark v1.12.0, numbers and titles as kube-bench encodes them
  (aquasecurity/kube-bench cfg/cis-1.12/*.yaml, commit a73ce378). The CIS PDF itself was not
  available; kube-bench is the maintained machine-readable transcription.
* NSA/CISA Kubernetes Hardening Guidance v1.2 (August 2022). The guide numbers no items: its
  sections are cited by their headings, as the guide's table of contents names them.

A control with no verified item in a framework has an empty list there, never a guess.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CIS = {
    "name": "CIS Kubernetes Benchmark",
    "version": "1.12.0",
    "source": "aquasecurity/kube-bench cfg/cis-1.12 (commit a73ce378418c71c5861e6963753f50dec3badadf)",
    "items": {
        "3.1.1": "Client certificate authentication should not be used for users",
        "5.1.7": "Avoid use of system:masters group",
        "5.3.1": "Ensure that the CNI in use supports NetworkPolicies",
        "5.3.2": "Ensure that all Namespaces have NetworkPolicies defined",
    },
}

NSA = {
    "name": "NSA/CISA Kubernetes Hardening Guidance",
    "version": "1.2",
    "source": "NSA/CISA Cybersecurity Technical Report U/OO/168286-21, version 1.2 (August 2022), section headings",
    "items": {
        "network-policies": "Network separation and hardening / Network policies",
        "control-plane-hardening": "Network separation and hardening / Control plane hardening",
        "worker-node-segmentation": "Network separation and hardening / Worker node segmentation",
        "encryption": "Network separation and hardening / Encryption",
        "authentication": "Authentication and authorization / Authentication",
        "rbac": "Authentication and authorization / Role-based access control",
    },
}

# The seed: the baseline as README.md states it (one line per layer of its table), from
# Safespring's network-security requirements (shared/notes/platform.md).
_SEED = {
    "perimeter": "Stateful, default-deny OpenStack security groups; explicit allowlists per role, rendered from one port model; "
                 "no sensitive port open to the world",
    "edge": "A dedicated HAProxy pair as the only entry (TLS termination, rate limits, connection filtering, DDoS shedding, "
            "admin only via the jump host), highly available",
    "nodes": "Talos nodes with no general-purpose services and the host firewall in block mode from the port model",
    "cni": "Cilium with WireGuard encryption, policy enforcement and host firewall",
    "identity": "Kubernetes API through Zitadel OIDC, RBAC by Zitadel roles, MFA enforced",
    "workloads": "Default-deny NetworkPolicies per namespace, only declared paths; management clusters expose no service "
                 "through Ingress or Gateway API",
    "exposure": "One port model rendered to every layer: each path open exactly as declared through every layer it crosses, "
                "every sensitive service stopped by at least two independent layers (defence in depth)",
}

# id -> (layer, CIS item ids, NSA item ids). Titles live with the evaluators.
_CONTROLS = {
    "PERIM-01": ("perimeter", [], ["control-plane-hardening", "worker-node-segmentation"]),
    "PERIM-02": ("perimeter", [], ["control-plane-hardening", "worker-node-segmentation"]),
    "PERIM-03": ("perimeter", [], ["control-plane-hardening"]),
    "EDGE-01": ("edge", [], ["encryption"]),
    "EDGE-02": ("edge", [], []),
    "EDGE-03": ("edge", [], []),
    "EDGE-04": ("edge", [], []),
    "EDGE-05": ("edge", [], ["control-plane-hardening"]),
    "TALOS-01": ("nodes", [], ["control-plane-hardening", "worker-node-segmentation"]),
    "TALOS-02": ("nodes", [], []),
    "CNI-01": ("cni", ["5.3.1"], ["network-policies", "encryption"]),
    "ID-01": ("identity", ["3.1.1"], ["authentication"]),
    "ID-02": ("identity", ["5.1.7"], ["rbac"]),
    "WL-01": ("workloads", ["5.3.2"], ["network-policies"]),
    "WL-02": ("workloads", [], []),
    "WL-03": ("workloads", [], ["network-policies"]),
    "EXP-01": ("exposure", [], ["control-plane-hardening", "worker-node-segmentation", "network-policies"]),
}


def control_ids():
    return sorted(_CONTROLS)


def layer_of(control_id, default="baseline"):
    known = _CONTROLS.get(control_id)
    return known[0] if known else default


def mapping_of(control_id, layer=None):
    """The requirement and framework items of one control; a control the table does not know maps to its layer only."""
    known = _CONTROLS.get(control_id)
    layer = known[0] if known else layer
    cis_ids = known[1] if known else []
    nsa_ids = known[2] if known else []
    return {
        "requirement": _SEED.get(layer, ""),
        "cis": [{"id": i, "title": CIS["items"][i]} for i in cis_ids],
        "nsa": [{"id": i, "title": NSA["items"][i]} for i in nsa_ids],
    }


def frameworks():
    return {"cis": dict((k, CIS[k]) for k in ("name", "version", "source")),
            "nsa": dict((k, NSA[k]) for k in ("name", "version", "source"))}
