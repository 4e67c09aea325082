"""The layered exposure proof on the lab as the main job left it, one layer broken by hand at a time.

Every layer is read where it lives: the security groups from the lab's Neutron, each load
balancer's haproxy.cfg and list files from its host (podman exec), the Cilium host policies and
the namespace policies from the lab control plane's kube-apiserver, the Talos documents from
the rendered machine configs (no Talos node runs here). Each test breaks one layer the way an
operator could - a rule in Neutron, a line in an allowlist on one LB, a subnet in a rendered
Talos rule, a NetworkPolicy on the apiserver - and asserts that exactly the paths that layer now
opens fail, named, together with the control that judges that layer, and that the proof is
clean again once the change is undone. Needs the lab as the main job leaves it: in the e2e stage
this file runs after test_site_awx_runner.py (pytest takes the files in name order), which converges
the lab; run alone, run `scripts/lab.sh site` first. (In the integration stage the hosts and the
control plane are not up, so it cannot live there.)
"""
import copy
import json
import os
import pathlib
import subprocess

import pytest
import requests
import yaml

from ansible_collections.safespring.netsec.plugins.filter.baseline_evidence import talos_firewall_evidence
from ansible_collections.safespring.netsec.plugins.filter.perimeter_audit import perimeter_audit
from ansible_collections.safespring.netsec.plugins.modules import exposure_proof
from fixtures.lab import REPO
from fixtures.netns import podman_exec as _podman
from fixtures.openstack import connect

pytestmark = [pytest.mark.lab, pytest.mark.slow]

LAB_DIR = pathlib.Path(os.environ.get("LAB_DIR", REPO / ".lab"))
LBS = {"lb1": "ssn-lb1", "lb2": "ssn-lb2"}
LISTS = "/etc/haproxy/lists"
WORLD_SOURCES = ("internet", "admin", "jump_host", "loadbalancer", "bgp_peer")


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    """The lab inventory's values as the stage playbooks see them (ansible-playbook itself)."""
    tmp = tmp_path_factory.mktemp("exposure-inventory")
    out, book = tmp / "values.json", tmp / "dump.yml"
    book.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False, "connection": "local",
        "vars_files": [str(REPO / "playbooks" / "vars" / "derived.yml")],
        "tasks": [{"name": "dump", "ansible.builtin.copy": {"dest": str(out), "mode": "0600", "content": (
            "{{ {'cluster': netsec_cluster, 'addresses': netsec_address_book, 'nodes': netsec_nodes, 'namespaces': netsec_namespaces,"
            " 'paths': netsec_paths, 'cluster_cidrs': netsec_cluster_cidrs, 'render_dir': netsec_render_dir} | to_json }}")}}],
    }]))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", str(REPO / "inventories" / "lab"), str(book)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def kube():
    info_path = LAB_DIR / "kube-site" / "kube.json"
    if not info_path.exists():
        pytest.fail("the lab control plane is not up: run scripts/lab.sh site (or scripts/lab.sh control-plane and the main job)")
    info = json.loads(info_path.read_text())
    session = requests.Session()
    session.verify, session.cert = info["ca"], (info["admin_cert"], info["admin_key"])
    session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
    session.base = info["url"]
    return session


@pytest.fixture(scope="module")
def neutron(neutron_cloud):
    return connect(neutron_cloud, app_name="exposure-layers")


def read_edge():
    out = {}
    for name, host in LBS.items():
        files = _podman(host, "find", LISTS, "-type", "f").split()
        out[name] = {"config": _podman(host, "cat", "/etc/haproxy/haproxy.cfg"),
                     "lists": dict((path, _podman(host, "cat", path)) for path in files)}
    return out


def read_groups(neutron):
    return [{"id": g.id, "name": g.name, "security_group_rules": [r.to_dict() for r in neutron.network.security_group_rules(security_group_id=g.id)]}
            for g in neutron.network.security_groups()]


def read_kube(kube, path):
    resp = kube.get(kube.base + path, timeout=30)
    assert resp.ok, resp.text[:300]
    return [dict(item, kind=resp.json()["kind"].replace("List", "")) for item in resp.json()["items"]]


def read_talos(inventory):
    return dict((n["name"], list(yaml.safe_load_all(pathlib.Path(inventory["render_dir"], "talos", n["name"] + ".yaml").read_text())))
                for n in inventory["nodes"])


def namespace_policies(kube):
    owned = [p for p in read_kube(kube, "/apis/cilium.io/v2/ciliumnetworkpolicies")
             if (p["metadata"].get("labels") or {}).get("netsec.safespring.com/owned-set") == "namespace-policies"]
    return read_kube(kube, "/apis/networking.k8s.io/v1/networkpolicies") + owned


