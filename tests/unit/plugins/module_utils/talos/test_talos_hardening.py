# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The machine-config builder: each knob lands where the targeted Talos version expects it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
import yaml

from ansible_collections.safespring.netsec.plugins.module_utils import port_model as pm
from ansible_collections.safespring.netsec.plugins.module_utils._errors import NetsecError
from ansible_collections.safespring.netsec.plugins.module_utils.talos import documents as D
from ansible_collections.safespring.netsec.plugins.module_utils.talos import hardening as H

from fixtures.talos import AUTHN, BASES


# A 1.14 base that still authenticates with oidc-* flags (as a 1.13 cluster upgraded would).
OIDC_BASE_114 = BASES["1.14"]["control_plane"].replace(
    "kind: KubeAPIServerConfig\n", "kind: KubeAPIServerConfig\nextraArgs: {oidc-issuer-url: https://old.example}\n")


def build(version, role, base=True, **knobs):
    docs = D.load(base if isinstance(base, str) else BASES[version][role]) if base else None
    return H.build(docs, version, role, H.parse_knobs(knobs))


def main(docs):
    return D.main_document(docs)


def test_v113_defaults_cni_none_proxy_off_kubeprism_on_from_the_port_model():
    docs = build("1.13", "control_plane")
    cluster, machine = main(docs)["cluster"], main(docs)["machine"]
    assert cluster["network"]["cni"] == {"name": "none"}
    assert cluster["network"]["podSubnets"] == ["10.244.0.0/16"], "the base's other network settings survive"
    assert cluster["proxy"] == {"image": "registry.k8s.io/kube-proxy:v1.35.0", "disabled": True}
    assert machine["features"]["kubePrism"] == {"enabled": True, "port": pm.KUBEPRISM_PORT}


def test_v113_talos_api_access_is_switched_off_unless_asked():
    assert main(build("1.13", "control_plane"))["machine"]["features"]["kubernetesTalosAPIAccess"] == {"enabled": False}


def test_v113_talos_api_access_when_asked_only_on_control_plane():
    knobs = {"talos_api_access": {"enabled": True, "allowed_roles": ["os:reader"], "allowed_namespaces": ["talos-backup"]}}
    cp = main(build("1.13", "control_plane", **knobs))["machine"]["features"]["kubernetesTalosAPIAccess"]
    assert cp == {"enabled": True, "allowedRoles": ["os:reader"], "allowedKubernetesNamespaces": ["talos-backup"]}
    worker = main(build("1.13", "worker", **knobs))["machine"]["features"]["kubernetesTalosAPIAccess"]
    assert worker == {"enabled": False}


def test_v113_kubelet_serving_certificate_rotation_on_every_node():
    for role in ("control_plane", "worker"):
        assert main(build("1.13", role))["machine"]["kubelet"]["extraArgs"]["rotate-server-certificates"] == "true"


def test_v113_audit_policy_and_pod_security_replace_the_base_ones_and_keep_other_plugins():
    api = main(build("1.13", "control_plane", pod_security={"enforce": "restricted"}))["cluster"]["apiServer"]
    assert api["auditPolicy"] == H.DEFAULT_AUDIT_POLICY
    names = [p["name"] for p in api["admissionControl"]]
    assert names == ["EventRateLimit", "PodSecurity"]
    ps = api["admissionControl"][1]["configuration"]
    assert ps["apiVersion"] == "pod-security.admission.config.k8s.io/v1"
    assert ps["defaults"]["enforce"] == "restricted" and ps["exemptions"]["namespaces"] == ["kube-system"]


def test_apiserver_settings_stay_off_workers():
    assert "apiServer" not in main(build("1.13", "worker"))["cluster"]


