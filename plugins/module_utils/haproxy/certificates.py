# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates and ACME HTTP-01 tokens for the running haproxy, as pure plans (no I/O).

A certificate file holds the leaf, its chain and the key (haproxy's combined PEM). Whether the
running haproxy already serves it is judged by the leaf's SHA-1 fingerprint, which is what
`show ssl cert PATH` reports. Tokens are words of the base64url alphabet (RFC 8555 8.1), so a
map line `TOKEN KEY_AUTHORIZATION` can never carry anything else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----")
_KEY_LABELS = ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY")
# base64url, no padding (RFC 8555 8.1 / 8.3); a key authorization is TOKEN.THUMBPRINT.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,256}")
_KEY_AUTHZ = re.compile(r"[A-Za-z0-9_-]{16,256}\.[A-Za-z0-9_-]{16,128}")
_RESOURCE = ".well-known/acme-challenge/"


def pem_blocks(text, field, what):
    """[(label, der)] of every PEM block, refusing text that is not only PEM blocks."""
    if not isinstance(text, str) or not text.strip():
        raise NetsecError("is empty", field=field, fix="give the PEM %s" % what)
    blocks, rest = [], text
    for match in _BLOCK.finditer(text):
        try:
            der = base64.b64decode(re.sub(r"\s", "", match.group(2)), validate=True)
        except (binascii.Error, ValueError):
            raise NetsecError("has a PEM block that is not base64", field=field, fix="give the PEM %s as issued" % what)
        blocks.append((match.group(1), der))
        rest = rest.replace(match.group(0), "", 1)
    if rest.strip() or not blocks:
        raise NetsecError("is not only PEM blocks", field=field, fix="give the PEM %s (text outside BEGIN/END lines is refused)" % what)
    return blocks


def _pem(label, der):
    body = base64.b64encode(der).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, "\n".join(body[i:i + 64] for i in range(0, len(body), 64)), label)


def bundle(certificate, private_key, cert_field="certificate", key_field="private_key"):
    """haproxy's combined PEM (leaf, chain, key) and the leaf's fingerprint. The key never appears in errors."""
    certs = pem_blocks(certificate, cert_field, "certificate (leaf first, then its chain)")
    if any(label != "CERTIFICATE" for label, dummy in certs):
        raise NetsecError("holds something else than certificates", field=cert_field,
                          fix="give the key in %s, not in the certificate" % key_field)
    try:
        keys = pem_blocks(private_key, key_field, "private key")
    except NetsecError as exc:
        raise NetsecError(exc.message, field=key_field, fix="give the PEM private key (its content is not shown)")
    if len(keys) != 1 or keys[0][0] not in _KEY_LABELS:
        raise NetsecError("is not one PEM private key", field=key_field, fix="give exactly one private key (its content is not shown)")
    text = "".join(_pem(label, der) for label, der in certs) + _pem(keys[0][0], keys[0][1])
    return text, fingerprint(certs[0][1])


def fingerprint(der):
    """SHA-1 of the leaf as `show ssl cert` prints it (upper-case hex, no colons)."""
    return hashlib.sha1(der).hexdigest().upper()  # nosec: an identifier haproxy reports, not a security check


def leaf_fingerprint(pem_text):
    """Fingerprint of the first certificate of a file's content, or None when it has none."""
    for match in _BLOCK.finditer(pem_text or ""):
        if match.group(1) == "CERTIFICATE":
            try:
                return fingerprint(base64.b64decode(re.sub(r"\s", "", match.group(2))))
            except (binascii.Error, ValueError):
                return None
    return None


def plan_certificate(path, desired_text, desired_fp, file_text, live, crt_list):
    """What to do so that both the file and the running haproxy hold the desired certificate.

    `live` is None when no haproxy runs (no socket), else {"known": bool, "fingerprint": str|None}.
    Returns {"write_file", "runtime": None|"replace"|"add", "reload_required"}.
    """
    plan = {"write_file": file_text != desired_text, "runtime": None, "reload_required": False}
    if live is None:
        return plan  # the next start loads the file
    if live["known"]:
        if live["fingerprint"] != desired_fp:
            plan["runtime"] = "replace"
    elif crt_list:
        plan["runtime"] = "add"
    else:
        # Only a reload loads a file haproxy has never seen when no crt-list can take it at run time.
        plan["reload_required"] = True
    return plan


def crt_list_line(path, sni):
    return " ".join([path] + list(sni))


def crt_list_without(list_text, path):
    """The crt-list file's text without the lines that load `path` (comments and other lines kept as they are)."""
    kept = [line for line in (list_text or "").splitlines(True)
            if line.split()[:1] != [path] or line.lstrip().startswith("#")]
    return "".join(kept)


