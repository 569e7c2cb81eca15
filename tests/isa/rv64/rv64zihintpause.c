// Zihintpause: PAUSE is the FENCE encoding with pred=W, succ=0, fm=0, rd=rs1=x0 (0x0100000f), a
// HINT. It must execute as a no-op (no trap, no register or memory change) and retire like any
// other instruction; its delay, if any, is bounded ("the duration of its effect must be bounded").
#include "rv64.h"

int main(void) {
  static volatile u64 cell = 0x1234;
  u64 at, a0v, a1v, before, after;
  asm volatile(".option push\n.option arch, +zihintpause\n1: pause\n.option pop\n lla %0, 1b" : "=r"(at));
  EQ(*(volatile u32*)at, 0x0100000f);
  // Registers and memory survive a burst of pauses.
  asm volatile("li a0, 0x55\n li a1, 0x66\n"
               ".rept 100\n .word 0x0100000f\n .endr\n"
               "mv %0, a0\n mv %1, a1"
               : "=r"(a0v), "=r"(a1v) : : "a0", "a1", "memory");
  EQ(a0v, 0x55);
  EQ(a1v, 0x66);
  EQ(cell, 0x1234);
  // Each PAUSE retires exactly once (Zicntr: instret counts retired instructions).
  asm volatile("csrr %0, minstret\n .rept 16\n .word 0x0100000f\n .endr\n csrr %1, minstret"
               : "=r"(before), "=r"(after));
  EQ(after - before, 17);
  // A spin-wait loop with PAUSE terminates (the hint does not stall forever).
  u64 n = 0;
  asm volatile("li t0, 1000\n1: .word 0x0100000f\n addi %0, %0, 1\n addi t0, t0, -1\n bnez t0, 1b"
               : "+r"(n) : : "t0");
  EQ(n, 1000);
  return 0;
}
