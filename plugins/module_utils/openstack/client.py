# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Neutron security groups through openstacksdk, with as few requests as possible.

Reads: ONE GET /v2.0/security-groups filtered by the environment's names (Neutron embeds
each group's rules). Writes: one bulk POST of rules per group, one DELETE per rule
(Neutron has no bulk delete), group PUTs and tag PUTs only when something differs.
Requests go through a keystoneauth adapter on the endpoint openstacksdk's config loader
resolves (clouds.yaml, OS_*, auth plugins, TLS), as raw JSON so that every request is
one we chose. SDK/HTTP errors become
OpenStackError carrying the API's own message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import importlib
import importlib.util
import sys
import types

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils._secrets import is_secret

try:
    import keystoneauth1.adapter
    import keystoneauth1.exceptions
    HAS_KEYSTONEAUTH = True
except ImportError:
    HAS_KEYSTONEAUTH = False

# The standard options of openstack.cloud modules (doc fragment openstack.cloud.openstack),
# so module_defaults for group/openstack.cloud.openstack and AWX's credential apply as is.
AUTH_ARGUMENT_SPEC = dict(
    cloud=dict(type='raw'),
    auth_type=dict(type='str'),
    auth=dict(type='dict', no_log=True),
    region_name=dict(type='str'),
    validate_certs=dict(type='bool', aliases=['verify']),
    ca_cert=dict(type='str', aliases=['cacert']),
    client_cert=dict(type='str', aliases=['cert']),
    client_key=dict(type='str', no_log=True, aliases=['key']),
    wait=dict(type='bool', default=True),
    timeout=dict(type='int', default=180),
    api_timeout=dict(type='int'),
    interface=dict(type='str', default='public', choices=['public', 'internal', 'admin'], aliases=['endpoint_type']),
    sdk_log_path=dict(type='str'),
    sdk_log_level=dict(type='str', default='INFO', choices=['INFO', 'DEBUG']),
)


USER_AGENT = "safespring-netsec"


class OpenStackError(NetsecError):
    """An API failure: the HTTP status and Neutron's message, plus what had been done."""


def auth_argument_spec(**extra):
    spec = copy.deepcopy(AUTH_ARGUMENT_SPEC)
    spec.update(extra)
    return spec


# keystoneauth's secret options that the shared key pattern does not catch (TOTP).
_EXTRA_SECRET_KEYS = ("passcode",)


def secret_values(value, key=""):
    """Every secret-looking leaf of a cloud configuration (auth.password,
    auth.application_credential_secret, auth.token, ...), as the strings to mask."""
    if isinstance(value, dict):
        return set().union(*[secret_values(v, k) for k, v in value.items()]) if value else set()
    if isinstance(value, list):
        return set().union(*[secret_values(v, key) for v in value]) if value else set()
    if value is None or isinstance(value, bool) or str(value) == "":
        return set()
    if is_secret(key, value) or str(key).lower() in _EXTRA_SECRET_KEYS:
        return {str(value)}
    return set()


class OpenStackModule(AnsibleModule):
    """AnsibleModule with the standard auth options whose `cloud` may be a dict holding a
    password without that password ever showing.

    `cloud` is raw (a clouds.yaml name or a whole cloud dict), so no_log cannot be declared
    on its leaves: their values join no_log_values as soon as the input is read, before
    argument validation can fail and before the invocation is logged (journal), returned
    (`invocation`, printed at -vvv) or an error message is built."""

    def __init__(self, argument_spec, **kwargs):
        super(OpenStackModule, self).__init__(argument_spec=auth_argument_spec(**argument_spec), **kwargs)

    def _load_params(self):
        super(OpenStackModule, self)._load_params()
        self.no_log_values.update(secret_values(self.params.get("cloud")))


def _openstack_config_loader():
    """openstacksdk's config loader (clouds.yaml, secure.yaml, OS_*), without running
    openstack/__init__.py, which imports every service proxy of the SDK: about half a
    second of CPU per module run, the largest share of a no-op sync."""
    if "openstack" not in sys.modules:
        spec = importlib.util.find_spec("openstack")
        if spec is None:
            raise ImportError("No module named 'openstack'")
        package = types.ModuleType("openstack")
        package.__path__ = list(spec.submodule_search_locations)
        package.__file__ = spec.origin
        package.__spec__ = spec
        sys.modules["openstack"] = package
    return importlib.import_module("openstack.config.loader")


