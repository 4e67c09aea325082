"""roles/haproxy run by ansible-playbook against localhost in render-only mode.

No lab needed: the template is validated by the real `haproxy -c`; the data-plane tests
(test_haproxy_edge.py and friends) run the same rendering in the lab.
"""
import re
import stat
import subprocess

import pytest

from fixtures.haproxy import edge_vars, play_recap_changed, render_edge


@pytest.fixture(scope="module")
def rendered(haproxy_pki, tmp_path_factory):
    root = tmp_path_factory.mktemp("role")
    role_vars = edge_vars(haproxy_pki, root)
    first = render_edge(root, role_vars)
    return root, role_vars, first


def test_rendered_config_passes_haproxy_check(rendered):
    root, dummy_role_vars, dummy_first = rendered
    proc = subprocess.run(["haproxy", "-c", "-f", str(root / "etc" / "haproxy.cfg")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_second_run_changes_nothing(rendered):
    root, role_vars, first = rendered
    assert play_recap_changed(first.stdout) > 0
    assert play_recap_changed(render_edge(root, role_vars).stdout) == 0


def test_keys_are_0600_in_a_0700_directory_and_never_printed(rendered, haproxy_pki):
    root, dummy_role_vars, first = rendered
    certs = root / "etc" / "certs"
    assert stat.S_IMODE(certs.stat().st_mode) == 0o700
    for pem in certs.glob("*.pem"):
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600, pem
    secret = haproxy_pki["ecdsa"]["key"].splitlines()[1]
    assert secret not in first.stdout and secret not in first.stderr


def test_frontends_and_allowlists_come_from_the_port_model(rendered):
    root, dummy_role_vars, dummy_first = rendered
    cfg = (root / "etc" / "haproxy.cfg").read_text()
    for port in (80, 443, 6443, 50000):
        assert re.search(r"^\s+bind 198\.18\.1\.11:%d\b" % port, cfg, re.M), port
    assert re.search(r"^\s+bind \[fd5a:fe:1::11\]:8404$", cfg, re.M)
    lists = root / "etc" / "lists"
    entries = (lists / "kube-apiserver.allow").read_text().split("\n")
    assert [e for e in entries if e and not e.startswith("#")] == ["198.18.2.5/32", "198.18.2.11/32", "fd5a:fe:2::5/128"]
    assert [e for e in (lists / "haproxy-admin.allow").read_text().split("\n") if e and not e.startswith("#")] == [
        "198.18.2.5/32", "fd5a:fe:2::5/128"]


def test_check_mode_reports_a_deny_list_change_without_writing_it(rendered):
    root, role_vars, dummy_first = rendered
    deny = root / "etc" / "lists" / "deny.lst"
    before = deny.read_text()
    proc = render_edge(root, dict(role_vars, haproxy_deny_cidrs=["203.0.113.0/24"]), extra_args=("--check", "--diff"))
    assert "+203.0.113.0/24" in proc.stdout
    assert play_recap_changed(proc.stdout) >= 1
    assert deny.read_text() == before


def test_bad_route_fails_naming_the_field_before_anything_is_written(haproxy_pki, tmp_path):
    role_vars = edge_vars(haproxy_pki, tmp_path, haproxy_ingress_routes=[
        {"name": "app", "hosts": ["app.lab.test"], "target": "nodeport", "nodeport": 8080}])
    proc = render_edge(tmp_path, role_vars, check=False)
    assert proc.returncode != 0
    assert "haproxy_ingress_routes[0].nodeport: 8080 is outside the NodePort range 30000-32767" in proc.stdout
    assert not (tmp_path / "etc").exists()


def test_modern_profile_renders_tls13_only_ecdsa_only_and_drops_groups_this_openssl_lacks(haproxy_pki, tmp_path):
    render_edge(tmp_path, edge_vars(haproxy_pki, tmp_path, haproxy_tls_profile="modern"))
    cfg = (tmp_path / "etc" / "haproxy.cfg").read_text()
    assert "ssl-min-ver TLSv1.3" in cfg and "ssl-default-bind-ciphers " not in cfg
    crt_list = (tmp_path / "etc" / "certs" / "crt-list.txt").read_text()
    assert ".ecdsa.pem" in crt_list and ".rsa.pem" not in crt_list
    openssl = subprocess.run(["haproxy", "-vv"], capture_output=True, text=True, check=False).stdout
    running = re.search(r"Running on OpenSSL version : OpenSSL (\d+)\.(\d+)", openssl).groups()
    curves = re.search(r"ssl-default-bind-curves (\S+)", cfg).group(1).split(":")
    if tuple(int(x) for x in running) < (3, 5):
        assert curves == ["X25519", "prime256v1", "secp384r1"]
    else:
        assert curves[0] == "X25519MLKEM768"
