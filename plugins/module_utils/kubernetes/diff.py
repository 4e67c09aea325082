# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalised comparison of desired and live objects under server-side apply semantics.

A live object carries fields the API server fills in (managedFields, resourceVersion, uid,
status, defaults...). With server-side apply we only own the fields we send, so an object
needs an update when (a) a field we send differs from the live value, or (b) a field our
field manager owned before is no longer in the desired object (SSA would remove it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                   "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",
                      "deployment.kubernetes.io/revision")


def normalize(obj):
    """A copy without server-populated fields, empty label/annotation maps and status.

    Shallow where it can be: only the top level and metadata are rebuilt (the rest is shared
    with `obj` and must not be mutated by callers)."""
    out = dict(obj or {})
    out.pop("status", None)
    meta = dict(out.get("metadata") or {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    annotations = dict(meta.get("annotations") or {})
    for key in SERVER_ANNOTATIONS:
        annotations.pop(key, None)
    meta["annotations"] = annotations
    for key in ("annotations", "labels"):
        if key in meta and not meta[key]:
            meta.pop(key)
    if meta:
        out["metadata"] = meta
    else:
        out.pop("metadata", None)
    return out


def is_subset(desired, live):
    """True when every field of `desired` has the same value in `live` (lists compared whole)."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(k in live and is_subset(v, live[k]) for k, v in desired.items())
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, lv) for d, lv in zip(desired, live))
    return _scalar_equal(desired, live)


def _scalar_equal(a, b):
    # The API server returns ints where YAML may have given "80": CNP ports are strings though,
    # so compare as given except for bool/int/float cross-typing that JSON preserves anyway.
    return a == b


def managed_paths(live, manager):
    """Field paths (tuples of map keys) owned by `manager` through Apply, from managedFields.

    Descends through "f:" map keys only; a list ("k:", "v:", "i:" items) is reported as its
    parent path, which is then compared whole.
    """
    paths = set()
    for entry in (live or {}).get("metadata", {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        _walk_fields(entry.get("fieldsV1") or {}, (), paths)
    return paths


def _walk_fields(node, prefix, paths):
    keys = [k for k in node if k != "."]
    map_keys = [k for k in keys if k.startswith("f:")]
    if not keys or len(map_keys) != len(keys):
        if prefix:
            paths.add(prefix)
        return
    for key in map_keys:
        _walk_fields(node[key] or {}, prefix + (key[2:],), paths)


def _has_path(obj, path):
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return False
        obj = obj[part]
    return True


def removed_paths(desired, live, manager):
    """Paths our manager owns on the live object that the desired object no longer has."""
    return sorted(".".join(p) for p in managed_paths(live, manager) if not _has_path(desired, p))


def needs_update(desired, live, manager):
    """(bool, reasons): whether applying `desired` over `live` would change the object."""
    want, have = normalize(desired), normalize(live)
    reasons = []
    if not is_subset(want, have):
        reasons.append("fields differ")
    removed = removed_paths(want, live, manager)
    if removed:
        reasons.append("fields removed: %s" % ", ".join(removed))
    return bool(reasons), reasons


def diff_pair(before, after):
    """An Ansible diff entry ({before, after}) of normalised objects; None stands for absent."""
    return {"before": copy.deepcopy(normalize(before)) if before is not None else {},
            "after": copy.deepcopy(normalize(after)) if after is not None else {}}
