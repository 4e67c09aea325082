"""The lab's Kubernetes control plane and SSA delivery of N NetworkPolicies against it: our module vs
kubernetes.core.k8s, side by side in one run.

    source scripts/env.sh && LAB_DIR=/work/main/.lab nice python bench/kube_delivery.py [--count 2000] [--rounds 3]

Printed, in one run:
  - build of kube-apiserver + etcd from their Go modules (tests/lab/kube/build.sh): cold, from the
    build script's own log ($BUILD_DIR/go-bin/build-times.tsv, the last build of each binary at its
    current cache key; "not measured" when the binary was built by a script that kept no log) - the
    bench never runs a cold build, it would rebuild binaries others share; warm (a cache hit: the
    content key is hashed and the binary found), timed here, median of --rounds;
  - apiserver start-to-ready: etcd start to the apiserver's /readyz ok, as tests/lab/kube.sh measures
    it (a fresh named instance per round, so each round starts from an empty etcd);
  - through ansible-playbook, per round, into their own namespaces of that instance:
    `ours`: safespring.netsec.kubernetes_owned_set (plan on the live set, SSA, prune) with N policies;
    `kubernetes.core.k8s` (baseline): the same N objects as one `definition` list, apply with
    server_side_apply; then both again (the no-change re-apply).
Requests are the apiserver's own record: events of its audit log (LAB_KUBE_AUDIT) between two markers,
the fixtures' own requests left out. Medians over rounds, ratios ours/baseline.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fixtures.cilium import run_playbook  # noqa: E402
from fixtures.kube import kube_instance  # noqa: E402

BUILD_SH = REPO / "tests" / "lab" / "kube" / "build.sh"
BINARIES = ("etcd", "kube-apiserver")


def policies(namespace, count):
    return [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "np-%05d" % i, "namespace": namespace},
             "spec": {"podSelector": {"matchLabels": {"app": "a%d" % i}}, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "b%d" % i}}}],
                                   "ports": [{"port": 8000 + i % 1000, "protocol": "TCP"}]}]}} for i in range(count)]


def warm_build():
    """Seconds for build.sh to find both binaries built (the content key hashed, nothing compiled); their paths."""
    start = time.monotonic()
    paths = [subprocess.run([str(BUILD_SH), name], capture_output=True, text=True, check=True).stdout.strip() for name in BINARIES]
    return time.monotonic() - start, paths


def cold_build(paths):
    """{binary: seconds} from build-times.tsv for the keys in use, or None for a binary built without that log."""
    log = pathlib.Path(os.environ.get("BUILD_DIR", REPO / ".build")) / "go-bin" / "build-times.tsv"
    lines = log.read_text().splitlines() if log.exists() else []
    out = {}
    for name, path in zip(BINARIES, paths):
        key = pathlib.Path(path).parent.name[len(name) + 1:]
        found = [line.split("\t") for line in lines if line.split("\t")[1:3] == [name, key]]
        out[name] = (int(found[-1][3]), found[-1][0], found[-1][4]) if found else None
    return out


def timed_play(kube, tmp, task):
    book = [{"hosts": "localhost", "gather_facts": False, "tasks": [task]}]
    mark = kube.audit.mark()
    start = time.monotonic()
    rc, dummy_results, dummy_stats, proc = run_playbook(tmp, book, None, TMPDIR=str(tmp))
    elapsed = time.monotonic() - start
    assert rc == 0, proc.stdout[-3000:]
    return elapsed, len(kube.audit.requests(mark))


def one_round(count, index):
    with kube_instance("bench-delivery-%d-%d" % (os.getpid(), index), audit=True) as kube:
        for ns in ("bench-ours", "bench-core"):
            kube.admin_request("POST", "/api/v1/namespaces", json={"metadata": {"name": ns}})
        ours = {"name": "ours", "safespring.netsec.kubernetes_owned_set": {
            "kubeconfig": kube.kubeconfig, "owned_set": "bench", "objects": policies("bench-ours", count)}}
        core = {"name": "core", "kubernetes.core.k8s": {
            "kubeconfig": kube.kubeconfig, "state": "present", "apply": True, "server_side_apply": {"field_manager": "bench"},
            "definition": policies("bench-core", count)}}
        out = {"ready": kube.info["start_to_ready_s"]}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            out["ours"] = timed_play(kube, tmp, ours)
            out["core"] = timed_play(kube, tmp, core)
            out["ours_again"] = timed_play(kube, tmp, ours)
            out["core_again"] = timed_play(kube, tmp, core)
        stored = [len(kube.list("networking.k8s.io/v1", "NetworkPolicy", namespace=ns)) for ns in ("bench-ours", "bench-core")]
        assert stored == [count, count], "both delivered every policy: %s" % stored
        return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warm = [warm_build() for dummy in range(args.rounds)]
    cold = cold_build(warm[0][1])
    print("control plane build (kube-apiserver + etcd from Go modules, tests/lab/kube/build.sh):")
    for name in BINARIES:
        print("  cold %-15s %s" % (name, "%d s (build-times.tsv, %s, %s)" % cold[name] if cold[name] else
                                   "not measured (built without the build-times.tsv log)"))
    print("  warm (cache hit, both): median %.2f s (rounds %s)" % (statistics.median(w[0] for w in warm), ", ".join("%.2f" % w[0] for w in warm)),
          flush=True)
    rounds = []
    for i in range(args.rounds):
        rounds.append(one_round(args.count, i))
        r = rounds[-1]  # each round as it ends: a long run cut short still reports what it measured
        print("round %d: start-to-ready %.2f s; first apply ours %.2f s / %d req, k8s %.2f s / %d req; re-apply ours %.2f s / %d req, k8s %.2f s / %d req"
              % (i, r["ready"], r["ours"][0], r["ours"][1], r["core"][0], r["core"][1], r["ours_again"][0], r["ours_again"][1],
                 r["core_again"][0], r["core_again"][1]), flush=True)

    def med(key, part):
        return statistics.median(r[key][part] for r in rounds)

    print("kube-apiserver 1.36 + etcd start-to-ready: median %.2f s (rounds %s)"
          % (statistics.median(r["ready"] for r in rounds), ", ".join("%.2f" % r["ready"] for r in rounds)))
    print("%-28s %12s %12s %12s %12s" % ("SSA of %d NetworkPolicies" % args.count, "ours s", "k8s s", "ours req", "k8s req"))
    for label, a, b in (("first apply", "ours", "core"), ("re-apply (no change)", "ours_again", "core_again")):
        print("%-28s %12.2f %12.2f %12d %12d   time ratio ours/k8s %.2f, requests %.4f"
              % (label, med(a, 0), med(b, 0), med(a, 1), med(b, 1), med(a, 0) / med(b, 0), med(a, 1) / max(med(b, 1), 1)))
    print("requests: the apiserver's audit log; medians over %d rounds; ansible-playbook start-up included in the times" % args.rounds)


if __name__ == "__main__":
    main()
