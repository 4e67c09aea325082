# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # GENERATED from port_model.CLUSTER_SCHEMA by tests/tools/cluster_spec.py; do not edit.
    # Modules whose cluster option is required add safespring.netsec.cluster_spec.REQUIRED.

    DOCUMENTATION = r"""
options:
  cluster:
    description: The cluster as the port model reads it, the one mapping security groups, Talos firewall documents, HAProxy
      allowlists and Cilium policies are rendered from. Unset keys take the defaults below; unknown keys are refused at every
      level.
    type: dict
    suboptions:
      name:
        description: Cluster name; the security groups are named C(<name>-<role>).
        type: str
        required: true
      ip_versions:
        description: IP families to open.
        type: list
        default: [4, 6]
        choices: [4, 6]
        elements: int
      cni:
        description: Cilium options.
        type: dict
        suboptions:
          tunnel:
            description: Overlay (udp/8472 for V(vxlan), udp/6081 for V(geneve), none for V(native) routing).
            type: str
            default: vxlan
            choices: [vxlan, geneve, native]
          wireguard:
            description: Cilium WireGuard encryption (udp/51871 between nodes).
            type: bool
            default: true
          health:
            description: cilium-health probes (tcp/4240 and ICMP echo between nodes).
            type: bool
            default: true
          hubble:
            description: Hubble server (tcp/4244 between nodes).
            type: bool
            default: true
      talos:
        description: Talos options.
        type: dict
        suboptions:
          kubespan:
            description: KubeSpan (udp/51820 between nodes).
            type: bool
            default: false
      loadbalancer:
        description: The load balancers (the only entry into the cluster).
        type: dict
        suboptions:
          ha_mode:
            description: V(bgp) anycast (tcp/179 and BFD with the platform peer), V(vrrp) (IP protocol 112 between the load
              balancers), or V(none).
            type: str
            default: bgp
            choices: [bgp, vrrp, none]
          bgp_peers:
            description: The platform's BGP peer addresses (BGP mode; at least one).
            type: list
            default: [169.254.169.254/32]
            elements: str
          bfd:
            description: BFD (udp/4784) with the BGP peer.
            type: bool
            default: true
          ingress_cidrs:
            description: Who may reach tcp/80 and tcp/443 on the load balancers (the default is the world).
            type: list
            default: [0.0.0.0/0, '::/0']
            elements: str
          api_cidrs:
            description: CIDRs besides the jump host that may reach tcp/6443 and tcp/50000 on the load balancers.
            type: list
            default: []
            elements: str
          nodeport_targets:
            description: Node roles the load balancers reach on the NodePort range (tcp/30000-32767).
            type: list
            default: [worker]
            choices: [control_plane, worker]
            elements: str
          vrrp_addresses:
            description: VRRP mode, the virtual addresses the load balancers' ports must allow.
            type: list
            default: []
            elements: str
      jump_host:
        description: The jump host, the only admin source.
        type: dict
        suboptions:
          enabled:
            description: Render the jump host's group and its admin flows.
            type: bool
            default: true
          admin_cidrs:
            description: Who may reach SSH (tcp/22) on the jump host.
            type: list
            default: []
            elements: str
      egress:
        description: Egress restriction; egress is open unless a role is listed in C(restrict).
        type: dict
        suboptions:
          restrict:
            description: Roles whose egress is limited to the declared destinations and the cluster's own flows.
            type: list
            default: []
            choices: [control_plane, worker, loadbalancer, jump_host]
            elements: str
          dns:
            description: DNS servers (udp/53 and tcp/53).
            type: list
            default: []
            elements: str
          ntp:
            description: NTP servers (udp/123).
            type: list
            default: []
            elements: str
          registries:
            description: Container image registries (tcp/443).
            type: list
            default: []
            elements: str
          oidc_issuer:
            description: The OIDC issuer (tcp/443).
            type: list
            default: []
            elements: str
          extra:
            description: Further egress destinations.
            type: list
            default: []
            elements: dict
            suboptions:
              name:
                description: Name of the destination (the service is called C(egress-<name>)).
                type: str
                required: true
              protocol:
                description: Transport protocol.
                type: str
                default: tcp
                choices: [tcp, udp]
              port:
                description: Port (or first port of a range).
                type: int
                required: true
              port_max:
                description: Last port of a range; the default is C(port).
                type: int
              cidrs:
                description: Destination addresses or CIDRs.
                type: list
                default: []
                elements: str
              roles:
                description: Roles that may use this destination (when their egress is restricted).
                type: list
                default: [control_plane, worker]
                choices: [control_plane, worker, loadbalancer, jump_host]
                elements: str
"""

    REQUIRED = r"""
options:
  cluster:
    required: true
"""
