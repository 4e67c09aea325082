"""The lab's hosts (component `hosts`): podman system containers in the LB namespaces."""
import json
import os
import subprocess

import pytest
import yaml

from fixtures.lab import REPO
from fixtures.netns import LAB_DIR, load_topology, podman

pytestmark = pytest.mark.lab

TOPOLOGY = load_topology()
CONTAINER_HOSTS = sorted(name for name, host in TOPOLOGY.hosts.items() if host.container)
HOSTS_SH = REPO / "tests" / "lab" / "hosts.sh"


def test_every_lb_has_a_container():
    """The LBs are the hosts Ansible manages in the lab."""
    assert CONTAINER_HOSTS == sorted(n for n, h in TOPOLOGY.hosts.items() if h.role == "lb")


@pytest.mark.parametrize("name", CONTAINER_HOSTS)
def test_container_boots_systemd_and_has_python3(lab_hosts, name):
    assert lab_hosts.exec(name, "systemctl", "is-system-running").stdout.strip() == "running"
    assert lab_hosts.exec(name, "hostname").stdout.strip() == name
    assert lab_hosts.exec(name, "/usr/bin/python3", "-c", "import apt, sys; print(sys.version_info[0])").stdout.strip() == "3"


@pytest.mark.parametrize("name", CONTAINER_HOSTS)
def test_container_lives_in_its_hosts_namespace_with_its_addresses(lab_hosts, name):
    host = lab_hosts.netns.hosts[name]
    pid = podman("container", "inspect", "--format", "{{.State.Pid}}", host.container).stdout.strip()
    assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/run/netns/{host.netns}").st_ino
    addresses = json.loads(lab_hosts.exec(name, "ip", "-j", "addr", "show", "dev", "eth0").stdout)[0]["addr_info"]
    assert {host.cidr4, host.cidr6} <= {f"{a['local']}/{a['prefixlen']}" for a in addresses}


@pytest.mark.parametrize("name", CONTAINER_HOSTS)
def test_lb_daemons_are_installed_but_left_to_the_roles(lab_hosts, name):
    for unit in ("haproxy", "keepalived", "bird", "ssh"):
        state = lab_hosts.exec(name, "systemctl", "is-enabled", unit, check=False).stdout.strip()
        assert state == "disabled", f"{unit} is {state}"
        active = lab_hosts.exec(name, "systemctl", "is-active", unit, check=False).stdout.strip()
        assert active == "inactive", f"{unit} is {active}"
    for binary in ("haproxy", "keepalived", "bird", "sshd", "socat", "curl"):
        assert lab_hosts.exec(name, "sh", "-c", f"command -v {binary}", check=False).returncode == 0, binary


def test_ansible_runs_a_module_on_every_lab_host(lab_hosts):
    proc = subprocess.run(["ansible", "-i", str(REPO / "inventories" / "lab"), "netsec_loadbalancers", "-o",
                           "-m", "ansible.builtin.command", "-a", "hostname"],
                          capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answered = {line.split(" | ")[0]: line.rsplit("(stdout) ", 1)[-1] for line in proc.stdout.splitlines() if " | " in line}
    assert answered == {name: name for name in CONTAINER_HOSTS}


def test_lb_containers_reach_each_other_and_the_bgp_peer_over_the_edge_segment(lab_hosts):
    first, second = CONTAINER_HOSTS[:2]
    for address in (lab_hosts.netns.hosts[second].ipv4, lab_hosts.netns.hosts[second].ipv6,
                    TOPOLOGY.peer_address.ip):
        lab_hosts.exec(first, "ping", "-n", "-q", "-c1", "-W2", str(address))


def scratch(tmp_path):
    """A renamed copy of the topology with a single container host: the live lab stays up."""
    data = yaml.safe_load((REPO / "tests" / "lab" / "topology.yml").read_text())
    data["router"]["netns"] = data["router"]["netns"].replace("ssn-", "sth-")
    keep = CONTAINER_HOSTS[0]
    for name, host in data["hosts"].items():
        host["netns"] = host["netns"].replace("ssn-", "sth-")
        if name == keep:
            host["container"] = host["container"].replace("ssn-", "sth-")
        else:
            host.pop("container", None)
    path = tmp_path / "topology.yml"
    path.write_text(yaml.safe_dump(data))
    env = dict(os.environ, LAB_TOPOLOGY=str(path), LAB_DIR=str(tmp_path / "lab"))
    return env, data["hosts"][keep]


def run(script, verb, env):
    return subprocess.run([str(REPO / "tests" / "lab" / script), verb], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


@pytest.mark.slow
def test_down_removes_the_containers_and_their_processes(lab_hosts, tmp_path):
    env, host = scratch(tmp_path)
    try:
        up = run("hosts.sh", "up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        pid = podman("container", "inspect", "--format", "{{.State.Pid}}", host["container"]).stdout.strip()
        assert run("hosts.sh", "up", env).returncode == 0  # idempotent: the running container is kept
        assert podman("container", "inspect", "--format", "{{.State.Pid}}", host["container"]).stdout.strip() == pid
        down = run("hosts.sh", "down", env)
        assert down.returncode == 0, down.stdout + down.stderr
        assert podman("container", "exists", host["container"], check=False).returncode == 1
        assert not os.path.exists(f"/proc/{pid}")
        assert subprocess.run(["ip", "netns", "pids", host["netns"]], capture_output=True, text=True,
                              check=True).stdout == ""
        assert run("hosts.sh", "status", env).returncode != 0
    finally:
        run("hosts.sh", "down", env)
        run("netns.sh", "down", env)
    assert_scratch_gone(lab_hosts, host)


def assert_scratch_gone(lab_hosts, host):
    assert podman("ps", "-a", "--format", "{{.Names}}").stdout.split().count(host["container"]) == 0
    assert not [n for n in os.listdir("/run/netns") if n.startswith("sth-")]
    # The lab's own containers were not touched.
    assert os.path.exists(os.path.join(LAB_DIR, "podman", "containers.conf"))
    for name in CONTAINER_HOSTS:
        assert lab_hosts.exec(name, "systemctl", "is-system-running").stdout.strip() == "running"


@pytest.mark.slow
def test_up_refuses_a_namespace_that_another_container_already_uses(lab_hosts, tmp_path):
    """One set of hosts per LB namespace: a Molecule instance there blocks the component."""
    env, host = scratch(tmp_path)
    intruder = host["container"] + "-molecule"
    try:
        assert run("netns.sh", "up", env).returncode == 0
        podman("run", "-d", "--name", intruder, "--network", f"ns:/run/netns/{host['netns']}",
               "localhost/ssn-debian:12", "sleep", "300")
        refused = run("hosts.sh", "up", env)
        assert refused.returncode != 0
        assert intruder in refused.stderr and "one set of hosts at a time" in refused.stderr
        assert podman("container", "exists", host["container"], check=False).returncode == 1
    finally:
        podman("rm", "-f", "--time", "0", intruder, check=False)
        run("hosts.sh", "down", env)
        run("netns.sh", "down", env)
    assert_scratch_gone(lab_hosts, host)
