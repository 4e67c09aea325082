"""What the collection produces for Cilium, judged by Cilium's own code and the real apiserver.

Part 2 of issue 15: the real Cilium chart of the pinned release (tests/lab/kube/cilium-chart.sh) is
rendered by `helm template` (helm v4.2.3 from tests/lab/kube/helm.sh) with exactly the values
cilium_install produces: for each environment through the stage playbook (cilium_install runs helm
itself), for each profile through the module's own plan(). The assertions read the rendered
objects (cilium-config keys, pod templates, certificate objects), never our values. Every value
path we set must be one the chart declares or reads. The rendered manifests are server-side
dry-run applied to a real kube-apiserver 1.36.3.

Part 3: every CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy the collection emits (baseline
host and kube-system policies, mesh policies, namespace policies in Cilium form) goes through
cilium-policy-check (Cilium's pkg/k8s/apis/cilium.io/v2 Parse + rule sanitisation) and a
server-side dry-run against Cilium's own CRDs.
"""
import copy

import pytest
import yaml

from fixtures import netpol as N
from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, cilium_schema_files, run_playbook
from fixtures.cilium_upstream import environment_render
from fixtures.lab import REPO

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies as cpol
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import values as cv
from ansible_collections.safespring.netsec.plugins.modules import cilium_install

ENVIRONMENTS = ("lab", "dev", "staging", "prod")


def declared(name):
    """What inventories/<name> declares (netsec_cilium, as playbooks/cilium.yml maps it to the module's options)."""
    netsec = yaml.safe_load((REPO / "inventories" / name / "group_vars" / "all" / "netsec.yml").read_text())
    decl = netsec["netsec_cilium"]
    return {"encryption": decl["encryption"], "policy_enforcement": decl["policy_enforcement_mode"],
            "policy_audit_mode": decl["policy_audit_mode"], "host_firewall": decl["host_firewall"],
            "cluster": netsec["netsec_cluster"]}


# prod enforces the host firewall: rendered as it is after the audit phase (the deployed release has it on).
ENV_EXTRA = {"prod": {"cilium_current_values": {"hostFirewall": {"enabled": True}}}}

