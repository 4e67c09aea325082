# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baseline Cilium policies rendered from the port model (pure).

Host policies (CiliumClusterwideNetworkPolicy with nodeSelector) admit into control-plane
and worker nodes exactly the port model's ingress flows:
- node-role peers -> fromEntities host + remote-node (Cilium gives every node the same
  remote-node identity, so it cannot tell a control-plane node from a worker; the security
  groups and Talos rules keep that per-role precision);
- load balancers and the jump host -> fromCIDR with their addresses from the address book;
- CIDR peers -> fromCIDR.
kube-system is default-deny for ingress except what the control plane and the listed
services need; Hubble relay and UI accept connections from the jump host only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import mesh as mesh_mod
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import exposure

API_VERSION = "cilium.io/v2"
CNP = "CiliumNetworkPolicy"
CCNP = "CiliumClusterwideNetworkPolicy"
PREFIX = "netsec-"

NODE_SELECTORS = {
    "control_plane": {"matchLabels": {"node-role.kubernetes.io/control-plane": ""}},
    "worker": {"matchExpressions": [{"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}]},
}
NODE_ENTITIES = ["host", "remote-node"]
# Services whose clients include pods (the kubernetes Service points at the API servers).
POD_CLIENT_SERVICES = ("kube-apiserver",)
# Node services a specific pod must reach: Hubble relay (a pod) dials every node's Hubble server.
POD_PEERS = {"hubble-server": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "hubble-relay"}}]}
# cilium-health probes come from the health endpoints as well as from the nodes.
HEALTH_SERVICES = ("cilium-health", "cilium-health-icmp")
ICMP_FAMILY = {4: "IPv4", 6: "IPv6"}


def _ports(service):
    port = {"port": str(service.port_min), "protocol": service.protocol.upper()}
    if service.port_max != service.port_min:
        port["endPort"] = service.port_max
    return [{"ports": [port]}]


def _l4(service, ip_versions):
    if service.protocol == "icmp":
        return {"icmps": [{"fields": [{"type": pm.ICMP_ECHO_REQUEST[v], "family": ICMP_FAMILY[v]} for v in sorted(ip_versions)]}]}
    if service.protocol in ("tcp", "udp"):
        return {"toPorts": _ports(service)}
    raise NetsecError("service %s (%s) cannot be expressed as a Cilium L4 rule" % (service.name, service.protocol),
                      field="cluster")


def _peer_cidrs(peer, address_book, ip_versions, field):
    values = pm.resolve(peer, address_book, field=field)
    return pm.filter_versions(values, ip_versions)


def _check_address_book(address_book, field="address_book"):
    if not isinstance(address_book, dict):
        raise NetsecError("must be a mapping role -> list of addresses/CIDRs", field=field)
    for role_name in address_book:
        if role_name not in pm.ROLES:
            raise NetsecError("%r is not a role (%s)" % (role_name, ", ".join(pm.ROLES)), field=field_path(field, role_name))
    return address_book


def host_policy(spec, node_role, address_book, field="address_book"):
    """One CCNP admitting the port model's flows into `node_role` nodes."""
    rules = []
    for service, peers in pm.ingress_flows(spec, node_role):
        entities, cidr_values = [], []
        for peer in peers:
            if peer.kind == "role" and peer.name in pm.NODE_ROLES:
                entities.extend(e for e in NODE_ENTITIES if e not in entities)
            else:
                for cidr in _peer_cidrs(peer, address_book, spec.ip_versions, field):
                    if cidr not in cidr_values:
                        cidr_values.append(cidr)
        if entities and service.name in POD_CLIENT_SERVICES:
            entities.append("cluster")
        if entities and service.name in HEALTH_SERVICES:
            entities.append("health")
        l4 = _l4(service, spec.ip_versions)
        if entities:
            rule = {"fromEntities": entities}
            rule.update(copy.deepcopy(l4))
            rules.append(rule)
        if entities and service.name in POD_PEERS:
            rule = {"fromEndpoints": copy.deepcopy(POD_PEERS[service.name])}
            rule.update(copy.deepcopy(l4))
            rules.append(rule)
        if cidr_values:
            rule = {"fromCIDR": cidr_values}
            rule.update(copy.deepcopy(l4))
            rules.append(rule)
    return {"apiVersion": API_VERSION, "kind": CCNP,
            "metadata": {"name": PREFIX + "host-" + node_role.replace("_", "-")},
            "spec": {"description": "%s nodes: only the port model's ingress flows (cluster %s)" % (node_role, spec.name),
                     "nodeSelector": NODE_SELECTORS[node_role], "ingress": rules}}


def _jump_host_cidrs(spec, address_book, field):
    if not spec["jump_host"]["enabled"]:
        return []
    return _peer_cidrs(pm.role("jump_host"), address_book, spec.ip_versions, field)


