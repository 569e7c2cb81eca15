// Body of vm_sv39.c / vm_sv48.c / vm_sv57.c: translation through every page size the scheme has
// (priv spec "Sv39", "Sv48", "Sv57"): 4 KiB pages, 2 MiB, 1 GiB, 512 GiB and 256 TiB superpages
// (the big ones map physical 0, so RAM shows up at VA base + 0x8000_0000), upper-half addresses,
// execution through pages and superpages, invalid PTEs, misaligned superpages and non-canonical
// addresses (page faults with xtval = VA), a 64 KiB Svnapot region, a reserved bit on a
// superpage leaf, and delegation of page faults to S-mode.
// Define LEVELS (3, 4 or 5) before including.
#include "vm.h"

#define VA_BITS (12 + 9 * LEVELS)
#define VA_4K 0x10000000ull            // 4 KiB pages: VA_4K + i * 4 KiB
#define VA_2M 0x20000000ull            // 2 MiB superpage -> SCRATCH_PA
#define VA_2M_BAD (VA_2M + MEGA)       // 2 MiB leaf with a misaligned PPN
#define VA_1G 0x100000000ull           // 1 GiB superpage -> PA 0x8000_0000
#define VA_1G_BAD 0x140000000ull       // 1 GiB leaf with a misaligned PPN
#define VA_512G 0x8000000000ull        // 512 GiB superpage -> PA 0 (Sv48, Sv57)
#define VA_256T (1ull << 48)           // 256 TiB superpage -> PA 0 (Sv57)
#define VA_HI 0xffffffff00000000ull    // upper half (canonical in every scheme)
#define VA_NAPOT 0x30000000ull         // 64 KiB Svnapot region -> SCRATCH_PA + 0x180000
#define VA_RSV2M 0x30200000ull         // 2 MiB leaf with reserved bit 58 set

static u64 dpage[8][512] __attribute__((aligned(4096)));
#define DPA(i) ((u64)dpage[i])

static struct vm V;

// Addresses whose low VA_BITS bits name a mapped page but whose upper bits are not a sign
// extension: a hart that ignored the upper bits would translate them.
static u64 noncanon_lo(void) { return VA_4K | (1ull << (VA_BITS + 1)); }
static u64 noncanon_hi(void) { return VA_HI & ~(1ull << 62); }

