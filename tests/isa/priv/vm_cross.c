// Accesses that cross a page boundary and faults that are access faults rather than page faults
// (priv spec "Machine Trap Value Register", "Virtual Address Translation Process",
// "Exception priority"):
//  - a 4-byte instruction straddling two pages is fetched from both (non-contiguous) physical
//    pages; if the second half faults, mepc is the instruction and mtval the address of the
//    faulting portion (the page boundary);
//  - a misaligned load/store crossing pages uses both translations; if the second page faults,
//    mtval is the address of the faulting portion (misaligned accesses to RAM are supported by
//    this hart; a misaligned trap would also be architecturally allowed and is accepted);
//  - a valid leaf pointing at physical addresses with nothing behind them, or a pointer PTE to a
//    table there, gives an access fault of the access type with mtval = VA; a page fault found
//    first wins over an access fault.
#include "vm.h"

#define VA_X 0x10000000ull   // X page, next page X (mapped to a lower physical page)
#define VA_XF 0x10010000ull  // X page, next page unmapped
#define VA_XR 0x10020000ull  // X page, next page readable but not executable
#define VA_D 0x10030000ull   // RW page, next page RW (non-contiguous physical pages)
#define VA_DF 0x10040000ull  // RW page, next page read-only
#define VA_HOLE 0x10050000ull    // leaf -> physical hole
#define VA_HOLEPT 0x10200000ull  // level-1 pointer -> table in a physical hole
#define VA_HOLEBAD 0x10060000ull  // invalid leaf whose PPN is a hole
#define HOLE 0x40000000ull

static u64 dpage[8][512] __attribute__((aligned(4096)));
#define PA(i) hide((u64)dpage[i])

// A c.nop at 0xffc, then "addi a0, x0, 0x77" straddling into the next page, then c.jr ra.
static void put_straddle(u64 pa_lo, u64 pa_hi) {
  volatile unsigned short* lo = (volatile unsigned short*)(pa_lo + 0xffc);
  volatile unsigned short* hi = (volatile unsigned short*)pa_hi;
  lo[0] = 0x0001;  // c.nop
  lo[1] = 0x0513;  // addi a0, x0, 0x77 (low half)
  hi[0] = 0x0770;  // (high half)
  hi[1] = 0x8082;  // c.jr ra
  asm volatile("fence.i" ::: "memory");
}

static u64 s_cross(u64 arg) {
  (void)arg;
  u64 v;
  // Straddling instruction, both halves mapped.
  CHECK_EQ(10, try_exec(VA_X + 0xffc, &v), NOTRAP);
  CHECK_EQ(11, v, 0x77);
  // Second half unmapped / not executable: fetch page fault at the boundary.
  CHECK_TRAP(12, try_exec(VA_XF + 0xffc, &v), CAUSE_FETCH_PAGE, PRV_M, VA_XF + 0x1000);
  CHECK_EQ(13, T.epc, VA_XF + 0xffe);
  CHECK_TRAP(14, try_exec(VA_XR + 0xffc, &v), CAUSE_FETCH_PAGE, PRV_M, VA_XR + 0x1000);
  CHECK_EQ(15, T.epc, VA_XR + 0xffe);

  // Misaligned load and store across two pages.
  u64 c = try_ld(VA_D + 0xffc, &v);
  if (c == NOTRAP) {
    CHECK_EQ(20, v, 0x8877665544332211ull);
    CHECK_EQ(21, try_sd(VA_D + 0xffa, 0x0102030405060708ull), NOTRAP);
    CHECK_EQ(22, try_ld(VA_D + 0xffa, &v), NOTRAP);
    CHECK_EQ(23, v, 0x0102030405060708ull);
    // Second page read-only: the load works, the store faults at the boundary.
    CHECK_EQ(24, try_ld(VA_DF + 0xffe, &v), NOTRAP);
    c = try_sd(VA_DF + 0xffe, 1);
    CHECK_EQ(25, c, CAUSE_STORE_PAGE);
    CHECK_EQ(26, T.tval, VA_DF + 0x1000);
    // Second page absent for a load.
    c = try_lw(VA_HOLEBAD - 2, &v);
    CHECK_EQ(27, c, CAUSE_LOAD_PAGE);
    CHECK_EQ(28, T.tval, VA_HOLEBAD);
  } else {
    CHECK_EQ(29, c, CAUSE_LOAD_MISALIGNED);
  }

  // Leaf pointing at a physical hole: access faults of the access type, mtval = VA.
  CHECK_TRAP(30, try_ld(VA_HOLE + 8, &v), CAUSE_LOAD_ACCESS, PRV_M, VA_HOLE + 8);
  CHECK_TRAP(31, try_sd(VA_HOLE + 8, 1), CAUSE_STORE_ACCESS, PRV_M, VA_HOLE + 8);
  CHECK_TRAP(32, try_exec(VA_HOLE, &v), CAUSE_FETCH_ACCESS, PRV_M, VA_HOLE);
  // Page table in a hole: the walk itself fails with an access fault of the original type.
  CHECK_TRAP(33, try_ld(VA_HOLEPT + 8, &v), CAUSE_LOAD_ACCESS, PRV_M, VA_HOLEPT + 8);
  CHECK_TRAP(34, try_sd(VA_HOLEPT + 8, 1), CAUSE_STORE_ACCESS, PRV_M, VA_HOLEPT + 8);
  CHECK_TRAP(35, try_exec(VA_HOLEPT, &v), CAUSE_FETCH_ACCESS, PRV_M, VA_HOLEPT);
  // An invalid PTE is a page fault even if its PPN names a hole.
  CHECK_TRAP(36, try_ld(VA_HOLEBAD + 8, &v), CAUSE_LOAD_PAGE, PRV_M, VA_HOLEBAD + 8);
  return 0xc0;
}

