# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Patches for Talos machine configurations: strategic merge (Talos rules) and RFC 6902.

Strategic merge follows talosctl's configpatcher: each patch document is matched to the
config document with the same identity (kind, name; the v1alpha1 document by `version`)
and merged into it (mappings recursively, lists appended); a patch document with no match
is added; `$patch: delete` removes a key (when it is a mapping's only content) or a whole
document. JSON6902 patches address one document (the v1alpha1 one unless `document` names
another): talosctl cannot apply them to multi-document configs, so they are applied here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D


DELETE = {"$patch": "delete"}
PATCH_TYPES = ("strategic", "json6902")


# --- strategic merge -------------------------------------------------------------------

# Where Talos' merge (pkg/machinery/config/merge) does not append lists or merge mappings key by key:
# fields tagged `merge:"replace"` (replaced whole), Args maps (extraArgs: each key replaced), and
# lists with a Merge method keyed by a field (admission plugins by name). Same in 1.13 and 1.14.
_REPLACE = {
    D.V1ALPHA1: (("cluster", "network", "podSubnets"), ("cluster", "network", "serviceSubnets"), ("cluster", "apiServer", "auditPolicy")),
    "NetworkRuleConfig": (("ingress",), ("portSelector", "ports")),
    "KubeNetworkConfig": (("podSubnets",), ("serviceSubnets",)),
    "KubeAuditPolicyConfig": (("configuration",),),
    "KubeAuthenticationConfig": (("configuration",),),
}
_KEYED_LISTS = {D.V1ALPHA1: {("cluster", "apiServer", "admissionControl"): "name"}}
_ARGS = "extraArgs"


def _merge(base, patch, field, kind=None, path=()):
    if isinstance(patch, dict) and patch.get("$patch") == "delete":
        return _DELETED
    if path in _REPLACE.get(kind, ()):
        return _strip(patch, field) if patch not in (None, {}) else copy.deepcopy(base)
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            if key == "$patch":
                raise NetsecError("$patch: %r is not supported (only delete)" % value, field=field)
            kfield = field_path(field, key)
            if key in base and path and path[-1] == _ARGS:
                merged = _strip(value, kfield)  # Args.Merge: maps.Copy, each argument replaced whole
            elif key in base:
                merged = _merge(base.get(key), value, kfield, kind, path + (key,))
            else:
                merged = _strip(value, kfield)
            if merged is _DELETED:
                out.pop(key, None)
            else:
                out[key] = merged
        return out
    if isinstance(base, list) and isinstance(patch, list):
        key = _KEYED_LISTS.get(kind, {}).get(path)
        out = list(base)
        for item in patch:
            match = [i for i, have in enumerate(out) if key and isinstance(have, dict) and isinstance(item, dict)
                     and have.get(key) == item.get(key)]
            if match:
                out[match[0]] = _merge(out[match[0]], item, field, kind, path + ("[]",))
            else:
                # Talos appends (duplicates included): the written config is what talosctl's patcher makes.
                out.append(_strip(item, field))
        return out
    return copy.deepcopy(patch)


class _Deleted(object):
    pass


_DELETED = _Deleted()


def _strip(value, field):
    """A new subtree: `$patch: delete` inside it has nothing to delete."""
    if isinstance(value, dict):
        if value.get("$patch") == "delete":
            return _DELETED
        out = {}
        for key, item in value.items():
            stripped = _strip(item, field_path(field, key))
            if stripped is not _DELETED:
                out[key] = stripped
        return out
    return copy.deepcopy(value)


def strategic(docs, patch_docs, field="patch"):
    """Apply a strategic-merge patch (list of documents) to a config (list of documents)."""
    out = D.deepcopy(docs)
    for i, pdoc in enumerate(patch_docs):
        pfield = field_path(field, i) if len(patch_docs) > 1 else field
        ident = D.identity(pdoc)
        if ident is None:
            raise NetsecError("a patch document needs `version: v1alpha1` or apiVersion + kind", field=pfield)
        target = D.find(out, *ident)
        if pdoc.get("$patch") == "delete":
            if target is None:
                raise NetsecError("cannot delete %s: not in the config" % D.describe(ident), field=pfield)
            D.remove(out, *ident)
            continue
        if target is None:
            out.append(_strip(pdoc, pfield))
        else:
            D.put(out, _merge(target, pdoc, pfield, kind=ident[0]))
    return out


# --- RFC 6902 ---------------------------------------------------------------------------

def _pointer(path, field):
    if path == "":
        return []
    if not isinstance(path, str) or not path.startswith("/"):
        raise NetsecError("%r is not a JSON pointer (starts with /)" % (path,), field=field)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, tokens, field, path):
    node = doc
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                raise NetsecError("path %s does not exist" % path, field=field)
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, field, path, allow_end=False)]
        else:
            raise NetsecError("path %s goes through a scalar" % path, field=field)
    return node


def _index(node, token, field, path, allow_end):
    if token == "-" and allow_end:
        return len(node)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise NetsecError("%r in %s is not a list index" % (token, path), field=field)
    index = int(token)
    if index > len(node) or (index == len(node) and not allow_end):
        raise NetsecError("index %d in %s is out of range" % (index, path), field=field)
    return index


