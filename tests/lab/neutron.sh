#!/usr/bin/env bash
# Lab component `neutron`: a real Neutron API (PyPI neutron, SQLite, noauth) on
# http://127.0.0.1:9696/ and cloud `lab` in $LAB_DIR/clouds.yaml.
#   tests/lab/neutron.sh up|down|status
# State (config, DB, logs, pid files) lives in $LAB_DIR/neutron; `down` removes it. The venv
# ($LAB_DIR/venvs/neutron, from requirements/lab-neutron.txt) is kept as a cache.
# Access log: $LAB_DIR/neutron/access.log, one line per request (format in openstack/README.md).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../scripts/env.sh"
COMPONENT=neutron
# shellcheck source=tests/lab/openstack/lib.sh
. "$REPO/tests/lab/openstack/lib.sh"

PORT="${LAB_NEUTRON_PORT:-9696}"
ENDPOINT="http://127.0.0.1:$PORT/"
STATE="$LAB_DIR/neutron"
MARKER="$STATE"
START_TIMEOUT="${LAB_NEUTRON_START_TIMEOUT:-300}"

healthy() {
  pid_alive "$STATE/gunicorn.pid" "$MARKER" &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${ENDPOINT}v2.0/security-groups" || true)" = 200 ]
}

write_clouds() {
  cat >"$STATE/clouds.json" <<EOF
{"lab": {"auth_type": "none", "auth": {"endpoint": "$ENDPOINT"}, "network_endpoint_override": "$ENDPOINT"}}
EOF
  clouds_set "$STATE/clouds.json"
}

do_up() {
  if healthy; then
    write_clouds  # cheap, and brings back our cloud if clouds.yaml was lost
    echo "$ENDPOINT" >"$STATE/endpoint"
    say "up (already) at $ENDPOINT"
    return 0
  fi
  local t0=$SECONDS
  with_lock venv-neutron ensure_venv neutron "$REPO/requirements/lab-neutron.txt"
  mkdir -p "$STATE/lock"
  chmod 700 "$STATE"
  neutron_render_config "$STATE" "$PORT" noauth
  neutron_init_db "$STATE"
  neutron_start "$STATE" "$PORT"
  wait_http "${ENDPOINT}v2.0/security-groups" 200 "$START_TIMEOUT" "$STATE/gunicorn.pid" "$MARKER" "$STATE/gunicorn.log"
  write_clouds
  say "up at $ENDPOINT in $((SECONDS - t0))s (RSS $(( $(daemon_rss_kb "$STATE") / 1024 )) MB; cloud 'lab' in $CLOUDS_YAML)"
}

do_down() {
  stop_daemon "$STATE/gunicorn.pid" "$MARKER"
  clouds_remove lab
  rm -rf "$STATE"
  say "down"
}

do_status() {
  if healthy; then
    say "up at $ENDPOINT (RSS $(( $(daemon_rss_kb "$STATE") / 1024 )) MB)"
  else
    say "down"; return 1
  fi
}

case "${1:-status}" in
  up) with_lock neutron do_up ;;
  down) with_lock neutron do_down ;;
  status) do_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
