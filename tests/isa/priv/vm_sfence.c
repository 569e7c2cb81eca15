// SFENCE.VMA and ASIDs (priv spec "Supervisor Memory-Management Fence Instruction", "satp").
// After S-mode rewrites a PTE and executes SFENCE.VMA (global, by address, by address+ASID, by
// ASID), the new translation must be used. (Without the fence the old one may legally survive;
// that is not tested.) Superpages: see vm_sfence_super.c. Two address spaces with different ASIDs map the same VA to different pages; switching satp
// between them must always give the right data.
#include "vm.h"

#define VA_S 0x10000000ull
#define VA_SX 0x10001000ull
#define VA_ASID 0x10002000ull

static u64 dpage[6][512] __attribute__((aligned(4096)));
static volatile u64 *pte_s, *pte_sx;
static u64 satp_a, satp_b;

static u64 ld(u64 va) {
  u64 v;
  CHECK_EQ(900, try_ld(va, &v), NOTRAP);
  return v;
}
static void sfence_asid(u64 va, u64 asid) { asm volatile("sfence.vma %0, %1" ::"r"(va), "r"(asid) : "memory"); }
static void sfence_only_asid(u64 asid) { asm volatile("sfence.vma zero, %0" ::"r"(asid) : "memory"); }

static u64 s_fence(u64 asid) {
  const u64 r = PTE_LEAF | PTE_R | PTE_W;
  // Global fence.
  CHECK_EQ(10, ld(VA_S + 8), 0x1000 + 1);
  *pte_s = make_pte((u64)dpage[1], r);
  sfence_all();
  CHECK_EQ(11, ld(VA_S + 8), 0x2000 + 1);
  // Fence by address.
  *pte_s = make_pte((u64)dpage[0], r);
  sfence_va(VA_S + 0x800);  // any address in the page
  CHECK_EQ(12, ld(VA_S + 16), 0x1000 + 2);
  // By address and ASID.
  *pte_s = make_pte((u64)dpage[1], r);
  sfence_asid(VA_S, asid);
  CHECK_EQ(13, ld(VA_S + 16), 0x2000 + 2);
  // By ASID only.
  *pte_s = make_pte((u64)dpage[0], r);
  sfence_only_asid(asid);
  CHECK_EQ(14, ld(VA_S + 24), 0x1000 + 3);
  // Permission changes take effect: read-only, then invalid, then writable again.
  *pte_s = make_pte((u64)dpage[0], PTE_LEAF | PTE_R);
  sfence_va(VA_S);
  CHECK_TRAP(15, try_sd(VA_S, 1), CAUSE_STORE_PAGE, PRV_M, VA_S);
  *pte_s = make_pte((u64)dpage[0], PTE_A | PTE_D | PTE_R);  // V=0
  sfence_va(VA_S);
  u64 v;
  CHECK_TRAP(16, try_ld(VA_S, &v), CAUSE_LOAD_PAGE, PRV_M, VA_S);
  *pte_s = make_pte((u64)dpage[0], r);
  sfence_va(VA_S);
  CHECK_EQ(17, try_sd(VA_S + 32, 0x1000 + 4), NOTRAP);
  // A non-canonical rs1 makes SFENCE.VMA a no-op, never an exception.
  {
    u64 c0 = trap_begin();
    asm volatile("sfence.vma %0, zero" ::"r"(0x5555000000000000ull) : "memory");
    CHECK_EQ(18, trap_end(c0), NOTRAP);
  }

  // Instruction fetches see the new mapping too.
  CHECK_EQ(20, try_exec(VA_SX, &v), NOTRAP);
  CHECK_EQ(21, v, 0x111);
  *pte_sx = make_pte((u64)dpage[3], PTE_LEAF | PTE_X);
  sfence_va(VA_SX);
  CHECK_EQ(22, try_exec(VA_SX, &v), NOTRAP);
  CHECK_EQ(23, v, 0x222);

  return 0xf0;
}

// S-mode switches satp between two ASIDs mapping VA_ASID differently, without fences.
static u64 s_asid(u64 arg) {
  (void)arg;
  for (int round = 0; round < 4; ++round) {
    csr_write(satp, satp_a);
    CHECK_EQ(40, ld(VA_ASID + 8), 0x5000 + 1);
    CHECK_EQ(41, try_sd(VA_ASID + 16, 0xaaa0 + (u64)round), NOTRAP);
    csr_write(satp, satp_b);
    CHECK_EQ(42, ld(VA_ASID + 8), 0x6000 + 1);
    CHECK_EQ(43, try_sd(VA_ASID + 16, 0xbbb0 + (u64)round), NOTRAP);
    csr_write(satp, satp_a);
    CHECK_EQ(44, ld(VA_ASID + 16), 0xaaa0 + (u64)round);
    csr_write(satp, satp_b);
    CHECK_EQ(45, ld(VA_ASID + 16), 0xbbb0 + (u64)round);
  }
  return 0xa5;
}

int main(void) {
  priv_init();
  vm_check_layout();
  fill_page((u64)dpage[0], 0x1000);
  fill_page((u64)dpage[1], 0x2000);
  fill_page((u64)dpage[4], 0x5000);
  fill_page((u64)dpage[5], 0x6000);
  put_ret_code((u64)dpage[2], 0x111);
  put_ret_code((u64)dpage[3], 0x222);

  struct vm a = vm_new(3, 1);
  pte_s = vm_map(&a, VA_S, (u64)dpage[0], 0, PTE_LEAF | PTE_R | PTE_W);
  pte_sx = vm_map(&a, VA_SX, (u64)dpage[2], 0, PTE_LEAF | PTE_X);
  vm_map(&a, VA_ASID, (u64)dpage[4], 0, PTE_LEAF | PTE_R | PTE_W);
  struct vm b = vm_new(3, 2);
  vm_map(&b, VA_ASID, (u64)dpage[5], 0, PTE_LEAF | PTE_R | PTE_W);
  satp_a = vm_satp(&a);
  satp_b = vm_satp(&b);

  vm_activate(&a);
  CHECK_EQ(1, run_as(PRV_S, s_fence, 1), 0xf0);
  CHECK_EQ(2, run_as(PRV_S, s_asid, 0), 0xa5);
  vm_off();
  return 0;
}
