# -*- coding: utf-8 -*-
# Copyright (c) 2026, Safespring
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument spec of the declaration shared by netpol_policies and netpol_reachability
(the same shape as the namespace_policies role's variables)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

PROTOCOL = dict(type="str", default="TCP", choices=["TCP", "UDP", "SCTP"])


def declaration_spec():
    return dict(
        namespaces=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            labels=dict(type="dict"),
            create=dict(type="bool"),
            psa_level=dict(type="str", choices=["privileged", "baseline", "restricted"]),
            psa_version=dict(type="str", default="latest"),
            intra_namespace=dict(type="bool", default=False),
            dns=dict(type="bool", default=True),
            workloads=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                labels=dict(type="dict"),
                ports=dict(type="list", elements="dict", options=dict(
                    port=dict(type="int", required=True),
                    protocol=dict(PROTOCOL),
                    name=dict(type="str"),
                )),
            )),
        )),
        paths=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str"),
            # "from" is a Python keyword only as an identifier; as a key it is fine
            **{"from": dict(type="dict", required=True),
               "to": dict(type="dict", required=True),
               "ports": dict(type="list", elements="dict", options=dict(
                   port=dict(type="raw", required=True),
                   end_port=dict(type="int"),
                   protocol=dict(PROTOCOL),
               )),
               "http": dict(type="list", elements="dict")}
        )),
        dns=dict(type="dict", options=dict(
            namespace=dict(type="str", default="kube-system"),
            pods=dict(type="dict", default={"k8s-app": "kube-dns"}),
            port=dict(type="int", default=53),
        )),
        cluster_cidrs=dict(type="list", elements="str", default=[]),
        field_prefix=dict(type="str", default=""),
    )


def declaration(params):
    """The model's declaration from module parameters."""
    return dict((k, params.get(k)) for k in ("namespaces", "paths", "dns", "cluster_cidrs", "create_namespaces"))
