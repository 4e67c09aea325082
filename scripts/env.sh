# shellcheck shell=bash
# Sourced by every project script: one place that says where things live.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO
export VENV="${VENV:-$REPO/.venv}"
export LAB_DIR="${LAB_DIR:-$REPO/.lab}"
export BUILD_DIR="$REPO/.build"
# The collection is importable as ansible_collections.safespring.netsec through this symlink tree.
export COLLECTIONS_DIR="$BUILD_DIR/collections"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS_DIR:$VENV/lib/python3.11/site-packages"
export ANSIBLE_ROLES_PATH="$REPO/roles"
export ANSIBLE_LOCAL_TEMP="$BUILD_DIR/ansible-tmp"
export ANSIBLE_HOME="$BUILD_DIR/ansible-home"
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export PATH="$VENV/bin:$PATH"
# Go builds the lab's kube-apiserver and etcd (tests/lab/kube/); its standard install place may not be on PATH.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="$PATH:/usr/local/go/bin"; fi
# The lab's shared specs (read-only upstream schemas); CI places shared/ beside the clone.
export SHARED_DIR="${SHARED_DIR:-$(cd "$REPO/../shared" 2>/dev/null && pwd || echo "$REPO/../shared")}"
export PYTHONDONTWRITEBYTECODE=1

stage_start() { STAGE_NAME="$1"; STAGE_T0=$(date +%s); echo; echo "=== stage: $STAGE_NAME"; }
stage_end() { echo "=== stage: $STAGE_NAME done in $(( $(date +%s) - STAGE_T0 ))s (rc=${1:-0})"; }
