// Machine-level CSRs read and written from M-mode: identification, mstatus/sstatus WARL rules,
// delegation registers, mtvec/mepc legalisation, menvcfg/senvcfg, PMP, and the illegal-instruction
// rules for unknown and read-only CSRs (priv spec "Machine-Level CSRs", "CSR Field Specifications").
#include "priv.h"

static u64 misa_expected(void) {
  u64 ext = 0;
  const char* letters = "ACDFHIMSU";
  for (const char* p = letters; *p; ++p) ext |= 1ull << (*p - 'A');
  return (2ull << 62) | ext;  // MXL=2: XLEN 64
}

int main(void) {
  priv_init();

  // --- identification ---
  CHECK_EQ(2, csr_read(misa), misa_expected());
  CHECK_EQ(3, csr_read(mhartid), 0);
  (void)csr_read(mvendorid);
  (void)csr_read(marchid);
  (void)csr_read(mimpid);
  CHECK_EQ(4, TRY_CSRR(0xf15), NOTRAP);  // mconfigptr exists in priv 1.12+

  // --- mstatus ---
  const u64 saved = csr_read(mstatus);
  u64 base = saved & ~(MSTATUS_MPP | MSTATUS_MIE | MSTATUS_SIE | MSTATUS_MPRV);
  // MPP is WARL over {U,S,M}; 2 is reserved and must never read back.
  for (u64 m = 0; m < 4; ++m) {
    csr_write(mstatus, base | (m << MPP_SHIFT));
    u64 got = mpp_of(csr_read(mstatus));
    if (m == 2)
      CHECK(10, got != 2);
    else
      CHECK_EQ(11, got, m);
  }
  // SXL/UXL are read-only 2 (no XLEN switching); writes of other values are ignored.
  csr_write(mstatus, base & ~(MSTATUS_SXL | MSTATUS_UXL));
  CHECK_EQ(12, (csr_read(mstatus) & (MSTATUS_SXL | MSTATUS_UXL)), (2ull << 34) | (2ull << 32));
  csr_write(mstatus, (base & ~(MSTATUS_SXL | MSTATUS_UXL)) | (1ull << 34) | (1ull << 32));
  CHECK_EQ(13, (csr_read(mstatus) & (MSTATUS_SXL | MSTATUS_UXL)), (2ull << 34) | (2ull << 32));
  // SD summarises FS (and XS/VS): set only when some state is Dirty.
  for (u64 fs = 0; fs < 4; ++fs) {
    csr_write(mstatus, (base & ~MSTATUS_FS) | (fs << 13));
    u64 s = csr_read(mstatus);
    CHECK_EQ(14, (s & MSTATUS_FS) >> 13, fs);
    CHECK_EQ(15, (s >> 63), fs == 3 ? 1 : 0);
  }
  // Writing all ones: only fields the hart implements may read back as one. WPRI and fields of
  // unimplemented extensions (VS: no V; XS: no custom state; SPELP/SDT/MPELP/MDT; xBE: the hart is
  // little-endian only) must be read-only zero ("CSR Field Specifications", WPRI).
  csr_write(mie, 0);
  csr_write(mstatus, ~0ull);
  {
    u64 s = csr_read(mstatus);
    const u64 allowed = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
                        MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |
                        MSTATUS_TSR | MSTATUS_UXL | MSTATUS_SXL | MSTATUS_GVA | MSTATUS_MPV | MSTATUS_SD;
    CHECK_EQ(16, s & ~allowed, 0);
    // With S-mode implemented these must all be writable.
    const u64 must = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
                     MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR |
                     MSTATUS_SD;
    CHECK_EQ(17, s & must, must);
  }
  csr_write(mstatus, base & ~(MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_GVA |
                              MSTATUS_MPV | MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPIE));

  // --- sstatus is a restricted view of mstatus (priv spec "Supervisor Status Register") ---
  {
    const u64 s_bits = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
    u64 m0 = csr_read(mstatus);
    csr_write(mstatus, m0 | s_bits | MSTATUS_MPIE | MSTATUS_TVM | MSTATUS_TSR | MSTATUS_TW | (1ull << MPP_SHIFT) |
                           MSTATUS_FS);
    u64 ss = csr_read(sstatus);
    CHECK_EQ(20, ss & s_bits, s_bits);
    CHECK_EQ(21, ss & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW |
                       MSTATUS_TSR | MSTATUS_SXL | MSTATUS_MPV | MSTATUS_GVA),
             0);
    CHECK_EQ(22, (ss & MSTATUS_UXL) >> 32, 2);
    CHECK_EQ(23, ss & MSTATUS_FS, MSTATUS_FS);
    CHECK_EQ(24, ss >> 63, 1);  // SD visible in sstatus too
    // Writing sstatus changes only the S fields of mstatus.
    csr_write(sstatus, 0);
    u64 m1 = csr_read(mstatus);
    CHECK_EQ(25, m1 & s_bits, 0);
    CHECK_EQ(26, m1 & (MSTATUS_MPIE | MSTATUS_TVM | MSTATUS_TSR | MSTATUS_TW | MSTATUS_MPP),
             MSTATUS_MPIE | MSTATUS_TVM | MSTATUS_TSR | MSTATUS_TW | (1ull << MPP_SHIFT));
    CHECK_EQ(27, m1 & MSTATUS_FS, 0);
    csr_write(sstatus, ~0ull);
    u64 m2 = csr_read(mstatus);
    CHECK_EQ(28, m2 & s_bits, s_bits);
    CHECK_EQ(29, m2 & MSTATUS_MIE, 0);  // an M-only bit is not reachable through sstatus
    CHECK_EQ(30, mpp_of(m2), 1);
    CHECK_EQ(31, m2 & MSTATUS_FS, MSTATUS_FS);
    csr_write(mstatus, m0);
  }

  // --- medeleg / mideleg ---
  csr_write(medeleg, ~0ull);
  {
    u64 d = csr_read(medeleg);
    CHECK_EQ(40, (d >> 11) & 1, 0);  // ECALL from M can never be delegated
    // Causes that can occur below M (fetch/load/store faults, illegal, breakpoint, U/S ECALL,
    // page faults) are delegable on this hart.
    const u64 want = (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) | (1ull << 5) | (1ull << 6) |
                     (1ull << 7) | (1ull << 8) | (1ull << 9) | (1ull << 12) | (1ull << 13) | (1ull << 15);
    CHECK_EQ(41, d & want, want);
  }
  csr_write(medeleg, 0);
  CHECK_EQ(42, csr_read(medeleg), 0);
  // mideleg: with H, VSSIP/VSTIP/VSEIP (2, 6, 10) and SGEIP (12, GEILEN>0) are read-only one;
  // the S-level bits 1, 5, 9 are writable.
  csr_write(mideleg, 0);
  CHECK_EQ(43, csr_read(mideleg), 0x1444);
  csr_write(mideleg, ~0ull);
  CHECK_EQ(44, csr_read(mideleg) & 0x1666, 0x1666);
  csr_write(mideleg, 0);
  CHECK_EQ(45, csr_read(mideleg), 0x1444);

  // --- mie / mip ---
  csr_write(mie, MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP);
  CHECK_EQ(50, csr_read(mie), MIP_SSIP | MIP_MSIP | MIP_STIP | MIP_MTIP | MIP_SEIP | MIP_MEIP);
  csr_write(mie, 0);
  CHECK_EQ(51, csr_read(mie), 0);
  // From M, SSIP/STIP/SEIP are writable in mip; MSIP/MTIP/MEIP are read-only (driven by CLINT/PLIC).
  csr_write(mip, MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP);
  CHECK_EQ(52, csr_read(mip) & (MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_MSIP | MIP_MTIP | MIP_MEIP),
           MIP_SSIP | MIP_STIP | MIP_SEIP);
  csr_write(mip, 0);
  CHECK_EQ(53, csr_read(mip) & (MIP_SSIP | MIP_STIP | MIP_SEIP), 0);

  // --- mtvec: MODE 0 direct, 1 vectored, >= 2 reserved (WARL: must read back a legal mode) ---
  {
    u64 tv = csr_read(mtvec);
    u64 b = (u64)priv_mvec_tab;
    csr_write(mtvec, b);
    CHECK_EQ(60, csr_read(mtvec), b);
    csr_write(mtvec, b | 1);
    CHECK_EQ(61, csr_read(mtvec), b | 1);
    csr_write(mtvec, b | 2);
    CHECK(62, (csr_read(mtvec) & 3) < 2);
    csr_write(mtvec, b | 3);
    CHECK(63, (csr_read(mtvec) & 3) < 2);
    csr_write(mtvec, tv);
    // stvec follows the same rules.
    u64 sv = csr_read(stvec);
    csr_write(stvec, b | 1);
    CHECK_EQ(64, csr_read(stvec), b | 1);
    csr_write(stvec, b | 2);
    CHECK(65, (csr_read(stvec) & 3) < 2);
    csr_write(stvec, b | 3);
    CHECK(66, (csr_read(stvec) & 3) < 2);
    csr_write(stvec, sv);
  }

  // --- mepc/sepc: bit 0 always zero; with C (IALIGN=16) bit 1 is kept ---
  csr_write(mepc, 0x80001237ull);
  CHECK_EQ(70, csr_read(mepc), 0x80001236ull);
  csr_write(mepc, ~0ull);
  CHECK_EQ(71, csr_read(mepc), ~1ull);
  csr_write(sepc, 0x80001233ull);
  CHECK_EQ(72, csr_read(sepc), 0x80001232ull);

  // --- plain read/write registers ---
  {
    u64 ms = csr_read(mscratch);
    csr_write(mscratch, 0x0123456789abcdefull);
    CHECK_EQ(73, csr_read(mscratch), 0x0123456789abcdefull);
    csr_write(mscratch, ms);
    csr_write(mtval, 0xfedcba9876543210ull);
    CHECK_EQ(74, csr_read(mtval), 0xfedcba9876543210ull);
    csr_write(mcause, CAUSE_INTR | 7);  // WLRL: any supported cause must be holdable
    CHECK_EQ(75, csr_read(mcause), CAUSE_INTR | 7);
    csr_write(mcause, 13);
    CHECK_EQ(76, csr_read(mcause), 13);
  }

  // --- counters: mcounteren/scounteren are 32-bit, cycle/instret advance, minstret writable ---
  csr_write(mcounteren, ~0ull);
  CHECK_EQ(80, csr_read(mcounteren) & 7, 7);
  CHECK_EQ(81, csr_read(mcounteren) >> 32, 0);
  csr_write(mcounteren, 0);
  CHECK_EQ(82, csr_read(mcounteren), 0);
  csr_write(scounteren, 7);
  CHECK_EQ(83, csr_read(scounteren) & 7, 7);
  csr_write(scounteren, 0);
  {
    u64 i0 = csr_read(instret);
    for (volatile int i = 0; i < 10; ++i) {
    }
    u64 i1 = csr_read(instret);
    CHECK(84, i1 > i0 + 10);
    csr_write(minstret, 1000000);
    u64 i2 = csr_read(minstret);
    CHECK(85, i2 >= 1000000 && i2 < 1000100);
    u64 t0 = csr_read(time);
    for (volatile int i = 0; i < 100; ++i) {
    }
    CHECK(86, csr_read(time) > t0);
    CHECK(87, csr_read(cycle) != 0);
  }

  // --- menvcfg / senvcfg (priv spec "Machine Environment Configuration Register") ---
  // Implemented: FIOM, ADUE (Svadu), PBMTE (Svpbmt), STCE (Sstc). No Zicbom/Zicboz, Ssnpm,
  // Zicfilp/Zicfiss, Ssdbltrp: CBIE/CBCFE/CBZE/PMM/LPE/SSE/DTE are read-only zero.
  csr_write(menvcfg, ~0ull);
  CHECK_EQ(90, csr_read(menvcfg), ENVCFG_FIOM | ENVCFG_ADUE | ENVCFG_PBMTE | ENVCFG_STCE);
  csr_write(menvcfg, 0);
  CHECK_EQ(91, csr_read(menvcfg), 0);
  csr_write(senvcfg, ~0ull);
  CHECK_EQ(92, csr_read(senvcfg), ENVCFG_FIOM);
  csr_write(senvcfg, 0);
  CHECK_EQ(93, csr_read(senvcfg), 0);

  // --- PMP CSRs accept writes (all fields WARL) ---
  csr_write(pmpaddr1, 0x12345ull);
  CHECK_EQ(100, csr_read(pmpaddr1), 0x12345ull);
  csr_write(pmpaddr15, 0x2000ull);
  CHECK_EQ(101, csr_read(pmpaddr15), 0x2000ull);
  csr_write(pmpcfg2, 0x0d0b09ull);  // entries 8-10 TOR with various permissions, OFF above
  CHECK_EQ(102, csr_read(pmpcfg2), 0x0d0b09ull);
  // R=0,W=1 is reserved: it must not read back.
  csr_write(pmpcfg2, 0x0eull);
  CHECK(103, (csr_read(pmpcfg2) & 3) != 2);
  csr_write(pmpcfg2, 0);
  csr_write(pmpaddr1, 0);
  csr_write(pmpaddr15, 0);
  CHECK_EQ(104, csr_read(pmpcfg0), 0x1f);

  // --- CSRs that do not exist on this RV64 hart: illegal, mtval = instruction bits ---
  CHECK_TRAP(110, TRY_CSRR(0x310), CAUSE_ILLEGAL, PRV_M, INSN_CSRR_A0(0x310));  // mstatush: RV32 only
  CHECK_TRAP(111, TRY_CSRR(0xc80), CAUSE_ILLEGAL, PRV_M, INSN_CSRR_A0(0xc80));  // cycleh: RV32 only
  CHECK_TRAP(112, TRY_CSRR(0x3a1), CAUSE_ILLEGAL, PRV_M, INSN_CSRR_A0(0x3a1));  // pmpcfg1: RV32 only
  CHECK_TRAP(113, TRY_CSRR(0x31a), CAUSE_ILLEGAL, PRV_M, INSN_CSRR_A0(0x31a));  // menvcfgh: RV32 only
  CHECK_TRAP(114, TRY_CSRW(0x0ff, 1), CAUSE_ILLEGAL, PRV_M, INSN_CSRW_A1(0x0ff));  // unallocated

  // --- writing a read-only CSR (address bits 11:10 = 11) is illegal even in M ---
  CHECK_TRAP(120, TRY_CSRW(mhartid, 0), CAUSE_ILLEGAL, PRV_M, INSN_CSRW_A1(0xf14));
  CHECK_TRAP(121, TRY_CSRW(mvendorid, 0), CAUSE_ILLEGAL, PRV_M, INSN_CSRW_A1(0xf11));
  CHECK_TRAP(122, TRY_CSRW(cycle, 0), CAUSE_ILLEGAL, PRV_M, INSN_CSRW_A1(0xc00));
  CHECK_TRAP(123, TRY_CSRW(time, 0), CAUSE_ILLEGAL, PRV_M, INSN_CSRW_A1(0xc01));
  // CSRRS with rs1 != x0 is a write attempt even when the register holds zero ("CSR Instructions").
  CHECK_TRAP(124, TRY_INSN("li a1, 0\ncsrrs a0, mhartid, a1"), CAUSE_ILLEGAL, PRV_M, 0xf145a573u);
  // ...but rs1 = x0 / uimm = 0 do not write, so reading a read-only CSR that way is fine.
  CHECK_EQ(125, TRY_INSN("csrrs a0, mhartid, x0"), NOTRAP);
  CHECK_EQ(126, TRY_INSN("csrrsi a0, cycle, 0"), NOTRAP);
  CHECK_EQ(127, TRY_INSN("csrrci a0, instret, 0"), NOTRAP);
  // FP CSRs are inaccessible while mstatus.FS = Off.
  csr_clear(mstatus, MSTATUS_FS);
  CHECK_TRAP(128, TRY_CSRR(fcsr), CAUSE_ILLEGAL, PRV_M, INSN_CSRR_A0(0x003));
  csr_set(mstatus, 1ull << 13);
  CHECK_EQ(129, TRY_CSRR(fcsr), NOTRAP);
  return 0;
}
