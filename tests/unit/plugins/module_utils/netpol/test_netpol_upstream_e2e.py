"""Cases transcribed from the upstream suite kubernetes test/e2e/network/netpol/network_policy.go
(model: namespaces x, y, z labelled ns=<name> and kubernetes.io/metadata.name; pods a, b, c
labelled pod=<name>; container ports 80/81 named serve-<port>-<proto>). Each test names the
upstream `It(...)` it transcribes; the truth tables are the upstream Expect* calls.
The policies are written with the upstream helpers' shapes (GenNetworkPolicyWithName... +
SetSpecIngressRules / SetSpecEgressRules: a rule list given, even empty, adds its policyType).
"""
from fixtures.netpol import E2EModel, Expect, assert_truth, gen_policy, pod_ip

NS = "kubernetes.io/metadata.name"


def _model(*pods, **kw):
    return E2EModel(pods=pods, **kw)


def test_should_support_a_default_deny_ingress_policy():
    """It("should support a 'default-deny-ingress' policy") (TCP, UDP and SCTP variants)."""
    for proto in ("TCP", "UDP", "SCTP"):
        m = _model("x/a", "x/b", "y/a", "y/b", protocols=(proto,), ports=(80,))
        m.create("x", gen_policy("deny-ingress", pod_selector={}, ingress=[]))
        assert_truth(m, Expect(m.pod_names).peer({}, {"ns": "x"}, False), 80, proto)


def test_should_support_a_default_deny_all_policy():
    """It("should support a 'default-deny-all' policy")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("deny-all", pod_selector={}, ingress=[], egress=[]))
    exp = Expect(m.pod_names).peer({}, {"ns": "x"}, False).peer({"ns": "x"}, {}, False)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_to_allow_traffic_from_pods_within_server_namespace_based_on_podselector():
    """It("should enforce policy to allow traffic from pods within server namespace based on PodSelector")."""
    m = _model("x/a", "x/b", "x/c", "y/a")
    m.create("x", gen_policy("x-a-allows-x-b", match_labels={"pod": "a"},
                             ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}]))
    exp = Expect(m.pod_names).all_ingress("x/a", False).one("x/b", "x/a", True)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_to_allow_ingress_traffic_for_a_target():
    """It("should enforce policy to allow ingress traffic for a target")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("deny-all", pod_selector={}, ingress=[]))
    m.create("x", gen_policy("allow-all-to-a", match_labels={"pod": "a"},
                             ingress=[{"from": [{"podSelector": {}, "namespaceSelector": {}}]}]))
    exp = Expect(m.pod_names).all_ingress("x/a", True).all_ingress("x/b", False)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_to_allow_ingress_traffic_from_pods_in_all_namespaces():
    """It("should enforce policy to allow ingress traffic from pods in all namespaces")."""
    m = _model("x/a", "x/b", "y/a", "z/a")
    m.create("x", gen_policy("allow-from-another-ns", match_labels={"pod": "a"},
                             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {}}}]}]))
    assert_truth(m, Expect(m.pod_names), 80)


