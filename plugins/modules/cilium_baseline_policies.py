#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cilium_baseline_policies
short_description: Render the cluster-wide baseline Cilium policies from the port model
version_added: 0.1.0
description:
  - Pure computation on the controller, no cluster access. Returns the policies that the
    M(safespring.netsec.cilium_network_policy) module then validates and applies.
  - Host policies (CiliumClusterwideNetworkPolicy with a C(nodeSelector)) for control-plane and
    worker nodes admit exactly the port model's ingress flows. Node-role peers become
    C(fromEntities) C(host) and C(remote-node) (plus C(cluster) for the API server, which pods
    reach through the C(kubernetes) Service, and C(health) for cilium-health); load balancers,
    the jump host and CIDR peers become C(fromCIDR) with addresses from O(addresses).
  - C(kube-system) becomes default-deny for ingress (host, nodes and the API server allowed);
    cluster DNS answers the cluster on DNS ports only; Hubble relay and UI accept the jump host only.
  - The result goes through the world-exposure lint of the security groups (C(port_model.lint)), judged on
    address coverage; an O(addresses) entry that opens etcd, kubelet, Talos apid/trustd, the NodePorts or 6443
    to the Internet (V(0.0.0.0/0), a split world such as V(0.0.0.0/1) + V(128.0.0.0/1), anything as wide as
    V(2000::/3)) fails naming the entry, for example C(addresses.loadbalancer[0]), unless O(waivers) allows it.
  - With O(mesh=istio-ambient), an allowance for the kubelet probes Istio SNATs to a
    link-local address (it never switches pods to default deny).
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.INFO_MODULE
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.cluster_spec
  - safespring.netsec.cluster_spec.REQUIRED
options:
  addresses:
    description:
      - Address book, role -> list of addresses or CIDRs. Needs C(loadbalancer) and (when the
        jump host is enabled) C(jump_host).
    type: dict
    required: true
  addresses_field:
    description: How the caller names O(addresses) in errors (the cilium role passes V(cilium_addresses)).
    type: str
    default: addresses
  hubble:
    description: Hubble is deployed (adds the relay/UI policies).
    type: bool
    default: true
  hubble_relay:
    description: Hubble relay is deployed.
    type: bool
    default: true
  hubble_ui:
    description: Hubble UI is deployed.
    type: bool
    default: false
  mesh:
    description: Service-mesh integration in use.
    type: str
    choices: [none, istio-ambient, linkerd]
    default: none
  mesh_namespaces:
    description: Namespaces in the mesh.
    type: list
    elements: str
    default: []
  extra_policies:
    description:
      - Further policy objects linted together with the baseline (they are not returned), so that a role can refuse
        them before it writes or installs anything; errors name them as O(extra_policies_field) says.
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
        host policy is its name (V(netsec-host-control-plane), V(netsec-host-worker)); of a namespaced policy, its namespace.
    type: list
    elements: dict
    default: []
seealso:
  - module: safespring.netsec.cilium_network_policy
  - module: safespring.netsec.security_group
"""

EXAMPLES = r"""
- name: Baseline policies from the port model
  safespring.netsec.cilium_baseline_policies:
    cluster: "{{ netsec_cluster }}"
    addresses:
      loadbalancer: [198.18.1.11, 198.18.1.12]
      jump_host: [198.18.2.5]
  register: baseline
"""

RETURN = r"""
policies:
  description: CiliumClusterwideNetworkPolicy and CiliumNetworkPolicy objects, in a stable order.
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh as mesh_mod
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies


def main():
    module = AnsibleModule(argument_spec=dict(
        cluster=dict(type="dict", required=True),
        addresses=dict(type="dict", required=True),
        addresses_field=dict(type="str", default="addresses"),
        hubble=dict(type="bool", default=True),
        hubble_relay=dict(type="bool", default=True),
        hubble_ui=dict(type="bool", default=False),
        mesh=dict(type="str", choices=list(mesh_mod.MESHES), default="none"),
        mesh_namespaces=dict(type="list", elements="str", default=[]),
        waivers=dict(type="list", elements="dict", default=[]),
        extra_policies=dict(type="list", elements="dict", default=[]),
        extra_policies_field=dict(type="str", default="extra_policies"),
    ), supports_check_mode=True)
    p = module.params
    try:
        result = policies.baseline(p["cluster"], p["addresses"], hubble=p["hubble"], hubble_relay=p["hubble_relay"],
                                   hubble_ui=p["hubble_ui"], mesh=p["mesh"], mesh_namespaces=p["mesh_namespaces"],
                                   field=p["addresses_field"], waivers=p["waivers"],
                                   extra_policies=p["extra_policies"], extra_field=p["extra_policies_field"])
    except NetsecError as exc:
        exc.fail(module)
    module.exit_json(changed=False, policies=result)


if __name__ == "__main__":
    main()
