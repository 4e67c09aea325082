# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owned sets: the objects one caller manages, marked by two labels, planned without I/O.

`plan(desired, live, owned_set)` compares the declared objects with what the cluster holds
and returns create / update / unchanged / prune actions. Objects without our owner labels
are never touched: a desired object whose name is taken by a foreign object (or by another
owned set) is a conflict, reported before anything is sent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import diff as kdiff

FIELD_MANAGER = "safespring.netsec"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "safespring.netsec"
OWNED_SET_LABEL = "netsec.safespring.com/owned-set"

_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")

Key = namedtuple("Key", "group kind namespace name")
Action = namedtuple("Action", "action key desired live reasons")
# action: create | update | unchanged | prune


def check_owned_set_name(name, field="owned_set"):
    if not isinstance(name, str) or not _LABEL_VALUE.match(name):
        raise NetsecError("%r is not a valid label value" % (name,), field=field,
                          fix="use 1-63 letters, digits, '-', '_' or '.', starting and ending alphanumeric")
    return name


def owner_labels(owned_set):
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, OWNED_SET_LABEL: owned_set}


def selector(owned_set):
    """Label selector that lists exactly one owned set."""
    return "%s=%s,%s=%s" % (MANAGED_BY_LABEL, MANAGED_BY_VALUE, OWNED_SET_LABEL, owned_set)


def legacy_selector(managed_by):
    """Label selector for objects an older release marked with another managed-by value only."""
    return "%s=%s" % (MANAGED_BY_LABEL, managed_by)


def in_owned_set(obj, owned_set):
    """True when `obj` carries the owner labels of `owned_set` (the one test of membership)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE and labels.get(OWNED_SET_LABEL) == owned_set


def stamp(obj, owned_set):
    """A copy of `obj` carrying the owner labels (top level and metadata copied, the rest shared)."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.update(owner_labels(owned_set))
    meta["labels"] = labels
    out["metadata"] = meta
    return out


def key_of(obj):
    api_version = obj.get("apiVersion") or ""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    meta = obj.get("metadata") or {}
    return Key(group, obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def describe(key):
    where = "%s/%s" % (key.namespace, key.name) if key.namespace else key.name
    return "%s %s" % (key.kind, where)


def owner_of(obj, owned_set=None, legacy_managed_by=()):
    """The owned set an object belongs to, or None for a foreign object.

    An object whose managed-by value is one of `legacy_managed_by` (an older release of the
    caller wrote it, before owned sets) counts as `owned_set`'s."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if owned_set and labels.get(MANAGED_BY_LABEL) in legacy_managed_by:
        return owned_set
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        return None
    return labels.get(OWNED_SET_LABEL)


def plan(desired, live, owned_set, prune=True, field="objects", manager=FIELD_MANAGER, legacy_managed_by=(), prune_order=()):
    """Plan one owned set.

    desired: objects as declared (owner labels are added here).
    live: what the cluster returned: the owned set listed by its selector plus any object
    found under a desired name (whatever its labels), in API-server form.
    Returns a list of Action in a stable order: creates/updates/unchanged in declared order,
    then prunes sorted by the position of their kind in `prune_order` (kinds not named go
    last), then by key. Raises NetsecError on duplicates and on foreign-name conflicts.
    """
    check_owned_set_name(owned_set)
    live_by_key = {}
    for obj in live:
        live_by_key[key_of(obj)] = obj
    actions, seen = [], {}
    for i, obj in enumerate(desired):
        item_field = field_path(field, i)
        key = key_of(obj)
        if not key.kind or not key.name:
            raise NetsecError("needs kind and metadata.name", field=item_field)
        if key in seen:
            raise NetsecError("%s is declared twice (also at %s)" % (describe(key), seen[key]), field=item_field,
                              fix="give each object a unique kind/namespace/name")
        seen[key] = item_field
        want = stamp(obj, owned_set)
        have = live_by_key.get(key)
        if have is None:
            actions.append(Action("create", key, want, None, []))
            continue
        owner = owner_of(have, owned_set, legacy_managed_by)
        if owner is None:
            raise NetsecError("%s already exists and is not managed by this collection" % describe(key), field=item_field,
                              fix="rename the declared object, or remove/relabel the existing one by hand "
                                  "(labels %s=%s, %s=%s) if it should be adopted" % (MANAGED_BY_LABEL, MANAGED_BY_VALUE,
                                                                                     OWNED_SET_LABEL, owned_set))
        if owner != owned_set:
            raise NetsecError("%s belongs to owned set %r, not %r" % (describe(key), owner, owned_set), field=item_field,
                              fix="declare it in the owned set that manages it, or rename it")
        update, reasons = kdiff.needs_update(want, have, manager)
        actions.append(Action("update" if update else "unchanged", key, want, have, reasons))
    if prune:
        stale = [k for k, obj in live_by_key.items() if k not in seen and owner_of(obj, owned_set, legacy_managed_by) == owned_set]
        rank = dict((kind, i) for i, kind in enumerate(prune_order))
        for key in sorted(stale, key=lambda k: (rank.get(k.kind, len(rank)), k)):
            actions.append(Action("prune", key, None, live_by_key[key], ["no longer declared"]))
    return actions


def summary(actions):
    out = {"create": [], "update": [], "unchanged": [], "prune": []}
    for action in actions:
        out[action.action].append(describe(action.key))
    return out


def changed(actions):
    return any(a.action != "unchanged" for a in actions)


def diff(actions):
    """Ansible diff list: one {before, after, before_header, after_header} per changing object."""
    out = []
    for action in actions:
        if action.action == "unchanged":
            continue
        entry = kdiff.diff_pair(action.live, action.desired)
        entry["before_header"] = entry["after_header"] = "%s (%s)" % (describe(action.key), action.action)
        out.append(entry)
    return out
