#!/usr/bin/env bash
# Lab component `keystone`: a real Keystone (PyPI keystone, SQLite, fernet) on
# http://127.0.0.1:5000/v3 and a second real Neutron that authenticates against it
# (auth_strategy = keystone, own SQLite DB) on http://127.0.0.1:9697/, registered as the
# `network` endpoint of region RegionOne. Two projects (project-a, project-b), each with a
# member user and an application credential, so project scoping is real.
#   tests/lab/keystone.sh up|down|status
# Clouds in $LAB_DIR/clouds.yaml (0600): lab-project-a, lab-project-b (application
# credentials), lab-admin (password). State lives in $LAB_DIR/keystone; `down` removes it.
# Neutron's access log: $LAB_DIR/keystone/neutron/access.log (format in openstack/README.md).
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../scripts/env.sh"
COMPONENT=keystone
# shellcheck source=tests/lab/openstack/lib.sh
. "$REPO/tests/lab/openstack/lib.sh"

K_PORT="${LAB_KEYSTONE_PORT:-5000}"
N_PORT_K="${LAB_KEYSTONE_NEUTRON_PORT:-9697}"
export K_URL="http://127.0.0.1:$K_PORT"
export K_NETWORK_URL="http://127.0.0.1:$N_PORT_K/"
STATE="$LAB_DIR/keystone"
NSTATE="$STATE/neutron"
START_TIMEOUT="${LAB_KEYSTONE_START_TIMEOUT:-300}"
KM="$VENVS/keystone/bin/keystone-manage"

http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1" || true; }

healthy() {
  pid_alive "$STATE/gunicorn.pid" "$STATE" && pid_alive "$NSTATE/gunicorn.pid" "$NSTATE" &&
    [ "$(http_code "$K_URL/v3")" = 200 ] &&
    # 401 without a token: the Neutron really sits behind keystonemiddleware.
    [ "$(http_code "${K_NETWORK_URL}v2.0/security-groups")" = 401 ] &&
    [ -f "$STATE/endpoints.json" ]
}

# Passwords and application-credential secrets: made once per state dir, never printed, and
# not exported (the daemons' environments stay clean): SECRETS=(NAME=value ...) is handed to
# the few commands that need them with `env "${SECRETS[@]}"`.
ensure_secrets() {
  local f="$STATE/secrets.env" name
  if [ ! -f "$f" ]; then
    (
      umask 077
      for name in K_ADMIN_PASSWORD K_NEUTRON_PASSWORD K_USER_PASSWORD_A K_USER_PASSWORD_B \
        K_APPCRED_SECRET_A K_APPCRED_SECRET_B; do
        echo "$name=$(openssl rand -hex 20)"
      done >"$f.tmp"
      mv "$f.tmp" "$f"
    )
  fi
  mapfile -t SECRETS < <(sed "s/^export //" "$f")  # early state dirs had export lines
  # shellcheck disable=SC1090
  . "$f"
}

# keystone-manage: each call spends most of its time importing keystone, so the schema
# (db_sync) is built once and kept beside the venv, and the two key setups run side by side.
keystone_init() {
  [ -f "$STATE/db.ready" ] && return 0
  local log="$STATE/keystone-manage.log" conf=(--config-file "$STATE/keystone.conf")
  local owner=(--keystone-user "$(id -un)" --keystone-group "$(id -gn)")
  local pristine="$VENVS/keystone/.lab-pristine.sqlite" fernet_pid cred_pid
  rm -rf "$STATE/keystone.sqlite" "$STATE/fernet-keys" "$STATE/credential-keys"
  mkdir -p "$STATE/fernet-keys" "$STATE/credential-keys"
  chmod 700 "$STATE/fernet-keys" "$STATE/credential-keys"
  "$KM" "${conf[@]}" fernet_setup "${owner[@]}" >>"$log.fernet" 2>&1 &
  fernet_pid=$!
  "$KM" "${conf[@]}" credential_setup "${owner[@]}" >>"$log.credential" 2>&1 &
  cred_pid=$!
  if [ -f "$pristine" ]; then
    cp "$pristine" "$STATE/keystone.sqlite"
  else
    "$KM" "${conf[@]}" db_sync >>"$log" 2>&1 || { tail -20 "$log" >&2; die "keystone-manage db_sync failed (log: $log)"; }
    cp "$STATE/keystone.sqlite" "$pristine.$$" && mv -f "$pristine.$$" "$pristine"
  fi
  wait "$fernet_pid" || { tail -20 "$log.fernet" >&2; die "keystone-manage fernet_setup failed"; }
  wait "$cred_pid" || { tail -20 "$log.credential" >&2; die "keystone-manage credential_setup failed"; }
  OS_BOOTSTRAP_PASSWORD="$K_ADMIN_PASSWORD" "$KM" "${conf[@]}" bootstrap \
    --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
    --bootstrap-service-name keystone --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$K_URL/v3" --bootstrap-public-url "$K_URL/v3" \
    --bootstrap-internal-url "$K_URL/v3" >>"$log" 2>&1 \
    || { grep -v -i password "$log" | tail -20 >&2; die "keystone-manage bootstrap failed (log: $log)"; }
  touch "$STATE/db.ready"
}

