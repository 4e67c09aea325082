# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and ACME tokens for the running haproxy, as plans (issue 17): the runtime API is
used whenever haproxy can take the change without a reload, and nothing but PEM and base64url words
ever reaches a file or a runtime command."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import certificates as C

LEAF_DER, CHAIN_DER, KEY_DER = b"leaf-der-bytes", b"chain-der-bytes", b"secret-key-bytes"


def pem(label, der):
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, base64.b64encode(der).decode(), label)


CERT = pem("CERTIFICATE", LEAF_DER) + pem("CERTIFICATE", CHAIN_DER)
KEY = pem("PRIVATE KEY", KEY_DER)
TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
KEYAUTHZ = TOKEN + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"


def challenge_data(token=TOKEN, value=KEYAUTHZ, domain="app.example"):
    return {domain: {"http-01": {"resource": ".well-known/acme-challenge/" + token, "resource_value": value}}}


def test_bundle_is_leaf_then_chain_then_key_and_fingerprint_is_the_leafs_sha1():
    text, fp = C.bundle(CERT, KEY)
    assert text.index(base64.b64encode(LEAF_DER).decode()) < text.index(base64.b64encode(CHAIN_DER).decode()) \
        < text.index("PRIVATE KEY")
    assert fp == hashlib.sha1(LEAF_DER).hexdigest().upper()
    assert C.leaf_fingerprint(text) == fp
    assert "\n\n" not in text  # the runtime API payload ends at the first empty line


@pytest.mark.parametrize("cert, key, field", [
    (CERT + "\nset ssl cert /etc/passwd", KEY, "certificate"),
    (CERT + KEY, KEY, "certificate"),
    ("", KEY, "certificate"),
    (CERT, KEY + KEY, "private_key"),
    (CERT, pem("CERTIFICATE", KEY_DER), "private_key"),
    (CERT, "not a key " + base64.b64encode(KEY_DER).decode(), "private_key"),
])
def test_anything_but_pem_blocks_is_refused_and_the_key_is_never_echoed(cert, key, field):
    with pytest.raises(NetsecError) as err:
        C.bundle(cert, key)
    assert err.value.field == field
    assert base64.b64encode(KEY_DER).decode() not in str(err.value)


def test_a_certificate_haproxy_serves_with_another_fingerprint_is_replaced_at_run_time():
    text, fp = C.bundle(CERT, KEY)
    plan = C.plan_certificate("/c.pem", text, fp, "old", {"known": True, "fingerprint": "OLD"}, "/l.txt")
    assert plan == {"write_file": True, "runtime": "replace", "reload_required": False}


def test_a_file_written_but_never_committed_is_still_pushed():
    text, fp = C.bundle(CERT, KEY)
    plan = C.plan_certificate("/c.pem", text, fp, text, {"known": True, "fingerprint": "OLD"}, None)
    assert plan == {"write_file": False, "runtime": "replace", "reload_required": False}


def test_nothing_to_do_when_file_and_running_haproxy_hold_it():
    text, fp = C.bundle(CERT, KEY)
    assert C.plan_certificate("/c.pem", text, fp, text, {"known": True, "fingerprint": fp}, "/l.txt") == \
        {"write_file": False, "runtime": None, "reload_required": False}


def test_a_new_certificate_goes_into_a_crt_list_at_run_time_and_needs_a_reload_only_without_one():
    text, fp = C.bundle(CERT, KEY)
    unknown = {"known": False, "fingerprint": None}
    assert C.plan_certificate("/c.pem", text, fp, None, unknown, "/l.txt")["runtime"] == "add"
    assert C.plan_certificate("/c.pem", text, fp, None, unknown, None) == \
        {"write_file": True, "runtime": None, "reload_required": True}
    # No haproxy running: the file is all there is; its next start loads it.
    assert C.plan_certificate("/c.pem", text, fp, None, None, None) == {"write_file": True, "runtime": None, "reload_required": False}


def test_challenges_come_from_acme_certificate_challenge_data():
    assert C.challenges(challenge_data()) == {TOKEN: KEYAUTHZ}


