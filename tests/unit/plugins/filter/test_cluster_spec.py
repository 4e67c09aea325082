# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster spec has one schema (port_model.CLUSTER_SCHEMA): the validator, the defaults,
the doc fragment and the roles' argument specs all come from it and agree."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import copy
import json
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.doc_fragments import cluster_spec as fragment
from ansible_collections.safespring.netsec.plugins.filter import cluster_spec as cluster_spec_filter
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from tools import cluster_spec as gen

REPO = pathlib.Path(__file__).resolve().parents[4]
ENVIRONMENTS = ("lab", "dev", "staging", "prod")
# Recorded with the hand-written validator this schema replaced (same data, same flows).
MODELS = json.loads((pathlib.Path(__file__).parent / "data" / "cluster_models.json").read_text())
# Every key set, egress.extra with and without protocol/port_max/roles.
EVERY_KEY = {
    "name": "full_1", "ip_versions": [6, 4],
    "cni": {"tunnel": "geneve", "wireguard": False, "health": False, "hubble": True},
    "talos": {"kubespan": True},
    "loadbalancer": {"ha_mode": "vrrp", "bgp_peers": ["198.51.100.1"], "bfd": False, "ingress_cidrs": ["203.0.113.0/24", "2001:db8:1::/48"],
                     "api_cidrs": ["192.0.2.7/28"], "nodeport_targets": ["control_plane", "worker"], "vrrp_addresses": ["10.0.0.100", "fd00::64"]},
    "jump_host": {"enabled": True, "admin_cidrs": ["192.0.2.0/28", "2001:db8:100::/56"]},
    "egress": {"restrict": ["control_plane", "worker", "loadbalancer", "jump_host"], "dns": ["192.0.2.53"], "ntp": ["192.0.2.123/32"],
               "registries": ["203.0.113.0/24"], "oidc_issuer": ["198.51.100.10/32"],
               "extra": [{"name": "syslog", "protocol": "udp", "port": 514, "cidrs": ["192.0.2.14/32"]},
                         {"name": "s3", "port": "8080", "port_max": 8090, "cidrs": ["198.51.100.0/24"], "roles": ["worker", "jump_host"]},
                         {"name": "none-yet", "port": 9000}]},
}
# The defaults as the hand-written _DEFAULTS had them.
OLD_DEFAULTS = {
    "name": None,
    "ip_versions": [4, 6],
    "cni": {"tunnel": "vxlan", "wireguard": True, "health": True, "hubble": True},
    "talos": {"kubespan": False},
    "loadbalancer": {"ha_mode": "bgp", "bgp_peers": ["169.254.169.254/32"], "bfd": True, "ingress_cidrs": ["0.0.0.0/0", "::/0"],
                     "api_cidrs": [], "nodeport_targets": ["worker"], "vrrp_addresses": []},
    "jump_host": {"enabled": True, "admin_cidrs": []},
    "egress": {"restrict": [], "dns": [], "ntp": [], "registries": [], "oidc_issuer": [], "extra": []},
}
MAPPING_LEVELS = ("", "cni", "talos", "loadbalancer", "jump_host", "egress", "egress.extra[0]")


def inventory_cluster(env):
    return yaml.safe_load((REPO / "inventories" / env / "group_vars" / "all" / "netsec.yml").read_text())["netsec_cluster"]


def model(raw):
    spec = pm.ClusterSpec.from_dict(raw)
    data = json.loads(json.dumps(spec.data, default=lambda o: o._asdict()))
    return {"data": data, "flows": [pm.describe(f) + " " + repr((f.source, f.destination)) for f in pm.flows(spec)]}


def base():
    return {"name": "c1", "egress": {"extra": [{"name": "x", "port": 1}]}}


def at(data, level):
    """The mapping at a dotted level of `data` ('' is the top, 'egress.extra[0]' a list item)."""
    node = data
    for part in filter(None, level.replace("[0]", ".0").split(".")):
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    return node