def kube_system_policies(spec, address_book, hubble_relay=True, hubble_ui=False, namespace="kube-system",
                         field="address_book"):
    def cnp(name, selector, ingress, description):
        return {"apiVersion": API_VERSION, "kind": CNP, "metadata": {"name": PREFIX + name, "namespace": namespace},
                "spec": {"description": description, "endpointSelector": selector, "ingress": ingress}}

    out = [cnp("kube-system-baseline", {}, [{"fromEntities": ["host", "remote-node", "kube-apiserver"]}],
               "kube-system pods: default deny for ingress; probes, nodes and the API server (webhooks) allowed")]
    dns_ports = _ports(pm.SERVICES["dns-udp"]) + _ports(pm.SERVICES["dns-tcp"])
    out.append(cnp("kube-dns", {"matchLabels": {"k8s-app": "kube-dns"}}, [{"fromEntities": ["cluster"], "toPorts": dns_ports}],
                   "cluster DNS answers every endpoint of the cluster, on DNS only"))
    jump = _jump_host_cidrs(spec, address_book, field)
    if hubble_relay:
        ingress = []
        relay_ports = _ports(pm.SERVICES["hubble-relay"])
        if jump:
            ingress.append({"fromCIDR": jump, "toPorts": relay_ports})
        if hubble_ui:
            ingress.append({"fromEndpoints": [{"matchLabels": {"k8s-app": "hubble-ui"}}], "toPorts": relay_ports})
        if not ingress:
            ingress.append({"fromEntities": ["host"]})  # port-forward through the API only
        out.append(cnp("hubble-relay", {"matchLabels": {"k8s-app": "hubble-relay"}}, ingress,
                       "Hubble API: the jump host (and the Hubble UI) only"))
    if hubble_ui:
        ui_ports = _ports(pm.SERVICES["hubble-ui"])
        ingress = [{"fromCIDR": jump, "toPorts": ui_ports}] if jump else [{"fromEntities": ["host"]}]
        out.append(cnp("hubble-ui", {"matchLabels": {"k8s-app": "hubble-ui"}}, ingress, "Hubble UI: the jump host only"))
    return out


def address_fields(address_book, field="address_book"):
    """{CIDR as the policies write it: address book entry} so that the lint names the entry a source came from."""
    out = {}
    for role_name in sorted(address_book):
        for i, value in enumerate(address_book[role_name] or []):
            try:
                out.setdefault(pm.normalize_cidr(value, field), field_path(field, role_name, i))
            except NetsecError:
                pass  # resolve() names it when the role is used
    return out


# Cilium's agent (pkg/policy/api PortProtocol.sanitize, 1.18) takes a port as an IANA service name or a
# number that fits 16 bits. The CRD's pattern is not anchored at both ends, so the apiserver admits
# "70000" and the agent then refuses the whole policy (found by cilium-policy-check).
_SVC_NAME = re.compile(r"^([a-zA-Z0-9]-?)*[a-zA-Z](-?[a-zA-Z0-9])*$")
_RULE_LISTS = ("ingress", "ingressDeny", "egress", "egressDeny")


def _port_ok(port):
    text = str(port)
    if 0 < len(text) <= 15 and _SVC_NAME.match(text):
        return True
    return text.isdigit() and int(text) <= 65535


def refuse_bad_ports(policies, fields):
    """NetsecError naming the first toPorts port Cilium's agent would refuse (policies[i] is named fields[i])."""
    for obj, base in zip(policies, fields):
        if base is None or not isinstance(obj, dict):
            continue
        specs = [("spec", obj.get("spec"))] + [(field_path("specs", i), s) for i, s in enumerate(obj.get("specs") or [])]
        for spec_field, spec in specs:
            for key in _RULE_LISTS:
                for r_idx, rule in enumerate((spec or {}).get(key) or []):
                    for t_idx, to_ports in enumerate((rule or {}).get("toPorts") or []):
                        for p_idx, entry in enumerate((to_ports or {}).get("ports") or []):
                            port = (entry or {}).get("port")
                            if port is not None and not _port_ok(port):
                                raise NetsecError(
                                    "%r is not a port Cilium accepts (the CRD schema admits it, the agent refuses the policy)" % (port,),
                                    field="%s.%s.%s[%d].toPorts[%d].ports[%d].port" % (base, spec_field, key, r_idx, t_idx, p_idx),
                                    fix="give a port number 0-65535 or a port name (1-15 letters, digits and '-', at least one letter)")


def baseline(spec, address_book, hubble=True, hubble_relay=True, hubble_ui=False, mesh="none", mesh_namespaces=(),
             field="address_book", waivers=None, waivers_field="waivers", extra_policies=(), extra_field="extra_policies"):
    """All baseline policies, in a stable order (host policies, kube-system, mesh), after the
    world-exposure lint of them together with `extra_policies` (not returned): an address book
    entry or extra rule that opens a sensitive port to the Internet is refused, naming it, unless
    a named waiver (scope: the host policy's name, a namespace) allows it."""
    if not isinstance(spec, pm.ClusterSpec):
        spec = pm.ClusterSpec.from_dict(spec)
    address_book = _check_address_book(address_book or {}, field)
    out = [host_policy(spec, r, address_book, field) for r in pm.NODE_ROLES]
    out += kube_system_policies(spec, address_book, hubble and hubble_relay, hubble and hubble_ui, field=field)
    out += mesh_mod.cluster_policies(mesh, list(mesh_namespaces or []))
    extra = list(extra_policies or [])
    fields = [None] * len(out) + [field_path(extra_field, i) for i in range(len(extra))]
    refuse_bad_ports(out + extra, [field_path("policies", i) for i in range(len(out))] + fields[len(out):])
    exposure.refuse_exposure(out + extra, waivers, field="policies", waivers_field=waivers_field, fields=fields,
                             source_fields=address_fields(address_book, field))
    return out
