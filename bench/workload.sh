#!/usr/bin/env bash
# A compute-heavy busybox workload inside the guest (/tests/compute.sh: generate a file, then
# sha256sum, gzip and gunzip it), under rvkvm run and qemu-system-riscv64 -M virt (TCG) with the
# same kernel, initramfs, memory and CPUs, in the same run. Times are measured from the /init
# marker to the end, so boot speed does not count.
#   bench/workload.sh [BUILD_DIR] [CPUS] [MIB]
set -euo pipefail
build=${1:-build}
cpus=${2:-1}
mib=${3:-16}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RVKVM_CACHE:-$HOME/.cache/rvkvm}
[[ -f $cache/Image ]] || bash "$root/scripts/fetch-guest.sh" >/dev/null

measure() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
init, steps = None, []
for raw in p.stdout:
    line = raw.decode(errors="replace").strip()
    if init is None and "RVKVM-INIT-OK" in line:
        init = time.monotonic()
    if line.startswith("COMPUTE-"):
        steps.append(line)
p.wait()
total = time.monotonic() - (init or t0)
print(f"{total:.2f}")
for s in steps:
    print("    " + s)
PY
}

args="console=ttyS0 rvkvm.cmd=/tests/compute.sh rvkvm.mib=$mib"
echo "guest workload: $mib MiB generate, sha256sum, gzip, gunzip; $cpus CPU(s), 512M"
rv=$(measure "$build/rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" -m 512M -c "$cpus" -p "$args")
q=$(measure qemu-system-riscv64 -M virt -m 512M -smp "$cpus" -nographic -monitor none \
  -kernel "$cache/Image" -initrd "$cache/initramfs.cpio.gz" -append "$args")
printf '  rvkvm run                  %7.2f s\n%s\n' "$(head -1 <<<"$rv")" "$(tail -n +2 <<<"$rv")"
printf '  qemu-system-riscv64 (TCG)  %7.2f s\n%s\n' "$(head -1 <<<"$q")" "$(tail -n +2 <<<"$q")"
printf '  rvkvm / qemu time          %7.2fx\n' "$(echo "$(head -1 <<<"$rv") / $(head -1 <<<"$q")" | bc -l)"