def refused(raw, field="cluster"):
    with pytest.raises(NetsecError) as err:
        pm.ClusterSpec.from_dict(raw, field=field)
    return err.value


def leaves(option=pm.CLUSTER_SCHEMA, path="cluster"):
    """(path, Option) of every non-mapping option, list items of mappings as [0]."""
    for name, sub in option.options:
        sub_path = "%s.%s" % (path, name)
        if sub.kind == "dict":
            yield from leaves(sub, sub_path)
        elif sub.elements == "dict":
            yield from leaves(sub, sub_path + "[0]")
        else:
            yield sub_path, sub


def put(path, value):
    """base() with `value` written at a leaf path like cluster.egress.extra[0].port."""
    data = base()
    parts = path.split(".")[1:]
    at(data, ".".join(parts[:-1]))[parts[-1]] = value
    return data


# --- the inventories: accepted, and the same model as before ------------------------------

@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_inventory_cluster_gives_the_same_model_as_before_the_schema(env):
    assert model(inventory_cluster(env)) == MODELS[env]


def test_every_key_spec_gives_the_same_model_as_before_the_schema():
    assert model(EVERY_KEY) == MODELS["every-key"]


def test_defaults_come_from_the_schema_and_are_unchanged():
    assert pm._DEFAULTS == pm.CLUSTER_SCHEMA.defaults() == OLD_DEFAULTS
    assert pm.ClusterSpec.from_dict({"name": "c1"}).data == dict(copy.deepcopy(OLD_DEFAULTS), name="c1")


def test_validation_does_not_change_the_input():
    raw = copy.deepcopy(EVERY_KEY)
    pm.ClusterSpec.from_dict(raw)
    assert raw == EVERY_KEY


# --- unknown keys, types, ranges --------------------------------------------------------

def level_option(level):
    option = pm.CLUSTER_SCHEMA
    for part in filter(None, level.replace("[0]", "").split(".")):
        option = dict(option.options)[part]
    return option


@pytest.mark.parametrize("level", MAPPING_LEVELS)
def test_unknown_key_is_refused_at_every_level_naming_its_path_and_the_allowed_keys(level):
    data = base()
    at(data, level)["bogus"] = 1
    err = refused(data, field="security_groups_cluster")
    where = "security_groups_cluster" + ("." + level if level else "")
    assert err.field == where + ".bogus"
    assert err.message == "unknown key"
    assert err.fix == "the keys of %s are %s" % (where, ", ".join(name for name, dummy in level_option(level).options))


def test_unknown_keys_fix_lists_the_allowed_keys_of_that_level():
    err = refused({"name": "c1", "loadbalancer": {"api_cidr": ["192.0.2.0/24"], "bpg_peers": []}})
    assert str(err) == ("cluster.loadbalancer.api_cidr: unknown key; so are cluster.loadbalancer.bpg_peers (the keys of cluster.loadbalancer"
                        " are ha_mode, bgp_peers, bfd, ingress_cidrs, api_cidrs, nodeport_targets, vrrp_addresses)")


