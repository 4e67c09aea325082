#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: security_group
short_description: Sync an environment's OpenStack security groups and their complete rule lists
version_added: 0.1.0
description:
  - Declarative and exclusive. Each group listed in O(security_groups) (and each group rendered from O(cluster)) ends up
    with exactly the rules given, no more, no less. Rules found on a group that are not listed are deleted, unless
    O(protected_rules) marks them.
  - B(One call syncs an environment's whole set of groups), not one group. Groups of an environment reference each other
    (workers admit the control plane and the control plane admits the workers); syncing them together lets the module
    create every missing group first and only then the rules, read every group in B(one) list request, and check every
    C(remote_group) name before any API call. A single group is simply a list of one.
  - Normalises before comparing so that reruns are stable, the way Neutron's duplicate check does, and further;
    a CIDR is reduced to its network address (V(10.1.2.3/8) is V(10.0.0.0/8)), protocol names and numbers are one
    (V(vrrp) is V(112)), V(any), V(-1) and null mean "all" for protocols and ports, the port range V(1-65535) is
    "all ports", the ethertype follows from the CIDR, and legacy IPv6 ICMP spellings are V(ipv6-icmp). Live rules
    that are equivalent copies of one wanted rule are duplicates and are deleted (not an error).
  - B(Make before break.) New rules are created (one bulk POST per group) before unwanted rules are deleted, so an
    allowlist never has a gap. If the run fails between the two, old and new rules are both in place (safe) and the
    next run finishes the job.
  - Bad input (a malformed CIDR, a port out of range, min above max, an unknown protocol, a C(remote_group) that is not
    in the environment, a sensitive port open to the world without a waiver) fails before any API call, naming the
    field, for example C(security_groups[2].rules[5].port_range_min).
  - O(cluster) renders one group per role, C(<name>-control_plane), C(<name>-worker), C(<name>-loadbalancer) and
    C(<name>-jump_host), with role peers as remote-group references (never address pools) and egress open unless
    the role is in O(cluster.egress.restrict). With O(cluster_address_groups) its large CIDR sets are Neutron address
    groups.
  - Rule descriptions are set when a rule is created. They are not part of a rule's identity (Neutron rules cannot be
    updated, and replacing one would collide with it or open a gap), so a description-only change does not replace an
    existing rule.
  - Credentials are the standard openstack.cloud options (clouds.yaml, C(OS_*) variables, AWX's OpenStack credential).
    The module is in the C(safespring.netsec.openstack) action group, so C(module_defaults) can set them once.
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.openstack
  - safespring.netsec.cluster_spec
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the groups (one request, plus the cloud's default rule templates when a group would be
        created) and reports exactly the rules a real run would create and delete.
  diff_mode:
    support: full
    details:
      - One diff per changed group, one readable line per rule, for example
        C(ingress tcp/6443 from group c1-loadbalancer (IPv4)).
options:
  security_groups:
    description:
      - The environment's groups, each with its B(complete) rule list.
      - A group with the name of a group rendered from O(cluster) adds its rules to that group and overrides its
        O(security_groups[].description), O(security_groups[].stateful), O(security_groups[].tags) and
        O(security_groups[].state).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Group name; unique within the project.
        type: str
        required: true
      state:
        description:
          - V(absent) deletes the group (Neutron also drops rules of other groups that reference it; a rule of this
            environment that still references it is an input error).
        type: str
        default: present
      description:
        description:
          - Group description. Left as it is when not given.
        type: str
      stateful:
        description:
          - Stateful (conntrack) or stateless group. Left as it is when not given (new groups are stateful).
        type: bool
      tags:
        description:
          - The group's complete list of tags. Left as it is when not given.
        type: list
        elements: str
      rules:
        description:
          - The group's complete rule list. Each rule is a mapping with these keys, all optional.
          - C(direction) V(ingress) (default) or V(egress).
          - C(protocol) a name (V(tcp), V(udp), V(icmp), V(ipv6-icmp), V(vrrp), ...), a number 1-255, or V(any)
            (default).
          - C(port) a port (V(443)) or a range (V(30000-32767)); or C(port_range_min) and C(port_range_max)
            (C(port_range_max) defaults to C(port_range_min)). For ICMP they are the type and the code.
          - C(remote_ip_prefix) a CIDR or an address; C(remote_group) the NAME of a group of this environment;
            C(remote_group_id) the id of a group managed elsewhere; C(remote_address_group) the NAME of an address
            group of O(address_groups); C(remote_address_group_id) the id of an address group managed elsewhere.
            At most one of them; none means any source.
          - C(ethertype) V(IPv4) (default) or V(IPv6); derived from C(remote_ip_prefix) when that is given.
          - C(description) set when the rule is created.
        type: list
        elements: dict
        default: []
  clusters:
    description:
      - More clusters, each a mapping like O(cluster), synced in the same call. A fleet's groups are then read in one
        request and its rules planned together, rather than one module run (and one list request) per cluster.
      - Cluster names must be unique across O(cluster) and O(clusters).
      - Elements are checked by the module's own parser (not by Ansible's), so that an error names the cluster,
        for example C(clusters[3]) or C(clusters[1].loadbalancer.api_cidrs[0]).
    type: list
    elements: raw
    default: []
  cluster_address_groups:
    description:
      - Render the CIDR sets of O(cluster) and O(clusters) that grow with an organisation, O(cluster.jump_host.admin_cidrs),
        O(cluster.loadbalancer.api_cidrs) and O(cluster.loadbalancer.bgp_peers), as Neutron address groups named
        C(<cluster>-admin_cidrs), C(<cluster>-api_cidrs) and C(<cluster>-bgp_peers) (managed like O(address_groups),
        exclusively), admitted by one rule per service and IP family instead of one rule per CIDR. Adding or removing a
        CIDR then changes the address group's addresses and no rule.
      - V(false) (the default) keeps one rule per CIDR. A cluster's sets are usually a handful of CIDRs, where an address
        group saves no rule (one rule per family either way) but costs a second list request on every run; the
        extension C(address-group) is optional in Neutron (a cloud without it fails the run); and switching an existing
        cluster over replaces its per-CIDR rules (make before break, but every such rule is replaced once). Turn it on
        for clusters with many admin ranges or BGP peers.
      - Switching it off again puts the per-CIDR rules back and leaves the address groups, unused, in place; delete them
        with O(address_groups) and C(state=absent).
      - The exposure lint judges the rendered address groups by their CIDRs and names the CIDR where it was written, for
        example C(cluster.loadbalancer.api_cidrs[2]).
    type: bool
    default: false
  address_groups:
    description:
      - Neutron address groups (extension C(address-group)) of the environment, each C({name, addresses, description,
        state}). A rule admits a whole address group with C(remote_address_group), so a large CIDR set (admin ranges,
        BGP peers) is one rule per service and family instead of one per CIDR, and changing the set changes no rule.
      - C(addresses) is the group's B(complete) list of CIDRs (IPv4 and IPv6 together; each rule's C(ethertype) picks
        its family). Missing addresses are added with one C(add_addresses) request before the rules change, addresses
        not listed are removed with one C(remove_addresses) request after them.
      - The exposure lint judges a rule on an address group by the group's addresses, so V(0.0.0.0/0) (or a split
        world) inside an address group on a sensitive port is refused like a literal one, naming the address. An
        address group given by C(remote_address_group_id) is read before the first write and judged the same way.
      - V(absent) deletes the address group after the rules that used it (a rule of this environment that still
        names it is an input error).
    type: list
    elements: dict
    default: []
  waivers:
    description:
      - Named exceptions to the lint that refuses etcd, kubelet, Talos apid/trustd, NodePorts and 6443 open to the
        Internet. The lint judges the union of a group's sources per service (V(0.0.0.0/0), V(::/0), split worlds such
        as V(0.0.0.0/1) + V(128.0.0.0/1), V(2000::/3)); a rule with no remote at all counts as every address of its
        ethertype, a remote group is not an address source.
      - Each is C({name, service, reason}) and optionally C(scope), a group name the waiver is limited to.
    type: list
    elements: dict
    default: []
  protected_rules:
    description:
      - Live rules that exclusive sync never deletes (for example ones a platform team adds by hand).
      - C(descriptions) is a list of regular expressions searched in the rule description; C(tags) a list of tags,
        matched in the rule's C(tags) where the cloud returns them and as a C([tag]) token in the description
        (Neutron has no tags on rules).
      - Any other key (a misspelled C(description)) is refused, naming it and listing the known keys.
    type: dict
    default: {}
