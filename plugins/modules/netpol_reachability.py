#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: netpol_reachability
short_description: Prove that NetworkPolicies allow exactly the declared paths, and draw them
version_added: 0.1.0
description:
  - Computes which source may reach which destination on which port and protocol under the
    Kubernetes NetworkPolicy semantics (policy types, ingress and egress both required, union of
    policies, namespace and pod selectors in their AND and OR forms, match expressions, ipBlock
    with except, named ports, endPort ranges, TCP/UDP/SCTP) plus the CiliumNetworkPolicy subset
    the M(safespring.netsec.netpol_policies) module emits (kube-apiserver entity, FQDNs, L7 rules
    reported but not modelled).
  - The universe is built from the declaration - declared workloads, or probe pods for every
    label set the paths select plus one pod no path names, one pod in a namespace nobody manages,
    the address space cut at every CIDR in sight, the FQDNs and the API server - so that a policy
    that admits more than declared shows up as an extra flow.
  - With O(prove=true) the reachable flows that touch a managed pod must equal the declared paths
    plus DNS; otherwise the module fails and lists the extra and the missing flows.
  - Renders the segmentation as a Mermaid and DOT graph (SVG when graphviz C(dot) is installed)
    and a Markdown / HTML matrix.
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.INFO_MODULE
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.netpol
seealso:
  - module: safespring.netsec.netpol_policies
  - module: kubernetes.core.k8s
options:
  policies:
    description:
      - NetworkPolicy and CiliumNetworkPolicy manifests to analyse; other kinds are skipped.
    type: list
    elements: dict
    required: true
  prove:
    description: Fail when the reachable flows differ from the declared ones.
    type: bool
    default: true
  render:
    description: Pictures to return in RV(rendered).
    type: list
    elements: str
    choices: [mermaid, dot, svg, markdown, html]
    default: [mermaid, markdown]
  max_differences:
    description: How many extra and missing flows to list (the counts are always complete).
    type: int
    default: 50
  title:
    description: Title of the pictures.
    type: str
    default: Allowed paths
"""

EXAMPLES = r"""
- name: Prove the rendered policies
  safespring.netsec.netpol_reachability:
    policies: "{{ rendered.objects }}"
    namespaces:
      - name: shop
        workloads:
          - {name: web, labels: {app: web}, ports: [{port: 8080, name: http}]}
          - {name: db, labels: {app: db}, ports: [{port: 5432}]}
    paths:
      - from: {namespace: shop, pods: {app: web}}
        to: {namespace: shop, pods: {app: db}}
        ports: [{port: 5432}]
    render: [mermaid, markdown, html]
  register: proof

- name: Analyse policies without failing, to look at them
  safespring.netsec.netpol_reachability:
    policies: "{{ lookup('file', 'policies.json') | from_json }}"
    namespaces: [{name: shop}, {name: monitoring}]
    prove: false
    render: [dot, svg]
"""

RETURN = r"""
equal:
  description: Whether the reachable flows equal the declared ones.
  returned: always
  type: bool
differences:
  description: Flows allowed but not declared (C(extra)) and declared but not allowed (C(missing)).
  returned: always
  type: dict
  contains:
    extra:
      description: Up to O(max_differences) flows, each with C(from), C(to) and C(port).
      type: list
      elements: dict
    missing:
      description: Up to O(max_differences) flows, each with C(from), C(to) and C(port).
      type: list
      elements: dict
    extra_count:
      description: Number of extra flows.
      type: int
    missing_count:
      description: Number of missing flows.
      type: int
  sample: {extra: [{from: "unmanaged.probe/{any pod}", to: shop/db, port: TCP/5432}], missing: [], extra_count: 1, missing_count: 0}
flows:
  description: Number of allowed (source, destination, port) flows that touch a managed pod.
  returned: always
  type: int
endpoints:
  description: Number of endpoints in the analysed universe (pods, address atoms, FQDNs, entities).
  returned: always
  type: int
