# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The one owner label (module_utils.kubernetes.owned), so evidence and delivery agree on what is ours.
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes.owned import OWNED_SET_LABEL

DOCUMENTATION = r"""
name: talos_firewall_evidence
short_description: Evidence for the baseline's controls from Talos, Cilium and Kubernetes documents
version_added: 0.1.0
description:
  - Filters used by C(playbooks/verify.yml) to turn rendered or live documents into control
    evidence, each returning a dict with C(ok) (bool), C(drift) (list of lines) and the facts
    found. The same functions read a rendered GitOps tree and objects read from a live cluster.
  - C(talos_firewall_evidence) (Talos machine-config documents), C(talos_live_evidence) (a
    C(safespring.netsec.talos_info) result), C(cilium_profile_evidence)
    (Cilium Helm values or the cilium-config ConfigMap data), C(cilium_live_evidence) (a
    C(safespring.netsec.cilium_status) result), C(oidc_mfa_evidence)
    (AuthenticationConfiguration), C(identity_probe_evidence) (the API server's answers to probe tokens),
    C(rbac_evidence) and C(exposure_evidence) (Kubernetes objects);
    C(owned_set_objects) selects the objects of one of the collection's owned sets.
author:
  - Safespring platform team (@safespring)
options:
  _input:
    description: The documents (a list of mappings) or values (a mapping).
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Talos firewall evidence of one rendered node config
  ansible.builtin.set_fact:
    talos_fw: "{{ lookup('ansible.builtin.file', 'lab-cp1.yaml') | ansible.builtin.from_yaml_all | list
                  | safespring.netsec.talos_firewall_evidence }}"
"""

