# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The merged config checked against the baseline, after every patch.

Patches may change anything in a Talos config; this judges the result, whatever path led
there, and refuses (unless waived by name) a config that

- does not block by default (`ingress: accept`, or the NetworkDefaultActionConfig deleted);
- opens a sensitive service (port_model.SENSITIVE_SERVICES) to the Internet: every
  NetworkRuleConfig becomes port-model lint entries, judged by port_model.lint on address
  coverage (0.0.0.0/1 + 128.0.0.0/1, 2000::/3 and rules without sources count as the world);
- admits a sensitive service from sources the port model does not list for this role (the
  rendered rules, plus admin_sources on apid of control-plane nodes);
- re-enables what hardening.py turns off: a CNI other than none (Flannel), kube-proxy, and
  Talos API access from pods beyond what the knobs grant (never os:admin or os:operator).

Each refusal names the input that caused it: the patch after which it first appears (the
stages are replayed only when something is refused), else the option or knob.

Waivers, both {name, ..., scope, reason} with scope a node role or a node name:
- exposure (`waivers`): the port model's own shape {name, service, scope, reason};
- the rest (`baseline_waivers`): {name, check, scope, reason} with check one of CHECKS; the
  port-model waivers cannot say "default action" or "kube-proxy".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import firewall as F

CHECKS = {
    "default-action": "the host firewall blocks by default",
    "cni": "no CNI but the collection's Cilium (cluster.network.cni none / no KubeFlannelCNIConfig)",
    "kube-proxy": "kube-proxy stays disabled (Cilium replaces it)",
    "talos-api-access": "pods get no Talos API access beyond the knobs, and never a writing role",
}
# Roles of Talos API access a pod may get without a waiver.
READ_ONLY_ROLES = ("os:reader",)


class Context(object):
    """What the checks compare the config with."""

    def __init__(self, role, node, talos_version, knobs, allowed_rules=None, admin_sources=(), waivers=None,
                 baseline_waivers=None, pre_fields=None):
        self.role, self.node, self.talos_version, self.knobs = role, node, talos_version, knobs
        # Port-model rules of this role (None: no cluster spec, so only the Internet lint applies).
        self.allowed_rules = allowed_rules
        self.admin_sources = list(admin_sources or [])
        self.waivers = _scoped(check_port_waivers(waivers or []), role, node)
        self.baseline_waivers = _scoped(check_baseline_waivers(baseline_waivers or []), role, node)
        self.pre_fields = pre_fields or {}
        self.used = []

    def port_waived(self, service):
        return pm.waived(self.waivers, service, self.role)

    def baseline_waiver(self, check):
        for waiver in self.baseline_waivers:
            if waiver["check"] == check and waiver["scope"] == self.role:
                return waiver
        return None


def check_port_waivers(waivers, field="waivers"):
    problems = pm.check_waivers(waivers, field)
    if problems:
        raise problems[0]
    return waivers


def check_baseline_waivers(waivers, field="baseline_waivers"):
    """{name, check, scope, reason}: named, scoped to a node role or a node, with a reason."""
    if not isinstance(waivers, list):
        raise NetsecError("must be a list of {name, check, scope, reason}", field=field)
    for i, waiver in enumerate(waivers):
        wfield = field_path(field, i)
        if not isinstance(waiver, dict):
            raise NetsecError("must be a mapping {name, check, scope, reason}", field=wfield)
        unknown = set(waiver) - {"name", "check", "scope", "reason"}
        if unknown:
            raise NetsecError("unknown key(s) %s" % ", ".join(sorted(str(k) for k in unknown)), field=wfield,
                              fix="a baseline waiver has name, check, scope and reason")
        for key in ("name", "scope", "reason"):
            if not isinstance(waiver.get(key), str) or not waiver[key].strip():
                raise NetsecError("is required (a waiver is named, scoped to a node role or node, and says why)", field=field_path(wfield, key))
        if waiver.get("check") not in CHECKS:
            raise NetsecError("%r is not one of %s" % (waiver.get("check"), ", ".join(sorted(CHECKS))), field=field_path(wfield, "check"))
    return waivers


def _scoped(waivers, role, node):
    """Waivers for this node with the scope given as the role (a node-scoped one applies to it alone)."""
    out = []
    for waiver in waivers:
        scope = waiver.get("scope")
        if scope in (None, role, node):
            out.append(dict(waiver, scope=role))
    return out


# --- the checks: {key: (document path, message, fix)} of one config -------------------------

def _main(docs):
    return D.main_document(docs) or {}


