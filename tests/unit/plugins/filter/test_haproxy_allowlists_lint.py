# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_allowlists: the security groups' world-exposure lint and waivers, on the HAProxy allowlists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError
from fixtures.exposure import narrow_set, world_split
from hypothesis import HealthCheck, given, settings

from ansible_collections.safespring.netsec.plugins.filter import haproxy_allowlists as F
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge
from ansible_collections.safespring.netsec.plugins.modules.security_group import desired_from_params

ADDRESSES = {"jump_host": ["192.0.2.5", "2001:db8:5::5"], "control_plane": ["10.0.0.11"], "worker": ["10.0.1.21"]}


def cluster(api_cidrs=(), ip_versions=(4, 6)):
    return {"name": "c1", "ip_versions": list(ip_versions),
            "loadbalancer": {"ha_mode": "none", "api_cidrs": list(api_cidrs), "ingress_cidrs": ["0.0.0.0/0", "::/0"]}}


def refusal(api_cidrs, addresses=None, **kw):
    with pytest.raises(NetsecError) as err:
        F.allowlists(cluster(api_cidrs), ADDRESSES if addresses is None else addresses, **kw)
    return err.value


def test_world_api_cidrs_are_refused_naming_the_variable_like_the_security_group_module():
    err = refusal(["198.51.100.0/24", "0.0.0.0/0"])
    assert err.field == "cluster.loadbalancer.api_cidrs[1]"
    # The union of the frontend's sources is judged (the jump host is one of them); the widest is named.
    assert err.message.startswith("opens kube-apiserver (tcp/6443) to 192.0.2.5/32, 198.51.100.0/24, 0.0.0.0/0 (all of IPv4; "
                                  "together with addresses.jump_host[0], cluster.loadbalancer.api_cidrs[0])")
    assert "talos-apid (tcp/50000)" in err.message  # the same CIDRs open apid's frontend too
    # The module refuses the same cluster: one policy in both layers.
    with pytest.raises(NetsecError, match="opens kube-apiserver"):
        desired_from_params({"security_groups": [], "cluster": cluster(["0.0.0.0/0"]), "waivers": [], "protected_rules": {}})


@pytest.mark.parametrize("cidrs, words", [
    (["0.0.0.0/1", "128.0.0.0/1"], "all of IPv4"),
    (["::/1", "8000::/1"], "all of IPv6"),
    (["2000::/3"], "IPv6 space as wide as a /3 (limit /16)"),
    (["::/0"], "all of IPv6"),
])
def test_split_and_very_wide_worlds_are_refused_like_the_whole_world(cidrs, words):
    err = refusal(cidrs)
    assert err.field.startswith("cluster.loadbalancer.api_cidrs[") and words in err.message


def test_a_world_jump_host_address_is_refused_naming_the_address_book_entry():
    err = refusal([], addresses=dict(ADDRESSES, jump_host=["192.0.2.5", "0.0.0.0/0"]))
    assert err.field == "addresses.jump_host[1]"
    err = refusal([], addresses=dict(ADDRESSES, jump_host=["0.0.0.0/0"]), addresses_field="haproxy_addresses")
    assert err.field == "haproxy_addresses.jump_host[0]"


def test_the_callers_variable_names_appear_in_the_error():
    with pytest.raises(AnsibleFilterError, match=r"haproxy_cluster\.loadbalancer\.api_cidrs\[0\]: opens kube-apiserver"):
        F.haproxy_allowlists(cluster(["0.0.0.0/0"]), ADDRESSES, cluster_field="haproxy_cluster")


def test_a_named_waiver_scoped_to_the_load_balancer_allows_a_public_api():
    waivers = [{"name": "public-api", "service": "kube-apiserver", "scope": "loadbalancer", "reason": "public API"},
               {"name": "public-apid", "service": "talos-apid", "reason": "public apid"}]
    out = F.haproxy_allowlists(cluster(["0.0.0.0/0"]), ADDRESSES, waivers)
    assert out["kube-apiserver"]["sources"] == ["0.0.0.0/0", "192.0.2.5/32", "2001:db8:5::5/128"]
    assert out["kube-apiserver"]["world"] is True
    # Scoped elsewhere, or half of it: still refused.
    with pytest.raises(NetsecError, match="opens kube-apiserver"):
        F.allowlists(cluster(["0.0.0.0/0"]), ADDRESSES, [dict(waivers[0], scope="c1-loadbalancer"), waivers[1]])
    with pytest.raises(NetsecError, match="opens talos-apid"):
        F.allowlists(cluster(["0.0.0.0/0"]), ADDRESSES, waivers[:1])


def test_malformed_waivers_are_refused_naming_them():
    with pytest.raises(NetsecError) as err:
        F.allowlists(cluster(), ADDRESSES, [{"name": "x", "service": "ssh", "reason": "r"}], waivers_field="haproxy_waivers")
    assert err.value.field == "haproxy_waivers[0].service"


def test_ingress_cidrs_may_be_the_world_http_and_https_are_public():
    out = F.allowlists(cluster(["198.51.100.0/24"]), ADDRESSES)
    assert out == edge.allowlists(cluster(["198.51.100.0/24"]), ADDRESSES)
    assert out["https"]["sources"] == ["0.0.0.0/0", "::/0"]


def test_a_family_the_cluster_does_not_render_is_not_an_exposure():
    out = F.allowlists(cluster(["198.51.100.0/24", "::/0"], ip_versions=[4]), ADDRESSES)
    assert out["kube-apiserver"]["sources"] == ["192.0.2.5/32", "198.51.100.0/24"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world_split())
def test_any_split_of_the_world_in_api_cidrs_is_refused(cidrs):
    err = refusal(cidrs)
    assert err.field.startswith("cluster.loadbalancer.api_cidrs[") and "all of IPv" in err.message


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(narrow_set(version=4))
def test_narrow_api_cidrs_are_accepted(cidrs):
    out = F.allowlists(cluster(cidrs), ADDRESSES)
    assert set(cidrs) <= set(out["kube-apiserver"]["sources"])
