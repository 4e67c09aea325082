#!/usr/bin/env bash
# Builds Pebble (Let's Encrypt's ACME test server) from its Go module, or finds it built, and prints
# its path: tests/tools/pebble/build.sh [pebble]. go.mod pins github.com/letsencrypt/pebble/v2 as a
# `tool`; go.sum pins every module. Cached by content like tests/tools/talos/build.sh: the key hashes
# go.mod, go.sum, flags and `go version`; the binary lives in $BUILD_DIR/go-bin/pebble-<key>/pebble.
# `test-certs` prints the directory of Pebble's own test certificates (its HTTPS listener's
# certificate and the minica that signed it), taken from the module cache.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"

here="$REPO/tests/tools/pebble"
name=pebble
pkg=github.com/letsencrypt/pebble/v2/cmd/pebble
go_setup

if [ "${1:-pebble}" = test-certs ]; then
  # Empty when the module is not in the module cache yet: download it, then ask again.
  if ! dir="$(cd "$here" && go list -m -f '{{.Dir}}' github.com/letsencrypt/pebble/v2 2>/dev/null)" || [ -z "$dir" ]; then
    (cd "$here" && go mod download github.com/letsencrypt/pebble/v2) >&2
    dir="$(cd "$here" && go list -m -f '{{.Dir}}' github.com/letsencrypt/pebble/v2)"
  fi
  echo "$dir/test/certs"
  exit 0
fi
[ "${1:-pebble}" = pebble ] || { echo "usage: $0 [pebble|test-certs]" >&2; exit 2; }

BUILD_FLAGS=(-trimpath)
ldflags="-s -w"
key="$(
  {
    cat "$here/go.mod" "$here/go.sum"
    printf '%s\n' "$name" "$pkg" "${BUILD_FLAGS[*]}" "$ldflags" "$GOFLAGS" "$(go version)" "CGO_ENABLED=$(go env CGO_ENABLED)"
  } | sha256sum | cut -c1-16
)"
out="$BUILD_DIR/go-bin/$name-$key/$name"
go_cached_build pebble "$name" "$here" "$pkg" "$out" "$ldflags"
echo "$out"
