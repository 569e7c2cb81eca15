// CSR privilege checks from S- and U-mode (priv spec "CSR Address Mapping Conventions": bits 9:8
// give the lowest privilege that may access a CSR, bits 11:10 = 11 mark it read-only), counter
// gating by mcounteren/scounteren ("Counter-Enable Registers"), mstatus.TVM, and Sstc's stimecmp
// gating. Nothing is delegated, so every illegal instruction lands in M with mtval = the bits.
#include "priv.h"

static void expect_illegal_m(int id, u64 got, u32 bits, u64 from) {
  CHECK_EQ(id, got, CAUSE_ILLEGAL);
  CHECK_EQ(id, T.level, PRV_M);
  CHECK_EQ(id, T.tval, bits);
  CHECK_EQ(id, mpp_of(T.status), from);
}

static u64 s_checks(u64 arg) {
  (void)arg;
  // Machine CSRs are out of reach of S-mode.
  expect_illegal_m(10, TRY_CSRR(mstatus), INSN_CSRR_A0(0x300), PRV_S);
  expect_illegal_m(11, TRY_CSRW(mscratch, 5), INSN_CSRW_A1(0x340), PRV_S);
  expect_illegal_m(12, TRY_CSRR(mhartid), INSN_CSRR_A0(0xf14), PRV_S);
  expect_illegal_m(13, TRY_CSRR(medeleg), INSN_CSRR_A0(0x302), PRV_S);
  expect_illegal_m(14, TRY_CSRR(mip), INSN_CSRR_A0(0x344), PRV_S);
  expect_illegal_m(15, TRY_CSRR(mcycle), INSN_CSRR_A0(0xb00), PRV_S);
  expect_illegal_m(16, TRY_CSRR(pmpaddr0), INSN_CSRR_A0(0x3b0), PRV_S);
  expect_illegal_m(17, TRY_CSRW(menvcfg, 0), INSN_CSRW_A1(0x30a), PRV_S);
  // Supervisor CSRs are fine.
  CHECK_EQ(20, TRY_CSRR(sstatus), NOTRAP);
  CHECK_EQ(21, TRY_CSRR(stvec), NOTRAP);
  CHECK_EQ(22, TRY_CSRR(sepc), NOTRAP);
  CHECK_EQ(23, TRY_CSRR(scause), NOTRAP);
  CHECK_EQ(24, TRY_CSRR(stval), NOTRAP);
  CHECK_EQ(25, TRY_CSRR(sie), NOTRAP);
  CHECK_EQ(26, TRY_CSRR(sip), NOTRAP);
  CHECK_EQ(27, TRY_CSRR(satp), NOTRAP);
  CHECK_EQ(28, TRY_CSRR(scounteren), NOTRAP);
  CHECK_EQ(29, TRY_CSRR(senvcfg), NOTRAP);
  {
    u64 ss = csr_read(sscratch);  // the S trap stack pointer: put it back
    csr_write(sscratch, 0x1234);
    CHECK_EQ(30, csr_read(sscratch), 0x1234);
    csr_write(sscratch, ss);
  }
  // Writing a read-only CSR, and CSRs that do not exist.
  expect_illegal_m(31, TRY_CSRW(cycle, 0), INSN_CSRW_A1(0xc00), PRV_S);
  expect_illegal_m(32, TRY_CSRW(instret, 0), INSN_CSRW_A1(0xc02), PRV_S);
  expect_illegal_m(33, TRY_CSRR(0x1ff), INSN_CSRR_A0(0x1ff), PRV_S);
  expect_illegal_m(34, TRY_CSRR(0xc80), INSN_CSRR_A0(0xc80), PRV_S);
  // MRET is M-only.
  expect_illegal_m(35, TRY_WORD(0x30200073), 0x30200073, PRV_S);
  return 0x5005;
}

static u64 u_checks(u64 arg) {
  (void)arg;
  expect_illegal_m(40, TRY_CSRR(sstatus), INSN_CSRR_A0(0x100), PRV_U);
  expect_illegal_m(41, TRY_CSRW(sscratch, 1), INSN_CSRW_A1(0x140), PRV_U);
  expect_illegal_m(42, TRY_CSRR(satp), INSN_CSRR_A0(0x180), PRV_U);
  expect_illegal_m(43, TRY_CSRW(stvec, 0), INSN_CSRW_A1(0x105), PRV_U);
  expect_illegal_m(44, TRY_CSRR(sip), INSN_CSRR_A0(0x144), PRV_U);
  expect_illegal_m(45, TRY_CSRR(scounteren), INSN_CSRR_A0(0x106), PRV_U);
  expect_illegal_m(46, TRY_CSRR(mstatus), INSN_CSRR_A0(0x300), PRV_U);
  expect_illegal_m(47, TRY_CSRR(0x14d), INSN_CSRR_A0(0x14d), PRV_U);  // stimecmp
  expect_illegal_m(48, TRY_CSRW(cycle, 0), INSN_CSRW_A1(0xc00), PRV_U);
  expect_illegal_m(49, TRY_WORD(0x10200073), 0x10200073, PRV_U);  // SRET
  expect_illegal_m(50, TRY_WORD(0x30200073), 0x30200073, PRV_U);  // MRET
  // Unprivileged CSRs work in U (FS is on).
  CHECK_EQ(51, TRY_CSRR(fcsr), NOTRAP);
  CHECK_EQ(52, TRY_CSRW(fflags, 0), NOTRAP);
  return 0x5006;
}

