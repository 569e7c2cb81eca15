// PTE format rules applied at both translation stages: reserved bits 60:54, Svpbmt (enabled per
// stage by menvcfg.PBMTE for the G-stage and henvcfg.PBMTE for the VS-stage), Svnapot 64 KiB
// pages and the reserved NAPOT encodings. A bad G-stage PTE gives a guest-page fault (21 for a load,
// htval = GPA >> 2); a bad VS-stage PTE gives a page fault (13).
// Spec: S "Sv39" / "Virtual Address Translation Process"; Svpbmt; Svnapot; H "henvcfg",
// "Guest Physical Address Translation"; docs/h-extension.md §6.2-6.4, pitfall 12/13.
#include "h_env.h"

#define PBMT(x) ((u64)(x) << 61)
#define PTE_N BIT(63)

static u64 g_ld(u64 va) {
  register u64 a0 asm("a0") = va;
  asm volatile(".option push\n.option norvc\nld a0, 0(a0)\n.option pop" : "+r"(a0)::"memory");
  return a0;
}

static void ok_load(int line, u64 gva, u64 want) {
  tr_reset();
  u64 v = run_in(MODE_VS, g_ld, gva);
  if (tr.count) h_bad(line, "unexpected trap, cause", tr.cause, 0);
  else if (v != want) h_bad(line, "loaded value", v, want);
}
#define OK(gva, want) ok_load(__LINE__, gva, want)
#define GGPF(gva, gpa) expect_fault(__LINE__, MODE_VS, g_ld, gva, LVL_HS, C_LOAD_GPF, (gpa) >> 2, T_LOAD, 0)
#define VPF(gva) expect_fault(__LINE__, MODE_VS, g_ld, gva, LVL_HS, C_LOAD_PF, 0, T_LOAD | T_OR0, 0)

static const u64 G_ALL = PTE_LEAF | PTE_RWX | PTE_U;
static const u64 VS_RW = PTE_LEAF | PTE_R | PTE_W;

// Fresh standard guest (G Sv39x4, VS Sv39) with GVA_TEST+i*4K -> GPA_TEST+i*4K -> dpage(i).
static void setup(void) {
  h_init();
  csr_write(medeleg, BIT(C_LOAD_PF) | BIT(C_LOAD_GPF));
  guest_setup(ATP_SV39, ATP_SV39);
  for (unsigned i = 0; i < 4; i++) {
    g_map(GPA_TEST + i * 0x1000, dpage(i), 0, G_ALL);
    vs_map(GVA_TEST + i * 0x1000, GPA_TEST + i * 0x1000, 0, VS_RW);
    *(volatile u64*)dpage(i) = 0xC0DE0 + i;
  }
  h_flush();
}

