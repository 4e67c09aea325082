#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cilium_network_policy
short_description: Manage CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy objects as an owned set
version_added: 0.1.0
description:
  - Declares the complete set of Cilium policies one caller owns (O(owned_set)). Every policy
    is validated against the Cilium CRD schema before anything is sent, then applied with
    server-side apply (field manager C(safespring.netsec)); policies of the set that are no
    longer declared are deleted (O(prune)).
  - "Ownership is two labels: C(app.kubernetes.io/managed-by=safespring.netsec) and
    C(netsec.safespring.com/owned-set=<owned_set>). Objects without them are never changed or
    deleted; a declared policy whose name is taken by such an object fails before any change."
  - Planning, apply, pruning and the result shape are those of M(safespring.netsec.kubernetes_owned_set) (one delivery
    path, C(module_utils/kubernetes/delivery.py)).
  - With O(delivery=render) nothing is sent; the policies are written to O(render_dir), one
    file each plus a C(kustomization.yaml), for GitOps.
  - Before that, O(policies) and O(extra_policies) together go through the world-exposure lint of the security
    groups (C(port_model.lint)), judged on address coverage per namespace (clusterwide policies together); an
    ingress rule whose sources (C(fromCIDR), C(fromCIDRSet) cidr minus its C(except), C(fromEntities) V(world) or
    V(all), or no source at all) cover the Internet on etcd, kubelet, Talos apid/trustd, the NodePorts or 6443 (a
    rule without C(toPorts) covers every port) fails naming the field, for example
    C(extra_policies[0].spec.ingress[1].fromCIDR[0]), unless O(waivers) allows it.
  - The CRD schema comes from O(schema_files) or, when not given and O(delivery=apply), from
    the cluster's CustomResourceDefinition.
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.kubernetes
attributes:
  check_mode:
    support: full
    details:
      - Applies and deletes are sent with C(dryRun=All), so the API server still validates them.
  diff_mode:
    support: full
options:
  policies:
    description:
      - Policy objects (C(apiVersion=cilium.io/v2), C(kind), C(metadata.name), C(metadata.namespace)
        for namespaced policies, C(spec) or C(specs)). The owner labels are added.
    type: list
    elements: dict
    required: true
  extra_policies:
    description:
      - Further policy objects, handled like O(policies) (the cilium role passes C(cilium_extra_policies) here);
        errors name them as O(extra_policies_field) says.
    type: list
    elements: dict
    default: []
  extra_policies_field:
    description: How the caller names O(extra_policies) in errors (the cilium role passes V(cilium_extra_policies)).
    type: str
    default: extra_policies
  waivers:
    description:
      - Named exceptions to the world-exposure lint, C({name, service, scope, reason}), the same shape and check as
        the M(safespring.netsec.security_group) module's (the playbooks pass C(netsec_waivers)). The C(scope) of a
        namespaced policy is its namespace, of a clusterwide policy its name.
    type: list
    elements: dict
    default: []
  owned_set:
    description: Name of the owned set (a label value). One caller, one set.
    type: str
    required: true
  prune:
    description: Delete policies of the owned set that are not in O(policies).
    type: bool
    default: true
  force_conflicts:
    description: Take over fields another field manager owns (server-side apply C(force=true)).
    type: bool
    default: false
  delivery:
    description: C(apply) to the cluster, or C(render) files for GitOps.
    type: str
    choices: [apply, render]
    default: apply
  render_dir:
    description: Directory for O(delivery=render) (owned by this module; stale files it wrote are removed).
    type: path
  kustomization:
    description: Also write a C(kustomization.yaml) listing the files.
    type: bool
    default: true
  schema_files:
    description:
      - JSON Schema file per kind (keys C(CiliumNetworkPolicy), C(CiliumClusterwideNetworkPolicy)),
        for example the datreeio/CRDs-catalog conversions. Required for O(delivery=render).
    type: dict
requirements:
  - kubernetes (Python) for O(delivery=apply)
  - jsonschema
seealso:
  - module: safespring.netsec.kubernetes_owned_set
  - module: safespring.netsec.cilium_install
  - module: safespring.netsec.cilium_status
"""

EXAMPLES = r"""
- name: Baseline host policies, owned by the cilium role
  safespring.netsec.cilium_network_policy:
    owned_set: cilium-baseline
    policies: "{{ lookup('ansible.builtin.template', 'policies.yml.j2') | from_yaml }}"

- name: Render for Argo CD
  safespring.netsec.cilium_network_policy:
    owned_set: cilium-baseline
    policies: "{{ my_policies }}"
    delivery: render
    render_dir: gitops/cilium-policies
    schema_files:
      CiliumNetworkPolicy: schemas/cilium-ciliumnetworkpolicy_v2.schema.json
      CiliumClusterwideNetworkPolicy: schemas/cilium-ciliumclusterwidenetworkpolicy_v2.schema.json
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) created, updated or pruned.
  returned: always
  type: bool
created:
  description: Policies created (C(Kind namespace/name)); with O(delivery=render), policies whose file is new.
  returned: success
  type: list
  elements: str
  sample: ["CiliumClusterwideNetworkPolicy netsec-host-worker"]
updated:
  description: Policies updated.
  returned: success
  type: list
  elements: str
pruned:
  description: Policies of the set deleted because no longer declared; with O(delivery=render), stale files removed.
  returned: success
  type: list
  elements: str
