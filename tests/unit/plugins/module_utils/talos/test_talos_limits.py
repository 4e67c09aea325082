# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bounded input: YAML aliases refused, nesting and size limited, diffs cut; bad input of
every shape fails naming the field instead of a bare Python exception."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import patch as P
from ansible_collections.safespring.netsec.plugins.modules import talos_machine_config as M

ADDRESSES = {"control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"], "loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5"]}
# The 244-byte patch: nine levels of nine aliases, 9**9 strings once expanded.
BOMB = "\n".join(["a0: &a0 [x,x,x,x,x,x,x,x,x]"] + ["a%d: &a%d [%s]" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)) for i in range(1, 9)]
                 + ["machine: {nodeLabels: {bomb: *a8}}"])


def params(**overrides):
    out = dict(dest="/nonexistent/w1.yaml", role="worker", node="w1", talos_version="1.13", cluster={"name": "c1"},
               addresses=ADDRESSES, firewall=True, default_action="block", admin_sources=[], hardening={}, patches=[],
               node_patches=[], schema_path=None, waivers=[], baseline_waivers=[])
    out.update(overrides)
    return out


def refused(base=None, **overrides):
    with pytest.raises(NetsecError) as err:
        M.render(params(**overrides), base)
    return err.value


def test_the_alias_bomb_patch_is_refused_at_once_naming_the_patch():
    started = time.time()
    err = refused(node_patches=[{"machine": {}}, BOMB])
    assert time.time() - started < 2
    assert err.field == "node_patches[1]" and "uses the YAML alias *a0" in err.message


def test_aliases_are_refused_in_the_base_config_too():
    err = refused(base="version: v1alpha1\nmachine: &m {type: worker}\ncluster: {x: *m}\n")
    assert err.field == "base" and "alias *m" in err.message


@settings(max_examples=30, deadline=None)
@given(name=st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), depth=st.integers(1, 4))
def test_any_alias_anywhere_is_refused(name, depth):
    inner = "*%s" % name
    for _level in range(depth):
        inner = "[%s]" % inner
    text = "x: &%s [1]\nmachine: {nodeLabels: {y: %s}}\n" % (name, inner)
    with pytest.raises(NetsecError, match="alias"):
        D.load(text, field="patches[0]")


def test_anchors_without_aliases_are_harmless_and_accepted():
    assert D.load("version: v1alpha1\nmachine: &m {type: worker}\n")[0]["machine"] == {"type": "worker"}


@pytest.mark.parametrize("text", ["machine: " + "[" * 3000 + "]" * 3000, "machine:\n" + "".join("  " * i + "k:\n" for i in range(1, 200))])
def test_deep_yaml_is_refused_naming_the_patch_not_a_recursion_error(text):
    err = refused(patches=[text])
    assert err.field == "patches[0]" and "nested more than 64 levels" in err.message


def test_deep_structured_input_is_refused_naming_the_option():
    deep = 1
    for _level in range(5000):
        deep = {"machine": deep}
    for option in ("patches", "node_patches"):
        assert refused(**{option: [deep]}).field == option + "[0]"
    nested = []
    for _level in range(5000):
        nested = [nested]
    assert refused(hardening={"admission_plugins": nested}).field == "hardening"
    assert refused(cluster={"name": "c1", "egress": {"extra": nested}}).field == "cluster"


def test_too_many_values_are_refused():
    assert "more than" in refused(patches=[{"machine": {"nodeLabels": dict(("k%d" % i, "v") for i in range(D.MAX_NODES + 1))}}]).message


@pytest.mark.parametrize("text, message", [
    ("machine: {1: x}", "not a string"),
    ("machine: {yes: x}", "not a string"),
    ("machine: [unclosed", "is not valid YAML"),
    ("a: b\n---\n- c\n", "neither the v1alpha1 config"),
    ("kind: [x]", "neither the v1alpha1 config"),
])
def test_malformed_text_patches_fail_naming_the_patch(text, message):
    err = refused(patches=[text])
    assert err.field.startswith("patches[0]") and message in err.message


