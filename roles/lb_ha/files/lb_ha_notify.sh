#!/bin/sh
# keepalived notify hook of the lb_ha role: one line per VRRP transition, to syslog and to
# the transitions log (the first argument), so that "who held the VIP when" can be audited.
# keepalived calls it as: notify LOG  TYPE NAME STATE PRIORITY
log_file="$1"; shift
line="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) $1 $2 -> $3 (priority ${4:-?})"
echo "$line" >>"$log_file"
logger -t lb_ha_vrrp -- "$line" 2>/dev/null || true
exit 0
