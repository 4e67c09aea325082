# shellcheck shell=bash
# Sourced by tests/lab/hosts.sh: podman settings for this machine, kept out of /etc.
# Rootful podman 4.3 here needs runc (crun fails on the hybrid cgroup layout) and default
# ulimits below what its helpers (conmon, runc init) may set without CAP_SYS_RESOURCE:
# measured here, nofile 20000 (our hard limit) and nproc 65536 fail, 16384 works for both.
export CONTAINERS_CONF="$LAB_DIR/podman/containers.conf"

podman_conf_write() {
  mkdir -p "$LAB_DIR/podman"
  local nofile=16384 nproc=16384 hard tmp
  hard="$(ulimit -Hn)"; [ "$hard" != unlimited ] && [ "$hard" -le "$nofile" ] && nofile=$((hard / 2))
  hard="$(ulimit -Hu)"; [ "$hard" != unlimited ] && [ "$hard" -le "$nproc" ] && nproc=$((hard / 2))
  tmp="$CONTAINERS_CONF.tmp"
  cat >"$tmp" <<CONF
# Written by tests/lab/podman/env.sh; regenerated on every hosts.sh up.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
CONF
  mv "$tmp" "$CONTAINERS_CONF"
}

# Running containers whose network namespace is /run/netns/$1, whoever started them (the
# `hosts` component, Molecule): only one set of hosts may use the LB namespaces at a time.
containers_in_netns() {
  local want name pid
  want="$(stat -L -c %i "/run/netns/$1" 2>/dev/null)" || return 0
  while read -r name pid; do
    [ -n "$pid" ] && [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$want" ] && echo "$name"
  done < <(podman ps --format '{{.Names}} {{.Pid}}' 2>/dev/null)
  return 0
}