seealso:
  - module: safespring.netsec.port_address_pairs
  - module: openstack.cloud.security_group
  - module: openstack.cloud.security_group_rule
"""

EXAMPLES = r"""
- name: Two groups that admit each other, plus an admin rule
  safespring.netsec.security_group:
    cloud: mycloud
    security_groups:
      - name: c1-control_plane
        description: control plane of c1
        rules:
          - {protocol: tcp, port: 6443, remote_group: c1-worker}
          - {protocol: tcp, port: 2379-2380, remote_group: c1-control_plane}
          - {direction: egress, ethertype: IPv4}
          - {direction: egress, ethertype: IPv6}
      - name: c1-worker
        rules:
          - {protocol: tcp, port: 10250, remote_group: c1-control_plane}
          - {protocol: tcp, port: 22, remote_ip_prefix: 192.0.2.0/28, description: "jump host [keep]"}
          - {direction: egress, ethertype: IPv4}
          - {direction: egress, ethertype: IPv6}
    protected_rules:
      descriptions: ["^platform:"]

- name: Every group of a cluster from the port model, with one extra rule on the load balancers
  safespring.netsec.security_group:
    cluster:
      name: c1
      loadbalancer: {ha_mode: vrrp}
      jump_host: {admin_cidrs: [192.0.2.0/28]}
    security_groups:
      - name: c1-loadbalancer
        rules:
          - {protocol: tcp, port: 8443, remote_ip_prefix: 198.51.100.0/24}

