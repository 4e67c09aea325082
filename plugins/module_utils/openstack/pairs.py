# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Allowed address pairs: what a port may send as besides its own address (pure, no I/O).

Port security is Neutron's anti-spoofing: a pair of 0.0.0.0/0 (or a split world, or any
wide range) lets the port send as every address it covers, which switches it off. Pairs
are for virtual addresses that move between hosts (a VRRP VIP), so they are judged on
coverage like the exposure lint, with a far tighter limit: together at most a /24 of IPv4
and a /64 of IPv6 (a block of VIPs, never a network).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

PAIR_LIMIT_PREFIX = {4: 24, 6: 64}
_FAMILY_BITS = {4: 32, 6: 128}


def check_width(pairs):
    """pairs: [(cidr, field)]. Refuse a set of pairs that together covers more than
    PAIR_LIMIT_PREFIX allows per family, naming the widest pair's field."""
    for version in (4, 6):
        mine = [(ipaddress.ip_network(cidr, strict=False), field) for cidr, field in pairs]
        mine = [(net, field) for net, field in mine if net.version == version]
        if not mine:
            continue
        covered = pm.source_coverage([str(net) for net, dummy in mine])[version]
        if covered <= 2 ** (_FAMILY_BITS[version] - PAIR_LIMIT_PREFIX[version]):
            continue
        widest, field = max(mine, key=lambda pair: pair[0].num_addresses)
        if covered == 2 ** _FAMILY_BITS[version]:
            amount = "all of IPv%d" % version
        else:
            amount = "%d IPv4 addresses" % covered if version == 4 else "more than a /64 of IPv6"
        raise NetsecError("%s lets the port send as %s (together the pairs cover %s; the limit is a /%d): that turns port "
                          "security's anti-spoofing off" % (widest, "any address" if widest.prefixlen == 0 else "addresses it does not own",
                                                            amount, PAIR_LIMIT_PREFIX[version]),
                          field=field, fix="list the virtual (VIP) or service addresses themselves")


def cluster_pairs(spec, field="cluster"):
    """VRRP mode: the pairs the port model's VIPs need, [(address, field)], only the cluster's
    IP versions. A VIP is one address: a VIP written as a network would allow all of it."""
    if not isinstance(spec, pm.ClusterSpec):
        spec = pm.ClusterSpec.from_dict(spec, field=field)
    lb = spec["loadbalancer"]
    if lb["ha_mode"] != "vrrp":
        return []
    out = []
    for i, cidr in enumerate(lb["vrrp_addresses"]):
        net = ipaddress.ip_network(cidr, strict=False)
        vfield = field_path(field, "loadbalancer", "vrrp_addresses", i)
        if net.num_addresses != 1:
            raise NetsecError("%s is a network: an address pair for it lets the port send as any address of it" % cidr,
                              field=vfield, fix="write the virtual address itself, e.g. %s" % next(net.hosts(), net.network_address))
        if net.version in spec.ip_versions:
            out.append((str(net.network_address), vfield))
    return out
