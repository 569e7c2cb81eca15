// Guest-page faults (20 fetch, 21 load, 23 store/AMO) and what they report: xtval = GVA,
// htval/mtval2 = GPA >> 2, hstatus.GVA/mstatus.GVA = 1, htinst/mtinst = transformed instruction (or
// the 0x3000 pseudoinstruction for a fault on the implicit read of a VS-stage PTE), delegation to HS
// or M (never to VS), plus VS-stage page faults for contrast.
// For a guest-page fault of an explicit load/store/AMO the spec allows htinst = 0 or the transformed
// instruction; these tests require the transformed value (the hart's documented choice, and what
// KVM's MMIO emulation relies on). Where only page/access faults are involved, 0 is accepted too.
// Spec: H "Guest-Page Faults", "Guest Physical Address Translation", "Trap Entry",
// "Transformed Instruction or Pseudoinstruction for mtinst or htinst"; docs/h-extension.md §4.1-4.3, §5.
#include "h_env.h"

#define NR ".option push\n.option norvc\n"
#define NRE "\n.option pop\n"

// Explicit accesses with fixed registers. Each leaves its result in a0 (unchanged when it traps).
static u64 g_ld(u64 va) {
  register u64 a0 asm("a0") = va;
  register u64 a1 asm("a1") = va - 8;
  asm volatile(NR "ld a0, 8(a1)" NRE : "+r"(a0) : "r"(a1) : "memory");
  return a0;
}
static u64 g_lbu(u64 va) {
  register u64 a0 asm("a0") = va;
  register u64 a1 asm("a1") = va - 3;
  asm volatile(NR "lbu a0, 3(a1)" NRE : "+r"(a0) : "r"(a1) : "memory");
  return a0;
}
static u64 g_sd(u64 va) {
  register u64 a0 asm("a0") = 0x1234;
  register u64 a1 asm("a1") = va - 16;
  asm volatile(NR "sd a0, 16(a1)" NRE ::"r"(a0), "r"(a1) : "memory");
  return 0;
}
static u64 g_sh(u64 va) {
  register u64 a2 asm("a2") = 0x1234;
  register u64 a1 asm("a1") = va + 2;
  asm volatile(NR "sh a2, -2(a1)" NRE ::"r"(a2), "r"(a1) : "memory");
  return 0;
}
static u64 g_cld(u64 va) {
  register u64 a0 asm("a0") = va;
  register u64 a1 asm("a1") = va - 8;
  asm volatile(".option push\n.option rvc\nc.ld a0, 8(a1)\n.option pop" : "+r"(a0) : "r"(a1) : "memory");
  return a0;
}
static u64 g_csd(u64 va) {
  register u64 a0 asm("a0") = 0x55;
  register u64 a1 asm("a1") = va - 16;
  asm volatile(".option push\n.option rvc\nc.sd a0, 16(a1)\n.option pop" ::"r"(a0), "r"(a1) : "memory");
  return 0;
}
static u64 g_amoadd(u64 va) {
  register u64 a0 asm("a0") = 0;
  register u64 a1 asm("a1") = va;
  register u64 a2 asm("a2") = 1;
  asm volatile(NR "amoadd.d a0, a2, (a1)" NRE : "+r"(a0) : "r"(a1), "r"(a2) : "memory");
  return a0;
}
static u64 g_fetch(u64 va) {
  u64 r;
  asm volatile(
      "la t0, 1f\n"
      "la t1, tr_resume\n"
      "sd t0, 0(t1)\n"
      "mv a0, %1\n"
      "jalr ra, 0(a0)\n"
      "1: mv %0, a0\n"
      : "=r"(r)
      : "r"(va)
      : "t0", "t1", "ra", "a0", "memory");
  tr_resume = 0;
  return r;
}

