# Sourced by the /tests scripts.
# param NAME: the value of NAME=VALUE on the kernel command line; fails when it is absent.
param() {
  for w in $(cat /proc/cmdline); do
    case $w in "$1="*) echo "${w#*=}"; return 0 ;; esac
  done
  return 1
}
# now: seconds since boot, with hundredths
now() { cut -d' ' -f1 /proc/uptime; }
# since T0: seconds elapsed since now() returned T0
since() { awk -v t0="$1" -v t1="$(now)" 'BEGIN { printf "%.2f", t1 - t0 }'; }
# wait_for PATH [SECONDS]: waits for PATH to appear (a device node probed after insmod)
wait_for() {
  n=$(( ${2:-5} * 10 ))
  while [ ! -e "$1" ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
  [ -e "$1" ] || { echo "missing $1"; return 1; }
}
finish() { sync; poweroff -f; }
