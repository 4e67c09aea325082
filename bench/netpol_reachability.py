"""Reachability engine benchmark: 200 namespaces x 20 workloads x 5 policies must analyse in
under 5 s on this 2-core machine. Prints medians of a few runs, how time grows with pods and
with policies, and network-config-analyzer 2.1.0 (the baseline, its own venv) on the small
sizes side by side.

    source scripts/env.sh; python bench/netpol_reachability.py [--runs 3] [--nca-sizes 5,10]
"""
import argparse
import pathlib
import statistics
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".build" / "collections"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench"))

from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine  # noqa: E402
from _netpol_gen import generate  # noqa: E402


def measure(n_ns, n_wl, n_pol, runs, permissive=False):
    """Median CPU seconds of Universe + analyze, and the number of allowed flows."""
    namespaces, pods, policies = generate(n_ns, n_wl, n_pol)
    if permissive:  # every 4th namespace without default deny and with allow-all egress: big masks everywhere
        policies = [p for p in policies if not (int(p["metadata"]["namespace"][3:]) % 4 == 0 and p["metadata"]["name"] == "p0")]
        policies += [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": ns["name"], "name": "all-out"},
                      "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}} for ns in namespaces[1::4]]
    times, flows = [], 0
    for dummy in range(runs):
        start = time.process_time()
        uni = engine.Universe(namespaces, pods, policies)
        result = engine.analyze(uni, policies)
        times.append(time.process_time() - start)
        flows = result.count()
    return statistics.median(times), len(pods), len(policies), flows


def nca_time(n_ns, n_wl, n_pol):
    from fixtures.netpol import ensure_nca, nca_connectivity
    nca = ensure_nca()
    namespaces, pods, policies = generate(n_ns, n_wl, n_pol)
    namespaces = [dict(ns, labels=dict(ns["labels"])) for ns in namespaces]
    with tempfile.TemporaryDirectory() as work:
        start = time.time()
        nca_connectivity(nca, work, namespaces, pods, policies, output="txt_no_fw_rules")
        return time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nca-sizes", default="5,10", help="namespace counts for the NCA baseline ('' to skip)")
    args = parser.parse_args()

    target, pods, pols, flows = measure(200, 20, 5, args.runs)
    print("target: 200 namespaces x 20 workloads x 5 policies = %d pods, %d policies: %.3f s CPU (median of %d), %d flows  [%s: < 5 s]"
          % (pods, pols, target, args.runs, flows, "PASS" if target < 5 else "FAIL"))
    target_p, pods_p, pols_p, flows_p = measure(200, 20, 5, args.runs, permissive=True)
    print("same, permissive mix (1/4 namespaces open, allow-all egress): %d policies, %.3f s, %d flows" % (pols_p, target_p, flows_p))

    print("\ngrowth with pods (20 workloads/namespace, 5 policies/namespace)")
    print("| namespaces | pods | policies | engine s | s per 1k pods |")
    print("|---:|---:|---:|---:|---:|")
    for n_ns in (25, 50, 100, 200, 400):
        secs, pods, pols, dummy_flows = measure(n_ns, 20, 5, args.runs)
        print("| %d | %d | %d | %.3f | %.3f |" % (n_ns, pods, pols, secs, secs / pods * 1000))

    print("\ngrowth with policies (200 namespaces x 20 workloads)")
    print("| policies/namespace | policies | engine s |")
    print("|---:|---:|---:|")
    for n_pol in (5, 10, 20, 40):
        secs, dummy_pods, pols, dummy_flows = measure(200, 20, n_pol, args.runs)
        print("| %d | %d | %.3f |" % (n_pol, pols, secs))

    sizes = [int(s) for s in args.nca_sizes.split(",") if s.strip()]
    if sizes:
        print("\nbaseline: network-config-analyzer 2.1.0 (own venv, CLI, wall s incl. start-up ~0.5 s) vs this engine (CPU s)")
        print("| namespaces | pods | policies | NCA s | engine s | speed-up |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n_ns in sizes:
            nca = nca_time(n_ns, 20, 5)
            secs, pods, pols, dummy_flows = measure(n_ns, 20, 5, args.runs)
            print("| %d | %d | %d | %.2f | %.4f | %.0fx |" % (n_ns, pods, pols, nca, secs, nca / max(secs, 1e-6)))


if __name__ == "__main__":
    main()