static u64 s_xlate(u64 arg) {
  (void)arg;
  u64 v;
  // 4 KiB pages.
  for (u64 i = 0; i < 512; i += 37) {
    CHECK_EQ(10, try_ld(VA_4K + 8 * i, &v), NOTRAP);
    CHECK_EQ(11, v, 0x1000 + i);
  }
  CHECK_EQ(12, try_sd(VA_4K + PAGE_SIZE + 0x18, 0xabcdef), NOTRAP);
  // Two virtual pages aliasing one physical page.
  CHECK_EQ(13, try_sd(VA_4K + 2 * PAGE_SIZE + 0x20, 0x5151), NOTRAP);
  CHECK_EQ(14, try_ld(VA_4K + 3 * PAGE_SIZE + 0x20, &v), NOTRAP);
  CHECK_EQ(15, v, 0x5151);
  // 2 MiB superpage: the offset inside it comes from the VA.
  CHECK_EQ(16, try_ld(VA_2M + 0x123000 + 0x40, &v), NOTRAP);
  CHECK_EQ(17, v, 0x2123000 + 8);
  CHECK_EQ(18, try_ld(VA_2M + 0x1ff000 + 0xff8, &v), NOTRAP);
  CHECK_EQ(19, v, 0x21ff000 + 511);
  CHECK_EQ(20, try_sd(VA_2M + 0x7000, 0x77), NOTRAP);
  // 1 GiB superpage over RAM.
  CHECK_EQ(21, try_ld(VA_1G + (DPA(0) - RAM_BASE) + 8 * 5, &v), NOTRAP);
  CHECK_EQ(22, v, 0x1000 + 5);
  CHECK_EQ(23, try_sd(VA_1G + (DPA(5) - RAM_BASE) + 8, 0x1616), NOTRAP);
#if LEVELS >= 4
  // 512 GiB superpage mapping physical 0: RAM appears at VA_512G + PA.
  CHECK_EQ(24, try_ld(VA_512G + DPA(0) + 8 * 7, &v), NOTRAP);
  CHECK_EQ(25, v, 0x1000 + 7);
  CHECK_EQ(26, try_sd(VA_512G + DPA(5) + 16, 0x1717), NOTRAP);
#endif
#if LEVELS >= 5
  CHECK_EQ(27, try_ld(VA_256T + DPA(0) + 8 * 9, &v), NOTRAP);
  CHECK_EQ(28, v, 0x1000 + 9);
  CHECK_EQ(29, try_sd(VA_256T + DPA(5) + 24, 0x1818), NOTRAP);
#endif
  // Upper half of the address space.
  CHECK_EQ(30, try_ld(VA_HI + 8 * 3, &v), NOTRAP);
  CHECK_EQ(31, v, 0x4000 + 3);
  // Execution through a 4 KiB page, a 2 MiB and a 1 GiB superpage.
  CHECK_EQ(32, try_exec(VA_4K + 4 * PAGE_SIZE, &v), NOTRAP);
  CHECK_EQ(33, v, 0x123);
  CHECK_EQ(34, try_exec(VA_2M + 0x100000, &v), NOTRAP);
  CHECK_EQ(35, v, 0x222);
  CHECK_EQ(36, try_exec(VA_1G + (DPA(6) - RAM_BASE), &v), NOTRAP);
  CHECK_EQ(37, v, 0x333);

  // Svnapot 64 KiB: ppn[3:0] comes from the VA.
  for (u64 k = 0; k < 16; k += 5) {
    CHECK_EQ(38, try_ld(VA_NAPOT + k * PAGE_SIZE + 8, &v), NOTRAP);
    CHECK_EQ(39, v, 0x2180000 + (k << 12) + 1);
  }

  // Invalid PTE: page faults with mtval = VA (nothing is delegated here).
  u64 bad = VA_4K + 5 * PAGE_SIZE + 0x28;
  CHECK_TRAP(40, try_ld(bad, &v), CAUSE_LOAD_PAGE, PRV_M, bad);
  CHECK_EQ(41, v, 0x0badc0de);
  CHECK_EQ(42, mpp_of(T.status), PRV_S);
  CHECK_TRAP(43, try_sd(bad, 1), CAUSE_STORE_PAGE, PRV_M, bad);
  CHECK_TRAP(44, try_amoadd_d(bad, 1), CAUSE_STORE_PAGE, PRV_M, bad);  // AMOs fault as stores
  CHECK_TRAP(45, try_exec(VA_4K + 5 * PAGE_SIZE, &v), CAUSE_FETCH_PAGE, PRV_M, VA_4K + 5 * PAGE_SIZE);
  CHECK_EQ(46, T.epc, VA_4K + 5 * PAGE_SIZE);
  // Nothing mapped at all (pointer PTEs missing).
  CHECK_TRAP(47, try_ld(0x7000000000ull & ((1ull << (VA_BITS - 1)) - 1), &v), CAUSE_LOAD_PAGE, PRV_M,
             0x7000000000ull & ((1ull << (VA_BITS - 1)) - 1));

  // Misaligned superpages are reserved: page fault.
  CHECK_TRAP(48, try_ld(VA_2M_BAD + 0x10, &v), CAUSE_LOAD_PAGE, PRV_M, VA_2M_BAD + 0x10);
  CHECK_TRAP(49, try_ld(VA_1G_BAD + 0x10, &v), CAUSE_LOAD_PAGE, PRV_M, VA_1G_BAD + 0x10);
  // Reserved PTE bits 60:54 on a superpage leaf.
  CHECK_TRAP(55, try_ld(VA_RSV2M + 0x18, &v), CAUSE_LOAD_PAGE, PRV_M, VA_RSV2M + 0x18);

  // Non-canonical addresses: page fault (load/store/fetch) with xtval = the full address.
  u64 nc = noncanon_lo();
  CHECK_TRAP(50, try_ld(nc, &v), CAUSE_LOAD_PAGE, PRV_M, nc);
  CHECK_TRAP(51, try_sd(nc, 1), CAUSE_STORE_PAGE, PRV_M, nc);
  CHECK_TRAP(52, try_exec(noncanon_lo() + 3 * PAGE_SIZE, &v), CAUSE_FETCH_PAGE, PRV_M, nc + 3 * PAGE_SIZE);
  nc = noncanon_hi();
  CHECK_TRAP(53, try_ld(nc + 8, &v), CAUSE_LOAD_PAGE, PRV_M, nc + 8);
  // The first address past the bottom half (bit VA_BITS-1 set, upper bits clear).
  nc = 1ull << (VA_BITS - 1);
  CHECK_TRAP(54, try_ld(nc, &v), CAUSE_LOAD_PAGE, PRV_M, nc);
  return 0x600d;
}

// With page faults delegated, S-mode sees them in scause/stval/sepc with SPP=1.
static u64 s_delegated(u64 arg) {
  (void)arg;
  u64 v;
  u64 bad = VA_4K + 5 * PAGE_SIZE + 0x30;
  CHECK_TRAP(60, try_ld(bad, &v), CAUSE_LOAD_PAGE, PRV_S, bad);
  CHECK_EQ(61, T.status & MSTATUS_SPP, MSTATUS_SPP);
  CHECK_EQ(62, csr_read(scause), CAUSE_LOAD_PAGE);
  CHECK_EQ(63, csr_read(stval), bad);
  CHECK_TRAP(64, try_sw(bad, 1), CAUSE_STORE_PAGE, PRV_S, bad);
  CHECK_TRAP(65, try_exec(VA_4K + 5 * PAGE_SIZE, &v), CAUSE_FETCH_PAGE, PRV_S, VA_4K + 5 * PAGE_SIZE);
  CHECK_EQ(66, T.epc, VA_4K + 5 * PAGE_SIZE);
  u64 nc = noncanon_lo();
  CHECK_TRAP(67, try_ld(nc, &v), CAUSE_LOAD_PAGE, PRV_S, nc);
  return 0x600e;
}

