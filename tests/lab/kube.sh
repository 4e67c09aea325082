#!/usr/bin/env bash
# Lab component `kube`: a real Kubernetes control plane on loopback, built from Go modules
# (tests/lab/kube/{etcd,kube-apiserver}/ pin the versions; tests/lab/kube/build.sh caches the
# binaries by content): etcd on two free 127.0.0.1 ports, kube-apiserver with serving TLS, x509
# client auth and RBAC on https://127.0.0.1:16443. No kubelet, scheduler or controller-manager:
# objects are stored and authorised for real, nothing reconciles them (a deleted namespace stays
# Terminating).
#   tests/lab/kube.sh up|down|status
# State lives in $LAB_DIR/kube (pki/, etcd data, logs, pid files); `down` removes it:
#   kube.json          URL, ports, CA and admin cert paths, pinned versions (for tests)
#   admin.kubeconfig   0600, the lab's bootstrap admin (system:masters)
# A second control plane beside the lab's (own etcd, PKI and state in $LAB_DIR/kube-NAME), e.g. with
# an AuthenticationConfiguration for identity tests; the default instance is never affected:
#   LAB_KUBE_INSTANCE=NAME LAB_KUBE_PORT=PORT [LAB_KUBE_AUTHN_CONFIG=FILE] tests/lab/kube.sh up|down|status
# LAB_KUBE_ALLOW_PRIVILEGED=true admits privileged containers (--allow-privileged, as Talos' apiserver runs),
# e.g. for a dry run of the Cilium chart; the default, false, is the apiserver's own.
# LAB_KUBE_AUDIT=true writes the apiserver's audit log ($STATE/audit.log, JSON lines, one event per request at
# ResponseComplete; writes at level Request, so their query and body - dryRun, force, preconditions - are in it):
# tests and benches prove request shapes and count requests from the server's own record.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../scripts/env.sh"
COMPONENT=kube
# Daemon helpers (pid files, locks, health waits) are shared with the OpenStack components.
# shellcheck source=tests/lab/openstack/lib.sh
. "$REPO/tests/lab/openstack/lib.sh"
# shellcheck source=tests/lab/kube/lib.sh
. "$REPO/tests/lab/kube/lib.sh"

PORT="${LAB_KUBE_PORT:-16443}"
URL="https://127.0.0.1:$PORT"
INSTANCE="${LAB_KUBE_INSTANCE:-}"
[[ -z "$INSTANCE" || "$INSTANCE" =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] || { echo "LAB_KUBE_INSTANCE=$INSTANCE: use lowercase letters, digits and '-'" >&2; exit 2; }
STATE="$LAB_DIR/kube${INSTANCE:+-$INSTANCE}"
# Structured authentication (apiserver.config.k8s.io); it excludes the --oidc-* flags, which are never set here.
AUTHN_CONFIG="${LAB_KUBE_AUTHN_CONFIG:-}"
[ -z "$AUTHN_CONFIG" ] || [ -f "$AUTHN_CONFIG" ] || { echo "LAB_KUBE_AUTHN_CONFIG=$AUTHN_CONFIG: no such file" >&2; exit 2; }
ALLOW_PRIVILEGED="${LAB_KUBE_ALLOW_PRIVILEGED:-false}"
[[ "$ALLOW_PRIVILEGED" =~ ^(true|false)$ ]] || { echo "LAB_KUBE_ALLOW_PRIVILEGED=$ALLOW_PRIVILEGED: use true or false" >&2; exit 2; }
AUDIT="${LAB_KUBE_AUDIT:-false}"
[[ "$AUDIT" =~ ^(true|false)$ ]] || { echo "LAB_KUBE_AUDIT=$AUDIT: use true or false" >&2; exit 2; }
PKI="$STATE/pki"
START_TIMEOUT="${LAB_KUBE_START_TIMEOUT:-90}"
# The lab inventory's service CIDR (inventories/lab netsec_cluster_cidrs); never routed, only allocated.
SERVICE_CIDR=10.96.0.0/12

readyz() {  # prints the body of /readyz as the lab admin sees it
  curl -s --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$URL/readyz" 2>/dev/null || true
}

# A running instance started with another AuthenticationConfiguration (or none) is not the one asked for.
authn_matches() {
  if [ -n "$AUTHN_CONFIG" ]; then cmp -s "$AUTHN_CONFIG" "$STATE/authentication-config.yaml"; else [ ! -e "$STATE/authentication-config.yaml" ]; fi
}

healthy() {
  pid_alive "$STATE/etcd.pid" "$STATE" && pid_alive "$STATE/kube-apiserver.pid" "$STATE" &&
    [ -f "$STATE/kube.json" ] && authn_matches && [ "$(cat "$STATE/allow-privileged" 2>/dev/null || echo false)" = "$ALLOW_PRIVILEGED" ] &&
    [ "$(cat "$STATE/audit" 2>/dev/null || echo false)" = "$AUDIT" ] && [ "$(readyz)" = ok ]
}

# One EC P-256 key + certificate signed by the lab CA.
issue_cert() {  # NAME SUBJECT EXTENSIONS
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 30 -sha256 \
    -extfile <(printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "$3") \
    -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.csr"
}

make_pki() {
  (umask 077 && mkdir -p "$PKI")
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$PKI/ca.key" -out "$PKI/ca.crt" \
    -days 30 -sha256 -subj "/CN=safespring-netsec-lab-kube-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  issue_cert apiserver "/CN=kube-apiserver" \
    "$(printf '%s\n' "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost")"
  # system:masters bypasses RBAC: only this bootstrap identity, used by the lab itself and by
  # tests to set up objects, carries it; every behaviour under test uses its own identity.
  issue_cert admin "/O=system:masters/CN=lab-admin" "extendedKeyUsage=clientAuth"
  # Service-account tokens: the apiserver signs with the private key, verifies with the public.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  chmod 600 "$PKI"/*.key
}

free_ports() {  # prints two distinct free loopback ports
  python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))'
}

