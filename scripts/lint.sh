#!/usr/bin/env bash
# ansible-lint with the production profile over roles, playbooks and the collection.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$REPO"
ansible-lint --version | head -1
ansible-lint --profile production --strict --offline