def _config_kwargs(params):
    cloud = params.get("cloud")
    if isinstance(cloud, dict):
        return dict(cloud)
    kwargs = dict(cloud=cloud, auth_type=params.get("auth_type"), auth=params.get("auth"),
                  region_name=params.get("region_name"), verify=params.get("validate_certs"),
                  cacert=params.get("ca_cert"), cert=params.get("client_cert"), key=params.get("client_key"),
                  api_timeout=params.get("api_timeout"), interface=params.get("interface"))
    return dict((k, v) for k, v in kwargs.items() if v is not None)


class NetworkSession(object):
    """The Networking API endpoint of one cloud: a keystoneauth adapter (auth, TLS, token
    refresh) on the endpoint openstacksdk's config resolves, with the v2.0 prefix."""

    def __init__(self, region):
        self.session = region.get_session()
        endpoint = region.get_endpoint("network")
        interface = region.get_interface("network")
        region_name = region.get_region_name("network")
        if not endpoint:
            endpoint = self.session.get_endpoint(service_type="network", interface=interface, region_name=region_name)
        if not endpoint:
            raise NetsecError("the cloud's catalog has no network endpoint", field="cloud")
        if endpoint.rstrip("/").rsplit("/", 1)[-1] != "v2.0":
            endpoint = endpoint.rstrip("/") + "/v2.0"
        self.endpoint = endpoint
        self.adapter = keystoneauth1.adapter.Adapter(session=self.session, service_type="network", interface=interface,
                                                     region_name=region_name, endpoint_override=endpoint)

    def request(self, path, method, **kwargs):
        return self.adapter.request(self.endpoint + path, method, raise_exc=False, **kwargs)

    def project_id(self):
        try:
            return self.session.get_project_id()
        except Exception:  # noauth and unscoped tokens have no project
            return None


# A cloud given whole (a dict in `cloud`, or auth_type + auth) needs neither clouds.yaml nor
# OS_*: its keystoneauth plugin is built directly, without openstacksdk's config loader
# (~0.1 s CPU and its imports per run). Only these keys and plugins; anything else takes
# the loader, which knows every option.
_DIRECT_KEYS = frozenset(("auth_type", "auth", "region_name", "interface", "verify", "cacert", "cert", "key",
                          "api_timeout", "network_endpoint_override", "identity_api_version"))
_DIRECT_PLUGINS = {
    "none": ("keystoneauth1.noauth", "NoAuth"),
    "password": ("keystoneauth1.identity.generic", "Password"),
    "v3password": ("keystoneauth1.identity.v3", "Password"),
    "v3applicationcredential": ("keystoneauth1.identity.v3", "ApplicationCredential"),
    "token": ("keystoneauth1.identity.generic", "Token"),
}


class DirectRegion(object):
    """What NetworkSession reads from openstacksdk's CloudRegion, for a cloud given whole."""

    def __init__(self, config):
        plugin_module, plugin_class = _DIRECT_PLUGINS[config["auth_type"]]
        auth = dict(config.get("auth") or {})
        plugin = getattr(importlib.import_module(plugin_module), plugin_class)(**auth)
        verify = config.get("verify", True)
        if verify is not False and config.get("cacert"):
            verify = config["cacert"]
        cert = (config["cert"], config["key"]) if config.get("cert") and config.get("key") else config.get("cert")
        self.session = importlib.import_module("keystoneauth1.session").Session(
            auth=plugin, verify=verify, cert=cert, timeout=config.get("api_timeout"), app_name=USER_AGENT)
        self.config = config

    def get_session(self):
        return self.session

    def get_endpoint(self, service_type):
        override = self.config.get("network_endpoint_override")
        if override:
            return override
        if self.config["auth_type"] == "none":
            return (self.config.get("auth") or {}).get("endpoint")
        return None

    def get_interface(self, service_type):
        return self.config.get("interface") or "public"

    def get_region_name(self, service_type):
        return self.config.get("region_name")


