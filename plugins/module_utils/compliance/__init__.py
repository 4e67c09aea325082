# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The baseline's controls as code: evaluators, framework mapping, and the standard outputs (SARIF, OSCAL, drift)."""
