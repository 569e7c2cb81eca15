// Reserved and extension-defined PTE encodings in Sv39 (priv spec "Sv32"/"Sv39" PTE format and
// "Virtual Address Translation Process", Svpbmt, Svnapot). Each reserved encoding must raise a page
// fault of the access type with xtval = VA, at whatever level it appears:
//  - leaf: W without R (xwr 010, 110), bits 60:54 nonzero, PBMT=3, PBMT!=0 while menvcfg.PBMTE=0,
//    N=1 with ppn[3:0] != 1000, N=1 above level 0;
//  - pointer (xwr=000): A, D, U, N or PBMT set, bits 60:54 set, or a pointer at level 0.
// Also: legal Svpbmt NC/IO leaves work on RAM, and a 64 KiB Svnapot mapping translates with
// ppn[3:0] taken from the VA.
#include "vm.h"

#define VA_LEAF 0x10000000ull    // 4 KiB leaves, one per case
#define VA_PTR 0x20000000ull     // 2 MiB apart: a level-1 pointer per case
#define VA_ROOTPTR 0x100000000ull  // 1 GiB apart: a root pointer per case
#define VA_NAPOT 0x30000000ull   // 64 KiB NAPOT region
#define VA_NAPOT_BAD 0x30100000ull
#define VA_NAPOT_2M 0x30200000ull  // N=1 on a 2 MiB leaf
#define PA_NAPOT (SCRATCH_PA + 0x100000ull)

static u64 dpage[2][512] __attribute__((aligned(4096)));
static struct vm V;

static u64 leaf_va(int i) { return VA_LEAF + (u64)i * PAGE_SIZE; }

// Leaf encodings that are reserved whatever menvcfg says (PBMTE=1 during the check).
static const u64 bad_leaf[] = {
    PTE_V | PTE_W | PTE_A | PTE_D,          // xwr = 010
    PTE_V | PTE_W | PTE_X | PTE_A | PTE_D,  // xwr = 110
    PTE_LEAF | PTE_R | (1ull << 54), PTE_LEAF | PTE_R | (1ull << 55), PTE_LEAF | PTE_R | (1ull << 56),
    PTE_LEAF | PTE_R | (1ull << 57), PTE_LEAF | PTE_R | (1ull << 58), PTE_LEAF | PTE_R | (1ull << 59),
    PTE_LEAF | PTE_R | (1ull << 60),
    PTE_LEAF | PTE_R | PTE_PBMT,            // PBMT = 3
    PTE_R | PTE_W | PTE_A | PTE_D | PTE_U,  // V = 0 with everything else set
};
#define NBAD ((int)(sizeof(bad_leaf) / sizeof(bad_leaf[0])))
// Svnapot: ppn[3:0] patterns other than 1000 are reserved.
static const u64 bad_napot_low[] = {0x0, 0x1, 0x2, 0x4, 0x9, 0xc, 0xf};
#define NNAP ((int)(sizeof(bad_napot_low) / sizeof(bad_napot_low[0])))
// Pointer-PTE corruptions.
static const u64 bad_ptr_bits[] = {PTE_A, PTE_D, PTE_U, PTE_N, PTE_NC, 1ull << 54, 1ull << 60};
#define NPTR ((int)(sizeof(bad_ptr_bits) / sizeof(bad_ptr_bits[0])))

#define PBMT_BASE (NBAD + NNAP)  // leaf slots for the PBMT NC/IO cases
#define LEAF_LVL0_PTR (PBMT_BASE + 2)

static void expect_fault(int id, u64 a) {
  u64 v;
  CHECK_TRAP(id, try_ld(a, &v), CAUSE_LOAD_PAGE, PRV_M, a);
  CHECK_EQ(id, v, 0x0badc0de);
  CHECK_TRAP(id + 1, try_sd(a, 1), CAUSE_STORE_PAGE, PRV_M, a);
}

