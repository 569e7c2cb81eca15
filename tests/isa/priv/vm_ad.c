// Accessed/Dirty bits in Sv39 leaf PTEs under both schemes (priv spec "Virtual Address
// Translation Process" step 7, Svade/Svadu chapters, "Machine Environment Configuration"
// menvcfg.ADUE):
//  - ADUE=0 (Svade): an access to a page with A=0, or a store/AMO to a page with D=0, raises a
//    page fault of the access type and leaves the PTE alone;
//  - ADUE=1 (Svadu): the hart sets A (and D for stores/AMOs) in the leaf PTE itself; D is never
//    set for a store that does not happen; pointer PTEs are never modified.
#include "vm.h"

#define VA_AD 0x10000000ull
#define VA_AD2M 0x20000000ull
#define NP 6
static u64 dpage[NP][512] __attribute__((aligned(4096)));
static volatile u64* pte[NP];
static volatile u64* pte2m;
static struct vm V;
static u64 va(int i) { return VA_AD + (u64)i * PAGE_SIZE; }

// Leaf permissions; A/D are set per phase.
static const u64 perm[NP] = {PTE_R | PTE_W, PTE_R | PTE_W, PTE_X, PTE_R | PTE_W, PTE_R, PTE_R | PTE_W};

static void reset_ptes(u64 ad0, u64 ad1, u64 ad2, u64 ad3, u64 ad4, u64 ad5, u64 ad2m) {
  const u64 ad[NP] = {ad0, ad1, ad2, ad3, ad4, ad5};
  for (int i = 0; i < NP; ++i) *pte[i] = make_pte((u64)dpage[i], PTE_V | perm[i] | ad[i]);
  *pte2m = make_pte(SCRATCH_PA, PTE_V | PTE_R | PTE_W | ad2m);
  sfence_all();
}

static u64 ad_of(volatile u64* p) { return *p & (PTE_A | PTE_D); }

static u64 s_svade(u64 arg) {
  (void)arg;
  u64 v;
  // A=0: every access type faults.
  CHECK_TRAP(10, try_ld(va(0) + 8, &v), CAUSE_LOAD_PAGE, PRV_M, va(0) + 8);
  CHECK_TRAP(11, try_sd(va(0) + 8, 1), CAUSE_STORE_PAGE, PRV_M, va(0) + 8);
  CHECK_TRAP(12, try_exec(va(2), &v), CAUSE_FETCH_PAGE, PRV_M, va(2));
  CHECK_TRAP(13, try_ld(VA_AD2M + 0x3008, &v), CAUSE_LOAD_PAGE, PRV_M, VA_AD2M + 0x3008);
  // A=1, D=0: loads work, stores and AMOs fault.
  CHECK_EQ(14, try_ld(va(1) + 16, &v), NOTRAP);
  CHECK_EQ(15, v, 0x1000 + 2);
  CHECK_TRAP(16, try_sd(va(1) + 16, 5), CAUSE_STORE_PAGE, PRV_M, va(1) + 16);
  CHECK_TRAP(17, try_amoadd_d(va(1) + 24, 5), CAUSE_STORE_PAGE, PRV_M, va(1) + 24);
  // A=1, D=1: everything works.
  CHECK_EQ(18, try_sd(va(3) + 8, 0x33), NOTRAP);
  // Nothing was written back into the PTEs.
  CHECK_EQ(19, ad_of(pte[0]), 0);
  CHECK_EQ(20, ad_of(pte[1]), PTE_A);
  CHECK_EQ(21, ad_of(pte[2]), 0);
  CHECK_EQ(22, ad_of(pte2m), 0);
  return 0xade;
}