def prove(inventory, kube, neutron, **override):
    params = {"cluster": inventory["cluster"], "addresses": inventory["addresses"], "nodes": inventory["nodes"],
              "security_groups": read_groups(neutron), "haproxy": read_edge(), "talos": read_talos(inventory),
              "cilium_policies": read_kube(kube, "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies"), "cilium_host_firewall": True,
              "namespace_policies": namespace_policies(kube), "namespaces": inventory["namespaces"], "paths": inventory["paths"],
              "cluster_cidrs": inventory["cluster_cidrs"], "dns": None, "field_prefix": "", "create_namespaces": None}
    # The module's own argument spec fills the declaration's defaults, as in verify.
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration_spec
    spec = declaration_spec()
    declared = ArgumentSpecValidator(dict((k, spec[k]) for k in ("namespaces", "paths", "dns", "cluster_cidrs"))).validate(
        dict((k, params[k]) for k in ("namespaces", "paths", "dns", "cluster_cidrs"))).validated_parameters
    params.update(declared)
    params.update(override)
    return exposure_proof.run(params)


def failing(result):
    return sorted((p["source"], p["destination"], p["service"]) for p in result["paths"] if p["problems"])


@pytest.fixture(scope="module")
def clean(inventory, kube, neutron):
    result = prove(inventory, kube, neutron)
    assert result["ok"], result["problems"][:20]
    return result


def test_the_lab_as_converged_proves_the_port_model_through_every_layer(clean):
    assert clean["summary"]["paths"] > 500 and clean["summary"]["open"] > 50
    assert [layer["name"] for layer in clean["layers"] if layer["read"]] == [
        "security_groups", "haproxy", "talos", "cilium_host", "namespace_policies"]


def test_a_security_group_rule_added_in_neutron_fails_exactly_its_paths_and_the_perimeter(inventory, kube, neutron, clean):
    group = neutron.network.find_security_group("lab-worker")
    rule = neutron.network.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="tcp",
                                                      port_range_min=10250, port_range_max=10250, remote_ip_prefix="0.0.0.0/0")
    try:
        result = prove(inventory, kube, neutron)
        assert failing(result) == sorted((s, "worker", "kubelet") for s in WORLD_SOURCES)
        assert all(text.startswith("security_groups admits it") for p in result["paths"] for text in p["problems"])
        audit = perimeter_audit(read_groups(neutron), inventory["cluster"])
        assert "lab-worker: extra ingress tcp/10250 from 0.0.0.0/0 (IPv4)" in audit["drift"]
        assert any("kubelet" in e for e in audit["exposures"])
    finally:
        neutron.network.delete_security_group_rule(rule.id)
    assert prove(inventory, kube, neutron)["ok"]


def test_an_allowlist_opened_on_one_load_balancer_fails_its_path_and_names_the_lb_difference(inventory, kube, neutron, clean):
    path = LISTS + "/kube-apiserver.allow"
    before = _podman("ssn-lb1", "cat", path)
    _podman("ssn-lb1", "tee", path, data=before + "0.0.0.0/0\n")
    try:
        result = prove(inventory, kube, neutron)
        # Only the load balancers' kube-apiserver frontend, for every source the port model keeps out of it.
        assert failing(result) and set(f[1:] for f in failing(result)) == {("loadbalancer", "kube-apiserver")}
        assert ("internet", "loadbalancer", "kube-apiserver") in failing(result)
        assert any(d.startswith("frontend kube-apiserver: list allowed differs (only on lb1: ['0.0.0.0/0']") for d in result["lb_differences"])
        # The security groups still stop it end to end: the edge finding is a layer finding, not an open path.
        assert all(p["open"] == "stop" for p in result["paths"] if p["problems"])
    finally:
        _podman("ssn-lb1", "tee", path, data=before)
    assert prove(inventory, kube, neutron)["ok"]


def test_a_talos_rule_widened_in_the_rendered_config_fails_its_paths_and_talos_01(inventory, kube, neutron, clean):
    talos = copy.deepcopy(read_talos(inventory))
    etcd = [d for d in talos["lab-cp1"] if d.get("kind") == "NetworkRuleConfig" and d.get("name") == "etcd"][0]
    etcd["ingress"].append({"subnet": "0.0.0.0/0"})
    result = prove(inventory, kube, neutron, talos=talos)
    assert set(f[1:] for f in failing(result)) == {("control_plane", "etcd")}
    assert {f[0] for f in failing(result)} == set(WORLD_SOURCES) | {"worker"}
    assert any("talos admits it, the port model does not (from 203.0.113.77)" in t for p in result["paths"] for t in p["problems"])
    evidence = talos_firewall_evidence(talos["lab-cp1"])
    assert not evidence["ok"] and any("etcd" in d and "0.0.0.0/0" in d for d in evidence["drift"])


def test_a_namespace_policy_added_on_the_apiserver_fails_the_pod_paths_it_opens(inventory, kube, neutron, clean):
    allow_all = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "operator-allow-all", "namespace": "shop"},
                 "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}}
    url = kube.base + "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies"
    resp = kube.post(url, json=allow_all, timeout=30)
    assert resp.status_code == 201, resp.text[:300]
    try:
        result = prove(inventory, kube, neutron)
        bad = failing(result)
        assert bad and all(dst == "pods:shop" for dummy, dst, dummy_port in bad)
        assert not any(p["problems"] for p in result["paths"] if not p["destination"].startswith("pods:"))
        assert any("open but not declared:" in t and "(namespace_policies)" in t for p in result["paths"] for t in p["problems"])
    finally:
        kube.delete(url + "/operator-allow-all", timeout=30)
    assert prove(inventory, kube, neutron)["ok"]
