# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The security groups' world-exposure lint on Cilium policies: the baseline (address book) and
the policies cilium_network_policy applies (the role's cilium_extra_policies), judged on coverage."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

import pytest
from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER
from fixtures.exposure import narrow_set, world_split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import exposure
from ansible_collections.safespring.netsec.plugins.modules import cilium_network_policy as cnp_module

SENSITIVE_PORTS = [(name, pm.SERVICES[name].port_min) for name in pm.SENSITIVE_SERVICES]


def cnp(*ingress, namespace="shop", name="extra", kind="CiliumNetworkPolicy"):
    meta = {"name": name}
    if kind == "CiliumNetworkPolicy":
        meta["namespace"] = namespace
    return {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": meta, "spec": {"endpointSelector": {}, "ingress": list(ingress)}}


def tcp(*ports):
    return [{"ports": [{"port": str(p), "protocol": "TCP"} for p in ports]}]


def module_params(extra, waivers=(), baseline=None):
    return {"policies": baseline if baseline is not None else policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK),
            "extra_policies": list(extra), "extra_policies_field": "cilium_extra_policies", "waivers": list(waivers)}


def refusal(extra, waivers=(), **kw):
    with pytest.raises(NetsecError) as err:
        cnp_module.lint(module_params(extra, waivers, **kw))
    return err.value


def complement(keep):
    """The excepts that leave exactly `keep` of its family's whole space."""
    keep = ipaddress.ip_network(keep)
    world = ipaddress.ip_network("0.0.0.0/0" if keep.version == 4 else "::/0")
    return [str(n) for n in world.address_exclude(keep)]


# --- what counts as the world ---------------------------------------------------------------

def test_a_world_split_over_two_rules_is_refused_naming_the_role_variable():
    err = refusal([cnp({"fromCIDR": ["0.0.0.0/1"], "toPorts": tcp(6443)}, {"fromCIDR": ["128.0.0.0/1"], "toPorts": tcp(6443)})])
    assert err.field == "cilium_extra_policies[0].spec.ingress[0].fromCIDR[0]"
    assert err.message.startswith("opens kube-apiserver (tcp/6443) to 0.0.0.0/1, 128.0.0.0/1 (all of IPv4; "
                                  "together with cilium_extra_policies[0].spec.ingress[1].fromCIDR[0])")
    assert "waiver" in err.fix


def test_a_world_split_over_two_policies_of_one_namespace_is_refused():
    err = refusal([cnp({"fromCIDR": ["0.0.0.0/1"], "toPorts": tcp(10250)}, name="a"),
                   cnp({"fromCIDRSet": [{"cidr": "128.0.0.0/1"}], "toPorts": tcp(10250)}, name="b")])
    assert err.field == "cilium_extra_policies[0].spec.ingress[0].fromCIDR[0]" and "opens kubelet" in err.message
    assert "cilium_extra_policies[1].spec.ingress[0].fromCIDRSet[0].cidr" in err.message


@pytest.mark.parametrize("rule, field, words", [
    ({"fromCIDRSet": [{"cidr": "::/1"}, {"cidr": "8000::/1"}], "toPorts": tcp(2379)}, "fromCIDRSet[0].cidr",
     "opens etcd (tcp/2379-2380) to ::/1, 8000::/1 (all of IPv6"),
    ({"fromCIDR": ["2000::/3"], "toPorts": tcp(10250)}, "fromCIDR[0]", "IPv6 space as wide as a /3 (limit /16)"),
    ({"fromEntities": ["world"], "toPorts": tcp(50000)}, "fromEntities[0]", "opens talos-apid (tcp/50000) to any"),
    ({"fromEntities": ["cluster", "all"], "toPorts": tcp(50001)}, "fromEntities[1]", "opens talos-trustd"),
    ({"fromEntities": ["world-ipv6"], "toPorts": tcp(6443)}, "fromEntities[0]", "to ::/0 (all of IPv6"),
    ({"toPorts": tcp(6443)}, "", "opens kube-apiserver (tcp/6443) to any"),  # only ports: every source
    ({}, "", "opens etcd"),  # nothing at all: every source, every port
    ({"fromCIDR": ["0.0.0.0/0"]}, "fromCIDR[0]", "opens etcd"),  # no toPorts: every port
    ({"fromCIDR": ["0.0.0.0/0"], "toPorts": [{"ports": [{"port": "30000", "endPort": 30100, "protocol": "TCP"}]}]}, "fromCIDR[0]", "opens nodeports"),
    ({"fromCIDR": ["0.0.0.0/0"], "toPorts": [{"ports": [{"port": "0", "protocol": "ANY"}]}]}, "fromCIDR[0]", "opens etcd"),
    ({"fromCIDR": ["0.0.0.0/0"], "toPorts": [{"ports": [{"port": "kubelet-api"}]}]}, "fromCIDR[0]", "opens etcd"),  # unknown name: any port
    ({"fromCIDR": ["0.0.0.0/0"], "toPorts": [{"ports": []}]}, "fromCIDR[0]", "opens etcd"),
    ({"fromCIDRSet": [{"cidrGroupRef": "someone-elses"}], "toPorts": tcp(6443)}, "fromCIDRSet[0]", "to any"),
])
def test_every_spelling_of_the_world_on_a_sensitive_port_is_refused(rule, field, words):
    err = refusal([cnp(rule)])
    assert err.field == ("cilium_extra_policies[0].spec.ingress[0]" + ("." + field if field else ""))
    assert words in err.message


def test_except_carve_outs_count_only_for_what_they_remove():
    # The world minus RFC 1918 is still the Internet.
    err = refusal([cnp({"fromCIDRSet": [{"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]}],
                        "toPorts": tcp(6443)})])
    assert err.field == "cilium_extra_policies[0].spec.ingress[0].fromCIDRSet[0].cidr"
    assert "IPv4 space as wide as a /1 (limit /8)" in err.message
    # Minus everything but one /24 it is that /24: passes.
    narrow = [cnp({"fromCIDRSet": [{"cidr": "0.0.0.0/0", "except": complement("192.0.2.0/24")}], "toPorts": tcp(6443)})]
    assert len(cnp_module.lint(module_params(narrow))) == len(module_params(narrow)["policies"]) + 1
    assert exposure.remaining("0.0.0.0/0", complement("192.0.2.0/24"), "f") == ["192.0.2.0/24"]
    assert exposure.remaining("::/0", complement("2001:db8::/48"), "f") == ["2001:db8::/48"]


def test_except_computation_is_bounded_and_never_narrower_than_true():
    every_other = ["10.%d.%d.0/24" % (i // 128, 2 * (i % 128)) for i in range(8000)]  # 8000 holes: 8000 pieces left
    assert exposure.remaining("10.0.0.0/8", every_other, "f") == ["10.0.0.0/8"]
    exact = exposure.remaining("10.0.0.0/8", every_other[:3000], "f")  # within the bound: exact
    assert pm.source_coverage(exact)[4] == 2 ** 24 - 3000 * 256 and "10.0.0.0/24" not in exact and "10.0.1.0/24" in exact
    assert exposure.remaining("10.0.0.0/8", ["10.0.0.0/9", "10.0.0.0/10", "10.192.0.0/10"], "f") == ["10.128.0.0/10"]
    assert exposure.remaining("10.0.0.0/8", ["10.0.0.0/8"], "f") == []
    assert exposure.remaining("10.0.0.0/8", ["::/0", "192.0.2.0/24"], "f") == ["10.0.0.0/8"]


@pytest.mark.parametrize("policy", [
    cnp({"fromEntities": ["world"], "toPorts": tcp(443, 80)}, namespace="ingress"),
    cnp({"fromCIDR": ["0.0.0.0/0", "::/0"], "toPorts": [{"ports": [{"port": "6443", "protocol": "UDP"}]}]}),
    cnp({"fromEntities": ["world"], "icmps": [{"fields": [{"type": 8, "family": "IPv4"}]}]}),
    cnp({"fromCIDR": ["0.0.0.0/0"], "toPorts": [{"ports": [{"port": "1", "endPort": 2378, "protocol": "TCP"}]}]}),
    cnp({"fromEndpoints": [{}], "fromEntities": ["cluster", "host", "remote-node"]}),
    cnp({"fromCIDR": ["198.18.1.0/24", "2001:db8::/48"]}),
    dict(cnp(), spec={"endpointSelector": {}, "ingressDeny": [{"fromEntities": ["world"]}], "egress": [{"toEntities": ["world"]}]}),
])
def test_non_sensitive_ports_deny_rules_egress_and_narrow_sources_pass(policy):
    assert cnp_module.lint(module_params([policy]))[-1] is policy


def test_sources_are_united_per_namespace_and_clusterwide_policies_together():
    # A /8 each is at the limit: alone, or in two namespaces, it passes; two of them on the same pods do not.
    def ns_policy(cidr, namespace, name):
        return cnp({"fromCIDR": [cidr], "toPorts": tcp(6443)}, namespace=namespace, name=name)

    assert len(cnp_module.lint(module_params([ns_policy("10.0.0.0/8", "a", "p"), ns_policy("11.0.0.0/8", "b", "p")]))) > 2
    err = refusal([ns_policy("10.0.0.0/8", "a", "p"), ns_policy("11.0.0.0/8", "a", "q")])
    assert "IPv4 space as wide as a /7 (limit /8)" in err.message
    ccnp = cnp({"fromCIDR": ["10.0.0.0/8"], "toPorts": tcp(6443)}, kind="CiliumClusterwideNetworkPolicy", name="one")
    other = cnp(kind="CiliumClusterwideNetworkPolicy", name="two")
    other["specs"] = [other.pop("spec"), {"nodeSelector": {}, "ingress": [{"fromCIDR": ["11.0.0.0/9"], "toPorts": tcp(6443)}]}]
    # (without the baseline: its host policies are clusterwide too, and the load balancers would tip the /8 over)
    assert cnp_module.lint(module_params([ccnp], baseline=[])) == [ccnp] and cnp_module.lint(module_params([other], baseline=[])) == [other]
    err = refusal([ccnp, other], baseline=[])
    assert err.field == "cilium_extra_policies[0].spec.ingress[0].fromCIDR[0]"
    assert "cilium_extra_policies[1].specs[1].ingress[0].fromCIDR[0]" in err.message


# --- waivers ----------------------------------------------------------------------------------

WORLD_API = cnp({"fromEntities": ["world"], "toPorts": tcp(6443)}, namespace="public-api")


def test_a_named_waiver_scoped_to_the_namespace_allows_it_another_scope_does_not():
    waiver = {"name": "public-api", "service": "kube-apiserver", "scope": "public-api", "reason": "public API proxy"}
    assert cnp_module.lint(module_params([WORLD_API], [waiver]))[-1] is WORLD_API
    assert cnp_module.lint(module_params([WORLD_API], [dict(waiver, scope=None)]))[-1] is WORLD_API  # unscoped: everywhere
    assert "opens kube-apiserver" in refusal([WORLD_API], [dict(waiver, scope="shop")]).message
    assert "opens kube-apiserver" in refusal([WORLD_API], [dict(waiver, service="kubelet")]).message
    err = refusal([WORLD_API], [{"name": "x", "service": "kube-apiserver"}])
    assert err.field == "waivers[0]" and "needs a name and a reason" in err.message


def test_the_baseline_refuses_a_world_address_book_naming_the_entry():
    book = dict(LAB_ADDRESS_BOOK, loadbalancer=["198.18.1.11", "0.0.0.0/1", "128.0.0.0/1"])
    with pytest.raises(NetsecError) as err:
        policies.baseline(LAB_CLUSTER, book, field="addresses")
    assert err.value.field == "addresses.loadbalancer[1]"
    assert "opens kube-apiserver (tcp/6443) to 198.18.1.11/32, 0.0.0.0/1, 128.0.0.0/1" in err.value.message
    assert "addresses.loadbalancer[2]" in err.value.message
    # The load balancers reach apid and 6443 on the control plane, the NodePorts on workers: one waiver per scope.
    waivers = [{"name": "lb-anywhere-%s" % s, "service": s, "scope": "netsec-host-control-plane", "reason": "test"}
               for s in ("kube-apiserver", "talos-apid")]
    with pytest.raises(NetsecError, match="opens nodeports") as err:
        policies.baseline(LAB_CLUSTER, book, field="addresses", waivers=waivers)
    waivers.append({"name": "lb-anywhere-np", "service": "nodeports", "scope": "netsec-host-worker", "reason": "test"})
    assert [p["metadata"]["name"] for p in policies.baseline(LAB_CLUSTER, book, waivers=waivers)][:2] == \
        ["netsec-host-control-plane", "netsec-host-worker"]
    with pytest.raises(NetsecError, match="opens kube-apiserver"):
        policies.baseline(LAB_CLUSTER, book, waivers=[dict(w, scope="netsec-host-worker") for w in waivers])


def test_a_world_jump_host_is_refused_by_the_baseline():
    with pytest.raises(NetsecError) as err:
        policies.baseline(LAB_CLUSTER, dict(LAB_ADDRESS_BOOK, jump_host=["::/0"]), field="cilium_addresses")
    assert err.value.field == "cilium_addresses.jump_host[0]" and "opens talos-apid" in err.value.message


def test_the_lab_baseline_and_its_variants_pass_the_lint():
    for kw in (dict(), dict(hubble_ui=True), dict(mesh="istio-ambient", mesh_namespaces=["shop"])):
        out = policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, **kw)
        assert cnp_module.lint(module_params([], baseline=out)) == out


# --- properties -------------------------------------------------------------------------------

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(split=world_split(), service=st.sampled_from(SENSITIVE_PORTS), per_rule=st.booleans(), data=st.data())
def test_any_world_split_on_a_sensitive_port_is_refused(split, service, per_rule, data):
    name, port = service
    if per_rule:  # one rule per CIDR
        policy = cnp(*[{"fromCIDR": [c], "toPorts": tcp(port)} for c in split])
    else:  # one rule, mixed fromCIDR / fromCIDRSet
        cut = data.draw(st.integers(min_value=0, max_value=len(split)))
        policy = cnp({"fromCIDR": split[:cut], "fromCIDRSet": [{"cidr": c} for c in split[cut:]], "toPorts": tcp(port)})
    err = refusal([policy])
    assert err.field.startswith("cilium_extra_policies[0].spec.ingress[") and ("opens %s " % name) in err.message


@FAST
@given(v4=narrow_set(version=4), v6=narrow_set(version=6), service=st.sampled_from(SENSITIVE_PORTS))
def test_narrow_source_sets_on_a_sensitive_port_always_pass(v4, v6, service):
    policy = cnp({"fromCIDR": v4 + v6, "toPorts": tcp(service[1])}, {"fromCIDRSet": [{"cidr": c} for c in v4]})
    assert cnp_module.lint(module_params([policy]))[-1] is policy


def test_the_baseline_lints_the_extra_policies_with_it_before_the_role_writes_anything():
    extra = [cnp({"fromEntities": ["world"], "toPorts": tcp(10250)})]
    with pytest.raises(NetsecError) as err:
        policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, extra_policies=extra, extra_field="cilium_extra_policies")
    assert err.value.field == "cilium_extra_policies[0].spec.ingress[0].fromEntities[0]" and "opens kubelet" in err.value.message
    # An extra clusterwide policy is united with the host policies: the load balancers plus a /8 are over the limit.
    wide = [cnp({"fromCIDR": ["10.0.0.0/8"], "toPorts": tcp(6443)}, kind="CiliumClusterwideNetworkPolicy", name="more-api")]
    with pytest.raises(NetsecError, match="together with addresses.loadbalancer"):
        policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, field="addresses", extra_policies=wide, extra_field="cilium_extra_policies")
    out = policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, extra_policies=[cnp({"fromEntities": ["world"], "toPorts": tcp(443)})])
    assert out == policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK)  # linted, not returned


def test_an_extra_policy_is_named_by_its_own_field_even_when_it_repeats_an_address_book_cidr():
    extra = [cnp({"fromCIDR": ["198.18.1.11/32", "0.0.0.0/0"], "toPorts": tcp(6443)})]
    with pytest.raises(NetsecError) as err:
        policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, field="addresses", extra_policies=extra, extra_field="cilium_extra_policies")
    assert err.value.field == "cilium_extra_policies[0].spec.ingress[0].fromCIDR[1]"
    assert "together with cilium_extra_policies[0].spec.ingress[0].fromCIDR[0])" in err.value.message
