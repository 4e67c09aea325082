"""The legitimate inventories pass every exposure check unchanged.

The values come out of each inventory through ansible-playbook itself (group_vars, hosts.yml
vars, playbooks/vars/derived.yml: what the stage playbooks see), the haproxy allowlists are
rendered with the real filter in that run, and the module-side checks (security groups with
the lint, protected_rules, VRRP address pairs, the live audit of a converged project) run on
those values. No lab needed.
"""
import json
import os
import pathlib
import subprocess

import pytest

from ansible_collections.safespring.netsec.plugins.filter.perimeter_audit import perimeter_audit
from ansible_collections.safespring.netsec.plugins.module_utils.haproxy import edge
from ansible_collections.safespring.netsec.plugins.module_utils.openstack import pairs, rules
from ansible_collections.safespring.netsec.plugins.modules.security_group import desired_from_params

REPO = pathlib.Path(__file__).resolve().parents[2]
INVENTORIES = ("lab", "dev", "staging", "prod")


def inventory_values(tmp_path, name):
    out = tmp_path / ("%s.json" % name)
    book = tmp_path / ("%s.yml" % name)
    book.write_text(json.dumps([{
        "hosts": "netsec_loadbalancers[0]", "gather_facts": False, "connection": "local",
        "vars_files": [str(REPO / "playbooks" / "vars" / "derived.yml")],
        # The lab's load balancers are containers: the file is written on the controller.
        "tasks": [{"name": "dump", "delegate_to": "localhost", "ansible.builtin.copy": {"dest": str(out), "mode": "0600", "content": (
            "{{ {'cluster': netsec_cluster, 'addresses': netsec_address_book, 'waivers': netsec_waivers | default([]),"
            " 'allowlists': netsec_cluster | safespring.netsec.haproxy_allowlists(netsec_address_book,"
            " netsec_waivers | default([]))} | to_json }}")}}],
    }]))
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=os.environ.get("VIRTUAL_ENV", str(REPO / ".venv")) + "/bin/python")
    proc = subprocess.run(["ansible-playbook", "-i", str(REPO / "inventories" / name), str(book)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return json.loads(out.read_text())


def converged_live(desired):
    """The groups as Neutron returns them after a clean sync of `desired`."""
    ids = dict((g.name, "id-" + g.name) for g in desired)
    return [{"id": ids[g.name], "name": g.name, "security_group_rules": [
        dict(rules.api_body(rule, ids[g.name], ids), id="%s-%d" % (g.name, j)) for j, rule in enumerate(g.rules)]} for g in desired]


@pytest.mark.parametrize("name", INVENTORIES)
def test_inventory_passes_every_exposure_check_unchanged(tmp_path, name):
    values = inventory_values(tmp_path, name)
    cluster, addresses, waivers = values["cluster"], values["addresses"], values["waivers"]
    # HAProxy: accepted, and exactly what the edge rendered before the lint existed.
    assert values["allowlists"] == edge.allowlists(cluster, addresses)
    # Security groups: the module's whole input side, lint and protected_rules included.
    groups, protected = desired_from_params({"security_groups": [], "cluster": cluster, "waivers": waivers,
                                             "protected_rules": {"descriptions": ["^platform:"], "tags": ["keep"]}})
    assert len(groups) >= 3 and protected({"description": "platform: monitoring"})
    # VRRP address pairs from the model.
    for address, dummy_field in pairs.cluster_pairs(cluster):
        assert "/" not in address
    # The live audit of a converged project: no drift, no exposure.
    audit = perimeter_audit(converged_live(groups), cluster, waivers)
    assert audit["drift"] == [] and audit["exposures"] == [] and audit["rules_checked"] > 20
