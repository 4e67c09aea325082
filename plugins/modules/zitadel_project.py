#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zitadel_project
short_description: Manage a Zitadel project and its roles
version_added: 0.1.0
description:
  - Creates, updates or removes a Zitadel project, found by its name in the organisation.
  - Manages the project's roles; missing roles are added in one bulk call.
  - Role assertion is on by default so that tokens carry the role claim without extra scopes.
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
  name:
    description:
      - Project name; identifies the project within the organisation.
    type: str
    required: true
  state:
    description:
      - V(absent) removes the project with its apps, roles and grants.
    type: str
    choices: [present, absent]
    default: present
  project_role_assertion:
    description:
      - Put the user's roles of this project into tokens (C(projectRoleAssertion)).
    type: bool
    default: true
  project_role_check:
    description:
      - Refuse a login of users that hold no role in this project.
    type: bool
    default: false
  has_project_check:
    description:
      - Refuse a login of users whose organisation has no grant on this project.
    type: bool
    default: false
  roles:
    description:
      - Roles of the project. Roles not listed stay unless O(purge_roles=true).
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Role key; this is what tokens carry and what becomes a Kubernetes group.
        type: str
        required: true
      display_name:
        description: Human-readable name (defaults to the key).
        type: str
      group:
        description: Grouping shown in the Zitadel console.
        type: str
  purge_roles:
    description:
      - Remove roles of the project that O(roles) does not list (their user grants lose them).
    type: bool
    default: false
notes:
  - The service user of O(token) needs the project or organisation manager role in the organisation.
seealso:
  - module: safespring.netsec.zitadel_oidc_app
  - module: safespring.netsec.zitadel_user_grants
"""

EXAMPLES = r"""
- name: Kubernetes project with its access levels as roles
  module_defaults:
    group/safespring.netsec.zitadel:
      url: https://id.example.com
      token: "{{ zitadel_pat }}"
  safespring.netsec.zitadel_project:
    name: kubernetes-prod
    roles:
      - key: cluster-admin
      - key: viewer
      - key: developer:payments
        display_name: Developer in namespace payments
    purge_roles: true
  register: project
"""

RETURN = r"""
project_id:
  description: Id of the project (empty when absent; unknown in check mode before creation).
  returned: always
  type: str
  sample: "285441962217030421"
roles:
  description: Role keys of the project after the run.
  returned: when state is present
  type: list
  elements: str
operations:
  description: The API calls the plan made (or would make in check mode).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import common, plan


def main():
    module = common.zitadel_module(dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        project_role_assertion=dict(type="bool", default=True),
        project_role_check=dict(type="bool", default=False),
        has_project_check=dict(type="bool", default=False),
        roles=dict(type="list", elements="dict", default=[], options=dict(
            key=dict(type="str", required=True, no_log=False),
            display_name=dict(type="str"),
            group=dict(type="str"),
        )),
        purge_roles=dict(type="bool", default=False),
    ))
    p = module.params

    def body(client):
        desired_roles = plan.normalise_roles(p["roles"])
        live = common.find_project(client, p["name"])
        have_roles = plan.live_roles(common.list_roles(client, live["id"])) if live else {}
        ops = plan.plan_project(p["name"], live, p["state"], p["project_role_assertion"], p["project_role_check"], p["has_project_check"])
        before = None
        if live:
            before = dict(plan.project_view(live), roles=sorted(have_roles))
        after = None
        if p["state"] == "present":
            ops += plan.plan_roles(desired_roles, have_roles, p["purge_roles"])
            keys = set(desired_roles) | (set() if p["purge_roles"] else set(have_roles))
            after = dict(name=p["name"], projectRoleAssertion=p["project_role_assertion"], projectRoleCheck=p["project_role_check"],
                         hasProjectCheck=p["has_project_check"], roles=sorted(keys))
        context = {"project_id": live["id"]} if live else {}
        if ops and not module.check_mode:
            context = plan.apply(client, ops, context)
        result = dict(changed=bool(ops), project_id=context.get("project_id", "") if p["state"] == "present" else "",
                      operations=[op.as_dict() for op in ops])
        if after is not None:
            result["roles"] = after["roles"]
        if module._diff:
            result["diff"] = common.diff(before, after)
        return result

    common.run(module, body)


if __name__ == "__main__":
    main()
