# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""extra_values cannot set an owned value through a side door (issue 13)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils.cilium import values

SIDE_DOORS = [
    ({"extraConfig": {"enable-policy": "never"}}, "extra_values.extraConfig.enable-policy"),
    ({"extraConfig": {"policy-audit-mode": "true"}}, "extra_values.extraConfig.policy-audit-mode"),
    ({"extraConfig": {"enable-wireguard": "false"}}, "extra_values.extraConfig.enable-wireguard"),
    ({"extraConfig": {"enable-host-firewall": "false"}}, "extra_values.extraConfig.enable-host-firewall"),
    ({"extraConfig": {"kube-proxy-replacement": "false"}}, "extra_values.extraConfig.kube-proxy-replacement"),
    ({"extraConfig": {"hubble-disable-tls": "true"}}, "extra_values.extraConfig.hubble-disable-tls"),
    ({"extraArgs": ["--enable-policy=never"]}, "extra_values.extraArgs[0]"),
    ({"extraArgs": ["--debug", "--enable_host_firewall=false"]}, "extra_values.extraArgs[1]"),
    ({"operator": {"extraArgs": ["--kube-proxy-replacement=false"]}}, "extra_values.operator.extraArgs[0]"),
    ({"extraEnv": [{"name": "CILIUM_ENABLE_POLICY", "value": "never"}]}, "extra_values.extraEnv[0].name"),
    ({"securityContext": {"privileged": True}}, "extra_values.securityContext.privileged"),
    ({"hubble": {"relay": {"securityContext": {"privileged": True}}}}, "extra_values.hubble.relay.securityContext.privileged"),
    ({"securityContext": {"capabilities": {"ciliumAgent": ["SYS_MODULE"]}}}, "extra_values.securityContext.capabilities.ciliumAgent"),
    ({"securityContext": {"capabilities": {"mountCgroup": ["SYS_ADMIN", "SYS_PTRACE"]}}},
     "extra_values.securityContext.capabilities.mountCgroup"),
    ({"hubble": {"tls": {"enabled": False}}}, "extra_values.hubble.tls.enabled"),
]


def _fields(extra):
    return [p.field for p in values.compute({"extra_values": extra})["refusals"]]


@pytest.mark.parametrize("extra,field", SIDE_DOORS)
def test_every_side_door_to_an_owned_value_is_refused_by_its_path(extra, field):
    problems = values.compute({"extra_values": extra})["refusals"]
    assert field in [p.field for p in problems]
    assert all(p.fix for p in problems)


@pytest.mark.parametrize("extra", [{"extraConfig": {"bpf-lb-sock": "true"}}, {"extraArgs": ["--debug"]},
                                   {"extraEnv": [{"name": "GOMAXPROCS", "value": "2"}]},
                                   {"securityContext": {"privileged": False}}, {"operator": {"replicas": 1}}])
def test_harmless_extras_pass(extra):
    assert _fields(extra) == []


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(values.OWNED_FLAGS)), st.sampled_from(["--%s=%s", "%s=%s", "--%s %s", "  --%s=%s"]),
       st.text(max_size=8))
def test_any_spelling_of_an_owned_flag_in_extra_args_is_refused(flag, form, value):
    arg = form % (flag.upper() if len(value) % 2 else flag, value) if "%s %s" not in form else form % (flag, value)
    assert "extra_values.agent.extraArgs[0]" in _fields({"agent": {"extraArgs": [arg]}})
