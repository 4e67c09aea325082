# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The cluster connection options of the modules in the kubernetes action group; their
    # argument spec is CONNECTION_ARGSPEC in plugins/module_utils/kubernetes/client.py (keep the two in step).
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description: Path of the kubeconfig; defaults to C(KUBECONFIG) or C(~/.kube/config).
    type: path
  context:
    description: Kubeconfig context.
    type: str
  host:
    description: API server URL (instead of a kubeconfig, with O(api_key)).
    type: str
  api_key:
    description: Bearer token for O(host). Never printed.
    type: str
  ca_cert:
    description: CA bundle for the API server.
    type: path
  validate_certs:
    description: Verify the API server's certificate.
    type: bool
    default: true
notes:
  - The connection options can be set once for all these modules with C(module_defaults) and C(group/safespring.netsec.kubernetes).
"""
