"""Bench: the layered exposure proof (EXP-01) for the lab and for a 200-namespace, 50-node cluster.

Inputs are what the collection renders for each layer (security groups as Neutron returns them
after a clean sync, every node's Talos documents, the Cilium host policies, an edge pair's
HAProxy frontends and lists, the namespace policies built from the declaration), so the proof
does the work it does in verify. Baseline, side by side: the checks verify ran per layer before
the layered proof existed (perimeter_audit of the groups, talos_firewall_evidence of every node,
the namespace-policy reachability proof), on the same inputs. Medians of RUNS (CPU seconds).
  python bench/exposure_proof.py [RUNS]
"""
import copy
import pathlib
import statistics
import sys
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".build" / "collections"))

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402

from ansible_collections.safespring.netsec.plugins.filter.baseline_evidence import talos_firewall_evidence  # noqa: E402
from ansible_collections.safespring.netsec.plugins.filter.perimeter_audit import perimeter_audit  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies as cilium_policies  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import model  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration, declaration_spec  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import render as sg_render, rules as sg_rules  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as talos_firewall  # noqa: E402
from ansible_collections.safespring.netsec.plugins.modules import exposure_proof  # noqa: E402

LISTS = "/etc/haproxy/lists"


def groups_as_read_back(spec):
    desired = sg_render.render(spec)
    ids = dict((g.name, "id-" + g.name) for g in desired)
    return [{"id": ids[g.name], "name": g.name, "security_group_rules": [
        dict(sg_rules.api_body(rule, ids[g.name], ids), id="%s-%d" % (g.name, j)) for j, rule in enumerate(g.rules)]} for g in desired]


def edge(spec, book):
    """An edge as roles/haproxy writes it: one frontend per fronted service, its allowlist from the port model."""
    api_sources = [c for peer, dummy in [(pm.role("jump_host"), 0)] for c in pm.resolve(peer, book)]
    allow = {"http": spec["loadbalancer"]["ingress_cidrs"], "https": spec["loadbalancer"]["ingress_cidrs"],
             "kube-apiserver": api_sources, "talos-apid": api_sources, "haproxy-admin": api_sources}
    ports = {"http": 80, "https": 443, "kube-apiserver": 6443, "talos-apid": 50000, "haproxy-admin": 8404}
    config = ["global"]
    lists = {LISTS + "/deny.lst": "", LISTS + "/exempt.lst": ""}
    for name, port in ports.items():
        config += ["frontend " + name, "    bind ipv4@:%d" % port, "    bind ipv6@:%d v6only" % port,
                   "    acl denied src -f %s/deny.lst" % LISTS, "    acl allowed src -f %s/%s.allow" % (LISTS, name),
                   "    tcp-request connection reject if denied || !allowed"]
        lists["%s/%s.allow" % (LISTS, name)] = "\n".join(allow[name]) + "\n"
    return {"config": "\n".join(config) + "\n", "lists": lists}


def lab_inputs():
    inv = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "netsec.yml").read_text())
    nodes = inv["netsec_nodes"]
    book = {"control_plane": [], "worker": [], "loadbalancer": inv["netsec_lb_addresses"], "jump_host": inv["netsec_jump_addresses"]}
    for node in nodes:
        book[node["role"]] += [node["address"]] + node.get("addresses", [])
    return inv["netsec_cluster"], book, nodes, inv["netsec_namespaces"], inv["netsec_paths"], inv["netsec_cluster_cidrs"]


