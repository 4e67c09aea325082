# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cilium_* modules' input side: everything before the first file write or API call.
(The modules end to end through ansible-playbook: tests/integration/test_cilium_*.py.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import values as cv
from ansible_collections.safespring.netsec.plugins.modules import cilium_install, cilium_network_policy as cnp

from fixtures.cilium import cilium_schema_files


def install_params(**kw):
    spec = cilium_install.argument_spec()
    params = dict((k, v.get("default")) for k, v in spec.items())
    params.update(kw)
    return params


def test_install_choices_match_the_profile_choices():
    spec = cilium_install.argument_spec()
    for knob, choices in cv.CHOICES.items():
        assert tuple(spec[knob]["choices"]) == tuple(choices), knob
    for knob in cilium_install.PROFILE_KEYS:
        if knob != "host_firewall_deployed":
            assert knob in spec, knob


def test_install_plan_raises_the_first_refusal_and_carries_the_others():
    with pytest.raises(NetsecError) as err:
        cilium_install.plan(install_params(encryption="ipsec", node_encryption=True, host_firewall="enforce"))
    assert err.value.field == "node_encryption"
    assert any("host firewall enforce" in text for text in err.value.extra["other_refusals"])


def test_install_plan_stamps_mesh_objects_but_not_namespace_patches():
    planned = cilium_install.plan(install_params(mesh="linkerd", mesh_namespaces=["shop"]))
    assert all(o["metadata"]["labels"]["netsec.safespring.com/owned-set"] == "cilium-mesh" for o in planned["mesh"]["objects"])
    assert "labels" not in planned["mesh"]["namespace_patches"][0]["metadata"]
    assert planned["values_diff"]  # nothing deployed yet: every value is new


def policy(kind="CiliumNetworkPolicy", namespace="n", **meta):
    obj = {"apiVersion": "cilium.io/v2", "kind": kind, "metadata": dict({"name": "p"}, **meta),
           "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}
    if namespace:
        obj["metadata"]["namespace"] = namespace
    return obj


@pytest.mark.parametrize("bad,field", [
    (policy(namespace=None), "policies[0].metadata.namespace"),
    (policy(kind="CiliumClusterwideNetworkPolicy"), "policies[0].metadata.namespace"),
    (dict(policy(), apiVersion="cilium.io/v2alpha1"), "policies[0].apiVersion"),
    (dict(policy(), kind="NetworkPolicy"), "policies[0].kind"),
])
def test_policy_shape_errors_name_the_field(bad, field):
    schemas = cnp.load_schemas({"schema_files": cilium_schema_files()}, None, sorted(cnp.KINDS))
    with pytest.raises(NetsecError) as err:
        cnp.check_policies([bad], schemas)
    assert err.value.field == field


def test_render_without_schema_files_or_cluster_is_refused():
    with pytest.raises(NetsecError) as err:
        cnp.load_schemas({"schema_files": None}, None, ["CiliumNetworkPolicy"])
    assert err.value.field == "schema_files"
