# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying a config to one node without locking operators out.

plan (a dry run: the node's own diff) -> apply; in mode `try`, Talos reverts the config
after the try timeout unless a real apply commits it. The guard checks, while the try
runs, that apid still answers from the controller and that every extra guard command
(e.g. a probe from the jump host) succeeds; only then the same config is applied for
real. When the guard fails nothing is committed: Talos rolls back, and this reports it.

Guard commands are argv lists run without a shell; `{node}` in an argument becomes the node
(already typed as one IP address or DNS name). A shell as the program is refused, and a
talosctl invocation inside a guard may not add --insecure or point itself at other nodes or
endpoints: a guard that probes something else proves nothing about this node.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import duration_seconds, parse_node

# Time allowed after the try deadline for Talos to restore the previous config.
ROLLBACK_GRACE = 5
NODE_PLACEHOLDER = "{node}"
# Programs that would read an argument as shell code.
SHELLS = frozenset(("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "busybox", "eval"))
# talosctl flags a guard may not pass: TLS off, or a target other than the node being changed.
_TALOSCTL_REFUSED = {"--insecure": "turns off the mTLS check", "-i": "turns off the mTLS check",
                     "--endpoints": "points the probe at other endpoints", "-e": "points the probe at other endpoints"}
_TALOSCTL_NODES = ("--nodes", "-n")
MAX_GUARD_COMMANDS = 32
MAX_GUARD_ARGS = 128


def _program(argv):
    """The program a command runs, looking through `env [VAR=value ...]`."""
    i = 0
    while i < len(argv):
        name = os.path.basename(argv[i])
        if name != "env":
            return i, name
        i += 1
        while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
            i += 1
    return None, None


def _check_talosctl(args, field, start, node):
    """Flags of a talosctl call inside a guard (pflag syntax: --flag=v, --flag v, -n v, -nv)."""
    j = 0
    while j < len(args):
        arg, where = args[j], field_path(field, start + j)
        j += 1
        if arg == "--":
            return
        if arg.startswith("--"):
            flag, eq, value = arg.partition("=")
        elif arg.startswith("-n"):
            flag, value = "-n", arg[2:].lstrip("=")
            eq = "=" if value else ""
        elif arg.startswith("-") and len(arg) > 1:
            flag, value, eq = arg[:2], arg[2:], ""
            if flag not in _TALOSCTL_REFUSED:
                if set(arg[2:]) & set("ien"):
                    raise NetsecError("%s: a talosctl guard may not combine -i, -e or -n with other short flags" % arg, field=where)
                continue
        else:
            continue
        if flag in _TALOSCTL_REFUSED:
            raise NetsecError("%s in a talosctl guard %s" % (flag, _TALOSCTL_REFUSED[flag]), field=where,
                              fix="the guard must probe the node being changed, over mTLS")
        if flag in _TALOSCTL_NODES:
            if not eq:
                value = args[j] if j < len(args) else None
                j += 1
            if value not in (NODE_PLACEHOLDER, node):
                raise NetsecError("%s %s: a talosctl guard targets the node being changed" % (flag, _typed.secret_safe(value, False)),
                                  field=where, fix="write %s {node}" % flag)


def parse_guard_commands(commands, field="guard_commands", node=None):
    """Guard commands as lists of single-line strings; refuses shells and talosctl overrides.

    A talosctl call in a guard targets `{node}` (or `node` itself, when given)."""
    if not isinstance(commands, list):
        raise NetsecError("must be a list of argv lists", field=field)
    if len(commands) > MAX_GUARD_COMMANDS:
        raise NetsecError("has %d commands (at most %d)" % (len(commands), MAX_GUARD_COMMANDS), field=field)
    out = []
    for i, argv in enumerate(commands):
        cfield = field_path(field, i)
        if not isinstance(argv, list) or not argv:
            raise NetsecError("must be a non-empty argv list such as [ssh, jump, talosctl, --nodes, '{node}', version]", field=cfield,
                              fix="give the command as a list of arguments; it runs without a shell")
        if len(argv) > MAX_GUARD_ARGS:
            raise NetsecError("has %d arguments (at most %d)" % (len(argv), MAX_GUARD_ARGS), field=cfield)
        args = []
        for j, arg in enumerate(argv):
            if isinstance(arg, bool) or not isinstance(arg, (str, int)):
                raise NetsecError("must be a string", field=field_path(cfield, j))
            args.append(_typed.text(str(arg), field_path(cfield, j), max_len=4096))
        index, program = _program(args)
        if program is None:
            raise NetsecError("names no program", field=cfield)
        if program in SHELLS:
            raise NetsecError("runs %s: guard commands run without a shell" % program, field=field_path(cfield, index),
                              fix="call the check directly, or a script that takes the node as its argument")
        for j, arg in enumerate(args):
            if os.path.basename(arg) == "talosctl":
                _check_talosctl(args[j + 1:], cfield, j + 1, node)
        out.append(args)
    return out


def substitute(argv, node):
    """The argv of a guard command for this node."""
    return [arg.replace(NODE_PLACEHOLDER, node) for arg in argv]


class GuardFailed(NetsecError):
    pass


def _run_command(argv):
    # Guard commands run through AnsibleModule.run_command (talos_apply passes it in).
    raise NetsecError("no command runner given for %s" % argv[0], fix="pass run_command=module.run_command")


class Applier(object):
    def __init__(self, talosctl, run_command=None, sleep=None, clock=None):
        self.tc = talosctl
        self.run_command = run_command or _run_command
        self.sleep = sleep or time.sleep
        self.clock = clock or time.time

    def plan(self, node, path, mode):
        return self.tc.apply_config(node, path, mode=mode, dry_run=True)

    def guard(self, node, commands, retries, delay, deadline):
        """[(check, ok, detail)] of the last attempt; True when every check passed."""
        results = []
        commands = [substitute(argv, node) for argv in parse_guard_commands(commands or [], node=node)]
        for attempt in range(max(1, retries)):
            ok, detail = self.tc.reachable(node)
            results = [("apid from the controller", ok, detail or "ok")]
            for argv in commands:
                rc, out, err = self.run_command(list(argv))
                results.append((" ".join(argv), rc == 0, (err or out).strip() or "rc=%d" % rc))
            if all(r[1] for r in results):
                return True, results
            if attempt + 1 < retries and self.clock() + delay < deadline:
                self.sleep(delay)
            else:
                break
        return False, results

    def run(self, node, path, mode="auto", try_timeout="1m", guard_commands=None, guard_retries=3, guard_delay=2,
            check_mode=False, rollback_grace=ROLLBACK_GRACE):
        node = parse_node(node)
        parse_guard_commands(guard_commands or [], node=node)
        plan = self.plan(node, path, mode)
        result = {"changed": plan["changed"], "diff": plan["diff"], "mode": mode, "mode_details": plan["mode_details"],
                  "reboot_required": plan["reboot_required"] if plan["changed"] else False,
                  "committed": False, "rolled_back": False, "guard": []}
        if not plan["changed"] or check_mode:
            return result
        if mode != "try":
            applied = self.tc.apply_config(node, path, mode=mode)
            result.update(mode_details=applied["mode_details"], reboot_required=applied["reboot_required"], committed=True)
            return result
        timeout = duration_seconds(try_timeout)
        started = self.clock()
        deadline = started + timeout
        applied = self.tc.apply_config(node, path, mode="try", timeout=try_timeout)
        result["mode_details"] = applied["mode_details"]
        ok, checks = self.guard(node, guard_commands, guard_retries, guard_delay, deadline)
        result["guard"] = [{"check": c, "ok": o, "detail": d} for c, o, d in checks]
        if ok and self.clock() < deadline:
            # The same config applied for real ends the try: Talos keeps it.
            self.tc.apply_config(node, path, mode="no-reboot")
            after = self.plan(node, path, "no-reboot")
            if after["changed"]:
                raise NetsecError("node %s: the committed config differs from the one applied" % node, diff=after["diff"])
            result["committed"] = True
            return result
        failed = "; ".join("%s: %s" % (c, d) for c, o, d in checks if not o) or "the try timeout ran out before the guard passed"
        # Do not commit; wait for Talos to restore the previous config, then prove it did.
        self.sleep(max(0, deadline - self.clock()) + rollback_grace)
        back, detail = False, ""
        for _attempt in range(max(1, guard_retries)):
            back, detail = self.tc.reachable(node)
            if back:
                break
            self.sleep(guard_delay)
        rolled_back = back and self.plan(node, path, "no-reboot")["changed"]
        result["rolled_back"] = rolled_back
        state = ("Talos rolled the node back to its previous config after %s and apid answers again" % try_timeout if rolled_back
                 else "the node did NOT come back after the try timeout (%s): check it from the console" % (detail or "still unreachable"))
        raise GuardFailed("node %s: guard failed after the try apply (%s); not committed; %s" % (node, failed, state),
                          fix="fix the firewall rules (talos-apid sources) before applying again",
                          **result)