// Reads counter `arg` (0 cycle, 1 time, 2 instret, 3 hpmcounter3) and returns the cause or NOTRAP.
static u64 read_counter(u64 arg) {
  if (arg == 0) return TRY_CSRR(cycle);
  if (arg == 1) return TRY_CSRR(time);
  if (arg == 2) return TRY_CSRR(instret);
  return TRY_CSRR(hpmcounter3);
}
static const u32 counter_csr[4] = {0xc00, 0xc01, 0xc02, 0xc03};

static u64 s_tvm(u64 tvm) {
  if (tvm) {
    expect_illegal_m(70, TRY_CSRR(satp), INSN_CSRR_A0(0x180), PRV_S);
    expect_illegal_m(71, TRY_CSRW(satp, 0), INSN_CSRW_A1(0x180), PRV_S);
    expect_illegal_m(72, TRY_WORD(0x12000073), 0x12000073, PRV_S);  // sfence.vma x0, x0
  } else {
    CHECK_EQ(73, TRY_CSRR(satp), NOTRAP);
    CHECK_EQ(74, TRY_CSRW(satp, 0), NOTRAP);
    CHECK_EQ(75, TRY_WORD(0x12000073), NOTRAP);
  }
  return 0;
}

static u64 s_stimecmp(u64 allowed) {
  u64 r = TRY_CSRR(0x14d);
  if (allowed) {
    CHECK_EQ(80, r, NOTRAP);
    CHECK_EQ(81, TRY_CSRW(0x14d, ~0ull), NOTRAP);
  } else {
    expect_illegal_m(82, r, INSN_CSRR_A0(0x14d), PRV_S);
  }
  return 0;
}

int main(void) {
  priv_init();
  CHECK_EQ(1, run_as(PRV_S, s_checks, 0), 0x5005);
  CHECK_EQ(2, run_as(PRV_U, u_checks, 0), 0x5006);

  // Counter gating: S needs mcounteren[i]; U needs mcounteren[i] and scounteren[i].
  for (u64 c = 0; c < 4; ++c) {
    for (u64 mc = 0; mc < 2; ++mc) {
      for (u64 sc = 0; sc < 2; ++sc) {
        csr_write(mcounteren, mc << c);
        csr_write(scounteren, sc << c);
        u64 rs = run_as(PRV_S, read_counter, c);
        if (mc) {
          CHECK_EQ(60, rs, NOTRAP);
        } else {
          CHECK_EQ(61, rs, CAUSE_ILLEGAL);
          CHECK_EQ(62, T.tval, INSN_CSRR_A0(counter_csr[c]));
        }
        u64 ru = run_as(PRV_U, read_counter, c);
        if (mc && sc) {
          CHECK_EQ(63, ru, NOTRAP);
        } else {
          CHECK_EQ(64, ru, CAUSE_ILLEGAL);
          CHECK_EQ(65, T.tval, INSN_CSRR_A0(counter_csr[c]));
          CHECK_EQ(66, mpp_of(T.status), PRV_U);
        }
      }
    }
  }
  // A counter bit only gates its own counter.
  csr_write(mcounteren, 1);
  csr_write(scounteren, 1);
  CHECK_EQ(67, run_as(PRV_U, read_counter, 0), NOTRAP);
  CHECK_EQ(68, run_as(PRV_U, read_counter, 2), CAUSE_ILLEGAL);
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);

  // mstatus.TVM traps satp accesses and SFENCE.VMA in S-mode ("Virtualization Support").
  csr_set(mstatus, MSTATUS_TVM);
  run_as(PRV_S, s_tvm, 1);
  csr_clear(mstatus, MSTATUS_TVM);
  run_as(PRV_S, s_tvm, 0);
  // TVM does not affect M-mode.
  csr_set(mstatus, MSTATUS_TVM);
  CHECK_EQ(76, TRY_CSRR(satp), NOTRAP);
  CHECK_EQ(77, TRY_WORD(0x12000073), NOTRAP);
  csr_clear(mstatus, MSTATUS_TVM);

  // Sstc: stimecmp below M needs menvcfg.STCE and mcounteren.TM (Sstc "stimecmp").
  csr_write(menvcfg, 0);
  csr_write(mcounteren, 2);
  run_as(PRV_S, s_stimecmp, 0);
  csr_write(menvcfg, ENVCFG_STCE);
  csr_write(mcounteren, 0);
  run_as(PRV_S, s_stimecmp, 0);
  csr_write(mcounteren, 2);
  run_as(PRV_S, s_stimecmp, 1);
  csr_write(menvcfg, 0);
  csr_write(mcounteren, 0);
  return 0;
}
