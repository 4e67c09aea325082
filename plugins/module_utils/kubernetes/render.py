# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render objects to a directory for GitOps (Argo CD, Flux, Talos inlineManifests).

One YAML file per object with a stable name (`<kind>-<namespace>-<name>.yaml`, lower case),
keys in a stable order, and optionally a kustomization.yaml listing them. Files this code
wrote carry a header line; stale ones (objects no longer declared) are removed, files
without the header are never touched. `plan_directory` is pure; `write_directory` applies.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core on the controller
    HAS_YAML = False

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

HEADER = "# Rendered by safespring.netsec; edit the source, not this file.\n"
KUSTOMIZATION = "kustomization.yaml"
_UNSAFE = re.compile(r"[^a-z0-9.-]+")
_TOP_ORDER = ("apiVersion", "kind", "metadata")


if HAS_YAML:
    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True  # manifests stay readable and diffable: no &anchors

    def _str_presenter(dumper, data):
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, _str_presenter)


def dump(obj):
    """YAML text with apiVersion, kind, metadata first and the rest sorted."""
    if not HAS_YAML:
        raise NetsecError("the Python package PyYAML is required on the controller", fix="pip install PyYAML")
    ordered = [(k, obj[k]) for k in _TOP_ORDER if k in obj]
    ordered += sorted((k, v) for k, v in obj.items() if k not in _TOP_ORDER)
    text = ""
    for key, value in ordered:
        text += yaml.dump({key: value}, Dumper=_Dumper, default_flow_style=False, sort_keys=True, width=1000)
    return text


def dump_all(objects):
    return "".join("---\n" + dump(obj) for obj in objects)


def file_name(obj):
    meta = obj.get("metadata") or {}
    parts = [obj.get("kind") or "object", meta.get("namespace") or "", meta.get("name") or ""]
    return _UNSAFE.sub("-", "-".join(p for p in parts if p).lower()) + ".yaml"


def plan_directory(objects, path, kustomization=True, existing=None):
    """{file: content} to write and [file] to remove; `existing` maps file -> content read from disk."""
    existing = existing if existing is not None else read_directory(path)
    wanted = {}
    for obj in objects:
        name = file_name(obj)
        if name in wanted:
            raise NetsecError("two objects render to %s" % name, field="objects", fix="give each object a unique kind/namespace/name")
        wanted[name] = HEADER + dump(obj)
    if kustomization:
        wanted[KUSTOMIZATION] = HEADER + dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                                               "resources": sorted(n for n in wanted)})
    write = dict((n, c) for n, c in wanted.items() if existing.get(n) != c)
    for name in write:
        if name in existing and not existing[name].startswith(HEADER):
            raise NetsecError("%s exists and was not written by this collection" % os.path.join(path, name), field="render_dir",
                              fix="render into a directory of its own")
    remove = sorted(n for n, c in existing.items() if n not in wanted and c.startswith(HEADER))
    return {"write": write, "remove": remove, "files": sorted(wanted)}


def read_directory(path):
    out = {}
    if not os.path.isdir(path):
        return out
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if name.endswith(".yaml") and os.path.isfile(full):
            with open(full) as handle:
                out[name] = handle.read()
    return out


def write_directory(path, planned, mode=0o644):
    if not os.path.isdir(path):
        os.makedirs(path)
    for name, content in sorted(planned["write"].items()):
        write_file(os.path.join(path, name), content, mode)
    for name in planned["remove"]:
        os.remove(os.path.join(path, name))


def write_file(full, content, mode=0o644):
    """Atomic replace: a half-written manifest must never be picked up by a GitOps controller."""
    tmp = full + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.rename(tmp, full)
