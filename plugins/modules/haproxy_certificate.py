#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: haproxy_certificate
short_description: Install a TLS certificate for haproxy and hot-swap it in the running haproxy without a reload
version_added: 0.1.0
description:
  - Writes haproxy's combined PEM (certificate, chain, key) to O(path), 0600 from its first byte, and makes the running
    haproxy serve it through its runtime API (C(set ssl cert) then C(commit ssl cert)). New TLS handshakes get the new
    certificate at once; established connections keep theirs; no reload, no new worker.
  - A certificate file haproxy has not loaded yet is added at run time too (C(new ssl cert), C(add ssl crt-list)) when
    O(crt_list) names a crt-list file haproxy loads; the line is also appended to that file so that the next start or
    reload loads it. Without O(crt_list) the file is written and RV(reload_required) is true.
  - Whether haproxy already serves the certificate is judged by the leaf's SHA-1 fingerprint that C(show ssl cert)
    reports, so a file written earlier but never committed is still pushed.
  - With O(state=absent) the certificate is retired without a reload. Its entries leave the running crt-list
    by line number with C(del ssl crt-list), then its store goes with C(del ssl cert) (an uncommitted transaction on it
    is aborted first), then its line leaves the O(crt_list) file and O(path) is deleted, so that no later start or reload
    brings it back. Refused before anything changes when haproxy serves it from another crt-list or through a C(crt) line
    of haproxy.cfg, which only a config change can undo; haproxy itself refuses to drop the default certificate of a bind line.
  - Every path and name that reaches a runtime API command or a crt-list line is checked to be one haproxy word
    (no blank, semicolon, hash, quote or line break) and refused naming the option before anything changes.
  - The private key is never shown (diff, errors and results carry fingerprints, not PEM).
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  path:
    description:
      - The certificate file, exactly as haproxy's configuration or crt-list names it (absolute path).
    type: path
    required: true
  state:
    description:
      - V(present) installs and serves the certificate; V(absent) retires it from the running haproxy, O(crt_list) and disk.
    type: str
    choices: [present, absent]
    default: present
  certificate:
    description:
      - PEM certificate, leaf first, then its chain. Mutually exclusive with O(certificate_path).
      - One of O(certificate) and O(certificate_path) is required with O(state=present).
    type: str
  certificate_path:
    description:
      - File holding the PEM certificate and chain (for example C(fullchain_dest) of community.crypto.acme_certificate).
    type: path
  private_key:
    description:
      - PEM private key. Mutually exclusive with O(private_key_path).
    type: str
  private_key_path:
    description:
      - File holding the PEM private key.
    type: path
  runtime_socket:
    description:
      - haproxy's stats socket at C(level admin). When it does not exist (haproxy not running) only the file is written.
    type: path
    default: /run/haproxy/admin.sock
  crt_list:
    description:
      - A crt-list file the running haproxy loads; a certificate new to haproxy is added to it at run time and in the file.
    type: path
  sni:
    description:
      - SNI names for the crt-list line of a new certificate; empty means the names in the certificate.
    type: list
    elements: str
    default: []
seealso:
  - module: safespring.netsec.haproxy_acme_challenge
  - module: community.crypto.acme_certificate
"""

EXAMPLES = r"""
- name: Serve the renewed certificate without a reload
  safespring.netsec.haproxy_certificate:
    path: /etc/haproxy/certs/acme-apps.pem
    certificate_path: /etc/haproxy/acme/apps.fullchain.pem
    private_key_path: /etc/haproxy/acme/apps.key
    crt_list: /etc/haproxy/certs/acme-crt-list.txt
    runtime_socket: /run/haproxy/admin.sock

- name: Retire a hostname's certificate (running haproxy, crt-list file and PEM file; no reload)
  safespring.netsec.haproxy_certificate:
    path: /etc/haproxy/certs/acme-old.pem
    crt_list: /etc/haproxy/certs/acme-crt-list.txt
    state: absent
"""

RETURN = r"""
fingerprint:
  description: SHA-1 fingerprint of the leaf certificate now in O(path); null in check mode before the source files exist.
    With O(state=absent), the fingerprint of the certificate retired (file or running haproxy), null when there was none.
  returned: always
  type: str
method:
  description: How the running haproxy got it; C(replace) (set/commit ssl cert), C(add) (new ssl cert + add ssl crt-list),
    C(delete) (del ssl crt-list + del ssl cert, with O(state=absent)), C(none) (nothing to do at run time, or no haproxy runs).
  returned: always
  type: str
reload_required:
  description: True when only a reload makes haproxy load the file (new certificate, no O(crt_list)).
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils import _typed

from ansible_collections.safespring.netsec.plugins.module_utils._files import read_text
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils._secrets import write_private
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import certificates as C
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy.runtime_api import RuntimeAPI, arg


def _path(value, field):
    """An absolute path without '..' that is one haproxy word (it reaches runtime commands and crt-list lines)."""
    return arg(_typed.path(value, field), field)


def _source(params, inline, path):
    if params[path] is not None:
        text = read_text(params[path])
        if text is None:
            raise NetsecError("cannot be read", field=path, fix="check the file exists and is readable")
        return text
    return params[inline]


