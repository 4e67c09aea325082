"""TLS of the role's HTTPS frontend, checked by sslyze against Mozilla's guidelines.

sslyze's --mozilla_config uses the guideline it bundles (5.7); the role's profiles follow
the guideline named in roles/haproxy/vars/main.yml, so the endpoint is also checked
against that guideline's JSON in ../shared/specs (--custom_tls_config). Scans run from
ssn-scanner, which the test exempts from the per-source limits (a scan is hundreds of
handshakes: it would trip them, as a real scanner should).
"""
import json
import shutil

import pytest
import yaml

from fixtures.haproxy import APP_HOST, ROLE_DIR, render_edge

pytestmark = pytest.mark.lab

EDGE_OVERRIDES = {"haproxy_limit_exempt_cidrs": ["198.18.2.13/32"]}


def _role_profiles():
    return yaml.safe_load((ROLE_DIR / "vars" / "main.yml").read_text())["haproxy_tls_profiles"]


def _custom_config(shared_specs, tmp_path, profile):
    guideline = _role_profiles()[profile]["guideline"]
    config = json.loads((shared_specs / f"mozilla-server-side-tls-{guideline}.json").read_text())["configurations"][profile]
    # sslyze's model also wants the caddy/go cipher names, which newer guidelines dropped.
    config["ciphers"] = dict({"caddy": [], "go": []}, **config["ciphers"])
    path = tmp_path / f"mozilla-{guideline}-{profile}.json"
    path.write_text(json.dumps(config))
    return path


def _sslyze(edge, tmp_path, *check):
    out = tmp_path / "scan.json"
    argv = [shutil.which("sslyze"), *check, "--certinfo_ca_file", edge.pki["paths"]["ca"], "--json_out", str(out),
            f"{APP_HOST}:443{{{edge.address}}}"]
    proc = edge.lab.run("ssn-scanner", *argv, check=False, timeout=300)
    return proc


def _assert_compliant(proc):
    assert proc.returncode == 0 and ": OK - Compliant." in proc.stdout, proc.stdout[-4000:]


def test_intermediate_profile_is_compliant_per_sslyze_and_with_the_guideline_the_role_follows(
        haproxy_edge, shared_specs, tmp_path):
    _assert_compliant(_sslyze(haproxy_edge, tmp_path, "--mozilla_config=intermediate"))
    _assert_compliant(_sslyze(haproxy_edge, tmp_path, "--custom_tls_config",
                              str(_custom_config(shared_specs, tmp_path, "intermediate"))))


def test_modern_profile_is_compliant_after_a_rerender_and_hitless_reload(haproxy_edge, shared_specs, tmp_path):
    modern = dict(haproxy_edge.vars, haproxy_tls_profile="modern")
    render_edge(haproxy_edge.root, modern)
    haproxy_edge.reload()
    try:
        _assert_compliant(_sslyze(haproxy_edge, tmp_path, "--mozilla_config=modern"))
        _assert_compliant(_sslyze(haproxy_edge, tmp_path, "--custom_tls_config",
                                  str(_custom_config(shared_specs, tmp_path, "modern"))))
        # ... and intermediate clients are now refused: TLS 1.2 is gone.
        proc = haproxy_edge.lab.run("ssn-client1", "openssl", "s_client", "-connect", f"{haproxy_edge.address}:443",
                                    "-servername", APP_HOST, "-tls1_2", check=False, timeout=15)
        assert proc.returncode != 0
    finally:
        render_edge(haproxy_edge.root, haproxy_edge.vars)
        haproxy_edge.reload()
