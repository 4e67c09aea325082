# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Talos' own checks of a machine config, through the talos-validate program.

talos-validate (tests/tools/talos/validate, built by `tests/tools/talos/build.sh
talos-validate-1.13|talos-validate-1.14`) links github.com/siderolabs/talos/pkg/machinery of one
release: it loads a config with Talos' configloader (every document; unknown fields and kinds
refused as on a node), validates it in strict mode for the runtime modes asked (what
`talosctl validate --strict` runs) and applies patch lists with Talos' configpatcher, so that
patch.py can be compared with it. JSON in, JSON out (see its main.go); one process per batch.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D

MODES = ("metal", "cloud", "container")
DEFAULT_MODES = ("metal",)
# The newest 1.14 the Go module proxy serves is a pre-release that lacks some kinds 1.14 has
# (KubeClusterConfig, KubeletConfig, KubePrismConfig, ...): those documents are listed as
# unregistered and the rest is checked. The binary says which release it links.
PRERELEASE_MARKERS = ("-alpha", "-beta", "-rc")


def build_hint(talos_version):
    return "build it with tests/tools/talos/build.sh talos-validate-%s (needs Go 1.26 and the Go module proxy)" % talos_version


def _no_runner(argv, data):
    raise NetsecError("talos-validate: no command runner given", fix="pass run=, e.g. a wrapper of module.run_command")


class TalosValidator(object):
    """run(argv, stdin_text) -> (rc, stdout, stderr)."""

    def __init__(self, binary, run=None, talos_version=None):
        if not isinstance(binary, str) or not binary or binary.startswith("-"):
            raise NetsecError("%r is not an executable" % (binary,), field="talos_validator")
        self.binary = binary
        self.talos_version = talos_version
        self._run = run or _no_runner

    def release(self):
        """The machinery version the binary links (e.g. v1.13.9)."""
        rc, out, err = self._call(["version"], None)
        return out.strip()

    def _call(self, args, data):
        try:
            rc, out, err = self._run([self.binary] + list(args), data)
        except OSError as exc:
            raise NetsecError("cannot run %s: %s" % (self.binary, exc), field="talos_validator",
                              fix=build_hint(self.talos_version or "1.13"))
        if rc != 0:
            raise NetsecError("%s failed (rc=%s): %s" % (self.binary, rc, (err or out).strip()[:2000]), field="talos_validator")
        return rc, out, err

    def check(self, items, modes=DEFAULT_MODES, skip_unregistered=False):
        """[{id, config?, base?, patches?, expected?}] (YAML text) -> {'talos': version, 'items': [...]}."""
        for mode in modes:
            if mode not in MODES:
                raise NetsecError("%r is not a Talos runtime mode (%s)" % (mode, ", ".join(MODES)), field="talos_validator_modes")
        request = {"modes": list(modes), "items": list(items), "skip_unregistered": bool(skip_unregistered)}
        _rc, out, _err = self._call([], json.dumps(request))
        try:
            answer = json.loads(out)
        except ValueError:
            raise NetsecError("%s printed no JSON: %s" % (self.binary, out[:200]), field="talos_validator")
        if len(answer.get("items") or []) != len(request["items"]):
            raise NetsecError("%s answered %d items for %d" % (self.binary, len(answer.get("items") or []), len(request["items"])),
                              field="talos_validator")
        return answer

    def validate(self, docs, modes=DEFAULT_MODES, field="config"):
        """Fails naming every error Talos reports for the config; returns {talos, warnings, unregistered}."""
        answer = self.check([{"id": "config", "config": D.dump(docs)}], modes,
                            skip_unregistered=self.talos_version == "1.14")
        result = answer["items"][0]
        release = answer.get("talos")
        if result.get("load_error"):
            raise NetsecError("Talos %s cannot load the config: %s" % (release, result["load_error"]), field=field)
        problems = ["%s: %s" % (mode, e) for mode in modes for e in result["modes"][mode]["errors"]]
        if problems:
            raise NetsecError("Talos %s refuses the config (strict validation): %s" % (release, "; ".join(problems)), field=field)
        return {"talos": release, "modes": list(modes), "unregistered": result.get("unregistered") or [],
                "warnings": sorted(set(w for mode in modes for w in result["modes"][mode]["warnings"]))}


def patch_item(item_id, base_docs, patches, expected_docs):
    """A cross-check request: Talos' configpatcher applies `patches` (parsed by patch.parse_patches)
    to `base_docs`; the answer's patch.equal says whether it matches `expected_docs`."""
    out = []
    for ptype, payload, document in patches:
        text = json.dumps(payload) if ptype == "json6902" else D.dump(payload)
        entry = {"type": ptype, "patch": text}
        if document:
            entry["document"] = {"kind": document.get("kind"), "name": document.get("name") or ""}
        out.append(entry)
    return {"id": item_id, "base": D.dump(base_docs), "patches": out, "expected": D.dump(expected_docs)}


def is_prerelease(release):
    return any(m in (release or "") for m in PRERELEASE_MARKERS)
