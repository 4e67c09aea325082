# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render-to-directory for GitOps."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import render


def obj(name, namespace=None):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy" if namespace else "CiliumClusterwideNetworkPolicy",
            "metadata": meta, "spec": {"endpointSelector": {}}}


def test_file_names_are_stable_and_safe():
    assert render.file_name(obj("netsec-host-worker")) == "ciliumclusterwidenetworkpolicy-netsec-host-worker.yaml"
    assert render.file_name(obj("p", "kube-system")) == "ciliumnetworkpolicy-kube-system-p.yaml"


def test_dump_puts_apiversion_kind_metadata_first_and_round_trips():
    text = render.dump(obj("a"))
    assert text.splitlines()[0].startswith("apiVersion:")
    assert text.splitlines()[1].startswith("kind:")
    assert yaml.safe_load(text) == obj("a")


def test_write_then_replan_is_a_no_op_and_stale_files_are_removed(tmp_path):
    planned = render.plan_directory([obj("a"), obj("b")], str(tmp_path))
    render.write_directory(str(tmp_path), planned)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(planned["files"])
    again = render.plan_directory([obj("a"), obj("b")], str(tmp_path))
    assert again["write"] == {} and again["remove"] == []
    fewer = render.plan_directory([obj("a")], str(tmp_path))
    assert fewer["remove"] == ["ciliumclusterwidenetworkpolicy-b.yaml"]
    assert list(fewer["write"]) == ["kustomization.yaml"]


def test_kustomization_lists_every_object_file(tmp_path):
    planned = render.plan_directory([obj("a"), obj("p", "kube-system")], str(tmp_path))
    kust = yaml.safe_load(planned["write"]["kustomization.yaml"])
    assert kust["resources"] == ["ciliumclusterwidenetworkpolicy-a.yaml", "ciliumnetworkpolicy-kube-system-p.yaml"]


def test_files_not_written_by_us_are_neither_overwritten_nor_removed(tmp_path):
    (tmp_path / "ciliumclusterwidenetworkpolicy-a.yaml").write_text("# hand-written\n")
    (tmp_path / "notes.yaml").write_text("keep: me\n")
    with pytest.raises(NetsecError, match="not written by this collection"):
        render.plan_directory([obj("a")], str(tmp_path))
    planned = render.plan_directory([obj("b")], str(tmp_path))
    assert "notes.yaml" not in planned["remove"]
