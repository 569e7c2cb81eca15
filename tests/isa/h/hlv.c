// HLV / HLVX / HSV from M, HS and U (hstatus.HU=1): two-stage translation as VS or VU chosen by
// hstatus.SPVP, sign/zero extension, HLVX needing execute (not read) permission at both stages,
// and the fault reports (taken from V=0: SPV=0 / MPV=0 but GVA=1, htval/mtval2 = GPA >> 2).
// Spec: H "Hypervisor Virtual-Machine Load and Store Instructions", "hstatus" (SPVP, HU, GVA),
// "Machine Status" (MPRV does not affect HLV/HSV); docs/h-extension.md §4.4, 2.5.
#include "h_env.h"

#define HV(text) ".option push\n.option norvc\n.option arch, +h\n" text "\n.option pop\n"
#define HLV_FN(name, insn)                                       \
  static u64 name(u64 va) {                                      \
    register u64 a0 asm("a0") = va;                              \
    asm volatile(HV(insn " a0, (a0)") : "+r"(a0)::"memory");     \
    return a0;                                                   \
  }
#define HSV_FN(name, insn)                                       \
  volatile u64 name##_val;                                       \
  static u64 name(u64 va) {                                      \
    register u64 a0 asm("a0") = va;                              \
    register u64 a1 asm("a1") = name##_val;                      \
    asm volatile(HV(insn " a1, (a0)")::"r"(a0), "r"(a1) : "memory"); \
    return 0;                                                    \
  }
HLV_FN(hlv_b, "hlv.b")
HLV_FN(hlv_bu, "hlv.bu")
HLV_FN(hlv_h, "hlv.h")
HLV_FN(hlv_hu, "hlv.hu")
HLV_FN(hlv_w, "hlv.w")
HLV_FN(hlv_wu, "hlv.wu")
HLV_FN(hlv_d, "hlv.d")
HLV_FN(hlvx_hu, "hlvx.hu")
HLV_FN(hlvx_wu, "hlvx.wu")
HSV_FN(hsv_b, "hsv.b")
HSV_FN(hsv_h, "hsv.h")
HSV_FN(hsv_w, "hsv.w")
HSV_FN(hsv_d, "hsv.d")

// M-mode with MPRV=1, MPP=U, MPV=0: ordinary loads would be U-mode accesses, but HLV ignores MPRV.
static u64 hlv_d_mprv(u64 va) {
  register u64 a0 asm("a0") = va;
  asm volatile(HV("li t0, 0x1800\ncsrc mstatus, t0\nli t0, 0x20000\ncsrs mstatus, t0\nhlv.d a0, (a0)\ncsrc mstatus, t0")
               : "+r"(a0)::"t0", "memory");
  return a0;
}

static void ok_val(int line, u64 mode, u64 (*fn)(u64), u64 va, u64 want) {
  tr_reset();
  u64 v = run_in(mode, fn, va);
  if (tr.count) h_bad(line, "unexpected trap, cause", tr.cause, 0);
  else if (v != want) h_bad(line, "value", v, want);
}
#define OK(mode, fn, va, want) ok_val(__LINE__, mode, fn, va, want)

// M-mode load/store with MPRV=1 and the given MPP/MPV: with MPV=1 the access is translated like a
// VS (MPP=1) or VU (MPP=0) access, through both stages [H "Machine Status", MPRV with MPV].
static u64 mprv_access(u64 va, u64 mpp, u64 store) {
  u64 bits = (mpp << 11) | MS_MPV;
  register u64 a0 asm("a0") = va;
  register u64 a1 asm("a1") = bits;
  register u64 a2 asm("a2") = store;
  asm volatile(
      ".option push\n.option norvc\n"
      "li t0, 0x1800\n"
      "csrc mstatus, t0\n"
      "li t0, 1\n"
      "slli t0, t0, 39\n"
      "csrc mstatus, t0\n"
      "csrs mstatus, a1\n"
      "li t0, 0x20000\n"
      "bnez a2, 1f\n"
      "csrs mstatus, t0\n"
      "ld a0, 0(a0)\n"
      "csrc mstatus, t0\n"
      "j 2f\n"
      "1: csrs mstatus, t0\n"
      "sd a2, 0(a0)\n"
      "csrc mstatus, t0\n"
      "2:\n"
      ".option pop\n"
      : "+r"(a0)
      : "r"(a1), "r"(a2)
      : "t0", "memory");
  return a0;
}

// HS: HLV of a U page with SPVP=0 (VU: allowed), then with SPVP=1 and vsstatus.SUM=0 (VS: fault),
// with no fence in between.
static u64 hs_spvp_toggle(u64 va) {
  csr_clear(hstatus, HS_SPVP);
  u64 v = hlv_d(va);
  csr_set(hstatus, HS_SPVP);
  hlv_d(va);
  return v;
}

