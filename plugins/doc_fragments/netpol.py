# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The declaration netpol_policies builds from and netpol_reachability proves against (the
    # namespace_policies role's variables); its argument spec is declaration_spec() in
    # plugins/module_utils/netpol/spec.py (keep the two in step).
    DOCUMENTATION = r"""
options:
  namespaces:
    description:
      - The managed namespaces. Each gets default-deny ingress and egress, DNS to the cluster DNS
        (unless O(namespaces[].dns=false)) and the paths that name it.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Namespace name.
        type: str
        required: true
      labels:
        description: Extra namespace labels (also visible to namespace selectors).
        type: dict
      create:
        description:
          - Create the namespace (M(safespring.netsec.netpol_policies); the default is its
            O(safespring.netsec.netpol_policies#module:create_namespaces)). No effect on the reachability analysis.
        type: bool
      psa_level:
        description: Pod Security Admission level for the enforce, audit and warn labels.
        type: str
        choices: [privileged, baseline, restricted]
      psa_version:
        description: Pod Security Admission version labels.
        type: str
        default: latest
      intra_namespace:
        description: Allow all traffic between the pods of this namespace.
        type: bool
        default: false
      dns:
        description: Allow DNS (UDP and TCP) to the cluster DNS pods.
        type: bool
        default: true
      workloads:
        description:
          - Workloads of the namespace (labels and container ports). Used by the proof instead
            of probe pods, and needed to resolve named ports.
        type: list
        elements: dict
        suboptions:
          name:
            description: Workload name.
            type: str
            required: true
          labels:
            description: Pod labels.
            type: dict
          ports:
            description: Container ports.
            type: list
            elements: dict
            suboptions:
              port:
                description: Port number.
                type: int
                required: true
              protocol:
                description: Protocol.
                type: str
                default: TCP
                choices: [TCP, UDP, SCTP]
              name:
                description: Port name (IANA service name).
                type: str
  paths:
    description:
      - The allowed communication paths, and nothing else.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Stable name of the path (policy names derive from it). Derived from the content when unset.
        type: str
      from:
        description:
          - Source. One of C(namespace) (with optional C(pods), a map of pod labels) or C(cidr)
            (addresses outside the cluster, for example the load balancers).
        type: dict
        required: true
      to:
        description:
          - Destination. One of C(namespace) (with optional C(pods)), C(cidr), C(fqdn) (exact name or
            C(*.example.com); CiliumNetworkPolicy) or C(entity) (C(kube-apiserver); CiliumNetworkPolicy).
        type: dict
        required: true
      ports:
        description: Ports; none means every port.
        type: list
        elements: dict
        suboptions:
          port:
            description: Port number (1-65535) or a named port of the destination workloads.
            type: raw
            required: true
          end_port:
            description: Last port of a range starting at O(paths[].ports[].port).
            type: int
          protocol:
            description: Protocol.
            type: str
            default: TCP
            choices: [TCP, UDP, SCTP]
      http:
        description: L7 HTTP rules (C(method), C(path) regular expressions); rendered as a CiliumNetworkPolicy.
        type: list
        elements: dict
  dns:
    description: Where the cluster DNS runs.
    type: dict
    suboptions:
      namespace:
        description: Namespace of the DNS pods.
        type: str
        default: kube-system
      pods:
        description: Labels of the DNS pods.
        type: dict
        default: {k8s-app: kube-dns}
      port:
        description: DNS port (UDP and TCP).
        type: int
        default: 53
  cluster_cidrs:
    description:
      - Pod and service CIDRs. A CIDR path inside them is refused; a CIDR path that contains them gets
        them as C(except), so a CIDR path never opens pod traffic.
    type: list
    elements: str
    default: []
  field_prefix:
    description: Prefix of the field names in error messages (the role passes C(namespace_policies_)).
    type: str
    default: ''
"""
