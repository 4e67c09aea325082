# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values for haproxy_certificate and haproxy_acme_challenge: every path, SNI name, token
and key authorization reaches a runtime API command (where a blank or `;` starts another command)
or a crt-list/map line. Each is refused naming the option, before the modules open the socket or
write a file: a recording socket stands in for haproxy and must see no connection at all."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import socket
import threading

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.modules import haproxy_acme_challenge, haproxy_certificate

TOKEN = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
KEYAUTHZ = TOKEN + ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
CERT = "-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % base64.b64encode(b"leaf").decode()
KEY = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % base64.b64encode(b"secret-key").decode()
INJECTIONS = [" show info", ";shutdown sessions", "\nshutdown sessions", "\u2028show info", "#", "'x'"]


class Module(object):
    def __init__(self, params, check_mode=False):
        self.params, self.check_mode = params, check_mode


@pytest.fixture
def haproxy(tmp_path):
    """A unix socket that records every connection (none may come)."""
    path = str(tmp_path / "admin.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    server.settimeout(0.2)
    seen, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, dummy = server.accept()
            except socket.timeout:
                continue
            seen.append(conn.recv(65536))
            conn.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield {"socket": path, "seen": seen, "dir": tmp_path}
    stop.set()
    thread.join()
    server.close()


def cert_params(haproxy, **over):
    d = str(haproxy["dir"])
    params = {"path": d + "/acme-app.pem", "state": "present", "certificate": CERT, "certificate_path": None,
              "private_key": KEY, "private_key_path": None, "runtime_socket": haproxy["socket"],
              "crt_list": d + "/acme-crt-list.txt", "sni": ["app.example"]}
    params.update(over)
    return params


def files(haproxy):
    return sorted(name for name in os.listdir(str(haproxy["dir"])) if name != "admin.sock")


# (state, field, overrides): state=absent takes no SNI names.
CERT_CASES = [(state, "path", lambda d, bad: {"path": d + "/acme-app.pem" + bad}) for state in ("present", "absent")] + \
             [(state, "crt_list", lambda d, bad: {"crt_list": d + "/acme-crt-list.txt" + bad}) for state in ("present", "absent")] + \
             [("present", "sni[1]", lambda d, bad: {"sni": ["app.example", "www.app.example" + bad]})]


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("state, field, over", CERT_CASES)
def test_haproxy_certificate_refuses_a_hostile_value_naming_the_option_before_touching_haproxy_or_disk(haproxy, state, field, over, bad):
    with pytest.raises(NetsecError) as err:
        haproxy_certificate.run(Module(cert_params(haproxy, state=state, **over(str(haproxy["dir"]), bad))))
    assert err.value.field == field
    assert "secret-key" not in str(err.value) and "PRIVATE" not in str(err.value)
    assert haproxy["seen"] == [] and files(haproxy) == []


@pytest.mark.parametrize("sni", ["!app.example", "[ssl-min-ver TLSv1.0]", "app..example"])
def test_sni_that_a_crt_list_would_read_as_a_negation_or_options_is_refused(haproxy, sni):
    with pytest.raises(NetsecError) as err:
        haproxy_certificate.run(Module(cert_params(haproxy, sni=[sni])))
    assert err.value.field == "sni[0]" and haproxy["seen"] == [] and files(haproxy) == []


def challenge(token=TOKEN, value=KEYAUTHZ):
    return {"app.example": {"http-01": {"resource": ".well-known/acme-challenge/" + token, "resource_value": value}}}


CHALLENGE_CASES = [("map_file", lambda d, bad: {"map_file": d + "/acme-challenge.map" + bad}),
                   ("challenge_data.app.example.http-01.resource", lambda d, bad: {"challenge_data": challenge(token=TOKEN + bad)}),
                   ("challenge_data.app.example.http-01.resource_value", lambda d, bad: {"challenge_data": challenge(value=KEYAUTHZ + bad)})]


@pytest.mark.parametrize("state", ["present", "absent"])
@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("field, over", CHALLENGE_CASES)
def test_haproxy_acme_challenge_refuses_a_hostile_value_naming_the_option_before_touching_haproxy_or_disk(haproxy, field, over, bad, state):
    d = str(haproxy["dir"])
    params = {"map_file": d + "/acme-challenge.map", "challenge_data": challenge(), "state": state, "runtime_socket": haproxy["socket"]}
    params.update(over(d, bad))
    with pytest.raises(NetsecError) as err:
        haproxy_acme_challenge.run(Module(params))
    assert err.value.field == field
    assert haproxy["seen"] == [] and files(haproxy) == []
