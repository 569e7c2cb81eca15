// VS-stage permission controls and accessed/dirty bits under two-stage translation.
//  - SUM at the VS-stage is vsstatus.SUM (HS sstatus.SUM does not apply); VS never fetches from U pages.
//  - MXR: vsstatus.MXR applies to the VS-stage only; HS sstatus.MXR applies to both stages.
//  - A/D: henvcfg.ADUE governs the VS-stage, menvcfg.ADUE the G-stage (Svade: fault; Svadu: hardware
//    update). A hardware A/D update of a VS PTE is a G-stage *store* (0x3020 pseudoinstruction).
// Spec: H "Two-Stage Address Translation", "vsstatus", "henvcfg"; Svadu; docs/h-extension.md §4.1,
// 4.2, 6.1, pitfalls 9 and 12.
#include "h_env.h"

#define NR ".option push\n.option norvc\n"
#define NRE "\n.option pop\n"

static u64 g_ld(u64 va) {
  register u64 a0 asm("a0") = va;
  asm volatile(NR "ld a0, 0(a0)" NRE : "+r"(a0)::"memory");
  return a0;
}
static u64 g_sd(u64 va) {
  register u64 a0 asm("a0") = va;
  register u64 a1 asm("a1") = 0x5d5d;
  asm volatile(NR "sd a1, 0(a0)" NRE ::"r"(a0), "r"(a1) : "memory");
  return 0;
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

// In VS: one access with vsstatus.<bit> set (must succeed), then the same access with it clear (must
// fault, handled by the guest itself). No fence in between: SUM/MXR changes take effect at once.
volatile u64 toggle_bit;
static u64 guest_toggle(u64 va) {
  csr_set(sstatus, toggle_bit);
  u64 v = g_ld(va);
  csr_clear(sstatus, toggle_bit);
  g_ld(va);
  return v;
}

#define PF(fn, gva, cause, gpa, kind, tinst) \
  expect_fault(__LINE__, MODE_VS, fn, gva, LVL_HS, cause, (gpa) >> 2, kind, tinst)

static void ok_load(int line, u64 gva, u64 want) {
  tr_reset();
  u64 v = run_in(MODE_VS, g_ld, gva);
  if (tr.count) h_bad(line, "unexpected trap, cause", tr.cause, 0);
  else if (v != want) h_bad(line, "loaded value", v, want);
}
static void ok_store(int line, u64 gva, u64 spa) {
  *(volatile u64*)spa = 0;
  tr_reset();
  run_in(MODE_VS, g_sd, gva);
  if (tr.count) h_bad(line, "unexpected trap, cause", tr.cause, 0);
  else if (*(volatile u64*)spa != 0x5d5d) h_bad(line, "stored value", *(volatile u64*)spa, 0x5d5d);
}
#define OK_LOAD(gva, want) ok_load(__LINE__, gva, want)
#define OK_STORE(gva, spa) ok_store(__LINE__, gva, spa)

static void set_mxr(u64 vs, u64 hs) {
  csr_clear(vsstatus, MS_MXR);
  csr_clear(sstatus, MS_MXR);
  if (vs) csr_set(vsstatus, MS_MXR);
  if (hs) csr_set(sstatus, MS_MXR);
}

int main(void) {
  h_init();
  // All faults of interest go to HS, where htval/htinst are visible.
  csr_write(medeleg, BIT(C_INSN_PF) | BIT(C_LOAD_PF) | BIT(C_STORE_PF) | BIT(C_INSN_GPF) | BIT(C_LOAD_GPF) |
                         BIT(C_STORE_GPF));
  guest_setup(ATP_SV39, ATP_SV39);
  const u64 G_ALL = PTE_LEAF | PTE_RWX | PTE_U;
  for (unsigned i = 0; i < 8; i++) {
    *(volatile u64*)dpage(i) = 0x1000 + i;
  }
  // page 0: VS U=1 RW        page 1: VS X-only, G RWX      page 2: VS R, G X-only
  g_map(GPA_TEST + 0x0000, dpage(0), 0, G_ALL);
  vs_map(GVA_TEST + 0x0000, GPA_TEST + 0x0000, 0, PTE_LEAF | PTE_R | PTE_W | PTE_U);
  g_map(GPA_TEST + 0x1000, dpage(1), 0, G_ALL);
  vs_map(GVA_TEST + 0x1000, GPA_TEST + 0x1000, 0, PTE_LEAF | PTE_X);
  g_map(GPA_TEST + 0x2000, dpage(2), 0, PTE_LEAF | PTE_X | PTE_U);
  vs_map(GVA_TEST + 0x2000, GPA_TEST + 0x2000, 0, PTE_LEAF | PTE_R);
  // page 8: the code page as a VS U=1 page (R, X)
  g_map(GPA_TEST + 0x8000, (u64)h_code_page, 0, G_ALL);
  vs_map(GVA_TEST + 0x8000, GPA_TEST + 0x8000, 0, PTE_LEAF | PTE_R | PTE_X | PTE_U);
  h_flush();

  // ------------------------------------------------------------------------------------------
  // SUM [H "vsstatus"]: in VS, U pages are accessible only with vsstatus.SUM=1.
  h_what = "SUM";
  csr_set(sstatus, MS_SUM);  // HS SUM must not matter
  csr_clear(vsstatus, MS_SUM);
  PF(g_ld, GVA_TEST + 0x8, C_LOAD_PF, 0, T_LOAD | T_OR0, 0);
  PF(g_sd, GVA_TEST + 0x8, C_STORE_PF, 0, T_STORE | T_OR0, 0);
  csr_clear(sstatus, MS_SUM);
  csr_set(vsstatus, MS_SUM);
  OK_LOAD(GVA_TEST, 0x1000);
  OK_STORE(GVA_TEST + 0x10, dpage(0) + 0x10);
  // Fetching from a U page in VS-mode faults even with SUM=1; without the U bit it would run.
  PF(g_fetch, GVA_TEST + 0x8000, C_INSN_PF, 0, 0, 0);
  csr_clear(vsstatus, MS_SUM);

  // SUM and MXR changed by the guest with no fence, faults delegated to the guest.
  h_what = "SUM/MXR toggled in VS";
  csr_set(hedeleg, BIT(C_LOAD_PF));
  {
    static const u64 bits[2] = {MS_SUM, MS_MXR};
    static const u64 pages[2] = {0, 0x1000};
    for (int k = 0; k < 2; k++) {
      toggle_bit = bits[k];
      for (int round = 0; round < 2; round++) {
        tr_reset();
        u64 v = run_in(MODE_VS, guest_toggle, GVA_TEST + pages[k]);
        CKEQ(v, 0x1000 + k);
        CKEQ(tr.count, 1);
        CKEQ(tr.level, LVL_VS);
        CKEQ(tr.cause, C_LOAD_PF);
        CKEQ(tr.tval, GVA_TEST + pages[k]);
      }
    }
  }
  csr_clear(hedeleg, BIT(C_LOAD_PF));

  // ------------------------------------------------------------------------------------------
  // MXR: VS-stage X-only page (page 1).
  h_what = "MXR, VS-stage X-only";
  set_mxr(0, 0);
  PF(g_ld, GVA_TEST + 0x1000, C_LOAD_PF, 0, T_LOAD | T_OR0, 0);
  set_mxr(1, 0);
  OK_LOAD(GVA_TEST + 0x1000, 0x1001);
  set_mxr(0, 1);  // HS MXR also applies to the VS-stage
  OK_LOAD(GVA_TEST + 0x1000, 0x1001);
  // G-stage X-only page (page 2): only HS sstatus.MXR makes it readable.
  h_what = "MXR, G-stage X-only";
  set_mxr(0, 0);
  PF(g_ld, GVA_TEST + 0x2000, C_LOAD_GPF, GPA_TEST + 0x2000, T_LOAD, 0);
  set_mxr(1, 0);
  PF(g_ld, GVA_TEST + 0x2000, C_LOAD_GPF, GPA_TEST + 0x2000, T_LOAD, 0);
  set_mxr(0, 1);
  OK_LOAD(GVA_TEST + 0x2000, 0x1002);
  set_mxr(0, 0);

  // ------------------------------------------------------------------------------------------
  // A/D bits. page 3: VS A=0   page 4: VS A=1 D=0   page 5: G A=0   page 6: G A=1 D=0
  u64* vs3 = vs_pte(GVA_TEST + 0x3000, 0);
  u64* vs4 = vs_pte(GVA_TEST + 0x4000, 0);
  u64* g5 = g_pte(GPA_TEST + 0x5000, 0);
  u64* g6 = g_pte(GPA_TEST + 0x6000, 0);
  // A VS leaf with A=0 inside a level-0 table that the G-stage maps read-only: GVA 0xC0000000.
  u64 t0_gpa = GPA_TEST + 0x21000;
  u64* t0 = pt_alloc(1);
  u64* t1 = pt_alloc(1);
  vs_root[3] = pte_table((u64)t1);
  t1[0] = pte_table(t0_gpa);
  g_map(t0_gpa, (u64)t0, 0, PTE_LEAF | PTE_R | PTE_U);
  g_map(GPA_TEST + 0x7000, dpage(7), 0, G_ALL);
  const u64 RW = PTE_V | PTE_R | PTE_W;
  const u64 GRW = PTE_V | PTE_R | PTE_W | PTE_U;
  for (int adue = 0; adue < 4; adue++) {
    // adue bit 0: henvcfg.ADUE (VS-stage), bit 1: menvcfg.ADUE (G-stage).
    u64 want_m = adue & 2 ? ENV_ADUE : 0, want_h = adue & 1 ? ENV_ADUE : 0;
    csr_write(menvcfg, want_m | (want_h ? ENV_ADUE : 0));
    csr_write(henvcfg, want_h);
    if ((csr_read(menvcfg) & ENV_ADUE) != (want_m | want_h) || (csr_read(henvcfg) & ENV_ADUE) != want_h) {
      if (adue == 0) CK(0);  // ADUE=0 must always be possible
      puts_("Svadu not implemented: skipping hardware A/D updates\n");
      break;
    }
    // henvcfg.ADUE=1 requires menvcfg.ADUE=1 (otherwise it reads 0), so "VS on, G off" is not a
    // configuration: skip it.
    if (adue == 1) continue;
    u64 vs_hw = adue & 1, g_hw = (adue & 2) != 0;
    *vs3 = pte_leaf(GPA_TEST + 0x3000, RW);
    *vs4 = pte_leaf(GPA_TEST + 0x4000, RW | PTE_A);
    *g5 = pte_leaf(dpage(5), GRW);
    *g6 = pte_leaf(dpage(6), GRW | PTE_A);
    g_map(GPA_TEST + 0x3000, dpage(3), 0, G_ALL);
    g_map(GPA_TEST + 0x4000, dpage(4), 0, G_ALL);
    vs_map(GVA_TEST + 0x5000, GPA_TEST + 0x5000, 0, PTE_LEAF | PTE_R | PTE_W);
    vs_map(GVA_TEST + 0x6000, GPA_TEST + 0x6000, 0, PTE_LEAF | PTE_R | PTE_W);
    t0[0] = pte_leaf(GPA_TEST + 0x7000, RW);
    h_flush();
    h_what = adue == 0 ? "A/D, menvcfg.ADUE=0 henvcfg.ADUE=0" : adue == 2 ? "A/D, menvcfg.ADUE=1 henvcfg.ADUE=0"
                                                                           : "A/D, both ADUE=1";
    // VS-stage A=0 / D=0.
    if (!vs_hw) {
      PF(g_ld, GVA_TEST + 0x3000, C_LOAD_PF, 0, T_LOAD | T_OR0, 0);
      PF(g_sd, GVA_TEST + 0x4000, C_STORE_PF, 0, T_STORE | T_OR0, 0);
      CKEQ(*vs3 & (PTE_A | PTE_D), 0);
      CKEQ(*vs4 & PTE_D, 0);
    } else {
      OK_LOAD(GVA_TEST + 0x3000, 0x1003);
      CKEQ(*vs3 & (PTE_A | PTE_D), PTE_A);  // a load sets A only
      OK_STORE(GVA_TEST + 0x4008, dpage(4) + 8);
      CKEQ(*vs4 & (PTE_A | PTE_D), PTE_A | PTE_D);
    }
    // G-stage A=0 / D=0.
    if (!g_hw) {
      PF(g_ld, GVA_TEST + 0x5000, C_LOAD_GPF, GPA_TEST + 0x5000, T_LOAD, 0);
      PF(g_sd, GVA_TEST + 0x6000, C_STORE_GPF, GPA_TEST + 0x6000, T_STORE, 0);
      CKEQ(*g5 & (PTE_A | PTE_D), 0);
      CKEQ(*g6 & PTE_D, 0);
    } else {
      OK_LOAD(GVA_TEST + 0x5000, 0x1005);
      CKEQ(*g5 & (PTE_A | PTE_D), PTE_A);
      OK_STORE(GVA_TEST + 0x6008, dpage(6) + 8);
      CKEQ(*g6 & (PTE_A | PTE_D), PTE_A | PTE_D);
    }
    // VS leaf with A=0 in a table the G-stage maps read-only.
    if (!vs_hw) {
      PF(g_ld, 0xC0000010ull, C_LOAD_PF, 0, T_LOAD | T_OR0, 0);  // Svade: plain page fault
    } else {
      // The A update is an implicit G-stage store to the PTE's GPA: guest-page fault of the
      // original access type (load -> 21), htval = PTE GPA >> 2, htinst = 0x00003020.
      PF(g_ld, 0xC0000010ull, C_LOAD_GPF, t0_gpa, 0, 0x00003020);
      CKEQ(t0[0] & PTE_A, 0);
    }
  }
  csr_write(henvcfg, 0);
  csr_write(menvcfg, 0);

  CKEQ(h_fails, 0);
  return 0;
}
