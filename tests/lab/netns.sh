#!/usr/bin/env bash
# Lab component "netns": the lab's hosts as network namespaces, the segments as bridges
# inside the router namespace, and the router's BIRD (the platform's BGP peer).
#   netns.sh up       create what is missing (idempotent), start BIRD, wait until every host
#                     reaches its gateway over IPv4 and IPv6 and BIRD answers
#   netns.sh down     stop BIRD, end every process left in the lab namespaces, delete them
#   netns.sh status   exit 0 when the topology is in place and BIRD is up
# Names and addresses come from tests/lab/topology.yml (see docs/development.md).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"
eval "$(python3 "$HERE/netns/topology.py" shell)"

STATE="$LAB_DIR/netns"
BIRD_CONF="$STATE/bird.conf"
BIRD_CTL="$STATE/bird.ctl"
BIRD_PID="$STATE/bird.pid"
HEALTH_TIMEOUT=20

log() { echo "netns: $*" >&2; }
var() { local v="$1"; echo "${!v}"; }
R() { ip -n "$ROUTER_NS" "$@"; }

ns_usable() { [ -e "/run/netns/$1" ] && ip netns exec "$1" true 2>/dev/null; }

ensure_ns() {
  local ns="$1"
  if ! ns_usable "$ns"; then
    ip netns del "$ns" 2>/dev/null || true   # a stale /run/netns entry
    ip netns add "$ns"
  fi
  # v6 addresses usable at once: no duplicate address detection in the lab.
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
  ip -n "$ns" link set lo up
}

link_exists() { ip -n "$1" link show dev "$2" >/dev/null 2>&1; }

ensure_router() {
  local seg br
  ensure_ns "$ROUTER_NS"
  ip netns exec "$ROUTER_NS" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv4.fib_multipath_hash_policy=1 net.ipv6.fib_multipath_hash_policy=1
  R addr replace "$PEER_ADDRESS" dev lo
  for seg in "${SEGMENTS[@]}"; do
    br="$(var "SEG_${seg}_BRIDGE")"
    link_exists "$ROUTER_NS" "$br" || R link add "$br" type bridge stp_state 0
    R addr replace "$(var "SEG_${seg}_V4")" dev "$br"
    R addr replace "$(var "SEG_${seg}_V6")" dev "$br" nodad
    R link set "$br" up
  done
}

ensure_host() {
  local h="$1" ns link br
  ns="$(var "HOST_${h}_NS")"; link="$(var "HOST_${h}_LINK")"
  br="$(var "SEG_$(var "HOST_${h}_SEG")_BRIDGE")"
  ensure_ns "$ns"
  if ! link_exists "$ns" eth0; then
    link_exists "$ROUTER_NS" "$link" && R link del "$link"
    R link add "$link" type veth peer name eth0 netns "$ns"
  fi
  R link set "$link" master "$br" up
  ip -n "$ns" addr replace "$(var "HOST_${h}_V4")" dev eth0
  ip -n "$ns" addr replace "$(var "HOST_${h}_V6")" dev eth0 nodad
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route replace default via "$(var "HOST_${h}_GW4")" dev eth0
  ip -n "$ns" -6 route replace default via "$(var "HOST_${h}_GW6")" dev eth0
}

bird_pid() {  # the pid of our BIRD, if it runs (checked against its control socket)
  local pid
  pid="$(cat "$BIRD_PID" 2>/dev/null)" || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-s $BIRD_CTL" || return 1
  echo "$pid"
}

birdc_() { birdc -s "$BIRD_CTL" "$@"; }
bird_up() { bird_pid >/dev/null && birdc_ show status 2>/dev/null | grep -q 'Daemon is up and running'; }

