# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret leaves of a `cloud` dict, which OpenStackModule masks in every output."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.safespring.netsec.plugins.module_utils.openstack import client as C


def test_every_secret_leaf_of_a_cloud_dict_is_found_and_nothing_else():
    cloud = {"auth_type": "password", "region_name": "RegionOne", "verify": True, "api_timeout": 30,
             "auth": {"auth_url": "https://keystone.example:5000/v3", "username": "ops", "password": "pw1",
                      "project_name": "p", "application_credential_secret": "s2", "token": "t3", "passcode": "123456",
                      "empty_secret": ""},
             "clouds": [{"auth": {"password": "pw4"}}]}
    assert C.secret_values(cloud) == {"pw1", "s2", "t3", "123456", "pw4"}


def test_a_cloud_name_has_no_secrets():
    assert C.secret_values("lab") == set() and C.secret_values(None) == set() and C.secret_values({}) == set()
