"""Health-gated haproxy change on the role's edge (real haproxy in ssn-lb1): a config that
validates but breaks serving is rolled back by roles/haproxy/files/haproxy_gated_change.py,
and the failed client requests during it are counted by the lab probe."""
import json
import sys

import pytest

from fixtures.haproxy import APP_HOST, NODEPORT_APP, REPO, finish_probe, start_probe

pytestmark = pytest.mark.lab

HELPER = REPO / "roles" / "haproxy" / "files" / "haproxy_gated_change.py"
EDGE_OVERRIDES = {"haproxy_limit_exempt_cidrs": ["198.18.2.11/32", "198.18.1.11/32"]}


def _gated(edge, text, name):
    candidate = edge.root / f"{name}.cfg"
    candidate.write_text(text)
    spec = edge.root / f"{name}.json"
    spec.write_text(json.dumps({
        "config": str(edge.cfg), "candidate": str(candidate), "master_socket": str(edge.master_sock),
        "runtime_socket": str(edge.sock), "backends": ["route_app"], "timeout": 10,
        "checks": [{"url": f"https://{edge.address}:443/", "host": APP_HOST, "cafile": edge.pki["paths"]["ca"],
                    "expect": [200]}]}))
    proc = edge.lab.run("ssn-lb1", sys.executable, str(HELPER), str(spec), check=False, timeout=60)
    return proc.returncode, json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_change_that_validates_but_breaks_serving_is_rolled_back(haproxy_edge):
    good = haproxy_edge.cfg.read_text()
    # Valid for haproxy -c, but the app backend points at a port nothing listens on.
    broken = good.replace(f":{NODEPORT_APP} check", ":30999 check")
    assert broken != good
    probe = start_probe(haproxy_edge.lab, "ssn-client1", haproxy_edge, count=120, rate=20.0)
    rc, result = _gated(haproxy_edge, broken, "broken")
    probed = finish_probe(probe)
    print("gated rollback:", result, "probe failures:", len([c for c in probed.codes if c != 200]), probed)
    assert rc == 1, result
    assert result["rolled_back"] and result["restored_healthy"], result
    # What the check saw: 503, or a read timeout while haproxy retries the refused backend.
    assert "GET https://" in result["failed_check"] and result["saw"] in ("status 503", "TimeoutError: The read operation timed out"), result
    assert result["detect_seconds"] + result["rollback_seconds"] < 5, result
    assert haproxy_edge.cfg.read_text() == good
    assert not (haproxy_edge.cfg.parent / "haproxy.cfg.netsec-previous").exists()
    assert haproxy_edge.curl("ssn-client2", "/")[0] == 200
    # Only the requests that met the bad config fail (20/s over detect + rollback time).
    failed = len([c for c in probed.codes if c != 200])
    assert failed <= 20 * (result["detect_seconds"] + result["rollback_seconds"]) + 2, (failed, result)


def test_a_good_change_is_kept_and_a_rerun_changes_nothing(haproxy_edge):
    good = haproxy_edge.cfg.read_text()
    changed = good + "\n# gated change test\n"
    rc, result = _gated(haproxy_edge, changed, "good")
    assert rc == 0 and result["changed"] and not result["rolled_back"], result
    assert haproxy_edge.cfg.read_text() == changed
    rc, result = _gated(haproxy_edge, changed, "good")
    assert rc == 0 and not result["changed"], result
    rc, result = _gated(haproxy_edge, good, "restore")
    assert rc == 0 and result["changed"], result


def test_a_candidate_haproxy_refuses_leaves_the_live_config(haproxy_edge):
    good = haproxy_edge.cfg.read_text()
    rc, result = _gated(haproxy_edge, good + "\nfrontend broken\n    bind :1 ssl crt /nonexistent.pem\n", "invalid")
    assert rc == 1 and not result["changed"] and result["failed"].startswith("validation"), result
    assert haproxy_edge.cfg.read_text() == good
