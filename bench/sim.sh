#!/usr/bin/env bash
# Interpreter speed: MIPS of `rvkvm sim` on the compute benchmark, and the same ELF's time under
# qemu-system-riscv64 (TCG) measured in the same run. QEMU's start-up is measured with a run of
# the same program doing no rounds and subtracted. Each figure is the best of N runs.
# Usage: bench/sim.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-3}
elf=$build/bench/compute.elf
empty=$build/bench/compute-empty.elf
rvkvm=$build/rvkvm
[[ -x $rvkvm && -f $elf ]] || { echo "build first: make build" >&2; exit 1; }

now() { date +%s.%N; }
best() { sort -g | head -1; }

insns=0
rv_times=()
for ((i = 0; i < runs; i++)); do
  out=$("$rvkvm" sim --elf "$elf" --stats 2>&1 >/dev/null)
  insns=$(awk '/^instructions:/ {print $2}' <<<"$out")
  rv_times+=("$(awk '/^seconds:/ {print $2}' <<<"$out")")
done
rv=$(printf '%s\n' "${rv_times[@]}" | best)

qemu_run() {
  local t0 t1
  t0=$(now)
  timeout 300 qemu-system-riscv64 -M virt -m 128M -bios "$1" -nographic -monitor none -serial null </dev/null
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
have_qemu=1
command -v qemu-system-riscv64 >/dev/null || have_qemu=0
if ((have_qemu)); then
  q_times=(); q0_times=()
  for ((i = 0; i < runs; i++)); do
    q_times+=("$(qemu_run "$elf")")
    q0_times+=("$(qemu_run "$empty")")
  done
  q=$(printf '%s\n' "${q_times[@]}" | best)
  q0=$(printf '%s\n' "${q0_times[@]}" | best)
  qnet=$(echo "$q - $q0" | bc -l)
fi

printf 'guest instructions     %d\n' "$insns"
printf 'rvkvm sim              %.3f s   %.0f MIPS\n' "$rv" "$(echo "$insns / $rv / 1000000" | bc -l)"
if ((have_qemu)); then
  printf 'qemu-system-riscv64    %.3f s   (%.3f s total, %.3f s start-up)   %.0f MIPS\n' "$qnet" "$q" "$q0" \
    "$(echo "$insns / $qnet / 1000000" | bc -l)"
  printf 'rvkvm/qemu speed       %.2fx\n' "$(echo "$qnet / $rv" | bc -l)"
fi
