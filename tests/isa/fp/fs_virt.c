// FS gating and Dirty tracking while virtualized (V=1, VS-mode).
//
// H chapter, "Virtual Supervisor Status Register (vsstatus)": "When V=1, both vsstatus.FS and the
// HS-level sstatus.FS are in effect. Attempts to execute a floating-point instruction when either
// field is 0 (Off) raise an illegal-instruction exception. Modifying the floating-point state when
// V=1 causes both fields to be set to 3 (Dirty)." In VS-mode, sstatus accesses vsstatus.
// The illegal-instruction exceptions here stay cause 2 (never virtual-instruction, 22).
//
// The test enters VS-mode with hgatp and vsatp Bare (guest physical = physical), and leaves it
// with an ecall (cause 10) that the M-mode handler turns into a return to M.
#include "fp.h"

#define FS_MASK (3ull << 13)
#define SD_BIT (1ull << 63)
#define MPP_MASK (3ull << 11)
#define MPV_BIT (1ull << 39)

static volatile u64 g_resume_m;  // where an ecall from VS resumes, in M-mode
static volatile u64 g_vs_traps, g_vs_cause;

u64 trap_handler(u64 cause, u64 epc, u64 tval) {
  (void)tval;
  if (cause == 10) {  // ecall from VS: back to M at g_resume_m
    csr_clear(mstatus, MPV_BIT);
    csr_set(mstatus, MPP_MASK);
    return g_resume_m;
  }
  g_vs_traps++;
  g_vs_cause = cause;
  uint16_t lo = *(volatile uint16_t*)epc;
  return epc + ((lo & 3) == 3 ? 4 : 2);
}

static void set_fs(u64 m, u64 vs) {
  csr_clear(mstatus, FS_MASK);
  csr_set(mstatus, m << 13);
  csr_clear(vsstatus, FS_MASK);
  csr_set(vsstatus, vs << 13);
}

// Runs `body` in VS-mode; returns what sstatus read inside VS after the body (that is vsstatus).
#define IN_VS(body)                                                                        \
  ({                                                                                       \
    u64 ss_;                                                                               \
    g_vs_traps = 0;                                                                        \
    g_vs_cause = 0;                                                                        \
    asm volatile("la t0, 1f\n\tsd t0, 0(%1)\n\t"                                          \
                 "li t0, %2\n\tcsrc mstatus, t0\n\tli t0, %3\n\tcsrs mstatus, t0\n\t"     \
                 "la t0, 2f\n\tcsrw mepc, t0\n\tmret\n"                                   \
                 "2:\n\t" body "\n\tcsrr t1, sstatus\n\tecall\n"                         \
                 "1:\n\tmv %0, t1"                                                         \
                 : "=r"(ss_)                                                               \
                 : "r"(&g_resume_m), "i"(MPP_MASK), "i"((1ull << 11) | MPV_BIT)           \
                 : "t0", "t1", "ft0", "ft1", "memory");                                    \
    ss_;                                                                                   \
  })

static void expect_dirty_both(int line, u64 ss_in_vs) {
  u64 ms = csr_read(mstatus), vs = csr_read(vsstatus);
  chk(line, "mstatus.FS/SD", (fres){ms & (FS_MASK | SD_BIT), 0}, FS_MASK | SD_BIT, 0);
  chk(line, "vsstatus.FS/SD", (fres){vs & (FS_MASK | SD_BIT), 0}, FS_MASK | SD_BIT, 0);
  chk(line, "sstatus in VS", (fres){ss_in_vs & (FS_MASK | SD_BIT), 0}, FS_MASK | SD_BIT, 0);
  chkv(line, g_vs_traps, 0);
}

int main(void) {
  // Guest physical = physical: Bare G-stage and VS-stage; one PMP entry so S-level fetches and
  // accesses are permitted whatever the PMP implementation.
  csr_write(pmpaddr0, ~0ull >> 10);
  csr_write(pmpcfg0, 0x1f);
  csr_write(hgatp, 0);
  csr_write(vsatp, 0);
  csr_write(satp, 0);

  // Both Clean: an FP register write in VS dirties both.
  set_fs(2, 2);
  expect_dirty_both(__LINE__, IN_VS("fmv.w.x ft0, zero"));
  // HS-level already Dirty, vsstatus Clean: vsstatus must still become Dirty.
  set_fs(3, 2);
  expect_dirty_both(__LINE__, IN_VS("fmv.d.x ft0, sp"));
  // vsstatus already Dirty, HS-level Clean: mstatus must still become Dirty.
  set_fs(2, 3);
  expect_dirty_both(__LINE__, IN_VS("fmv.d.x ft0, sp"));
  // Initial/Initial, and a CSR write as the only modification.
  set_fs(1, 1);
  expect_dirty_both(__LINE__, IN_VS("csrwi fflags, 0"));
  set_fs(2, 2);
  expect_dirty_both(__LINE__, IN_VS("csrwi frm, 1"));
  csr_write(frm, 0);
  // Twice in a row from Clean, to catch a stale "already dirty" shortcut across mret.
  set_fs(2, 2);
  expect_dirty_both(__LINE__, IN_VS("fmv.w.x ft1, zero\n\tfadd.s ft0, ft1, ft1"));
  set_fs(2, 2);
  expect_dirty_both(__LINE__, IN_VS("fmv.w.x ft1, zero\n\tfadd.s ft0, ft1, ft1"));

  // Either field Off: FP traps with cause 2, and neither field changes.
  set_fs(1, 0);
  IN_VS("fmv.w.x ft0, zero");
  chkv(__LINE__, g_vs_traps, 1);
  chkv(__LINE__, g_vs_cause, 2);
  chkv(__LINE__, (csr_read(mstatus) & FS_MASK) >> 13, 1);
  chkv(__LINE__, (csr_read(vsstatus) & FS_MASK) >> 13, 0);
  set_fs(0, 1);
  IN_VS("csrr t0, fcsr");
  chkv(__LINE__, g_vs_traps, 1);
  chkv(__LINE__, g_vs_cause, 2);
  chkv(__LINE__, (csr_read(mstatus) & FS_MASK) >> 13, 0);
  chkv(__LINE__, (csr_read(vsstatus) & FS_MASK) >> 13, 1);
  set_fs(2, 0);
  IN_VS("flw ft0, 0(sp)");
  chkv(__LINE__, g_vs_traps, 1);
  chkv(__LINE__, g_vs_cause, 2);

  set_fs(1, 0);
  return fp_result();
}
