# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluate what the cluster says about Cilium (pure): agents, encryption, enforcement, host firewall.

Inputs are objects as the API server returns them (the cilium DaemonSet, its pods, the
cilium-config ConfigMap, CiliumNodes) and optionally the text of `cilium-dbg encrypt status`
from each agent. Encryption counts as proven only from what the agents publish, never from
the values we asked for: the config must enable it, every agent must be ready, every node
must have published its WireGuard key (or IPsec key index), and, when the agents' own
status was read, each agent must report the mode with all its peers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

WG_PUBKEY_ANNOTATION = "network.cilium.io/wg-pub-key"


def _true(value):
    return str(value).strip().lower() == "true"


def agents(daemonset, pods):
    st = (daemonset or {}).get("status") or {}
    meta = (daemonset or {}).get("metadata") or {}
    desired = st.get("desiredNumberScheduled", 0)
    out = {
        "found": daemonset is not None,
        "desired": desired,
        "ready": st.get("numberReady", 0),
        "available": st.get("numberAvailable", 0),
        "updated": st.get("updatedNumberScheduled", 0),
        "rollout_observed": st.get("observedGeneration", 0) >= meta.get("generation", 0),
        "pods": [],
    }
    for pod in pods or []:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        out["pods"].append({
            "name": pod["metadata"]["name"],
            "node": (pod.get("spec") or {}).get("nodeName"),
            "phase": (pod.get("status") or {}).get("phase"),
            "ready": bool(statuses) and all(s.get("ready") for s in statuses),
            "restarts": sum(s.get("restartCount", 0) for s in statuses),
        })
    out["all_ready"] = bool(daemonset is not None and desired > 0 and out["rollout_observed"]
                            and out["ready"] == desired and out["available"] == desired and out["updated"] == desired
                            and all(p["ready"] for p in out["pods"]))
    out["not_ready"] = sorted(p["name"] for p in out["pods"] if not p["ready"])
    return out


def parse_encrypt_status(text):
    """`cilium-dbg encrypt status` -> {mode, peers, errors, interface}."""
    out = {"mode": None, "peers": None, "errors": None, "interface": None}
    for line in (text or "").splitlines():
        line = line.strip()
        m = re.match(r"^Encryption:\s*(\S+)", line)
        if m:
            out["mode"] = m.group(1).lower()
        m = re.match(r"^Number of peers:\s*(\d+)", line)
        if m:
            out["peers"] = int(m.group(1))
        m = re.match(r"^Errors:\s*(\d+)", line)
        if m:
            out["errors"] = int(m.group(1))
        m = re.match(r"^Interface:\s*(\S+)", line)
        if m:
            out["interface"] = m.group(1)
    return out


def encryption(config, cilium_nodes, agents_report, encrypt_status=None):
    data = config or {}
    if _true(data.get("enable-wireguard")):
        mode = "wireguard"
    elif _true(data.get("enable-ipsec")):
        mode = "ipsec"
    else:
        mode = "none"
    nodes = cilium_nodes or []
    names = sorted(n["metadata"]["name"] for n in nodes)
    if mode == "wireguard":
        keyed = sorted(n["metadata"]["name"] for n in nodes if ((n["metadata"].get("annotations") or {}).get(WG_PUBKEY_ANNOTATION)))
    elif mode == "ipsec":
        keyed = sorted(n["metadata"]["name"] for n in nodes if ((n.get("spec") or {}).get("encryption") or {}).get("key"))
    else:
        keyed = []
    evidence, problems = [], []
    if mode == "none":
        problems.append("cilium-config enables neither WireGuard nor IPsec")
    else:
        evidence.append("cilium-config: enable-%s=true" % mode)
        missing = sorted(set(names) - set(keyed))
        if not names:
            problems.append("no CiliumNode objects")
        elif missing:
            problems.append("nodes without a published %s key: %s" % (mode, ", ".join(missing)))
        else:
            evidence.append("all %d CiliumNodes published a %s key" % (len(names), mode))
        if not agents_report["all_ready"]:
            problems.append("not every agent is ready")
    per_agent = {}
    for pod_name, text in sorted((encrypt_status or {}).items()):
        parsed = parse_encrypt_status(text)
        per_agent[pod_name] = parsed
        if parsed["mode"] != mode:
            problems.append("%s reports encryption %s, config says %s" % (pod_name, parsed["mode"], mode))
        elif mode == "wireguard" and parsed["peers"] is not None and parsed["peers"] < len(names) - 1:
            problems.append("%s has %s WireGuard peers, expected %s" % (pod_name, parsed["peers"], len(names) - 1))
        elif parsed["errors"]:
            problems.append("%s reports %s IPsec errors" % (pod_name, parsed["errors"]))
    if per_agent and not any(p.startswith(tuple(per_agent)) for p in problems):
        evidence.append("%d agents report %s in the datapath" % (len(per_agent), mode))
    return {
        "mode": mode,
        "node_encryption": mode == "wireguard" and _true(data.get("encrypt-node")),
        "nodes": names,
        "nodes_with_key": keyed,
        "agents": per_agent,
        "evidence": evidence,
        "evidence_level": "datapath" if per_agent else "control-plane",
        "problems": problems,
        "proven": mode != "none" and not problems,
    }


def evaluate(daemonset, pods, config_map, cilium_nodes, encrypt_status=None):
    config = (config_map or {}).get("data") or {}
    agents_report = agents(daemonset, pods)
    return {
        "agents": agents_report,
        "encryption": encryption(config, cilium_nodes, agents_report, encrypt_status),
        "enforcement": {"mode": config.get("enable-policy", "default"), "audit_mode": _true(config.get("policy-audit-mode"))},
        "host_firewall": {"enabled": _true(config.get("enable-host-firewall")),
                          "enforcing": _true(config.get("enable-host-firewall")) and not _true(config.get("policy-audit-mode"))},
        "kube_proxy_replacement": _true(config.get("kube-proxy-replacement")),
        "hubble": {"enabled": _true(config.get("enable-hubble")),
                   "tls": _true(config.get("enable-hubble")) and not _true(config.get("hubble-disable-tls"))},
        "mesh_coexistence": {"cni_exclusive": config.get("cni-exclusive"),
                             "socket_lb_host_namespace_only": _true(config.get("bpf-lb-sock-hostns-only"))},
        "config_found": config_map is not None,
    }
