#!/usr/bin/env bash
# Lab component "hosts": podman system containers (systemd inside) joined to the lab's
# namespaces, managed by Ansible over the containers.podman.podman connection.
#   hosts.sh up             build/import the image if needed, start the containers, wait for systemd
#   hosts.sh down [--purge] remove the containers (--purge: the image and its cached rootfs too)
#   hosts.sh status         exit 0 when every container runs with systemd up
#   hosts.sh image          only make sure localhost/ssn-debian:12 exists (used by Molecule)
# Which namespaces get a container, and its name, come from tests/lab/topology.yml.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/env.sh
. "$HERE/../../scripts/env.sh"
# shellcheck source=tests/lab/podman/env.sh
. "$HERE/podman/env.sh"
eval "$(python3 "$HERE/netns/topology.py" shell)"

IMAGE=localhost/ssn-debian:12
SUITE=bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE_DIR="$LAB_DIR/cache"
LABEL=ssn.lab.component=hosts
BOOT_TIMEOUT=90

log() { echo "hosts: $*" >&2; }

# The image key changes with the package list or the rootfs set-up script.
image_key() {
  cat "$HERE/podman/packages.txt" "$HERE/podman/rootfs-setup.sh" | sha256sum | cut -c1-12
}

packages() { grep -v '^\s*\(#\|$\)' "$HERE/podman/packages.txt" | paste -sd, -; }

build_rootfs() {  # $1: tarball to write
  local tarball="$1" rootfs="$CACHE_DIR/rootfs.build"
  unmount_under "$rootfs"; rm -rf "$rootfs"
  mkdir -p "$rootfs" "$CACHE_DIR/debs"
  # shellcheck disable=SC2064
  trap "unmount_under '$rootfs'; rm -rf '$rootfs'" EXIT
  log "debootstrap $SUITE (log: $CACHE_DIR/debootstrap.log)"
  if ! debootstrap --variant=minbase --include="$(packages)" --cache-dir="$CACHE_DIR/debs" \
      "$SUITE" "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1; then
    tail -20 "$CACHE_DIR/debootstrap.log" >&2; return 1
  fi
  cp "$HERE/podman/rootfs-setup.sh" "$rootfs/tmp/rootfs-setup.sh"
  chroot "$rootfs" /bin/sh /tmp/rootfs-setup.sh >>"$CACHE_DIR/debootstrap.log" 2>&1
  unmount_under "$rootfs"
  tar --numeric-owner -C "$rootfs" -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  rm -rf "$rootfs"; trap - EXIT
}

unmount_under() {  # debootstrap leaves /proc, /sys mounted in the target when it fails
  local m
  [ -d "$1" ] || return 0
  { findmnt -rn -o TARGET | grep -F "$1" || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
}

ensure_image() {
  local key tarball
  key="$(image_key)"; tarball="$CACHE_DIR/ssn-debian-12-$key.tar"
  if [ "$(podman image inspect --format '{{ index .Labels "ssn.lab.image-key" }}' "$IMAGE" 2>/dev/null)" = "$key" ]; then
    return 0
  fi
  [ -s "$tarball" ] || build_rootfs "$tarball"
  log "importing $IMAGE (key $key)"
  podman import --quiet \
    --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
    --change "LABEL ssn.lab.image-key=$key" \
    "$tarball" "$IMAGE" >/dev/null
  # Caches of older keys are dead weight.
  find "$CACHE_DIR" -maxdepth 1 -name 'ssn-debian-12-*.tar' ! -name "ssn-debian-12-$key.tar" -delete
}

container_of() { local v="HOST_${1}_CONTAINER"; echo "${!v}"; }
netns_of() { local v="HOST_${1}_NS"; echo "${!v}"; }

container_healthy() {  # running, in its namespace, systemd up
  local c="$1" state
  [ "$(podman container inspect --format '{{.State.Running}}' "$c" 2>/dev/null)" = true ] || return 1
  state="$(podman exec "$c" systemctl is-system-running 2>/dev/null || true)"
  [ "$state" = running ]
}

wait_booted() {
  local c="$1" state deadline=$((SECONDS + BOOT_TIMEOUT))
  while :; do
    state="$(podman exec "$c" systemctl is-system-running 2>/dev/null || true)"
    case "$state" in
      running) return 0 ;;
      degraded)
        log "$c: systemd degraded; failed units:"
        podman exec "$c" systemctl --failed --no-legend >&2 || true
        return 1 ;;
    esac
    if [ $SECONDS -ge $deadline ]; then
      log "$c: systemd not up after ${BOOT_TIMEOUT}s (state: ${state:-none})"; return 1
    fi
    sleep 0.5
  done
}

up() {
  podman_conf_write
  "$HERE/netns.sh" up >/dev/null
  ensure_image
  local h c ns others started=()
  for h in "${CONTAINER_HOSTS[@]}"; do
    c="$(container_of "$h")"; ns="$(netns_of "$h")"
    container_healthy "$c" && continue
    others="$(containers_in_netns "$ns" | grep -vx "$c" || true)"
    if [ -n "$others" ]; then
      log "$ns is in use by container(s) ${others//$'\n'/ } (Molecule?): one set of hosts at a time;" \
        "destroy those first (molecule destroy -s SCENARIO)"
      return 1
    fi
    podman rm -f --time 5 "$c" >/dev/null 2>&1 || true
    podman run -d --name "$c" --hostname "$h" --label "$LABEL" \
      --network "ns:/run/netns/$ns" --systemd=always --privileged \
      "$IMAGE" >/dev/null
    started+=("$c")
  done
  for c in "${started[@]}"; do wait_booted "$c"; done
  status
}

down() {
  local h c rc=0
  for h in "${CONTAINER_HOSTS[@]}"; do
    c="$(container_of "$h")"
    if podman container exists "$c" 2>/dev/null; then
      podman rm -f --time 10 "$c" >/dev/null || rc=1
    fi
  done
  if [ "${1:-}" = --purge ]; then
    podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
    rm -rf "$CACHE_DIR"/ssn-debian-12-*.tar "$CACHE_DIR/debs" "$CACHE_DIR/rootfs.build"
  fi
  return $rc
}

status() {
  local h c rc=0
  for h in "${CONTAINER_HOSTS[@]}"; do
    c="$(container_of "$h")"
    if container_healthy "$c"; then echo "hosts: $c up (netns $(netns_of "$h"))"
    else echo "hosts: $c DOWN"; rc=1; fi
  done
  return $rc
}

case "${1:-status}" in
  up) up ;;
  down) down "${2:-}" ;;
  status) [ -f "$CONTAINERS_CONF" ] || podman_conf_write; status ;;
  image) podman_conf_write; ensure_image ;;
  *) echo "usage: $0 up|down [--purge]|status|image" >&2; exit 2 ;;
esac