@pytest.mark.parametrize("path, option", list(leaves()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_wrong_type_is_refused_at_every_leaf_naming_it(path, option):
    wrong = {"bool": "yes", "str": ["x"], "int": "eighty", "list": "192.0.2.0/24"}[option.kind]
    err = refused(put(path, wrong))
    assert err.field == path
    if option.kind == "list":
        # Lists are checked item by item: a mapping is no CIDR, no role and no IP family.
        assert refused(put(path, [{"a": 1}])).field == path + "[0]"


@pytest.mark.parametrize("path, value", [
    ("cluster.name", "bad name!"), ("cluster.name", "-lead"), ("cluster.name", "x" * 64), ("cluster.name", "k\u00e4se"),
    ("cluster.ip_versions[0]", 5), ("cluster.ip_versions[0]", 4.0), ("cluster.ip_versions[0]", True), ("cluster.ip_versions[0]", "4"),
    ("cluster.cni.tunnel", "VXLAN"), ("cluster.loadbalancer.ha_mode", "anycast"), ("cluster.cni.wireguard", 1),
    ("cluster.loadbalancer.api_cidrs[0]", "10.0.0.300/24"), ("cluster.loadbalancer.api_cidrs[0]", "192.0.2.0/24\n"),
    ("cluster.loadbalancer.api_cidrs[0]", 167772160), ("cluster.loadbalancer.nodeport_targets[0]", "loadbalancer"),
    ("cluster.egress.restrict[0]", "router"), ("cluster.egress.extra[0].port", 0), ("cluster.egress.extra[0].port", 70000),
    ("cluster.egress.extra[0].port", True), ("cluster.egress.extra[0].port", "80-"), ("cluster.egress.extra[0].protocol", "icmp"),
    ("cluster.egress.extra[0].name", "a\nb"), ("cluster.egress.extra[0].name", "../x"), ("cluster.egress.extra[0].roles[0]", "all"),
])
def test_bad_values_are_refused_naming_the_path(path, value):
    leaf = path.rsplit("[0]", 1)[0] if path.endswith("[0]") else path
    err = refused(put(leaf, [value] if leaf != path else value))
    assert err.field == path
    assert str(err).startswith(path + ": ") and "\n" not in str(err)


def test_required_keys_and_cross_field_rules():
    assert refused({}).field == "cluster.name"
    assert refused({"name": "c1", "egress": {"extra": [{"port": 1}]}}).field == "cluster.egress.extra[0].name"
    assert refused({"name": "c1", "egress": {"extra": [{"name": "x"}]}}).field == "cluster.egress.extra[0].port"
    assert refused({"name": "c1", "egress": {"extra": [{"name": "x", "port": 90, "port_max": 80}]}}).field == "cluster.egress.extra[0].port_max"
    assert refused({"name": "c1", "ip_versions": []}).field == "cluster.ip_versions"
    assert refused({"name": "c1", "loadbalancer": {"bgp_peers": []}}).field == "cluster.loadbalancer.bgp_peers"
    assert refused({"name": "c1", "cni": []}).field == "cluster.cni"
    assert refused(["name"]).field == "cluster"
    assert refused(None).field == "cluster"


# Payload alphabet of the hostile-input suite: line breaks, quotes, braces, shell, '..', U+2028/9.
# (No key of the schema can be spelled from it: every generated key is unknown.)
HOSTILE = st.lists(st.sampled_from(list("ab:/.-_ \n\r\t\"'{}[];$()`\\") + ["..", "\u2028", "\u2029", "\x00", "\u00e4"]),
                   min_size=1, max_size=40).map("".join)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(level=st.sampled_from(MAPPING_LEVELS), key=HOSTILE)
def test_a_hostile_key_at_any_level_is_refused_on_one_line(level, key):
    data = base()
    at(data, level)[key] = "x"
    err = refused(data)
    prefix = "cluster" + ("." + level if level else "")
    assert err.field.startswith(prefix + ".") or err.field.startswith(prefix + "[")
    assert err.message == "unknown key"
    assert not any(c in str(err) for c in "\n\r\x00\u2028\u2029")


def test_a_long_or_odd_key_is_shown_short_and_quoted():
    err = refused({"name": "c1", "cni": {"x" * 4096: 1, "a.b": 2, 5: 3}})
    assert err.field == "cluster.cni['%s...]" % ("x" * 36)
    assert "cluster.cni['a.b']" in err.message and "cluster.cni[5]" in err.message
    assert len(str(err)) < 300


CIDR_FIELDS = [p for p, o in leaves() if o.kind == "list" and o.elements == "str" and o.choices is None]


@settings(max_examples=1000, deadline=None)
@given(path=st.sampled_from(CIDR_FIELDS), good=st.sampled_from(["192.0.2.0/24", "2001:db8::/64", "198.51.100.7"]), bad=HOSTILE)
def test_a_hostile_cidr_is_refused_naming_its_index(path, good, bad):
    err = refused(put(path, [good, bad + "/x"]))
    assert err.field == path + "[1]"
    assert not any(c in str(err) for c in "\n\r\x00\u2028\u2029")


def test_cidr_lists_cover_every_address_field():
    assert sorted(CIDR_FIELDS) == sorted([
        "cluster.loadbalancer.bgp_peers", "cluster.loadbalancer.ingress_cidrs", "cluster.loadbalancer.api_cidrs",
        "cluster.loadbalancer.vrrp_addresses", "cluster.jump_host.admin_cidrs", "cluster.egress.dns", "cluster.egress.ntp",
        "cluster.egress.registries", "cluster.egress.oidc_issuer", "cluster.egress.extra[0].cidrs"])


# --- the YAML copies: doc fragment, roles' argument specs ---------------------------------

def test_doc_fragment_is_the_schema():
    assert yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION) == {"options": {"cluster": pm.CLUSTER_SCHEMA.doc(required=False)}}
    assert yaml.safe_load(fragment.ModuleDocFragment.REQUIRED) == {"options": {"cluster": {"required": True}}}


@pytest.mark.parametrize("role, var", sorted(gen.ROLE_VARS.items()))
def test_role_argument_spec_of_the_cluster_is_the_schema(role, var):
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())
    assert specs["argument_specs"]["main"]["options"][var] == pm.CLUSTER_SCHEMA.argument_spec(required=True)


