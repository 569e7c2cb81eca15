// Interrupts with the H extension: VS-level interrupts injected through hvip and delegated to VS
// (guest sees causes 1/5/9), the same ones handled by HS when not delegated, HS-level interrupts
// preempting V=1 regardless of sstatus.SIE, priority between destinations, Sstc's vstimecmp with
// htimedelta, and guest external interrupt lines that software cannot raise.
// Spec: H "hideleg", "hvip/hip/hie", "vsip/vsie", "Trap Entry", "hgeip/hgeie"; M "mip/mie"
// (interrupt enables per destination); Sstc; docs/h-extension.md §3, §7.
#include "h_env.h"

#define CLINT_MSIP ((volatile u32*)0x2000000ull)

static u64 fn_nop(u64 a) { return a; }
// VS: enable interrupts (vsstatus.SIE via the sstatus name), then return.
static u64 fn_sie_on(u64 a) {
  csr_set(sstatus, MS_SIE);
  asm volatile("nop");
  return a;
}
// VS: write stimecmp (really vstimecmp) = a, with interrupts enabled.
static u64 fn_vs_stimecmp(u64 a) {
  csr_write(0x14d, a);
  asm volatile("nop");
  return 0;
}
static u64 fn_read_sip(u64 a) {
  (void)a;
  return csr_read(sip);
}
static u64 rdtime(void) {
  u64 t;
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

// Runs fn in `mode` and checks that exactly one interrupt arrived at `level` with `cause`.
static void expect_irq(int line, u64 mode, u64 (*fn)(u64), u64 level, u64 cause) {
  tr_reset();
  run_in(mode, fn, 0);
  CHECK_EQ(line, tr.count, 1);
  CHECK_EQ(line, tr.level, level);
  CHECK_EQ(line, tr.cause, cause);
}
static void expect_quiet(int line, u64 mode, u64 (*fn)(u64)) {
  tr_reset();
  run_in(mode, fn, 0);
  if (tr.count) {
    puts_("unexpected trap cause ");
    put_hex(tr.cause);
    htif_putc('\n');
  }
  CHECK_EQ(line, tr.count, 0);
}
#define IRQ(mode, fn, level, cause) expect_irq(__LINE__, mode, fn, level, cause)
#define QUIET(mode, fn) expect_quiet(__LINE__, mode, fn)

int main(void) {
  static const unsigned vs_irq[3] = {IRQ_VSSI, IRQ_VSTI, IRQ_VSEI};

  // ------------------------------------------------------------------------------------------
  // Delegated to VS (hideleg): vscause = 1/5/9 with the interrupt bit, vectoring by that number.
  for (unsigned k = 0; k < 3; k++) {
    unsigned n = vs_irq[k];
    u64 bit = BIT(n);
    h_init();
    csr_write(hideleg, VS_IRQS);
    csr_write(hvip, bit);
    // Not taken while V=0, whatever the enables.
    csr_set(sstatus, MS_SIE);
    csr_set(vsstatus, MS_SIE);
    csr_write(hie, bit);
    QUIET(MODE_HS, fn_nop);
    QUIET(MODE_U, fn_nop);
    QUIET(MODE_M, fn_nop);
    csr_clear(sstatus, MS_SIE);
    // VS with vsstatus.SIE=1: taken at once.
    IRQ(MODE_VS, fn_nop, LVL_VS, INTR | (n - 1));
    CKEQ(tr.vec, 0);
    CK(tr.status & MS_SPP);  // from VS
    CK(tr.status & MS_SPIE);
    CKEQ(tr.status & MS_SIE, 0);
    CKEQ(csr_read(vscause), INTR | (n - 1));
    CKEQ(csr_read(hie), 0);  // the VS handler cleared vsie bit n-1, which is hie bit n
    // Vectored vstvec: slot = the guest's cause number.
    csr_write(vstvec, (u64)h_vs_vtab | 1);
    csr_write(hie, bit);
    csr_set(vsstatus, MS_SIE);
    IRQ(MODE_VS, fn_nop, LVL_VS, INTR | (n - 1));
    CKEQ(tr.vec, n - 1 + 1);
    csr_write(vstvec, (u64)h_vs_entry);
    // vsstatus.SIE=0 in VS: pending but not taken, until the guest sets SIE.
    csr_write(hie, bit);
    csr_clear(vsstatus, MS_SIE);
    QUIET(MODE_VS, fn_nop);
    IRQ(MODE_VS, fn_sie_on, LVL_VS, INTR | (n - 1));
    // VU: always enabled for VS-level interrupts, even with vsstatus.SIE=0.
    csr_write(hie, bit);
    csr_clear(vsstatus, MS_SIE);
    IRQ(MODE_VU, fn_nop, LVL_VS, INTR | (n - 1));
    CKEQ(tr.status & MS_SPP, 0);
    // Disabled in vsie (= hie): nothing.
    csr_write(hie, 0);
    csr_set(vsstatus, MS_SIE);
    QUIET(MODE_VS, fn_nop);
    QUIET(MODE_VU, fn_nop);
  }

  // ------------------------------------------------------------------------------------------
  // Not delegated (hideleg=0): the VS-level interrupts are HS-level ones: scause keeps 2/6/10,
  // taken in VS/VU whatever sstatus.SIE, in HS only with SIE=1, never in M.
  for (unsigned k = 0; k < 3; k++) {
    unsigned n = vs_irq[k];
    u64 bit = BIT(n);
    h_init();
    csr_write(hvip, bit);
    csr_write(hie, bit);
    csr_set(vsstatus, MS_SIE);
    IRQ(MODE_VS, fn_nop, LVL_HS, INTR | n);
    CK(tr.hstatus & HS_SPV);
    CK(tr.hstatus & HS_SPVP);
    CK(tr.status & MS_SPP);
    csr_write(hie, bit);
    csr_clear(vsstatus, MS_SIE);
    IRQ(MODE_VU, fn_nop, LVL_HS, INTR | n);
    CKEQ(tr.hstatus & HS_SPVP, 0);
    csr_write(hie, bit);
    csr_write(stvec, (u64)h_hs_vtab | 1);
    IRQ(MODE_VS, fn_nop, LVL_HS, INTR | n);
    CKEQ(tr.vec, n + 1);  // HS vectoring uses the raw cause
    csr_write(stvec, (u64)h_hs_entry);
    csr_write(hie, bit);
    QUIET(MODE_HS, fn_nop);  // sstatus.SIE=0
    QUIET(MODE_M, fn_nop);
    csr_set(sstatus, MS_SIE);
    IRQ(MODE_HS, fn_nop, LVL_HS, INTR | n);
    csr_write(hie, bit);
    csr_clear(sstatus, MS_SIE);
    IRQ(MODE_U, fn_nop, LVL_HS, INTR | n);
  }

  // ------------------------------------------------------------------------------------------
  // HS-level interrupts (SSI, STI delegated by mideleg) preempt VS even with sstatus.SIE=0.
  {
    static const unsigned s_irq[2] = {IRQ_SSI, IRQ_STI};
    for (unsigned k = 0; k < 2; k++) {
      h_init();
      u64 bit = BIT(s_irq[k]);
      csr_write(mideleg, bit);
      csr_write(sie, bit);
      csr_set(mip, bit);
      csr_clear(vsstatus, MS_SIE);
      IRQ(MODE_VS, fn_nop, LVL_HS, INTR | s_irq[k]);
      CK(tr.hstatus & HS_SPV);
      csr_write(sie, bit);
      csr_set(vsstatus, MS_SIE);
      IRQ(MODE_VU, fn_nop, LVL_HS, INTR | s_irq[k]);
      // Never visible to the guest.
      csr_write(hideleg, VS_IRQS);
      CKEQ(csr_read(vsip), 0);
      csr_clear(mip, bit);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Priority by destination: M first, then HS, then VS, whatever the interrupt numbers.
  {
    h_init();
    csr_write(hideleg, BIT(IRQ_VSSI));
    csr_write(hvip, BIT(IRQ_VSSI));
    csr_write(hie, BIT(IRQ_VSSI));
    csr_set(vsstatus, MS_SIE);
    csr_write(mideleg, BIT(IRQ_STI));
    csr_set(mip, BIT(IRQ_STI));
    csr_write(sie, BIT(IRQ_STI));
    *CLINT_MSIP = 1;
    csr_write(mie, BIT(IRQ_MSI) | csr_read(mie));
    tr_reset();
    run_in(MODE_VS, fn_nop, 0);
    *CLINT_MSIP = 0;
    csr_clear(mip, BIT(IRQ_STI));
    CKEQ(tr.count, 3);
    CKEQ(tr_log_level[0], LVL_M);
    CKEQ(tr_log_cause[0], INTR | IRQ_MSI);
    CKEQ(tr_log_level[1], LVL_HS);
    CKEQ(tr_log_cause[1], INTR | IRQ_STI);
    CKEQ(tr_log_level[2], LVL_VS);
    CKEQ(tr_log_cause[2], INTR | 1);
  }

  // Priority inside one destination: HS takes VSEI, VSSI, VSTI in that order [H "hip"]; the guest
  // takes SEI, SSI, STI (its 9, 1, 5) [S "sip"].
  {
    h_init();
    csr_write(hvip, VS_IRQS);
    csr_write(hie, VS_IRQS);
    tr_reset();
    run_in(MODE_VS, fn_nop, 0);
    CKEQ(tr.count, 3);
    CKEQ(tr_log_cause[0], INTR | IRQ_VSEI);
    CKEQ(tr_log_cause[1], INTR | IRQ_VSSI);
    CKEQ(tr_log_cause[2], INTR | IRQ_VSTI);
    CKEQ(tr_log_level[2], LVL_HS);
    csr_write(hideleg, VS_IRQS);
    csr_write(hie, VS_IRQS);
    csr_set(vsstatus, MS_SIE);
    tr_reset();
    run_in(MODE_VS, fn_nop, 0);
    CKEQ(tr.count, 3);
    CKEQ(tr_log_cause[0], INTR | 9);
    CKEQ(tr_log_cause[1], INTR | 1);
    CKEQ(tr_log_cause[2], INTR | 5);
    CKEQ(tr_log_level[2], LVL_VS);
  }

  // ------------------------------------------------------------------------------------------
  // Sstc for the guest [Sstc; H "hip"]: with menvcfg.STCE=henvcfg.STCE=1,
  // hip.VSTIP = hvip.VSTIP | (time + htimedelta >= vstimecmp).
  {
    h_init();
    csr_write(menvcfg, ENV_STCE);
    csr_write(henvcfg, ENV_STCE);
    csr_write(mcounteren, BIT(1));
    csr_write(hcounteren, BIT(1));
    csr_write(0x24d, ~0ull);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), 0);
    csr_write(0x24d, 0);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), BIT(IRQ_VSTI));
    CKEQ(csr_read(mip) & BIT(IRQ_VSTI), BIT(IRQ_VSTI));
    CKEQ(csr_read(hvip), 0);
    csr_write(hideleg, BIT(IRQ_VSTI));
    CKEQ(csr_read(vsip), BIT(IRQ_STI));
    CKEQ(run_in(MODE_VS, fn_read_sip, 0), BIT(IRQ_STI));  // the guest's sip.STIP
    // htimedelta moves the guest's clock: compare value ahead of the real time, then a delta
    // that puts the guest's time past it.
    u64 cmp = rdtime() + 1000000000ull;
    csr_write(0x24d, cmp);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), 0);
    csr_write(htimedelta, 2000000000ull);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), BIT(IRQ_VSTI));
    csr_write(htimedelta, 0);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), 0);
    // The comparison is unsigned and the sum wraps modulo 2^64: time + delta = 2^64 - 1e9 is
    // above 2^63 ...
    csr_write(0x24d, 1ull << 63);
    csr_write(htimedelta, -rdtime() - 1000000000ull);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), BIT(IRQ_VSTI));
    // ... and time + (2^64 - time + 10) wraps to about 10, below 1e9.
    csr_write(0x24d, 1000000000ull);
    csr_write(htimedelta, -rdtime() + 10);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), 0);
    csr_write(htimedelta, 0);
    // The guest arms its own timer and takes the interrupt as cause 5.
    csr_write(0x24d, ~0ull);
    csr_write(hie, BIT(IRQ_VSTI));
    csr_set(vsstatus, MS_SIE);
    tr_reset();
    run_in(MODE_VS, fn_vs_stimecmp, 0);
    CKEQ(tr.count, 1);
    CKEQ(tr.level, LVL_VS);
    CKEQ(tr.cause, INTR | IRQ_STI);
    CKEQ(csr_read(0x24d), 0);
    CKEQ(csr_read(0x14d), ~0ull);  // the real stimecmp is untouched
    // Not delegated: HS sees cause 6.
    csr_write(hideleg, 0);
    csr_write(hie, BIT(IRQ_VSTI));
    IRQ(MODE_VS, fn_nop, LVL_HS, INTR | IRQ_VSTI);
    // henvcfg.STCE=0: the comparator no longer drives VSTIP (only hvip does).
    csr_write(henvcfg, 0);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), 0);
    csr_write(hvip, BIT(IRQ_VSTI));
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), BIT(IRQ_VSTI));
    csr_write(hvip, 0);
    // HS's own stimecmp drives sip.STIP while menvcfg.STCE=1.
    csr_write(mideleg, BIT(IRQ_STI));
    csr_write(0x14d, 0);
    CKEQ(csr_read(sip) & BIT(IRQ_STI), BIT(IRQ_STI));
    csr_write(0x14d, ~0ull);
    CKEQ(csr_read(sip) & BIT(IRQ_STI), 0);
    // With STCE=1, STIP is driven by stimecmp only: M cannot write it.
    csr_set(mip, BIT(IRQ_STI));
    CKEQ(csr_read(mip) & BIT(IRQ_STI), 0);
    // menvcfg.STCE=0: the VS comparator stops driving VSTIP even though vstimecmp=0.
    csr_write(henvcfg, ENV_STCE);
    csr_write(0x24d, 0);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), BIT(IRQ_VSTI));
    csr_write(menvcfg, 0);
    CKEQ(csr_read(hip) & BIT(IRQ_VSTI), 0);
    CKEQ(csr_read(henvcfg) & ENV_STCE, 0);
    csr_write(0x24d, ~0ull);
    csr_write(menvcfg, 0);
    csr_write(mcounteren, 0);
    csr_write(hcounteren, 0);
  }

  // ------------------------------------------------------------------------------------------
  // Guest external interrupts: software cannot raise hgeip, so with every enable on nothing is
  // pending or taken (hip.SGEIP = 0, hip.VSEIP = 0 for every VGEIN).
  {
    h_init();
    csr_write(hgeie, ~0ull);
    csr_write(hie, BIT(IRQ_SGEI) | BIT(IRQ_VSEI));
    csr_set(sstatus, MS_SIE);
    u64 ge = csr_read(hgeie);
    for (u64 v = 0; v < 64 && (v == 0 || (ge >> v) & 1); v++) {
      csr_clear(hstatus, HS_VGEIN);
      csr_set(hstatus, v << 12);
      CKEQ(csr_read(hgeip), 0);
      CKEQ(csr_read(hip) & (BIT(IRQ_SGEI) | BIT(IRQ_VSEI)), 0);
      QUIET(MODE_HS, fn_nop);
      QUIET(MODE_VS, fn_nop);
    }
    csr_write(hgeie, 0);
  }
  return 0;
}
