// The memory-mapped CLINT timer against the time CSR (priv spec "Machine Timer Registers (mtime
// and mtimecmp)"; unprivileged "Zicntr": time is a read-only shadow of mtime). On this machine time
// advances one tick per 10 retired instructions (--clock instret), so mtime read through MMIO must
// agree with the time CSR read right before or after it, and the usual "mtimecmp = mtime + delta"
// must not fire before delta ticks have passed.
#include "priv.h"

int main(void) {
  priv_init();

  // mtimecmp is a plain 64-bit register, also accessible as two 32-bit halves.
  *CLINT_MTIMECMP = 0x123456789abcdef0ull;
  CHECK_EQ(1, *CLINT_MTIMECMP, 0x123456789abcdef0ull);
  ((volatile u32*)CLINT_MTIMECMP)[1] = 0xffffffffu;
  CHECK_EQ(2, *CLINT_MTIMECMP, 0xffffffff9abcdef0ull);
  CHECK_EQ(3, ((volatile u32*)CLINT_MTIMECMP)[0], 0x9abcdef0u);
  *CLINT_MTIMECMP = ~0ull;

  // time and mtime are the same counter.
  for (int round = 0; round < 8; ++round) {
    // ~1000 instructions without any CSR access in between.
    for (volatile int i = 0; i < 200; ++i) {
    }
    u64 m = *CLINT_MTIME;
    u64 t = csr_read(time);
    CHECK(10, t >= m);
    CHECK(11, t - m <= 2);
    for (volatile int i = 0; i < 200; ++i) {
    }
    t = csr_read(time);
    m = *CLINT_MTIME;
    CHECK(12, m >= t);
    CHECK(13, m - t <= 2);
  }

  // mtimecmp = mtime + 50: not pending for the next few instructions, pending later.
  for (int round = 0; round < 8; ++round) {
    for (volatile int i = 0; i < 100 * round; ++i) {
    }
    *CLINT_MTIMECMP = *CLINT_MTIME + 50;
    CHECK_EQ(20, csr_read(mip) & MIP_MTIP, 0);
    for (int i = 0; i < 100000 && !(csr_read(mip) & MIP_MTIP); ++i) {
    }
    CHECK_EQ(21, csr_read(mip) & MIP_MTIP, MIP_MTIP);
    CHECK(22, *CLINT_MTIME >= *CLINT_MTIMECMP);
    *CLINT_MTIMECMP = ~0ull;
  }
  return 0;
}
