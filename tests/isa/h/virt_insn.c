// Virtual-instruction (22) versus illegal-instruction (2) exceptions.
// Rule [H "Trap Cause Codes"; docs/h-extension.md §1]: with V=1, an instruction that would be legal
// in HS-mode (judged with mstatus.TVM/TSR as 0 but all other M-level state as it is) and that is
// blocked only by V=1 or a hypervisor/supervisor gate raises 22; anything blocked at the M level
// (mcounteren, menvcfg, mstatus.TW, M CSRs, writes to read-only CSRs, FS=Off) raises 2. V=0 never
// raises 22. The trap value of both is the instruction.
// Nothing is delegated here, so every exception is taken into M.
#include "h_env.h"

#define NONE (~0ull)
#define NR ".option push\n.option norvc\n.option arch, +h, +svinval\n"
#define NRE "\n.option pop\n"

#define INSN(name, text)                                  \
  static u64 name(u64 a) {                                \
    asm volatile(NR text NRE ::: "t0", "t1", "memory");   \
    return a;                                             \
  }
#define RD(csr) INSN(rd_##csr, "csrr t0, " #csr)
#define WR(csr) INSN(wr_##csr, "li t0, 0\ncsrw " #csr ", t0")

// Hypervisor and VS CSRs by their own numbers.
RD(hstatus) RD(hedeleg) RD(hideleg) RD(hie) RD(htimedelta) RD(hcounteren) RD(hgeie) RD(henvcfg)
RD(htval) RD(hip) RD(hvip) RD(htinst) RD(hgatp) RD(hgeip)
RD(vsstatus) RD(vsie) RD(vstvec) RD(vsscratch) RD(vsepc) RD(vscause) RD(vstval) RD(vsip) RD(vsatp)
WR(hstatus) WR(hvip) WR(hgatp) WR(vsatp) WR(hgeip)
INSN(rd_vstimecmp, "csrr t0, 0x24d")
// Supervisor CSRs.
RD(sstatus) RD(sie) RD(stvec) RD(scounteren) RD(senvcfg) RD(sscratch) RD(sepc) RD(scause) RD(stval)
RD(sip) RD(satp)
WR(satp)
INSN(rd_stimecmp, "csrr t0, 0x14d")
INSN(wr_stimecmp, "li t0, -1\nslli t0, t0, 32\ncsrw 0x14d, t0")  // far future: no timer interrupt
// Machine CSRs.
RD(mstatus) RD(misa) RD(mscratch)
INSN(rd_mtval2, "csrr t0, 0x34b")
INSN(rd_mtinst, "csrr t0, 0x34a")
// RV64 has no high halves.
INSN(rd_htimedeltah, "csrr t0, 0x615")
INSN(rd_henvcfgh, "csrr t0, 0x61a")
// Counters.
RD(cycle) RD(time) RD(instret) RD(hpmcounter3)
// Unallocated (and not custom) CSR numbers in the hypervisor and supervisor ranges.
INSN(rd_csr601, "csrr t0, 0x601")
INSN(rd_csr101, "csrr t0, 0x101")
INSN(wr_cycle, "csrw cycle, zero")
// Instructions.
INSN(do_wfi, "wfi")
INSN(do_sret_vs, "la t0, 1f\ncsrw sepc, t0\nli t0, 0x100\ncsrs sstatus, t0\nsret\n1:")  // back to VS at 1:
INSN(do_sret, "sret")
INSN(do_mret, "mret")
INSN(do_sfence, "sfence.vma")
INSN(do_sinval, "sinval.vma zero, zero")
INSN(do_sfence_w_inval, "sfence.w.inval")
INSN(do_sfence_inval_ir, "sfence.inval.ir")
INSN(do_hfence_vvma, "hfence.vvma zero, zero")
INSN(do_hfence_gvma, "hfence.gvma zero, zero")
INSN(do_hinval_vvma, "hinval.vvma zero, zero")
INSN(do_hinval_gvma, "hinval.gvma zero, zero")
INSN(do_fadd, "fadd.d ft0, ft0, ft0")

