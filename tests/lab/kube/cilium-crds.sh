#!/usr/bin/env bash
# Prints the directory of the Cilium CRD definitions the lab installs, as Cilium publishes them
# (pkg/k8s/apis/cilium.io/client/crds/v2 of github.com/cilium/cilium at the version pinned in
# cilium-crds/go.mod, content checked against its go.sum). Needs only the Go module proxy.
#   tests/lab/kube/cilium-crds.sh
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"
go_setup
dir="$(cilium_module_dir)"
crds="$dir/pkg/k8s/apis/cilium.io/client/crds/v2"
[ -f "$crds/ciliumnetworkpolicies.yaml" ] || kube_die "no CRD definitions under $crds"
echo "$crds"
