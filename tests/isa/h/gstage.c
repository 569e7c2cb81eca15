// Two-stage address translation: data and instructions reach the right host-physical memory through
// every G-stage mode (Bare, Sv39x4, Sv48x4, Sv57x4) combined with VS-stage Bare, Sv39 and Sv48,
// including the top of each GPA space (11-bit root index), G-stage 2 MiB and 1 GiB superpages and a
// VS-stage superpage over G-stage 4 KiB pages.
// Spec: H "Two-Stage Address Translation", "Guest Physical Address Translation" (hgatp root is 16 KiB,
// GPA width 41/50/59 bits), S "Sv39"/"Sv48"; docs/h-extension.md §4.1, 4.2.
#include "h_env.h"

static u64 guest_read(u64 va) { return *(volatile u64*)va; }
volatile u64 g_wval;
static u64 guest_write(u64 va) {
  *(volatile u64*)va = g_wval;
  return 0;
}
static u64 guest_call(u64 va) { return ((u64(*)(void))va)(); }

static volatile u64* spa64(u64 pa) { return (volatile u64*)pa; }

// One mapping under test: guest address `gva` -> `gpa` -> host `spa`.
struct m {
  u64 gva, gpa, spa;
};

// Maps gva -> gpa at the VS-stage (4 KiB leaf) unless the VS-stage is Bare (then gva = gpa).
static u64 vs_4k(u64 gva, u64 gpa, u64 flags) {
  if (!vs_mode) return gpa;
  vs_map(gva, gpa, 0, PTE_LEAF | flags);
  return gva + (gpa & 0xfff);
}

static u64 gpa_top(u64 gmode) {
  // The last pages of the GPA space: exercises the highest bit of the 11-bit root index.
  return (gmode == ATP_SV39 ? 1ull << 41 : gmode == ATP_SV48 ? 1ull << 50 : 1ull << 59) - 0x2000;
}

static void check_rw(int line, u64 mode, struct m* x, u64 seed) {
  // Fill the host page, read through the guest, then write through the guest.
  *spa64(x->spa) = seed;
  u64 got = run_in(mode, guest_read, x->gva);
  CHECK_EQ(line, got, seed);
  g_wval = ~seed;
  run_in(mode, guest_write, x->gva + 8);
  CHECK_EQ(line, *spa64(x->spa + 8), ~seed);
  CHECK_EQ(line, tr.count, 0);
}

