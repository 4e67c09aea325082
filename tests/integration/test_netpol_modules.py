"""netpol_policies and netpol_reachability through ansible-playbook (they run on the controller; no cluster)."""
import copy

import yaml

from fixtures.netpol import SHOP, run_playbook


def play(*tasks):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]


def build_task(**extra):
    args = copy.deepcopy(SHOP)
    args.update(extra)
    return {"name": "build", "safespring.netsec.netpol_policies": args, "register": "built"}


def prove_task(**extra):
    args = copy.deepcopy(SHOP)
    args.update(policies="{{ built.policies }}", render=["mermaid", "dot", "markdown", "html"])
    args.update(extra)
    return {"name": "prove", "safespring.netsec.netpol_reachability": args}


def test_built_policies_are_proven_and_pictured(tmp_path):
    rc, tasks, proc = run_playbook(tmp_path, play(build_task(), prove_task()))
    assert rc == 0, proc.stdout[-3000:]
    proof = tasks["prove"]
    assert proof["equal"] is True and proof["differences"]["extra_count"] == 0
    assert "flowchart LR" in proof["rendered"]["mermaid"] and "digraph" in proof["rendered"]["dot"]
    assert '"TCP/5432"' in proof["rendered"]["mermaid"] and "api.stripe.com" in proof["rendered"]["mermaid"]
    assert "| `shop/web` |" in proof["rendered"]["markdown"] and "<table>" in proof["rendered"]["html"]
    assert tasks["build"]["summary"] == {"Namespace": 2, "NetworkPolicy": 9, "CiliumNetworkPolicy": 3}  # kube-system is never managed here


def test_proof_fails_on_an_extra_flow_and_lists_it(tmp_path):
    wrong = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"namespace": "shop", "name": "oops"},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(extra_objects=[wrong]), prove_task(max_differences=5000)))
    assert rc != 0
    proof = tasks["prove"]
    assert proof["equal"] is False and proof["differences"]["missing_count"] == 0
    assert {"from": "shop/db", "to": "api.stripe.com", "port": "TCP/443"} in proof["differences"]["extra"]
    assert "extra: shop/db -> api.stripe.com TCP/443" in proof["msg"]


def test_prove_false_reports_without_failing(tmp_path):
    """No policy at all: nothing is isolated, so everything the declaration did not ask for is extra."""
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(), prove_task(policies=[], prove=False, max_differences=3)))
    assert rc == 0 and tasks["prove"]["equal"] is False
    diff = tasks["prove"]["differences"]
    assert diff["extra_count"] > 1000 and len(diff["extra"]) == 3 and diff["missing_count"] == 0


def test_bad_input_names_the_field_before_building(tmp_path):
    bad = copy.deepcopy(SHOP["paths"])
    bad[2]["to"]["namespace"] = "shopp"
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(paths=bad, field_prefix="namespace_policies_")))
    assert rc != 0
    assert tasks["build"]["field"] == "namespace_policies_paths[2].to.namespace"
    assert "'shopp' is not a managed namespace" in tasks["build"]["msg"]


def test_render_dir_check_mode_diff_then_idempotent(tmp_path):
    out = tmp_path / "gitops"
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(render_dir=str(out))), None, "--check", "--diff")
    assert rc == 0 and tasks["build"]["changed"] is True and not out.exists()
    assert any(d["after_header"].endswith("networkpolicy-shop-default-deny.yaml") for d in tasks["build"]["diff"])
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(render_dir=str(out))))
    assert rc == 0 and tasks["build"]["changed"] is True
    files = sorted(p.name for p in out.iterdir())
    assert "kustomization.yaml" in files and "ciliumnetworkpolicy-shop-allow-dns-visibility.yaml" in files
    deny = yaml.safe_load((out / "networkpolicy-shop-default-deny.yaml").read_text())
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(render_dir=str(out))))
    assert rc == 0 and tasks["build"]["changed"] is False


def test_render_dir_prunes_files_of_paths_no_longer_declared_and_keeps_foreign_files(tmp_path):
    out = tmp_path / "gitops"
    run_playbook(tmp_path, play(build_task(render_dir=str(out))))
    (out / "handwritten.yaml").write_text("kind: ConfigMap\n")
    fewer = copy.deepcopy(SHOP["paths"])[:-1]
    rc, tasks, dummy_proc = run_playbook(tmp_path, play(build_task(render_dir=str(out), paths=fewer)))
    assert rc == 0
    assert [f for f in tasks["build"]["files"]["removed"] if "apiserver" in f]
    assert (out / "handwritten.yaml").exists()
    assert not [p for p in out.iterdir() if "apiserver" in p.name]