// U-mode: a U=0 page whose PPN is a hole is a page fault (permission first), not an access fault.
static u64 u_hole(u64 arg) {
  (void)arg;
  u64 v;
  CHECK_TRAP(40, try_ld(VA_HOLE + 8, &v), CAUSE_LOAD_PAGE, PRV_M, VA_HOLE + 8);
  return 0xc1;
}

int main(void) {
  priv_init();
  vm_check_layout();
  struct vm v = vm_new(3, 0);
  // Straddling code: the second virtual page maps a *lower* physical page.
  put_straddle(PA(1), PA(0));
  vm_map(&v, VA_X, PA(1), 0, PTE_LEAF | PTE_X);
  vm_map(&v, VA_X + PAGE_SIZE, PA(0), 0, PTE_LEAF | PTE_X);
  put_straddle(PA(2), PA(3));
  vm_map(&v, VA_XF, PA(2), 0, PTE_LEAF | PTE_X);
  vm_map(&v, VA_XR, PA(2), 0, PTE_LEAF | PTE_X);
  vm_map(&v, VA_XR + PAGE_SIZE, PA(3), 0, PTE_LEAF | PTE_R);
  // Data crossing.
  fill_page(PA(5), 0);
  fill_page(PA(4), 0);
  *(volatile u32*)(PA(5) + 0xffc) = 0x44332211u;
  *(volatile u32*)(PA(4)) = 0x88776655u;
  vm_map(&v, VA_D, PA(5), 0, PTE_LEAF | PTE_R | PTE_W);
  vm_map(&v, VA_D + PAGE_SIZE, PA(4), 0, PTE_LEAF | PTE_R | PTE_W);
  vm_map(&v, VA_DF, PA(6), 0, PTE_LEAF | PTE_R | PTE_W);
  vm_map(&v, VA_DF + PAGE_SIZE, PA(7), 0, PTE_LEAF | PTE_R);
  vm_map(&v, VA_HOLEBAD - PAGE_SIZE, PA(6), 0, PTE_LEAF | PTE_R | PTE_W);
  // Faults.
  vm_map(&v, VA_HOLE, HOLE, 0, PTE_LEAF | PTE_RWX);
  vm_map(&v, VA_HOLEBAD, HOLE, 0, PTE_A | PTE_D | PTE_RWX);  // V=0
  *vm_pte(&v, VA_HOLEPT, 1) = make_pte(HOLE + 0x10000, PTE_V);
  vm_activate(&v);

  CHECK_EQ(1, run_as(PRV_S, s_cross, 0), 0xc0);
  CHECK_EQ(2, *(volatile unsigned short*)(PA(5) + 0xffa), 0x0708);
  CHECK_EQ(3, *(volatile u32*)(PA(5) + 0xffc), 0x03040506u);
  CHECK_EQ(4, *(volatile unsigned short*)(PA(4)), 0x0102);
  CHECK_EQ(5, run_as_u(u_hole, 0), 0xc1);
  vm_off();
  return 0;
}
