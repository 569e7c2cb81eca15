// Machine-level interrupts (priv spec "Machine Interrupt Registers (mip and mie)", "Machine
// Timer Registers", "Wait for Interrupt"): the CLINT timer (mtime/mtimecmp -> MTIP) and software
// interrupt (msip -> MSIP), mcause values, mepc after a WFI wake-up, WFI with interrupts globally
// disabled, the fixed priority MEI > MSI > MTI > SEI > SSI > STI, mstatus.MIE only gating M-mode
// (M-level interrupts are always taken in S/U), and delegated interrupts never taken in M.
#include "priv.h"

static volatile u64 irq_log[16];
static volatile u64 irq_n;

static void on_irq(u64 cause, u64 level) {
  u64 code = cause & 63;
  if (irq_n < 16) irq_log[irq_n] = (level << 8) | code;
  irq_n = irq_n + 1;
  if (level == PRV_M) {
    if (code == IRQ_MSI) *CLINT_MSIP = 0;
    else if (code == IRQ_MTI) *CLINT_MTIMECMP = ~0ull;
    else csr_clear(mip, 1ull << code);
  } else {
    if (code == IRQ_SSI) csr_clear(sip, MIP_SSIP);
    else csr_clear(sie, 1ull << code);
  }
}

// The time CSR shadows mtime; the MMIO copy is exercised in clint_time.c.
static u64 now(void) { return csr_read(time); }

// Spins until `n` interrupts have been logged (or fails).
static void wait_irqs(int id, u64 n) {
  for (u64 i = 0; i < 200000 && irq_n < n; ++i) asm volatile("nop");
  CHECK_EQ(id, irq_n, n);
}

static u64 spin_fn(u64 arg) {
  for (volatile int i = 0; i < 50; ++i) {
  }
  return arg;
}

