# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Applying a config to one node without locking operators out.

plan (a dry run: the node's own diff) -> apply; in mode `try`, Talos reverts the config
after the try timeout unless a real apply commits it. The guard checks, while the try
runs, that apid still answers from the controller and that every extra guard command
(e.g. a probe from the jump host) succeeds; only then the same config is applied for
real. When the guard fails nothing is committed: Talos rolls back, and this reports it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import duration_seconds

# Time allowed after the try deadline for Talos to restore the previous config.
ROLLBACK_GRACE = 5


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
        for attempt in range(max(1, retries)):
            ok, detail = self.tc.reachable(node)
            results = [("apid from the controller", ok, detail or "ok")]
            for argv in commands or []:
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
