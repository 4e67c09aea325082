#!/usr/bin/env bash
# Installs what the collection and its lab need on a fresh Debian 12 / Ubuntu machine.
# Idempotent: a second run only checks. Needs root (apt, network namespaces, podman).
set -euo pipefail
. "$(dirname "$0")/env.sh"

APT_PACKAGES=(
  python3-venv python3-dev gcc git rsync curl jq socat openssl netcat-openbsd
  iproute2 iputils-ping nftables conntrack tcpdump
  haproxy keepalived bird2
  podman runc debootstrap uidmap
  wrk slowhttptest shellcheck
)

if [ "$(id -u)" != 0 ]; then
  echo "bootstrap: run as root (apt, network namespaces and podman need it)" >&2
  exit 1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The lab's kube component builds kube-apiserver and etcd from Go modules: fail now, with the fix,
# rather than in the middle of the lab stage.
( . "$REPO/tests/lab/kube/lib.sh" && go_setup )
# The lab runs its own daemons in namespaces; the distro units must not hold ports or pid files.
for unit in haproxy keepalived bird; do
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
done

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp="$VENV/.requirements.sha"
want="$(cat "$REPO/requirements/dev.in" "$REPO/requirements/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: creating $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$REPO/requirements/dev.in" -c "$REPO/requirements/constraints.txt"
  echo "$want" > "$stamp"
fi

# ansible_collections/safespring/netsec -> the work tree, for ansible-playbook and pytest.
mkdir -p "$COLLECTIONS_DIR/ansible_collections/safespring" "$ANSIBLE_LOCAL_TEMP" "$ANSIBLE_HOME"
ln -sfn "$REPO" "$COLLECTIONS_DIR/ansible_collections/safespring/netsec"
echo "bootstrap: ok ($("$VENV/bin/ansible" --version | head -1))"