static u64 s_svadu(u64 arg) {
  (void)arg;
  u64 v;
  // Load of an A=0 page: A set, D left clear.
  CHECK_EQ(30, try_ld(va(0) + 8, &v), NOTRAP);
  CHECK_EQ(31, v, 0x0000 + 1);
  CHECK_EQ(32, ad_of(pte[0]), PTE_A);
  // Then a store: D set.
  CHECK_EQ(33, try_sd(va(0) + 8, 0x44), NOTRAP);
  CHECK_EQ(34, ad_of(pte[0]), PTE_A | PTE_D);
  // Store to A=1, D=0: D set.
  CHECK_EQ(35, try_sw(va(1) + 8, 0x55), NOTRAP);
  CHECK_EQ(36, ad_of(pte[1]), PTE_A | PTE_D);
  // Fetch from an A=0 execute-only page: A only.
  CHECK_EQ(37, try_exec(va(2), &v), NOTRAP);
  CHECK_EQ(38, v, 0x2aa);
  CHECK_EQ(39, ad_of(pte[2]), PTE_A);
  // Store to a read-only page faults; D must not be set (D updates are exact).
  CHECK_TRAP(40, try_sd(va(4) + 8, 1), CAUSE_STORE_PAGE, PRV_M, va(4) + 8);
  CHECK_EQ(41, *pte[4] & PTE_D, 0);
  // AMO on an A=0/D=0 page sets both.
  CHECK_EQ(42, try_amoadd_d(va(5) + 8, 1), NOTRAP);
  CHECK_EQ(43, ad_of(pte[5]), PTE_A | PTE_D);
  // Superpage leaf: A set at level 1.
  CHECK_EQ(44, try_ld(VA_AD2M + 0x3008, &v), NOTRAP);
  CHECK_EQ(45, v, 0x7000 + 1);
  CHECK_EQ(46, ad_of(pte2m), PTE_A);
  return 0xadf;
}

static u64 u_svadu(u64 arg) {
  (void)arg;
  u64 v;
  CHECK_EQ(50, try_ld(va(3) + 8, &v), NOTRAP);
  return 0xae0;
}

int main(void) {
  priv_init();
  vm_check_layout();
  for (int i = 0; i < NP; ++i) fill_page((u64)dpage[i], (u64)i << 12);
  put_ret_code((u64)dpage[2], 0x2aa);
  fill_page(SCRATCH_PA + 0x3000, 0x7000);
  V = vm_new(3, 0);
  for (int i = 0; i < NP; ++i) pte[i] = vm_map(&V, va(i), (u64)dpage[i], 0, PTE_V | perm[i]);
  pte2m = vm_map(&V, VA_AD2M, SCRATCH_PA, 1, PTE_V | PTE_R | PTE_W);
  // The pointer PTEs on the way, to check that they stay untouched.
  volatile u64* ptr2 = vm_pte(&V, VA_AD, 2);
  volatile u64* ptr1 = vm_pte(&V, VA_AD, 1);
  const u64 p2 = *ptr2, p1 = *ptr1;
  vm_activate(&V);

  csr_write(menvcfg, 0);
  reset_ptes(0, PTE_A, 0, PTE_A | PTE_D, PTE_A, PTE_A | PTE_D, 0);
  CHECK_EQ(1, run_as(PRV_S, s_svade, 0), 0xade);
  CHECK_EQ(2, dpage[3][1], 0x33);
  CHECK_EQ(3, dpage[1][2], 0x1000 + 2);  // the faulting store left memory alone

  csr_write(menvcfg, ENVCFG_ADUE);
  CHECK_EQ(4, csr_read(menvcfg) & ENVCFG_ADUE, ENVCFG_ADUE);
  reset_ptes(0, PTE_A, 0, 0, 0, 0, 0);
  CHECK_EQ(5, run_as(PRV_S, s_svadu, 0), 0xadf);
  CHECK_EQ(6, dpage[0][1], 0x44);
  CHECK_EQ(7, dpage[5][1], 0x5000 + 1 + 1);
  // A U-mode access sets A in a U page.
  *pte[3] = make_pte((u64)dpage[3], PTE_V | PTE_R | PTE_U);
  sfence_all();
  CHECK_EQ(8, run_as_u(u_svadu, 0), 0xae0);
  CHECK_EQ(9, ad_of(pte[3]), PTE_A);
  // Pointer PTEs: A, D (and U) are reserved there and never set.
  CHECK_EQ(10, *ptr2, p2);
  CHECK_EQ(11, *ptr1, p1);

  // Back to Svade: A=0 faults again.
  csr_write(menvcfg, 0);
  reset_ptes(0, PTE_A, 0, PTE_A | PTE_D, PTE_A, PTE_A | PTE_D, 0);
  CHECK_EQ(12, run_as(PRV_S, s_svade, 0), 0xade);
  vm_off();
  return 0;
}