notes:
  description: Things the analysis reports but does not model (L7 rules, policies for namespaces outside the universe).
  returned: always
  type: list
  elements: str
rendered:
  description: The pictures asked for in O(render); C(svg) is null when graphviz is not installed.
  returned: always
  type: dict
  sample: {mermaid: "flowchart LR ...", markdown: "| from \\ to | ..."}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.netpol import engine, model, render
from ansible_collections.safespring.netsec.plugins.module_utils.netpol.spec import declaration, declaration_spec


def run(params, dot_bin=None, run_command=None):
    """Parse -> analyse (pure) -> report. Returns the result dict; raises NetsecError."""
    norm = model.validate(declaration(params), params["field_prefix"])
    policies = [p for p in params["policies"] if isinstance(p, dict) and p.get("kind") in ("NetworkPolicy", "CiliumNetworkPolicy")]
    try:
        reach, diff, uni = model.prove(norm, policies, params["max_differences"])
    except engine.PolicyError as exc:
        raise NetsecError(str(exc), field="policies", fix="correct the policy; the API server would reject or the analyser cannot model it")
    managed = 0
    for ns in norm["namespaces"]:
        managed |= uni.ns_mask[ns["name"]]
    wanted = params["render"]
    rendered = {}
    if set(wanted) & set(["mermaid", "dot", "svg"]):
        edges = render.namespace_edges(reach, managed)
        if "mermaid" in wanted:
            rendered["mermaid"] = render.mermaid(edges, params["title"])
        if "dot" in wanted or "svg" in wanted:
            rendered["dot"] = render.dot(edges, params["title"])
        if "svg" in wanted:
            rendered["svg"] = None
            if dot_bin and run_command:
                rc, out, err = run_command([dot_bin, "-Tsvg"], data=rendered["dot"], binary_data=True)
                rendered["svg"] = out if rc == 0 else None
    if "markdown" in wanted or "html" in wanted:
        pairs = render.pair_ports(reach, managed)
        if "markdown" in wanted:
            rendered["markdown"] = render.markdown_matrix(pairs)
        if "html" in wanted:
            rendered["html"] = render.html_matrix(pairs, params["title"])
    flows = _count(reach, managed)
    result = dict(changed=False, equal=diff["equal"], flows=flows, endpoints=len(uni.endpoints), notes=reach.notes,
                  rendered=rendered, differences=dict((k, diff[k]) for k in ("extra", "missing", "extra_count", "missing_count")))
    return result


def _count(reach, managed):
    uni = reach.universe
    total = 0
    for d in range(len(uni.endpoints)):
        scope = uni.all_mask if managed >> d & 1 else managed
        for mask in reach.allowed[d].values():
            total += bin(mask & scope).count("1")
    return total


def _message(result):
    diff = result["differences"]
    lines = ["the policies allow %d flow(s) not declared and miss %d declared flow(s)" % (diff["extra_count"], diff["missing_count"])]
    for label, items in (("extra", diff["extra"]), ("missing", diff["missing"])):
        for item in items:
            lines.append("%s: %s -> %s %s" % (label, item["from"], item["to"], item["port"]))
    return "\n".join(lines)


def main():
    spec = declaration_spec()
    spec.update(
        policies=dict(type="list", elements="dict", required=True),
        prove=dict(type="bool", default=True),
        render=dict(type="list", elements="str", default=["mermaid", "markdown"], choices=["mermaid", "dot", "svg", "markdown", "html"]),
        max_differences=dict(type="int", default=50),
        title=dict(type="str", default="Allowed paths"),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    try:
        dot_bin = module.get_bin_path("dot") if "svg" in module.params["render"] else None
        result = run(module.params, dot_bin, module.run_command)
    except NetsecError as exc:
        exc.fail(module)
    if module.params["prove"] and not result["equal"]:
        module.fail_json(msg=_message(result), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
