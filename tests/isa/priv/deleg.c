// Trap delegation (priv spec "Machine Trap Delegation Registers", "Supervisor Trap Vector Base
// Address Register", "Supervisor Cause Register"): delegated exceptions from U and S land in
// S-mode with scause/sepc/stval/sstatus.SPP/SPIE/SIE set; undelegated ones from S go to M;
// exceptions raised in M are never delegated; stvec/mtvec vectored mode applies to interrupts only.
#include "priv.h"

#define HOLE 0x40000000ull

static void expect_s(int id, u64 got, u64 cause, u64 tval) {
  CHECK_EQ(id, got, cause);
  CHECK_EQ(id, T.level, PRV_S);
  CHECK_EQ(id, T.tval, tval);
}

// In U-mode with exceptions 2, 3, 5, 7, 8 delegated.
static u64 u_delegated(u64 arg) {
  (void)arg;
  u64 v;
  expect_s(10, TRY_WORD(0xc0001073), CAUSE_ILLEGAL, 0xc0001073);
  CHECK_EQ(11, T.status & MSTATUS_SPP, 0);  // came from U
  CHECK_EQ(12, T.status & (MSTATUS_SPIE | MSTATUS_SIE), MSTATUS_SPIE);  // SPIE <- SIE(1), SIE <- 0
  CHECK_EQ(13, T.vec, 0);
  u64 c = TRY_INSN("ebreak");
  expect_s(14, c, CAUSE_BREAKPOINT, T.epc);
  expect_s(15, try_ld(HOLE + 8, &v), CAUSE_LOAD_ACCESS, HOLE + 8);
  expect_s(16, try_sd(HOLE + 16, 1), CAUSE_STORE_ACCESS, HOLE + 16);
  c = TRY_INSN("ecall");
  expect_s(17, c, CAUSE_ECALL_U, 0);
  // Not delegated (medeleg[1] = 0): a fetch access fault still goes to M.
  c = try_exec(HOLE, &v);
  CHECK_EQ(18, c, CAUSE_FETCH_ACCESS);
  CHECK_EQ(19, T.level, PRV_M);
  CHECK_EQ(20, mpp_of(T.status), PRV_U);
  return 0x11;
}

// In S-mode with exception 2 delegated, 5 not.
static u64 s_delegated(u64 arg) {
  (void)arg;
  u64 v;
  csr_set(sstatus, MSTATUS_SIE);
  csr_clear(sstatus, MSTATUS_SPIE);
  expect_s(30, TRY_WORD(0xfe000033), CAUSE_ILLEGAL, 0xfe000033);
  CHECK_EQ(31, T.status & MSTATUS_SPP, MSTATUS_SPP);  // came from S
  CHECK_EQ(32, T.status & (MSTATUS_SPIE | MSTATUS_SIE), MSTATUS_SPIE);
  // SRET restored SIE from SPIE, set SPIE, and set SPP to U.
  u64 ss = csr_read(sstatus);
  CHECK_EQ(33, ss & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SIE | MSTATUS_SPIE);
  csr_clear(sstatus, MSTATUS_SIE);
  CHECK_EQ(34, csr_read(scause), CAUSE_ILLEGAL);
  CHECK_EQ(35, csr_read(stval), 0xfe000033);
  CHECK_EQ(36, csr_read(sepc), T.epc + 4);  // the handler moved it past the instruction
  // Undelegated exception from S goes to M.
  u64 c = try_ld(HOLE, &v);
  CHECK_EQ(37, c, CAUSE_LOAD_ACCESS);
  CHECK_EQ(38, T.level, PRV_M);
  CHECK_EQ(39, mpp_of(T.status), PRV_S);
  CHECK_EQ(40, csr_read(scause), CAUSE_ILLEGAL);  // S trap CSRs untouched by the M trap
  return 0x22;
}

// With medeleg[9] set, ECALL from S reaches S itself.
static u64 s_ecall(u64 arg) {
  (void)arg;
  u64 c = TRY_INSN("ecall");
  expect_s(50, c, CAUSE_ECALL_S, 0);
  return 0x33;
}

static volatile u64 irq_seen[8], irq_vec[8];
static volatile u64 irq_n;
static void clear_irq(u64 cause, u64 level) {
  u64 code = cause & 63;
  if (irq_n < 8) irq_seen[irq_n] = (level << 8) | code, irq_vec[irq_n] = T.vec;
  irq_n = irq_n + 1;
  if (level == PRV_S) {
    // S can clear SSIP itself; STIP/SEIP are only writable in mip: stop them by masking sie.
    if (code == IRQ_SSI) csr_clear(sip, MIP_SSIP);
    if (code == IRQ_STI) csr_clear(sie, MIP_STIP);
    if (code == IRQ_SEI) csr_clear(sie, MIP_SEIP);
  } else {
    csr_clear(mip, 1ull << code);
  }
}

// U-mode with stvec vectored: an exception still goes to BASE, interrupts to BASE + 4*cause.
static u64 u_vectored(u64 arg) {
  (void)arg;
  expect_s(60, TRY_WORD(0xc0001073), CAUSE_ILLEGAL, 0xc0001073);
  CHECK_EQ(61, T.vec, 1);  // slot 0
  return 0x44;
}

