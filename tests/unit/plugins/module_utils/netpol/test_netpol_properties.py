"""Properties of the engine over random policies on the e2e model (hypothesis):
- it agrees with a literal, per-connection reading of the NetworkPolicy spec;
- adding an allow (a rule, or a peer in a rule) never removes reachability;
- default deny with no allows leaves no pod reachable and no pod able to reach anything.
"""
import copy
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine
from ansible_collections.safespring.netsec.plugins.module_utils.netpol.selectors import selector_matches
from fixtures.netpol import E2EModel, pod_ip

MODEL = E2EModel(ports=(80, 81), protocols=("TCP", "UDP"))
NAMES = ["a", "b", "c"]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

labels_sel = st.one_of(
    st.just({}),
    st.builds(lambda v: {"matchLabels": {"pod": v}}, st.sampled_from(NAMES)),
    st.builds(lambda op, vs: {"matchExpressions": [{"key": "pod", "operator": op, "values": vs}]},
              st.sampled_from(["In", "NotIn"]), st.lists(st.sampled_from(NAMES), min_size=1, max_size=2, unique=True)),
    st.builds(lambda k, op: {"matchExpressions": [{"key": k, "operator": op}]}, st.sampled_from(["pod", "tier"]),
              st.sampled_from(["Exists", "DoesNotExist"])),
)
ns_sel = st.one_of(
    st.just({}),
    st.builds(lambda v: {"matchLabels": {"ns": v}}, st.sampled_from("xyz")),
    st.builds(lambda vs: {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": vs}]},
              st.lists(st.sampled_from("xyz"), min_size=1, max_size=2, unique=True)),
)
ipblock = st.one_of(
    st.builds(lambda ns, p: {"ipBlock": {"cidr": pod_ip(ns, p) + "/32"}}, st.sampled_from("xyz"), st.sampled_from(NAMES)),
    st.builds(lambda ns, p: {"ipBlock": {"cidr": "10.244.0.0/16", "except": [pod_ip(ns, p) + "/32"]}}, st.sampled_from("xyz"), st.sampled_from(NAMES)),
)
peer = st.one_of(
    st.builds(lambda p: {"podSelector": p}, labels_sel),
    st.builds(lambda n: {"namespaceSelector": n}, ns_sel),
    st.builds(lambda p, n: {"podSelector": p, "namespaceSelector": n}, labels_sel, ns_sel),
    ipblock,
)
port = st.one_of(
    st.builds(dict),
    st.builds(lambda p: {"port": p}, st.sampled_from([80, 81, "serve-80-tcp", "serve-81-udp"])),
    st.builds(lambda pr, p: {"protocol": pr, "port": p}, st.sampled_from(["TCP", "UDP"]), st.sampled_from([80, 81])),
    st.builds(lambda pr: {"protocol": pr}, st.sampled_from(["TCP", "UDP", "SCTP"])),
    st.just({"port": 80, "endPort": 81}),
)


def rule(peer_key):
    return st.fixed_dictionaries({}, optional={peer_key: st.lists(peer, max_size=2), "ports": st.lists(port, max_size=2)})


policy = st.builds(
    lambda ns, sel, types, ing, eg, idx: {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": "p%d" % idx},
        "spec": dict([("podSelector", sel)] + ([("policyTypes", types)] if types is not None else [])
                     + ([("ingress", ing)] if ing is not None else []) + ([("egress", eg)] if eg is not None else []))},
    st.sampled_from("xyz"), labels_sel,
    st.one_of(st.none(), st.sampled_from([["Ingress"], ["Egress"], ["Ingress", "Egress"]])),
    st.one_of(st.none(), st.lists(rule("from"), max_size=2)),
    st.one_of(st.none(), st.lists(rule("to"), max_size=2)),
    st.integers(0, 10 ** 6),
)
policies = st.lists(policy, max_size=4)


def analyze(pols, universe_from=None):
    """universe_from: build the address atoms from these policies (a common universe lets two
    analyses be compared flow by flow)."""
    uni = engine.Universe(MODEL.namespaces, MODEL.pods, universe_from if universe_from is not None else pols)
    return engine.analyze(uni, pols)


# -- the literal reading ------------------------------------------------------------------
def _types(spec):
    if spec.get("policyTypes"):
        return spec["policyTypes"]
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _peer_has(peer, policy_ns, pod):
    if "ipBlock" in peer:
        ip = ipaddress.ip_address(pod["ips"][0])
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(ip in ipaddress.ip_network(e) for e in block.get("except") or [])
    ns_labels = dict([n for n in MODEL.namespaces if n["name"] == pod["namespace"]][0]["labels"])
    ns_labels["kubernetes.io/metadata.name"] = pod["namespace"]
    if "namespaceSelector" in peer:
        if not selector_matches(peer["namespaceSelector"], ns_labels):
            return False
    elif pod["namespace"] != policy_ns:
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], pod["labels"])


