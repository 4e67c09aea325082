"""Health-gated haproxy change (safespring.netsec.gated_config run for real inside edge-lb1) on the
role's rendered VRRP pair in the private edge- namespaces: the change goes to the LB that holds
the VIP, so every probe request meets the haproxy being changed. A config that validates but breaks serving (the app backend on a
port nothing listens on) is rolled back; the probe counts the failed client requests."""
import types

import pytest

from fixtures.haproxy import APP_HOST, NODEPORT_APP, finish_probe, start_probe, wait_for
from fixtures.ops_edge import run_module

pytestmark = pytest.mark.lab

RATE = 20.0


@pytest.fixture(scope="module")
def pair(edge_pair_factory):
    pair = edge_pair_factory("vrrp")
    # Whichever LB's keepalived reaches MASTER first keeps the VIP (nopreempt): change that one.
    wait_for(lambda: len(pair.holders()) == 1, timeout=20, what="one LB holds the VIP")
    pair.holder = pair.nodes[pair.holders()[0]]
    return pair


def _args(pair, pki, content):
    node = pair.holder
    vip = pair.service[0]
    return {"daemon": "haproxy", "dest": str(node.path("lab_haproxy_config")), "content": content, "reload": "native",
            "master_socket": node.vars["haproxy_master_socket"], "timeout": 10,
            "checks": [{"type": "http", "url": "http://127.0.0.1:8405/healthz"},
                       {"type": "http", "url": f"https://{vip}:443/healthz", "host": APP_HOST, "cafile": pki["paths"]["ca"]}]}


def test_a_change_that_validates_but_breaks_serving_is_rolled_back(pair, haproxy_pki, tmp_path):
    cfg = pair.holder.path("lab_haproxy_config")
    good = cfg.read_text()
    # Valid for haproxy -c, but the app backend points at a port nothing listens on.
    broken = good.replace(f":{NODEPORT_APP} check", ":30999 check")
    assert broken != good
    probe = start_probe(pair.lab, "edge-client1", types.SimpleNamespace(address=pair.service[0], pki=haproxy_pki),
                        count=int(RATE * 6), rate=RATE)
    rc, result = run_module(pair.lab, tmp_path, pair.holder.netns, "safespring.netsec.gated_config", _args(pair, haproxy_pki, broken))
    probed = finish_probe(probe)
    failed = len([c for c in probed.codes if c != 200])
    print("haproxy gated rollback:", {k: result.get(k) for k in ("msg", "detect_seconds", "rollback_seconds", "reload_seconds")},
          "failed requests:", failed, "of", len(probed.codes))
    assert rc == 1 and result["rolled_back"] and result["restored_healthy"], result
    assert result["msg"].startswith("haproxy change of %s rolled back: GET https://" % cfg), result["msg"]
    # What the check saw: 503, or a read timeout while haproxy retries the refused backend.
    assert result["saw"] in ("status 503", "TimeoutError: The read operation timed out"), result
    assert result["detect_seconds"] + result["rollback_seconds"] < 5, result
    assert cfg.read_text() == good
    assert not cfg.with_name(cfg.name + ".netsec-previous").exists()
    assert not cfg.with_name(cfg.name + ".netsec-candidate").exists()
    # Only the requests that met the bad config fail (RATE/s over detect + rollback time).
    assert failed <= RATE * (result["detect_seconds"] + result["rollback_seconds"]) + 2, (failed, result)
    after = start_probe(pair.lab, "edge-client2", types.SimpleNamespace(address=pair.service[0], pki=haproxy_pki), count=10, rate=10)
    assert finish_probe(after).codes == [200] * 10


def test_a_good_change_is_kept_with_no_failed_request_and_a_rerun_changes_nothing(pair, haproxy_pki, tmp_path):
    cfg = pair.holder.path("lab_haproxy_config")
    good = cfg.read_text()
    changed = good + "\n# gated change test\n"
    probe = start_probe(pair.lab, "edge-client1", types.SimpleNamespace(address=pair.service[0], pki=haproxy_pki),
                        count=int(RATE * 4), rate=RATE)
    rc, result = run_module(pair.lab, tmp_path, pair.holder.netns, "safespring.netsec.gated_config", _args(pair, haproxy_pki, changed))
    probed = finish_probe(probe)
    assert rc == 0 and result["changed"] and not result["rolled_back"] and result["change"] == "update", result
    assert [b["ok"] for b in result["baseline"]] == [True, True]
    assert cfg.read_text() == changed
    assert [c for c in probed.codes if c != 200] == []
    rc, result = run_module(pair.lab, tmp_path, pair.holder.netns, "safespring.netsec.gated_config", _args(pair, haproxy_pki, changed))
    assert rc == 0 and not result["changed"] and result["change"] == "none", result
    rc, result = run_module(pair.lab, tmp_path, pair.holder.netns, "safespring.netsec.gated_config", _args(pair, haproxy_pki, good))
    assert rc == 0 and result["changed"], result


def test_a_candidate_haproxy_refuses_leaves_the_live_config_and_reloads_nothing(pair, haproxy_pki, tmp_path):
    node = pair.holder
    cfg = node.path("lab_haproxy_config")
    good = cfg.read_text()
    from fixtures.haproxy import runtime
    before = runtime(node.vars["haproxy_master_socket"], "show proc; quit")
    workers = [line.split()[0] for line in before.splitlines() if " worker " in line]
    bad = good + "\nfrontend broken\n    bind :1 ssl crt /nonexistent.pem\n"
    rc, result = run_module(pair.lab, tmp_path, pair.holder.netns, "safespring.netsec.gated_config", _args(pair, haproxy_pki, bad))
    assert rc == 1 and not result["changed"] and result["msg"].startswith("validation of the new haproxy config refused"), result
    assert "nonexistent.pem" in result["msg"]
    assert cfg.read_text() == good
    after = runtime(node.vars["haproxy_master_socket"], "show proc; quit")
    assert [line.split()[0] for line in after.splitlines() if " worker " in line] == workers
