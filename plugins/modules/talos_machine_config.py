#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: talos_machine_config
short_description: Build a hardened Talos machine configuration with the host firewall from the port model
version_added: 0.1.0
description:
  - Builds one node's Talos machine configuration (multi-document YAML) from a base config
    (usually C(talosctl gen config) output), the hardening knobs, the host firewall rendered
    from the cluster's port model, and strategic-merge or JSON6902 patches (global, then per node).
  - Checks the merged result (after every patch) against the baseline and refuses, unless waived by
    name, a config that does not block by default, opens a sensitive service (etcd, kubelet, apid,
    trustd, the API server, NodePorts) to the Internet or wider than the port model, or re-enables
    what the hardening turns off (a CNI other than none, kube-proxy, Talos API access beyond the
    knobs or with a writing role). The refusal names the patch (or option) that caused it.
  - Validates the result against the Talos JSON schema of the targeted version (O(schema_path)),
    fails when the firewall would cut apid off from the jump host, the controller or (on workers)
    the control plane, and writes the file atomically, mode 0600 from its creation. Nothing is
    written when any check fails.
  - Input is bounded - YAML aliases are refused, nesting is limited to 64 levels, strings and
    configs to 8 MiB - and diffs over 1 MiB are replaced by a note.
  - With O(talos_validator) (C(auto) by default) the config is also checked by Talos' own code - the
    talos-validate program linked against Talos' machinery of the targeted release loads every
    document as a node does and runs Talos' strict validation for O(talos_validator_modes). Its
    refusal fails the task naming the document and field Talos names, before anything is written
    (also in check mode; the config goes to the program on stdin, never on its command line).
  - Runs on the controller; it never talks to a node (see M(safespring.netsec.talos_apply)).
  - O(cluster) is required when O(firewall=true).
requirements:
  - PyYAML
  - jsonschema (when O(schema_path) is set)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.cluster_spec
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Secrets (every secret field of the Talos config schemas - keys, tokens, cluster secrets, WireGuard
        keys, registry credentials, encryption secrets) are replaced by VALUE_REDACTED in the diff; their
        values are masked in every other output too (invocation, errors, warnings).
