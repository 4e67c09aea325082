# shellcheck shell=bash
# Shared by tests/lab/kube/build.sh, gen-gomod.sh and tests/lab/kube.sh: the Go toolchain and the
# wrapper modules the lab's Go programs are built from (etcd/, kube-apiserver/: the control plane;
# cilium-policy-check/: Cilium's own policy parser).
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

# The source directory of github.com/cilium/cilium at the version cilium-crds/go.mod pins, content
# checked against its go.sum (go mod download); the CRD definitions and the Helm chart come from it.
cilium_module_dir() {
  (cd "$KUBE_LAB/cilium-crds" && go mod download -json github.com/cilium/cilium |
    python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
}
