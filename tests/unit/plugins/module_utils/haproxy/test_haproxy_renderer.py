# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HAProxy edge rendered from the port model: allowlists, upstreams, routes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge

ADDRESSES = {
    "jump_host": ["192.0.2.5"],
    "control_plane": ["10.0.0.11", "10.0.0.12", "fd00::11"],
    "worker": ["10.0.1.21", "10.0.1.22"],
}


def cluster(**lb):
    return {"name": "c1", "loadbalancer": dict({"ha_mode": "none"}, **lb)}


def test_every_frontend_port_comes_from_the_port_models_services():
    lists = edge.allowlists(cluster(), ADDRESSES)
    assert set(lists) == set(edge.FRONTEND_SERVICES)
    for name, entry in lists.items():
        assert entry["port"] == pm.SERVICES[name].port_min


def test_api_allowlists_are_the_jump_host_plus_api_cidrs_and_admin_is_jump_host_only():
    lists = edge.allowlists(cluster(api_cidrs=["198.51.100.0/24", "2001:db8::/64"]), ADDRESSES)
    for service in ("kube-apiserver", "talos-apid"):
        assert lists[service]["sources"] == ["192.0.2.5/32", "198.51.100.0/24", "2001:db8::/64"]
        assert lists[service]["passthrough"] and not lists[service]["world"]
    assert lists["haproxy-admin"]["sources"] == ["192.0.2.5/32"]


def test_ingress_allowlists_follow_ingress_cidrs_and_world_is_flagged():
    lists = edge.allowlists(cluster(), ADDRESSES)
    assert lists["https"]["sources"] == ["0.0.0.0/0", "::/0"] and lists["https"]["world"]
    narrowed = edge.allowlists(cluster(ingress_cidrs=["203.0.113.7", "203.0.113.0/24"]), ADDRESSES)
    assert narrowed["http"]["sources"] == ["203.0.113.0/24", "203.0.113.7/32"] and not narrowed["http"]["world"]


def test_only_the_clusters_ip_versions_are_kept():
    spec = dict(cluster(api_cidrs=["198.51.100.0/24", "2001:db8::/64"]), ip_versions=[4])
    assert edge.allowlists(spec, ADDRESSES)["kube-apiserver"]["sources"] == ["192.0.2.5/32", "198.51.100.0/24"]
    assert edge.allowlists(spec, ADDRESSES)["https"]["sources"] == ["0.0.0.0/0"]


def test_disabled_jump_host_and_no_api_cidrs_leave_the_api_closed_not_open():
    spec = dict(cluster(), jump_host={"enabled": False})
    lists = edge.allowlists(spec, {})
    assert lists["kube-apiserver"]["sources"] == [] and lists["haproxy-admin"]["sources"] == []


def test_missing_role_addresses_name_the_field():
    with pytest.raises(NetsecError) as err:
        edge.allowlists(cluster(), {"control_plane": ["10.0.0.11"]})
    assert err.value.field == "addresses.jump_host"


def test_upstreams_are_the_flows_leaving_the_load_balancer():
    up = edge.upstreams(cluster(), ADDRESSES)
    assert up["kube-apiserver"] == {"port_min": 6443, "port_max": 6443, "servers": ["10.0.0.11", "10.0.0.12", "fd00::11"]}
    assert up["talos-apid"]["servers"] == ["10.0.0.11", "10.0.0.12", "fd00::11"]
    assert up["nodeports"]["servers"] == ["10.0.1.21", "10.0.1.22"]
    assert (up["nodeports"]["port_min"], up["nodeports"]["port_max"]) == (30000, 32767)


def test_upstream_role_given_as_a_network_is_refused():
    with pytest.raises(NetsecError) as err:
        edge.upstreams(cluster(), dict(ADDRESSES, control_plane=["10.0.0.0/24"]))
    assert err.value.field == "addresses.control_plane"


def test_nodeport_route_targets_every_nodeport_node():
    routes = edge.ingress_routes([{"name": "web", "hosts": ["WWW.Example.com.", "*.apps.example.com"], "nodeport": 30080}],
                                 cluster(), ADDRESSES)
    assert routes[0]["hosts"] == ["www.example.com", "*.apps.example.com"]
    assert routes[0]["servers"] == [{"address": "10.0.1.21", "port": 30080, "name": "web1"},
                                    {"address": "10.0.1.22", "port": 30080, "name": "web2"}]
    assert routes[0]["send_proxy"] is False


def test_gateway_route_uses_its_servers():
    routes = edge.ingress_routes([{"name": "gw", "hosts": ["a.example"], "target": "servers", "send_proxy": True,
                                   "servers": [{"address": "fd00::80", "port": 8443}]}], cluster(), ADDRESSES)
    assert routes[0]["servers"] == [{"address": "fd00::80", "port": 8443, "name": "gw1"}]
    assert routes[0]["send_proxy"] is True


@pytest.mark.parametrize("routes, field", [
    ([{"name": "web", "hosts": ["a.example"], "nodeport": 8080}], "haproxy_ingress_routes[0].nodeport"),
    ([{"name": "web", "hosts": ["a.example"], "nodeport": 30080},
      {"name": "web2", "hosts": ["A.example"], "nodeport": 30081}], "haproxy_ingress_routes[1].hosts[0]"),
    ([{"name": "Web!", "hosts": ["a.example"], "nodeport": 30080}], "haproxy_ingress_routes[0].name"),
    ([{"name": "web", "hosts": ["a b"], "nodeport": 30080}], "haproxy_ingress_routes[0].hosts[0]"),
    ([{"name": "gw", "hosts": ["a.example"], "target": "servers", "servers": [{"address": "gw.example", "port": 1}]}],
     "haproxy_ingress_routes[0].servers[0].address"),
    ([{"name": "gw", "hosts": ["a.example"], "target": "lb"}], "haproxy_ingress_routes[0].target"),
])
def test_bad_routes_name_the_field(routes, field):
    with pytest.raises(NetsecError) as err:
        edge.ingress_routes(routes, cluster(), ADDRESSES)
    assert err.value.field == field


def test_denylist_is_normalised_sorted_unique_and_refuses_the_world():
    assert edge.denylist(["2001:db8::1", "10.1.2.3/8", "10.0.0.0/8", "192.0.2.7"]) == [
        "10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128"]
    with pytest.raises(NetsecError) as err:
        edge.denylist(["192.0.2.0/24", "0.0.0.0/0"])
    assert err.value.field == "haproxy_deny_cidrs[1]"
    with pytest.raises(NetsecError) as err:
        edge.denylist(["nope"], field="haproxy_limit_exempt_cidrs")
    assert err.value.field == "haproxy_limit_exempt_cidrs[0]"
