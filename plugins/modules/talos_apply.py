#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: talos_apply
short_description: Apply a machine configuration to a Talos node, with a lock-out guard in try mode
version_added: 0.1.0
description:
  - Applies a config file to one node with C(talosctl apply-config). The plan (and the diff, and
    check mode) is Talos's own dry run (C(--dry-run)), the node's diff against its running config.
    When the dry run reports no changes, nothing is applied.
  - In O(mode=try) Talos applies the config and reverts it after O(try_timeout) unless committed.
    While the try runs the module checks that apid still answers from the controller and that
    every O(guard_commands) entry succeeds (e.g. a probe from the jump host); only then it commits
    by applying the same config in no-reboot mode. When the guard fails it does not commit, waits
    for Talos to roll back, confirms the node answers again with its previous config, and fails.
requirements:
  - PyYAML
  - talosctl on the controller
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.talos
attributes:
  check_mode:
    support: full
    details:
      - Runs the dry run only (read-only on the node).
  diff_mode:
    support: full
    details:
      - The diff is the node's own config diff as printed by C(talosctl apply-config --dry-run), with secrets redacted
        (the config's own secret values, and every line of a secret field, for those of the running config) and
        cut to a note when over 1 MiB.
options:
  node:
    description:
      - The node to apply to, one IP address or DNS name (as in the talosconfig). Anything else is refused
        before talosctl runs - a list such as C(a,b,c), a value starting with C(-), spaces, C(;).
    type: str
    required: true
  config_path:
    description: The machine configuration file (see M(safespring.netsec.talos_machine_config)).
    type: path
    required: true
  mode:
    description: Apply mode (talosctl C(--mode)). C(try) adds the guard and the commit.
    type: str
    choices: [auto, no-reboot, reboot, staged, try]
    default: auto
  try_timeout:
    description: How long Talos keeps a try-mode config before reverting it (Go duration, e.g. C(1m), C(90s); 1s to 24h).
    type: str
    default: 1m
  guard_commands:
    description:
      - Extra checks run on the controller while the try runs; each is an argv list and must exit 0,
        e.g. C([ssh, jump, talosctl, --nodes, "{node}", version]) to prove the jump host still reaches apid.
      - The string C({node}) in an argument is replaced by O(node). The commands run without a shell; a shell as the
        program (C(sh -c ...)) is refused. A C(talosctl) call in a guard may not pass C(--insecure)/C(-i) or
        C(--endpoints)/C(-e), and its C(--nodes)/C(-n) must be C({node}) - the guard proves this node is reachable.
    type: list
    elements: list
    default: []
  guard_retries:
    description: Attempts of the guard (and of the reachability check after a rollback), 1 to 100.
    type: int
    default: 3
  guard_delay:
    description: Seconds between guard attempts (0 to 3600).
    type: int
    default: 2
  rollback_grace:
    description: Seconds allowed after the try deadline for Talos to restore the previous config (0 to 3600).
    type: int
    default: 5
seealso:
  - module: safespring.netsec.talos_machine_config
  - module: safespring.netsec.talos_info
author:
  - Safespring platform team (@safespring)
"""

EXAMPLES = r"""
- name: Apply the firewall in try mode; commit only if apid still answers from here and from the jump host
  safespring.netsec.talos_apply:
    node: 198.18.1.21
    config_path: /srv/gitops/talos/cp1.yaml
    mode: try
    try_timeout: 2m
    guard_commands:
      - [ssh, jump.example, talosctl, --nodes, "{node}", version]
"""

RETURN = r"""
mode_details:
  description: What Talos said it did (or, in check mode, would do).
  returned: always
  type: str
  sample: Applied configuration without a reboot
reboot_required:
  description: Whether the change needs (or caused) a reboot, or was staged for the next one.
  returned: always
  type: bool
committed:
  description: Whether the config was applied for real (in try mode, committed after the guard).
  returned: always
  type: bool
rolled_back:
  description: In try mode, whether Talos reverted the config after the guard failed.
  returned: always
  type: bool
guard:
  description: The guard's checks of the last attempt.
  returned: when O(mode=try) and a change was applied
  type: list
  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos.documents import HAS_YAML
from ansible_collections.safespring.netsec.plugins.module_utils.talos import apply as A
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import secrets as SEC
from ansible_collections.safespring.netsec.plugins.module_utils.talos.common import CONNECTION_SPEC, client_from_module, mask
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import duration_seconds, parse_node


def config_secrets(path):
    """The secrets of the config to apply: Ansible masks them wherever talosctl echoes them."""
    try:
        if os.path.getsize(path) > D.MAX_TEXT:
            raise NetsecError("%s is larger than %d bytes" % (path, D.MAX_TEXT), field="config_path")
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError, UnicodeDecodeError) as exc:
        raise NetsecError("cannot read %s: %s" % (path, exc), field="config_path")
    return SEC.values(D.load(text, field="config_path"))


def main():
    spec = dict(
        node=dict(type="str", required=True),
        config_path=dict(type="path", required=True),
        mode=dict(type="str", choices=["auto", "no-reboot", "reboot", "staged", "try"], default="auto"),
        try_timeout=dict(type="str", default="1m"),
        guard_commands=dict(type="list", elements="list", default=[]),
        guard_retries=dict(type="int", default=3),
        guard_delay=dict(type="int", default=2),
        rollback_grace=dict(type="int", default=5),
    )
    spec.update(CONNECTION_SPEC)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    result = {"changed": False, "mode": p["mode"], "mode_details": "", "reboot_required": False, "committed": False, "rolled_back": False}
    secrets = set()
    try:
        # Every value that reaches talosctl or a guard is typed before anything runs.
        node = parse_node(p["node"], "node")
        duration_seconds(p["try_timeout"], field="try_timeout")
        A.parse_guard_commands(p["guard_commands"], node=node)
        _typed.integer(p["guard_retries"], "guard_retries", 1, 100)
        _typed.integer(p["guard_delay"], "guard_delay", 0, 3600)
        _typed.integer(p["rollback_grace"], "rollback_grace", 0, 3600)
        client = client_from_module(module)
        secrets = config_secrets(p["config_path"])
        mask(module, secrets)
        # No shell, and no $VAR or ~ expansion either: a guard argument is passed as written.
        applier = A.Applier(client, run_command=lambda argv: module.run_command(argv, expand_user_and_vars=False))
        outcome = applier.run(node, p["config_path"], mode=p["mode"], try_timeout=p["try_timeout"],
                              guard_commands=p["guard_commands"], guard_retries=p["guard_retries"],
                              guard_delay=p["guard_delay"], check_mode=module.check_mode,
                              rollback_grace=p["rollback_grace"])
    except NetsecError as exc:
        extra = dict(exc.extra)
        diff = extra.pop("diff", None)
        result.update(extra)
        if diff and module._diff:
            result["diff"] = {"prepared": SEC.redact_text(D.clip(diff), secrets)}
        exc.extra = {}
        exc.fail(module, **result)
    diff = outcome.pop("diff")
    result.update(outcome)
    if module._diff and outcome["changed"]:
        result["diff"] = {"prepared": SEC.redact_text(D.clip(diff), secrets)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
