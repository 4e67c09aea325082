# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The official SARIF 2.1.0 and OSCAL 1.1.2 schemas (tests/schemas, README there), as validators."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import pathlib
import re
import sys
import unicodedata

import jsonschema

SCHEMAS = pathlib.Path(__file__).resolve().parents[2] / "schemas"
SHA256 = {
    "sarif-schema-2.1.0.json": "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e",
    "oscal_complete_schema-1.1.2.json": "793da6238921a4efd4aa2c8358dab6fbe9df3bf6bd65ed55b8393ca121c170b2",
}


def load(name):
    data = (SCHEMAS / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256[name], "%s is not the stored upstream file (tests/schemas/README.md)" % name
    return json.loads(data.decode("utf-8"))


def _category_class(prefix):
    """An exact character class of one Unicode general category group (L, N) for Python's re."""
    ranges, start, last = [], None, None
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)).startswith(prefix):
            if start is None:
                start = code
            last = code
        elif start is not None:
            ranges.append((start, last))
            start = None
    if start is not None:
        ranges.append((start, last))
    return "".join("\\U%08x" % a if a == b else "\\U%08x-\\U%08x" % (a, b) for a, b in ranges)


_CLASSES = {}


def python_pattern(pattern):
    """ECMA-262 `\\p{L}` / `\\p{N}` (used by OSCAL's TokenDatatype) -> explicit ranges; any other \\p is refused."""
    def repl(match):
        name = match.group(1)
        if name not in ("L", "N"):
            raise ValueError("unsupported Unicode property \\p{%s} in %r" % (name, pattern))
        if name not in _CLASSES:
            _CLASSES[name] = _category_class(name)
        return "[" + _CLASSES[name] + "]"
    return re.sub(r"\\p\{([A-Za-z]+)\}", repl, pattern)


def _pattern(validator, pattern, instance, schema):
    if isinstance(instance, str) and not re.search(python_pattern(pattern), instance):
        yield jsonschema.ValidationError("%r does not match %r" % (instance, pattern))


def sarif_validator():
    return jsonschema.Draft4Validator(load("sarif-schema-2.1.0.json"), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def oscal_validator():
    schema = load("oscal_complete_schema-1.1.2.json")
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _pattern})
    return cls(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors(validator, document):
    return sorted("%s: %s" % ("/".join(str(p) for p in e.absolute_path), e.message[:300]) for e in validator.iter_errors(document))
