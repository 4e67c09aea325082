# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access levels -> Zitadel role keys -> Kubernetes groups -> RBAC objects. Pure, no I/O.

Levels: ``cluster-admin`` (built-in cluster-admin ClusterRole), ``operator`` (runs workloads
cluster-wide, cannot read Secrets or change RBAC), ``viewer`` (reads, no Secrets),
``developer`` (``edit`` in its namespaces only). A Zitadel role key is the level, or
``developer:<namespace>``; the group is ``<groups_prefix><role key>``.
Nothing here ever binds ``system:masters`` (or any ``system:`` group): break-glass access is
Talos' admin kubeconfig, kept apart (docs/zitadel-rbac.md).
Every object carries the owner labels of one owned set (``kubernetes/owned.py``), so the role
can prune what it owns and no longer declares, and never anything else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError, field_path
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned

CLUSTER_LEVELS = ("cluster-admin", "operator", "viewer")
NAMESPACED_LEVELS = ("developer",)
ACCESS_LEVELS = CLUSTER_LEVELS + NAMESPACED_LEVELS
DEFAULT_OWNED_SET = "zitadel-rbac"
# managed-by value of releases before owned sets: objects carrying it were made by this role
LEGACY_MANAGED_BY = "safespring.netsec.zitadel_rbac"
API_VERSION = "rbac.authorization.k8s.io/v1"
# Deletion order for pruning: bindings (the grants) before the roles they reference, so an
# interrupted prune never leaves a binding behind whose role a later object could refill.
PRUNE_ORDER = ("ClusterRoleBinding", "RoleBinding", "ClusterRole")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
READ = ["get", "list", "watch"]

# Cluster-scoped things a viewer/operator may read (the built-in `view` role is namespaced only).
CLUSTER_READER_RULES = [
    {"apiGroups": [""], "resources": ["nodes", "namespaces", "persistentvolumes"], "verbs": READ},
    {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses", "csidrivers", "csinodes", "volumeattachments"], "verbs": READ},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": READ},
    {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": READ},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["nodes", "pods"], "verbs": READ},
]
# Day-2 operations across namespaces; no Secrets, no RBAC, no exec into pods.
OPERATOR_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"],
     "verbs": READ + ["patch", "update"]},
    {"apiGroups": ["apps"], "resources": ["deployments/scale", "statefulsets/scale", "replicasets/scale"], "verbs": READ + ["patch", "update"]},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": READ + ["create", "delete", "patch", "update"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": READ + ["delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["patch"]},  # cordon/uncordon
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": READ},
]


def role_key(level, namespace=None):
    if level in NAMESPACED_LEVELS:
        return "%s:%s" % (level, namespace)
    return level


def role_keys_for(access, field="access"):
    """[{level, namespaces}] -> sorted role keys; validates levels and namespaces."""
    keys = set()
    for idx, entry in enumerate(access or []):
        level = entry.get("level")
        where = field_path(field, idx)
        if level not in ACCESS_LEVELS:
            raise NetsecError("%r is not an access level" % (level,), field=field_path(where, "level"),
                              fix="use one of %s" % ", ".join(ACCESS_LEVELS))
        namespaces = entry.get("namespaces") or []
        if level in NAMESPACED_LEVELS:
            if not namespaces:
                raise NetsecError("%s needs namespaces" % level, field=field_path(where, "namespaces"),
                                  fix="list the namespaces the team develops in")
            for nidx, ns in enumerate(namespaces):
                if not _DNS_LABEL.match(ns or ""):
                    raise NetsecError("%r is not a namespace name" % (ns,), field=field_path(where, "namespaces", nidx))
                if ns.startswith("kube-"):
                    raise NetsecError("%r is a system namespace" % ns, field=field_path(where, "namespaces", nidx),
                                      fix="give developers their own namespaces; operators already reach kube-*")
                keys.add(role_key(level, ns))
        else:
            if namespaces:
                raise NetsecError("%s is cluster-wide and takes no namespaces" % level, field=field_path(where, "namespaces"))
            keys.add(level)
    return sorted(keys)


def group_name(key, groups_prefix):
    return groups_prefix + key


