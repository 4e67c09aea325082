# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One evaluator per control of the baseline: recorded evidence in, a judged control out. Pure.

The evidence is what verify.yml collected (API answers, probe outputs, the evidence dicts of the
baseline_evidence / perimeter_audit / policy_exposure filters); each evaluator decides the
status, says how strong the evidence is (``live``: read from the running system; ``static``:
judged on rendered files, and a control met that way has status ``static``, never ``pass``;
``not_applicable``: nothing to read here) and turns each difference
into a finding that points at what caused it (an inventory key, a rendered file, or an object).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.compliance import mapping

LEVELS = ("live", "static", "not_applicable")

# Which inventory key declares what a security group of the port model is made from.
_ROLE_KEYS = {"loadbalancer": "netsec_cluster.loadbalancer", "jump_host": "netsec_cluster.jump_host",
              "control_plane": "netsec_nodes", "worker": "netsec_nodes"}


def _finding(message, *locations):
    return {"message": str(message), "locations": [loc for loc in locations if loc]}


def _control(cid, title, status, level, source, evidence, findings):
    known = mapping.mapping_of(cid)
    if status == "pass" and level == "static":
        status = "static"  # met by the rendered files only: never a bare PASS
    return {
        "id": cid, "title": title, "layer": mapping.layer_of(cid), "status": status, "evidence_level": level,
        "source": source, "evidence": evidence, "drift": [f["message"] for f in findings], "findings": findings,
        "requirement": known["requirement"], "cis": known["cis"], "nsa": known["nsa"],
    }


def _section(evidence, name, field):
    value = evidence.get(name)
    if not isinstance(value, dict):
        raise NetsecError("is missing or not a mapping", field=field_path(field, name),
                          fix="verify.yml passes every evidence section (perimeter, edge, nodes, cni, identity, workloads)")
    return value


def _level(section, field, kube=False):
    """The section's evidence level: given, or as verify knows it (nodes and Cilium agents run unless the
    environment is render-only; a Kubernetes API is asked whenever one answers, the lab's included)."""
    if "level" in section:
        level = section["level"]
    elif kube:
        level = "live" if section.get("kube_live") else "static"
    else:
        level = "static" if section.get("render_only") else "live"
    if level not in ("live", "static"):
        raise NetsecError("%r is not live or static" % (level,), field=field_path(field, "level"),
                          fix="live when read from the running system, static when read from rendered files")
    return level


def _source_suffix(level):
    return "live cluster" if level == "live" else "rendered (no live cluster in this environment)"


def _k8s_source(section, level):
    """Where the Kubernetes objects were read, as the report names it."""
    if level == "live":
        return "live Kubernetes API" + (" (the lab control plane)" if section.get("render_only") else "")
    return "rendered files (no Kubernetes API in this environment)"


def _group_location(line, cluster_name):
    """'lab-loadbalancer: extra ...' -> the inventory key that declares that group's role."""
    group = line.split(":", 1)[0]
    prefix = (cluster_name or "") + "-"
    role = group[len(prefix):] if cluster_name and group.startswith(prefix) else None
    return {"inventory": _ROLE_KEYS.get(role, "netsec_cluster"), "logical": "security group %s" % group}


# --- perimeter -------------------------------------------------------------------------------

def _perimeter(evidence, field):
    section = _section(evidence, "perimeter", field)
    audit = section.get("audit") or {}
    source = "Neutron security groups (%s)" % section.get("cloud", "")
    return section, audit, source


def perim_01(evidence, field="evidence"):
    section, audit, source = _perimeter(evidence, field)
    cluster = section.get("cluster_name")
    extra = [d for d in audit.get("drift") or [] if ": extra " in d]
    findings = [_finding(d, _group_location(d, cluster)) for d in extra]
    findings += [_finding("%s: group missing" % g, _group_location(g, cluster)) for g in audit.get("missing_groups") or []]
    return _control("PERIM-01", "Stateful default-deny inbound; no ingress rule beyond the port model",
                    "fail" if findings else "pass", "live", source, audit.get("groups") or {}, findings)


def perim_02(evidence, field="evidence"):
    section, audit, source = _perimeter(evidence, field)
    missing = [d for d in audit.get("drift") or [] if ": extra " not in d]
    findings = [_finding(d, _group_location(d, section.get("cluster_name"))) for d in missing]
    return _control("PERIM-02", "Explicit allowlists for control plane, workers, load balancers and jump host are in place",
                    "fail" if findings else "pass", "live", source,
                    "%s live rules compared with the port model" % audit.get("rules_checked", 0), findings)


