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
bins="$BUILD_DIR/go-bin"
out="$bins/$name-$key/$name"

build() {
  [ -x "$out" ] && return 0  # another caller built it while we waited for the lock
  local log="$bins/$name-build.log" tmp="$out.tmp.$$" t0=$SECONDS
  mkdir -p "$(dirname "$out")"
  echo "talos: building $name with $(go env GOVERSION); log: $log" >&2
  # nice: in CI this overlaps the static test stages, which should keep their CPU.
  if ! (cd "$dir" && nice -n "${LAB_GO_NICE:-10}" go build "${BUILD_FLAGS[@]}" -ldflags "$ldflags" -o "$tmp" "$pkg") >"$log" 2>&1; then
    rm -f "$tmp"
    tail -30 "$log" >&2
    echo "talos: go build of $name failed (log: $log)" >&2
    exit 1
  fi
  mv -f "$tmp" "$out"
  find "$bins" -mindepth 1 -maxdepth 1 -type d -name "$name-*" ! -name "$name-$key" -exec rm -rf {} +
  echo "talos: built $name in $((SECONDS - t0))s: $out" >&2
}

if [ ! -x "$out" ]; then
  mkdir -p "$bins"
  # One build per binary at a time (pytest-xdist workers and the CI background job may all ask).
  (
    flock -w 1800 9 || { echo "talos: timed out waiting for another build of $name" >&2; exit 1; }
    build
  ) 9>"$bins/.lock-$name"
fi
echo "$out"
