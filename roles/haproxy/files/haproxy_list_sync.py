# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load changed ACL list files into the running haproxy without a reload.

    python3 haproxy_list_sync.py SOCKET FILE [FILE...]

For each FILE that the running configuration uses, a new version of its patterns is
prepared, filled and committed atomically (prepare acl / add acl @ver / commit acl), so
there is never a moment with an empty allowlist or denylist. Prints one JSON line:
{"changed": [files whose live content changed], "skipped": [files not in use]}.
"""
import json
import socket
import sys


def command(path, line):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    try:
        sock.sendall(line.encode() + b"\n")
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    finally:
        sock.close()
    return b"".join(chunks).decode()


def patterns(path):
    with open(path) as handle:
        lines = (raw.strip() for raw in handle)
        return [line for line in lines if line and not line.startswith("#")]


def live_patterns(sock, name):
    out = []
    for line in command(sock, "show acl %s" % name).splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith("0x"):
            out.append(parts[1])
    return out


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    sock, files = argv[1], argv[2:]
    in_use = command(sock, "show acl")
    changed, skipped = [], []
    for name in files:
        if "(%s)" % name not in in_use:
            skipped.append(name)
            continue
        wanted = patterns(name)
        if sorted(live_patterns(sock, name)) == sorted(wanted):
            continue
        reply = command(sock, "prepare acl %s" % name)
        if "New version created:" not in reply:
            sys.stderr.write("prepare acl %s: %s\n" % (name, reply.strip()))
            return 1
        version = reply.rsplit(":", maxsplit=1)[-1].strip()
        for pattern in wanted:
            reply = command(sock, "add acl @%s %s %s" % (version, name, pattern)).strip()
            if reply:
                sys.stderr.write("add acl %s %s: %s\n" % (name, pattern, reply))
                return 1
        reply = command(sock, "commit acl @%s %s" % (version, name)).strip()
        if reply:
            sys.stderr.write("commit acl %s: %s\n" % (name, reply))
            return 1
        changed.append(name)
    print(json.dumps({"changed": changed, "skipped": skipped}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
