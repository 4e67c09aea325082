# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""zitadel_kubernetes_access's plan: every RBAC object carries the owner labels of one owned
set, and the keys it returns name exactly the declared objects (what the role prunes against)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import rbac
from ansible_collections.safespring.netsec.plugins.modules import zitadel_kubernetes_access as module

ALL_LEVELS = [{"level": "cluster-admin"}, {"level": "operator"}, {"level": "viewer"},
              {"level": "developer", "namespaces": ["payments", "web"]}]


def params(**kw):
    out = dict((k, v.get("default")) for k, v in module.argument_spec().items())
    out.update(issuer_url="https://id.example.com", client_id="1@kubernetes-prod", project_id="285441962217030421",
               access=ALL_LEVELS)
    out.update(kw)
    return out


def test_every_rbac_object_carries_both_owner_labels_of_the_cluster_set_by_default():
    planned = module.plan(params(cluster_name="prod"))
    assert planned["owned_set"] == "zitadel-rbac-prod"
    assert planned["rbac"]
    for obj in planned["rbac"]:
        assert obj["metadata"]["labels"] == owned.owner_labels("zitadel-rbac-prod"), obj["metadata"]["name"]
        assert owned.owner_of(obj) == "zitadel-rbac-prod"


def test_a_given_owned_set_replaces_the_default():
    planned = module.plan(params(cluster_name="prod", owned_set="rbac-blue"))
    assert {owned.owner_of(obj) for obj in planned["rbac"]} == {"rbac-blue"}


def test_rbac_keys_name_exactly_the_declared_objects():
    planned = module.plan(params())
    assert planned["rbac_keys"] == ["%s/%s/%s" % (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
                                    for o in planned["rbac"]]
    assert "ClusterRoleBinding//zitadel:cluster-admin" in planned["rbac_keys"]
    assert "RoleBinding/payments/zitadel:developer" in planned["rbac_keys"]
    assert len(set(planned["rbac_keys"])) == len(planned["rbac_keys"])


def test_dropping_an_access_level_drops_exactly_its_objects_from_the_keys():
    every = set(module.plan(params())["rbac_keys"])
    without_web = set(module.plan(params(access=ALL_LEVELS[:3] + [{"level": "developer", "namespaces": ["payments"]}]))["rbac_keys"])
    assert every - without_web == {"RoleBinding/web/zitadel:developer"}
    without_operator = set(module.plan(params(access=[a for a in ALL_LEVELS if a["level"] != "operator"]))["rbac_keys"])
    assert every - without_operator == {"ClusterRole//zitadel:operator", "ClusterRoleBinding//zitadel:operator",
                                        "ClusterRoleBinding//zitadel:operator:view", "ClusterRoleBinding//zitadel:operator:cluster-reader"}


def test_owned_kinds_cover_every_kind_produced_with_bindings_before_roles():
    planned = module.plan(params())
    kinds = planned["owned_kinds"]
    assert {o["kind"] for o in planned["rbac"]} <= set(kinds)
    assert kinds.index("ClusterRoleBinding") < kinds.index("ClusterRole")
    assert kinds.index("RoleBinding") < kinds.index("ClusterRole")


def test_no_access_declares_no_object_but_still_names_the_set_to_prune():
    planned = module.plan(params(access=[], cluster_name="prod"))
    assert planned["rbac"] == [] and planned["rbac_keys"] == []
    assert planned["owned_set"] == "zitadel-rbac-prod" and planned["owned_kinds"]


@pytest.mark.parametrize("kw", [dict(owned_set="zitadel rbac"), dict(owned_set="-prod"), dict(owned_set="x" * 64),
                                dict(cluster_name="Prod cluster")])
def test_an_owned_set_that_is_no_label_value_is_refused_naming_the_field(kw):
    with pytest.raises(NetsecError) as err:
        module.plan(params(**kw))
    assert err.value.field == "owned_set"


def test_rbac_objects_refuse_an_invalid_owned_set_too():
    with pytest.raises(NetsecError):
        rbac.rbac_objects(["viewer"], owned_set="not a label")
