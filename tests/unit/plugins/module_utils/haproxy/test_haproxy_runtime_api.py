# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every value that reaches a runtime API command line is one haproxy word (the project's quoting
helper), refused naming the option before any byte is sent: a blank or a `;` would start a second
command on haproxy's CLI, a line break a second request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import runtime_api
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy.runtime_api import RuntimeAPI

HOSTILE = ["/etc/haproxy/a.pem;del ssl cert /etc/haproxy/b.pem", "/etc/haproxy/a.pem del", "/etc/haproxy/a.pem\nshutdown sessions",
           "a.example#x", "tok\u2028en", "/etc/haproxy/'a'.pem", ""]


class Recorder(RuntimeAPI):
    def __init__(self):
        RuntimeAPI.__init__(self, "/nonexistent.sock")
        self.sent = []

    def command(self, line, payload=None):
        self.sent.append(line)
        return ""


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("call, field", [
    (lambda api, v: api.del_cert(v, abort=True), "path"),
    (lambda api, v: api.del_crt_list_entry("/l.txt", v, 1), "path"),
    (lambda api, v: api.del_crt_list_entry(v, "/a.pem", 1), "crt_list"),
    (lambda api, v: api.add_cert("/a.pem", "PEM", "/l.txt", ["a.example", v]), "sni[1]"),
    (lambda api, v: api.map_set("/m.map", v, "x.y", exists=False), "challenge_data (token)"),
    (lambda api, v: api.map_del(v, "token"), "map_file"),
])
def test_a_hostile_value_is_refused_naming_the_option_before_any_command_is_sent(call, field, value):
    api = Recorder()
    with pytest.raises(NetsecError) as err:
        call(api, value)
    assert err.value.field == field
    assert api.sent == []


def test_a_command_line_with_a_second_command_is_refused_even_from_a_caller_bug():
    with pytest.raises(NetsecError):
        RuntimeAPI("/nonexistent.sock").command("show ssl cert; shutdown sessions")


def test_arg_passes_plain_paths_and_names_unchanged():
    assert runtime_api.arg("/etc/haproxy/certs/acme-app.pem", "path") == "/etc/haproxy/certs/acme-app.pem"
    assert runtime_api.arg("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", "t") == "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