volatile u64 hlv_word = 0x1122334455667788ull;
INSN(do_hlv_w, "la t1, hlv_word\nhlv.w t0, (t1)")
INSN(do_hlvx_hu, "la t1, hlv_word\nhlvx.hu t0, (t1)")
INSN(do_hsv_w, "la t1, hlv_word\nhsv.w zero, (t1)")
static u64 do_hlv_d(u64 a) {
  u64 v;
  asm volatile(NR "hlv.d %0, (%1)" NRE : "=r"(v) : "r"(a) : "memory");
  return v;
}

// Mismatches are printed and counted, so that one run lists every wrong case; main fails at the end.
static int fails;
static void bad(int line, const char* what, u64 mode, u64 got, u64 want) {
  puts_("MISMATCH at line ");
  put_hex(line);
  puts_(" mode ");
  put_hex(mode);
  puts_(": ");
  puts_(what);
  puts_(" got ");
  put_hex(got);
  puts_(" want ");
  put_hex(want);
  htif_putc('\n');
  fails++;
}
static void expect(int line, u64 mode, u64 (*fn)(u64), u64 cause) {
  tr_reset();
  run_in(mode, fn, 0);
  if (cause == NONE) {
    if (tr.count != 0) bad(line, "unexpected trap, cause", mode, tr.cause, 0);
    return;
  }
  if (tr.count != 1) {
    bad(line, "trap count", mode, tr.count, 1);
    return;
  }
  if (tr.level != LVL_M) bad(line, "level", mode, tr.level, LVL_M);
  if (tr.cause != cause) bad(line, "cause", mode, tr.cause, cause);
  if (tr.tval != insn_at(tr.epc)) bad(line, "mtval (instruction bits)", mode, tr.tval, insn_at(tr.epc));
  if (!!(tr.status & MS_MPV) != mode >> 2) bad(line, "MPV", mode, !!(tr.status & MS_MPV), mode >> 2);
  if (MPP_OF(tr.status) != (mode & 3)) bad(line, "MPP", mode, MPP_OF(tr.status), mode & 3);
  if (tr.status & MS_GVA) bad(line, "GVA", mode, 1, 0);
  if (tr.tval2) bad(line, "mtval2", mode, tr.tval2, 0);
  if (tr.tinst) bad(line, "mtinst", mode, tr.tinst, 0);  // 0 is the only value for 2 and 22
}
#define EXPECT(mode, fn, cause) expect(__LINE__, mode, fn, cause)

