#!/bin/sh
# A compute-heavy busybox workload: makes rvkvm.mib=N MiB (default 16) of data (N copies of 1 MiB
# of `seq` output), then times sha256sum and a gzip round trip over it. Prints COMPUTE-GEN,
# COMPUTE-SHA256 <hash> <s>, COMPUTE-GZIP <bytes> <s>, COMPUTE-GUNZIP ok <s>, COMPUTE-DONE, then
# powers off. The hash is deterministic; on the host:
#   for i in $(seq N); do seq 1 200000 | head -c 1048576; done | sha256sum
set -e
. /tests/lib.sh
mib=$(param rvkvm.mib || echo 16)
t=$(now)
seq 1 200000 | head -c 1048576 >/tmp/chunk
for i in $(seq "$mib"); do cat /tmp/chunk; done >/tmp/data
rm /tmp/chunk
echo "COMPUTE-GEN $mib MiB $(since "$t")"
t=$(now)
echo "COMPUTE-SHA256 $(sha256sum </tmp/data | cut -d' ' -f1) $(since "$t")"
t=$(now)
gzip -c </tmp/data >/tmp/data.gz
echo "COMPUTE-GZIP $(wc -c </tmp/data.gz) $(since "$t")"
t=$(now)
gzip -dc </tmp/data.gz | cmp - /tmp/data
echo "COMPUTE-GUNZIP ok $(since "$t")"
rm -f /tmp/data /tmp/data.gz
echo "COMPUTE-DONE"
finish
