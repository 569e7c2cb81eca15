#!/usr/bin/env bash
# Boot and guest-workload timing: rvkvm run vs qemu-system-riscv64 -M virt (TCG, with its default
# OpenSBI) with the same kernel, initramfs, memory and CPUs, measured in the same run.
#   bench/boot.sh [BUILD_DIR] [CPUS] [RUNS]
# Reports wall time from start to the /init marker and to exit (poweroff) for each, best of RUNS.
# bench/workload.sh times a compute-heavy workload inside the guest the same way.
set -euo pipefail
build=${1:-build}
cpus=${2:-1}
runs=${3:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${RVKVM_CACHE:-$HOME/.cache/rvkvm}
[[ -f $cache/Image ]] || bash "$root/scripts/fetch-guest.sh" >/dev/null
rvkvm=$build/rvkvm

# time_boot CMD...: prints "<seconds to RVKVM-INIT-OK> <seconds to exit> <COMPUTE lines>" for one run.
time_boot() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
init = None
extra = []
for raw in p.stdout:
    line = raw.decode(errors="replace")
    if init is None and "RVKVM-INIT-OK" in line:
        init = time.monotonic() - t0
    if line.startswith("COMPUTE-"):
        extra.append(line.strip().replace(" ", "_"))
p.wait()
end = time.monotonic() - t0
print(f"{init if init is not None else -1:.3f} {end:.3f} {' '.join(extra)}")
PY
}

best_of() {  # best_of N CMD...: minimum of each column over N runs
  local n=$1; shift
  local out=()
  for ((i = 0; i < n; i++)); do out+=("$(time_boot "$@")"); done
  printf '%s\n' "${out[@]}" | sort -g -k2 | head -1
}

args="console=ttyS0 rvkvm.cmd=poweroff"
rv=$(best_of "$runs" "$rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" -m 512M -c "$cpus" -p "$args")
q=$(best_of "$runs" qemu-system-riscv64 -M virt -m 512M -smp "$cpus" -nographic -monitor none \
  -kernel "$cache/Image" -initrd "$cache/initramfs.cpio.gz" -append "$args")
read -r rv_init rv_end _ <<<"$rv"
read -r q_init q_end _ <<<"$q"
printf 'boot, %s CPU(s), 512M                 to /init    to poweroff\n' "$cpus"
printf '  rvkvm run                          %7.2f s  %7.2f s\n' "$rv_init" "$rv_end"
printf '  qemu-system-riscv64 (TCG)          %7.2f s  %7.2f s\n' "$q_init" "$q_end"
printf '  rvkvm / qemu time                  %7.2fx  %7.2fx\n' "$(echo "$rv_init / $q_init" | bc -l)" \
  "$(echo "$rv_end / $q_end" | bc -l)"

