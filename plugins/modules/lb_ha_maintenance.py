#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lb_ha_maintenance
short_description: Withdraw, drain and re-announce one load balancer of an lb_ha pair (graceful maintenance)
version_added: 0.2.0
description:
  - One step of a rolling maintenance (C(playbooks/maintenance.yml), role entry point C(lb_ha) C(tasks_from=maintenance)).
  - O(state=withdrawn) writes the maintenance flag the role's health loop honours. bgp - BIRD's service routes are
    withdrawn; the module waits until BIRD exports none. vrrp - keepalived faults the instance and the peer takes the
    VIP; the module waits until this host no longer holds it and another MAC answers ARP for it on the segment. For
    O(linger) seconds this host keeps the VIP as a /32 on lo (never answering ARP for it) so that its haproxy still
    serves what reaches it while the router's ARP entry moves to the peer.
  - O(state=drained) waits until haproxy's runtime API shows no client session (or O(drain_timeout)) and reports what is left.
  - O(state=announced) runs O(checks) (the verification), removes the flag and waits until BIRD exports the service
    routes again (bgp) or keepalived left FAULT (vrrp, from O(transitions_log)).
  - O(state=route_absent) / O(state=route_present), run on the router (delegated), wait until BIRD there has no / has
    a route for each of O(addresses) via O(next_hop).
extends_documentation_fragment:
  - safespring.netsec.attributes
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - A withdrawn LB is not withdrawn again, an announced one not again; the waits read state only.
options:
  state:
    description: The step.
    type: str
    required: true
    choices: [withdrawn, drained, announced, route_absent, route_present]
  mode:
    description: The pair's HA mode (withdrawn, announced).
    type: str
    choices: [bgp, vrrp]
  flag_file:
    description: The health loop's maintenance flag (C(lb_ha_run_dir)/maintenance).
    type: path
  bird_socket:
    description: BIRD's control socket (this LB's, or the router's for the route states).
    type: path
  addresses:
    description: The service addresses (the VIP in vrrp mode; the routes the router must drop or have).
    type: list
    elements: str
    default: []
  interface:
    description: The VRRP interface (vrrp mode).
    type: str
    default: eth0
  linger:
    description: Seconds a withdrawn VRRP master keeps serving the VIP from lo after the hand-over (0 - none).
    type: float
    default: 3
  runtime_socket:
    description: haproxy's runtime API socket (drained).
    type: path
  drain_timeout:
    description: Seconds to wait for haproxy's client sessions to end.
    type: float
    default: 30
  transitions_log:
    description: The keepalived notify log of the role (vrrp, announced).
    type: path
  next_hop:
    description: This LB's address, as the router sees it as next hop (route states).
    type: str
  checks:
    description: Verification before re-announcing, as in M(safespring.netsec.gated_config) (O(state=announced)).
    type: list
    elements: dict
    default: []
  timeout:
    description: Seconds each wait may take.
    type: float
    default: 30
seealso:
  - module: safespring.netsec.gated_config
author:
  - Safespring platform team (@safespring)
"""

EXAMPLES = r"""
- name: Withdraw this LB (the peer serves)
  safespring.netsec.lb_ha_maintenance:
    state: withdrawn
    mode: vrrp
    flag_file: /run/lb_ha/maintenance
    addresses: [198.18.1.100]
    interface: eth0

- name: Wait until the router no longer routes the service address here
  safespring.netsec.lb_ha_maintenance:
    state: route_absent
    bird_socket: /run/bird/bird.ctl
    addresses: [198.18.0.10/32]
    next_hop: 198.18.1.11
  delegate_to: router
"""

RETURN = r"""
withdrawn_seconds:
  description: bgp - seconds until BIRD exported no service route.
  type: float
  returned: state=withdrawn, bgp
handed_over_seconds:
  description: vrrp - seconds until another MAC answered ARP for the VIP.
  type: float
  returned: state=withdrawn, vrrp
sessions_left:
  description: Client sessions haproxy still held at the end of the drain.
  type: int
  returned: state=drained
announced_seconds:
  description: Seconds until the LB announced again (bgp) or left FAULT (vrrp).
  type: float
  returned: state=announced
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.lb_ha.maintenance import parse, run_state


def main():
    spec = dict(
        state=dict(type="str", required=True, choices=["withdrawn", "drained", "announced", "route_absent", "route_present"]),
        mode=dict(type="str", choices=["bgp", "vrrp"]),
        flag_file=dict(type="path"),
        bird_socket=dict(type="path"),
        addresses=dict(type="list", elements="str", default=[]),
        interface=dict(type="str", default="eth0"),
        linger=dict(type="float", default=3.0),
        runtime_socket=dict(type="path"),
        drain_timeout=dict(type="float", default=30.0),
        transitions_log=dict(type="path"),
        next_hop=dict(type="str"),
        checks=dict(type="list", elements="dict", default=[]),
        timeout=dict(type="float", default=30.0),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=False)

    def run(argv, timeout=30):
        return module.run_command(argv, check_rc=False)
    try:
        result = run_state(parse(module.params), run=run)
    except NetsecError as exc:
        exc.fail(module, changed=False)
    failed = result.pop("failed", None)
    if failed:
        module.fail_json(msg=failed, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
