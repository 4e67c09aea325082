#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cilium_install
short_description: Compute Cilium Helm values from a security profile, refuse broken combinations, render for GitOps
version_added: 0.1.0
description:
  - Turns a few documented knobs (kube-proxy replacement, transparent encryption, policy
    enforcement and audit mode, host firewall, Hubble with TLS, Talos settings, service-mesh
    coexistence) into Cilium Helm values.
  - Refuses combinations that are known broken or deprecated, with a message that says what
    to use instead (SPIRE mutual auth on Cilium 1.20 or later, IPsec together with WireGuard,
    node encryption with IPsec, host firewall enforce without an audit phase, C(extra_values)
    that override a value the profile sets, a profile that contradicts the port model).
  - Reports the difference between the computed values and O(current_values) (the values of
    the deployed release, for example from M(kubernetes.core.helm_info)).
  - With O(delivery=helm) the module only computes; the caller passes RV(helm_values) to
    M(kubernetes.core.helm). With O(delivery=render) it writes the values file and, when a
    C(helm) binary is found, the manifest from C(helm template) and a Talos machine-config
    patch carrying it as an C(inlineManifest); without C(helm) it writes the values only and
    says so in RV(manifest_note).
  - Ports (tunnel, Hubble, KubePrism) come from the collection's port model.
  - O(cluster) supplies the tunnel protocol and is cross-checked (a WireGuard profile needs
    O(cluster.cni.wireguard=true) so the port is open).
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.kubernetes
  - safespring.netsec.cluster_spec
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the values before (O(current_values)) and after.
options:
  version:
    description: Cilium chart version to deploy; decides which deprecations apply.
    type: str
    default: 1.18.2
  kube_proxy_replacement:
    description: Let Cilium replace kube-proxy (Talos with C(cluster.proxy.disabled=true)).
    type: bool
    default: true
  encryption:
    description: Transparent encryption between nodes. C(wireguard) is recommended.
    type: str
    choices: [wireguard, ipsec, none]
    default: wireguard
  node_encryption:
    description:
      - Also encrypt node-to-node (host) traffic. WireGuard only; when not set it is on with
        WireGuard. Setting it true together with O(encryption=ipsec) is refused.
    type: bool
  policy_enforcement:
    description: C(default) enforces on endpoints selected by a policy; C(always) denies everything not allowed.
    type: str
    choices: [default, always]
    default: default
  policy_audit_mode:
    description: Log policy verdicts instead of dropping (first rollout). Agent-wide in Cilium.
    type: bool
    default: false
  host_firewall:
    description:
      - C(off), C(audit) (host firewall on, policies audited - this turns on Cilium's agent-wide
        audit mode) or C(enforce).
      - C(enforce) is refused unless O(current_values) shows the host firewall already deployed
        (the audit phase) or O(host_firewall_skip_audit=true).
    type: str
    choices: ['off', audit, enforce]
    default: audit
  host_firewall_skip_audit:
    description: Allow O(host_firewall=enforce) without an audit phase (a cluster with no workloads yet).
    type: bool
    default: false
  hubble:
    description: Enable Hubble. Its API always uses mutual TLS.
    type: bool
    default: true
  hubble_relay:
    description: Deploy Hubble relay (reachable from the jump host only, see the role's policies).
    type: bool
    default: true
  hubble_ui:
    description: Deploy the Hubble UI.
    type: bool
    default: false
  hubble_tls_method:
    description:
      - How Hubble certificates are generated. C(cronJob) keeps renders stable; C(helm)
        generates new certificates on every render.
      - C(certmanager) needs the issuer in O(extra_values) (C(hubble.tls.auto.certManagerIssuerRef) with a C(name));
        without it the Cilium chart refuses to render, so the module refuses first.
    type: str
    choices: [helm, cronJob, certmanager]
    default: cronJob
  talos:
    description: Add the Talos values (IPAM kubernetes, KubePrism endpoint, cgroup, capabilities without SYS_MODULE).
    type: bool
    default: true
  k8s_service_host:
    description: API endpoint the agents use; C(localhost) is KubePrism on Talos.
    type: str
    default: localhost
  mesh:
    description: Service-mesh integration for mTLS; sets the Cilium values the mesh needs.
    type: str
    choices: [none, istio-ambient, linkerd]
    default: none
  mesh_namespaces:
    description: Namespaces that opt into strict mTLS; their objects are returned in RV(mesh).
    type: list
    elements: str
    default: []
  extra_values:
    description: Further Helm values; may not override a value the profile sets.
    type: dict
    default: {}
  current_values:
    description: User-supplied values of the deployed release; null for a fresh install.
    type: dict
  delivery:
    description: C(helm) computes values for M(kubernetes.core.helm); C(render) writes files to O(render_dir).
    type: str
    choices: [helm, render]
    default: helm
  render_dir:
    description: Directory for O(delivery=render).
    type: path
  release_name:
    description: Helm release name.
    type: str
    default: cilium
  release_namespace:
    description: Namespace of the release.
    type: str
    default: kube-system
  chart_ref:
    description: Chart reference for C(helm template) (a repo/chart name or a local chart path).
    type: str
    default: cilium/cilium
  helm_binary:
    description: Path of C(helm); looked up on PATH when not given.
    type: path
  probe_cluster:
    description:
      - Read the live C(cilium-config) ConfigMap; a host firewall already enabled there counts as
        the audit phase for O(host_firewall=enforce). Only then are the connection options (O(kubeconfig),
        O(context), O(host), O(api_key), O(ca_cert), O(validate_certs)) used; otherwise they are ignored
        (they exist so that C(module_defaults) of the C(kubernetes) group work).
    type: bool
    default: false
notes:
  - Cilium's SPIRE-based mutual authentication is deprecated since 1.20 (cilium/cilium#47132);
    use O(mesh) instead.
seealso:
  - module: safespring.netsec.cilium_network_policy
  - module: safespring.netsec.cilium_status
  - module: kubernetes.core.helm
"""

EXAMPLES = r"""
- name: Compute the security profile and install with Helm
  safespring.netsec.cilium_install:
    cluster: "{{ netsec_cluster }}"
    host_firewall: audit
    current_values: "{{ (cilium_release.status | default({})).values | default(omit) }}"
  register: cilium_profile

- name: Install or upgrade Cilium
  kubernetes.core.helm:
    name: cilium
    chart_ref: cilium/cilium
    chart_version: "{{ cilium_profile.version }}"
    release_namespace: kube-system
    values: "{{ cilium_profile.helm_values }}"

- name: Render for Talos inlineManifests / GitOps
  safespring.netsec.cilium_install:
    cluster: "{{ netsec_cluster }}"
    delivery: render
    render_dir: gitops/cilium
"""

RETURN = r"""
helm_values:
  description: The Helm values to deploy.
  returned: success
  type: dict
version:
  description: The chart version.
  returned: success
  type: str
values_diff:
  description: Leaves that differ from O(current_values) (dotted paths).
  returned: success
  type: list
  elements: dict
  sample: [{"path": "hostFirewall.enabled", "before": false, "after": true}]
warnings_profile:
  description: What the profile leaves open (for example audit mode on, no encryption).
  returned: success
  type: list
  elements: str
mesh:
  description:
    - Per-namespace mesh opt-in. C(namespace_patches) are partial Namespace objects (labels or
      annotations only) for server-side apply; C(objects) (PeerAuthentication, or Linkerd
      MeshTLSAuthentication + AuthorizationPolicy) carry the owner labels of the set C(cilium-mesh).
    - With O(delivery=render) both are also written to C(cilium-mesh-opt-in.yaml).
  returned: success
  type: dict
files:
  description: Files written (or that would be written) for O(delivery=render).
  returned: when O(delivery=render)
  type: list
  elements: str
manifest_note:
  description: Whether a manifest was rendered with C(helm template), and why not.
  returned: when O(delivery=render)
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils import _secrets as secrets
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh as mesh_mod
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import values as cv
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import render

PROFILE_KEYS = ("version", "kube_proxy_replacement", "encryption", "node_encryption", "policy_enforcement",
                "policy_audit_mode", "host_firewall", "host_firewall_skip_audit", "hubble", "hubble_relay", "hubble_ui",
                "hubble_tls_method", "talos", "k8s_service_host", "mesh", "cluster", "extra_values", "current_values",
                "host_firewall_deployed")

VALUES_FILE = "cilium-values.yaml"
MANIFEST_FILE = "cilium-manifest.yaml"
TALOS_PATCH_FILE = "talos-inline-manifest-patch.yaml"
MESH_FILE = "cilium-mesh-opt-in.yaml"
PRIVATE_FILES = (VALUES_FILE, MANIFEST_FILE, TALOS_PATCH_FILE)
MESH_OWNED_SET = "cilium-mesh"


def argument_spec():
    return dict(
        version=dict(type="str", default=cv.DEFAULT_VERSION),
        kube_proxy_replacement=dict(type="bool", default=True),
        encryption=dict(type="str", choices=["wireguard", "ipsec", "none"], default="wireguard"),
        node_encryption=dict(type="bool"),
        policy_enforcement=dict(type="str", choices=["default", "always"], default="default"),
        policy_audit_mode=dict(type="bool", default=False),
        host_firewall=dict(type="str", choices=["off", "audit", "enforce"], default="audit"),
        host_firewall_skip_audit=dict(type="bool", default=False),
        hubble=dict(type="bool", default=True),
        hubble_relay=dict(type="bool", default=True),
        hubble_ui=dict(type="bool", default=False),
        hubble_tls_method=dict(type="str", choices=["helm", "cronJob", "certmanager"], default="cronJob"),
        talos=dict(type="bool", default=True),
        k8s_service_host=dict(type="str", default="localhost"),
        mesh=dict(type="str", choices=list(mesh_mod.MESHES), default="none"),
        mesh_namespaces=dict(type="list", elements="str", default=[]),
        cluster=dict(type="dict"),
        extra_values=dict(type="dict", default={}),
        current_values=dict(type="dict"),
        delivery=dict(type="str", choices=["helm", "render"], default="helm"),
        render_dir=dict(type="path"),
        release_name=dict(type="str", default="cilium"),
        release_namespace=dict(type="str", default="kube-system"),
        chart_ref=dict(type="str", default="cilium/cilium"),
        helm_binary=dict(type="path"),
        probe_cluster=dict(type="bool", default=False),
        **kclient.CONNECTION_ARGSPEC
    )


def plan(params):
    """Pure: profile -> values, refusals raised, diff, mesh objects."""
    result = cv.compute(dict((k, params.get(k)) for k in PROFILE_KEYS))
    if result["refusals"]:
        first = result["refusals"][0]
        if len(result["refusals"]) > 1:
            first.extra["other_refusals"] = [str(e) for e in result["refusals"][1:]]
        raise first
    mesh = mesh_mod.namespace_objects(params["mesh"], params["mesh_namespaces"])
    # Mesh objects are ours (owner labels); namespace patches are partial applies to namespaces we do not own.
    mesh["objects"] = [owned.stamp(obj, MESH_OWNED_SET) for obj in mesh["objects"]]
    return {
        "helm_values": result["values"],
        "version": params["version"],
        "values_diff": _redacted_diff(cv.values_diff(params["current_values"] or {}, result["values"])),
        "warnings_profile": result["warnings"],
        "mesh": mesh,
    }


def _redacted_diff(diff):
    """A changed secret still counts as a change; only its values are hidden."""
    for entry in diff:
        for side in ("before", "after"):
            if entry[side] is not None and secrets.is_secret(entry["path"].rsplit(".", 1)[-1], entry[side]):
                entry[side] = secrets.REDACTED
            elif isinstance(entry[side], (dict, list)):
                entry[side] = secrets.redact(entry[side])
    return diff


def _private(full):
    return (os.stat(full).st_mode & 0o777) == 0o600


def _render(module, planned):
    path = module.params["render_dir"]
    values_text = render.HEADER + render.dump(planned["helm_values"])
    files = {VALUES_FILE: values_text}
    helm = module.params["helm_binary"] or module.get_bin_path("helm")
    if module.params["helm_binary"] and not os.access(helm, os.X_OK):
        raise NetsecError("%s is not an executable" % helm, field="helm_binary", fix="give the path of helm, or leave it unset to render values only")
    note = "helm not found on the controller: rendered the values only; run helm template or let the cluster's GitOps render the chart"
    if helm:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            handle.write(values_text)
            tmp_values = handle.name
        try:
            argv = cv.helm_template_argv(helm, module.params["release_name"], module.params["chart_ref"], planned["version"],
                                         module.params["release_namespace"], tmp_values)
            rc, stdout, stderr = module.run_command(argv)
        finally:
            os.unlink(tmp_values)
        if rc != 0:
            raise NetsecError("helm template failed: %s" % stderr.strip()[:800], field="chart_ref",
                              fix="check chart_ref/version (helm repo add cilium https://helm.cilium.io) or give a local chart path")
        files[MANIFEST_FILE] = render.HEADER + stdout
        files[TALOS_PATCH_FILE] = render.HEADER + render.dump(cv.talos_inline_manifest_patch(stdout))
        note = "manifest rendered with %s template" % helm
    if planned["mesh"]["namespace_patches"] or planned["mesh"]["objects"]:
        files[MESH_FILE] = render.HEADER + render.dump_all(planned["mesh"]["namespace_patches"] + planned["mesh"]["objects"])
    existing = render.read_directory(path)
    write = dict((n, c) for n, c in files.items() if existing.get(n) != c or (n in PRIVATE_FILES and not _private(os.path.join(path, n))))
    for name in write:
        if name in existing and not existing[name].startswith(render.HEADER):
            raise NetsecError("%s exists and was not written by this collection" % os.path.join(path, name), field="render_dir")
    if write and not module.check_mode:
        if not os.path.isdir(path):
            os.makedirs(path)
        for name, content in sorted(write.items()):
            if name in PRIVATE_FILES:  # values and what is rendered from them may carry TLS keys
                secrets.write_private(os.path.join(path, name), content)
            else:
                render.write_file(os.path.join(path, name), content)
    return {"files": sorted(os.path.join(path, n) for n in files), "manifest_note": note, "changed": bool(write)}


def probe(p):
    """True/False: the live cilium-config has the host firewall on; None when Cilium is not installed."""
    client = kclient.KubeClient(kubeconfig=p["kubeconfig"], context=p["context"], host=p["host"], api_key=p["api_key"],
                                ca_cert=p["ca_cert"], validate_certs=p["validate_certs"])
    config = client.get("v1", "ConfigMap", "cilium-config", p["release_namespace"])
    if config is None:
        return None
    return str((config.get("data") or {}).get("enable-host-firewall")).lower() == "true"


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("delivery", "render", ("render_dir",))])
    try:
        params = dict(module.params)
        # The invocation echoed at -v must not carry TLS keys or passwords given in extra_values / current_values.
        for key in ("extra_values", "current_values"):
            module.params[key] = secrets.redact(module.params[key])
        if params["probe_cluster"]:
            params["host_firewall_deployed"] = probe(params)
        planned = plan(params)
        result = dict(planned)
        if module.params["delivery"] == "render":
            rendered = _render(module, planned)
            result.update(files=rendered["files"], manifest_note=rendered["manifest_note"])
            result["helm_values"] = secrets.redact(planned["helm_values"])  # the file has them; the result is logged
            result["changed"] = rendered["changed"]
        else:
            result["changed"] = bool(planned["values_diff"])
    except NetsecError as exc:
        exc.fail(module)
    for text in planned["warnings_profile"]:
        module.warn(text)
    if module._diff:
        result["diff"] = {"before": secrets.redact(params["current_values"] or {}), "after": secrets.redact(planned["helm_values"]),
                          "before_header": "deployed values", "after_header": "security profile"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
