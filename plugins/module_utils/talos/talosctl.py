# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin talosctl runner: argv in, parsed output out.

Configs go to talosctl as files (never on the command line) and talosctl's own output
carries no key material, so errors quote stderr. The talosconfig comes from the caller
(a path) or from TALOSCONFIG in the environment, as talosctl itself reads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core on the controller
    yaml = None

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

APPLY_MODES = ("auto", "no-reboot", "reboot", "staged", "try")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class TalosctlError(NetsecError):
    def __init__(self, message, argv=None, rc=None, stderr=None, fix=None):
        self.argv, self.rc, self.stderr = argv, rc, stderr
        super(TalosctlError, self).__init__(message, fix=fix, rc=rc, stderr=stderr, cmd=" ".join(argv or []))


def duration_seconds(text, field="try_timeout"):
    """Go duration subset (1h2m3s, 90s, 1m) -> seconds."""
    match = _DURATION.match(str(text or ""))
    if not text or not match:
        raise NetsecError("%r is not a duration like 1m, 90s or 1m30s" % (text,), field=field)
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def go_duration(seconds):
    """Seconds -> Go's time.Duration.String() for whole seconds (60 -> '1m0s')."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh%dm%ds" % (hours, minutes, secs)
    if minutes:
        return "%dm%ds" % (minutes, secs)
    return "%ds" % secs


def _no_runner(argv, env=None):
    # Commands run through AnsibleModule.run_command (see common.client_from_module); module_utils
    # never spawns processes itself.
    raise NetsecError("talosctl: no command runner given", fix="pass run=, e.g. a wrapper of module.run_command")


def parse_apply_output(text):
    """talosctl apply-config output (ModeDetails) -> dict.

    Dry run: "Dry run summary:\\n<details> (skipped in dry-run).\\nConfig diff:\\n\\n<diff>"
    where <diff> is a unified diff or "No changes.".
    """
    text = text or ""
    details, diff = text.strip(), None
    if "Dry run summary:" in text:
        body = text.split("Dry run summary:", 1)[1]
        head, _sep, diff = body.partition("Config diff:")
        details = head.strip().replace(" (skipped in dry-run).", "").strip()
        diff = diff.strip("\n")
    lowered = details.lower()
    return {
        "mode_details": details,
        "diff": diff,
        "changed": diff is None or diff.strip() not in ("", "No changes."),
        "reboot_required": "with a reboot" in lowered or "after a reboot" in lowered or lowered.startswith("staged"),
        "try_mode": "'try' mode" in lowered,
    }


def parse_version(text):
    """`talosctl version` output -> {'client': {...}, 'server': [{'NODE':..., 'Tag':...}]}."""
    out = {"client": {}, "server": []}
    section = None
    for line in (text or "").splitlines():
        if line.strip() in ("Client:", "Server:"):
            section = line.strip()[:-1].lower()
            continue
        if ":" not in line or section is None:
            continue
        key, _sep, value = line.strip().partition(":")
        key, value = key.strip(), value.strip()
        if section == "client":
            out["client"][key] = value
        else:
            if key == "NODE" or not out["server"]:
                out["server"].append({})
            out["server"][-1][key] = value
    return out


def parse_resources(text):
    """`talosctl get ... -o yaml` output -> list of {node, metadata, spec}."""
    try:
        return [d for d in yaml.safe_load_all(text or "") if d]
    except yaml.YAMLError as exc:
        raise NetsecError("talosctl printed YAML that does not parse: %s" % exc)


class Talosctl(object):
    def __init__(self, binary="talosctl", talosconfig=None, endpoints=None, run=None, env=None):
        self.binary = binary
        self.talosconfig = talosconfig
        self.endpoints = list(endpoints or [])
        self._run = run or _no_runner
        self.env = env

    def __repr__(self):
        return "Talosctl(%r, endpoints=%r)" % (self.binary, self.endpoints)

    def argv(self, args, nodes=None):
        argv = [self.binary] + list(args)
        if self.talosconfig:
            argv += ["--talosconfig", self.talosconfig]
        if self.endpoints:
            argv += ["--endpoints", ",".join(self.endpoints)]
        if nodes:
            argv += ["--nodes", ",".join(nodes)]
        return argv

    def call(self, args, nodes=None, check=True):
        argv = self.argv(args, nodes)
        try:
            rc, out, err = self._run(argv, self.env)
        except OSError as exc:
            raise TalosctlError("cannot run %s: %s" % (self.binary, exc), argv=argv, fix="install talosctl or set talosctl_path")
        if check and rc != 0:
            raise TalosctlError("%s failed (rc=%s): %s" % (" ".join(args[:2]), rc, (err or out).strip()), argv=argv, rc=rc, stderr=err)
        return rc, out, err

    def apply_config(self, node, path, mode="auto", dry_run=False, timeout=None):
        if mode not in APPLY_MODES:
            raise NetsecError("%r is not one of %s" % (mode, ", ".join(APPLY_MODES)), field="mode")
        args = ["apply-config", "--file", path, "--mode", mode]
        if dry_run:
            args.append("--dry-run")
        if mode == "try" and timeout:
            args += ["--timeout", timeout]
        _rc, out, err = self.call(args, nodes=[node])
        return parse_apply_output(out + err)

    def version(self, node, check=True):
        rc, out, err = self.call(["version"], nodes=[node], check=check)
        parsed = parse_version(out)
        parsed["rc"], parsed["error"] = rc, err.strip()
        return parsed

    def reachable(self, node):
        """apid answers through the configured endpoint (the controller's own path)."""
        parsed = self.version(node, check=False)
        return parsed["rc"] == 0 and bool(parsed["server"]), parsed["error"]

    def get(self, resource, node, namespace=None):
        args = ["get", resource, "--output", "yaml"]
        if namespace:
            args += ["--namespace", namespace]
        _rc, out, _err = self.call(args, nodes=[node])
        return parse_resources(out)

    def validate(self, path, mode="metal"):
        self.call(["validate", "--config", path, "--mode", mode, "--strict"])
        return True
