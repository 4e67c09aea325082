# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The load-balancer HA pair (roles/lb_ha): its inputs, typed before keepalived.conf, bird.conf or a script is written."""