def test_should_enforce_policy_to_allow_traffic_only_from_a_different_namespace_based_on_namespaceselector():
    """It("should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector")."""
    m = _model("x/a", "x/b", "y/a", "z/a")
    m.create("x", gen_policy("allow-client-a-via-ns-selector", match_labels={"pod": "a"},
                             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {NS: "y"}}}]}]))
    exp = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_based_on_podselector_with_matchexpressions():
    """It("should enforce policy based on PodSelector with MatchExpressions")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("x-a-allows-x-b", match_labels={"pod": "a"}, ingress=[{"from": [{"podSelector": {
        "matchExpressions": [{"key": "pod", "operator": "In", "values": ["b"]}]}}]}]))
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False).one("x/b", "x/a", True), 80)


def test_should_enforce_policy_based_on_namespaceselector_with_matchexpressions():
    """It("should enforce policy based on NamespaceSelector with MatchExpressions")."""
    m = _model("x/a", "x/b", "y/a", "z/a")
    m.create("x", gen_policy("allow-ns-y-match-selector", match_labels={"pod": "a"}, ingress=[{"from": [{"namespaceSelector": {
        "matchExpressions": [{"key": NS, "operator": "In", "values": ["y"]}]}}]}]))
    exp = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_based_on_podselector_or_namespaceselector():
    """It("should enforce policy based on PodSelector or NamespaceSelector") - two peers are an OR."""
    m = _model("x/a", "x/b", "x/c", "y/a")
    m.create("x", gen_policy("allow-ns-y-match-selector", match_labels={"pod": "a"}, ingress=[{"from": [
        {"namespaceSelector": {"matchExpressions": [{"key": NS, "operator": "NotIn", "values": ["x"]}]}},
        {"podSelector": {"matchLabels": {"pod": "b"}}}]}]))
    assert_truth(m, Expect(m.pod_names).one("x/c", "x/a", False), 80)


def test_should_enforce_policy_based_on_podselector_and_namespaceselector():
    """It("should enforce policy based on PodSelector and NamespaceSelector") - one peer is an AND."""
    m = _model("x/a", "x/b", "y/a", "y/b", "z/b")
    m.create("x", gen_policy("allow-ns-y-podselector-and-nsselector", match_labels={"pod": "a"}, ingress=[{"from": [{
        "namespaceSelector": {"matchExpressions": [{"key": NS, "operator": "NotIn", "values": ["x"]}]},
        "podSelector": {"matchLabels": {"pod": "b"}}}]}]))
    exp = Expect(m.pod_names).all_ingress("x/a", False).one("y/b", "x/a", True).one("z/b", "x/a", True)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_based_on_multiple_podselectors_and_namespaceselectors():
    """It("should enforce policy based on Multiple PodSelectors and NamespaceSelectors")."""
    m = _model("x/a", "x/b", "y/a", "y/b", "y/c")
    m.create("x", gen_policy("allow-ns-y-z-pod-b-c", match_labels={"pod": "a"}, ingress=[{"from": [{
        "namespaceSelector": {"matchExpressions": [{"key": NS, "operator": "NotIn", "values": ["x"]}]},
        "podSelector": {"matchExpressions": [{"key": "pod", "operator": "In", "values": ["b", "c"]}]}}]}]))
    exp = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).one("y/a", "x/a", False)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_based_on_any_podselectors():
    """It("should enforce policy based on any PodSelectors")."""
    m = _model("x/a", "x/b", "x/c")
    m.create("x", gen_policy("allow-ns-x-pod-b-c", match_labels={"pod": "a"}, ingress=[{"from": [
        {"podSelector": {"matchLabels": {"pod": "b"}}}, {"podSelector": {"matchLabels": {"pod": "c"}}}]}]))
    exp = Expect(m.pod_names).all_ingress("x/a", False).one("x/b", "x/a", True).one("x/c", "x/a", True)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_to_allow_traffic_only_from_a_pod_in_a_different_namespace_based_on_podselector_and_namespaceselector():
    """It("should enforce policy to allow traffic only from a pod in a different namespace based on
    PodSelector and NamespaceSelector") - TCP, UDP and SCTP variants."""
    for proto in ("TCP", "UDP", "SCTP"):
        m = _model("x/a", "x/b", "y/a", "y/b", "z/a", protocols=(proto,), ports=(80,))
        m.create("x", gen_policy("allow-ns-y-pod-a-via-namespace-pod-selector", match_labels={"pod": "a"}, ingress=[{"from": [{
            "namespaceSelector": {"matchLabels": {NS: "y"}}, "podSelector": {"matchLabels": {"pod": "a"}}}]}]))
        assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False).one("y/a", "x/a", True), 80, proto)


def test_should_enforce_policy_based_on_ports():
    """It("should enforce policy based on Ports") - TCP, UDP and SCTP variants."""
    for proto in ("TCP", "UDP", "SCTP"):
        m = _model("x/a", "x/b", "y/a", "y/b", "z/a", protocols=(proto,), ports=(80, 81))
        m.create("x", gen_policy("allow-client-a-via-ns-selector", match_labels={"pod": "a"}, ingress=[{
            "from": [{"namespaceSelector": {"matchLabels": {NS: "y"}}}], "ports": [{"port": 81, "protocol": proto}]}]))
        exp = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
        assert_truth(m, exp, 81, proto)
        assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 80, proto)


