"""lb_ha in vrrp mode on the lab: the role's rendered keepalived, health loop and haproxy on
ssn-lb1/2 (VRRPv3, advert 0.1 s, unicast, nopreempt); clients on the outside segment reach the
VIP through the router. A sampler watches both namespaces the whole time: never two holders.

Timing bounds are generous (CI is noisy); bench/lb_ha_failover.py measures the figures.
"""
import os
import pathlib
import signal
import subprocess
import threading
import time

import pytest

from fixtures.haproxy import wait_for
from fixtures.lb_ha import Prober, gaps

pytestmark = pytest.mark.lab


class HolderSampler:
    """Who holds the VIP, sampled every ~10 ms in both namespaces (ip -n: no fork of a shell)."""

    def __init__(self, pair, address):
        self.pair = pair
        self.address = address
        self.samples = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _holds(self, netns):
        out = subprocess.run(["ip", "-n", netns, "-o", "addr", "show"], capture_output=True, text=True,
                             check=False).stdout
        return f" {self.address}/" in out

    def _run(self):
        while self.running:
            holders = [name for name, node in self.pair.nodes.items() if self._holds(node.netns)]
            self.samples.append((time.monotonic(), holders))
            time.sleep(0.01)

    def stop(self):
        self.running = False
        self.thread.join(5)
        return self.samples

    def double_holders(self):
        return [s for s in self.samples if len(s[1]) > 1]


