#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gated_config
short_description: Health-gated change of an haproxy, BIRD or keepalived configuration, with automatic rollback
version_added: 0.2.0
description:
  - Validates the new configuration with the daemon's own parser (C(haproxy -c), C(bird -p), C(keepalived -t)),
    swaps it in atomically (the previous file is kept beside it), reloads the daemon (haproxy through its master
    socket or SIGUSR2, C(birdc configure), SIGHUP to keepalived, or systemd C(reload-or-restart) where systemd
    manages the unit), then runs the health checks through the service address.
  - When a check that passed before the change fails after the reload, the previous file is put back at once
    (a BGP session that is re-establishing gets O(grace) first), the daemon reloaded again, and the task fails naming the check and what it saw.
  - A check that already failed before the change (first deploy, a BGP peer that is down) gets the whole
    O(timeout) to pass; if it does not, the change is kept with a warning, since a rollback would not fix it.
  - Without O(content) the live file is validated, the daemon reloaded and the checks run (for changes of files
    the configuration refers to, such as certificates); nothing can be rolled back then.
requirements:
  - the daemon's binary (for validation), birdc for BIRD, systemctl for O(reload=systemd)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
attributes:
  check_mode:
    support: full
    details:
      - Validates the new content in a temporary copy and reports whether it would change; reloads nothing. A
        validation failure is a warning there, since files the config refers to may be written only in a real run.
  diff_mode:
    support: full
options:
  daemon:
    description: Whose configuration this is; picks the validator, the native reload and the default O(unit).
    type: str
    required: true
    choices: [haproxy, bird, keepalived]
  dest:
    description: The live configuration file (absolute path).
    type: path
    required: true
  content:
    description: The new configuration. Omitted, the live file is validated, reloaded and checked.
    type: str
  owner:
    description: Owner of the file (default that of the live file).
    type: str
  group:
    description: Group of the file (default that of the live file).
    type: str
  mode:
    description: Octal mode of the file, as a string (for example V('0640')); default that of the live file.
    type: str
  reload:
    description:
      - C(native) is the daemon's own way (see O(master_socket), O(pid_file), O(control_socket)); C(systemd)
        runs C(systemctl reload-or-restart) on O(unit) (a stopped unit is started); C(none) only validates and
        swaps (render-only runs, so no checks either).
    type: str
    choices: [native, systemd, none]
    default: native
  unit:
    description: The systemd unit (default C(haproxy.service), C(bird.service) or C(keepalived.service)).
    type: str
  master_socket:
    description: haproxy's master CLI socket (C(haproxy -W -S)); the reload waits for a new worker.
    type: path
  pid_file:
    description: Pid file of haproxy's master (SIGUSR2, when there is no O(master_socket)) or of keepalived (SIGHUP).
    type: path
  control_socket:
    description: BIRD's control socket, for C(birdc configure).
    type: path
  checks:
    description:
      - Health checks after the reload, each a mapping with C(type).
      - C(http) - C(url) (through the service address), C(host) (Host header and SNI), C(cafile), C(expect)
        (status codes, default V([200])), C(timeout).
      - C(haproxy_backend) - C(backend) has a server UP by a health check of the new worker, read from the local haproxy's
        runtime API C(socket) (C(show servers state)); it sees this host's haproxy where the service address is a VRRP
        peer's. A new worker starts its servers UP unchecked; until each server's first check has completed (one check
        interval) the backend is settling - neither a pass nor a failure; still settling at O(timeout) counts as failed.
      - C(bird_protocol) - C(protocol) is Established and exports at least C(min_exported) routes (C(socket) is
        BIRD's control socket).
      - C(address_held) - C(address) is on one of this host's interfaces (a VRRP master keeps its VIP; on a backup
        it fails before the change too, so it only warns - set C(warn=false) to silence that).
      - Every check also takes C(after_rollback) (default V(true)) - whether the previous config must pass it again
        for the rollback to count as restored. V(false) for a holder's C(address_held) - a peer that took the VIP over
        keeps it (nopreempt, or a higher priority), and the service answering through the VIP is what counts then; a
        check still failing is reported as a warning.
    type: list
    elements: dict
    default: []
  timeout:
    description: Seconds the checks have to pass after the reload (and the previous config after a rollback).
    type: float
    default: 10
  grace:
    description:
      - Seconds a BGP session that passed its check before the change may take to be Established again after
        the reload (a changed session option makes C(birdc configure) restart it). Default 5 for BIRD. Every
        other failure counts at once - haproxy reloads hitlessly and keepalived keeps its state on SIGHUP, so a
        failed request after the reload is the new config's.
    type: float
  passes:
    description: Consecutive passing rounds (0.1 s apart) that count as healthy.
    type: int
    default: 3
