// Pins the Cilium release whose CRD definitions the lab installs (pkg/k8s/apis/cilium.io/client/crds/v2):
// the same version as roles/cilium cilium_version; go.sum pins its content.
module safespring.netsec/lab/cilium-crds

go 1.26

require github.com/cilium/cilium v1.18.2