def big_inputs(n_nodes=50, n_ns=200):
    cluster, book, dummy_nodes, dummy_ns, dummy_paths, cidrs = lab_inputs()
    cluster = dict(cluster, ip_versions=[4])
    nodes = [{"name": "cp%d" % i, "role": "control_plane", "address": "10.1.0.%d" % (10 + i)} for i in range(3)]
    nodes += [{"name": "w%02d" % i, "role": "worker", "address": "10.1.1.%d" % (10 + i)} for i in range(n_nodes - 3)]
    book = {"control_plane": [n["address"] for n in nodes if n["role"] == "control_plane"],
            "worker": [n["address"] for n in nodes if n["role"] == "worker"],
            "loadbalancer": ["10.1.2.11/32", "10.1.2.12/32"], "jump_host": ["198.18.2.5/32"]}
    namespaces, paths = [], []
    for i in range(n_ns):
        ns = "team-%03d" % i
        namespaces.append({"name": ns, "workloads": [
            {"name": "web", "labels": {"app": "web"}, "ports": [{"port": 8080, "name": "http"}, {"port": 9100, "name": "metrics"}]},
            {"name": "api", "labels": {"app": "api"}, "ports": [{"port": 8443}]},
            {"name": "db", "labels": {"app": "db"}, "ports": [{"port": 5432}]}]})
        paths.append({"from": {"namespace": ns, "pods": {"app": "web"}}, "to": {"namespace": ns, "pods": {"app": "api"}}, "ports": [{"port": 8443}]})
        paths.append({"from": {"namespace": ns, "pods": {"app": "api"}}, "to": {"namespace": ns, "pods": {"app": "db"}}, "ports": [{"port": 5432}]})
        if i:
            paths.append({"from": {"namespace": "team-%03d" % (i - 1), "pods": {"app": "api"}}, "to": {"namespace": ns, "pods": {"app": "api"}},
                          "ports": [{"port": 8443}]})
    return cluster, book, nodes, namespaces, paths, cidrs


def params_for(cluster, book, nodes, namespaces, paths, cidrs):
    spec = pm.ClusterSpec.from_dict(cluster)
    declared = ArgumentSpecValidator(dict((k, v) for k, v in declaration_spec().items() if k in ("namespaces", "paths", "dns", "cluster_cidrs"))
                                     ).validate({"namespaces": namespaces, "paths": paths, "cluster_cidrs": cidrs}).validated_parameters
    norm = model.validate(declaration(dict(declared, create_namespaces=None)), "")
    objects = model.build_objects(norm, "namespace-policies", "")
    policies = [o for o in objects if o.get("kind") in ("NetworkPolicy", "CiliumNetworkPolicy")]
    return dict(declared, cluster=cluster, addresses=book, nodes=nodes, security_groups=groups_as_read_back(spec),
                talos=dict((n["name"], talos_firewall.render(spec, n["role"], book)[0]) for n in nodes),
                haproxy={"lb1": edge(spec, book), "lb2": edge(spec, book)},
                cilium_policies=[cilium_policies.host_policy(spec, r, book) for r in pm.NODE_ROLES], cilium_host_firewall=True,
                namespace_policies=policies, field_prefix="", create_namespaces=None), norm, policies


def cpu(fn, runs):
    times, out = [], None
    for dummy in range(runs):
        t0 = time.process_time()
        out = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), out


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print("layered exposure proof (EXP-01) vs the per-layer checks verify ran before it (baseline); CPU s, median of %d" % runs)
    print("| cluster | nodes | namespaces | paths (open / blocked) | proof s | baseline s | ratio | findings |")
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for label, inputs in (("lab", lab_inputs()), ("50 nodes, 200 namespaces", big_inputs())):
        params, norm, policies = params_for(*inputs)
        proof_s, result = cpu(lambda: exposure_proof.run(copy.copy(params)), runs)

        def baseline():
            perimeter_audit(params["security_groups"], params["cluster"])
            for docs in params["talos"].values():
                talos_firewall_evidence(docs)
            model.prove(norm, policies)
        base_s, dummy = cpu(baseline, runs)
        s = result["summary"]
        print("| %s | %d | %d | %d (%d / %d) | %.3f | %.3f | %.1fx | %d |" % (
            label, len(params["nodes"]), len(params["namespaces"]), s["paths"], s["open"], s["blocked"], proof_s, base_s,
            proof_s / max(base_s, 1e-9), len(result["problems"])))


if __name__ == "__main__":
    main()
