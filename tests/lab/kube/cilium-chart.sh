#!/usr/bin/env bash
# Prints the directory of the Cilium Helm chart the chart tests render: install/kubernetes/cilium of
# github.com/cilium/cilium at the version pinned in cilium-crds/go.mod (the roles/cilium
# cilium_version), content checked against its go.sum. Needs only the Go module proxy.
#   tests/lab/kube/cilium-chart.sh
# Why not github.com/cilium/charts (the published tgz files): the Go module proxy refuses it (403 for
# every version), so it cannot be go.sum-pinned here. The published cilium-1.18.2.tgz differs from
# this source only in the image digests its release job fills in (useDigest) and Chart.yaml's
# artifacthub annotations; the templates and every other value are the same files.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"
go_setup
chart="$(cilium_module_dir)/install/kubernetes/cilium"
if [ ! -f "$chart/Chart.yaml" ] || [ ! -f "$chart/values.schema.json" ]; then kube_die "no Helm chart under $chart"; fi
echo "$chart"
