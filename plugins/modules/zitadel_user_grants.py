#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zitadel_user_grants
short_description: Manage which users hold which roles of a Zitadel project
version_added: 0.1.0
description:
  - Converges the user grants (authorizations) of one project to the list given.
  - Users are given by id or by login name (resolved in the organisation).
  - With O(exclusive=true) grants of users not listed are revoked, so that leaving a team removes access.
  - Zitadel's v1 API has no groups; a team is the list of its members' grants.
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.zitadel
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  project_id:
    description:
      - Id of the project whose roles are granted.
    type: str
    required: true
  grants:
    description:
      - Who holds which roles. Several entries for one user are merged.
    type: list
    elements: dict
    default: []
    suboptions:
      user_id:
        description: Zitadel user id. One of O(grants[].user_id) and O(grants[].login_name) is required.
        type: str
      login_name:
        description: Login name (for example V(alice@acme.example)), resolved to the user id.
        type: str
      role_keys:
        description: Role keys of the project.
        type: list
        elements: str
        required: true
  exclusive:
    description:
      - Revoke grants on this project of users that O(grants) does not list.
    type: bool
    default: false
notes:
  - The service user of O(token) needs the project or organisation manager role in the organisation.
seealso:
  - module: safespring.netsec.zitadel_project
"""

EXAMPLES = r"""
- name: Team platform administers, team payments develops in its namespace
  safespring.netsec.zitadel_user_grants:
    url: https://id.example.com
    token: "{{ zitadel_pat }}"
    project_id: "{{ project.project_id }}"
    exclusive: true
    grants:
      - login_name: alice@acme.example
        role_keys: [cluster-admin]
      - login_name: bob@acme.example
        role_keys: ["developer:payments", viewer]
"""

RETURN = r"""
grants:
  description: User id -> role keys after the run (predicted in check mode).
  returned: always
  type: dict
operations:
  description: The API calls the plan made (or would make in check mode).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import common, plan
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel.client import MANAGEMENT


def resolve_users(client, grants):
    out = []
    for idx, grant in enumerate(grants):
        grant = dict(grant)
        if bool(grant.get("user_id")) == bool(grant.get("login_name")):
            raise NetsecError("give exactly one of user_id and login_name", field=field_path("grants", idx))
        if grant.get("login_name"):
            users = client.search(MANAGEMENT + "/users/_search", {"queries": [
                {"loginNameQuery": {"loginName": grant["login_name"], "method": "TEXT_QUERY_METHOD_EQUALS"}}]})
            if len(users) != 1:
                raise NetsecError("login name %r matches %d users" % (grant["login_name"], len(users)),
                                  field=field_path("grants", idx, "login_name"), fix="check the login name and org_id")
            grant["user_id"] = users[0]["id"]
        out.append(grant)
    return out


def main():
    module = common.zitadel_module(dict(
        project_id=dict(type="str", required=True),
        grants=dict(type="list", elements="dict", default=[], options=dict(
            user_id=dict(type="str"),
            login_name=dict(type="str"),
            role_keys=dict(type="list", elements="str", required=True, no_log=False),
        )),
        exclusive=dict(type="bool", default=False),
    ))
    p = module.params

    def body(client):
        common.get_project(client, p["project_id"])
        role_keys = set(r["key"] for r in common.list_roles(client, p["project_id"]))
        grants = resolve_users(client, p["grants"])
        if module.check_mode:
            # an earlier task of the same run may be about to create the role: predict, warn, go on
            missing = sorted(set(k for g in grants for k in g["role_keys"]) - role_keys)
            if missing:
                module.warn("role(s) %s do not exist in project %s yet; the real run fails unless they are created first"
                            % (", ".join(missing), p["project_id"]))
            role_keys = None
        desired = plan.normalise_grants(grants, role_keys)
        result = client.search(MANAGEMENT + "/users/grants/_search",
                               {"queries": [{"projectIdQuery": {"projectId": p["project_id"]}}]})
        live = plan.live_grants(result, p["project_id"])
        ops = plan.plan_user_grants(p["project_id"], desired, live, p["exclusive"])
        if ops and not module.check_mode:
            plan.apply(client, ops)
        before = {u: g["roleKeys"] for u, g in live.items()}
        after = dict(desired)
        if not p["exclusive"]:
            for user, keys in before.items():
                after.setdefault(user, keys)
        out = dict(changed=bool(ops), grants=after, operations=[op.as_dict() for op in ops])
        if module._diff:
            out["diff"] = common.diff(before, after)
        return out

    common.run(module, body)


if __name__ == "__main__":
    main()
