# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation before sending: kubernetes-validate for core kinds, CRD JSON schema for Cilium."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import validate


def cnp(**spec):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "p", "namespace": "n"}, "spec": spec}


def test_unknown_entity_is_reported_with_its_field_path(cilium_schemas):
    with pytest.raises(NetsecError) as err:
        validate.validate_custom(cnp(endpointSelector={}, ingress=[{"fromEntities": ["moon"]}]),
                                 cilium_schemas["CiliumNetworkPolicy"], field="policies[0]")
    assert err.value.field == "policies[0].spec.ingress[0].fromEntities[0]"


def test_unknown_spec_key_is_rejected(cilium_schemas):
    with pytest.raises(NetsecError) as err:
        validate.validate_custom(cnp(endpointSelector={}, ingres=[]), cilium_schemas["CiliumNetworkPolicy"], field="p")
    assert err.value.field == "p.spec"


def test_schema_from_a_crd_object_validates_like_the_file(cilium_schemas):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "ciliumnetworkpolicies.cilium.io"},
           "spec": {"versions": [{"name": "v2alpha1", "schema": {"openAPIV3Schema": {}}},
                                 {"name": "v2", "schema": {"openAPIV3Schema": cilium_schemas["CiliumNetworkPolicy"]}}]}}
    schema = validate.schema_from_crd(crd, "v2")
    validate.validate_custom(cnp(endpointSelector={}, ingress=[{"fromEntities": ["cluster"]}]), schema)
    with pytest.raises(NetsecError):
        validate.validate_custom(cnp(endpointSelector={}, ingress=[{"toPorts": [{"ports": [{"port": "80", "protocol": "HTTP"}]}]}]), schema)
    with pytest.raises(NetsecError, match="no schema for version v3"):
        validate.schema_from_crd(crd, "v3")


def test_core_kinds_are_validated_strictly():
    good = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app", "labels": {"istio.io/dataplane-mode": "ambient"}}}
    validate.validate_core(good)
    with pytest.raises(NetsecError) as err:
        validate.validate_core({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}}, field="o")
    assert err.value.field == "o.data.a"


def test_custom_kinds_are_not_core():
    assert not validate.is_core_kind(cnp())
    assert validate.is_core_kind({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}})
