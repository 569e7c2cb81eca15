// Supervisor interrupts (priv spec "Supervisor Interrupt Registers (sip and sie)", "Machine
// Interrupt Delegation Register"; Sstc "stimecmp"): sip/sie show only delegated interrupts;
// a delegated SSIP is taken in S with scause 0x8000000000000001 when SIE=1 (at once after the
// CSR write that enables it), always in U, never in S with SIE=0; with menvcfg.STCE=1, STIP is
// (time >= stimecmp) and not writable through mip, STI is taken in S with scause
// 0x8000000000000005, and WFI in S with SIE=0 wakes on it and continues.
#include "priv.h"

// stimecmp is CSR 0x14d (written as a number: the csr_* macros stringify their argument).

static volatile u64 irq_log[16];
static volatile u64 irq_n;

static void on_irq(u64 cause, u64 level) {
  u64 code = cause & 63;
  if (irq_n < 16) irq_log[irq_n] = (level << 8) | code;
  irq_n = irq_n + 1;
  if (code == IRQ_SSI)
    csr_clear(sip, MIP_SSIP);
  else if (code == IRQ_STI)
    csr_write(0x14d, ~0ull);  // stimecmp: S-mode clears its own timer
  else
    priv_fail("irq", 1098, cause, level, 0);
}

static u64 stime(void) { return csr_read(time); }

// S-mode: raise SSIP itself through sip with SIE=0 (pending, not taken), then enable.
static u64 s_ssip(u64 arg) {
  (void)arg;
  csr_clear(sstatus, MSTATUS_SIE);
  csr_set(sip, MIP_SSIP);
  CHECK_EQ(10, csr_read(sip) & MIP_SSIP, MIP_SSIP);
  for (volatile int i = 0; i < 3000; ++i) {
  }
  CHECK_EQ(11, irq_n, 0);
  u64 at;
  asm volatile(
      "la %0, 1f\n"
      "csrsi sstatus, 2\n"
      "1:"
      : "=r"(at)::"memory");
  CHECK_EQ(12, irq_n, 1);
  CHECK_EQ(13, T.level, PRV_S);
  CHECK_EQ(14, T.cause, 0x8000000000000001ull);
  CHECK_EQ(15, T.epc, at);  // taken before the instruction after the enabling write
  CHECK_EQ(16, T.status & (MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE), MSTATUS_SPP | MSTATUS_SPIE);
  CHECK_EQ(17, csr_read(sip) & MIP_SSIP, 0);
  CHECK_EQ(18, csr_read(sstatus) & MSTATUS_SIE, MSTATUS_SIE);  // SRET restored it
  csr_clear(sstatus, MSTATUS_SIE);
  return 0x55;
}

// S-mode timer through Sstc: arm, wait with interrupts on.
static u64 s_stimer(u64 arg) {
  (void)arg;
  csr_write(0x14d, stime() + 100);
  CHECK_EQ(20, csr_read(sip) & MIP_STIP, 0);
  csr_set(sstatus, MSTATUS_SIE);
  for (int i = 0; i < 200000 && irq_n == 0; ++i) {
  }
  csr_clear(sstatus, MSTATUS_SIE);
  CHECK_EQ(21, irq_n, 1);
  CHECK_EQ(22, T.cause, 0x8000000000000005ull);
  CHECK_EQ(23, T.level, PRV_S);
  CHECK(24, stime() >= 100);
  return 0x56;
}

// WFI in S with SIE=0: wakes when STIP becomes pending, continues without trapping.
static u64 s_wfi(u64 arg) {
  (void)arg;
  csr_clear(sstatus, MSTATUS_SIE);
  u64 cmp = stime() + 300;
  csr_write(0x14d, cmp);
  asm volatile("wfi" ::: "memory");
  CHECK_EQ(30, irq_n, 0);
  CHECK_EQ(31, csr_read(sip) & MIP_STIP, MIP_STIP);
  CHECK(32, stime() >= cmp);
  // Enabling SIE now takes it at once.
  csr_set(sstatus, MSTATUS_SIE);
  CHECK_EQ(33, irq_n, 1);
  CHECK_EQ(34, T.cause, CAUSE_INTR | IRQ_STI);
  csr_clear(sstatus, MSTATUS_SIE);
  return 0x57;
}

static u64 spin(u64 arg) {
  for (volatile int i = 0; i < 50; ++i) {
  }
  return arg;
}

// Reads sip and sie from S.
static u64 s_views(u64 arg) {
  (void)arg;
  return (csr_read(sip) << 16) | csr_read(sie);
}

