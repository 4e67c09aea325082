# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The haproxy role's variables, typed in Python before any task writes anything.

Every value that reaches haproxy.cfg, the crt-list or a file name is parsed here against
a strict grammar (module_utils/_typed.py) and checked to be writable as one haproxy word,
with the role variable named in the error (`haproxy_timeouts.client`,
`haproxy_certificates[0].hosts[1]`). The templates then write only what parse() returns.
Private keys are checked for shape but never returned: set_fact results reach job events.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge

PREFIX = "haproxy_"
TIMEOUT_KEYS = ("http_request", "http_keep_alive", "client", "client_fin", "connect", "server", "queue", "tarpit", "api_tunnel")
LIMIT_KEYS = ("http_req_rate", "http_req_rate_abuse", "conn_rate", "conn_cur", "api_conn_rate", "api_conn_cur")
CERTIFICATE_KEYS = ("name", "hosts", "ecdsa", "rsa")
CERTIFICATE_TYPES = ("ecdsa", "rsa")
PAIR_KEYS = ("cert", "key")
HEALTH_FRONTEND_KEYS = ("address", "port", "uri")
API_CHECK_KEYS = ("type", "path")
API_CHECK_TYPES = ("readyz", "tls", "tcp")
ABUSE_ACTIONS = ("silent-drop", "tarpit", "reject")
SOCKET_MODES = ("0600", "0660")
# haproxy's `log <target> [format <fmt>]` formats.
LOG_FORMATS = ("local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw")
_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "": 1e-3}


def _var(*parts):
    return field_path(PREFIX + str(parts[0]), *parts[1:])


def word(value, field, kind):
    """A value of grammar `kind` that haproxy reads as one bare word."""
    return _typed.quote(_typed.grammar(value, field, kind), field, "haproxy")


def duration(value, field):
    return _typed.quote(_typed.duration(value, field), field, "haproxy")


