# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin talosctl runner: argv in, parsed output out.

Configs go to talosctl as files (never on the command line) and talosctl's own output
carries no key material, so errors quote stderr (the modules still mask the secrets of the
config they send, in case a node's error echoes one). Every value that becomes an argument
is typed first: one node per call (an IP address or a DNS name), endpoints likewise, files
as absolute paths, so no value can read as a second node or as a flag such as --insecure. The talosconfig comes from the caller
(a path) or from TALOSCONFIG in the environment, as talosctl itself reads it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D

APPLY_MODES = ("auto", "no-reboot", "reboot", "staged", "try")
_DURATION = re.compile(r"(?:([0-9]{1,4})h)?(?:([0-9]{1,6})m)?(?:([0-9]{1,8})s)?")
MAX_TRY_TIMEOUT = 24 * 3600
_PORT_SUFFIX = re.compile(r"(.+):([0-9]{1,5})")


class TalosctlError(NetsecError):
    def __init__(self, message, argv=None, rc=None, stderr=None, fix=None):
        self.argv, self.rc, self.stderr = argv, rc, stderr
        super(TalosctlError, self).__init__(message, fix=fix, rc=rc, stderr=stderr, cmd=" ".join(argv or []))


def duration_seconds(text, field="try_timeout"):
    """Go duration subset (1h2m3s, 90s, 1m) -> seconds, between 1 s and 24 h."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) and text else None
    if not match:
        raise NetsecError("%s is not a duration like 1m, 90s or 1m30s" % _typed.secret_safe(text, False), field=field)
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if not 1 <= total <= MAX_TRY_TIMEOUT:
        raise NetsecError("%s is outside 1s-24h" % text, field=field)
    return total


def parse_node(value, field="node"):
    """One node for talosctl --nodes: an IP address or a DNS name, nothing else.

    talosctl splits --nodes on commas and reads a leading '-' as a flag, so 'a,b,c' would
    address three nodes and '--insecure' would not be a node at all."""
    if isinstance(value, str):
        try:
            return _typed.address(value, field)
        except NetsecError:
            pass
        try:
            return _typed.hostname(value, field)
        except NetsecError:
            pass
    raise NetsecError("%s is not one IP address or DNS name" % _typed.secret_safe(value, False), field=field,
                      fix="give one node, e.g. 198.18.1.21 or cp1.example.net")


def parse_endpoint(value, field="endpoints"):
    """An endpoint for talosctl --endpoints: a node (see parse_node), optionally with :port."""
    if isinstance(value, str):
        bracketed = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::([0-9]{1,5}))?", value)
        if bracketed:
            host, port = bracketed.groups()
            _typed.address(host, field, versions=(6,))
            if port:
                _typed.integer(port, field, 1, 65535)
            return value
        match = _PORT_SUFFIX.fullmatch(value)
        if match and ":" not in match.group(1):
            parse_node(match.group(1), field)
            _typed.integer(match.group(2), field, 1, 65535)
            return value
    return parse_node(value, field)


def parse_endpoints(values, field="endpoints"):
    if not isinstance(values, list):
        raise NetsecError("must be a list of endpoints", field=field)
    return [parse_endpoint(v, field_path(field, i)) for i, v in enumerate(values)]


def local_path(value, field):
    """A file argument for talosctl: absolute, so it can never read as a flag."""
    _typed.text(value, field, max_len=4096)
    return os.path.abspath(value)


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
        return [d for d in D.load_yaml_all(text or "", "talosctl output") if d]
    except NetsecError as exc:
        raise NetsecError("talosctl printed YAML that does not parse: %s" % exc.message)


class Talosctl(object):
    def __init__(self, binary="talosctl", talosconfig=None, endpoints=None, run=None, env=None):
        # Every value that becomes an argument is typed here, whoever built the client.
        self.binary = _typed.text(binary, "talosctl_path", max_len=4096)
        if self.binary.startswith("-"):
            raise NetsecError("%r is not an executable" % binary, field="talosctl_path")
        self.talosconfig = local_path(talosconfig, "talosconfig") if talosconfig else None
        self.endpoints = parse_endpoints(list(endpoints or []))
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
            argv += ["--nodes", ",".join(parse_node(n) for n in nodes)]
        return argv

    def call(self, args, nodes=None, check=True, local=False):
        # A local command (validate) takes no connection flags: talosctl refuses them.
        argv = [self.binary] + list(args) if local else self.argv(args, nodes)
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
        args = ["apply-config", "--file", local_path(path, "config_path"), "--mode", mode]
        if dry_run:
            args.append("--dry-run")
        if mode == "try" and timeout:
            duration_seconds(timeout)
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
        self.call(["validate", "--config", local_path(path, "config"), "--mode", mode, "--strict"], local=True)
        return True
