#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kubernetes_owned_set
short_description: Deliver a set of Kubernetes objects one caller owns (server-side apply, prune, or render for GitOps)
version_added: 0.2.0
description:
  - Declares the complete set of objects one caller owns (O(owned_set)). The objects get the owner labels
    C(app.kubernetes.io/managed-by=safespring.netsec) and C(netsec.safespring.com/owned-set=<owned_set>), are planned
    against the live cluster (create, update, unchanged, prune) and server-side applied with the field manager
    C(safespring.netsec). Objects of the set that are no longer declared are deleted (O(prune)), each DELETE carrying
    the uid and resourceVersion the plan saw, so an object changed since is left alone.
  - A declared name held by an object without our owner labels (a foreign object), or by another owned set, fails the
    task before any request that writes, naming the entry (C(objects[3])).
  - O(patches) are partial objects applied onto objects that are not ours (labels on an existing Namespace); they are
    never labelled as ours, never pruned, never forced, and created only with C(create=true).
  - With O(delivery=render) nothing is sent; the objects and patches are written to O(render_dir), one file each plus a
    C(kustomization.yaml), for GitOps.
  - The same planning, apply and result shape serve M(safespring.netsec.cilium_network_policy).
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
      - Every apply and delete is sent with C(dryRun=All), so the plan is the real run's and the API server still admits
        or refuses each object; nothing is persisted. An object in a Namespace that the same run creates cannot be dry-run
        (the Namespace does not exist yet) and is listed in RV(not_sent).
  diff_mode:
    support: full
    details:
      - Before and after of each object that changes, server fields removed, secrets redacted.
options:
  objects:
    description: The objects of the owned set (C(apiVersion), C(kind), C(metadata.name), C(metadata.namespace) when namespaced).
    type: list
    elements: dict
    required: true
  owned_set:
    description: Name of the owned set (a label value). One caller, one set.
    type: str
    required: true
  kinds:
    description:
      - Kinds (C({api_version, kind})) whose objects of this set are listed for pruning, in the order prunes run; a kind
        the cluster does not serve (an optional CRD) holds nothing. Default the kinds of O(objects); name every kind the
        set may have held, or dropping the last object of a kind leaves it behind.
    type: list
    elements: dict
  patches:
    description: Partial objects applied onto objects that are not ours, C({object, create}); C(create=false) skips an absent target.
    type: list
    elements: dict
    default: []
  prune:
    description: Delete objects of the owned set that are not in O(objects).
    type: bool
    default: true
  prune_first:
    description: Delete before applying (access grants - revoking first is the safe direction when a run stops half-way).
    type: bool
    default: false
  force_conflicts:
    description:
      - Take back fields of the owned set's objects that another field manager took over (a hand edit); patches onto
        objects that are not ours are never forced.
    type: bool
    default: false
  legacy_managed_by:
    description: Managed-by values an older release of the caller wrote; such objects count as this set's (adopted or pruned).
    type: list
    elements: str
    default: []
  delivery:
    description: C(apply) to the cluster, or C(render) files for GitOps.
    type: str
    choices: [apply, render]
    default: apply
  render_dir:
    description: Directory for O(delivery=render) (stale files this collection wrote there are removed, others never touched).
    type: path
  kustomization:
    description: Also write a C(kustomization.yaml) listing the files.
    type: bool
    default: true
requirements:
  - kubernetes (Python) for O(delivery=apply)
seealso:
  - module: safespring.netsec.cilium_network_policy
  - module: safespring.netsec.netpol_policies
  - module: safespring.netsec.zitadel_kubernetes_access
"""

EXAMPLES = r"""
- name: NetworkPolicies of one team, pruned when no longer declared
  safespring.netsec.kubernetes_owned_set:
    kubeconfig: ~/.kube/lab
    owned_set: team-shop
    kinds:
      - {api_version: networking.k8s.io/v1, kind: NetworkPolicy}
    objects:
      - apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny, namespace: shop}
        spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
    patches:
      - object: {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}}
        create: true

- name: The same for Argo CD
  safespring.netsec.kubernetes_owned_set:
    owned_set: team-shop
    objects: "{{ shop_objects }}"
    delivery: render
    render_dir: gitops/shop
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) created, updated or pruned.
  returned: always
  type: bool
created:
  description: Objects created (C(Kind namespace/name)); with O(delivery=render), objects whose file is new.
  returned: success
  type: list
  elements: str
  sample: ["NetworkPolicy shop/default-deny"]
updated:
  description: Objects updated (fields differ, or a field we applied before is no longer declared).
  returned: success
  type: list
  elements: str
pruned:
  description: Objects of the set deleted because no longer declared; with O(delivery=render), stale files removed.
  returned: success
  type: list
  elements: str
unchanged:
  description: Objects already as declared.
  returned: success
  type: list
  elements: str
skipped:
  description: Patch targets that do not exist (and were not to be created).
  returned: success
  type: list
  elements: str
plan:
  description: One entry per object and action (create, update, unchanged, prune, skip), patches first.
  returned: success
  type: list
  elements: dict
  sample: [{"action": "create", "object": "NetworkPolicy shop/default-deny"}]
not_sent:
  description: In check mode, objects not dry-run because their Namespace is created by this same run.
  returned: when O(delivery=apply)
  type: list
  elements: str
requests:
  description: HTTP requests sent to the API server (discovery included).
  returned: when O(delivery=apply)
  type: int
files:
  description: Files of the render directory.
  returned: when O(delivery=render)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import delivery


def argument_spec():
    spec = dict(
        objects=dict(type="list", elements="dict", required=True),
        owned_set=dict(type="str", required=True),
        kinds=dict(type="list", elements="dict"),
        patches=dict(type="list", elements="dict", default=[]),
        prune=dict(type="bool", default=True),
        prune_first=dict(type="bool", default=False),
        force_conflicts=dict(type="bool", default=False),
        legacy_managed_by=dict(type="list", elements="str", default=[]),
        delivery=dict(type="str", choices=["apply", "render"], default="apply"),
        render_dir=dict(type="path"),
        kustomization=dict(type="bool", default=True),
    )
    spec.update(kclient.CONNECTION_ARGSPEC)
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("delivery", "render", ("render_dir",))])
    p = module.params
    result = {"changed": False}
    try:
        request = delivery.parse(p["objects"], p["owned_set"], patches=p["patches"], kinds=p["kinds"], prune=p["prune"],
                                 prune_first=p["prune_first"], force_conflicts=p["force_conflicts"],
                                 legacy_managed_by=p["legacy_managed_by"])
        if p["delivery"] == "render":
            result = delivery.render(request, p["render_dir"], p["kustomization"], check_mode=module.check_mode, want_diff=module._diff)
        else:
            client = kclient.KubeClient(kubeconfig=p["kubeconfig"], context=p["context"], host=p["host"], api_key=p["api_key"],
                                        ca_cert=p["ca_cert"], validate_certs=p["validate_certs"])
            result = delivery.deliver(client, request, check_mode=module.check_mode, want_diff=module._diff)
    except NetsecError as exc:
        exc.fail(module, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
