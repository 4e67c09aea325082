"""NetworkPolicy corners the e2e suite does not pin down, from the networking.k8s.io/v1 API
reference (field docs and SetDefaults_NetworkPolicySpec), and the CiliumNetworkPolicy subset."""
import pytest

from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine
from fixtures.netpol import E2EModel, gen_policy


def np(ns, name, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": name}, "spec": spec}


def analyze(model, policies, **kw):
    uni = engine.Universe(model.namespaces, model.pods, policies, **kw)
    return engine.analyze(uni, policies)


def test_missing_policy_types_with_egress_rules_isolates_egress_too():
    m = E2EModel(pods=("x/a", "y/a"))
    r = analyze(m, [np("x", "p", {"podSelector": {}, "egress": [{"ports": [{"port": 81}]}]})])
    assert not r.allows("x/a", "y/a", ("TCP", 80))
    assert r.allows("x/a", "y/a", ("TCP", 81))
    assert not r.allows("y/a", "x/a", ("TCP", 80)), "implicit Ingress type with no ingress rules isolates ingress"


def test_missing_policy_types_with_empty_egress_list_is_ingress_only():
    m = E2EModel(pods=("x/a", "y/a"))
    r = analyze(m, [np("x", "p", {"podSelector": {}, "egress": [], "ingress": [{}]})])
    assert r.allows("x/a", "y/a", ("TCP", 80))


def test_egress_rules_without_egress_in_policy_types_are_ignored():
    """The API server accepts them and nothing enforces them (network-config-analyzer rejects the policy)."""
    m = E2EModel(pods=("x/a", "y/a"))
    r = analyze(m, [np("x", "p", {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}], "egress": [{"ports": [{"port": 81}]}]})])
    assert r.allows("x/a", "y/a", ("TCP", 80))


def test_empty_from_list_allows_every_source_but_missing_rule_list_denies():
    m = E2EModel(pods=("x/a", "y/a"))
    assert analyze(m, [np("x", "p", {"podSelector": {}, "ingress": [{"from": []}]})]).allows("y/a", "x/a", ("TCP", 80))
    assert not analyze(m, [np("x", "p", {"podSelector": {}, "policyTypes": ["Ingress"]})]).allows("y/a", "x/a", ("TCP", 80))


def test_missing_pod_selector_in_the_spec_selects_every_pod_of_the_namespace():
    m = E2EModel(pods=("x/a", "x/b", "y/a"))
    r = analyze(m, [np("x", "p", {"policyTypes": ["Ingress"]})])
    assert not r.allows("y/a", "x/a", ("TCP", 80)) and not r.allows("y/a", "x/b", ("TCP", 80))


def test_end_port_is_an_inclusive_range():
    m = E2EModel(pods=("x/a", "y/a"), ports=(80, 81, 82), protocols=("TCP",))
    r = analyze(m, [np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": 80, "endPort": 81}]}]})])
    assert [r.allows("y/a", "x/a", ("TCP", p)) for p in (80, 81, 82)] == [True, True, False]


def test_port_without_number_admits_every_port_of_its_protocol_only():
    m = E2EModel(pods=("x/a", "y/a"), ports=(80,), protocols=("TCP", "UDP"))
    r = analyze(m, [np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"protocol": "UDP"}]}]})])
    assert r.allows("y/a", "x/a", ("UDP", 80)) and not r.allows("y/a", "x/a", ("TCP", 80))


def test_named_port_resolves_per_destination_pod():
    m = E2EModel(pods=("x/a", "x/b", "y/a"), ports=(80,), protocols=("TCP",))
    m.pods[0]["ports"] = [{"port": 80, "protocol": "TCP", "name": "web"}]
    m.pods[1]["ports"] = [{"port": 80, "protocol": "TCP", "name": "other"}]
    r = analyze(m, [np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "web"}]}]})])
    assert r.allows("y/a", "x/a", ("TCP", 80)) and not r.allows("y/a", "x/b", ("TCP", 80))


def test_named_port_with_a_different_protocol_does_not_match():
    m = E2EModel(pods=("x/a", "y/a"), ports=(80,), protocols=("TCP",))
    r = analyze(m, [np("x", "p", {"podSelector": {}, "ingress": [{"ports": [{"port": "serve-80-tcp", "protocol": "UDP"}]}]})])
    assert not r.allows("y/a", "x/a", ("TCP", 80))


@pytest.mark.parametrize("expr, selected", [
    ({"key": "pod", "operator": "Exists"}, {"x/a", "x/b"}),
    ({"key": "role", "operator": "DoesNotExist"}, {"x/b"}),
    ({"key": "role", "operator": "NotIn", "values": ["web"]}, {"x/b"}),
    ({"key": "role", "operator": "NotIn", "values": ["db"]}, {"x/a", "x/b"}),
    ({"key": "role", "operator": "In", "values": ["db", "web"]}, {"x/a"}),
])
def test_match_expressions_operators(expr, selected):
    m = E2EModel(pods=("x/a", "x/b", "y/a"))
    m.pods[0]["labels"]["role"] = "web"
    r = analyze(m, [np("x", "p", {"podSelector": {"matchExpressions": [expr]}, "policyTypes": ["Ingress"]})])
    isolated = set(p for p in ("x/a", "x/b") if not r.allows("y/a", p, ("TCP", 80)))
    assert isolated == selected


def test_in_without_values_is_refused():
    m = E2EModel(pods=("x/a",))
    with pytest.raises(engine.PolicyError, match="needs at least one value"):
        analyze(m, [np("x", "p", {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}})])


