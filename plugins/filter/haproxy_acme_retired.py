# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: haproxy_acme_retired
short_description: The ACME certificates the haproxy role installed and no longer wants
version_added: 0.3.0
description:
  - Reads the role's own ACME crt-list (only M(safespring.netsec.haproxy_certificate) writes it, for the role) and
    returns the certificates whose file is C(CERTS_DIR/acme-NAME.pem) and not in O(keep). Lines naming any other
    file are not the role's and are never returned.
author:
  - Safespring platform team (@safespring)
positional: certs_dir, keep
options:
  _input:
    description: The crt-list file's text.
    type: str
    required: true
  certs_dir:
    description: The role's certificate directory.
    type: str
    required: true
  keep:
    description: The certificate files still wanted.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
# [{name: old, file: /etc/haproxy/certs/acme-old.pem}]
# {{ crt_list_text | safespring.netsec.haproxy_acme_retired('/etc/haproxy/certs', ['/etc/haproxy/certs/acme-app.pem']) }}
"""

RETURN = r"""
_value:
  description: C([{name, file}]) of the certificates to retire.
  type: list
  elements: dict
"""

from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import certificates


def haproxy_acme_retired(list_text, certs_dir, keep):
    return certificates.owned_retired(list_text, certs_dir, keep)


class FilterModule(object):
    def filters(self):
        return {"haproxy_acme_retired": haproxy_acme_retired}
