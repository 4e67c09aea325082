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
      - The diff is the node's own config diff as printed by C(talosctl apply-config --dry-run).
options:
  node:
    description: The node to apply to (address or name as in the talosconfig).
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
    description: How long Talos keeps a try-mode config before reverting it (Go duration, e.g. C(1m), C(90s)).
    type: str
    default: 1m
  guard_commands:
    description:
      - Extra checks run on the controller while the try runs; each is an argv list and must exit 0,
        e.g. C([ssh, jump, talosctl, --nodes, "{node}", version]) to prove the jump host still reaches apid.
      - The string C({node}) in an argument is replaced by O(node).
    type: list
    elements: list
    default: []
  guard_retries:
    description: Attempts of the guard (and of the reachability check after a rollback).
    type: int
    default: 3
  guard_delay:
    description: Seconds between guard attempts.
    type: int
    default: 2
  rollback_grace:
    description: Seconds allowed after the try deadline for Talos to restore the previous config.
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

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos.documents import HAS_YAML
from ansible_collections.safespring.netsec.plugins.module_utils.talos import apply as A
from ansible_collections.safespring.netsec.plugins.module_utils.talos.common import CONNECTION_SPEC, client_from_module, redact_text
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import duration_seconds


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
    try:
        duration_seconds(p["try_timeout"], field="try_timeout")

        def run_command(argv):
            return module.run_command([str(a).replace("{node}", p["node"]) for a in argv])

        applier = A.Applier(client_from_module(module), run_command=run_command)
        outcome = applier.run(p["node"], p["config_path"], mode=p["mode"], try_timeout=p["try_timeout"],
                              guard_commands=p["guard_commands"], guard_retries=p["guard_retries"],
                              guard_delay=p["guard_delay"], check_mode=module.check_mode,
                              rollback_grace=p["rollback_grace"])
    except NetsecError as exc:
        extra = dict(exc.extra)
        diff = extra.pop("diff", None)
        result.update(extra)
        if diff and module._diff:
            result["diff"] = {"prepared": redact_text(diff)}
        exc.extra = {}
        exc.fail(module, **result)
    diff = outcome.pop("diff")
    result.update(outcome)
    if module._diff and outcome["changed"]:
        result["diff"] = {"prepared": redact_text(diff)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
