"""safespring.netsec.security_group through ansible-playbook against the lab's real Neutron.

Converge from empty, rerun without change (and without writes), one edited rule changes
exactly one rule, drift removed while a protected rule stays, groups referencing each
other, a fault between create and delete losing no rule, check mode predicting the real
run exactly, bad input failing before any API call, VRRP address pairs on real ports.
"""
import http.client
import http.server
import json
import os
import pathlib
import subprocess
import threading
import uuid
from collections import Counter

import pytest
import requests

from fixtures.openstack import count_requests

REPO = pathlib.Path(__file__).resolve().parents[2]
LAB_DIR = pathlib.Path(os.environ.get("LAB_DIR", REPO / ".lab"))
ENDPOINT = "http://127.0.0.1:9696/"
API = ENDPOINT + "v2.0"

pytestmark = pytest.mark.lab


def cloud(endpoint=ENDPOINT):
    return {"auth_type": "none", "auth": {"endpoint": endpoint}, "network_endpoint_override": endpoint}


class Neutron(object):
    """Direct calls to the lab Neutron for arranging and checking (never the code under test)."""

    def __init__(self, info):
        self.access_log = info["access_log"]

    def requests(self):
        """Count this collection's requests (User-Agent safespring-netsec) Neutron serves inside
        a with block: the lab is shared, other clients' requests do not count."""
        return count_requests(self.access_log, agent="safespring-netsec")

    def groups(self, prefix):
        body = requests.get(API + "/security-groups", timeout=30).json()
        return dict((g["name"], g) for g in body["security_groups"] if g["name"].startswith(prefix))

    def rules(self, group):
        return sorted(group["security_group_rules"], key=lambda r: r["id"])

    def add_rule(self, group_id, **fields):
        fields["security_group_id"] = group_id
        resp = requests.post(API + "/security-group-rules", json={"security_group_rule": fields}, timeout=30)
        assert resp.status_code == 201, resp.text
        return resp.json()["security_group_rule"]

    def cleanup(self, prefix):
        for group in self.groups(prefix).values():
            requests.delete(API + "/security-groups/" + group["id"], timeout=30)


@pytest.fixture(scope="module")
def neutron(neutron_cloud):
    return Neutron(neutron_cloud)


@pytest.fixture
def prefix(neutron):
    name = "t%s-" % uuid.uuid4().hex[:6]
    yield name
    neutron.cleanup(name)


def run(tmp_path, args, *flags, module="security_group", env_extra=None):
    """One task through ansible-playbook; returns the task result (json callback)."""
    task = {"name": "sync", "safespring.netsec." + module: args, "register": "r"}
    book = tmp_path / "play.json"
    book.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    env.update(env_extra or {})
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(book)] + list(flags),
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    text = proc.stdout
    data = json.loads(text[text.index("{"):])
    return data["plays"][0]["tasks"][0]["hosts"]["localhost"]


def two_groups(prefix, worker_extra=()):
    """Two groups that reference each other, with IPv6, ranges, ICMP and VRRP."""
    cp, w = prefix + "cp", prefix + "worker"
    return [
        {"name": cp, "description": "control plane", "rules": [
            {"protocol": "tcp", "port": 6443, "remote_group": w},
            {"protocol": "tcp", "port": 6443, "remote_group": w, "ethertype": "IPv6"},
            {"protocol": "tcp", "port": "2379-2380", "remote_group": cp},
            {"protocol": "icmp", "port_range_min": 8, "remote_group": w},
            {"protocol": "vrrp", "remote_group": cp},
            {"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"},
        ]},
        {"name": w, "tags": ["cluster-t"], "rules": [
            {"protocol": "tcp", "port": 10250, "remote_group": cp},
            {"protocol": "tcp", "port": "30000-32767", "remote_ip_prefix": "198.18.1.11/24"},
            {"protocol": "udp", "port": 8472, "remote_ip_prefix": "fd5a:fe:1::/64"},
            {"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"},
        ] + list(worker_extra)},
    ]


def rule_lines(result):
    return sorted((r["group"], r["rule"]) for r in result)


