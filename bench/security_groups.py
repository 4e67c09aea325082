"""Security-group sync, side by side on the lab's real Neutron, each through ansible-playbook.

Workload: one environment of 4 groups and 190 rules rendered from the port model (groups that
reference each other, IPv6, port ranges, ICMP, restricted egress). Phases: first converge
from empty, no-op rerun, one-rule change. Tools:
  ours   safespring.netsec.security_group (one task for the environment)
  cloud  openstack.cloud.security_group with security_group_rules (4 tasks creating the
         groups first, so that remote groups resolve, then 4 tasks with the rules)
  loop   openstack.cloud.security_group_rule in a loop, one task per rule (~1.4 s a rule:
         by default measured on a subset of --loop-rules rules and said so in the table)
Wall time is the ansible-playbook process; requests are counted by method from the Neutron
access log (the SDK's version discovery GET / included). Run from the repo root:
  source scripts/env.sh; tests/lab/neutron.sh up; python bench/security_groups.py
"""
import argparse
import json
import os
import pathlib
import re
import resource
import subprocess
import sys
import time
import uuid
from collections import Counter

import requests

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".build" / "collections"))

from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R  # noqa: E402
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.render import render  # noqa: E402

LAB_DIR = pathlib.Path(os.environ.get("LAB_DIR", REPO / ".lab"))
ENDPOINT = "http://127.0.0.1:9696/"
API = ENDPOINT + "v2.0"
CLOUD = {"auth_type": "none", "auth": {"endpoint": ENDPOINT}, "network_endpoint_override": ENDPOINT}
ACCESS_LOG = LAB_DIR / "neutron" / "access.log"
PHASES = ("first converge", "no-op rerun", "one-rule change")
# Figures from the issue (same workload shape, measured before this work) for reference.
ISSUE_BASELINE = {"cloud": (20.0, 11.0, 11.0), "loop": (270.0, 270.0, 270.0), "sdk script": (7.6, 0.6, 0.8)}


def cluster(name, change=False):
    """The lab's cluster spec; change=True replaces one admin CIDR (one rule on the jump host)."""
    return {"name": name, "talos": {"kubespan": True},
            "loadbalancer": {"api_cidrs": ["198.51.100.0/24", "2001:db8:7::/48"]},
            "jump_host": {"admin_cidrs": ["198.18.2.6/32" if change else "198.18.2.5/32", "fd5a:fe:2::5/128"]},
            "egress": {"restrict": ["control_plane", "worker"], "dns": ["192.0.2.53", "2001:db8::53"],
                       "ntp": ["192.0.2.123", "2001:db8::123"], "registries": ["198.51.100.10", "2001:db8:1::10"],
                       "oidc_issuer": ["203.0.113.5"]}}


def as_dict(rule):
    out = {"direction": rule.direction, "ethertype": rule.ethertype}
    if rule.protocol is not None:
        out["protocol"] = R.protocol_api_value(rule.protocol)
    for key in ("port_range_min", "port_range_max", "remote_ip_prefix", "remote_group"):
        if getattr(rule, key) is not None:
            out[key] = getattr(rule, key)
    if rule.description:
        out["description"] = rule.description
    return out


def workload(prefix, change=False):
    """{group: [rule dict]}; change=True moves one worker rule from udp/8472 to udp/8473."""
    groups = dict((g.name, [as_dict(r) for r in g.rules]) for g in render(cluster(prefix.rstrip("-"))))
    if change:
        worker = groups[prefix + "worker"]
        for rule in worker:
            if rule.get("port_range_min") == 8472 and rule["ethertype"] == "IPv4" and rule["direction"] == "ingress":
                rule["port_range_min"] = rule["port_range_max"] = 8473
                break
        else:
            raise SystemExit("workload has no rule to change")
    return groups


def to_cloud_rule(rule):
    """Our rule dict in openstack.cloud.security_group's format (ether_type, port_range_min/max)."""
    out = dict(rule)
    out["ether_type"] = out.pop("ethertype", "IPv4")
    if "port" in out:
        low, dummy, high = str(out.pop("port")).partition("-")
        out["port_range_min"], out["port_range_max"] = int(low), int(high or low)
    return out