def plan_retire(path, crt_list, file_text, list_text, live):
    """What to do so that neither the running haproxy nor the files bring `path` back.

    `live` is None when no haproxy runs, else {"known", "status", "transaction", "fingerprint",
    "entries": {crt_list_file: [line numbers of `path`]}}. haproxy deletes a certificate only once
    no crt-list entry uses it, so the order is: crt-list entries, then the certificate (runtime);
    then the crt-list file, then the certificate file (disk), so that a reload in between never
    names a file that is gone. Refuses, before anything changed, what this cannot undo safely.
    """
    plan = {"del_entries": [], "abort": False, "del_cert": False, "list_text": None, "delete_file": file_text is not None}
    if live is not None and live["known"]:
        others = sorted(name for name, lines in live["entries"].items() if lines and name != crt_list)
        if others:
            raise NetsecError("haproxy also serves it from crt-list %s" % ", ".join(others), field="path",
                              fix="remove it from %s first, or name that list in crt_list" % others[0]
                              if crt_list else "name the list in crt_list")
        lines = sorted(live["entries"].get(crt_list) or []) if crt_list else []
        if live["status"] == "Used" and not lines:
            raise NetsecError("haproxy uses it outside any crt-list (a crt directive of haproxy.cfg)", field="path",
                              fix="remove that crt from haproxy.cfg and reload first; only crt-list certificates are retired at run time")
        plan["del_entries"] = [(crt_list, n) for n in lines]
        plan["abort"] = live["transaction"]
        plan["del_cert"] = True
    if crt_list and list_text is not None:
        without = crt_list_without(list_text, path)
        if without != list_text:
            plan["list_text"] = without
    return plan


# The files the haproxy role installs for haproxy_acme_certificates: CERTS_DIR/acme-NAME.pem.
_ROLE_FILE = re.compile(r"acme-([A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)\.pem")


def owned_retired(list_text, certs_dir, keep):
    """[{name, file}] the haproxy role retires: lines of its own crt-list (which only haproxy_certificate
    writes, for the role) whose file is CERTS_DIR/acme-NAME.pem and no longer wanted (`keep`).
    A line naming any other file is not the role's and is left alone."""
    out, seen = [], set()
    for line in (list_text or "").splitlines():
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        directory, dummy, base = tokens[0].rpartition("/")
        match = _ROLE_FILE.fullmatch(base)
        if directory == certs_dir.rstrip("/") and match and tokens[0] not in keep and tokens[0] not in seen:
            seen.add(tokens[0])
            out.append({"name": match.group(1), "file": tokens[0]})
    return out


def plan_changes(plan):
    return bool(plan["del_entries"] or plan["abort"] or plan["del_cert"] or plan["list_text"] is not None or plan["delete_file"])


def challenges(challenge_data, field="challenge_data"):
    """{token: key_authorization} from community.crypto.acme_certificate's challenge_data
    ({domain: {"http-01": {"resource": ".well-known/acme-challenge/TOKEN", "resource_value": KEYAUTHZ}}})."""
    if not isinstance(challenge_data, dict):
        raise NetsecError("is not a mapping", field=field, fix="pass challenge_data of community.crypto.acme_certificate")
    out = {}
    for domain in sorted(challenge_data):
        entry = challenge_data[domain]
        here = field_path(field, str(domain), "http-01")
        if not isinstance(entry, dict) or not isinstance(entry.get("http-01"), dict):
            raise NetsecError("has no http-01 challenge", field=here, fix="request the certificate with challenge: http-01")
        resource, value = entry["http-01"].get("resource"), entry["http-01"].get("resource_value")
        if not isinstance(resource, str) or not resource.startswith(_RESOURCE):
            raise NetsecError("resource %r is not under %s" % (resource, _RESOURCE), field=field_path(here, "resource"),
                              fix="pass challenge_data of an http-01 order unchanged")
        token = resource[len(_RESOURCE):]
        token = _word(token, _TOKEN, field_path(here, "resource"), "an ACME token (base64url)")
        out[token] = _word(value, _KEY_AUTHZ, field_path(here, "resource_value"), "a key authorization (TOKEN.THUMBPRINT, base64url)")
        if not value.startswith(token + "."):
            raise NetsecError("does not belong to token %s" % token, field=field_path(here, "resource_value"),
                              fix="pass challenge_data of an http-01 order unchanged")
    return out


def _word(value, pattern, field, what):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise NetsecError("%r is not %s" % (value, what), field=field, fix="pass challenge_data of an http-01 order unchanged")
    return value


def parse_map(text):
    """{key: value} of a map file (`key value` lines, # comments)."""
    entries = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#"):
            entries[parts[0]] = parts[1]
    return entries


def render_map(entries):
    return "# ACME HTTP-01 tokens served on :80 (safespring.netsec.haproxy_acme_challenge)\n" + \
        "".join("%s %s\n" % (k, entries[k]) for k in sorted(entries))


def plan_map(wanted, state, file_entries, live_entries):
    """Entries the file should hold, and the runtime changes (set/delete) to reach it.

    `live_entries` None: no haproxy runs or it has not loaded the map (the file is all there is).
    """
    target = dict(file_entries)
    if state == "present":
        target.update(wanted)
    else:
        for token in wanted:
            target.pop(token, None)
    runtime = {"set": {}, "delete": []}
    if live_entries is not None:
        for token, value in sorted(target.items()):
            if live_entries.get(token) != value:
                runtime["set"][token] = value
        runtime["delete"] = sorted(t for t in live_entries if t not in target)
    return {"entries": target, "write_file": target != file_entries, "runtime": runtime}
