# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: config_quote
short_description: Write one value into a daemon config, or refuse it
version_added: 0.2.0
description:
  - The templates' side of the collection's one quoting helper (C(module_utils/_typed.py)).
    A value that could end a line, a block, a quoted string or an ACL in the target dialect
    is refused with the variable's name; nothing is escaped.
  - Roles validate their inputs in Python before rendering; this filter is the last line,
    applied to every value a template writes.
author:
  - Safespring platform team (@safespring)
positional: field, dialect
options:
  _input:
    description: The value to write.
    type: raw
    required: true
  field:
    description: The variable the value came from, for the error message.
    type: str
    required: true
  dialect:
    description: The config language.
    type: str
    choices: [haproxy, keepalived, bird, systemd]
    required: true
  quoted:
    description: Write a double-quoted string instead of a bare word.
    type: bool
    default: false
  secret:
    description: Never echo the value in an error.
    type: bool
    default: false
"""

EXAMPLES = r"""
# bird.conf.j2
# password {{ lb_ha_bgp_password | safespring.netsec.config_quote('lb_ha_bgp_password', 'bird', quoted=true, secret=true) }};
"""

RETURN = r"""
_value:
  description: The value, as it may be written (quoted when asked).
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils import _typed
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError


def config_quote(value, field, dialect, quoted=False, secret=False):
    try:
        return _typed.quote(value, field, dialect, quoted=quoted, secret=secret)
    except (NetsecError, KeyError) as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"config_quote": config_quote}
