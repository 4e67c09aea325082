"""Hostile input to roles/lb_ha, through ansible-playbook on localhost (render only, no lab).

- Each class of issue 13 (a command in a service address for the root-run address script, a
  newline in a VRRP peer or VIP adding a keepalived `notify_master`, BIRD statements through the
  BGP password or the log target, default or wider-than-needed export prefixes) is refused in the
  role's first task, naming the variable, and nothing at all is written.
- Legitimate values (hostile-looking where the grammar allows it) render configs that the real
  checkers accept (`bird -p -c`, `keepalived --config-test -f`) and whose parsed directives are
  exactly the intended ones.
- The rendered lb_ha_addresses script never evaluates shell: run against a recording `ip` stub
  it passes each address as one argv element, refuses hostile JSON without calling `ip`, and in a
  network namespace of the test's own it puts the addresses on lo and takes them off again.
"""
import importlib.util
import ipaddress
import json
import os
import pathlib
import shlex
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from fixtures.lb_ha import render_pair

REPO = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("lab_topology", REPO / "tests" / "lab" / "netns" / "topology.py")
_topology = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_topology)
TOPO = _topology.load()
LB1, LB2 = TOPO.hosts["lb1"], TOPO.hosts["lb2"]
ANYCAST = [TOPO.data["anycast"]["ipv4"], TOPO.data["anycast"]["ipv6"]]
VIP = TOPO.data["vrrp"]["vip"]
PEER = str(TOPO.peer_address.ip)
# Valid for BIRD's quoted string (no '"', '\\' or control characters), hostile in a shell or a comment.
PASSWORD = "pw;{x}#!$(id)'`&|"
NOTIFY = '\nnotify_master "/bin/touch {pwned}"\n'


# The units are written only with lb_ha_manage_service; render the address unit here to read its contract.
POST_TASKS = """\
  post_tasks:
    - name: Render the address unit
      ansible.builtin.template:
        src: "{{ repo }}/roles/lb_ha/templates/lb-ha-addresses.service.j2"
        dest: "{{ lb_ha_config_dir }}/lb-ha-addresses.service"
        mode: "0644"
      when: lb_ha_typed.mode == 'bgp'
"""


def run_play(root, hosts, *args):
    """roles/lb_ha on `hosts` ({name: vars}) with connection local; per-host results of the typing task."""
    inventory = {"all": {"children": {"lb": {"hosts": hosts}}, "vars": {"repo": str(REPO)}}}
    proc = render_pair(root, inventory, check=False, extra_args=args, post_tasks=POST_TASKS, callback="ansible.posix.json")
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    typing = {}
    for task in data["plays"][0]["tasks"]:
        if task["task"]["name"].endswith("Type the role's variables before anything is written"):
            typing = task["hosts"]
    return proc, typing


def host_vars(root, name, mode, me=LB1, other=LB2, **overrides):
    base = root / name
    out = {
        "lb_ha_mode": mode,
        "lb_ha_group": "lb",
        "lb_ha_service_addresses": ANYCAST if mode == "bgp" else [VIP],
        "lb_ha_address": str(me.ipv4),
        "lb_ha_address6": str(me.ipv6),
        "lb_ha_vrrp_unicast_peers": [str(other.ipv4)],
        "lb_ha_bgp_peer_address": PEER,
        "lb_ha_bgp_peer_as": TOPO.router_asn,
        "lb_ha_bgp_local_as": int(TOPO.bgp["lb_asn"]),
        "lb_ha_include_haproxy": False,
        "lb_ha_install": False,
        "lb_ha_manage_service": False,
        "lb_ha_config_dir": str(base / "lb_ha"),
        "lb_ha_run_dir": str(base / "run"),
        "lb_ha_bin_dir": str(base / "bin"),
        "lb_ha_bird_config": str(base / "bird" / "bird.conf"),
        "lb_ha_bird_socket": str(base / "run" / "bird.ctl"),
        "lb_ha_keepalived_config": str(base / "keepalived" / "keepalived.conf"),
        "lb_ha_vrrp_transitions_log": str(base / "vrrp-transitions.log"),
    }
    out.update(overrides)
    return out


