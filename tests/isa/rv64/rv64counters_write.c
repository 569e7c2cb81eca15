// Writing minstret and mcycle (Zicsr chapter §CSR Instructions: "If a CSR access instruction
// writes such a CSR, the write is done instead of the increment"; older editions add "a value
// written to instret by one instruction will be the value read by the following instruction").
// So after `csrw minstret, X` the next instruction reads exactly X, and every later instruction
// sees X plus the instructions retired since. The counter is 64 bits wide and wraps.
#include "trap.h"

static void test_write_minstret(void) {
  u64 a, b, c;
  // The value written is the value the next instruction reads.
  asm volatile("csrw minstret, %1\n csrr %0, minstret" : "=r"(a) : "r"(1000ull));
  EQ(a, 1000);
  asm volatile("csrw minstret, %2\n nop\n nop\n csrr %0, minstret\n csrr %1, minstret"
               : "=r"(a), "=r"(b) : "r"(0x123456789ull));
  EQ(a, 0x12345678bull);
  EQ(b, 0x12345678cull);
  // CSRRW returns the old value (before its own retirement) and installs the new one.
  asm volatile("csrw minstret, %2\n csrrw %0, minstret, %3\n csrr %1, minstret"
               : "=&r"(a), "=&r"(b) : "r"(50ull), "r"(7000ull));
  EQ(a, 50);
  EQ(b, 7000);
  // CSRRS/CSRRC with a non-zero mask also write.
  asm volatile("csrw minstret, zero\n csrrs %0, minstret, %3\n csrr %1, minstret\n"
               "csrrc %2, minstret, %4\n"
               : "=&r"(a), "=&r"(b), "=&r"(c) : "r"(0x100ull), "r"(0x100ull));
  EQ(a, 0);
  EQ(b, 0x100);
  EQ(c, 0x101);
  // 64-bit wrap and the carry out of bit 31.
  asm volatile("csrw minstret, %2\n csrr %0, minstret\n csrr %1, minstret" : "=&r"(a), "=&r"(b) : "r"(~0ull));
  EQ(a, ~0ull);
  EQ(b, 0);
  asm volatile("csrw minstret, %2\n nop\n csrr %0, minstret\n csrr %1, instret"
               : "=&r"(a), "=&r"(b) : "r"(0xffffffffull));
  EQ(a, 0x100000000ull);
  EQ(b, 0x100000001ull);
  // Writing mcycle: later reads continue from the written value (cycles per instruction are not
  // architectural, so only a bound is checked).
  asm volatile("csrw mcycle, %1\n csrr %0, mcycle" : "=r"(a) : "r"(0x4000000000000000ull));
  OK(a >= 0x4000000000000000ull && a < 0x4000000000000000ull + 100);
  asm volatile("csrr %0, cycle" : "=r"(b));
  OK(b >= a && b < 0x4000000000000000ull + 1000);
  // The two counters are independent: writing one does not move the other.
  asm volatile("csrw minstret, zero\n csrr %0, mcycle\n csrr %1, minstret" : "=r"(a), "=r"(b));
  OK(a >= 0x4000000000000000ull);
  EQ(b, 1);
}

int main(void) {
  csr_write(mcountinhibit, 0);
  test_write_minstret();
  return 0;
}
