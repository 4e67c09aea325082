"""SSA delivery of N NetworkPolicies against a real kube-apiserver 1.36 + etcd (a named instance of
the lab component `kube`): our module vs kubernetes.core.k8s, in one run.

    source scripts/env.sh && LAB_DIR=/work/main/.lab python bench/kube_delivery.py [--count 2000] [--rounds 3]

Per round: a fresh instance (tests/lab/kube.sh up, timed: apiserver start-to-ready, etcd
included), then through ansible-playbook
  - `ours`: safespring.netsec.kubernetes_owned_set (plan on the live set, SSA, prune) with N
    NetworkPolicies into namespace bench-ours;
  - `kubernetes.core.k8s` (baseline): the same N objects as one `definition` list, apply with
    server_side_apply into namespace bench-core;
then both again (the no-change re-apply). Requests are the apiserver's own count
(apiserver_request_total from /metrics, before/after). Medians over rounds, ratio ours/baseline.
"""
import argparse
import pathlib
import re
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fixtures.cilium import run_playbook  # noqa: E402
from fixtures.kube import kube_instance  # noqa: E402


def policies(namespace, count):
    return [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "np-%05d" % i, "namespace": namespace},
             "spec": {"podSelector": {"matchLabels": {"app": "a%d" % i}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "b%d" % i}}}],
                                   "ports": [{"port": 8000 + i % 1000, "protocol": "TCP"}]}]}} for i in range(count)]


def requests_total(kube):
    text = kube.request("GET", "/metrics", identity=kube.admin).text
    return sum(float(m.group(1)) for m in re.finditer(r"^apiserver_request_total\{[^}]*\} (\S+)$", text, re.M))


def timed_play(kube, tmp, task):
    book = [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]
    before = requests_total(kube)
    start = time.monotonic()
    rc, dummy_results, dummy_stats, proc = run_playbook(tmp, book, None, TMPDIR=str(tmp))
    elapsed = time.monotonic() - start
    assert rc == 0, proc.stdout[-3000:]
    return elapsed, requests_total(kube) - before - 1  # the /metrics GET itself


def one_round(count, index):
    start = time.monotonic()
    with kube_instance("bench-delivery-%d" % index) as kube:
        ready = time.monotonic() - start
        for ns in ("bench-ours", "bench-core"):
            kube.admin_request("POST", "/api/v1/namespaces", json={"metadata": {"name": ns}})
        ours = {"name": "ours", "safespring.netsec.kubernetes_owned_set": {
            "kubeconfig": kube.kubeconfig, "owned_set": "bench", "objects": policies("bench-ours", count)}}
        core = {"name": "core", "kubernetes.core.k8s": {
            "kubeconfig": kube.kubeconfig, "state": "present", "apply": True, "server_side_apply": {"field_manager": "bench"},
            "definition": policies("bench-core", count)}}
        out = {"ready": ready}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            out["ours"] = timed_play(kube, tmp, ours)
            out["core"] = timed_play(kube, tmp, core)
            out["ours_again"] = timed_play(kube, tmp, ours)
            out["core_again"] = timed_play(kube, tmp, core)
        return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.count, i) for i in range(args.rounds)]

    def med(key, part):
        return statistics.median(r[key][part] for r in rounds)

    print("kube-apiserver 1.36 + etcd start-to-ready: median %.2f s (rounds %s)"
          % (statistics.median(r["ready"] for r in rounds), ", ".join("%.2f" % r["ready"] for r in rounds)))
    print("%-28s %12s %12s %12s %12s" % ("SSA of %d NetworkPolicies" % args.count, "ours s", "k8s s", "ours req", "k8s req"))
    for label, a, b in (("first apply", "ours", "core"), ("re-apply (no change)", "ours_again", "core_again")):
        print("%-28s %12.2f %12.2f %12d %12d   time ratio ours/k8s %.2f, requests %.4f"
              % (label, med(a, 0), med(b, 0), med(a, 1), med(b, 1), med(a, 0) / med(b, 0), med(a, 1) / max(med(b, 1), 1)))


if __name__ == "__main__":
    main()
