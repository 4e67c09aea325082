"""The lab's network (component `netns`): reachability, isolation, the router's BGP peer."""
import json
import os
import pathlib
import subprocess
import time

import pytest
import yaml

from fixtures.lab import REPO
from fixtures.netns import load_topology

pytestmark = pytest.mark.lab

NETNS_SH = REPO / "tests" / "lab" / "netns.sh"
# Deliberately outside the lab: public, private, link-local, the platform's real peer
# address and neighbours of the lab's own ranges. Only route lookups, never packets.
OUTSIDE = ["1.1.1.1", "10.0.0.1", "192.168.0.1", "169.254.169.254", "198.20.0.1"]
OUTSIDE6 = ["2606:4700:4700::1111", "2001:db8::1", "fd00::1", "fd5a:ff::1"]
TOPOLOGY = load_topology()
HOST_NAMES = sorted(TOPOLOGY.hosts)


def addresses_of(topology, netns):
    """Every lab address a namespace owns (the router: one per segment plus its peer address)."""
    if netns == topology.router_netns:
        return topology.router_addresses("ipv4") + topology.router_addresses("ipv6") + [str(topology.peer_address.ip)]
    host = next(h for h in topology.hosts.values() if h.netns == netns)
    return [str(host.ipv4), str(host.ipv6)]


@pytest.mark.parametrize("source", TOPOLOGY.namespaces)
def test_namespace_reaches_every_other_namespace_over_ipv4_and_ipv6(lab_netns, source):
    unreachable = [
        f"{target} {address}"
        for target in lab_netns.namespaces if target != source
        for address in addresses_of(lab_netns.topology, target)
        if not lab_netns.ping(source, address)
    ]
    assert unreachable == [], f"{source} cannot reach: {unreachable}"


@pytest.mark.parametrize("name", HOST_NAMES)
def test_host_has_one_link_to_its_segment_and_routes_only_through_the_router(lab_netns, name):
    host = lab_netns.hosts[name]
    links = json.loads(lab_netns.run(host.netns, "ip", "-j", "link").stdout)
    assert sorted(link["ifname"] for link in links) == ["eth0", "lo"]
    for family, gateway in (("-4", host.gateway4), ("-6", host.gateway6)):
        routes = json.loads(lab_netns.run(host.netns, "ip", "-j", family, "route").stdout)
        defaults = [r for r in routes if r["dst"] == "default"]
        assert [r.get("gateway") for r in defaults] == [gateway]
    for other in lab_netns.hosts.values():
        got = json.loads(lab_netns.run(host.netns, "ip", "-j", "route", "get", str(other.ipv4)).stdout)[0]
        if other.segment == host.segment:
            assert "gateway" not in got, f"{other.name} is on-link for {name}"
        else:
            assert got.get("gateway") == host.gateway4, f"{name} -> {other.name} must go through the router"


def peer_netns_name(lab_netns, netns, nsid):
    """The name of the namespace behind a link-netnsid, as seen from netns (None: unnamed)."""
    for line in lab_netns.run(netns, "ip", "netns", "list-id").stdout.splitlines():
        words = line.split()
        if words[:2] == ["nsid", str(nsid)] and "name:" in words:
            return words[-1].rstrip(")")
    return None


@pytest.mark.parametrize("netns", TOPOLOGY.namespaces)
def test_every_link_stays_inside_the_lab(lab_netns, netns):
    """A veth to the machine's own namespace would be a way out: every peer is a lab namespace."""
    for link in json.loads(lab_netns.run(netns, "ip", "-j", "-d", "link").stdout):
        kind = link.get("linkinfo", {}).get("info_kind")
        if link["ifname"] == "lo" or kind == "bridge":
            continue
        assert kind == "veth", f"{netns}: unexpected link {link['ifname']} ({kind})"
        peer = peer_netns_name(lab_netns, netns, link["link_netnsid"])
        assert peer in lab_netns.namespaces, f"{netns}: {link['ifname']} leads to {peer or 'an unnamed namespace'}"


def test_router_forwards_and_hashes_multipath_on_ports_but_has_no_default_route(lab_netns):
    sysctl = lab_netns.run(lab_netns.router, "sysctl", "-n", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
                           "net.ipv4.fib_multipath_hash_policy").stdout.split()
    assert sysctl == ["1", "1", "1"]
    for family in ("-4", "-6"):
        routes = json.loads(lab_netns.run(lab_netns.router, "ip", "-j", family, "route").stdout)
        assert [r for r in routes if r["dst"] == "default"] == []
    lo = lab_netns.run(lab_netns.router, "ip", "-br", "addr", "show", "dev", "lo").stdout
    assert str(lab_netns.topology.peer_address) in lo.split()


