# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Cilium security profile: a few documented knobs -> Helm values, refusals, values diff.

Pure: no I/O. The knobs own the security-relevant values; `extra_values` may add anything
else but may not override a value the profile sets (it would silently weaken the profile).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh as mesh_mod

DEFAULT_VERSION = "1.18.2"
SPIRE_DEPRECATED_SINCE = (1, 20)  # cilium/cilium#47132: successor is ztunnel-based
# Talos forbids loading kernel modules from workloads: the chart's default set minus SYS_MODULE.
TALOS_AGENT_CAPABILITIES = ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE",
                            "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
TALOS_CLEAN_STATE_CAPABILITIES = ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"]

DEFAULTS = {
    "version": DEFAULT_VERSION,
    "kube_proxy_replacement": True,
    "encryption": "wireguard",
    "node_encryption": None,  # None: on with WireGuard
    "policy_enforcement": "default",
    "policy_audit_mode": False,
    "host_firewall": "audit",
    "host_firewall_skip_audit": False,
    "hubble": True,
    "hubble_relay": True,
    "hubble_ui": False,
    "hubble_tls_method": "cronJob",
    "talos": True,
    "k8s_service_host": "localhost",
    "mesh": "none",
    "cluster": None,
    "extra_values": {},
    "current_values": None,
    "host_firewall_deployed": None,  # evidence read from the cluster (cilium-config), None: unknown
}

CHOICES = {
    "encryption": ("wireguard", "ipsec", "none"),
    "policy_enforcement": ("default", "always"),
    "host_firewall": ("off", "audit", "enforce"),
    "hubble_tls_method": ("helm", "cronJob", "certmanager"),
    "mesh": mesh_mod.MESHES,
}


def parse_version(text, field="version"):
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.(\d+))?", str(text or ""))
    if not match:
        raise NetsecError("%r is not a Cilium version" % (text,), field=field, fix="write it like 1.18.2")
    return tuple(int(p or 0) for p in match.groups())


def parse_profile(raw):
    """Defaults filled, choices and types checked; raises NetsecError naming the knob."""
    profile = copy.deepcopy(DEFAULTS)
    for key, value in (raw or {}).items():
        if key not in DEFAULTS:
            raise NetsecError("unknown knob", field=key, fix="known knobs: %s" % ", ".join(sorted(DEFAULTS)))
        if value is not None:
            profile[key] = value
    for key, choices in CHOICES.items():
        if profile[key] not in choices:
            raise NetsecError("%r is not one of %s" % (profile[key], ", ".join(choices)), field=key)
    for key, default in DEFAULTS.items():
        if (isinstance(default, bool) or key == "node_encryption") and profile[key] is not None and not isinstance(profile[key], bool):
            raise NetsecError("must be true or false", field=key)
    profile["version_tuple"] = parse_version(profile["version"])
    if profile["cluster"] is not None and not isinstance(profile["cluster"], pm.ClusterSpec):
        profile["cluster"] = pm.ClusterSpec.from_dict(profile["cluster"], field="cluster")
    for key in ("extra_values", "current_values"):
        if profile[key] is not None and not isinstance(profile[key], dict):
            raise NetsecError("must be a mapping of Helm values", field=key)
    return profile


def _set(values, dotted, value):
    node = values
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def get_path(values, dotted, default=None):
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def flatten(values, prefix=""):
    """{'a': {'b': 1}} -> {'a.b': 1}; lists are leaves."""
    out = {}
    for key, value in (values or {}).items():
        path = prefix + "." + key if prefix else key
        if isinstance(value, dict) and value:
            out.update(flatten(value, path))
        else:
            out[path] = value
    return out