ensure_bird() {
  mkdir -p "$STATE"
  python3 "$HERE/netns/topology.py" bird-conf "$LAB_DIR" >"$BIRD_CONF.new"
  bird -p -c "$BIRD_CONF.new"
  if bird_pid >/dev/null; then
    if ! cmp -s "$BIRD_CONF.new" "$BIRD_CONF"; then
      mv "$BIRD_CONF.new" "$BIRD_CONF"
      birdc_ configure >/dev/null
    else
      rm -f "$BIRD_CONF.new"
    fi
    return 0
  fi
  mv "$BIRD_CONF.new" "$BIRD_CONF"
  rm -f "$BIRD_CTL" "$BIRD_PID"
  ip netns exec "$ROUTER_NS" bird -c "$BIRD_CONF" -s "$BIRD_CTL" -P "$BIRD_PID" \
    </dev/null >>"$STATE/bird.out" 2>&1
}

wait_healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT)) h ns pending
  while :; do
    pending=""
    bird_up || pending="bird"
    for h in "${HOSTS[@]}"; do
      ns="$(var "HOST_${h}_NS")"
      ip netns exec "$ns" ping -n -q -c1 -W1 "$(var "HOST_${h}_GW4")" >/dev/null 2>&1 \
        && ip netns exec "$ns" ping -n -q -c1 -W1 "$(var "HOST_${h}_GW6")" >/dev/null 2>&1 \
        || pending="$pending $h"
    done
    [ -z "$pending" ] && return 0
    if [ $SECONDS -ge $deadline ]; then log "not healthy after ${HEALTH_TIMEOUT}s: $pending"; return 1; fi
    sleep 0.2
  done
}

up() {
  local h
  ensure_router
  for h in "${HOSTS[@]}"; do ensure_host "$h"; done
  ensure_bird
  wait_healthy
  status
}

kill_pids() {  # $1: signal, rest: pids
  local sig="$1"; shift
  if [ $# -gt 0 ]; then kill "-$sig" "$@" 2>/dev/null || true; fi
}

ns_pids() { if ns_usable "$1"; then ip netns pids "$1" 2>/dev/null || true; fi; }

down() {
  local pid ns pids i
  if pid="$(bird_pid)"; then
    kill -TERM "$pid"
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$BIRD_CTL" "$BIRD_PID"
  # Whatever else still runs in a lab namespace was started for the lab (haproxy, keepalived,
  # containers): end it, or the namespace outlives its mount.
  for ns in "${NAMESPACES[@]}"; do
    pids="$(ns_pids "$ns")"
    [ -n "$pids" ] || continue
    log "$ns: ending leftover processes: ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill_pids TERM $pids
    for i in $(seq 30); do [ -z "$(ns_pids "$ns")" ] && break; sleep 0.1; done
    # shellcheck disable=SC2046
    kill_pids KILL $(ns_pids "$ns")
  done
  # Hosts first: deleting a host namespace removes its veth pair from the router too.
  for (( i=${#NAMESPACES[@]}-1; i>=0; i-- )); do
    ns="${NAMESPACES[$i]}"
    if [ -e "/run/netns/$ns" ]; then ip netns del "$ns"; fi
  done
}

status() {
  local rc=0 h ns seg
  ns_usable "$ROUTER_NS" || { echo "netns: $ROUTER_NS missing"; return 1; }
  [ "$(ip netns exec "$ROUTER_NS" sysctl -n net.ipv4.ip_forward)" = 1 ] || { echo "netns: router not forwarding"; rc=1; }
  for seg in "${SEGMENTS[@]}"; do
    R -br addr show dev "$(var "SEG_${seg}_BRIDGE")" 2>/dev/null | grep -qF "$(var "SEG_${seg}_V4")" \
      || { echo "netns: bridge of segment $seg not configured"; rc=1; }
  done
  for h in "${HOSTS[@]}"; do
    ns="$(var "HOST_${h}_NS")"
    if ! ns_usable "$ns" || ! ip -n "$ns" -br addr show dev eth0 2>/dev/null | grep -qF "$(var "HOST_${h}_V4")"; then
      echo "netns: $ns missing or not configured"; rc=1
    fi
  done
  if bird_up; then echo "netns: ${#NAMESPACES[@]} namespaces, router BIRD up (birdc -s $BIRD_CTL)"
  else echo "netns: router BIRD not running"; rc=1; fi
  return $rc
}

case "${1:-status}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
