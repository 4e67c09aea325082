# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redirect URIs are parsed and compared exactly (issue 13): a prefix match let look-alike hosts through."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.zitadel import plan

HOSTILE = [
    "http://localhost.evil.com/cb", "http://localhost@evil.com/cb", "http://127.0.0.1.evil.com/cb",
    "http://localhost:8000@evil.com", "https://user:pw@idp.example.com/cb", "http://evil.com/localhost",
    "javascript://localhost/%0aalert(1)", "http://localhost:8000/cb#frag", "http://local host:8000",
    "http://localhost:8000/\ncb", "http://localhost\\@evil.com", "http://localhost:99999", "//localhost:8000",
    "http://[::1.evil]/", "http://localhost:8000\u2028",
]


@pytest.mark.parametrize("uri", HOSTILE)
@pytest.mark.parametrize("key", ["redirect_uris", "post_logout_redirect_uris"])
def test_lookalike_or_userinfo_redirects_are_refused_with_their_field(uri, key):
    with pytest.raises(NetsecError) as err:
        plan.desired_oidc_config(**{key: ["https://ok.example.com/cb", uri]})
    assert err.value.field == "%s[1]" % key


@pytest.mark.parametrize("uri", ["http://localhost:8000", "http://localhost:18000", "http://127.0.0.1:8000/cb",
                                 "http://[::1]:8000/cb", "https://kube.example.com/oidc/callback?x=1"])
def test_loopback_and_https_redirects_are_kept(uri):
    assert plan.desired_oidc_config(redirect_uris=[uri])["redirectUris"] == [uri]


def test_dev_mode_relaxes_https_but_never_userinfo():
    assert plan.desired_oidc_config(redirect_uris=["http://dev.lab:8080/cb"], dev_mode=True)["redirectUris"]
    with pytest.raises(NetsecError):
        plan.desired_oidc_config(redirect_uris=["http://localhost@evil.com/cb"], dev_mode=True)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(["localhost", "127.0.0.1"]),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-@:%", min_size=1, max_size=20))
def test_any_suffix_that_changes_the_host_is_refused(host, suffix):
    uri = "http://%s%s/cb" % (host, suffix)
    try:
        plan.check_redirect_uri(uri, "redirect_uris[0]")
    except NetsecError:
        return
    from urllib.parse import urlsplit
    parts = urlsplit(uri)
    assert parts.hostname == host and "@" not in parts.netloc