RETURN = r"""
_value:
  description: C(ok), C(drift) and the facts found (differs per filter).
  type: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm

# Kinds that expose a service outside the cluster (a management cluster has none of them).
_EXPOSING_KINDS = ("Ingress", "Gateway", "HTTPRoute", "TLSRoute", "TCPRoute", "GRPCRoute")


def _docs(value):
    return [d for d in (value or []) if isinstance(d, dict)]


def talos_firewall_evidence(documents):
    """Block by default, and no sensitive port open to the world in any NetworkRuleConfig."""
    docs = _docs(documents)
    drift = []
    default_actions = [d.get("ingress") for d in docs if d.get("kind") == "NetworkDefaultActionConfig"]
    if default_actions != ["block"]:
        drift.append("NetworkDefaultActionConfig ingress is %s, not block" % (default_actions or "missing"))
    rules = [d for d in docs if d.get("kind") == "NetworkRuleConfig"]
    entries = []
    for rule in rules:
        selector = rule.get("portSelector") or {}
        for port in selector.get("ports") or []:
            low, dummy, high = str(port).partition("-")
            for source in rule.get("ingress") or []:
                entries.append({"field": "NetworkRuleConfig %s" % rule.get("name"), "scope": rule.get("name"),
                                "direction": "ingress", "protocol": selector.get("protocol"),
                                "port_min": int(low), "port_max": int(high or low), "remote": source.get("subnet")})
    drift += [str(p) for p in pm.lint(entries)]
    return {"ok": not drift, "drift": drift, "default_action": default_actions[0] if default_actions else None,
            "rules": sorted(r.get("name") for r in rules)}


# Talos's own services; a system extension's service (ext-*) or anything else is not minimal.
TALOS_CORE_SERVICES = ("apid", "auditd", "containerd", "cri", "dashboard", "etcd", "kubelet", "machined",
                       "syslogd", "trustd", "udevd")


def talos_live_evidence(info):
    """talos_info result of one node -> the same evidence as a rendered config, plus services."""
    info = info or {}
    firewall = info.get("firewall") or {}
    drift = []
    if firewall.get("default_action") != "block":
        drift.append("ingress default action is %s, not block" % firewall.get("default_action"))
    entries = []
    for rule in firewall.get("rules") or []:
        for port in rule.get("ports") or []:
            low, dummy, high = str(port).partition("-")
            for subnet in rule.get("sources") or []:
                entries.append({"field": "nftables ingress rule", "scope": None, "direction": "ingress",
                                "protocol": rule.get("protocol"), "port_min": int(low), "port_max": int(high or low), "remote": subnet})
    drift += [str(p) for p in pm.lint(entries)]
    extra = sorted(s.get("id") for s in info.get("services") or [] if s.get("id") not in TALOS_CORE_SERVICES)
    return {"ok": not drift, "drift": drift, "default_action": firewall.get("default_action"),
            "services_ok": not extra, "extra_services": extra, "version": info.get("talos_version")}


def cilium_profile_evidence(values):
    """Transparent encryption (with node encryption) on, policies enforced and not in audit."""
    values = values or {}
    encryption = values.get("encryption") or {}
    drift = []
    if not encryption.get("enabled"):
        drift.append("encryption.enabled is not true")
    if encryption.get("type") not in ("wireguard", "ipsec"):
        drift.append("encryption.type is %r" % encryption.get("type"))
    if encryption.get("type") == "wireguard" and not encryption.get("nodeEncryption"):
        drift.append("encryption.nodeEncryption is off: node-to-node traffic is not encrypted")
    if values.get("policyEnforcementMode", "default") not in ("default", "always"):
        drift.append("policyEnforcementMode is %r" % values.get("policyEnforcementMode"))
    if values.get("policyAuditMode"):
        drift.append("policyAuditMode is on: policies log but do not drop")
    host_firewall = bool((values.get("hostFirewall") or {}).get("enabled"))
    if not host_firewall:
        drift.append("hostFirewall.enabled is not true")
    return {"ok": not drift, "drift": drift, "encryption": encryption.get("type") if encryption.get("enabled") else None,
            "node_encryption": bool(encryption.get("nodeEncryption")),
            "enforcement": values.get("policyEnforcementMode", "default"), "audit_mode": bool(values.get("policyAuditMode")),
            "host_firewall": host_firewall}


def cilium_live_evidence(status):
    """cilium_status result -> CNI-01's evidence: encryption proven on the agents, every agent ready,
    policies enforced (not audit), the host firewall enforcing."""
    status = status or {}
    encryption = status.get("encryption") or {}
    agents = status.get("agents") or {}
    enforcement = status.get("enforcement") or {}
    host_firewall = status.get("host_firewall") or {}
    drift = [str(p) for p in encryption.get("problems") or []]
    if not encryption.get("proven") and not drift:
        drift.append("encryption is not proven on the agents")
    if not agents.get("all_ready"):
        drift.append("agents not ready: %s" % (agents.get("not_ready") or "no agent answered"))
    if enforcement.get("audit_mode"):
        drift.append("policy audit mode is on")
    if not host_firewall.get("enforcing"):
        drift.append("host firewall not enforcing")
    return {"ok": not drift, "drift": drift, "encryption": encryption, "enforcement": enforcement}


def oidc_mfa_evidence(config):
    """A JWT authenticator whose claim validation requires MFA in `amr`."""
    config = config or {}
    drift = []
    jwts = config.get("jwt") or []
    if config.get("kind") != "AuthenticationConfiguration" or not jwts:
        drift.append("no structured AuthenticationConfiguration with a JWT issuer")
    issuers = []
    for i, jwt in enumerate(jwts):
        issuers.append((jwt.get("issuer") or {}).get("url"))
        rules = [r.get("expression", "") for r in jwt.get("claimValidationRules") or []]
        if not any("amr" in r and "mfa" in r for r in rules):
            drift.append("jwt[%d] (%s) accepts tokens without MFA (no claimValidationRule on amr)" % (i, issuers[-1]))
        groups = ((jwt.get("claimMappings") or {}).get("groups") or {})
        if not groups:
            drift.append("jwt[%d] maps no groups: RBAC by Zitadel role cannot work" % i)
    return {"ok": not drift, "drift": drift, "issuers": issuers}


def _status(result):
    try:
        return int((result or {}).get("status"))
    except (TypeError, ValueError):
        return None


def identity_probe_evidence(probes, expected=None):
    """The API server's own answers to probe tokens (SelfSubjectReview POSTs, `uri` results).

    `probes.without_mfa` is the answer to a correctly signed token for the right audience whose
    `amr` lacks mfa: the expected, passing evidence is 401 (the claim validation rule refused
    it); any 2xx means a token without MFA is accepted. `probes.with_mfa` (optional) must be
    201 and map to exactly `expected.username` / `expected.groups`, so that the 401 above is
    the MFA rule's doing and not an authenticator that refuses everything. `probes` may also be
    the results of a loop over those two names (each result carries its `item`)."""
    if isinstance(probes, list):
        probes = dict((r.get("item"), r) for r in probes if isinstance(r, dict) and not r.get("skipped"))
    probes = probes or {}
    expected = expected or {}
    drift = []
    without = _status(probes.get("without_mfa"))
    if without is None:
        drift.append("no answer from the API server to the probe token without MFA")
    elif without != 401:
        drift.append("a token without MFA got HTTP %d from the API server, not 401" % without
                     + (" (it was accepted)" if 200 <= without < 300 else ""))
    user = None
    if probes.get("with_mfa") is not None:
        with_mfa = _status(probes["with_mfa"])
        user = (((probes["with_mfa"].get("json") or {}).get("status") or {}).get("userInfo") or {})
        if with_mfa != 201:
            drift.append("a token with MFA got HTTP %s from the API server, not 201" % with_mfa)
        else:
            if expected.get("username") is not None and user.get("username") != expected["username"]:
                drift.append("a token with MFA maps to username %r, not %r" % (user.get("username"), expected["username"]))
            if expected.get("groups") is not None:
                got = sorted(g for g in user.get("groups") or [] if g != "system:authenticated")
                if got != sorted(expected["groups"]):
                    drift.append("a token with MFA maps to groups %s, not %s" % (got, sorted(expected["groups"])))
    return {"ok": not drift, "drift": drift, "without_mfa": without,
            "with_mfa": _status(probes.get("with_mfa")) if probes.get("with_mfa") is not None else None,
            "user": {"username": user.get("username"), "groups": user.get("groups")} if user else None}


def _builtin_cluster_admin(obj):
    """The API server's own bootstrap binding (cluster-admin -> system:masters, rbac-defaults): every cluster has it."""
    meta = obj.get("metadata") or {}
    subjects = [(s.get("kind"), s.get("name")) for s in obj.get("subjects") or []]
    # Only as Kubernetes makes it: a subject added to it is somebody's grant, and judged.
    return (obj.get("kind") == "ClusterRoleBinding" and meta.get("name") == "cluster-admin"
            and (meta.get("labels") or {}).get("kubernetes.io/bootstrapping") == "rbac-defaults"
            and subjects == [("Group", "system:masters")] and (obj.get("roleRef") or {}).get("name", "cluster-admin") == "cluster-admin")