# Metadata for reads (a 2,000-object bench stays small); Request for writes: the body carries DeleteOptions
# (preconditions, dryRun) and the applied object. No RequestReceived stage: one event per request.
write_audit_policy() {
  cat >"$STATE/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Request
  verbs: [create, update, patch, delete, deletecollection]
- level: Metadata
YAML
}

write_access() {  # ETCD_CLIENT_PORT ETCD_PEER_PORT START_TO_READY_SECONDS
  local b64ca b64crt b64key authn=null audit=null
  [ -z "$AUTHN_CONFIG" ] || authn="\"$STATE/authentication-config.yaml\""
  [ "$AUDIT" = false ] || audit="\"$STATE/audit.log\""
  b64ca="$(base64 -w0 "$PKI/ca.crt")" b64crt="$(base64 -w0 "$PKI/admin.crt")" b64key="$(base64 -w0 "$PKI/admin.key")"
  (
    umask 077
    cat >"$STATE/admin.kubeconfig.tmp" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {server: "$URL", certificate-authority-data: "$b64ca"}
users:
- name: lab-admin
  user: {client-certificate-data: "$b64crt", client-key-data: "$b64key"}
contexts:
- name: lab
  context: {cluster: lab, user: lab-admin}
current-context: lab
YAML
    mv -f "$STATE/admin.kubeconfig.tmp" "$STATE/admin.kubeconfig"
  )
  cat >"$STATE/kube.json.tmp" <<JSON
{"url": "$URL", "secure_port": $PORT, "ca": "$PKI/ca.crt", "ca_key": "$PKI/ca.key",
 "admin_cert": "$PKI/admin.crt", "admin_key": "$PKI/admin.key", "kubeconfig": "$STATE/admin.kubeconfig",
 "etcd_url": "http://127.0.0.1:$1", "etcd_client_port": $1, "etcd_peer_port": $2,
 "kubernetes_version": "$(kube_pinned_version kube-apiserver)", "etcd_version": "$(kube_pinned_version etcd)",
 "start_to_ready_s": $3, "service_cidr": "$SERVICE_CIDR", "authentication_config": $authn, "audit_log": $audit, "logs": {"etcd": "$STATE/etcd.log", "kube-apiserver": "$STATE/kube-apiserver.log"}}
JSON
  mv -f "$STATE/kube.json.tmp" "$STATE/kube.json"
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) body=""
  while [ $SECONDS -lt $deadline ]; do
    body="$(readyz)"
    [ "$body" = ok ] && return 0
    pid_alive "$STATE/kube-apiserver.pid" "$STATE" || { tail -30 "$STATE/kube-apiserver.log" >&2; die "kube-apiserver exited before it was ready"; }
    sleep 0.5
  done
  tail -30 "$STATE/kube-apiserver.log" >&2
  curl -s --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$URL/readyz?verbose" | grep -v '\[+\]' >&2 || true
  die "$URL/readyz not ok after ${START_TIMEOUT}s (log: $STATE/kube-apiserver.log)"
}

