# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify's WL-03: the roles' exposure lint on policies read back (rendered or live), one verdict for both."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, as_live
from fixtures.exposure import narrow_set, world_split
from hypothesis import HealthCheck, given, settings

from ansible_collections.safespring.netsec.plugins.filter.policy_exposure import policy_exposure_evidence
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import policies
from ansible_collections.safespring.netsec.plugins.modules import cilium_network_policy as cnp_module


def cnp(cidrs, port="6443", namespace="shop"):
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": namespace},
            "spec": {"endpointSelector": {}, "ingress": [{"fromCIDR": [c], "toPorts": [{"ports": [{"port": port}]}]} for c in cidrs]}}


def test_the_lab_baseline_read_back_is_clean_and_counted():
    out = policy_exposure_evidence([as_live(p) for p in policies.baseline(LAB_CLUSTER, LAB_ADDRESS_BOOK)] + [{"kind": "Service"}])
    assert out["ok"] and out["drift"] == [] and out["policies"] == 5 and out["entries"] > 10


def test_a_foreign_live_policy_opening_6443_to_the_world_is_drift_naming_it():
    live = as_live(cnp(["0.0.0.0/1", "128.0.0.0/1"]), manager="kubectl")
    out = policy_exposure_evidence([live])
    assert not out["ok"]
    assert out["drift"][0].startswith("CiliumNetworkPolicy shop/x.spec.ingress[0].fromCIDR[0]: opens kube-apiserver (tcp/6443)")
    waiver = {"name": "shop-api", "service": "kube-apiserver", "scope": "shop", "reason": "test"}
    assert policy_exposure_evidence([live], [waiver])["ok"]
    assert not policy_exposure_evidence([live], [dict(waiver, scope="other")])["ok"]


def test_a_source_that_is_no_address_is_drift_not_a_crash():
    out = policy_exposure_evidence([cnp(["not-a-cidr"])])
    assert not out["ok"] and "not-a-cidr" in out["drift"][0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cidrs=world_split(max_cuts=6) | narrow_set())
def test_desired_and_read_back_policies_get_the_same_verdict(cidrs):
    policy = cnp(cidrs)
    try:
        cnp_module.lint({"policies": [policy], "extra_policies": [], "waivers": []})
        refused = False
    except NetsecError:
        refused = True
    assert refused is not policy_exposure_evidence([as_live(policy)])["ok"]
    assert refused is bool(pm.wide_families(cidrs))