def profile_values(profile):
    """Helm values the profile owns (before extra_values)."""
    v = {}
    spec = profile["cluster"]
    tunnel = spec["cni"]["tunnel"] if spec is not None else "vxlan"
    _set(v, "kubeProxyReplacement", profile["kube_proxy_replacement"])
    if tunnel == "native":
        _set(v, "routingMode", "native")
    else:
        _set(v, "routingMode", "tunnel")
        _set(v, "tunnelProtocol", tunnel)
        # The port the security groups and Talos rules open comes from the same model.
        _set(v, "tunnelPort", pm.SERVICES["cilium-" + tunnel].port_min)
    if profile["encryption"] == "none":
        _set(v, "encryption.enabled", False)
    else:
        _set(v, "encryption.enabled", True)
        _set(v, "encryption.type", profile["encryption"])
        if profile["encryption"] == "wireguard":
            _set(v, "encryption.nodeEncryption", profile["node_encryption"] is not False)
    _set(v, "policyEnforcementMode", profile["policy_enforcement"])
    # Cilium's audit mode is agent-wide: the host firewall audit phase audits every policy.
    _set(v, "policyAuditMode", bool(profile["policy_audit_mode"] or profile["host_firewall"] == "audit"))
    _set(v, "hostFirewall.enabled", profile["host_firewall"] != "off")
    _set(v, "hubble.enabled", profile["hubble"])
    if profile["hubble"]:
        _set(v, "hubble.listenAddress", ":%d" % pm.SERVICES["hubble-server"].port_min)
        _set(v, "hubble.tls.enabled", True)
        _set(v, "hubble.tls.auto.enabled", True)
        _set(v, "hubble.tls.auto.method", profile["hubble_tls_method"])
        _set(v, "hubble.relay.enabled", profile["hubble_relay"])
        if profile["hubble_relay"]:
            _set(v, "hubble.relay.tls.server.enabled", True)
        _set(v, "hubble.ui.enabled", profile["hubble_ui"])
    if profile["talos"]:
        _set(v, "ipam.mode", "kubernetes")
        _set(v, "k8sServiceHost", profile["k8s_service_host"])
        _set(v, "k8sServicePort", pm.KUBEPRISM_PORT)
        _set(v, "cgroup.autoMount.enabled", False)
        _set(v, "cgroup.hostRoot", "/sys/fs/cgroup")
        _set(v, "securityContext.capabilities.ciliumAgent", list(TALOS_AGENT_CAPABILITIES))
        _set(v, "securityContext.capabilities.cleanCiliumState", list(TALOS_CLEAN_STATE_CAPABILITIES))
    for dotted, value in mesh_mod.cilium_values(profile["mesh"]):
        _set(v, dotted, value)
    return v


