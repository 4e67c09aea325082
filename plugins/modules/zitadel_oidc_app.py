#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zitadel_oidc_app
short_description: Manage the Zitadel OIDC application kubectl logs in with
version_added: 0.1.0
description:
  - Creates, updates or removes an OIDC application in a Zitadel project, found by its name.
  - The application is always a native public client with PKCE (C(OIDC_AUTH_METHOD_TYPE_NONE)),
    authorization code and optionally refresh-token grants, as kubelogin needs; it has no client secret.
  - Returns the client id the kube-apiserver uses as audience and kubelogin as C(--oidc-client-id).
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
      - Id of the project the application belongs to (RV(safespring.netsec.zitadel_project#module:project_id)).
    type: str
    required: true
  name:
    description:
      - Application name; identifies the application within the project.
    type: str
    required: true
  state:
    description:
      - Whether the application exists.
    type: str
    choices: [present, absent]
    default: present
  redirect_uris:
    description:
      - Redirect URIs. The default is what kubelogin listens on (port 8000, falling back to 18000).
      - Parsed and compared exactly. Must be C(https://), or C(http://) to the loopback hosts C(localhost), C(127.0.0.1) or C([::1]) exactly.
      - Userinfo (C(user@host)), fragments and control characters are refused. O(dev_mode=true) allows plain C(http://) to other hosts (labs only).
    type: list
    elements: str
    default: ["http://localhost:8000", "http://localhost:18000"]
  post_logout_redirect_uris:
    description:
      - Where Zitadel may send the browser after logout.
    type: list
    elements: str
    default: []
  dev_mode:
    description:
      - Zitadel's development mode (relaxes redirect URI checks). Only for labs.
    type: bool
    default: false
  id_token_role_assertion:
    description:
      - Put the user's project roles into the ID token (which kubectl presents to the API server).
    type: bool
    default: true
  id_token_userinfo_assertion:
    description:
      - Put profile claims (C(email), C(preferred_username)...) into the ID token.
    type: bool
    default: true
  refresh_tokens:
    description:
      - Allow the refresh-token grant so kubelogin can renew tokens without a browser.
    type: bool
    default: true
notes:
  - The service user of O(token) needs the project or organisation manager role in the organisation.
  - Changing the configuration keeps the client id; removing and re-creating the app gives a new one.
seealso:
  - module: safespring.netsec.zitadel_project
"""

EXAMPLES = r"""
- name: OIDC app for kubectl
  safespring.netsec.zitadel_oidc_app:
    url: https://id.example.com
    token: "{{ zitadel_pat }}"
    project_id: "{{ project.project_id }}"
    name: kubectl
  register: app

- name: The API server's audience
  ansible.builtin.debug:
    msg: "{{ app.client_id }}"
"""

RETURN = r"""
app_id:
  description: Id of the application (empty when absent or in check mode before creation).
  returned: always
  type: str
client_id:
  description: OIDC client id (empty when absent or in check mode before creation).
  returned: always
  type: str
  sample: "285441962217095957@kubernetes-prod"
operations:
  description: The API calls the plan made (or would make in check mode).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import common, plan
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel.client import MANAGEMENT, path_segment


def find_app(client, project_id, name):
    apps = [a for a in client.search(MANAGEMENT + "/projects/" + path_segment(project_id) + "/apps/_search") if a.get("name") == name]
    if len(apps) > 1:
        raise NetsecError("%d apps are named %r in project %s" % (len(apps), name, project_id), field="name",
                          fix="remove the duplicates in Zitadel")
    return apps[0] if apps else None


def main():
    module = common.zitadel_module(dict(
        project_id=dict(type="str", required=True),
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        redirect_uris=dict(type="list", elements="str", default=list(plan.KUBELOGIN_REDIRECT_URIS)),
        post_logout_redirect_uris=dict(type="list", elements="str", default=[]),
        dev_mode=dict(type="bool", default=False),
        id_token_role_assertion=dict(type="bool", default=True),
        id_token_userinfo_assertion=dict(type="bool", default=True),
        refresh_tokens=dict(type="bool", default=True),
    ))
    p = module.params

    def body(client):
        desired = plan.desired_oidc_config(
            p["redirect_uris"], p["post_logout_redirect_uris"], p["dev_mode"], p["id_token_role_assertion"],
            p["id_token_userinfo_assertion"], refresh_tokens=p["refresh_tokens"])
        common.get_project(client, p["project_id"])
        live = find_app(client, p["project_id"], p["name"])
        ops = plan.plan_oidc_app(p["project_id"], p["name"], desired, live, p["state"])
        context = {"app_id": live["id"]} if live else {}
        if ops and not module.check_mode:
            context = plan.apply(client, ops, context)
        client_id = ""
        if p["state"] == "present" and context.get("app_id"):
            app = live
            if app is None or ops:
                app = client.get(MANAGEMENT + "/projects/" + path_segment(p["project_id"]) + "/apps/" + path_segment(context["app_id"])).get("app")
            client_id = (app.get("oidcConfig") or {}).get("clientId", "")
        result = dict(changed=bool(ops), app_id=context.get("app_id", "") if p["state"] == "present" else "",
                      client_id=client_id, operations=[op.as_dict() for op in ops])
        if module._diff:
            result["diff"] = common.diff(plan.oidc_view(live), dict(desired, name=p["name"]) if p["state"] == "present" else None)
        return result

    common.run(module, body)


if __name__ == "__main__":
    main()