// One trap from an HLV/HLVX/HSV executed with V=0 in `mode`.
static void hfault(int line, u64 mode, u64 (*fn)(u64), u64 gva, u64 level, u64 cause, u64 gpa) {
  tr_reset();
  run_in(mode, fn, gva);
  if (tr.count != 1) {
    h_bad(line, "trap count", tr.count, 1);
    return;
  }
  EQ("level", tr.level, level);
  EQ("cause", tr.cause, cause);
  EQ("tval", tr.tval, gva);
  EQ("tval2 (GPA>>2 or 0)", tr.tval2, gpa >> 2);
  // Transformed HLV/HSV = the instruction with rs1 replaced by the address offset (0); 0 is also allowed.
  if (tr.tinst != 0) EQ("tinst", tr.tinst, xform_amo(insn_at(tr.epc)));
  if (level == LVL_HS) {
    EQ("hstatus.GVA", !!(tr.hstatus & HS_GVA), 1);  // stval is a guest VA although V was 0
    EQ("hstatus.SPV", !!(tr.hstatus & HS_SPV), 0);
    EQ("sstatus.SPP", !!(tr.status & MS_SPP), mode == MODE_HS);
  } else {
    EQ("mstatus.GVA", !!(tr.status & MS_GVA), 1);
    EQ("mstatus.MPV", !!(tr.status & MS_MPV), 0);
    EQ("mstatus.MPP", MPP_OF(tr.status), mode & 3);
  }
}
#define HFAULT(mode, fn, gva, level, cause, gpa) hfault(__LINE__, mode, fn, gva, level, cause, gpa)