int main(void) {
  // ------------------------------------------------------------------------------------------
  // Reserved bits 60:54 in a leaf: fault at the stage where they appear.
  h_what = "reserved bits";
  setup();
  *g_pte(GPA_TEST + 0x1000, 0) |= BIT(54);
  *vs_pte(GVA_TEST + 0x2000, 0) |= BIT(60);
  h_flush();
  OK(GVA_TEST, 0xC0DE0);
  GGPF(GVA_TEST + 0x1000, GPA_TEST + 0x1000);
  VPF(GVA_TEST + 0x2000);

  // ------------------------------------------------------------------------------------------
  // Svpbmt. menvcfg.PBMTE=0: PBMT bits are reserved at the G-stage (and henvcfg.PBMTE reads 0, so
  // at the VS-stage too).
  h_what = "PBMT, menvcfg.PBMTE=0";
  setup();
  csr_write(menvcfg, 0);
  *g_pte(GPA_TEST + 0x1000, 0) |= PBMT(1);
  *vs_pte(GVA_TEST + 0x2000, 0) |= PBMT(1);
  h_flush();
  GGPF(GVA_TEST + 0x1000, GPA_TEST + 0x1000);
  VPF(GVA_TEST + 0x2000);
  // menvcfg.PBMTE=1, henvcfg.PBMTE=0: G-stage PBMT=NC is fine, VS-stage PBMT still reserved.
  h_what = "PBMT, menvcfg.PBMTE=1 henvcfg.PBMTE=0";
  csr_write(menvcfg, ENV_PBMTE);
  csr_write(henvcfg, 0);
  h_flush();
  OK(GVA_TEST + 0x1000, 0xC0DE1);
  VPF(GVA_TEST + 0x2000);
  // Both enabled: both fine; PBMT=3 is reserved at either stage.
  h_what = "PBMT, both PBMTE=1";
  csr_write(henvcfg, ENV_PBMTE);
  h_flush();
  OK(GVA_TEST + 0x1000, 0xC0DE1);
  OK(GVA_TEST + 0x2000, 0xC0DE2);
  *g_pte(GPA_TEST + 0x1000, 0) |= PBMT(3);
  *vs_pte(GVA_TEST + 0x2000, 0) |= PBMT(3);
  h_flush();
  GGPF(GVA_TEST + 0x1000, GPA_TEST + 0x1000);
  VPF(GVA_TEST + 0x2000);
  // PBMT in a non-leaf PTE is reserved (Svpbmt): G-stage non-leaf for GPA_TEST's 2 MiB region.
  h_what = "PBMT in non-leaf";
  setup();
  csr_write(menvcfg, ENV_PBMTE);
  csr_write(henvcfg, ENV_PBMTE);
  *g_pte(GPA_TEST, 1) |= PBMT(1);
  h_flush();
  GGPF(GVA_TEST + 0x3000, GPA_TEST + 0x3000);
  setup();
  csr_write(menvcfg, ENV_PBMTE);
  csr_write(henvcfg, ENV_PBMTE);
  *vs_pte(GVA_TEST, 1) |= PBMT(1);
  h_flush();
  VPF(GVA_TEST + 0x3000);
  csr_write(menvcfg, 0);
  csr_write(henvcfg, 0);

  // ------------------------------------------------------------------------------------------
  // Svnapot at the G-stage: a 64 KiB page (N=1, PPN[3:0]=1000b, all 16 PTEs alike) maps GPA bits
  // 15:12 straight through.
  h_what = "NAPOT";
  {
    setup();
    u64 base_spa = (dpage(0) + 0xffff) & ~0xffffull;  // a 64 KiB-aligned host region in RAM
    u64 gpa64 = GPA_TEST + 0x10000;
    for (unsigned i = 0; i < 16; i++)
      *g_pte(gpa64 + i * 0x1000, 0) = (((base_spa >> 12) & ~0xfull) | 8) << 10 | G_ALL | PTE_N;
    for (unsigned i = 0; i < 16; i++) vs_map(GVA_TEST + 0x10000 + i * 0x1000, gpa64 + i * 0x1000, 0, VS_RW);
    h_flush();
    OK(GVA_TEST + 0x13008, *(volatile u64*)(base_spa + 0x3008));
    OK(GVA_TEST + 0x1f010, *(volatile u64*)(base_spa + 0xf010));
    // The same at the VS-stage.
    for (unsigned i = 0; i < 16; i++)
      *vs_pte(GVA_TEST + 0x20000 + i * 0x1000, 0) = ((((u64)RAM_BASE >> 12) | 8) << 10) | VS_RW | PTE_N;
    h_flush();
    OK(GVA_TEST + 0x25010, *(volatile u64*)(RAM_BASE + 0x5010));
    // Reserved encodings: N=1 with PPN[3:0] != 1000b, and N=1 at a superpage level.
    *g_pte(GPA_TEST + 0x1000, 0) = (dpage(1) >> 12) << 10 | G_ALL | PTE_N;  // PPN[3:0] = 0 (or 1)
    *vs_pte(GVA_TEST + 0x2000, 0) |= PTE_N;
    h_flush();
    if (((dpage(1) >> 12) & 0xf) != 8) GGPF(GVA_TEST + 0x1000, GPA_TEST + 0x1000);
    if (((GPA_TEST + 0x2000) >> 12 & 0xf) != 8) VPF(GVA_TEST + 0x2000);
    g_map(GPA_TEST + 0x400000, RAM_BASE, 1, G_ALL | PTE_N);
    vs_map(GVA_TEST + 0x400000, GPA_TEST + 0x400000, 1, VS_RW);
    h_flush();
    GGPF(GVA_TEST + 0x400000, GPA_TEST + 0x400000);
  }

  CKEQ(h_fails, 0);
  return 0;
}
