# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The standard openstack.cloud connection options, so that module_defaults and AWX's
    # OpenStack credential work the same for both collections (kept here, not borrowed:
    # ansible-test sanity sees only this collection).
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Named cloud in a clouds.yaml file (found by openstacksdk in the usual places or through C(OS_CLIENT_CONFIG_FILE),
        which is how AWX's OpenStack credential passes it), or a dict with a complete cloud configuration.
      - Not needed when O(auth) is given or C(OS_*) environment variables are set.
      - In a dict, every secret-looking leaf (C(auth.password), C(auth.application_credential_secret), C(auth.token),
        C(auth.passcode), any key ending in C(password), C(secret), C(token) or C(key)) is no_log, masked in
        C(invocation), in error messages, at C(-vvv) and in the module's log, on failure too.
    type: raw
  auth:
    description:
      - Auth information for the cloud's auth plugin, for example C(auth_url), C(username), C(password), C(project_name)
        and domains for V(password), or C(application_credential_id) and C(application_credential_secret) for
        V(v3applicationcredential).
    type: dict
  auth_type:
    description:
      - Name of the keystoneauth plugin, when not the default V(password).
    type: str
  region_name:
    description:
      - Name of the region.
    type: str
  wait:
    description:
      - Accepted for compatibility with openstack.cloud C(module_defaults); the operations here are synchronous.
    type: bool
    default: true
  timeout:
    description:
      - Accepted for compatibility with openstack.cloud C(module_defaults).
    type: int
    default: 180
  api_timeout:
    description:
      - Seconds the socket layer waits for each API call. Not set means no limit is passed.
    type: int
  validate_certs:
    description:
      - Verify TLS certificates of the API endpoints.
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - Path to a CA bundle for verifying the API endpoints.
    type: str
    aliases: [cacert]
  client_cert:
    description:
      - Path to a client certificate for the API endpoints.
    type: str
    aliases: [cert]
  client_key:
    description:
      - Path to the key of O(client_cert).
    type: str
    aliases: [key]
  interface:
    description:
      - Endpoint type to take from the service catalog.
    type: str
    choices: [admin, internal, public]
    default: public
    aliases: [endpoint_type]
  sdk_log_path:
    description:
      - Path of a log file for openstacksdk; empty means no log.
    type: str
  sdk_log_level:
    description:
      - Log level of openstacksdk.
    type: str
    default: INFO
    choices: [INFO, DEBUG]
requirements:
  - python >= 3.8
  - openstacksdk (its config loader and keystoneauth1)
notes:
  - Credentials come, in this order, from a clouds.yaml (C(/etc/openstack/clouds.yaml), C(~/.config/openstack/clouds.yaml),
    or C(OS_CLIENT_CONFIG_FILE)), then C(OS_*) environment variables, then the options above.
  - The modules are in the C(safespring.netsec.openstack) action group; set the options once with
    C(module_defaults) and C(group/safespring.netsec.openstack).
"""
