"""Every role taking the cluster spec refuses an unknown key at role start, naming the path,
through its generated argument spec (ansible-playbook on localhost, no lab needed)."""
import copy

import pytest
from fixtures.cilium import run_playbook
from tools.cluster_spec import ROLE_VARS

LAB = {"name": "lab", "loadbalancer": {"ha_mode": "bgp", "bgp_peers": ["198.18.255.1/32"]}, "jump_host": {"admin_cidrs": ["198.18.2.0/24"]}}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tasks = []
    for role, var in sorted(ROLE_VARS.items()):
        bad = copy.deepcopy(LAB)
        bad["loadbalancer"]["api_cidr"] = ["192.0.2.0/24"]   # typo of api_cidrs
        bad["egress"] = {"extra": [{"name": "s3", "port": 443, "cidr": []}]}
        # rescue: one play checks all four roles (a failed include stops the host otherwise)
        tasks.append({"name": role, "vars": {var: bad}, "rescue": [{"name": "rescued " + role, "ansible.builtin.meta": "noop"}],
                      "block": [{"name": "include " + role, "ansible.builtin.include_role": {"name": "safespring.netsec." + role}}]})
    tmp = tmp_path_factory.mktemp("roles")
    rc, results, dummy_stats, proc = run_playbook(tmp, [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    return results, proc


@pytest.mark.parametrize("role", sorted(ROLE_VARS))
def test_role_refuses_unknown_cluster_keys_at_role_start_naming_their_paths(results, role):
    tasks, proc = results
    var = ROLE_VARS[role]
    validation = [result for name, result in tasks.items() if name.startswith("safespring.netsec.%s : Validating arguments" % role)]
    assert validation and validation[0].get("failed"), proc.stdout[-3000:]
    # Nothing of the role ran after its argument check.
    assert not [name for name in tasks if name.startswith("safespring.netsec.%s : " % role) and "Validating arguments" not in name]
    msg = validation[0]["msg"]
    assert "%s.loadbalancer.api_cidr" % var in msg and "%s.egress.extra.cidr" % var in msg, msg
    assert "Supported parameters include: " in msg


@pytest.mark.parametrize("role", ["security_groups", "cilium"])
def test_role_checks_the_spec_first_naming_its_variable(tmp_path, role):
    bad = copy.deepcopy(LAB)
    bad["jump_host"]["admin_cidrs"].append("198.18.2.0/24; touch /tmp/x")
    var = ROLE_VARS[role]
    other = {"cilium": {"cilium_addresses": {"control_plane": ["198.18.1.21"]}}}.get(role, {})  # the role's other required variables
    play = [{"hosts": "localhost", "gather_facts": False, "roles": [{"role": "safespring.netsec." + role, "vars": dict(other, **{var: bad})}]}]
    rc, tasks, dummy_stats, proc = run_playbook(tmp_path, play)
    check = tasks["safespring.netsec.%s : Cluster spec checked against the port model's schema" % role]
    assert rc != 0 and check.get("failed"), proc.stdout[-3000:]
    assert "%s.jump_host.admin_cidrs[1]: '198.18.2.0/24; touch /tmp/x' is not an IPv4/IPv6 address or CIDR" % var in check["msg"]
    # Nothing after the check ran.
    assert [name for name in tasks if name.startswith("safespring.netsec.%s : " % role) and "Validating arguments" not in name] == [
        "safespring.netsec.%s : Cluster spec checked against the port model's schema" % role]


def test_security_groups_role_passes_a_valid_spec_on_to_the_sync(tmp_path):
    play = [{"hosts": "localhost", "gather_facts": False, "roles": [{"role": "safespring.netsec.security_groups",
                                                                     "vars": {"security_groups_cluster": LAB, "security_groups_cloud": "no-such-cloud"}}]}]
    dummy_rc, tasks, dummy_stats, proc = run_playbook(tmp_path, play, None, "--check", OS_CLIENT_CONFIG_FILE=str(tmp_path / "none.yaml"))
    check = tasks["safespring.netsec.security_groups : Cluster spec checked against the port model's schema"]
    assert not check.get("failed"), check
    # The sync ran (and failed here, with no cloud to talk to).
    assert "safespring.netsec.security_groups : Security groups of cluster lab" in tasks, proc.stdout[-3000:]
