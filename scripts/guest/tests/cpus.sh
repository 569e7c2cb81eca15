#!/bin/sh
# Prints CPUS-ONLINE <n> (counted from /sys/devices/system/cpu/online), then powers off.
. /tests/lib.sh
online=$(cat /sys/devices/system/cpu/online)
n=0
for r in $(echo "$online" | tr ',' ' '); do
  case $r in *-*) n=$((n + ${r#*-} - ${r%-*} + 1)) ;; *) n=$((n + 1)) ;; esac
done
echo "CPUS-ONLINE $n ($online)"
finish