def _merge(base, extra):
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def refusals(profile, values):
    """Known-broken or deprecated combinations, each a NetsecError that says what to use instead."""
    problems = []
    flat = flatten(values)
    if get_path(values, "authentication.mutual.spire.enabled") is True:
        if profile["version_tuple"][:2] >= SPIRE_DEPRECATED_SINCE:
            problems.append(NetsecError(
                "SPIRE-based mutual authentication is deprecated since Cilium 1.20 (cilium/cilium#47132)",
                field="extra_values.authentication.mutual.spire.enabled",
                fix="for service-mesh mTLS set mesh: istio-ambient or mesh: linkerd and list the namespaces in mesh_namespaces"))
    enc_type = get_path(values, "encryption.type")
    wireguard_extras = [p for p in flat if p.startswith("encryption.wireguard.")]
    if enc_type == "ipsec" and wireguard_extras:
        problems.append(NetsecError(
            "IPsec and WireGuard cannot be used together (%s set while encryption is ipsec)" % ", ".join(sorted(wireguard_extras)),
            field="extra_values", fix="choose one: encryption: wireguard (recommended) or encryption: ipsec without wireguard values"))
    if profile["encryption"] == "ipsec" and profile["node_encryption"] is True:
        problems.append(NetsecError(
            "node-to-node encryption is a WireGuard feature; with IPsec it has no effect", field="node_encryption",
            fix="use encryption: wireguard, or set node_encryption: false"))
    spec = profile["cluster"]
    if spec is not None and profile["encryption"] == "wireguard" and not spec["cni"]["wireguard"]:
        problems.append(NetsecError(
            "encryption is wireguard but the port model has cni.wireguard false: udp/%d is closed between nodes"
            % pm.SERVICES["cilium-wireguard"].port_min, field="cluster.cni.wireguard",
            fix="set cluster.cni.wireguard: true so the security groups and Talos rules open it"))
    if spec is not None and profile["hubble"] and not spec["cni"]["hubble"]:
        problems.append(NetsecError("hubble is on but the port model has cni.hubble false", field="cluster.cni.hubble",
                                    fix="set cluster.cni.hubble: true, or hubble: false"))
    issuer = get_path(values, "hubble.tls.auto.certManagerIssuerRef")
    if profile["hubble"] and profile["hubble_tls_method"] == "certmanager" and not (isinstance(issuer, dict) and issuer.get("name")):
        # The chart's validate.yaml fails the render without it (found by rendering the real chart).
        problems.append(NetsecError(
            "hubble_tls_method certmanager needs the cert-manager issuer that signs Hubble's certificates "
            "(extra_values.hubble.tls.auto.certManagerIssuerRef is not set)", field="hubble_tls_method",
            fix="set extra_values.hubble.tls.auto.certManagerIssuerRef to {group: cert-manager.io, kind: ClusterIssuer, name: <issuer>}, "
                "or use hubble_tls_method: cronJob"))
    if profile["host_firewall"] == "enforce" and not profile["host_firewall_skip_audit"]:
        current = profile["current_values"]
        audited = (current is not None and get_path(current, "hostFirewall.enabled") is True) or profile["host_firewall_deployed"] is True
        if not audited:
            problems.append(NetsecError(
                "host firewall enforce without an audit phase: the deployed release %s" %
                ("is unknown (fresh install or render)" if current is None else "has the host firewall off"),
                field="host_firewall",
                fix="deploy with host_firewall: audit and the baseline host policies first, check "
                    "`hubble observe --verdict AUDIT` shows no needed flow, then enforce; "
                    "host_firewall_skip_audit: true only for a cluster with no workloads"))
    problems += side_doors(profile["extra_values"] or {})
    for path in sorted(_overridden(profile)):
        problems.append(NetsecError("overrides %s, which the security profile sets" % path,
                                    field="extra_values." + path, fix="use the profile knob instead (see docs/cilium.md)"))
    return problems


# cilium-config keys / agent flags behind the values the profile owns: setting one through extraConfig, extraArgs or
# extraEnv (CILIUM_<FLAG>) would bypass the owned-value refusal, so each is refused with the knob to use.
OWNED_FLAGS = {
    "enable-policy": "policy_enforcement", "policy-audit-mode": "policy_audit_mode / host_firewall",
    "enable-wireguard": "encryption", "enable-ipsec": "encryption", "encrypt-node": "node_encryption",
    "enable-node-encryption": "node_encryption", "enable-wireguard-userspace-fallback": "encryption",
    "enable-host-firewall": "host_firewall", "kube-proxy-replacement": "kube_proxy_replacement",
    "enable-hubble": "hubble", "hubble-disable-tls": "hubble (TLS is always on)", "hubble-tls-cert-file": "hubble_tls_method",
    "hubble-tls-key-file": "hubble_tls_method", "hubble-tls-client-ca-files": "hubble_tls_method",
    "hubble-listen-address": "hubble", "routing-mode": "cluster.cni.tunnel", "tunnel-protocol": "cluster.cni.tunnel",
    "tunnel": "cluster.cni.tunnel", "tunnel-port": "cluster.cni.tunnel", "ipsec-key-file": "encryption",
}
_TALOS_OWNED = {"securityContext.capabilities.ciliumAgent": TALOS_AGENT_CAPABILITIES,
                "securityContext.capabilities.cleanCiliumState": TALOS_CLEAN_STATE_CAPABILITIES}
_FIX = "remove it and use the profile knob %s (see docs/cilium.md)"


def _flag_name(text):
    return re.split(r"[=\s]", str(text).strip().lstrip("-"), maxsplit=1)[0].lower().replace("_", "-")


