"""The cilium_* modules through ansible-playbook in render mode (no cluster needed)."""
import shutil

import yaml

from fixtures.cilium import LAB_ADDRESS_BOOK, LAB_CLUSTER, cilium_schema_files, run_playbook

from ansible_collections.safespring.netsec.plugins.module_utils.kubernetes import validate


def play(*tasks):
    return [{"hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}]


def install_task(render_dir, **options):
    args = {"delivery": "render", "render_dir": str(render_dir), "cluster": LAB_CLUSTER}
    args.update(options)
    return {"name": "install", "safespring.netsec.cilium_install": args}


def test_install_render_without_helm_writes_the_values_only_and_says_so(tmp_path):
    assert shutil.which("helm") is None, "this test documents the no-helm path (helm is not installable here)"
    out = tmp_path / "out"
    rc, tasks, _, proc = run_playbook(tmp_path, play(install_task(out)))
    assert rc == 0, proc.stdout[-2000:]
    res = tasks["install"]
    values = yaml.safe_load((out / "cilium-values.yaml").read_text())
    assert values == res["values"]
    assert values["encryption"]["type"] == "wireguard" and values["k8sServicePort"] == 7445
    assert "values only" in res["manifest_note"]
    assert sorted(p.name for p in out.iterdir()) == ["cilium-values.yaml"]
    assert res["changed"] is True


def test_install_with_a_helm_path_that_is_not_executable_names_the_field(tmp_path):
    rc, tasks, _, _ = run_playbook(tmp_path, play(install_task(tmp_path / "out", helm_binary=str(tmp_path / "no-helm"))))
    assert rc != 0 and tasks["install"]["field"] == "helm_binary"


def test_install_render_twice_is_idempotent_and_check_mode_writes_nothing(tmp_path):
    out = tmp_path / "out"
    rc, tasks, _, _ = run_playbook(tmp_path, play(install_task(out)), None, "--check", "--diff")
    assert rc == 0 and tasks["install"]["changed"] is True
    assert not out.exists()
    run_playbook(tmp_path, play(install_task(out)))
    rc, tasks, _, _ = run_playbook(tmp_path, play(install_task(out)))
    assert rc == 0 and tasks["install"]["changed"] is False


def test_install_refuses_spire_on_1_20_before_writing_anything(tmp_path):
    out = tmp_path / "out"
    task = install_task(out, version="1.20.1", extra_values={"authentication": {"mutual": {"spire": {"enabled": True}}}})
    rc, tasks, _, _ = run_playbook(tmp_path, play(task))
    assert rc != 0
    assert tasks["install"]["field"] == "extra_values.authentication.mutual.spire.enabled"
    assert "istio-ambient" in tasks["install"]["msg"]
    assert not out.exists()


def test_install_renders_mesh_opt_in_as_valid_objects(tmp_path):
    out = tmp_path / "out"
    rc, tasks, _, proc = run_playbook(tmp_path, play(install_task(out, mesh="istio-ambient", mesh_namespaces=["shop"])))
    assert rc == 0, proc.stdout[-2000:]
    docs = list(yaml.safe_load_all((out / "cilium-mesh-opt-in.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["Namespace", "PeerAuthentication"]
    validate.validate_core(docs[0])
    assert docs[1]["metadata"]["labels"]["netsec.safespring.com/owned-set"] == "cilium-mesh"
    assert tasks["install"]["values"]["socketLB"] == {"hostNamespaceOnly": True}


def test_policy_module_renders_schema_valid_owned_policies_and_refuses_invalid_ones(tmp_path, cilium_schemas):
    out = tmp_path / "policies"
    tasks_list = [
        {"name": "baseline", "safespring.netsec.cilium_baseline_policies": {"cluster": LAB_CLUSTER, "addresses": LAB_ADDRESS_BOOK}, "register": "b"},
        {"name": "render", "safespring.netsec.cilium_network_policy": {
            "delivery": "render", "render_dir": str(out), "owned_set": "cilium-baseline",
            "policies": "{{ b.policies }}", "schema_files": cilium_schema_files()}},
    ]
    rc, tasks, _, proc = run_playbook(tmp_path, play(*tasks_list))
    assert rc == 0, proc.stdout[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert "kustomization.yaml" in files and "ciliumclusterwidenetworkpolicy-netsec-host-worker.yaml" in files
    for name in files:
        if name == "kustomization.yaml":
            continue
        obj = yaml.safe_load((out / name).read_text())
        validate.validate_custom(obj, cilium_schemas[obj["kind"]], field=name)
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "safespring.netsec"

    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": "n"},
           "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["everyone"]}]}}
    rc, tasks, _, _ = run_playbook(tmp_path, play({"name": "bad", "safespring.netsec.cilium_network_policy": {
        "delivery": "render", "render_dir": str(tmp_path / "bad"), "owned_set": "s", "policies": [bad],
        "schema_files": cilium_schema_files()}}))
    assert rc != 0 and tasks["bad"]["field"] == "policies[0].spec.ingress[0].fromEntities[0]"
    assert not (tmp_path / "bad").exists()


def test_policy_render_without_a_schema_is_refused(tmp_path):
    pol = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "x"},
           "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}
    rc, tasks, _, _ = run_playbook(tmp_path, play({"name": "r", "safespring.netsec.cilium_network_policy": {
        "delivery": "render", "render_dir": str(tmp_path / "o"), "owned_set": "s", "policies": [pol]}}))
    assert rc != 0 and tasks["r"]["field"] == "schema_files"
