"""Synthetic clusters for the netpol benchmarks: N namespaces x W workloads x P policies."""
import random


def generate(n_ns, n_wl, n_pol, seed=7):
    """Namespaces, pods and policies shaped like a segmented cluster (deterministic)."""
    rnd = random.Random(seed)
    namespaces = [{"name": "kube-system", "labels": {}}]
    pods = [{"namespace": "kube-system", "name": "coredns", "labels": {"k8s-app": "kube-dns"},
             "ports": [{"port": 53, "protocol": "UDP", "name": "dns"}, {"port": 53, "protocol": "TCP", "name": "dns-tcp"}]}]
    policies = []
    teams = ["red", "green", "blue", "gold"]
    for i in range(n_ns):
        ns = "ns-%03d" % i
        namespaces.append({"name": ns, "labels": {"team": teams[i % len(teams)], "tier": "app"}})
        for w in range(n_wl):
            pods.append({
                "namespace": ns, "name": "w%02d" % w,
                "labels": {"app": "w%02d" % w, "tier": ["web", "api", "db"][w % 3]},
                "ips": ["10.%d.%d.%d" % (100 + i // 250, i % 250, w + 1)],
                "ports": [{"port": 8080, "protocol": "TCP", "name": "http"},
                          {"port": 9090 + w % 2, "protocol": "TCP", "name": "metrics"}],
            })
        pol = []
        pol.append({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        pol.append({"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]})
        k = rnd.randrange(1, n_wl)
        pol.append({"podSelector": {"matchLabels": {"app": "w%02d" % k}}, "policyTypes": ["Ingress"], "ingress": [{
            "from": [{"podSelector": {"matchLabels": {"app": "w%02d" % (k - 1)}}}],
            "ports": [{"port": "http"}]}]})
        pol.append({"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]},
                    "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
                        {"key": "team", "operator": "In", "values": [teams[(i + 1) % len(teams)]]}]}}],
                        "ports": [{"protocol": "TCP", "port": 8080}]}]})
        j = rnd.randrange(n_wl)
        pol.append({"podSelector": {"matchLabels": {"tier": "api"}}, "policyTypes": ["Egress"], "egress": [
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ns-%03d" % ((i + 1) % n_ns)}},
                     "podSelector": {"matchLabels": {"app": "w%02d" % j}}}], "ports": [{"port": 8080}]},
            {"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}],
             "ports": [{"protocol": "TCP", "port": 9090, "endPort": 9091}]}]})
        for n, spec in enumerate(pol[:n_pol]):
            policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"namespace": ns, "name": "p%d" % n}, "spec": spec})
        for n in range(len(pol), n_pol):
            w = rnd.randrange(n_wl)
            policies.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"namespace": ns, "name": "p%d" % n},
                             "spec": {"podSelector": {"matchLabels": {"app": "w%02d" % w}}, "ingress": [{
                                 "from": [{"podSelector": {"matchLabels": {"tier": "web"}}}], "ports": [{"port": "metrics"}]}]}})
    return namespaces, pods, policies
