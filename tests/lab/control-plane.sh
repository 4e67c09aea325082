#!/usr/bin/env bash
# Lab component `control-plane`: the Kubernetes control plane the main job applies to and verify
# reads (scripts/lab.sh site starts it). Three real things, in order:
#   1. the lab OIDC issuer (tests/lab/control_plane/issuer.py, the tests' issuer as a daemon) on
#      https://127.0.0.1:$LAB_OIDC_PORT, minting Zitadel-shaped probe tokens;
#   2. the AuthenticationConfiguration for it, rendered by the collection itself
#      (playbooks/zitadel_rbac.yml on inventories/lab, render only), unchanged;
#   3. a kube-apiserver + etcd instance `site` (tests/lab/kube.sh, LAB_KUBE_INSTANCE=site) started
#      with that file, with Cilium's published CRDs installed (no agent runs here).
# The lab's default kube instance (the tests') is never touched.
#   tests/lab/control-plane.sh up|down|status
# State: $LAB_DIR/control-plane (issuer.json, issuer CA, probe tokens 0600, control-plane.json for
# inventories/lab: kubeconfig and API URL), $LAB_DIR/kube-site (the instance).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../scripts/env.sh"
COMPONENT=control-plane
# shellcheck source=tests/lab/openstack/lib.sh
. "$REPO/tests/lab/openstack/lib.sh"

STATE="$LAB_DIR/control-plane"
OIDC_PORT="${LAB_OIDC_PORT:-15443}"
KUBE_PORT="${LAB_SITE_KUBE_PORT:-16444}"
KUBE_STATE="$LAB_DIR/kube-site"
AUTHN="$LAB_DIR/rendered/zitadel/lab/authentication-config.yaml"
PY="$VENV/bin/python"

kube() {  # VERB: the site instance of tests/lab/kube.sh
  LAB_KUBE_INSTANCE=site LAB_KUBE_PORT="$KUBE_PORT" LAB_KUBE_AUTHN_CONFIG="$AUTHN" "$REPO/tests/lab/kube.sh" "$1"
}

issuer_healthy() {
  pid_alive "$STATE/issuer.pid" "$STATE" && [ -f "$STATE/issuer.json" ] &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$STATE/issuer-ca.crt" \
         "https://127.0.0.1:$OIDC_PORT/.well-known/openid-configuration" || true)" = 200 ]
}

issuer_up() {
  issuer_healthy && return 0
  stop_daemon "$STATE/issuer.pid" "$STATE"
  rm -rf "$STATE"
  (umask 077 && mkdir -p "$STATE")
  port_busy "$OIDC_PORT" && die "port $OIDC_PORT is taken by a process this lab did not start (set LAB_OIDC_PORT)"
  start_daemon "$STATE/issuer.pid" "$STATE" "$STATE/issuer.log" "$PY" "$REPO/tests/lab/control_plane/issuer.py" "$STATE" "$OIDC_PORT"
  local deadline=$((SECONDS + 30))
  until issuer_healthy; do
    pid_alive "$STATE/issuer.pid" "$STATE" || { tail -20 "$STATE/issuer.log" >&2; die "the OIDC issuer exited"; }
    [ $SECONDS -lt $deadline ] || die "the OIDC issuer is not serving discovery after 30s (log: $STATE/issuer.log)"
    sleep 0.3
  done
}

render_authn() {
  local log="$STATE/render.log"
  # Render only (no kubeconfig): the identity stage writes the AuthenticationConfiguration for this issuer.
  (cd "$REPO" && ansible-playbook -i inventories/lab playbooks/zitadel_rbac.yml -e '{"netsec_kubeconfig": ""}') >"$log" 2>&1 ||
    { tail -30 "$log" >&2; die "rendering the AuthenticationConfiguration failed (log: $log)"; }
  [ -f "$AUTHN" ] || die "no $AUTHN after the identity stage rendered (log: $log)"
  grep -q "https://127.0.0.1:$OIDC_PORT" "$AUTHN" || die "$AUTHN does not name the lab issuer https://127.0.0.1:$OIDC_PORT"
}

do_up() {
  local t0=$SECONDS crds
  issuer_up
  render_authn
  kube up
  crds="$("$REPO/tests/lab/kube/cilium-crds.sh")"
  # monitoring and ingress: in a real cluster Prometheus' and ingress-nginx's installs own them (inventories/lab
  # declares them without create: true); the namespace-policies stage labels them and adds its policies.
  "$PY" "$REPO/tests/lab/control_plane/crds.py" "$KUBE_STATE/kube.json" "$crds" monitoring ingress >/dev/null
  jq -n --slurpfile k "$KUBE_STATE/kube.json" --slurpfile i "$STATE/issuer.json" \
    '{kubeconfig: $k[0].kubeconfig, api_url: $k[0].url, api_ca: $k[0].ca, issuer: $i[0]}' >"$STATE/control-plane.json.tmp"
  mv -f "$STATE/control-plane.json.tmp" "$STATE/control-plane.json"
  say "up in $((SECONDS - t0))s: issuer https://127.0.0.1:$OIDC_PORT, kube-apiserver $(jq -r .url "$KUBE_STATE/kube.json") (authentication: $AUTHN)"
}

do_down() {
  kube down || true
  stop_daemon "$STATE/issuer.pid" "$STATE"
  rm -rf "$STATE"
  say "down"
}

do_status() {
  if issuer_healthy && [ -f "$STATE/control-plane.json" ] && kube status >/dev/null; then
    say "up: issuer https://127.0.0.1:$OIDC_PORT, kube-apiserver $(jq -r .api_url "$STATE/control-plane.json")"
  else
    say "down"; return 1
  fi
}

case "${1:-status}" in
  up) with_lock control-plane do_up ;;
  down) with_lock control-plane do_down ;;
  status) do_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
