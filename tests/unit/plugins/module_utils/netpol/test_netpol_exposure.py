# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security groups' world-exposure lint on namespace policies: declared CIDR paths and the
NetworkPolicies / CiliumNetworkPolicies of namespace_policies_extra_objects, judged on coverage."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

import pytest
from fixtures.exposure import narrow_set, world_split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration_spec
from ansible_collections.safespring.netsec.plugins.modules import netpol_policies

SENSITIVE_PORTS = [pm.SERVICES[name].port_min for name in pm.SENSITIVE_SERVICES]
NAMESPACES = [
    {"name": "ingress", "workloads": [{"name": "nginx", "labels": {"app": "nginx"}, "ports": [{"port": 443, "name": "https"}, {"port": 80}]}]},
    {"name": "shop", "workloads": [{"name": "api", "labels": {"app": "api"}, "ports": [{"port": 6443, "name": "api"}]}]},
    {"name": "batch"},
]


def params(paths=(), extra=(), waivers=(), cluster_cidrs=()):
    out = dict((k, v.get("default")) for k, v in declaration_spec().items())
    out.update(namespaces=NAMESPACES, paths=list(paths), cluster_cidrs=list(cluster_cidrs), create_namespaces=False,
               owned_set="namespace-policies", extra_objects=list(extra), waivers=list(waivers), field_prefix="namespace_policies_")
    return out


def path(cidr, port=6443, namespace="batch", **kw):
    return dict({"from": {"cidr": cidr}, "to": {"namespace": namespace}, "ports": [{"port": port}] if port else []}, **kw)


def netpol(*ingress, namespace="batch"):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "extra", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": list(ingress)}}


def refusal(*args, **kw):
    with pytest.raises(NetsecError) as err:
        netpol_policies.plan(params(*args, **kw))
    return err.value


def passes(*args, **kw):
    return netpol_policies.plan(params(*args, **kw))["summary"]


def complement(keep):
    keep = ipaddress.ip_network(keep)
    world = ipaddress.ip_network("0.0.0.0/0" if keep.version == 4 else "::/0")
    return [str(n) for n in world.address_exclude(keep)]


def test_a_world_split_over_two_paths_is_refused_naming_the_path():
    err = refusal([path("0.0.0.0/1"), path("128.0.0.0/1")])
    assert err.field == "namespace_policies_paths[0].from.cidr"
    assert err.message.startswith("opens kube-apiserver (tcp/6443) to 0.0.0.0/1, 128.0.0.0/1 (all of IPv4; "
                                  "together with namespace_policies_paths[1].from.cidr)")


@pytest.mark.parametrize("paths, words", [
    ([path("::/1", 2379), path("8000::/1", 2379)], "opens etcd (tcp/2379-2380) to ::/1, 8000::/1 (all of IPv6"),
    ([path("2000::/3", 10250)], "opens kubelet (tcp/10250) to 2000::/3 (IPv6 space as wide as a /3 (limit /16))"),
    ([path("0.0.0.0/0", None)], "opens etcd"),  # no ports: every port
    ([path("0.0.0.0/0", 30080)], "opens nodeports"),
    ([path("0.0.0.0/0", "api", namespace="shop")], "opens kube-apiserver"),  # a named port resolved through the workloads
])
def test_wide_cidr_paths_on_sensitive_ports_are_refused(paths, words):
    err = refusal(paths)
    assert err.field == "namespace_policies_paths[0].from.cidr" and words in err.message


def test_the_cluster_cidr_excepts_do_not_make_a_world_path_safe():
    err = refusal([path("0.0.0.0/0")], cluster_cidrs=["10.244.0.0/16", "10.96.0.0/12"])
    assert err.field == "namespace_policies_paths[0].from.cidr" and "IPv4 space as wide as a /1 (limit /8)" in err.message


@pytest.mark.parametrize("rule, field, words", [
    ({"ports": [{"port": 10250}]}, "from", "opens kubelet (tcp/10250) to any"),  # no from: every source
    ({"from": [], "ports": [{"port": 10250}]}, "from", "to any"),
    ({}, "from", "opens etcd"),  # nothing at all: every source, every port
    ({"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}], "ports": [{"port": 6443}]}, "from[0].ipBlock.cidr",
     "opens kube-apiserver"),
    ({"from": [{"podSelector": {}}, {"ipBlock": {"cidr": "::/0"}}], "ports": [{"protocol": "TCP"}]}, "from[1].ipBlock.cidr", "opens etcd"),
    ({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 30000, "endPort": 30010}]}, "from[0].ipBlock.cidr", "opens nodeports"),
    ({"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": "kubelet"}]}, "from[0].ipBlock.cidr", "opens etcd"),
])
def test_extra_network_policies_admitting_the_world_are_refused_naming_the_rule(rule, field, words):
    err = refusal(extra=[netpol(rule)])
    assert err.field == "namespace_policies_extra_objects[0].spec.ingress[0]." + field and words in err.message


