# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one delivery path of owned sets to Kubernetes: parse -> plan -> apply (or render) -> result.

Every module that writes objects to a cluster goes through here (kubernetes_owned_set,
cilium_network_policy, and through them the namespace_policies, zitadel_rbac and cilium
roles), so ownership, pruning, check mode and the result shape are decided once:

- `objects` are the owned set: stamped with the owner labels (owned.py), server-side applied
  with the field manager `safespring.netsec`, pruned when no longer declared (DELETE with uid +
  resourceVersion preconditions); a declared name held by a foreign object fails before any
  request that writes.
- `patches` are partial objects applied onto objects that are not ours (PSA labels on an
  existing Namespace): never stamped, never pruned, never forced; created only when asked.
- Check mode sends every write with dryRun=All: the plan is the real run's and the API server
  still admits or refuses each object.
- `render()` writes the same objects to a directory for GitOps instead.

One result shape: changed, created, updated, pruned, unchanged (lists of "Kind ns/name"),
skipped (patch targets that do not exist), plan ([{action, object}]), diff (secrets redacted).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import namedtuple

from ansible_collections.safespring.netsec.plugins.module_utils import _secrets
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import diff as kdiff
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import render as krender

RESULT_LISTS = ("created", "updated", "pruned", "unchanged", "skipped")
_LIST_OF = {"create": "created", "update": "updated", "prune": "pruned", "unchanged": "unchanged", "skip": "skipped"}

Request = namedtuple("Request", "objects patches owned_set kinds prune prune_first force_conflicts legacy_managed_by field")
Patch = namedtuple("Patch", "object create field")


def _check_object(obj, item):
    if not isinstance(obj, dict):
        raise NetsecError("must be a mapping (a Kubernetes object)", field=item)
    for name in ("apiVersion", "kind"):
        if not isinstance(obj.get(name), str) or not obj.get(name):
            raise NetsecError("needs %s" % name, field=field_path(item, name))
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
        raise NetsecError("needs metadata.name", field=field_path(item, "metadata", "name"))
    if meta.get("namespace") is not None and not isinstance(meta.get("namespace"), str):
        raise NetsecError("must be a string", field=field_path(item, "metadata", "namespace"))


def parse(objects, owned_set, patches=(), kinds=None, prune=True, prune_first=False, force_conflicts=False,
          legacy_managed_by=(), field="objects", patches_field="patches", kinds_field="kinds"):
    """Typed request; raises NetsecError naming the field as the caller wrote it."""
    owned.check_owned_set_name(owned_set)
    if not isinstance(objects, list):
        raise NetsecError("must be a list of objects", field=field)
    for i, obj in enumerate(objects):
        _check_object(obj, field_path(field, i))
    parsed_patches = []
    for i, entry in enumerate(patches or []):
        item = field_path(patches_field, i)
        if not isinstance(entry, dict) or "object" not in entry or set(entry) - {"object", "create"}:
            raise NetsecError("must be {object: <partial object>, create: <bool>}", field=item)
        _check_object(entry["object"], field_path(item, "object"))
        if not isinstance(entry.get("create", False), bool):
            raise NetsecError("must be true or false", field=field_path(item, "create"))
        parsed_patches.append(Patch(entry["object"], entry.get("create", False), field_path(item, "object")))
    if kinds is None:
        kinds = [{"api_version": o["apiVersion"], "kind": o["kind"]} for o in objects]
    parsed_kinds = []
    for i, entry in enumerate(kinds):
        item = field_path(kinds_field, i)
        if not isinstance(entry, dict) or not entry.get("api_version") or not entry.get("kind") or set(entry) - {"api_version", "kind"}:
            raise NetsecError("must be {api_version, kind}", field=item)
        pair = (entry["api_version"], entry["kind"])
        if pair not in parsed_kinds:
            parsed_kinds.append(pair)
    return Request([owned.stamp(o, owned_set) for o in objects], parsed_patches, owned_set, parsed_kinds, bool(prune),
                   bool(prune_first), bool(force_conflicts), tuple(legacy_managed_by or ()), field)


def plan_patches(patches, live_by_key, manager=owned.FIELD_MANAGER):
    """Pure: create (absent, create asked) / skip (absent) / update / unchanged per patch."""
    actions = []
    for patch in patches:
        key = owned.key_of(patch.object)
        have = live_by_key.get(key)
        if have is None:
            actions.append(owned.Action("create" if patch.create else "skip", key, patch.object, None,
                                        [] if patch.create else ["does not exist (not ours to create)"]))
            continue
        update, reasons = kdiff.needs_update(patch.object, have, manager)
        actions.append(owned.Action("update" if update else "unchanged", key, patch.object, have, reasons))
    return actions


def plan_live(request, live, patch_live):
    """Pure: (owned-set actions, patch actions) from the live state the client fetched."""
    actions = owned.plan(request.objects, live, request.owned_set, prune=request.prune, field=request.field,
                         legacy_managed_by=request.legacy_managed_by, prune_order=[k for dummy, k in request.kinds])
    by_key = dict((owned.key_of(o), o) for o in patch_live)
    return actions, plan_patches(request.patches, by_key)