def test_v113_oidc_flags_replace_old_oidc_args():
    auth = {"mode": "oidc_flags", "oidc": {"issuer_url": "https://id.example.net", "client_id": "kubectl",
                                           "username_claim": "email", "groups_claim": "groups", "groups_prefix": "oidc:",
                                           "required_claims": {"hd": "example.net"}}}
    args = main(build("1.13", "control_plane", authentication=auth))["cluster"]["apiServer"]["extraArgs"]
    assert args == {"oidc-issuer-url": "https://id.example.net", "oidc-client-id": "kubectl", "oidc-username-claim": "email",
                    "oidc-groups-claim": "groups", "oidc-groups-prefix": "oidc:", "oidc-required-claim": ["hd=example.net"]}


def test_v113_structured_authentication_is_a_file_a_volume_and_one_flag_and_no_oidc_flags():
    docs = build("1.13", "control_plane", authentication={"mode": "structured", "configuration": AUTHN})
    api, machine = main(docs)["cluster"]["apiServer"], main(docs)["machine"]
    assert api["extraArgs"] == {"authentication-config": "/etc/kubernetes/authn/authentication-config.yaml"}
    assert api["extraVolumes"] == [{"hostPath": "/var/etc/kubernetes/authn", "mountPath": "/etc/kubernetes/authn", "readonly": True}]
    [authn_file] = machine["files"]
    assert authn_file["path"] == "/var/etc/kubernetes/authn/authentication-config.yaml" and authn_file["op"] == "create"
    assert yaml.safe_load(authn_file["content"]) == AUTHN


def test_v113_structured_authentication_is_idempotent_when_rebuilt_on_its_own_output():
    knobs = H.parse_knobs({"authentication": {"mode": "structured", "configuration": AUTHN}})
    once = H.build(D.load(BASES["1.13"]["control_plane"]), "1.13", "control_plane", knobs)
    twice = H.build(once, "1.13", "control_plane", knobs)
    assert D.dump(once) == D.dump(twice)


def test_v114_writes_documents_not_v1alpha1_fields():
    docs = build("1.14", "control_plane", base=OIDC_BASE_114, authentication={"mode": "structured", "configuration": AUTHN})
    kinds = [D.describe(D.identity(d)) for d in docs]
    assert "KubeFlannelCNIConfig" not in kinds, "cni none: no Flannel document"
    assert "KubeTalosAPIAccessConfig" not in kinds, "Talos API access off: the document is removed"
    assert D.find(docs, "KubePrismConfig")["port"] == pm.KUBEPRISM_PORT
    assert D.find(docs, "KubeProxyConfig") == {"apiVersion": "v1alpha1", "kind": "KubeProxyConfig",
                                               "image": "registry.k8s.io/kube-proxy:v1.35.1", "enabled": False}
    assert D.find(docs, "KubeletConfig")["extraArgs"] == {"rotate-server-certificates": "true"}
    assert D.find(docs, "KubeAuthenticationConfig")["configuration"] == AUTHN
    assert D.find(docs, "KubeAPIServerConfig")["extraArgs"] == {}, "oidc-* flags cannot be combined with it"
    assert D.find(docs, "KubeAdmissionControlConfig", "PodSecurity")["configuration"]["kind"] == "PodSecurityConfiguration"
    assert D.find(docs, "KubeAuditPolicyConfig")["configuration"] == H.DEFAULT_AUDIT_POLICY
    assert "features" not in main(docs)["machine"]


def test_v114_base_with_oidc_flags_is_refused_unless_authentication_replaces_them():
    # Found by Talos' own validation (KubeAPIServerConfig: extra argument "oidc-issuer-url" is not allowed).
    with pytest.raises(NetsecError, match="oidc-issuer-url, which Talos 1.14 refuses") as err:
        build("1.14", "control_plane", base=OIDC_BASE_114)
    assert err.value.field == "base" and "authentication.mode to structured" in err.value.fix


def test_v114_rejects_oidc_flags_naming_the_knob():
    with pytest.raises(NetsecError, match="rejects oidc") as err:
        build("1.14", "control_plane", authentication={"mode": "oidc_flags", "oidc": {"issuer_url": "https://x", "client_id": "k"}})
    assert err.value.field == "hardening.authentication.mode"


