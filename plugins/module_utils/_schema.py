# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A typed option tree written once, read four ways.

One Option tree gives the validator (types, grammars, choices, unknown keys refused at
every level with the path as the user wrote it), the defaults, an Ansible argument_spec
(nested `options`, for roles' meta/argument_specs.yml) and the documentation
(`suboptions`, for a doc fragment). Tests hold the YAML copies to the tree, so the four
cannot drift apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.safespring.netsec.plugins.module_utils import _typed as T
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

# Keys shown in a path as `.key`; anything else (a hostile key with a newline, a quote or
# 4 kB of text) as a short repr in brackets, so the error message stays one line.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def key_path(field, key):
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return field_path(field, key)
    text = repr(key)
    return "%s[%s]" % (field, text if len(text) <= 40 else text[:37] + "...")


def _strict_int(value, field):
    if isinstance(value, bool) or not isinstance(value, int):
        raise NetsecError("%s is not a whole number" % T.secret_safe(value, False), field=field)
    return value


def _same(value, choice):
    # 4.0 and True are not the choices 4 and 1.
    return isinstance(value, bool) == isinstance(choice, bool) and isinstance(value, type(choice)) and value == choice


_PARSERS = {"str": T.text, "bool": T.boolean, "int": _strict_int}


class Option(object):
    """One option: a scalar (`parse` or the kind's default parser), a list of scalars or
    of mappings (`elements`, `options`), or a mapping (`options`).

    `options` is a list of (name, Option) pairs: the order is the documentation's. A value
    None means "not given": the default applies (mappings are then validated as {}).
    """

    def __init__(self, kind, description, parse=None, default=None, required=False, choices=None, elements=None, options=None):
        self.kind = kind
        self.description = description
        self.parse = parse
        self.default = default
        self.required = required
        self.choices = tuple(choices) if choices is not None else None
        self.elements = elements
        self.options = list(options or [])

    # --- validation -------------------------------------------------------------------

    def validate(self, value, field):
        if value is None:
            if self.required:
                raise NetsecError("is required", field=field)
            if self.kind == "dict":
                value = {}
            elif self.default is None:
                return None
            else:
                value = copy.deepcopy(self.default)
        if self.kind == "dict":
            return self._mapping(value, field)
        if self.kind == "list":
            if not isinstance(value, (list, tuple)):
                raise NetsecError("must be a list", field=field)
            if self.elements == "dict":
                return [self._mapping(item, field_path(field, i)) for i, item in enumerate(value)]
            return [self._scalar(item, field_path(field, i), self.elements) for i, item in enumerate(value)]
        return self._scalar(value, field, self.kind)

    def _scalar(self, value, field, kind):
        if self.choices is not None:
            # Choices first: the message then lists what is allowed, not a type name.
            if not any(_same(value, choice) for choice in self.choices):
                raise NetsecError("%s is not one of %s" % (T.secret_safe(value, False), ", ".join(str(c) for c in self.choices)),
                                  field=field)
            return value
        return (self.parse or _PARSERS[kind])(value, field)

    def _mapping(self, value, field):
        names = [name for name, dummy in self.options]
        if not isinstance(value, dict):
            raise NetsecError("must be a mapping", field=field, fix="with the keys %s" % ", ".join(names))
        unknown = [k for k in value if k not in names]
        if unknown:
            others = ", ".join(key_path(field, k) for k in unknown[1:4]) + (" and more" if len(unknown) > 4 else "")
            raise NetsecError("unknown key" + ("; so are %s" % others if others else ""), field=key_path(field, unknown[0]),
                              fix="the keys of %s are %s" % (field, ", ".join(names)))
        return dict((name, option.validate(value.get(name), field_path(field, name))) for name, option in self.options)

    # --- what else the tree gives ----------------------------------------------------------

    def defaults(self):
        if self.kind == "dict":
            return dict((name, option.defaults()) for name, option in self.options)
        return copy.deepcopy(self.default)

    def argument_spec(self, required=None, description=True):
        """This option as an Ansible argument_spec entry (nested `options`)."""
        return self._spec("options", required, description)

    def doc(self, required=None):
        """This option as DOCUMENTATION (nested `suboptions`)."""
        return self._spec("suboptions", required, True)

    def _spec(self, nested, required, description):
        spec = {}
        if description:
            spec["description"] = self.description
        spec["type"] = self.kind
        if self.required if required is None else required:
            spec["required"] = True
        elif self.default is not None:
            spec["default"] = copy.deepcopy(self.default)
        if self.choices is not None:
            spec["choices"] = list(self.choices)
        if self.elements:
            spec["elements"] = self.elements
        if self.options:
            spec[nested] = dict((name, option._spec(nested, None, description)) for name, option in self.options)
        return spec
