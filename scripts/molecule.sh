#!/usr/bin/env bash
# Every Molecule scenario in extensions/molecule/, one after the other (they share the lab's
# ssn-lb1/ssn-lb2 namespaces, so the lab's own `hosts` containers are stopped first).
#   scripts/molecule.sh [SCENARIO...]
set -uo pipefail
. "$(dirname "$0")/env.sh"
"$REPO/scripts/lab.sh" up netns neutron >/dev/null
"$REPO/scripts/lab.sh" down hosts >/dev/null 2>&1 || true
# From the collection root: only there does Molecule detect the collection and load
# extensions/molecule/config.yml (elsewhere every step is "missing" and the run still passes).
cd "$REPO" || exit 1
scenarios=("$@")
if [ "${#scenarios[@]}" = 0 ]; then
  for f in extensions/molecule/*/molecule.yml; do [ -e "$f" ] && scenarios+=("$(basename "$(dirname "$f")")"); done
fi
rc=0
for s in "${scenarios[@]}"; do
  t0=$(date +%s)
  if molecule test -s "$s"; then r=ok; else r=FAILED; rc=1; fi
  echo "molecule scenario $s: $r in $(( $(date +%s) - t0 ))s"
done
exit $rc