def _check_scope(client, objects, fields):
    """Namespaced kinds need metadata.namespace, cluster-scoped ones must not have it (the API would 404 or 400 later)."""
    for obj, item in zip(objects, fields):
        res = client.resource(obj["apiVersion"], obj["kind"])
        namespace = (obj.get("metadata") or {}).get("namespace")
        if res.namespaced and not namespace:
            raise NetsecError("%s is namespaced: give metadata.namespace" % obj["kind"], field=field_path(item, "metadata", "namespace"))
        if not res.namespaced and namespace:
            raise NetsecError("%s is cluster-scoped" % obj["kind"], field=field_path(item, "metadata", "namespace"),
                              fix="remove metadata.namespace")


def plan(client, request):
    """Read what the plan needs (the set by selector, objects under declared names, patch targets), then plan."""
    _check_scope(client, request.objects, [field_path(request.field, i) for i in range(len(request.objects))])
    _check_scope(client, [p.object for p in request.patches], [p.field for p in request.patches])
    live = client.live_for(request.objects, request.owned_set, request.kinds, skip_unserved=True,
                           legacy_managed_by=request.legacy_managed_by)
    patch_live = []
    for patch in request.patches:
        key = owned.key_of(patch.object)
        found = client.get(patch.object["apiVersion"], key.kind, key.name, key.namespace or None)
        if found is not None:
            patch_live.append(found)
    return plan_live(request, live, patch_live)


def execute(client, request, actions, patch_actions, check_mode=False):
    """Patches first (a Namespace exists before the policies in it), then applies and prunes in the
    request's order. In check mode an object whose namespace this very plan creates is not sent:
    the dry-run Namespace was not persisted, so the API server would refuse it as NotFound.
    Returns the objects not sent for that reason."""
    for action in patch_actions:
        if action.action in ("create", "update"):
            client.apply(action.desired, dry_run=check_mode)
    created_ns = set(a.key.name for a in patch_actions + actions if a.action == "create" and a.key.kind == "Namespace")
    not_sent = []
    applies = [a for a in actions if a.action in ("create", "update")]
    prunes = [a for a in actions if a.action == "prune"]
    for step in ("prune", "apply") if request.prune_first else ("apply", "prune"):
        for action in applies if step == "apply" else prunes:
            if check_mode and action.key.namespace in created_ns:
                not_sent.append(owned.describe(action.key))
            elif step == "apply":
                client.apply(action.desired, dry_run=check_mode, force_conflicts=request.force_conflicts)
            else:
                client.delete(action.live, dry_run=check_mode)
    return not_sent


def redact_object(obj):
    """A copy fit for a diff: Secret data whole, and every secret-looking leaf, replaced."""
    if not obj:
        return obj
    out = dict(obj)
    if out.get("kind") == "Secret":
        for name in ("data", "stringData"):
            if isinstance(out.get(name), dict):
                out[name] = dict((k, _secrets.REDACTED) for k in out[name])
    return _secrets.redact(out)


def result(actions, patch_actions, want_diff=False):
    """The result shape every delivering module returns."""
    out = dict((name, []) for name in RESULT_LISTS)
    out["plan"] = []
    for action in patch_actions + actions:
        what = owned.describe(action.key)
        out[_LIST_OF[action.action]].append(what)
        out["plan"].append({"action": action.action, "object": what})
    out["changed"] = any(a.action in ("create", "update", "prune") for a in patch_actions + actions)
    if want_diff:
        out["diff"] = []
        for action in patch_actions + actions:
            if action.action in ("unchanged", "skip"):
                continue
            entry = kdiff.diff_pair(action.live, action.desired)
            entry = {"before": redact_object(entry["before"]), "after": redact_object(entry["after"])}
            entry["before_header"] = entry["after_header"] = "%s (%s)" % (owned.describe(action.key), action.action)
            out["diff"].append(entry)
    return out


def deliver(client, request, check_mode=False, want_diff=False):
    """Plan and carry out one request against a cluster; the result dict (requests = HTTP requests sent)."""
    actions, patch_actions = plan(client, request)
    out = result(actions, patch_actions, want_diff)
    out["not_sent"] = execute(client, request, actions, patch_actions, check_mode=check_mode)
    out["requests"] = client.requests
    return out


def render(request, path, kustomization=True, check_mode=False, want_diff=False):
    """GitOps: the owned objects and the patches, one file each (+ kustomization.yaml), same result shape.

    The lists name objects (created: new file, updated: file rewritten); pruned names the stale
    files this collection wrote earlier, which are removed."""
    objects = request.objects + [p.object for p in request.patches]
    existing = krender.read_directory(path)
    planned = krender.plan_directory(objects, path, kustomization=kustomization, existing=existing)
    out = dict((name, []) for name in RESULT_LISTS)
    out["plan"] = []
    for obj in objects:
        name = krender.file_name(obj)
        action = "unchanged" if name not in planned["write"] else ("update" if name in existing else "create")
        what = owned.describe(owned.key_of(obj))
        out[_LIST_OF[action]].append(what)
        out["plan"].append({"action": action, "object": what})
    for name in planned["remove"]:
        out["pruned"].append(name)
        out["plan"].append({"action": "prune", "object": name})
    out["changed"] = bool(planned["write"] or planned["remove"])
    out["files"] = [os.path.join(path, n) for n in planned["files"]]
    if want_diff:
        out["diff"] = [{"before_header": os.path.join(path, n), "after_header": os.path.join(path, n),
                        "before": existing.get(n, ""), "after": planned["write"].get(n, "")}
                       for n in sorted(set(planned["write"]) | set(planned["remove"]))]
    if out["changed"] and not check_mode:
        krender.write_directory(path, planned)
    return out