def playbook(tool, groups, removed=(), loop_rules=None):
    if tool == "ours":
        tasks = [{"name": "environment", "safespring.netsec.security_group": {
            "security_groups": [{"name": n, "rules": rules} for n, rules in groups.items()]}}]
        defaults = {"group/safespring.netsec.openstack": {"cloud": CLOUD}}
    else:
        defaults = {"group/openstack.cloud.openstack": {"cloud": CLOUD}}
        tasks = [{"name": "group %s" % n, "openstack.cloud.security_group": {"name": n}} for n in groups]
        if tool == "cloud":
            tasks += [{"name": "rules of %s" % n, "openstack.cloud.security_group": {
                "name": n, "security_group_rules": [to_cloud_rule(r) for r in rules]}} for n, rules in groups.items()]
        else:
            items = [dict(to_cloud_rule(r), security_group=n) for n, rules in groups.items() for r in rules]
            items = items[:loop_rules] if loop_rules else items
            tasks.append({"name": "rules", "openstack.cloud.security_group_rule": "{{ item }}",
                          "loop": items, "loop_control": {"label": "{{ item.security_group }}"}})
            if removed:
                tasks.append({"name": "removed rules", "openstack.cloud.security_group_rule": "{{ item | combine({'state': 'absent'}) }}",
                              "loop": [dict(to_cloud_rule(r), security_group=n) for n, r in removed]})
    return [{"hosts": "localhost", "gather_facts": False, "module_defaults": defaults, "tasks": tasks}]


def loop_playbook(groups, removed=(), loop_rules=None):
    # Loops need the item as the module's args: write them out explicitly per key.
    keys = ("security_group", "direction", "ether_type", "protocol", "port_range_min", "port_range_max",
            "remote_ip_prefix", "remote_group", "description")
    args = dict((k, "{{ item.%s | default(omit) }}" % k) for k in keys)
    book = playbook("loop", groups, removed, loop_rules)
    for task in book[0]["tasks"]:
        if task["name"] == "rules":
            task["openstack.cloud.security_group_rule"] = args
        elif task["name"] == "removed rules":
            task["openstack.cloud.security_group_rule"] = dict(args, state="absent")
    return book


# Each tool's User-Agent prefix in the access log: the lab is shared, count only the tool's own.
AGENTS = {"ours": "safespring-netsec", "cloud": "openstacksdk/", "loop": "openstacksdk/"}


def requests_since(offset, agent):
    time.sleep(0.3)  # gunicorn logs a request after answering it
    with open(ACCESS_LOG, "rb") as f:
        f.seek(offset)
        lines = [line for line in f.read().decode().splitlines() if line.strip()]
    # Logs without a User-Agent field (older lab) count every request.
    return Counter(line.split()[0] for line in lines if '"' not in line or ('"%s' % agent) in line)


def run(book, workdir, agent):
    path = workdir / "play.json"
    path.write_text(json.dumps(book))
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    offset = ACCESS_LOG.stat().st_size
    t0 = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", str(path)],
                          capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - t0
    recap = [x for x in proc.stdout.splitlines() if x.startswith("localhost") and "ok=" in x]
    stats = dict(kv.split("=") for kv in recap[-1].split(":", 1)[1].split()) if recap else {}
    return {"wall": wall, "requests": dict(requests_since(offset, agent)), "rc": proc.returncode,
            "changed": int(stats.get("changed", -1)), "tail": proc.stdout[-1500:] if proc.returncode else ""}


def live_groups(prefix):
    body = requests.get(API + "/security-groups", timeout=60).json()
    return dict((g["name"], g) for g in body["security_groups"] if g["name"].startswith(prefix))


def converged(prefix, groups):
    """Does Neutron now hold exactly the wanted rules? (our plan as the judge)"""
    desired = R.parse_groups([{"name": n, "rules": rules} for n, rules in groups.items()])
    return not R.plan(desired, live_groups(prefix)).changed


