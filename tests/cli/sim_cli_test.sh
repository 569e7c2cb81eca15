#!/usr/bin/env bash
# The `rvkvm sim` contract: exit codes for pass, failure, timeout and machine errors, the HTIF
# console and write system call, the UART and finisher, --stats and --trace.
set -euo pipefail
rvkvm=$1
dir=$2
case_name=$3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() {
  set +e
  "$rvkvm" sim "$@" >"$out" 2>&1
  rc=$?
  set -e
}
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
case $case_name in
  pass-stats)
    run --elf "$dir/syswrite.elf" --stats
    [[ $rc == 0 ]] || fail "exit code $rc"
    grep -q "written through SYS_write" "$out" || fail "no SYS_write output"
    grep -q "and to stderr" "$out" || fail "no stderr output"
    grep -Eq "^instructions: [1-9][0-9]*" "$out" || fail "no instruction count"
    grep -Eq "^MIPS: [0-9.]+" "$out" || fail "no MIPS"
    grep -Eq "^seconds: [0-9.]+" "$out" || fail "no wall time"
    ;;
  fail-code)
    run --elf "$dir/fail7.elf"
    [[ $rc == 7 ]] || fail "exit code $rc, want 7"
    ;;
  finisher)
    run --elf "$dir/finisher_fail.elf"
    [[ $rc == 5 ]] || fail "exit code $rc, want 5"
    grep -q "uart says hi" "$out" || fail "no UART output"
    ;;
  timeout)
    run --elf "$dir/spin.elf" --max-insns 100000
    [[ $rc == 124 ]] || fail "exit code $rc, want 124"
    ;;
  wfi-hang)
    run --elf "$dir/wfi_hang.elf"
    [[ $rc == 125 ]] || fail "exit code $rc, want 125"
    ;;
  trace)
    run --elf "$dir/fail7.elf" --trace
    grep -Eq "^0000000080000000 \([0-9a-f]{8}\) auipc" "$out" || fail "the trace does not start with the entry point"
    grep -Eq "\) (sd|c\.sdsp|sw)\s" "$out" || fail "no disassembled stores in the trace"
    ;;
  bad-args)
    run --elf /nonexistent.elf
    [[ $rc != 0 ]] || fail "a missing file passed"
    run --elf "$dir/fail7.elf" --memory 7
    [[ $rc == 2 ]] || fail "a bad --memory gave $rc"
    ;;
  *) echo "unknown case"; exit 2 ;;
esac
echo "PASS: $case_name"
