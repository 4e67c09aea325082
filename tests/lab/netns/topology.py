"""The lab topology (tests/lab/topology.yml) as data, shell variables and BIRD config.

    topology.py shell              shell assignments for tests/lab/netns.sh and hosts.sh
    topology.py bird-conf LAB_DIR  the router's bird.conf (rendered from router-bird.conf)

The tests load it with load() so that no address is written twice. LAB_TOPOLOGY names
another topology file (the teardown tests bring up a renamed scratch copy next to the lab).
"""
import ipaddress
import os
import pathlib
import shlex
import string
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent
TOPOLOGY = pathlib.Path(os.environ.get("LAB_TOPOLOGY") or HERE.parent / "topology.yml")
BIRD_TEMPLATE = HERE / "router-bird.conf"
# Interface names are at most 15 characters; "v-" + host name is the router's end.
IFNAME_MAX = 15


class Host:
    """One namespace on one segment, with its address in CIDR form and its gateway."""

    def __init__(self, name, spec, segment):
        self.name = name
        self.netns = spec["netns"]
        self.role = spec["role"]
        self.segment = spec["segment"]
        self.container = spec.get("container")
        net4 = ipaddress.ip_network(segment["ipv4"])
        net6 = ipaddress.ip_network(segment["ipv6"])
        self.ipv4 = ipaddress.ip_address(spec["ipv4"])
        self.ipv6 = ipaddress.ip_address(spec["ipv6"])
        if self.ipv4 not in net4 or self.ipv6 not in net6:
            raise ValueError(f"hosts.{name}: address outside segment {self.segment}")
        self.cidr4 = f"{self.ipv4}/{net4.prefixlen}"
        self.cidr6 = f"{self.ipv6}/{net6.prefixlen}"
        self.gateway4 = str(segment["router"]["ipv4"])
        self.gateway6 = str(segment["router"]["ipv6"])
        self.router_link = f"v-{name}"
        if len(self.router_link) > IFNAME_MAX:
            raise ValueError(f"hosts.{name}: name too long for an interface name")


class Topology:
    def __init__(self, data):
        self.data = data
        self.router_netns = data["router"]["netns"]
        self.router_asn = int(data["router"]["asn"])
        self.peer_address = ipaddress.ip_interface(data["router"]["peer_address"]["ipv4"])
        self.segments = data["segments"]
        self.hosts = {name: Host(name, spec, self.segments[spec["segment"]]) for name, spec in data["hosts"].items()}
        self.bgp = data["bgp"]
        names = [self.router_netns] + [h.netns for h in self.hosts.values()]
        if len(set(names)) != len(names):
            raise ValueError("topology: namespace names must be unique")

    @property
    def namespaces(self):
        """Every namespace of the lab, router first."""
        return [self.router_netns] + [h.netns for h in self.hosts.values()]

    def router_addresses(self, family):
        """The router's own addresses on the segments (without prefix length)."""
        return [str(seg["router"][family]) for seg in self.segments.values()]

    def segment_cidr(self, segment, family):
        net = ipaddress.ip_network(self.segments[segment][family])
        return f"{self.segments[segment]['router'][family]}/{net.prefixlen}"


def load(path=None):
    with open(path or TOPOLOGY, encoding="utf-8") as handle:
        return Topology(yaml.safe_load(handle))


def shell(topo):
    """Bash assignments: plain variables and arrays, every value quoted."""
    out = {
        "ROUTER_NS": topo.router_netns,
        "PEER_ADDRESS": str(topo.peer_address),
        "NAMESPACES": topo.namespaces,
        "SEGMENTS": list(topo.segments),
        "HOSTS": list(topo.hosts),
        "CONTAINER_HOSTS": [n for n, h in topo.hosts.items() if h.container],
    }
    for name, seg in topo.segments.items():
        out[f"SEG_{name}_BRIDGE"] = seg["bridge"]
        out[f"SEG_{name}_V4"] = topo.segment_cidr(name, "ipv4")
        out[f"SEG_{name}_V6"] = topo.segment_cidr(name, "ipv6")
    for name, host in topo.hosts.items():
        prefix = f"HOST_{name}_"
        out[prefix + "NS"] = host.netns
        out[prefix + "SEG"] = host.segment
        out[prefix + "LINK"] = host.router_link
        out[prefix + "V4"] = host.cidr4
        out[prefix + "V6"] = host.cidr6
        out[prefix + "GW4"] = host.gateway4
        out[prefix + "GW6"] = host.gateway6
        out[prefix + "CONTAINER"] = host.container or ""
    lines = []
    for key, value in out.items():
        if isinstance(value, list):
            lines.append(f"{key}=({' '.join(shlex.quote(v) for v in value)})")
        else:
            lines.append(f"{key}={shlex.quote(value)}")
    return "\n".join(lines) + "\n"


def bird_conf(topo, lab_dir):
    """The router's BIRD config: the platform's BGP peer for the LBs."""
    peers = []
    for name in topo.bgp["peers"]:
        host = topo.hosts[name]
        peers.append(f"protocol bgp {name} from lb {{\n  neighbor {host.ipv4} as {int(topo.bgp['lb_asn'])};\n}}\n")
    accept = topo.bgp["accept"]
    bfd = topo.bgp["bfd"]
    template = string.Template(BIRD_TEMPLATE.read_text(encoding="utf-8"))
    return template.substitute(
        log=f"{lab_dir}/netns/bird.log",
        router_id=topo.peer_address.ip,
        local_address=topo.peer_address.ip,
        local_asn=topo.router_asn,
        accept4=f"{accept['ipv4']}{{32,32}}",
        accept6=f"{accept['ipv6']}{{128,128}}",
        bfd_interval=f"{int(bfd['interval_ms'])} ms",
        bfd_multiplier=int(bfd["multiplier"]),
        bridges=", ".join(f'"{seg["bridge"]}"' for seg in topo.segments.values()),
        peers="\n".join(peers),
    )


def main(argv):
    topo = load()
    if argv[1:2] == ["shell"]:
        sys.stdout.write(shell(topo))
    elif argv[1:2] == ["bird-conf"] and len(argv) == 3:
        sys.stdout.write(bird_conf(topo, argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
