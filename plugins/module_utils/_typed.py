# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed inputs and the one quoting helper for everything that reaches a daemon config,
a script or an API.

Every value from an inventory, an AWX survey or a module option that ends up in
haproxy.cfg, bird.conf, keepalived.conf, a crt-list, a systemd unit, a file name or a
command line is parsed here first, against a strict grammar, and refused with the field
and the fix. Renderers then write it with quote(), which refuses (never escapes) anything
that could end a line, a block, a quoted string or an ACL in the target dialect. Refusing
is deliberate: an escaped payload is still a payload a reviewer has to read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError

# Characters no config line may carry: C0/C1 controls, DEL, and the Unicode line and
# paragraph separators (str.splitlines() and some YAML/JSON readers break lines there).
_CONTROL = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")

_GRAMMARS = {
    # haproxy time format: a number and an optional unit (us, ms, s, m, h, d).
    "duration": (re.compile(r"[0-9]{1,9}(?:us|ms|s|m|h|d)?"), "a duration like 5s, 250ms or 1h"),
    # RFC 1123 host name (no trailing dot), up to 253 characters.
    "hostname": (re.compile(r"(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                            r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"),
                 "a DNS name like api.example.com"),
    # SNI / certificate name: a host name, optionally with one leading wildcard label.
    "sni": (re.compile(r"(?=.{1,253}\Z)(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"),
            "a DNS name like www.example.com or *.example.com"),
    # An HTTP path as haproxy matches it: no spaces, quotes, '#', '\\', query or fragment.
    "http_path": (re.compile(r"/[A-Za-z0-9._~%/+=:@!$&*,;-]{0,1023}"), "an absolute HTTP path like /healthz"),
    # RFC 9110 method token, upper case as every real method is.
    "http_method": (re.compile(r"[A-Z][A-Z0-9_-]{0,31}"), "an HTTP method like GET"),
    # A name that becomes part of a file name, an ACL name, a backend or a BIRD protocol name.
    "name": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}"), "letters, digits, '.', '_' and '-' (max 63), not starting with a dot"),
    # An absolute file system path without '..' segments or odd characters.
    "path": (re.compile(r"(?!.*(?:^|/)\.\.?(?:/|\Z))/[A-Za-z0-9._/@+-]{0,4095}"), "an absolute path like /var/run/haproxy.sock"),
    # A syslog target as haproxy and BIRD take it: a path or host[:port].
    "log_target": (re.compile(r"/[A-Za-z0-9._/-]{0,4095}|[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?"),
                   "a socket path like /dev/log or host:port"),
    # Printable ASCII without whitespace, quotes, backslash or comment characters.
    "word": (re.compile(r"[A-Za-z0-9_.,:/@%+=~^*!?()\[\]{}<>|&-]{1,1024}"), "printable characters without spaces, quotes, '#', '$' or '\\'"),
}


