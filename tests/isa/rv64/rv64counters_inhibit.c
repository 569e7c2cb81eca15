// mcountinhibit (privileged spec §Machine Counter-Inhibit Register): a set IR/CY bit stops
// minstret/mcycle from incrementing; bit 1 (no counter behind it) is read-only zero. The register
// is WARL, so the stop is only asserted when the bit reads back as 1.
#include "trap.h"

static void test_inhibit(void) {
  u64 a, b;
  // Bit 1 has no counter behind it (time is not inhibitable): it is read-only zero.
  csr_write(mcountinhibit, 2);
  EQ(csr_read(mcountinhibit) & 2, 0);
  csr_write(mcountinhibit, 4);  // IR
  if (csr_read(mcountinhibit) & 4) {
    asm volatile("csrr %0, minstret\n nop\n nop\n nop\n csrr %1, minstret" : "=r"(a), "=r"(b));
    EQ(b, a);
    // Writes still take effect while inhibited.
    asm volatile("csrw minstret, %1\n nop\n csrr %0, minstret" : "=r"(a) : "r"(77ull));
    EQ(a, 77);
  }
  csr_write(mcountinhibit, 1);  // CY
  if (csr_read(mcountinhibit) & 1) {
    asm volatile("csrr %0, mcycle\n nop\n nop\n nop\n csrr %1, mcycle" : "=r"(a), "=r"(b));
    EQ(b, a);
  }
  csr_write(mcountinhibit, 0);
  asm volatile("csrr %0, minstret\n nop\n csrr %1, minstret" : "=r"(a), "=r"(b));
  EQ(b - a, 2);
}

int main(void) {
  csr_write(mcountinhibit, 0);
  test_inhibit();
  return 0;
}
