#!/usr/bin/env bash
# Boot tests: Debian's riscv64 kernel and the busybox initramfs from scripts/fetch-guest.sh, run
# by `rvkvm run`. Usage: boot_test.sh RVKVM CASE. The guest's /init prints RVKVM-INIT-OK, runs
# the script named by rvkvm.cmd= and powers off.
set -euo pipefail
rvkvm=$1
case_name=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${RVKVM_CACHE:-$HOME/.cache/rvkvm}
if [[ ! -f $cache/Image || ! -f $cache/initramfs.cpio.gz ]]; then
  bash "$root/scripts/fetch-guest.sh" >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${bg_pids:-} ]] && kill $bg_pids 2>/dev/null || true' EXIT
bg_pids=""

fail() { echo "FAIL: $*"; echo "--- guest output ---"; cat "$work/out" 2>/dev/null | tail -40; exit 1; }

# boot ARGS... : runs the guest with a time limit, output in $work/out, exit code in $rc.
boot() {
  set +e
  timeout 300 "$rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" "$@" </dev/null >"$work/out" 2>&1
  rc=$?
  set -e
}
expect() { grep -q -- "$1" "$work/out" || fail "expected '$1' in the guest output"; }

case $case_name in
  one-cpu)
    boot -m 512M -p "console=ttyS0 rvkvm.cmd=/tests/cpus.sh"
    expect RVKVM-INIT-OK
    expect "CPUS-ONLINE 1 "
    [[ $rc == 0 ]] || fail "exit code $rc after poweroff"
    ;;
  two-cpus)
    boot -m 512M -c 2 -p "console=ttyS0 rvkvm.cmd=/tests/cpus.sh"
    expect RVKVM-INIT-OK
    expect "CPUS-ONLINE 2 "
    [[ $rc == 0 ]] || fail "exit code $rc"
    ;;
  disk)
    truncate -s 8M "$work/disk.img"
    token=tok$RANDOM$RANDOM
    boot -m 512M --disk "$work/disk.img" -p "console=ttyS0 rvkvm.cmd=/tests/disk-write.sh rvkvm.token=$token"
    expect "DISK-WRITTEN $token"
    [[ $rc == 0 ]] || fail "exit code $rc"
    head -c 64 "$work/disk.img" | grep -q "RVKVM-DISK $token" || fail "the disk image does not hold the token after exit"
    boot -m 512M --disk "$work/disk.img" -p "console=ttyS0 rvkvm.cmd=/tests/disk-read.sh"
    expect "DISK-CONTENT RVKVM-DISK $token"
    [[ $rc == 0 ]] || fail "exit code $rc on the second boot"
    # A read-only disk: the guest's write fails and the image is unchanged.
    cp "$work/disk.img" "$work/before.img"
    boot -m 512M --disk "$work/disk.img,ro" -p "console=ttyS0 rvkvm.cmd=/tests/disk-write.sh rvkvm.token=other"
    cmp -s "$work/disk.img" "$work/before.img" || fail "a read-only disk was modified"
    ;;
  net)
    mkdir -p "$work/www"
    head -c 200000 /dev/urandom >"$work/www/blob.bin"
    want=$(sha256sum "$work/www/blob.bin" | cut -d' ' -f1)
    http_port=$((20000 + RANDOM % 20000))
    fwd_port=$((http_port + 1))
    (cd "$work/www" && exec python3 -m http.server --bind 127.0.0.1 "$http_port" >/dev/null 2>&1) &
    bg_pids="$!"
    set +e
    timeout 300 "$rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" -m 512M \
      --net "user,hostfwd=tcp::$fwd_port-:8080" \
      -p "console=ttyS0 rvkvm.cmd=/tests/net.sh rvkvm.port=$http_port rvkvm.file=blob.bin" </dev/null >"$work/out" 2>&1 &
    vm=$!
    bg_pids="$bg_pids $vm"
    set -e
    for _ in $(seq 600); do
      grep -q NET-READY "$work/out" && break
      kill -0 $vm 2>/dev/null || break
      sleep 0.2
    done
    expect NET-READY
    expect "NET-FETCH $want 200000"
    got=$(python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$fwd_port/', timeout=30).read().decode())")
    [[ $got == *RVKVM-HTTPD-OK* ]] || fail "the guest's web server answered '$got' through the forwarded port"
    # SIGTERM stops the VM cleanly, with 128 + 15 as the exit code.
    kill -TERM $vm
    set +e
    wait $vm
    vm_rc=$?
    set -e
    [[ $vm_rc == 143 ]] || fail "exit code $vm_rc after SIGTERM, want 143"
    ;;
  shell)
    # The interactive path: commands typed at the busybox shell (here from a pipe), then poweroff.
    set +e
    printf 'echo SHELL-$((6 * 7))\npoweroff\n' |
      timeout 300 "$rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" -m 512M -p "console=ttyS0" >"$work/out" 2>&1
    rc=$?
    set -e
    expect SHELL-42
    [[ $rc == 0 ]] || fail "exit code $rc after poweroff at the shell"
    ;;
  console-virtio)
    python3 "$root/tests/boot/interact.py" 240 "$rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" \
      -m 512M --console virtio >"$work/out" 2>&1 || fail "no working shell on the virtio console"
    expect "hvc0"
    ;;
  console-sbi)
    # Debian's kernel has no hvc driver for the SBI console: it carries the kernel log (kept as
    # the boot console), and the guest still runs its command and powers off.
    boot -m 512M --console sbi -p "console=hvc0 earlycon=sbi keep_bootcon rvkvm.cmd=/tests/cpus.sh"
    expect "earlycon: sbi0"
    expect "Run /init as init process"
    expect "reboot: Power down"
    [[ $rc == 0 ]] || fail "exit code $rc"
    ;;
  serial-interactive)
    python3 "$root/tests/boot/interact.py" 240 "$rvkvm" run -k "$cache/Image" -i "$cache/initramfs.cpio.gz" \
      -m 512M >"$work/out" 2>&1 || fail "no working shell on the serial console"
    ;;
  dtb)
    boot -m 256M -c 2 --dump-dtb "$work/guest.dtb" -p "console=ttyS0 rvkvm.cmd=poweroff"
    [[ -s $work/guest.dtb ]] || fail "no device tree was written"
    dtc -I dtb -O dts -o "$work/guest.dts" "$work/guest.dtb" 2>"$work/dtc.err" || fail "dtc rejected the blob"
    if [[ -s $work/dtc.err ]]; then cat "$work/dtc.err"; fail "dtc warned about the device tree"; fi
    dtc -I dts -O dtb -o "$work/again.dtb" "$work/guest.dts" 2>"$work/dtc2.err" || fail "dtc cannot recompile it"
    # Decompiled source holds phandles as plain numbers, so dtc's interrupts-extended check cannot
    # see them as references (QEMU's virt DTB warns the same way); any other warning fails.
    if grep -v "interrupts_extended_property.*is not a phandle reference" "$work/dtc2.err" | grep -q .; then
      cat "$work/dtc2.err"
      fail "dtc warned when recompiling"
    fi
    dtc -I dtb -O dts -o "$work/again.dts" "$work/again.dtb" 2>/dev/null
    cmp -s "$work/guest.dts" "$work/again.dts" || fail "the device tree changed in the round trip"
    grep -q 'riscv,isa-extensions' "$work/guest.dts" || fail "no riscv,isa-extensions"
    grep -q 'cpu@1' "$work/guest.dts" || fail "the second cpu is missing"
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac
echo "PASS: $case_name"