@pytest.mark.parametrize("name", HOST_NAMES)
def test_nothing_routes_out_of_the_lab(lab_netns, name):
    """Follow the route lookup hop by hop without sending anything: host -> router -> nowhere."""
    host = lab_netns.hosts[name]
    for family, outside_list, source, gateway in (("-4", OUTSIDE, host.ipv4, host.gateway4),
                                                  ("-6", OUTSIDE6, host.ipv6, host.gateway6)):
        for outside in outside_list:
            got = json.loads(lab_netns.run(host.netns, "ip", "-j", family, "route", "get", outside).stdout)[0]
            assert got.get("gateway") == gateway, f"{name}: {outside} leaves through {got}"
            forwarded = lab_netns.run(lab_netns.router, "ip", family, "route", "get", outside, "from", str(source),
                                      "iif", host.router_link, check=False)
            assert forwarded.returncode != 0, f"router forwards {source} -> {outside}: {forwarded.stdout}"
            assert "unreachable" in forwarded.stderr, forwarded.stderr


@pytest.mark.parametrize("outside", OUTSIDE + OUTSIDE6)
def test_router_itself_has_no_route_out(lab_netns, outside):
    got = lab_netns.run(lab_netns.router, "ip", "route", "get", outside, check=False)
    assert got.returncode != 0 and "unreachable" in got.stderr, got.stdout


def test_router_bird_is_up_with_a_configured_session_per_lb(lab_netns):
    topo = lab_netns.topology
    assert "Daemon is up and running" in lab_netns.birdc("show", "status")
    for name in topo.bgp["peers"]:
        detail = lab_netns.birdc("show", "protocols", "all", name)
        assert f"Neighbor address: {topo.hosts[name].ipv4}" in detail
        assert f"Neighbor AS:      {topo.bgp['lb_asn']}" in detail
        assert f"Local AS:         {topo.router_asn}" in detail


SPEAKER_CONF = """\
log "{log}" all;
router id {ipv4};
protocol device {{}}
protocol static s4 {{ ipv4; {routes4} }}
protocol static s6 {{ ipv6; {routes6} }}
protocol bgp platform {{
  local {ipv4} as {asn};
  source address {ipv4};
  neighbor {peer} as {peer_asn};
  multihop;
  connect delay time 1;
  connect retry time 1;
  ipv4 {{ import none; export where source = RTS_STATIC; }};
  ipv6 {{ import none; export where source = RTS_STATIC; next hop address {ipv6}; }};
}}
"""


@pytest.fixture
def lb_speakers(lab_netns, lab_hosts, tmp_path):
    """A plain BIRD in each LB namespace announcing the anycast address and routes the
    router must refuse; stopped by pid afterwards. lab_hosts: fresh containers, so no BIRD
    of the lb_ha role shares the namespace and its session with the router."""
    topo = lab_netns.topology
    anycast = topo.data["anycast"]
    refused4 = ["198.18.0.0/25", "198.18.3.3/32"]          # not a /32; outside 198.18.0.0/24
    refused6 = ["fd5a:fe::/120", "fd5a:fe:3::3/128"]       # not a /128; outside fd5a:fe::/64
    pids = []
    for name in topo.bgp["peers"]:
        host = topo.hosts[name]
        conf = tmp_path / f"{name}.conf"
        conf.write_text(SPEAKER_CONF.format(
            log=tmp_path / f"{name}.log", ipv4=host.ipv4, ipv6=host.ipv6, asn=topo.bgp["lb_asn"], peer=topo.peer_address.ip,
            peer_asn=topo.router_asn,
            routes4=" ".join(f"route {n} blackhole;" for n in [anycast["ipv4"]] + refused4),
            routes6=" ".join(f"route {n} blackhole;" for n in [anycast["ipv6"]] + refused6)))
        pidfile = tmp_path / f"{name}.pid"
        # BIRD daemonizes: its output goes to a file, never to a pipe we would wait on.
        with open(tmp_path / f"{name}.out", "w", encoding="utf-8") as out:
            subprocess.run(["ip", "netns", "exec", host.netns, "bird", "-c", str(conf), "-s", str(tmp_path / f"{name}.ctl"),
                            "-P", str(pidfile)], stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=True, timeout=10)
        pids.append(pidfile)
    yield {"anycast": anycast, "refused": refused4 + refused6}
    for pidfile in pids:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), 15)
    time.sleep(0.2)


def router_route(lab_netns, prefix):
    family = "-6" if ":" in prefix else "-4"
    return lab_netns.run(lab_netns.router, "ip", family, "route", "show", "exact", prefix).stdout


