# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The talos_hardening role's variables, typed in Python before any task writes or sends.

Node names become file names, node addresses become talosctl --nodes and firewall sources,
guard commands run on the controller: each is parsed here with the role variable named in
the error. The machine-config content (knobs, patches, waivers) is judged per node by
talos_machine_config; here it is only bounded. Returns what the tasks use.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import apply as A
from ansible_collections.safespring.netsec.plugins.module_utils.talos import baseline as B
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F
from ansible_collections.safespring.netsec.plugins.module_utils.talos import talosctl as T

PREFIX = "talos_hardening_"
NODE_KEYS = ("name", "role", "address", "addresses", "patches")
# Roles of the address book that are not Talos nodes; the node roles come from the nodes.
OTHER_ROLES = ("loadbalancer", "jump_host")


def _var(name):
    return PREFIX + name


def parse_nodes(nodes, field=_var("nodes")):
    if not isinstance(nodes, list) or not nodes:
        raise NetsecError("must be a non-empty list of {name, role, address}", field=field)
    out, names, seen = [], {}, {}
    for i, node in enumerate(nodes):
        nfield = field_path(field, i)
        _typed.known_keys(node, nfield, NODE_KEYS)
        name = _typed.name(node.get("name"), field_path(nfield, "name"))
        role = _typed.choice(node.get("role"), field_path(nfield, "role"), pm.NODE_ROLES)
        # An IP address: it is talosctl's --nodes and a firewall source of the node's role.
        address = _typed.address(node.get("address"), field_path(nfield, "address"))
        extra = node.get("addresses") or []
        if not isinstance(extra, list):
            raise NetsecError("must be a list of addresses", field=field_path(nfield, "addresses"))
        for j, value in enumerate(extra):
            cidr = _typed.cidr(value, field_path(nfield, "addresses", j))
            if pm.wide_families([cidr]):
                raise NetsecError("%s is a network, not an address of this node" % cidr, field=field_path(nfield, "addresses", j))
        patches = node.get("patches") or []
        if not isinstance(patches, list):
            raise NetsecError("must be a list of patches", field=field_path(nfield, "patches"))
        for j, item in enumerate(patches):
            D.check_tree(item, field_path(nfield, "patches", j))
        if name in names:
            raise NetsecError("%s is also the name of %s[%d]: names and addresses must be unique" % (name, field, names[name]),
                              field=field_path(nfield, "name"))
        if address in seen:
            raise NetsecError("%s is also the address of %s[%d]: names and addresses must be unique" % (address, field, seen[address]),
                              field=field_path(nfield, "address"))
        names[name], seen[address] = i, i
        out.append({"index": i, "name": name, "role": role, "address": address, "raw": node})
    return out


def address_book(nodes, addresses):
    """Node roles from the nodes (address, then extra addresses), the other roles as given."""
    book = dict(F.parse_addresses(addresses, _var("addresses"), roles=OTHER_ROLES))
    for role in pm.NODE_ROLES:
        members = [n for n in nodes if n["role"] == role]
        book[role] = [n["raw"]["address"] for n in members] + [a for n in members for a in n["raw"].get("addresses") or []]
    return book


def parse(values):
    """All role variables (names without the prefix) -> {nodes, book, output_dir}."""
    values = dict(values)
    if values.get("render_only") and not values.get("schema_path"):
        raise NetsecError("required with talos_hardening_render_only (the configs must be schema-validated)", field=_var("schema_path"))
    for option in ("cluster", "knobs", "patches", "addresses", "admin_sources", "base_configs", "waivers", "baseline_waivers"):
        D.check_tree(values.get(option), _var(option))
    pm.validate_cluster(values.get("cluster"), _var("cluster"))  # the one schema; errors name talos_hardening_cluster.<path>
    nodes = parse_nodes(values.get("nodes"))
    book = address_book(nodes, values.get("addresses"))
    F.parse_sources(values.get("admin_sources") or [], _var("admin_sources"))
    A.parse_guard_commands(values.get("guard_commands") or [], _var("guard_commands"))
    T.parse_endpoints(values.get("endpoints") or [], _var("endpoints"))
    T.duration_seconds(values.get("try_timeout"), _var("try_timeout"))
    for key, low, high in (("guard_retries", 1, 100), ("guard_delay", 0, 3600), ("rollback_grace", 0, 3600)):
        _typed.integer(values.get(key), _var(key), low, high)
    output_dir = values.get("output_dir")
    _typed.text(output_dir, _var("output_dir"), max_len=4096)
    if not os.path.isabs(output_dir):
        raise NetsecError("%r is not an absolute path" % output_dir, field=_var("output_dir"))
    output_dir = _typed.path(os.path.normpath(output_dir), _var("output_dir"))
    bases = _typed.known_keys(values.get("base_configs") or {}, _var("base_configs"), pm.NODE_ROLES)
    for role, path in bases.items():
        _typed.text(path, field_path(_var("base_configs"), role), max_len=4096)
    _typed.text(values.get("talosctl_path") or "talosctl", _var("talosctl_path"))
    B.check_port_waivers(values.get("waivers") or [], _var("waivers"))
    B.check_baseline_waivers(values.get("baseline_waivers") or [], _var("baseline_waivers"))
    return {"nodes": [dict((k, v) for k, v in n.items() if k != "raw") for n in nodes], "book": book, "output_dir": output_dir}
