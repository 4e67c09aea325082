"""Every Talos config the collection produces, checked by Talos' own code of each release.

talos-validate (tests/tools/talos/validate, built by the fixture through build.sh, cached)
links github.com/siderolabs/talos/pkg/machinery 1.13.9 or 1.14.0-alpha.2: configloader loads
every document as a node does (unknown fields and kinds refused), strict validation runs for
the runtime modes we target (metal, cloud: Safespring is OpenStack), and configpatcher applies
our test patches so that patch.py is compared with Talos' merge. The module uses the same
program as its optional validator (talos_validator), before anything is written.
"""
import json
import os
import pathlib
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import patch as P
from ansible_collections.safespring.netsec.plugins.module_utils.talos import validator as V

from fixtures.talos import BASES, CASES, INVENTORIES, inventory_configs, produce, talos_tool

REPO = pathlib.Path(__file__).resolve().parents[2]
MODES = ("metal", "cloud")
# A config built without a gen-config base is a fragment: it lacks what only `talosctl gen config`
# has (CA, endpoint, install disk). Talos must still load every document; these are all it may miss.
NEEDS_BASE = {
    "cluster controlplane endpoint is required",
    "cluster instructions are required",
    'install instructions are required in "metal" mode',
    "issuing CA is required (.machine.ca)",
    "issuing CA or some accepted CAs are required (.machine.ca, machine.acceptedCAs)",
    "etcd encryption config is required for control plane machines",
}


def produced(version):
    """(id, docs, has_base) of every config of `version`: the builder's matrix and the inventories."""
    out = [("-".join(str(x) for x in case), produce(*case), case[3]) for case in CASES if case[0] == version]
    for name in INVENTORIES:
        out += [("%s/%s" % (name, node), docs, True) for node, v, docs in inventory_configs(name) if v == version]
    return out


def test_more_than_80_configs_over_both_releases_and_every_inventory_are_checked():
    ids = [i for v in ("1.13", "1.14") for i, _d, _b in produced(v)]
    assert len(ids) >= 80 and len(set(ids)) == len(ids)
    assert set(i.split("/")[0] for i in ids if "/" in i) == set(INVENTORIES)


@pytest.mark.parametrize("version", ["1.13", "1.14"])
def test_every_produced_config_passes_talos_own_strict_validation(talos_validators, version):
    validator = talos_validators[version]
    configs = produced(version)
    answer = validator.check([{"id": i, "config": D.dump(docs)} for i, docs, _b in configs], MODES,
                             skip_unregistered=version == "1.14")
    release = answer["talos"]
    assert release.startswith("v%s." % version)
    gaps = set(V.PRERELEASE_GAPS) if V.is_prerelease(release) else set()
    failures = {}
    for (item_id, docs, has_base), result in zip(configs, answer["items"]):
        assert result["id"] == item_id
        allowed = gaps | (set() if has_base else NEEDS_BASE)
        errors = sorted(set("%s: %s" % (m, e) for m in MODES for e in result["modes"][m]["errors"] if e not in allowed))
        if result.get("load_error") or errors:
            failures[item_id] = result.get("load_error") or errors
        # What Talos loaded is every document we wrote (less the kinds a pre-release does not know).
        assert len(result["documents"]) + len(result.get("unregistered") or []) == len(docs), item_id
    assert failures == {}
    if version == "1.13":
        assert not any(r.get("unregistered") for r in answer["items"]), "1.13.9 knows every kind we write"


def _rule(subnet, ports=(50000,)):
    return {"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "broken",
            "portSelector": {"ports": list(ports), "protocol": "tcp"}, "ingress": [{"subnet": subnet}]}


BROKEN = {
    "rule-with-invalid-subnet": (lambda docs: docs + [_rule("10.0.0.0/33")], "prefix length out of range"),
    "unknown-v1alpha1-field": (lambda docs: [dict(d, machine=dict(d["machine"], kubeletx={})) if "machine" in d else d for d in docs],
                               "kubeletx"),
    "rule-without-ports": (lambda docs: docs + [_rule("10.0.0.0/24", ports=())], "portSelector.ports"),
}