def test_should_enforce_multiple_stacked_policies_with_overlapping_podselectors():
    """It("should enforce multiple, stacked policies with overlapping podSelectors")."""
    m = _model("x/a", "x/b", "y/a", "y/b", "z/a")
    rule81 = {"from": [{"namespaceSelector": {"matchLabels": {NS: "y"}}}], "ports": [{"port": 81, "protocol": "TCP"}]}
    m.create("x", gen_policy("allow-client-a-via-ns-selector", match_labels={"pod": "a"}, ingress=[rule81]))
    allow = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    assert_truth(m, allow, 81)
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 80)
    rule80 = {"from": rule81["from"], "ports": [{"port": 80, "protocol": "TCP"}]}
    m.create("x", gen_policy("allow-client-a-via-ns-selector-80", match_labels={"pod": "a"}, ingress=[rule80]))
    assert_truth(m, allow, 80)


def test_should_support_allow_all_policy():
    """It("should support allow-all policy")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("allow-all", match_labels={}, ingress=[{}]))
    assert_truth(m, Expect(m.pod_names), 80)
    assert_truth(m, Expect(m.pod_names), 81)


def test_should_allow_ingress_access_on_one_named_port():
    """It("should allow ingress access on one named port")."""
    m = _model("x/a", "x/b", "y/a", protocols=("TCP",))
    m.create("x", gen_policy("allow-all", match_labels={}, ingress=[{"ports": [{"port": "serve-81-tcp"}]}]))
    assert_truth(m, Expect(m.pod_names), 81)
    assert_truth(m, Expect(m.pod_names).peer({}, {"ns": "x"}, False), 80)


def test_should_allow_ingress_access_from_namespace_on_one_named_port():
    """It("should allow ingress access from namespace on one named port")."""
    m = _model("x/a", "x/b", "y/a", "z/a", protocols=("TCP",))
    m.create("x", gen_policy("allow-client-a-via-ns-selector-80", match_labels={"pod": "a"}, ingress=[{
        "from": [{"namespaceSelector": {"matchLabels": {NS: "y"}}}], "ports": [{"port": "serve-80-tcp", "protocol": "TCP"}]}]))
    exp = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    assert_truth(m, exp, 80)
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 81)


def test_should_allow_egress_access_on_one_named_port():
    """It("should allow egress access on one named port") - the name resolves on the destination pod."""
    m = _model("x/a", "y/a", protocols=("TCP",))
    m.create("x", gen_policy("allow-egress", match_labels={}, egress=[{"ports": [{"port": "serve-80-tcp"}]}]))
    assert_truth(m, Expect(m.pod_names), 80)
    assert_truth(m, Expect(m.pod_names).peer({"ns": "x"}, {}, False), 81)


def test_should_enforce_updated_policy():
    """It("should enforce updated policy") - allow-all replaced by an empty ingress list."""
    m = _model("x/a", "y/a")
    pol = gen_policy("allow-all-mutate-to-deny-all", match_labels={}, ingress=[{}])
    m.create("x", pol)
    assert_truth(m, Expect(m.pod_names), 81)
    pol["spec"]["ingress"] = []
    m.create("x", pol)
    assert_truth(m, Expect(m.pod_names).peer({}, {"ns": "x"}, False), 81)


def test_should_allow_ingress_access_from_updated_namespace():
    """It("should allow ingress access from updated namespace")."""
    m = _model("x/a", "y/a")
    m.create("x", gen_policy("allow-client-a-via-ns-selector", match_labels={"pod": "a"},
                             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns2": "updated"}}}]}]))
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 80)
    m.namespaces[1]["labels"]["ns2"] = "updated"
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False).peer({"ns": "y"}, {}, True), 80)


def test_should_allow_ingress_access_from_updated_pod():
    """It("should allow ingress access from updated pod")."""
    m = _model("x/a", "x/b")
    m.create("x", gen_policy("allow-client-a-via-pod-selector", match_labels={"pod": "a"},
                             ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b", "pod2": "updated"}}}]}]))
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 80)
    m.pods[1]["labels"]["pod2"] = "updated"
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False).one("x/b", "x/a", True), 80)


def test_should_deny_ingress_from_pods_on_other_namespaces():
    """It("should deny ingress from pods on other namespaces") - podSelector {} = own namespace."""
    m = _model("x/a", "x/b", "y/a", "z/a")
    m.create("x", gen_policy("deny-empty-policy", pod_selector={}, ingress=[{"from": [{"podSelector": {"matchLabels": {}}}]}]))
    exp = Expect(m.pod_names).peer({"ns": "y"}, {"ns": "x"}, False).peer({"ns": "z"}, {"ns": "x"}, False)
    assert_truth(m, exp, 80)


def test_should_deny_ingress_access_to_updated_pod():
    """It("should deny ingress access to updated pod")."""
    m = _model("x/a", "y/a")
    m.create("x", gen_policy("deny-ingress-via-label-selector", pod_selector={"matchLabels": {"target": "isolated"}}, ingress=[]))
    assert_truth(m, Expect(m.pod_names), 80)
    m.pods[0]["labels"]["target"] = "isolated"
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 80)


def test_should_deny_egress_from_pods_based_on_podselector():
    """It("should deny egress from pods based on PodSelector")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("deny-egress-pod-a", pod_selector={"matchLabels": {"pod": "a"}}, egress=[]))
    assert_truth(m, Expect(m.pod_names).all_egress("x/a", False), 80)