def _get(doc, *keys):
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _default_action(docs, ctx, found):
    doc = D.find(docs, F.DEFAULT_ACTION_KIND)
    if doc is None:
        found["default-action"] = (F.DEFAULT_ACTION_KIND, "is missing: without it Talos accepts all ingress",
                                   "keep the NetworkDefaultActionConfig document with ingress: block")
    elif doc.get("ingress") != "block":
        found["default-action"] = (F.DEFAULT_ACTION_KIND + ".ingress", "is %r: every port of the node is open" % (doc.get("ingress"),),
                                   "keep ingress: block")


def _service_text(service):
    return "%s (%s)" % (service.name, pm._port_text(service))


def _exposure(docs, ctx, found):
    parsed = F.rules(docs)
    allowed = F.rules(ctx.allowed_rules) if ctx.allowed_rules is not None else None
    for name in pm.SENSITIVE_SERVICES:
        service = pm.SERVICES[name]
        if ctx.port_waived(name):
            continue
        entries = F.lint_entries(parsed, ctx.role, ctx.node, service=service)
        problems = pm.lint(entries)
        if problems:
            first = problems[0]
            found[("world", name)] = (first.field, first.message, first.fix)
            continue
        if allowed is None or not entries:
            continue
        have = F.coverage(parsed, service.protocol, service.port_min, service.port_max)
        want = F.coverage(allowed, service.protocol, service.port_min, service.port_max)
        if name == "talos-apid" and ctx.role == "control_plane" and ctx.admin_sources:
            extra = [ipaddress.ip_network(c, strict=False) for c in ctx.admin_sources]
            for family in (4, 6):
                want[family] = F.merge(want[family] + [F._interval(n) for n in extra if n.version == family])
        for family in (4, 6):
            excess = F.subtract(have[family], want[family])
            if excess:
                cidrs = F.to_cidrs(excess, family)
                culprit = next((r for r in parsed if F._overlaps(r, service.protocol, service.port_min, service.port_max)
                                and F.subtract(F.rule_coverage(r)[family], want[family])), None)
                shown = ", ".join(cidrs[:4]) + (" and %d more" % (len(cidrs) - 4) if len(cidrs) > 4 else "")
                source = "the port model's sources for %s" % ctx.role if want[family] else "no IPv%d source in the port model" % family
                found[("beyond-model", name)] = (
                    culprit.label if culprit else F.RULE_KIND,
                    "admits %s to %s: beyond %s" % (shown, _service_text(service), source),
                    "restrict the rule to the addresses of the roles that use %s, or add a named waiver "
                    "{name, service: %s, scope, reason}" % (name, name))
                break


def _cni(docs, ctx, found):
    if ctx.talos_version == "1.13":
        cni = _get(_main(docs), "cluster", "network", "cni")
        name = cni.get("name") if isinstance(cni, dict) else None
        if name != "none":
            found["cni"] = ("v1alpha1.cluster.network.cni", "is %s: a CNI beside the collection's Cilium bypasses its policies"
                            % ("%r" % name if name else "not set, which Talos reads as flannel"), "keep cni: {name: none}")
    elif D.find(docs, "KubeFlannelCNIConfig") is not None:
        found["cni"] = ("KubeFlannelCNIConfig", "re-enables Flannel beside the collection's Cilium", "drop the KubeFlannelCNIConfig document")


def _kube_proxy(docs, ctx, found):
    if ctx.talos_version == "1.13":
        if _get(_main(docs), "cluster", "proxy", "disabled") is not True:
            found["kube-proxy"] = ("v1alpha1.cluster.proxy.disabled", "is not true: kube-proxy would run beside Cilium's replacement",
                                   "keep cluster.proxy.disabled: true")
    elif ctx.role == "control_plane":
        proxy = D.find(docs, "KubeProxyConfig")
        if proxy is None or proxy.get("enabled") is not False:
            found["kube-proxy"] = ("KubeProxyConfig.enabled", "is not false: kube-proxy would run beside Cilium's replacement",
                                   "keep KubeProxyConfig with enabled: false")


