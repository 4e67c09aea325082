#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: zitadel_kubernetes_access
short_description: Render the Kubernetes side of Zitadel logins (AuthenticationConfiguration, RBAC, kubeconfig)
version_added: 0.1.0
description:
  - Builds, without calling any API, the kube-apiserver's structured C(AuthenticationConfiguration) for a Zitadel issuer,
    the RBAC objects for the access levels in use, and a kubeconfig whose user logs in with kubelogin.
  - The AuthenticationConfiguration maps the keys of Zitadel's role claim (a map) to groups with a CEL expression,
    rejects tokens whose C(amr) shows no multi-factor login, and refuses C(system:) usernames and groups.
  - With O(dest) the three documents are written as YAML for GitOps; unchanged files are left alone.
  - Every RBAC object carries the owner labels of O(owned_set) (C(app.kubernetes.io/managed-by=safespring.netsec),
    C(netsec.safespring.com/owned-set=<owned_set>)); RV(rbac_keys) and RV(owned_kinds) let a caller prune the objects of
    that set that are no longer declared, as the role C(safespring.netsec.zitadel_rbac) does.
  - No binding to C(system:masters) is ever produced.
author: Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.IDEMPOTENT
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  issuer_url:
    description: Zitadel issuer URL (must equal the tokens' C(iss)), C(https) only.
    type: str
    required: true
  client_id:
    description: Client id of the kubectl OIDC app (RV(safespring.netsec.zitadel_oidc_app#module:client_id)); the tokens' audience.
    type: str
    required: true
  project_id:
    description: Zitadel project whose roles become Kubernetes groups.
    type: str
    required: true
  org_id:
    description: Count only roles granted within this organisation (recommended; shuts out roles from project grants to other orgs).
    type: str
  api_version:
    description: Version of the AuthenticationConfiguration (v1beta1 since Kubernetes 1.30, v1 since 1.34).
    type: str
    choices: [apiserver.config.k8s.io/v1beta1, apiserver.config.k8s.io/v1]
    default: apiserver.config.k8s.io/v1beta1
  username_claim:
    description: Claim that names the user. V(sub) is stable across renames; V(email) adds a rule requiring C(email_verified).
    type: str
    choices: [sub, preferred_username, email]
    default: sub
  username_prefix:
    description: Prefix of Kubernetes usernames (must not start with C(system:)).
    type: str
    default: "zitadel:"
  groups_prefix:
    description: Prefix of Kubernetes groups made from role keys (must not start with C(system:)).
    type: str
    default: "zitadel:"
  require_mfa:
    description: Reject tokens whose C(amr) claim holds none of O(mfa_amr_values).
    type: bool
    default: true
  mfa_amr_values:
    description: C(amr) values that prove a multi-factor login. Zitadel adds C(mfa) after two factors or a passkey.
    type: list
    elements: str
    default: [mfa]
  certificate_authority:
    description: PEM bundle the API server uses to verify the issuer's TLS certificate, if it is not publicly trusted.
    type: str
  access:
    description: Access levels in use; each becomes Zitadel role keys, Kubernetes groups and bindings.
    type: list
    elements: dict
    default: []
    suboptions:
      level:
        description: Access level.
        type: str
        required: true
        choices: [cluster-admin, operator, viewer, developer]
      namespaces:
        description: Namespaces of a V(developer).
        type: list
        elements: str
        default: []
  cluster_name:
    description: Name of cluster, context and user in the kubeconfig.
    type: str
    default: kubernetes
  owned_set:
    description:
      - Owned set the RBAC objects belong to (value of the C(netsec.safespring.com/owned-set) label); a label value
        (1-63 letters, digits, C(-), C(_) or C(.), starting and ending alphanumeric).
      - Defaults to C(zitadel-rbac-<cluster_name>). Give each cluster's set its own name; pruning one set never touches another.
    type: str
  server:
    description: API server URL for the kubeconfig; without it no kubeconfig is built.
    type: str
  certificate_authority_data:
    description: Base64 PEM of the cluster CA for the kubeconfig.
    type: str
  dest:
    description:
      - Directory to write C(authentication-config.yaml), C(rbac.yaml) and C(kubeconfig.yaml) (mode 0600) into.
    type: path
notes:
  - The kubeconfig holds no credential; kubelogin keeps tokens in its own cache.
seealso:
  - module: safespring.netsec.zitadel_oidc_app
  - module: safespring.netsec.zitadel_project
"""

EXAMPLES = r"""
- name: Render for GitOps and for the Talos machine config
  safespring.netsec.zitadel_kubernetes_access:
    issuer_url: https://id.example.com
    client_id: "{{ app.client_id }}"
    project_id: "{{ project.project_id }}"
    org_id: "285441962217030400"
    access:
      - level: cluster-admin
      - level: developer
        namespaces: [payments]
    server: https://prod.k8s.example.com:6443
    dest: "{{ playbook_dir }}/rendered/prod"
  register: k8s_access
"""

RETURN = r"""
authentication_configuration:
  description: The AuthenticationConfiguration document.
  returned: always
  type: dict
rbac:
  description: ClusterRoles, ClusterRoleBindings and RoleBindings.
  returned: always
  type: list
  elements: dict
kubeconfig:
  description: The kubeconfig (only with O(server)).
  returned: when server is given
  type: dict
role_keys:
  description: Zitadel role keys the access levels need.
  returned: always
  type: list
  elements: str
rbac_keys:
  description: C(kind/namespace/name) of every RBAC object (namespace empty when cluster-scoped), for pruning what is no longer declared.
  returned: always
  type: list
  elements: str
  sample: [ClusterRoleBinding//zitadel:cluster-admin, RoleBinding/payments/zitadel:developer]
owned_set:
  description: The owned set the RBAC objects are labelled with.
  returned: always
  type: str
  sample: zitadel-rbac-prod
owned_kinds:
  description: Every kind this module can produce, in the order a prune deletes them (bindings before the roles they reference).
  returned: always
  type: list
  elements: str
  sample: [ClusterRoleBinding, RoleBinding, ClusterRole]
kinds:
  description:
    - RV(owned_kinds) as M(safespring.netsec.kubernetes_owned_set) takes them (O(safespring.netsec.kubernetes_owned_set#module:kinds)),
      in prune order.
  returned: always
  type: list
  elements: dict
  sample: [{"api_version": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding"}]
legacy_managed_by:
  description: Managed-by values of releases before owned sets, whose objects are this role's (adopted, or pruned when stale).
  returned: always
  type: list
  elements: str
  sample: [safespring.netsec.zitadel_rbac]
zitadel_roles:
  description: The role keys as O(safespring.netsec.zitadel_project#module:roles) entries (key, display_name, group).
  returned: always
  type: list
  elements: dict
files:
  description: Paths written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import yaml
    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import owned
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import authn, rbac


def render(docs):
    return "---\n".join(yaml.safe_dump(d, default_flow_style=False, sort_keys=False) for d in docs)


def write(module, path, content, result):
    """Write content atomically with mode 0600 when it differs; report diff."""
    before = None
    if os.path.exists(path):
        with open(path) as handle:
            before = handle.read()
    mode_ok = before is not None and (os.stat(path).st_mode & 0o777) == 0o600
    if before == content and mode_ok:
        return
    result["changed"] = True
    result["files"].append(path)
    result["diff"].append({"before_header": path, "after_header": path, "before": before or "", "after": content})
    if module.check_mode:
        return
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory)
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    os.chmod(tmp, 0o600)
    module.atomic_move(tmp, path)
    os.chmod(path, 0o600)


def argument_spec():
    return dict(
        issuer_url=dict(type="str", required=True),
        client_id=dict(type="str", required=True),
        project_id=dict(type="str", required=True),
        org_id=dict(type="str"),
        api_version=dict(type="str", choices=list(authn.API_VERSIONS), default=authn.API_VERSIONS[0]),
        username_claim=dict(type="str", choices=list(authn.USERNAME_CLAIMS), default="sub"),
        username_prefix=dict(type="str", default="zitadel:"),
        groups_prefix=dict(type="str", default="zitadel:"),
        require_mfa=dict(type="bool", default=True),
        mfa_amr_values=dict(type="list", elements="str", default=list(authn.DEFAULT_MFA_AMR)),
        certificate_authority=dict(type="str"),
        access=dict(type="list", elements="dict", default=[], options=dict(
            level=dict(type="str", required=True, choices=list(rbac.ACCESS_LEVELS)),
            namespaces=dict(type="list", elements="str", default=[]),
        )),
        cluster_name=dict(type="str", default="kubernetes"),
        owned_set=dict(type="str"),
        server=dict(type="str"),
        certificate_authority_data=dict(type="str"),
        dest=dict(type="path"),
    )


def plan(p):
    """Pure: parameters -> the documents and what a caller needs to prune. Raises NetsecError."""
    owned_set = p.get("owned_set") or "%s-%s" % (rbac.DEFAULT_OWNED_SET, p["cluster_name"])
    owned.check_owned_set_name(owned_set, field="owned_set")
    config = authn.authentication_configuration(
        p["issuer_url"], p["client_id"], p["project_id"], api_version=p["api_version"], org_id=p["org_id"],
        username_claim=p["username_claim"], username_prefix=p["username_prefix"], groups_prefix=p["groups_prefix"],
        mfa_amr_values=p["mfa_amr_values"], require_mfa=p["require_mfa"], certificate_authority=p["certificate_authority"])
    keys = rbac.role_keys_for(p["access"])
    objects = rbac.rbac_objects(keys, groups_prefix=p["groups_prefix"], owned_set=owned_set)
    kubeconfig = None
    if p["server"]:
        kubeconfig = authn.kubeconfig(p["cluster_name"], p["server"], p["issuer_url"], p["client_id"], project_id=p["project_id"],
                                      certificate_authority_data=p["certificate_authority_data"])
    return dict(authentication_configuration=config, rbac=objects, rbac_keys=rbac.object_keys(objects), owned_set=owned_set,
                owned_kinds=list(rbac.PRUNE_ORDER), role_keys=keys, legacy_managed_by=[rbac.LEGACY_MANAGED_BY],
                kinds=[{"api_version": rbac.API_VERSION, "kind": kind} for kind in rbac.PRUNE_ORDER], zitadel_roles=rbac.zitadel_roles(keys),
                kubeconfig=kubeconfig)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    p = module.params
    try:
        planned = plan(p)
    except NetsecError as exc:
        exc.fail(module, changed=False)
    kubeconfig = planned.pop("kubeconfig")
    config, objects = planned["authentication_configuration"], planned["rbac"]
    result = dict(planned, changed=False, files=[], diff=[])
    if kubeconfig is not None:
        result["kubeconfig"] = kubeconfig
    if p["dest"]:
        write(module, os.path.join(p["dest"], "authentication-config.yaml"), render([config]), result)
        write(module, os.path.join(p["dest"], "rbac.yaml"), render(objects) if objects else "", result)
        if kubeconfig is not None:
            write(module, os.path.join(p["dest"], "kubeconfig.yaml"), render([kubeconfig]), result)
    if not module._diff:
        del result["diff"]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