def _direct_config(params):
    """The cloud as one dict when it is given whole and the direct path knows it, else None."""
    config = _config_kwargs(params)
    if isinstance(params.get("cloud"), str) or not isinstance(config.get("auth"), dict):
        return None
    if config.get("auth_type") not in _DIRECT_PLUGINS or set(config) - _DIRECT_KEYS:
        return None
    if str(config.get("identity_api_version", "3")) != "3" and config["auth_type"] != "none":
        return None
    return config


def connect(params):
    """The Networking API from the standard options (clouds.yaml, OS_*, AWX's credential)."""
    if params.get("sdk_log_path"):
        import openstack  # logging set-up needs the whole SDK; only when asked for
        openstack.enable_logging(debug=params.get("sdk_log_level") == "DEBUG", path=params["sdk_log_path"])
    if not HAS_KEYSTONEAUTH:
        raise NetsecError("openstacksdk is required", fix="pip install openstacksdk")
    direct = _direct_config(params)
    if direct is not None:
        try:
            return NetworkSession(DirectRegion(direct))
        except NetsecError:
            raise
        except Exception:  # an option the direct path does not take: the loader knows them all
            pass
    try:
        loader = _openstack_config_loader()
    except ImportError as exc:
        raise NetsecError("openstacksdk is required (%s)" % exc, fix="pip install openstacksdk")
    try:
        # app_name starts the User-Agent: the API's access log tells this collection's requests apart.
        config = loader.OpenStackConfig(load_yaml_config=True, load_envvars=True, app_name=USER_AGENT)
        region = config.get_one(**_config_kwargs(params))
        return NetworkSession(region)
    except NetsecError:
        raise
    except Exception as exc:  # config errors surface as many types; all end the run here
        raise NetsecError("cannot connect to OpenStack: %s" % exc, field="cloud",
                          fix="check clouds.yaml / OS_* variables / the auth options")


def _message(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:500]
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and value.get("message"):
                return value["message"]
        if body.get("message"):
            return body["message"]
    return str(body)[:500]