PROFILES = {
    "defaults": {},
    "wireguard-without-node-encryption": {"node_encryption": False},
    "ipsec": {"encryption": "ipsec"},
    "no-encryption": {"encryption": "none"},
    "host-firewall-off-audit-mode": {"host_firewall": "off", "policy_audit_mode": True},
    "enforce-always": {"host_firewall": "enforce", "host_firewall_skip_audit": True, "policy_enforcement": "always"},
    "hubble-tls-helm-with-ui": {"hubble_tls_method": "helm", "hubble_ui": True},
    "hubble-tls-certmanager": {"hubble_tls_method": "certmanager", "extra_values": {"hubble": {"tls": {"auto": {
        "certManagerIssuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "netsec-ca"}}}}}},
    "hubble-without-relay": {"hubble_relay": False},
    "hubble-off": {"hubble": False},
    "geneve": {"cluster": dict(LAB_CLUSTER, cni={"tunnel": "geneve"})},
    "native-routing": {"cluster": dict(LAB_CLUSTER, cni={"tunnel": "native"})},
    "mesh-istio-ambient": {"mesh": "istio-ambient", "mesh_namespaces": ["shop"]},
    "mesh-linkerd": {"mesh": "linkerd", "mesh_namespaces": ["shop"]},
    "kube-proxy-kept": {"kube_proxy_replacement": False},
    "not-talos": {"talos": False},
}


def module_params(**overrides):
    params = dict((k, v.get("default")) for k, v in cilium_install.argument_spec().items())
    params.update(cluster=copy.deepcopy(LAB_CLUSTER))
    params.update(copy.deepcopy(overrides))
    return params


def profile_values(**overrides):
    """The Helm values cilium_install computes for these module options (its own plan())."""
    return cilium_install.plan(module_params(**overrides))["helm_values"]


def knobs(overrides):
    """The module options with their defaults, as the expectation reads them."""
    return module_params(**overrides)


# --- reading the rendered chart -------------------------------------------------------------------


def find(objects, kind, name):
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, "%s/%s rendered %d times" % (kind, name, len(found))
    return found[0]


def pod_specs(objects):
    for obj in objects:
        spec = obj.get("spec") or {}
        if obj["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            yield obj, spec["template"]["spec"]


def containers(objects):
    for obj, pod in pod_specs(objects):
        for container in pod.get("initContainers", []) + pod.get("containers", []):
            yield "%s/%s/%s" % (obj["kind"], obj["metadata"]["name"], container["name"]), container


def env_of(container):
    return dict((e["name"], e.get("value")) for e in container.get("env", []))


def assert_security_profile(objects, opts):
    """The rendered objects carry the profile these module options ask for."""
    config = find(objects, "ConfigMap", "cilium-config")["data"]
    wireguard, ipsec = opts["encryption"] == "wireguard", opts["encryption"] == "ipsec"
    assert config.get("enable-wireguard") == ("true" if wireguard else None)
    assert config.get("enable-ipsec") == ("true" if ipsec else None)
    assert config.get("encrypt-node") == ("true" if wireguard and opts["node_encryption"] is not False else None)
    assert config["enable-policy"] == opts["policy_enforcement"]
    tunnel = pm.ClusterSpec.from_dict(opts["cluster"])["cni"]["tunnel"]
    if tunnel == "native":
        assert config["routing-mode"] == "native"  # tunnel-protocol stays the chart's default, unused
    else:
        # The overlay port the security groups and Talos rules open is the one the agent uses.
        assert (config["routing-mode"], config["tunnel-protocol"]) == ("tunnel", tunnel)
        assert config["tunnel-port"] == str(pm.SERVICES["cilium-" + tunnel].port_min)
    audit = opts["policy_audit_mode"] or opts["host_firewall"] == "audit"
    assert (config.get("policy-audit-mode") == "true") is audit
    assert (config.get("enable-host-firewall") == "true") is (opts["host_firewall"] != "off")
    agent = find(objects, "DaemonSet", "cilium")
    agent_main = [c for c in agent["spec"]["template"]["spec"]["containers"] if c["name"] == "cilium-agent"][0]
    if opts["kube_proxy_replacement"]:
        assert config["kube-proxy-replacement"] == "true"
    else:
        assert config.get("kube-proxy-replacement") in (None, "false")
    if opts["talos"]:
        # Without kube-proxy the agent and operator reach the apiserver through KubePrism on each node.
        operator = find(objects, "Deployment", "cilium-operator")["spec"]["template"]["spec"]["containers"][0]
        for container in (agent_main, operator):
            env = env_of(container)
            assert (env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]) == ("localhost", "7445"), container["name"]
        assert config["cgroup-root"] == "/sys/fs/cgroup"
        # Talos refuses workloads that load kernel modules: no container may ask for it.
        privileged = []
        for name, container in containers(objects):
            caps = ((container.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
            assert "SYS_MODULE" not in caps, name
            if (container.get("securityContext") or {}).get("privileged"):
                privileged.append(name)
        # The one privileged container is the chart's bpffs mount; any other is a change to review.
        assert privileged == ["DaemonSet/cilium/mount-bpf-fs"]
    # A mesh's own CNI plugin chains after Cilium, and its proxies must see the real service addresses.
    mesh = opts["mesh"] != "none"
    assert (config.get("cni-exclusive"), config.get("bpf-lb-sock-hostns-only")) == (("false", "true") if mesh else ("true", None))
    assert_hubble_tls(objects, config, opts)


def assert_hubble_tls(objects, config, opts):
    kinds = dict(((o["kind"], o["metadata"]["name"]), o) for o in objects)
    if not opts["hubble"]:
        assert config["enable-hubble"] == "false"
        assert not [k for k in kinds if "hubble" in k[1]], "hubble off renders no hubble object"
        return
    assert config["enable-hubble"] == "true" and config["hubble-disable-tls"] == "false"
    assert config["hubble-listen-address"] == ":4244"
    assert config["hubble-tls-cert-file"] == "/var/lib/cilium/tls/hubble/server.crt"
    assert config["hubble-tls-client-ca-files"] == "/var/lib/cilium/tls/hubble/client-ca.crt"
    # The agent serves Hubble with the certificate of the hubble-server-certs secret.
    agent = find(objects, "DaemonSet", "cilium")["spec"]["template"]["spec"]
    volume = [v for v in agent["volumes"] if v["name"] == "hubble-tls"][0]
    assert [s["secret"]["name"] for s in volume["projected"]["sources"]] == ["hubble-server-certs"]
    certs = {"hubble-server-certs"}
    if opts["hubble_relay"]:
        relay = find(objects, "ConfigMap", "hubble-relay-config")["data"]["config.yaml"]
        assert "tls-hubble-client-cert-file: /var/lib/hubble-relay/tls/client.crt" in relay
        assert "tls-relay-server-cert-file: /var/lib/hubble-relay/tls/server.crt" in relay
        certs |= {"hubble-relay-client-certs", "hubble-relay-server-certs"}
    else:
        assert ("Deployment", "hubble-relay") not in kinds
    assert (("Deployment", "hubble-ui") in kinds) is bool(opts["hubble_ui"])
    method = opts["hubble_tls_method"]
    if method == "cronJob":
        job = find(objects, "CronJob", "hubble-generate-certs")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        generated = set(line.split("name: ", 1)[1] for line in env_of(job)["CILIUM_CERTGEN_CONFIG"].splitlines() if line.startswith("- name: "))
        assert generated == certs
        assert ("Job", "hubble-generate-certs") in kinds, "the first certificates are generated at install, not at the first schedule"
    elif method == "helm":
        for name in certs | {"cilium-ca"}:
            assert kinds[("Secret", name)]["data"]["tls.crt" if name != "cilium-ca" else "ca.crt"]
    else:
        issued = set(n for (k, n), o in kinds.items() if k == "Certificate" and o["apiVersion"] == "cert-manager.io/v1")
        assert issued == certs


# --- part 2: the chart -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def environments(tmp_path_factory, cilium_upstream):
    out = {}
    for name in ENVIRONMENTS:
        out[name] = environment_render(tmp_path_factory.mktemp(name), cilium_upstream, name, namespace_policies=(name == "lab"),
                                       **ENV_EXTRA.get(name, {}))
    return out


@pytest.mark.parametrize("name", ENVIRONMENTS)
def test_each_environment_renders_the_real_chart_with_its_declared_security_profile(environments, name):
    rendered = environments[name]
    assert_security_profile(rendered["manifest"], knobs(declared(name)))


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_renders_the_real_chart_with_what_it_asks_for(cilium_upstream, profile):
    objects = cilium_upstream.template(profile_values(**PROFILES[profile]))
    assert_security_profile(objects, knobs(PROFILES[profile]))


def test_every_value_path_we_set_is_one_the_chart_declares_or_reads(cilium_upstream, environments):
    for name in ENVIRONMENTS:
        assert cilium_upstream.unknown_value_paths(environments[name]["values"]) == [], name
    for profile in sorted(PROFILES):
        assert cilium_upstream.unknown_value_paths(profile_values(**PROFILES[profile])) == [], profile


def test_a_value_typo_or_a_key_the_chart_does_not_know_is_caught(cilium_upstream):
    values = profile_values(extra_values={"hubble": {"relay": {"tls": {"server": {"mtsl": True}}}},
                                          "bandwith": {"manager": True}, "extraConfig": {"any-key": "free-form"}})
    # helm itself accepts both silently: the chart just ignores them.
    cilium_upstream.template(values)
    assert cilium_upstream.unknown_value_paths(values) == [
        ("bandwith.manager", "did you mean bandwidthManager?"),
        ("hubble.relay.tls.server.mtsl", "did you mean hubble.relay.tls.server.mtls?"),
    ]


def test_certmanager_without_an_issuer_is_refused_by_the_module_because_the_chart_refuses_to_render(cilium_upstream):
    params = module_params(hubble_tls_method="certmanager")
    values = cv.compute(dict((k, params.get(k)) for k in cilium_install.PROFILE_KEYS))["values"]  # the values, refusals aside
    proc = cilium_upstream.helm_template(values)
    assert proc.returncode != 0 and "requires that user specifies .Values.hubble.tls.auto.certManagerIssuerRef" in proc.stderr
    with pytest.raises(NetsecError) as err:
        cilium_install.plan(params)
    assert err.value.field == "hubble_tls_method" and "certManagerIssuerRef" in err.value.fix


@pytest.mark.lab
def test_the_rendered_manifests_are_accepted_by_the_real_apiserver_in_a_server_side_dry_run(cilium_upstream, cilium_apiserver, environments):
    cases = dict(("environment " + name, environments[name]["manifest"]) for name in ENVIRONMENTS)
    for profile in sorted(PROFILES):
        cases["profile " + profile] = cilium_upstream.template(profile_values(**PROFILES[profile]))
    for case, objects in sorted(cases.items()):
        # cert-manager's CRDs are not installed: its Certificates are checked by the chart assertions only.
        applied = [o for o in objects if not o["apiVersion"].startswith("cert-manager.io/")]
        rc, out = cilium_upstream.dry_run(cilium_apiserver, applied)
        assert rc == 0, "%s:\n%s" % (case, out[-3000:])
        assert out.count("serverside-applied (server dry run)") == len(applied), case
    # A dry run stores nothing.
    assert cilium_apiserver.admin_request("GET", "/apis/apps/v1/namespaces/kube-system/daemonsets")["items"] == []
    assert cilium_apiserver.admin_request("GET", "/api/v1/namespaces/kube-system/configmaps",
                                          params={"labelSelector": "app.kubernetes.io/part-of=cilium"})["items"] == []


@pytest.mark.lab
def test_the_labs_default_apiserver_refuses_the_privileged_bpffs_mount_which_is_why_the_dry_run_admits_privileged(cilium_upstream, kube_lab):
    agent = find(cilium_upstream.template(profile_values()), "DaemonSet", "cilium")
    rc, out = cilium_upstream.dry_run(kube_lab, [agent])
    assert rc != 0 and "initContainers[2].securityContext.privileged: Forbidden: disallowed by cluster policy" in out


# --- part 3: the policies --------------------------------------------------------------------------

# Baseline variants beside the environments' (the module's own pure function, as cilium_baseline_policies calls it).
BASELINE_VARIANTS = {
    "hubble-ui": {"hubble_ui": True},
    "no-hubble": {"hubble": False},
    "mesh-istio-ambient": {"mesh": "istio-ambient", "mesh_namespaces": ["shop"]},
    "mesh-linkerd": {"mesh": "linkerd", "mesh_namespaces": ["shop"]},
}
# Every Cilium form the namespace_policies role emits: FQDN (name and pattern, with the DNS-visibility
# policy), an entity, L7 HTTP rules, a port range.
DECLARATION = copy.deepcopy(N.SHOP)
DECLARATION["paths"][1]["http"] = [{"method": "GET", "path": "/api/.*"}, {"method": "POST", "path": "/cart"}]
DECLARATION["paths"] += [
    {"from": {"namespace": "shop", "pods": {"app": "db"}}, "to": {"fqdn": "*.backup.example.com"}, "ports": [{"port": 443}]},
    {"from": {"namespace": "shop", "pods": {"app": "web"}}, "to": {"entity": "kube-apiserver"}, "ports": [{"port": 6443, "end_port": 6444}]},
]


@pytest.fixture(scope="module")
def emitted_policies(tmp_path_factory, environments):
    """source -> (cluster name the agent parses with, [every CNP/CCNP the collection emits for it])."""
    out = {}
    for name in ENVIRONMENTS:
        rendered = environments[name]
        cluster_name = find(rendered["manifest"], "ConfigMap", "cilium-config")["data"]["cluster-name"]
        namespace_cnps = [o for o in rendered["namespace_objects"] if o["kind"] == "CiliumNetworkPolicy"]
        out["environment " + name] = (cluster_name, rendered["policies"] + namespace_cnps)
    for variant, options in sorted(BASELINE_VARIANTS.items()):
        out["baseline " + variant] = ("default", cpol.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, **options))
    tmp = tmp_path_factory.mktemp("declaration")
    variables = dict(("namespace_policies_%s" % k, v) for k, v in DECLARATION.items())
    variables.update(namespace_policies_render_dir=str(tmp / "gitops"), namespace_policies_report_dir="")
    rc, dummy_tasks, proc = N.run_playbook(tmp, [{"hosts": "localhost", "gather_facts": False, "roles": ["safespring.netsec.namespace_policies"]}],
                                           variables)
    assert rc == 0, proc.stdout[-3000:]
    cnps = [yaml.safe_load(p.read_text()) for p in sorted((tmp / "gitops").glob("ciliumnetworkpolicy-*.yaml"))]
    out["namespace policies declaration"] = ("default", cnps)
    return out


def test_every_policy_the_collection_emits_is_parsed_and_sanitised_by_cilium(cilium_upstream, emitted_policies):
    kinds = set()
    for source, (cluster_name, objects) in sorted(emitted_policies.items()):
        assert objects, source
        verdict = cilium_upstream.policy_check(objects, cluster_name)
        assert [(r["kind"], r["name"], r["errors"]) for r in verdict["results"] if r["errors"]] == [], source
        assert len(verdict["results"]) == len(objects) and all(r["rules"] >= 1 for r in verdict["results"]), source
        kinds |= set(r["kind"] for r in verdict["results"])
    assert kinds == {"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"}
    # The Cilium forms of the namespace policies are all there.
    specs = [o["spec"] for o in emitted_policies["namespace policies declaration"][1]]
    text = yaml.safe_dump(specs)
    for form in ("toFQDNs", "matchPattern", "toEntities", "http:", "endPort", "dns:"):
        assert form in text, form


@pytest.mark.lab
def test_every_policy_the_collection_emits_is_accepted_by_ciliums_crds_in_a_server_side_dry_run(cilium_upstream, cilium_apiserver,
                                                                                                emitted_policies):
    for source, (dummy_cluster_name, objects) in sorted(emitted_policies.items()):
        rc, out = cilium_upstream.dry_run(cilium_apiserver, objects)
        assert rc == 0, "%s:\n%s" % (source, out[-3000:])
        assert out.count("serverside-applied (server dry run)") == len(objects), source
    assert cilium_apiserver.admin_request("GET", "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies")["items"] == []


def invalid_port_cnp(port):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "bad-port", "namespace": "shop"},
            "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"], "toPorts": [{"ports": [{"port": port, "protocol": "TCP"}]}]}]}}


