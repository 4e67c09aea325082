# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one redaction of Talos secrets: documents, patches, diffs, messages.

SECRET_PATHS lists, per document kind, every field of the Talos config schemas (both
supported releases, ../shared/specs) that holds key material, a token, a password or a
shared secret, plus fields older releases still read. Three uses:

- redact(docs): a copy for diffs and results with those values replaced;
- values(docs) / patch_values(patches): the secret strings themselves, which the modules add
  to AnsibleModule.no_log_values so that Ansible masks them in every output (invocation,
  diff, msg, warnings), whatever path they reach it by;
- redact_text(text, values): YAML text or a unified diff of it (talosctl's dry run shows
  the node's running config, whose secrets are in no file here), line by line by key name,
  and every known secret value wherever it appears (schema messages, stderr).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

REDACTED = "VALUE_REDACTED"

_PATHS = {
    "v1alpha1": (
        "machine.token", "machine.ca.key",
        "cluster.token", "cluster.secret", "cluster.aescbcEncryptionSecret", "cluster.secretboxEncryptionSecret",
        "cluster.ca.key", "cluster.aggregatorCA.key", "cluster.serviceAccount.key", "cluster.etcd.ca.key",
        "cluster.extraManifestHeaders.*",
        # Fields of older v1alpha1 configs (moved to documents since): Talos still reads them.
        "machine.registries.config.*.auth.password", "machine.registries.config.*.auth.auth",
        "machine.registries.config.*.auth.identityToken", "machine.registries.config.*.tls.clientIdentity.key",
        "machine.network.interfaces[].wireguard.privateKey", "machine.network.interfaces[].wireguard.peers[].presharedKey",
        "machine.network.interfaces[].vlans[].wireguard.privateKey",
        "machine.systemDiskEncryption.*.keys[].static.passphrase",
    ),
    "RegistryAuthConfig": ("password", "auth", "identityToken"),
    "RegistryTLSConfig": ("clientIdentity.key",),
    "WireguardConfig": ("privateKey", "peers[].presharedKey"),
    "HCloudVIPConfig": ("apiToken",),
    # The API URL carries the join token as a query parameter.
    "SideroLinkConfig": ("apiUrl", "uniqueToken"),
    "VolumeConfig": ("encryption.keys[].static.passphrase",),
    "RawVolumeConfig": ("encryption.keys[].static.passphrase",),
    "UserVolumeConfig": ("encryption.keys[].static.passphrase",),
    "SwapVolumeConfig": ("encryption.keys[].static.passphrase",),
    "DiscoveryIdentityConfig": ("clusterSecret",),
    "KubeAPIServerCAConfig": ("issuingCA.key",),
    "KubeAggregatorCAConfig": ("issuingCA.key",),
    "KubeServiceAccountConfig": ("issuer.privateKey",),
    "KubeEtcdEncryptionConfig": ("config",),
    "KubeExternalManifestConfig": ("headers.*",),
}


def _compile(path):
    out = []
    for part in path.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return tuple(out)


SECRET_PATHS = dict((kind, tuple(_compile(p) for p in paths)) for kind, paths in _PATHS.items())
# Names that hold secrets wherever they appear (any document, any depth).
SECRET_NAMES = frozenset(("privateKey", "presharedKey", "password", "passphrase", "identityToken", "apiToken",
                          "uniqueToken", "clusterSecret", "aescbcEncryptionSecret", "secretboxEncryptionSecret",
                          "bootstraptoken"))
# In text (a diff has no document paths) also the short names the schemas use for secrets.
_TEXT_NAMES = SECRET_NAMES | frozenset(("key", "token", "secret", "auth", "apiUrl"))
# Mappings whose values are secret (HTTP headers: Authorization, tokens).
_TEXT_VALUE_MAPS = frozenset(("extraManifestHeaders", "headers"))


def _matches(pattern, path):
    if len(pattern) != len(path):
        return False
    for want, have in zip(pattern, path):
        if want == "[]":
            if not isinstance(have, int):
                return False
        elif want != "*" and want != have:
            return False
    return True


def is_secret(kind, path):
    """Whether `path` (keys and list indexes) inside a document of `kind` holds a secret."""
    path = tuple(path)
    if path and path[-1] in SECRET_NAMES:
        return True
    return any(_matches(pattern, path) for pattern in SECRET_PATHS.get(kind, ()))


def _prefix_of_secret(kind, path):
    """A scalar where a mapping holding secrets belongs (`cluster.ca: <key material>`) is treated as one."""
    path = tuple(path)
    return bool(path) and any(len(p) > len(path) and _matches(p[:len(path)], path) for p in SECRET_PATHS.get(kind, ()))


def holds_secret(kind, path, value):
    return is_secret(kind, path) or (not isinstance(value, (dict, list)) and _prefix_of_secret(kind, path))


def _kind(doc):
    if not isinstance(doc, dict):
        return None
    kind = doc.get("kind")
    if isinstance(kind, str):
        return kind
    return "v1alpha1"


def _walk(value, kind, path=()):
    """(path, value) of every secret in `value`, iteratively (input depth is bounded elsewhere)."""
    stack = [(value, tuple(path))]
    while stack:
        node, where = stack.pop()
        if where and holds_secret(kind, where, node):
            yield where, node
            continue
        if isinstance(node, dict):
            stack.extend((v, where + (k,)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, where + (i,)) for i, v in enumerate(node))


def _strings(value):
    """The strings to mask for a secret value: itself, and each line of a multi-line one."""
    out = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif node is not None and not isinstance(node, bool):
            text = str(node)
            if text.strip():
                out.add(text)
                out.update(line.strip() for line in text.splitlines() if len(line.strip()) >= 4)
    return out


def values(docs):
    """Every secret string of a list of documents."""
    out = set()
    for doc in docs or []:
        for _path, value in _walk(doc, _kind(doc)):
            out |= _strings(value)
    return out


def _pointer_tokens(path):
    if not isinstance(path, str) or not path.startswith("/"):
        return ()
    return tuple(int(t) if t.isdigit() else t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/"))


def patch_values(parsed):
    """Every secret string of parsed patches [(type, payload, document)] (see patch.parse_patch)."""
    out = set()
    for ptype, payload, document in parsed:
        if ptype == "json6902":
            kind = (document or {}).get("kind", "v1alpha1")
            for op in payload if isinstance(payload, list) else []:
                if isinstance(op, dict) and "value" in op:
                    for _path, value in _walk(op["value"], kind, _pointer_tokens(op.get("path"))):
                        out |= _strings(value)
        else:
            out |= values(payload if isinstance(payload, list) else [payload])
    return out


def raw_values(value):
    """Best effort on input that did not parse: secrets under secret names at any depth."""
    out = set()
    for _path, found in _walk(value, None):
        out |= _strings(found)
    return out


def redact(value, kind=None):
    """A copy of a document (or a list of them) with every secret replaced by REDACTED."""
    if isinstance(value, list) and kind is None:
        return [redact(doc, _kind(doc)) for doc in value]
    return _redact(value, kind or _kind(value), ())


def _redact(node, kind, path):
    if path and holds_secret(kind, path, node):
        return REDACTED
    if isinstance(node, dict):
        return dict((k, _redact(v, kind, path + (k,))) for k, v in node.items())
    if isinstance(node, list):
        return [_redact(v, kind, path + (i,)) for i, v in enumerate(node)]
    return node


# "<diff prefix><indent>[- ]key: value" of YAML text or of a unified diff of it.
_LINE = re.compile(r"^([-+ ]?)(\s*)((?:-\s+)?)([A-Za-z0-9_./-]+|\"[^\"]*\"|'[^']*'):(?:\s+(.*))?$")
_BLOCK = re.compile(r"^[|>][-+0-9]*\s*$")


def _indent(line):
    body = line[1:] if line[:1] in "-+ " else line
    return len(body) - len(body.lstrip(" "))


def redact_text(text, secrets=()):
    """YAML text or a unified diff with secret lines and every value in `secrets` redacted."""
    if not text:
        return text
    lines = text.split("\n")
    out = []
    hide_below = None     # indent under which continuation lines are a secret's (block scalar, nested value)
    values_below = None   # indent under which lines are `name: secret` entries of a header map
    for line in lines:
        indent = _indent(line)
        content = line[1:] if line[:1] in "-+ " else line
        if hide_below is not None:
            if content.strip() and indent <= hide_below:
                hide_below = None
            else:
                out.append((line[:1] + " " * indent + REDACTED) if content.strip() else line)
                continue
        if values_below is not None and content.strip() and indent <= values_below:
            values_below = None
        match = _LINE.match(line)
        if match:
            prefix, spaces, dash, key, value = match.groups()
            key = key.strip("\"'")
            key_indent = len(spaces) + len(dash)
            # `config:` with a value of its own is KubeEtcdEncryptionConfig's (registries' `config:` is a mapping).
            if key in _TEXT_NAMES or values_below is not None or (key == "config" and value and not value.startswith("{")):
                if value and not _BLOCK.match(value):
                    line = "%s%s%s%s: %s" % (prefix, spaces, dash, match.group(4), REDACTED)
                elif value or key in _TEXT_NAMES:
                    hide_below = key_indent
                    line = "%s%s%s%s: %s" % (prefix, spaces, dash, match.group(4), REDACTED) if value else line
            elif key in _TEXT_VALUE_MAPS and not value:
                values_below = key_indent
        out.append(line)
    return mask_values("\n".join(out), secrets)


def mask_values(text, secrets):
    """`text` with every occurrence of each secret string replaced (longest first)."""
    if not text:
        return text
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