// arg = 1 when menvcfg.PBMTE = 1.
static u64 s_reserved(u64 pbmte) {
  u64 v;
  for (int i = 0; i < NBAD; ++i) expect_fault(10, leaf_va(i) + 8 * (u64)i);
  // An execute attempt through a reserved leaf is an instruction page fault.
  CHECK_TRAP(12, try_exec(leaf_va(1), &v), CAUSE_FETCH_PAGE, PRV_M, leaf_va(1));
  for (int i = 0; i < NNAP; ++i) expect_fault(14, leaf_va(NBAD + i) + 0x10);
  for (int i = 0; i < NPTR; ++i) expect_fault(16, VA_PTR + (u64)i * MEGA + 0x18);
  expect_fault(18, VA_ROOTPTR + 0x20);        // root pointer with D set
  expect_fault(20, leaf_va(LEAF_LVL0_PTR));  // pointer PTE at level 0
  expect_fault(22, VA_NAPOT_2M + 0x28);      // N=1 on a 2 MiB leaf
  // Svpbmt: NC (1) and IO (2) are legal with PBMTE=1 (and work on RAM), reserved otherwise.
  for (int k = 0; k < 2; ++k) {
    u64 a = leaf_va(PBMT_BASE + k) + 0x30;
    if (pbmte) {
      CHECK_EQ(24, try_ld(a, &v), NOTRAP);
      CHECK_EQ(25, v, 0x5000 + 6);
      CHECK_EQ(26, try_sd(a, 0x5000 + 6), NOTRAP);
    } else {
      expect_fault(27, a);
    }
  }
  return 0xbad;
}

// 64 KiB NAPOT mapping: every 4 KiB piece reaches its own physical page.
static u64 s_napot(u64 arg) {
  (void)arg;
  u64 v;
  for (u64 k = 0; k < 16; ++k) {
    u64 a = VA_NAPOT + k * PAGE_SIZE + 8 * k;
    CHECK_EQ(40, try_ld(a, &v), NOTRAP);
    CHECK_EQ(41, v, 0x900000 + (k << 12) + k);
  }
  CHECK_EQ(42, try_sd(VA_NAPOT + 0xa000 + 0x100, 0x1234), NOTRAP);
  return 0x6464;
}

int main(void) {
  priv_init();
  vm_check_layout();
  fill_page((u64)dpage[0], 0x5000);
  V = vm_new(3, 0);
  const u64 pa = (u64)dpage[0];
  for (int i = 0; i < NBAD; ++i) vm_map(&V, leaf_va(i), pa, 0, bad_leaf[i]);
  for (int i = 0; i < NNAP; ++i)
    *vm_pte(&V, leaf_va(NBAD + i), 0) = make_pte(pa & ~0xffffull, PTE_LEAF | PTE_R | PTE_W | PTE_N) |
                                        (bad_napot_low[i] << 10);
  vm_map(&V, leaf_va(PBMT_BASE), pa, 0, PTE_LEAF | PTE_R | PTE_W | PTE_NC);
  vm_map(&V, leaf_va(PBMT_BASE + 1), pa, 0, PTE_LEAF | PTE_R | PTE_W | PTE_IO);
  vm_map(&V, leaf_va(LEAF_LVL0_PTR), (u64)dpage[1], 0, PTE_V);  // dpage[1] is all zero
  for (int i = 0; i < NPTR; ++i) {
    u64 a = VA_PTR + (u64)i * MEGA;
    vm_map(&V, a, pa, 0, PTE_LEAF | PTE_R | PTE_W);
    *vm_pte(&V, a, 1) |= bad_ptr_bits[i];
  }
  vm_map(&V, VA_ROOTPTR, pa, 0, PTE_LEAF | PTE_R | PTE_W);
  *vm_pte(&V, VA_ROOTPTR, 2) |= PTE_D;
  vm_map(&V, VA_NAPOT_2M, SCRATCH_PA, 1, PTE_LEAF | PTE_R | PTE_W | PTE_N);

  // A valid 64 KiB NAPOT region: 16 identical PTEs, ppn[3:0] = 1000.
  for (u64 k = 0; k < 16; ++k) {
    fill_page(PA_NAPOT + k * PAGE_SIZE, 0x900000 + (k << 12));
    *vm_pte(&V, VA_NAPOT + k * PAGE_SIZE, 0) =
        make_pte(PA_NAPOT, PTE_LEAF | PTE_R | PTE_W | PTE_N) | (0x8ull << 10);
  }
  vm_activate(&V);

  csr_write(menvcfg, ENVCFG_PBMTE);
  sfence_all();
  CHECK_EQ(1, run_as(PRV_S, s_reserved, 1), 0xbad);
  csr_write(menvcfg, 0);
  sfence_all();
  CHECK_EQ(2, run_as(PRV_S, s_reserved, 0), 0xbad);
  CHECK_EQ(3, run_as(PRV_S, s_napot, 0), 0x6464);
  CHECK_EQ(4, *(volatile u64*)(PA_NAPOT + 0xa000 + 0x100), 0x1234);
  vm_off();
  return 0;
}