def perim_03(evidence, field="evidence"):
    section, audit, dummy = _perimeter(evidence, field)
    findings = [_finding(e, _group_location(e, section.get("cluster_name")), {"inventory": "netsec_waivers", "optional": True})
                for e in audit.get("exposures") or []]
    return _control("PERIM-03", "No sensitive port (etcd, kubelet, trustd, apid, NodePorts, 6443) open to the world",
                    "fail" if findings else "pass", "live", "every security group of the project",
                    "%s rules linted, %s waiver(s)" % (audit.get("rules_checked", 0), section.get("waivers", 0)), findings)


# --- edge ------------------------------------------------------------------------------------

def _edge(evidence, field):
    return _section(evidence, "edge", field)


def _lbs(edge):
    lbs = edge.get("loadbalancers") or {}
    return sorted(lbs), lbs


def edge_01(evidence, field="evidence"):
    edge = _edge(evidence, field)
    tls = edge.get("tls") or {}
    lines = tls.get("stdout_lines") or (tls.get("stdout") or "").splitlines()
    ok = tls.get("rc") == 0 and "OK - Compliant" in (tls.get("stdout") or "")
    shown = [ln.strip() for ln in lines if re.search("Compliant|Not compliant|Supplied CA file", ln)]
    problems = [] if tls.get("rc") == 0 else [ln.strip() for ln in lines if re.search(r"^\s+\* ", ln)]
    if not ok and not problems:
        problems = ["sslyze did not report compliance (rc %s)" % tls.get("rc")]
    profile = edge.get("tls_profile", "intermediate")
    findings = [_finding(p, {"inventory": "netsec_tls_profile"}) for p in problems]
    return _control("EDGE-01", "Ingress TLS complies with Mozilla %s" % profile, "pass" if ok else "fail", "live",
                    "sslyze from %s to %s at %s" % ("the lab scanner" if edge.get("scanner") else "the controller",
                                                    edge.get("host"), edge.get("vip")), shown, findings)


def edge_02(evidence, field="evidence"):
    edge = _edge(evidence, field)
    client = edge.get("client") or {}
    stdout = client.get("stdout") or ""
    ok = client.get("rc") == 0 and '"node"' in stdout
    evidence_out = stdout + (client.get("stderr") or "")
    if client.get("rc") == 0 and stdout.startswith("{"):
        try:
            # Which backend answered and the client address it saw: stable evidence; the LB-side
            # peer address alternates between the node's v4 and v6.
            evidence_out = dict((k, v) for k, v in json.loads(stdout).items() if k != "peer")
        except ValueError:
            pass
    findings = [] if client.get("rc") == 0 else [
        _finding("https://%s via %s: %s" % (edge.get("host"), edge.get("vip"), client.get("stderr") or ""),
                 {"inventory": "netsec_ingress_routes"})]
    if not ok and not findings:
        findings = [_finding("the answer through %s names no backend node" % edge.get("vip"), {"inventory": "netsec_ingress_routes"})]
    return _control("EDGE-02", "The service answers through the service address, TLS verified against the CA",
                    "pass" if ok else "fail", "live",
                    "curl from %s" % ("lab client1" if edge.get("client_probe") else "the controller"), evidence_out, findings)


def edge_03(evidence, field="evidence"):
    edge = _edge(evidence, field)
    names, lbs = _lbs(edge)
    statuses = [(lbs[n] or {}).get("ha") or {} for n in names]
    holders = len([s for s in statuses if s.get("holder")])
    drift = []
    for name, status in zip(names, statuses):
        drift += [(name, d) for d in status.get("drift") or []]
    if edge.get("ha_mode") == "vrrp" and holders != 1:
        drift.append((None, "%d nodes hold the virtual address (exactly one must)" % holders))
    findings = [_finding(d, {"inventory": "netsec_cluster.loadbalancer.ha_mode"}, {"logical": "host %s" % n} if n else None)
                for n, d in drift]
    return _control("EDGE-03", "High availability (%s): both load balancers healthy and serving" % edge.get("ha_mode"),
                    "fail" if findings else "pass", "live", "lb_ha status on %s" % ", ".join(names),
                    dict((n, s.get("evidence")) for n, s in zip(names, statuses)), findings)


