#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: talos_info
short_description: Read a Talos node's version, services and live host firewall
version_added: 0.1.0
description:
  - Reads facts for verification and audit through talosctl - C(talosctl version),
    C(talosctl get services -o yaml) and C(talosctl get nftableschain -o yaml) (the firewall
    chains Talos programmed). Never reads the machine config (it holds secrets).
requirements:
  - PyYAML
  - talosctl on the controller
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.INFO_MODULE
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.talos
options:
  node:
    description: The node to read, one IP address or DNS name.
    type: str
    required: true
  gather:
    description: What to read.
    type: list
    elements: str
    choices: [version, services, firewall]
    default: [version, services, firewall]
seealso:
  - module: safespring.netsec.talos_apply
author:
  - Safespring platform team (@safespring)
"""

EXAMPLES = r"""
- name: Audit the firewall of a node
  safespring.netsec.talos_info:
    node: 198.18.1.21
    gather: [firewall]
  register: fw

- name: The default action must be block
  ansible.builtin.assert:
    that: fw.firewall.default_action == 'block'
"""

RETURN = r"""
talos_version:
  description: The node's Talos version tag.
  returned: when version is gathered
  type: str
  sample: v1.13.9
services:
  description: Services with their state.
  returned: when services are gathered
  type: list
  elements: dict
  sample: [{id: apid, running: true, healthy: true}]
firewall:
  description:
    - C(default_action) (block when the ingress chain's policy is drop), C(rules) (accepting rules with
      protocol, port ranges and source subnets) and C(chains) (the raw NfTablesChain specs by id).
  returned: when firewall is gathered
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos.documents import HAS_YAML
from ansible_collections.safespring.netsec.plugins.module_utils.talos.common import CONNECTION_SPEC, client_from_module
from ansible_collections.safespring.netsec.plugins.module_utils.talos.talosctl import parse_node


def firewall_facts(chains):
    """NfTablesChain resources -> audit view of the ingress chain."""
    by_id = dict((c["metadata"]["id"], c["spec"]) for c in chains)
    ingress = by_id.get("ingress") or {}
    rules = []
    for rule in ingress.get("rules") or []:
        layer4 = rule.get("matchLayer4") or {}
        sources = (rule.get("matchSourceAddress") or {}).get("includeSubnets") or []
        ranges = (layer4.get("matchDestinationPort") or {}).get("ranges") or []
        if rule.get("verdict") == "accept" and ranges:
            rules.append({"protocol": layer4.get("protocol"), "ports": ["%s-%s" % (r["lo"], r["hi"]) if r["lo"] != r["hi"] else r["lo"] for r in ranges],
                          "sources": sources})
    policy = ingress.get("policy")
    return {"default_action": "block" if policy == "drop" else ("accept" if policy else None), "rules": rules, "chains": by_id}


def main():
    spec = dict(
        node=dict(type="str", required=True),
        gather=dict(type="list", elements="str", choices=["version", "services", "firewall"], default=["version", "services", "firewall"]),
    )
    spec.update(CONNECTION_SPEC)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    result = {"changed": False}
    try:
        node = parse_node(module.params["node"], "node")
        tc = client_from_module(module)
        if "version" in module.params["gather"]:
            servers = tc.version(node)["server"]
            result["talos_version"] = servers[0].get("Tag") if servers else None
        if "services" in module.params["gather"]:
            result["services"] = [{"id": s["metadata"]["id"], "running": s["spec"].get("running"), "healthy": s["spec"].get("healthy")}
                                  for s in tc.get("services", node)]
        if "firewall" in module.params["gather"]:
            result["firewall"] = firewall_facts(tc.get("nftableschain", node))
    except NetsecError as exc:
        exc.fail(module, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
