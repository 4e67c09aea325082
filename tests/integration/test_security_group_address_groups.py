"""safespring.netsec.security_group with Neutron address groups, against the lab's real Neutron.

A large CIDR set is one address group admitted by one rule per service and family; its
addresses change with add_addresses / remove_addresses and no rule is touched; check mode
and diff predict the real run; reruns read two lists and write nothing; the exposure lint
judges an address group by its addresses (ours and ones managed elsewhere) before any write.
"""
import ipaddress
import uuid
from collections import Counter

import pytest
import requests

from integration.test_security_group import API, Neutron, cloud, run

pytestmark = pytest.mark.lab

ADMIN = ["198.18.%d.%d/30" % (i // 60, (i % 60) * 4) for i in range(40)] + ["fd5a:fe:2::/64"]


class AddressGroups(Neutron):
    def address_groups(self, prefix):
        body = requests.get(API + "/address-groups", timeout=30).json()
        return dict((g["name"], g) for g in body["address_groups"] if g["name"].startswith(prefix))

    def add_address_group(self, name, addresses):
        resp = requests.post(API + "/address-groups", json={"address_group": {"name": name, "addresses": addresses}}, timeout=30)
        assert resp.status_code == 201, resp.text
        return resp.json()["address_group"]

    def cleanup(self, prefix):
        super().cleanup(prefix)
        for group in self.address_groups(prefix).values():
            requests.delete(API + "/address-groups/" + group["id"], timeout=30)


@pytest.fixture(scope="module")
def neutron(neutron_cloud):
    return AddressGroups(neutron_cloud)


@pytest.fixture
def prefix(neutron):
    name = "a%s-" % uuid.uuid4().hex[:6]
    yield name
    neutron.cleanup(name)


def env(prefix, addresses=ADMIN, port=22, extra_rules=()):
    return {"cloud": cloud(),
            "address_groups": [{"name": prefix + "admins", "description": "admin ranges", "addresses": list(addresses)}],
            "security_groups": [{"name": prefix + "jump", "rules": [
                {"protocol": "tcp", "port": port, "remote_address_group": prefix + "admins"},
                {"protocol": "tcp", "port": port, "remote_address_group": prefix + "admins", "ethertype": "IPv6"},
                {"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"},
            ] + list(extra_rules)}]}


def test_one_address_group_converges_with_check_mode_and_diff_and_reruns_with_two_reads(neutron, prefix, tmp_path):
    # Spelled the way people write them: host bits and bare addresses (Neutron stores networks).
    addresses = ["198.18.0.1/30", "198.18.0.9"] + ADMIN[2:]
    args = env(prefix, addresses)
    with neutron.requests() as counts:
        predicted = run(tmp_path, args, "--check", "--diff")
    assert predicted.get("failed") is not True, predicted.get("msg")
    assert set(counts) == {"GET"} and neutron.address_groups(prefix) == {} and neutron.groups(prefix) == {}
    real = run(tmp_path, args, "--diff")
    assert real.get("failed") is not True, real.get("msg")
    assert predicted["diff"] == real["diff"] and predicted["summary"] == real["summary"]
    assert real["summary"] == {"groups_created": 1, "groups_deleted": 0, "rules_created": 2, "rules_deleted": 0,
                               "address_groups_created": 1, "address_groups_deleted": 0,
                               "addresses_added": len(ADMIN), "addresses_removed": 0}
    assert real["diff"][0]["before_header"] == "address group %sadmins" % prefix and real["diff"][0]["before"] == ""
    assert "198.18.0.9/32\n" in real["diff"][0]["after"]
    ag = neutron.address_groups(prefix)[prefix + "admins"]
    assert sorted(ag["addresses"]) == sorted(str(ipaddress.ip_network(a, strict=False)) for a in addresses)
    assert real["address_groups"][0]["id"] == ag["id"] and ag["description"] == "admin ranges"
    ingress = [r for r in neutron.groups(prefix)[prefix + "jump"]["security_group_rules"] if r["direction"] == "ingress"]
    # 41 CIDRs, two rules: one per family, both on the address group.
    assert sorted((r["ethertype"], r["remote_address_group_id"], r["remote_ip_prefix"]) for r in ingress) == [
        ("IPv4", ag["id"], None), ("IPv6", ag["id"], None)]
    assert "ingress tcp/22 from address group %sadmins (IPv4)" % prefix in [r["rule"] for r in real["created_rules"]]

    with neutron.requests() as counts:
        again = run(tmp_path, args, "--diff")
    assert again["changed"] is False and again.get("diff", []) == []
    assert counts == Counter({"GET": 2}), counts.requests  # the groups and the address groups, one list each


def test_changing_the_addresses_touches_no_rule(neutron, prefix, tmp_path):
    run(tmp_path, env(prefix))
    rules_before = neutron.rules(neutron.groups(prefix)[prefix + "jump"])
    changed = ADMIN[1:] + ["203.0.113.0/24"]
    with neutron.requests() as counts:
        result = run(tmp_path, env(prefix, changed), "--diff")
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] and result["created_rules"] == [] and result["deleted_rules"] == []
    assert result["address_groups"][0]["addresses_added"] == ["203.0.113.0/24"]
    assert result["address_groups"][0]["addresses_removed"] == [ADMIN[0]]
    assert counts == Counter({"GET": 2, "PUT": 2}), counts.requests  # add_addresses, remove_addresses
    assert sorted(counts.paths("PUT")) == sorted("/v2.0/address-groups/%s/%s" % (result["address_groups"][0]["id"], verb)
                                                 for verb in ("add_addresses", "remove_addresses"))
    assert neutron.rules(neutron.groups(prefix)[prefix + "jump"]) == rules_before
    assert sorted(neutron.address_groups(prefix)[prefix + "admins"]["addresses"]) == sorted(changed)
    diff = result["diff"][0]
    assert ADMIN[0] + "\n" in diff["before"] and ADMIN[0] not in diff["after"] and "203.0.113.0/24\n" in diff["after"]
    assert [d["before_header"] for d in result["diff"]] == ["address group %sadmins" % prefix]
    assert run(tmp_path, env(prefix, changed))["changed"] is False


def test_the_world_inside_an_address_group_is_refused_on_a_sensitive_port_like_a_literal_one(neutron, prefix, tmp_path):
    elsewhere = neutron.add_address_group(prefix + "elsewhere", ["198.51.100.0/24", "0.0.0.0/0"])
    cases = [
        (env(prefix, ADMIN + ["0.0.0.0/0"], port=6443),
         "address_groups[0].addresses[41]: opens kube-apiserver (tcp/6443) to 0.0.0.0/0"),
        (env(prefix, ADMIN + ["0.0.0.0/1", "128.0.0.0/1"], port=10250),
         "address_groups[0].addresses[41]: opens kubelet (tcp/10250) to"),
        (env(prefix, ADMIN + ["::/0"], port=2379), "address_groups[0].addresses[41]: opens etcd (tcp/2379-2380) to ::/0"),
        # Managed elsewhere: read before any write and judged by its addresses.
        (env(prefix, port=443, extra_rules=[{"protocol": "tcp", "port": 50000, "remote_address_group_id": elsewhere["id"]}]),
         "security_groups[0].rules[4]: opens talos-apid (tcp/50000) to 0.0.0.0/0"),
        (env(prefix, extra_rules=[{"protocol": "tcp", "port": 80, "remote_address_group_id": str(uuid.uuid4())}]),
         "security_groups[0].rules[4].remote_address_group_id: no address group has the id"),
        (env(prefix, extra_rules=[{"protocol": "tcp", "port": 80, "remote_address_group": "nobody"}]),
         "security_groups[0].rules[4].remote_address_group: 'nobody' is not an address group of this environment"),
        (env(prefix, extra_rules=[{"protocol": "tcp", "port": 80, "remote_address_group": prefix + "admins",
                                   "remote_ip_prefix": "192.0.2.0/24"}]),
         "security_groups[0].rules[4].remote_address_group: remote_ip_prefix and remote_address_group are mutually exclusive"),
        (dict(env(prefix), address_groups=[{"name": prefix + "admins", "addresses": ["192.0.2.0/24", "10.0.0/33"]}]),
         "address_groups[0].addresses[1]: '10.0.0/33' is not an IPv4/IPv6 address or CIDR"),
        (dict(env(prefix), address_groups=[{"name": prefix + "admins", "addresses": ["192.0.2.0/24\n0.0.0.0/0"]}]),
         "address_groups[0].addresses[0]:"),
        (dict(env(prefix), address_groups=[{"name": prefix + "admins", "state": "absent"}]),
         "security_groups[0].rules[0].remote_address_group: address group %r is to be deleted (state absent)" % (prefix + "admins")),
    ]
    with neutron.requests() as counts:
        for args, expected in cases:
            result = run(tmp_path, args)
            assert result["failed"] is True and result["msg"].startswith(expected), (expected, result["msg"])
    assert set(counts) <= {"GET"}, counts.requests  # the id look-ups read; nothing was written
    assert neutron.groups(prefix) == {} and list(neutron.address_groups(prefix)) == [prefix + "elsewhere"]
    # The same world on a port that is not sensitive is the user's call (https to the world).
    ok = run(tmp_path, env(prefix, ADMIN + ["0.0.0.0/0"], port=443))
    assert ok.get("failed") is not True, ok.get("msg")


def test_an_address_group_set_absent_goes_after_the_rules_that_used_it(neutron, prefix, tmp_path):
    run(tmp_path, env(prefix))
    gone = {"cloud": cloud(), "address_groups": [{"name": prefix + "admins", "state": "absent"}],
            "security_groups": [{"name": prefix + "jump", "rules": [{"direction": "egress", "ethertype": "IPv4"}]}]}
    predicted = run(tmp_path, gone, "--check")
    result = run(tmp_path, gone)
    assert result.get("failed") is not True, result.get("msg")
    assert predicted["summary"] == result["summary"] and result["summary"]["address_groups_deleted"] == 1
    assert result["summary"]["rules_deleted"] == 3
    assert neutron.address_groups(prefix) == {}
    assert run(tmp_path, gone)["changed"] is False


# --- the cluster spec's CIDR sets as address groups (cluster_address_groups) ---------------

CLUSTER_ADMIN = tuple("198.18.%d.0/24" % i for i in range(12)) + ("fd5a:fe:2::/64", "fd5a:fe:3::/64")
CLUSTER_PEERS = ("192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1")


def cluster_env(prefix, admin=CLUSTER_ADMIN, peers=CLUSTER_PEERS, api=(), **extra):
    args = {"cloud": cloud(), "cluster": {"name": prefix + "c", "loadbalancer": {"bgp_peers": list(peers), "api_cidrs": list(api)},
                                          "jump_host": {"admin_cidrs": list(admin)}}}
    args.update(extra)
    return args


def ingress_on(group, port):
    return sorted((r["ethertype"], r["remote_address_group_id"], r["remote_ip_prefix"])
                  for r in group["security_group_rules"] if r["direction"] == "ingress" and r["port_range_min"] == port)


def test_cluster_renders_admin_ranges_and_bgp_peers_as_address_groups_and_their_changes_touch_no_rule(neutron, prefix, tmp_path):
    # Off (the default): one rule per CIDR, and the address-group API is not even read.
    with neutron.requests() as counts:
        plain = run(tmp_path, cluster_env(prefix))
    assert plain.get("failed") is not True, plain.get("msg")
    assert "address_groups" not in plain and counts["GET"] == 2, counts.requests  # groups + default rule templates
    jump = prefix + "c-jump_host"
    assert len(ingress_on(neutron.groups(prefix)[jump], 22)) == len(CLUSTER_ADMIN)

    # On: check mode and diff predict the real run; the per-CIDR rules are replaced, make before break.
    args = cluster_env(prefix, cluster_address_groups=True)
    with neutron.requests() as counts:
        predicted = run(tmp_path, args, "--check", "--diff")
    assert predicted.get("failed") is not True, predicted.get("msg")
    assert set(counts) == {"GET"} and neutron.address_groups(prefix) == {}, counts.requests
    real = run(tmp_path, args, "--diff")
    assert real.get("failed") is not True, real.get("msg")
    assert predicted["diff"] == real["diff"] and predicted["summary"] == real["summary"]
    assert real["summary"]["address_groups_created"] == 2 and real["summary"]["addresses_added"] == len(CLUSTER_ADMIN) + 4
    ags = neutron.address_groups(prefix)
    assert sorted(ags) == [prefix + "c-admin_cidrs", prefix + "c-bgp_peers"]
    admins, peers = ags[prefix + "c-admin_cidrs"], ags[prefix + "c-bgp_peers"]
    assert sorted(admins["addresses"]) == sorted(CLUSTER_ADMIN)
    assert sorted(peers["addresses"]) == sorted(["192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32", "2001:db8::1/128"])
    groups = neutron.groups(prefix)
    # 14 admin CIDRs: two ssh rules (one per family) on the address group, no literal CIDR left.
    assert ingress_on(groups[jump], 22) == [("IPv4", admins["id"], None), ("IPv6", admins["id"], None)]
    lb = groups[prefix + "c-loadbalancer"]
    for port in (179, 4784):  # BGP and BFD from the platform's peers
        assert ingress_on(lb, port) == [("IPv4", peers["id"], None), ("IPv6", peers["id"], None)], port
    assert real["summary"]["rules_deleted"] == len(CLUSTER_ADMIN) + 2 * len(CLUSTER_PEERS)

    with neutron.requests() as counts:
        again = run(tmp_path, args, "--diff")
    assert again["changed"] is False and again.get("diff", []) == []
    assert counts == Counter({"GET": 2}), counts.requests  # the groups and the address groups, one list each

    # One admin range replaced, one peer added: addresses change, no rule is created or deleted.
    rules_before = dict((n, neutron.rules(g)) for n, g in neutron.groups(prefix).items())
    changed = cluster_env(prefix, CLUSTER_ADMIN[1:] + ("203.0.113.0/24",), CLUSTER_PEERS + ("192.0.2.4",), cluster_address_groups=True)
    predicted = run(tmp_path, changed, "--check", "--diff")
    with neutron.requests() as counts:
        result = run(tmp_path, changed, "--diff")
    assert result.get("failed") is not True, result.get("msg")
    assert predicted["diff"] == result["diff"] and predicted["summary"] == result["summary"]
    assert result["changed"] and result["created_rules"] == [] and result["deleted_rules"] == []
    assert counts == Counter({"GET": 2, "PUT": 3}), counts.requests  # admins: add + remove; peers: add
    assert dict((n, neutron.rules(g)) for n, g in neutron.groups(prefix).items()) == rules_before
    assert [d["before_header"] for d in result["diff"]] == ["address group %sc-bgp_peers" % prefix,
                                                            "address group %sc-admin_cidrs" % prefix]
    assert "203.0.113.0/24\n" in result["diff"][1]["after"] and CLUSTER_ADMIN[0] + "\n" not in result["diff"][1]["after"]
    assert run(tmp_path, changed)["changed"] is False


def test_cluster_address_groups_are_linted_by_their_cidrs_naming_the_spec(neutron, prefix, tmp_path):
    cases = [
        (cluster_env(prefix, api=["198.51.100.0/24", "0.0.0.0/0"], cluster_address_groups=True),
         "cluster.loadbalancer.api_cidrs[1]: opens kube-apiserver (tcp/6443) to 0.0.0.0/0"),
        (cluster_env(prefix, cluster_address_groups=True, address_groups=[{"name": prefix + "c-admin_cidrs", "addresses": []}]),
         "address_groups[0].name: %r is the address group rendered from cluster.jump_host.admin_cidrs" % (prefix + "c-admin_cidrs")),
    ]
    with neutron.requests() as counts:
        for args, expected in cases:
            result = run(tmp_path, args)
            assert result["failed"] is True and result["msg"].startswith(expected), (expected, result["msg"])
    assert counts == Counter(), counts.requests  # refused before any request
    assert neutron.groups(prefix) == {} and neutron.address_groups(prefix) == {}
