"""Hostile role variables against roles/haproxy, rendered by ansible-playbook on localhost (issue 13).

One run renders many local hosts at once: each hostile host must fail in the role's first
task naming the variable as written, with nothing written; the legitimate hosts render a
haproxy.cfg that `haproxy -c` accepts and whose directives are exactly the intended ones.
No lab needed.
"""
import pathlib
import re
import subprocess

import pytest

from fixtures.haproxy import APP_HOST, PROXY_HOST, edge_vars, lab_cluster, render_hosts

ACCEPT = "\n    tcp-request connection accept\n    #"
TIMEOUTS = {"http_request": "5s", "http_keep_alive": "5s", "client": "30s", "client_fin": "5s", "connect": "5s",
            "server": "60s", "queue": "10s", "tarpit": "10s", "api_tunnel": "1h"}


def routes(**first):
    return [dict({"name": "app", "hosts": [APP_HOST, "*.apps.lab.test"], "target": "nodeport", "nodeport": 30080,
                  "health_path": "/healthz"}, **first),
            {"name": "pp", "hosts": [PROXY_HOST], "target": "nodeport", "nodeport": 30081, "send_proxy": True}]


def cert(pki, **over):
    return [dict({"name": "lab", "hosts": [APP_HOST, PROXY_HOST, "*.apps.lab.test"], "ecdsa": pki["ecdsa"], "rsa": pki["rsa"]}, **over)]


def acme(certificates):
    """ACME settings that are valid but for the certificates given (so only those can be refused)."""
    return {"haproxy_acme_certificates": certificates, "haproxy_acme_directory": "https://acme.lab.test/dir",
            "haproxy_acme_terms_agreed": True}