@pytest.mark.lab
@pytest.mark.parametrize("port", ["-1", "+80"])
def test_a_cnp_with_an_invalid_port_fails_ciliums_parser_and_the_crd(cilium_upstream, cilium_apiserver, port):
    bad = invalid_port_cnp(port)
    verdict = cilium_upstream.policy_check([bad])
    assert verdict["ok"] is False and "unable to parse port" in verdict["results"][0]["errors"][0], verdict
    rc, out = cilium_upstream.dry_run(cilium_apiserver, [bad])
    assert rc != 0 and 'The CiliumNetworkPolicy "bad-port" is invalid' in out and "spec.ingress[0].toPorts[0].ports[0].port" in out, out
    # The same object with a valid port passes both: the port is what failed.
    good = invalid_port_cnp("7000")
    assert cilium_upstream.policy_check([good])["ok"] is True
    assert cilium_upstream.dry_run(cilium_apiserver, [good])[0] == 0


@pytest.mark.lab
@pytest.mark.parametrize("port", ["70000", "80_http", "7000-7100"])
def test_a_port_the_crd_admits_but_cilium_refuses_is_refused_by_the_collection_first(cilium_upstream, cilium_apiserver, port):
    bad = invalid_port_cnp(port)
    verdict = cilium_upstream.policy_check([bad])
    assert verdict["ok"] is False and "unable to parse port" in verdict["results"][0]["errors"][0], verdict
    # The CRD's port pattern is anchored at one end only: the apiserver stores what the agent will refuse.
    rc, out = cilium_upstream.dry_run(cilium_apiserver, [bad])
    assert rc == 0, out
    with pytest.raises(NetsecError) as err:
        cpol.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK, extra_policies=[bad], extra_field="cilium_extra_policies")
    assert err.value.field == "cilium_extra_policies[0].spec.ingress[0].toPorts[0].ports[0].port"


def test_the_cilium_role_refuses_an_extra_policy_port_the_agent_would_refuse_before_writing(tmp_path):
    out = tmp_path / "gitops"
    variables = {"cilium_delivery": "render", "cilium_render_dir": str(out), "cilium_cluster": LAB_CLUSTER,
                 "cilium_addresses": LAB_ADDRESS_BOOK, "cilium_policy_schema_files": cilium_schema_files(),
                 "cilium_extra_policies": [invalid_port_cnp("70000")]}
    play = [{"hosts": "localhost", "gather_facts": False, "roles": [{"role": "safespring.netsec.cilium", "vars": variables}]}]
    rc, tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, play)
    failed = [t for t in tasks.values() if t.get("failed")]
    assert rc != 0 and failed[0]["field"] == "cilium_extra_policies[0].spec.ingress[0].toPorts[0].ports[0].port", failed
    assert not out.exists()