def test_converge_from_empty_then_rerun_changes_nothing_and_writes_nothing(neutron, prefix, tmp_path):
    args = {"cloud": cloud(), "security_groups": two_groups(prefix)}
    first = run(tmp_path, args)
    assert first.get("failed") is not True, first.get("msg")
    assert first["changed"] and first["summary"] == {"groups_created": 2, "groups_deleted": 0, "rules_created": 8, "rules_deleted": 0}
    live = neutron.groups(prefix)
    cp, w = live[prefix + "cp"], live[prefix + "worker"]
    # Each new group kept the two default egress rules it was born with (they are wanted).
    assert len(cp["security_group_rules"]) == 7 and len(w["security_group_rules"]) == 5
    assert w["tags"] == ["cluster-t"]
    # The two groups reference each other by id.
    assert set(r["remote_group_id"] for r in cp["security_group_rules"] if r["port_range_min"] == 6443) == {w["id"]}
    assert set(r["remote_group_id"] for r in w["security_group_rules"] if r["port_range_min"] == 10250) == {cp["id"]}
    # The CIDR was stored as its network address.
    assert "198.18.1.0/24" in [r["remote_ip_prefix"] for r in w["security_group_rules"]]

    with neutron.requests() as counts:
        second = run(tmp_path, args)
    assert second["changed"] is False and second["created_rules"] == [] and second["deleted_rules"] == []
    assert counts == Counter({"GET": 1})  # one list request for the whole environment, no write


def test_editing_one_rule_changes_exactly_that_rule_with_constant_requests(neutron, prefix, tmp_path):
    groups = two_groups(prefix)
    run(tmp_path, {"cloud": cloud(), "security_groups": groups})
    before = dict((g["name"], g) for g in neutron.groups(prefix).values())
    groups[1]["rules"][0]["port"] = 10255
    with neutron.requests() as counts:
        result = run(tmp_path, {"cloud": cloud(), "security_groups": groups}, "--diff")
    assert rule_lines(result["created_rules"]) == [(prefix + "worker", "ingress tcp/10255 from group %scp (IPv4)" % prefix)]
    assert rule_lines(result["deleted_rules"]) == [(prefix + "worker", "ingress tcp/10250 from group %scp (IPv4)" % prefix)]
    assert counts == Counter({"GET": 1, "POST": 1, "DELETE": 1})
    after = neutron.groups(prefix)
    old_ids = set(r["id"] for g in before.values() for r in g["security_group_rules"])
    new_ids = set(r["id"] for g in after.values() for r in g["security_group_rules"])
    assert len(old_ids - new_ids) == 1 and len(new_ids - old_ids) == 1
    diff = result["diff"]
    assert [d["before_header"] for d in diff] == ["security group %sworker" % prefix]
    assert "ingress tcp/10250 from group %scp (IPv4)" % prefix in diff[0]["before"]
    assert "ingress tcp/10250" not in diff[0]["after"] and "ingress tcp/10255" in diff[0]["after"]


def test_drift_is_removed_protected_rule_and_equivalent_spellings_stay(neutron, prefix, tmp_path):
    groups = two_groups(prefix)
    args = {"cloud": cloud(), "security_groups": groups, "protected_rules": {"descriptions": ["^platform:"], "tags": ["keep"]}}
    run(tmp_path, args)
    worker = neutron.groups(prefix)[prefix + "worker"]
    drift = neutron.add_rule(worker["id"], direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22,
                             remote_ip_prefix="0.0.0.0/0")
    protected = neutron.add_rule(worker["id"], direction="ingress", protocol="tcp", port_range_min=9100, port_range_max=9100,
                                 remote_ip_prefix="198.18.2.5/32", description="platform: node exporter")
    tagged = neutron.add_rule(worker["id"], direction="ingress", protocol="udp", port_range_min=9100, port_range_max=9100,
                              remote_ip_prefix="198.18.2.5/32", description="ops [keep]")
    # A duplicate Neutron accepts (host bits differ) of a wanted rule: cleaned up, not fatal.
    duplicate = neutron.add_rule(worker["id"], direction="ingress", protocol="tcp", port_range_min=30000, port_range_max=32767,
                                 remote_ip_prefix="198.18.1.99/24")
    result = run(tmp_path, args)
    assert result["changed"]
    assert sorted(r["id"] for r in result["deleted_rules"]) == sorted([drift["id"], duplicate["id"]])
    assert result["created_rules"] == []
    ids = set(r["id"] for r in neutron.groups(prefix)[prefix + "worker"]["security_group_rules"])
    assert protected["id"] in ids and tagged["id"] in ids and drift["id"] not in ids and duplicate["id"] not in ids
    assert sorted(r["id"] for g in result["security_groups"] for r in g["rules_protected"]) == sorted([protected["id"], tagged["id"]])
    assert run(tmp_path, args)["changed"] is False