def cleanup(prefix):
    for group in live_groups(prefix).values():
        requests.delete(API + "/security-groups/" + group["id"], timeout=60)


def subset(groups, loop_rules):
    # The worker group first: it holds the rule the one-rule change edits.
    order = sorted(groups, key=lambda n: 0 if n.endswith("worker") else 1)
    flat = [(n, r) for n in order for r in groups[n]][:loop_rules]
    return dict((n, [r for m, r in flat if m == n]) for n in groups)


class Tool(object):
    """One tool's environment (its own group names) and its phases."""

    def __init__(self, tool, workdir, loop_rules=None):
        self.tool, self.workdir = tool, workdir
        self.prefix = {"ours": "bo-", "cloud": "bc-", "loop": "bl-"}[tool]
        self.base, self.changed = workload(self.prefix), workload(self.prefix, change=True)
        if tool == "loop" and loop_rules:
            self.base, self.changed = subset(self.base, loop_rules), subset(self.changed, loop_rules)
        self.rules = sum(len(r) for r in self.base.values())
        self.current = self.base
        self.results = dict((p, []) for p in PHASES)

    def phase(self, phase, wanted):
        gone = [(n, r) for n in self.current for r in self.current[n] if r not in wanted[n]]
        book = loop_playbook(wanted, gone) if self.tool == "loop" else playbook(self.tool, wanted, gone)
        result = run(book, self.workdir, AGENTS[self.tool])
        # The loop is not exclusive (it never removes what it was not told about): not judged.
        result["converged"] = None if self.tool == "loop" else converged(self.prefix, wanted)
        self.current = wanted
        self.results[phase].append(result)
        print("  %-6s %-16s %7.1fs  %-28s changed=%s converged=%s rc=%d" % (
            self.tool, phase, result["wall"], fmt_requests(result["requests"]), result["changed"], result["converged"],
            result["rc"]), file=sys.stderr)
        if result["rc"]:
            print(result["tail"], file=sys.stderr)

    def first(self):
        cleanup(self.prefix)
        self.phase(PHASES[0], self.base)

    def noop(self):
        self.phase(PHASES[1], self.current)

    def one_change(self):
        # Toggle between the two variants: every run changes exactly one rule.
        self.phase(PHASES[2], self.changed if self.current is self.base else self.base)

    def summary(self):
        out = {"tool": self.tool, "rules": self.rules, "phases": []}
        for phase in PHASES:
            runs = self.results[phase]
            walls = [r["wall"] for r in runs]
            median = sorted(walls)[len(walls) // 2]
            out["phases"].append(dict(runs[walls.index(median)], phase=phase, runs=len(runs), walls=walls))
        return out


def fmt_requests(counts):
    return " ".join("%s %d" % (m, counts[m]) for m in ("GET", "POST", "PUT", "DELETE") if counts.get(m))


def table(measured):
    by_tool = dict((m["tool"], m) for m in measured)
    ours = by_tool.get("ours")
    lines = ["| phase | tool | rules | runs | wall s (median) | requests | changed tasks | converged | ours faster by |",
             "|---|---|---|---|---|---|---|---|---|"]
    for i, phase in enumerate(PHASES):
        for tool in ("ours", "cloud", "loop"):
            m = by_tool.get(tool)
            if not m:
                continue
            r = m["phases"][i]
            ratio = ""
            if ours and tool != "ours":
                wall = r["wall"]
                if m["rules"] < ours["rules"]:
                    wall = wall * ours["rules"] / m["rules"]  # per-rule cost scaled to the full set
                    ratio = "%.1fx (scaled to %d rules)" % (wall / ours["phases"][i]["wall"], ours["rules"])
                else:
                    ratio = "%.1fx" % (wall / ours["phases"][i]["wall"])
            lines.append("| %s | %s | %d | %d | %.1f | %s | %s | %s | %s |" % (
                phase, tool, m["rules"], r["runs"], r["wall"], fmt_requests(r["requests"]), r["changed"],
                "-" if r["converged"] is None else r["converged"], ratio))
    return "\n".join(lines)


# --- the fleet workload (issue 18): 4 groups -> 40 groups x 50 rules -> 10 clusters ---------

FLEET_SIZES = ("4 groups", "40 groups", "10 clusters")
FLEET_TOOLS = ("ours", "cloud")


def fleet_groups(prefix, count=40, change=False):
    """40 groups x 50 rules: 10 remote-group references to other groups of the set, 38 CIDRs,
    2 egress rules. change=True moves one CIDR rule of the first group from tcp/2000 to 2999."""
    names = ["%sg%02d" % (prefix, i) for i in range(count)]
    groups = {}
    for i, name in enumerate(names):
        rules = [{"protocol": "tcp", "port": 1000 + j, "remote_group": names[(i + j + 1) % count]} for j in range(10)]
        rules += [{"protocol": "tcp", "port": 2000 + j, "remote_ip_prefix": "10.%d.%d.0/24" % (i, j)} for j in range(38)]
        rules += [{"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"}]
        groups[name] = rules
    if change:
        groups[names[0]][10] = dict(groups[names[0]][10], port=2999)
    return groups


def fleet_specs(prefix, count=10, change=False):
    """`count` cluster specs of the lab's shape; change=True: one admin CIDR of the first replaced."""
    return [cluster("%sc%02d" % (prefix, i), change=change and i == 0) for i in range(count)]


def spec_groups(specs):
    """The specs rendered as {group: [rule dict]}: what the incumbent is given, and the judge."""
    return dict((g.name, [as_dict(r) for r in g.rules]) for spec in specs for g in render(spec))


def floor_book():
    return [{"hosts": "localhost", "gather_facts": False, "tasks": [{"name": "floor", "ansible.builtin.ping": {}}]}]


# A module that only takes our module's arguments (Ansible templates, sends, validates and
# echoes them) and does nothing: the floor for a task of this size, Ansible's own cost.
ARGS_FLOOR_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
AnsibleModule(argument_spec=dict(security_groups=dict(type='list', elements='dict', default=[]), cluster=dict(type='dict'),
                                 clusters=dict(type='list', elements='raw', default=[])), supports_check_mode=True).exit_json(changed=False)
"""


def args_floor_book(book):
    """Our book with the module swapped for ARGS_FLOOR_MODULE (same arguments, no module_defaults)."""
    play = dict(book[0], module_defaults={})
    play["tasks"] = [dict((("netsec_args_floor" if k == "safespring.netsec.security_group" else k), v) for k, v in t.items())
                     for t in play["tasks"]]
    return [play]


def cluster_book(tool, specs):
    """One cluster: ours renders it from the spec (`cluster:`), the incumbent gets the rendered rules."""
    if tool != "ours":
        return playbook(tool, spec_groups(specs))
    return [{"hosts": "localhost", "gather_facts": False,
             "module_defaults": {"group/safespring.netsec.openstack": {"cloud": CLOUD}},
             "tasks": [{"name": "cluster", "safespring.netsec.security_group": {"cluster": specs[0]}}]}]


def clusters_books(tool, specs):
    """One inventory host per cluster (hostvars `fleet_cluster`, the spec); ours syncs every cluster
    in one call (`clusters:`, run_once, one list request), the incumbent per host the rendered
    groups, groups first, then the rules."""
    hosts = dict((spec["name"], {"ansible_connection": "local", "fleet_cluster": spec}) for spec in specs)
    if tool == "ours":
        tasks = [{"name": "fleet", "run_once": True, "safespring.netsec.security_group": {
            "clusters": "{{ ansible_play_hosts | map('extract', hostvars, 'fleet_cluster') | list }}"}}]
        defaults = {"group/safespring.netsec.openstack": {"cloud": CLOUD}}
    else:
        for host in hosts.values():
            spec = host.pop("fleet_cluster")
            host["fleet_groups"] = [{"name": n, "rules": [to_cloud_rule(r) for r in rules]}
                                    for n, rules in spec_groups([spec]).items()]
        defaults = {"group/openstack.cloud.openstack": {"cloud": CLOUD}}
        tasks = [{"name": "groups", "openstack.cloud.security_group": {"name": "{{ item.name }}"},
                  "loop": "{{ fleet_groups }}", "loop_control": {"label": "{{ item.name }}"}},
                 {"name": "rules", "openstack.cloud.security_group": {"name": "{{ item.name }}", "security_group_rules": "{{ item.rules }}"},
                  "loop": "{{ fleet_groups }}", "loop_control": {"label": "{{ item.name }}"}}]
    book = [{"hosts": "all", "gather_facts": False, "module_defaults": defaults, "tasks": tasks}]
    return book, {"all": {"hosts": hosts}}


def run_measured(book, workdir, agent, inventory=None, forks=10):
    """ansible-playbook once: wall, client CPU (the process and every child it waited for:
    workers and module runs), requests by method and Neutron's own time (access log)."""
    path = workdir / "play.json"
    path.write_text(json.dumps(book))
    inv = "localhost,"
    if inventory is not None:
        inv = str(workdir / "inventory.json")
        pathlib.Path(inv).write_text(json.dumps(inventory))
    library = workdir / "library"
    library.mkdir(exist_ok=True)
    (library / "netsec_args_floor.py").write_text(ARGS_FLOOR_MODULE)
    env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_FORKS=str(forks), ANSIBLE_LIBRARY=str(library))
    offset = ACCESS_LOG.stat().st_size
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", inv, "-c", "local", str(path)],
                          capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    time.sleep(0.3)  # gunicorn logs a request after answering it
    with open(ACCESS_LOG, "rb") as f:
        f.seek(offset)
        lines = [x for x in f.read().decode(errors="replace").splitlines() if ('"%s' % agent) in x] if agent else []
    counts, neutron_ms = Counter(), 0
    for line in lines:
        parts = line.split(" ", 4)
        counts[parts[0]] += 1
        neutron_ms += int(parts[3]) if parts[3].isdigit() else 0
    changed = sum(int(m) for m in re.findall(r" changed=(\d+)", proc.stdout.split("PLAY RECAP")[-1]))
    return {"wall": wall, "cpu": cpu, "requests": dict(counts), "neutron": neutron_ms / 1000.0, "rc": proc.returncode,
            "changed": changed, "tail": proc.stdout[-1500:] if proc.returncode else ""}


