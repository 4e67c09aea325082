// Pins the Istio API release whose CRD definitions the lab installs (kubernetes/customresourcedefinitions.gen.yaml,
// the file Istio's own charts ship as their CRDs): for the mesh opt-in (PeerAuthentication); go.sum pins its content.
module safespring.netsec/lab/istio-crds

go 1.26

require istio.io/api v1.32.0
