# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Safespring platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# lb_ha (bgp mode): the anycast service addresses on lo. up: add (or replace), down: remove.
#
#   lb_ha_addresses up|down [CONFIG]     CONFIG: the role's addresses.json (default below)
#
# Runs as root from lb-ha-addresses.service and the role's handler. It takes no value from a
# template: the addresses come from CONFIG, are parsed again here, and reach `ip` as argv
# (no shell), so no address can carry a command. The role installs it with a python3 shebang.
import ipaddress
import json
import subprocess
import sys

DEFAULT_CONFIG = "/etc/lb_ha/addresses.json"
DEVICE = "lo"


def load(path):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict) or not isinstance(data.get("addresses"), list):
        raise ValueError("%s: expected {\"addresses\": [...]}" % path)
    out = []
    for i, value in enumerate(data["addresses"]):
        # Host routes only, written in CIDR form: exactly what the role writes.
        if not isinstance(value, str) or "/" not in value:
            raise ValueError("%s: addresses[%d] is not an address in CIDR form" % (path, i))
        try:
            iface = ipaddress.ip_interface(value)
        except ValueError:
            raise ValueError("%s: addresses[%d] is not an IP address" % (path, i))
        if iface.network.prefixlen != iface.max_prefixlen or str(iface) != value:
            raise ValueError("%s: addresses[%d] is not a normalised host route" % (path, i))
        out.append(str(iface))
    return out


def main(argv):
    if len(argv) not in (2, 3) or argv[1] not in ("up", "down"):
        sys.stderr.write("usage: %s up|down [CONFIG]\n" % (argv[0] if argv else "lb_ha_addresses"))
        return 2
    try:
        addresses = load(argv[2] if len(argv) == 3 else DEFAULT_CONFIG)
    except (OSError, ValueError) as exc:
        sys.stderr.write("lb_ha_addresses: %s\n" % exc)
        return 1
    for address in addresses:
        if argv[1] == "up":
            # `replace` keeps an address already there (and its connections) in place.
            subprocess.run(["ip", "addr", "replace", address, "dev", DEVICE], check=True)
        else:
            subprocess.run(["ip", "addr", "del", address, "dev", DEVICE], stderr=subprocess.DEVNULL, check=False)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except subprocess.CalledProcessError as exc:
        sys.stderr.write("lb_ha_addresses: %s\n" % exc)
        sys.exit(exc.returncode or 1)