def edge_04(evidence, field="evidence"):
    edge = _edge(evidence, field)
    names, lbs = _lbs(edge)
    findings = []
    for name in names:
        lb = lbs[name] or {}
        live_cfg = {"file": "/etc/haproxy/haproxy.cfg", "logical": "host %s" % name}
        if lb.get("haproxy_rc") != 0:
            findings.append(_finding("%s: haproxy.cfg invalid" % name, live_cfg))
    for name in names:
        lb = lbs[name] or {}
        if "type: ip" not in "\n".join(lb.get("tables") or []):
            findings.append(_finding("%s: no stick table" % name, {"file": "/etc/haproxy/haproxy.cfg", "logical": "host %s" % name}))
    return _control("EDGE-04", "Valid config with per-source rate limits and shedding live (stick tables)",
                    "fail" if findings else "pass", "live", "haproxy -c and the runtime API on each load balancer",
                    dict((n, (lbs[n] or {}).get("tables") or []) for n in names), findings)


def edge_05(evidence, field="evidence"):
    edge = _edge(evidence, field)
    api = edge.get("api") or {}
    client, jump = str(api.get("client", "")), str(api.get("jump", ""))
    findings = []
    if client not in ("000", "403"):
        findings.append(_finding("a client reached the API (HTTP %s)" % client, {"inventory": "netsec_cluster.loadbalancer.api_cidrs"}))
    if jump != "200":
        findings.append(_finding("the jump host could not reach the API (HTTP %s)" % jump, {"inventory": "netsec_cluster.jump_host.admin_cidrs"}))
    return _control("EDGE-05", "Kubernetes API reachable through the edge only from the jump host",
                    "fail" if findings else "pass", "live",
                    "curl https://%s:6443/readyz from a client and from the jump host" % edge.get("vip"),
                    "client: HTTP %s; jump host: HTTP %s" % (client, jump), findings)


# --- nodes, CNI, identity, workloads ---------------------------------------------------------

_RULE_NAME = re.compile(r"^NetworkRuleConfig ([^\s:]+)")


def _talos_location(node, line, level):
    if level != "static":
        return {"inventory": "netsec_nodes", "logical": "Talos node %s" % node}
    rendered = "talos/%s.yaml" % node
    match = _RULE_NAME.match(line)
    if match:
        return {"rendered": rendered, "match": "name: %s" % match.group(1), "logical": "Talos node %s" % node}
    if "NetworkDefaultActionConfig" in line:
        return {"rendered": rendered, "match": "kind: NetworkDefaultActionConfig", "logical": "Talos node %s" % node}
    return {"rendered": rendered, "logical": "Talos node %s" % node}


def talos_01(evidence, field="evidence"):
    nodes = _section(evidence, "nodes", field)
    level = _level(nodes, field_path(field, "nodes"))
    talos = nodes.get("talos") or {}
    findings = []
    for node in sorted(talos):
        findings += [_finding(d, _talos_location(node, d, level)) for d in (talos[node] or {}).get("drift") or []]
    return _control("TALOS-01", "Talos host firewall blocks by default and opens only the port model's flows",
                    "fail" if findings else "pass", level, "Talos machine configs, %s" % _source_suffix(level), talos, findings)


def talos_02(evidence, field="evidence"):
    nodes = _section(evidence, "nodes", field)
    level = _level(nodes, field_path(field, "nodes"))
    talos = nodes.get("talos") or {}
    if level == "static":
        return _control("TALOS-02", "Talos nodes run no general-purpose service", "not_applicable", "not_applicable",
                        _source_suffix(level), "Needs a running node (talos_info): none runs in this environment.", [])
    extra = sorted(set(s for node in talos.values() for s in (node or {}).get("extra_services") or []))
    findings = [_finding(s, {"inventory": "netsec_nodes"}) for s in extra]
    return _control("TALOS-02", "Talos nodes run no general-purpose service", "fail" if findings else "pass", "live",
                    "talos_info on every node", [(talos[n] or {}).get("version") for n in sorted(talos)], findings)