- name: 200 admin ranges as one address group, admitted by one rule per service and family
  safespring.netsec.security_group:
    cloud: mycloud
    address_groups:
      - name: admin-ranges
        addresses: "{{ admin_cidrs }}"
    security_groups:
      - name: c1-jump_host
        rules:
          - {protocol: tcp, port: 22, remote_address_group: admin-ranges}
          - {protocol: tcp, port: 22, remote_address_group: admin-ranges, ethertype: IPv6}

- name: Credentials once for every OpenStack module of the collection
  module_defaults:
    group/safespring.netsec.openstack:
      cloud: mycloud
  block:
    - name: Remove a group
      safespring.netsec.security_group:
        security_groups:
          - {name: old-group, state: absent}
"""

RETURN = r"""
security_groups:
  description: One entry per group of the environment.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Group name.
      type: str
      returned: always
    id:
      description: Group id; null when it does not exist, or in check mode before it is created.
      type: str
      returned: always
    state:
      description: V(present) or V(absent).
      type: str
      returned: always
    changed:
      description: Whether this group changed (or would, in check mode).
      type: bool
      returned: always
    created:
      description: The group itself was created.
      type: bool
      returned: always
    deleted:
      description: The group itself was deleted.
      type: bool
      returned: always
    updated:
      description: Group attributes that changed, among V(description), V(stateful) and V(tags).
      type: list
      elements: str
      returned: always
    rules_created:
      description: Number of rules created.
      type: int
      returned: always
    rules_deleted:
      description: Number of rules deleted (unwanted rules and duplicate copies).
      type: int
      returned: always
    rules_kept:
      description: Number of wanted rules already in place.
      type: int
      returned: always
    rules_protected:
      description: Unwanted rules kept because O(protected_rules) marks them.
      type: list
      elements: dict
      returned: always
  sample:
    - {name: c1-worker, id: 0b7c..., state: present, changed: true, created: false, deleted: false, updated: [],
       rules_created: 1, rules_deleted: 1, rules_kept: 29, rules_protected: []}
created_rules:
  description: Rules created (in check mode, that would be created; their C(id) is then null).
  returned: always
  type: list
  elements: dict
  sample:
    - {group: c1-worker, id: 5e0f..., rule: "ingress tcp/10250 from group c1-control_plane (IPv4)"}
deleted_rules:
  description: Rules deleted (in check mode, that would be deleted), with their ids.
  returned: always
  type: list
  elements: dict
  sample:
    - {group: c1-worker, id: 9a31..., rule: "ingress tcp/22 from 0.0.0.0/0 (IPv4)"}
address_groups:
  description: One entry per address group of O(address_groups).
  returned: when O(address_groups) is given or a rule names an address group by id
  type: list
  elements: dict
  sample:
    - {name: admin-ranges, id: 1c2d..., state: present, changed: true, created: false, deleted: false, updated: [],
       addresses_added: [198.18.7.0/24], addresses_removed: []}
summary:
  description:
    - Counts of groups and rules created and deleted.
    - With address groups also C(address_groups_created), C(address_groups_deleted), C(addresses_added) and
      C(addresses_removed).
  returned: always
  type: dict
  sample: {groups_created: 0, groups_deleted: 0, rules_created: 1, rules_deleted: 1}
