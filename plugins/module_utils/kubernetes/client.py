# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Thin wrapper over the `kubernetes` Python client (dynamic client).

Every write is a server-side apply (PATCH application/apply-patch+yaml) with the field
manager `safespring.netsec`, conflicts not forced unless asked, and dryRun=All in check
mode. Deletes carry preconditions (uid + resourceVersion) so an object that changed
after the plan (for example lost our owner labels) is not deleted. Objects come back
as plain dicts, as the API server returns them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes.owned import FIELD_MANAGER, describe, key_of, legacy_selector, selector

try:
    from kubernetes import client as k8s_client, config as k8s_config
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
    HAS_KUBERNETES = True
except ImportError:  # pragma: no cover - reported by the module
    HAS_KUBERNETES = False

# Options every module that talks to a cluster shares (module_defaults group/safespring.netsec.kubernetes).
CONNECTION_ARGSPEC = dict(
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
    host=dict(type="str"),
    api_key=dict(type="str", no_log=True),
    ca_cert=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
)


class KubeError(NetsecError):
    """An API call that failed, with the HTTP status and the server's message."""

    def __init__(self, message, status=None, obj=None, fix=None):
        self.status = status
        super(KubeError, self).__init__(message, field=obj, fix=fix, status=status)


def _api_error(exc, what):
    status = getattr(exc, "status", None)
    body = getattr(exc, "body", None) or getattr(exc, "summary", lambda: "")()
    fix = None
    if status == 409:
        fix = "another field manager owns these fields; resolve the conflict, or set force_conflicts: true to take them over"
    elif status in (401, 403):
        fix = "check the credentials and RBAC of the identity in the kubeconfig"
    return KubeError("%s failed (HTTP %s): %s" % (what, status, str(body)[:500]), status=status, fix=fix)


