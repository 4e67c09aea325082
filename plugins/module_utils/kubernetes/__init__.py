# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared Kubernetes layer: owned-set planning, normalised diff, SSA client, GitOps rendering, validation.

See docs/kubernetes-layer.md. Pure parts (owned, diff, render, validate) need no cluster;
client.py wraps the `kubernetes` Python client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type