# host -> (field named in the error, overrides)
HOSTILE = {
    "rate_period": ("haproxy_rate_period", lambda pki: {"haproxy_rate_period": "10s)" + ACCEPT}),
    "timeout_client": ("haproxy_timeouts.client", lambda pki: {"haproxy_timeouts": dict(TIMEOUTS, client="30s" + ACCEPT)}),
    "timeout_u2028": ("haproxy_timeouts.connect", lambda pki: {"haproxy_timeouts": dict(TIMEOUTS, connect="5s\u2028tcp-request connection accept")}),
    "sni_options": ("haproxy_certificates[0].hosts[1]",
                    lambda pki: {"haproxy_certificates": cert(pki, hosts=[APP_HOST, "[ssl-min-ver TLSv1.0 ciphers ALL:@SECLEVEL=0]"])}),
    "sni_spaced": ("haproxy_certificates[0].hosts[0]",
                   lambda pki: {"haproxy_certificates": cert(pki, hosts=["[ssl-min-ver TLSv1.0] " + APP_HOST])}),
    "cert_name": ("haproxy_certificates[0].name", lambda pki: {"haproxy_certificates": cert(pki, name="../../outside")}),
    "health_path": ("haproxy_ingress_routes[0].health_path",
                    lambda pki: {"haproxy_ingress_routes": routes(health_path="/healthz\n    server rogue 203.0.113.66:80 check")}),
    "route_name": ("haproxy_ingress_routes[0].name", lambda pki: {"haproxy_ingress_routes": routes(name="app\n")}),
    "route_host": ("haproxy_ingress_routes[0].hosts[0]",
                   lambda pki: {"haproxy_ingress_routes": routes(hosts=[APP_HOST + " } || { always_true"])}),
    "stats_path": ("haproxy_stats_path", lambda pki: {"haproxy_stats_path": "/stats }\n    stats admin if TRUE"}),
    "method": ("haproxy_allowed_methods[1]", lambda pki: {"haproxy_allowed_methods": ["GET", "HEAD } || { always_true"]}),
    "world_api": ("haproxy_cluster.loadbalancer.api_cidrs[0]",
                  lambda pki: {"haproxy_cluster": dict(lab_cluster(), loadbalancer={"ha_mode": "none", "api_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]})}),
    # ACME names reach the crt-list, file names and runtime API commands (where a blank or ';' starts another command).
    "acme_host_newline": ("haproxy_acme_certificates[0].hosts[0]",
                          lambda pki: acme([{"name": "app", "hosts": [APP_HOST + "\nshow info"]}])),
    "acme_host_spaced": ("haproxy_acme_certificates[0].hosts[1]",
                         lambda pki: acme([{"name": "app", "hosts": [APP_HOST, APP_HOST + " show info"]}])),
    "acme_name": ("haproxy_acme_certificates[0].name",
                  lambda pki: acme([{"name": "app;del ssl cert x", "hosts": [APP_HOST]}])),
    "log_target": ("haproxy_log_target", lambda pki: {"haproxy_log_target": "stdout format raw\n    stats socket /tmp/x level admin"}),
}
WAIVERS = [{"name": "public-api-%s" % service, "service": service, "scope": "loadbalancer", "reason": "test: public API"}
           for service in ("kube-apiserver", "talos-apid")]
# Misspelled keys: the role's argument_specs refuses them first, naming the key (haproxy_inputs would too).
MISSPELLED = {
    "timeout_typo": ("haproxy_timeouts.clinet. Supported parameters include: api_tunnel, client,",
                     lambda pki: {"haproxy_timeouts": dict(TIMEOUTS, clinet="1s")}),
    "route_typo": ("haproxy_ingress_routes.helth_path. Supported parameters include: health_path,",
                   lambda pki: {"haproxy_ingress_routes": routes(helth_path="/x")}),
    "cert_typo": ("haproxy_certificates.host. Supported parameters include: ecdsa, hosts,",
                  lambda pki: {"haproxy_certificates": cert(pki, host=["a.example"])}),
}

# A legitimate edge using the grammars' breadth; the directives must be the baseline's with these values.
LEGIT = {
    "haproxy_rate_period": "250ms",
    "haproxy_timeouts": dict(TIMEOUTS, client="30000", api_tunnel="2h"),
    "haproxy_stats_path": "/haproxy-stats",
    "haproxy_metrics_path": "/prom/metrics",
    "haproxy_allowed_methods": ["GET", "HEAD", "POST", "PROPFIND"],
    "haproxy_ingress_routes": routes(health_path="/healthz/ready.json"),
}
SUBSTITUTIONS = [
    ("(10s)", "(250ms)"), ("Retry-After 10 ", "Retry-After 1 "), ("timeout client 30s", "timeout client 30000"),
    ("timeout client 1h", "timeout client 2h"), ("timeout server 1h", "timeout server 2h"),
    ("/stats", "/haproxy-stats"), ("/metrics", "/prom/metrics"),
    ("method GET HEAD POST PUT PATCH DELETE OPTIONS", "method GET HEAD POST PROPFIND"), ("GET /healthz", "GET /healthz/ready.json"),
]


INTENDED = pathlib.Path(__file__).parent / "data" / "haproxy_edge_directives.txt"


def directives(text, root):
    """What haproxy reads, one directive a line (sections unindented), comments and blank
    lines dropped; the host-dependent maxconn and curve list (OpenSSL) as placeholders."""
    out = []
    for raw in text.replace(str(root), "<root>").splitlines():
        line = "" if raw.lstrip().startswith("#") else raw.split(" #")[0].rstrip()
        if not line.strip():
            continue
        line = re.sub(r"^(\s+maxconn) \d+$", r"\1 <maxconn>", line)
        out.append(re.sub(r"^(\s+ssl-default-bind-curves) \S+$", r"\1 <curves>", line))
    return out


def intended():
    return [line for line in INTENDED.read_text().splitlines() if not line.startswith("#")]


@pytest.fixture(scope="module")
def run(haproxy_pki, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    hosts = {}
    for name, (dummy_field, overrides) in list(HOSTILE.items()) + list(MISSPELLED.items()):
        hosts[name] = edge_vars(haproxy_pki, root / name, **overrides(haproxy_pki))
    hosts["baseline"] = edge_vars(haproxy_pki, root / "baseline")
    hosts["legit"] = edge_vars(haproxy_pki, root / "legit", **LEGIT)
    # The same world allowlist with a named waiver: accepted (and rendered) for that frontend.
    hosts["waived"] = edge_vars(haproxy_pki, root / "waived", **dict(HOSTILE["world_api"][1](haproxy_pki), haproxy_waivers=WAIVERS))
    for name in hosts:
        (root / name / "run").mkdir(parents=True)
    proc = render_hosts(root, hosts)
    return root, proc


def failure(stdout, host):
    """The failure text of `host` (its 'fatal: [host]' block)."""
    match = re.search(r"^fatal: \[%s\]: FAILED! => (.*?)(?=^\S|\Z)" % re.escape(host), stdout, re.M | re.S)
    assert match, "no failure for %s in:\n%s" % (host, stdout[-4000:])
    return match.group(1)


@pytest.mark.parametrize("host", sorted(HOSTILE))
def test_hostile_value_is_refused_naming_the_field_before_anything_is_written(run, host):
    root, proc = run
    field = HOSTILE[host][0]
    text = failure(proc.stdout, host)
    assert field + ":" in text, text
    assert "Type the role's variables" in proc.stdout
    assert not (root / host / "etc").exists()


def test_a_world_allowlist_with_named_waivers_renders(run):
    root, proc = run
    assert re.search(r"^waived\s+: ok=\d+ .*failed=0", proc.stdout, re.M), proc.stdout[-4000:]
    allow = (root / "waived" / "etc").rglob("*allow*")
    assert any("128.0.0.0/1" in path.read_text() for path in allow if path.is_file())


@pytest.mark.parametrize("host", sorted(MISSPELLED))
def test_misspelled_key_is_refused_naming_it_before_anything_is_written(run, host):
    root, proc = run
    assert MISSPELLED[host][0] in failure(proc.stdout, host)
    assert not (root / host / "etc").exists()


def test_the_default_edge_renders_exactly_the_intended_directives(run):
    root, proc = run
    assert re.search(r"^baseline\s+: ok=\d+ .*failed=0", proc.stdout, re.M), proc.stdout[-4000:]
    assert directives((root / "baseline" / "etc" / "haproxy.cfg").read_text(), root / "baseline") == intended()


def test_legitimate_edge_passes_haproxy_check_with_exactly_the_intended_directives(run):
    root, proc = run
    assert re.search(r"^legit\s+: ok=\d+ .*failed=0", proc.stdout, re.M), proc.stdout[-4000:]
    cfg = root / "legit" / "etc" / "haproxy.cfg"
    check = subprocess.run(["haproxy", "-c", "-f", str(cfg)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    expected = []
    for line in intended():
        for old, new in SUBSTITUTIONS:
            line = line.replace(old, new)
        expected.append(line)
    got = directives(cfg.read_text(), root / "legit")
    assert got == expected
    # The allowlist decides first in every frontend, and nothing accepts early.
    sections, section = {}, None
    for line in got:
        section = line if not line.startswith(" ") else section
        if line.strip().startswith(("tcp-request", "http-request")):
            sections.setdefault(section, []).append(line.strip())
    for name in [s for s in sections if s.startswith("frontend ")]:
        assert sections[name][0] == "tcp-request connection reject if denied || !allowed", name
    assert not any(" accept" in line for line in got)


def test_legitimate_crt_list_holds_only_the_role_s_own_words(run):
    root, dummy_proc = run
    certs = root / "legit" / "etc" / "certs"
    lines = [line for line in (certs / "crt-list.txt").read_text().splitlines() if line and not line.startswith("#")]
    names = "%s %s *.apps.lab.test" % (APP_HOST, PROXY_HOST)
    assert lines == ["%s/lab.ecdsa.pem %s" % (certs, names), "%s/lab.rsa.pem %s" % (certs, names)]


def test_refusals_never_print_a_private_key(run, haproxy_pki):
    dummy_root, proc = run
    for kind in ("ecdsa", "rsa"):
        secret = haproxy_pki[kind]["key"].splitlines()[1]
        assert secret not in proc.stdout and secret not in proc.stderr