# --- hostile values: refused in the first task, naming the variable, nothing written ---------

def hostile_cases(pwned):
    notify = NOTIFY.format(pwned=pwned)
    return {
        # name: (mode, overrides, the field the error must name)
        "svc_cmd": ("bgp", {"lb_ha_service_addresses": ["198.18.0.10/32; touch %s" % pwned, ANYCAST[1]]}, "lb_ha_service_addresses[0]"),
        "svc_subst": ("bgp", {"lb_ha_service_addresses": [ANYCAST[0], "$(touch %s)" % pwned]}, "lb_ha_service_addresses[1]"),
        "peer_notify": ("vrrp", {"lb_ha_vrrp_unicast_peers": [str(LB2.ipv4) + notify]}, "lb_ha_vrrp_unicast_peers[0]"),
        "vip_notify": ("vrrp", {"lb_ha_service_addresses": [VIP + notify]}, "lb_ha_service_addresses[0]"),
        "iface_block": ("vrrp", {"lb_ha_vrrp_interface": "eth0\n}\nvrrp_script x {"}, "lb_ha_vrrp_interface"),
        "track_name": ("vrrp", {"lb_ha_vrrp_track_process_name": "haproxy\n}\nvrrp_script x {"}, "lb_ha_vrrp_track_process_name"),
        "track_notify": ("vrrp", {"lb_ha_vrrp_track_process_name": "haproxy" + notify}, "lb_ha_vrrp_track_process_name"),
        "log_file": ("vrrp", {"lb_ha_vrrp_transitions_log": '/tmp/x"\nnotify_master "/bin/touch %s' % pwned}, "lb_ha_vrrp_transitions_log"),
        "bgp_password": ("bgp", {"lb_ha_bgp_password": 'x"; bfd off; passive on; password "y'}, "lb_ha_bgp_password"),
        "bird_log": ("bgp", {"lb_ha_bird_log": '/tmp/b.log" all; protocol static evil { ipv4; route 0.0.0.0/0 blackhole; }; log "/tmp/c'},
                     "lb_ha_bird_log"),
        "export_default4": ("bgp", {"lb_ha_bgp_export_prefixes": ["0.0.0.0/0", ANYCAST[1]]}, "lb_ha_bgp_export_prefixes[0]"),
        "export_default6": ("bgp", {"lb_ha_bgp_export_prefixes": [ANYCAST[0], "::/0"]}, "lb_ha_bgp_export_prefixes[1]"),
        "export_wide": ("bgp", {"lb_ha_bgp_export_prefixes": [TOPO.data["anycast"]["ipv4"].rsplit(".", 1)[0] + ".0/24", ANYCAST[1]]},
                        "lb_ha_bgp_export_prefixes[0]"),
    }


def test_every_hostile_class_is_refused_naming_the_variable_before_anything_is_written(tmp_path):
    pwned = tmp_path / "PWNED"
    cases = hostile_cases(pwned)
    hosts = {name: host_vars(tmp_path / "hosts", name, mode, **overrides) for name, (mode, overrides, _field) in cases.items()}
    proc, typing = run_play(tmp_path / "play", hosts, "-vvv")
    assert proc.returncode != 0
    for name, (_mode, _overrides, field) in cases.items():
        result = typing[name]
        assert result.get("failed"), (name, result)
        assert "failed: %s: " % field in result["msg"], (name, result["msg"])
        # Nothing of the role reached the host: no directory, no file.
        assert not (tmp_path / "hosts" / name).exists(), name
    assert not pwned.exists()
    # The secret is never echoed, not even at -vvv.
    assert 'bfd off; passive on' not in proc.stdout + proc.stderr


# --- legitimate values: the checkers pass and the directives are exactly the intended ones ---

