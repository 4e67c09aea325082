# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every zitadel_* module shares: connection options, lookups, the run wrapper."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel.client import (
    CONNECTION_ARGSPEC, MANAGEMENT, ZitadelError, client_from_module, path_segment)


def zitadel_module(argument_spec, **kwargs):
    spec = dict(CONNECTION_ARGSPEC)
    spec.update(argument_spec)
    return AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)


def run(module, body):
    """Call body(client) -> result dict; every NetsecError becomes fail_json (token never printed)."""
    try:
        client = client_from_module(module)
        result = body(client)
    except NetsecError as exc:
        exc.fail(module, changed=False)
    module.exit_json(**result)


def find_project(client, name):
    """The project named `name` in the org, or None; several with that name is an error."""
    found = client.search(MANAGEMENT + "/projects/_search",
                          {"queries": [{"nameQuery": {"name": name, "method": "TEXT_QUERY_METHOD_EQUALS"}}]})
    found = [p for p in found if p.get("name") == name]
    if len(found) > 1:
        raise NetsecError("%d projects are named %r" % (len(found), name), field="name",
                          fix="rename or remove the duplicates in Zitadel so the name identifies one project")
    return found[0] if found else None


def get_project(client, project_id):
    try:
        return client.get(MANAGEMENT + "/projects/" + path_segment(project_id)).get("project")
    except ZitadelError as exc:
        if exc.status == 404:
            raise NetsecError("project %s does not exist in this organisation" % project_id, field="project_id",
                              fix="create it with safespring.netsec.zitadel_project or check org_id")
        raise


def list_roles(client, project_id):
    return client.search(MANAGEMENT + "/projects/" + path_segment(project_id) + "/roles/_search")


def diff(before, after):
    return {"before": before if before is not None else {}, "after": after if after is not None else {}}