def side_doors(extra, prefix="extra_values"):
    """Every way extra_values could set an owned value besides its own path, named by its path."""
    problems = []
    for path, value in sorted(flatten(extra).items()):
        parts = path.split(".")
        field = prefix + "." + path
        if len(parts) >= 2 and parts[-2] == "extraConfig" and _flag_name(parts[-1]) in OWNED_FLAGS:
            problems.append(NetsecError("sets cilium-config %s, which the security profile owns" % parts[-1], field=field,
                                        fix=_FIX % OWNED_FLAGS[_flag_name(parts[-1])]))
        if parts[-1] == "extraArgs" and isinstance(value, list):
            for idx, arg in enumerate(value):
                if _flag_name(arg) in OWNED_FLAGS:
                    problems.append(NetsecError("passes --%s, which the security profile owns" % _flag_name(arg),
                                                field="%s[%d]" % (field, idx), fix=_FIX % OWNED_FLAGS[_flag_name(arg)]))
        if parts[-1] == "extraEnv" and isinstance(value, list):
            for idx, env in enumerate(value):
                name = str(env.get("name", "")) if isinstance(env, dict) else str(env)
                flag = _flag_name(name[len("CILIUM_"):]) if name.upper().startswith("CILIUM_") else None
                if flag in OWNED_FLAGS:
                    problems.append(NetsecError("sets %s, which the security profile owns" % name, field="%s[%d].name" % (field, idx),
                                                fix=_FIX % OWNED_FLAGS[flag]))
        if "securityContext" in parts[:-1]:
            tail = parts[parts.index("securityContext") + 1:]
            if tail[0] in ("privileged", "allowPrivilegeEscalation") and value is not False:
                problems.append(NetsecError("makes a Cilium container privileged (%s)" % tail[0], field=field,
                                            fix="remove it: the profile grants the agent only the capabilities it needs"))
            elif tail[0] == "capabilities" and _TALOS_OWNED.get(path, object()) != value:
                problems.append(NetsecError("changes a Cilium container's capabilities", field=field,
                                            fix="remove it: the profile sets securityContext.capabilities (talos: true)"))
    return problems


def _overridden(profile):
    owned = flatten(profile_values(profile))
    extra = flatten(profile["extra_values"] or {})
    out = []
    for path in extra:
        for owned_path in owned:
            if path == owned_path or path.startswith(owned_path + ".") or owned_path.startswith(path + "."):
                if extra[path] != owned.get(path, object()):
                    out.append(path)
                break
    return out


def warnings(profile):
    out = []
    if profile["encryption"] == "none":
        out.append("encryption: none: pod-to-pod traffic between nodes is not encrypted; the audit will report it")
    if profile["host_firewall"] == "audit" and not profile["policy_audit_mode"]:
        out.append("host_firewall: audit sets policyAuditMode for all endpoints (Cilium's audit mode is agent-wide)")
    if profile["policy_audit_mode"] or profile["host_firewall"] == "audit":
        out.append("policy audit mode is on: policies are logged, not enforced")
    if profile["hubble_tls_method"] == "helm":
        out.append("hubble_tls_method: helm regenerates certificates on every render/upgrade; cronJob keeps renders stable")
    return out


def compute(raw):
    """{values, warnings, refusals: [NetsecError]} for a raw profile (module options)."""
    profile = parse_profile(raw)
    values = _merge(profile_values(profile), profile["extra_values"] or {})
    return {"profile": profile, "values": values, "warnings": warnings(profile), "refusals": refusals(profile, values)}


def values_diff(before, after):
    """[{path, before, after}] for every leaf that differs (dotted paths, sorted)."""
    b, a = flatten(before or {}), flatten(after or {})
    out = []
    for path in sorted(set(b) | set(a)):
        if b.get(path, None) != a.get(path, None) or (path in b) != (path in a):
            out.append({"path": path, "before": b.get(path), "after": a.get(path)})
    return out


def helm_template_argv(helm, release, chart, version, namespace, values_file, kube_version=None):
    """The `helm template` command line used for render delivery (no shell)."""
    argv = [helm, "template", release, chart, "--version", str(version), "--namespace", namespace, "--values", values_file]
    if kube_version:
        argv += ["--kube-version", kube_version]
    return argv


def talos_inline_manifest_patch(manifest_text, name="cilium"):
    """A Talos machine-config patch carrying the manifest as an inlineManifest."""
    return {"cluster": {"inlineManifests": [{"name": name, "contents": manifest_text}]}}
