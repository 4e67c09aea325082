#!/usr/bin/env bash
# Lab component `backends`: stand-ins for the Kubernetes nodes behind the load balancers, and
# the lab PKI they and the edge use.
#   node1 (control plane): TLS "kube-apiserver" on 6443 and "apid" on 50000 (client certs
#     from the lab CA are read and echoed, to prove passthrough)
#   node2 (worker): HTTP "ingress" on NodePort 30080
# PKI in $LAB_DIR/pki: ca.pem, apiserver.{pem,key}, edge-{ecdsa,rsa}.{pem,key} for
# *.apps.lab.netsec.test, admin client cert. Keys 0600. Leaves live 365 days with keyUsage set,
# as Mozilla's guidelines (and sslyze) require.
set -euo pipefail
# shellcheck source=scripts/env.sh
. "$(dirname "$0")/../../scripts/env.sh"
dir="$LAB_DIR/backends"; pki="$LAB_DIR/pki"
topology="$REPO/tests/lab/topology.yml"
addr() { python3 -c "import sys,yaml; print(yaml.safe_load(open('$topology'))['hosts']['$1']['ipv4'])"; }

make_pki() {
  mkdir -p "$pki"; chmod 0700 "$pki"
  [ -s "$pki/ca.pem" ] && return 0
  local subj="/O=safespring.netsec lab"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "$subj/CN=lab CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
  issue() {  # issue NAME KEYALG SAN [clientAuth]
    local name=$1 alg=$2 san=$3 usage=${4:-serverAuth}
    if [ "$alg" = rsa ]; then openssl genrsa -out "$pki/$name.key" 2048 2>/dev/null
    else openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key" 2>/dev/null; fi
    openssl req -new -key "$pki/$name.key" -subj "$subj/CN=$name" -out "$pki/$name.csr" 2>/dev/null
    local key_usage=digitalSignature; [ "$alg" = rsa ] && key_usage=digitalSignature,keyEncipherment
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nkeyUsage=critical,%s\nbasicConstraints=CA:FALSE\n' \
      "$san" "$usage" "$key_usage" > "$pki/$name.ext"
    openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 365 \
      -extfile "$pki/$name.ext" -out "$pki/$name.pem" 2>/dev/null
    rm -f "$pki/$name.csr" "$pki/$name.ext"
  }
  issue apiserver ec "DNS:api.lab.netsec.test,IP:$(addr node1)"
  issue edge-ecdsa ec "DNS:*.apps.lab.netsec.test,DNS:apps.lab.netsec.test"
  issue edge-rsa rsa "DNS:*.apps.lab.netsec.test,DNS:apps.lab.netsec.test"
  issue admin ec "DNS:admin" clientAuth
  chmod 0600 "$pki"/*.key
}

start() {  # start NAME NETNS ARGS...
  local name=$1 ns=$2; shift 2
  if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then return 0; fi
  # Own session: a daemon must outlive the process group (a pytest run, a shell) that started it.
  setsid ip netns exec "$ns" python3 "$REPO/tests/lab/backends/backend.py" --name "$name" "$@" \
    > "$dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$dir/$name.pid"
}

# Healthy = our own processes answer (a test fixture may hold the same ports: that is a
# conflict to report, not a healthy lab).
answers() {  # answers NETNS URL NAME
  ip netns exec "$1" curl -fsk --max-time 2 "$2" 2>/dev/null | grep -q "\"node\": \"$3\""
}
healthy() {
  answers ssn-node1 "https://$(addr node1):6443/id" node1-apiserver &&
  answers ssn-node1 "https://$(addr node1):50000/id" node1-apid &&
  answers ssn-node2 "http://$(addr node2):30080/id" node2-ingress
}

case "${1:-status}" in
  up)
    "$REPO/tests/lab/netns.sh" up >/dev/null
    mkdir -p "$dir"; make_pki
    tls=(--cert "$pki/apiserver.pem" --key "$pki/apiserver.key" --client-ca "$pki/ca.pem")
    start node1-apiserver ssn-node1 --port 6443 "${tls[@]}"
    start node1-apid ssn-node1 --port 50000 "${tls[@]}"
    start node2-ingress ssn-node2 --port 30080
    for _ in $(seq 1 50); do healthy && { echo "backends: up"; exit 0; }; sleep 0.2; done
    echo "backends: not healthy (is another process holding 6443/50000 on node1 or 30080 on node2?); logs in $dir" >&2
    for log in "$dir"/*.log; do echo "== $log" >&2; tail -n 3 "$log" >&2; done; exit 1 ;;
  down)
    for pidfile in "$dir"/*.pid; do
      [ -e "$pidfile" ] || continue
      kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"
    done
    rm -rf "$dir"; echo "backends: down" ;;
  status) healthy ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
