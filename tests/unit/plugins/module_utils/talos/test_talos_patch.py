# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Strategic-merge and RFC 6902 patches of Talos machine configurations."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import patch as P

BASE = """
version: v1alpha1
machine:
  type: controlplane
  certSANs: [a.example]
  kubelet:
    extraArgs: {foo: bar}
cluster:
  clusterName: c1
---
apiVersion: v1alpha1
kind: NetworkRuleConfig
name: etcd
portSelector: {ports: ["2379-2380"], protocol: tcp}
ingress: [{subnet: 10.0.0.1/32}]
---
apiVersion: v1alpha1
kind: NetworkRuleConfig
name: kubelet
portSelector: {ports: [10250], protocol: tcp}
ingress: [{subnet: 10.0.0.1/32}]
"""


def base():
    return D.load(BASE)


def test_strategic_merge_merges_mappings_and_appends_lists():
    out = P.apply_patches(base(), ["machine:\n  certSANs: [b.example, a.example]\n  kubelet: {extraArgs: {x: y}}\n"])
    machine = D.main_document(out)["machine"]
    assert machine["certSANs"] == ["a.example", "b.example", "a.example"], "Talos appends, duplicates included"
    assert machine["kubelet"]["extraArgs"] == {"foo": "bar", "x": "y"}
    assert machine["type"] == "controlplane"


def test_strategic_patch_without_version_key_targets_v1alpha1_document():
    out = P.apply_patches(base(), [{"cluster": {"allowSchedulingOnControlPlanes": True}}])
    assert D.main_document(out)["cluster"] == {"clusterName": "c1", "allowSchedulingOnControlPlanes": True}


def test_delete_directive_removes_a_key():
    out = P.apply_patches(base(), [{"machine": {"kubelet": {"$patch": "delete"}}}])
    assert "kubelet" not in D.main_document(out)["machine"]


def test_named_documents_are_matched_by_kind_and_name():
    patch = "apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: kubelet\ningress: [{subnet: 10.0.0.2/32}]\n"
    out = P.apply_patches(base(), [patch])
    # ingress is `merge:"replace"` in Talos' NetworkRuleConfig: the patch's list replaces the rule's.
    assert D.find(out, "NetworkRuleConfig", "kubelet")["ingress"] == [{"subnet": "10.0.0.2/32"}]
    assert D.find(out, "NetworkRuleConfig", "etcd")["ingress"] == [{"subnet": "10.0.0.1/32"}]


def test_fields_talos_replaces_on_merge_are_replaced_not_appended():
    docs = base()
    D.main_document(docs)["cluster"].update({"network": {"podSubnets": ["10.244.0.0/16"]},
                                             "apiServer": {"extraArgs": {"a": ["x"], "b": "1"},
                                                           "admissionControl": [{"name": "P", "configuration": {"k": 1, "l": 2}}]}})
    out = P.apply_patches(docs, [{"cluster": {"network": {"podSubnets": ["10.0.0.0/16"]},
                                              "apiServer": {"extraArgs": {"a": ["y"]},
                                                            "admissionControl": [{"name": "P", "configuration": {"k": 3}}, {"name": "Q"}]}}},
                                 "apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: etcd\nportSelector: {ports: [2379]}\n"])
    cluster = D.main_document(out)["cluster"]
    assert cluster["network"]["podSubnets"] == ["10.0.0.0/16"]
    assert cluster["apiServer"]["extraArgs"] == {"a": ["y"], "b": "1"}, "Args: each argument replaced whole"
    assert cluster["apiServer"]["admissionControl"] == [{"name": "P", "configuration": {"k": 3, "l": 2}}, {"name": "Q"}]
    assert D.find(out, "NetworkRuleConfig", "etcd")["portSelector"] == {"ports": [2379], "protocol": "tcp"}


def test_document_delete_and_add_in_one_patch():
    patch = ("apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: etcd\n$patch: delete\n---\n"
             "apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: hubble\nportSelector: {ports: [4244], protocol: tcp}\n")
    out = P.apply_patches(base(), [patch])
    assert D.find(out, "NetworkRuleConfig", "etcd") is None
    assert D.find(out, "NetworkRuleConfig", "hubble")["portSelector"]["ports"] == [4244]


