"""gated_config's systemd path: haproxy managed by systemd (Debian's haproxy.service, Type=notify,
-Ws) in a podman system container of the lab image, joined to the private edge-scanner namespace.
The module runs inside the container (connection containers.podman.podman) and reloads with
`systemctl reload-or-restart`: a change that breaks serving is rolled back and the unit's main
process is the same one throughout (reloaded, never restarted)."""
import json
import shutil
import subprocess

import pytest

from fixtures.haproxy import wait_for
from fixtures.netns import CONTAINERS_CONF, podman
from fixtures.ops_edge import ansible_env

pytestmark = pytest.mark.lab

IMAGE = "localhost/ssn-debian:12"
NAME = "edge-systemd-haproxy"
CFG = """global
    master-worker
defaults
    mode http
    timeout client 5s
    timeout server 5s
    timeout connect 2s
frontend health
    bind 127.0.0.1:8405
    monitor-uri /healthz
frontend app
    bind 127.0.0.1:8080
    http-request return status {status} content-type text/plain string "app"
"""


@pytest.fixture(scope="module")
def container(edge_lab, tmp_path_factory):
    podman("rm", "-f", "--time", "5", NAME, check=False)
    podman("run", "-d", "--name", NAME, "--hostname", "edge-systemd", f"--network=ns:/run/netns/{edge_lab.hosts['scanner'].netns}",
           "--systemd=always", "--privileged", IMAGE)
    try:
        wait_for(lambda: podman("exec", NAME, "systemctl", "is-system-running", check=False).stdout.strip() in ("running", "degraded"),
                 timeout=60, what="systemd up in the container")
        root = tmp_path_factory.mktemp("edge-systemd")
        (root / "haproxy.cfg").write_text(CFG.format(status=200))
        podman("cp", str(root / "haproxy.cfg"), f"{NAME}:/etc/haproxy/haproxy.cfg")
        podman("exec", NAME, "systemctl", "restart", "haproxy.service")
        wait_for(lambda: podman("exec", NAME, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8080/",
                                check=False).stdout == "200", what="haproxy under systemd serving")
        yield root
    finally:
        podman("rm", "-f", "--time", "5", NAME, check=False)


def main_pid():
    return podman("exec", NAME, "systemctl", "show", "-p", "MainPID", "--value", "haproxy.service").stdout.strip()


def gated(root, content):
    inventory = root / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {NAME: {"ansible_connection": "containers.podman.podman",
                                                              "ansible_python_interpreter": "/usr/bin/python3"}}}}))
    args = {"daemon": "haproxy", "dest": "/etc/haproxy/haproxy.cfg", "content": content, "reload": "systemd", "mode": "0644",
            "checks": [{"type": "http", "url": "http://127.0.0.1:8405/healthz"}, {"type": "http", "url": "http://127.0.0.1:8080/"}]}
    env = ansible_env({"ANSIBLE_STDOUT_CALLBACK": "json", "CONTAINERS_CONF": CONTAINERS_CONF})
    proc = subprocess.run([shutil.which("ansible") or "ansible", "-i", str(inventory), NAME, "-m", "safespring.netsec.gated_config",
                           "-a", json.dumps(args)], capture_output=True, text=True, env=env, timeout=180, check=False)
    try:
        result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][NAME]
    except (ValueError, KeyError, IndexError):
        raise AssertionError(proc.stdout[-3000:] + proc.stderr[-3000:])
    return (1 if result.get("failed") else 0), result


def test_under_systemd_a_breaking_change_is_rolled_back_by_reloads_not_restarts(container):
    before = main_pid()
    rc, result = gated(container, CFG.format(status=503))
    print("systemd gated rollback:", {k: result.get(k) for k in ("msg", "detect_seconds", "rollback_seconds", "reload_seconds")})
    assert rc == 1 and result["rolled_back"] and result["restored_healthy"], result
    assert result["reload"] == "systemctl reload-or-restart haproxy.service"
    assert result["saw"] == "status 503", result
    assert podman("exec", NAME, "cat", "/etc/haproxy/haproxy.cfg").stdout == CFG.format(status=200)
    assert main_pid() == before
    assert podman("exec", NAME, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8080/").stdout == "200"


def test_under_systemd_a_good_change_is_kept_and_a_rerun_changes_nothing(container):
    before = main_pid()
    good = CFG.format(status=200) + "# kept\n"
    rc, result = gated(container, good)
    assert rc == 0 and result["changed"], result
    rc, result = gated(container, good)
    assert rc == 0 and not result["changed"], result
    assert main_pid() == before
    assert "active" == podman("exec", NAME, "systemctl", "is-active", "haproxy.service", check=False).stdout.strip()