options:
  dest:
    description: File to write the configuration to (mode O(mode)).
    type: path
    required: true
  role:
    description: The node's role in the port model.
    type: str
    required: true
    choices: [control_plane, worker]
  node:
    description: The node's name or address, used in messages. Defaults to O(dest).
    type: str
  talos_version:
    description: Talos minor version the config targets; decides where each knob is written.
    type: str
    required: true
    choices: ['1.13', '1.14']
  base:
    description:
      - Base configuration as YAML text (holds the cluster's secrets).
      - Mutually exclusive with O(base_path). Without either, a skeleton with only C(machine.type) is used.
    type: str
  base_path:
    description: File holding the base configuration.
    type: path
  addresses:
    description:
      - Address book, role name to list of addresses or CIDRs (C(control_plane), C(worker),
        C(loadbalancer), C(jump_host)); the firewall's sources are resolved through it.
      - Other keys are refused, and so is a role whose addresses together are wider than a /8 (IPv4) or
        /16 (IPv6) - an address book lists hosts, not the Internet.
    type: dict
    default: {}
  firewall:
    description: Render the host firewall (NetworkDefaultActionConfig and NetworkRuleConfig documents).
    type: bool
    default: true
  default_action:
    description:
      - Ingress default action of the host firewall. C(accept) is refused unless O(baseline_waivers) has a
        C(default-action) waiver for this node or its role.
    type: str
    choices: [block, accept]
    default: block
  admin_sources:
    description:
      - Addresses or CIDRs of the controller(s) that run talosctl against control-plane nodes
        directly. With O(default_action=block) they must be admitted to apid or the module fails;
        they count as port-model sources of apid on control-plane nodes.
    type: list
    elements: str
    default: []
  hardening:
    description:
      - Hardening knobs; unknown keys fail. C(cni_none) (default true), C(kube_proxy_disabled)
        (true), C(kubeprism) (true, port from the port model), C(talos_api_access)
        (C({enabled, allowed_roles, allowed_namespaces}), enabled false), C(kubelet_serving_cert_rotation)
        (true), C(audit_policy) (an audit.k8s.io/v1 Policy; a baseline by default), C(pod_security)
        (C({enforce, audit, warn, exempt_namespaces})), C(admission_plugins) (list of C({name, configuration})),
        C(authentication) (C({mode none|oidc_flags|structured, oidc, configuration})), and
        C(kubernetes_version) (images of Talos 1.14 documents created from scratch).
      - C(authentication.configuration) is an AuthenticationConfiguration mapping; Talos 1.13 gets it
        as a file plus C(authentication-config), Talos 1.14 as a KubeAuthenticationConfig document.
    type: dict
    default: {}
  patches:
    description:
      - Patches applied to every node after hardening, in order. Each item is YAML text, a mapping,
        a list of RFC 6902 operations, or C({type strategic|json6902, patch, document}) where
        C(document) (C({kind, name})) picks the document a JSON6902 patch addresses (default v1alpha1).
      - The merged result is checked against the baseline (see the description); a JSON6902 patch may not
        replace a document or change its kind or name. YAML text may not use aliases.
    type: list
    elements: raw
    default: []
  node_patches:
    description: Patches for this node only, applied after O(patches).
    type: list
    elements: raw
    default: []
  waivers:
    description:
      - Named exceptions to the exposure check, in the port model's shape C({name, service, scope, reason}) -
        C(service) one of the sensitive services, C(scope) a node role or this node's O(node). A waived service
        may be opened wider than the port model (or to the Internet) on nodes in scope.
    type: list
    elements: dict
    default: []
  baseline_waivers:
    description:
      - Named exceptions to the other baseline checks, C({name, check, scope, reason}) with C(check) one of
        C(default-action), C(cni), C(kube-proxy), C(talos-api-access) and C(scope) a node role or this node's
        O(node) (required). The waivers that were needed are returned in RV(waivers_applied).
    type: list
    elements: dict
    default: []
  schema_path:
    description:
      - Path to the C(config.schema.json) of the targeted Talos release; every document is validated
        against it and the module fails naming document and JSON path of the first error.
      - Its C($id) must name O(talos_version).
    type: path
  validate_with_talosctl:
    description: Also run C(talosctl validate --mode metal --strict) on the rendered file.
    type: bool
    default: false
  talosctl_path:
    description: The talosctl executable (for O(validate_with_talosctl)).
    type: str
    default: talosctl
  talos_validator:
    description:
      - Talos' own validation of the rendered config (see the description). C(auto) runs it when the
        program is present (O(talos_validator_path), else C(talos-validate-<talos_version>) on PATH),
        C(required) fails when it is absent, C(off) never runs it.
      - Build the program with C(tests/tools/talos/build.sh talos-validate-1.13) (or C(-1.14)); it needs Go
        and the Go module proxy, and prints the binary's path.
    type: str
    choices: [auto, required, "off"]
    default: auto
  talos_validator_path:
    description:
      - The talos-validate program of the targeted release (its Talos version must match O(talos_version)).
      - When set, the program must be executable even with O(talos_validator=auto) (a named program that is
        missing fails the task rather than silently skipping Talos' own validation).
    type: path
  talos_validator_modes:
    description: Talos runtime modes to validate for (strict); C(metal) requires the install section.
    type: list
    elements: str
    choices: [metal, cloud, container]
    default: [metal]
  talosconfig:
    description:
      - Accepted so that C(module_defaults) for C(group/safespring.netsec.talos) can set it once;
        this module never contacts a node and does not use it.
    type: path
  endpoints:
    description: Accepted for C(module_defaults) of the talos group; not used.
    type: list
    elements: str
    default: []
  mode:
    description: File mode of O(dest); C(0600) or C(0400) (the file holds the cluster's keys, so no other mode is accepted).
    type: raw
    default: '0600'
notes:
  - ICMP flows of the port model (cilium-health echo) get no rule; Talos rules require ports and
    Talos admits ICMP itself, rate-limited, in block mode.
seealso:
  - module: safespring.netsec.talos_apply
  - module: safespring.netsec.talos_info
author:
  - Safespring platform team (@safespring)
"""

EXAMPLES = r"""
- name: Render the hardened config of cp1
  safespring.netsec.talos_machine_config:
    dest: /srv/gitops/talos/cp1.yaml
    role: control_plane
    node: cp1
    talos_version: "1.13"
    base_path: /secure/controlplane.yaml
    talos_validator: required
    talos_validator_path: /opt/talos/bin/talos-validate-1.13
    cluster: "{{ cluster_spec }}"
    addresses:
      control_plane: [198.18.1.21]
      worker: [198.18.1.22]
      loadbalancer: [198.18.1.11, 198.18.1.12]
      jump_host: [198.18.2.5]
    hardening:
      authentication:
        mode: structured
        configuration: "{{ zitadel_authentication_configuration }}"
    node_patches:
      - machine: {network: {hostname: cp1}}
    schema_path: /opt/talos/v1.13.9/config.schema.json
"""

RETURN = r"""
dest:
  description: The file written.
  returned: always
  type: str
documents:
  description: Identities of the documents in the config, in order.
  returned: success
  type: list
  elements: str
  sample: [v1alpha1, NetworkDefaultActionConfig, NetworkRuleConfig/kube-apiserver]
firewall_rules:
  description: Rule documents of the host firewall with protocol, ports and sources.
  returned: success
  type: list
  elements: dict
skipped_flows:
  description: Port-model flows into this role that got no rule, with the reason.
  returned: success
  type: list
  elements: dict
validated_against:
  description: Talos version of the schema the config was validated against (null when O(schema_path) is unset).
  returned: success
  type: str
talos_validation:
  description:
    - What Talos' own validation reported (null when it did not run) - C(talos) the release the program links,
      C(modes), C(warnings), C(unregistered) (documents of kinds a pre-release does not know, not checked) and
      C(prerelease_gaps) (what a pre-release demands where 1.14 moved the setting into such a document).
  returned: success
  type: dict
  sample: {talos: v1.13.9, modes: [metal], warnings: [], unregistered: [], prerelease_gaps: []}
waivers_applied:
  description: The waivers this config needed to pass the baseline, C({name, service|check, reason}).
  returned: success
  type: list
  elements: dict
baseline_problems:
  description: When the baseline refuses the config, every refusal with the field that caused it.
  returned: failure
  type: list
  elements: dict
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils._secrets import write_private
from ansible_collections.safespring.netsec.plugins.module_utils.talos.documents import HAS_YAML
from ansible_collections.safespring.netsec.plugins.module_utils.talos import baseline as B
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F
from ansible_collections.safespring.netsec.plugins.module_utils.talos import hardening as H
from ansible_collections.safespring.netsec.plugins.module_utils.talos import patch as P
from ansible_collections.safespring.netsec.plugins.module_utils.talos import schema as S
from ansible_collections.safespring.netsec.plugins.module_utils.talos import secrets as SEC
from ansible_collections.safespring.netsec.plugins.module_utils.talos.common import mask
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import Talosctl
from ansible_collections.safespring.netsec.plugins.module_utils.talos.validator import TalosValidator, build_hint

# Structured options, bounded before anything walks them.
_TREES = ("patches", "node_patches", "hardening", "cluster", "addresses", "admin_sources", "waivers", "baseline_waivers")


def _pre_fields(params):
    """The option to blame for a baseline refusal present before any patch."""
    firewall_source = "addresses" if params["firewall"] else "base"
    return {
        # Without firewall documents of our own, the base's (or none) decide.
        "default-action": "default_action" if params["firewall"] else "firewall",
        "world": firewall_source,
        "beyond-model": firewall_source,
        "cni": "hardening.cni_none",
        "kube-proxy": "hardening.kube_proxy_disabled",
        "talos-api-access": "hardening.talos_api_access",
    }


def render(params, base_text):
    """Pure: parameters -> (documents, report). Raises NetsecError before anything is written."""
    for option in _TREES:
        if option in ("patches", "node_patches") and isinstance(params.get(option), list):
            for i, item in enumerate(params[option]):
                D.check_tree(item, field_path(option, i))
        D.check_tree(params.get(option), option)
    node = _typed.text(params["node"] or params["dest"], "node", max_len=4096)
    knobs = H.parse_knobs(params["hardening"])
    base = D.load(base_text, field="base") if base_text else None
    addresses = F.parse_addresses(params["addresses"])
    admin_sources = F.parse_sources(params["admin_sources"], "admin_sources")
    patches = params["patches"] or []
    node_patches = params["node_patches"] or []
    P.parse_patches(patches, "patches")
    P.parse_patches(node_patches, "node_patches")
    firewall_docs, rendered, skipped = None, None, []
    if params["firewall"] and not params["cluster"]:
        raise NetsecError("is required when firewall is true", field="cluster")
    if params["cluster"]:
        # Rendered also without firewall: the port model's rules are what patches are judged against.
        rendered, skipped = F.render(params["cluster"], params["role"], addresses, default_action=params["default_action"])
        firewall_docs = rendered if params["firewall"] else None
    stages = H.build_stages(base, params["talos_version"], params["role"], knobs, firewall_docs=firewall_docs,
                            patches=patches, node_patches=node_patches)
    docs = stages[-1][1]
    ctx = B.Context(params["role"], node, params["talos_version"], knobs,
                    allowed_rules=rendered, admin_sources=admin_sources,
                    waivers=params.get("waivers") or [], baseline_waivers=params.get("baseline_waivers") or [],
                    pre_fields=_pre_fields(params))
    waived = B.check(stages, ctx)
    versions = (4, 6)
    if params["cluster"]:
        versions = tuple(params["cluster"].get("ip_versions") or versions)
    requirements = F.lockout_requirements(params["role"], addresses, admin_sources, versions)
    F.check_lockout(docs, requirements, node)
    validated = None
    if params["schema_path"]:
        schema = S.load_schema(params["schema_path"], params["talos_version"])
        S.validate(docs, schema, field="config")
        validated = S.schema_version(schema)
    rules = [{"name": d["name"], "protocol": d["portSelector"]["protocol"], "ports": d["portSelector"]["ports"],
              "sources": [i["subnet"] for i in d.get("ingress") or []]}
             for d in docs if d.get("kind") == F.RULE_KIND]
    report = {
        "documents": [D.describe(D.identity(d)) for d in docs],
        "firewall_rules": rules,
        "skipped_flows": [{"service": s, "reason": r} for s, r in skipped],
        "validated_against": validated,
        "waivers_applied": waived,
    }
    return docs, report


def secret_strings(params, base_docs):
    """The secrets of the base config and of every patch, for Ansible to mask in all output."""
    out = SEC.values(base_docs or [])
    for option in ("patches", "node_patches"):
        for i, item in enumerate(params[option] or []):
            try:
                out |= SEC.patch_values([P.parse_patch(item, field_path(option, i))])
            except NetsecError:
                # A patch that does not parse is hidden whole: it may hold a key we cannot place.
                out |= SEC.raw_values(item) | (set([item]) if isinstance(item, str) else set())
    return out


def file_mode(value):
    """The `mode` option as an int; only owner bits (0600, 0400), the file holds keys."""
    text = value if isinstance(value, str) else ""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    elif text and all(c in "01234567" for c in text) and len(text) <= 4:
        mode = int(text, 8)
    else:
        raise NetsecError("%s is not an octal file mode like 0600" % _typed.secret_safe(value, False), field="mode")
    if mode & 0o7177 or not mode & 0o400:
        raise NetsecError("%04o gives group or others access (or the owner none); the config holds the cluster's keys" % mode,
                          field="mode", fix="use 0600 or 0400")
    return mode


def _read(path, field):
    try:
        if os.path.getsize(path) > D.MAX_TEXT:
            raise NetsecError("%s is larger than %d bytes" % (path, D.MAX_TEXT), field=field)
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError) as exc:
        raise NetsecError("cannot read %s: %s" % (path, exc), field=field)


def talos_validation(module, params, docs):
    """Talos' own load + strict validation of `docs` per `talos_validator`; None when it does not run."""
    if params["talos_validator"] == "off":
        return None
    version = params["talos_version"]
    path = params["talos_validator_path"] or module.get_bin_path("talos-validate-%s" % version)
    if not path or not os.access(path, os.X_OK):
        # auto only tolerates a program that was never named: a named path that is missing is a typo
        # or a broken install, and skipping Talos' own validation over it would go unnoticed.
        if params["talos_validator"] == "auto" and not params["talos_validator_path"]:
            return None
        wanted = "required" if params["talos_validator"] == "required" else "named by talos_validator_path"
        fix = build_hint(version)
        if params["talos_validator_path"]:
            fix = "point talos_validator_path at an executable talos-validate-%s, or unset it; %s" % (version, fix)
        raise NetsecError("talos_validator is %s but %s is not an executable" % (wanted, path or "talos-validate-%s (PATH)" % version),
                          field="talos_validator_path", fix=fix)
    client = TalosValidator(path, run=lambda argv, data: module.run_command(argv, data=data), talos_version=version)
    try:
        return client.validate(docs, modes=params["talos_validator_modes"], field="config")
    except NetsecError as exc:
        if exc.field != "config":
            raise
        raise NetsecError(exc.message, field="config",
                          fix="correct the document and field Talos names - they come from base, hardening, the firewall "
                              "options, patches or node_patches; nothing was written")


def _diff_text(docs):
    return D.clip(D.dump(SEC.redact(docs)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            role=dict(type="str", required=True, choices=["control_plane", "worker"]),
            node=dict(type="str"),
            talos_version=dict(type="str", required=True, choices=["1.13", "1.14"]),
            base=dict(type="str", no_log=True),
            base_path=dict(type="path"),
            cluster=dict(type="dict"),
            addresses=dict(type="dict", default={}),
            firewall=dict(type="bool", default=True),
            default_action=dict(type="str", choices=["block", "accept"], default="block"),
            admin_sources=dict(type="list", elements="str", default=[]),
            hardening=dict(type="dict", default={}),
            patches=dict(type="list", elements="raw", default=[]),
            node_patches=dict(type="list", elements="raw", default=[]),
            waivers=dict(type="list", elements="dict", default=[]),
            baseline_waivers=dict(type="list", elements="dict", default=[]),
            schema_path=dict(type="path"),
            validate_with_talosctl=dict(type="bool", default=False),
            talosctl_path=dict(type="str", default="talosctl"),
            talosconfig=dict(type="path"),
            endpoints=dict(type="list", elements="str", default=[]),
            mode=dict(type="raw", default="0600"),
            talos_validator=dict(type="str", choices=["auto", "required", "off"], default="auto"),
            talos_validator_path=dict(type="path"),
            talos_validator_modes=dict(type="list", elements="str", choices=["metal", "cloud", "container"], default=["metal"]),
        ),
        mutually_exclusive=[("base", "base_path")],
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if p["schema_path"] and not S.HAS_JSONSCHEMA:
        module.fail_json(msg=missing_required_lib("jsonschema"))
    dest = p["dest"]
    result = {"changed": False, "dest": dest}
    try:
        mask(module, secret_strings(p, None))
        want_mode = file_mode(p["mode"])
        base_text = _read(p["base_path"], "base_path") if p["base_path"] else p["base"]
        if base_text:
            mask(module, SEC.values(D.load(base_text, field="base_path" if p["base_path"] else "base")))
        docs, report = render(p, base_text)
        result.update(report)
        result["talos_validation"] = talos_validation(module, p, docs)
        text = D.dump(docs)
        if len(text) > D.MAX_TEXT:
            raise NetsecError("the rendered config is %d characters (at most %d)" % (len(text), D.MAX_TEXT), field="patches")
        before = _read(dest, "dest") if os.path.exists(dest) else None
        changed = before != text
        if module._diff and changed:
            try:
                shown = _diff_text(D.load(before, field="dest")) if before else ""
            except NetsecError as exc:
                shown = "(the existing file is not shown: %s)\n" % exc.message
            result["diff"] = {"before_header": dest, "after_header": dest, "before": shown, "after": _diff_text(docs)}
        if changed and not module.check_mode:
            validate = None
            if p["validate_with_talosctl"]:
                client = Talosctl(binary=p["talosctl_path"], run=lambda argv, env: module.run_command(argv))
                validate = client.validate
            write_private(dest, to_bytes(text), validate=validate)
        if os.path.exists(dest):
            current = stat.S_IMODE(os.stat(dest).st_mode)
            if current != want_mode:
                changed = True
                if not module.check_mode:
                    os.chmod(dest, want_mode)
        result["changed"] = changed
    except NetsecError as exc:
        exc.fail(module, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