// U-mode (running through the U alias): U pages work, S pages fault.
static u64 u_xlate(u64 arg) {
  (void)arg;
  u64 v;
  CHECK_EQ(70, try_ld(VA_4K + 6 * PAGE_SIZE + 8, &v), NOTRAP);
  CHECK_EQ(71, v, 0x7000 + 1);
  CHECK_TRAP(72, try_ld(VA_4K + 8, &v), CAUSE_LOAD_PAGE, PRV_M, VA_4K + 8);
  CHECK_EQ(73, mpp_of(T.status), PRV_U);
  CHECK_TRAP(74, try_exec(VA_4K + 4 * PAGE_SIZE, &v), CAUSE_FETCH_PAGE, PRV_M, VA_4K + 4 * PAGE_SIZE);
  return 0x600f;
}

int main(void) {
  priv_init();
  vm_check_layout();
  fill_page(DPA(0), 0x1000);
  fill_page(DPA(1), 0x2000);
  fill_page(DPA(2), 0x3000);
  fill_page(DPA(3), 0x4000);
  fill_page(DPA(5), 0x6000);
  fill_page(DPA(7), 0x7000);
  for (u64 off = 0; off < MEGA; off += PAGE_SIZE) fill_page(SCRATCH_PA + off, 0x2000000 + off);
  put_ret_code(DPA(4), 0x123);
  put_ret_code(SCRATCH_PA + 0x100000, 0x222);
  put_ret_code(DPA(6), 0x333);

  V = vm_new(LEVELS, 0);
  vm_map(&V, VA_4K, DPA(0), 0, PTE_LEAF | PTE_R);
  vm_map(&V, VA_4K + PAGE_SIZE, DPA(1), 0, PTE_LEAF | PTE_R | PTE_W);
  vm_map(&V, VA_4K + 2 * PAGE_SIZE, DPA(2), 0, PTE_LEAF | PTE_R | PTE_W);
  vm_map(&V, VA_4K + 3 * PAGE_SIZE, DPA(2), 0, PTE_LEAF | PTE_R);
  vm_map(&V, VA_4K + 4 * PAGE_SIZE, DPA(4), 0, PTE_LEAF | PTE_X);
  vm_map(&V, VA_4K + 5 * PAGE_SIZE, DPA(5), 0, PTE_A | PTE_D | PTE_RWX);  // V=0
  vm_map(&V, VA_4K + 6 * PAGE_SIZE, DPA(7), 0, PTE_LEAF | PTE_R | PTE_U);
  vm_map(&V, VA_2M, SCRATCH_PA, 1, PTE_LEAF | PTE_RWX);
  vm_map(&V, VA_2M_BAD, SCRATCH_PA + PAGE_SIZE, 1, PTE_LEAF | PTE_RWX);
  vm_map(&V, VA_1G, RAM_BASE, 2, PTE_LEAF | PTE_RWX);
  vm_map(&V, VA_1G_BAD, RAM_BASE + MEGA, 2, PTE_LEAF | PTE_RWX);
#if LEVELS >= 4
  vm_map(&V, VA_512G, 0, 3, PTE_LEAF | PTE_R | PTE_W);
#endif
#if LEVELS >= 5
  vm_map(&V, VA_256T, 0, 4, PTE_LEAF | PTE_R | PTE_W);
#endif
  vm_map(&V, VA_HI, DPA(3), 0, PTE_LEAF | PTE_R);
  for (u64 k = 0; k < 16; ++k)
    *vm_pte(&V, VA_NAPOT + k * PAGE_SIZE, 0) =
        make_pte(SCRATCH_PA + 0x180000, PTE_LEAF | PTE_R | PTE_N) | (0x8ull << 10);
  vm_map(&V, VA_RSV2M, SCRATCH_PA, 1, PTE_LEAF | PTE_R | (1ull << 58));

  vm_activate(&V);
  CHECK_EQ(1, csr_read(satp), vm_satp(&V));
  // M-mode is never translated.
  CHECK_EQ(2, *(volatile u64*)DPA(0), 0x1000);

  CHECK_EQ(3, run_as(PRV_S, s_xlate, 0), 0x600d);
  // Stores made through the mappings reached the right physical words.
  CHECK_EQ(4, dpage[1][3], 0xabcdef);
  CHECK_EQ(5, *(volatile u64*)(SCRATCH_PA + 0x7000), 0x77);
  CHECK_EQ(6, dpage[5][1], 0x1616);
#if LEVELS >= 4
  CHECK_EQ(7, dpage[5][2], 0x1717);
#endif
#if LEVELS >= 5
  CHECK_EQ(8, dpage[5][3], 0x1818);
#endif

  csr_write(medeleg, (1 << CAUSE_FETCH_PAGE) | (1 << CAUSE_LOAD_PAGE) | (1 << CAUSE_STORE_PAGE));
  CHECK_EQ(9, run_as(PRV_S, s_delegated, 0), 0x600e);
  csr_write(medeleg, 0);

  CHECK_EQ(10, run_as_u(u_xlate, 0), 0x600f);
  vm_off();
  return 0;
}
