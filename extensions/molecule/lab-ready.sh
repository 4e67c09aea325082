#!/usr/bin/env bash
# Molecule's dependency step for every scenario here (config.yml). Checks that Molecule's
# environment resolves safespring.netsec from this work tree, brings the lab's namespaces up,
# makes sure localhost/ssn-debian:12 exists, and that no container of the `hosts` component
# occupies the LB namespaces (one set of hosts at a time: `scripts/lab.sh down hosts` first).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"

# Before env.sh (which sets the path itself): this is the environment Molecule runs Ansible in.
if ! ansible-galaxy collection list safespring.netsec 2>/dev/null | grep -q '^safespring\.netsec '; then
  echo "molecule: collection safespring.netsec not found on ANSIBLE_COLLECTIONS_PATH" \
    "(${ANSIBLE_COLLECTIONS_PATH:-unset}); run scripts/bootstrap.sh and source scripts/env.sh" >&2
  exit 1
fi

# shellcheck source=scripts/env.sh
. "$REPO/scripts/env.sh"
# shellcheck source=tests/lab/podman/env.sh
. "$REPO/tests/lab/podman/env.sh"
eval "$(python3 "$REPO/tests/lab/netns/topology.py" shell)"

"$REPO/tests/lab/netns.sh" up >/dev/null
"$REPO/tests/lab/hosts.sh" image
for h in "${CONTAINER_HOSTS[@]}"; do
  c="HOST_${h}_CONTAINER"; ns="HOST_${h}_NS"
  if containers_in_netns "${!ns}" | grep -qx "${!c}"; then
    echo "molecule: the lab's host container ${!c} runs in ${!ns}; only one set of hosts may use" \
      "the LB namespaces at a time. Stop it with: scripts/lab.sh down hosts" >&2
    exit 1
  fi
done