class KubeClient(object):
    """Dicts in, dicts out; one method per verb the collection needs."""

    def __init__(self, kubeconfig=None, context=None, host=None, api_key=None, ca_cert=None, validate_certs=True,
                 api_client=None):
        if not HAS_KUBERNETES:
            raise NetsecError("the Python package kubernetes is required on the controller", fix="pip install kubernetes")
        if api_client is None:
            api_client = self._configure(kubeconfig, context, host, api_key, ca_cert, validate_certs)
        self.requests = 0  # HTTP requests sent (discovery included), for reports and benchmarks
        self._count_requests(api_client)
        self.dynamic = DynamicClient(api_client)
        self.calls = []  # (verb, object) log for reports

    def _count_requests(self, api_client):
        rest = api_client.rest_client
        send = rest.request

        def counted(*args, **kwargs):
            self.requests += 1
            return send(*args, **kwargs)
        rest.request = counted

    @staticmethod
    def _configure(kubeconfig, context, host, api_key, ca_cert, validate_certs):
        configuration = k8s_client.Configuration()
        if host:
            configuration.host = host
            if api_key:
                configuration.api_key = {"authorization": "Bearer " + api_key}
        else:
            try:
                k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
            except Exception as exc:  # the loader raises several unrelated types
                raise NetsecError("cannot load the kubeconfig: %s" % exc, field="kubeconfig",
                                  fix="give kubeconfig (or set KUBECONFIG) and context, or host + api_key")
        if ca_cert:
            configuration.ssl_ca_cert = ca_cert
        configuration.verify_ssl = validate_certs
        return k8s_client.ApiClient(configuration)

    def resource(self, api_version, kind):
        try:
            return self.dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise KubeError("the cluster does not serve %s %s" % (api_version, kind),
                            fix="install the CRD first (for Cilium kinds: install Cilium)")

    def get(self, api_version, kind, name, namespace=None):
        res = self.resource(api_version, kind)
        try:
            obj = res.get(name=name, namespace=namespace if res.namespaced else None)
        except NotFoundError:
            return None
        except DynamicApiError as exc:
            raise _api_error(exc, "get %s %s" % (kind, name))
        return obj.to_dict()

    def list(self, api_version, kind, namespace=None, label_selector=None):
        res = self.resource(api_version, kind)
        try:
            result = res.get(namespace=namespace if res.namespaced else None, label_selector=label_selector)
        except DynamicApiError as exc:
            raise _api_error(exc, "list %s" % kind)
        items = result.to_dict().get("items") or []
        for item in items:  # list items come without apiVersion/kind
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def served(self, api_version, kind):
        try:
            self.resource(api_version, kind)
        except KubeError:
            return False
        return True

    def live_for(self, desired, owned_set, kinds, skip_unserved=False, legacy_managed_by=(), list_threshold=8):
        """The live state an owned-set plan needs: the set (by selector) plus objects under desired names.

        skip_unserved: kinds the cluster does not serve hold no objects (an optional CRD not installed).
        legacy_managed_by: managed-by values of older releases, listed too (their objects count as ours).
        list_threshold: from this many declared objects of one kind in one namespace not found in the
        set, one LIST of that namespace replaces a GET per name (2,000 policies: 1 request, not 2,000)."""
        found = {}
        selectors = [selector(owned_set)] + [legacy_selector(value) for value in legacy_managed_by]
        for api_version, kind in kinds:
            if skip_unserved and not self.served(api_version, kind):
                continue
            for label_selector in selectors:
                for obj in self.list(api_version, kind, label_selector=label_selector):
                    found[key_of(obj)] = obj
        missing = {}
        for obj in desired:
            key = key_of(obj)
            if key not in found:
                missing.setdefault((obj["apiVersion"], key.kind, key.namespace), []).append(key)
        for (api_version, kind, namespace), keys in sorted(missing.items()):
            if len(keys) >= list_threshold:
                wanted = set(keys)
                for obj in self.list(api_version, kind, namespace=namespace or None):
                    if key_of(obj) in wanted:
                        found[key_of(obj)] = obj
                continue
            for key in keys:
                live = self.get(api_version, kind, key.name, key.namespace or None)
                if live is not None:
                    found[key] = live
        return list(found.values())

    def apply(self, obj, dry_run=False, force_conflicts=False, field_manager=FIELD_MANAGER):
        """Server-side apply. Give partial applies to objects owned by others a field manager of their own:
        SSA tracks ownership per manager name, so a shared name would let one caller's removal strip another's fields."""
        res = self.resource(obj["apiVersion"], obj["kind"])
        key = key_of(obj)
        self.calls.append(("apply", describe(key)))
        try:
            result = self.dynamic.server_side_apply(
                res, body=obj, name=key.name, namespace=key.namespace or None, field_manager=field_manager,
                force_conflicts=force_conflicts, dry_run="All" if dry_run else None)
        except DynamicApiError as exc:
            raise _api_error(exc, "apply %s" % describe(key))
        return result.to_dict()

    def delete(self, obj, dry_run=False):
        res = self.resource(obj["apiVersion"], obj["kind"])
        key = key_of(obj)
        meta = obj.get("metadata") or {}
        self.calls.append(("delete", describe(key)))
        body = {"apiVersion": "v1", "kind": "DeleteOptions",
                "preconditions": {"uid": meta.get("uid"), "resourceVersion": meta.get("resourceVersion")}}
        kwargs = {}
        if dry_run:
            body["dryRun"] = ["All"]
            kwargs["dry_run"] = "All"  # the query parameter too, as kubectl --dry-run=server sends it
        try:
            res.delete(name=key.name, namespace=key.namespace or None, body=body, **kwargs)
        except NotFoundError:
            return
        except DynamicApiError as exc:
            raise _api_error(exc, "delete %s" % describe(key))

    def crd(self, name):
        return self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)

    def exec_command(self, namespace, pod, command, container=None):
        """Run a command in a pod (stdout as text); used for read-only diagnostics only."""
        from kubernetes.stream import stream
        core = k8s_client.CoreV1Api(self.dynamic.client)
        self.calls.append(("exec", "%s/%s: %s" % (namespace, pod, " ".join(command))))
        try:
            return stream(core.connect_get_namespaced_pod_exec, pod, namespace, command=command, container=container,
                          stderr=True, stdin=False, stdout=True, tty=False)
        except Exception as exc:  # ApiException or websocket errors
            raise KubeError("exec in %s/%s failed: %s" % (namespace, pod, exc))


def execute(client, actions, check_mode=False, force_conflicts=False):
    """Carry out an owned-set plan. In check mode every write is sent with dryRun=All, so the
    API server's admission and schema checks still run; nothing is persisted."""
    results = []
    for action in actions:
        if action.action in ("create", "update"):
            client.apply(action.desired, dry_run=check_mode, force_conflicts=force_conflicts)
        elif action.action == "prune":
            client.delete(action.live, dry_run=check_mode)
        else:
            continue
        results.append({"action": action.action, "object": describe(action.key)})
    return results