def run(module):
    params = module.params
    path = _path(params["path"], "path")
    crt_list = _path(params["crt_list"], "crt_list") if params["crt_list"] else None
    if params["state"] == "absent":
        return retire(module, path, crt_list)
    sni = [arg(_typed.sni(name, "sni[%d]" % i), "sni[%d]" % i) for i, name in enumerate(params["sni"])]
    missing = [f for f in ("certificate_path", "private_key_path") if params[f] and not os.path.exists(params[f])]
    if missing and module.check_mode:
        # Check mode before the first issuance: the ACME files do not exist yet, the run would create them.
        return {"changed": True, "fingerprint": None, "method": "none", "reload_required": False,
                "msg": "%s not there yet (check mode)" % ", ".join(missing)}
    cert_field = "certificate_path" if params["certificate_path"] else "certificate"
    key_field = "private_key_path" if params["private_key_path"] else "private_key"
    text, fp = C.bundle(_source(params, "certificate", "certificate_path"), _source(params, "private_key", "private_key_path"),
                        cert_field, key_field)

    api = RuntimeAPI(params["runtime_socket"])
    live = None
    if api.available():
        info = api.cert_info(path)
        live = {"known": bool(info), "fingerprint": (info.get("SHA1 FingerPrint") or "").upper() or None}
    file_text = read_text(path)
    plan = C.plan_certificate(path, text, fp, file_text, live, crt_list)
    line = C.crt_list_line(path, sni)
    list_text = read_text(crt_list) if crt_list else None
    add_line = plan["runtime"] == "add" and line not in (list_text or "").splitlines()

    changed = plan["write_file"] or plan["runtime"] is not None or add_line
    result = {
        "changed": changed, "fingerprint": fp, "method": plan["runtime"] or "none",
        "reload_required": plan["reload_required"],
        "diff": {"before": {"fingerprint": C.leaf_fingerprint(file_text), "live_fingerprint": live and live["fingerprint"]},
                 "after": {"fingerprint": fp, "live_fingerprint": fp if live is not None else None}},
    }
    if module.check_mode or not changed:
        return result
    if plan["write_file"]:
        write_private(path, text)
    if plan["runtime"] == "replace":
        api.replace_cert(path, text)
    elif plan["runtime"] == "add":
        api.add_cert(path, text, crt_list, sni)
    if add_line:
        # The crt-list file says the same as the running haproxy, for its next start.
        write_private(crt_list, (list_text or "").rstrip("\n") + ("\n" if list_text and list_text.strip() else "") + line + "\n")
    return result


def retire(module, path, crt_list):
    if os.path.isdir(path):
        raise NetsecError("is a directory", field="path", fix="give the certificate file, exactly as the crt-list names it")
    api = RuntimeAPI(module.params["runtime_socket"])
    live = api.retire_state(path) if api.available() else None
    file_text = read_text(path) if os.path.exists(path) else None
    list_text = read_text(crt_list) if crt_list else None
    plan = C.plan_retire(path, crt_list, file_text, list_text, live)
    changed = C.plan_changes(plan)
    live_fp = live["fingerprint"] if live else None
    entries = ["%s:%d" % entry for entry in plan["del_entries"]]
    listed = [line.strip() for line in (list_text or "").splitlines() if line.split()[:1] == [path]]
    result = {
        "changed": changed, "fingerprint": C.leaf_fingerprint(file_text) or live_fp,
        "method": "delete" if plan["del_cert"] else "none", "reload_required": False,
        # Paths, crt-list lines and fingerprints only: the file holds the key.
        "diff": {"before": {"path": path if file_text is not None else None, "fingerprint": C.leaf_fingerprint(file_text),
                            "live_fingerprint": live_fp, "live_crt_list_entries": entries, "crt_list_lines": listed},
                 "after": {"path": None, "fingerprint": None, "live_fingerprint": None, "live_crt_list_entries": [],
                           "crt_list_lines": []}},
    }
    if module.check_mode or not changed:
        return result
    for name, line in sorted(plan["del_entries"], key=lambda e: -e[1]):
        api.del_crt_list_entry(name, path, line)
    if plan["del_cert"]:
        api.del_cert(path, plan["abort"])
    if plan["list_text"] is not None:
        write_private(crt_list, plan["list_text"])
    if plan["delete_file"]:
        os.unlink(path)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            certificate=dict(type="str"),
            certificate_path=dict(type="path"),
            private_key=dict(type="str", no_log=True),
            private_key_path=dict(type="path", no_log=False),
            runtime_socket=dict(type="path", default="/run/haproxy/admin.sock"),
            crt_list=dict(type="path"),
            sni=dict(type="list", elements="str", default=[]),
        ),
        mutually_exclusive=[("certificate", "certificate_path"), ("private_key", "private_key_path")],
        required_if=[("state", "present", ("certificate", "certificate_path"), True),
                     ("state", "present", ("private_key", "private_key_path"), True)],
        supports_check_mode=True,
    )
    try:
        module.exit_json(**run(module))
    except NetsecError as exc:
        exc.fail(module)


if __name__ == "__main__":
    main()