def test_router_installs_anycast_from_both_lbs_as_ecmp_and_refuses_other_prefixes(lab_netns, lb_speakers):
    topo = lab_netns.topology
    wanted = {lb_speakers["anycast"]["ipv4"]: [str(topo.hosts[n].ipv4) for n in topo.bgp["peers"]],
              lb_speakers["anycast"]["ipv6"]: [str(topo.hosts[n].ipv6) for n in topo.bgp["peers"]]}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(all(f"via {nh} " in router_route(lab_netns, p) for nh in nhs) for p, nhs in wanted.items()):
            break
        time.sleep(0.3)
    for prefix, next_hops in wanted.items():
        route = router_route(lab_netns, prefix)
        assert route.count("nexthop via") == len(next_hops), f"{prefix} is not ECMP over {next_hops}: {route}"
    for prefix in lb_speakers["refused"]:
        assert router_route(lab_netns, prefix) == "", f"router accepted {prefix}"


def scratch_topology(tmp_path, prefix="sst-"):
    """A copy of the topology under other namespace names: up/down without touching the lab."""
    data = yaml.safe_load((REPO / "tests" / "lab" / "topology.yml").read_text())
    data["router"]["netns"] = data["router"]["netns"].replace("ssn-", prefix)
    for host in data["hosts"].values():
        host["netns"] = host["netns"].replace("ssn-", prefix)
        host.pop("container", None)
    path = tmp_path / "topology.yml"
    path.write_text(yaml.safe_dump(data))
    return path, data


def run_netns_sh(verb, topology, lab_dir):
    env = dict(os.environ, LAB_TOPOLOGY=str(topology), LAB_DIR=str(lab_dir))
    return subprocess.run([str(NETNS_SH), verb], capture_output=True, text=True, env=env, timeout=120, check=False)


def lab_traces(prefix, lab_dir):
    """What a torn-down lab must not leave: namespaces, mounts, processes."""
    namespaces = [n for n in os.listdir("/run/netns") if n.startswith(prefix)] if os.path.isdir("/run/netns") else []
    mounts = [line for line in pathlib.Path("/proc/self/mountinfo").read_text().splitlines() if f"/{prefix}" in line]
    processes = []
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(lab_dir) in cmdline:
                processes.append(cmdline)
    return namespaces, mounts, processes


@pytest.mark.slow
def test_up_is_idempotent_and_down_leaves_no_namespace_mount_or_process(tmp_path):
    topology, data = scratch_topology(tmp_path)
    lab_dir = tmp_path / "lab"
    try:
        first = run_netns_sh("up", topology, lab_dir)
        assert first.returncode == 0, first.stdout + first.stderr
        router = data["router"]["netns"]
        before = subprocess.run(["ip", "-n", router, "-br", "addr"], capture_output=True, text=True, check=True).stdout
        again = run_netns_sh("up", topology, lab_dir)
        assert again.returncode == 0, again.stdout + again.stderr
        after = subprocess.run(["ip", "-n", router, "-br", "addr"], capture_output=True, text=True, check=True).stdout
        assert after == before
        # A process someone left in a lab namespace must not keep it alive.
        leftover = subprocess.Popen(["ip", "netns", "exec", data["hosts"]["client1"]["netns"], "sleep", "600"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        down = run_netns_sh("down", topology, lab_dir)
        assert down.returncode == 0, down.stdout + down.stderr
        assert leftover.wait(timeout=10) is not None
        assert lab_traces("sst-", lab_dir) == ([], [], [])
        assert run_netns_sh("status", topology, lab_dir).returncode != 0
        back = run_netns_sh("up", topology, lab_dir)
        assert back.returncode == 0, back.stdout + back.stderr
    finally:
        run_netns_sh("down", topology, lab_dir)
    assert lab_traces("sst-", lab_dir) == ([], [], [])


def test_topology_file_is_the_only_place_addresses_are_written():
    """The scripts read the topology; an address typed into them would drift from it."""
    literal = [str(TOPOLOGY.peer_address.ip)] + [str(h.ipv4) for h in TOPOLOGY.hosts.values()]
    for script in ("netns.sh", "hosts.sh", "netns/router-bird.conf"):
        text = (REPO / "tests" / "lab" / script).read_text()
        assert [a for a in literal if a in text] == [], script


def test_router_bird_config_is_rendered_from_the_topology_and_parses(tmp_path):
    rendered = subprocess.run(["python3", str(REPO / "tests" / "lab" / "netns" / "topology.py"), "bird-conf",
                               str(tmp_path)], capture_output=True, text=True, check=True).stdout
    accept = TOPOLOGY.bgp["accept"]
    assert f"if net ~ [ {accept['ipv4']}{{32,32}} ] then accept;" in rendered
    assert f"if net ~ [ {accept['ipv6']}{{128,128}} ] then accept;" in rendered
    assert "merge paths on;" in rendered
    conf = tmp_path / "bird.conf"
    conf.write_text(rendered)
    parse = subprocess.run(["bird", "-p", "-c", str(conf)], capture_output=True, text=True, check=False)
    assert parse.returncode == 0, parse.stderr
