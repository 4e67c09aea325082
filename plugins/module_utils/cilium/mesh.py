# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service-mesh mTLS beside Cilium: the Cilium settings a mesh needs and the per-namespace opt-in.

Cilium's own SPIRE mutual auth is deprecated (1.20); mTLS comes from Istio ambient or Linkerd.
Both chain their own CNI plugin (so Cilium must not own /etc/cni/net.d exclusively) and
redirect traffic inside the pod namespace (so Cilium's socket load balancer must stay in the
host namespace): cni.exclusive=false and socketLB.hostNamespaceOnly=true
(docs.cilium.io network/servicemesh/istio; Linkerd's CNI docs say the same for Cilium).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import diff as kdiff

MESHES = ("none", "istio-ambient", "linkerd")
ISTIO_DATAPLANE_LABEL = "istio.io/dataplane-mode"
LINKERD_INJECT = "linkerd.io/inject"
LINKERD_DEFAULT_POLICY = "config.linkerd.io/default-inbound-policy"
# Istio ambient SNATs kubelet probes to this link-local address (istio.io ambient platform prerequisites).
ISTIO_AMBIENT_PROBE_SOURCE = "169.254.7.127/32"


def cilium_values(mesh):
    """[(dotted helm key, value)] the mesh needs from Cilium."""
    if mesh == "none":
        return []
    return [("cni.exclusive", False), ("socketLB.hostNamespaceOnly", True)]


def _check_namespace(name, field):
    if not isinstance(name, str) or not name or name in ("kube-system", "kube-public", "kube-node-lease"):
        raise NetsecError("%r cannot opt into the mesh" % (name,), field=field,
                          fix="list application namespaces; system namespaces stay outside the mesh")


def namespace_objects(mesh, namespaces, field="mesh_namespaces"):
    """Objects that make each listed namespace strict mTLS.

    Namespace entries are partial objects (labels/annotations only) meant for server-side
    apply: our field manager then owns just those keys of a namespace someone else owns.
    """
    if mesh == "none":
        if namespaces:
            raise NetsecError("namespaces listed but mesh is none", field=field, fix="set mesh: istio-ambient or mesh: linkerd")
        return {"namespace_patches": [], "objects": []}
    patches, objects = [], []
    for i, name in enumerate(namespaces or []):
        _check_namespace(name, field_path(field, i))
        if mesh == "istio-ambient":
            patches.append({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": name, "labels": {ISTIO_DATAPLANE_LABEL: "ambient"}}})
            objects.append({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                            "metadata": {"name": "default", "namespace": name},
                            "spec": {"mtls": {"mode": "STRICT"}}})
        else:
            patches.append({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": name, "annotations": {LINKERD_INJECT: "enabled",
                                                                       LINKERD_DEFAULT_POLICY: "all-authenticated"}}})
            objects.append({"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
                            "metadata": {"name": "any-meshed", "namespace": name},
                            "spec": {"identities": ["*"]}})
            objects.append({"apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
                            "metadata": {"name": "meshed-only", "namespace": name},
                            "spec": {"targetRef": {"kind": "Namespace", "name": name},
                                     "requiredAuthenticationRefs": [{"group": "policy.linkerd.io", "kind": "MeshTLSAuthentication",
                                                                     "name": "any-meshed"}]}})
    return {"namespace_patches": patches, "objects": objects}


def cluster_policies(mesh, namespaces):
    """Cilium policies a mesh needs: with Istio ambient, kubelet probes arrive from a link-local
    SNAT address that a default-deny policy would drop. enableDefaultDeny false: this policy
    only adds an allowance, it never switches the selected pods to default deny."""
    if mesh != "istio-ambient" or not namespaces:
        return []
    return [{"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
             "metadata": {"name": "netsec-allow-ambient-hostprobes"},
             "spec": {"description": "Kubelet probes reach ambient pods SNATed to Istio's link-local address",
                      "endpointSelector": {"matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "In",
                                                                 "values": sorted(namespaces)}]},
                      "enableDefaultDeny": {"ingress": False, "egress": False},
                      "ingress": [{"fromCIDR": [ISTIO_AMBIENT_PROBE_SOURCE]}]}}]


# Partial applies to namespaces we do not own use a field manager of their own (see KubeClient.apply).
NAMESPACE_FIELD_MANAGER = "safespring.netsec-mesh"
OWNED_SET = "cilium-mesh"
KINDS = [("security.istio.io/v1", "PeerAuthentication"),
         ("policy.linkerd.io/v1alpha1", "MeshTLSAuthentication"),
         ("policy.linkerd.io/v1alpha1", "AuthorizationPolicy")]


def _manages(namespace, manager):
    for entry in (namespace.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == manager and entry.get("operation") == "Apply" and (entry.get("fieldsV1") or {}).get("f:metadata"):
            return True
    return False


def plan_namespaces(patches, live_namespaces, manager=NAMESPACE_FIELD_MANAGER, field="mesh_namespaces"):
    """[(action, name, body)]: apply the opt-in keys to listed namespaces; 'release' the keys of
    namespaces no longer listed (an apply with no fields drops what this manager owned, and only that)."""
    live = dict((ns["metadata"]["name"], ns) for ns in live_namespaces)
    out = []
    for i, patch in enumerate(patches):
        name = patch["metadata"]["name"]
        if name not in live:
            raise NetsecError("namespace %s does not exist" % name, field=field_path(field, i),
                              fix="create the namespace first; the mesh opt-in only labels existing namespaces")
        update = kdiff.needs_update(patch, live[name], manager)[0]
        out.append(("update" if update else "unchanged", name, patch))
    wanted = set(p["metadata"]["name"] for p in patches)
    for name in sorted(live):
        if name not in wanted and _manages(live[name], manager):
            out.append(("release", name, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return out
