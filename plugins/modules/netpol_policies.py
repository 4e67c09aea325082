#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netpol_policies
short_description: Turn declared namespaces and allowed paths into NetworkPolicies (and CiliumNetworkPolicies)
version_added: 0.1.0
description:
  - Validates the declaration and fails before anything is built when an entry is wrong (a path to
    a namespace that is not managed, a port out of range, overlapping or contradictory paths),
    naming the entry, for example C(namespace_policies_paths[3].to.namespace).
  - Builds, per managed namespace, a default-deny NetworkPolicy for ingress and egress, DNS egress
    to the cluster DNS pods only, the allow-all-inside policy when asked, Namespace objects with
    Pod Security Admission labels, and for each path an egress policy at the source and an ingress
    policy at the destination. Where NetworkPolicy cannot say it (the kube-apiserver entity,
    FQDN egress, L7 HTTP rules) it emits an additive CiliumNetworkPolicy
    (C(enableDefaultDeny) off; isolation comes from the portable default deny).
  - Before anything is returned or written, every ingress rule (declared paths and O(extra_objects) alike) goes
    through the world-exposure lint of the security groups (C(port_model.lint)), judged on address coverage per
    namespace; C(from.cidr) or ipBlock sources that cover the Internet (V(0.0.0.0/0), a split world such as
    V(0.0.0.0/1) + V(128.0.0.0/1) over two paths, V(2000::/3); an ipBlock's C(except) counts only for what it
    really removes; a rule without C(from) admits every source) on etcd, kubelet, Talos apid/trustd, the NodePorts
    or 6443 (a rule without ports covers every port) fail naming the entry, for example
    C(namespace_policies_paths[3].from.cidr), unless O(waivers) allows it. HTTPS from the world to an ingress
    namespace passes.
  - Policies carry the labels C(app.kubernetes.io/managed-by=safespring.netsec) and
    C(netsec.safespring.com/owned-set=<owned_set>) so that pruning touches only this set.
  - With O(render_dir) the objects are also written there for GitOps, one file each plus a
    C(kustomization.yaml); files this module wrote and no longer declared are removed, other files are never touched.
  - Applying to a cluster is left to M(safespring.netsec.kubernetes_owned_set) (the role passes it RV(owned_objects)
    and RV(namespace_patches)); prove the result with M(safespring.netsec.netpol_reachability).
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.netpol
attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is written to O(render_dir); the result says what would change.
  diff_mode:
    support: full
    details:
      - Shows each file of O(render_dir) that would be written or removed.
seealso:
  - module: safespring.netsec.netpol_reachability
  - module: safespring.netsec.kubernetes_owned_set
options:
  create_namespaces:
    description: Default of O(namespaces[].create).
    type: bool
    default: false
  owned_set:
    description: Value of the owned-set label on every policy (one set per role invocation).
    type: str
    default: namespace-policies
  extra_objects:
    description:
      - Further manifests to add as they are (stamped with the owner labels), for what the declaration
        cannot say. The proof analyses them like the rest, so one that opens an undeclared path fails it.
    type: list
    elements: dict
    default: []
  waivers:
    description:
      - Named exceptions to the world-exposure lint, C({name, service, scope, reason}), the same shape and check as
        the M(safespring.netsec.security_group) module's (the playbooks pass C(netsec_waivers)). The C(scope) is the
        destination namespace.
    type: list
    elements: dict
    default: []
  render_dir:
    description: Directory to write the objects to, for GitOps. Nothing is written when unset.
    type: path
  kustomization:
    description: Also write a C(kustomization.yaml) listing the files in O(render_dir).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Build the policies and write them for Argo CD
  safespring.netsec.netpol_policies:
    namespaces:
      - {name: monitoring, psa_level: baseline}
      - name: shop
        psa_level: restricted
        create: true
    paths:
      - from: {namespace: shop, pods: {app: web}}
        to: {namespace: shop, pods: {app: db}}
        ports: [{port: 5432}]
      - from: {namespace: shop, pods: {app: api}}
        to: {fqdn: api.stripe.com}
        ports: [{port: 443}]
    cluster_cidrs: [10.244.0.0/16, 10.96.0.0/12]
    render_dir: "{{ playbook_dir }}/gitops/policies"
  register: rendered
"""

RETURN = r"""
objects:
  description: Namespaces, NetworkPolicies and CiliumNetworkPolicies, in apply order.
  returned: always
  type: list
  elements: dict
policies:
  description: The NetworkPolicy and CiliumNetworkPolicy objects only (what the proof analyses).
  returned: always
  type: list
  elements: dict
policy_keys:
  description: C(kind/namespace/name) of every object, for pruning what is no longer declared.
  returned: always
  type: list
  elements: str
  sample: [NetworkPolicy/shop/default-deny]
owned_objects:
  description: The objects of the owned set (every object but the Namespaces), for M(safespring.netsec.kubernetes_owned_set).
  returned: always
  type: list
  elements: dict
