// Trap entry, delegation and trap return with the H extension.
// Spec: H "Trap Entry", "hedeleg/hideleg", "hstatus", "Machine Status (mstatus)", "Trap Return";
// docs/h-extension.md sections 2.1-2.6.
#include "h_env.h"

static inline void ecall_plain(void) {
  register u64 a7 asm("a7") = 0;  // not MAGIC_EXIT: an ordinary ecall that the handler records
  asm volatile("ecall" : "+r"(a7)::"memory");
}

static u64 fn_inc(u64 a) { return a + 1; }
static u64 fn_ecall(u64 a) {
  ecall_plain();
  return a;
}
// An illegal instruction at every level below M: reading an M-level CSR.
static u64 fn_illegal(u64 a) {
  asm volatile(".option push\n.option norvc\ncsrr t0, mscratch\n.option pop" ::: "t0");
  return a;
}
static u64 fn_ebreak(u64 a) {
  asm volatile(".option push\n.option norvc\nebreak\n.option pop");
  return a;
}

// HS-mode: sret into fn_ecall at the mode chosen by sstatus.SPP/hstatus.SPV (set by the caller).
static u64 hs_sret_to_ecall(u64 a) { h_sret_enter(fn_ecall, a); }
// VS-mode: sret (V=1) into VU, running fn_ecall there.
static u64 vs_sret_to_vu(u64 a) {
  csr_clear(sstatus, MS_SPP | MS_SIE);  // vsstatus: return to VU, SIE will come from SPIE
  csr_set(sstatus, MS_SPIE);
  h_sret_enter(fn_ecall, a);
}

// M-level hook: turn an ecall from VS into a return to M-mode at the address held in t1.
static u64 hook_back_to_m(u64* f, u64 level, u64 cause) {
  if (level != LVL_M || cause != C_ECALL_VS) return 0;
  csr_set(mstatus, MS_MPP);
  csr_clear(mstatus, MS_MPV);
  return f[6];
}

static void check_m_ecall(u64 mode, u64 cause, u64 mpv, u64 mpp) {
  h_init();
  csr_set(mstatus, MS_GVA);  // must be cleared: ecall's mtval is not a guest virtual address
  csr_write(0x34b, 0x1234);  // mtval2 and mtinst must be written with 0 for an ecall
  csr_write(0x34a, 0x5678);
  tr_reset();
  CKEQ(run_in(mode, fn_ecall, 7), 7);
  EXPECT_TRAP(LVL_M, cause);
  CKEQ(!!(tr.status & MS_MPV), mpv);
  CKEQ(MPP_OF(tr.status), mpp);
  CKEQ(tr.status & MS_GVA, 0);
  CKEQ(tr.tval, 0);
  CKEQ(tr.tval2, 0);
  CKEQ(tr.tinst, 0);
  CKEQ(insn_at(tr.epc), 0x00000073);  // mepc = the ecall itself
}