def rbac_evidence(objects):
    """No (Cluster)RoleBinding grants system:masters (it bypasses RBAC entirely), except the API server's
    own bootstrap `cluster-admin` binding; `bindings` counts the collection's own (an owned set's)."""
    drift = []
    bindings = 0
    for obj in _docs(objects):
        if obj.get("kind") not in ("ClusterRoleBinding", "RoleBinding") or _builtin_cluster_admin(obj):
            continue
        labels = (obj.get("metadata") or {}).get("labels") or {}
        # Rendered objects carry the label too; live clusters hold the system's bindings besides.
        bindings += 1 if labels.get(OWNED_SET_LABEL) else 0
        for subject in obj.get("subjects") or []:
            if subject.get("kind") == "Group" and subject.get("name") == "system:masters":
                drift.append("%s %s binds system:masters" % (obj["kind"], (obj.get("metadata") or {}).get("name")))
    return {"ok": not drift, "drift": drift, "bindings": bindings}


def exposure_evidence(objects):
    """No Ingress, Gateway (API routes) or LoadBalancer Service: the edge pair is the only entry."""
    drift = []
    for obj in _docs(objects):
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        name = "%s/%s" % (meta.get("namespace", "-"), meta.get("name"))
        if kind in _EXPOSING_KINDS:
            drift.append("%s %s exposes a service" % (kind, name))
        elif kind == "Service" and (obj.get("spec") or {}).get("type") == "LoadBalancer":
            drift.append("Service %s is of type LoadBalancer" % name)
    return {"ok": not drift, "drift": drift, "objects": len(_docs(objects))}


def owned_set_objects(objects, owned_set):
    """The objects of one of the collection's owned sets (by its label)."""
    return [o for o in _docs(objects) if ((o.get("metadata") or {}).get("labels") or {}).get(OWNED_SET_LABEL) == owned_set]


class FilterModule(object):
    def filters(self):
        return {
            "talos_firewall_evidence": talos_firewall_evidence,
            "talos_live_evidence": talos_live_evidence,
            "cilium_profile_evidence": cilium_profile_evidence,
            "cilium_live_evidence": cilium_live_evidence,
            "oidc_mfa_evidence": oidc_mfa_evidence,
            "identity_probe_evidence": identity_probe_evidence,
            "rbac_evidence": rbac_evidence,
            "exposure_evidence": exposure_evidence,
            "owned_set_objects": owned_set_objects,
        }
