# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the <role>_inputs filters share: a role's variables typed by its inputs module in the
role's first task, a refusal reaching Ansible as the field-named message and nothing else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError


def typed(filter_name, values, parse):
    if not isinstance(values, dict):
        raise AnsibleFilterError("%s: the role's variables must be given as a mapping" % filter_name)
    try:
        return parse(values)
    except NetsecError as err:
        raise AnsibleFilterError(str(err))
