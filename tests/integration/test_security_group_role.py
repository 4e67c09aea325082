"""Role safespring.netsec.security_groups through ansible-playbook against the lab's real Neutron.

VRRP mode: the groups from the port model, the VIP on both LB ports, idempotent; extra
rules and tags land on the rendered groups; argument_specs and the lint stop bad input.
"""
import json
import os
import pathlib
import subprocess
import uuid

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
ENDPOINT = "http://127.0.0.1:9696/"
API = ENDPOINT + "v2.0"
CLOUD = {"auth_type": "none", "auth": {"endpoint": ENDPOINT}, "network_endpoint_override": ENDPOINT}

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def edge(neutron_cloud):
    """A lab network with two LB ports (the VRRP pair)."""
    name = "r%s" % uuid.uuid4().hex[:6]
    net = requests.post(API + "/networks", json={"network": {"name": name + "-edge", "provider:network_type": "flat",
                                                             "provider:physical_network": name}}, timeout=30).json()["network"]
    ports = [requests.post(API + "/ports", json={"port": {"name": "%s-%s" % (name, lb), "network_id": net["id"]}}, timeout=30).json()["port"]
             for lb in ("lb1", "lb2")]
    yield name, ports
    for port in ports:
        requests.delete(API + "/ports/" + port["id"], timeout=30)
    requests.delete(API + "/networks/" + net["id"], timeout=30)
    for group in requests.get(API + "/security-groups", timeout=30).json()["security_groups"]:
        if group["name"].startswith(name + "-"):
            requests.delete(API + "/security-groups/" + group["id"], timeout=30)


def play(tmp_path, role_vars, *flags):
    book = tmp_path / "site.json"
    book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False,
                                 "roles": [{"role": "safespring.netsec.security_groups", "vars": role_vars}]}]))
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    return subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(book)] + list(flags),
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def recap(proc):
    line = [x for x in proc.stdout.splitlines() if x.startswith("localhost") and "ok=" in x][-1]
    return dict(kv.split("=") for kv in line.split(":", 1)[1].split())


def role_vars(name, ports, **cluster_extra):
    cluster = {"name": name, "loadbalancer": {"ha_mode": "vrrp", "vrrp_addresses": ["198.18.1.100"]},
               "jump_host": {"admin_cidrs": ["198.18.2.5/32", "fd5a:fe:2::5/128"]}}
    cluster.update(cluster_extra)
    return {"security_groups_cloud": CLOUD, "security_groups_cluster": cluster,
            "security_groups_vrrp_ports": [p["id"] for p in ports],
            "security_groups_extra_rules": {"loadbalancer": [{"protocol": "tcp", "port": 8443, "remote_ip_prefix": "198.18.2.0/24"}]},
            "security_groups_tags": ["cluster=" + name]}


def test_role_converges_vrrp_environment_and_is_idempotent(edge, tmp_path):
    name, ports = edge
    first = play(tmp_path, role_vars(name, ports))
    assert first.returncode == 0, first.stdout[-3000:]
    assert recap(first)["changed"] == "2"
    groups = dict((g["name"], g) for g in requests.get(API + "/security-groups", timeout=30).json()["security_groups"]
                  if g["name"].startswith(name + "-"))
    assert sorted(groups) == sorted("%s-%s" % (name, r) for r in ("control_plane", "worker", "loadbalancer", "jump_host"))
    lb = groups[name + "-loadbalancer"]
    assert lb["tags"] == ["cluster=" + name]
    vrrp = [r for r in lb["security_group_rules"] if r["protocol"] == "vrrp"]
    assert sorted((r["ethertype"], r["remote_group_id"]) for r in vrrp) == [("IPv4", lb["id"]), ("IPv6", lb["id"])]
    assert [r["remote_ip_prefix"] for r in lb["security_group_rules"] if r["port_range_min"] == 8443] == ["198.18.2.0/24"]
    for port in ports:
        live = requests.get(API + "/ports/" + port["id"], timeout=30).json()["port"]
        assert [p["ip_address"] for p in live["allowed_address_pairs"]] == ["198.18.1.100"]

    second = play(tmp_path, role_vars(name, ports))
    assert second.returncode == 0 and recap(second)["changed"] == "0", second.stdout[-3000:]


def test_role_refuses_kubelet_open_to_the_world_naming_the_field(edge, tmp_path):
    name, ports = edge
    bad = role_vars(name + "x", ports)
    bad["security_groups_extra_rules"] = {"worker": [{"protocol": "tcp", "port": 10250, "remote_ip_prefix": "0.0.0.0/0"}]}
    proc = play(tmp_path, bad)
    assert proc.returncode != 0
    assert "security_groups[1].rules[0]: opens kubelet (tcp/10250) to 0.0.0.0/0" in proc.stdout


def test_role_argument_specs_reject_unknown_role_and_bad_choice(edge, tmp_path):
    name, ports = edge
    bad = role_vars(name + "y", ports)
    bad["security_groups_extra_rules"] = {"router": []}
    proc = play(tmp_path, bad)
    assert proc.returncode != 0 and "router" in proc.stdout
    bad = role_vars(name + "y", ports, loadbalancer={"ha_mode": "carp"})
    proc = play(tmp_path, bad)
    assert proc.returncode != 0 and "carp" in proc.stdout


def test_role_admits_an_address_group_with_one_rule_and_refuses_the_world_inside_it(edge, tmp_path):
    name, ports = edge
    ag = name + "z-partners"
    admins = ["198.18.%d.0/28" % i for i in range(30)]
    ok = role_vars(name + "z", ports)
    ok["security_groups_address_groups"] = [{"name": ag, "addresses": admins}]
    ok["security_groups_extra_rules"] = {"loadbalancer": [{"protocol": "tcp", "port": 8443, "remote_address_group": ag}]}
    try:
        first = play(tmp_path, ok)
        assert first.returncode == 0, first.stdout[-3000:]
        live = [g for g in requests.get(API + "/address-groups", timeout=30).json()["address_groups"] if g["name"] == ag]
        assert len(live) == 1 and sorted(live[0]["addresses"]) == sorted(admins)
        lb = [g for g in requests.get(API + "/security-groups", timeout=30).json()["security_groups"] if g["name"] == name + "z-loadbalancer"][0]
        assert [r["remote_address_group_id"] for r in lb["security_group_rules"] if r["port_range_min"] == 8443] == [live[0]["id"]]
        second = play(tmp_path, ok)
        assert second.returncode == 0 and recap(second)["changed"] == "0", second.stdout[-3000:]
        bad = dict(ok, security_groups_address_groups=[{"name": ag, "addresses": admins + ["0.0.0.0/0"]}],
                   security_groups_extra_rules={"worker": [{"protocol": "tcp", "port": 10250, "remote_address_group": ag}]})
        proc = play(tmp_path, bad)
        assert proc.returncode != 0
        assert "address_groups[0].addresses[30]: opens kubelet (tcp/10250) to 0.0.0.0/0" in proc.stdout, proc.stdout[-3000:]
    finally:
        for group in requests.get(API + "/security-groups", timeout=30).json()["security_groups"]:
            if group["name"].startswith(name + "z-"):
                requests.delete(API + "/security-groups/" + group["id"], timeout=30)
        for group in requests.get(API + "/address-groups", timeout=30).json()["address_groups"]:
            if group["name"] == ag:
                requests.delete(API + "/address-groups/" + group["id"], timeout=30)
