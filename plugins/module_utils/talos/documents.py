# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talos machine configurations as lists of documents (multi-document YAML).

The v1alpha1 document has `version: v1alpha1` and no kind; every other document has
`apiVersion` + `kind`, and named kinds (NetworkRuleConfig, ...) also a `name`. A document's
identity is (kind, name): that is how Talos matches patch documents to config documents.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core on the controller
    HAS_YAML = False

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

V1ALPHA1 = "v1alpha1"

# Limits on what a module takes in. A Talos config is ~10 levels deep and a few hundred kB
# with inline manifests; these bounds are far above that and far below what exhausts the
# controller (a 244-byte alias patch used to expand to a 94 MB diff).
MAX_DEPTH = 64
MAX_NODES = 200000
MAX_TEXT = 8 * 1024 * 1024
MAX_DIFF = 1024 * 1024


def identity(doc):
    """('v1alpha1', None) for the main document, (kind, name) for the others; None if neither."""
    if not isinstance(doc, dict):
        return None
    if "kind" in doc:
        kind, name = doc["kind"], doc.get("name")
        if not isinstance(kind, str) or not (name is None or isinstance(name, str)):
            return None
        return (kind, name)
    if doc.get("version") == V1ALPHA1 or "machine" in doc or "cluster" in doc:
        return (V1ALPHA1, None)
    return None


def check_tree(value, field, max_depth=MAX_DEPTH, max_nodes=MAX_NODES):
    """Refuse input too deep or too large to handle, and mapping keys that are not strings.

    Iterative, so a hostile nesting depth cannot raise RecursionError here; everything that
    walks the value later (merge, deepcopy, redaction, the schema) then stays in bounds."""
    stack = [(value, field, 0)]
    nodes = 0
    while stack:
        node, where, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes:
            raise NetsecError("has more than %d values" % max_nodes, field=field, fix="split it or drop what the config does not need")
        if isinstance(node, str) and len(node) > MAX_TEXT:
            raise NetsecError("holds a string of %d characters (at most %d)" % (len(node), MAX_TEXT), field=where)
        if not isinstance(node, (dict, list)):
            continue
        if depth >= max_depth:
            raise NetsecError("is nested more than %d levels deep (at %s...)" % (max_depth, where[:120]), field=field,
                              fix="a Talos config is far shallower")
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, str):
                    raise NetsecError("has a mapping key %r that is not a string" % (key,), field=where, fix="quote the key")
                stack.append((item, field_path(where, key), depth + 1))
        else:
            for i, item in enumerate(node):
                stack.append((item, field_path(where, i), depth + 1))
    return value


def clip(text, what="diff"):
    """`text`, or a note saying it is too large to show (diffs are for people, not for 94 MB)."""
    if text and len(text) > MAX_DIFF:
        return "(%s of %d characters not shown: over the limit of %d)\n" % (what, len(text), MAX_DIFF)
    return text


def describe(ident):
    kind, name = ident
    return kind if name is None else "%s/%s" % (kind, name)


class _AliasRefused(Exception):
    pass


class _TooDeep(Exception):
    pass


if HAS_YAML:
    class _Loader(yaml.SafeLoader):
        """SafeLoader without aliases (an alias is shared structure that expands when copied or
        dumped: the billion-laughs patch) and with a nesting bound (the composer recurses)."""

        _depth = 0

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                raise _AliasRefused(self.peek_event())
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise _TooDeep(self.peek_event())
                return yaml.SafeLoader.compose_node(self, parent, index)
            finally:
                self._depth -= 1


def _where(mark):
    return "line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else "an unknown place"


def load_yaml_all(text, field):
    """Multi-document YAML text -> list of values: no aliases, bounded depth and size.

    Errors give the problem and the position, never the offending line: it may hold a key."""
    if not isinstance(text, str):
        raise NetsecError("must be YAML text", field=field)
    if len(text) > MAX_TEXT:
        raise NetsecError("is %d characters long (at most %d)" % (len(text), MAX_TEXT), field=field)
    loader = _Loader(text)
    try:
        docs = []
        while loader.check_data():
            docs.append(loader.get_data())
        return docs
    except _AliasRefused as exc:
        event = exc.args[0]
        raise NetsecError("uses the YAML alias *%s at %s; aliases are refused in Talos configs and patches" % (event.anchor, _where(event.start_mark)),
                          field=field, fix="write the value out instead of referring to an anchor")
    except _TooDeep as exc:
        raise NetsecError("is nested more than %d levels deep at %s" % (MAX_DEPTH, _where(exc.args[0].start_mark)), field=field)
    except yaml.MarkedYAMLError as exc:
        raise NetsecError("is not valid YAML: %s at %s" % (exc.problem or exc.context, _where(exc.problem_mark or exc.context_mark)), field=field)
    except yaml.YAMLError as exc:
        raise NetsecError("is not valid YAML (%s)" % type(exc).__name__, field=field)
    finally:
        loader.dispose()


def load_yaml(text, field):
    """One YAML document (see load_yaml_all)."""
    docs = load_yaml_all(text, field)
    if len(docs) > 1:
        raise NetsecError("holds %d YAML documents where one is expected" % len(docs), field=field)
    return docs[0] if docs else None


def load(text, field="config"):
    """Multi-document YAML -> list of dicts (empty documents dropped)."""
    docs = [d for d in load_yaml_all(text, field) if d is not None]
    check_tree(docs, field)
    seen = set()
    for i, doc in enumerate(docs):
        ident = identity(doc)
        if ident is None:
            raise NetsecError("document %d is neither the v1alpha1 config nor a document with apiVersion/kind" % i, field=field)
        if ident in seen:
            raise NetsecError("document %s appears twice" % describe(ident), field=field)
        seen.add(ident)
    return docs


def _str_presenter(dumper, data):
    # Block style for multi-line strings (file contents, inline manifests) keeps diffs readable.
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


if HAS_YAML:
    class _Dumper(yaml.SafeDumper):
        pass

    _Dumper.add_representer(str, _str_presenter)


def dump_one(value):
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False)


def dump(docs):
    """List of documents -> multi-document YAML, v1alpha1 first, others in their order."""
    return yaml.dump_all(ordered(docs), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         explicit_start=False, width=4096)


def ordered(docs):
    main = [d for d in docs if identity(d) == (V1ALPHA1, None)]
    return main + [d for d in docs if identity(d) != (V1ALPHA1, None)]


def find(docs, kind, name=None):
    for doc in docs:
        if identity(doc) == (kind, name):
            return doc
    return None


def main_document(docs):
    return find(docs, V1ALPHA1)


def put(docs, doc):
    """Replace the document with the same identity, or append it."""
    ident = identity(doc)
    for i, existing in enumerate(docs):
        if identity(existing) == ident:
            docs[i] = doc
            return docs
    docs.append(doc)
    return docs


def remove(docs, kind, name=None):
    docs[:] = [d for d in docs if identity(d) != (kind, name)]
    return docs


def remove_kind(docs, kind):
    docs[:] = [d for d in docs if not (isinstance(d, dict) and d.get("kind") == kind)]
    return docs


def ensure_path(doc, *keys):
    """doc[k1][k2]... creating mappings on the way; returns the innermost mapping."""
    node = doc
    for key in keys:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    return node


def deepcopy(docs):
    return copy.deepcopy(docs)