def _add(doc, tokens, value, field, path):
    if not tokens:
        return copy.deepcopy(value)
    parent = _walk(doc, tokens[:-1], field, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, field, path, allow_end=True), copy.deepcopy(value))
    else:
        raise NetsecError("parent of %s is a scalar" % path, field=field)
    return doc


def _remove(doc, tokens, field, path):
    if not tokens:
        raise NetsecError("cannot remove the whole document", field=field)
    parent = _walk(doc, tokens[:-1], field, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise NetsecError("path %s does not exist" % path, field=field)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, field, path, allow_end=False))
    raise NetsecError("parent of %s is a scalar" % path, field=field)


def json6902_apply(doc, operations, field="patch"):
    """Apply RFC 6902 operations to one document; fails naming the operation at fault."""
    if not isinstance(operations, list):
        raise NetsecError("a JSON6902 patch is a list of operations", field=field)
    out = copy.deepcopy(doc)
    for i, op in enumerate(operations):
        ofield = field_path(field, i)
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise NetsecError("an operation needs op and path", field=ofield)
        kind, path = op["op"], op["path"]
        tokens = _pointer(path, field_path(ofield, "path"))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise NetsecError("%s needs a value" % kind, field=ofield)
        if kind == "add":
            out = _add(out, tokens, op["value"], ofield, path)
        elif kind == "remove":
            _remove(out, tokens, ofield, path)
        elif kind == "replace":
            _walk(out, tokens, ofield, path)  # must exist
            if tokens:
                _remove(out, tokens, ofield, path)
            out = _add(out, tokens, op["value"], ofield, path)
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from"), field_path(ofield, "from"))
            value = copy.deepcopy(_walk(out, source, ofield, op.get("from")))
            if kind == "move":
                _remove(out, source, ofield, op.get("from"))
            out = _add(out, tokens, value, ofield, path)
        elif kind == "test":
            if _walk(out, tokens, ofield, path) != op["value"]:
                # The value is not echoed: it may be a key.
                raise NetsecError("test failed: %s does not hold the given value" % path, field=ofield)
        else:
            raise NetsecError("%r is not an RFC 6902 operation" % (kind,), field=field_path(ofield, "op"))
    if not isinstance(out, dict) or D.identity(out) != D.identity(doc):
        # Renaming a document (say the NetworkDefaultActionConfig) would leave the original in place.
        raise NetsecError("a JSON6902 patch may not replace a document or change its kind or name", field=field,
                          fix="add or delete whole documents with a strategic patch")
    return out


def json6902(docs, operations, document=None, field="patch"):
    kind, name = (document or {}).get("kind", D.V1ALPHA1), (document or {}).get("name")
    target = D.find(docs, kind, name)
    if target is None:
        raise NetsecError("no %s document to patch" % D.describe((kind, name)), field=field)
    out = D.deepcopy(docs)
    D.put(out, json6902_apply(target, operations, field=field))
    return out


# --- patch lists --------------------------------------------------------------------------

def parse_patch(item, field):
    """{type?, patch, document?} | YAML text | mapping | list -> (type, payload, document)."""
    if isinstance(item, dict) and "patch" in item:
        unknown = set(item) - {"type", "patch", "document"}
        if unknown:
            raise NetsecError("unknown key(s) %s" % ", ".join(sorted(unknown)), field=field, fix="use type, patch, document")
        ptype, payload, document = item.get("type"), item["patch"], item.get("document")
    else:
        ptype, payload, document = None, item, None
    pfield = field_path(field, "patch") if isinstance(item, dict) and "patch" in item else field
    if isinstance(payload, str):
        payload = D.load(payload, field=pfield) if not payload.lstrip().startswith("[") else D.load_yaml(payload, pfield)
    D.check_tree(payload, pfield)
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(p, dict) for p in payload):
        raise NetsecError("must be a mapping, a list of documents or of RFC 6902 operations, or YAML text of one", field=pfield)
    if ptype is None:
        ptype = "json6902" if payload and all("op" in p for p in payload) else "strategic"
    if ptype not in PATCH_TYPES:
        raise NetsecError("%r is not one of %s" % (ptype, ", ".join(PATCH_TYPES)), field=field_path(field, "type"))
    if document is not None and (not isinstance(document, dict) or set(document) - {"kind", "name"}
                                 or not isinstance(document.get("kind"), str) or not isinstance(document.get("name") or "", str)):
        raise NetsecError("document must be a mapping with kind (and name)", field=field_path(field, "document"))
    return ptype, payload, document


def parse_patches(patches, field="patches"):
    """[(type, payload, document)] of a patch list, each checked (see parse_patch)."""
    if not isinstance(patches, list):
        raise NetsecError("must be a list of patches", field=field)
    return [parse_patch(item, field_path(field, i)) for i, item in enumerate(patches)]


def apply_patches(docs, patches, field="patches", start=0):
    for i, item in enumerate(patches or []):
        pfield = field_path(field, start + i)
        ptype, payload, document = parse_patch(item, pfield)
        if ptype == "strategic":
            docs = strategic(docs, payload, field=pfield)
        else:
            docs = json6902(docs, payload, document=document, field=pfield)
    return docs