def test_generated_copies_are_up_to_date():
    stale = [str(path.relative_to(REPO)) for path, text in gen.expected_files().items() if path.read_text() != text]
    assert not stale, "run python tests/tools/cluster_spec.py"


def test_every_role_taking_a_cluster_spec_is_generated():
    found = {}
    for path in sorted(REPO.glob("roles/*/meta/argument_specs.yml")):
        options = yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"]
        found.update((path.parts[-3], var) for var in options if var.endswith("_cluster"))
    assert found == gen.ROLE_VARS


def _module_cluster_option(path):
    """(DOCUMENTATION as data, the cluster=dict(...) keywords of the argument spec or None)."""
    tree = ast.parse(path.read_text())
    doc = next(yaml.safe_load(node.value.value) for node in tree.body
               if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION")
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "cluster" and isinstance(node.value, ast.Call):
            return doc, dict((k.arg, ast.literal_eval(k.value)) for k in node.value.keywords)
    return doc, None


MODULES = sorted(p for p in (REPO / "plugins" / "modules").glob("*.py") if _module_cluster_option(p)[1] is not None)


def test_the_six_modules_taking_a_cluster_spec_are_found():
    assert [p.stem for p in MODULES] == ["cilium_baseline_policies", "cilium_install", "exposure_proof", "port_address_pairs", "security_group",
                                         "talos_machine_config"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_modules_taking_a_cluster_spec_document_it_with_the_fragment_only(path):
    doc, spec = _module_cluster_option(path)
    fragments = doc["extends_documentation_fragment"]
    assert "cluster" not in doc["options"], "document cluster through safespring.netsec.cluster_spec, not prose"
    assert "safespring.netsec.cluster_spec" in fragments
    assert ("safespring.netsec.cluster_spec.REQUIRED" in fragments) == bool(spec.get("required"))
    # type dict, validated by ClusterSpec.from_dict (paths as the user wrote them), no Ansible coercion before it.
    assert set(spec) - {"required"} == {"type"} and spec["type"] == "dict"


# --- Ansible's own gate at role start agrees with the model -------------------------------

ROLE_GATE = ArgumentSpecValidator({"security_groups_cluster": pm.CLUSTER_SCHEMA.argument_spec(required=True)})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_role_argument_spec_accepts_the_inventories(env):
    assert ROLE_GATE.validate({"security_groups_cluster": inventory_cluster(env)}).error_messages == []


def test_role_argument_spec_refuses_unknown_keys_naming_the_path():
    data = base()
    data["loadbalancer"] = {"api_cidr": []}
    messages = ROLE_GATE.validate({"security_groups_cluster": data}).error_messages
    assert len(messages) == 1 and messages[0].startswith("security_groups_cluster.loadbalancer.api_cidr.")


def _valid_specs():
    cidrs = st.lists(st.sampled_from(["192.0.2.0/24", "2001:db8::/64", "198.51.100.7", "10.1.2.3/8"]), max_size=3)
    roles = st.lists(st.sampled_from(pm.ROLES), max_size=4, unique=True)
    section = st.fixed_dictionaries
    extra = section({"name": st.sampled_from(["syslog", "s3"]), "port": st.integers(1, 1000)},
                    optional={"protocol": st.sampled_from(["tcp", "udp"]), "port_max": st.integers(1000, 65535), "cidrs": cidrs, "roles": roles})
    return section({"name": st.sampled_from(["c1", "prod", "a_b-9"])}, optional={
        "ip_versions": st.lists(st.sampled_from([4, 6]), min_size=1, max_size=2, unique=True),
        "cni": section({}, optional={"tunnel": st.sampled_from(["vxlan", "geneve", "native"]), "wireguard": st.booleans(),
                                     "health": st.booleans(), "hubble": st.booleans()}),
        "talos": section({}, optional={"kubespan": st.booleans()}),
        "loadbalancer": section({}, optional={"ha_mode": st.sampled_from(["vrrp", "none"]), "bfd": st.booleans(), "ingress_cidrs": cidrs,
                                              "api_cidrs": cidrs, "vrrp_addresses": cidrs,
                                              "nodeport_targets": st.lists(st.sampled_from(pm.NODE_ROLES), max_size=2, unique=True)}),
        "jump_host": section({}, optional={"enabled": st.booleans(), "admin_cidrs": cidrs}),
        "egress": section({}, optional={"restrict": roles, "dns": cidrs, "extra": st.lists(extra, max_size=2)}),
    })


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=_valid_specs())
def test_what_the_model_accepts_the_role_gate_accepts_and_defaults_spelled_out_change_nothing(raw):
    spec = pm.ClusterSpec.from_dict(raw)
    assert ROLE_GATE.validate({"security_groups_cluster": copy.deepcopy(raw)}).error_messages == []
    # Writing every default out gives the same model as leaving it unset.
    explicit = copy.deepcopy(pm._DEFAULTS)
    for key, value in raw.items():
        if isinstance(value, dict):
            explicit[key].update(value)
        else:
            explicit[key] = value
    assert pm.ClusterSpec.from_dict(explicit).data == spec.data
    # What the cluster_spec filter returns is a spec giving the same model again.
    checked = cluster_spec_filter.cluster_spec(copy.deepcopy(raw), "netsec_cluster")
    assert pm.ClusterSpec.from_dict(checked).data == spec.data
    assert json.loads(json.dumps(checked)) == checked  # plain data a role can keep


def test_cluster_spec_filter_names_the_role_variable_and_fills_the_defaults():
    with pytest.raises(AnsibleFilterError) as err:
        cluster_spec_filter.cluster_spec({"name": "c1", "jump_host": {"admin_cidrs": ["192.0.2.0/24", "x"]}}, "security_groups_cluster")
    assert str(err.value).startswith("cluster_spec: security_groups_cluster.jump_host.admin_cidrs[1]: 'x' is not")
    checked = cluster_spec_filter.cluster_spec({"name": "c1", "egress": {"extra": [{"name": "s3", "port": "443"}]}})
    assert checked["loadbalancer"]["ingress_cidrs"] == ["0.0.0.0/0", "::/0"]
    assert checked["egress"]["extra"] == [{"name": "s3", "protocol": "tcp", "port": 443, "port_max": 443, "cidrs": [],
                                           "roles": ["control_plane", "worker"]}]