def _describe(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def secret_safe(value, secret):
    return "the value" if secret else _describe(value)


def text(value, field, max_len=1024, secret=False):
    """A single-line string: no control characters, no line separators."""
    if not isinstance(value, str):
        raise NetsecError("must be a string, not %s" % type(value).__name__, field=field)
    if _CONTROL.search(value):
        raise NetsecError("%s contains a line break or control character" % secret_safe(value, secret), field=field,
                          fix="write it on one line without control characters")
    if len(value) > max_len:
        raise NetsecError("is %d characters long (at most %d)" % (len(value), max_len), field=field)
    return value


def grammar(value, field, kind, secret=False):
    """`value` as a string matching the named grammar (see _GRAMMARS), or a NetsecError."""
    pattern, what = _GRAMMARS[kind]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise NetsecError("must be %s" % what, field=field)
    value = text(str(value), field, secret=secret)
    if not pattern.fullmatch(value):
        raise NetsecError("%s is not %s" % (secret_safe(value, secret), what), field=field, fix="write %s" % what)
    return value


def duration(value, field):
    return grammar(value, field, "duration")


def hostname(value, field):
    return grammar(value, field, "hostname").lower()


def sni(value, field):
    return grammar(value, field, "sni").lower()


def http_path(value, field):
    return grammar(value, field, "http_path")


def http_method(value, field):
    return grammar(value, field, "http_method")


def name(value, field):
    return grammar(value, field, "name")


def path(value, field):
    return grammar(value, field, "path")


def integer(value, field, minimum=None, maximum=None):
    """An int (or a string of digits from a survey); booleans and floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise NetsecError("%s is not a whole number" % _describe(value), field=field)
    if isinstance(value, str):
        value = text(value, field, max_len=20).strip()
        if not re.fullmatch(r"-?[0-9]{1,19}", value):
            raise NetsecError("%s is not a whole number" % _describe(value), field=field)
        value = int(value)
    if not isinstance(value, int):
        raise NetsecError("must be a whole number", field=field)
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        bounds = "%s-%s" % (minimum if minimum is not None else "", maximum if maximum is not None else "")
        raise NetsecError("%d is out of range (%s)" % (value, bounds), field=field)
    return value


def boolean(value, field):
    if not isinstance(value, bool):
        raise NetsecError("must be true or false", field=field)
    return value


def address(value, field, versions=(4, 6)):
    """One IP address, normalised ('2001:DB8::1' -> '2001:db8::1'); no prefix, no spaces."""
    raw = text(value, field, max_len=64) if isinstance(value, str) else value
    try:
        addr = ipaddress.ip_address(raw)
    except ValueError:
        raise NetsecError("%s is not an IP address" % _describe(value), field=field, fix="write it like 192.0.2.10 or 2001:db8::10")
    if addr.version not in versions:
        raise NetsecError("%s is not an IPv%s address" % (addr, "/IPv".join(str(v) for v in versions)), field=field)
    return str(addr)


def cidr(value, field, versions=(4, 6)):
    """A CIDR or a bare address (-> host prefix), normalised to its network address."""
    raw = text(value, field, max_len=64) if isinstance(value, str) else value
    try:
        net = ipaddress.ip_network(raw, strict=False)
    except (ValueError, TypeError):
        raise NetsecError("%s is not an IPv4/IPv6 address or CIDR" % _describe(value), field=field,
                          fix="write it like 192.0.2.0/24 or 2001:db8::/64")
    if net.version not in versions:
        raise NetsecError("%s is not IPv%s" % (net, "/IPv".join(str(v) for v in versions)), field=field)
    return str(net)


def choice(value, field, choices):
    if value not in choices:
        raise NetsecError("%s is not one of %s" % (_describe(value), ", ".join(str(c) for c in choices)), field=field)
    return value


def known_keys(mapping, field, keys):
    """Refuse misspelled keys: a typo must not silently drop a protection."""
    if not isinstance(mapping, dict):
        raise NetsecError("must be a mapping", field=field)
    unknown = sorted(str(k) for k in set(mapping) - set(keys))
    if unknown:
        raise NetsecError("unknown key(s) %s" % ", ".join(unknown), field=field,
                          fix="known keys: %s" % ", ".join(sorted(keys)))
    return mapping


# --- the one quoting helper -----------------------------------------------------------

# Per dialect: what may appear in a bare word, and how a quoted string is delimited.
# None of the dialects below get escaping from us: what would need escaping is refused.
_BARE = {
    # haproxy splits on blanks, treats '#' as a comment, '\\' and quotes as escapes, and
    # expands "${VAR}" and '$VAR' in double quotes.
    "haproxy": re.compile(r"[A-Za-z0-9_.,:/@%+=~^*!?()\[\]<>|&-]{1,4096}"),
    # keepalived splits on blanks, '!' and '#' start comments, '{' '}' open/close blocks,
    # '$' expands definitions, '@' selects hosts at the start of a line.
    "keepalived": re.compile(r"[A-Za-z0-9_.,:/%+=~-]{1,4096}"),
    # BIRD: identifiers, numbers, addresses and prefixes; ';' '{' '}' '"' end statements.
    "bird": re.compile(r"[A-Za-z0-9_.:/-]{1,4096}"),
    # A systemd unit value or a command-line argument shown in a unit: no specifiers (%),
    # no quotes, no '$' expansion, no '\\' continuation.
    "systemd": re.compile(r"[A-Za-z0-9_.,:/@+=-]{1,4096}"),
}
_QUOTED_FORBIDDEN = {
    # BIRD strings end at the next '"' and have no escapes.
    "bird": re.compile(u"[\"\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]"),
    # keepalived strings: quotes delimit, '\\' escapes.
    "keepalived": re.compile(u"[\"\\\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]"),
}


def quote(value, field, dialect, quoted=False, secret=False):
    """`value` ready to be written into a `dialect` config.

    Bare (quoted=False): one word of a safe character set, as is. Quoted: a string in
    double quotes that cannot contain its own delimiter, a backslash or a line break.
    Anything else is refused with the field; secret values are never echoed.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise NetsecError("must be a string", field=field)
    value = str(value)
    if quoted:
        forbidden = _QUOTED_FORBIDDEN[dialect]
        if not value or forbidden.search(value) or len(value) > 4096:
            raise NetsecError("%s cannot be written as a %s string: it contains a quote, a backslash or a line break"
                              % (secret_safe(value, secret), dialect), field=field,
                              fix="use printable characters other than '\"' and '\\'")
        return '"%s"' % value
    if not _BARE[dialect].fullmatch(value):
        raise NetsecError("%s cannot be written into the %s config: it contains spaces, quotes, comment or block characters"
                          % (secret_safe(value, secret), dialect), field=field,
                          fix="use letters, digits and . _ - : / only")
    return value


def argv(*parts):
    """A command as an argv list of strings (never a shell string): each part must be a
    single-line string, so no argument can be split or joined by anyone downstream."""
    out = []
    for i, part in enumerate(parts):
        if isinstance(part, (list, tuple)):
            out.extend(argv(*part))
            continue
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise NetsecError("argument %d is not a string" % i, field="argv")
        out.append(text(str(part), "argv[%d]" % i))
    return out
