#!/bin/sh
# Prints DISK-CONTENT <first line of /dev/vda> (from its first 512 bytes), then powers off.
set -e
. /tests/lib.sh
wait_for /dev/vda
echo "DISK-CONTENT $(dd if=/dev/vda bs=512 count=1 2>/dev/null | tr -d '\000' | head -n1)"
finish
