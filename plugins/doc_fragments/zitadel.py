# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The connection options of every zitadel_* module; their argument spec is
    # CONNECTION_ARGSPEC in plugins/module_utils/zitadel/client.py (keep the two in step).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Zitadel instance, for example V(https://id.example.com).
    type: str
    required: true
  token:
    description:
      - Personal access token of a Zitadel service user; the role it needs is in the module's notes.
      - Never printed; set it once for all zitadel modules with C(module_defaults) and C(group/safespring.netsec.zitadel).
    type: str
    required: true
  org_id:
    description:
      - Organisation to act in (sent as the C(x-zitadel-orgid) header). Defaults to the service user's organisation.
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of O(url).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each API call.
    type: int
    default: 30
"""