@pytest.mark.parametrize("version", ["1.13", "1.14"])
@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_deliberately_broken_configs_are_refused_by_talos(talos_validators, version, breakage):
    spoil, needle = BROKEN[breakage]
    good = produce(version, "control_plane", "structured", True, "block", False)
    assert talos_validators[version].validate(good, MODES)["talos"].startswith("v" + version)
    with pytest.raises(NetsecError) as err:
        talos_validators[version].validate(spoil(good), MODES)
    assert err.value.field == "config" and needle in err.value.message, err.value.message
    if breakage.startswith("rule-with"):
        assert "NetworkRuleConfig/broken" in err.value.message, "Talos names the document"


# Patches as the collection's tests and inventories write them: strategic merges of v1alpha1 and of
# named documents (replace-merged fields included), deletes, new documents and JSON6902.
PATCHES = {
    "node-label": [{"machine": {"nodeLabels": {"topology.kubernetes.io/zone": "a"}}}],
    "lists-append-maps-merge": ["machine:\n  certSANs: [b.example, a.example]\n  kubelet: {extraArgs: {x: y}}\n"],
    "later-wins": [{"cluster": {"clusterName": "one"}}, {"cluster": {"clusterName": "two"}}],
    "delete-key": [{"machine": {"kubelet": {"$patch": "delete"}}}],
    "rule-ingress-replaced": ["apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: talos-apid\ningress: [{subnet: 10.0.0.2/32}]\n"],
    "rule-ports-replaced": ["apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: talos-apid\nportSelector: {ports: [50000, 50001]}\n"],
    "rule-delete-and-add": ["apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: talos-apid\n$patch: delete\n---\n"
                            "apiVersion: v1alpha1\nkind: NetworkRuleConfig\nname: hubble\n"
                            "portSelector: {ports: [4244], protocol: tcp}\ningress: [{subnet: 198.18.1.0/24}]\n"],
    "default-action-json6902": [{"type": "json6902", "document": {"kind": "NetworkDefaultActionConfig"},
                                 "patch": [{"op": "replace", "path": "/ingress", "value": "accept"}]}],
    "json6902-v1alpha1": [[{"op": "add", "path": "/machine/certSANs", "value": ["c.example"]},
                           {"op": "add", "path": "/machine/certSANs/-", "value": "d.example"},
                           {"op": "remove", "path": "/machine/certSANs/0"}]],
    "json6902-on-named-document": [{"type": "json6902", "document": {"kind": "NetworkRuleConfig", "name": "talos-apid"},
                                    "patch": [{"op": "add", "path": "/ingress/-", "value": {"subnet": "192.0.2.9/32"}}]}],
}
PATCHES_113 = {
    "v113-replace-merged": [{"cluster": {"network": {"podSubnets": ["10.0.0.0/16"]},
                                         "apiServer": {"extraArgs": {"audit-log-maxage": "7"},
                                                       "admissionControl": [{"name": "PodSecurity",
                                                                             "configuration": {"defaults": {"enforce": "baseline"}}},
                                                                            {"name": "EventRateLimit"}]}}}],
}
PATCHES_114 = {
    "v114-apiserver-args": [{"apiVersion": "v1alpha1", "kind": "KubeAPIServerConfig", "extraArgs": {"audit-log-maxage": "7"}}],
}


def patch_cases(version):
    bases = [("%s-%s" % (role, use_base), produce(version, role, "structured", use_base, "block", False))
             for role in ("control_plane", "worker") for use_base in (True, False)]
    bases.append(("gen-config-base", D.load(BASES[version]["control_plane"])))
    for name in INVENTORIES:
        bases += [("%s/%s" % (name, node), docs) for node, v, docs in inventory_configs(name)[:1] if v == version]
    patches = dict(PATCHES, **(PATCHES_113 if version == "1.13" else PATCHES_114))
    for base_id, docs in bases:
        for patch_id, patch_list in sorted(patches.items()):
            if patch_id.startswith("rule-") or patch_id == "json6902-on-named-document":
                if not D.find(docs, "NetworkRuleConfig", "talos-apid"):
                    continue
            if patch_id.startswith("default-action") and not D.find(docs, "NetworkDefaultActionConfig"):
                continue
            yield "%s+%s" % (base_id, patch_id), docs, patch_list


