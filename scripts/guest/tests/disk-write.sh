#!/bin/sh
# Writes "RVKVM-DISK <token>" (rvkvm.token=... on the command line) as the first line of /dev/vda,
# prints DISK-WRITTEN <token>, then powers off.
set -e
. /tests/lib.sh
token=$(param rvkvm.token || echo none)
wait_for /dev/vda
printf 'RVKVM-DISK %s\n' "$token" | dd of=/dev/vda bs=512 conv=sync 2>/dev/null
sync
echo "DISK-WRITTEN $token"
finish
