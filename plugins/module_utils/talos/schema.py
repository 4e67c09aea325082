# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of machine configurations against Talos's published JSON schema.

The schema file (siderolabs/talos pkg/machinery/config/schemas/config.schema.json of the
targeted release) is read at run time from a path the caller gives: the collection does
not ship copies. Each document is validated against the definition of its kind, so an
error names the document and the JSON path inside it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import secrets as SEC

try:
    import jsonschema
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_JSONSCHEMA = False

_ID_VERSION = re.compile(r"/v(\d+\.\d+)/schemas/")


def load_schema(path, talos_version=None, field="schema_path"):
    try:
        with open(path) as handle:
            schema = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise NetsecError("cannot read a JSON schema from %s: %s" % (path, exc), field=field)
    if "$defs" not in schema or "oneOf" not in schema:
        raise NetsecError("%s is not Talos's config.schema.json ($defs and oneOf missing)" % path, field=field)
    found = schema_version(schema)
    if talos_version and found and found != talos_version:
        raise NetsecError("%s is the schema of Talos %s, not %s" % (path, found, talos_version), field=field,
                          fix="point it at the config.schema.json of the Talos release you target")
    return schema


def schema_version(schema):
    match = _ID_VERSION.search(schema.get("$id") or "")
    return match.group(1) if match else None


def _definition_for(schema, doc):
    ident = D.identity(doc)
    if ident is None:
        return None
    kind = ident[0]
    for ref in schema["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        props = schema["$defs"][name].get("properties", {})
        if kind == D.V1ALPHA1 and name == "v1alpha1.Config":
            return name
        if kind in (props.get("kind") or {}).get("enum", []):
            return name
    return None


def _json_path(error):
    return "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in error.absolute_path).lstrip(".")


def errors(docs, schema):
    """[(document label, json path, message)] for every document that fails (first error each)."""
    if not HAS_JSONSCHEMA:
        raise NetsecError("the jsonschema Python package is required for schema validation",
                          fix="install jsonschema on the controller, or leave schema_path unset")
    found = []
    version = schema_version(schema) or "?"
    secrets = SEC.values(docs)
    for i, doc in enumerate(docs):
        label = "documents[%d](%s)" % (i, D.describe(D.identity(doc)) if D.identity(doc) else "?")
        name = _definition_for(schema, doc)
        if name is None:
            kind = (D.identity(doc) or ("?",))[0]
            found.append((label, "kind", "%r is not a document kind of Talos %s" % (kind, version)))
            continue
        sub = dict((k, v) for k, v in schema.items() if k != "oneOf")
        sub["$ref"] = "#/$defs/" + name
        validator = jsonschema.Draft202012Validator(sub)
        errs = sorted(validator.iter_errors(doc), key=lambda e: (list(e.absolute_path), e.message))
        if errs:
            best = jsonschema.exceptions.best_match(errs)
            found.append((label, _json_path(best), _message(best, ident_kind(doc), secrets)))
    return found


def ident_kind(doc):
    ident = D.identity(doc)
    return ident[0] if ident else None


def _message(error, kind, secrets):
    """The schema's message without the value when the value is (or holds) a secret."""
    path = tuple(error.absolute_path)
    if SEC.holds_secret(kind, path, error.instance) or any(SEC.is_secret(kind, path[:i]) for i in range(1, len(path))):
        return "the value (a secret, not shown) fails the schema's %r check" % error.validator
    return SEC.mask_values(error.message, secrets)


def validate(docs, schema, field="config"):
    """Raise NetsecError naming document and path of the first schema error."""
    problems = errors(docs, schema)
    if problems:
        label, path, message = problems[0]
        where = field_path(field, label + ("." + path if path else ""))
        more = " (and %d more document(s) failing)" % (len(problems) - 1) if len(problems) > 1 else ""
        raise NetsecError("%s%s" % (message, more), field=where,
                          fix="see Talos %s config reference for this field" % (schema_version(schema) or ""),
                          schema_errors=[{"document": p[0], "path": p[1], "message": p[2]} for p in problems])