def seconds(value):
    """A typed haproxy duration in whole seconds (at least 1), for a Retry-After header."""
    digits = value.rstrip("usmhd")
    return max(1, int(-(-int(digits) * _SECONDS[value[len(digits):]] // 1)))


def optional(value, field, kind):
    """'' (or None) disables the setting; anything else must be of grammar `kind`."""
    return "" if value in (None, "") else word(value, field, kind)


def log_target(value, field):
    """`/dev/log`, `host:port` or `stdout`, optionally followed by `format <fmt>`."""
    parts = _typed.text(value, field).split(" ")
    target = word(parts[0], field, "log_target")
    if len(parts) == 1:
        return target
    if len(parts) == 3 and parts[1] == "format" and parts[2] in LOG_FORMATS:
        return " ".join([target] + parts[1:])
    raise NetsecError("%r is not a log target" % value, field=field,
                      fix="write a socket path or host:port, optionally followed by 'format' and one of %s" % ", ".join(LOG_FORMATS))


def port(value, field):
    return _typed.integer(value, field, 1, 65535)


def timeouts(value, field=_var("timeouts")):
    _typed.known_keys(value, field, TIMEOUT_KEYS)
    missing = [k for k in TIMEOUT_KEYS if value.get(k) is None]
    if missing:
        raise NetsecError("misses %s" % ", ".join(missing), field=field, fix="give every one of %s" % ", ".join(TIMEOUT_KEYS))
    return dict((k, duration(value[k], field_path(field, k))) for k in TIMEOUT_KEYS)


def limits(value, field=_var("limits")):
    _typed.known_keys(value, field, LIMIT_KEYS)
    out = dict((k, _typed.integer(value.get(k), field_path(field, k), 1, 10 ** 9)) for k in LIMIT_KEYS)
    if out["http_req_rate"] >= out["http_req_rate_abuse"]:
        raise NetsecError("%d is not below http_req_rate_abuse (%d)" % (out["http_req_rate"], out["http_req_rate_abuse"]),
                          field=field_path(field, "http_req_rate"), fix="429 must come before the abuse action")
    return out


def _pair(value, field):
    _typed.known_keys(value, field, PAIR_KEYS)
    for key in PAIR_KEYS:
        part = value.get(key)
        if not isinstance(part, str) or not part.strip():
            raise NetsecError("must be a non-empty PEM string", field=field_path(field, key))


def certificates(value, kinds, profile, field=_var("certificates")):
    """[{index, name, hosts, pairs}]: the certificates without their keys.

    `name` becomes a file name under certs/, so it is a plain name (no '/', no '..');
    `hosts` become crt-list SNI filters, so they are SNI names and nothing else.
    """
    if not isinstance(value, list) or not value:
        raise NetsecError("needs at least one certificate", field=field, fix="give [{name, hosts, ecdsa: {cert, key}, rsa: {cert, key}}]")
    out, names = [], {}
    for i, cert in enumerate(value):
        cfield = field_path(field, i)
        _typed.known_keys(cert, cfield, CERTIFICATE_KEYS)
        name = word(cert.get("name"), field_path(cfield, "name"), "name")
        if ".." in name:
            raise NetsecError("%r contains '..'" % name, field=field_path(cfield, "name"), fix="use a plain file name stem like apps")
        if name in names:
            raise NetsecError("%s is also the name of %s[%d]" % (name, field, names[name]), field=field_path(cfield, "name"))
        names[name] = i
        hosts = [_typed.quote(h, field_path(cfield, "hosts", j), "haproxy")
                 for j, h in enumerate(edge.check_hosts(cert.get("hosts"), field_path(cfield, "hosts"), allow_empty=True))]
        pairs = []
        for kind in CERTIFICATE_TYPES:
            if cert.get(kind) is not None:
                _pair(cert[kind], field_path(cfield, kind))
                pairs.append(kind)
        if not set(pairs) & set(kinds):
            raise NetsecError("has no %s pair, which the %s profile serves" % (" or ".join(kinds), profile), field=cfield,
                              fix="give %s: {cert, key}" % kinds[0])
        out.append({"index": i, "name": name, "hosts": hosts, "pairs": pairs})
    return out


def crt_list(certs, kinds, certs_dir):
    """crt-list lines as tokens: `<file> <sni>...`. No token can open `[ssl options]` or
    negate a filter: only the role's own words reach the file."""
    lines = []
    for cert in certs:
        for kind in kinds:
            if kind in cert["pairs"]:
                lines.append(["%s/%s.%s.pem" % (certs_dir, cert["name"], kind)] + cert["hosts"])
    for tokens in lines:
        for token in tokens:
            if token[:1] in ("[", "!", "#") or "]" in token or "[" in token:
                raise NetsecError("%r would be read as crt-list options" % token, field=_var("certificates"))
    return lines


def health_frontend(value, field=_var("health_frontend")):
    if not value:
        return {}
    _typed.known_keys(value, field, HEALTH_FRONTEND_KEYS)
    return {"address": _typed.address(value.get("address"), field_path(field, "address")),
            "port": port(value.get("port"), field_path(field, "port")),
            "uri": word(value.get("uri") or "/healthz", field_path(field, "uri"), "http_path")}


def api_health_checks(value, field=_var("api_health_checks")):
    _typed.known_keys(value or {}, field, edge.PASSTHROUGH_SERVICES)
    out = {}
    for service in edge.PASSTHROUGH_SERVICES:
        sfield = field_path(field, service)
        check = (value or {}).get(service) or {"type": "tls"}
        _typed.known_keys(check, sfield, API_CHECK_KEYS)
        kind = _typed.choice(check.get("type"), field_path(sfield, "type"), API_CHECK_TYPES)
        path = None
        if kind == "readyz":
            path = word(check.get("path") or "/readyz", field_path(sfield, "path"), "http_path")
        out[service] = {"type": kind, "path": path}
    return out


def health_check_certificate(value, field=_var("health_check_certificate")):
    if not value:
        return False
    _pair(value, field)
    return True


def methods(value, field=_var("allowed_methods")):
    if not isinstance(value, list) or not value:
        raise NetsecError("must be a non-empty list of HTTP methods", field=field)
    return [word(m, field_path(field, i), "http_method") for i, m in enumerate(value)]


def addresses(value, field):
    if not isinstance(value, list):
        raise NetsecError("must be a list of IP addresses", field=field)
    return [_typed.address(a, field_path(field, i)) for i, a in enumerate(value)]


def max_chunked_body_size(values):
    """Bodies without a Content-Length (chunked HTTP/1.1, HTTP/2 DATA) are measured in haproxy's
    request buffer, so the limit must leave that buffer room for the headers: at most half of it."""
    bufsize = _typed.integer(values.get("bufsize"), _var("bufsize"), 1024, 2 ** 24)
    size = _typed.integer(values.get("max_chunked_body_size"), _var("max_chunked_body_size"), 1, 2 ** 24)
    if size > bufsize // 2:
        raise NetsecError("%d does not fit haproxy's request buffer (haproxy_bufsize %d): chunked bodies are measured there"
                          % (size, bufsize), field=_var("max_chunked_body_size"),
                          fix="set it to at most %d, or raise haproxy_bufsize to at least %d" % (bufsize // 2, 2 * size))
    return size


ACME_CERTIFICATE_KEYS = ("name", "hosts")
_ACME_DIRECTORY = re.compile(r"https://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+")


def acme(values, config_dir, certs_dir, lists_dir):
    """The ACME certificates (HTTP-01 through haproxy itself): names, hosts and the files they use.

    Their hosts are the names an ACME server validates on :80, so they are exact DNS names
    (HTTP-01 cannot prove a wildcard)."""
    certs = values.get("acme_certificates") or []
    field = _var("acme_certificates")
    if not isinstance(certs, list):
        raise NetsecError("is not a list", field=field, fix="give [{name, hosts}]")
    out, names = [], set()
    for i, cert in enumerate(certs):
        cfield = field_path(field, i)
        _typed.known_keys(cert, cfield, ACME_CERTIFICATE_KEYS)
        name = word(cert.get("name"), field_path(cfield, "name"), "name")
        if ".." in name or name in names:
            raise NetsecError("%r is not a new plain name" % name, field=field_path(cfield, "name"), fix="use a unique file name stem like apps")
        names.add(name)
        hosts = edge.check_hosts(cert.get("hosts"), field_path(cfield, "hosts"))
        for j, host in enumerate(hosts):
            if "*" in host:
                raise NetsecError("%r is a wildcard, which HTTP-01 cannot validate" % host, field=field_path(cfield, "hosts", j),
                                  fix="list exact host names (wildcards need DNS-01)")
        out.append({"name": name, "hosts": [_typed.quote(h, field_path(cfield, "hosts", j), "haproxy") for j, h in enumerate(hosts)],
                    "file": "%s/acme-%s.pem" % (certs_dir, name)})
    typed = {"certificates": out, "enabled": bool(out), "dir": config_dir.rstrip("/") + "/acme",
             "map_file": lists_dir + "/acme-challenge.map", "crt_list": certs_dir + "/acme-crt-list.txt",
             "renew_days": _typed.integer(values.get("acme_renew_days", 30), _var("acme_renew_days"), 1, 3650),
             "directory": None, "email": None}
    if not out:
        return typed
    directory = values.get("acme_directory")
    if not isinstance(directory, str) or not _ACME_DIRECTORY.fullmatch(directory):
        raise NetsecError("%r is not an https URL of an ACME directory" % (directory,), field=_var("acme_directory"),
                          fix="give the CA's directory URL, for example https://acme-v02.api.letsencrypt.org/directory")
    if not edge.flag(values.get("acme_terms_agreed"), _var("acme_terms_agreed")):
        raise NetsecError("is not true", field=_var("acme_terms_agreed"), fix="read the ACME CA's terms of service and set it to true")
    email = values.get("acme_email") or None
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email)):
        raise NetsecError("%r is not an e-mail address" % (email,), field=_var("acme_email"), fix="give one address or leave it empty")
    typed.update({"directory": directory, "email": email})
    return typed


def parse(values):
    """All role variables (names without the prefix) -> the typed values the tasks and templates use."""
    values = dict(values)
    profiles = values.get("tls_profiles") or {}
    profile = _typed.choice(values.get("tls_profile"), _var("tls_profile"), sorted(profiles))
    kinds = list(profiles[profile]["certificate_types"])
    spec = pm.ClusterSpec.from_dict(values.get("cluster"), _var("cluster"))
    book = values.get("addresses")
    config_dir = word(values.get("config_dir"), _var("config_dir"), "path")
    certs_dir, lists_dir = config_dir.rstrip("/") + "/certs", config_dir.rstrip("/") + "/lists"
    certs = certificates(values.get("certificates"), kinds, profile)
    upstreams = edge.upstreams(spec, book, _var("addresses"))
    if not upstreams.get("kube-apiserver", {}).get("servers"):
        raise NetsecError("has no control-plane address for the API backends", field=_var("addresses", "control_plane"),
                          fix="list the control-plane nodes' addresses")
    routes = edge.ingress_routes(values.get("ingress_routes") or [], spec, book, _var("ingress_routes"))
    default_route = values.get("default_route")
    if default_route is not None and default_route not in [r["name"] for r in routes]:
        raise NetsecError("%r is not a route of haproxy_ingress_routes" % (default_route,), field=_var("default_route"),
                          fix="name one of %s, or leave it unset (404)" % (", ".join(r["name"] for r in routes) or "no routes"))
    rate_period = duration(values.get("rate_period"), _var("rate_period"))
    user = optional(values.get("user"), _var("user"), "name")
    # The backends haproxy.cfg renders with servers (passthrough services, then one per route): the
    # gated change checks each over the runtime API.
    backends = [s for s in edge.PASSTHROUGH_SERVICES if upstreams.get(s, {}).get("servers")]
    backends += ["route_%s" % r["name"] for r in routes if r["servers"]]
    return {
        "cluster_name": word(spec.name, _var("cluster", "name"), "name"),
        "ip_versions": list(spec.ip_versions),
        "service_addresses": addresses(values.get("service_addresses") or [], _var("service_addresses")),
        "bind_transparent": edge.flag(values.get("bind_transparent"), _var("bind_transparent")),
        "health_frontend": health_frontend(values.get("health_frontend")),
        "admin_address": _typed.address(values.get("admin_address"), _var("admin_address")),
        # The port model admits the jump host to haproxy-admin over each IP family it has: listen on both.
        "admin_address6": _typed.address(values["admin_address6"], _var("admin_address6"), versions=(6,)) if values.get("admin_address6") else None,
        "tls_profile": profile,
        "certificates": certs,
        "crt_list": crt_list(certs, kinds, certs_dir),
        "hsts_max_age": _typed.integer(values.get("hsts_max_age"), _var("hsts_max_age"), 0, 2 ** 31 - 1),
        "hsts_include_subdomains": edge.flag(values.get("hsts_include_subdomains"), _var("hsts_include_subdomains")),
        "hsts_preload": edge.flag(values.get("hsts_preload"), _var("hsts_preload")),
        "require_sni_host_match": edge.flag(values.get("require_sni_host_match"), _var("require_sni_host_match")),
        "routes": routes,
        "default_route": default_route,
        "upstreams": upstreams,
        "passthrough_services": list(edge.PASSTHROUGH_SERVICES),
        "backends": backends,
        "api_health_checks": api_health_checks(values.get("api_health_checks")),
        "check_cert": health_check_certificate(values.get("health_check_certificate")),
        "maxconn": _typed.integer(values.get("maxconn"), _var("maxconn"), 0, 10 ** 7),
        "maxconn_max": _typed.integer(values.get("maxconn_max"), _var("maxconn_max"), 100, 10 ** 7),
        "rate_period": rate_period,
        "retry_after": seconds(rate_period),
        "limits": limits(values.get("limits")),
        "abuse_action": _typed.choice(values.get("abuse_action"), _var("abuse_action"), ABUSE_ACTIONS),
        "deny": edge.denylist(values.get("deny_cidrs") or [], _var("deny_cidrs")),
        "exempt": edge.denylist(values.get("limit_exempt_cidrs") or [], _var("limit_exempt_cidrs")),
        "timeouts": timeouts(values.get("timeouts")),
        "close_spread_time": duration(values.get("close_spread_time"), _var("close_spread_time")),
        "hard_stop_after": duration(values.get("hard_stop_after"), _var("hard_stop_after")),
        "bufsize": _typed.integer(values.get("bufsize"), _var("bufsize"), 1024, 2 ** 24),
        "max_header_count": _typed.integer(values.get("max_header_count"), _var("max_header_count"), 1, 32767),
        "max_body_size": _typed.integer(values.get("max_body_size"), _var("max_body_size"), 0, 2 ** 62),
        "max_chunked_body_size": max_chunked_body_size(values),
        "acme": acme(values, config_dir, certs_dir, lists_dir),
        "allowed_methods": methods(values.get("allowed_methods")),
        "config_dir": config_dir,
        "certs_dir": certs_dir,
        "lists_dir": lists_dir,
        "runtime_socket": word(values.get("runtime_socket"), _var("runtime_socket"), "path"),
        "runtime_socket_mode": _typed.choice(str(values.get("runtime_socket_mode")), _var("runtime_socket_mode"), SOCKET_MODES)[1:],
        "master_socket": word(values.get("master_socket"), _var("master_socket"), "path"),
        "chroot": optional(values.get("chroot"), _var("chroot"), "path"),
        "user": user,
        "group": optional(values.get("group"), _var("group"), "name") if user else "",
        "log_target": log_target(values.get("log_target"), _var("log_target")),
        "stats_path": word(values.get("stats_path"), _var("stats_path"), "http_path"),
        "metrics_path": word(values.get("metrics_path"), _var("metrics_path"), "http_path"),
    }
