// Sv39 permission checks (priv spec "Virtual Address Translation Process" step 5, "Memory
// Privilege in sstatus Register"): R/W/X per access type, U=1 pages from U and S (SUM), MXR
// making execute-only pages readable, S-mode never fetching from U pages, U-mode never touching
// S pages. All faults go to M (nothing delegated) with mtval = the VA.
#include "vm.h"

#define VA_P 0x10000000ull
#define NPAGES 10
static u64 dpage[NPAGES][512] __attribute__((aligned(4096)));

static const u64 perm[NPAGES] = {
    PTE_R,         PTE_R | PTE_W,         PTE_X,         PTE_R | PTE_X,         PTE_RWX,
    PTE_U | PTE_R, PTE_U | PTE_R | PTE_W, PTE_U | PTE_X, PTE_U | PTE_R | PTE_X, PTE_U | PTE_RWX,
};
static u64 va(int i) { return VA_P + (u64)i * PAGE_SIZE; }

// Expected outcome of load/store/fetch on page i in `mode` with the given SUM/MXR.
static u64 want_load(int i, u64 mode, int sum, int mxr) {
  u64 p = perm[i];
  int readable = (p & PTE_R) || (mxr && (p & PTE_X));
  int user_ok = mode == PRV_U ? (p & PTE_U) != 0 : (!(p & PTE_U) || sum);
  return readable && user_ok ? NOTRAP : CAUSE_LOAD_PAGE;
}
static u64 want_store(int i, u64 mode, int sum) {
  u64 p = perm[i];
  int user_ok = mode == PRV_U ? (p & PTE_U) != 0 : (!(p & PTE_U) || sum);
  return (p & PTE_W) && user_ok ? NOTRAP : CAUSE_STORE_PAGE;
}
static u64 want_fetch(int i, u64 mode) {
  u64 p = perm[i];
  // SUM never lets S-mode execute a U page.
  int user_ok = mode == PRV_U ? (p & PTE_U) != 0 : !(p & PTE_U);
  return (p & PTE_X) && user_ok ? NOTRAP : CAUSE_FETCH_PAGE;
}

// arg: bit 0 SUM, bit 1 MXR (set by M before entering), bits 8+ mode.
static u64 probe(u64 arg) {
  int sum = arg & 1, mxr = (arg >> 1) & 1;
  u64 mode = arg >> 8;
  for (int i = 0; i < NPAGES; ++i) {
    u64 v;
    u64 a = va(i) + 0x100;
    u64 c = try_ld(a, &v);
    u64 w = want_load(i, mode, sum, mxr);
    if (c != w) priv_fail("load", 10 + i, c, w, arg);
    if (c == NOTRAP) {
      CHECK_EQ(30, v, ((u64)i << 12) + 32);
    } else {
      CHECK_EQ(31, T.tval, a);
      CHECK_EQ(32, T.level, PRV_M);
      CHECK_EQ(33, mpp_of(T.status), mode);
    }
    // Stores write the value the word already has, so success leaves memory unchanged.
    c = try_sd(a + 8, ((u64)i << 12) + 33);
    w = want_store(i, mode, sum);
    if (c != w) priv_fail("store", 40 + i, c, w, arg);
    if (c != NOTRAP) CHECK_EQ(50, T.tval, a + 8);
    // An AMO needs write permission (and read): faults as a store.
    c = try_amoadd_d(a + 16, 0);
    w = (want_store(i, mode, sum) == NOTRAP && want_load(i, mode, sum, 0) == NOTRAP) ? NOTRAP : CAUSE_STORE_PAGE;
    if (c != w) priv_fail("amo", 60 + i, c, w, arg);
    c = try_exec(va(i), &v);
    w = want_fetch(i, mode);
    if (c != w) priv_fail("fetch", 70 + i, c, w, arg);
    if (c == NOTRAP)
      CHECK_EQ(80, v, 0x100 + (u64)i);
    else
      CHECK_EQ(81, T.tval, va(i));
  }
  return 0x900d;
}

int main(void) {
  priv_init();
  vm_check_layout();
  struct vm v = vm_new(3, 0);
  for (int i = 0; i < NPAGES; ++i) {
    fill_page((u64)dpage[i], (u64)i << 12);
    if (perm[i] & PTE_X) put_ret_code((u64)dpage[i], 0x100 + (u64)i);
    vm_map(&v, va(i), (u64)dpage[i], 0, PTE_LEAF | perm[i]);
  }
  vm_activate(&v);
  for (u64 mode = PRV_U; mode <= PRV_S; ++mode) {
    for (u64 flags = 0; flags < 4; ++flags) {
      csr_clear(mstatus, MSTATUS_SUM | MSTATUS_MXR);
      if (flags & 1) csr_set(mstatus, MSTATUS_SUM);
      if (flags & 2) csr_set(mstatus, MSTATUS_MXR);
      u64 arg = (mode << 8) | flags;
      u64 r = mode == PRV_U ? run_as_u(probe, arg) : run_as(PRV_S, probe, arg);
      CHECK_EQ(1, r, 0x900d);
    }
  }
  csr_clear(mstatus, MSTATUS_SUM | MSTATUS_MXR);
  // Faulting stores changed nothing; allowed ones wrote the same value back.
  for (int i = 0; i < NPAGES; ++i) {
    CHECK_EQ(2, dpage[i][33], ((u64)i << 12) + 33);
    CHECK_EQ(3, dpage[i][34], ((u64)i << 12) + 34);
  }
  vm_off();
  return 0;
}