def bird_statements(text):
    """BIRD config -> [(block path, statement)], comments dropped, strings kept whole."""
    out, stack, current, i = [], [], "", 0
    while i < len(text):
        char = text[i]
        if char == '"':
            end = text.index('"', i + 1)
            current += text[i:end + 1]
            i = end + 1
            continue
        if char == "#":
            i = text.index("\n", i)
            continue
        if char == "{" and current[-1:].strip():
            # A prefix pattern's length range (198.18.0.10/32{32,32}), not a block.
            end = text.index("}", i)
            current += text[i:end + 1]
            i = end + 1
            continue
        if char in ";{}":
            statement = " ".join(current.split())
            if char == "{":
                stack.append(statement)
            elif statement:
                out.append((" / ".join(stack), statement))
            if char == "}":
                stack.pop()
            current = ""
        else:
            current += char
        i += 1
    assert not stack and not current.strip()
    return out


def keepalived_lines(text):
    """keepalived config -> its non-comment lines as token lists (shlex keeps quoted strings whole)."""
    out = []
    for line in text.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
        lexer.commenters = "#!"
        lexer.whitespace_split = True
        tokens = list(lexer)
        if tokens:
            out.append(tokens)
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb_ha_legit")
    hosts = {
        "bgp1": host_vars(root / "hosts", "bgp1", "bgp", lb_ha_primary="bgp1", lb_ha_bgp_topology="active_standby",
                          lb_ha_bgp_password=PASSWORD, lb_ha_bird_log=str(root / "hosts" / "bgp1" / "bird+lab@1.log"),
                          lb_ha_bgp_export_prefixes=list(ANYCAST), lb_ha_bgp_hold_time=9),
        "bgp2": host_vars(root / "hosts", "bgp2", "bgp", me=LB2, lb_ha_primary="bgp1", lb_ha_bgp_topology="active_standby"),
        "vrrp1": host_vars(root / "hosts", "vrrp1", "vrrp", lb_ha_primary="vrrp1"),
    }
    proc, typing = run_play(root / "play", hosts, "-v", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert all(not r.get("failed") for r in typing.values())
    assert PASSWORD not in proc.stdout + proc.stderr
    return root / "hosts"


def test_bird_conf_passes_bird_and_holds_exactly_the_intended_statements(rendered):
    conf = rendered / "bgp1" / "bird" / "bird.conf"
    subprocess.run(["bird", "-p", "-c", str(conf)], check=True, capture_output=True)
    peer = "protocol bgp lb_ha_peer"
    assert bird_statements(conf.read_text()) == [
        ("", 'log "%s" all' % (rendered / "bgp1" / "bird+lab@1.log")),
        ("", "router id %s" % LB1.ipv4),
        ("protocol device", "scan time 10"),
        ("protocol static lb_ha_vip4", "ipv4"),
        ("protocol static lb_ha_vip4", 'route %s via "lo"' % ANYCAST[0]),
        ("protocol static lb_ha_vip6", "ipv6"),
        ("protocol static lb_ha_vip6", 'route %s via "lo"' % ANYCAST[1]),
        ("filter lb_ha_export4 / if net ~ [ %s{32,32} ] then" % ANYCAST[0], "accept"),
        ("filter lb_ha_export4", "reject"),
        ("filter lb_ha_export6 / if net ~ [ %s{128,128} ] then" % ANYCAST[1], "accept"),
        ("filter lb_ha_export6", "reject"),
        ("protocol bfd lb_ha_bfd / multihop", "interval 100 ms"),
        ("protocol bfd lb_ha_bfd / multihop", "multiplier 3"),
        (peer, 'description "platform peer (lb_ha, active_standby)"'),
        (peer, "local %s as %d" % (LB1.ipv4, int(TOPO.bgp["lb_asn"]))),
        (peer, "source address %s" % LB1.ipv4),
        (peer, "neighbor %s as %d" % (PEER, TOPO.router_asn)),
        (peer, "multihop"),
        (peer, 'password "%s"' % PASSWORD),
        (peer, "bfd on"),
        (peer, "hold time 9"),
        (peer, "keepalive time 3"),
        (peer, "connect delay time 1"),
        (peer, "connect retry time 2"),
        (peer, "error wait time 1, 5"),
        (peer + " / ipv4", "import none"),
        (peer + " / ipv4", "export filter lb_ha_export4"),
        (peer + " / ipv6", "import none"),
        (peer + " / ipv6", "export filter lb_ha_export6"),
        (peer + " / ipv6", "next hop address %s" % LB1.ipv6),
    ]
    # The standby prepends its AS once, inside the export filters only.
    standby = bird_statements((rendered / "bgp2" / "bird" / "bird.conf").read_text())
    assert [s for s in standby if "prepend" in s[1]] == [
        ("filter lb_ha_export%s / if net ~ [ %s{%d,%d} ] then" % (f, a, b, b), "bgp_path.prepend(%d)" % int(TOPO.bgp["lb_asn"]))
        for f, a, b in (("4", ANYCAST[0], 32), ("6", ANYCAST[1], 128))]
    assert conf.stat().st_mode & 0o777 == 0o640


def test_keepalived_conf_passes_keepalived_and_holds_exactly_the_intended_lines(rendered):
    base = rendered / "vrrp1"
    conf = base / "keepalived" / "keepalived.conf"
    subprocess.run(["keepalived", "--config-test", "-f", str(conf)], check=True, capture_output=True)
    assert keepalived_lines(conf.read_text()) == [
        ["global_defs", "{"], ["router_id", "vrrp1"], ["vrrp_version", "3"], ["script_user", "root"], ["enable_script_security"],
        ["vrrp_garp_master_delay", "1"], ["vrrp_garp_master_repeat", "3"], ["}"],
        ["vrrp_track_process", "lb_ha_haproxy", "{"], ["process", "haproxy"],
        ["quorum", "1"], ["weight", "0"], ["}"],
        ["track_file", "lb_ha_health", "{"], ["file", str(base / "run" / "health.track")], ["weight", "0"], ["init_file", "0"], ["}"],
        ["vrrp_instance", "lb_ha", "{"], ["state", "BACKUP"], ["interface", "eth0"], ["virtual_router_id", "51"], ["priority", "150"],
        ["advert_int", "0.1"], ["nopreempt"], ["unicast_src_ip", str(LB1.ipv4)], ["unicast_peer", "{"], [str(LB2.ipv4)], ["}"],
        ["virtual_ipaddress", "{"], [VIP, "dev", "eth0"], ["}"], ["track_process", "{"], ["lb_ha_haproxy"], ["}"],
        ["track_file", "{"], ["lb_ha_health"], ["}"],
        ["notify", "%s %s" % (base / "bin" / "lb_ha_notify", base / "vrrp-transitions.log")], ["}"],
    ]


# --- the address script: argv only, never a shell --------------------------------------------

STUB = """#!%s
import json, os, sys
with open(os.environ["IP_STUB_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
""" % sys.executable


@pytest.fixture
def ip_stub(tmp_path):
    """A recording `ip` first on PATH: the test is about the script's argv, not about the kernel."""
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir()
    (stub_dir / "ip").write_text(STUB)
    (stub_dir / "ip").chmod(0o755)
    log = tmp_path / "ip.log"
    env = dict(os.environ, PATH="%s:%s" % (stub_dir, os.environ["PATH"]), IP_STUB_LOG=str(log))

    def run(script, *args):
        if log.exists():
            log.unlink()
        proc = subprocess.run([str(script), *args], capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=30, check=False)
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return proc, calls
    return run


def test_the_address_script_and_its_unit_read_the_role_json(rendered, ip_stub):
    unit = (rendered / "bgp1" / "lb_ha" / "lb-ha-addresses.service").read_text()
    starts = [shlex.split(line.split("=", 1)[1]) for line in unit.splitlines() if line.startswith(("ExecStart=", "ExecStop="))]
    config = str(rendered / "bgp1" / "lb_ha" / "addresses.json")
    assert starts == [[str(rendered / "bgp1" / "bin" / "lb_ha_addresses"), "up", config],
                      [str(rendered / "bgp1" / "bin" / "lb_ha_addresses"), "down", config]]
    assert json.loads(pathlib.Path(config).read_text()) == {"addresses": ANYCAST}
    for argv, verb in ((starts[0], "replace"), (starts[1], "del")):
        proc, calls = ip_stub(*argv)
        assert proc.returncode == 0, proc.stderr
        assert calls == [["addr", verb, address, "dev", "lo"] for address in ANYCAST]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(addresses=st.lists(st.one_of(st.ip_addresses(v=4).map(lambda a: "%s/32" % a), st.ip_addresses(v=6).map(lambda a: "%s/128" % a)),
                          min_size=1, max_size=4))
def test_stub_ip_gets_each_address_as_one_argv_element_from_a_config_path_full_of_shell(rendered, ip_stub, tmp_path, addresses):
    # A directory name a shell would expand, split and run: the script passes it to open(), nothing else.
    config_dir = tmp_path / "$(touch PWNED);`touch PWNED2` *"
    config_dir.mkdir(exist_ok=True)
    config = config_dir / "addresses.json"
    config.write_text(json.dumps({"addresses": addresses, "device": "lo; touch PWNED3"}))
    proc, calls = ip_stub(rendered / "bgp1" / "bin" / "lb_ha_addresses", "up", str(config))
    assert proc.returncode == 0, proc.stderr
    assert calls == [["addr", "replace", a, "dev", "lo"] for a in addresses]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("PWNED")]


