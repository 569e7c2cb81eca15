// SFENCE.VMA on a superpage (priv spec "Supervisor Memory-Management Fence Instruction"): with
// rs1 != x0 the fence "invalidates all address-translation cache entries that contain leaf page
// table entries corresponding to the virtual address in rs1". Every 4 KiB piece of a 2 MiB or
// 1 GiB superpage is translated by that same leaf PTE, so a fence naming any one address inside
// the superpage must drop the cached translations of all of them. Linux relies on this: it
// flushes huge mappings with one SFENCE.VMA per huge page (flush_tlb_range with a PMD stride).
#include "vm.h"

#define VA_S2M 0x20000000ull
#define VA_S1G 0x100000000ull
#define SCRATCH2_PA (SCRATCH_PA + MEGA)

static volatile u64 *pte_2m, *pte_1g;
static u64 dpage[2][512] __attribute__((aligned(4096)));

static u64 ld(u64 va) {
  u64 v;
  CHECK_EQ(900, try_ld(va, &v), NOTRAP);
  return v;
}

static u64 s_super(u64 asid) {
  const u64 rw = PTE_LEAF | PTE_R | PTE_W;
  // 2 MiB: touch several 4 KiB pieces, remap the leaf, fence the first address only.
  for (u64 k = 0; k < 4; ++k) CHECK_EQ(10, ld(VA_S2M + k * PAGE_SIZE + 8), 0xa00000 + (k << 12) + 1);
  *pte_2m = make_pte(SCRATCH2_PA, rw);
  sfence_va(VA_S2M);
  CHECK_EQ(11, ld(VA_S2M + 8), 0xb00000 + 1);
  for (u64 k = 1; k < 4; ++k) CHECK_EQ(12, ld(VA_S2M + k * PAGE_SIZE + 8), 0xb00000 + (k << 12) + 1);
  // Again, fencing the last 4 KiB piece (by address and ASID).
  for (u64 k = 0; k < 4; ++k) (void)ld(VA_S2M + k * PAGE_SIZE + 8);
  *pte_2m = make_pte(SCRATCH_PA, rw);
  asm volatile("sfence.vma %0, %1" ::"r"(VA_S2M + MEGA - PAGE_SIZE), "r"(asid) : "memory");
  for (u64 k = 0; k < 4; ++k) CHECK_EQ(13, ld(VA_S2M + k * PAGE_SIZE + 8), 0xa00000 + (k << 12) + 1);
  // 1 GiB leaf over RAM: remap it to an invalid entry and fence one address; every piece faults.
  const u64 off0 = (u64)dpage[0] - RAM_BASE, off1 = (u64)dpage[1] - RAM_BASE;
  CHECK_EQ(14, ld(VA_S1G + off0 + 8), 0x1000 + 1);
  CHECK_EQ(15, ld(VA_S1G + off1 + 8), 0x2000 + 1);
  *pte_1g = make_pte(RAM_BASE, PTE_A | PTE_D | PTE_R);  // V=0
  sfence_va(VA_S1G + off0);
  u64 v;
  CHECK_TRAP(16, try_ld(VA_S1G + off0 + 8, &v), CAUSE_LOAD_PAGE, PRV_M, VA_S1G + off0 + 8);
  CHECK_TRAP(17, try_ld(VA_S1G + off1 + 8, &v), CAUSE_LOAD_PAGE, PRV_M, VA_S1G + off1 + 8);
  return 0x5e;
}

int main(void) {
  priv_init();
  vm_check_layout();
  fill_page((u64)dpage[0], 0x1000);
  fill_page((u64)dpage[1], 0x2000);
  for (u64 k = 0; k < 4; ++k) {
    fill_page(SCRATCH_PA + k * PAGE_SIZE, 0xa00000 + (k << 12));
    fill_page(SCRATCH2_PA + k * PAGE_SIZE, 0xb00000 + (k << 12));
  }
  struct vm a = vm_new(3, 3);
  pte_2m = vm_map(&a, VA_S2M, SCRATCH_PA, 1, PTE_LEAF | PTE_R | PTE_W);
  pte_1g = vm_map(&a, VA_S1G, RAM_BASE, 2, PTE_LEAF | PTE_R | PTE_W);
  vm_activate(&a);
  CHECK_EQ(1, run_as(PRV_S, s_super, 3), 0x5e);
  vm_off();
  return 0;
}
