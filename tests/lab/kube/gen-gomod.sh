#!/usr/bin/env bash
# Regenerates a wrapper module's go.mod and go.sum for a release; commit both, then
# `tests/lab/kube.sh up` rebuilds (the binary cache is keyed by their content):
#   tests/lab/kube/gen-gomod.sh kube-apiserver v1.36.4
#   tests/lab/kube/gen-gomod.sh etcd v3.6.17
# k8s.io/kubernetes cannot be required as it is: its go.mod requires every staging module
# (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 and replaces it with ./staging/src/..., which is
# not in the module zip (kubernetes#79384). The wrapper replaces each with its published version
# (v1.X.Y -> v0.X.Y); the list is read from that release's own go.mod, so a staging module added
# upstream is not missed. etcd's server module has ../api-style replaces too, which a wrapper
# ignores (replaces only apply in the main module).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"

name="${1:-}" version="${2:-}"
[[ -n "$name" && "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 etcd|kube-apiserver vX.Y.Z" >&2; exit 2; }
mod="$(kube_main_module "$name")"
dir="$KUBE_LAB/$name"
go_setup
export GOFLAGS=-mod=mod  # this script is the one place that may rewrite go.mod/go.sum

{
  printf 'module safespring.netsec/lab/%s\n\ngo 1.%s\n\nrequire %s %s\n' "$name" "$GO_MIN_MINOR" "$mod" "$version"
  if [ "$name" = kube-apiserver ]; then
    release_mod="$(cd "$dir" && go mod download -json "$mod@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
    [ -f "$release_mod" ] || kube_die "could not download the go.mod of $mod@$version"
    staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*#\1#p' "$release_mod")"
    [ -n "$staging" ] || kube_die "no staging replaces in $release_mod: has the release layout changed?"
    printf '\nreplace (\n'
    for m in $staging; do printf '\t%s => %s v0.%s\n' "$m" "$m" "${version#v1.}"; done
    printf ')\n'
  fi
} >"$dir/go.mod.new"
mv -f "$dir/go.mod.new" "$dir/go.mod"
rm -f "$dir/go.sum"
(cd "$dir" && go mod tidy)
kube_say "$name now pins $mod $version ($(grep -c . "$dir/go.sum") go.sum lines); rebuild with tests/lab/kube.sh up"
