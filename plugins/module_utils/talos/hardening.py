# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The machine-config builder: base config + hardening + host firewall + patches.

Talos 1.13 keeps Kubernetes settings in the v1alpha1 document (cluster.*, machine.kubelet,
machine.features); Talos 1.14 moves them into their own documents (KubeProxyConfig,
KubePrismConfig, KubeAuthenticationConfig, ...). `build()` writes each knob where the
targeted version expects it. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F
from ansible_collections.safespring.netsec.plugins.module_utils.talos import patch as P

TALOS_VERSIONS = ("1.13", "1.14")
MACHINE_TYPES = {"control_plane": "controlplane", "worker": "worker"}
AUTH_MODES = ("none", "oidc_flags", "structured")
# Talos writes machine.files only under /var; the apiserver pod sees it through extraVolumes.
AUTHN_HOST_DIR = "/var/etc/kubernetes/authn"
AUTHN_POD_DIR = "/etc/kubernetes/authn"
AUTHN_FILE = "authentication-config.yaml"
AUTHN_API_VERSIONS = ("apiserver.config.k8s.io/v1beta1", "apiserver.config.k8s.io/v1")
OIDC_FLAGS = (
    ("issuer_url", "oidc-issuer-url"), ("client_id", "oidc-client-id"), ("username_claim", "oidc-username-claim"),
    ("username_prefix", "oidc-username-prefix"), ("groups_claim", "oidc-groups-claim"), ("groups_prefix", "oidc-groups-prefix"),
    ("ca_file", "oidc-ca-file"), ("signing_algs", "oidc-signing-algs"),
)

# Metadata for everything, never payloads of secrets; RBAC changes in full; health noise dropped.
DEFAULT_AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        {"level": "None", "nonResourceURLs": ["/healthz*", "/livez*", "/readyz*", "/version"]},
        {"level": "None", "users": ["system:kube-proxy"], "verbs": ["watch"]},
        {"level": "Metadata", "resources": [{"group": "", "resources": ["secrets", "configmaps"]},
                                            {"group": "authentication.k8s.io", "resources": ["tokenreviews"]}]},
        {"level": "RequestResponse", "verbs": ["create", "update", "patch", "delete"],
         "resources": [{"group": "rbac.authorization.k8s.io"}]},
        {"level": "Metadata"},
    ],
}

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")

DEFAULTS = {
    "cni_none": True,
    "kube_proxy_disabled": True,
    "kubeprism": True,
    "talos_api_access": {"enabled": False, "allowed_roles": ["os:reader"], "allowed_namespaces": ["kube-system"]},
    "kubelet_serving_cert_rotation": True,
    "audit_policy": None,
    "pod_security": {"enforce": "baseline", "audit": "restricted", "warn": "restricted", "exempt_namespaces": ["kube-system"]},
    "admission_plugins": [],
    "authentication": {"mode": "none", "oidc": {}, "configuration": None},
    "kubernetes_version": None,
}
_BOOLS = ("cni_none", "kube_proxy_disabled", "kubeprism", "kubelet_serving_cert_rotation")


