# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The running haproxy's runtime API (the stats socket at level admin): certificates and maps.

Every change here takes effect in the running workers without a reload. Commands are one line of
words that the callers typed before (paths, tokens); multi-line payloads (PEM) go through the
socket's `<<` payload syntax, never inside a command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError


def arg(value, field):
    """One word of a runtime API command (a path, an SNI name, a map key or value).

    The CLI splits on blanks and runs every `;`-separated part as its own command, so a value
    holding either could issue a second command: it is refused through the project's quoting
    helper (the haproxy dialect admits neither), naming the module option."""
    return _typed.quote(_typed.text(value, field), field, "haproxy")


class RuntimeAPI(object):
    """One connection per command (haproxy closes non-interactive connections after each reply)."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.timeout = timeout

    def available(self):
        return os.path.exists(self.path)

    def command(self, line, payload=None):
        if "\n" in line or "\r" in line or ";" in line:
            raise NetsecError("a runtime API command must be one line and one command", fix="this is a bug in the caller")
        data = line
        if payload is not None:
            if "\n\n" in payload.strip("\n"):
                raise NetsecError("a runtime API payload must not contain an empty line", fix="remove blank lines from the PEM")
            data += " <<\n" + payload.strip("\n") + "\n"
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(self.timeout)
        try:
            conn.connect(self.path)
            conn.sendall(data.encode() + b"\n")
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (OSError, socket.timeout) as exc:
            raise NetsecError("runtime API %s: %s" % (self.path, exc), field="runtime_socket",
                              fix="point it at haproxy's stats socket (level admin) and check haproxy runs")
        finally:
            conn.close()
        return b"".join(chunks).decode("utf-8", "replace")

    # --- certificates ------------------------------------------------------------------

    def cert_names(self):
        """The certificate files haproxy has loaded (`show ssl cert`)."""
        return [line.strip().lstrip("*") for line in self.command("show ssl cert").splitlines()
                if line.strip() and not line.startswith("#")]

    def cert_transactions(self):
        """Certificates with an uncommitted `set ssl cert` (listed with a leading '*')."""
        return [line.strip()[1:] for line in self.command("show ssl cert").splitlines() if line.strip().startswith("*")]

    def crt_lists(self):
        """The crt-list files (and crt directories) the running haproxy loads."""
        return [line.strip() for line in self.command("show ssl crt-list").splitlines()
                if line.strip() and not line.startswith("#")]

    def crt_list_lines(self, crt_list, path):
        """Line numbers of `path` in the running crt-list (`show ssl crt-list -n`: `PATH:N [sni...]`)."""
        lines = []
        for line in self.command("show ssl crt-list -n %s" % arg(crt_list, "crt_list")).splitlines():
            first = line.split()[:1]
            name, sep, number = first[0].rpartition(":") if first else ("", "", "")
            if sep and name == path and number.isdigit():
                lines.append(int(number))
        return lines

    def retire_state(self, path):
        """{"known", "status", "transaction", "fingerprint", "entries": {crt_list: [lines]}} of `path`."""
        info = self.cert_info(path)
        if not info:
            return {"known": False, "status": None, "transaction": False, "fingerprint": None, "entries": {}}
        return {"known": True, "status": info.get("Status"), "transaction": path in self.cert_transactions(),
                "fingerprint": (info.get("SHA1 FingerPrint") or "").upper() or None,
                "entries": dict((name, self.crt_list_lines(name, path)) for name in self.crt_lists())}

    def del_crt_list_entry(self, crt_list, path, line):
        reply = self.command("del ssl crt-list %s %s:%d" % (arg(crt_list, "crt_list"), arg(path, "path"), line))
        if "deleted in crtlist" not in reply:
            fix = ("it is the default certificate of a bind line: put another certificate first on that bind line and reload, "
                   "then retire it") if "default certificate" in reply else "see haproxy's reply"
            raise NetsecError("haproxy refused del ssl crt-list %s %s:%d: %s" % (crt_list, path, line, reply.strip()[:500]),
                              field="path", fix=fix)

    def del_cert(self, path, abort):
        """Drop the certificate store; an uncommitted transaction on it is aborted first (haproxy refuses otherwise)."""
        if abort:
            self.command("abort ssl cert %s" % arg(path, "path"))
        reply = self.command("del ssl cert %s" % arg(path, "path"))
        if "deleted!" not in reply and "doesn't exist" not in reply:
            raise NetsecError("haproxy refused del ssl cert %s: %s" % (path, reply.strip()[:500]), field="path",
                              fix="haproxy still uses it: remove it from every crt-list and crt line, then run again")

    def cert_info(self, path):
        """`show ssl cert PATH` as {field: value} (Serial, notAfter, SHA1 FingerPrint, ...); {} when unknown."""
        if path not in self.cert_names():
            return {}
        info = {}
        for line in self.command("show ssl cert %s" % arg(path, "path")).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() and key.strip() not in info:
                info[key.strip()] = value.strip()
        return info

    def _expect(self, reply, marker, what, abort=None):
        if marker not in reply:
            if abort:
                self.command(abort)
            raise NetsecError("haproxy refused %s: %s" % (what, reply.strip()[:500]), fix="see haproxy's reply")
        return reply

    def replace_cert(self, path, pem):
        """set ssl cert + commit ssl cert: the new certificate serves new handshakes at once."""
        path = arg(path, "path")
        self._expect(self.command("set ssl cert %s" % path, pem), "Transaction", "set ssl cert %s" % path,
                     abort="abort ssl cert %s" % path)
        self._expect(self.command("commit ssl cert %s" % path), "Success", "commit ssl cert %s" % path,
                     abort="abort ssl cert %s" % path)

    def add_cert(self, path, pem, crt_list, sni):
        """A certificate haproxy does not know yet: new store, fill, commit, add to a crt-list."""
        path, crt_list = arg(path, "path"), arg(crt_list, "crt_list")
        sni = [arg(name, "sni[%d]" % i) for i, name in enumerate(sni)]
        self._expect(self.command("new ssl cert %s" % path), "New empty certificate store", "new ssl cert %s" % path)
        self.replace_cert(path, pem)
        line = " ".join([path] + list(sni))
        self._expect(self.command("add ssl crt-list %s" % crt_list, line), "Success", "add ssl crt-list %s" % crt_list)

    # --- maps --------------------------------------------------------------------------

    def map_loaded(self, path):
        path = arg(path, "map_file")
        return any(("(%s)" % path) in line for line in self.command("show map").splitlines())

    def map_entries(self, path):
        entries = {}
        for line in self.command("show map %s" % arg(path, "map_file")).splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0].startswith("0x"):
                entries[parts[1]] = parts[2]
        return entries

    def map_set(self, path, key, value, exists):
        verb = "set" if exists else "add"
        args = (verb, arg(path, "map_file"), arg(key, "challenge_data (token)"), arg(value, "challenge_data (key authorization)"))
        reply = self.command("%s map %s %s %s" % args)
        if reply.strip():
            raise NetsecError("haproxy refused %s map %s: %s" % (verb, path, reply.strip()[:300]), fix="see haproxy's reply")

    def map_del(self, path, key):
        reply = self.command("del map %s %s" % (arg(path, "map_file"), arg(key, "challenge_data (token)")))
        if reply.strip() and "not found" not in reply.lower():
            raise NetsecError("haproxy refused del map %s: %s" % (path, reply.strip()[:300]), fix="see haproxy's reply")
