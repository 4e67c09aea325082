# shellcheck shell=bash
# Shared by tests/lab/neutron.sh and tests/lab/keystone.sh: cached venvs, daemons with pid
# files, health waits, config rendering and clouds.yaml merging.
# The caller sources scripts/env.sh first (REPO, LAB_DIR) and sets COMPONENT.

OS_LAB="$REPO/tests/lab/openstack"
VENVS="$LAB_DIR/venvs"
LAB_PYTHON="${LAB_PYTHON:-python3.11}"
command -v "$LAB_PYTHON" >/dev/null 2>&1 || LAB_PYTHON=python3
CLOUDS_YAML="$LAB_DIR/clouds.yaml"

# gunicorn access-log line, one per request (documented in tests/lab/openstack/README.md):
#   METHOD RAW_URI STATUS MILLISECONDS [TIME] "USER_AGENT"
# e.g. `POST /v2.0/security-group-rules 201 48 [26/Nov/2026:10:28:49 +0000] "bench/1 openstacksdk/4.14.0 ..."`.
# RAW_URI is the request target as sent (path + query): PATH_INFO would lose the /v2.0 that
# urlmap strips. The user agent lets a counter pick one client's requests in a shared lab.
ACCESS_LOG_FORMAT='%(m)s %({raw_uri}e)s %(s)s %(M)s %(t)s "%(a)s"'

say() { echo "lab[$COMPONENT]: $*"; }
die() { echo "lab[$COMPONENT]: $*" >&2; exit 1; }

# Serialise up/down of one thing (pytest-xdist workers may call `up` at the same time).
with_lock() {  # NAME CMD...
  local name="$1"; shift
  mkdir -p "$LAB_DIR"
  (
    flock -w 900 9 || die "timed out waiting for lock $name"
    "$@"
  ) 9>"$LAB_DIR/.lock-$name"
}

# A venv per service, installed from its pinned file; skipped when the stamp matches.
ensure_venv() {  # NAME REQUIREMENTS_FILE
  local name="$1" req="$2" venv="$VENVS/$1" want log
  want="$(sha256sum <"$req" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.requirements.sha" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log="$VENVS/$name-install.log"
  mkdir -p "$VENVS"
  say "installing venv $name from ${req#"$REPO"/} (first time: about a minute; log: $log)"
  local t0=$SECONDS
  rm -rf "$venv"
  if ! { "$LAB_PYTHON" -m venv "$venv" && "$venv/bin/pip" install -q -r "$req"; } >"$log" 2>&1; then
    grep -v '^WARNING: Location' "$log" | tail -20 >&2
    die "pip install of $name failed (see $log)"
  fi
  echo "$want" >"$venv/.requirements.sha"
  say "venv $name ready in $((SECONDS - t0))s"
}

