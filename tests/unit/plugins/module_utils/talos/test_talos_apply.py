# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying configs through the talosctl contract double: plan, commit, try, guard, rollback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest
import yaml

from ansible_collections.safespring.netsec.plugins.module_utils.talos import apply as A
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import Talosctl
from fixtures.talos import process_run

CP, WORKER, JUMP = "198.18.1.21", "198.18.1.22", "198.18.2.5"
SPEC = {"name": "c1"}
ADDRESSES = {"control_plane": [CP], "worker": [WORKER], "loadbalancer": ["198.18.1.11"], "jump_host": [JUMP]}


@pytest.fixture
def cluster(talosctl_double):
    talosctl_double.write_talosconfig([CP])
    talosctl_double.add_node(CP, "controlplane")
    talosctl_double.add_node(WORKER, "worker")
    return talosctl_double


def config(double, node, spec=None, role="control_plane", drop_sources=()):
    spec = spec or SPEC
    docs = [d for d in yaml.safe_load_all(double.config(node)) if d]
    firewall, _skipped = F.render(spec, role, ADDRESSES)
    for doc in firewall:
        if doc.get("name") == "talos-apid":
            doc["ingress"] = [i for i in doc["ingress"] if i["subnet"] not in drop_sources]
    return D.dump(F.replace_firewall(docs, firewall))


def write(tmp_path, text, name="node.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def applier():
    return A.Applier(Talosctl(talosconfig=None, run=process_run), run_command=process_run)


def test_unchanged_config_is_not_applied(cluster, tmp_path):
    path = write(tmp_path, cluster.config(CP))
    result = applier().run(CP, path, mode="auto")
    assert not result["changed"] and not result["committed"]
    assert [e for e in cluster.events() if "apply" in e] == []


def test_check_mode_plans_from_the_nodes_dry_run_and_changes_nothing(cluster, tmp_path):
    before = cluster.config(CP)
    path = write(tmp_path, config(cluster, CP))
    result = applier().run(CP, path, mode="auto", check_mode=True)
    assert result["changed"] and "+kind: NetworkRuleConfig" in result["diff"]
    assert result["mode_details"] == "Applied configuration without a reboot" and not result["reboot_required"]
    assert cluster.config(CP) == before


def test_auto_apply_commits_and_second_run_is_unchanged(cluster, tmp_path):
    path = write(tmp_path, config(cluster, WORKER, role="worker"))
    first = applier().run(WORKER, path, mode="auto")
    assert first["changed"] and first["committed"]
    assert F.default_action(cluster.config_docs(WORKER)) == "block"
    assert not applier().run(WORKER, path, mode="auto")["changed"]


def test_change_needing_a_reboot_is_reported(cluster, tmp_path):
    docs = cluster.config_docs(CP)
    docs[0]["machine"]["install"] = {"disk": "/dev/vda"}
    path = write(tmp_path, D.dump(docs))
    result = applier().run(CP, path, mode="auto")
    assert result["reboot_required"] and result["mode_details"] == "Applied configuration with a reboot"
    assert cluster.meta(CP)["reboots"] == 1


def test_staged_apply_leaves_the_running_config_and_needs_a_reboot(cluster, tmp_path):
    before = cluster.config(CP)
    result = applier().run(CP, write(tmp_path, config(cluster, CP)), mode="staged")
    assert result["reboot_required"] and cluster.config(CP) == before


def test_try_with_guard_passing_commits_and_survives_the_timeout(cluster, tmp_path):
    path = write(tmp_path, config(cluster, CP))
    # The timeout leaves room for a loaded CI machine: the guard must pass before it.
    result = applier().run(CP, path, mode="try", try_timeout="5s", guard_retries=2, guard_delay=1)
    assert result["committed"] and not result["rolled_back"]
    assert result["guard"] == [{"check": "apid from the controller", "ok": True, "detail": "ok"}]
    time.sleep(5.2)
    assert F.default_action(cluster.config_docs(CP)) == "block", "the commit cancelled the rollback"
    assert not any("try-rollback" in e for e in cluster.events())


def test_try_that_locks_out_the_controller_is_not_committed_and_rolls_back(cluster, tmp_path):
    before = cluster.config(CP)
    path = write(tmp_path, config(cluster, CP, drop_sources=(JUMP + "/32",)))
    started = time.time()
    with pytest.raises(A.GuardFailed) as err:
        applier().run(CP, path, mode="try", try_timeout="2s", guard_retries=2, guard_delay=1, rollback_grace=1)
    message = str(err.value)
    assert "guard failed after the try apply (apid from the controller: error getting version: rpc error: code = Unavailable" in message
    assert "not committed; Talos rolled the node back to its previous config after 2s" in message
    assert err.value.extra["rolled_back"] is True and err.value.extra["committed"] is False
    assert cluster.config(CP) == before
    assert any("try-rollback" in e for e in cluster.events())
    # Generous: the machine may be loaded; the point is that it does not wait for a long default timeout.
    assert time.time() - started < 30


def test_guard_command_from_the_jump_host_blocks_the_commit(cluster, tmp_path, monkeypatch):
    # The controller (a CI runner at 203.0.113.7) is admitted; the jump host is not.
    spec = dict(SPEC, jump_host={"enabled": True})
    text = config(cluster, CP, spec=spec, drop_sources=(JUMP + "/32",))
    docs = D.load(text)
    D.find(docs, "NetworkRuleConfig", "talos-apid")["ingress"].append({"subnet": "203.0.113.7/32"})
    path = write(tmp_path, D.dump(docs))
    monkeypatch.setenv("TALOSCTL_DOUBLE_SOURCE", "203.0.113.7")
    probe = ["env", "TALOSCTL_DOUBLE_SOURCE=" + JUMP, "talosctl", "version", "--nodes", CP]
    with pytest.raises(A.GuardFailed) as err:
        applier().run(CP, path, mode="try", try_timeout="2s", guard_commands=[probe], guard_retries=1, rollback_grace=1)
    checks = dict((g["check"], g["ok"]) for g in err.value.extra["guard"])
    assert checks == {"apid from the controller": True, " ".join(probe): False}
    assert err.value.extra["rolled_back"] is True
    assert F.default_action(cluster.config_docs(CP)) == "accept"


def test_invalid_config_is_refused_by_the_node(cluster, tmp_path):
    docs = cluster.config_docs(CP) + [{"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "x",
                                       "portSelector": {"protocol": "icmp"}, "ingress": [{"subnet": "10.0.0.0/8"}]}]
    with pytest.raises(Exception, match="portSelector.ports is required"):
        applier().run(CP, write(tmp_path, D.dump(docs)), mode="no-reboot")
