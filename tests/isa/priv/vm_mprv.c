// mstatus.MPRV (priv spec "Memory Privilege in mstatus Register"): M-mode loads and stores are
// translated and protected as if in mstatus.MPP (with SUM/MXR applying), instruction fetches are
// not. The address space used here has no identity mapping, so a wrongly translated fetch or
// stack access would fault. Also satp WARL rules ("Supervisor Address Translation and Protection
// Register"): a write with an unsupported MODE has no effect at all; ASID bits are the low ones.
#include "vm.h"

#define VA_M 0x10000000ull  // S page (U=0), R/W
#define VA_MU 0x10001000ull  // U page, R/W
#define VA_MX 0x10002000ull  // S page, execute-only

static u64 dpage[4][512] __attribute__((aligned(4096)));

static u64 mprv_ld(u64 mpp, u64 va, u64* out) {
  csr_clear(mstatus, MSTATUS_MPP);
  csr_set(mstatus, mpp << MPP_SHIFT);
  register u64 v asm("a0") = 0x0badc0de;
  u64 c0 = trap_begin();
  asm volatile(
      "csrs mstatus, %[mprv]\n"
      ".option push\n.option norvc\n"
      "ld a0, 0(%[va])\n"
      ".option pop\n"
      "csrc mstatus, %[mprv]\n"
      : "+r"(v)
      : [mprv] "r"(MSTATUS_MPRV), [va] "r"(va)
      : "memory");
  u64 c = trap_end(c0);
  *out = v;
  return c;
}

static u64 mprv_sd(u64 mpp, u64 va, u64 val) {
  csr_clear(mstatus, MSTATUS_MPP);
  csr_set(mstatus, mpp << MPP_SHIFT);
  u64 c0 = trap_begin();
  asm volatile(
      "csrs mstatus, %[mprv]\n"
      ".option push\n.option norvc\n"
      "sd %[val], 0(%[va])\n"
      ".option pop\n"
      "csrc mstatus, %[mprv]\n"
      :
      : [mprv] "r"(MSTATUS_MPRV), [va] "r"(va), [val] "r"(val)
      : "memory");
  return trap_end(c0);
}

// Calls code at physical `pa` with MPRV=1/MPP=S: fetches must stay untranslated.
static u64 mprv_call(u64 pa) {
  csr_clear(mstatus, MSTATUS_MPP);
  csr_set(mstatus, PRV_S << MPP_SHIFT);
  register u64 a0 asm("a0") = 0;
  register u64 t asm("t1") = pa;
  asm volatile(
      "csrs mstatus, %[mprv]\n"
      "jalr ra, 0(%[t])\n"
      "csrc mstatus, %[mprv]\n"
      : "+r"(a0)
      : [mprv] "r"(MSTATUS_MPRV), [t] "r"(t)
      : "ra", "memory");
  return a0;
}