def _talos_api_access(docs, ctx, found):
    knob = ctx.knobs["talos_api_access"]
    expected = bool(knob["enabled"]) and ctx.role == "control_plane"
    if ctx.talos_version == "1.13":
        access = _get(_main(docs), "machine", "features", "kubernetesTalosAPIAccess")
        where = "v1alpha1.machine.features.kubernetesTalosAPIAccess"
        enabled = isinstance(access, dict) and access.get("enabled") is True
    else:
        access = D.find(docs, "KubeTalosAPIAccessConfig")
        where = "KubeTalosAPIAccessConfig"
        enabled = access is not None
    if not enabled:
        return
    roles = access.get("allowedRoles") if isinstance(access.get("allowedRoles"), list) else []
    writing = sorted(str(r) for r in roles if r not in READ_ONLY_ROLES)
    if not expected:
        found["talos-api-access"] = (where, "gives pods Talos API access although hardening.talos_api_access.enabled is false%s"
                                     % (" (on a worker the knob never enables it)" if ctx.role != "control_plane" else ""),
                                     "leave Talos API access to the hardening.talos_api_access knob")
    elif writing:
        found["talos-api-access"] = (where + ".allowedRoles",
                                     "grants pods %s on the Talos API: more than %s" % (", ".join(writing), ", ".join(READ_ONLY_ROLES)),
                                     "grant os:reader only")


_CHECKS = (_default_action, _exposure, _cni, _kube_proxy, _talos_api_access)


def findings(docs, ctx):
    """{key: (document path, message, fix)} of everything in `docs` the baseline refuses, after waivers."""
    found = {}
    for check in _CHECKS:
        check(docs, ctx, found)
    for key in list(found):
        if not isinstance(key, tuple):
            waiver = ctx.baseline_waiver(key)
            if waiver is not None:
                del found[key]
    return found


def used_waivers(docs, ctx):
    """The waivers that let this config pass, for the record in the module's result."""
    if not ctx.waivers and not ctx.baseline_waivers:
        return []
    raw = Context(ctx.role, ctx.node, ctx.talos_version, ctx.knobs, ctx.allowed_rules, ctx.admin_sources)
    raw.pre_fields = ctx.pre_fields
    without = {}
    for check in _CHECKS:
        check(docs, raw, without)
    out = []
    for key in without:
        if isinstance(key, tuple):
            out.extend({"name": w["name"], "service": w["service"], "reason": w["reason"]}
                       for w in ctx.waivers if w.get("service") == key[1])
        else:
            waiver = ctx.baseline_waiver(key)
            if waiver is not None:
                out.append({"name": waiver["name"], "check": key, "reason": waiver["reason"]})
    return out


def _category(key):
    return key if not isinstance(key, tuple) else key[0]


def check(stages, ctx):
    """stages: [(field, docs)], the config before any patch (field None) and after each patch,
    in order; the last is the final config. Raises for the first refusal, naming the stage's
    field (or ctx.pre_fields[category]); returns the waivers that were needed."""
    final = stages[-1][1]
    try:
        found = findings(final, ctx)
    except NetsecError as exc:
        raise _malformed(stages, ctx, exc)
    if not found:
        return used_waivers(final, ctx)
    per_stage = [findings(docs, ctx) for _field, docs in stages[:-1]] + [found]
    problems = []
    for key, (where, message, fix) in found.items():
        field = None
        for i in range(len(stages) - 1, 0, -1):
            if key in per_stage[i] and key not in per_stage[i - 1]:
                field = stages[i][0]
                break
        if field is None:
            field = ctx.pre_fields.get(_category(key)) or ctx.pre_fields.get(None) or "config"
        problems.append(NetsecError("%s %s" % (where, message), field=field, fix=fix))
    first = problems[0]
    more = " (and %d more problem(s): %s)" % (len(problems) - 1, "; ".join(str(p) for p in problems[1:4])) if len(problems) > 1 else ""
    raise NetsecError("node %s: %s%s" % (ctx.node, first.message, more), field=first.field,
                      fix=first.fix if "waiver" in (first.fix or "") else "%s; or waive it by name (%s)" % (first.fix, _waiver_hint(found)),
                      baseline_problems=[{"field": p.field, "message": p.message} for p in problems])


def _malformed(stages, ctx, exc):
    """A rule the checks cannot read: name the stage that first made it so, and where in the config."""
    field = None
    for stage_field, docs in stages:
        try:
            findings(docs, ctx)
        except NetsecError:
            field = stage_field
            break
    return NetsecError("node %s: %s %s" % (ctx.node, exc.field, exc.message), field=field or ctx.pre_fields.get("world") or "config",
                       fix=exc.fix)


def _waiver_hint(found):
    keys = list(found)
    key = keys[0]
    if isinstance(key, tuple):
        return "waivers: {name, service: %s, scope, reason}" % key[1]
    return "baseline_waivers: {name, check: %s, scope, reason}" % key
