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
namespaces:
  description: Per namespace the action taken (update, unchanged, release).
  returned: success
  type: list
  elements: dict
  sample: [{"namespace": "shop", "action": "update"}]
objects:
  description: Mesh objects by action (create, update, unchanged, prune).
  returned: success
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh as mesh_mod
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned


def main():
    spec = dict(mesh=dict(type="str", choices=list(mesh_mod.MESHES), required=True),
                namespaces=dict(type="list", elements="str", default=[]))
    spec.update(kclient.CONNECTION_ARGSPEC)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    result = {"changed": False}
    try:
        wanted = mesh_mod.namespace_objects(p["mesh"], p["namespaces"], field="namespaces")
        desired = [owned.stamp(o, mesh_mod.OWNED_SET) for o in wanted["objects"]]
        client = kclient.KubeClient(kubeconfig=p["kubeconfig"], context=p["context"], host=p["host"], api_key=p["api_key"],
                                    ca_cert=p["ca_cert"], validate_certs=p["validate_certs"])
        ns_plan = mesh_mod.plan_namespaces(wanted["namespace_patches"], client.list("v1", "Namespace"), field="namespaces")
        live = client.live_for(desired, mesh_mod.OWNED_SET, mesh_mod.KINDS, skip_unserved=True)
        actions = owned.plan(desired, live, mesh_mod.OWNED_SET, field="objects")
        result["namespaces"] = [{"namespace": step[1], "action": step[0]} for step in ns_plan]
        result["objects"] = owned.summary(actions)
        result["changed"] = owned.changed(actions) or any(step[0] != "unchanged" for step in ns_plan)
        if module._diff:
            result["diff"] = owned.diff(actions)
        # Opt in before creating the strict policy objects; drop objects before releasing the namespace keys.
        for action, dummy, body in ns_plan:
            if action == "update":
                client.apply(body, dry_run=module.check_mode, field_manager=mesh_mod.NAMESPACE_FIELD_MANAGER)
        kclient.execute(client, actions, check_mode=module.check_mode)
        for action, dummy, body in ns_plan:
            if action == "release":
                client.apply(body, dry_run=module.check_mode, field_manager=mesh_mod.NAMESPACE_FIELD_MANAGER)
    except NetsecError as exc:
        exc.fail(module, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