int main(void) {
  priv_init();
  vm_check_layout();
  fill_page((u64)dpage[0], 0x1000);
  fill_page((u64)dpage[1], 0x2000);
  fill_page((u64)dpage[2], 0x3000);
  put_ret_code((u64)dpage[3], 0x3c3);
  struct vm v = {pt_alloc(), 3, 0};  // no identity mapping on purpose
  vm_map(&v, VA_M, (u64)dpage[0], 0, PTE_LEAF | PTE_R | PTE_W);
  vm_map(&v, VA_MU, (u64)dpage[1], 0, PTE_LEAF | PTE_R | PTE_W | PTE_U);
  vm_map(&v, VA_MX, (u64)dpage[2], 0, PTE_LEAF | PTE_X);
  vm_activate(&v);
  u64 x;

  // MPP=S: translated through satp.
  CHECK_EQ(1, mprv_ld(PRV_S, VA_M + 8 * 3, &x), NOTRAP);
  CHECK_EQ(2, x, 0x1000 + 3);
  CHECK_EQ(3, mprv_sd(PRV_S, VA_M + 8 * 4, 0x4444), NOTRAP);
  CHECK_EQ(4, dpage[0][4], 0x4444);
  // Unmapped VA: a page fault taken from M (MPP then records M), mtval = VA.
  CHECK_EQ(5, mprv_ld(PRV_S, 0x20000000, &x), CAUSE_LOAD_PAGE);
  CHECK_EQ(6, T.tval, 0x20000000);
  CHECK_EQ(7, T.level, PRV_M);
  CHECK_EQ(8, mpp_of(T.status), PRV_M);
  CHECK_EQ(9, mprv_sd(PRV_S, 0x20000008, 1), CAUSE_STORE_PAGE);
  CHECK_EQ(10, T.tval, 0x20000008);

  // MPP=U: S pages fault, U pages work; SUM does not matter for U.
  CHECK_EQ(11, mprv_ld(PRV_U, VA_M, &x), CAUSE_LOAD_PAGE);
  CHECK_EQ(12, mprv_sd(PRV_U, VA_M, 1), CAUSE_STORE_PAGE);
  CHECK_EQ(13, mprv_ld(PRV_U, VA_MU + 8, &x), NOTRAP);
  CHECK_EQ(14, x, 0x2000 + 1);
  // MPP=S on a U page: needs SUM.
  CHECK_EQ(15, mprv_ld(PRV_S, VA_MU, &x), CAUSE_LOAD_PAGE);
  csr_set(mstatus, MSTATUS_SUM);
  CHECK_EQ(16, mprv_ld(PRV_S, VA_MU + 16, &x), NOTRAP);
  CHECK_EQ(17, x, 0x2000 + 2);
  csr_clear(mstatus, MSTATUS_SUM);
  // MXR: execute-only page readable only with MXR.
  CHECK_EQ(18, mprv_ld(PRV_S, VA_MX + 8, &x), CAUSE_LOAD_PAGE);
  csr_set(mstatus, MSTATUS_MXR);
  CHECK_EQ(19, mprv_ld(PRV_S, VA_MX + 8, &x), NOTRAP);
  CHECK_EQ(20, x, 0x3000 + 1);
  CHECK_EQ(21, mprv_sd(PRV_S, VA_MX + 8, 1), CAUSE_STORE_PAGE);
  csr_clear(mstatus, MSTATUS_MXR);

  // MPP=M: MPRV has no visible effect (physical addresses).
  CHECK_EQ(22, mprv_ld(PRV_M, (u64)&dpage[2][5], &x), NOTRAP);
  CHECK_EQ(23, x, 0x3000 + 5);

  // Fetches ignore MPRV: the code page is only reachable physically.
  CHECK_EQ(24, mprv_call((u64)dpage[3]), 0x3c3);

  // With satp Bare, MPRV=1/MPP=S accesses are not translated.
  vm_off();
  CHECK_EQ(25, mprv_ld(PRV_S, (u64)&dpage[1][6], &x), NOTRAP);
  CHECK_EQ(26, x, 0x2000 + 6);

  // satp: writes with an unsupported MODE are ignored entirely.
  const u64 good = vm_satp(&v) | (5ull << 44);
  csr_write(satp, good);
  CHECK_EQ(30, csr_read(satp), good);
  for (u64 mode = 1; mode < 16; ++mode) {
    if (mode >= 8 && mode <= 10) continue;  // Sv39, Sv48, Sv57
    csr_write(satp, (mode << 60) | (7ull << 44) | 0x1234);
    CHECK_EQ(31, csr_read(satp), good);
  }
  // Sv48 and Sv57 are supported.
  csr_write(satp, (9ull << 60) | 0x1234);
  CHECK_EQ(32, csr_read(satp), (9ull << 60) | 0x1234);
  csr_write(satp, (10ull << 60) | 0x1234);
  CHECK_EQ(33, csr_read(satp), (10ull << 60) | 0x1234);
  // ASIDLEN: the implemented ASID bits are the least significant ones.
  csr_write(satp, (8ull << 60) | (0xffffull << 44));
  {
    u64 asid = (csr_read(satp) >> 44) & 0xffff;
    CHECK_EQ(34, asid & (asid + 1), 0);
  }
  csr_write(satp, 0);
  CHECK_EQ(35, csr_read(satp), 0);
  sfence_all();
  return 0;
}
