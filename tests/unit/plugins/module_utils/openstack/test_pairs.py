# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Allowed address pairs: no pair set may switch anti-spoofing off."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

import pytest
from fixtures.exposure import world_split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import pairs as P
from ansible_collections.safespring.netsec.plugins.modules import port_address_pairs as pap


@pytest.mark.parametrize("raw, field, words", [
    (["0.0.0.0/0"], "addresses[0]", "0.0.0.0/0 lets the port send as any address (together the pairs cover all of IPv4"),
    ([{"ip_address": "198.18.1.100"}, {"ip_address": "::/0"}], "addresses[1].ip_address", "all of IPv6"),
    (["0.0.0.0/1", {"ip_address": "128.0.0.0/1"}], "addresses[0]", "all of IPv4"),
    (["2000::/3"], "addresses[0]", "cover more than a /64 of IPv6; the limit is a /64"),
    (["10.0.0.0/8"], "addresses[0]", "16777216 IPv4 addresses; the limit is a /24"),
    (["198.18.1.0/25", "198.18.2.0/25", "198.18.3.0/25"], "addresses[0]", "384 IPv4 addresses; the limit is a /24"),
])
def test_pairs_wider_than_a_block_of_vips_are_refused_naming_the_pair(raw, field, words):
    with pytest.raises(NetsecError) as err:
        pap.parse_pairs(raw)
    assert err.value.field == field and words in err.value.message
    assert "anti-spoofing" in err.value.message and err.value.fix == "list the virtual (VIP) or service addresses themselves"


def test_vips_and_a_small_block_are_accepted():
    assert pap.parse_pairs(["198.18.1.100/32", {"ip_address": "fd5a:fe:1::100", "mac_address": "FA:16:3E:00:00:01"},
                            "198.18.7.0/25", "2001:db8:1::/112"]) == [
        ("198.18.1.100", None), ("fd5a:fe:1::100", "fa:16:3e:00:00:01"), ("198.18.7.0/25", None), ("2001:db8:1::/112", None)]


def test_cluster_vips_must_be_single_addresses():
    cluster = {"name": "c1", "ip_versions": [4], "jump_host": {"admin_cidrs": ["192.0.2.0/28"]},
               "loadbalancer": {"ha_mode": "vrrp", "vrrp_addresses": ["198.18.1.100", "fd5a:fe:1::100", "198.18.1.100/24"]}}
    with pytest.raises(NetsecError) as err:
        P.cluster_pairs(cluster)
    assert err.value.field == "cluster.loadbalancer.vrrp_addresses[2]" and "198.18.1.0/24 is a network" in err.value.message
    cluster["loadbalancer"]["vrrp_addresses"] = ["198.18.1.100", "fd5a:fe:1::100/128"]
    assert P.cluster_pairs(cluster) == [("198.18.1.100", "cluster.loadbalancer.vrrp_addresses[0]")]  # IPv6 not in this cluster
    with pytest.raises(NetsecError) as err:
        P.cluster_pairs(dict(cluster, loadbalancer={"ha_mode": "vrrp", "vrrp_addresses": ["0.0.0.0/0"]}), "netsec_cluster")
    assert err.value.field == "netsec_cluster.loadbalancer.vrrp_addresses[0]"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world_split())
def test_any_split_of_the_world_is_refused(cidrs):
    with pytest.raises(NetsecError, match="anti-spoofing"):
        pap.parse_pairs(cidrs)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=2 ** 32 - 1), min_size=1, max_size=16))
def test_any_few_single_vips_are_accepted(addresses):
    raw = [str(ipaddress.ip_address(a)) for a in addresses]
    assert [a for a, dummy in pap.parse_pairs(raw)] == raw
