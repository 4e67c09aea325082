#!/usr/bin/env bash
# Builds one of the lab's control-plane binaries from its wrapper module, or finds it built, and
# prints its path:
#   tests/lab/kube/build.sh etcd|kube-apiserver|cilium-policy-check
# Cached by content: the key hashes everything that shapes the binary (go.mod, go.sum, the *.go files,
# package, ldflags, build flags, `go version`, CGO_ENABLED), so a hit costs a few hashes and a
# changed pin rebuilds. Binaries live in $BUILD_DIR/go-bin/<name>-<key>/<name>; older keys of the
# same name are removed after a build (Go's own build cache keeps a rebuild of them cheap).
# Each build appends one line to $BUILD_DIR/go-bin/build-times.tsv (UTC time, name, key, seconds, Go
# version; tab-separated), the cold-build figure bench/kube_delivery.py reports.
# Needs only the Go module proxy: go.sum pins every module, so nothing else is consulted.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"

name="${1:-}"
[ -n "$name" ] || { echo "usage: $0 etcd|kube-apiserver|cilium-policy-check" >&2; exit 2; }
pkg="$(kube_main_package "$name")"
dir="$KUBE_LAB/$name"
go_setup

BUILD_FLAGS=(-trimpath)
ldflags="$(kube_ldflags "$name")"
key="$(
  {
    cat "$dir/go.mod" "$dir/go.sum" "$dir"/*.go  # tools.go alone for etcd/kube-apiserver: their keys are unchanged
    printf '%s\n' "$name" "$pkg" "${BUILD_FLAGS[*]}" "$ldflags" "$GOFLAGS" "$(go version)" "CGO_ENABLED=$(go env CGO_ENABLED)"
  } | sha256sum | cut -c1-16
)"
bins="$BUILD_DIR/go-bin"
out="$bins/$name-$key/$name"

build() {
  [ -x "$out" ] && return 0  # another caller built it while we waited for the lock
  local log="$bins/$name-build.log" tmp="$out.tmp.$$" t0=$SECONDS
  mkdir -p "$(dirname "$out")"
  kube_say "building $name ($pkg, $(kube_pinned_version "$name")) with $(go env GOVERSION); log: $log"
  # nice: in CI this overlaps the static test stages, which should keep their CPU.
  if ! (cd "$dir" && nice -n "${LAB_GO_NICE:-10}" go build "${BUILD_FLAGS[@]}" -ldflags "$ldflags" -o "$tmp" "$pkg") >"$log" 2>&1; then
    rm -f "$tmp"
    tail -30 "$log" >&2
    kube_die "go build of $name failed (log: $log)"
  fi
  mv -f "$tmp" "$out"
  printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$key" "$((SECONDS - t0))" "$(go env GOVERSION)" >>"$bins/build-times.tsv"
  find "$bins" -mindepth 1 -maxdepth 1 -type d -name "$name-*" ! -name "$name-$key" -exec rm -rf {} +
  kube_say "built $name in $((SECONDS - t0))s: $out"
}

if [ ! -x "$out" ]; then
  mkdir -p "$bins"
  # One build per binary at a time (pytest-xdist workers and the CI background job may all ask).
  (
    flock -w 1800 9 || kube_die "timed out waiting for another build of $name"
    build
  ) 9>"$bins/.lock-$name"
fi
echo "$out"
