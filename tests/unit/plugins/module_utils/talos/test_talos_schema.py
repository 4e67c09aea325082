# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every config the builder produces, checked against both Talos schemas in ../shared/specs.

A config for Talos 1.13 must validate against the 1.13.9 schema and be rejected by the 1.14
one (and the other way round): the two releases keep Kubernetes settings in different
places, so validating against the wrong release must not pass silently.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import schema as S

from fixtures.talos import CASES, OTHER, SCHEMA_PATHS, produce, schema


@pytest.mark.parametrize("case", CASES, ids=["-".join(str(x) for x in c) for c in CASES])
def test_every_produced_config_validates_against_its_release_and_not_the_other(case):
    docs = produce(*case)
    version = case[0]
    assert S.errors(docs, schema(version)) == []
    # Round trip through YAML: what is written is what was validated.
    assert S.errors(D.load(D.dump(docs)), schema(version)) == []
    assert S.errors(docs, schema(OTHER[version])), "the %s schema must reject a %s config" % (OTHER[version], version)


def test_v113_config_is_rejected_by_the_v114_schema_where_kubernetes_settings_moved():
    docs = produce("1.13", "control_plane", "none", True, "block", False)
    problems = dict((p[0], p) for p in S.errors(docs, schema("1.14")))
    label, path, message = problems["documents[0](v1alpha1)"]
    assert "Additional properties are not allowed" in message


def test_v114_documents_are_unknown_kinds_to_the_v113_schema():
    docs = produce("1.14", "worker", "none", False, "block", False)
    kinds = [p[2] for p in S.errors(docs, schema("1.13"))]
    assert "'KubePrismConfig' is not a document kind of Talos 1.13" in kinds


def test_schema_error_names_the_document_and_the_json_path():
    docs = produce("1.13", "worker", "none", True, "block", False)
    docs = D.put(docs, dict(D.find(docs, "NetworkRuleConfig", "kubelet"), portSelector={"ports": [10250], "protocol": "sctp"}))
    with pytest.raises(NetsecError) as err:
        S.validate(docs, schema("1.13"))
    index = [D.identity(d) for d in docs].index(("NetworkRuleConfig", "kubelet"))
    assert err.value.field == "config.documents[%d](NetworkRuleConfig/kubelet).portSelector.protocol" % index
    assert "'sctp' is not one of ['tcp', 'udp', 'icmp', 'icmpv6']" in err.value.message


def test_schema_error_deep_in_v1alpha1_names_the_path():
    docs = produce("1.13", "control_plane", "none", True, "block", False)
    D.main_document(docs)["machine"]["features"]["kubePrism"]["port"] = "7445"
    with pytest.raises(NetsecError) as err:
        S.validate(docs, schema("1.13"))
    assert err.value.field == "config.documents[0](v1alpha1).machine.features.kubePrism.port"


def test_a_subnet_talos_cannot_parse_fails_the_schema():
    docs = produce("1.14", "worker", "none", True, "block", False)
    rule = D.find(docs, "NetworkRuleConfig", "kubelet")
    rule["ingress"] = [{"subnet": "FD5A:FE:1::22/128"}]
    assert any(p[1] == "ingress[0].subnet" for p in S.errors(docs, schema("1.14")))


def test_schema_file_of_another_release_is_refused():
    with pytest.raises(NetsecError, match="is the schema of Talos 1.14, not 1.13") as err:
        S.load_schema(SCHEMA_PATHS["1.14"], "1.13")
    assert err.value.field == "schema_path"
    assert S.schema_version(S.load_schema(SCHEMA_PATHS["1.13"], "1.13")) == "1.13"


def test_a_file_that_is_not_the_talos_schema_is_refused(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"type": "object"}')
    with pytest.raises(NetsecError, match="not Talos's config.schema.json"):
        S.load_schema(str(path))