def test_yaml_errors_do_not_quote_the_offending_line():
    err = refused(base="version: v1alpha1\ncluster: {secret: hunter2-secret: x}\n")
    assert "hunter2" not in str(err) and "line 2" in err.message


@pytest.mark.parametrize("patch, field", [
    (5, "patches[0]"),
    (None, "patches[0]"),
    ([1, 2], "patches[0]"),
    ({"type": "json6902", "patch": [{"op": "add"}]}, "patches[0][0]"),
    ({"type": "json6902", "patch": [{"op": "move", "path": "/machine/x"}]}, "patches[0][0].from"),
    ({"type": "json6902", "patch": [{"op": "add", "path": "machine", "value": 1}]}, "patches[0][0].path"),
    ({"type": "json6902", "patch": [{"op": "replace", "path": "", "value": 1}]}, "patches[0]"),
    ({"patch": {"machine": {}}, "document": "v1alpha1"}, "patches[0].document"),
    ({"patch": {"machine": {}}, "document": {"kind": ["x"]}}, "patches[0].document"),
    ({"patch": {"machine": {}}, "type": "merge"}, "patches[0].type"),
    ({"patch": {"machine": {}}, "typo": 1}, "patches[0]"),
    ({"machine": {"$patch": "replace"}}, "patches[0].machine"),
])
def test_malformed_patches_fail_naming_the_field(patch, field):
    assert refused(patches=[patch]).field == field


def test_a_json6902_test_failure_does_not_echo_the_value():
    patch = {"type": "json6902", "patch": [{"op": "test", "path": "/machine/type", "value": "s3cret-guess"}]}
    err = refused(patches=[patch])
    assert "s3cret-guess" not in str(err) and "does not hold the given value" in err.message


@pytest.mark.parametrize("knobs, field", [
    ({"talos_api_access": {"allowed_roles": "os:admin"}}, "hardening.talos_api_access.allowed_roles"),
    ({"talos_api_access": {"allowed_namespaces": ["a\nb"]}}, "hardening.talos_api_access.allowed_namespaces[0]"),
    ({"pod_security": {"exempt_namespaces": "kube-system"}}, "hardening.pod_security.exempt_namespaces"),
    ({"admission_plugins": {"name": "x"}}, "hardening.admission_plugins"),
    ({"admission_plugins": [{"name": ["x"], "configuration": {}}]}, "hardening.admission_plugins[0]"),
    ({"authentication": {"mode": "oidc_flags", "oidc": "x"}}, "hardening.authentication.oidc"),
    ({"authentication": {"mode": "oidc_flags", "oidc": {"issuer_url": "https://x", "client_id": "k\n--x"}}}, "hardening.authentication.oidc.client_id"),
    ({"authentication": {"mode": "oidc_flags", "oidc": {"issuer_url": "https://x", "client_id": "k", "required_claims": ["a"]}}},
     "hardening.authentication.oidc.required_claims"),
    ({"kubernetes_version": "1.35.0\n"}, "hardening.kubernetes_version"),
])
def test_malformed_knobs_fail_naming_the_knob(knobs, field):
    assert refused(hardening=knobs).field == field


@pytest.mark.parametrize("overrides, field", [
    ({"admin_sources": ["0.0.0.0/0"]}, "admin_sources"),
    ({"admin_sources": ["10.0.0.1;touch /tmp/x"]}, "admin_sources[0]"),
    ({"node": "cp1\nx"}, "node"),
    ({"addresses": dict(ADDRESSES, jump_host=["198.18.2.5", "0.0.0.0/0"])}, "addresses.jump_host[1]"),
])
def test_other_options_fail_naming_the_field(overrides, field):
    assert refused(**overrides).field == field


def test_a_diff_over_the_limit_becomes_a_note():
    assert D.clip("x" * (D.MAX_DIFF + 1)) == "(diff of %d characters not shown: over the limit of %d)\n" % (D.MAX_DIFF + 1, D.MAX_DIFF)
    assert D.clip("small") == "small"


def test_a_patch_list_that_is_not_a_list_is_refused():
    with pytest.raises(NetsecError) as err:
        P.parse_patches({"machine": {}}, "patches")
    assert err.value.field == "patches"
