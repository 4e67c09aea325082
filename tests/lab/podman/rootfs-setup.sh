#!/bin/sh
# Runs inside the debootstrapped rootfs (chroot) before it becomes localhost/ssn-debian:12.
# Changing this file changes the image key: hosts.sh rebuilds the cached rootfs.
set -eu

# The roles decide which daemons run: installed, not enabled.
for unit in haproxy.service keepalived.service bird.service ssh.service; do
  systemctl disable "$unit" 2>/dev/null || true
done

# Units that cannot work in a container (no consoles, no kernel tuning from inside).
systemctl mask getty@tty1.service console-getty.service systemd-remount-fs.service \
  systemd-sysctl.service sys-kernel-config.mount >/dev/null 2>&1 || true

# systemd writes a fresh machine-id at first boot; every container gets its own.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id

apt-get clean
rm -rf /var/cache/apt/*.bin /var/log/*.log /tmp/* /var/tmp/*
