// MRET/SRET state transitions and the trap-virtualisation bits (priv spec "Trap-Return
// Instructions", "Privilege and Global Interrupt-Enable Stack in mstatus", "Virtualization
// Support in mstatus Register"): xIE <- xPIE, xPIE <- 1, xPP <- U, MPRV <- 0 when returning below M;
// SRET illegal in U and in S with TSR=1; WFI illegal in U and in S with TW=1; SFENCE.VMA illegal in U.
#include "priv.h"

static u64 in_mode_probe(void) {
  // Which mode are we in? sstatus is readable in S (and M), mstatus only in M.
  if (TRY_CSRR(mstatus) == NOTRAP) return PRV_M;
  if (TRY_CSRR(sstatus) == NOTRAP) return PRV_S;
  return PRV_U;
}

static u64 report_mode(u64 arg) { return (in_mode_probe() << 8) | arg; }

// MRET to M-mode (MPP=M), returning mstatus as seen right after it.
static u64 mret_to_m(void) {
  u64 st;
  asm volatile(
      "la t0, 1f\n"
      "csrw mepc, t0\n"
      "mret\n"
      "1: csrr %0, mstatus\n"
      "li t0, %1\n"
      "csrc mstatus, t0\n"
      : "=r"(st)
      : "i"(MSTATUS_MPRV)
      : "t0", "memory");
  return st;
}

// S-mode: SRET back to S (SPP=1) and report sstatus after it.
static u64 s_sret_to_s(u64 arg) {
  (void)arg;
  u64 st;
  csr_set(sstatus, MSTATUS_SPP | MSTATUS_SPIE);
  csr_clear(sstatus, MSTATUS_SIE);
  asm volatile(
      "la t0, 1f\n"
      "csrw sepc, t0\n"
      "sret\n"
      "1: csrr %0, sstatus\n"
      : "=r"(st)
      :
      : "t0", "memory");
  CHECK_EQ(20, in_mode_probe(), PRV_S);
  return st;
}

static u64 u_target(u64 arg) { return (in_mode_probe() << 8) | arg; }

// S-mode: SRET to U (SPP=0) running u_target; its return ends run_as.
static u64 s_sret_to_u(u64 arg) {
  csr_clear(sstatus, MSTATUS_SPP | MSTATUS_SPIE);
  csr_set(sstatus, MSTATUS_SIE);
  priv_sret_to((u64)u_target, arg);
}

static u64 s_tsr(u64 tsr) {
  if (tsr) {
    u64 c = TRY_WORD(0x10200073);
    CHECK_EQ(30, c, CAUSE_ILLEGAL);
    CHECK_EQ(31, T.level, PRV_M);
    CHECK_EQ(32, T.tval, 0x10200073);
  }
  // (TSR=0: SRET works, exercised by s_sret_to_s.)
  // TSR does not affect anything else.
  CHECK_EQ(33, TRY_CSRR(sstatus), NOTRAP);
  return 0;
}

static u64 s_wfi(u64 tw) {
  u64 c = TRY_WORD(0x10500073);
  if (tw) {
    CHECK_EQ(40, c, CAUSE_ILLEGAL);
    CHECK_EQ(41, T.level, PRV_M);
    CHECK_EQ(42, T.tval, 0x10500073);
    CHECK_EQ(43, mpp_of(T.status), PRV_S);
  } else {
    CHECK_EQ(44, c, NOTRAP);
  }
  return 0;
}

static u64 u_forbidden(u64 arg) {
  (void)arg;
  // WFI in U is illegal when S-mode exists, even with TW=0 (unless it would complete in bounded
  // time; this hart traps, see "Wait for Interrupt").
  u64 c = TRY_WORD(0x10500073);
  CHECK_EQ(50, c, CAUSE_ILLEGAL);
  CHECK_EQ(51, T.tval, 0x10500073);
  CHECK_EQ(52, mpp_of(T.status), PRV_U);
  c = TRY_WORD(0x10200073);  // SRET
  CHECK_EQ(53, c, CAUSE_ILLEGAL);
  CHECK_EQ(54, T.tval, 0x10200073);
  c = TRY_WORD(0x12000073);  // SFENCE.VMA
  CHECK_EQ(55, c, CAUSE_ILLEGAL);
  CHECK_EQ(56, T.tval, 0x12000073);
  c = TRY_WORD(0x30200073);  // MRET
  CHECK_EQ(57, c, CAUSE_ILLEGAL);
  return 0;
}

static void no_irq(u64 cause, u64 level) { priv_fail("interrupt", 1099, cause, level, 0); }