seealso:
  - module: safespring.netsec.lb_ha_maintenance
author:
  - Safespring platform team (@safespring)
"""

EXAMPLES = r"""
- name: Apply haproxy.cfg, rolled back if the app stops answering through the service address
  safespring.netsec.gated_config:
    daemon: haproxy
    dest: /etc/haproxy/haproxy.cfg
    content: "{{ lookup('ansible.builtin.template', 'haproxy.cfg.j2') }}"
    mode: "0644"
    reload: systemd
    checks:
      - {type: http, url: "https://198.18.0.10:443/healthz", host: app.example.org, expect: [200]}
      - {type: haproxy_backend, backend: route_app, socket: /run/haproxy/admin.sock}

- name: Apply bird.conf; the BGP session must stay up and keep exporting the service routes
  safespring.netsec.gated_config:
    daemon: bird
    dest: /etc/bird/bird.conf
    content: "{{ lookup('ansible.builtin.template', 'bird.conf.j2') }}"
    group: bird
    mode: "0640"
    reload: native
    control_socket: /run/bird/bird.ctl
    checks:
      - {type: bird_protocol, protocol: lb_ha_peer, socket: /run/bird/bird.ctl, min_exported: 2}
"""

RETURN = r"""
change:
  description: What the change was - V(none), V(create), V(update) or V(reload) (no O(content)).
  type: str
  returned: always
rolled_back:
  description: Whether the new file was taken back after a failed check.
  type: bool
  returned: always
failed_check:
  description: The check that broke (with C(saw), what it saw).
  type: str
  returned: when a check failed
saw:
  description: What the failed check saw (a status, an exception, a BGP state).
  type: str
  returned: when a check failed
seconds:
  description: Seconds from the swap to healthy.
  type: float
  returned: when a change was kept
detect_seconds:
  description: Seconds from the swap to the detection of the failure.
  type: float
  returned: when a check failed
rollback_seconds:
  description: Seconds from the detection to the previous config passing the checks again.
  type: float
  returned: when rolled back
restored_healthy:
  description: Whether the previous config passed the checks again after the rollback.
  type: bool
  returned: when rolled back
baseline:
  description: Each check's result before the change.
  type: list
  elements: dict
  returned: when the daemon ran before the change
reload:
  description: How the daemon was reloaded.
  type: str
  returned: always
reload_seconds:
  description: Seconds each reload took (the change's, then the rollback's).
  type: list
  elements: float
  returned: when the daemon was reloaded
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.gated_change import apply_change, parse_request


def main():
    spec = dict(
        daemon=dict(type="str", required=True, choices=["haproxy", "bird", "keepalived"]),
        dest=dict(type="path", required=True),
        content=dict(type="str"),
        owner=dict(type="str"),
        group=dict(type="str"),
        mode=dict(type="str"),
        reload=dict(type="str", default="native", choices=["native", "systemd", "none"]),
        unit=dict(type="str"),
        master_socket=dict(type="path"),
        pid_file=dict(type="path"),
        control_socket=dict(type="path"),
        checks=dict(type="list", elements="dict", default=[]),
        timeout=dict(type="float", default=10.0),
        grace=dict(type="float"),
        passes=dict(type="int", default=3, no_log=False),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        request = parse_request(module.params)
    except NetsecError as exc:
        exc.fail(module, changed=False)

    def run(argv, timeout=30):
        rc, out, err = module.run_command(argv, check_rc=False)
        return rc, out, err

    result = apply_change(request, check_mode=module.check_mode, run=run)
    if not module._diff:
        result.pop("diff", None)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    failed = result.pop("failed", None)
    if failed:
        module.fail_json(msg=failed, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
