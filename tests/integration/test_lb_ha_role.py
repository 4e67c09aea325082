"""roles/lb_ha without the data plane: its documentation agrees with its argument_specs, a second
run changes nothing, the BGP password never prints, and the health loop's fall/rise logic.
(The data plane is in test_lb_ha_bgp.py / test_lb_ha_vrrp.py; the role on hosts in Molecule.)
"""
import importlib.util
import re

import pytest
import yaml

from fixtures.lab import REPO
from fixtures.lb_ha import pair_vars, recap_changed, render_pair

ROLE = REPO / "roles" / "lb_ha"
PASSWORD = "lab-md5-Secret-7f3a"


def spec_options():
    return yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def test_every_option_is_in_the_readme_table_and_every_default_is_an_option():
    options = spec_options()
    readme_vars = re.findall(r"^\| `(lb_ha_[a-z0-9_]+)` \|", (ROLE / "README.md").read_text(), re.M)
    assert sorted(readme_vars) == sorted(options)
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert set(defaults) <= set(options)
    for name, option in options.items():
        if option.get("required"):
            assert name not in defaults, f"{name} is required but has a default"
        elif "default" in option:
            assert defaults.get(name) == option["default"], name


def test_a_second_run_changes_nothing_and_the_bgp_password_never_prints(lab_netns, tmp_path):
    inventory = pair_vars(lab_netns.topology, None, tmp_path, "bgp", lb_ha_include_haproxy=False,
                          lb_ha_bgp_password=PASSWORD)
    first = render_pair(tmp_path, inventory, extra_args=("-v", "--diff"))
    second = render_pair(tmp_path, inventory, extra_args=("-v", "--diff"))
    assert min(recap_changed(first.stdout).values()) > 0, first.stdout[-3000:]
    assert recap_changed(second.stdout) == {"lb1": 0, "lb2": 0}, second.stdout[-3000:]
    for proc in (first, second):
        assert PASSWORD not in proc.stdout + proc.stderr
    conf = tmp_path / "lb1" / "bird" / "bird.conf"
    assert f'password "{PASSWORD}";' in conf.read_text()
    assert conf.stat().st_mode & 0o777 == 0o640


def test_vrrp_mode_without_a_peer_is_refused_naming_the_fix(lab_netns, tmp_path):
    inventory = pair_vars(lab_netns.topology, None, tmp_path, "vrrp", lb_ha_include_haproxy=False)
    del inventory["all"]["children"]["lb"]["hosts"]["lb2"]
    proc = render_pair(tmp_path, inventory, check=False)
    assert proc.returncode != 0
    assert "no unicast peer: set lb_ha_address on every host of group lb" in proc.stdout


@pytest.fixture(scope="module")
def health_module():
    spec = importlib.util.spec_from_file_location("lb_ha_health", ROLE / "files" / "lb_ha_health.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_health_first_success_decides_at_once_so_a_restarted_loop_does_not_withdraw(health_module):
    health = health_module.Health(fall=2, rise=20)
    assert health.update(True) is True


def test_health_withdraws_after_fall_failures_and_restores_only_after_rise_successes(health_module):
    health = health_module.Health(fall=2, rise=3)
    assert health.update(True) is True
    assert health.update(False) is True       # one failure is noise
    assert health.update(False) is False      # fall reached
    assert [health.update(True) for _attempt in range(2)] == [False, False]
    assert health.update(False) is False      # a relapse restarts the rise count
    assert [health.update(True) for _attempt in range(3)] == [False, False, True]
