# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron address groups: parse and plan (pure; no I/O).

An address group is a named set of CIDRs a rule can admit as one source
(`remote_address_group_id`): 200 admin ranges are one rule per service, not 200. Its
addresses change through add_addresses / remove_addresses without touching any rule.
Addresses are compared the way Neutron stores them (10.1.2.3/8 is 10.0.0.0/8, a bare
address is a /32 or /128). The sync is exclusive: addresses not listed are removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.rules import normalize_cidr

KEYS = ("name", "state", "description", "addresses")

# addresses: normalised CIDRs in input order, no repeats; fields: {cidr: where it was written}.
DesiredAddressGroup = namedtuple("DesiredAddressGroup", "name state description addresses field fields")


def parse(raw_groups, field="address_groups"):
    """User address groups -> [DesiredAddressGroup]; every error names its field. No I/O."""
    if not isinstance(raw_groups, list):
        raise NetsecError("must be a list of address groups", field=field)
    out, names = [], set()
    for i, raw in enumerate(raw_groups):
        gfield = field_path(field, i)
        raw = _typed.known_keys(raw, gfield, KEYS)
        name = raw.get("name")
        if not name or not isinstance(name, str) or len(name) > 255 or any(ord(c) < 32 for c in name):
            raise NetsecError("an address group needs a name (a string on one line, at most 255 characters)",
                              field=field_path(gfield, "name"))
        if name in names:
            raise NetsecError("%r is listed twice" % name, field=field_path(gfield, "name"), fix="merge the two entries")
        names.add(name)
        state = raw.get("state") or "present"
        if state not in ("present", "absent"):
            raise NetsecError("%r is not present or absent" % (state,), field=field_path(gfield, "state"))
        description = raw.get("description")
        if description is not None and not isinstance(description, str):
            raise NetsecError("must be a string", field=field_path(gfield, "description"))
        addresses = raw.get("addresses")
        addresses = [] if addresses is None else addresses
        if not isinstance(addresses, list):
            raise NetsecError("must be a list of CIDRs", field=field_path(gfield, "addresses"))
        cidrs, fields = [], {}
        for j, value in enumerate(addresses):
            afield = field_path(gfield, "addresses", j)
            if not isinstance(value, str):
                raise NetsecError("%r is not an IPv4/IPv6 address or CIDR" % (value,), field=afield,
                                  fix="write it like 192.0.2.0/24 or 2001:db8::/64")
            cidr = normalize_cidr(value, afield)
            if cidr not in fields:
                cidrs.append(cidr)
                fields[cidr] = afield
        out.append(DesiredAddressGroup(name, state, description, cidrs if state == "present" else [], gfield, fields))
    return out


def lint_addresses(desired):
    """{name: [(cidr, field)]} of the present address groups, for rules.lint_entries()."""
    return dict((g.name, [(c, g.fields[c]) for c in g.addresses]) for g in desired if g.state == "present")


def check_references(groups, desired):
    """No rule of the environment may name an address group that is to be deleted."""
    absent = set(g.name for g in desired if g.state == "absent")
    for group in groups:
        for j, rule in enumerate(group.rules):
            if rule.remote_address_group in absent:
                raise NetsecError("address group %r is to be deleted (state absent)" % rule.remote_address_group,
                                  field=field_path(group.rule_field(j), "remote_address_group"),
                                  fix="drop the rule or keep the address group")


class AddressGroupPlan(object):
    """What one address group needs."""

    def __init__(self, name, state):
        self.name = name
        self.state = state
        self.id = None
        self.create = False
        self.delete = False
        self.update = {}
        self.add = []       # CIDRs to add (to a new group: its addresses)
        self.remove = []    # live CIDRs, as Neutron spells them
        self.before = []
        self.after = []

    @property
    def changed(self):
        return bool(self.create or self.delete or self.update or self.add or self.remove)

    def diff(self):
        header = "address group %s" % self.name
        return {"before_header": header, "after_header": header,
                "before": "" if self.create else "".join(c + "\n" for c in sorted(self.before)),
                "after": "" if self.delete else "".join(c + "\n" for c in sorted(self.after))}

    def result(self):
        return {"name": self.name, "id": self.id, "state": self.state, "changed": self.changed, "created": self.create,
                "deleted": self.delete, "updated": sorted(self.update), "addresses_added": list(self.add),
                "addresses_removed": list(self.remove)}


def plan(desired, live):
    """desired: [DesiredAddressGroup]; live: {name: API dict} -> [AddressGroupPlan]."""
    out = []
    for group in desired:
        ap = AddressGroupPlan(group.name, group.state)
        current = live.get(group.name)
        if current is None:
            if group.state == "present":
                ap.create = True
                ap.add = list(group.addresses)
                ap.after = list(group.addresses)
            out.append(ap)
            continue
        ap.id = current["id"]
        spelled = dict((normalize_cidr(c, "addresses"), c) for c in current.get("addresses") or [])
        ap.before = sorted(spelled)
        if group.state == "absent":
            ap.delete = True
            out.append(ap)
            continue
        if group.description is not None and (current.get("description") or "") != group.description:
            ap.update["description"] = group.description
        wanted = set(group.addresses)
        ap.add = [c for c in group.addresses if c not in spelled]
        ap.remove = sorted(spelled[c] for c in spelled if c not in wanted)
        ap.after = list(group.addresses)
        out.append(ap)
    return out