def test_check_mode_predicts_exactly_what_the_real_run_does(neutron, prefix, tmp_path):
    groups = two_groups(prefix)
    run(tmp_path, {"cloud": cloud(), "security_groups": groups[:1] + [dict(groups[1], rules=groups[1]["rules"][1:])]})
    worker = neutron.groups(prefix)[prefix + "worker"]
    neutron.add_rule(worker["id"], direction="ingress", protocol="tcp", port_range_min=30000, port_range_max=32767,
                     remote_ip_prefix="198.18.1.1/24")  # duplicate
    neutron.add_rule(worker["id"], direction="ingress", protocol="udp", port_range_min=53, port_range_max=53)  # drift
    third = {"name": prefix + "lb", "rules": [{"protocol": "tcp", "port": 443, "remote_ip_prefix": "0.0.0.0/0"},
                                              {"protocol": "tcp", "port": 30000, "remote_group": prefix + "worker", "direction": "egress"}]}
    args = {"cloud": cloud(), "security_groups": groups + [third]}
    before = neutron.groups(prefix)
    with neutron.requests() as counts:
        predicted = run(tmp_path, args, "--check", "--diff")
    assert set(counts) == {"GET"}  # check mode writes nothing
    assert neutron.groups(prefix) == before
    real = run(tmp_path, args, "--diff")
    assert predicted["changed"] is real["changed"] is True
    assert rule_lines(predicted["created_rules"]) == rule_lines(real["created_rules"])
    assert rule_lines(predicted["deleted_rules"]) == rule_lines(real["deleted_rules"])
    # Ids are known for rules that exist before the run (a new group's default rules get theirs at creation).
    real_ids = set(r["id"] for r in real["deleted_rules"])
    known = [r["id"] for r in predicted["deleted_rules"] if r["id"] is not None]
    assert len(known) == 2 and set(known) <= real_ids
    assert predicted["summary"] == real["summary"]
    assert predicted["diff"] == real["diff"]
    # The new group lost the default IPv4/IPv6 egress rules it was born with, as predicted.
    assert predicted["summary"]["rules_deleted"] == 4 and predicted["summary"]["groups_created"] == 1
    assert run(tmp_path, args, "--check")["changed"] is False


class FaultyProxy(object):
    """Forwards to the lab Neutron, then answers 503 to everything: from the first DELETE on
    (break_on="delete": exactly between the create and the delete phase), or once the first
    bulk rule POST went through (break_on="first-post": in the middle of the create phase)."""

    def __init__(self, break_on):
        outer = self
        self.broken = False
        self.refused = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if break_on == "delete" and self.command == "DELETE":
                    outer.broken = True
                if outer.broken:
                    outer.refused.append((self.command, self.path))
                    payload = json.dumps({"NeutronError": {"message": "injected fault: API unavailable"}}).encode()
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", 9696, timeout=60)
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("host", "connection"))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                if break_on == "first-post" and self.command == "POST" and self.path.endswith("/security-group-rules") \
                        and resp.status == 201:
                    outer.broken = True
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("break_on, created_before_fault", [("delete", 2), ("first-post", 1)])
def test_fault_between_create_and_delete_loses_no_rule_and_rerun_converges(neutron, prefix, tmp_path, break_on, created_before_fault):
    groups = two_groups(prefix)
    run(tmp_path, {"cloud": cloud(), "security_groups": groups})
    groups[1]["rules"][0]["port"] = 10255           # replace one rule in the worker group
    groups[0]["rules"].append({"protocol": "tcp", "port": 50000, "remote_group": prefix + "worker"})
    groups[0]["rules"].pop(0)                      # and one in the control-plane group
    before = neutron.groups(prefix)
    old_ids = set(r["id"] for g in before.values() for r in g["security_group_rules"])
    with FaultyProxy(break_on) as proxy:
        failed = run(tmp_path, {"cloud": cloud(proxy.endpoint), "security_groups": groups})
    assert failed["failed"] is True
    assert "injected fault" in failed["msg"] and "HTTP 503" in failed["msg"]
    assert proxy.refused and all(method in ("POST", "DELETE") for method, dummy_path in proxy.refused)
    after = neutron.groups(prefix)
    live_ids = set(r["id"] for g in after.values() for r in g["security_group_rules"])
    assert old_ids <= live_ids, "an old rule was deleted although the run failed"
    assert len(live_ids - old_ids) == created_before_fault
    assert len(failed["created_rules"]) == created_before_fault and failed["deleted_rules"] == []

    rerun = run(tmp_path, {"cloud": cloud(), "security_groups": groups})
    assert rerun["changed"] and rerun["summary"]["rules_created"] == 2 - created_before_fault
    assert rerun["summary"]["rules_deleted"] == 2
    assert run(tmp_path, {"cloud": cloud(), "security_groups": groups})["changed"] is False