static u64 s_vec_probe(u64 arg) {
  (void)arg;
  CHECK_EQ(70, irq_n, 0);
  u64 c0 = T.count;
  csr_set(sstatus, MSTATUS_SIE);
  CHECK_EQ(71, irq_n, 1);  // taken right after the sstatus write
  CHECK_EQ(72, T.count, c0 + 1);
  CHECK_EQ(73, T.cause, CAUSE_INTR | IRQ_SSI);
  CHECK_EQ(74, T.vec, 1 + IRQ_SSI);
  CHECK_EQ(75, T.status & (MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE), MSTATUS_SPP | MSTATUS_SPIE);
  CHECK_EQ(76, csr_read(scause), CAUSE_INTR | IRQ_SSI);
  csr_clear(sstatus, MSTATUS_SIE);
  return 0x55;
}

int main(void) {
  priv_init();
  irq_hook = clear_irq;

  // U-mode exceptions delegated to S.
  csr_write(medeleg, (1 << 2) | (1 << 3) | (1 << 5) | (1 << 7) | (1 << 8));
  csr_set(mstatus, MSTATUS_SIE);
  CHECK_EQ(1, run_as(PRV_U, u_delegated, 0), 0x11);

  // S-mode exceptions: delegated ones stay in S, others go to M.
  csr_write(medeleg, 1 << 2);
  CHECK_EQ(2, run_as(PRV_S, s_delegated, 0), 0x22);

  // ECALL from S delegated (run_as's own exit ECALL is then forwarded by the S handler).
  csr_write(medeleg, 1 << 9);
  CHECK_EQ(3, run_as(PRV_S, s_ecall, 0), 0x33);

  // Exceptions raised in M-mode are never delegated, whatever medeleg says.
  csr_write(medeleg, ~0ull);
  csr_write(scause, 0x66);
  CHECK_EQ(4, TRY_WORD(0xc0001073), CAUSE_ILLEGAL);
  CHECK_EQ(5, T.level, PRV_M);
  CHECK_EQ(6, TRY_INSN("ecall"), CAUSE_ECALL_M);
  CHECK_EQ(7, T.level, PRV_M);
  CHECK_EQ(8, csr_read(scause), 0x66);
  csr_write(medeleg, 0);

  // Vectored stvec: exceptions use BASE (slot 0)...
  csr_write(stvec, (u64)priv_svec_tab | 1);
  csr_write(medeleg, 1 << 2);
  CHECK_EQ(9, run_as(PRV_U, u_vectored, 0), 0x44);
  // ...interrupts use BASE + 4 * cause. SSIP/STIP/SEIP pending and delegated: taken on entry to U,
  // one after the other in priority order SEI > SSI > STI.
  csr_write(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
  csr_write(mie, MIP_SSIP | MIP_STIP | MIP_SEIP);
  csr_write(mip, MIP_SSIP | MIP_STIP | MIP_SEIP);
  irq_n = 0;
  CHECK_EQ(10, run_as(PRV_U, u_vectored, 0), 0x44);
  CHECK_EQ(11, irq_n, 3);
  CHECK_EQ(12, irq_seen[0], (PRV_S << 8) | IRQ_SEI);
  CHECK_EQ(13, irq_seen[1], (PRV_S << 8) | IRQ_SSI);
  CHECK_EQ(14, irq_seen[2], (PRV_S << 8) | IRQ_STI);
  CHECK_EQ(15, irq_vec[0], 1 + IRQ_SEI);
  CHECK_EQ(16, irq_vec[1], 1 + IRQ_SSI);
  CHECK_EQ(17, irq_vec[2], 1 + IRQ_STI);
  // From S with SIE=0 the pending SSI waits; setting SIE takes it at once, through slot 1.
  csr_write(mip, MIP_SSIP);
  csr_write(mie, MIP_SSIP);
  csr_clear(mstatus, MSTATUS_SIE);
  irq_n = 0;
  CHECK_EQ(18, run_as(PRV_S, s_vec_probe, 0), 0x55);
  csr_write(mip, 0);
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  csr_write(medeleg, 0);
  csr_write(stvec, (u64)priv_svec);

  // Vectored mtvec: an M-level interrupt (STIP, not delegated) goes to BASE + 4*5, an exception
  // to BASE.
  csr_write(mtvec, (u64)priv_mvec_tab | 1);
  CHECK_EQ(20, TRY_INSN("ecall"), CAUSE_ECALL_M);
  CHECK_EQ(21, T.vec, 1);
  irq_n = 0;
  csr_write(mie, MIP_STIP);
  csr_write(mip, MIP_STIP);
  csr_set(mstatus, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK_EQ(22, irq_n, 1);
  CHECK_EQ(23, T.cause, CAUSE_INTR | IRQ_STI);
  CHECK_EQ(24, T.vec, 1 + IRQ_STI);
  CHECK_EQ(25, T.level, PRV_M);
  csr_write(mie, 0);
  csr_write(mtvec, (u64)priv_mvec);
  return 0;
}