def test_ipblock_except_must_lie_inside_the_cidr():
    m = E2EModel(pods=("x/a",))
    with pytest.raises(engine.PolicyError, match="not inside"):
        analyze(m, [np("x", "p", {"podSelector": {}, "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["11.0.0.0/8"]}}]}]})])


def test_ipblock_reaches_outside_atoms_exactly():
    m = E2EModel(pods=("x/a",))
    pol = np("x", "p", {"podSelector": {}, "policyTypes": ["Egress"],
                        "egress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24", "except": ["192.0.2.128/25"]}}], "ports": [{"port": 443}]}]})
    r = analyze(m, [pol], cidrs=["192.0.2.0/26"])
    assert r.allows("x/a", "192.0.2.0/26", ("TCP", 443))
    assert r.allows("x/a", "192.0.2.64/26", ("TCP", 443))
    assert not r.allows("x/a", "192.0.2.128/25", ("TCP", 443))
    assert not r.allows("x/a", "192.0.2.0/26", ("TCP", 444))


def test_policies_are_a_union_in_both_directions():
    m = E2EModel(pods=("x/a", "x/b", "y/a"), ports=(80,), protocols=("TCP",))
    pols = [np("x", "deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
            np("x", "in", {"podSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]}),
            np("x", "out", {"podSelector": {"matchLabels": {"pod": "b"}}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]})]
    r = analyze(m, pols)
    assert r.allows("x/b", "x/a", ("TCP", 80))
    assert not r.allows("x/a", "x/b", ("TCP", 80)), "x/a has no egress allow"


def cnp(ns, name, spec):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"namespace": ns, "name": name}, "spec": spec}


def test_cilium_to_entities_kube_apiserver_is_the_only_way_to_the_api_server():
    m = E2EModel(pods=("x/a",), ports=(80,), protocols=("TCP",))
    deny = np("x", "deny", {"podSelector": {}, "policyTypes": ["Egress"]})
    any_ip = np("x", "ip", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]})
    api = cnp("x", "api", {"endpointSelector": {}, "enableDefaultDeny": {"egress": False, "ingress": False},
                           "egress": [{"toEntities": ["kube-apiserver"], "toPorts": [{"ports": [{"port": "6443", "protocol": "TCP"}]}]}]})
    assert not analyze(m, [deny, any_ip]).allows("x/a", "entity:kube-apiserver", ("TCP", 6443))
    r = analyze(m, [deny, api])
    assert r.allows("x/a", "entity:kube-apiserver", ("TCP", 6443))
    assert not r.allows("x/a", "entity:kube-apiserver", ("TCP", 443))


def test_cilium_policy_isolates_unless_default_deny_is_disabled():
    m = E2EModel(pods=("x/a", "y/a"), ports=(80,), protocols=("TCP",))
    rule = {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "example.org"}], "toPorts": [{"ports": [{"port": "443"}]}]}]}
    r = analyze(m, [cnp("x", "f", rule)], fqdns=["example.org"])
    assert r.allows("x/a", "example.org", ("TCP", 443))
    assert not r.allows("x/a", "y/a", ("TCP", 80)), "a CNP with egress rules isolates egress by default"
    rule["enableDefaultDeny"] = {"egress": False}
    assert analyze(m, [cnp("x", "f", rule)], fqdns=["example.org"]).allows("x/a", "y/a", ("TCP", 80))


def test_cilium_from_endpoints_stays_in_the_policy_namespace_unless_named():
    m = E2EModel(pods=("x/a", "x/b", "y/b"), ports=(80,), protocols=("TCP",))
    same = cnp("x", "c", {"endpointSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"fromEndpoints": [{"matchLabels": {"pod": "b"}}]}]})
    r = analyze(m, [same])
    assert r.allows("x/b", "x/a", ("TCP", 80)) and not r.allows("y/b", "x/a", ("TCP", 80))
    other = cnp("x", "c", {"endpointSelector": {"matchLabels": {"pod": "a"}}, "ingress": [{"fromEndpoints": [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "y", "k8s:pod": "b"}}]}]})
    r = analyze(m, [other])
    assert r.allows("y/b", "x/a", ("TCP", 80)) and not r.allows("x/b", "x/a", ("TCP", 80))


def test_cilium_fqdn_pattern_and_any_protocol():
    m = E2EModel(pods=("x/a",), ports=(80,), protocols=("TCP",))
    pol = cnp("x", "f", {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchPattern": "*.example.org"}],
                                                             "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}]}]})
    r = analyze(m, [pol], fqdns=["a.example.org", "example.net"])
    assert r.allows("x/a", "a.example.org", ("UDP", 53)) and r.allows("x/a", "a.example.org", ("SCTP", 53))
    assert not r.allows("x/a", "example.net", ("UDP", 53))


def test_cilium_deny_rules_are_refused_rather_than_guessed():
    m = E2EModel(pods=("x/a",))
    with pytest.raises(engine.PolicyError, match="egressDeny"):
        analyze(m, [cnp("x", "d", {"endpointSelector": {}, "egressDeny": [{"toEntities": ["world"]}]})])


def test_loopback_is_not_evaluated_even_under_allow_all():
    """The upstream suite ignores pod-to-itself (ignoreLoopback); the engine leaves it out."""
    m = E2EModel(pods=("x/a", "x/b"))
    pol = gen_policy("allow", match_labels={}, ingress=[{}])
    pol["metadata"]["namespace"] = "x"
    r = analyze(m, [pol])
    assert r.allows("x/b", "x/a", ("TCP", 80))
    assert not r.allows("x/a", "x/a", ("TCP", 80))
