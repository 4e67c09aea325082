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


def test_install_render_check_mode_then_values_only_without_helm_then_idempotent(tmp_path):
    assert shutil.which("helm") is None, "this test documents the no-helm path (helm is not installable here)"
    out = tmp_path / "out"
    rc, tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, play(install_task(out)), None, "--check", "--diff")
    assert rc == 0 and tasks["install"]["changed"] is True
    assert not out.exists()
    rc, tasks, dummy_stats, proc = run_playbook(tmp_path, play(install_task(out)))
    assert rc == 0, proc.stdout[-2000:]
    res = tasks["install"]
    values = yaml.safe_load((out / "cilium-values.yaml").read_text())
    assert values == res["helm_values"]
    assert values["encryption"]["type"] == "wireguard" and values["k8sServicePort"] == 7445
    assert "values only" in res["manifest_note"]
    assert sorted(p.name for p in out.iterdir()) == ["cilium-values.yaml"]
    rc, tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, play(install_task(out)))
    assert rc == 0 and tasks["install"]["changed"] is False


def test_refusals_name_the_field_and_write_nothing(tmp_path):
    out = tmp_path / "out"
    bad = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "x", "namespace": "n"},
           "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["everyone"]}]}}
    tasks_list = [
        dict(install_task(out, version="1.20.1", extra_values={"authentication": {"mutual": {"spire": {"enabled": True}}}}),
             name="spire"),
        dict(install_task(out, helm_binary=str(tmp_path / "no-helm")), name="helm path"),
        {"name": "bad policy", "safespring.netsec.cilium_network_policy": {
            "delivery": "render", "render_dir": str(out), "owned_set": "s", "policies": [bad], "schema_files": cilium_schema_files()}},
        {"name": "no schema", "safespring.netsec.cilium_network_policy": {
            "delivery": "render", "render_dir": str(out), "owned_set": "s", "policies": [bad]}},
    ]
    for task in tasks_list:
        task["ignore_errors"] = True
    rc, tasks, dummy_stats, proc = run_playbook(tmp_path, play(*tasks_list))
    assert rc == 0, proc.stdout[-2000:]
    assert all(tasks[name]["failed"] for name in ("spire", "helm path", "bad policy", "no schema"))
    assert tasks["spire"]["field"] == "extra_values.authentication.mutual.spire.enabled"
    assert "istio-ambient" in tasks["spire"]["msg"]
    assert tasks["helm path"]["field"] == "helm_binary"
    assert tasks["bad policy"]["field"] == "policies[0].spec.ingress[0].fromEntities[0]"
    assert tasks["no schema"]["field"] == "schema_files"
    assert not out.exists()


def test_render_of_policies_with_a_kustomization_and_of_the_mesh_opt_in_gives_valid_objects(tmp_path, cilium_schemas):
    out = tmp_path / "policies"
    mesh_out = tmp_path / "install"
    tasks_list = [
        install_task(mesh_out, mesh="istio-ambient", mesh_namespaces=["shop"]),
        {"name": "baseline", "safespring.netsec.cilium_baseline_policies": {"cluster": LAB_CLUSTER, "addresses": LAB_ADDRESS_BOOK}, "register": "b"},
        {"name": "render", "safespring.netsec.cilium_network_policy": {
            "delivery": "render", "render_dir": str(out), "owned_set": "cilium-baseline",
            "policies": "{{ b.policies }}", "schema_files": cilium_schema_files()}},
    ]
    rc, tasks, dummy_stats, proc = run_playbook(tmp_path, play(*tasks_list))
    assert rc == 0, proc.stdout[-3000:]
    files = sorted(p.name for p in out.iterdir())
    assert "kustomization.yaml" in files and "ciliumclusterwidenetworkpolicy-netsec-host-worker.yaml" in files
    for name in files:
        if name == "kustomization.yaml":
            continue
        obj = yaml.safe_load((out / name).read_text())
        validate.validate_custom(obj, cilium_schemas[obj["kind"]], field=name)
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "safespring.netsec"

    docs = list(yaml.safe_load_all((mesh_out / "cilium-mesh-opt-in.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["Namespace", "PeerAuthentication"]
    validate.validate_core(docs[0])
    assert docs[1]["metadata"]["labels"]["netsec.safespring.com/owned-set"] == "cilium-mesh"
    assert tasks["install"]["helm_values"]["socketLB"] == {"hostNamespaceOnly": True}


SECRET_EXTRA = {"hubble": {"tls": {"server": {"cert": "PUBLIC-CERT", "key": "S3CRET-HUBBLE-KEY"}},
                           "relay": {"tls": {"ca": {"key": "S3CRET-CA-KEY"}}}},
                "clustermesh": {"apiserver": {"etcd": {"password": "S3CRET-PASSWORD"}}},
                "authentication": {"mutual": {"spire": {"install": {"server": {"token": "S3CRET-TOKEN"}}}}},
                "extraConfig": {"some-pem": "-----BEGIN EC PRIVATE KEY-----\nS3CRET-PEM\n-----END EC PRIVATE KEY-----"}}


def test_secret_extra_values_are_redacted_in_results_and_diff_and_the_file_is_0600(tmp_path):
    out = tmp_path / "out"
    task = install_task(out, extra_values=SECRET_EXTRA)
    for flags in (("--check", "--diff", "-vvv"), ("--diff", "-vvv")):
        rc, tasks, dummy_stats, proc = run_playbook(tmp_path, play(task), None, *flags)
        assert rc == 0, proc.stdout[-2000:]
        assert "S3CRET" not in proc.stdout + proc.stderr
    assert tasks["install"]["helm_values"]["hubble"]["tls"]["server"] == {"cert": "PUBLIC-CERT", "key": "VALUE_REDACTED"}
    values_file = out / "cilium-values.yaml"
    assert (values_file.stat().st_mode & 0o777) == 0o600
    values = yaml.safe_load(values_file.read_text())
    assert values["hubble"]["tls"]["server"]["key"] == "S3CRET-HUBBLE-KEY", "the file itself carries the real value"
    values_file.chmod(0o644)  # an older render: the next run fixes the mode
    rc, tasks, dummy_stats, dummy_proc = run_playbook(tmp_path, play(task))
    assert rc == 0 and tasks["install"]["changed"] is True and (values_file.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in out.iterdir()] == ["cilium-values.yaml"], "no temporary file left behind"
