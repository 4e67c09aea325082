"""The lab's control plane (tests/lab/kube.sh) is a real kube-apiserver on a real etcd: the pinned
versions, serving TLS from the lab CA, x509 client authentication and RBAC authorization."""
import base64
import ipaddress
import json
import os
import pathlib
import re
import socket
import ssl
import stat
import subprocess
import time
import uuid

import kubernetes
import pytest
import requests
import yaml
from cryptography import x509

from fixtures.kube import free_port
from fixtures.lab import REPO

pytestmark = pytest.mark.lab


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def namespace(kube_lab):
    name = unique("lab-test")
    kube_lab.admin_request("POST", "/api/v1/namespaces", json={"metadata": {"name": name}})
    yield name
    # No controller-manager: the namespace stays Terminating, which is harmless in the lab.
    kube_lab.request("DELETE", f"/api/v1/namespaces/{name}", identity=kube_lab.admin)


@pytest.fixture
def nobody(kube_lab):
    """A user the CA vouches for and RBAC grants nothing."""
    user = unique("lab-test-user")
    return user, kube_lab.identity(user, groups=["lab-test-team"])


def grant_secret_listing(kube_lab, namespace, user):
    kube_lab.admin_request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles", json={
        "metadata": {"name": "list-secrets"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]})
    kube_lab.admin_request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings", json={
        "metadata": {"name": "list-secrets"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "list-secrets"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})


def eventually_status(request, want, seconds=15):
    """RBAC's authorizer reads bindings from a watch cache: a new grant takes effect within moments."""
    deadline = time.monotonic() + seconds
    while True:
        resp = request()
        if resp.status_code == want or time.monotonic() > deadline:
            return resp
        time.sleep(0.2)


def test_apiserver_reports_the_pinned_kubernetes_version(kube_lab):
    version = kube_lab.admin_request("GET", "/version")
    # 1.36.x: what Talos 1.13.9 runs; the patch release is pinned in tests/lab/kube/kube-apiserver/go.mod.
    assert version["gitVersion"] == kube_lab.info["kubernetes_version"]
    assert re.fullmatch(r"v1\.36\.\d+", version["gitVersion"])
    assert (version["major"], version["minor"]) == ("1", "36")


def test_etcd_reports_the_pinned_version(kube_lab):
    version = requests.get(kube_lab.etcd_url + "/version", timeout=10).json()
    assert "v" + version["etcdserver"] == kube_lab.info["etcd_version"]
    assert version["etcdserver"].startswith("3.6.")


def test_apiserver_is_ready_with_its_etcd_and_rbac_bootstrapped(kube_lab):
    resp = kube_lab.request("GET", "/readyz?verbose", identity=kube_lab.admin)
    assert resp.status_code == 200, resp.text
    checks = {line.split()[0][3:] for line in resp.text.splitlines() if line.startswith("[+]")}
    assert {"etcd", "poststarthook/rbac/bootstrap-roles"} <= checks


def test_admin_kubeconfig_is_private_and_creates_and_reads_a_namespace_and_configmap(kube_lab):
    assert stat.S_IMODE(os.stat(kube_lab.kubeconfig).st_mode) == 0o600
    api = kubernetes.config.new_client_from_config(config_file=kube_lab.kubeconfig)
    core = kubernetes.client.CoreV1Api(api)
    name = unique("lab-test")
    core.create_namespace({"metadata": {"name": name}})
    try:
        core.create_namespaced_config_map(name, {"metadata": {"name": "probe"}, "data": {"answer": "42"}})
        assert core.read_namespace(name).status.phase == "Active"
        assert core.read_namespaced_config_map("probe", name).data == {"answer": "42"}
    finally:
        core.delete_namespace(name)
        api.close()


def test_objects_are_stored_in_the_labs_etcd(kube_lab, namespace):
    kube_lab.admin_request("POST", f"/api/v1/namespaces/{namespace}/configmaps", json={"metadata": {"name": "stored"}})
    key = base64.b64encode(f"/registry/configmaps/{namespace}/stored".encode()).decode()
    found = requests.post(kube_lab.etcd_url + "/v3/kv/range", json={"key": key, "keys_only": True}, timeout=10).json()
    assert found.get("count") == "1", found


def test_user_without_grants_is_forbidden_to_list_secrets(kube_lab, namespace, nobody):
    user, identity = nobody
    resp = kube_lab.request("GET", f"/api/v1/namespaces/{namespace}/secrets", identity=identity)
    assert resp.status_code == 403
    assert f'User "{user}" cannot list resource "secrets"' in resp.json()["message"]


def test_anonymous_request_is_refused(kube_lab, namespace):
    resp = kube_lab.request("GET", f"/api/v1/namespaces/{namespace}/secrets")
    assert resp.status_code in (401, 403)
    assert resp.status_code == 401 or '"system:anonymous"' in resp.json()["message"]


def test_certificate_from_another_ca_is_not_an_identity(kube_lab, namespace, tmp_path):
    cert, key = tmp_path / "stranger.crt", tmp_path / "stranger.key"
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/O=system:masters/CN=lab-admin"],
                   check=True, capture_output=True)
    resp = kube_lab.request("GET", f"/api/v1/namespaces/{namespace}/secrets", identity=(str(cert), str(key)))
    assert resp.status_code in (401, 403)
    assert resp.status_code == 401 or '"system:anonymous"' in resp.json()["message"]