int main(void) {
  priv_init();

  // MRET to M: MIE <- MPIE, MPIE <- 1, MPP <- U; MPRV survives (new mode is M).
  u64 m = csr_read(mstatus);
  csr_write(mstatus, (m & ~(MSTATUS_MIE | MSTATUS_MPIE)) | MSTATUS_MPP | MSTATUS_MPRV);
  u64 st = mret_to_m();
  CHECK_EQ(1, st & (MSTATUS_MIE | MSTATUS_MPIE), MSTATUS_MPIE);
  CHECK_EQ(2, mpp_of(st), PRV_U);
  CHECK_EQ(3, st & MSTATUS_MPRV, MSTATUS_MPRV);
  // MPIE=1 -> MIE=1 (no interrupt is enabled in mie, so nothing is taken).
  irq_hook = no_irq;
  csr_write(mstatus, (m & ~MSTATUS_MIE) | MSTATUS_MPIE | MSTATUS_MPP);
  st = mret_to_m();
  CHECK_EQ(4, st & (MSTATUS_MIE | MSTATUS_MPIE), MSTATUS_MIE | MSTATUS_MPIE);
  CHECK_EQ(5, st & MSTATUS_MPRV, 0);
  csr_clear(mstatus, MSTATUS_MIE);

  // MRET to S and U selects the mode from MPP and clears MPRV.
  csr_set(mstatus, MSTATUS_MPRV);
  CHECK_EQ(6, run_as(PRV_S, report_mode, 7), (PRV_S << 8) | 7);
  CHECK_EQ(7, csr_read(mstatus) & MSTATUS_MPRV, 0);
  csr_set(mstatus, MSTATUS_MPRV);
  CHECK_EQ(8, run_as(PRV_U, report_mode, 9), (PRV_U << 8) | 9);
  CHECK_EQ(9, csr_read(mstatus) & MSTATUS_MPRV, 0);
  // The MRET that left M set MPP to U; the ECALL back then recorded U again.
  CHECK_EQ(10, mpp_of(csr_read(mstatus)), PRV_U);

  // SRET executed in M-mode is legal; it returns to sstatus.SPP and clears MPRV.
  csr_set(mstatus, MSTATUS_MPRV | MSTATUS_SPIE);
  csr_clear(mstatus, MSTATUS_SIE);
  CHECK_EQ(11, run_as_sret(PRV_S, report_mode, 3), (PRV_S << 8) | 3);
  st = csr_read(mstatus);
  CHECK_EQ(12, st & MSTATUS_MPRV, 0);
  CHECK_EQ(13, st & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SIE | MSTATUS_SPIE);
  csr_clear(mstatus, MSTATUS_SIE);
  CHECK_EQ(14, run_as_sret(PRV_U, report_mode, 4), (PRV_U << 8) | 4);

  // SRET in S to S: SIE <- SPIE(1), SPIE <- 1, SPP <- U.
  st = run_as(PRV_S, s_sret_to_s, 0);
  CHECK_EQ(21, st & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SIE | MSTATUS_SPIE);
  // SRET in S to U: SIE <- SPIE(0), SPIE <- 1.
  CHECK_EQ(22, run_as(PRV_S, s_sret_to_u, 5), (PRV_U << 8) | 5);
  st = csr_read(mstatus);
  CHECK_EQ(23, st & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SPIE);

  // TSR: SRET in S is illegal; in M it is not affected.
  csr_set(mstatus, MSTATUS_TSR);
  run_as(PRV_S, s_tsr, 1);
  CHECK_EQ(34, run_as_sret(PRV_S, report_mode, 6), (PRV_S << 8) | 6);
  csr_clear(mstatus, MSTATUS_TSR);
  run_as(PRV_S, s_tsr, 0);

  // TW: WFI in S is illegal. With TW=0 it is legal; an enabled pending interrupt (SSIP,
  // delegated, with SIE=0 in S so it is not taken) makes it complete at once.
  csr_set(mstatus, MSTATUS_TW);
  run_as(PRV_S, s_wfi, 1);
  // TW never affects M-mode (SSIP pending and enabled, MIE=0: WFI just completes).
  csr_write(mie, MIP_SSIP);
  csr_write(mip, MIP_SSIP);
  CHECK_EQ(45, TRY_WORD(0x10500073), NOTRAP);
  csr_write(mip, 0);
  csr_write(mie, 0);
  csr_clear(mstatus, MSTATUS_TW);
  csr_clear(mstatus, MSTATUS_SIE);
  csr_write(mideleg, MIP_SSIP);
  csr_write(mie, MIP_SSIP);
  csr_write(mip, MIP_SSIP);
  run_as(PRV_S, s_wfi, 0);
  csr_write(mip, 0);
  csr_write(mie, 0);
  csr_write(mideleg, 0);

  // U-mode: WFI, SRET, SFENCE.VMA, MRET are all illegal.
  run_as(PRV_U, u_forbidden, 0);
  return 0;
}
