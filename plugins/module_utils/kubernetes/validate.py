# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate objects before anything is sent: core kinds with kubernetes-validate, custom
resources with JSON Schema taken from a file or from the live cluster's CRD.

The collection ships no schema copies: a CRD schema comes from `schema_from_file` (a JSON
Schema file, e.g. a datreeio/CRDs-catalog conversion) or `schema_from_crd` (the
openAPIV3Schema of a CustomResourceDefinition read from the cluster).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

try:
    import jsonschema
    HAS_JSONSCHEMA = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_JSONSCHEMA = False

try:
    import kubernetes_validate
    HAS_KUBERNETES_VALIDATE = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_KUBERNETES_VALIDATE = False

DEFAULT_KUBERNETES_VERSION = "1.33.0"


def _need(flag, package):
    if not flag:
        raise NetsecError("the Python package %s is required on the controller" % package, fix="pip install %s" % package)


def schema_from_file(path, field="schema_files"):
    try:
        with open(path) as handle:
            schema = json.load(handle)
    except (IOError, OSError, ValueError) as exc:
        raise NetsecError("cannot read a JSON schema from %s: %s" % (path, exc), field=field)
    if not isinstance(schema, dict) or "properties" not in schema:
        raise NetsecError("%s is not an object schema" % path, field=field)
    return schema


def schema_from_crd(crd, version, field="crd"):
    """openAPIV3Schema of one served version of a CustomResourceDefinition object (a dict)."""
    name = (crd.get("metadata") or {}).get("name")
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if entry.get("name") == version:
            schema = (entry.get("schema") or {}).get("openAPIV3Schema")
            if schema:
                return schema
    raise NetsecError("CRD %s has no schema for version %s" % (name, version), field=field,
                      fix="check that the installed Cilium serves %s" % version)


def validate_custom(obj, schema, field="object", schema_name="CRD"):
    """Raise NetsecError naming the first invalid field (JSON Schema, draft 7 keywords)."""
    _need(HAS_JSONSCHEMA, "jsonschema")
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(obj), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        first = errors[0]
        more = " (and %d more problem(s))" % (len(errors) - 1) if len(errors) > 1 else ""
        raise NetsecError("%s%s" % (first.message[:300], more), field=field_path(field, *list(first.absolute_path)),
                          fix="the object does not match the %s schema" % schema_name)


def validate_core(obj, kubernetes_version=DEFAULT_KUBERNETES_VERSION, field="object"):
    """Validate a built-in kind with kubernetes-validate (strict: unknown fields fail)."""
    _need(HAS_KUBERNETES_VALIDATE, "kubernetes-validate")
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = list(getattr(exc, "absolute_path", []) or [])
        raise NetsecError("%s (Kubernetes %s schema)" % (getattr(exc, "message", str(exc))[:300], kubernetes_version),
                          field=field_path(field, *path))
    except kubernetes_validate.SchemaNotFoundError:
        raise NetsecError("kubernetes-validate %s has no schema for %s %s" % (kubernetes_version, obj.get("apiVersion"), obj.get("kind")),
                          field=field, fix="validate custom resources with their CRD schema instead")


def is_core_kind(obj, kubernetes_version=DEFAULT_KUBERNETES_VERSION):
    """True when kubernetes-validate knows the kind (a built-in API), False for custom resources."""
    _need(HAS_KUBERNETES_VALIDATE, "kubernetes-validate")
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=False)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        return True
    return True
