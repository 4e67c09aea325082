#!/usr/bin/env bash
# Prints the file of Istio's CRD definitions the lab installs, as Istio publishes them
# (kubernetes/customresourcedefinitions.gen.yaml of istio.io/api at the version pinned in
# istio-crds/go.mod, content checked against its go.sum): PeerAuthentication and the other
# security/networking kinds the mesh opt-in writes. Needs only the Go module proxy.
#   tests/lab/kube/istio-crds.sh
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"
go_setup
dir="$(crd_module_dir istio-crds istio.io/api)"
crds="$dir/kubernetes/customresourcedefinitions.gen.yaml"
grep -q '^  name: peerauthentications.security.istio.io$' "$crds" 2>/dev/null || kube_die "no PeerAuthentication CRD in $crds"
echo "$crds"