def _key_of(line):
    """'encryption.nodeEncryption is off: ...' -> 'encryption.nodeEncryption' (the values key a drift line names)."""
    head = line.split(" ", 1)[0]
    return head if re.match(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$", head) else None


def cni_01(evidence, field="evidence"):
    cni = _section(evidence, "cni", field)
    level = _level(cni, field_path(field, "cni"))
    cilium = cni.get("cilium") or {}
    findings = []
    for line in cilium.get("drift") or []:
        if level == "static":
            findings.append(_finding(line, {"rendered": "cilium/install/cilium-values.yaml", "key": _key_of(line)},
                                     {"inventory": "netsec_cilium"}))
        else:
            findings.append(_finding(line, {"inventory": "netsec_cilium", "logical": "Cilium agents"}))
    ok = bool(cilium.get("ok"))
    if not ok and not findings:
        findings = [_finding("Cilium evidence is not ok", {"inventory": "netsec_cilium"})]
    return _control("CNI-01", "Cilium encrypts pod and node traffic (WireGuard/IPsec) and enforces policies",
                    "pass" if ok else "fail", level, "Cilium values, %s" % _source_suffix(level), cilium, findings)


def _object_location(level, rendered, name_match=None, logical=None):
    if level == "static":
        return {"rendered": rendered, "match": name_match, "logical": logical}
    return {"logical": logical or rendered}


def id_01(evidence, field="evidence"):
    ident = _section(evidence, "identity", field)
    oidc = ident.get("oidc")
    probes = ident.get("probes")
    # Live when the API server itself answered the probe tokens; the rendered configuration alone is static.
    level = ident.get("level") or ("live" if probes else "static")
    if level not in ("live", "static"):
        raise NetsecError("%r is not live or static" % (level,), field=field_path(field, "identity", "level"))
    rendered = "zitadel/%s/authentication-config.yaml" % ident.get("environment", "")
    static_hint = _object_location("static", rendered, "jwt:", "AuthenticationConfiguration")
    findings = [_finding(d, static_hint, {"inventory": "netsec_zitadel"}) for d in (oidc or {}).get("drift") or []]
    findings += [_finding(d, {"logical": "SelfSubjectReview %s" % ident.get("probe_url", "")}, {"inventory": "netsec_zitadel"})
                 for d in (probes or {}).get("drift") or []]
    nodes_level = "static" if ident.get("render_only") else "live"
    if probes:
        source = "SelfSubjectReview probes to %s (a token without MFA, one with)" % ident.get("probe_url", "")
        source += " and the rendered AuthenticationConfiguration" if oidc is not None else ""
    else:
        source = "AuthenticationConfiguration, %s" % _source_suffix(nodes_level)
    return _control("ID-01", "API server authenticates through Zitadel OIDC and rejects tokens without MFA",
                    "fail" if findings else "pass", level, source,
                    {"authentication_configuration": oidc, "probes": probes}, findings)


_BINDING = re.compile(r"^(ClusterRoleBinding|RoleBinding) (\S+) ")


def id_02(evidence, field="evidence"):
    ident = _section(evidence, "identity", field)
    level = _level(ident, field_path(field, "identity"), kube=True)
    rbac = ident.get("rbac") or {}
    rendered = "zitadel/%s/rbac.yaml" % ident.get("environment", "")
    findings = []
    for line in rbac.get("drift") or []:
        match = _BINDING.match(line)
        findings.append(_finding(line, _object_location(level, rendered, "name: %s" % match.group(2) if match else None,
                                                        "%s %s" % match.groups() if match else None)))
    if not rbac.get("bindings"):
        findings.append(_finding("no RoleBinding or ClusterRoleBinding found", {"inventory": "netsec_zitadel.teams"}))
    return _control("ID-02", "RBAC for the Zitadel groups, no binding to system:masters",
                    "pass" if rbac.get("ok") and not findings else "fail", level, "RBAC objects, %s" % _k8s_source(ident, level), rbac, findings)


def wl_01(evidence, field="evidence"):
    wl = _section(evidence, "workloads", field)
    level = _level(wl, field_path(field, "workloads"), kube=True)
    proof = wl.get("netpol") or {}
    differences = proof.get("differences") or {}
    findings = [_finding("extra %s" % json.dumps(d), {"inventory": "netsec_paths", "optional": True}, {"inventory": "netsec_namespaces"})
                for d in differences.get("extra") or []]
    findings += [_finding("missing %s" % json.dumps(d), {"inventory": "netsec_paths", "optional": True}, {"inventory": "netsec_namespaces"})
                 for d in differences.get("missing") or []]
    ok = bool(proof.get("equal"))
    if not ok and not findings:
        findings = [_finding("the reachability analysis did not prove the declared paths", {"inventory": "netsec_namespaces"})]
    notes = proof.get("notes") or []
    return _control("WL-01", "Every namespace default-deny with only the declared paths (reachability proof)",
                    "pass" if ok else "fail", level, "namespace_policies reachability analysis of the policies in the %s" % _k8s_source(wl, level),
                    # the list as verify's Jinja printed it, so that evidence reads the same as before
                    "%s allowed flows over %s endpoints; notes: %s" % (proof.get("flows", 0), proof.get("endpoints", 0), list(notes)),
                    findings)


_OBJECT = re.compile(r"^(\S+) (\S+)/(\S+) ")


def wl_02(evidence, field="evidence"):
    wl = _section(evidence, "workloads", field)
    level = _level(wl, field_path(field, "workloads"), kube=True)
    exposure = wl.get("exposure") or {}
    findings = []
    for line in exposure.get("drift") or []:
        match = _OBJECT.match(line)
        logical = "%s %s/%s" % match.groups() if match else None
        findings.append(_finding(line, {"logical": logical} if logical else {"inventory": "netsec_namespaces"}))
    ok = bool(exposure.get("ok"))
    return _control("WL-02", "No service exposed through Ingress, Gateway routes or LoadBalancer Services",
                    "pass" if ok and not findings else "fail", level, "Kubernetes objects, %s" % _k8s_source(wl, level),
                    "%s objects checked" % exposure.get("objects", 0), findings)


def wl_03(evidence, field="evidence"):
    wl = _section(evidence, "workloads", field)
    level = _level(wl, field_path(field, "workloads"), kube=True)
    policy = wl.get("policy_exposure") or {}
    findings = []
    for line in policy.get("drift") or []:
        match = re.match(r"^((?:Cilium)?(?:Clusterwide)?NetworkPolicy) (\S+?):", line)
        findings.append(_finding(line, {"logical": "%s %s" % match.groups()} if match else None, {"inventory": "netsec_waivers", "optional": True}))
    ok = bool(policy.get("ok"))
    return _control("WL-03", "No NetworkPolicy or Cilium policy admits the Internet to etcd, kubelet, the Talos API, the NodePorts or 6443",
                    "pass" if ok and not findings else "fail", level,
                    "NetworkPolicies and Cilium policies, %s (the roles' exposure lint)" % _k8s_source(wl, level),
                    "%s policies, %s address rules linted, %s waiver(s)" % (
                        policy.get("policies", 0), policy.get("entries", 0), wl.get("waivers", 0)), findings)


def _exposure_sources(section, k8s):
    """Where each layer of the proof was read, and whether that is a running system."""
    return [
        ("security_groups", "live: Neutron (%s)" % section.get("cloud", "")),
        ("haproxy", "live: haproxy.cfg and lists on %s" % ", ".join(section.get("loadbalancers") or [])),
        ("talos", "static: rendered machine configs" if section.get("render_only") else "not read: live nodes are judged by TALOS-01"),
        ("cilium_host", "%s: CiliumClusterwideNetworkPolicies, %s" % ("live" if section.get("kube_live") else "static", k8s)),
        ("namespace_policies", "%s: NetworkPolicies and namespace-policies CNPs, %s" % ("live" if section.get("kube_live") else "static", k8s)),
    ]


def exp_01(evidence, field="evidence"):
    section = _section(evidence, "exposure", field)
    proof = section.get("proof") or {}
    k8s = _k8s_source(section, "live" if section.get("kube_live") else "static")
    sources = _exposure_sources(section, k8s)
    level = "static" if any(text.startswith("static") for dummy, text in sources) else "live"
    findings = [_finding(p, {"inventory": "netsec_cluster"}, {"logical": p.split(":", 1)[0]}) for p in proof.get("problems") or []]
    if not proof.get("ok") and not findings:
        findings = [_finding("the layered exposure proof did not hold", {"inventory": "netsec_cluster"})]
    return _control("EXP-01", "Layered exposure proof: every path open exactly as the port model declares, through every layer, "
                              "sensitive services behind two layers",
                    "fail" if findings else "pass", level, "; ".join(text for dummy, text in sources),
                    {"summary": proof.get("summary"), "layers": dict(sources), "lb_differences": proof.get("lb_differences")}, findings)


EVALUATORS = (
    ("PERIM-01", perim_01), ("PERIM-02", perim_02), ("PERIM-03", perim_03),
    ("EDGE-01", edge_01), ("EDGE-02", edge_02), ("EDGE-03", edge_03), ("EDGE-04", edge_04), ("EDGE-05", edge_05),
    ("TALOS-01", talos_01), ("TALOS-02", talos_02), ("CNI-01", cni_01),
    ("ID-01", id_01), ("ID-02", id_02), ("WL-01", wl_01), ("WL-02", wl_02), ("EXP-01", exp_01), ("WL-03", wl_03),
)


def evaluate(evidence, only=None, field="evidence"):
    """Every control (or those in `only`) judged on the evidence, in the baseline's order."""
    if not isinstance(evidence, dict):
        raise NetsecError("must be a mapping of evidence sections", field=field)
    known = [cid for cid, dummy in EVALUATORS]
    for cid in only or []:
        if cid not in known:
            raise NetsecError("%r is not a control of the baseline" % cid, field="only", fix="one of %s" % ", ".join(known))
    return [fn(evidence, field) for cid, fn in EVALUATORS if not only or cid in only]
