"""The world-exposure lint in the cilium and namespace_policies roles through ansible-playbook:
refused naming the role variable before anything is written, passed with a named waiver."""
import copy

from fixtures import cilium as C
from fixtures import netpol as N

WAIVER = {"name": "public-api-proxy", "service": "kube-apiserver", "scope": "shop", "reason": "a public API proxy in shop"}


def netpol_vars(tmp_path, **extra):
    out = {"namespace_policies_%s" % k: copy.deepcopy(v) for k, v in N.SHOP.items()}
    out.update(namespace_policies_render_dir=str(tmp_path / "gitops"), namespace_policies_report_dir=str(tmp_path / "report"))
    out.update(extra)
    return out


NETPOL_PLAY = [{"hosts": "localhost", "gather_facts": False, "roles": ["safespring.netsec.namespace_policies"]}]
WORLD_PATHS = [{"from": {"cidr": c}, "to": {"namespace": "shop", "pods": {"app": "web"}}, "ports": [{"port": 6443}]}
               for c in ("0.0.0.0/1", "128.0.0.0/1")]


def test_namespace_policies_refuses_a_split_world_path_before_writing_and_a_waiver_lets_it_through(tmp_path):
    variables = netpol_vars(tmp_path)
    variables["namespace_policies_paths"] += WORLD_PATHS
    rc, tasks, proc = N.run_playbook(tmp_path, NETPOL_PLAY, variables)
    assert rc != 0
    build = tasks["safespring.netsec.namespace_policies : Build the policies from the declaration (bad input fails here, naming the entry)"]
    # 0.0.0.0/1 minus the cluster CIDRs is in pieces: the whole 128.0.0.0/1 is the widest entry, named first.
    assert build["failed"] and build["field"] == "namespace_policies_paths[6].from.cidr", build
    assert "opens kube-apiserver (tcp/6443) to 0.0.0.0/5, 8.0.0.0/7, " in build["msg"]
    assert "(IPv4 space as wide as a /1 (limit /8); together with namespace_policies_paths[5].from.cidr)" in build["msg"]
    assert not (tmp_path / "gitops").exists() and not (tmp_path / "report").exists()

    variables["namespace_policies_waivers"] = [WAIVER]
    rc, tasks, proc = N.run_playbook(tmp_path, NETPOL_PLAY, variables)
    assert rc == 0, proc.stdout[-3000:]
    assert (tmp_path / "gitops").is_dir()


def test_cilium_refuses_a_world_extra_policy_before_writing_naming_the_role_variable(tmp_path):
    out = tmp_path / "gitops"
    extra = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "open-kubelet", "namespace": "shop"},
             "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["world"], "toPorts": [{"ports": [{"port": "10250"}]}]}]}}
    variables = {"cilium_delivery": "render", "cilium_render_dir": str(out), "cilium_cluster": C.LAB_CLUSTER,
                 "cilium_addresses": C.LAB_ADDRESS_BOOK, "cilium_policy_schema_files": C.cilium_schema_files(),
                 "cilium_extra_policies": [extra]}
    play = [{"hosts": "localhost", "gather_facts": False, "roles": [{"role": "safespring.netsec.cilium", "vars": variables}]}]
    rc, tasks, dummy_stats, dummy_proc = C.run_playbook(tmp_path, play)
    failed = [t for t in tasks.values() if t.get("failed")]
    assert rc != 0 and failed[0]["field"] == "cilium_extra_policies[0].spec.ingress[0].fromEntities[0]", failed
    assert "opens kubelet (tcp/10250) to any" in failed[0]["msg"]
    assert not out.exists()

    variables["cilium_addresses"] = dict(C.LAB_ADDRESS_BOOK, loadbalancer=["0.0.0.0/0"])
    variables["cilium_extra_policies"] = []
    rc, tasks, dummy_stats, dummy_proc = C.run_playbook(tmp_path, play)
    failed = [t for t in tasks.values() if t.get("failed")]
    assert rc != 0 and failed[0]["field"] == "cilium_addresses.loadbalancer[0]" and not out.exists()

    variables["cilium_addresses"] = C.LAB_ADDRESS_BOOK
    variables["cilium_extra_policies"] = [extra]
    variables["cilium_waivers"] = [{"name": "kubelet-scrape", "service": "kubelet", "scope": "shop", "reason": "test"}]
    rc, tasks, dummy_stats, proc = C.run_playbook(tmp_path, play)
    assert rc == 0, proc.stdout[-3000:]
    assert (out / "policies" / "ciliumnetworkpolicy-shop-open-kubelet.yaml").exists()