static void deleg_to_hs(void) {
  csr_write(medeleg, BIT(C_INSN_GPF) | BIT(C_LOAD_GPF) | BIT(C_STORE_GPF) | BIT(C_LOAD_PF) |
                         BIT(C_STORE_PF) | BIT(C_INSN_PF));
  // hedeleg cannot send guest-page faults to VS (bits 20, 21, 23 are read-only zero).
  csr_write(hedeleg, ~0ull);
}

// Maps gva -> gpa at the VS-stage (4 KiB) unless it is Bare; returns the address the guest uses.
static u64 vs_4k(u64 gva, u64 gpa, u64 flags) {
  if (!vs_mode) return gpa;
  vs_map(gva, gpa, 0, PTE_LEAF | flags);
  return gva + (gpa & 0xfff);
}

int main(void) {
  // ------------------------------------------------------------------------------------------
  // Unmapped GPA, every G-stage mode x VS-stage Bare/Sv39/Sv48, delegated to HS.
  static const u64 gmodes[] = {ATP_SV39, ATP_SV48, ATP_SV57};
  static const u64 vmodes[] = {ATP_BARE, ATP_SV39, ATP_SV48};
  for (unsigned g = 0; g < 3; g++) {
    for (unsigned v = 0; v < 3; v++) {
      h_what = "unmapped GPA";
      h_init();
      deleg_to_hs();
      guest_setup(gmodes[g], vmodes[v]);
      // GPA_TEST+0x1000 is mapped, GPA_TEST+0x3000 and GPA_TEST+0x4000 are not.
      g_map(GPA_TEST + 0x1000, dpage(0), 0, PTE_LEAF | PTE_RWX | PTE_U);
      u64 gpa = GPA_TEST + 0x3000 + 0x28;
      u64 gva = vs_4k(GVA_TEST + 0x5000, gpa, PTE_RWX);
      u64 gpa_x = GPA_TEST + 0x4000;
      u64 gva_x = vs_4k(GVA_TEST + 0x6000, gpa_x, PTE_RWX);
      u64 gva_ok = vs_4k(GVA_TEST + 0x7000, GPA_TEST + 0x1000 + 0x30, PTE_RWX);
      h_flush();
      *(volatile u64*)(dpage(0) + 0x30) = 0xfeed;
      tr_reset();
      CKEQ(run_in(MODE_VS, g_ld, gva_ok), 0xfeed);
      EXPECT_NONE();
      GPF(MODE_VS, g_ld, gva, LVL_HS, C_LOAD_GPF, gpa, T_LOAD, 0);
      GPF(MODE_VS, g_lbu, gva + 1, LVL_HS, C_LOAD_GPF, gpa + 1, T_LOAD, 0);
      GPF(MODE_VS, g_sd, gva, LVL_HS, C_STORE_GPF, gpa, T_STORE, 0);
      GPF(MODE_VS, g_sh, gva + 2, LVL_HS, C_STORE_GPF, gpa + 2, T_STORE, 0);
      GPF(MODE_VS, g_amoadd, gva, LVL_HS, C_STORE_GPF, gpa, T_AMO, 0);  // AMO: store fault, never load
      // Compressed: the expanded instruction, transformed, with bit 1 cleared.
      GPF(MODE_VS, g_cld, gva, LVL_HS, C_LOAD_GPF, gpa, 0, 0x00003501);   // c.ld a0, 8(a1)
      GPF(MODE_VS, g_csd, gva, LVL_HS, C_STORE_GPF, gpa, 0, 0x00a03021);  // c.sd a0, 16(a1)
      // Fetch: htinst is 0 for an explicit instruction fetch.
      GPF(MODE_VS, g_fetch, gva_x, LVL_HS, C_INSN_GPF, gpa_x, 0, 0);
      // From VU (VS-stage leaves are not U pages here, so only the Bare VS-stage case applies).
      if (!vmodes[v]) GPF(MODE_VU, g_ld, gva, LVL_HS, C_LOAD_GPF, gpa, T_LOAD, 0);
      // Not delegated: M-mode, with mtval2/mtinst.
      csr_write(medeleg, 0);
      GPF(MODE_VS, g_ld, gva, LVL_M, C_LOAD_GPF, gpa, T_LOAD, 0);
      GPF(MODE_VS, g_sd, gva, LVL_M, C_STORE_GPF, gpa, T_STORE, 0);
      GPF(MODE_VS, g_fetch, gva_x, LVL_M, C_INSN_GPF, gpa_x, 0, 0);
      if (!vmodes[v]) GPF(MODE_VU, g_sd, gva, LVL_M, C_STORE_GPF, gpa, T_STORE, 0);
    }
  }

  // ------------------------------------------------------------------------------------------
  // G-stage permissions [H "Guest Physical Address Translation"]: every leaf needs U=1; a store
  // needs W; a load needs R (X is not enough without HS sstatus.MXR).
  h_what = "G-stage permissions";
  h_init();
  deleg_to_hs();
  guest_setup(ATP_SV39, ATP_SV39);
  g_map(GPA_TEST + 0x1000, dpage(1), 0, PTE_LEAF | PTE_RWX);            // U=0
  g_map(GPA_TEST + 0x2000, dpage(2), 0, PTE_LEAF | PTE_R | PTE_U);      // read-only
  g_map(GPA_TEST + 0x3000, dpage(3), 0, PTE_LEAF | PTE_X | PTE_U);      // execute-only
  u64 va_nou = vs_4k(GVA_TEST + 0x1000, GPA_TEST + 0x1000, PTE_RWX);
  u64 va_ro = vs_4k(GVA_TEST + 0x2000, GPA_TEST + 0x2000, PTE_RWX);
  u64 va_xo = vs_4k(GVA_TEST + 0x3000, GPA_TEST + 0x3000, PTE_RWX);
  h_flush();
  GPF(MODE_VS, g_ld, va_nou + 0x10, LVL_HS, C_LOAD_GPF, GPA_TEST + 0x1010, T_LOAD, 0);
  GPF(MODE_VS, g_sd, va_nou + 0x10, LVL_HS, C_STORE_GPF, GPA_TEST + 0x1010, T_STORE, 0);
  GPF(MODE_VS, g_sd, va_ro + 0x18, LVL_HS, C_STORE_GPF, GPA_TEST + 0x2018, T_STORE, 0);
  GPF(MODE_VS, g_amoadd, va_ro + 0x18, LVL_HS, C_STORE_GPF, GPA_TEST + 0x2018, T_AMO, 0);
  GPF(MODE_VS, g_ld, va_xo + 0x20, LVL_HS, C_LOAD_GPF, GPA_TEST + 0x3020, T_LOAD, 0);
  GPF(MODE_VS, g_fetch, va_ro + 0x40, LVL_HS, C_INSN_GPF, GPA_TEST + 0x2040, 0, 0);  // fetch needs X
  *(volatile u64*)(dpage(2) + 0x18) = 0xabc;
  tr_reset();
  CKEQ(run_in(MODE_VS, g_ld, va_ro + 0x18), 0xabc);  // reads are fine
  EXPECT_NONE();
  CKEQ(*(volatile u64*)(dpage(2) + 0x18), 0xabc);   // and the faulting store/AMO changed nothing

  // ------------------------------------------------------------------------------------------
  // GPA bits above the G-stage width must be zero, not a sign extension [H "Guest Physical
  // Address Translation"]: guest-page fault with htval = GPA >> 2.
  h_what = "GPA too wide";
  for (unsigned g = 0; g < 3; g++) {
    h_init();
    deleg_to_hs();
    guest_setup(gmodes[g], ATP_BARE);
    u64 width = gmodes[g] == ATP_SV39 ? 41 : gmodes[g] == ATP_SV48 ? 50 : 59;
    u64 bad1 = (1ull << width) | 0x100;
    u64 bad2 = ~0ull << 12 | 0x80;  // all high bits set, like a sign-extended address
    g_map(GPA_TEST, dpage(4), 0, PTE_LEAF | PTE_RWX | PTE_U);  // GPA_TEST itself is fine
    h_flush();
    GPF(MODE_VS, g_ld, bad1, LVL_HS, C_LOAD_GPF, bad1, T_LOAD, 0);
    GPF(MODE_VS, g_sd, bad2, LVL_HS, C_STORE_GPF, bad2, T_STORE, 0);
    // The same bit through a VS-stage leaf (GPA = 2^41 from an Sv39 PTE).
    if (gmodes[g] == ATP_SV39) {
      vs_mode = ATP_SV39;
      vs_root = pt_alloc(1);
      vs_map(RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX);
      vs_map(GVA_TEST, 1ull << 41, 0, PTE_LEAF | PTE_RWX);
      csr_write(vsatp, vsatp_val(0));
      h_flush();
      GPF(MODE_VS, g_ld, GVA_TEST + 0x40, LVL_HS, C_LOAD_GPF, (1ull << 41) + 0x40, T_LOAD, 0);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Fault on the implicit read of a VS-stage PTE [H "Guest-Page Faults", "tinst-vals"]: the cause
  // follows the original access (fetch 20, load 21, store 23), xtval = the original GVA,
  // htval = GPA of the PTE >> 2, htinst = 0x00003000 (required when htval is nonzero).
  h_what = "VS PTE not mapped in G-stage";
  for (int deleg = 1; deleg >= 0; deleg--) {
    h_init();
    if (deleg) deleg_to_hs();
    guest_setup(ATP_SV39, ATP_SV39);
    // GVA 0xC0000000 (root index 3) -> level-1 table at GPA_TEST+0x20000, which the G-stage
    // does not map; GVA 0x100000000 (root index 4) -> level-1 table at GPA_TEST+0x21000, mapped
    // execute-only in the G-stage (a PTE read needs R).
    u64 t1_gpa = GPA_TEST + 0x20000, t2_gpa = GPA_TEST + 0x21000;
    vs_root[3] = pte_table(t1_gpa);
    vs_root[4] = pte_table(t2_gpa);
    g_map(t2_gpa, (u64)pt_alloc(1), 0, PTE_LEAF | PTE_X | PTE_U);
    h_flush();
    u64 lvl = deleg ? LVL_HS : LVL_M;
    u64 gva = 0xC0000000ull + (5ull << 21) + 0x123 * 8;  // level-1 index 5
    u64 pte_gpa = t1_gpa + 5 * 8;
    GPF(MODE_VS, g_ld, gva, lvl, C_LOAD_GPF, pte_gpa, 0, 0x00003000);
    GPF(MODE_VS, g_sd, gva, lvl, C_STORE_GPF, pte_gpa, 0, 0x00003000);
    GPF(MODE_VS, g_amoadd, gva, lvl, C_STORE_GPF, pte_gpa, 0, 0x00003000);
    GPF(MODE_VS, g_fetch, gva, lvl, C_INSN_GPF, pte_gpa, 0, 0x00003000);
    gva = 0x100000000ull + (7ull << 21) + 0x40;
    pte_gpa = t2_gpa + 7 * 8;
    GPF(MODE_VS, g_ld, gva, lvl, C_LOAD_GPF, pte_gpa, 0, 0x00003000);
    GPF(MODE_VS, g_sd, gva, lvl, C_STORE_GPF, pte_gpa, 0, 0x00003000);
  }

  // ------------------------------------------------------------------------------------------
  // VS-stage page faults are ordinary page faults (13/15/12) with a guest VA: to HS (medeleg
  // only) with hstatus.GVA=1 and htval=0, or to VS (medeleg+hedeleg) leaving HS state alone.
  h_what = "VS-stage page fault";
  h_init();
  guest_setup(ATP_SV39, ATP_SV39);
  g_map(GPA_TEST, dpage(5), 0, PTE_LEAF | PTE_RWX | PTE_U);
  vs_map(GVA_TEST, GPA_TEST, 0, PTE_LEAF | PTE_R);  // read-only at the VS-stage
  h_flush();
  csr_write(medeleg, BIT(C_LOAD_PF) | BIT(C_STORE_PF) | BIT(C_INSN_PF));
  GPF(MODE_VS, g_ld, GVA_TEST + 0x1008, LVL_HS, C_LOAD_PF, 0, T_LOAD | T_OR0, 0);  // not mapped
  GPF(MODE_VS, g_sd, GVA_TEST + 0x8, LVL_HS, C_STORE_PF, 0, T_STORE | T_OR0, 0);  // not writable
  // Not sign-extended GVA (bit 39 set, bits 63:40 clear): page fault, not guest-page fault.
  GPF(MODE_VS, g_ld, 1ull << 39, LVL_HS, C_LOAD_PF, 0, T_LOAD | T_OR0, 0);
  csr_write(hedeleg, BIT(C_LOAD_PF) | BIT(C_STORE_PF));
  csr_write(scause, 0x77);
  csr_write(stval, 0x78);
  csr_write(htval, 0x79);
  tr_reset();
  run_in(MODE_VS, g_sd, GVA_TEST + 0x10);
  EXPECT_TRAP(LVL_VS, C_STORE_PF);
  CKEQ(tr.tval, GVA_TEST + 0x10);
  CK(tr.status & MS_SPP);
  CKEQ(csr_read(vstval), GVA_TEST + 0x10);
  CKEQ(csr_read(vscause), C_STORE_PF);
  CKEQ(csr_read(scause), 0x77);
  CKEQ(csr_read(stval), 0x78);
  CKEQ(csr_read(htval), 0x79);

  // ------------------------------------------------------------------------------------------
  // A 32-bit instruction straddling two guest pages whose second half is not mapped in the
  // G-stage (or the VS-stage): xepc = start of the instruction, xtval = the address of the part
  // that faulted (the page boundary), htval = that part's GPA >> 2 [M "mtval"; H "htval"].
  h_what = "straddling fetch";
  for (u64 vm = ATP_BARE; vm <= ATP_SV39; vm += ATP_SV39) {
    h_init();
    deleg_to_hs();
    guest_setup(ATP_SV39, vm);
    // The code: "addi a0, a0, 1" whose first half is the last halfword of page 1.
    volatile unsigned short* code = (volatile unsigned short*)(dpage(8) + 0xffe);
    code[0] = 0x0513;
    *(volatile unsigned short*)dpage(9) = 0x0015;
    asm volatile("fence.i" ::: "memory");
    g_map(GPA_TEST + 0x1000, dpage(8), 0, PTE_LEAF | PTE_R | PTE_X | PTE_U);
    u64 va = GPA_TEST + 0x1ffe, next_gpa = GPA_TEST + 0x2000;  // GPA_TEST+0x2000 unmapped
    if (vm) {
      vs_map(GVA_TEST + 0x1000, GPA_TEST + 0x1000, 0, PTE_LEAF | PTE_R | PTE_X);
      vs_map(GVA_TEST + 0x2000, GPA_TEST + 0x5000, 0, PTE_LEAF | PTE_R | PTE_X);
      va = GVA_TEST + 0x1ffe;
      next_gpa = GPA_TEST + 0x5000;
    }
    h_flush();
    tr_reset();
    run_in(MODE_VS, g_fetch, va);
    if (tr.count != 1) {
      h_bad(__LINE__, "trap count", tr.count, 1);
    } else {
      int line = __LINE__;
      EQ("cause", tr.cause, C_INSN_GPF);
      EQ("sepc", tr.epc, va);
      EQ("stval", tr.tval, va + 2);
      EQ("htval", tr.tval2, next_gpa >> 2);
      EQ("htinst", tr.tinst, 0);
      EQ("hstatus.GVA", !!(tr.hstatus & HS_GVA), 1);
    }
    if (vm) {
      // The same with the second page missing at the VS-stage: instruction page fault.
      *vs_pte(GVA_TEST + 0x2000, 0) = 0;
      h_flush();
      tr_reset();
      run_in(MODE_VS, g_fetch, va);
      int line = __LINE__;
      EQ("trap count", tr.count, 1);
      EQ("cause", tr.cause, C_INSN_PF);
      EQ("sepc", tr.epc, va);
      EQ("stval", tr.tval, va + 2);
      EQ("htval", tr.tval2, 0);
    }
  }

  // ------------------------------------------------------------------------------------------
  // A misaligned load straddling into an unmapped guest page. The hart may raise a misaligned
  // exception instead (allowed); if it performs the access, the guest-page fault reports the
  // faulting part: stval = page boundary, htval = its GPA >> 2, and the transformed instruction's
  // Addr Offset field (bits 19:15) = stval - original address = 4.
  h_what = "misaligned straddling load";
  {
    h_init();
    deleg_to_hs();
    csr_set(medeleg, BIT(C_LOAD_MISALIGNED));
    guest_setup(ATP_SV39, ATP_BARE);
    g_map(GPA_TEST + 0x1000, dpage(10), 0, PTE_LEAF | PTE_RWX | PTE_U);
    h_flush();
    u64 va = GPA_TEST + 0x1ffc;
    tr_reset();
    run_in(MODE_VS, g_ld, va);
    int line = __LINE__;
    EQ("trap count", tr.count, 1);
    if (tr.cause == C_LOAD_MISALIGNED) {
      EQ("stval", tr.tval, va);
    } else {
      EQ("cause", tr.cause, C_LOAD_GPF);
      EQ("stval", tr.tval, GPA_TEST + 0x2000);
      EQ("htval", tr.tval2, (GPA_TEST + 0x2000) >> 2);
      EQ("htinst", tr.tinst, xform_load(insn_at(tr.epc)) | (4u << 15));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Access faults under two-stage translation (a host-physical hole, 0x40000000, that no device
  // claims): cause 5/7 (1 for fetch), xtval = GVA and GVA=1, htval = 0 — also when the failing
  // access is the implicit read of a VS-stage PTE (cause follows the original access).
  h_what = "access faults";
  {
    h_init();
    csr_write(medeleg, BIT(C_LOAD_ACCESS) | BIT(C_STORE_ACCESS) | BIT(C_INSN_ACCESS));
    guest_setup(ATP_SV39, ATP_SV39);
    g_map(GPA_TEST + 0x3000, 0x40000000ull, 0, PTE_LEAF | PTE_RWX | PTE_U);
    vs_map(GVA_TEST + 0x3000, GPA_TEST + 0x3000, 0, PTE_LEAF | PTE_RWX);
    vs_root[5] = pte_table(GPA_TEST + 0x22000);  // GVA 0x140000000.. : level-1 table in the hole
    g_map(GPA_TEST + 0x22000, 0x40001000ull, 0, PTE_LEAF | PTE_RWX | PTE_U);
    h_flush();
    GPF(MODE_VS, g_ld, GVA_TEST + 0x3010, LVL_HS, C_LOAD_ACCESS, 0, T_LOAD | T_OR0, 0);
    GPF(MODE_VS, g_sd, GVA_TEST + 0x3010, LVL_HS, C_STORE_ACCESS, 0, T_STORE | T_OR0, 0);
    GPF(MODE_VS, g_fetch, GVA_TEST + 0x3000, LVL_HS, C_INSN_ACCESS, 0, 0, 0);
    GPF(MODE_VS, g_ld, 0x140000000ull + 0x28, LVL_HS, C_LOAD_ACCESS, 0, T_LOAD | T_OR0, 0);
    GPF(MODE_VS, g_sd, 0x140000000ull + 0x28, LVL_HS, C_STORE_ACCESS, 0, T_STORE | T_OR0, 0);
  }

  CKEQ(h_fails, 0);
  return 0;
}