# Substitute ${VAR} from the environment into a template; a missing variable is an error.
render() {  # TEMPLATE OUTPUT [MODE]
  "$VENVS/neutron/bin/python" - "$1" "$2" "${3:-644}" <<'PY'
import os, string, sys
src, dst, mode = sys.argv[1], sys.argv[2], int(sys.argv[3], 8)
with open(src) as f:
    text = string.Template(f.read()).substitute(os.environ)
fd = os.open(dst + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
with os.fdopen(fd, "w") as f:
    f.write(text)
os.chmod(dst + ".tmp", mode)
os.replace(dst + ".tmp", dst)
PY
}

# True when PIDFILE names a live daemon of DIR: its working directory is DIR (daemons run
# there; gunicorn rewrites its command line), or it is the gunicorn master that wrote its own
# pid into DIR/gunicorn-master.pid. A recycled pid after a crash or reboot matches neither.
pid_alive() {  # PIDFILE DIR
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$2" ] && return 0
  [ "$(cat "$2/gunicorn-master.pid" 2>/dev/null)" = "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q '^gunicorn'
}

# Start CMD in DIR, in its own session (so `down` can end its whole process group), output to
# LOG. fd 9 is with_lock's lock: the daemon must not inherit it, or it holds the lock forever.
start_daemon() {  # PIDFILE DIR LOG CMD...
  local pidfile="$1" dir="$2" log="$3"; shift 3
  (cd "$dir" && exec setsid "$@" >>"$log" 2>&1 </dev/null 9>&-) &
  echo $! >"$pidfile"
}

stop_daemon() {  # PIDFILE DIR
  local pidfile="$1" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if pid_alive "$pidfile" "$2"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 75); do
      kill -0 -- "-$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

port_busy() {  # PORT
  ss -Hltn "sport = :$1" | grep -q .
}

# Wait until URL answers with one of the expected HTTP codes; fail early if the daemon died.
wait_http() {  # URL CODES_REGEX TIMEOUT PIDFILE DIR LOG
  local url="$1" codes="$2" timeout="$3" code deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url" || true)"
    [[ "$code" =~ ^($codes)$ ]] && return 0
    if ! pid_alive "$4" "$5"; then
      tail -30 "$6" >&2
      die "daemon for $url exited before it was healthy (log: $6)"
    fi
    sleep 0.5
  done
  tail -30 "$6" >&2
  die "$url not healthy after ${timeout}s (last HTTP code: ${code:-none}; log: $6)"
}

# A Neutron API served by gunicorn from the lab's venv. STATE holds its config, DB and logs.
neutron_render_config() {  # STATE PORT AUTH_STRATEGY
  export N_STATE="$1" N_PORT="$2" N_AUTH_STRATEGY="$3"
  export N_EXTRA="${N_EXTRA:-}"
  export N_API_PASTE="$VENVS/neutron/etc/neutron/api-paste.ini"
  render "$OS_LAB/neutron.conf.tmpl" "$1/neutron.conf" 600
}

# A fresh DB per start. Its first build (~20 s) is kept beside the venv (same lifetime as the
# pinned versions) and copied on later starts.
neutron_init_db() {  # STATE
  local state="$1" pristine="$VENVS/neutron/.lab-pristine.sqlite"
  [ -f "$state/db.ready" ] && return 0
  rm -f "$state/neutron.sqlite"
  if [ ! -f "$pristine" ]; then
    "$VENVS/neutron/bin/python" "$OS_LAB/neutron_db.py" "sqlite:///$state/neutron.sqlite" >>"$state/db-init.log" 2>&1 \
      || { tail -20 "$state/db-init.log" >&2; die "neutron schema creation failed"; }
    "$VENVS/neutron/bin/neutron-db-manage" --config-file "$state/neutron.conf" stamp heads >>"$state/db-init.log" 2>&1 \
      || { tail -20 "$state/db-init.log" >&2; die "neutron-db-manage stamp heads failed"; }
    cp "$state/neutron.sqlite" "$pristine.$$" && mv -f "$pristine.$$" "$pristine"
  else
    cp "$pristine" "$state/neutron.sqlite"
  fi
  touch "$state/db.ready"
}

neutron_start() {  # STATE PORT
  local state="$1" port="$2"
  if pid_alive "$state/gunicorn.pid" "$state"; then return 0; fi
  port_busy "$port" && die "port $port is taken by a process this lab did not start"
  OS_NEUTRON_CONFIG_DIR="$state" OS_NEUTRON_CONFIG_FILES="neutron.conf" \
    start_daemon "$state/gunicorn.pid" "$state" "$state/gunicorn.log" \
    "$VENVS/neutron/bin/gunicorn" --name "lab-neutron-$port" --pythonpath "$OS_LAB" \
    --worker-class sync --workers 1 --threads 1 --timeout 600 \
    --bind "127.0.0.1:$port" --pid "$state/gunicorn-master.pid" \
    --access-logfile "$state/access.log" --access-logformat "$ACCESS_LOG_FORMAT" \
    --error-logfile "$state/gunicorn.log" \
    neutron_wsgi:application
  # Beside the access log: where count_requests() (tests/fixtures/openstack.py) sends its markers.
  echo "http://127.0.0.1:$port/" >"$state/endpoint"
}

daemon_rss_kb() {  # STATE: RSS of a gunicorn master + its worker, in kB
  local pid
  pid="$(cat "$1/gunicorn.pid" 2>/dev/null)" || { echo 0; return; }
  ps -o rss= --pid "$pid" --ppid "$pid" 2>/dev/null | awk '{s+=$1} END {print s+0}'
}

# Merge (set) or drop clouds in $LAB_DIR/clouds.yaml (mode 0600: it holds secrets).
clouds_set() {  # JSON_FILE: {"cloud-name": {...}, ...}
  "$VENVS/neutron/bin/python" "$OS_LAB/clouds_yaml.py" "$CLOUDS_YAML" set "$1"
}

clouds_remove() {  # NAME...
  [ -x "$VENVS/neutron/bin/python" ] || return 0
  [ -f "$CLOUDS_YAML" ] || return 0
  "$VENVS/neutron/bin/python" "$OS_LAB/clouds_yaml.py" "$CLOUDS_YAML" remove "$@"
}