int main(void) {
  priv_init();
  irq_hook = on_irq;

  // time advances.
  {
    u64 b = now();
    for (volatile int i = 0; i < 100; ++i) {
    }
    CHECK(2, now() > b);
  }

  // MTIP follows mtime >= mtimecmp, whatever mie/mstatus say.
  *CLINT_MTIMECMP = now() + 50;
  CHECK_EQ(3, csr_read(mip) & MIP_MTIP, 0);
  for (int i = 0; i < 100000 && !(csr_read(mip) & MIP_MTIP); ++i) {
  }
  CHECK_EQ(4, csr_read(mip) & MIP_MTIP, MIP_MTIP);
  CHECK(5, now() >= *CLINT_MTIMECMP);
  *CLINT_MTIMECMP = ~0ull;
  CHECK_EQ(6, csr_read(mip) & MIP_MTIP, 0);
  CHECK_EQ(7, irq_n, 0);

  // Timer interrupt taken in M with MIE=1.
  csr_write(mie, MIP_MTIP);
  csr_set(mstatus, MSTATUS_MIE);
  *CLINT_MTIMECMP = now() + 100;
  wait_irqs(10, 1);
  CHECK_EQ(11, T.cause, CAUSE_INTR | IRQ_MTI);
  CHECK_EQ(12, T.cause, 0x8000000000000007ull);
  CHECK_EQ(13, T.level, PRV_M);
  CHECK_EQ(14, mpp_of(T.status), PRV_M);
  CHECK_EQ(15, T.status & (MSTATUS_MIE | MSTATUS_MPIE), MSTATUS_MPIE);
  CHECK_EQ(16, csr_read(mstatus) & MSTATUS_MIE, MSTATUS_MIE);  // MRET restored it

  // WFI wakes up for the timer; the interrupt is taken with mepc = the instruction after WFI.
  *CLINT_MTIMECMP = now() + 300;
  {
    u64 after;
    asm volatile("la %0, 1f\nwfi\n1:" : "=r"(after)::"memory");
    CHECK_EQ(20, irq_n, 2);
    CHECK_EQ(21, T.epc, after);
    CHECK_EQ(22, T.cause, CAUSE_INTR | IRQ_MTI);
  }

  // WFI with MIE=0: it still wakes when MTIP becomes pending, and execution just continues.
  csr_clear(mstatus, MSTATUS_MIE);
  *CLINT_MTIMECMP = now() + 300;
  asm volatile("wfi" ::: "memory");
  CHECK_EQ(25, irq_n, 2);
  CHECK_EQ(26, csr_read(mip) & MIP_MTIP, MIP_MTIP);
  CHECK(27, now() >= *CLINT_MTIMECMP);
  // mie.MTIE=0 masks it even with MIE=1; enabling MTIE takes it at once (CSR writes to mie are
  // followed by an immediate interrupt check).
  csr_write(mie, 0);
  csr_set(mstatus, MSTATUS_MIE);
  for (volatile int i = 0; i < 3000; ++i) {
  }
  CHECK_EQ(28, irq_n, 2);
  csr_write(mie, MIP_MTIP);
  CHECK_EQ(29, irq_n, 3);
  csr_clear(mstatus, MSTATUS_MIE);

  // Software interrupt through the CLINT: MSIP mirrors msip and is read-only in mip.
  *CLINT_MSIP = 1;
  CHECK_EQ(30, *CLINT_MSIP, 1);
  CHECK_EQ(31, csr_read(mip) & MIP_MSIP, MIP_MSIP);
  csr_clear(mip, MIP_MSIP);
  CHECK_EQ(32, csr_read(mip) & MIP_MSIP, MIP_MSIP);
  csr_write(mie, MIP_MSIP);
  csr_set(mstatus, MSTATUS_MIE);
  wait_irqs(33, 4);
  CHECK_EQ(34, T.cause, 0x8000000000000003ull);
  CHECK_EQ(35, *CLINT_MSIP, 0);
  CHECK_EQ(36, csr_read(mip) & MIP_MSIP, 0);
  csr_set(mip, MIP_MSIP);
  CHECK_EQ(37, csr_read(mip) & MIP_MSIP, 0);
  csr_clear(mstatus, MSTATUS_MIE);

  // Priority: everything pending at once (MEI cannot be raised on this machine) is taken in the
  // order MSI, MTI, SEI, SSI, STI.
  irq_n = 0;
  csr_write(mie, MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP | MIP_MEIP);
  *CLINT_MSIP = 1;
  *CLINT_MTIMECMP = 0;
  csr_write(mip, MIP_SEIP | MIP_SSIP | MIP_STIP);
  for (volatile int i = 0; i < 10; ++i) {
  }
  CHECK_EQ(40, irq_n, 0);
  csr_set(mstatus, MSTATUS_MIE);
  wait_irqs(41, 5);
  CHECK_EQ(42, irq_log[0], (PRV_M << 8) | IRQ_MSI);
  CHECK_EQ(43, irq_log[1], (PRV_M << 8) | IRQ_MTI);
  CHECK_EQ(44, irq_log[2], (PRV_M << 8) | IRQ_SEI);
  CHECK_EQ(45, irq_log[3], (PRV_M << 8) | IRQ_SSI);
  CHECK_EQ(46, irq_log[4], (PRV_M << 8) | IRQ_STI);
  csr_clear(mstatus, MSTATUS_MIE);

  // MIE=0 only masks M-mode: below M, M-level interrupts are always enabled, even with SIE=0.
  irq_n = 0;
  csr_write(mie, MIP_MTIP);
  *CLINT_MTIMECMP = 0;
  for (volatile int i = 0; i < 3000; ++i) {
  }
  CHECK_EQ(50, irq_n, 0);
  csr_clear(mstatus, MSTATUS_SIE);
  CHECK_EQ(51, run_as(PRV_S, spin_fn, 0x51), 0x51);
  CHECK_EQ(52, irq_n, 1);
  CHECK_EQ(53, irq_log[0], (PRV_M << 8) | IRQ_MTI);
  CHECK_EQ(54, mpp_of(T.status), PRV_S);
  CHECK_EQ(55, T.epc, (u64)spin_fn);  // pending on entry: taken before its first instruction
  *CLINT_MTIMECMP = 0;
  CHECK_EQ(56, run_as(PRV_U, spin_fn, 0x56), 0x56);
  CHECK_EQ(57, irq_n, 2);
  CHECK_EQ(58, mpp_of(T.status), PRV_U);
  CHECK_EQ(59, csr_read(mstatus) & MSTATUS_MIE, 0);

  // A delegated interrupt is never taken in M, even with MIE=1 and SIE=1; it is taken in S.
  irq_n = 0;
  csr_write(mideleg, MIP_SSIP);
  csr_write(mie, MIP_SSIP);
  csr_write(mip, MIP_SSIP);
  csr_set(mstatus, MSTATUS_MIE | MSTATUS_SIE);
  for (volatile int i = 0; i < 3000; ++i) {
  }
  CHECK_EQ(60, irq_n, 0);
  CHECK_EQ(61, run_as(PRV_S, spin_fn, 0x61), 0x61);
  CHECK_EQ(62, irq_n, 1);
  CHECK_EQ(63, irq_log[0], (PRV_S << 8) | IRQ_SSI);
  CHECK_EQ(64, T.cause, 0x8000000000000001ull);
  csr_clear(mstatus, MSTATUS_MIE);
  // Not delegated, the same SSIP goes to M with mcause 0x8000000000000001.
  csr_write(mideleg, 0);
  csr_write(mip, MIP_SSIP);
  csr_set(mstatus, MSTATUS_MIE);
  CHECK_EQ(65, irq_n, 2);
  CHECK_EQ(66, T.cause, 0x8000000000000001ull);
  CHECK_EQ(67, T.level, PRV_M);
  csr_clear(mstatus, MSTATUS_MIE | MSTATUS_SIE);

  // An M-level interrupt outranks a pending S-level one when both are enabled in U.
  irq_n = 0;
  csr_write(mideleg, MIP_SSIP);
  csr_write(mie, MIP_SSIP | MIP_MTIP);
  csr_write(mip, MIP_SSIP);
  *CLINT_MTIMECMP = 0;
  CHECK_EQ(70, run_as(PRV_U, spin_fn, 0x70), 0x70);
  CHECK_EQ(71, irq_n, 2);
  CHECK_EQ(72, irq_log[0], (PRV_M << 8) | IRQ_MTI);
  CHECK_EQ(73, irq_log[1], (PRV_S << 8) | IRQ_SSI);

  // WFI in M wakes for a locally enabled interrupt even if it is delegated and MIE=0
  // ("Wait for Interrupt": unaffected by mstatus.MIE/SIE and mideleg).
  irq_n = 0;
  csr_write(mie, MIP_SSIP);
  csr_write(mip, MIP_SSIP);
  asm volatile("wfi" ::: "memory");
  CHECK_EQ(74, irq_n, 0);
  csr_write(mip, 0);
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  *CLINT_MTIMECMP = ~0ull;
  return 0;
}
