# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes label selectors (metav1.LabelSelector): validation and matching. Pure."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class SelectorError(ValueError):
    """A selector the API server would reject; `path` names the part at fault."""

    def __init__(self, message, path=""):
        self.path = path
        super(SelectorError, self).__init__(message)


def selector_key(selector):
    """A hashable, canonical form of a selector (None stays None: missing != empty)."""
    if selector is None:
        return None
    return json.dumps(selector, sort_keys=True)


def compile_selector(selector, path=""):
    """Turn a LabelSelector dict into a list of (key, op, frozenset(values)) requirements.

    An empty selector ({} or one with empty matchLabels / matchExpressions) compiles to
    [] and matches everything; the caller decides what a missing (None) selector means.
    """
    if selector is None:
        return None
    if not isinstance(selector, dict):
        raise SelectorError("a label selector must be a mapping", path)
    unknown = set(selector) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise SelectorError("unknown selector field(s) %s" % ", ".join(sorted(unknown)), path)
    reqs = []
    for key, value in sorted((selector.get("matchLabels") or {}).items()):
        reqs.append((str(key), "In", frozenset([str(value)])))
    for idx, expr in enumerate(selector.get("matchExpressions") or []):
        where = "%s.matchExpressions[%d]" % (path, idx) if path else "matchExpressions[%d]" % idx
        if not isinstance(expr, dict) or "key" not in expr or "operator" not in expr:
            raise SelectorError("a match expression needs key and operator", where)
        oper = expr["operator"]
        values = expr.get("values") or []
        if oper not in OPERATORS:
            raise SelectorError("operator %r is not one of %s" % (oper, ", ".join(OPERATORS)), where + ".operator")
        if oper in ("In", "NotIn") and not values:
            raise SelectorError("operator %s needs at least one value" % oper, where + ".values")
        if oper in ("Exists", "DoesNotExist") and values:
            raise SelectorError("operator %s takes no values" % oper, where + ".values")
        reqs.append((str(expr["key"]), oper, frozenset(str(v) for v in values)))
    return reqs


def matches(requirements, labels):
    """True when `labels` (a dict) satisfies every compiled requirement."""
    for key, oper, values in requirements:
        present = key in labels
        if oper == "In":
            if not present or labels[key] not in values:
                return False
        elif oper == "NotIn":
            # NotIn matches when the key is absent (apimachinery labels.Requirement).
            if present and labels[key] in values:
                return False
        elif oper == "Exists":
            if not present:
                return False
        elif present:  # DoesNotExist
            return False
    return True


def selector_matches(selector, labels):
    """Convenience: match an uncompiled selector dict (None matches nothing)."""
    reqs = compile_selector(selector)
    return reqs is not None and matches(reqs, labels)
