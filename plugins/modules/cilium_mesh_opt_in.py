#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cilium_mesh_opt_in
short_description: Opt namespaces into strict service-mesh mTLS (Istio ambient or Linkerd) beside Cilium
version_added: 0.1.0
description:
  - For every namespace in O(namespaces), server-side applies the mesh's opt-in keys to the
    Namespace (Istio ambient - label C(istio.io/dataplane-mode=ambient); Linkerd - annotations
    C(linkerd.io/inject=enabled) and C(config.linkerd.io/default-inbound-policy=all-authenticated))
    and manages the strict-mTLS objects (Istio C(PeerAuthentication) STRICT; Linkerd
    C(MeshTLSAuthentication) + C(AuthorizationPolicy)) as the owned set C(cilium-mesh).
  - Namespaces are not owned by this collection - the opt-in keys are applied with the field
    manager C(safespring.netsec-mesh), which owns only those keys. A namespace dropped from the
    list loses exactly those keys (an apply with no fields); labels set by others stay. Mesh
    objects no longer declared are pruned; objects without the owner labels are never touched.
  - The Cilium side of the integration (C(cni.exclusive=false), C(socketLB.hostNamespaceOnly=true))
    is set by M(safespring.netsec.cilium_install) with the same O(mesh).
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
      - Writes are sent with C(dryRun=All).
  diff_mode:
    support: full
options:
  mesh:
    description: The mesh in use; C(none) removes every opt-in.
    type: str
    choices: [none, istio-ambient, linkerd]
    required: true
  namespaces:
    description: Namespaces that get strict mTLS. They must exist; system namespaces are refused.
    type: list
    elements: str
    default: []
requirements:
  - kubernetes (Python)
seealso:
  - module: safespring.netsec.cilium_install
"""

EXAMPLES = r"""
- name: Strict mTLS for two namespaces with Istio ambient
  safespring.netsec.cilium_mesh_opt_in:
    mesh: istio-ambient
    namespaces: [shop, billing]
"""

RETURN = r"""
changed:
  description: Whether a namespace or a mesh object was (or, in check mode, would be) changed.
  returned: always
  type: bool
created:
  description: Mesh objects created (C(Kind namespace/name)).
  returned: success
  type: list
  elements: str
  sample: ["PeerAuthentication shop/default"]
updated:
  description: Mesh objects updated, and namespaces whose opt-in keys were applied or released (C(Namespace name)).
  returned: success
  type: list
  elements: str
pruned:
  description: Mesh objects of the owned set C(cilium-mesh) deleted because no longer declared.
  returned: success
  type: list
  elements: str
unchanged:
  description: Namespaces and mesh objects already as declared.
  returned: success
  type: list
  elements: str
skipped:
  description: Always empty (namespaces must exist); kept for the result shape every delivering module shares.
  returned: success
  type: list
  elements: str
plan:
  description: One entry per namespace, then per mesh object, with its action (create, update, unchanged, prune).
  returned: success
  type: list
  elements: dict
  sample: [{"action": "update", "object": "Namespace shop"}, {"action": "create", "object": "PeerAuthentication shop/default"}]
namespaces:
  description: Per namespace the opt-in action (update, unchanged, release - the keys of a namespace no longer listed are dropped).
  returned: success
  type: list
  elements: dict
  sample: [{"namespace": "shop", "action": "update"}]
requests:
  description: HTTP requests sent to the API server.
  returned: success
  type: int
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh as mesh_mod
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import delivery, owned


def namespace_actions(ns_plan, live_namespaces):
    """The namespace steps as delivery actions (a release is an update of the Namespace), for the shared result."""
    live = dict((ns["metadata"]["name"], ns) for ns in live_namespaces)
    return [owned.Action("unchanged" if step == "unchanged" else "update", owned.key_of(body), body, live.get(name), [step])
            for step, name, body in ns_plan]


def main():
    spec = dict(mesh=dict(type="str", choices=list(mesh_mod.MESHES), required=True),
                namespaces=dict(type="list", elements="str", default=[]))
    spec.update(kclient.CONNECTION_ARGSPEC)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    result = {"changed": False}
    try:
        wanted = mesh_mod.namespace_objects(p["mesh"], p["namespaces"], field="namespaces")
        request = delivery.parse(wanted["objects"], mesh_mod.OWNED_SET, kinds=[{"api_version": a, "kind": k} for a, k in mesh_mod.KINDS])
        client = kclient.KubeClient(kubeconfig=p["kubeconfig"], context=p["context"], host=p["host"], api_key=p["api_key"],
                                    ca_cert=p["ca_cert"], validate_certs=p["validate_certs"])
        live_namespaces = client.list("v1", "Namespace")
        ns_plan = mesh_mod.plan_namespaces(wanted["namespace_patches"], live_namespaces, field="namespaces")
        actions, dummy_patch_actions = delivery.plan(client, request)
        result = delivery.result(actions, namespace_actions(ns_plan, live_namespaces))
        if module._diff:  # the mesh objects; a namespace's change is its opt-in keys, named in plan
            result["diff"] = delivery.result(actions, [], want_diff=True)["diff"]
        result["namespaces"] = [{"namespace": name, "action": step} for step, name, dummy_body in ns_plan]
        # Opt in before creating the strict policy objects; drop objects before releasing the namespace keys.
        for step, dummy_name, body in ns_plan:
            if step == "update":
                client.apply(body, dry_run=module.check_mode, field_manager=mesh_mod.NAMESPACE_FIELD_MANAGER)
        delivery.execute(client, request, actions, [], check_mode=module.check_mode)
        for step, dummy_name, body in ns_plan:
            if step == "release":
                client.apply(body, dry_run=module.check_mode, field_manager=mesh_mod.NAMESPACE_FIELD_MANAGER)
        result["requests"] = client.requests
    except NetsecError as exc:
        exc.fail(module, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