def test_bad_input_fails_naming_the_field_before_any_api_call(neutron, prefix, tmp_path):
    groups = two_groups(prefix)
    groups[1]["rules"][2]["port_range_min"] = 70000
    groups[1]["rules"][2].pop("port")
    cases = [
        (groups, "security_groups[1].rules[2].port_range_min: 70000 is not a port (1-65535)"),
        ([{"name": prefix + "a", "rules": [{"remote_ip_prefix": "10.0.0/33"}]}], "security_groups[0].rules[0].remote_ip_prefix:"),
        ([{"name": prefix + "a", "rules": [{"protocol": "tcp", "port": "90-80"}]}], "security_groups[0].rules[0].port: '90-80' runs from high to low"),
        ([{"name": prefix + "a", "rules": [{"protocol": "ftp"}]}], "security_groups[0].rules[0].protocol:"),
        ([{"name": prefix + "a", "rules": [{"remote_group": "nobody"}]}], "security_groups[0].rules[0].remote_group:"),
        ([{"name": prefix + "a", "rules": [{"protocol": "tcp", "port": 10250, "remote_ip_prefix": "::/0"}]}],
         "security_groups[0].rules[0]: opens kubelet"),
    ]
    with neutron.requests() as counts:
        for sg, expected in cases:
            result = run(tmp_path, {"cloud": cloud(), "security_groups": sg})
            assert result["failed"] is True and result["msg"].startswith(expected), result["msg"]
    assert counts == Counter()  # not a single request


def test_named_cloud_through_module_defaults_and_state_absent(neutron, prefix, tmp_path):
    book = tmp_path / "play.yml"
    book.write_text(json.dumps([{
        "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/safespring.netsec.openstack": {"cloud": "lab"}},
        "tasks": [
            {"name": "create", "safespring.netsec.security_group": {"security_groups": [{"name": prefix + "solo", "rules": []}]}},
            {"name": "delete", "safespring.netsec.security_group": {"security_groups": [{"name": prefix + "solo", "state": "absent"}]},
             "register": "gone"},
            {"name": "again", "safespring.netsec.security_group": {"security_groups": [{"name": prefix + "solo", "state": "absent"}]},
             "register": "again"},
            {"ansible.builtin.assert": {"that": ["gone is changed", "gone.summary.groups_deleted == 1", "again is not changed"]}},
        ]}]))
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(LAB_DIR / "clouds.yaml"), ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(book)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert neutron.groups(prefix) == {}


def test_vrrp_address_pairs_on_real_ports_are_added_once(neutron, prefix, tmp_path):
    net = requests.post(API + "/networks", json={"network": {"name": prefix + "edge", "provider:network_type": "flat",
                                                             "provider:physical_network": prefix}}, timeout=30).json()["network"]
    ports = [requests.post(API + "/ports", json={"port": {"name": prefix + n, "network_id": net["id"]}}, timeout=30).json()["port"]
             for n in ("lb1", "lb2")]
    try:
        args = {"cloud": cloud(), "ports": [prefix + "lb1", ports[1]["id"]], "addresses": [{"ip_address": "198.18.1.100/32"}]}
        check = run(tmp_path, args, "--check", module="port_address_pairs")
        first = run(tmp_path, args, module="port_address_pairs")
        second = run(tmp_path, args, module="port_address_pairs")
        assert check["changed"] and first["changed"] and second["changed"] is False
        for port in ports:
            live = requests.get(API + "/ports/" + port["id"], timeout=30).json()["port"]
            assert [p["ip_address"] for p in live["allowed_address_pairs"]] == ["198.18.1.100"]
        removed = run(tmp_path, dict(args, state="absent"), module="port_address_pairs")
        assert removed["changed"]
        assert requests.get(API + "/ports/" + ports[0]["id"], timeout=30).json()["port"]["allowed_address_pairs"] == []
    finally:
        for port in ports:
            requests.delete(API + "/ports/" + port["id"], timeout=30)
        requests.delete(API + "/networks/" + net["id"], timeout=30)


def test_remote_group_id_of_a_group_of_the_same_run_converges_and_reruns_clean(neutron, prefix, tmp_path):
    # Issue 18, defect 1: live rules were matched by group name, the wanted one by id (409 on the rerun).
    groups = two_groups(prefix)
    run(tmp_path, {"cloud": cloud(), "security_groups": groups})
    cp_id = neutron.groups(prefix)[prefix + "cp"]["id"]
    groups[1]["rules"].append({"protocol": "tcp", "port": 4240, "remote_group_id": cp_id})
    args = {"cloud": cloud(), "security_groups": groups}
    first = run(tmp_path, args)
    assert first.get("failed") is not True, first.get("msg")
    assert rule_lines(first["created_rules"]) == [(prefix + "worker", "ingress tcp/4240 from group %scp (IPv4)" % prefix)]
    with neutron.requests() as counts:
        second = run(tmp_path, args)
    assert second.get("failed") is not True, second.get("msg")
    assert second["changed"] is False and counts == Counter({"GET": 1})
    # The same rule written by name is that rule, not a new one.
    groups[1]["rules"][-1] = {"protocol": "tcp", "port": 4240, "remote_group": prefix + "cp"}
    assert run(tmp_path, args)["changed"] is False