@pytest.mark.parametrize("version", ["1.13", "1.14"])
def test_patch_py_gives_what_talos_configpatcher_gives_on_every_test_patch(talos_validators, version):
    items = []
    for item_id, docs, patch_list in patch_cases(version):
        parsed = P.parse_patches(patch_list)
        items.append(V.patch_item(item_id, docs, parsed, P.apply_patches(docs, patch_list)))
    assert len(items) >= 60
    answer = talos_validators[version].check(items, MODES, skip_unregistered=version == "1.14")
    differ = {}
    for r in answer["items"]:
        if not r["patch"]["equal"]:
            talos, ours = r["patch"].get("result") or {}, r["patch"].get("expected") or {}
            differ[r["id"]] = r["patch"].get("error") or dict((k, (talos.get(k), ours.get(k))) for k in set(talos) | set(ours)
                                                              if talos.get(k) != ours.get(k))
    assert differ == {}


def test_the_cross_check_fails_when_patch_py_merges_differently(talos_validators):
    # Appending to NetworkRuleConfig.ingress (our old merge) is what Talos does not do.
    docs = produce("1.13", "control_plane", "none", True, "block", False)
    patch_list = PATCHES["rule-ingress-replaced"]
    ours = P.apply_patches(docs, patch_list)
    appended = [dict(d, ingress=D.find(docs, "NetworkRuleConfig", "talos-apid")["ingress"] + d["ingress"])
                if d.get("name") == "talos-apid" else d for d in ours]
    items = [V.patch_item("ours", docs, P.parse_patches(patch_list), ours), V.patch_item("appended", docs, P.parse_patches(patch_list), appended)]
    answer = talos_validators["1.13"].check(items, MODES)
    assert [r["patch"]["equal"] for r in answer["items"]] == [True, False]


def test_talos_ignores_a_strategic_default_action_accept_so_patch_py_refuses_it(talos_validators):
    docs = produce("1.13", "control_plane", "none", True, "block", False)
    patch_list = [{"apiVersion": "v1alpha1", "kind": "NetworkDefaultActionConfig", "ingress": "accept"}]
    answer = talos_validators["1.13"].check([V.patch_item("accept", docs, P.parse_patches(patch_list), docs)], MODES)
    assert answer["items"][0]["patch"]["equal"], "Talos leaves ingress: block (accept is the zero value)"
    with pytest.raises(NetsecError, match="ignores ingress: accept") as err:
        P.apply_patches(docs, patch_list)
    assert err.value.field == "patches[0].ingress" and "JSON6902" in err.value.fix


# The module's optional validator, through ansible-playbook: one run, several tasks.
SECRET = "c2VjcmV0LXNlY3JldA=="  # cluster.secret of the 1.13 base: never in any output
CLUSTER = {"name": "c1", "ip_versions": [4]}
ADDRESSES = {"control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"], "loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5"]}
PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  module_defaults:
    safespring.netsec.talos_machine_config:
      role: control_plane
      talos_version: "1.13"
      base_path: "{{ base }}"
      cluster: "{{ cluster }}"
      addresses: "{{ addresses }}"
      talos_validator_path: "{{ validator }}"
  tasks:
    - {name: good, safespring.netsec.talos_machine_config: {dest: "{{ out }}/good.yaml", talos_validator: required}, register: good}
    - name: good in check mode
      safespring.netsec.talos_machine_config: {dest: "{{ out }}/check.yaml", talos_validator: required}
      check_mode: true
      register: good_check
    - name: broken
      safespring.netsec.talos_machine_config:
        dest: "{{ out }}/broken.yaml"
        node_patches: [{machine: {kubeletx: {}}}]
      register: broken
      ignore_errors: true
    - name: broken in check mode
      safespring.netsec.talos_machine_config:
        dest: "{{ out }}/broken.yaml"
        node_patches: [{machine: {install: {$patch: delete}}}]
        talos_validator_modes: [metal, cloud]
      check_mode: true
      register: broken_check
      ignore_errors: true
    - name: required but absent
      safespring.netsec.talos_machine_config: {dest: "{{ out }}/absent.yaml", talos_validator: required, talos_validator_path: /nonexistent/tv}
      register: absent
      ignore_errors: true
    - name: auto and named but absent
      safespring.netsec.talos_machine_config: {dest: "{{ out }}/auto-named.yaml", talos_validator_path: /nonexistent/tv}
      register: auto_named
      ignore_errors: true
    - name: auto and not named
      safespring.netsec.talos_machine_config: {dest: "{{ out }}/auto.yaml", talos_validator_path: null}
      register: auto
    - name: wrong release
      safespring.netsec.talos_machine_config: {dest: "{{ out }}/wrong.yaml", talos_validator: required, talos_validator_path: "{{ validator_114 }}"}
      register: wrong
      ignore_errors: true