def test_v114_documents_created_from_scratch_need_the_kubernetes_version():
    with pytest.raises(NetsecError, match="set kubernetes_version") as err:
        build("1.14", "control_plane", base=False)
    assert err.value.field == "hardening.kubernetes_version"
    docs = build("1.14", "control_plane", base=False, kubernetes_version="v1.35.0")
    assert D.find(docs, "KubeletConfig")["image"] == "ghcr.io/siderolabs/kubelet:v1.35.0"


def test_v114_talos_api_access_when_asked_is_a_document():
    docs = build("1.14", "control_plane", talos_api_access={"enabled": True})
    assert D.find(docs, "KubeTalosAPIAccessConfig") == {"apiVersion": "v1alpha1", "kind": "KubeTalosAPIAccessConfig",
                                                        "allowedRoles": ["os:reader"], "allowedKubernetesNamespaces": ["kube-system"]}


def test_knobs_can_be_turned_off():
    docs = build("1.13", "control_plane", cni_none=False, kube_proxy_disabled=False, kubeprism=False, kubelet_serving_cert_rotation=False)
    cluster, machine = main(docs)["cluster"], main(docs)["machine"]
    assert "cni" not in cluster["network"] and "disabled" not in cluster["proxy"]
    assert "rotate-server-certificates" not in machine["kubelet"].get("extraArgs", {})


def test_base_of_the_other_role_is_refused():
    with pytest.raises(NetsecError, match="the base config is a worker config, the node is control_plane") as err:
        H.build(D.load(BASES["1.13"]["worker"]), "1.13", "control_plane", H.parse_knobs({}))
    assert err.value.field == "base"


def test_unknown_role_and_version_fail():
    with pytest.raises(NetsecError) as err:
        H.build(None, "1.13", "loadbalancer", H.parse_knobs({}))
    assert err.value.field == "role"
    with pytest.raises(NetsecError) as err:
        H.build(None, "1.12", "worker", H.parse_knobs({}))
    assert err.value.field == "talos_version"


@pytest.mark.parametrize("knobs, field", [
    ({"kubeprizm": True}, "hardening"),
    ({"cni_none": "yes"}, "hardening.cni_none"),
    ({"pod_security": {"enforce": "strict"}}, "hardening.pod_security.enforce"),
    ({"talos_api_access": {"roles": []}}, "hardening.talos_api_access"),
    ({"authentication": {"mode": "saml"}}, "hardening.authentication.mode"),
    ({"authentication": {"mode": "oidc_flags", "oidc": {"client_id": "k"}}}, "hardening.authentication.oidc.issuer_url"),
    ({"authentication": {"mode": "oidc_flags", "oidc": {"issuer_url": "http://id", "client_id": "k"}}}, "hardening.authentication.oidc.issuer_url"),
    ({"authentication": {"mode": "structured", "configuration": {"kind": "Policy"}}}, "hardening.authentication.configuration"),
    ({"authentication": {"mode": "structured", "configuration": dict(AUTHN, jwt=[])}}, "hardening.authentication.configuration.jwt"),
    ({"admission_plugins": [{"name": "X"}]}, "hardening.admission_plugins[0]"),
    ({"audit_policy": {"rules": []}}, "hardening.audit_policy"),
    ({"kubernetes_version": "latest"}, "hardening.kubernetes_version"),
])
def test_bad_knobs_fail_naming_the_knob(knobs, field):
    with pytest.raises(NetsecError) as err:
        H.parse_knobs(knobs)
    assert err.value.field == field


def test_global_then_node_patches_are_applied_after_hardening():
    docs = H.build(D.load(BASES["1.13"]["worker"]), "1.13", "worker", H.parse_knobs({}),
                   patches=[{"machine": {"kubelet": {"extraArgs": {"rotate-server-certificates": "false"}}}}],
                   node_patches=[{"machine": {"nodeLabels": {"zone": "a"}}}])
    machine = main(docs)["machine"]
    assert machine["kubelet"]["extraArgs"]["rotate-server-certificates"] == "false", "a patch may override a knob"
    assert machine["nodeLabels"] == {"zone": "a"}
