# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Namespace policy model: declared namespaces and allowed paths -> NetworkPolicy objects
(+ CiliumNetworkPolicy where NetworkPolicy cannot say it), and the declared flows the
reachability proof compares against. Pure: no I/O.

Declaration (the role's variables without the `namespace_policies_` prefix):
  namespaces: [{name, labels, create, psa_level, psa_version, intra_namespace, dns,
                workloads: [{name, labels, ports: [{port, protocol, name}]}]}]
  paths: [{name, from: {namespace, pods} | {cidr}, to: {namespace, pods} | {cidr} | {fqdn}
           | {entity}, ports: [{port, end_port, protocol}], http: [{method, path}]}]
  dns: {namespace, pods, port}
  cluster_cidrs: [pod and service CIDRs: never reachable through a CIDR path]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import ipaddress
import json
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes.owned import stamp
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine

PSA_LEVELS = ("privileged", "baseline", "restricted")
PROTOCOLS = engine.PROTOCOLS
ENTITIES = (engine.ENTITY_APISERVER,)
NP_API = "networking.k8s.io/v1"
CNP_API = "cilium.io/v2"
PATH_ANNOTATION = "netsec.safespring.com/declared-by"
UNMANAGED_NS = "unmanaged.probe"  # a dot: can never be a real namespace name
DEFAULT_DNS = {"namespace": "kube-system", "pods": {"k8s-app": "kube-dns"}, "port": 53}

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_FQDN = re.compile(r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$")


def _fail(message, field, fix=None):
    raise NetsecError(message, field=field, fix=fix)


def _labels(value, field):
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail("must be a mapping of label key to value", field)
    out = {}
    for key, val in value.items():
        if not _LABEL_KEY.match(str(key)):
            _fail("%r is not a valid label key" % key, field_path(field, str(key)))
        if not _LABEL_VALUE.match(str(val)):
            _fail("%r is not a valid label value" % val, field_path(field, str(key)))
        out[str(key)] = str(val)
    return out


def _port_entries(ports, field, allow_names=True):
    out = []
    seen = {}
    for idx, item in enumerate(ports or []):
        where = field_path(field, idx)
        if not isinstance(item, dict):
            item = {"port": item}
        proto = str(item.get("protocol") or "TCP").upper()
        if proto not in PROTOCOLS:
            _fail("protocol %r is not one of %s" % (item.get("protocol"), ", ".join(PROTOCOLS)), field_path(where, "protocol"))
        port = item.get("port")
        end = item.get("end_port")
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        if isinstance(port, bool) or port is None:
            _fail("a port number (1-65535) or a port name is required", field_path(where, "port"))
        if isinstance(port, int):
            if not 1 <= port <= 65535:
                _fail("%d is not a port (1-65535)" % port, field_path(where, "port"))
        elif not allow_names:
            _fail("%r: only numeric ports here" % port, field_path(where, "port"))
        elif not _PORT_NAME.match(str(port)) or not re.search("[a-z]", str(port)):
            _fail("%r is not a port number or an IANA port name" % port, field_path(where, "port"),
                  fix="1-15 lower-case letters, digits and '-', with at least one letter")
        if end is not None:
            if not isinstance(port, int):
                _fail("end_port needs a numeric port", field_path(where, "end_port"))
            if isinstance(end, bool) or not isinstance(end, int) or not port <= end <= 65535:
                _fail("%r is not a port from %s to 65535" % (end, port), field_path(where, "end_port"))
        span = (port, end if end is not None else port) if isinstance(port, int) else (port, port)
        for (oproto, ospan), owhere in seen.items():
            if oproto != proto:
                continue
            clash = (ospan == span) if not isinstance(port, int) or not isinstance(ospan[0], int) else \
                (span[0] <= ospan[1] and ospan[0] <= span[1])
            if clash:
                _fail("overlaps %s" % owhere, where, fix="list each port or range once")
        seen[(proto, span)] = where
        out.append({"protocol": proto, "port": port, "end_port": end})
    return out


def _cidr(value, field):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        _fail("%r is not a network address (%s)" % (value, exc), field)


def _strip_none(value):
    """Ansible fills unset suboptions with None: treat them as absent."""
    if isinstance(value, dict):
        return dict((k, _strip_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


def validate(decl, field_prefix="namespace_policies_"):
    """Check the declaration and return a normalised copy. Raises NetsecError naming the
    entry (e.g. namespace_policies_paths[3].to.namespace) before anything is built."""
    decl = _strip_none(decl)

    def fld(*parts):
        return field_path(field_prefix + str(parts[0]), *parts[1:])

    namespaces = []
    by_name = {}
    for idx, ns in enumerate(decl.get("namespaces") or []):
        if not isinstance(ns, dict) or not ns.get("name"):
            _fail("each namespace needs a name", fld("namespaces", idx, "name"))
        name = str(ns["name"])
        if not _DNS_LABEL.match(name):
            _fail("%r is not a valid namespace name" % name, fld("namespaces", idx, "name"), fix="RFC 1123 label: a-z, 0-9, '-'")
        if name.startswith("kube-"):
            # Managing kube-system here would default-deny the control plane's own traffic and let a PSA level of its choosing in.
            _fail("%r is a Kubernetes system namespace and cannot be managed here" % name, fld("namespaces", idx, "name"),
                  fix="remove it: kube-system is covered by the cilium baseline kube-system policies (cilium_baseline_policies)")
        if name in by_name:
            _fail("namespace %r is declared twice (also namespaces[%d])" % (name, by_name[name]["index"]), fld("namespaces", idx, "name"))
        level = ns.get("psa_level")
        if level is not None and level not in PSA_LEVELS:
            _fail("%r is not one of %s" % (level, ", ".join(PSA_LEVELS)), fld("namespaces", idx, "psa_level"))
        workloads = []
        wnames = set()
        for widx, wl in enumerate(ns.get("workloads") or []):
            wfield = fld("namespaces", idx, "workloads", widx)
            if not isinstance(wl, dict) or not wl.get("name"):
                _fail("each workload needs a name", field_path(wfield, "name"))
            if wl["name"] in wnames:
                _fail("workload %r is declared twice" % wl["name"], field_path(wfield, "name"))
            wnames.add(wl["name"])
            ports = _port_entries(wl.get("ports"), field_path(wfield, "ports"), allow_names=False)
            for pidx, port in enumerate(wl.get("ports") or []):
                pname = port.get("name") if isinstance(port, dict) else None
                if pname is not None and (not _PORT_NAME.match(str(pname)) or not re.search("[a-z]", str(pname))):
                    _fail("%r is not an IANA port name" % pname, field_path(wfield, "ports", pidx, "name"))
                ports[pidx]["name"] = pname
            workloads.append({"name": str(wl["name"]), "labels": _labels(wl.get("labels"), field_path(wfield, "labels")), "ports": ports})
        entry = {
            "index": idx, "name": name,
            "labels": _labels(ns.get("labels"), fld("namespaces", idx, "labels")),
            "create": bool(ns.get("create", decl.get("create_namespaces", False))),
            "psa_level": level, "psa_version": str(ns.get("psa_version") or "latest"),
            "intra_namespace": bool(ns.get("intra_namespace", False)),
            "dns": bool(ns.get("dns", True)),
            "workloads": workloads,
        }
        by_name[name] = entry
        namespaces.append(entry)

    dns = dict(DEFAULT_DNS)
    dns.update(decl.get("dns") or {})
    dns["pods"] = _labels(dns.get("pods"), fld("dns", "pods"))
    if not isinstance(dns.get("port"), int) or not 1 <= dns["port"] <= 65535:
        _fail("%r is not a port (1-65535)" % dns.get("port"), fld("dns", "port"))

    cluster = []
    for idx, cidr in enumerate(decl.get("cluster_cidrs") or []):
        cluster.append(_cidr(cidr, fld("cluster_cidrs", idx)))

    paths = []
    names = {}
    for idx, path in enumerate(decl.get("paths") or []):
        pfield = fld("paths", idx)
        if not isinstance(path, dict):
            _fail("each path must be a mapping with from, to and ports", pfield)
        ends = {}
        for side in ("from", "to"):
            end = path.get(side)
            sfield = field_path(pfield, side)
            if not isinstance(end, dict) or not end:
                _fail("needs one of namespace, cidr%s" % (", fqdn, entity" if side == "to" else ""), sfield)
            allowed = ("namespace", "cidr") + (("fqdn", "entity") if side == "to" else ())
            kinds = [k for k in allowed if end.get(k) is not None]
            unknown = sorted(set(end) - set(allowed) - set(["pods"]))
            if unknown:
                _fail("unknown key(s) %s" % ", ".join(unknown), sfield, fix="use one of %s (+ pods with namespace)" % ", ".join(allowed))
            if len(kinds) != 1:
                _fail("needs exactly one of %s" % ", ".join(allowed), sfield)
            kind = kinds[0]
            if end.get("pods") is not None and kind != "namespace":
                _fail("pods only goes with namespace", field_path(sfield, "pods"))
            if kind == "namespace":
                nsname = str(end["namespace"])
                if nsname not in by_name:
                    _fail("%r is not a managed namespace" % nsname, field_path(sfield, "namespace"),
                          fix="declare it in namespace_policies_namespaces or correct the name")
                ends[side] = {"kind": "namespace", "namespace": nsname, "pods": _labels(end.get("pods"), field_path(sfield, "pods"))}
            elif kind == "cidr":
                net = _cidr(end["cidr"], field_path(sfield, "cidr"))
                for cidx, cnet in enumerate(cluster):
                    if net.version == cnet.version and net.subnet_of(cnet):
                        _fail("%s overlaps cluster CIDR %s (cluster_cidrs[%d])" % (net, cnet, cidx), field_path(sfield, "cidr"),
                              fix="reach pods with a namespace/pods path; CIDR paths are for addresses outside the cluster")
                ends[side] = {"kind": "cidr", "cidr": str(net)}
            elif kind == "fqdn":
                fqdn = str(end["fqdn"]).lower()
                if not _FQDN.match(fqdn):
                    _fail("%r is not a DNS name (a leading '*.' is allowed)" % end["fqdn"], field_path(sfield, "fqdn"))
                ends[side] = {"kind": "fqdn", "fqdn": fqdn.rstrip(".")}
            else:
                if end["entity"] not in ENTITIES:
                    _fail("%r is not one of %s" % (end["entity"], ", ".join(ENTITIES)), field_path(sfield, "entity"))
                ends[side] = {"kind": "entity", "entity": end["entity"]}
        if ends["from"]["kind"] != "namespace" and ends["to"]["kind"] != "namespace":
            _fail("one end of a path must be a managed namespace", pfield)
        ports = _port_entries(path.get("ports"), field_path(pfield, "ports"))
        if ends["to"]["kind"] == "namespace":
            dst_ns = by_name[ends["to"]["namespace"]]
            for pidx, port in enumerate(ports):
                if not isinstance(port["port"], int) and not any(
                        wp.get("name") == port["port"] and wp["protocol"] == port["protocol"]
                        for wl in dst_ns["workloads"] for wp in wl["ports"]):
                    _fail("named port %r (%s) is not declared by a workload of namespace %r" % (port["port"], port["protocol"], dst_ns["name"]),
                          field_path(pfield, "ports", pidx, "port"),
                          fix="declare the workload and its named port under namespaces[%d].workloads, or use the number" % dst_ns["index"])
        if ends["to"]["kind"] != "namespace" and any(not isinstance(p["port"], int) for p in ports):
            _fail("named ports resolve on destination pods; use numbers towards %s" % ends["to"]["kind"], field_path(pfield, "ports"))
        if ends["to"]["kind"] in ("fqdn", "entity") and not ports:
            _fail("list the ports allowed towards %s" % ends["to"]["kind"], field_path(pfield, "ports"))
        http = path.get("http") or []
        if http:
            if ends["from"]["kind"] != "namespace" or ends["to"]["kind"] != "namespace":
                _fail("L7 rules need a namespace at both ends", field_path(pfield, "http"))
            if not ports or any(p["protocol"] != "TCP" for p in ports):
                _fail("L7 HTTP rules need TCP ports", field_path(pfield, "ports"))
            for hidx, rule in enumerate(http):
                if not isinstance(rule, dict) or not set(rule) <= set(["method", "path"]):
                    _fail("an HTTP rule takes method and path", field_path(pfield, "http", hidx))
        name = path.get("name")
        if name is not None and not _DNS_LABEL.match(str(name)):
            _fail("%r is not a valid name" % name, field_path(pfield, "name"), fix="RFC 1123 label")
        entry = {"index": idx, "field": pfield, "from": ends["from"], "to": ends["to"], "ports": ports,
                 "http": [dict(r) for r in http], "explicit_name": name}
        _check_overlap(entry, paths, by_name, field_prefix)
        entry["name"] = str(name) if name else _auto_name(entry)
        if entry["name"] in names:
            _fail("name %r is already used by paths[%d]" % (entry["name"], names[entry["name"]]), field_path(pfield, "name"),
                  fix="give each path a unique name")
        names[entry["name"]] = idx
        paths.append(entry)
    return {"namespaces": namespaces, "by_name": by_name, "paths": paths, "dns": dns,
            "cluster_cidrs": [str(c) for c in cluster]}


def _auto_name(path):
    def part(end):
        if end["kind"] == "namespace":
            return end["namespace"] + ("-" + "-".join(sorted(end["pods"].values())) if end["pods"] else "")
        return {"cidr": "cidr", "fqdn": "fqdn", "entity": "apiserver"}[end["kind"]]
    digest = hashlib.sha1(json.dumps([path["from"], path["to"], path["ports"]], sort_keys=True).encode()).hexdigest()[:6]
    slug = re.sub("[^a-z0-9-]+", "-", ("%s-to-%s" % (part(path["from"]), part(path["to"]))).lower()).strip("-")
    return ("%s-%s" % (slug[:40].strip("-"), digest))


def _ports_overlap(left, right):
    if not left or not right:
        return True  # no ports = every port
    for a in left:
        for b in right:
            if a["protocol"] != b["protocol"]:
                continue
            if isinstance(a["port"], int) and isinstance(b["port"], int):
                if a["port"] <= (b["end_port"] or b["port"]) and b["port"] <= (a["end_port"] or a["port"]):
                    return True
            elif a["port"] == b["port"]:
                return True
    return False


def _check_overlap(entry, earlier, by_name, prefix):
    src, dst = entry["from"], entry["to"]
    if src["kind"] == "namespace" and dst["kind"] == "namespace" and src["namespace"] == dst["namespace"] \
            and by_name[src["namespace"]]["intra_namespace"]:
        _fail("namespace %r already allows all traffic inside it (intra_namespace: true)" % src["namespace"], entry["field"],
              fix="drop the path or set intra_namespace: false on namespaces[%d]" % by_name[src["namespace"]]["index"])
    for other in earlier:
        if other["from"] == src and other["to"] == dst and _ports_overlap(other["ports"], entry["ports"]):
            if other["http"] != entry["http"]:
                _fail("contradicts the L7 rules of %s on the same ports" % other["field"], entry["field"],
                      fix="one path per port with one set of HTTP rules")
            if other["ports"] == entry["ports"]:
                _fail("duplicates %s" % other["field"], entry["field"], fix="remove one of them")
            _fail("overlaps the ports of %s" % other["field"], entry["field"], fix="merge the two entries")


# -- objects ---------------------------------------------------------------------------
def _np(namespace, name, spec, owned_set, origin):
    obj = {"apiVersion": NP_API, "kind": "NetworkPolicy",
           "metadata": {"name": name, "namespace": namespace, "annotations": {PATH_ANNOTATION: origin}}, "spec": spec}
    return stamp(obj, owned_set)


def _cnp(namespace, name, spec, owned_set, origin):
    spec = dict(spec)
    # Additive only: isolation comes from the portable default-deny NetworkPolicy.
    spec["enableDefaultDeny"] = {"ingress": False, "egress": False}
    obj = {"apiVersion": CNP_API, "kind": "CiliumNetworkPolicy",
           "metadata": {"name": name, "namespace": namespace, "annotations": {PATH_ANNOTATION: origin}}, "spec": spec}
    return stamp(obj, owned_set)


def _np_ports(ports):
    out = []
    for item in ports:
        entry = {"protocol": item["protocol"], "port": item["port"]}
        if item["end_port"] is not None and item["end_port"] != item["port"]:
            entry["endPort"] = item["end_port"]
        out.append(entry)
    return out


def _cnp_ports(ports):
    out = []
    for item in ports:
        entry = {"port": str(item["port"]), "protocol": item["protocol"]}
        if item["end_port"] is not None and item["end_port"] != item["port"]:
            entry["endPort"] = item["end_port"]
        out.append(entry)
    return [{"ports": out}]


def _selector(labels):
    return {"matchLabels": dict(labels)} if labels else {}


def _ns_peer(namespace, pods):
    peer = {"namespaceSelector": {"matchLabels": {engine.NS_NAME_LABEL: namespace}}}
    peer["podSelector"] = _selector(pods)
    return peer


def _cilium_endpoints(namespace, pods):
    labels = {"k8s:%s" % engine.CILIUM_NS_LABEL: namespace}
    for key, val in pods.items():
        labels["k8s:%s" % key] = val
    return {"matchLabels": labels}


def _rule(peer_key, peers, ports):
    rule = {peer_key: peers}
    if ports:
        rule["ports"] = _np_ports(ports)
    return rule


def _except_cluster(cidr, cluster):
    net = ipaddress.ip_network(cidr)
    return sorted(str(c) for c in (ipaddress.ip_network(x) for x in cluster) if c.version == net.version and c.subnet_of(net))


def _block(cidr, norm):
    """ipBlock that never covers the cluster's own pod/service ranges."""
    block = {"cidr": cidr}
    excepts = _except_cluster(cidr, norm["cluster_cidrs"])
    if excepts:
        block["except"] = excepts
    return block


def build_objects(norm, owned_set, prefix="namespace_policies_"):
    """Namespaces (with PSA labels) and policies for a validated declaration."""
    objects = []
    dns = norm["dns"]
    dns_ports = [{"protocol": p, "port": dns["port"], "end_port": None} for p in ("UDP", "TCP")]
    fqdn_namespaces = set(p["from"]["namespace"] for p in norm["paths"] if p["to"]["kind"] == "fqdn")
    for ns in norm["namespaces"]:
        name = ns["name"]
        origin = "%snamespaces[%d]" % (prefix, ns["index"])
        labels = dict(ns["labels"])
        if ns["psa_level"]:
            for mode in ("enforce", "audit", "warn"):
                labels["pod-security.kubernetes.io/%s" % mode] = ns["psa_level"]
                labels["pod-security.kubernetes.io/%s-version" % mode] = ns["psa_version"]
        if ns["create"] or labels:
            objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
        objects.append(_np(name, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, owned_set, origin))
        if ns["dns"]:
            objects.append(_np(name, "allow-dns", {
                "podSelector": {}, "policyTypes": ["Egress"],
                "egress": [_rule("to", [_ns_peer(dns["namespace"], dns["pods"])], dns_ports)]}, owned_set, origin))
        if name == dns["namespace"]:
            # every pod of the cluster resolves names here
            objects.append(_np(name, "allow-dns-ingress", {
                "podSelector": _selector(dns["pods"]), "policyTypes": ["Ingress"],
                "ingress": [_rule("from", [{"namespaceSelector": {}}], dns_ports)]}, owned_set, origin))
        if ns["intra_namespace"]:
            objects.append(_np(name, "allow-intra-namespace", {
                "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": [{"podSelector": {}}]}], "egress": [{"to": [{"podSelector": {}}]}]}, owned_set, origin))
        if name in fqdn_namespaces:
            # toFQDNs only learns addresses from DNS answers Cilium's proxy sees
            objects.append(_cnp(name, "allow-dns-visibility", {
                "endpointSelector": {},
                "egress": [{"toEndpoints": [_cilium_endpoints(dns["namespace"], dns["pods"])],
                            "toPorts": [{"ports": [{"port": str(dns["port"]), "protocol": "UDP"},
                                                   {"port": str(dns["port"]), "protocol": "TCP"}],
                                         "rules": {"dns": [{"matchPattern": "*"}]}}]}]}, owned_set, origin))
    for path in norm["paths"]:
        objects.extend(_path_objects(path, norm, owned_set, prefix))
    return objects


def _path_objects(path, norm, owned_set, prefix):
    src, dst, ports = path["from"], path["to"], path["ports"]
    origin = path["field"]
    name = "path-" + path["name"]
    out = []
    if src["kind"] == "namespace":
        sel = _selector(src["pods"])
        if dst["kind"] == "namespace":
            out.append(_np(src["namespace"], name + "-egress", {
                "podSelector": sel, "policyTypes": ["Egress"],
                "egress": [_rule("to", [_ns_peer(dst["namespace"], dst["pods"])], ports)]}, owned_set, origin))
        elif dst["kind"] == "cidr":
            out.append(_np(src["namespace"], name + "-egress", {
                "podSelector": sel, "policyTypes": ["Egress"],
                "egress": [_rule("to", [{"ipBlock": _block(dst["cidr"], norm)}], ports)]}, owned_set, origin))
        elif dst["kind"] == "fqdn":
            match = {"matchPattern": dst["fqdn"]} if "*" in dst["fqdn"] else {"matchName": dst["fqdn"]}
            out.append(_cnp(src["namespace"], name + "-egress", {
                "endpointSelector": sel, "egress": [{"toFQDNs": [match], "toPorts": _cnp_ports(ports)}]}, owned_set, origin))
        else:
            out.append(_cnp(src["namespace"], name + "-egress", {
                "endpointSelector": sel, "egress": [{"toEntities": [dst["entity"]], "toPorts": _cnp_ports(ports)}]}, owned_set, origin))
    if dst["kind"] == "namespace":
        sel = _selector(dst["pods"])
        if src["kind"] == "namespace" and path["http"]:
            cports = _cnp_ports(ports)
            cports[0]["rules"] = {"http": [dict((k, v) for k, v in r.items()) for r in path["http"]]}
            out.append(_cnp(dst["namespace"], name + "-ingress", {
                "endpointSelector": sel,
                "ingress": [{"fromEndpoints": [_cilium_endpoints(src["namespace"], src["pods"])], "toPorts": cports}]}, owned_set, origin))
        elif src["kind"] == "namespace":
            out.append(_np(dst["namespace"], name + "-ingress", {
                "podSelector": sel, "policyTypes": ["Ingress"],
                "ingress": [_rule("from", [_ns_peer(src["namespace"], src["pods"])], ports)]}, owned_set, origin))
        else:
            out.append(_np(dst["namespace"], name + "-ingress", {
                "podSelector": sel, "policyTypes": ["Ingress"],
                "ingress": [_rule("from", [{"ipBlock": _block(src["cidr"], norm)}], ports)]}, owned_set, origin))
    return out


# -- the proof -------------------------------------------------------------------------
def proof_universe(norm, policies):
    """Namespaces, pods and outside endpoints for the proof.

    Declared workloads are used as they are. Otherwise each managed namespace gets one
    probe pod per label set its paths select plus one pod no path names, and an extra
    namespace that nobody manages holds one pod: together they expose a policy that
    admits more than declared. Probe pods are tested on every port interval."""
    namespaces = [{"name": ns["name"], "labels": ns["labels"]} for ns in norm["namespaces"]]
    namespaces.append({"name": UNMANAGED_NS, "labels": {}})
    selectors = dict((ns["name"], set()) for ns in norm["namespaces"])
    for path in norm["paths"]:
        for end in (path["from"], path["to"]):
            if end["kind"] == "namespace" and end["pods"]:
                selectors[end["namespace"]].add(tuple(sorted(end["pods"].items())))
    dns = norm["dns"]
    if dns["namespace"] in selectors and dns["pods"]:
        selectors[dns["namespace"]].add(tuple(sorted(dns["pods"].items())))
    pods = []
    for ns in norm["namespaces"]:
        if ns["workloads"]:
            for wl in ns["workloads"]:
                pods.append({"namespace": ns["name"], "name": wl["name"], "labels": wl["labels"],
                             "ports": [{"port": p["port"], "protocol": p["protocol"], "name": p.get("name")} for p in wl["ports"]]})
            continue
        for sel in sorted(selectors[ns["name"]]):
            pods.append({"namespace": ns["name"], "name": "{%s}" % ",".join("%s=%s" % kv for kv in sel), "labels": dict(sel)})
        pods.append({"namespace": ns["name"], "name": "{other pods}", "labels": {"netsec.safespring.com/probe": "unselected"}})
    pods.append({"namespace": UNMANAGED_NS, "name": "{any pod}", "labels": {}})
    if dns["namespace"] not in norm["by_name"]:
        namespaces.append({"name": dns["namespace"], "labels": {}})
        pods.append({"namespace": dns["namespace"], "name": "{%s}" % ",".join("%s=%s" % kv for kv in sorted(dns["pods"].items())),
                     "labels": dict(dns["pods"])})
    cidrs = list(norm["cluster_cidrs"])
    fqdns = []
    ports = []
    for path in norm["paths"]:
        for end in (path["from"], path["to"]):
            if end["kind"] == "cidr":
                cidrs.append(end["cidr"])
            elif end["kind"] == "fqdn":
                fqdns.append(end["fqdn"].replace("*", "any"))
        for port in path["ports"]:
            if isinstance(port["port"], int):
                ports.append((port["protocol"], port["port"], port["end_port"] or port["port"]))
    ports.extend([("UDP", dns["port"], dns["port"]), ("TCP", dns["port"], dns["port"])])
    return engine.Universe(namespaces, pods, policies=policies, cidrs=cidrs, fqdns=fqdns, ports=ports)


def _end_mask(uni, end, cluster):
    if end["kind"] == "namespace":
        mask = uni.ns_mask[end["namespace"]]
        if end["pods"]:
            mask &= uni.pod_label_mask({"matchLabels": end["pods"]})
        return mask
    if end["kind"] == "cidr":
        mask = uni.cidr_mask(end["cidr"], (), False)
        for cidr in cluster:
            try:
                mask &= ~uni.cidr_mask(cidr, (), False)
            except engine.PolicyError:
                pass
        return mask
    if end["kind"] == "fqdn":
        pattern = end["fqdn"]
        mask = 0
        for idx in engine.iter_bits(uni.fqdn_mask):
            name = uni.endpoints[idx].name
            if name == pattern.replace("*", "any") or name == pattern:
                mask |= 1 << idx
        return mask
    return uni.entity_mask[end["entity"]]


def expected_flows(norm, uni):
    """Per destination and port key, the sources the declaration allows (DNS included)."""
    managed = 0
    for ns in norm["namespaces"]:
        managed |= uni.ns_mask[ns["name"]]
    exp = [dict() for dummy in uni.endpoints]

    def allow(srcs, dsts, specs):
        keys = uni.matched_keys(specs)
        for d in engine.iter_bits(dsts):
            per_key = exp[d]
            for kid in uni.endpoints[d].keys:
                if keys is None or kid in keys:
                    per_key[kid] = per_key.get(kid, 0) | (srcs & ~(1 << d))

    dns = norm["dns"]
    if dns["namespace"] in uni.ns_mask:
        dns_pods = uni.ns_mask[dns["namespace"]] & uni.pod_label_mask({"matchLabels": dns["pods"]})
        resolvers = uni.pods_mask
        for ns in norm["namespaces"]:
            if not ns["dns"]:
                resolvers &= ~uni.ns_mask[ns["name"]]
        if dns["namespace"] not in norm["by_name"]:
            resolvers = managed & resolvers
        allow(resolvers, dns_pods, [("UDP", dns["port"], None), ("TCP", dns["port"], None)])
    for ns in norm["namespaces"]:
        if ns["intra_namespace"]:
            allow(uni.ns_mask[ns["name"]], uni.ns_mask[ns["name"]], [])
    for path in norm["paths"]:
        specs = [(p["protocol"], p["port"], p["end_port"]) for p in path["ports"]]
        allow(_end_mask(uni, path["from"], norm["cluster_cidrs"]), _end_mask(uni, path["to"], norm["cluster_cidrs"]), specs)
    return exp, managed


def compare(reach, expected, managed, limit=50):
    """Differences between the reachable and the declared flows, for flows that touch a
    managed pod (what happens between two unmanaged endpoints is not ours to prove)."""
    uni = reach.universe
    extra, missing = [], []
    n_extra = n_missing = 0
    for d, ep in enumerate(uni.endpoints):
        scope = uni.all_mask if managed >> d & 1 else managed
        have, want = reach.allowed[d], expected[d]
        for kid in ep.keys:
            got = have.get(kid, 0) & scope
            exp = want.get(kid, 0) & scope
            if got == exp:
                continue
            for bucket, mask in ((extra, got & ~exp), (missing, exp & ~got)):
                for s in engine.iter_bits(mask):
                    if bucket is extra:
                        n_extra += 1
                    else:
                        n_missing += 1
                    if len(bucket) < limit:
                        bucket.append({"from": uni.endpoints[s].name, "to": ep.name, "port": uni.key_label(kid)})
    return {"extra": extra, "missing": missing, "extra_count": n_extra, "missing_count": n_missing,
            "equal": n_extra == 0 and n_missing == 0}


def prove(norm, policies, limit=50):
    """Reachability of `policies` against the declaration: (Reachability, diff, universe)."""
    uni = proof_universe(norm, policies)
    reach = engine.analyze(uni, policies)
    exp, managed = expected_flows(norm, uni)
    return reach, compare(reach, exp, managed, limit), uni
