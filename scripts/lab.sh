#!/usr/bin/env bash
# The lab: real components on this one machine.
#   scripts/lab.sh up [COMPONENT...]      start (idempotent, waits until healthy)
#   scripts/lab.sh down [COMPONENT...]    stop and remove everything it started
#   scripts/lab.sh status [COMPONENT...]  exit 0 when all named components are healthy
#   scripts/lab.sh control-plane          the OIDC issuer + kube-apiserver the main job applies to (tests/lab/control-plane.sh)
#   scripts/lab.sh site                   bootstrap, lab up (control plane included), run playbooks/site.yml on inventories/lab
# Components live in tests/lab/<name>.sh and answer up|down|status themselves.
set -euo pipefail
. "$(dirname "$0")/env.sh"

ALL_COMPONENTS=(netns neutron keystone hosts backends kube control-plane)
verb="${1:-status}"; shift || true
components=("$@"); [ "${#components[@]}" -gt 0 ] || components=("${ALL_COMPONENTS[@]}")

run_component() {
  local c="$1" v="$2"
  [ -x "$REPO/tests/lab/$c.sh" ] || { echo "lab: no component '$c' (tests/lab/$c.sh)" >&2; return 2; }
  "$REPO/tests/lab/$c.sh" "$v"
}

case "$verb" in
  up|status)
    for c in "${components[@]}"; do run_component "$c" "$verb"; done ;;
  down)
    rc=0
    # reverse order: hosts use namespaces, so they go first
    for (( i=${#components[@]}-1; i>=0; i-- )); do run_component "${components[$i]}" down || rc=1; done
    exit $rc ;;
  control-plane)
    run_component control-plane up ;;
  site)
    "$REPO/scripts/bootstrap.sh"
    # What the main job needs (Keystone is only for the project-scoping tests): the Cilium, namespace-policy
    # and identity stages apply to the control plane's kube-apiserver, which authenticates with the lab issuer.
    "$0" up netns neutron hosts backends control-plane
    cd "$REPO"
    export OS_CLIENT_CONFIG_FILE="$LAB_DIR/clouds.yaml"
    rc=0
    ansible-playbook -i inventories/lab playbooks/site.yml || rc=$?
    echo
    echo "Report: $REPO/reports/lab/index.html (also report.md, junit.xml, report.sarif, oscal-assessment-results.json, report.json and drift.md there)"
    echo "Rendered Talos, Cilium, Zitadel and namespace-policy artifacts: $LAB_DIR/rendered/"
    echo "Kubernetes API the Kubernetes stages applied to: $(jq -r .api_url "$LAB_DIR/control-plane/control-plane.json") (kubeconfig $LAB_DIR/kube-site/admin.kubeconfig)"
    echo "Tear the lab down with: sudo scripts/lab.sh down"
    exit $rc
    ;;
  *) echo "usage: $0 up|down|status|control-plane|site [component...]" >&2; exit 2 ;;
esac