do_up() {
  if healthy; then
    say "up (already) at $URL"
    return 0
  fi
  local t0=$SECONDS etcd kas t_start etcd_client etcd_peer
  etcd="$("$KUBE_LAB/build.sh" etcd)"
  kas="$("$KUBE_LAB/build.sh" kube-apiserver)"
  t_start=$SECONDS
  # Not healthy: whatever is left of an earlier run goes, and the lab starts from empty.
  stop_daemon "$STATE/kube-apiserver.pid" "$STATE"
  stop_daemon "$STATE/etcd.pid" "$STATE"
  rm -rf "$STATE"
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  port_busy "$PORT" && die "port $PORT is taken by a process this lab did not start"
  make_pki
  local authn_args=()
  if [ -n "$AUTHN_CONFIG" ]; then
    # A copy: the apiserver reloads the file when it changes, and the caller's may change or go.
    cp "$AUTHN_CONFIG" "$STATE/authentication-config.yaml"
    authn_args=(--authentication-config "$STATE/authentication-config.yaml")
  fi
  echo "$ALLOW_PRIVILEGED" >"$STATE/allow-privileged"
  local audit_args=()
  if [ "$AUDIT" = true ]; then
    write_audit_policy
    # blocking: the event is written before the request's handler returns; no rotation (one file to read).
    audit_args=(--audit-policy-file "$STATE/audit-policy.yaml" --audit-log-path "$STATE/audit.log" --audit-log-format json
      --audit-log-mode blocking --audit-log-maxsize 100000 --audit-log-maxbackup 0)
  fi
  echo "$AUDIT" >"$STATE/audit"
  read -r etcd_client etcd_peer < <(free_ports)
  local t_daemons=$EPOCHREALTIME ready_s
  # Plain HTTP on loopback: etcd holds only lab data and only the apiserver is pointed at it.
  start_daemon "$STATE/etcd.pid" "$STATE" "$STATE/etcd.log" "$etcd" --name lab --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "lab=http://127.0.0.1:$etcd_peer" --unsafe-no-fsync
  wait_http "http://127.0.0.1:$etcd_client/health" 200 "$START_TIMEOUT" "$STATE/etcd.pid" "$STATE" "$STATE/etcd.log"
  # --endpoint-reconciler-type=none: no pod can reach a loopback endpoint, and none is valid.
  start_daemon "$STATE/kube-apiserver.pid" "$STATE" "$STATE/kube-apiserver.log" "$kas" \
    --etcd-servers "http://127.0.0.1:$etcd_client" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT" --cert-dir "$PKI" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" --authorization-mode RBAC \
    --service-account-issuer "$URL" --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" --service-cluster-ip-range "$SERVICE_CIDR" \
    --endpoint-reconciler-type none --allow-privileged="$ALLOW_PRIVILEGED" "${authn_args[@]}" "${audit_args[@]}"
  wait_ready
  # etcd start to the apiserver's /readyz ok (daemons only; PKI and binaries are timed apart)
  ready_s="$(awk -v a="$t_daemons" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')"
  write_access "$etcd_client" "$etcd_peer" "$ready_s"
  say "up at $URL in $((SECONDS - t0))s (binaries $((t_start - t0))s, etcd start to /readyz ok ${ready_s}s; kubeconfig $STATE/admin.kubeconfig)"
}

do_down() {
  local t0=$SECONDS
  stop_daemon "$STATE/kube-apiserver.pid" "$STATE"
  stop_daemon "$STATE/etcd.pid" "$STATE"
  rm -rf "$STATE"
  say "down in $((SECONDS - t0))s"
}

do_status() {
  if healthy; then
    say "up at $URL ($(jq -r '"kube-apiserver \(.kubernetes_version), etcd \(.etcd_version) at \(.etcd_url)"' "$STATE/kube.json"))"
  else
    say "down"; return 1
  fi
}

case "${1:-status}" in
  up) with_lock "kube${INSTANCE:+-$INSTANCE}" do_up ;;
  down)
    with_lock "kube${INSTANCE:+-$INSTANCE}" do_down
    # Named instances are often one-off (tests name them by pid): their lock file goes with them.
    [ -z "$INSTANCE" ] || rm -f "$LAB_DIR/.lock-kube-$INSTANCE" ;;
  status) do_status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