def test_deleting_a_document_that_is_not_there_fails():
    with pytest.raises(NetsecError, match="cannot delete NetworkRuleConfig/nope") as err:
        P.apply_patches(base(), [{"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "nope", "$patch": "delete"}])
    assert err.value.field == "patches[0]"


def test_patches_apply_in_order_later_wins():
    out = P.apply_patches(base(), [{"cluster": {"clusterName": "one"}}, {"cluster": {"clusterName": "two"}}])
    assert D.main_document(out)["cluster"]["clusterName"] == "two"


def test_patching_does_not_mutate_the_input():
    docs = base()
    P.apply_patches(docs, [{"machine": {"type": "worker"}}])
    assert D.main_document(docs)["machine"]["type"] == "controlplane"


def test_json6902_list_is_detected_and_applied_to_v1alpha1():
    ops = [{"op": "add", "path": "/machine/certSANs/-", "value": "c.example"},
           {"op": "replace", "path": "/cluster/clusterName", "value": "c2"},
           {"op": "remove", "path": "/machine/kubelet/extraArgs/foo"},
           {"op": "copy", "from": "/cluster/clusterName", "path": "/machine/nodeLabels"},
           {"op": "test", "path": "/machine/certSANs/1", "value": "c.example"}]
    out = P.apply_patches(base(), [ops])
    main = D.main_document(out)
    assert main["machine"]["certSANs"] == ["a.example", "c.example"]
    assert main["cluster"]["clusterName"] == "c2" and main["machine"]["nodeLabels"] == "c2"
    assert main["machine"]["kubelet"]["extraArgs"] == {}


def test_json6902_addresses_another_document_when_named():
    item = {"type": "json6902", "document": {"kind": "NetworkRuleConfig", "name": "etcd"},
            "patch": [{"op": "replace", "path": "/ingress/0/subnet", "value": "10.9.9.9/32"}]}
    out = P.apply_patches(base(), [item])
    assert D.find(out, "NetworkRuleConfig", "etcd")["ingress"] == [{"subnet": "10.9.9.9/32"}]


def test_json6902_move_and_escaped_pointer():
    docs = [{"version": "v1alpha1", "machine": {"nodeLabels": {"a/b": "1"}}}]
    out = P.apply_patches(docs, [[{"op": "move", "from": "/machine/nodeLabels/a~1b", "path": "/machine/nodeLabels/c"}]])
    assert D.main_document(out)["machine"]["nodeLabels"] == {"c": "1"}


@pytest.mark.parametrize("ops, field, message", [
    ([{"op": "replace", "path": "/machine/nope", "value": 1}], "patches[0][0]", "does not exist"),
    ([{"op": "add", "path": "/machine/certSANs/5", "value": 1}], "patches[0][0]", "out of range"),
    ([{"op": "test", "path": "/machine/type", "value": "worker"}], "patches[0][0]", "test failed"),
    ([{"op": "frobnicate", "path": "/machine"}], "patches[0][0].op", "not an RFC 6902 operation"),
    ([{"op": "add", "path": "machine", "value": 1}], "patches[0][0].path", "not a JSON pointer"),
])
def test_json6902_errors_name_the_operation(ops, field, message):
    with pytest.raises(NetsecError, match=message) as err:
        P.apply_patches(base(), [ops])
    assert err.value.field == field


def test_failed_json6902_test_op_leaves_nothing_half_applied():
    docs = base()
    with pytest.raises(NetsecError):
        P.apply_patches(docs, [[{"op": "replace", "path": "/cluster/clusterName", "value": "x"},
                                {"op": "test", "path": "/cluster/clusterName", "value": "y"}]])
    assert D.main_document(docs)["cluster"]["clusterName"] == "c1"


def test_yaml_text_json6902_patch_is_parsed():
    out = P.apply_patches(base(), ['[{"op": "add", "path": "/machine/sysctls", "value": {"net.core.somaxconn": "65535"}}]'])
    assert D.main_document(out)["machine"]["sysctls"] == {"net.core.somaxconn": "65535"}


def test_unknown_patch_type_and_keys_fail():
    with pytest.raises(NetsecError, match="not one of strategic, json6902"):
        P.apply_patches(base(), [{"type": "merge", "patch": {}}])
    with pytest.raises(NetsecError, match="unknown key"):
        P.apply_patches(base(), [{"patch": {}, "target": "x"}])


def test_duplicate_documents_in_a_config_are_refused():
    with pytest.raises(NetsecError, match="appears twice"):
        D.load(BASE + "---\napiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: etcd\n")