int main(void) {
  h_init();
  guest_setup(ATP_SV39, ATP_SV39);
  const u64 G_ALL = PTE_LEAF | PTE_RWX | PTE_U;
  // GVA_TEST + i*0x1000 -> GPA_TEST + i*0x1000 -> dpage(i), with these permissions:
  //  0: VS RW          G all        1: VS RW U=1     G all
  //  2: VS X           G X          3: VS R          G all
  //  4: VS RX          G R          5: VS RWX        G R
  //  6: VS RWX         G unmapped   7: VS X          G all
  static const u64 vsf[8] = {PTE_R | PTE_W, PTE_R | PTE_W | PTE_U, PTE_X, PTE_R, PTE_R | PTE_X, PTE_RWX, PTE_RWX, PTE_X};
  static const u64 gf[8] = {G_ALL, G_ALL, PTE_LEAF | PTE_X | PTE_U, G_ALL, PTE_LEAF | PTE_R | PTE_U,
                            PTE_LEAF | PTE_R | PTE_U, 0, G_ALL};
  for (unsigned i = 0; i < 8; i++) {
    vs_map(GVA_TEST + i * 0x1000, GPA_TEST + i * 0x1000, 0, PTE_LEAF | vsf[i]);
    if (gf[i]) g_map(GPA_TEST + i * 0x1000, dpage(i), 0, gf[i]);
    *(volatile u64*)dpage(i) = 0xF1E2D3C4B5A69788ull + i;
  }
  h_flush();
  const u64 P = 0xF1E2D3C4B5A69788ull;
  const u64 va0 = GVA_TEST, va1 = GVA_TEST + 0x1000, va2 = GVA_TEST + 0x2000, va3 = GVA_TEST + 0x3000;
  const u64 va4 = GVA_TEST + 0x4000, va5 = GVA_TEST + 0x5000, va6 = GVA_TEST + 0x6000, va7 = GVA_TEST + 0x7000;

  // ------------------------------------------------------------------------------------------
  // Widths and extension, from HS with SPVP=1 (VS permissions).
  h_what = "HLV widths";
  csr_set(hstatus, HS_SPVP);
  OK(MODE_HS, hlv_b, va0, 0xFFFFFFFFFFFFFF88ull);
  OK(MODE_HS, hlv_bu, va0, 0x88);
  OK(MODE_HS, hlv_h, va0, 0xFFFFFFFFFFFF9788ull);
  OK(MODE_HS, hlv_hu, va0, 0x9788);
  OK(MODE_HS, hlv_w, va0, 0xFFFFFFFFB5A69788ull);
  OK(MODE_HS, hlv_wu, va0, 0xB5A69788ull);
  OK(MODE_HS, hlv_d, va0, P);
  OK(MODE_HS, hlv_b, va0 + 7, 0xFFFFFFFFFFFFFFF1ull);
  OK(MODE_HS, hlv_d, va3, P + 3);
  h_what = "HSV widths";
  *(volatile u64*)dpage(0) = 0;
  hsv_b_val = 0x1234567890abcdefull;
  hsv_h_val = 0x1234567890abcdefull;
  hsv_w_val = 0x1234567890abcdefull;
  hsv_d_val = 0x0102030405060708ull;
  OK(MODE_HS, hsv_b, va0, 0);
  CKEQ(*(volatile u64*)dpage(0), 0xef);
  OK(MODE_HS, hsv_h, va0 + 2, 0);
  CKEQ(*(volatile u64*)dpage(0), 0xcdef00efull);
  OK(MODE_HS, hsv_w, va0 + 4, 0);
  CKEQ(*(volatile u64*)dpage(0), 0x90abcdefcdef00efull);
  OK(MODE_HS, hsv_d, va0 + 8, 0);
  CKEQ(*(volatile u64*)(dpage(0) + 8), 0x0102030405060708ull);
  *(volatile u64*)dpage(0) = P;
  // From M as well, with MPRV=1 (ignored by HLV), and from U with HU=1.
  OK(MODE_M, hlv_d, va0, P);
  OK(MODE_M, hlv_d_mprv, va0, P);
  csr_set(hstatus, HS_HU);
  OK(MODE_U, hlv_d, va0, P);
  OK(MODE_U, hsv_d, va0 + 16, 0);
  CKEQ(*(volatile u64*)(dpage(0) + 16), 0x0102030405060708ull);
  csr_clear(hstatus, HS_HU);

  // ------------------------------------------------------------------------------------------
  // SPVP selects the guest privilege: 1 = VS (U pages need vsstatus.SUM; HS SUM is irrelevant),
  // 0 = VU (only U pages). Faults are not delegated here: they go to M.
  h_what = "SPVP";
  csr_set(hstatus, HS_SPVP);
  csr_set(sstatus, MS_SUM);
  csr_clear(vsstatus, MS_SUM);
  HFAULT(MODE_HS, hlv_d, va1, LVL_M, C_LOAD_PF, 0);
  HFAULT(MODE_HS, hsv_d, va1, LVL_M, C_STORE_PF, 0);
  csr_clear(sstatus, MS_SUM);
  csr_set(vsstatus, MS_SUM);
  OK(MODE_HS, hlv_d, va1, P + 1);
  csr_clear(vsstatus, MS_SUM);
  csr_clear(hstatus, HS_SPVP);
  OK(MODE_HS, hlv_d, va1, P + 1);
  HFAULT(MODE_HS, hlv_d, va0, LVL_M, C_LOAD_PF, 0);
  csr_set(vsstatus, MS_SUM);  // SUM never opens supervisor pages to VU
  HFAULT(MODE_HS, hlv_d, va0, LVL_M, C_LOAD_PF, 0);
  csr_clear(vsstatus, MS_SUM);
  tr_reset();
  CKEQ(run_in(MODE_HS, hs_spvp_toggle, va1), P + 1);
  EXPECT_TRAP(LVL_M, C_LOAD_PF);
  CKEQ(tr.tval, va1);
  csr_clear(hstatus, HS_SPVP);
  // The same from U-mode with HU=1 (SPVP=0: VU permissions).
  csr_set(hstatus, HS_HU);
  OK(MODE_U, hlv_d, va1, P + 1);
  HFAULT(MODE_U, hlv_d, va0, LVL_M, C_LOAD_PF, 0);
  csr_clear(hstatus, HS_HU);

  // ------------------------------------------------------------------------------------------
  // HLVX: execute permission instead of read, at both stages; MXR irrelevant; faults are load faults.
  h_what = "HLVX";
  csr_set(hstatus, HS_SPVP);
  OK(MODE_HS, hlvx_hu, va2, 0x9788 + 2);        // X-only at both stages: HLVX reads it
  OK(MODE_HS, hlvx_wu, va2, 0xB5A69788ull + 2);  // zero-extended
  OK(MODE_HS, hlvx_wu, va7, 0xB5A69788ull + 7);
  HFAULT(MODE_HS, hlv_w, va7, LVL_M, C_LOAD_PF, 0);            // HLV needs R at the VS-stage
  HFAULT(MODE_HS, hlv_w, va2, LVL_M, C_LOAD_PF, 0);            // (VS-stage checked first)
  HFAULT(MODE_HS, hlvx_hu, va3, LVL_M, C_LOAD_PF, 0);          // VS R without X
  HFAULT(MODE_HS, hlvx_wu, va4, LVL_M, C_LOAD_GPF, GPA_TEST + 0x4000);  // G R without X: 21, not 20
  csr_set(vsstatus, MS_MXR);
  OK(MODE_HS, hlv_w, va7, 0xFFFFFFFFB5A69788ull + 7);  // vsstatus.MXR makes VS X-only readable
  HFAULT(MODE_HS, hlvx_hu, va3, LVL_M, C_LOAD_PF, 0);  // but never gives HLVX execute
  HFAULT(MODE_HS, hlv_w, va2, LVL_M, C_LOAD_GPF, GPA_TEST + 0x2000);  // and not at the G-stage
  csr_clear(vsstatus, MS_MXR);
  csr_set(sstatus, MS_MXR);
  OK(MODE_HS, hlv_w, va2, 0xFFFFFFFFB5A69788ull + 2);  // HS MXR: both stages
  HFAULT(MODE_HS, hlvx_hu, va4, LVL_M, C_LOAD_GPF, GPA_TEST + 0x4000);
  csr_clear(sstatus, MS_MXR);

  // ------------------------------------------------------------------------------------------
  // Guest-page faults from HLV/HSV: to M (not delegated) ...
  h_what = "HLV guest-page faults to M";
  HFAULT(MODE_HS, hlv_d, va6 + 8, LVL_M, C_LOAD_GPF, GPA_TEST + 0x6008);
  HFAULT(MODE_HS, hsv_w, va5 + 4, LVL_M, C_STORE_GPF, GPA_TEST + 0x5004);
  HFAULT(MODE_M, hlv_d, va6, LVL_M, C_LOAD_GPF, GPA_TEST + 0x6000);
  // ... and to HS when delegated: scause/stval/htval, hstatus.GVA=1 with SPV=0.
  h_what = "HLV faults to HS";
  csr_write(medeleg, BIT(C_LOAD_PF) | BIT(C_STORE_PF) | BIT(C_LOAD_GPF) | BIT(C_STORE_GPF));
  csr_set(hstatus, HS_SPV);  // the trap from V=0 must clear it
  HFAULT(MODE_HS, hlv_d, va6 + 8, LVL_HS, C_LOAD_GPF, GPA_TEST + 0x6008);
  HFAULT(MODE_HS, hsv_d, va5, LVL_HS, C_STORE_GPF, GPA_TEST + 0x5000);
  HFAULT(MODE_HS, hlvx_wu, va4, LVL_HS, C_LOAD_GPF, GPA_TEST + 0x4000);
  HFAULT(MODE_HS, hlv_d, va1, LVL_HS, C_LOAD_PF, 0);  // SPVP=1 and SUM=0
  CK(tr.hstatus & HS_SPVP);                            // SPVP not changed by a trap from V=0
  csr_set(hstatus, HS_HU);
  csr_clear(hstatus, HS_SPVP);
  *vs_pte(va6, 0) |= PTE_U;  // VU permissions: the VS-stage must pass to reach the G-stage fault
  h_flush();
  HFAULT(MODE_U, hlv_d, va6, LVL_HS, C_LOAD_GPF, GPA_TEST + 0x6000);
  HFAULT(MODE_U, hsv_d, va0, LVL_HS, C_STORE_PF, 0);
  CKEQ(tr.hstatus & HS_SPVP, 0);
  csr_write(medeleg, 0);
  csr_clear(hstatus, HS_HU);

  // ------------------------------------------------------------------------------------------
  // MPRV=1 with MPV=1 in M-mode: explicit accesses use two-stage translation; a fault is taken from
  // M (MPV=0, MPP=M) with GVA=1.
  h_what = "MPRV with MPV";
  {
    tr_reset();
    u64 v = mprv_access(va4, 1, 0);
    CKEQ(tr.count, 0);
    CKEQ(v, P + 4);
    v = mprv_access(va1, 0, 0);  // VU: U page
    CKEQ(tr.count, 0);
    CKEQ(v, P + 1);
    mprv_access(va0, 0, 0);  // VU: supervisor page
    int line = __LINE__;
    EQ("trap count", tr.count, 1);
    EQ("cause", tr.cause, C_LOAD_PF);
    EQ("mtval", tr.tval, va0);
    EQ("mstatus.GVA", !!(tr.status & MS_GVA), 1);
    EQ("mstatus.MPV", !!(tr.status & MS_MPV), 0);
    EQ("mstatus.MPP", MPP_OF(tr.status), 3);
    tr_reset();
    mprv_access(va5 + 8, 1, 0x99);  // G-stage read-only
    line = __LINE__;
    EQ("trap count", tr.count, 1);
    EQ("cause", tr.cause, C_STORE_GPF);
    EQ("mtval", tr.tval, va5 + 8);
    EQ("mtval2", tr.tval2, (GPA_TEST + 0x5008) >> 2);
    EQ("mstatus.GVA", !!(tr.status & MS_GVA), 1);
    EQ("mstatus.MPV", !!(tr.status & MS_MPV), 0);
    CKEQ(csr_read(mstatus) & MS_MPRV, 0);
  }

  // ------------------------------------------------------------------------------------------
  // With hgatp Bare and vsatp Bare, HLV accesses the address itself.
  h_what = "HLV with Bare stages";
  guest_setup(ATP_BARE, ATP_BARE);
  OK(MODE_HS, hlv_d, dpage(3), P + 3);

  CKEQ(h_fails, 0);
  return 0;
}
