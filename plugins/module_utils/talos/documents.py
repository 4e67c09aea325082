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

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

V1ALPHA1 = "v1alpha1"


def identity(doc):
    """('v1alpha1', None) for the main document, (kind, name) for the others."""
    if not isinstance(doc, dict):
        return None
    if "kind" in doc:
        return (doc["kind"], doc.get("name"))
    if doc.get("version") == V1ALPHA1 or "machine" in doc or "cluster" in doc:
        return (V1ALPHA1, None)
    return None


def describe(ident):
    kind, name = ident
    return kind if name is None else "%s/%s" % (kind, name)


def load(text, field="config"):
    """Multi-document YAML -> list of dicts (empty documents dropped)."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise NetsecError("is not valid YAML: %s" % exc, field=field)
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