def test_self_subject_review_shows_the_certificate_identity(kube_lab, nobody):
    user, identity = nobody
    resp = kube_lab.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", identity=identity,
                            json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert resp.status_code in (200, 201), resp.text
    info = resp.json()["status"]["userInfo"]
    assert info["username"] == user
    assert set(info["groups"]) == {"lab-test-team", "system:authenticated"}


def test_rbac_role_binding_grants_exactly_the_bound_verb_in_the_bound_namespace(kube_lab, namespace, nobody):
    user, identity = nobody
    grant_secret_listing(kube_lab, namespace, user)
    resp = eventually_status(
        lambda: kube_lab.request("GET", f"/api/v1/namespaces/{namespace}/secrets", identity=identity), 200)
    assert resp.status_code == 200, resp.text
    assert resp.json()["kind"] == "SecretList"
    assert kube_lab.request("GET", f"/api/v1/namespaces/{namespace}/secrets/any", identity=identity).status_code == 403
    assert kube_lab.request("GET", f"/api/v1/namespaces/{namespace}/configmaps", identity=identity).status_code == 403
    assert kube_lab.request("GET", "/api/v1/namespaces/default/secrets", identity=identity).status_code == 403


def test_serving_certificate_verifies_against_the_lab_ca_for_loopback_only(kube_lab):
    port = kube_lab.info["secure_port"]
    ctx = ssl.create_default_context(cafile=kube_lab.ca)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            der = tls.getpeercert(binary_form=True)
    sans = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(sock, server_hostname="kube.example.org")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(sock, server_hostname="127.0.0.1")


def test_up_again_keeps_the_running_control_plane(kube_lab):
    state = pathlib.Path(kube_lab.info["kubeconfig"]).parent
    pids = {name: (state / f"{name}.pid").read_text() for name in ("etcd", "kube-apiserver")}
    proc = subprocess.run([str(REPO / "tests" / "lab" / "kube.sh"), "up"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "up (already)" in proc.stdout
    assert {name: (state / f"{name}.pid").read_text() for name in pids} == pids


def test_status_answers_zero_while_the_apiserver_is_ready(kube_lab):
    proc = subprocess.run([str(REPO / "tests" / "lab" / "kube.sh"), "status"], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pathlib.Path(kube_lab.info["kubeconfig"]).is_file()


def test_a_second_instance_runs_with_its_authentication_config_and_restarts_for_another(tmp_path):
    """LAB_KUBE_INSTANCE + LAB_KUBE_AUTHN_CONFIG: the file is in effect, an unchanged `up` keeps the
    instance, another file (or none) restarts it, `down` removes its state."""
    name = unique("test")
    no_anonymous = tmp_path / "no-anonymous.yaml"
    no_anonymous.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous: {enabled: false}\n")
    port = str(free_port())
    state = pathlib.Path(os.environ.get("LAB_DIR", REPO / ".lab")) / f"kube-{name}"

    def kube_sh(command, config=None):
        env = dict(os.environ, LAB_KUBE_INSTANCE=name, LAB_KUBE_PORT=port)
        env.pop("LAB_KUBE_AUTHN_CONFIG", None)
        if config:
            env["LAB_KUBE_AUTHN_CONFIG"] = str(config)
        proc = subprocess.run([str(REPO / "tests" / "lab" / "kube.sh"), command], env=env, capture_output=True, text=True, timeout=180, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def anonymous_version_status():
        info = json.loads((state / "kube.json").read_text())
        return requests.get(info["url"] + "/version", verify=info["ca"], timeout=10).status_code

    try:
        kube_sh("up", no_anonymous)
        pid = (state / "kube-apiserver.pid").read_text()
        assert json.loads((state / "kube.json").read_text())["authentication_config"] == str(state / "authentication-config.yaml")
        assert anonymous_version_status() == 401  # the file is in effect: anonymous requests are off
        assert "up (already)" in kube_sh("up", no_anonymous)
        assert (state / "kube-apiserver.pid").read_text() == pid
        assert "up (already)" not in kube_sh("up")
        assert json.loads((state / "kube.json").read_text())["authentication_config"] is None
        assert anonymous_version_status() == 200  # the default again: /version is public
    finally:
        kube_sh("down")
    assert not state.exists()
    assert not (state.parent / f".lock-kube-{name}").exists()


def test_cilium_crds_are_ciliums_own_and_serve_policies(kube_lab):
    names = kube_lab.install_cilium_crds()
    assert {"ciliumnetworkpolicies.cilium.io", "ciliumclusterwidenetworkpolicies.cilium.io"} <= set(names), names
    # The pinned release is the one the cilium role installs.
    gomod = (REPO / "tests" / "lab" / "kube" / "cilium-crds" / "go.mod").read_text()
    defaults = yaml.safe_load((REPO / "roles" / "cilium" / "defaults" / "main.yml").read_text())
    assert f"github.com/cilium/cilium v{defaults['cilium_version']}" in gomod
    # The structural schema rejects what Cilium rejects: a port that is not a port.
    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "bad", "namespace": "default"},
           "spec": {"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "http!", "protocol": "TCP"}]}]}]}}
    resp = kube_lab.request("POST", "/apis/cilium.io/v2/namespaces/default/ciliumnetworkpolicies", identity=kube_lab.admin,
                            params={"dryRun": "All"}, json=bad)
    assert resp.status_code == 422, (resp.status_code, resp.text[:300])
    good = dict(bad, spec={"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}]}]}]})
    resp = kube_lab.request("POST", "/apis/cilium.io/v2/namespaces/default/ciliumnetworkpolicies", identity=kube_lab.admin,
                            params={"dryRun": "All"}, json=good)
    assert resp.status_code == 201, (resp.status_code, resp.text[:300])
