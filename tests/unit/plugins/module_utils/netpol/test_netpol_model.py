"""The namespace policy model: validation that names the entry, the objects it builds (valid
for the API server and the Cilium CRD), and the proof over them."""
import copy
import json

import jsonschema
import kubernetes_validate
import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import model

DECL = {
    "namespaces": [
        {"name": "platform", "psa_level": "privileged"},
        {"name": "monitoring", "psa_level": "baseline"},
        {"name": "ingress", "psa_level": "baseline"},
        {"name": "shop", "psa_level": "restricted", "create": True, "workloads": [
            {"name": "web", "labels": {"app": "web"}, "ports": [{"port": 8080, "name": "http"}]},
            {"name": "api", "labels": {"app": "api"}, "ports": [{"port": 9000, "name": "grpc"}, {"port": 9100, "name": "metrics"}]},
            {"name": "db", "labels": {"app": "db"}, "ports": [{"port": 5432}]}]},
        {"name": "batch", "intra_namespace": True, "dns": False},
    ],
    "paths": [
        {"from": {"cidr": "198.18.1.0/24"}, "to": {"namespace": "ingress", "pods": {"app": "ingress-nginx"}}, "ports": [{"port": 443}, {"port": 80}]},
        {"from": {"namespace": "ingress", "pods": {"app": "ingress-nginx"}}, "to": {"namespace": "shop", "pods": {"app": "web"}}, "ports": [{"port": "http"}]},
        {"from": {"namespace": "shop", "pods": {"app": "web"}}, "to": {"namespace": "shop", "pods": {"app": "api"}}, "ports": [{"port": 9000}],
         "http": [{"method": "GET", "path": "/api/.*"}]},
        {"from": {"namespace": "shop", "pods": {"app": "api"}}, "to": {"namespace": "shop", "pods": {"app": "db"}}, "ports": [{"port": 5432}]},
        {"from": {"namespace": "monitoring", "pods": {"app": "prometheus"}}, "to": {"namespace": "shop"}, "ports": [{"port": 9100}]},
        {"from": {"namespace": "shop", "pods": {"app": "api"}}, "to": {"fqdn": "api.stripe.com"}, "ports": [{"port": 443}]},
        {"from": {"namespace": "shop", "pods": {"app": "api"}}, "to": {"cidr": "0.0.0.0/0"}, "ports": [{"port": 8443, "end_port": 8448}]},
        {"from": {"namespace": "ingress", "pods": {"app": "ingress-nginx"}}, "to": {"entity": "kube-apiserver"}, "ports": [{"port": 6443}]},
        {"from": {"namespace": "platform", "pods": {"k8s-app": "resolver"}}, "to": {"cidr": "198.18.255.53/32"},
         "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53}]},
        {"from": {"namespace": "batch"}, "to": {"namespace": "monitoring", "pods": {"app": "pushgateway"}}, "ports": [{"port": 9091, "protocol": "SCTP"}]},
    ],
    "cluster_cidrs": ["10.244.0.0/16", "10.96.0.0/12"],
}


def build(decl=None):
    norm = model.validate(copy.deepcopy(DECL if decl is None else decl))
    return norm, model.build_objects(norm, "namespace-policies")


def policies(objects):
    return [o for o in objects if o["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy")]


def test_built_policies_prove_equal_to_the_declaration():
    norm, objects = build()
    reach, diff, uni = model.prove(norm, policies(objects))
    assert diff["equal"], json.dumps(diff, indent=1)
    assert reach.allows("shop/api", "shop/db", ("TCP", 5432))
    assert not reach.allows("shop/web", "shop/db", ("TCP", 5432))
    assert reach.allows("198.18.1.0/24", "ingress/{app=ingress-nginx}", ("TCP", 443))


def test_every_managed_namespace_gets_default_deny_both_ways():
    dummy_norm, objects = build()
    denies = dict((o["metadata"]["namespace"], o["spec"]) for o in objects if o["metadata"]["name"] == "default-deny")
    assert sorted(denies) == ["batch", "ingress", "monitoring", "platform", "shop"]
    assert all(spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]} for spec in denies.values())


