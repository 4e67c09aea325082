#!/usr/bin/env bash
# Builds one of the Talos programs from its wrapper module, or finds it built, and prints its path:
#   tests/tools/talos/build.sh talos-validate-1.13|talos-validate-1.14|talosctl
# talos-validate-X is validate/ (Talos' own config loader, validation and patcher) linked against
# github.com/siderolabs/talos/pkg/machinery of that release: validate/go.mod pins 1.13, go.1.14.mod
# the newest 1.14 the module proxy serves. talosctl/ wraps github.com/siderolabs/talos/cmd/talosctl
# with the main module's replace lines. Cached by content like tests/lab/kube/build.sh: the key
# hashes go.mod, go.sum, the sources, flags and `go version`; binaries live in
# $BUILD_DIR/go-bin/<name>-<key>/<name>. Needs only the Go module proxy (go.sum pins every module).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"

here="$REPO/tests/tools/talos"
name="${1:-}"
case "$name" in
  talos-validate-1.13) dir="$here/validate" modfile="go.mod" pkg=. ;;
  talos-validate-1.14) dir="$here/validate" modfile="go.1.14.mod" pkg=. ;;
  talosctl) dir="$here/talosctl" modfile="go.mod" pkg=github.com/siderolabs/talos/cmd/talosctl ;;
  *) echo "usage: $0 talos-validate-1.13|talos-validate-1.14|talosctl" >&2; exit 2 ;;
esac
go_setup

BUILD_FLAGS=(-trimpath "-modfile=$modfile")
ldflags="-s -w"  # talosctl's version tag comes from its module's gendata, nothing to set
key="$(
  {
    cat "$dir/$modfile" "$dir/${modfile%.mod}.sum" "$dir"/*.go
    printf '%s\n' "$name" "$pkg" "${BUILD_FLAGS[*]}" "$ldflags" "$GOFLAGS" "$(go version)" "CGO_ENABLED=$(go env CGO_ENABLED)"
  } | sha256sum | cut -c1-16
)"
out="$BUILD_DIR/go-bin/$name-$key/$name"
go_cached_build talos "$name" "$dir" "$pkg" "$out" "$ldflags"
echo "$out"