class NeutronClient(object):
    """The few Neutron calls the security-group sync needs."""

    def __init__(self, network):
        self.net = network

    def _call(self, method, path, what, ok=(200,), **kwargs):
        try:
            response = self.net.request(path, method, **kwargs)
        except keystoneauth1.exceptions.ClientException as exc:  # unreachable API, auth failures
            raise OpenStackError("%s failed: %s" % (what, exc), fix="is the Networking API up and are the credentials valid?")
        if response.status_code not in ok:
            raise OpenStackError("%s failed: HTTP %d %s" % (what, response.status_code, _message(response)),
                                 status=response.status_code)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def project_id(self):
        """The token's project (None without Keystone: noauth has no project scope)."""
        return self.net.project_id()

    def list_groups(self, names, project_id=None):
        """{name: [group, ...]} for the given names, rules embedded: one request."""
        if not names:
            return {}
        params = [("name", n) for n in sorted(set(names))]
        if project_id:
            params.append(("project_id", project_id))
        body = self._call("GET", "/security-groups", "listing security groups", params=params)
        out = {}
        for group in body.get("security_groups", []):
            out.setdefault(group["name"], []).append(group)
        return out

    def existing_group_ids(self, ids):
        """The subset of ``ids`` that are security groups the caller can see: one request."""
        if not ids:
            return set()
        params = [("id", i) for i in sorted(set(ids))] + [("fields", "id")]
        body = self._call("GET", "/security-groups", "looking up remote security groups", params=params)
        return set(g["id"] for g in body.get("security_groups", []))

    def default_rules(self):
        """The rules Neutron gives a new (non-default) group; None if the cloud cannot tell."""
        try:
            body = self._call("GET", "/default-security-group-rules", "listing default rule templates",
                              params=[("used_in_non_default_sg", "true")])
        except OpenStackError as exc:
            if exc.extra.get("status") in (403, 404):
                return None
            raise
        out = []
        for rule in body.get("default_security_group_rules", []):
            if rule.get("remote_group_id") == "PARENT":
                rule = dict(rule, remote_group_id=None)  # only meaningful in the default group
            out.append(rule)
        return out

    def create_group(self, name, description, stateful, project_id=None):
        group = {"name": name, "description": description or ""}
        if stateful is not None:
            group["stateful"] = stateful
        if project_id:
            group["project_id"] = project_id
        body = self._call("POST", "/security-groups", "creating security group %s" % name, ok=(201,),
                          json={"security_group": group})
        return body["security_group"]

    def update_group(self, group_id, name, attrs):
        body = self._call("PUT", "/security-groups/%s" % group_id, "updating security group %s" % name,
                          json={"security_group": attrs})
        return body["security_group"]

    def set_tags(self, group_id, name, tags):
        self._call("PUT", "/security-groups/%s/tags" % group_id, "setting tags of security group %s" % name,
                   json={"tags": list(tags)})

    def create_rules(self, bodies, name):
        """One bulk POST (all-or-nothing in Neutron) -> the created rules, in order."""
        if not bodies:
            return []
        body = self._call("POST", "/security-group-rules", "creating %d rule(s) in security group %s" % (len(bodies), name),
                          ok=(201,), json={"security_group_rules": bodies})
        return body["security_group_rules"]

    def delete_rule(self, rule_id, name):
        # 404: already gone (a concurrent run, or a cascade) is what we wanted.
        self._call("DELETE", "/security-group-rules/%s" % rule_id, "deleting rule %s of security group %s" % (rule_id, name),
                   ok=(204, 404))

    def delete_group(self, group_id, name):
        self._call("DELETE", "/security-groups/%s" % group_id, "deleting security group %s" % name, ok=(204, 404))

    # --- address groups (extension address-group) ---

    def _address_groups(self, params, what):
        try:
            body = self._call("GET", "/address-groups", what, params=params)
        except OpenStackError as exc:
            if exc.extra.get("status") == 404:
                raise OpenStackError("this cloud's Networking API has no address groups (extension address-group)",
                                     field="address_groups", fix="list the CIDRs as remote_ip_prefix rules instead")
            raise
        return body.get("address_groups", [])

    def list_address_groups(self, names, project_id=None):
        """{name: [address group, ...]} for the given names: one request."""
        if not names:
            return {}
        params = [("name", n) for n in sorted(set(names))]
        if project_id:
            params.append(("project_id", project_id))
        out = {}
        for group in self._address_groups(params, "listing address groups"):
            out.setdefault(group["name"], []).append(group)
        return out

    def address_groups_by_id(self, ids):
        """{id: address group} of those of ``ids`` the caller can see: one request."""
        if not ids:
            return {}
        groups = self._address_groups([("id", i) for i in sorted(set(ids))], "looking up remote address groups")
        return dict((g["id"], g) for g in groups)

    def create_address_group(self, name, description, addresses, project_id=None):
        group = {"name": name, "description": description or "", "addresses": list(addresses)}
        if project_id:
            group["project_id"] = project_id
        body = self._call("POST", "/address-groups", "creating address group %s" % name, ok=(201,),
                          json={"address_group": group})
        return body["address_group"]

    def update_address_group(self, group_id, name, attrs):
        body = self._call("PUT", "/address-groups/%s" % group_id, "updating address group %s" % name,
                          json={"address_group": attrs})
        return body["address_group"]

    def change_addresses(self, group_id, name, verb, addresses):
        """verb add_addresses or remove_addresses: one request, no rule touched."""
        what = ("adding %d address(es) to" if verb == "add_addresses" else "removing %d address(es) from") % len(addresses)
        body = self._call("PUT", "/address-groups/%s/%s" % (group_id, verb), "%s address group %s" % (what, name),
                          json={"addresses": list(addresses)})
        return body["address_group"]

    def delete_address_group(self, group_id, name):
        self._call("DELETE", "/address-groups/%s" % group_id, "deleting address group %s" % name, ok=(204, 404))

    # --- ports (VRRP allowed_address_pairs) ---

    def find_port(self, name_or_id):
        body = self._call("GET", "/ports/%s" % name_or_id, "reading port %s" % name_or_id, ok=(200, 404))
        if body and body.get("port"):
            return body["port"]
        body = self._call("GET", "/ports", "finding port %s" % name_or_id, params=[("name", name_or_id)])
        ports = body.get("ports", [])
        if len(ports) != 1:
            raise OpenStackError("%d ports are named %r" % (len(ports), name_or_id), field="ports",
                                 fix="name each port by its id")
        return ports[0]

    def update_port(self, port_id, attrs):
        body = self._call("PUT", "/ports/%s" % port_id, "updating port %s" % port_id, json={"port": attrs})
        return body["port"]
