# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a security-group plan, make before break.

Order: create missing address groups and add their new addresses, create missing groups
(so rules can reference each other), update group attributes and tags, create every
group's new rules (one bulk POST per group), and only then delete rules that are no longer
wanted, remove addresses no longer wanted, delete groups and then address groups that are
to be absent.
A failure at any point leaves old and new rules side by side (an allowlist never has a
gap); the next run sees the extra rules and finishes the job.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import address_groups as AG
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.client import OpenStackError

# What Neutron gives a new group when the cloud does not publish its templates
# (the classic defaults: everything out, IPv4 and IPv6).
CLASSIC_NEW_GROUP_RULES = [
    {"direction": "egress", "ethertype": "IPv4", "protocol": None, "port_range_min": None, "port_range_max": None,
     "remote_ip_prefix": None, "remote_group_id": None, "description": ""},
    {"direction": "egress", "ethertype": "IPv6", "protocol": None, "port_range_min": None, "port_range_max": None,
     "remote_ip_prefix": None, "remote_group_id": None, "description": ""},
]


def _rule_result(group, rule, rule_id):
    return {"group": group, "id": rule_id, "rule": R.describe(rule)}


class Sync(object):
    """One environment's sync: read once, plan, and (unless check mode) apply."""

    def __init__(self, client, desired, protected=None, project_id=None, address_groups=(), waivers=None):
        self.client = client
        self.desired = desired
        self.protected = protected
        self.project_id = project_id
        self.address_groups = list(address_groups)  # [AG.DesiredAddressGroup]
        self.waivers = waivers or []
        self.live = {}
        self.live_address_groups = {}
        self.plan = None
        self.created = []
        self.deleted = []
        self.groups_created = []
        self.groups_deleted = []

    def read(self):
        names = [g.name for g in self.desired]
        found = self.client.list_groups(names, self.project_id)
        for name, groups in found.items():
            if len(groups) > 1:
                raise NetsecError("%d security groups are named %r in this project: %s"
                                  % (len(groups), name, ", ".join(sorted(g["id"] for g in groups))),
                                  field="security_groups", fix="delete or rename the extra ones; names must be unique")
        self.live = dict((name, groups[0]) for name, groups in found.items())
        # Every remote_group_id resolved before the first write (a bad one failed with 404 mid-run).
        external = R.external_remote_ids(self.desired, self.live)
        self.desired = R.resolve_remote_ids(self.desired, self.live, self.client.existing_group_ids(external))
        self._read_address_groups()
        new_rules = []
        if any(g.state == "present" and g.name not in self.live for g in self.desired):
            new_rules = self.client.default_rules()
            if new_rules is None:
                new_rules = CLASSIC_NEW_GROUP_RULES
        self.plan = R.plan(self.desired, self.live, self.protected, new_rules,
                           address_groups=AG.plan(self.address_groups, self.live_address_groups))
        return self.plan

    def _read_address_groups(self):
        """The environment's address groups (one request, only when it has any) and every
        remote_address_group_id resolved; address groups managed elsewhere are read (one
        request) so that the lint judges their addresses, before the first write."""
        uses_ids = any(r.remote_address_group_id for g in self.desired for r in g.rules)
        if not self.address_groups and not uses_ids:
            return
        found = self.client.list_address_groups([a.name for a in self.address_groups], self.project_id)
        for name, groups in found.items():
            if len(groups) > 1:
                raise NetsecError("%d address groups are named %r in this project: %s"
                                  % (len(groups), name, ", ".join(sorted(g["id"] for g in groups))),
                                  field="address_groups", fix="delete or rename the extra ones; names must be unique")
        self.live_address_groups = dict((name, groups[0]) for name, groups in found.items())
        external = R.external_address_group_ids(self.desired, self.live_address_groups)
        others = self.client.address_groups_by_id(external)
        absent = set(a.name for a in self.address_groups if a.state == "absent")
        self.desired = R.resolve_address_group_ids(self.desired, self.live_address_groups, others, absent)
        if uses_ids:
            # Rules on address groups given by id were left out of the input lint: judged now, with
            # every other source of the environment (a union can be too wide).
            addresses = AG.lint_addresses(self.address_groups)
            for ag_id, group in others.items():
                addresses[ag_id] = [(R.normalize_cidr(c, "addresses"), None) for c in group.get("addresses") or []]
            pm.refuse(pm.lint(R.lint_entries(self.desired, addresses), self.waivers, field="waivers"))

    def apply(self):
        """Carry out self.plan. On failure raises OpenStackError with what was done so far."""
        try:
            self._apply()
        except OpenStackError as exc:
            exc.extra.update(self.results())
            raise

    def _apply(self):
        desired = dict((g.name, g) for g in self.desired)
        wanted_ags = dict((a.name, a) for a in self.address_groups)
        # 0. address groups and their new addresses, before the rules that admit them.
        for ap in self.plan.address_groups:
            if ap.create:
                ap.id = self.client.create_address_group(ap.name, wanted_ags[ap.name].description, ap.add, self.project_id)["id"]
            elif not ap.delete:
                if ap.update:
                    self.client.update_address_group(ap.id, ap.name, ap.update)
                if ap.add:
                    self.client.change_addresses(ap.id, ap.name, "add_addresses", ap.add)
        ag_ids = dict((ap.name, ap.id) for ap in self.plan.address_groups)
        # 1. groups, so that rules of any group can reference any other.
        for gp in self.plan.groups:
            group = desired[gp.name]
            if gp.create_group:
                live = self.client.create_group(gp.name, group.description, group.stateful, self.project_id)
                self.live[gp.name] = live
                self.groups_created.append(gp.name)
            elif gp.update:
                self.live[gp.name] = dict(self.client.update_group(gp.id, gp.name, gp.update),
                                          security_group_rules=self.live[gp.name].get("security_group_rules", []))
            if gp.set_tags is not None:
                self.client.set_tags(self.live[gp.name]["id"], gp.name, gp.set_tags)
        if self.groups_created:
            # New groups came with the cloud's real default rules: plan their rules from those.
            # Only theirs: the other groups' plans hold the updates just sent (planned again from
            # the updated groups they would report no change, unlike check mode).
            fresh = R.plan(self.desired, self.live, self.protected, address_groups=self.plan.address_groups)
            for gp in self.plan.groups:
                if gp.name in self.groups_created:
                    gp.adopt_rules(fresh.group(gp.name))
        ids = dict((name, g["id"]) for name, g in self.live.items())
        # 2. make: every group's new rules, one bulk POST each.
        for gp in self.plan.groups:
            if not gp.to_create:
                continue
            bodies = [R.api_body(rule, ids[gp.name], ids, ag_ids) for rule in gp.to_create]
            made = self.client.create_rules(bodies, gp.name)
            for rule, api_rule in zip(gp.to_create, made):
                self.created.append(_rule_result(gp.name, rule, api_rule.get("id")))
        # 3. break: rules no longer wanted, and duplicate copies.
        for gp in self.plan.groups:
            for api_rule, rule in gp.deletions():
                self.client.delete_rule(api_rule["id"], gp.name)
                self.deleted.append(_rule_result(gp.name, rule, api_rule["id"]))
        # 3b. addresses no longer wanted (narrowing; no rule is touched).
        for ap in self.plan.address_groups:
            if ap.remove and not ap.delete:
                self.client.change_addresses(ap.id, ap.name, "remove_addresses", ap.remove)
        # 4. groups to be absent (Neutron drops rules of other groups that reference them).
        for gp in self.plan.groups:
            if gp.delete_group:
                self.client.delete_group(gp.id, gp.name)
                self.groups_deleted.append(gp.name)
        # 5. address groups to be absent, once no rule of ours uses them (Neutron refuses one in use: 409).
        for ap in self.plan.address_groups:
            if ap.delete:
                self.client.delete_address_group(ap.id, ap.name)

    def predicted(self):
        """Check mode: what a run would create and delete (created ids unknown)."""
        created, deleted = [], []
        for gp in self.plan.groups:
            created.extend(_rule_result(gp.name, rule, None) for rule in gp.to_create)
            deleted.extend(_rule_result(gp.name, rule, api_rule["id"]) for api_rule, rule in gp.deletions())
        return created, deleted

    def results(self, check_mode=False):
        if check_mode:
            created, deleted = self.predicted()
        else:
            created, deleted = self.created, self.deleted
        groups = []
        for gp in self.plan.groups:
            live = self.live.get(gp.name)
            groups.append({
                "name": gp.name,
                "id": (live or {}).get("id"),
                "state": gp.state,
                "changed": gp.changed,
                "created": gp.create_group,
                "deleted": gp.delete_group,
                "updated": sorted(gp.update) + (["tags"] if gp.set_tags is not None else []),
                "rules_created": len(gp.to_create),
                "rules_deleted": len(gp.deletions()),
                "rules_kept": len(gp.keep),
                "rules_protected": [_rule_result(gp.name, rule, api_rule["id"]) for api_rule, rule in gp.protected],
            })
        out = {"security_groups": groups, "created_rules": created, "deleted_rules": deleted}
        if self.plan.address_groups:
            out["address_groups"] = [ap.result() for ap in self.plan.address_groups]
        return out