def test_an_extra_cilium_policy_and_a_path_are_united_in_their_namespace():
    cnp = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": "batch"},
           "spec": {"endpointSelector": {}, "ingress": [{"fromCIDR": ["128.0.0.0/1"], "toPorts": [{"ports": [{"port": "6443"}]}]}]}}
    err = refusal([path("0.0.0.0/1")], extra=[cnp])
    assert err.field == "namespace_policies_paths[0].from.cidr"
    assert "namespace_policies_extra_objects[0].spec.ingress[0].fromCIDR[0]" in err.message
    # In another namespace the halves are two separate exposures; each /1 alone is still far too wide.
    with pytest.raises(NetsecError, match="opens kube-apiserver"):
        netpol_policies.plan(params([path("0.0.0.0/1", namespace="ingress")], extra=[cnp]))


@pytest.mark.parametrize("paths, extra", [
    ([path("0.0.0.0/0", 443, namespace="ingress"), path("::/0", 80, namespace="ingress")], []),
    ([path("0.0.0.0/0", "https", namespace="ingress")], []),  # the name resolves to 443
    ([dict(path("0.0.0.0/0"), ports=[{"port": 6443, "protocol": "UDP"}])], []),
    ([path("198.18.1.0/24", None), path("2001:db8::/48", 2379)], []),
    ([], [netpol({"from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": complement("192.0.2.0/24")}}], "ports": [{"port": 6443}]})]),
    ([], [netpol({"from": [{"namespaceSelector": {}}, {"podSelector": {"matchLabels": {"a": "b"}}}]})]),
    ([], [dict(netpol(), spec={"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]})]),
])
def test_non_sensitive_ports_narrow_sources_and_egress_pass(paths, extra):
    assert passes(paths, extra)["NetworkPolicy"] >= 3


def test_a_waiver_names_the_service_and_the_destination_namespace():
    waiver = {"name": "public-api-proxy", "service": "kube-apiserver", "scope": "batch", "reason": "a public API proxy"}
    assert passes([path("0.0.0.0/0")], waivers=[waiver])
    err = refusal([path("0.0.0.0/0")], waivers=[dict(waiver, scope="shop")])
    assert err.field == "namespace_policies_paths[0].from.cidr"
    assert "opens etcd" in refusal([path("0.0.0.0/0", None)], waivers=[waiver]).message  # waives 6443 only
    err = refusal([path("0.0.0.0/0")], waivers=[dict(waiver, service="ssh")])
    assert err.field == "namespace_policies_waivers[0].service"


def test_the_lab_declaration_passes():
    import yaml
    from fixtures.cilium import REPO
    inventory = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "netsec.yml").read_text())
    out = params(inventory["netsec_paths"])
    out["namespaces"] = inventory["netsec_namespaces"]
    assert netpol_policies.plan(out)["summary"]["NetworkPolicy"] > 0


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(split=world_split(max_cuts=8), port=st.sampled_from(SENSITIVE_PORTS), as_paths=st.booleans())
def test_any_world_split_on_a_sensitive_port_is_refused(split, port, as_paths):
    if as_paths:  # one declared path per CIDR
        err = refusal([path(c, port) for c in split])
        assert err.field.startswith("namespace_policies_paths[")
    else:  # one extra NetworkPolicy, one ipBlock peer per CIDR
        err = refusal(extra=[netpol({"from": [{"ipBlock": {"cidr": c}} for c in split], "ports": [{"port": port}]})])
        assert err.field.startswith("namespace_policies_extra_objects[0].spec.ingress[0].from[")
    assert err.message.startswith("opens ")


@FAST
@given(v4=narrow_set(version=4), v6=narrow_set(version=6), port=st.sampled_from(SENSITIVE_PORTS))
def test_narrow_source_sets_on_a_sensitive_port_always_pass(v4, v6, port):
    cidrs = sorted(set(v4 + v6))
    assert passes([path(c, port) for c in cidrs])
    assert passes(extra=[netpol({"from": [{"ipBlock": {"cidr": c}} for c in cidrs]})])
