# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a finding comes from: an evaluator's hint -> the file and line that caused it.

Hints are ``{"inventory": "netsec_cluster.loadbalancer"}`` (a variable, dotted into its keys, in
the inventory's group_vars/host_vars), ``{"rendered": "talos/lab-cp1.yaml", "key": "a.b"}`` or
``{"rendered": ..., "match": "name: x"}`` (a rendered artifact), ``{"file": "/etc/haproxy/haproxy.cfg"}``
(a file on a managed host) and ``{"logical": "host lb1"}`` (an object with no file). The first hint
that resolves to a file gives the physical location; ``optional`` hints are skipped when absent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
    HAS_YAML = False

_VARS_DIRS = ("group_vars", "host_vars")
_YAML_EXT = (".yml", ".yaml", ".json", "")


def _yaml_files(inventory_dir):
    out = []
    for sub in _VARS_DIRS:
        base = os.path.join(inventory_dir, sub)
        for root, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if os.path.splitext(name)[1] in _YAML_EXT and not name.startswith("."):
                    out.append(os.path.join(root, name))
    return out


def _read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError, UnicodeDecodeError):
        return None


def _nodes(text):
    if not HAS_YAML or text is None:
        return []
    try:
        return [n for n in yaml.compose_all(text, Loader=yaml.SafeLoader) if n is not None]
    except yaml.YAMLError:
        return []


def _descend(node, keys):
    """Line (1-based) of the deepest key of `keys` found under a mapping node, and how many matched."""
    line, depth = None, 0
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == key:
                line, depth, node = key_node.start_mark.line + 1, depth + 1, value_node
                break
        else:
            break
    return line, depth


class Locator(object):
    """Resolves hints against one inventory and one render directory; files are parsed once."""

    def __init__(self, project_root, inventory_dir=None, render_dir=None):
        self.project_root = os.path.abspath(project_root) if project_root else None
        self.inventory_dir = inventory_dir
        self.render_dir = render_dir
        self._parsed = {}

    def _parse(self, path):
        if path not in self._parsed:
            text = _read(path)
            self._parsed[path] = (text, _nodes(text))
        return self._parsed[path]

    def _uri(self, path):
        path = os.path.abspath(path)
        if self.project_root and (path + os.sep).startswith(self.project_root + os.sep):
            return os.path.relpath(path, self.project_root).replace(os.sep, "/"), "PROJECTROOT"
        return path, None

    def _inventory(self, dotted):
        if not self.inventory_dir:
            return None
        keys = dotted.split(".")
        best = None
        for path in _yaml_files(self.inventory_dir):
            text, nodes = self._parse(path)
            for node in nodes:
                line, depth = _descend(node, keys)
                if line and (best is None or depth > best[2]):
                    best = (path, line, depth)
        return best and (best[0], best[1])

    def _rendered(self, rel, key=None, match=None):
        if not self.render_dir:
            return None
        path = os.path.join(self.render_dir, rel)
        text, nodes = self._parse(path)
        if text is None:
            return None
        if key:
            for node in nodes:
                line, depth = _descend(node, key.split("."))
                if line:
                    return path, line
        if match:
            for number, content in enumerate(text.splitlines(), 1):
                if match in content:
                    return path, number
        return path, 1

    def resolve(self, hints):
        """-> {"uri", "uri_base", "line", "logical"} (uri None when no hint names an existing file)."""
        physical, logical = None, None
        for hint in hints or []:
            logical = logical or hint.get("logical")
            if physical:
                continue
            found = None
            if hint.get("inventory"):
                found = self._inventory(hint["inventory"])
            elif hint.get("rendered"):
                found = self._rendered(hint["rendered"], hint.get("key"), hint.get("match"))
            elif hint.get("file"):
                # A file on a managed host: named as it is there, no line (its content is not read here).
                physical = {"uri": hint["file"], "uri_base": None, "line": None}
                continue
            if found:
                uri, base = self._uri(found[0])
                physical = {"uri": uri, "uri_base": base, "line": found[1]}
        out = dict(physical or {"uri": None, "uri_base": None, "line": None})
        out["logical"] = logical
        return out


def locate_controls(controls, locator):
    """Each finding of each control gets its resolved location (in place, and returned)."""
    for control in controls:
        for finding in control.get("findings") or []:
            finding["location"] = locator.resolve(finding.get("locations"))
    return controls
