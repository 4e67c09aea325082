#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cilium_status
short_description: Read Cilium's state from the cluster so an audit can prove encryption and enforcement
version_added: 0.1.0
description:
  - Reads the C(cilium) DaemonSet and its pods (agent health), the C(cilium-config) ConfigMap
    (encryption, enforcement mode, audit mode, host firewall, Hubble TLS, mesh coexistence) and
    the CiliumNode objects (the WireGuard public key or IPsec key index every agent publishes).
  - With O(exec_encrypt_status=true) it also runs C(cilium-dbg encrypt status) in every agent
    (read only) and checks each reports the configured mode with all its peers.
  - In RV(encryption), C(proven) is true only when the configuration enables encryption, every agent
    is ready and every node published its key (and, with exec, every agent confirms it).
author:
  - Safespring platform team (@safespring)
extends_documentation_fragment:
  - safespring.netsec.attributes
  - safespring.netsec.attributes.INFO_MODULE
  - safespring.netsec.attributes.IDEMPOTENT
  - safespring.netsec.kubernetes
options:
  namespace:
    description: Namespace of the Cilium installation.
    type: str
    default: kube-system
  daemonset:
    description: Name of the agent DaemonSet (also its pods' C(k8s-app) label).
    type: str
    default: cilium
  exec_encrypt_status:
    description: Run C(cilium-dbg encrypt status) in each agent pod (needs C(pods/exec) rights).
    type: bool
    default: false
requirements:
  - kubernetes (Python)
seealso:
  - module: safespring.netsec.cilium_install
"""

EXAMPLES = r"""
- name: Wait for every agent, then prove encryption
  safespring.netsec.cilium_status:
    exec_encrypt_status: true
  register: cilium
  until: cilium.agents.all_ready
  retries: 30
  delay: 10

- name: Fail the audit unless pod-to-pod traffic is encrypted
  ansible.builtin.assert:
    that: cilium.encryption.proven
    fail_msg: "{{ cilium.encryption.problems }}"
"""

RETURN = r"""
agents:
  description: DaemonSet counts, C(all_ready), C(not_ready) pod names and per-pod state.
  returned: success
  type: dict
encryption:
  description: C(mode), C(node_encryption), C(nodes_with_key), C(evidence), C(evidence_level), C(problems), C(proven).
  returned: success
  type: dict
enforcement:
  description: C(mode) (default, always, never) and C(audit_mode).
  returned: success
  type: dict
host_firewall:
  description: C(enabled) and C(enforcing) (enabled and not in audit mode).
  returned: success
  type: dict
hubble:
  description: C(enabled) and C(tls).
  returned: success
  type: dict
kube_proxy_replacement:
  description: Whether kube-proxy replacement is on.
  returned: success
  type: bool
mesh_coexistence:
  description: C(cni_exclusive) and C(socket_lb_host_namespace_only) as configured.
  returned: success
  type: dict
config_found:
  description: Whether the C(cilium-config) ConfigMap exists.
  returned: success
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.cilium import status as cstatus
from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import client as kclient


def gather(client, namespace, daemonset, exec_encrypt_status):
    ds = client.get("apps/v1", "DaemonSet", daemonset, namespace)
    pods = client.list("v1", "Pod", namespace=namespace, label_selector="k8s-app=%s" % daemonset)
    config = client.get("v1", "ConfigMap", "cilium-config", namespace)
    nodes = client.list("cilium.io/v2", "CiliumNode")
    encrypt = None
    if exec_encrypt_status:
        encrypt = {}
        for pod in pods:
            if (pod.get("status") or {}).get("phase") == "Running":
                name = pod["metadata"]["name"]
                encrypt[name] = client.exec_command(namespace, name, ["cilium-dbg", "encrypt", "status"], container="cilium-agent")
    return ds, pods, config, nodes, encrypt


def main():
    spec = dict(
        namespace=dict(type="str", default="kube-system"),
        daemonset=dict(type="str", default="cilium"),
        exec_encrypt_status=dict(type="bool", default=False),
    )
    spec.update(kclient.CONNECTION_ARGSPEC)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    p = module.params
    try:
        client = kclient.KubeClient(kubeconfig=p["kubeconfig"], context=p["context"], host=p["host"], api_key=p["api_key"],
                                    ca_cert=p["ca_cert"], validate_certs=p["validate_certs"])
        report = cstatus.evaluate(*gather(client, p["namespace"], p["daemonset"], p["exec_encrypt_status"]))
    except NetsecError as exc:
        exc.fail(module)
    module.exit_json(changed=False, **report)


if __name__ == "__main__":
    main()