"""

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import address_groups as AG
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import rules as R
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import client as C
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.render import render, render_address_groups
from ansible_collections.safespring.netsec.plugins.module_utils.openstack.sync import Sync


def desired_from_params(params):
    """(groups, protected): the security groups as parse_params() makes them."""
    groups, protected, dummy_address_groups = parse_params(params)
    return groups, protected


def parse_params(params):
    """Parse, render, merge and lint: everything that can fail without the cloud.
    -> (groups, protected-rule predicate, address groups)."""
    rendered, rendered_ags = [], []
    use_ags = bool(params.get("cluster_address_groups"))
    specs = [("cluster", params["cluster"])] if params.get("cluster") is not None else []
    specs += [("clusters[%d]" % i, c) for i, c in enumerate(params.get("clusters") or [])]
    for field, raw in specs:
        spec = pm.ClusterSpec.from_dict(raw, field=field)
        taken = set(g.name for g in rendered)
        for group in render(spec, cluster_field=field, address_groups=use_ags):
            if group.name in taken:
                raise NetsecError("cluster %r is given twice" % spec.name, field=field_path(field, "name"),
                                  fix="give each cluster once; cluster names must be unique")
            rendered.append(group)
        if use_ags:
            rendered_ags.extend(render_address_groups(spec, cluster_field=field))
    address_groups = AG.parse([_drop_none(a) for a in params.get("address_groups") or []], "address_groups")
    by_name = dict((a.name, a) for a in rendered_ags)
    for ag in address_groups:
        if ag.name in by_name:
            raise NetsecError("%r is the address group rendered from %s" % (ag.name, by_name[ag.name].field),
                              field=field_path(ag.field, "name"),
                              fix="give it another name, or change the CIDRs in the cluster spec")
    address_groups = rendered_ags + address_groups
    user = R.parse_groups([_drop_none(g) for g in params.get("security_groups") or []], "security_groups",
                          known_names=[g.name for g in rendered],
                          address_group_names=[a.name for a in address_groups])  # absent ones: check_references says so
    groups = R.merge_groups(rendered, user)
    R.check_remote_groups(groups)
    AG.check_references(groups, address_groups)
    # Address groups given by id are read and judged by Sync.read(), before the first write.
    pm.refuse(pm.lint(R.lint_entries(groups, AG.lint_addresses(address_groups), defer_ids=True), params.get("waivers") or [],
                      field="waivers"))
    protected = R.compile_protected(params.get("protected_rules"), "protected_rules")
    if not groups and not address_groups:
        raise NetsecError("no groups to manage", field="security_groups", fix="list groups or give a cluster")
    return groups, protected, address_groups


def _drop_none(group):
    return dict((k, v) for k, v in (group or {}).items() if v is not None)


def main():
    module = C.OpenStackModule(
        argument_spec=dict(
            security_groups=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                state=dict(type="str", default="present"),
                description=dict(type="str"),
                stateful=dict(type="bool"),
                tags=dict(type="list", elements="str"),
                # Free-form dicts: our parser names the exact failing field (rules[5].port_range_min).
                rules=dict(type="list", elements="dict", default=[]),
            )),
            cluster=dict(type="dict"),
            # raw: our parser names the failing element (clusters[3]: must be a mapping).
            clusters=dict(type="list", elements="raw", default=[]),
            cluster_address_groups=dict(type="bool", default=False),
            # Free-form dicts too: our parser names address_groups[i].addresses[j].
            address_groups=dict(type="list", elements="dict", default=[]),
            waivers=dict(type="list", elements="dict", default=[]),
            protected_rules=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    try:
        desired, protected, address_groups = parse_params(module.params)
    except NetsecError as exc:
        exc.fail(module, changed=False)

    sync = None
    try:
        client = C.NeutronClient(C.connect(module.params))
        sync = Sync(client, desired, protected, client.project_id(), address_groups, module.params.get("waivers"))
        plan = sync.read()
        if plan.changed and not module.check_mode:
            sync.apply()
    except NetsecError as exc:
        done = sync.results() if sync is not None and sync.plan is not None else {}
        exc.extra = dict(done, **exc.extra)
        exc.fail(module, changed=bool(done.get("created_rules") or done.get("deleted_rules")))

    # After creating groups the plan was redone from their real default rules: report that one.
    plan = sync.plan
    result = dict(changed=plan.changed, summary=plan.summary(), **sync.results(check_mode=module.check_mode))
    if module._diff:
        result["diff"] = plan.diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