def _port_has(ports, dst, proto, number):
    if not ports:
        return True
    for item in ports:
        if item.get("protocol", "TCP") != proto:
            continue
        want = item.get("port")
        if want is None:
            return True
        if isinstance(want, str):
            if any(p["name"] == want and p["protocol"] == proto and p["port"] == number for p in dst["ports"]):
                return True
        elif want <= number <= item.get("endPort", want):
            return True
    return False


def literal(pols, src, dst, proto, number):
    def side(owner, other, direction, ptype, key):
        selecting = [p for p in pols if p["metadata"]["namespace"] == owner["namespace"]
                     and selector_matches(p["spec"].get("podSelector") or {}, owner["labels"]) and ptype in _types(p["spec"])]
        if not selecting:
            return True
        for pol in selecting:
            for r in pol["spec"].get(direction) or []:
                peers = r.get(key)
                if (not peers or any(_peer_has(pe, pol["metadata"]["namespace"], other) for pe in peers)) \
                        and _port_has(r.get("ports"), dst, proto, number):
                    return True
        return False
    return side(src, dst, "egress", "Egress", "to") and side(dst, src, "ingress", "Ingress", "from")


@SETTINGS
@given(policies)
def test_engine_agrees_with_a_literal_reading_of_the_spec(pols):
    result = analyze(pols)
    for src in MODEL.pods:
        for dst in MODEL.pods:
            if src is dst:
                continue
            s, d = "%s/%s" % (src["namespace"], src["name"]), "%s/%s" % (dst["namespace"], dst["name"])
            for proto in ("TCP", "UDP"):
                for number in (80, 81):
                    assert result.allows(s, d, (proto, number)) == literal(pols, src, dst, proto, number), (s, d, proto, number)


@SETTINGS
@given(policies, st.data())
def test_adding_an_allow_never_removes_reachability(pols, data):
    candidates = [(i, direction) for i, p in enumerate(pols) for direction, ptype in (("ingress", "Ingress"), ("egress", "Egress"))
                  if ptype in _types(p["spec"])]
    if not candidates:
        return
    idx, direction = data.draw(st.sampled_from(candidates))
    wider = copy.deepcopy(pols)
    spec = wider[idx]["spec"]
    if spec.get(direction) and data.draw(st.booleans()):
        target = data.draw(st.sampled_from(spec[direction]))
        key = "from" if direction == "ingress" else "to"
        if target.get(key):  # an empty peer list already admits everyone
            target[key].append(data.draw(peer))
    else:
        had_egress = bool(spec.get("egress"))
        spec.setdefault(direction, []).append(data.draw(rule("from" if direction == "ingress" else "to")))
        if direction == "egress" and not had_egress and "policyTypes" not in spec:
            spec["policyTypes"] = ["Ingress"]  # keep the isolation as it was: only the allow is new
    before, after = set(analyze(pols, pols + wider).flows()), set(analyze(wider, pols + wider).flows())
    assert before <= after, sorted(before - after)[:5]


@SETTINGS
@given(policies, st.booleans())
def test_default_deny_with_no_allows_leaves_nothing_reachable(pols, with_cilium):
    deny = [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": ns, "name": "deny"},
             "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}} for ns in "xyz"]
    if with_cilium:  # Cilium's own default deny: a policy with an empty rule selects nothing
        deny = [{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"namespace": ns, "name": "deny"},
                 "spec": {"endpointSelector": {}, "ingress": [{"fromEndpoints": []}], "egress": [{"toEndpoints": []}]}} for ns in "xyz"]
    result = analyze(deny)
    uni = result.universe
    for d, per_key in enumerate(result.allowed):
        for mask in per_key.values():
            if uni.endpoints[d].kind == "pod":
                assert mask == 0, uni.endpoints[d].name
            else:
                assert mask & uni.pods_mask == 0, uni.endpoints[d].name