def _subject(group):
    if group == "system:masters" or group.startswith("system:"):
        raise NetsecError("refusing to bind the %s group" % group, field="subjects",
                          fix="system:masters bypasses RBAC; break-glass access stays with Talos' admin kubeconfig")
    return {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": group}


def _meta(name, owned_set, namespace=None, key=None):
    meta = {"name": name, "labels": owned.owner_labels(owned_set)}
    if key:
        meta["annotations"] = {"netsec.safespring.com/zitadel-role": key}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _cluster_role(name, rules, owned_set):
    return {"apiVersion": API_VERSION, "kind": "ClusterRole", "metadata": _meta(name, owned_set), "rules": rules}


def _cluster_binding(name, role, group, key, owned_set):
    return {"apiVersion": API_VERSION, "kind": "ClusterRoleBinding", "metadata": _meta(name, owned_set, key=key),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [_subject(group)]}


def _role_binding(name, namespace, role, group, key, owned_set):
    return {"apiVersion": API_VERSION, "kind": "RoleBinding", "metadata": _meta(name, owned_set, namespace, key),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [_subject(group)]}


def rbac_objects(role_keys, groups_prefix="zitadel:", name_prefix="zitadel", owned_set=DEFAULT_OWNED_SET):
    """RBAC objects for the role keys in use (sorted, deterministic), labelled as `owned_set`."""
    owned.check_owned_set_name(owned_set)
    if groups_prefix.startswith("system:") or not groups_prefix:
        raise NetsecError("%r cannot prefix groups: a role key 'masters' would bind system:masters" % (groups_prefix,),
                          field="groups_prefix", fix="use e.g. 'zitadel:'")
    keys = sorted(set(role_keys))
    objs = []
    if any(k in ("operator", "viewer") for k in keys):
        objs.append(_cluster_role("%s:cluster-reader" % name_prefix, CLUSTER_READER_RULES, owned_set))
    if "operator" in keys:
        objs.append(_cluster_role("%s:operator" % name_prefix, OPERATOR_RULES, owned_set))
    for key in keys:
        group = group_name(key, groups_prefix)
        if key == "cluster-admin":
            objs.append(_cluster_binding("%s:cluster-admin" % name_prefix, "cluster-admin", group, key, owned_set))
        elif key in ("operator", "viewer"):
            objs.append(_cluster_binding("%s:%s:view" % (name_prefix, key), "view", group, key, owned_set))
            objs.append(_cluster_binding("%s:%s:cluster-reader" % (name_prefix, key), "%s:cluster-reader" % name_prefix, group, key, owned_set))
            if key == "operator":
                objs.append(_cluster_binding("%s:operator" % name_prefix, "%s:operator" % name_prefix, group, key, owned_set))
        else:
            level, _sep, namespace = key.partition(":")
            if level not in NAMESPACED_LEVELS or not _DNS_LABEL.match(namespace):
                raise NetsecError("%r is not a role key this collection knows" % key, field="role_keys",
                                  fix="use %s or developer:<namespace>" % ", ".join(CLUSTER_LEVELS))
            objs.append(_role_binding("%s:developer" % name_prefix, namespace, "edit", group, key, owned_set))
    assert_no_system_masters(objs)
    return objs


def object_key(obj):
    """`kind/namespace/name` (namespace empty when cluster-scoped), as netpol_policies' policy_keys."""
    meta = obj.get("metadata") or {}
    return "%s/%s/%s" % (obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def object_keys(objects):
    return [object_key(obj) for obj in objects]


def assert_no_system_masters(objects):
    """Refuse any binding whose subject is system:masters (for manifests from elsewhere too)."""
    for idx, obj in enumerate(objects):
        if obj.get("kind") not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        for sidx, subject in enumerate(obj.get("subjects") or []):
            if subject.get("kind") == "Group" and subject.get("name") == "system:masters":
                raise NetsecError("binds system:masters", field=field_path("objects", idx, "subjects", sidx),
                                  fix="system:masters bypasses RBAC and cannot be revoked; use the break-glass procedure instead")


def zitadel_roles(role_keys):
    """Role definitions for zitadel_project (key, display name, group)."""
    out = []
    for key in sorted(set(role_keys)):
        level, _sep, namespace = key.partition(":")
        name = "Kubernetes %s" % level + (" in namespace %s" % namespace if namespace else "")
        out.append({"key": key, "display_name": name, "group": "kubernetes"})
    return out