"""


def test_module_validator_fails_before_writing_and_reports_when_it_passes(talos_validators, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "base.yaml").write_text(BASES["1.13"]["control_plane"])
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    variables = {"out": str(tmp_path / "out"), "base": str(tmp_path / "base.yaml"), "cluster": CLUSTER, "addresses": ADDRESSES,
                 "validator": talos_validators["1.13"].binary, "validator_114": talos_validators["1.14"].binary}
    (tmp_path / "vars.json").write_text(json.dumps(variables))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_LOCALHOST_WARNING="False",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
               ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", "@" + str(tmp_path / "vars.json"), "--diff", "-vvv",
                           str(tmp_path / "site.yml")], capture_output=True, text=True, env=env, timeout=300, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    res = dict((t["task"]["name"], t["hosts"]["localhost"]) for p in data["plays"] for t in p["tasks"])
    assert set(res) == {"good", "good in check mode", "broken", "broken in check mode", "required but absent",
                        "auto and named but absent", "auto and not named", "wrong release"}, proc.stderr[-2000:]

    good = res["good"]
    assert good["changed"] and good["talos_validation"]["talos"] == "v1.13.9" and good["talos_validation"]["modes"] == ["metal"]
    assert yaml.safe_load_all((tmp_path / "out" / "good.yaml").read_text())
    # Check mode and diff as without the validator: validated, predicted, redacted, nothing written.
    good_check = res["good in check mode"]
    assert good_check["changed"] and good_check["talos_validation"]["talos"] == "v1.13.9"
    assert "VALUE_REDACTED" in good_check["diff"]["after"] and not (tmp_path / "out" / "check.yaml").exists()

    broken = res["broken"]
    assert broken["failed"] and broken["field"] == "config"
    assert "Talos v1.13.9 cannot load the config" in broken["msg"] and "kubeletx" in broken["msg"] and "nothing was written" in broken["msg"]
    assert not (tmp_path / "out" / "broken.yaml").exists()
    # Without an install section our checks pass; Talos refuses it for metal (not cloud), in check mode too.
    check = res["broken in check mode"]
    assert check["failed"] and "refuses the config (strict validation)" in check["msg"] and \
        'metal: install instructions are required in "metal" mode' in check["msg"], \
        check["msg"]
    assert "cloud:" not in check["msg"] and check["field"] == "config"
    assert not (tmp_path / "out" / "broken.yaml").exists()

    absent = res["required but absent"]
    assert absent["failed"] and absent["field"] == "talos_validator_path" and "build.sh talos-validate-1.13" in absent["msg"]
    assert not (tmp_path / "out" / "absent.yaml").exists()
    # auto tolerates only a program never named: a named one that is missing is a typo, not a skip.
    named = res["auto and named but absent"]
    assert named["failed"] and named["field"] == "talos_validator_path" and "/nonexistent/tv" in named["msg"]
    assert not (tmp_path / "out" / "auto-named.yaml").exists()
    unnamed = res["auto and not named"]
    if shutil.which("talos-validate-1.13", path=env["PATH"]) is None:
        assert unnamed["changed"] and unnamed["talos_validation"] is None
    else:
        assert unnamed["changed"] and unnamed["talos_validation"]["talos"] == "v1.13.9"
    wrong = res["wrong release"]
    assert wrong["failed"] and "links Talos v1.14.0-alpha.2, the config targets Talos 1.13" in wrong["msg"]

    assert SECRET not in proc.stdout and SECRET not in proc.stderr, "the base config's secret leaked"


def test_validator_fixture_builds_through_build_sh_and_is_cached():
    first = talos_tool("talos-validate-1.13")
    assert first == talos_tool("talos-validate-1.13") and os.access(first, os.X_OK)
