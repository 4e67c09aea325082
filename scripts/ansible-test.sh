#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/safespring/netsec and a pip
# bootstrap it would download: give it a copy of the tree and a local stand-in bootstrap.
#   scripts/ansible-test.sh [--leg default|latest] sanity|units [ansible-test args...]
set -euo pipefail
. "$(dirname "$0")/env.sh"

leg=default
if [ "${1:-}" = "--leg" ]; then leg="$2"; shift 2; fi

case "$leg" in
  default) py=3.11; test_venv="$VENV" ;;
  latest)
    # The newest ansible-core needs Python >= 3.12: use the newest interpreter there is.
    # A pyenv shim answers `command -v` but refuses to run a version that is not selected:
    # look for an interpreter that really runs (on PATH, then pyenv's versions).
    py=""; py_bin=""
    for candidate in 3.13 3.12; do
      for bin in "$(command -v "python$candidate" 2>/dev/null)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$candidate".*/bin/"python$candidate"; do
        if [ -n "$bin" ] && [ -x "$bin" ] && "$bin" -c 'import sys' 2>/dev/null; then py=$candidate; py_bin=$bin; break 2; fi
      done
    done
    if [ -z "$py" ]; then echo "ansible-test: leg 'latest' NOT POSSIBLE here: no working python3.12/3.13 interpreter"; exit 0; fi
    test_venv="$BUILD_DIR/venv-latest-py$py"
    if [ ! -x "$test_venv/bin/ansible-test" ]; then
      "$py_bin" -m venv "$test_venv"
      "$test_venv/bin/pip" install -q --upgrade pip
      "$test_venv/bin/pip" install -q -r "$REPO/requirements/latest.txt"
    fi ;;
  *) echo "unknown leg $leg" >&2; exit 2 ;;
esac

# The stand-in bootstrap, under every pip version ansible-test may ask for.
pip_version=$("$test_venv/bin/python" - <<'PY'
import inspect, re
from ansible_test._internal import python_requirements
print(" ".join(sorted(set(re.findall(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages))))))
PY
)
mkdir -p "$HOME/.ansible/test/cache"
for v in $pip_version; do cp "$REPO/scripts/ansible-test-get-pip.py" "$HOME/.ansible/test/cache/get_pip_${v//./_}.py"; done

# Outside the repo: inside it, ansible-test would ask git and see only ignored files.
at_root="${ANSIBLE_TEST_ROOT:-/tmp/safespring-netsec-ansible-test}/$leg"
work="$at_root/ansible_collections/safespring/netsec"
mkdir -p "$work"
rsync -a --delete --delete-excluded --exclude-from="$REPO/.gitignore" --exclude .git "$REPO/" "$work/"
# ansible-test drops SHARED_DIR from the environment: tests find ../shared/specs beside the copy.
ln -sfn "$SHARED_DIR" "$at_root/ansible_collections/safespring/shared"
cd "$work"
export ANSIBLE_COLLECTIONS_PATH="$at_root:$test_venv/lib/python$py/site-packages"
echo "ansible-test leg=$leg python=$py ansible-core $("$test_venv/bin/python" -c "import ansible.release as r; print(r.__version__)")"
"$test_venv/bin/ansible-test" "$@" --venv --python "$py" --color no
