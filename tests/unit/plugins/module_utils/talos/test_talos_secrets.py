# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every secret path of the Talos config schemas is redacted: in documents (diffs, results),
in YAML text and unified diffs (talosctl's dry run), in schema errors, and the values are
handed to Ansible to mask wherever else they appear."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import json

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import schema as S
from ansible_collections.safespring.netsec.plugins.module_utils.talos import secrets as SEC
from ansible_collections.safespring.netsec.plugins.modules import talos_machine_config as M

from fixtures.talos import SCHEMAS, schema

ADDRESSES = {"control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"], "loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5"]}


def _set(doc, pattern, value):
    """Put `value` at a SECRET_PATHS pattern ('*' -> a key, '[]' -> the first item)."""
    node = doc
    parts = list(pattern)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if part == "[]":
            continue
        key = "host.example" if part == "*" else part
        if last:
            node[key] = value
        elif nxt == "[]":
            node[key] = [{}]
            node = node[key][0]
        else:
            node = node.setdefault(key, {})
    return doc


def cases():
    for kind, patterns in sorted(SEC.SECRET_PATHS.items()):
        for pattern in patterns:
            yield kind, pattern


CASES = list(cases())
IDS = ["%s:%s" % (k, ".".join(p)) for k, p in CASES]


def document(kind, pattern, value):
    base = {"version": "v1alpha1"} if kind == "v1alpha1" else {"apiVersion": "v1alpha1", "kind": kind, "name": "n1"}
    return _set(base, pattern, value)


@pytest.mark.parametrize("kind, pattern", CASES, ids=IDS)
def test_every_secret_path_is_redacted_in_documents_values_and_text(kind, pattern):
    secret = "S3cr3t-%s-value" % "-".join(p for p in pattern if p not in ("*", "[]"))
    doc = document(kind, pattern, secret)
    assert secret not in json.dumps(SEC.redact([doc])) and SEC.REDACTED in json.dumps(SEC.redact([doc]))
    assert secret in SEC.values([doc])
    text = D.dump([doc])
    assert secret in text
    assert secret not in SEC.redact_text(text), "line redaction alone (the running config's secrets are in no file)"
    diff = "".join(difflib.unified_diff(D.dump([document(kind, pattern, "old-" + secret)]).splitlines(True), text.splitlines(True), "a", "b"))
    assert secret not in SEC.redact_text(diff) and "old-" + secret not in SEC.redact_text(diff)


@pytest.mark.parametrize("kind, pattern", CASES, ids=IDS)
def test_every_secret_path_in_a_patch_is_found_for_masking(kind, pattern):
    secret = "p4tch-%d" % len(pattern)
    assert secret in SEC.patch_values([("strategic", [document(kind, pattern, secret)], None)])


def test_multi_line_secrets_are_redacted_line_by_line_in_a_diff():
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    doc = {"apiVersion": "v1alpha1", "kind": "RegistryTLSConfig", "name": "r", "clientIdentity": {"crt": "CRT", "key": pem}}
    text = SEC.redact_text(D.dump([doc]))
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in text and "crt: CRT" in text
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" in SEC.values([doc])


def test_json6902_values_at_secret_paths_are_found():
    ops = [{"op": "add", "path": "/cluster/secret", "value": "jp-secret"},
           {"op": "add", "path": "/machine/ca", "value": {"crt": "public", "key": "jp-key"}}]
    found = SEC.patch_values([("json6902", ops, None)])
    assert {"jp-secret", "jp-key"} <= found and "public" not in found


def test_public_material_is_left_alone():
    doc = {"version": "v1alpha1", "machine": {"ca": {"crt": "LS0tQ1JU"}, "certSANs": ["a"]},
           "cluster": {"clusterName": "c1", "id": "aWQ="}}
    assert SEC.redact([doc]) == [doc] and SEC.values([doc]) == set()


def test_a_schema_error_never_echoes_a_secret():
    docs = [{"version": "v1alpha1", "machine": {"type": "worker", "token": ["tok3n-in-a-list"]}},
            {"apiVersion": "v1alpha1", "kind": "RegistryAuthConfig", "name": "r.example", "password": 12345678}]
    problems = S.errors(docs, schema("1.13"))
    text = json.dumps(problems)
    assert problems and "tok3n-in-a-list" not in text and "12345678" not in text
    assert "a secret, not shown" in text