def test_dns_goes_only_to_the_cluster_dns_pods():
    dummy_norm, objects = build()
    dns = [o for o in objects if o["metadata"]["name"] == "allow-dns"][0]
    assert dns["spec"]["egress"] == [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                              "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                                      "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
    assert not [o for o in objects if o["metadata"].get("namespace") == "batch" and o["metadata"]["name"] == "allow-dns"]


def test_psa_labels_and_owner_labels():
    dummy_norm, objects = build()
    shop = [o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == "shop"][0]
    assert shop["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for obj in policies(objects):
        assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "safespring.netsec",
                                             "netsec.safespring.com/owned-set": "namespace-policies"}


def test_cidr_path_around_the_cluster_excepts_the_cluster_ranges():
    dummy_norm, objects = build()
    egress = [o for o in objects if o["kind"] == "NetworkPolicy" and o["spec"].get("egress")
              and "ipBlock" in o["spec"]["egress"][0]["to"][0] and o["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0"][0]
    assert egress["spec"]["egress"][0]["to"][0]["ipBlock"]["except"] == ["10.244.0.0/16", "10.96.0.0/12"]
    assert egress["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 8443, "endPort": 8448}]


def test_network_policies_pass_kubernetes_validate(shared_specs):
    dummy_norm, objects = build()
    version = kubernetes_validate.utils.latest_version()
    core = [o for o in objects if o["kind"] in ("NetworkPolicy", "Namespace")]
    assert core
    for obj in core:
        kubernetes_validate.validate(obj, version, strict=True)


def test_cilium_policies_match_the_crd_schema(shared_specs):
    dummy_norm, objects = build()
    schema = json.loads((shared_specs / "cilium-ciliumnetworkpolicy_v2.schema.json").read_text())
    cnps = [o for o in objects if o["kind"] == "CiliumNetworkPolicy"]
    assert {o["metadata"]["name"].rsplit("-", 1)[-1] for o in cnps} >= {"egress", "ingress", "visibility"}
    # no check_schema: the CRD carries Go regular expressions (\\PC) that Python's re cannot compile
    validator = jsonschema.validators.validator_for(schema)(schema)
    for obj in cnps:
        validator.validate(obj)


def test_a_deliberately_wrong_policy_fails_the_proof_and_names_the_flow():
    norm, objects = build()
    wrong = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": "shop", "name": "oops"},
             "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "ingress": [{"from": [{"namespaceSelector": {}}]}]}}
    dummy_reach, diff, dummy_uni = model.prove(norm, policies(objects) + [wrong])
    assert not diff["equal"]
    # only a source whose egress is open gets through: every managed namespace denies egress; kube-system is not managed here
    assert sorted(diff["extra"], key=lambda e: e["from"]) == [
        {"from": "kube-system/{k8s-app=kube-dns}", "to": "shop/db", "port": "TCP/5432"},
        {"from": "unmanaged.probe/{any pod}", "to": "shop/db", "port": "TCP/5432"}]
    assert diff["missing"] == []


def test_a_missing_policy_fails_the_proof_as_missing_flows():
    norm, objects = build()
    pols = [p for p in policies(objects) if not p["metadata"]["name"].endswith("-egress") or "shop-api-to-shop-db" not in p["metadata"]["name"]]
    dummy_reach, diff, dummy_uni = model.prove(norm, pols)
    assert diff["extra"] == [] and diff["missing"] == [{"from": "shop/api", "to": "shop/db", "port": "TCP/5432"}]


@pytest.mark.parametrize("mutate, field, message", [
    (lambda d: d["paths"][3]["to"].update(namespace="nope"), "namespace_policies_paths[3].to.namespace", "not a managed namespace"),
    (lambda d: d["paths"][3]["ports"][0].update(port=70000), "namespace_policies_paths[3].ports[0].port", "not a port"),
    (lambda d: d["paths"][6]["ports"][0].update(end_port=80), "namespace_policies_paths[6].ports[0].end_port", "not a port from 8443"),
    (lambda d: d["paths"][3]["ports"][0].update(protocol="ICMP"), "namespace_policies_paths[3].ports[0].protocol", "not one of"),
    (lambda d: d["paths"].append(copy.deepcopy(d["paths"][3])), "namespace_policies_paths[10]", "duplicates namespace_policies_paths[3]"),
    (lambda d: d["paths"].append(dict(copy.deepcopy(d["paths"][3]), ports=[{"port": 5000, "end_port": 6000}])),
     "namespace_policies_paths[10]", "overlaps the ports of namespace_policies_paths[3]"),
    (lambda d: d["paths"].append(dict(copy.deepcopy(d["paths"][2]), http=[{"method": "POST"}])),
     "namespace_policies_paths[10]", "contradicts the L7 rules"),
    (lambda d: d["paths"].append({"from": {"namespace": "batch"}, "to": {"namespace": "batch"}}), "namespace_policies_paths[10]",
     "already allows all traffic inside it"),
    (lambda d: d["paths"][5]["to"].update(fqdn="not a name"), "namespace_policies_paths[5].to.fqdn", "not a DNS name"),
    (lambda d: d["paths"][8]["to"].update(cidr="10.244.3.0/24"), "namespace_policies_paths[8].to.cidr", "overlaps cluster CIDR"),
    (lambda d: d["paths"][1]["ports"][0].update(port="https"), "namespace_policies_paths[1].ports[0].port", "not declared by a workload"),
    (lambda d: d["paths"][0].update(to={"cidr": "192.0.2.0/24"}), "namespace_policies_paths[0]", "must be a managed namespace"),
    (lambda d: d["paths"][0]["to"].update(fqdn="x.org"), "namespace_policies_paths[0].to", "exactly one of"),
    (lambda d: d["namespaces"].append({"name": "shop"}), "namespace_policies_namespaces[5].name", "declared twice"),
    (lambda d: d["namespaces"][0].update(psa_level="strict"), "namespace_policies_namespaces[0].psa_level", "not one of"),
    (lambda d: d["paths"][7].update(ports=[]), "namespace_policies_paths[7].ports", "list the ports"),
])
def test_bad_input_fails_naming_the_entry(mutate, field, message):
    decl = copy.deepcopy(DECL)
    mutate(decl)
    with pytest.raises(NetsecError) as err:
        model.validate(decl)
    assert err.value.field == field and message in err.value.message, str(err.value)


def test_probe_pods_expose_a_policy_wider_than_declared_without_declared_workloads():
    decl = {"namespaces": [{"name": "a"}, {"name": "b"}],
            "paths": [{"from": {"namespace": "a", "pods": {"app": "x"}}, "to": {"namespace": "b", "pods": {"app": "y"}}, "ports": [{"port": 80}]}]}
    norm, objects = build(decl)
    assert model.prove(norm, policies(objects))[1]["equal"]
    for obj in policies(objects):
        if obj["metadata"]["name"].startswith("path-") and obj["metadata"]["name"].endswith("-ingress"):
            obj["spec"]["podSelector"] = {}  # every pod of b admits a/{app=x} ...
        if obj["metadata"]["name"].startswith("path-") and obj["metadata"]["name"].endswith("-egress"):
            obj["spec"]["egress"][0]["to"][0]["podSelector"] = {}  # ... and a/{app=x} may send to all of b
    dummy_reach, diff, dummy_uni = model.prove(norm, policies(objects))
    assert {"from": "a/{app=x}", "to": "b/{other pods}", "port": "TCP/80"} in diff["extra"]


def test_unknown_dns_namespace_is_probed_as_unmanaged():
    decl = {"namespaces": [{"name": "a"}], "dns": {"namespace": "dns", "pods": {"app": "coredns"}}}
    norm, objects = build(decl)
    reach, diff, dummy_uni = model.prove(norm, policies(objects))
    assert diff["equal"] and reach.allows("a/{other pods}", "dns/{app=coredns}", ("UDP", 53))


@pytest.mark.parametrize("name", ["kube-system", "kube-public", "kube-node-lease"])
def test_kube_system_namespaces_cannot_be_managed(name):
    decl = copy.deepcopy(DECL)
    decl["namespaces"].insert(1, {"name": name, "psa_level": "privileged"})
    with pytest.raises(NetsecError) as err:
        model.validate(decl)
    assert err.value.field == "namespace_policies_namespaces[1].name"
    assert "cilium baseline kube-system policies" in err.value.fix
