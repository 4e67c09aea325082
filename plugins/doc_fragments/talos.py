# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The talosctl options of the modules that talk to a node; their argument spec is
    # CONNECTION_SPEC in plugins/module_utils/talos/common.py (keep the two in step).
    DOCUMENTATION = r"""
options:
  talosconfig:
    description: talosconfig file; when unset talosctl reads E(TALOSCONFIG) or its default path.
    type: path
  endpoints:
    description:
      - Endpoints (talosctl C(--endpoints)); default from the talosconfig. Each is one IP address or DNS name,
        optionally with C(:port) (C([v6]:port) for IPv6); anything else is refused before talosctl runs.
    type: list
    elements: str
    default: []
  talosctl_path:
    description: The talosctl executable.
    type: str
    default: talosctl
"""