@pytest.mark.parametrize("data, field", [
    (challenge_data(token=TOKEN + " /etc/passwd", value=TOKEN + " /etc/passwd." + "a" * 20), "challenge_data.app.example.http-01.resource"),
    (challenge_data(value=TOKEN + ".x y\nset map"), "challenge_data.app.example.http-01.resource_value"),
    (challenge_data(value="A" * 43 + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"), "challenge_data.app.example.http-01.resource_value"),
    ({"app.example": {"dns-01": {}}}, "challenge_data.app.example.http-01"),
    ({"app.example": {"http-01": {"resource": "/etc/passwd", "resource_value": KEYAUTHZ}}}, "challenge_data.app.example.http-01.resource"),
    ([], "challenge_data"),
])
def test_tokens_and_key_authorizations_are_base64url_words_of_one_order(data, field):
    with pytest.raises(NetsecError) as err:
        C.challenges(data)
    assert err.value.field == field


def test_map_plan_adds_to_file_and_running_haproxy_then_removes_only_its_tokens():
    other = {"o" * 43: "o" * 43 + "." + "p" * 43}
    present = C.plan_map({TOKEN: KEYAUTHZ}, "present", dict(other), dict(other))
    assert present["entries"] == dict(other, **{TOKEN: KEYAUTHZ}) and present["write_file"]
    assert present["runtime"] == {"set": {TOKEN: KEYAUTHZ}, "delete": []}
    absent = C.plan_map({TOKEN: KEYAUTHZ}, "absent", present["entries"], present["entries"])
    assert absent["entries"] == other and absent["runtime"] == {"set": {}, "delete": [TOKEN]}
    again = C.plan_map({TOKEN: KEYAUTHZ}, "absent", other, other)
    assert not again["write_file"] and again["runtime"] == {"set": {}, "delete": []}


def test_map_plan_without_a_running_haproxy_changes_the_file_only():
    plan = C.plan_map({TOKEN: KEYAUTHZ}, "present", {}, None)
    assert plan["write_file"] and plan["runtime"] == {"set": {}, "delete": []}
    assert C.parse_map(C.render_map(plan["entries"])) == {TOKEN: KEYAUTHZ}


# --- retiring a certificate (state=absent) ---------------------------------------------

OLD, LIST = "/etc/haproxy/certs/acme-old.pem", "/etc/haproxy/certs/acme-crt-list.txt"
LIST_TEXT = "/etc/haproxy/certs/acme-app.pem app.example\n# kept comment\n%s old.example\n%s www.old.example\n" % (OLD, OLD)


def live(entries, status="Used", transaction=False, fingerprint="AB"):
    return {"known": True, "status": status, "transaction": transaction, "fingerprint": fingerprint, "entries": entries}


def test_retire_deletes_every_running_entry_then_the_store_then_the_list_line_and_the_file():
    plan = C.plan_retire(OLD, LIST, CERT + KEY, LIST_TEXT, live({LIST: [2, 3], "/etc/haproxy/certs/crt-list.txt": []}))
    assert plan["del_entries"] == [(LIST, 2), (LIST, 3)] and plan["del_cert"] and not plan["abort"]
    assert plan["list_text"] == "/etc/haproxy/certs/acme-app.pem app.example\n# kept comment\n"
    assert plan["delete_file"] and C.plan_changes(plan)


def test_retire_of_a_certificate_already_gone_everywhere_changes_nothing():
    plan = C.plan_retire(OLD, LIST, None, "/etc/haproxy/certs/acme-app.pem app.example\n",
                         {"known": False, "status": None, "transaction": False, "fingerprint": None, "entries": {}})
    assert not C.plan_changes(plan)
    assert not C.plan_changes(C.plan_retire(OLD, LIST, None, None, None))  # no haproxy, no files


def test_retire_aborts_an_uncommitted_transaction_before_deleting_the_store():
    plan = C.plan_retire(OLD, LIST, None, None, live({LIST: []}, status="Empty", transaction=True))
    assert plan["abort"] and plan["del_cert"] and plan["del_entries"] == []


@pytest.mark.parametrize("state, crt_list, message", [
    (live({LIST: [2], "/etc/haproxy/certs/other.txt": [1]}), LIST, "also serves it from crt-list /etc/haproxy/certs/other.txt"),
    (live({LIST: []}), LIST, "outside any crt-list"),
    (live({LIST: [2]}), None, "also serves it from crt-list " + LIST),
])
def test_retire_refuses_before_any_change_what_only_a_config_change_can_undo(state, crt_list, message):
    with pytest.raises(NetsecError) as err:
        C.plan_retire(OLD, crt_list, CERT + KEY, LIST_TEXT, state)
    assert err.value.field == "path" and message in err.value.message and err.value.fix
    assert "PRIVATE" not in str(err.value)


def test_crt_list_without_keeps_other_lines_and_a_path_that_only_starts_alike():
    text = "%s a.example\n%s.bak b.example\n#%s c.example\n" % (OLD, OLD, OLD)
    assert C.crt_list_without(text, OLD) == "%s.bak b.example\n#%s c.example\n" % (OLD, OLD)


def test_the_role_retires_only_its_own_acme_files_that_are_no_longer_wanted():
    text = ("/etc/haproxy/certs/acme-app.pem app.example\n"
            "/etc/haproxy/certs/acme-old.pem old.example\n/etc/haproxy/certs/acme-old.pem www.old.example\n"
            "/etc/haproxy/certs/hand-made.pem hand.example\n"          # not a file the role writes
            "/etc/haproxy/other/acme-x.pem x.example\n"                # not in the role's directory
            "# /etc/haproxy/certs/acme-commented.pem c.example\n")
    assert C.owned_retired(text, "/etc/haproxy/certs", ["/etc/haproxy/certs/acme-app.pem"]) == \
        [{"name": "old", "file": "/etc/haproxy/certs/acme-old.pem"}]
    assert C.owned_retired(None, "/etc/haproxy/certs", []) == []