def test_key_material_where_its_mapping_belongs_is_treated_as_a_secret():
    docs = [{"version": "v1alpha1", "machine": {"type": "worker"}, "cluster": {"ca": "K3Y-in-place-of-the-pair"}}]
    problems = S.errors(docs, schema("1.13"))
    assert problems and "K3Y-in-place-of-the-pair" not in json.dumps(problems)
    assert "K3Y-in-place-of-the-pair" in SEC.values(docs) and "K3Y" not in json.dumps(SEC.redact(docs))


def test_a_schema_error_message_is_masked_with_the_documents_secrets():
    docs = [{"version": "v1alpha1", "machine": {"type": "worker", "token": "t0ken-seen-twice"},
             "cluster": {"network": {"cni": {"name": "t0ken-seen-twice"}}}}]
    problems = S.errors(docs, schema("1.13"))
    assert problems[0][1] == "cluster.network.cni.name" and "is not one of" in problems[0][2]
    assert "t0ken-seen-twice" not in json.dumps(problems)


def test_a_schema_error_higher_up_does_not_echo_the_secret_below_it():
    docs = [{"version": "v1alpha1", "machine": {"type": "worker", "ca": {"crt": "x", "key": "k3y-below"}, "features": 5}}]
    with pytest.raises(NetsecError) as err:
        S.validate(docs, schema("1.13"))
    assert "k3y-below" not in str(err.value) and "k3y-below" not in json.dumps(err.value.extra)


def _params(**overrides):
    out = dict(dest="/nonexistent/w1.yaml", role="worker", node="w1", talos_version="1.13", cluster={"name": "c1"},
               addresses=ADDRESSES, firewall=True, default_action="block", admin_sources=[], hardening={}, patches=[],
               node_patches=[], schema_path=None, waivers=[], baseline_waivers=[])
    out.update(overrides)
    return out


def test_secrets_of_base_and_patches_are_masked_and_absent_from_the_module_diff():
    base = "version: v1alpha1\nmachine: {type: worker, token: base-t0ken}\ncluster: {secret: base-s3cret}\n"
    patches = [{"apiVersion": "v1alpha1", "kind": "WireguardConfig", "name": "wg0", "privateKey": "wg-pr1vate",
                "peers": [{"publicKey": "wg-public", "presharedKey": "wg-psk"}]},
               {"apiVersion": "v1alpha1", "kind": "RegistryAuthConfig", "name": "reg.example",
                "username": "u", "password": "reg-p4ss", "auth": "reg-4uth", "identityToken": "reg-1d"},
               "machine:\n  ca: {crt: c, key: text-patch-key}\n"]
    params = _params(patches=patches)
    docs, _report = M.render(params, base)
    shown = M._diff_text(docs)
    masked = M.secret_strings(params, D.load(base))
    for secret in ("base-t0ken", "base-s3cret", "wg-pr1vate", "wg-psk", "reg-p4ss", "reg-4uth", "reg-1d", "text-patch-key"):
        assert secret not in shown, secret
    assert {"wg-pr1vate", "wg-psk", "reg-p4ss", "reg-4uth", "reg-1d", "text-patch-key"} <= masked
    assert "wg-public" in shown and "wg-public" not in masked and "u" not in masked


def test_a_patch_that_does_not_parse_is_masked_whole():
    bad = "machine: {token: x, [unclosed"
    assert bad in M.secret_strings(_params(patches=[bad]), None)


def test_every_secret_kind_exists_in_a_supported_schema():
    kinds = set()
    for path in SCHEMAS.values():
        data = json.loads(path.read_text())
        for ref in data["oneOf"]:
            kinds.update(data["$defs"][ref["$ref"].rsplit("/", 1)[-1]]["properties"].get("kind", {}).get("enum", []))
    assert set(SEC.SECRET_PATHS) - {"v1alpha1"} <= kinds