@pytest.mark.parametrize("addresses", [["198.18.0.10/32; touch PWNED"], ["$(touch PWNED)"], ["198.18.0.10/32\ntouch PWNED"],
                                       ["198.18.0.10/32", "198.18.0.0/24"], ["198.18.0.10"], ["FD5A:FE::10/128"], [["198.18.0.10/32"]]])
def test_stub_ip_is_never_called_for_hostile_json(rendered, ip_stub, tmp_path, addresses):
    config = tmp_path / "addresses.json"
    config.write_text(json.dumps({"addresses": addresses}))
    proc, calls = ip_stub(rendered / "bgp1" / "bin" / "lb_ha_addresses", "up", str(config))
    assert proc.returncode == 1 and "addresses[" in proc.stderr
    assert calls == []
    assert not (tmp_path / "PWNED").exists()


def test_usage_errors_exit_2_without_calling_ip(rendered, ip_stub):
    for args in ((), ("start",), ("up", "a", "b")):
        proc, calls = ip_stub(rendered / "bgp1" / "bin" / "lb_ha_addresses", *args)
        assert proc.returncode == 2 and calls == []


def test_in_a_namespace_of_its_own_the_script_puts_the_addresses_on_lo_and_removes_them(rendered):
    netns = "lbha-test-%d" % os.getpid()
    script = str(rendered / "bgp1" / "bin" / "lb_ha_addresses")
    config = str(rendered / "bgp1" / "lb_ha" / "addresses.json")
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        def on_lo():
            out = subprocess.run(["ip", "-n", netns, "-o", "addr", "show", "dev", "lo"], capture_output=True, text=True, check=True).stdout
            return sorted(str(ipaddress.ip_interface(t)) for t in out.split() if "/" in t)
        subprocess.run(["ip", "netns", "exec", netns, script, "up", config], check=True)
        subprocess.run(["ip", "netns", "exec", netns, script, "up", config], check=True)  # replace: a second run is a no-op
        assert on_lo() == sorted(ANYCAST)
        subprocess.run(["ip", "netns", "exec", netns, script, "down", config], check=True)
        subprocess.run(["ip", "netns", "exec", netns, script, "down", config], check=True)  # already gone: still fine
        assert on_lo() == []
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
