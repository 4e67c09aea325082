# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""talos_machine_config's pure render(): every check runs before a file is written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.modules import talos_machine_config as M

from fixtures.talos import SCHEMA_PATHS

SCHEMA_113 = SCHEMA_PATHS["1.13"]
ADDRESSES = {"control_plane": ["198.18.1.21"], "worker": ["198.18.1.22"], "loadbalancer": ["198.18.1.11"], "jump_host": ["198.18.2.5"]}


def params(**overrides):
    out = dict(dest="/nonexistent/cp1.yaml", role="control_plane", node="cp1", talos_version="1.13", cluster={"name": "c1"},
               addresses=ADDRESSES, firewall=True, default_action="block", admin_sources=[], hardening={}, patches=[],
               node_patches=[], schema_path=SCHEMA_113)
    out.update(overrides)
    return out


def test_render_reports_documents_rules_and_the_validated_release():
    docs, report = M.render(params(), None)
    assert report["validated_against"] == "1.13"
    assert report["documents"][:2] == ["v1alpha1", "NetworkDefaultActionConfig"]
    apid = [r for r in report["firewall_rules"] if r["name"] == "talos-apid"][0]
    assert apid == {"name": "talos-apid", "protocol": "tcp", "ports": [50000],
                    "sources": ["198.18.1.11/32", "198.18.1.21/32", "198.18.2.5/32"]}
    assert report["skipped_flows"][0]["service"] == "cilium-health-icmp"


@pytest.mark.parametrize("overrides, field, message", [
    ({"addresses": dict(ADDRESSES, loadbalancer=["198.18.1.300"])}, "addresses.loadbalancer[0]", "is not an IPv4/IPv6 address"),
    ({"role": "loadbalancer"}, "role", "is not a node role"),
    ({"cluster": None}, "cluster", "is required when firewall is true"),
    ({"cluster": {"name": "c1", "jump_host": {"enabled": False}}}, "firewall", "would lock out jump_host 198.18.2.5/32"),
    ({"admin_sources": ["203.0.113.7"]}, "firewall", "would lock out admin_sources 203.0.113.7/32"),
    ({"node_patches": [{"apiVersion": "v1alpha1", "kind": "NetworkRuleConfig", "name": "talos-apid", "$patch": "delete"}]},
     "firewall", "would lock out jump_host"),
    ({"patches": [{"machine": {"kubelet": {"extraArgs": {"v": 2}}}}]},
     "config.documents[0](v1alpha1).machine.kubelet.extraArgs.v", "is not valid under any of the given schemas"),
    ({"hardening": {"authentication": {"mode": "oidc_flags"}}}, "hardening.authentication.oidc.issuer_url", "is required"),
    ({"talos_version": "1.14", "schema_path": SCHEMA_113}, "hardening.kubernetes_version", "need an image"),
])
def test_bad_input_fails_in_render_naming_the_field(overrides, field, message):
    with pytest.raises(NetsecError) as err:
        M.render(params(**overrides), None)
    assert err.value.field == field and message in str(err.value)


def test_schema_of_the_wrong_release_is_refused():
    with pytest.raises(NetsecError, match="is the schema of Talos 1.13, not 1.14"):
        M.render(params(talos_version="1.14", hardening={"kubernetes_version": "1.35.0"}), None)


def test_base_text_that_is_not_yaml_names_base():
    with pytest.raises(NetsecError) as err:
        M.render(params(), "machine: [unclosed")
    assert err.value.field == "base"


# --- the file: 0600 from its first byte, atomically, also when something fails ---------------

import os  # noqa: E402
import stat  # noqa: E402


@pytest.fixture
def open_umask():
    old = os.umask(0)
    yield
    os.umask(old)


def test_the_config_is_0600_from_creation_even_with_umask_0(tmp_path, open_umask):
    dest = tmp_path / "cp1.yaml"
    seen = []

    def validate(tmp):
        # The temporary file, already holding the config, before the rename.
        seen.append((stat.S_IMODE(os.stat(tmp).st_mode), open(tmp).read()))
    M.write_private(str(dest), b"secret: x\n", validate=validate)
    assert seen == [(0o600, "secret: x\n")]
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and dest.read_text() == "secret: x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp1.yaml"]


def test_a_failure_after_writing_leaves_no_file_and_the_old_config_untouched(tmp_path, open_umask):
    dest = tmp_path / "cp1.yaml"
    dest.write_text("old\n")
    os.chmod(str(dest), 0o600)

    def validate(tmp):
        raise NetsecError("talosctl validate failed")
    with pytest.raises(NetsecError):
        M.write_private(str(dest), b"new\n", validate=validate)
    assert dest.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["cp1.yaml"]


def test_a_new_file_that_fails_validation_is_not_left_behind(tmp_path):
    with pytest.raises(NetsecError):
        M.write_private(str(tmp_path / "cp1.yaml"), b"x", validate=lambda tmp: (never for never in ()).throw(NetsecError("bad")))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", ["0644", "0640", "0604", "0700", "4600", "0000", "u+rw", "600\n", True, "0x1"])
def test_modes_other_than_owner_read_write_are_refused(mode):
    with pytest.raises(NetsecError) as err:
        M.file_mode(mode)
    assert err.value.field == "mode"


def test_owner_only_modes_are_accepted():
    assert M.file_mode("0600") == 0o600 and M.file_mode("0400") == 0o400 and M.file_mode(0o600) == 0o600


class _NoBinModule(object):
    """Only what talos_validation asks of AnsibleModule: no talos-validate on PATH."""

    def get_bin_path(self, name):
        return None


@pytest.mark.parametrize("mode", ["auto", "required"])
def test_a_named_validator_that_is_not_executable_fails_in_every_mode(tmp_path, mode):
    not_exec = tmp_path / "talos-validate-1.13"
    not_exec.write_text("#!/bin/sh\n")
    not_exec.chmod(0o644)
    with pytest.raises(NetsecError) as err:
        M.talos_validation(_NoBinModule(), params(talos_validator=mode, talos_validator_path=str(not_exec), talos_validator_modes=["metal"]), [])
    assert err.value.field == "talos_validator_path"
    assert str(not_exec) in str(err.value)


def test_auto_without_a_named_program_skips_when_none_is_on_path():
    wanted = params(talos_validator="auto", talos_validator_path=None, talos_validator_modes=["metal"])
    assert M.talos_validation(_NoBinModule(), wanted, []) is None


def test_required_without_a_program_fails_naming_the_build():
    with pytest.raises(NetsecError) as err:
        M.talos_validation(_NoBinModule(), params(talos_validator="required", talos_validator_path=None, talos_validator_modes=["metal"]), [])
    assert "build.sh talos-validate-1.13" in (err.value.fix or "")