static void one_combo(u64 gm, u64 vm) {
  h_init();
  guest_setup(gm, vm);
  struct m maps[8];
  int n = 0;
  u64 gflags = PTE_LEAF | PTE_R | PTE_W | PTE_U;
  u64 gva = GVA_TEST;

  if (gm == ATP_BARE) {
    // GPA = SPA: the VS-stage alone decides.
    maps[n].gpa = dpage(1) + 0x40;
    maps[n].spa = dpage(1) + 0x40;
    maps[n].gva = vs_4k(gva, maps[n].gpa, PTE_R | PTE_W);
    n++;
    gva += 0x1000;
  } else {
    // Two 4 KiB G-stage pages, mapped crosswise at the VS-stage so both stages matter.
    g_map(GPA_TEST, dpage(0), 0, gflags);
    g_map(GPA_TEST + 0x1000, dpage(1), 0, gflags);
    maps[n].gpa = GPA_TEST + 0x1000 + 0x80;
    maps[n].spa = dpage(1) + 0x80;
    maps[n].gva = vs_4k(gva, maps[n].gpa, PTE_R | PTE_W);
    n++;
    gva += 0x1000;
    maps[n].gpa = GPA_TEST + 0x10;
    maps[n].spa = dpage(0) + 0x10;
    maps[n].gva = vs_4k(gva, maps[n].gpa, PTE_R | PTE_W);
    n++;
    gva += 0x1000;
    // Top of the GPA space.
    u64 top = gpa_top(gm);
    // A VS-stage PTE holds a 44-bit PPN, so with VS translation GPAs stop at 2^56.
    if (vm && top >= 1ull << 56) top = (1ull << 56) - 0x2000;
    g_map(top, dpage(2), 0, gflags);
    maps[n].gpa = top + 0x100;
    maps[n].spa = dpage(2) + 0x100;
    maps[n].gva = vs_4k(gva, maps[n].gpa, PTE_R | PTE_W);
    n++;
    gva += 0x1000;
    // G-stage 2 MiB superpage at GPA 5 GiB over the 2 MiB-aligned host region holding dpage(3).
    u64 region2m = dpage(3) & ~0x1fffffull;
    u64 gpa2m = GPA_TEST + 0x40000000ull;
    g_map(gpa2m, region2m, 1, gflags);
    maps[n].gpa = gpa2m + (dpage(3) - region2m) + 0x200;
    maps[n].spa = dpage(3) + 0x200;
    maps[n].gva = vs_4k(gva, maps[n].gpa, PTE_R | PTE_W);
    n++;
    gva += 0x1000;
    // G-stage 1 GiB superpage at GPA 8 GiB over host RAM (0x80000000 is 1 GiB aligned).
    u64 gpa1g = 0x200000000ull;
    g_map(gpa1g, RAM_BASE, 2, gflags);
    maps[n].gpa = gpa1g + (dpage(4) - RAM_BASE) + 0x300;
    maps[n].spa = dpage(4) + 0x300;
    maps[n].gva = vs_4k(gva, maps[n].gpa, PTE_R | PTE_W);
    n++;
    gva += 0x1000;
  }
  if (vm) {
    // VS-stage 2 MiB superpage at GVA_TEST + 2 MiB over G-stage 4 KiB pages (or host RAM when
    // the G-stage is Bare).
    u64 gva2m = GVA_TEST + 0x200000;
    u64 gpa2m = gm ? GPA_TEST + 0x200000 : (dpage(5) & ~0x1fffffull);
    vs_map(gva2m, gpa2m, 1, PTE_LEAF | PTE_R | PTE_W);
    u64 off = gm ? 0x5000 : dpage(5) - gpa2m;
    if (gm) g_map(gpa2m + off, dpage(5), 0, gflags);
    maps[n].gva = gva2m + off + 0x400;
    maps[n].gpa = gpa2m + off + 0x400;
    maps[n].spa = dpage(5) + 0x400;
    n++;
  }
  h_flush();
  for (int i = 0; i < n; i++) {
    tr_reset();
    check_rw(__LINE__, MODE_VS, &maps[i], 0x1000 * gm + 0x100 * vm + i + 0x5a5a000000000000ull);
  }

  // Instruction fetch through both stages: a code page mapped at another GVA/GPA.
  if (gm) {
    u64 gpa_code = GPA_TEST + 0x7000;
    g_map(gpa_code, (u64)h_code_page, 0, PTE_LEAF | PTE_R | PTE_X | PTE_U);
    u64 gva_code = vs_4k(GVA_TEST + 0x7000, gpa_code, PTE_R | PTE_X);
    h_flush();
    tr_reset();
    CKEQ(run_in(MODE_VS, guest_call, gva_code), 0x600d);
    EXPECT_NONE();
  }
}

int main(void) {
  static const u64 gmodes[] = {ATP_BARE, ATP_SV39, ATP_SV48, ATP_SV57};
  static const u64 vmodes[] = {ATP_BARE, ATP_SV39, ATP_SV48};
  for (unsigned g = 0; g < 4; g++)
    for (unsigned v = 0; v < 3; v++) one_combo(gmodes[g], vmodes[v]);

  // A GPA beyond 41 bits is valid for Sv48x4 (50-bit GPAs) and Sv57x4 (59-bit GPAs).
  for (u64 gm = ATP_SV48; gm <= ATP_SV57; gm++) {
    h_init();
    guest_setup(gm, ATP_BARE);
    u64 gpa = 1ull << 41;
    g_map(gpa, dpage(6), 0, PTE_LEAF | PTE_R | PTE_W | PTE_U);
    h_flush();
    struct m x = {gpa + 8, gpa + 8, dpage(6) + 8};
    tr_reset();
    check_rw(__LINE__, MODE_VS, &x, 0x77);
  }

  // VU through two stages: VS-stage leaves with U=1 (code runs from them), G-stage Sv39x4.
  {
    h_init();
    guest_setup_u(ATP_SV39, ATP_SV39, 1);
    g_map(GPA_TEST, dpage(7), 0, PTE_LEAF | PTE_R | PTE_W | PTE_U);
    vs_map(GVA_TEST, GPA_TEST, 0, PTE_LEAF | PTE_R | PTE_W | PTE_U);
    h_flush();
    struct m x = {GVA_TEST + 0x18, GPA_TEST + 0x18, dpage(7) + 0x18};
    tr_reset();
    check_rw(__LINE__, MODE_VU, &x, 0x1234);
  }
  return 0;
}
