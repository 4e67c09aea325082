# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small base configs shaped like `talosctl gen config` output (fake key material)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

SHARED = os.environ.get("SHARED_DIR") or os.path.join(os.path.dirname(__file__), *[".."] * 6, "..", "shared")
SCHEMA_PATHS = {
    "1.13": os.path.join(SHARED, "specs", "talos-v1.13.9-config.schema.json"),
    "1.14": os.path.join(SHARED, "specs", "talos-config.schema.json"),
}
_SCHEMAS = {}


def schema(version):
    if version not in _SCHEMAS:
        with open(SCHEMA_PATHS[version]) as handle:
            _SCHEMAS[version] = json.load(handle)
    return _SCHEMAS[version]


BASE_113 = {
    "control_plane": """
version: v1alpha1
debug: false
machine:
  type: controlplane
  token: abcdef.0123456789abcdef
  ca: {crt: LS0tQ1JULS0t, key: LS0tS0VZLS0t}
  certSANs: []
  kubelet:
    image: ghcr.io/siderolabs/kubelet:v1.35.0
    defaultRuntimeSeccompProfileEnabled: true
    disableManifestsDirectory: true
  install: {disk: /dev/sda, image: ghcr.io/siderolabs/installer:v1.13.9, wipe: false}
  features:
    diskQuotaSupport: true
    kubePrism: {enabled: true, port: 7445}
    kubernetesTalosAPIAccess: {enabled: true, allowedRoles: ["os:admin"], allowedKubernetesNamespaces: [default]}
cluster:
  id: Y2x1c3Rlci1pZA==
  secret: c2VjcmV0LXNlY3JldA==
  controlPlane: {endpoint: "https://198.18.0.10:6443"}
  clusterName: c1
  network:
    dnsDomain: cluster.local
    podSubnets: [10.244.0.0/16]
    serviceSubnets: [10.96.0.0/12]
  token: 012345.abcdefabcdefabcd
  secretboxEncryptionSecret: c2VjcmV0Ym94
  ca: {crt: LS0tQ1JULS0t, key: LS0tS0VZLS0t}
  aggregatorCA: {crt: LS0tQ1JULS0t, key: LS0tS0VZLS0t}
  serviceAccount: {key: LS0tS0VZLS0t}
  apiServer:
    image: registry.k8s.io/kube-apiserver:v1.35.0
    certSANs: [198.18.0.10]
    extraArgs: {oidc-issuer-url: "https://old.example", oidc-client-id: old}
    admissionControl:
      - name: PodSecurity
        configuration:
          apiVersion: pod-security.admission.config.k8s.io/v1alpha1
          kind: PodSecurityConfiguration
          defaults: {enforce: privileged}
      - name: EventRateLimit
        configuration: {apiVersion: eventratelimit.admission.k8s.io/v1alpha1, kind: Configuration, limits: []}
  controllerManager: {image: registry.k8s.io/kube-controller-manager:v1.35.0}
  proxy: {image: registry.k8s.io/kube-proxy:v1.35.0}
  scheduler: {image: registry.k8s.io/kube-scheduler:v1.35.0}
  discovery: {enabled: true}
  etcd: {ca: {crt: LS0tQ1JULS0t, key: LS0tS0VZLS0t}}
""",
    "worker": """
version: v1alpha1
machine:
  type: worker
  token: abcdef.0123456789abcdef
  ca: {crt: LS0tQ1JULS0t}
  kubelet: {image: ghcr.io/siderolabs/kubelet:v1.35.0}
  install: {disk: /dev/sda, image: ghcr.io/siderolabs/installer:v1.13.9}
cluster:
  id: Y2x1c3Rlci1pZA==
  secret: c2VjcmV0LXNlY3JldA==
  controlPlane: {endpoint: "https://198.18.0.10:6443"}
  network: {dnsDomain: cluster.local, podSubnets: [10.244.0.0/16], serviceSubnets: [10.96.0.0/12]}
  token: 012345.abcdefabcdefabcd
  ca: {crt: LS0tQ1JULS0t}
""",
}

BASE_114 = {
    "control_plane": """
version: v1alpha1
machine:
  type: controlplane
  token: abcdef.0123456789abcdef
  ca: {crt: LS0tQ1JULS0t, key: LS0tS0VZLS0t}
cluster:
  token: 012345.abcdefabcdefabcd
  etcd: {ca: {crt: LS0tQ1JULS0t, key: LS0tS0VZLS0t}}
---
apiVersion: v1alpha1
kind: KubeClusterConfig
clusterName: c1
endpoint: https://198.18.0.10:6443
---
apiVersion: v1alpha1
kind: KubeNetworkConfig
podSubnets: [10.244.0.0/16]
serviceSubnets: [10.96.0.0/12]
---
apiVersion: v1alpha1
kind: KubeAPIServerConfig
image: registry.k8s.io/kube-apiserver:v1.35.1
extraArgs: {oidc-issuer-url: "https://old.example"}
---
apiVersion: v1alpha1
kind: KubeletConfig
image: ghcr.io/siderolabs/kubelet:v1.35.1
---
apiVersion: v1alpha1
kind: KubeProxyConfig
image: registry.k8s.io/kube-proxy:v1.35.1
---
apiVersion: v1alpha1
kind: KubeFlannelCNIConfig
---
apiVersion: v1alpha1
kind: KubeTalosAPIAccessConfig
allowedRoles: ["os:admin"]
""",
    "worker": """
version: v1alpha1
machine:
  type: worker
  token: abcdef.0123456789abcdef
cluster:
  token: 012345.abcdefabcdefabcd
---
apiVersion: v1alpha1
kind: KubeletConfig
image: ghcr.io/siderolabs/kubelet:v1.35.1
""",
}

BASES = {"1.13": BASE_113, "1.14": BASE_114}

AUTHN = {
    "apiVersion": "apiserver.config.k8s.io/v1beta1",
    "kind": "AuthenticationConfiguration",
    "jwt": [{
        "issuer": {"url": "https://id.example.net", "audiences": ["kubernetes"]},
        "claimMappings": {"username": {"claim": "email", "prefix": "zitadel:"},
                          "groups": {"expression": "claims['urn:zitadel:iam:org:project:roles'].map(r, 'zitadel:' + r)"}},
        "claimValidationRules": [{"expression": "claims.email_verified == true", "message": "email must be verified"}],
    }],
}