int main(void) {
  h_init();

  // --- Hypervisor and VS CSRs: legal in HS; 22 from VS and VU; 2 from U (V=0).
  {
    static u64 (*const hcsrs[])(u64) = {
        rd_hstatus, rd_hedeleg, rd_hideleg, rd_hie, rd_htimedelta, rd_hcounteren, rd_hgeie, rd_henvcfg,
        rd_htval, rd_hip, rd_hvip, rd_htinst, rd_hgatp, rd_hgeip, rd_vsstatus, rd_vsie, rd_vstvec,
        rd_vsscratch, rd_vsepc, rd_vscause, rd_vstval, rd_vsip, rd_vsatp, wr_hstatus, wr_hvip, wr_hgatp,
        wr_vsatp};
    for (unsigned i = 0; i < sizeof hcsrs / sizeof hcsrs[0]; i++) {
      EXPECT(MODE_HS, hcsrs[i], NONE);
      EXPECT(MODE_VS, hcsrs[i], C_VIRTUAL);
      EXPECT(MODE_VU, hcsrs[i], C_VIRTUAL);
      EXPECT(MODE_U, hcsrs[i], C_ILLEGAL);
      h_init();  // undo the HS writes
    }
  }
  // hgeip is read-only: reading it from VS is HS-qualified (22), writing it is not (2).
  EXPECT(MODE_VS, wr_hgeip, C_ILLEGAL);
  EXPECT(MODE_HS, wr_hgeip, C_ILLEGAL);
  // CSRs that do not exist are illegal everywhere: only implemented CSRs qualify for 22.
  EXPECT(MODE_HS, rd_csr601, C_ILLEGAL);
  EXPECT(MODE_VS, rd_csr601, C_ILLEGAL);
  EXPECT(MODE_VU, rd_csr601, C_ILLEGAL);
  EXPECT(MODE_VS, rd_csr101, C_ILLEGAL);
  EXPECT(MODE_VU, rd_csr101, C_ILLEGAL);
  // High halves do not exist on RV64: 2 everywhere.
  EXPECT(MODE_HS, rd_htimedeltah, C_ILLEGAL);
  EXPECT(MODE_VS, rd_htimedeltah, C_ILLEGAL);
  EXPECT(MODE_VS, rd_henvcfgh, C_ILLEGAL);

  // --- Supervisor CSRs: VU -> 22 (HS-qualified), U -> 2, VS -> allowed (vs* twin or the real one).
  {
    static u64 (*const scsrs[])(u64) = {rd_sstatus, rd_sie,  rd_stvec, rd_scounteren, rd_senvcfg, rd_sscratch,
                                        rd_sepc,    rd_scause, rd_stval, rd_sip,      rd_satp};
    for (unsigned i = 0; i < sizeof scsrs / sizeof scsrs[0]; i++) {
      EXPECT(MODE_VS, scsrs[i], NONE);
      EXPECT(MODE_VU, scsrs[i], C_VIRTUAL);
      EXPECT(MODE_U, scsrs[i], C_ILLEGAL);
    }
  }

  // --- Machine CSRs: 2 from every mode below M.
  {
    static u64 (*const mcsrs[])(u64) = {rd_mstatus, rd_misa, rd_mscratch, rd_mtval2, rd_mtinst};
    for (unsigned i = 0; i < sizeof mcsrs / sizeof mcsrs[0]; i++) {
      EXPECT(MODE_HS, mcsrs[i], C_ILLEGAL);
      EXPECT(MODE_VS, mcsrs[i], C_ILLEGAL);
      EXPECT(MODE_VU, mcsrs[i], C_ILLEGAL);
    }
  }

  // --- Counters [H "hcounteren"; docs §1.3].
  {
    static u64 (*const ctrs[])(u64) = {rd_cycle, rd_time, rd_instret, rd_hpmcounter3};
    for (unsigned i = 0; i < 4; i++) {
      u64 bit = BIT(i);
      // mcounteren=1, hcounteren=0: VS and VU -> 22 (HS could read it).
      csr_write(mcounteren, bit);
      csr_write(hcounteren, 0);
      csr_write(scounteren, bit);
      EXPECT(MODE_HS, ctrs[i], NONE);
      EXPECT(MODE_VS, ctrs[i], C_VIRTUAL);
      EXPECT(MODE_VU, ctrs[i], C_VIRTUAL);
      // mcounteren=0: blocked at M level -> 2 everywhere.
      csr_write(mcounteren, 0);
      csr_write(hcounteren, bit);
      EXPECT(MODE_HS, ctrs[i], C_ILLEGAL);
      EXPECT(MODE_VS, ctrs[i], C_ILLEGAL);
      EXPECT(MODE_VU, ctrs[i], C_ILLEGAL);
      EXPECT(MODE_U, ctrs[i], C_ILLEGAL);
      // mcounteren=1, hcounteren=1, scounteren=0: VS reads, VU -> 22 (not 2), U -> 2.
      csr_write(mcounteren, bit);
      csr_write(scounteren, 0);
      EXPECT(MODE_VS, ctrs[i], NONE);
      EXPECT(MODE_VU, ctrs[i], C_VIRTUAL);
      EXPECT(MODE_U, ctrs[i], C_ILLEGAL);
      // Everything enabled: VU and U read.
      csr_write(scounteren, bit);
      EXPECT(MODE_VU, ctrs[i], NONE);
      EXPECT(MODE_U, ctrs[i], NONE);
      // Only the other counters enabled: this one still traps.
      csr_write(mcounteren, 15 & ~bit);
      csr_write(hcounteren, 15);
      EXPECT(MODE_VS, ctrs[i], C_ILLEGAL);
      csr_write(mcounteren, 15);
      csr_write(hcounteren, 15 & ~bit);
      EXPECT(MODE_VS, ctrs[i], C_VIRTUAL);
    }
    // Writing a read-only counter is illegal in HS too: 2.
    csr_write(mcounteren, 7);
    csr_write(hcounteren, 7);
    EXPECT(MODE_VS, wr_cycle, C_ILLEGAL);
    csr_write(mcounteren, 0);
    csr_write(hcounteren, 0);
    csr_write(scounteren, 0);
  }

  // --- WFI [M "Virtualization Support"; H "hstatus"]: TW=1 -> 2 everywhere below M (it wins over
  // VTW); else VS with VTW=1 -> 22; VU -> 22 regardless of VTW; U -> 2.
  csr_set(hstatus, HS_VTW);
  EXPECT(MODE_VS, do_wfi, C_VIRTUAL);
  EXPECT(MODE_VU, do_wfi, C_VIRTUAL);
  csr_set(mstatus, MS_TW);
  EXPECT(MODE_VS, do_wfi, C_ILLEGAL);
  EXPECT(MODE_VU, do_wfi, C_ILLEGAL);
  EXPECT(MODE_HS, do_wfi, C_ILLEGAL);
  csr_clear(hstatus, HS_VTW);
  EXPECT(MODE_VS, do_wfi, C_ILLEGAL);
  csr_clear(mstatus, MS_TW);
  EXPECT(MODE_VU, do_wfi, C_VIRTUAL);
  EXPECT(MODE_U, do_wfi, C_ILLEGAL);
  // VTW=0, TW=0: WFI executes in VS. A VS interrupt is pending and enabled in hie/vsie but masked
  // by vsstatus.SIE=0, so WFI returns at once and nothing is taken.
  csr_write(hideleg, BIT(IRQ_VSSI));
  csr_write(hie, BIT(IRQ_VSSI));
  csr_write(hvip, BIT(IRQ_VSSI));
  EXPECT(MODE_VS, do_wfi, NONE);
  h_init();

  // --- SRET: VS with VTSR=1 -> 22; VU -> 22; U -> 2; HS with TSR=1 -> 2; VS ignores TSR.
  csr_set(hstatus, HS_VTSR);
  EXPECT(MODE_VS, do_sret_vs, C_VIRTUAL);
  csr_clear(hstatus, HS_VTSR);
  EXPECT(MODE_VU, do_sret, C_VIRTUAL);
  EXPECT(MODE_U, do_sret, C_ILLEGAL);
  csr_set(mstatus, MS_TSR);
  EXPECT(MODE_HS, do_sret, C_ILLEGAL);
  EXPECT(MODE_VS, do_sret_vs, NONE);
  csr_clear(mstatus, MS_TSR);
  // MRET is an M-mode instruction: 2 below M, also with V=1.
  EXPECT(MODE_HS, do_mret, C_ILLEGAL);
  EXPECT(MODE_VS, do_mret, C_ILLEGAL);
  EXPECT(MODE_VU, do_mret, C_ILLEGAL);

  // --- SFENCE.VMA / SINVAL.VMA and satp: VS with VTVM=1 -> 22; VU -> 22; U -> 2; HS with TVM=1 -> 2;
  // VS ignores TVM. SFENCE.W.INVAL / SFENCE.INVAL.IR are not affected by (V)TVM [Svinval].
  csr_set(hstatus, HS_VTVM);
  EXPECT(MODE_VS, do_sfence, C_VIRTUAL);
  EXPECT(MODE_VS, do_sinval, C_VIRTUAL);
  EXPECT(MODE_VS, rd_satp, C_VIRTUAL);
  EXPECT(MODE_VS, wr_satp, C_VIRTUAL);
  EXPECT(MODE_VS, do_sfence_w_inval, NONE);
  EXPECT(MODE_VS, do_sfence_inval_ir, NONE);
  csr_clear(hstatus, HS_VTVM);
  EXPECT(MODE_VU, do_sfence, C_VIRTUAL);
  EXPECT(MODE_VU, do_sinval, C_VIRTUAL);
  EXPECT(MODE_VU, do_sfence_w_inval, C_VIRTUAL);
  EXPECT(MODE_VU, do_sfence_inval_ir, C_VIRTUAL);
  EXPECT(MODE_U, do_sfence, C_ILLEGAL);
  EXPECT(MODE_U, do_sfence_w_inval, C_ILLEGAL);
  csr_set(mstatus, MS_TVM);
  EXPECT(MODE_HS, do_sfence, C_ILLEGAL);
  EXPECT(MODE_HS, do_sinval, C_ILLEGAL);
  EXPECT(MODE_HS, rd_satp, C_ILLEGAL);
  EXPECT(MODE_HS, rd_vsatp, NONE);  // TVM never affects vsatp
  EXPECT(MODE_VS, do_sfence, NONE);
  EXPECT(MODE_VS, rd_satp, NONE);
  EXPECT(MODE_VS, wr_satp, NONE);
  // hgatp with TVM=1: 2 from HS, but 22 from VS (TVM counts as 0 for the HS-qualified test).
  EXPECT(MODE_HS, rd_hgatp, C_ILLEGAL);
  EXPECT(MODE_VS, rd_hgatp, C_VIRTUAL);
  // TVM does not affect HFENCE.VVMA; it blocks HFENCE.GVMA in HS [H "hfence.vma"].
  EXPECT(MODE_HS, do_hfence_vvma, NONE);
  EXPECT(MODE_HS, do_hinval_vvma, NONE);
  EXPECT(MODE_HS, do_sfence_w_inval, NONE);
  EXPECT(MODE_HS, do_hfence_gvma, C_ILLEGAL);
  EXPECT(MODE_HS, do_hinval_gvma, C_ILLEGAL);
  EXPECT(MODE_VS, do_hfence_gvma, C_VIRTUAL);
  csr_clear(mstatus, MS_TVM);
  // hstatus.VTVM/VTSR only affect VS-mode.
  csr_set(hstatus, HS_VTVM | HS_VTSR);
  EXPECT(MODE_HS, do_sfence, NONE);
  EXPECT(MODE_HS, rd_satp, NONE);
  EXPECT(MODE_HS, do_sret_vs, NONE);  // sret back to HS itself
  csr_clear(hstatus, HS_VTVM | HS_VTSR);

  // --- HFENCE / HINVAL / HLV / HLVX / HSV: 22 in VS and VU, 2 in U (HLV* and HSV* are allowed in U
  // when hstatus.HU=1; the fences never are) [H "Hypervisor Instructions"].
  {
    static u64 (*const hinsns[])(u64) = {do_hfence_vvma, do_hfence_gvma, do_hinval_vvma, do_hinval_gvma,
                                         do_hlv_w, do_hlvx_hu, do_hsv_w};
    for (unsigned i = 0; i < sizeof hinsns / sizeof hinsns[0]; i++) {
      EXPECT(MODE_HS, hinsns[i], NONE);
      EXPECT(MODE_VS, hinsns[i], C_VIRTUAL);
      EXPECT(MODE_VU, hinsns[i], C_VIRTUAL);
      EXPECT(MODE_U, hinsns[i], C_ILLEGAL);
      csr_set(hstatus, HS_HU);
      EXPECT(MODE_VS, hinsns[i], C_VIRTUAL);
      EXPECT(MODE_U, hinsns[i], i < 4 ? C_ILLEGAL : NONE);
      csr_clear(hstatus, HS_HU);
    }
    hlv_word = 0x1122334455667788ull;
    // With HU=1, U-mode HLV.D reads through the (Bare) guest translation.
    csr_set(hstatus, HS_HU);
    tr_reset();
    CKEQ(run_in(MODE_U, do_hlv_d, (u64)&hlv_word), 0x1122334455667788ull);
    EXPECT_NONE();
    csr_clear(hstatus, HS_HU);
  }

  // --- stimecmp / vstimecmp [Sstc; docs §1.3]: M-level gates (menvcfg.STCE, mcounteren.TM) -> 2;
  // hypervisor gates (henvcfg.STCE, hcounteren.TM) -> 22 in VS.
  {
    csr_write(menvcfg, ENV_STCE);
    csr_write(mcounteren, BIT(1));
    csr_write(hcounteren, BIT(1));
    csr_write(henvcfg, 0);
    EXPECT(MODE_HS, rd_stimecmp, NONE);
    EXPECT(MODE_HS, rd_vstimecmp, NONE);
    EXPECT(MODE_VS, rd_stimecmp, C_VIRTUAL);  // henvcfg.STCE=0
    EXPECT(MODE_VS, wr_stimecmp, C_VIRTUAL);
    csr_write(henvcfg, ENV_STCE);
    csr_write(hcounteren, 0);
    EXPECT(MODE_VS, rd_stimecmp, C_VIRTUAL);  // hcounteren.TM=0
    csr_write(hcounteren, BIT(1));
    // All enabled: VS reaches vstimecmp through the stimecmp number.
    csr_write(0x14d, ~0ull);
    csr_write(0x24d, ~0ull);
    EXPECT(MODE_VS, wr_stimecmp, NONE);
    CKEQ(csr_read(0x24d), ~0ull << 32);
    CKEQ(csr_read(0x14d), ~0ull);
    csr_write(0x24d, ~0ull);
    EXPECT(MODE_VS, rd_vstimecmp, C_VIRTUAL);  // VS CSR by its own number
    EXPECT(MODE_VU, rd_stimecmp, C_VIRTUAL);   // S CSR from VU, HS-qualified
    EXPECT(MODE_U, rd_stimecmp, C_ILLEGAL);
    // M-level gates give 2 even where the hypervisor gates are open.
    csr_write(mcounteren, 0);
    EXPECT(MODE_HS, rd_stimecmp, C_ILLEGAL);
    EXPECT(MODE_VS, rd_stimecmp, C_ILLEGAL);
    EXPECT(MODE_VS, rd_vstimecmp, C_ILLEGAL);
    EXPECT(MODE_VU, rd_stimecmp, C_ILLEGAL);
    csr_write(mcounteren, BIT(1));
    csr_write(menvcfg, 0);  // also forces henvcfg.STCE to read 0
    EXPECT(MODE_HS, rd_stimecmp, C_ILLEGAL);
    EXPECT(MODE_VS, rd_stimecmp, C_ILLEGAL);
    EXPECT(MODE_VS, rd_vstimecmp, C_ILLEGAL);
    EXPECT(MODE_VU, rd_stimecmp, C_ILLEGAL);
    csr_write(mcounteren, 0);
    csr_write(hcounteren, 0);
    csr_write(henvcfg, 0);
  }

  // --- FP with vsstatus.FS=Off in VS: always 2, never 22 [H "vsstatus"].
  csr_clear(vsstatus, MS_FS);
  EXPECT(MODE_VS, do_fadd, C_ILLEGAL);
  EXPECT(MODE_VU, do_fadd, C_ILLEGAL);
  csr_set(vsstatus, 1ull << 13);
  EXPECT(MODE_VS, do_fadd, NONE);
  // ... and with the HS-level FS (mstatus.FS) Off while vsstatus.FS is on: also 2.
  csr_clear(mstatus, MS_FS);
  EXPECT(MODE_VS, do_fadd, C_ILLEGAL);
  csr_set(mstatus, 1ull << 13);
  CKEQ(fails, 0);
  return 0;
}
