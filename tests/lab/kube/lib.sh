# shellcheck shell=bash
# Shared by tests/lab/kube/build.sh, gen-gomod.sh and tests/lab/kube.sh: the Go toolchain and the
# wrapper modules the lab's Go programs are built from (etcd/, kube-apiserver/: the control plane;
# cilium-policy-check/: Cilium's own policy parser) or whose published CRDs it installs (cilium-crds/, istio-crds/).
# The caller sources scripts/env.sh first (REPO, BUILD_DIR).

KUBE_LAB="$REPO/tests/lab/kube"
GO_MIN_MINOR=26  # the wrapper modules say `go 1.26`

kube_say() { echo "lab[kube]: $*" >&2; }
kube_die() { kube_say "$*"; exit 1; }

# Fails with the fix when Go is missing or older than the modules need; a too old toolchain must not
# silently download a newer one (GOTOOLCHAIN=local), nor rewrite go.mod/go.sum (-mod=readonly).
go_setup() {
  local v
  command -v go >/dev/null 2>&1 ||
    kube_die "Go 1.$GO_MIN_MINOR or newer is needed to build the lab's kube-apiserver and etcd; install it from https://go.dev/dl/ into /usr/local/go"
  v="$(go env GOVERSION)"
  if ! [[ "$v" =~ ^go1\.([0-9]+) ]] || [ "${BASH_REMATCH[1]}" -lt "$GO_MIN_MINOR" ]; then
    kube_die "Go 1.$GO_MIN_MINOR or newer is needed (found $v at $(command -v go)); install it from https://go.dev/dl/"
  fi
  export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -buildvcs=false"
}

# The Go package each wrapper builds, and the module whose version it pins.
kube_main_package() {  # NAME
  case "$1" in
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    kube-apiserver) echo k8s.io/kubernetes/cmd/kube-apiserver ;;
    cilium-policy-check) echo . ;;  # the wrapper's own main.go
    *) kube_die "no wrapper module '$1' (etcd, kube-apiserver or cilium-policy-check)" ;;
  esac
}

kube_main_module() {  # NAME
  case "$1" in
    etcd) echo go.etcd.io/etcd/server/v3 ;;
    kube-apiserver) echo k8s.io/kubernetes ;;
    cilium-policy-check) echo github.com/cilium/cilium ;;
    *) kube_die "no wrapper module '$1' (etcd, kube-apiserver or cilium-policy-check)" ;;
  esac
}

# The pinned version, read from the wrapper's go.mod: the one place it is written.
kube_pinned_version() {  # NAME
  local mod
  mod="$(kube_main_module "$1")"
  awk -v m="$mod" '($1 == "require" && $2 == m) { print $3; exit } ($1 == m) { print $2; exit }' "$KUBE_LAB/$1/go.mod"
}

# kube-apiserver reports v0.0.0-master unless its version variables are set at link time.
kube_ldflags() {  # NAME
  local v major minor
  case "$1" in
    etcd|cilium-policy-check) echo "-s -w" ;;
    kube-apiserver)
      v="$(kube_pinned_version kube-apiserver)"
      [[ "$v" =~ ^v([0-9]+)\.([0-9]+)\. ]] || kube_die "cannot read the k8s.io/kubernetes version from $KUBE_LAB/kube-apiserver/go.mod"
      major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
      echo "-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=$major" \
        "-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$v" ;;
  esac
}

# The source directory of a module pinned by one of the CRD wrappers (cilium-crds/, istio-crds/), its
# content checked against the wrapper's go.sum by `go mod download` (the module cache is content-addressed,
# so a second call costs no download).
crd_module_dir() {  # WRAPPER MODULE
  (cd "$KUBE_LAB/$1" && go mod download -json "$2" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
}

# github.com/cilium/cilium at the version cilium-crds/go.mod pins: the CRD definitions and the Helm chart come from it.
cilium_module_dir() {
  crd_module_dir cilium-crds github.com/cilium/cilium
}

# go_cached_build LABEL NAME DIR PKG OUT LDFLAGS: `go build PKG` (flags from the caller's BUILD_FLAGS
# array) in DIR to OUT ($BUILD_DIR/go-bin/NAME-<key>/NAME), one build of NAME at a time, older keys
# of NAME removed; a no-op when OUT exists. The content-cached tool builds (Talos, Pebble) share it.
go_cached_build() {
  local label="$1" name="$2" dir="$3" pkg="$4" out="$5" ldflags="$6" bins="$BUILD_DIR/go-bin"
  [ -x "$out" ] && return 0
  mkdir -p "$bins"
  # One build per binary at a time (pytest-xdist workers and the CI background job may all ask).
  (
    flock -w 1800 9 || { echo "$label: timed out waiting for another build of $name" >&2; exit 1; }
    [ -x "$out" ] && exit 0  # another caller built it while we waited for the lock
    log="$bins/$name-build.log" tmp="$out.tmp.$$" t0=$SECONDS
    mkdir -p "$(dirname "$out")"
    echo "$label: building $name with $(go env GOVERSION); log: $log" >&2
    # nice: in CI this overlaps the static test stages, which should keep their CPU.
    if ! (cd "$dir" && nice -n "${LAB_GO_NICE:-10}" go build "${BUILD_FLAGS[@]}" -ldflags "$ldflags" -o "$tmp" "$pkg") >"$log" 2>&1; then
      rm -f "$tmp"
      tail -30 "$log" >&2
      echo "$label: go build of $name failed (log: $log)" >&2
      exit 1
    fi
    mv -f "$tmp" "$out"
    find "$bins" -mindepth 1 -maxdepth 1 -type d -name "$name-*" ! -name "$(basename "$(dirname "$out")")" -exec rm -rf {} +
    echo "$label: built $name in $((SECONDS - t0))s: $out" >&2
  ) 9>"$bins/.lock-$name"
}