namespace_patches:
  description:
    - The Namespaces as patches C({object, create}) for M(safespring.netsec.kubernetes_owned_set) (labels applied onto
      the existing Namespace, created only when C(create) is true; never pruned).
  returned: always
  type: list
  elements: dict
create:
  description: Namespaces to create (the others only get their labels patched when they exist).
  returned: always
  type: list
  elements: str
summary:
  description: Number of objects per kind.
  returned: always
  type: dict
  sample: {Namespace: 4, NetworkPolicy: 21, CiliumNetworkPolicy: 5}
files:
  description: Files written to and removed from O(render_dir).
  returned: when O(render_dir) is set
  type: dict
  sample: {written: [networkpolicy-shop-default-deny.yaml], removed: [], all: [kustomization.yaml, networkpolicy-shop-default-deny.yaml]}
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import exposure, owned
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import render as krender
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import model
from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration, declaration_spec


def lint_entries(norm, objects, built, prefix):
    """port_model.lint() entries of the policies: a declared path's are named by its C(from.cidr), an extra object's by its own path."""
    named = {}
    for ns in norm["namespaces"]:
        for wl in ns["workloads"]:
            for port in wl["ports"]:
                if port.get("name"):
                    named.setdefault(ns["name"], {}).setdefault(port["name"], []).append((port["protocol"], port["port"]))
    entries = []
    for i, obj in enumerate(objects):
        origin = ((obj.get("metadata") or {}).get("annotations") or {}).get(model.PATH_ANNOTATION) if i < built else None
        name = origin or field_path(prefix + "extra_objects", i - built)
        namespace = (obj.get("metadata") or {}).get("namespace")
        for entry in exposure.policy_entries(obj, name, named.get(namespace)):
            if origin and origin.startswith(prefix + "paths["):
                entry["field"] = field_path(origin, "from", "cidr")  # a path's only address source
            entries.append(entry)
    return entries


def plan(params):
    """Pure: validated declaration -> objects (+ the render-dir plan when asked)."""
    owned.check_owned_set_name(params["owned_set"], field=params["field_prefix"] + "owned_set")
    norm = model.validate(declaration(params), params["field_prefix"])
    objects = model.build_objects(norm, params["owned_set"], params["field_prefix"])
    built = len(objects)
    for idx, obj in enumerate(params.get("extra_objects") or []):
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not obj.get("kind") or not obj.get("apiVersion") or not isinstance(meta, dict) or not meta.get("name"):
            raise NetsecError("needs apiVersion, kind and metadata.name", field="%sextra_objects[%d]" % (params["field_prefix"], idx))
        objects.append(owned.stamp(obj, params["owned_set"]))
    pm.refuse(pm.lint(lint_entries(norm, objects, built, params["field_prefix"]), params.get("waivers") or [],
                      field=params["field_prefix"] + "waivers"))
    summary = {}
    for obj in objects:
        summary[obj["kind"]] = summary.get(obj["kind"], 0) + 1
    policies = [o for o in objects if o["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy")]
    keys = ["%s/%s/%s" % (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects]
    creates = [ns["name"] for ns in norm["namespaces"] if ns["create"]]
    # Namespaces are not the set's: their labels are patched onto whoever owns them (created only when asked).
    patches = [{"object": o, "create": o["metadata"]["name"] in creates} for o in objects if o["kind"] == "Namespace"]
    owned_objects = [o for o in objects if o["kind"] != "Namespace"]
    return {"objects": objects, "policies": policies, "summary": summary, "policy_keys": keys, "create": creates,
            "owned_objects": owned_objects, "namespace_patches": patches}


def main():
    spec = declaration_spec()
    spec.update(
        create_namespaces=dict(type="bool", default=False),
        owned_set=dict(type="str", default="namespace-policies"),
        extra_objects=dict(type="list", elements="dict", default=[]),
        waivers=dict(type="list", elements="dict", default=[]),
        render_dir=dict(type="path"),
        kustomization=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        result = plan(module.params)
        result["changed"] = False
        target = module.params["render_dir"]
        if target:
            existing = krender.read_directory(target)
            planned = krender.plan_directory(result["objects"], target, module.params["kustomization"], existing)
            result["files"] = {"written": sorted(planned["write"]), "removed": planned["remove"], "all": planned["files"]}
            result["changed"] = bool(planned["write"] or planned["remove"])
            if module._diff and result["changed"]:
                result["diff"] = [{"before_header": os.path.join(target, name), "after_header": os.path.join(target, name),
                                   "before": existing.get(name, ""), "after": planned["write"].get(name, "")}
                                  for name in sorted(set(planned["write"]) | set(planned["remove"]))]
            if result["changed"] and not module.check_mode:
                krender.write_directory(target, planned)
    except NetsecError as exc:
        exc.fail(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