def test_should_deny_egress_from_all_pods_in_a_namespace():
    """It("should deny egress from all pods in a namespace")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("deny-egress-ns-x", pod_selector={}, egress=[]))
    assert_truth(m, Expect(m.pod_names).peer({"ns": "x"}, {}, False), 80)


def test_should_work_with_ingress_egress_specified_together():
    """It("should work with Ingress, Egress specified together")."""
    m = _model("x/a", "x/b", "x/c", "y/a")
    pol = gen_policy("allow-client-a-via-pod-selector", match_labels={"pod": "a"},
                     ingress=[{"from": [{"podSelector": {"matchLabels": {"pod": "b"}}}]}])
    pol["spec"]["egress"] = [{"ports": [{"port": 80}]}]
    pol["spec"]["policyTypes"] = ["Egress", "Ingress"]
    m.create("x", pol)
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False).one("x/b", "x/a", True), 80)
    exp81 = Expect(m.pod_names).all_ingress("x/a", False).all_egress("x/a", False).one("x/b", "x/a", True)
    assert_truth(m, exp81, 81)


def test_should_support_denying_of_egress_traffic_on_the_client_side_even_if_the_server_explicitly_allows_this_traffic():
    """It("should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)")."""
    m = _model("x/a", "y/a", "y/b")
    m.create("x", gen_policy("allow-to-ns-y-pod-a", match_labels={"pod": "a"}, egress=[{"to": [{
        "namespaceSelector": {"matchLabels": {NS: "y"}}, "podSelector": {"matchLabels": {"pod": "a"}}}]}]))
    ingress = [{"from": [{"namespaceSelector": {"matchLabels": {NS: "x"}}, "podSelector": {"matchLabels": {"pod": "a"}}}]}]
    m.create("y", gen_policy("allow-from-xa-on-ya-match-selector", match_labels={"pod": "a"}, ingress=ingress))
    m.create("y", gen_policy("allow-from-xa-on-yb-match-selector", match_labels={"pod": "b"}, ingress=ingress))
    exp = (Expect(m.pod_names).peer({"ns": "x", "pod": "a"}, {}, False).peer({}, {"ns": "y", "pod": "a"}, False)
           .peer({"ns": "x", "pod": "a"}, {"ns": "y", "pod": "a"}, True).peer({}, {"ns": "y", "pod": "b"}, False))
    assert_truth(m, exp, 80)


def test_should_enforce_egress_policy_allowing_traffic_to_a_server_in_a_different_namespace_based_on_podselector_and_namespaceselector():
    """It("should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector")."""
    m = _model("x/a", "y/a", "y/b")
    m.create("x", gen_policy("allow-to-ns-y-pod-a", match_labels={"pod": "a"}, egress=[{"to": [{
        "namespaceSelector": {"matchLabels": {NS: "y"}}, "podSelector": {"matchLabels": {"pod": "a"}}}]}]))
    assert_truth(m, Expect(m.pod_names).all_egress("x/a", False).one("x/a", "y/a", True), 80)


def test_should_enforce_ingress_policy_allowing_any_port_traffic_to_a_server_on_a_specific_protocol():
    """It("should enforce ingress policy allowing any port traffic to a server on a specific protocol")."""
    m = _model("x/a", "y/a", protocols=("TCP", "UDP"), ports=(80,))
    m.create("x", gen_policy("allow-ingress-by-proto", match_labels={"pod": "a"}, ingress=[{"ports": [{"protocol": "TCP"}]}]))
    assert_truth(m, Expect(m.pod_names), 80, "TCP")
    assert_truth(m, Expect(m.pod_names).peer({}, {"ns": "x", "pod": "a"}, False), 80, "UDP")


def test_should_enforce_multiple_ingress_policies_with_ingress_allow_all_policy_taking_precedence():
    """It("should enforce multiple ingress policies with ingress allow-all policy taking precedence")."""
    m = _model("x/a", "y/a", ports=(80, 81))
    m.create("x", gen_policy("allow-ingress-port-80", match_labels={}, ingress=[{"ports": [{"port": 80}]}]))
    assert_truth(m, Expect(m.pod_names).peer({}, {"ns": "x"}, False), 81)
    m.create("x", gen_policy("allow-ingress", match_labels={}, ingress=[{}]))
    assert_truth(m, Expect(m.pod_names), 81)


def test_should_enforce_multiple_egress_policies_with_egress_allow_all_policy_taking_precedence():
    """It("should enforce multiple egress policies with egress allow-all policy taking precedence")."""
    m = _model("x/a", "y/a", ports=(80, 81))
    m.create("x", gen_policy("allow-egress-port-80", match_labels={}, egress=[{"ports": [{"port": 80}]}]))
    assert_truth(m, Expect(m.pod_names).peer({"ns": "x"}, {}, False), 81)
    m.create("x", gen_policy("allow-egress", match_labels={}, egress=[{}]))
    assert_truth(m, Expect(m.pod_names), 81)


def test_should_stop_enforcing_policies_after_they_are_deleted():
    """It("should stop enforcing policies after they are deleted")."""
    m = _model("x/a", "y/a")
    m.create("x", gen_policy("deny-all", pod_selector={}, ingress=[], egress=[]))
    assert_truth(m, Expect(m.pod_names).peer({"ns": "x"}, {}, False).peer({}, {"ns": "x"}, False), 80)
    m.policies = []
    assert_truth(m, Expect(m.pod_names), 80)


def test_should_allow_egress_access_to_server_in_cidr_block():
    """It("should allow egress access to server in CIDR block") - ipBlock matches the pod IP."""
    m = _model("x/a", "y/a", "y/b")
    m.create("x", gen_policy("allow-client-a-via-cidr-egress-rule", match_labels={"pod": "a"},
                             egress=[{"to": [{"ipBlock": {"cidr": pod_ip("y", "b") + "/32"}}]}]))
    assert_truth(m, Expect(m.pod_names).all_egress("x/a", False).one("x/a", "y/b", True), 80)


def test_should_enforce_except_clause_while_egress_access_to_server_in_cidr_block():
    """It("should enforce except clause while egress access to server in CIDR block") (makeLargeCIDRForIP: /4)."""
    m = _model("x/a", "x/b", "x/c")
    m.create("x", gen_policy("allow-client-a-via-cidr-egress-rule", match_labels={"pod": "a"}, egress=[{"to": [{
        "ipBlock": {"cidr": "0.0.0.0/4", "except": [pod_ip("x", "b") + "/32"]}}]}]))
    assert_truth(m, Expect(m.pod_names).one("x/a", "x/b", False), 80)


def test_should_ensure_an_ip_overlapping_both_ipblock_cidr_and_ipblock_except_is_allowed():
    """It("should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed")."""
    m = _model("x/a", "x/b", "x/c")
    m.create("x", gen_policy("allow-client-a-via-cidr-egress-rule", match_labels={"pod": "a"}, egress=[{"to": [{
        "ipBlock": {"cidr": "0.0.0.0/4", "except": [pod_ip("x", "b") + "/32"]}}]}]))
    assert_truth(m, Expect(m.pod_names).one("x/a", "x/b", False), 80)
    # UpdatePolicy with the same name: now only x/b's /32 is allowed
    m.create("x", gen_policy("allow-client-a-via-cidr-egress-rule", match_labels={"pod": "a"},
                             egress=[{"to": [{"ipBlock": {"cidr": pod_ip("x", "b") + "/32"}}]}]))
    assert_truth(m, Expect(m.pod_names).all_egress("x/a", False).one("x/a", "x/b", True), 80)


def test_should_enforce_policies_to_check_ingress_and_egress_policies_can_be_controlled_independently_based_on_podselector():
    """It("should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector")."""
    m = _model("x/a", "x/b", "y/a")
    m.create("x", gen_policy("allow-egress-for-target", pod_selector={"matchLabels": {"pod": "a"}}, egress=[{}]))
    assert_truth(m, Expect(m.pod_names), 80)
    m.create("x", gen_policy("deny-ingress-via-label-selector", pod_selector={"matchLabels": {"pod": "a"}}, ingress=[]))
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 80)


def test_should_not_mistakenly_treat_protocol_sctp_as_protocol_tcp():
    """It("should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP")."""
    m = _model("x/a", "y/a", ports=(81,))
    m.create("x", gen_policy("deny-ingress", pod_selector={}, ingress=[]))
    m.create("x", gen_policy("allow-only-sctp-ingress-on-port-81", match_labels={"pod": "a"},
                             ingress=[{"ports": [{"port": 81, "protocol": "SCTP"}]}]))
    assert_truth(m, Expect(m.pod_names).peer({}, {"ns": "x"}, False), 81, "TCP")
    assert m.analyze().allows("y/a", "x/a", ("SCTP", 81))


def test_should_properly_isolate_pods_that_are_selected_by_a_policy_allowing_sctp():
    """It("should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP")."""
    m = _model("x/a", "y/a", ports=(80, 81))
    m.create("x", gen_policy("allow-only-sctp-ingress-on-port-80", match_labels={"pod": "a"},
                             ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}]))
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 81, "TCP")


def test_should_not_allow_access_by_tcp_when_a_policy_specifies_only_udp():
    """It("should not allow access by TCP when a policy specifies only UDP")."""
    m = _model("x/a", "y/a", ports=(81,))
    m.create("x", gen_policy("allow-only-udp-ingress-on-port-81", match_labels={"pod": "a"},
                             ingress=[{"ports": [{"port": 81, "protocol": "UDP"}]}]))
    assert_truth(m, Expect(m.pod_names).all_ingress("x/a", False), 81, "TCP")
    assert m.analyze().allows("y/a", "x/a", ("UDP", 81))


def test_should_enforce_policy_to_allow_traffic_based_on_namespaceselector_with_matchlabels_using_default_ns_label():
    """It("should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label")."""
    m = _model("x/a", "x/b", "y/a", "z/a")
    m.create("x", gen_policy("allow-client-a-via-ns-selector-for-immutable-ns-label", match_labels={"pod": "a"},
                             ingress=[{"from": [{"namespaceSelector": {"matchLabels": {NS: "y"}}}]}]))
    exp = Expect(m.pod_names).peer({"ns": "x"}, {"ns": "x", "pod": "a"}, False).peer({"ns": "z"}, {"ns": "x", "pod": "a"}, False)
    assert_truth(m, exp, 80)


def test_should_enforce_policy_based_on_namespaceselector_with_matchexpressions_using_default_ns_label():
    """It("should enforce policy based on NamespaceSelector with MatchExpressions using default ns label") (egress, NotIn)."""
    m = _model("x/a", "x/b", "y/a", "z/a")
    m.create("x", gen_policy("allow-ns-y-match-selector-for-immutable-ns-label", match_labels={"pod": "a"}, egress=[{"to": [{
        "namespaceSelector": {"matchExpressions": [{"key": NS, "operator": "NotIn", "values": ["y"]}]}}]}]))
    assert_truth(m, Expect(m.pod_names).peer({"ns": "x", "pod": "a"}, {"ns": "y"}, False), 80)
