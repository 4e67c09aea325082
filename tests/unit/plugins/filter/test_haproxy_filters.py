# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The haproxy_* filters: what the role's templates call, errors as AnsibleFilterError naming the field."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.filter import haproxy_allowlists, haproxy_denylist
from ansible_collections.safespring.netsec.plugins.filter import haproxy_ingress_routes, haproxy_upstreams

CLUSTER = {"name": "c1", "loadbalancer": {"ha_mode": "none"}}
ADDRESSES = {"jump_host": ["192.0.2.5"], "control_plane": ["10.0.0.11"], "worker": ["10.0.1.21"]}


def test_each_filter_module_exports_its_own_name():
    for module in (haproxy_allowlists, haproxy_denylist, haproxy_ingress_routes, haproxy_upstreams):
        assert list(module.FilterModule().filters()) == [module.__name__.rsplit(".", 1)[1]]


def test_allowlists_filter_renders_the_port_model():
    out = haproxy_allowlists.haproxy_allowlists(CLUSTER, ADDRESSES)
    assert out["kube-apiserver"]["sources"] == ["192.0.2.5/32"]


def test_filter_errors_name_the_field():
    with pytest.raises(AnsibleFilterError, match=r"addresses\.jump_host"):
        haproxy_allowlists.haproxy_allowlists(CLUSTER, {})
    with pytest.raises(AnsibleFilterError, match=r"haproxy_ingress_routes\[0\]\.nodeport"):
        haproxy_ingress_routes.haproxy_ingress_routes([{"name": "a", "hosts": ["a.example"], "nodeport": 1}], CLUSTER, ADDRESSES)
    with pytest.raises(AnsibleFilterError, match=r"haproxy_deny_cidrs\[0\]"):
        haproxy_denylist.haproxy_denylist(["::/0"])
    with pytest.raises(AnsibleFilterError, match=r"cluster\.name"):
        haproxy_upstreams.haproxy_upstreams({"name": ""}, ADDRESSES)