def test_unknown_remote_group_id_fails_before_any_write(neutron, prefix, tmp_path):
    # Issue 18, defect 2: Neutron found the bad id (404) after a new group had been created.
    groups = two_groups(prefix)
    missing = str(uuid.uuid4())
    groups[1]["rules"].append({"protocol": "tcp", "port": 4240, "remote_group_id": missing})
    with neutron.requests() as counts:
        result = run(tmp_path, {"cloud": cloud(), "security_groups": groups})
    assert result["failed"] is True
    assert result["msg"].startswith("security_groups[1].rules[5].remote_group_id: no security group has the id %s" % missing), \
        result["msg"]
    assert set(counts) == {"GET"}, counts  # nothing written
    assert neutron.groups(prefix) == {}
    # A group of the same run that is to be deleted cannot be referenced by id either.
    run(tmp_path, {"cloud": cloud(), "security_groups": two_groups(prefix)})
    cp_id = neutron.groups(prefix)[prefix + "cp"]["id"]
    gone = [{"name": prefix + "cp", "state": "absent"},
            {"name": prefix + "worker", "rules": [{"protocol": "tcp", "port": 1, "remote_group_id": cp_id}]}]
    with neutron.requests() as counts:
        result = run(tmp_path, {"cloud": cloud(), "security_groups": gone})
    assert result["failed"] is True and result["msg"].startswith("security_groups[1].rules[0].remote_group_id:"), result["msg"]
    assert "state absent" in result["msg"] and set(counts) == {"GET"}


def test_check_mode_and_real_run_report_alike_when_a_group_is_updated_and_another_created(neutron, prefix, tmp_path):
    # Issue 18, defect 3: the plan redone after creating groups had forgotten the PUT it had just sent.
    groups = two_groups(prefix)
    run(tmp_path, {"cloud": cloud(), "security_groups": groups})
    groups[0]["description"] = "control plane, renamed"
    groups.append({"name": prefix + "lb", "rules": [{"protocol": "tcp", "port": 443, "remote_ip_prefix": "198.51.100.0/24"}]})
    args = {"cloud": cloud(), "security_groups": groups}
    predicted = run(tmp_path, args, "--check", "--diff")
    real = run(tmp_path, args, "--diff")
    assert real.get("failed") is not True, real.get("msg")
    by_name = dict((g["name"], g) for g in real["security_groups"])
    assert by_name[prefix + "cp"]["changed"] is True and by_name[prefix + "cp"]["updated"] == ["description"]
    assert [dict(g, id=None) for g in predicted["security_groups"]] == [dict(g, id=None) for g in real["security_groups"]]
    assert predicted["diff"] == real["diff"]
    assert [d["before_header"] for d in real["diff"]] == ["security group %scp" % prefix, "security group %slb" % prefix]
    assert neutron.groups(prefix)[prefix + "cp"]["description"] == "control plane, renamed"


def test_port_errors_name_the_key_that_was_written(neutron, prefix, tmp_path):
    # Issue 18, defect 4: `port:` errors named port_range_min, a key the user never wrote.
    cases = [
        ([{"name": prefix + "a", "rules": [{"protocol": "tcp", "port": 22}, {"protocol": "tcp", "port": 70000}]}],
         "security_groups[0].rules[1].port: 70000 is not a port (1-65535)"),
        ([{"name": prefix + "a", "rules": [{"protocol": "tcp", "port": "90-80"}]}],
         "security_groups[0].rules[0].port: '90-80' runs from high to low"),
        ([{"name": prefix + "a", "rules": [{"protocol": "vrrp", "port": 112}]}],
         "security_groups[0].rules[0].port: vrrp has no ports"),
        ([{"name": prefix + "a", "rules": [{"ether_type": "IPv5"}]}],
         "security_groups[0].rules[0].ether_type: 'IPv5' is not IPv4 or IPv6"),
    ]
    with neutron.requests() as counts:
        for sg, expected in cases:
            result = run(tmp_path, {"cloud": cloud(), "security_groups": sg})
            assert result["failed"] is True and result["msg"].startswith(expected), result["msg"]
    assert counts == Counter()