int main(void) {
  h_init();

  // --- run_in itself: every mode can run code and come back.
  static const u64 modes[] = {MODE_U, MODE_HS, MODE_M, MODE_VU, MODE_VS};
  for (unsigned i = 0; i < 5; i++) {
    tr_reset();
    CKEQ(run_in(modes[i], fn_inc, 41), 42);
    EXPECT_NONE();
  }

  // --- ECALL causes and the M-mode trap state [H "Trap Cause Codes", "Machine Status"]:
  // VS -> 10, VU -> 8 (same as U), HS -> 9; MPV = old V, MPP = nominal privilege.
  check_m_ecall(MODE_VS, C_ECALL_VS, 1, 1);
  check_m_ecall(MODE_VU, C_ECALL_U, 1, 0);
  check_m_ecall(MODE_HS, C_ECALL_S, 0, 1);
  check_m_ecall(MODE_U, C_ECALL_U, 0, 0);

  // --- Not delegated: illegal instruction from VS goes to M with the instruction in mtval.
  h_init();
  csr_write(hedeleg, BIT(C_ILLEGAL));  // hedeleg alone does nothing: medeleg[2]=0 keeps it in M
  tr_reset();
  run_in(MODE_VS, fn_illegal, 0);
  EXPECT_TRAP(LVL_M, C_ILLEGAL);
  CKEQ(tr.tval, insn_at(tr.epc));
  CK(tr.status & MS_MPV);
  CKEQ(MPP_OF(tr.status), 1);
  CKEQ(tr.status & MS_GVA, 0);

  // --- Delegated with medeleg only: ECALL from VS goes to HS [H "Trap Entry"].
  h_init();
  csr_write(medeleg, BIT(C_ECALL_VS));
  CK(csr_read(medeleg) & BIT(C_ECALL_VS));  // medeleg[10] is writable with H
  csr_set(hstatus, HS_GVA);                 // must be cleared by a trap without a guest VA
  csr_write(htval, 0x1111);                 // htval is written with 0 for non-guest-page-fault traps
  csr_write(htinst, 0x2222);
  csr_write(vscause, 0x11);
  csr_write(vsepc, 0x4444);
  csr_set(sstatus, MS_SIE);  // HS SIE while in VS: saved into sstatus.SPIE on the HS trap
  csr_set(vsstatus, MS_SIE);
  tr_reset();
  CKEQ(run_in(MODE_VS, fn_ecall, 5), 5);
  EXPECT_TRAP(LVL_HS, C_ECALL_VS);
  CK(tr.hstatus & HS_SPV);
  CK(tr.hstatus & HS_SPVP);  // SPVP = SPP of the V=1 mode that trapped (VS -> 1)
  CKEQ(tr.hstatus & HS_GVA, 0);
  CK(tr.status & MS_SPP);
  CK(tr.status & MS_SPIE);
  CKEQ(tr.status & MS_SIE, 0);
  CKEQ(tr.tval, 0);
  CKEQ(tr.tval2, 0);
  CKEQ(tr.tinst, 0);
  CKEQ(insn_at(tr.epc), 0x00000073);
  // V=1 state is not touched by a trap into HS.
  CKEQ(csr_read(vscause), 0x11);
  CKEQ(csr_read(vsepc), 0x4444);
  CK(csr_read(vsstatus) & MS_SIE);

  // ECALL from VU delegated to HS: SPVP = 0, SPP = 0.
  h_init();
  csr_write(medeleg, BIT(C_ECALL_U));
  csr_set(hstatus, HS_SPVP);
  tr_reset();
  run_in(MODE_VU, fn_ecall, 0);
  EXPECT_TRAP(LVL_HS, C_ECALL_U);
  CK(tr.hstatus & HS_SPV);
  CKEQ(tr.hstatus & HS_SPVP, 0);
  CKEQ(tr.status & MS_SPP, 0);

  // ECALL from U (V=0) delegated to HS: SPV = 0 and SPVP keeps its value (only written when the
  // trap comes from V=1) [H "hstatus"].
  h_init();
  csr_write(medeleg, BIT(C_ECALL_U));
  csr_set(hstatus, HS_SPVP | HS_SPV);
  tr_reset();
  run_in(MODE_U, fn_ecall, 0);
  EXPECT_TRAP(LVL_HS, C_ECALL_U);
  CKEQ(tr.hstatus & HS_SPV, 0);
  CK(tr.hstatus & HS_SPVP);
  CKEQ(tr.status & MS_SPP, 0);
  // ... and an illegal instruction in HS delegated to HS leaves SPVP=0 alone as well.
  h_init();
  csr_write(medeleg, BIT(C_ILLEGAL));
  tr_reset();
  run_in(MODE_HS, fn_illegal, 0);
  EXPECT_TRAP(LVL_HS, C_ILLEGAL);
  CKEQ(tr.hstatus & (HS_SPV | HS_SPVP), 0);
  CK(tr.status & MS_SPP);
  CKEQ(tr.tval, insn_at(tr.epc));

  // --- ECALL from VS can never go to VS: hedeleg[10] is read-only zero.
  h_init();
  csr_write(medeleg, BIT(C_ECALL_VS));
  csr_write(hedeleg, BIT(C_ECALL_VS));
  CKEQ(csr_read(hedeleg) & BIT(C_ECALL_VS), 0);
  tr_reset();
  run_in(MODE_VS, fn_ecall, 0);
  EXPECT_TRAP(LVL_HS, C_ECALL_VS);

  // --- Delegated with medeleg and hedeleg: to VS [H "Trap Entry"]. V stays 1 (the VS handler
  // ran through vstvec), vsstatus.SPP/SPIE/SIE are updated, HS and M trap CSRs are untouched.
  h_init();
  csr_write(medeleg, BIT(C_ECALL_U) | BIT(C_ILLEGAL) | BIT(C_BREAKPOINT));
  csr_write(hedeleg, BIT(C_ECALL_U) | BIT(C_ILLEGAL) | BIT(C_BREAKPOINT));
  csr_write(scause, 0x33);
  csr_write(sepc, 0x5550);
  csr_write(stval, 0x6666);
  csr_set(vsstatus, MS_SIE | MS_SPP);
  tr_reset();
  CKEQ(run_in(MODE_VU, fn_ecall, 9), 9);
  EXPECT_TRAP(LVL_VS, C_ECALL_U);
  CKEQ(tr.status & MS_SPP, 0);  // came from VU
  CK(tr.status & MS_SPIE);      // old vsstatus.SIE
  CKEQ(tr.status & MS_SIE, 0);
  CKEQ(insn_at(tr.epc), 0x00000073);
  // (vscause/vsepc were overwritten since: run_in's own exit ecall from VU is delegated too.)
  CKEQ(csr_read(scause), 0x33);
  CKEQ(csr_read(sepc), 0x5550);
  CKEQ(csr_read(stval), 0x6666);
  CKEQ(csr_read(hstatus) & (HS_SPV | HS_SPVP | HS_GVA), 0);

  // Illegal instruction from VS delegated to VS: vstval = instruction, vsstatus.SPP = 1.
  csr_write(vsstatus, (1ull << 13));
  tr_reset();
  run_in(MODE_VS, fn_illegal, 0);
  EXPECT_TRAP(LVL_VS, C_ILLEGAL);
  CK(tr.status & MS_SPP);
  CKEQ(tr.status & MS_SPIE, 0);
  CKEQ(tr.tval, insn_at(tr.epc));
  CKEQ(csr_read(vstval), tr.tval);
  CKEQ(csr_read(vscause), C_ILLEGAL);
  CKEQ(csr_read(scause), 0x33);
  CKEQ(csr_read(stval), 0x6666);

  // Breakpoint from VU delegated to VS.
  tr_reset();
  run_in(MODE_VU, fn_ebreak, 0);
  EXPECT_TRAP(LVL_VS, C_BREAKPOINT);
  CKEQ(tr.status & MS_SPP, 0);
  CKEQ(insn_at(tr.epc), 0x00100073);

  // Vectored vstvec: exceptions still go to BASE (slot 0).
  csr_write(vstvec, (u64)h_vs_vtab | 1);
  tr_reset();
  run_in(MODE_VS, fn_illegal, 0);
  EXPECT_TRAP(LVL_VS, C_ILLEGAL);
  CKEQ(tr.vec, 1);
  // Vectored stvec likewise for an exception taken into HS.
  h_init();
  csr_write(medeleg, BIT(C_ILLEGAL));
  csr_write(stvec, (u64)h_hs_vtab | 1);
  tr_reset();
  run_in(MODE_VS, fn_illegal, 0);
  EXPECT_TRAP(LVL_HS, C_ILLEGAL);
  CKEQ(tr.vec, 1);

  // --- SRET from HS with hstatus.SPV=1 [H "Trap Return"]: SPP=1 -> VS, SPP=0 -> VU; SPV is
  // cleared, SPVP is left alone, SPP <- 0, SIE <- SPIE, SPIE <- 1.
  h_init();
  csr_set(hstatus, HS_SPV);
  csr_set(sstatus, MS_SPP | MS_SPIE);
  tr_reset();
  CKEQ(run_in(MODE_HS, hs_sret_to_ecall, 3), 3);
  EXPECT_TRAP(LVL_M, C_ECALL_VS);  // the ecall came from VS
  CK(tr.status & MS_MPV);
  CKEQ(MPP_OF(tr.status), 1);
  CKEQ(tr.hstatus & HS_SPV, 0);
  CKEQ(tr.hstatus & HS_SPVP, 0);
  CKEQ(tr.status & MS_SPP, 0);
  CK(tr.status & MS_SPIE);
  CK(tr.status & MS_SIE);

  h_init();
  csr_set(hstatus, HS_SPV | HS_SPVP);
  csr_clear(sstatus, MS_SPP);
  tr_reset();
  run_in(MODE_HS, hs_sret_to_ecall, 0);
  EXPECT_TRAP(LVL_M, C_ECALL_U);
  CK(tr.status & MS_MPV);  // VU
  CKEQ(MPP_OF(tr.status), 0);
  CKEQ(tr.hstatus & HS_SPV, 0);
  CK(tr.hstatus & HS_SPVP);

  // SPV=0, SPP=1: plain HS.
  h_init();
  csr_set(sstatus, MS_SPP);
  tr_reset();
  run_in(MODE_HS, hs_sret_to_ecall, 0);
  EXPECT_TRAP(LVL_M, C_ECALL_S);
  CKEQ(tr.status & MS_MPV, 0);

  // --- SRET in VS (V=1) returns to VU using vsstatus only; hstatus and HS sstatus are untouched.
  h_init();
  csr_set(hstatus, HS_SPVP);
  csr_set(sstatus, MS_SPP);
  tr_reset();
  run_in(MODE_VS, vs_sret_to_vu, 0);
  EXPECT_TRAP(LVL_M, C_ECALL_U);
  CK(tr.status & MS_MPV);
  CKEQ(MPP_OF(tr.status), 0);
  CK(tr.status & MS_SPP);  // HS sstatus.SPP untouched
  CK(tr.hstatus & HS_SPVP);
  CKEQ(tr.hstatus & HS_SPV, 0);
  {
    u64 vs = csr_read(vsstatus);
    CKEQ(vs & MS_SPP, 0);
    CK(vs & MS_SIE);   // from SPIE
    CK(vs & MS_SPIE);  // set to 1
  }

  // --- MRET with MPV=1 and MPP=M: MPV is ignored (stay in M) and cleared; MPP <- U.
  {
    h_init();
    csr_set(mstatus, MS_MPV | MS_MPP);
    u64 after;
    asm volatile(
        "la t0, 1f\n"
        "csrw mepc, t0\n"
        "mret\n"
        "1: csrr %0, mstatus\n"
        : "=r"(after)::"t0", "memory");
    CKEQ(after & MS_MPV, 0);
    CKEQ(MPP_OF(after), 0);
  }
  // MRET into VS clears MPRV (new mode below M): seen in the mstatus saved by the next trap. The
  // hook sends the ecall back to M at label 2.
  {
    h_init();
    csr_clear(mstatus, MS_MPP);
    csr_set(mstatus, (1ull << 11) | MS_MPV);
    tr_hook = hook_back_to_m;
    tr_reset();
    asm volatile(
        "la t0, 1f\n"
        "csrw mepc, t0\n"
        "la t1, 2f\n"
        "li t0, 1 << 17\n"
        "csrs mstatus, t0\n"  // MPRV=1 until the mret (no loads/stores in between)
        "mret\n"
        "1: li a7, 0\n"
        "ecall\n"
        "2:\n" ::: "t0", "t1", "a7", "memory");
    tr_hook = 0;
    EXPECT_TRAP(LVL_M, C_ECALL_VS);
    CK(tr.status & MS_MPV);
    CKEQ(tr.status & MS_MPRV, 0);
  }

  // --- SRET executed in M-mode also uses hstatus.SPV [H "Trap Return"]: SPV=1, SPP=1 -> VS.
  {
    h_init();
    csr_set(hstatus, HS_SPV);
    csr_set(sstatus, MS_SPP);
    csr_set(mstatus, MS_MPP | MS_MPRV);  // MPRV with MPP=M: no effect in M; SRET must clear it
    tr_hook = hook_back_to_m;
    tr_reset();
    asm volatile(
        "la t0, 1f\n"
        "csrw sepc, t0\n"
        "la t1, 2f\n"
        "sret\n"
        "1: li a7, 0\n"
        "ecall\n"
        "2:\n" ::: "t0", "t1", "a7", "memory");
    tr_hook = 0;
    EXPECT_TRAP(LVL_M, C_ECALL_VS);
    CK(tr.status & MS_MPV);
    CKEQ(MPP_OF(tr.status), 1);
    CKEQ(tr.status & MS_MPRV, 0);
    CKEQ(tr.hstatus & HS_SPV, 0);
  }

  // --- EBREAK from VS taken into M: mtval is 0 or the (guest virtual) pc; GVA says which.
  {
    h_init();
    tr_reset();
    run_in(MODE_VS, fn_ebreak, 0);
    EXPECT_TRAP(LVL_M, C_BREAKPOINT);
    if (tr.tval) {
      CKEQ(tr.tval, tr.epc);
      CK(tr.status & MS_GVA);
    } else {
      CKEQ(tr.status & MS_GVA, 0);
    }
  }
  return 0;
}
