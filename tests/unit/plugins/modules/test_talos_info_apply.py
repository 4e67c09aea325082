# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""talos_info's audit view of the nftables chains, and the redaction talos_apply puts on diffs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils.talos.secrets import REDACTED, redact, redact_text
from ansible_collections.safespring.netsec.plugins.modules.talos_info import firewall_facts

CHAIN = {"metadata": {"id": "ingress"}, "spec": {"policy": "drop", "rules": [
    {"matchIIfName": {"interfaceNames": ["lo"]}, "verdict": "accept"},
    {"matchSourceAddress": {"includeSubnets": ["198.18.2.5/32"]},
     "matchLayer4": {"protocol": "tcp", "matchDestinationPort": {"ranges": [{"lo": 50000, "hi": 50000}]}}, "verdict": "accept"},
    {"matchSourceAddress": {"includeSubnets": ["198.18.1.21/32"]},
     "matchLayer4": {"protocol": "tcp", "matchDestinationPort": {"ranges": [{"lo": 2379, "hi": 2380}]}}, "verdict": "accept"},
]}}


def test_drop_policy_reads_as_block_and_port_rules_are_listed():
    facts = firewall_facts([CHAIN])
    assert facts["default_action"] == "block"
    assert facts["rules"] == [{"protocol": "tcp", "ports": [50000], "sources": ["198.18.2.5/32"]},
                              {"protocol": "tcp", "ports": ["2379-2380"], "sources": ["198.18.1.21/32"]}]


def test_no_ingress_chain_means_unknown_default_action():
    assert firewall_facts([])["default_action"] is None


def test_diff_lines_with_keys_and_tokens_are_redacted():
    diff = "--- a\n+++ b\n@@ -1 +1 @@\n-  token: abc.def\n+  token: ghi.jkl\n     key: LS0tS0VZ\n   crt: LS0tQ1JU\n"
    out = redact_text(diff)
    assert "abc.def" not in out and "ghi.jkl" not in out and "LS0tS0VZ" not in out
    assert "LS0tQ1JU" in out, "certificates are public"
    assert "+  token: %s" % REDACTED in out


def test_document_redaction_keeps_structure():
    assert redact({"cluster": {"secret": "s", "ca": {"crt": "c", "key": "k"}}}) == \
        {"cluster": {"secret": REDACTED, "ca": {"crt": "c", "key": REDACTED}}}