unchanged:
  description: Policies already as declared.
  returned: success
  type: list
  elements: str
plan:
  description: One entry per object and action (create, update, unchanged, prune), in order.
  returned: success
  type: list
  elements: dict
  sample: [{"action": "create", "object": "CiliumClusterwideNetworkPolicy netsec-host-worker"}]
requests:
  description: HTTP requests sent to the API server.
  returned: when O(delivery=apply)
  type: int
files:
  description: Files of the render directory (O(delivery=render)).
  returned: when O(delivery=render)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import delivery, exposure, owned, validate

API_VERSION = "cilium.io/v2"
KINDS = {"CiliumNetworkPolicy": ("ciliumnetworkpolicies.cilium.io", True),
         "CiliumClusterwideNetworkPolicy": ("ciliumclusterwidenetworkpolicies.cilium.io", False)}


def check_policies(policies, schemas, field="policies"):
    """Shape checks, then the CRD schema; raises before anything is sent."""
    for i, policy in enumerate(policies):
        item = field_path(field, i)
        if not isinstance(policy, dict):
            raise NetsecError("must be a mapping", field=item)
        if policy.get("apiVersion") != API_VERSION:
            raise NetsecError("apiVersion %r is not %s" % (policy.get("apiVersion"), API_VERSION), field=field_path(item, "apiVersion"))
        kind = policy.get("kind")
        if kind not in KINDS:
            raise NetsecError("kind %r is not one of %s" % (kind, ", ".join(KINDS)), field=field_path(item, "kind"))
        meta = policy.get("metadata") or {}
        if KINDS[kind][1] and not meta.get("namespace"):
            raise NetsecError("a CiliumNetworkPolicy needs metadata.namespace", field=field_path(item, "metadata", "namespace"))
        if not KINDS[kind][1] and meta.get("namespace"):
            raise NetsecError("a CiliumClusterwideNetworkPolicy is not namespaced", field=field_path(item, "metadata", "namespace"),
                              fix="remove metadata.namespace")
        validate.validate_custom(policy, schemas[kind], field=item, schema_name=kind)


def lint(params):
    """All policies to apply, after the world-exposure lint (errors name policies[i] / extra_policies[i])."""
    extra = list(params.get("extra_policies") or [])
    fields = [field_path("policies", i) for i in range(len(params["policies"]))]
    fields += [field_path(params.get("extra_policies_field") or "extra_policies", i) for i in range(len(extra))]
    exposure.refuse_exposure(list(params["policies"]) + extra, params.get("waivers") or [], fields=fields)
    return list(params["policies"]) + extra


def check_all(params, schemas):
    check_policies(params["policies"], schemas)
    check_policies(params.get("extra_policies") or [], schemas, field=params.get("extra_policies_field") or "extra_policies")


def load_schemas(params, client, kinds):
    schemas = {}
    files = params["schema_files"] or {}
    for kind in kinds:
        if kind in files:
            schemas[kind] = validate.schema_from_file(files[kind], field=field_path("schema_files", kind))
        elif client is not None:
            crd = client.crd(KINDS[kind][0])
            if crd is None:
                raise NetsecError("the cluster has no CRD %s" % KINDS[kind][0], field="policies", fix="install Cilium first")
            schemas[kind] = validate.schema_from_crd(crd, "v2", field=KINDS[kind][0])
        else:
            raise NetsecError("no schema for %s" % kind, field="schema_files",
                              fix="give schema_files.%s (a JSON schema of the CRD) to validate before rendering" % kind)
    return schemas


def main():
    spec = dict(
        policies=dict(type="list", elements="dict", required=True),
        extra_policies=dict(type="list", elements="dict", default=[]),
        extra_policies_field=dict(type="str", default="extra_policies"),
        waivers=dict(type="list", elements="dict", default=[]),
        owned_set=dict(type="str", required=True),
        prune=dict(type="bool", default=True),
        force_conflicts=dict(type="bool", default=False),
        delivery=dict(type="str", choices=["apply", "render"], default="apply"),
        render_dir=dict(type="path"),
        kustomization=dict(type="bool", default=True),
        schema_files=dict(type="dict"),
    )
    spec.update(kclient.CONNECTION_ARGSPEC)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, required_if=[("delivery", "render", ("render_dir",))])
    p = module.params
    result = {"changed": False}
    try:
        owned.check_owned_set_name(p["owned_set"])
        policies = lint(p)
        kinds = sorted(set(pol.get("kind") for pol in policies if pol.get("kind") in KINDS)) or sorted(KINDS)
        request = delivery.parse(policies, p["owned_set"], kinds=[{"api_version": API_VERSION, "kind": k} for k in sorted(KINDS)],
                                 prune=p["prune"], force_conflicts=p["force_conflicts"], field="policies")
        if p["delivery"] == "render":
            check_all(p, load_schemas(p, None, kinds))
            result = delivery.render(request, p["render_dir"], p["kustomization"], check_mode=module.check_mode, want_diff=module._diff)
        else:
            client = kclient.KubeClient(kubeconfig=p["kubeconfig"], context=p["context"], host=p["host"], api_key=p["api_key"],
                                        ca_cert=p["ca_cert"], validate_certs=p["validate_certs"])
            check_all(p, load_schemas(p, client, kinds))
            result = delivery.deliver(client, request, check_mode=module.check_mode, want_diff=module._diff)
    except NetsecError as exc:
        exc.fail(module, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
