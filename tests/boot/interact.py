#!/usr/bin/env python3
"""Drives a guest shell like a user: waits for the prompt, types a command, checks its output,
then types poweroff. Usage: interact.py TIMEOUT COMMAND... (the rvkvm command line)."""
import os, subprocess, sys, threading, time

timeout = float(sys.argv[1])
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
out = bytearray()
lock = threading.Lock()

def reader():
    for chunk in iter(lambda: os.read(p.stdout.fileno(), 4096), b""):
        with lock:
            out.extend(chunk)

threading.Thread(target=reader, daemon=True).start()
deadline = time.monotonic() + timeout

def wait_for(text):
    while time.monotonic() < deadline:
        with lock:
            if text in out:
                return True
        if p.poll() is not None:
            return False
        time.sleep(0.05)
    return False

ok = wait_for(b"/ # ")
if ok:
    p.stdin.write(b"echo TYPED-$((6 * 7))\n")
    p.stdin.flush()
    ok = wait_for(b"TYPED-42")
if ok:
    p.stdin.write(b"poweroff\n")
    p.stdin.flush()
try:
    rc = p.wait(timeout=max(1, deadline - time.monotonic()))
except subprocess.TimeoutExpired:
    p.kill()
    rc = -1
sys.stdout.write(out.decode(errors="replace"))
print(f"\nINTERACT ok={ok} rc={rc}")
sys.exit(0 if ok and rc == 0 else 1)