keystone_start() {
  pid_alive "$STATE/gunicorn.pid" "$STATE" && return 0
  port_busy "$K_PORT" && die "port $K_PORT is taken by a process this lab did not start"
  OS_KEYSTONE_CONFIG_DIR="$STATE" OS_KEYSTONE_CONFIG_FILES="keystone.conf" \
    start_daemon "$STATE/gunicorn.pid" "$STATE" "$STATE/gunicorn.log" \
    "$VENVS/keystone/bin/gunicorn" --name "lab-keystone-$K_PORT" --pythonpath "$OS_LAB" \
    --worker-class sync --workers 1 --threads 1 --timeout 600 \
    --bind "127.0.0.1:$K_PORT" --pid "$STATE/gunicorn-master.pid" \
    --access-logfile "$STATE/access.log" --access-logformat "$ACCESS_LOG_FORMAT" \
    --error-logfile "$STATE/gunicorn.log" \
    keystone_wsgi:application
  echo "$K_URL/" >"$STATE/endpoint"
}

write_clouds() {
  local out="$STATE/clouds.json"
  (umask 077; env "${SECRETS[@]}" K_SEED="$STATE/seed.json" "$VENVS/keystone/bin/python" - >"$out.tmp" <<'PY'
import json, os
env = os.environ
seed = json.load(open(env["K_SEED"]))
auth_url = env["K_URL"] + "/v3"
common = {"region_name": "RegionOne", "interface": "public", "identity_api_version": 3}
clouds = {"lab-admin": dict(common, auth_type="password", auth={
    "auth_url": auth_url, "username": "admin", "password": env["K_ADMIN_PASSWORD"],
    "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"})}
for project, secret in (("project-a", "K_APPCRED_SECRET_A"), ("project-b", "K_APPCRED_SECRET_B")):
    clouds["lab-" + project] = dict(common, auth_type="v3applicationcredential", auth={
        "auth_url": auth_url, "application_credential_id": seed[project]["application_credential_id"],
        "application_credential_secret": env[secret]})
json.dump(clouds, open(1, "w"))
PY
  ) && mv "$out.tmp" "$out"
  clouds_set "$out"
}

do_up() {
  if healthy; then
    ensure_secrets
    write_clouds  # cheap, and brings back our clouds if clouds.yaml was lost
    say "up (already): Keystone $K_URL/v3, Neutron $K_NETWORK_URL"
    return 0
  fi
  local t0=$SECONDS
  with_lock venv-keystone ensure_venv keystone "$REPO/requirements/lab-keystone.txt"
  with_lock venv-neutron ensure_venv neutron "$REPO/requirements/lab-neutron.txt"
  mkdir -p "$STATE/lock" "$NSTATE/lock"
  chmod 700 "$STATE" "$NSTATE"
  ensure_secrets
  export K_STATE="$STATE"
  render "$OS_LAB/keystone.conf.tmpl" "$STATE/keystone.conf" 600
  keystone_init
  keystone_start
  wait_http "$K_URL/v3" 200 "$START_TIMEOUT" "$STATE/gunicorn.pid" "$STATE" "$STATE/gunicorn.log"
  if [ ! -f "$STATE/seed.json" ]; then
    env "${SECRETS[@]}" "$VENVS/keystone/bin/python" "$OS_LAB/keystone_seed.py" >"$STATE/seed.json.tmp" 2>>"$STATE/seed.log" \
      || { tail -5 "$STATE/seed.log" >&2; die "seeding Keystone failed (log: $STATE/seed.log)"; }
    mv "$STATE/seed.json.tmp" "$STATE/seed.json"
  fi

  # The second Neutron: same config as the noauth one plus keystonemiddleware's section.
  N_EXTRA="$(K_NEUTRON_PASSWORD="$K_NEUTRON_PASSWORD" "$VENVS/neutron/bin/python" -c \
    'import os, string, sys; print(string.Template(open(sys.argv[1]).read()).substitute(os.environ))' \
    "$OS_LAB/neutron-keystone-auth.conf.tmpl")"
  export N_EXTRA
  neutron_render_config "$NSTATE" "$N_PORT_K" keystone
  unset N_EXTRA
  neutron_init_db "$NSTATE"
  neutron_start "$NSTATE" "$N_PORT_K"
  wait_http "${K_NETWORK_URL}v2.0/security-groups" 401 "$START_TIMEOUT" "$NSTATE/gunicorn.pid" "$NSTATE" "$NSTATE/gunicorn.log"

  write_clouds
  printf '{"identity": "%s", "network": "%s"}\n' "$K_URL/v3" "$K_NETWORK_URL" >"$STATE/endpoints.json"
  say "up in $((SECONDS - t0))s: Keystone $K_URL/v3 (RSS $(( $(daemon_rss_kb "$STATE") / 1024 )) MB)," \
    "Neutron $K_NETWORK_URL (RSS $(( $(daemon_rss_kb "$NSTATE") / 1024 )) MB); clouds lab-project-a, lab-project-b, lab-admin in $CLOUDS_YAML"
}

do_down() {
  stop_daemon "$NSTATE/gunicorn.pid" "$NSTATE"
  stop_daemon "$STATE/gunicorn.pid" "$STATE"
  clouds_remove lab-project-a lab-project-b lab-admin
  rm -rf "$STATE"
  say "down"
}

do_status() {
  if healthy; then
    say "up: Keystone $K_URL/v3, Neutron $K_NETWORK_URL"
  else
    say "down"; return 1
  fi
}

case "${1:-status}" in
  up) with_lock keystone do_up ;;
  down) with_lock keystone do_down ;;
  status) do_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
