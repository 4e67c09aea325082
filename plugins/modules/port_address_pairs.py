#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: port_address_pairs
short_description: Allow extra addresses (a VRRP virtual IP) on OpenStack ports
version_added: 0.1.0
description:
  - Manages the C(allowed_address_pairs) of Neutron ports, for example the keepalived virtual address on each load
    balancer's port. Port security drops traffic from an address the port does not own unless it is listed there.
  - By default only the given addresses are added or removed and other pairs are left alone; O(exclusive=true) makes
    the list complete.
  - Addresses are compared normalised (V(198.18.1.100/32) is V(198.18.1.100)); a pair without C(mac_address) means the
    port's own MAC.
  - Pairs switch anti-spoofing off for the addresses they cover, so they are judged on coverage before any API call;
    pairs that together cover more than a /24 of IPv4 or a /64 of IPv6 (V(0.0.0.0/0), V(::/0), a split world such as
    V(0.0.0.0/1) + V(128.0.0.0/1), V(2000::/3), a whole network) are refused, naming the pair, for example
    C(addresses[0].ip_address). From O(cluster), every C(loadbalancer.vrrp_addresses) entry must be one address.
  - Not every cloud allows address pairs (on Safespring's layer-3 network a VRRP address does not work at all; use the
    BGP anycast mode there).
  - With O(cluster) (mutually exclusive with O(addresses)) the pairs are its O(cluster.loadbalancer.vrrp_addresses) of
    its O(cluster.ip_versions) when O(cluster.loadbalancer.ha_mode) is V(vrrp); nothing is done in the other modes.
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.openstack
  - safespring.netsec.cluster_spec
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  ports:
    description:
      - Port ids or unique port names. Every port gets the same pairs.
    type: list
    elements: str
    required: true
  addresses:
    description:
      - The pairs, each C({ip_address, mac_address}) (C(mac_address) optional) or just the address as a string.
        C(ip_address) may be an address or a CIDR.
      - Mutually exclusive with O(cluster).
    type: list
    elements: raw
    default: []
  state:
    description:
      - V(present) adds the pairs, V(absent) removes them.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), remove every other pair of the ports.
    type: bool
    default: false
seealso:
  - module: safespring.netsec.security_group
"""

EXAMPLES = r"""
- name: The VRRP virtual address may be sent from both load balancers
  safespring.netsec.port_address_pairs:
    cloud: mycloud
    ports: [lb1-port, lb2-port]
    addresses:
      - ip_address: 198.18.1.100
"""

RETURN = r"""
msg:
  description: Why nothing was done (O(cluster) not in VRRP mode).
  returned: when O(cluster) is not in VRRP mode
  type: str
ports:
  description: Per port, its id and its pairs after the run (as they would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 3f1c..., name: lb1-port, changed: true, allowed_address_pairs: [{ip_address: 198.18.1.100, mac_address: "fa:16:3e:00:00:01"}]}
"""

import ipaddress

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import client as C
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import pairs as P


def normalize_address(value, field):
    try:
        network = ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        raise NetsecError("%r is not an IPv4/IPv6 address or CIDR" % (value,), field=field)
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def parse_pairs(raw, field="addresses"):
    """User pairs -> [(address, mac or None)]; refused, naming the pair, when they are not
    pairs or together allow more than a block of VIPs (pairs.check_width)."""
    out, widths = [], []
    for i, pair in enumerate(raw):
        pfield = field_path(field, i)
        if isinstance(pair, str):
            ifield, pair = pfield, {"ip_address": pair}
        else:
            ifield = field_path(pfield, "ip_address")
        if not isinstance(pair, dict) or set(pair) - {"ip_address", "mac_address"} or not pair.get("ip_address"):
            raise NetsecError("must be a mapping with ip_address and optionally mac_address", field=pfield)
        mac = pair.get("mac_address")
        address = normalize_address(pair["ip_address"], ifield)
        widths.append((address, ifield))
        out.append((address, mac.lower() if mac else None))
    P.check_width(widths)
    return out


def plan_port(port, wanted, state, exclusive):
    """-> the port's new pair list, or None when nothing changes (pure)."""
    mac = (port.get("mac_address") or "").lower()
    live = [(normalize_address(p["ip_address"], "ip_address"), (p.get("mac_address") or mac).lower())
            for p in port.get("allowed_address_pairs") or []]
    want = [(ip, m or mac) for ip, m in wanted]
    if state == "absent":
        new = [p for p in live if p not in want]
    elif exclusive:
        new = list(want)
    else:
        new = live + [p for p in want if p not in live]
    if sorted(set(new)) == sorted(set(live)):
        return None
    seen, ordered = set(), []
    for pair in new:
        if pair not in seen:
            seen.add(pair)
            ordered.append(pair)
    return [{"ip_address": ip, "mac_address": m} for ip, m in ordered]


def _lines(pairs):
    return "".join("%s %s\n" % (p["ip_address"], p.get("mac_address") or "") for p in pairs)


def main():
    module = C.OpenStackModule(
        argument_spec=dict(
            ports=dict(type="list", elements="str", required=True),
            addresses=dict(type="list", elements="raw", default=[]),
            cluster=dict(type="dict"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            exclusive=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("addresses", "cluster")],
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p["cluster"] is not None:
            spec = pm.ClusterSpec.from_dict(p["cluster"], field="cluster")
            if spec["loadbalancer"]["ha_mode"] != "vrrp":
                module.exit_json(changed=False, ports=[], msg="ha_mode is %s: no address pairs needed" % spec["loadbalancer"]["ha_mode"])
            wanted = [(address, None) for address, dummy in P.cluster_pairs(spec, "cluster")]
        else:
            wanted = parse_pairs(p["addresses"])
    except NetsecError as exc:
        exc.fail(module, changed=False)

    results, diffs, changed = [], [], False
    try:
        client = C.NeutronClient(C.connect(p))
        for name in p["ports"]:
            port = client.find_port(name)
            new = plan_port(port, wanted, p["state"], p["exclusive"])
            before = port.get("allowed_address_pairs") or []
            after = before if new is None else new
            if new is not None:
                changed = True
                diffs.append({"before_header": "port %s" % name, "after_header": "port %s" % name,
                              "before": _lines(before), "after": _lines(after)})
                if not module.check_mode:
                    after = client.update_port(port["id"], {"allowed_address_pairs": new}).get("allowed_address_pairs", new)
            results.append({"id": port["id"], "name": port.get("name"), "changed": new is not None, "allowed_address_pairs": after})
    except NetsecError as exc:
        exc.fail(module, changed=changed, ports=results)
    result = dict(changed=changed, ports=results)
    if module._diff:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