def parse_knobs(raw, field="hardening"):
    """Validated hardening knobs (defaults filled in); errors name the knob."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise NetsecError("must be a mapping", field=field)
    unknown = set(raw) - set(DEFAULTS)
    if unknown:
        raise NetsecError("unknown key(s) %s" % ", ".join(sorted(unknown)), field=field, fix="known keys: %s" % ", ".join(sorted(DEFAULTS)))
    knobs = copy.deepcopy(DEFAULTS)
    for key, value in raw.items():
        if value is None:
            continue
        if isinstance(DEFAULTS[key], dict):
            if not isinstance(value, dict):
                raise NetsecError("must be a mapping", field=field_path(field, key))
            bad = set(value) - set(DEFAULTS[key])
            if bad:
                raise NetsecError("unknown key(s) %s" % ", ".join(sorted(bad)), field=field_path(field, key),
                                  fix="known keys: %s" % ", ".join(sorted(DEFAULTS[key])))
            knobs[key].update(dict((k, v) for k, v in value.items() if v is not None))
        else:
            knobs[key] = value
    for key in _BOOLS:
        if not isinstance(knobs[key], bool):
            raise NetsecError("must be true or false", field=field_path(field, key))
    if not isinstance(knobs["talos_api_access"]["enabled"], bool):
        raise NetsecError("must be true or false", field=field_path(field, "talos_api_access", "enabled"))
    for key in ("allowed_roles", "allowed_namespaces"):
        _names(knobs["talos_api_access"][key], field_path(field, "talos_api_access", key))
    ps = knobs["pod_security"]
    _names(ps["exempt_namespaces"], field_path(field, "pod_security", "exempt_namespaces"))
    for mode in ("enforce", "audit", "warn"):
        if ps[mode] not in POD_SECURITY_LEVELS:
            raise NetsecError("%r is not one of %s" % (ps[mode], ", ".join(POD_SECURITY_LEVELS)), field=field_path(field, "pod_security", mode))
    if knobs["audit_policy"] is not None and (not isinstance(knobs["audit_policy"], dict) or knobs["audit_policy"].get("kind") != "Policy"):
        raise NetsecError("must be an audit.k8s.io/v1 Policy mapping", field=field_path(field, "audit_policy"))
    if not isinstance(knobs["admission_plugins"], list):
        raise NetsecError("must be a list of {name, configuration}", field=field_path(field, "admission_plugins"))
    for i, plugin in enumerate(knobs["admission_plugins"]):
        if not isinstance(plugin, dict) or not isinstance(plugin.get("name"), str) or not plugin["name"] \
                or not isinstance(plugin.get("configuration"), dict):
            raise NetsecError("needs name and configuration (a mapping)", field=field_path(field, "admission_plugins", i))
    _check_auth(knobs["authentication"], field_path(field, "authentication"))
    version = knobs["kubernetes_version"]
    if version is not None:
        text = str(version).lstrip("v")
        if not re.fullmatch(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}", text):
            raise NetsecError("%r is not a Kubernetes version like 1.35.0" % (version,), field=field_path(field, "kubernetes_version"))
        knobs["kubernetes_version"] = text
    return knobs


def _names(values, field):
    """A list of plain names (namespaces, Talos roles such as os:reader)."""
    if not isinstance(values, list):
        raise NetsecError("must be a list", field=field)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9:._-]{0,252}", value):
            raise NetsecError("%s is not a name" % _typed.secret_safe(value, False), field=field_path(field, i))
    return values


def _check_auth(auth, field):
    if auth["mode"] not in AUTH_MODES:
        raise NetsecError("%r is not one of %s" % (auth["mode"], ", ".join(AUTH_MODES)), field=field_path(field, "mode"))
    if auth["mode"] == "oidc_flags":
        oidc = auth["oidc"] or {}
        if not isinstance(oidc, dict):
            raise NetsecError("must be a mapping", field=field_path(field, "oidc"))
        known = set(pair[0] for pair in OIDC_FLAGS) | {"required_claims"}
        bad = set(oidc) - known
        if bad:
            raise NetsecError("unknown key(s) %s" % ", ".join(sorted(bad)), field=field_path(field, "oidc"), fix="known keys: %s" % ", ".join(sorted(known)))
        for key in ("issuer_url", "client_id"):
            if not oidc.get(key):
                raise NetsecError("is required for mode oidc_flags", field=field_path(field, "oidc", key))
        for key, value in oidc.items():
            if key == "required_claims":
                if not isinstance(value, dict):
                    raise NetsecError("must be a mapping of claim to value", field=field_path(field, "oidc", key))
                for claim, want in value.items():
                    _typed.text(str(claim), field_path(field, "oidc", key), max_len=256)
                    _typed.text(str(want), field_path(field, "oidc", key, claim), max_len=1024)
            elif isinstance(value, bool) or not isinstance(value, (str, int)):
                raise NetsecError("must be a string", field=field_path(field, "oidc", key))
            else:
                _typed.text(str(value), field_path(field, "oidc", key), max_len=2048)
        if not str(oidc["issuer_url"]).startswith("https://"):
            raise NetsecError("the issuer must be an https:// URL", field=field_path(field, "oidc", "issuer_url"))
    if auth["mode"] == "structured":
        conf = auth.get("configuration")
        if not isinstance(conf, dict) or conf.get("kind") != "AuthenticationConfiguration" or conf.get("apiVersion") not in AUTHN_API_VERSIONS:
            raise NetsecError("must be an AuthenticationConfiguration (%s)" % " or ".join(AUTHN_API_VERSIONS),
                              field=field_path(field, "configuration"))
        if not isinstance(conf.get("jwt"), list) or not conf["jwt"]:
            raise NetsecError("needs at least one jwt authenticator", field=field_path(field, "configuration", "jwt"))


def _image(knobs, repo, what):
    if not knobs["kubernetes_version"]:
        raise NetsecError("Talos 1.14 %s documents need an image: set kubernetes_version (or have the document in the base config)" % what,
                          field="hardening.kubernetes_version")
    return "%s:v%s" % (repo, knobs["kubernetes_version"])


def _oidc_args(oidc):
    args = {}
    for key, flag in OIDC_FLAGS:
        if oidc.get(key):
            args[flag] = str(oidc[key])
    claims = oidc.get("required_claims") or {}
    if claims:
        args["oidc-required-claim"] = ["%s=%s" % (k, claims[k]) for k in sorted(claims)]
    return args


def _drop_oidc_args(extra_args):
    for key in [k for k in extra_args if k.startswith("oidc-") or k == "authentication-config"]:
        del extra_args[key]


def pod_security_config(ps):
    return {
        "apiVersion": "pod-security.admission.config.k8s.io/v1",
        "kind": "PodSecurityConfiguration",
        "defaults": {"enforce": ps["enforce"], "enforce-version": "latest", "audit": ps["audit"], "audit-version": "latest",
                     "warn": ps["warn"], "warn-version": "latest"},
        "exemptions": {"usernames": [], "runtimeClasses": [], "namespaces": list(ps["exempt_namespaces"])},
    }


def _admission(knobs):
    plugins = [{"name": "PodSecurity", "configuration": pod_security_config(knobs["pod_security"])}]
    for plugin in knobs["admission_plugins"]:
        plugins = [p for p in plugins if p["name"] != plugin["name"]] + [copy.deepcopy(plugin)]
    return plugins


def _harden_v113(docs, role, knobs):
    main = D.main_document(docs)
    cluster = D.ensure_path(main, "cluster")
    machine = D.ensure_path(main, "machine")
    if knobs["cni_none"]:
        D.ensure_path(cluster, "network")["cni"] = {"name": "none"}
    if knobs["kube_proxy_disabled"]:
        D.ensure_path(cluster, "proxy")["disabled"] = True
    features = D.ensure_path(machine, "features")
    if knobs["kubeprism"]:
        features["kubePrism"] = {"enabled": True, "port": pm.KUBEPRISM_PORT}
    access = knobs["talos_api_access"]
    if access["enabled"] and role == "control_plane":
        features["kubernetesTalosAPIAccess"] = {"enabled": True, "allowedRoles": list(access["allowed_roles"]),
                                                "allowedKubernetesNamespaces": list(access["allowed_namespaces"])}
    else:
        features["kubernetesTalosAPIAccess"] = {"enabled": False}
    if knobs["kubelet_serving_cert_rotation"]:
        D.ensure_path(machine, "kubelet", "extraArgs")["rotate-server-certificates"] = "true"
    if role != "control_plane":
        return docs
    api = D.ensure_path(cluster, "apiServer")
    api["auditPolicy"] = copy.deepcopy(knobs["audit_policy"] or DEFAULT_AUDIT_POLICY)
    wanted = _admission(knobs)
    names = set(p["name"] for p in wanted)
    api["admissionControl"] = [p for p in api.get("admissionControl") or [] if p.get("name") not in names] + wanted
    auth = knobs["authentication"]
    extra_args = D.ensure_path(api, "extraArgs")
    if auth["mode"] != "none":
        _drop_oidc_args(extra_args)
        api["extraVolumes"] = [v for v in api.get("extraVolumes") or [] if v.get("mountPath") != AUTHN_POD_DIR]
        machine["files"] = [f for f in machine.get("files") or [] if f.get("path") != "%s/%s" % (AUTHN_HOST_DIR, AUTHN_FILE)]
    if auth["mode"] == "oidc_flags":
        extra_args.update(_oidc_args(auth["oidc"]))
    elif auth["mode"] == "structured":
        extra_args["authentication-config"] = "%s/%s" % (AUTHN_POD_DIR, AUTHN_FILE)
        api["extraVolumes"].append({"hostPath": AUTHN_HOST_DIR, "mountPath": AUTHN_POD_DIR, "readonly": True})
        machine["files"].append({
            "path": "%s/%s" % (AUTHN_HOST_DIR, AUTHN_FILE),
            "permissions": 0o644,
            "op": "create",
            "content": D.dump_one(auth["configuration"]),
        })
    if not extra_args:
        del api["extraArgs"]
    return docs


def _doc(kind, **fields):
    out = {"apiVersion": "v1alpha1", "kind": kind}
    out.update(fields)
    return out


def _harden_v114(docs, role, knobs):
    if knobs["cni_none"]:
        D.remove_kind(docs, "KubeFlannelCNIConfig")
    if knobs["kubeprism"]:
        D.put(docs, _doc("KubePrismConfig", port=pm.KUBEPRISM_PORT))
    else:
        D.remove(docs, "KubePrismConfig")
    access = knobs["talos_api_access"]
    if access["enabled"] and role == "control_plane":
        D.put(docs, _doc("KubeTalosAPIAccessConfig", allowedRoles=list(access["allowed_roles"]),
                         allowedKubernetesNamespaces=list(access["allowed_namespaces"])))
    else:
        D.remove(docs, "KubeTalosAPIAccessConfig")
    if knobs["kubelet_serving_cert_rotation"]:
        kubelet = D.find(docs, "KubeletConfig") or _doc("KubeletConfig", image=_image(knobs, "ghcr.io/siderolabs/kubelet", "KubeletConfig"))
        kubelet.setdefault("extraArgs", {})["rotate-server-certificates"] = "true"
        D.put(docs, kubelet)
    if role != "control_plane":
        return docs
    if knobs["kube_proxy_disabled"]:
        proxy = D.find(docs, "KubeProxyConfig") or _doc("KubeProxyConfig", image=_image(knobs, "registry.k8s.io/kube-proxy", "KubeProxyConfig"))
        proxy["enabled"] = False
        D.put(docs, proxy)
    D.put(docs, _doc("KubeAuditPolicyConfig", configuration=copy.deepcopy(knobs["audit_policy"] or DEFAULT_AUDIT_POLICY)))
    for plugin in _admission(knobs):
        D.put(docs, _doc("KubeAdmissionControlConfig", name=plugin["name"], configuration=plugin["configuration"]))
    auth = knobs["authentication"]
    apiserver = D.find(docs, "KubeAPIServerConfig")
    if apiserver is not None and auth["mode"] != "none":
        _drop_oidc_args(apiserver.get("extraArgs") or {})
    flags = sorted(k for k in (apiserver or {}).get("extraArgs") or {} if k.startswith("oidc-"))
    if auth["mode"] == "none" and flags:
        # Found by Talos' own validation: 1.14 refuses these flags, we used to pass them through.
        raise NetsecError("KubeAPIServerConfig.extraArgs sets %s, which Talos 1.14 refuses" % ", ".join(flags), field="base",
                          fix="remove them from the base config, or set hardening.authentication.mode to structured (a KubeAuthenticationConfig)")
    if auth["mode"] == "oidc_flags":
        raise NetsecError("Talos 1.14 rejects oidc-* apiserver flags", field="hardening.authentication.mode",
                          fix="use mode structured with an AuthenticationConfiguration (KubeAuthenticationConfig document)")
    if auth["mode"] == "structured":
        D.put(docs, _doc("KubeAuthenticationConfig", configuration=copy.deepcopy(auth["configuration"])))
    return docs


def skeleton(role):
    return [{"version": D.V1ALPHA1, "machine": {"type": MACHINE_TYPES[role]}}]


def build(base_docs, talos_version, role, knobs, firewall_docs=None, patches=None, node_patches=None, node="node"):
    """Base + hardening + firewall + patches (global then per node) -> list of documents."""
    stages = build_stages(base_docs, talos_version, role, knobs, firewall_docs=firewall_docs, patches=patches, node_patches=node_patches)
    return stages[-1][1]


def build_stages(base_docs, talos_version, role, knobs, firewall_docs=None, patches=None, node_patches=None):
    """[(field, docs)]: the hardened config before any patch (field None), then after each patch
    ('patches[0]', ..., 'node_patches[0]', ...); the last one ordered for writing. The baseline
    check judges the last and replays the others to name the patch that broke it."""
    docs = harden(base_docs, talos_version, role, knobs, firewall_docs=firewall_docs)
    stages = [(None, docs)]
    for field, items in (("patches", patches), ("node_patches", node_patches)):
        for i, item in enumerate(items or []):
            docs = P.apply_patches(docs, [item], field=field, start=i)
            stages.append((field_path(field, i), docs))
    stages[-1] = (stages[-1][0], D.ordered(stages[-1][1]))
    return stages


def harden(base_docs, talos_version, role, knobs, firewall_docs=None):
    """Base (or a skeleton) + the knobs where the release expects them + the firewall documents."""
    if talos_version not in TALOS_VERSIONS:
        raise NetsecError("%r is not one of %s" % (talos_version, ", ".join(TALOS_VERSIONS)), field="talos_version")
    if role not in MACHINE_TYPES:
        raise NetsecError("%r is not a node role (%s)" % (role, ", ".join(MACHINE_TYPES)), field="role")
    docs = D.deepcopy(base_docs) if base_docs else skeleton(role)
    main = D.main_document(docs)
    if main is None:
        main = skeleton(role)[0]
        docs.insert(0, main)
    machine = D.ensure_path(main, "machine")
    have = machine.get("type")
    if have and have not in (MACHINE_TYPES[role], "init" if role == "control_plane" else None):
        raise NetsecError("the base config is a %s config, the node is %s" % (have, role), field="base",
                          fix="use the %s base config for this node" % MACHINE_TYPES[role])
    machine.setdefault("type", MACHINE_TYPES[role])
    if talos_version == "1.13":
        docs = _harden_v113(docs, role, knobs)
    else:
        docs = _harden_v114(docs, role, knobs)
    if firewall_docs is not None:
        docs = F.replace_firewall(docs, firewall_docs)
    return docs
