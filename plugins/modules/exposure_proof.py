#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: exposure_proof
short_description: Prove end-to-end reachability through every layer of the baseline against the port model
version_added: 0.2.0
description:
  - The layered exposure proof. From the artifacts each layer really enforces (security groups as read back
    from OpenStack, each node's Talos firewall documents, each load balancer's HAProxy frontends and list
    files, the Cilium host policies, the namespace and Cilium network policies), computes for every
    (source class, destination, service) path which layers admit it and which stop it.
  - Source classes are address sets (every address is judged) - the Internet, the admin ranges, the jump
    host, the load balancers, the control-plane and worker nodes, the BGP peer and the API client ranges;
    destinations are the roles, and pods by namespace through the namespace-policy analysis.
  - Fails the proof (C(ok=false), each finding named by path and layer) when the open paths differ from
    the port model's intent, when a layer admits or stops what the design does not ask of it (the Cilium
    host firewall is expected to admit a node-role flow from every node, it cannot tell node roles apart),
    or when a sensitive service that must stay closed is stopped by fewer than two layers wherever two or
    more filter it (defence in depth), and names every difference between the load balancers' edges.
  - A layer whose artifacts are not given is left out (and listed in RV(layers) as not read); the module
    never reads anything itself.
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.INFO_MODULE
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.netpol
  - safespring.netsec.cluster_spec
  - safespring.netsec.cluster_spec.REQUIRED
seealso:
  - module: safespring.netsec.netpol_reachability
  - module: safespring.netsec.compliance_report
options:
  addresses:
    description: Role -> addresses (the address book of C(playbooks/vars/derived.yml)).
    type: dict
    required: true
  security_groups:
    description: The project's security groups as M(openstack.cloud.security_group_info) returns them.
    type: list
    elements: dict
  nodes:
    description: The nodes (C(name), C(role)) the Talos documents belong to.
    type: list
    elements: dict
    default: []
  talos:
    description: Node name -> that node's machine-config documents (rendered or read from the node).
    type: dict
  haproxy:
    description: Load balancer -> C(config) (its haproxy.cfg text) and C(lists) (path -> text of each list file it reads).
    type: dict
  cilium_policies:
    description: CiliumClusterwideNetworkPolicies (the host policies are those with a nodeSelector).
    type: list
    elements: dict
  cilium_host_firewall:
    description: Whether the Cilium host firewall enforces (Cilium values C(hostFirewall.enabled) or the agents' status).
    type: bool
    default: true
  namespace_policies:
    description: NetworkPolicies and the namespace-policies set's CiliumNetworkPolicies (only that owned set; the Cilium baseline's are host-entity policies).
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Layered exposure proof from what each layer enforces
  safespring.netsec.exposure_proof:
    cluster: "{{ netsec_cluster }}"
    addresses: "{{ netsec_address_book }}"
    security_groups: "{{ live_groups.security_groups }}"
    nodes: "{{ netsec_nodes }}"
    talos: "{{ talos_documents }}"
    haproxy: "{{ haproxy_configs }}"
    cilium_policies: "{{ objects | selectattr('kind', 'equalto', 'CiliumClusterwideNetworkPolicy') | list }}"
    namespaces: "{{ netsec_namespaces }}"
    paths: "{{ netsec_paths }}"
    namespace_policies: "{{ namespace_policies }}"
  register: exposure
"""

RETURN = r"""
ok:
  description: No finding at all.
  returned: always
  type: bool
problems:
  description: Every finding, one line each, naming the path (source -> destination service) and the layer.
  returned: always
  type: list
  elements: str
  sample: ["internet -> worker kubelet (tcp/10250): security_groups admits it, the port model does not (from 203.0.113.77)"]
paths:
  description: Every path with C(source), C(destination), C(service), C(port), C(intended), C(open) (allow, stop or partial),
    C(layers) (layer -> allow, stop, partial or -), C(stopped_by) and C(problems).
  returned: always
  type: list
  elements: dict
summary:
  description: Number of paths, open, blocked and failing.
  returned: always
  type: dict
  sample: {paths: 612, open: 70, blocked: 542, failing_paths: 0}
layers:
  description: The layers proven, in order, each with its C(name), C(title) and whether its artifacts were read.
  returned: always
  type: list
  elements: dict
lb_differences:
  description: Differences between the load balancers' frontends and lists.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.layered import layers as L, proof as P
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine, model
from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration, declaration_spec

LAYER_ORDER = (("security_groups", "security groups"), ("haproxy", "HAProxy"), ("talos", "Talos firewall"),
               ("cilium_host", "Cilium host firewall"), (P.POD_LAYER, "namespace policies"))


def run(params):
    """Parse -> prove (pure) -> report."""
    spec = pm.ClusterSpec.from_dict(params["cluster"])
    book = params["addresses"]
    role_addresses = dict((role, pm.resolve(pm.role(role), book, "addresses")) for role in pm.ROLES if role in book)
    layers, read = [], {}
    if params.get("security_groups") is not None:
        layers.append(L.SecurityGroups(params["security_groups"], spec.name, role_addresses))
    if params.get("haproxy") is not None:
        layers.append(L.HAProxy(params["haproxy"]))
    if params.get("talos") is not None:
        roles = dict((n.get("name"), n.get("role")) for n in params["nodes"] or [])
        layers.append(L.Talos(params["talos"], roles))
    if params.get("cilium_policies") is not None:
        node_addresses = role_addresses.get("control_plane", []) + role_addresses.get("worker", [])
        layers.append(L.CiliumHost(params["cilium_policies"], params["cilium_host_firewall"], node_addresses))
    for layer in layers:
        read[layer.name] = True
    paths = P.node_paths(spec, book, layers)
    if params.get("namespace_policies") is not None:
        norm = model.validate(declaration(params), params.get("field_prefix") or "")
        policies = [p for p in params["namespace_policies"] if isinstance(p, dict) and p.get("kind") in ("NetworkPolicy", "CiliumNetworkPolicy")]
        try:
            uni = model.proof_universe(norm, policies)
            reach = engine.analyze(uni, policies)
        except engine.PolicyError as exc:
            raise NetsecError(str(exc), field="namespace_policies", fix="correct the policy; the analyser cannot model it")
        expected, managed = model.expected_flows(norm, uni)
        paths += P.pod_paths(reach, expected, managed)
        read[P.POD_LAYER] = True
    lb_differences = layers[[layer.name for layer in layers].index("haproxy")].differences() if "haproxy" in read else []
    summary = P.summarize(paths, lb_differences)
    return dict(changed=False, ok=summary.pop("ok"), problems=summary.pop("problems"), paths=paths, summary=summary,
                lb_differences=lb_differences,
                layers=[{"name": name, "title": title, "read": bool(read.get(name))} for name, title in LAYER_ORDER])


def main():
    # The namespace-policy declaration has the netpol modules' own spec (defaults filled the same way).
    argument_spec = declaration_spec()
    argument_spec.update(
        cluster=dict(type="dict", required=True),
        addresses=dict(type="dict", required=True),
        security_groups=dict(type="list", elements="dict"),
        nodes=dict(type="list", elements="dict", default=[]),
        talos=dict(type="dict"),
        haproxy=dict(type="dict"),
        cilium_policies=dict(type="list", elements="dict"),
        cilium_host_firewall=dict(type="bool", default=True),
        namespace_policies=dict(type="list", elements="dict"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        result = run(dict(module.params, create_namespaces=None))
    except NetsecError as exc:
        exc.fail(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
