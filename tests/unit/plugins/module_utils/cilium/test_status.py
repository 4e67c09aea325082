# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Status evaluation: encryption is proven from what the agents publish, not assumed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils.cilium import status

NODES = ["cp1", "w1", "w2"]


def daemonset(desired=3, ready=3, updated=3, generation=4, observed=4):
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "cilium", "namespace": "kube-system", "generation": generation, "resourceVersion": "991"},
            "status": {"currentNumberScheduled": desired, "desiredNumberScheduled": desired, "numberAvailable": ready,
                       "numberMisscheduled": 0, "numberReady": ready, "observedGeneration": observed,
                       "updatedNumberScheduled": updated}}


def pod(node, ready=True, restarts=0):
    return {"metadata": {"name": "cilium-" + node, "namespace": "kube-system", "labels": {"k8s-app": "cilium"}},
            "spec": {"nodeName": node},
            "status": {"phase": "Running",
                       "containerStatuses": [{"name": "cilium-agent", "ready": ready, "restartCount": restarts}]}}


def config(**data):
    base = {"enable-wireguard": "true", "encrypt-node": "true", "enable-policy": "default", "policy-audit-mode": "false",
            "enable-host-firewall": "true", "kube-proxy-replacement": "true", "enable-hubble": "true",
            "hubble-disable-tls": "false"}
    base.update(data)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cilium-config"}, "data": base}


def cilium_node(name, wg_key=True, ipsec_key=None):
    node = {"apiVersion": "cilium.io/v2", "kind": "CiliumNode", "metadata": {"name": name, "annotations": {}}, "spec": {}}
    if wg_key:
        node["metadata"]["annotations"][status.WG_PUBKEY_ANNOTATION] = "n0M8C0Xn2x0Tk4mVqKkBfGmIZ1t+q8xQ1sV1cC3Zb2c="
    if ipsec_key:
        node["spec"]["encryption"] = {"key": ipsec_key}
    return node


WG_STATUS = "Encryption: Wireguard\nInterface: cilium_wg0\n\tPublic key: abc=\n\tNumber of peers: 2\n"


def evaluate(ds=None, pods=None, cfg=None, nodes=None, encrypt=None):
    return status.evaluate(ds or daemonset(), [pod(n) for n in NODES] if pods is None else pods, cfg or config(),
                           [cilium_node(n) for n in NODES] if nodes is None else nodes, encrypt)


def test_all_agents_ready_and_every_node_keyed_proves_wireguard():
    report = evaluate()
    assert report["agents"]["all_ready"]
    assert report["encryption"]["proven"] and report["encryption"]["mode"] == "wireguard"
    assert report["encryption"]["node_encryption"]
    assert report["encryption"]["evidence_level"] == "control-plane"


def test_agents_datapath_status_upgrades_the_evidence():
    report = evaluate(encrypt=dict(("cilium-" + n, WG_STATUS) for n in NODES))
    assert report["encryption"]["proven"] and report["encryption"]["evidence_level"] == "datapath"


def test_an_agent_missing_peers_breaks_the_proof():
    text = WG_STATUS.replace("peers: 2", "peers: 1")
    report = evaluate(encrypt={"cilium-cp1": WG_STATUS, "cilium-w1": text})
    assert not report["encryption"]["proven"]
    assert "cilium-w1 has 1 WireGuard peers, expected 2" in report["encryption"]["problems"]


def test_a_node_without_a_published_key_breaks_the_proof():
    report = evaluate(nodes=[cilium_node("cp1"), cilium_node("w1"), cilium_node("w2", wg_key=False)])
    assert not report["encryption"]["proven"]
    assert report["encryption"]["problems"] == ["nodes without a published wireguard key: w2"]


def test_config_without_encryption_is_never_proven():
    report = evaluate(cfg=config(**{"enable-wireguard": "false"}))
    assert report["encryption"]["mode"] == "none" and not report["encryption"]["proven"]


def test_ipsec_proof_uses_the_key_index_on_cilium_nodes():
    cfg = config(**{"enable-wireguard": "false", "enable-ipsec": "true"})
    report = evaluate(cfg=cfg, nodes=[cilium_node(n, wg_key=False, ipsec_key=3) for n in NODES])
    assert report["encryption"]["proven"] and report["encryption"]["mode"] == "ipsec"
    assert not report["encryption"]["node_encryption"]


def test_rollout_in_progress_is_not_all_ready():
    assert not evaluate(ds=daemonset(updated=2))["agents"]["all_ready"]
    assert not evaluate(ds=daemonset(generation=5, observed=4))["agents"]["all_ready"]
    report = evaluate(ds=daemonset(ready=2), pods=[pod("cp1"), pod("w1"), pod("w2", ready=False, restarts=7)])
    assert not report["agents"]["all_ready"] and report["agents"]["not_ready"] == ["cilium-w2"]
    assert not report["encryption"]["proven"]


def test_missing_daemonset_is_not_ready():
    report = status.evaluate(None, [], None, [], None)
    assert not report["agents"]["found"] and not report["agents"]["all_ready"] and not report["config_found"]


def test_host_firewall_in_audit_mode_is_not_enforcing():
    report = evaluate(cfg=config(**{"policy-audit-mode": "true"}))
    assert report["host_firewall"] == {"enabled": True, "enforcing": False}
    assert report["enforcement"] == {"mode": "default", "audit_mode": True}


def test_parse_encrypt_status_for_ipsec():
    text = "Encryption: IPsec\nDecryption interface(s): eth0\nKeys in use: 1\nMax Seq. Number: 0x1f/0xffffffff\nErrors: 0\n"
    assert status.parse_encrypt_status(text) == {"mode": "ipsec", "peers": None, "errors": 0, "interface": None}
