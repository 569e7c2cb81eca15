// Page-table construction for Sv39/Sv48/Sv57 tests (priv spec "Sv39", "Sv48", "Sv57",
// "Virtual Address Translation Process"). Tables come from a static pool; M-mode builds them
// with physical addresses (M is never translated) and S/U code then runs through them.
//
// Every address space built with vm_new() maps:
//  - VA 0x8000_0000 -> PA 0x8000_0000, 1 GiB, RWX, U=0: the program itself for S-mode;
//  - VA 0xC000_0000 -> PA 0x8000_0000, 1 GiB, RWX, U=1: the same RAM for U-mode code (run_as_u),
//    since S-mode may never execute a U page and U-mode may never touch an S page.
// Test mappings go elsewhere (below 0x8000_0000 or in the upper half).
#pragma once
#include "priv.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_NC (1ull << 61)  // Svpbmt PBMT=1
#define PTE_IO (2ull << 61)  // Svpbmt PBMT=2
#define PTE_PBMT (3ull << 61)
#define PTE_N (1ull << 63)  // Svnapot
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_LEAF (PTE_V | PTE_A | PTE_D)

#define U_ALIAS 0x40000000ull  // VA of U-mode code = PA + U_ALIAS

// Physical scratch areas far above the program image, 2 MiB aligned.
#define SCRATCH_PA 0x81000000ull
#define PAGE_SIZE 4096ull
#define MEGA (2ull << 20)
#define GIGA (1ull << 30)

#ifndef PT_POOL_PAGES
#define PT_POOL_PAGES 48
#endif
static u64 pt_pool[PT_POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned pt_used;

extern char _end[];

static inline u64* pt_alloc(void) {
  CHECK(900, pt_used < PT_POOL_PAGES);
  u64* t = pt_pool[pt_used++];
  for (int i = 0; i < 512; ++i) t[i] = 0;
  return t;
}

static inline u64 pte_ppn_pa(u64 pte) { return ((pte >> 10) & ((1ull << 44) - 1)) << 12; }
static inline u64 make_pte(u64 pa, u64 flags) { return ((pa >> 12) << 10) | flags; }

struct vm {
  u64* root;
  int levels;  // 3 Sv39, 4 Sv48, 5 Sv57
  u64 asid;
};

// Pointer to the PTE for `va` at `level` (0 = 4 KiB leaf level), creating pointer PTEs on the way.
static inline u64* vm_pte(struct vm* v, u64 va, int level) {
  u64* t = v->root;
  for (int l = v->levels - 1; l > level; --l) {
    u64* e = &t[(va >> (12 + 9 * l)) & 511];
    if (!(*e & PTE_V)) *e = make_pte((u64)pt_alloc(), PTE_V);
    CHECK(901, (*e & (PTE_R | PTE_X)) == 0);  // never walk through a leaf
    t = (u64*)pte_ppn_pa(*e);
  }
  return &t[(va >> (12 + 9 * level)) & 511];
}

static inline u64* vm_map(struct vm* v, u64 va, u64 pa, int level, u64 flags) {
  u64* e = vm_pte(v, va, level);
  *e = make_pte(pa, flags);
  return e;
}

static inline u64 vm_satp(const struct vm* v) {
  u64 mode = v->levels == 3 ? 8 : v->levels == 4 ? 9 : 10;
  return (mode << 60) | (v->asid << 44) | ((u64)v->root >> 12);
}

static inline struct vm vm_new(int levels, u64 asid) {
  struct vm v = {pt_alloc(), levels, asid};
  vm_map(&v, RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX);
  vm_map(&v, RAM_BASE + U_ALIAS, RAM_BASE, 2, PTE_LEAF | PTE_RWX | PTE_U);
  return v;
}

static inline void sfence_all(void) { asm volatile("sfence.vma" ::: "memory"); }
static inline void sfence_va(u64 va) { asm volatile("sfence.vma %0, zero" ::"r"(va) : "memory"); }

static inline void vm_activate(const struct vm* v) {
  csr_write(satp, vm_satp(v));
  sfence_all();
}

static inline void vm_off(void) {
  csr_write(satp, 0);
  sfence_all();
}

// U-mode code runs through the U=1 alias of RAM.
static inline u64 run_as_u(u64 (*fn)(u64), u64 arg) { return run_as_off(PRV_U, fn, arg, U_ALIAS); }

// Fills a physical 4 KiB page with a recognisable pattern: word i = tag + i.
static inline void fill_page(u64 pa, u64 tag) {
  volatile u64* p = (volatile u64*)pa;
  for (int i = 0; i < 512; ++i) p[i] = tag + (u64)i;
}

static inline void vm_check_layout(void) {
  // The scratch area must not overlap the program image, stack or page-table pool.
  CHECK(902, (u64)_end < SCRATCH_PA);
}

// Launders a pointer-derived address so the compiler does not apply type-based aliasing rules
// to the physical accesses tests make through it.
static inline u64 hide(u64 x) {
  asm("" : "+r"(x));
  return x;
}

// Sign-extends a virtual address of `bits` significant bits.
static inline u64 canon(u64 va, int bits) { return (u64)((i64)(va << (64 - bits)) >> (64 - bits)); }