class FleetTool(object):
    """One tool at one size: its own names, both variants (base and one rule changed)."""

    def __init__(self, tool, size, prefix, workdir):
        self.tool, self.size, self.workdir = tool, size, workdir
        self.prefix = "%s%s%d-" % (prefix, tool[0], FLEET_SIZES.index(size))
        # The cluster sizes are cluster specs: ours is given the spec (`cluster:` / `clusters:`,
        # rendered in the module), the incumbent the rendered rules. One-rule change: one admin CIDR.
        self.specs = None
        if size == "40 groups":
            self.variants = (fleet_groups(self.prefix), fleet_groups(self.prefix, change=True))
        else:
            if size == "4 groups":
                self.specs = tuple([cluster(self.prefix.rstrip("-"), change)] for change in (False, True))
            else:
                self.specs = tuple(fleet_specs(self.prefix, 10, change) for change in (False, True))
            self.variants = tuple(spec_groups(specs) for specs in self.specs)
        self.rules = sum(len(r) for r in self.variants[0].values())
        self.current = 0
        self.results = dict((p, []) for p in PHASES)

    def book(self, index):
        """(playbook, inventory or None) of one variant."""
        if self.size == "10 clusters":
            return clusters_books(self.tool, self.specs[index])
        if self.size == "4 groups":
            return cluster_book(self.tool, self.specs[index]), None
        return playbook(self.tool, self.variants[index]), None

    def phase(self, phase, index):
        variant = self.variants[index]
        book, inventory = self.book(index)
        result = run_measured(book, self.workdir, AGENTS[self.tool], inventory)
        result["converged"] = converged(self.prefix, variant)
        self.current = index
        self.results[phase].append(result)
        print("  %-11s %-5s %-16s %7.1fs cpu %5.1fs neutron %6.1fs  %-26s changed=%s converged=%s rc=%d" % (
            self.size, self.tool, phase, result["wall"], result["cpu"], result["neutron"], fmt_requests(result["requests"]),
            result["changed"], result["converged"], result["rc"]), file=sys.stderr)
        if result["rc"]:
            print(result["tail"], file=sys.stderr)

    def median(self, phase):
        runs = self.results[phase]
        if not runs:
            return None
        walls = sorted(r["wall"] for r in runs)
        mid = walls[len(walls) // 2]
        return dict(next(r for r in runs if r["wall"] == mid), runs=len(runs))


def fleet(args, workdir):
    prefix = "b18%s-" % uuid.uuid4().hex[:4]
    sizes = [s for s in FLEET_SIZES if s.split()[0] in args.sizes.split(",")]
    floor = []
    out = {}
    args_floor = {}
    for size in sizes:
        tools = [FleetTool(t, size, prefix, workdir) for t in args.tools.split(",")]
        out[size] = tools
        args_floor[size] = []

        def rounds(tool, phase):
            if phase == PHASES[0] and args.first_repeat is not None:
                return args.first_repeat
            if tool.tool == "ours" or size == "4 groups":
                return args.repeat
            return args.cloud_fleet_repeat
        try:
            for phase, index_of in ((PHASES[0], lambda t: 0), (PHASES[1], lambda t: t.current),
                                    (PHASES[2], lambda t: 1 - t.current)):
                for rnd in range(max(rounds(t, phase) for t in tools)):
                    for tool in tools:
                        if rnd >= rounds(tool, phase):
                            continue
                        if phase == PHASES[0]:
                            cleanup(tool.prefix)
                        tool.phase(phase, index_of(tool))
                    floor.append(run_measured(floor_book(), workdir, None))
                    ours = [t for t in tools if t.tool == "ours"]
                    if ours and phase != PHASES[0]:
                        book, inventory = ours[0].book(ours[0].current)
                        args_floor[size].append(run_measured(args_floor_book(book), workdir, None, inventory))
        finally:
            for tool in tools:
                cleanup(tool.prefix)
    print(fleet_table(out, floor, args_floor))
    return out, floor


def _medians(runs):
    walls, cpus = sorted(r["wall"] for r in runs), sorted(r["cpu"] for r in runs)
    return walls[len(walls) // 2], cpus[len(cpus) // 2]


def fleet_table(out, floor, args_floor=None):
    floor_wall, floor_cpu = _medians(floor)
    lines = ["| size | phase | tool | rules | runs | wall s | client CPU s | Neutron s | requests | wall vs incumbent | wall vs floor |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for size, tools in out.items():
        by_tool = dict((t.tool, t) for t in tools)
        for phase in PHASES:
            ours = by_tool.get("ours") and by_tool["ours"].median(phase)
            for tool in tools:
                m = tool.median(phase)
                if m is None:
                    continue
                ratio = ""
                if tool.tool == "cloud" and ours:
                    ratio = "%.1fx" % (m["wall"] / ours["wall"])
                lines.append("| %s | %s | %s | %d | %d | %.2f | %.2f | %.2f | %s | %s | %.2fx |" % (
                    size, phase, tool.tool, tool.rules, m["runs"], m["wall"], m["cpu"], m["neutron"],
                    fmt_requests(m["requests"]), ratio, m["wall"] / floor_wall))
    lines.append("")
    lines.append("Floor (bare ansible-playbook, one ansible.builtin.ping task, interleaved): wall %.2f s, client CPU %.2f s "
                 "(median of %d)." % (floor_wall, floor_cpu, len(floor)))
    for size, runs in (args_floor or {}).items():
        if runs:
            wall, cpu = _medians(runs)
            lines.append("Floor with ours' arguments at %s (a module that only takes them: Ansible's cost of the task's input), "
                         "interleaved: wall %.2f s (%.2fx the floor), client CPU %.2f s (median of %d)."
                         % (size, wall, wall / floor_wall, cpu, len(runs)))
    return "\n".join(lines)


# --- address groups (issue 18): N admin CIDRs as literal rules vs one address group ----------

AG_VARIANTS = ("literal rules", "address group")
AG_SERVICES = (22, 6443)  # ssh and the API from the admin ranges


def admin_cidrs(count, change=False):
    cidrs = ["10.%d.%d.0/24" % (i // 256, i % 256) for i in range(count)]
    if change:
        cidrs[-1] = "10.250.0.0/24"  # one range replaced
    return cidrs


def ag_book(variant, prefix, count, change=False):
    cidrs = admin_cidrs(count, change)
    egress = [{"direction": "egress", "ethertype": "IPv4"}, {"direction": "egress", "ethertype": "IPv6"}]
    args = {}
    if variant == AG_VARIANTS[0]:
        rules = [{"protocol": "tcp", "port": port, "remote_ip_prefix": c} for port in AG_SERVICES for c in cidrs]
    else:
        args["address_groups"] = [{"name": prefix + "admins", "addresses": cidrs}]
        rules = [{"protocol": "tcp", "port": port, "remote_address_group": prefix + "admins"} for port in AG_SERVICES]
    args["security_groups"] = [{"name": prefix + "jump", "rules": rules + egress}]
    return [{"hosts": "localhost", "gather_facts": False, "module_defaults": {"group/safespring.netsec.openstack": {"cloud": CLOUD}},
             "tasks": [{"name": "admin ranges", "safespring.netsec.security_group": args}]}]


def cleanup_address_groups(prefix):
    cleanup(prefix)
    body = requests.get(API + "/address-groups", timeout=60).json()
    for group in body.get("address_groups", []):
        if group["name"].startswith(prefix):
            requests.delete(API + "/address-groups/" + group["id"], timeout=60)


def address_groups_compare(count, repeat, workdir, first_repeat=None):
    """Both variants interleaved, ours both times: rules stored, requests and time per phase."""
    prefix = "b18ag%s-" % uuid.uuid4().hex[:4]
    prefixes = dict((v, "%s%d-" % (prefix, i)) for i, v in enumerate(AG_VARIANTS))
    results = dict((v, dict((p, []) for p in PHASES)) for v in AG_VARIANTS)
    state = dict((v, False) for v in AG_VARIANTS)
    try:
        for phase in PHASES:
            for dummy_round in range(first_repeat if phase == PHASES[0] and first_repeat else repeat):
                for variant in AG_VARIANTS:
                    pre = prefixes[variant]
                    if phase == PHASES[0]:
                        cleanup_address_groups(pre)
                        state[variant] = False
                    elif phase == PHASES[2]:
                        state[variant] = not state[variant]
                    result = run_measured(ag_book(variant, pre, count, state[variant]), workdir, AGENTS["ours"])
                    group = live_groups(pre).get(pre + "jump") or {}
                    result["rules"] = len(group.get("security_group_rules") or [])
                    results[variant][phase].append(result)
                    print("  %-14s %-16s %7.1fs neutron %6.1fs  %-26s changed=%s rules=%d rc=%d" % (
                        variant, phase, result["wall"], result["neutron"], fmt_requests(result["requests"]), result["changed"],
                        result["rules"], result["rc"]), file=sys.stderr)
                    if result["rc"]:
                        print(result["tail"], file=sys.stderr)
    finally:
        for pre in prefixes.values():
            cleanup_address_groups(pre)
    lines = ["%d admin CIDRs admitted on tcp/%s: literal rules vs one address group (ours both; medians of %d, first converge %d)"
             % (count, " and tcp/".join(str(p) for p in AG_SERVICES), repeat, first_repeat or repeat), "",
             "(one-rule change here: one admin CIDR replaced by another)", "",
             "| phase | variant | rules in the group | wall s | Neutron s | requests | address group saves |", "|---|---|---|---|---|---|---|"]
    for phase in PHASES:
        med = {}
        for variant in AG_VARIANTS:
            runs = results[variant][phase]
            walls = sorted(r["wall"] for r in runs)
            med[variant] = next(r for r in runs if r["wall"] == walls[len(walls) // 2])
        for variant in AG_VARIANTS:
            m = med[variant]
            saves = ""
            if variant == AG_VARIANTS[1]:
                lit = med[AG_VARIANTS[0]]
                saves = "%d rules, %.1fx wall, %.1fx Neutron time" % (
                    lit["rules"] - m["rules"], lit["wall"] / m["wall"], lit["neutron"] / m["neutron"] if m["neutron"] else 0.0)
            lines.append("| %s | %s | %d | %.2f | %.2f | %s | %s |" % (
                phase, variant, m["rules"], m["wall"], m["neutron"], fmt_requests(m["requests"]), saves))
    print("\n".join(lines))
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", default="ours,cloud,loop")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase per tool, the loop's excepted (median reported)")
    parser.add_argument("--loop-rules", type=int, default=40, help="rules in the loop's subset (0: all 190, ~270 s a phase)")
    parser.add_argument("--json", help="write the measurements here")
    parser.add_argument("--fleet", action="store_true", help="the fleet workload: 4 groups, 40 groups x 50 rules, 10 clusters")
    parser.add_argument("--sizes", default="4,40,10", help="fleet sizes to run (4: lab shape, 40: 40x50, 10: ten clusters)")
    parser.add_argument("--address-group-cidrs", type=int, default=200,
                        help="with --fleet (or alone with --address-groups): N admin CIDRs as literal rules vs one address group (0: skip)")
    parser.add_argument("--address-groups", action="store_true", help="only the address-group comparison")
    parser.add_argument("--first-repeat", type=int, help="rounds of the first converge (default: --repeat; it is Neutron-bound)")
    parser.add_argument("--cloud-fleet-repeat", type=int, default=1,
                        help="rounds of openstack.cloud.security_group at 40 groups and 10 clusters (~7 min a round)")
    args = parser.parse_args()
    if requests.get(API + "/security-groups", timeout=10).status_code != 200:
        raise SystemExit("the lab Neutron is not up: tests/lab/neutron.sh up")
    workdir = REPO / ".build" / "bench-security-groups"
    workdir.mkdir(parents=True, exist_ok=True)
    if args.address_groups:
        address_groups_compare(args.address_group_cidrs, args.repeat, workdir, args.first_repeat)
        return
    if args.fleet:
        args.tools = ",".join(t for t in args.tools.split(",") if t in FLEET_TOOLS)
        measured, floor = fleet(args, workdir)
        if args.address_group_cidrs:
            print()
            address_groups_compare(args.address_group_cidrs, args.repeat, workdir, args.first_repeat)
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps({"floor": floor, "sizes": dict(
                (size, [dict(tool=t.tool, rules=t.rules, results=t.results) for t in tools]) for size, tools in measured.items())},
                indent=1))
        return
    names = args.tools.split(",")
    tools = [Tool(t, workdir, args.loop_rules or None) for t in names]
    # Interleaved, so that every tool meets the same machine load (2 shared cores).
    for dummy_repeat in range(args.repeat):
        for tool in tools:
            if tool.tool != "loop" or not tool.results[PHASES[0]]:
                tool.first()  # from empty each time: the groups are deleted first
    for dummy_repeat in range(args.repeat):
        for tool in tools:
            if tool.tool != "loop" or not tool.results[PHASES[1]]:
                tool.noop()
    for dummy_repeat in range(args.repeat):
        for tool in tools:
            if tool.tool != "loop" or not tool.results[PHASES[2]]:
                tool.one_change()
    for tool in tools:
        cleanup(tool.prefix)
    measured = [t.summary() for t in tools]
    print(table(measured))
    print()
    print("Medians of %d runs per phase (loop: one run per phase on %s rules, scaled linearly to the full set for the ratio)."
          % (args.repeat, args.loop_rules or "all"))
    print("Issue's earlier figures (same workload shape): openstack.cloud.security_group ~20 / ~11 / ~11 s; "
          "rule loop ~270 s per phase; hand-written SDK diff+bulk script 7.6 / 0.6 / 0.8 s.")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(measured, indent=1))


if __name__ == "__main__":
    main()