int main(void) {
  priv_init();
  irq_hook = on_irq;

  // sip/sie: interrupts that are not delegated read as zero there, and sie cannot enable them.
  csr_write(mideleg, 0);
  csr_write(mip, MIP_SSIP | MIP_STIP | MIP_SEIP);
  csr_write(mie, 0);
  csr_write(sie, MIP_SSIP | MIP_STIP | MIP_SEIP);
  CHECK_EQ(1, csr_read(mie), 0);
  CHECK_EQ(2, csr_read(sip) & (MIP_SSIP | MIP_STIP | MIP_SEIP), 0);
  csr_write(mideleg, MIP_SSIP | MIP_STIP);
  csr_write(sie, MIP_SSIP | MIP_STIP | MIP_SEIP);
  CHECK_EQ(3, csr_read(mie), MIP_SSIP | MIP_STIP);
  CHECK_EQ(4, csr_read(sip) & (MIP_SSIP | MIP_STIP | MIP_SEIP), MIP_SSIP | MIP_STIP);
  CHECK_EQ(5, csr_read(sip) & (MIP_MSIP | MIP_MTIP), 0);
  CHECK_EQ(6, run_as(PRV_S, s_views, 0), ((MIP_SSIP | MIP_STIP) << 16) | MIP_SSIP | MIP_STIP);
  csr_write(mip, 0);
  csr_write(mie, 0);

  // Delegated SSIP raised by S-mode itself.
  csr_write(mideleg, MIP_SSIP);
  csr_write(mie, MIP_SSIP);
  irq_n = 0;
  CHECK_EQ(7, run_as(PRV_S, s_ssip, 0), 0x55);
  // In U, a delegated interrupt is taken whatever SIE says.
  csr_clear(mstatus, MSTATUS_SIE);
  csr_write(mip, MIP_SSIP);
  irq_n = 0;
  CHECK_EQ(8, run_as(PRV_U, spin, 8), 8);
  CHECK_EQ(9, irq_n, 1);
  CHECK_EQ(10, irq_log[0], (PRV_S << 8) | IRQ_SSI);
  CHECK_EQ(11, T.status & MSTATUS_SPP, 0);
  // In S with SIE=0 it stays pending.
  csr_write(mip, MIP_SSIP);
  irq_n = 0;
  CHECK_EQ(12, run_as(PRV_S, spin, 12), 12);
  CHECK_EQ(13, irq_n, 0);
  CHECK_EQ(14, csr_read(mip) & MIP_SSIP, MIP_SSIP);
  csr_write(mip, 0);

  // Sstc. With STCE=1, STIP = (time >= stimecmp) and mip.STIP is not writable.
  csr_write(menvcfg, ENVCFG_STCE);
  csr_write(mcounteren, 2);
  csr_write(0x14d, ~0ull);
  CHECK_EQ(20, csr_read(0x14d), ~0ull);
  CHECK_EQ(21, csr_read(mip) & MIP_STIP, 0);
  csr_set(mip, MIP_STIP);
  CHECK_EQ(22, csr_read(mip) & MIP_STIP, 0);
  csr_write(0x14d, 0);
  CHECK_EQ(23, csr_read(mip) & MIP_STIP, MIP_STIP);
  csr_clear(mip, MIP_STIP);
  CHECK_EQ(24, csr_read(mip) & MIP_STIP, MIP_STIP);
  {
    u64 t = stime();
    csr_write(0x14d, t + 200);
    CHECK_EQ(25, csr_read(mip) & MIP_STIP, 0);
    for (int i = 0; i < 100000 && !(csr_read(mip) & MIP_STIP); ++i) {
    }
    CHECK_EQ(26, csr_read(mip) & MIP_STIP, MIP_STIP);
    CHECK(27, stime() >= t + 200);
  }
  csr_write(0x14d, ~0ull);
  // STCE=0: STIP is an ordinary M-writable bit again.
  csr_write(menvcfg, 0);
  csr_set(mip, MIP_STIP);
  CHECK_EQ(28, csr_read(mip) & MIP_STIP, MIP_STIP);
  csr_clear(mip, MIP_STIP);
  CHECK_EQ(29, csr_read(mip) & MIP_STIP, 0);

  // Supervisor timer interrupt, delegated, armed from S.
  csr_write(menvcfg, ENVCFG_STCE);
  csr_write(mideleg, MIP_STIP);
  csr_write(mie, MIP_STIP);
  irq_n = 0;
  CHECK_EQ(30, run_as(PRV_S, s_stimer, 0), 0x56);
  irq_n = 0;
  CHECK_EQ(31, run_as(PRV_S, s_wfi, 0), 0x57);
  // Not delegated: the same timer interrupt goes to M with mcause 0x8000000000000005.
  csr_write(mideleg, 0);
  irq_n = 0;
  csr_write(0x14d, 0);
  CHECK_EQ(32, run_as(PRV_S, spin, 32), 32);
  CHECK_EQ(33, irq_n, 1);
  CHECK_EQ(34, T.level, PRV_M);
  CHECK_EQ(35, T.cause, 0x8000000000000005ull);
  CHECK_EQ(36, mpp_of(T.status), PRV_S);

  csr_write(0x14d, ~0ull);
  csr_write(mie, 0);
  csr_write(menvcfg, 0);
  csr_write(mcounteren, 0);
  return 0;
}
