# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Normalised diff under server-side apply semantics."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import diff

from fixtures.cilium import as_live

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "1"}}


def test_normalize_drops_server_populated_fields_and_last_applied():
    live = as_live(CM)
    live["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    assert diff.normalize(live) == CM


def test_server_defaults_on_the_live_object_are_not_a_difference():
    live = as_live(CM)
    live["immutable"] = False  # a field the server (or another manager) set
    assert diff.needs_update(CM, live, "safespring.netsec") == (False, [])


def test_list_order_matters():
    want = {"spec": {"x": [1, 2]}}
    assert not diff.is_subset(want, {"spec": {"x": [2, 1]}})
    assert diff.is_subset(want, {"spec": {"x": [1, 2]}, "status": {}})


def test_managed_paths_stop_at_list_items():
    live = as_live(CM)
    live["metadata"]["managedFields"][0]["fieldsV1"] = {
        "f:data": {"f:a": {}}, "f:spec": {"f:ports": {"k:{\"port\":80}": {".": {}, "f:port": {}}}}}
    assert diff.managed_paths(live, "safespring.netsec") == {("data", "a"), ("spec", "ports")}


def test_only_our_apply_entries_count_as_owned():
    live = as_live(CM, manager="kubectl-client-side-apply", operation="Update")
    assert diff.managed_paths(live, "safespring.netsec") == set()
