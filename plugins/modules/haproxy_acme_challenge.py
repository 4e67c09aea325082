#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: haproxy_acme_challenge
short_description: Serve ACME HTTP-01 tokens on port 80 through the running haproxy, without a reload
version_added: 0.1.0
description:
  - Puts the HTTP-01 tokens of an ACME order into the map file that the role's C(http) frontend answers
    C(/.well-known/acme-challenge/TOKEN) from, and into the running haproxy through its runtime API
    (C(add map) / C(set map) / C(del map)); no reload. With O(state=absent) the tokens are removed again; without
    O(challenge_data) every token is removed, such as those a killed run left behind (the map is this module's own).
  - Takes C(challenge_data) of community.crypto.acme_certificate as it is; every token and key authorization is checked
    to be base64url (RFC 8555), so a map line can hold nothing else.
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  map_file:
    description:
      - The map file, exactly as haproxy.cfg names it (the role's C(lists/acme-challenge.map)).
    type: path
    required: true
  challenge_data:
    description:
      - C(challenge_data) returned by community.crypto.acme_certificate for an order with C(challenge=http-01).
      - Required with O(state=present); with O(state=absent) and no O(challenge_data), all tokens go.
    type: dict
  state:
    description:
      - V(present) serves the tokens, V(absent) stops serving them.
    type: str
    choices: [present, absent]
    default: present
  runtime_socket:
    description:
      - haproxy's stats socket at C(level admin). When it does not exist only the file changes.
    type: path
    default: /run/haproxy/admin.sock
seealso:
  - module: safespring.netsec.haproxy_certificate
  - module: community.crypto.acme_certificate
"""

EXAMPLES = r"""
- name: Answer the HTTP-01 challenges of the order
  safespring.netsec.haproxy_acme_challenge:
    map_file: /etc/haproxy/lists/acme-challenge.map
    challenge_data: "{{ order.challenge_data }}"

- name: Stop serving any token a killed run left behind
  safespring.netsec.haproxy_acme_challenge:
    map_file: /etc/haproxy/lists/acme-challenge.map
    state: absent
"""

RETURN = r"""
tokens:
  description: The tokens the map holds now.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils import _typed

from ansible_collections.safespring.netsec.plugins.module_utils._files import read_text
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils._secrets import write_private
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import certificates as C
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy.runtime_api import RuntimeAPI, arg


def run(module):
    params = module.params
    # The map file and every token and key authorization reach runtime commands and map lines: one haproxy word each.
    map_file = arg(_typed.path(params["map_file"], "map_file"), "map_file")
    given = C.challenges(params["challenge_data"]) if params["challenge_data"] is not None else None
    api = RuntimeAPI(params["runtime_socket"])
    live = api.map_entries(map_file) if api.available() and api.map_loaded(map_file) else None
    file_text = read_text(map_file)
    file_entries = C.parse_map(file_text)
    # state=absent without challenge_data: every token, in the file and in the running haproxy.
    wanted = given if given is not None else dict.fromkeys(set(file_entries) | set(live or {}), "")
    plan = C.plan_map(wanted, params["state"], file_entries, live)
    runtime = plan["runtime"]
    changed = plan["write_file"] or bool(runtime["set"]) or bool(runtime["delete"]) or file_text is None
    result = {"changed": changed, "tokens": sorted(plan["entries"]),
              "diff": {"before": C.render_map(file_entries), "after": C.render_map(plan["entries"])}}
    if module.check_mode or not changed:
        return result
    if plan["write_file"] or file_text is None:
        write_private(map_file, C.render_map(plan["entries"]))
    for token, value in sorted(runtime["set"].items()):
        api.map_set(map_file, token, value, exists=token in live)
    for token in runtime["delete"]:
        api.map_del(map_file, token)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            map_file=dict(type="path", required=True),
            challenge_data=dict(type="dict"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            runtime_socket=dict(type="path", default="/run/haproxy/admin.sock"),
        ),
        required_if=[("state", "present", ("challenge_data",))],
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except NetsecError as exc:
        exc.fail(module)


if __name__ == "__main__":
    main()