def transitions(node):
    path = node.base / "vrrp-transitions.log"
    return [line.split(" ", 1)[1] for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def vip(lab_netns):
    return lab_netns.topology.data["vrrp"]["vip"].split("/")[0]


@pytest.fixture(scope="module")
def vrrp_pair(lb_ha_pair_factory, vip):
    pair = lb_ha_pair_factory("vrrp")
    wait_for(lambda: pair.holders() == ["lb1"], timeout=20, what="lb1 (the primary) holds the VIP")
    sampler = HolderSampler(pair, vip)
    pair.sampler = sampler
    yield pair
    sampler.stop()
    assert not sampler.double_holders(), f"two holders of the VIP: {sampler.double_holders()[:5]}"


def test_exactly_one_holder_and_clients_are_served_through_the_router(vrrp_pair, lab_netns, vip):
    assert vrrp_pair.holders() == ["lb1"]
    for client in ("ssn-client1", "ssn-client2"):
        out = lab_netns.run(client, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3",
                            f"http://{vip}/")
        assert out.stdout == "301", (client, out.stdout)
    # The backup binds the VIP it does not hold (transparent bind), so it serves the moment it takes over.
    assert f"{vip}:80 " in lab_netns.run("ssn-lb2", "ss", "-Hltn").stdout


def test_keepalived_reload_and_haproxy_reload_fail_no_request_and_keep_the_holder(vrrp_pair, lab_netns, vip, tmp_path):
    probe = Prober(lab_netns, "ssn-client2", vip, duration=6, root=tmp_path)
    time.sleep(0.5)
    for node in vrrp_pair.nodes.values():
        node.reload_keepalived()
    time.sleep(1.5)
    for node in vrrp_pair.nodes.values():
        node.lab.run(node.netns, "kill", "-USR2", str(node.daemons["haproxy"].proc.pid))
    time.sleep(1.5)
    samples = probe.stop()
    assert len(samples) > 100
    assert not gaps(samples), gaps(samples)
    assert vrrp_pair.holders() == ["lb1"]


def test_reloads_of_the_holders_haproxy_keep_the_vip(vrrp_pair, lab_netns, vip, tmp_path):
    # A reload re-execs haproxy's master (haproxy -sf PIDS -x sockpair@N ...): keepalived's track_process
    # must still count it, or the instance FAULTs and the VIP leaves a healthy LB (it did on 22 of 24).
    holder = vrrp_pair.holders()[0]
    node = vrrp_pair.nodes[holder]
    before = {name: len(transitions(n)) for name, n in vrrp_pair.nodes.items()}
    probe = Prober(lab_netns, "ssn-client1", vip, duration=14, root=tmp_path)
    time.sleep(0.5)
    start = time.monotonic()
    master = node.daemons["haproxy"].proc.pid
    for dummy in range(8):
        os.kill(master, signal.SIGUSR2)
        time.sleep(1.2)
    time.sleep(1.0)  # keepalived's re-scan after a lost quorum comes within a second
    end = time.monotonic()
    samples = probe.stop()
    held = [h for t, h in vrrp_pair.sampler.samples if start <= t <= end]
    assert len(held) > 100 and all(h == [holder] for h in held), [h for h in held if h != [holder]][:5]
    assert {name: transitions(n)[before[name]:] for name, n in vrrp_pair.nodes.items()} == {"lb1": [], "lb2": []}
    assert pathlib.Path(f"/proc/{master}/comm").read_text().strip() == f"haproxy-{holder}"
    assert len(samples) > 300 and not gaps(samples), gaps(samples)


def test_haproxy_death_moves_the_vip_and_the_primary_return_does_not_take_it_back(vrrp_pair, lab_netns, vip,
                                                                                  tmp_path):
    lb1, lb2 = vrrp_pair.nodes["lb1"], vrrp_pair.nodes["lb2"]
    probe = Prober(lab_netns, "ssn-client1", vip, duration=20, root=tmp_path)
    time.sleep(1.0)
    killed_at = probe.now()
    lb1.kill_haproxy()
    wait_for(lambda: vrrp_pair.holders() == ["lb2"], timeout=2.0, interval=0.02, what="lb2 holds the VIP")
    time.sleep(1.0)
    lb1.start_haproxy()
    back_at = probe.now()
    time.sleep(3.0)  # longer than the health loop's rise (2 s): nopreempt keeps lb2 the holder
    samples = probe.stop()
    windows = gaps(samples, after=killed_at - 0.05)
    # track_process sees the death at once: the gap may be shorter than one probe interval.
    assert len(windows) <= 1 and all(w[1] < 1.5 for w in windows), windows
    assert not gaps(samples, after=back_at)
    assert vrrp_pair.holders() == ["lb2"]
    assert [t.split(" ", 1)[1] for t in transitions(lb2)][-1:] == ["lb_ha -> MASTER (priority 100)"], transitions(lb2)
    assert "FAULT" in " ".join(transitions(lb1)[-2:]) and transitions(lb1)[-1].split(" ", 1)[1].startswith("lb_ha -> BACKUP")


def test_link_down_moves_the_vip_and_its_return_makes_no_second_holder(vrrp_pair, lab_netns, vip, tmp_path):
    holder = vrrp_pair.holders()[0]
    other = "lb1" if holder == "lb2" else "lb2"
    node = vrrp_pair.nodes[holder]
    probe = Prober(lab_netns, "ssn-client1", vip, duration=20, root=tmp_path)
    time.sleep(1.0)
    down_at = probe.now()
    node.link("down")
    wait_for(lambda: vrrp_pair.holders() == [other], timeout=3.0, interval=0.02, what=f"{other} holds the VIP")
    time.sleep(1.0)
    up_at = probe.now()
    node.link("up")
    time.sleep(3.0)
    samples = probe.stop()
    windows = gaps(samples, after=down_at - 0.05)
    assert len(samples) > 300, len(samples)
    assert len(windows) <= 1 and all(w[1] < 2.0 for w in windows), windows
    assert not gaps(samples, after=up_at)
    assert vrrp_pair.holders() == [other]
    assert not vrrp_pair.sampler.double_holders()


def test_a_track_process_failure_cannot_be_hidden_by_the_other_lbs_haproxy(vrrp_pair):
    # /proc is shared by the namespaces here: each keepalived counts its own haproxy's process name.
    for name, node in vrrp_pair.nodes.items():
        conf = (node.base / "keepalived" / "keepalived.conf").read_text()
        assert f"process haproxy-{name}\n" in conf, conf
        master = node.daemons["haproxy"].proc.pid
        assert pathlib.Path(f"/proc/{master}/comm").read_text().strip() == f"haproxy-{name}"
