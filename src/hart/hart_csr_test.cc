// CSR behaviour of the hart: WARL legalisation and register aliasing through the host interface
// (read_csr_raw / write_csr_raw), and the privilege rules of CSR instructions executed in each of
// M, HS, U, VS and VU. The expected values come from the privileged specification and the
// H-extension checklist in docs/h-extension.md (section numbers cited as [doc §n]).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "hart/bus.h"
#include "hart/csr.h"
#include "hart/hart.h"

namespace rvkvm {
namespace {

constexpr u64 kRamBase = 0x8000'0000;
constexpr u64 kRamSize = 1ull << 20;
constexpr u64 kCode = kRamBase + 0x1000;
constexpr u64 kTrapVec = kRamBase + 0x2000;

// ---- instruction encoders (Zicsr only; the word layouts are those of the unprivileged spec) ----
constexpr u32 enc_i(u32 imm12, u32 rs1, u32 f3, u32 rd, u32 opc) {
  return ((imm12 & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc;
}
constexpr u32 csrrw(u32 rd, u16 csr, u32 rs1) { return enc_i(csr, rs1, 1, rd, 0x73); }
constexpr u32 csrrs(u32 rd, u16 csr, u32 rs1) { return enc_i(csr, rs1, 2, rd, 0x73); }

// The five operating modes of an H-capable hart [doc §0].
enum class Mode { M, HS, U, VS, VU };
constexpr Mode kModes[] = {Mode::M, Mode::HS, Mode::U, Mode::VS, Mode::VU};
const char* name(Mode m) {
  switch (m) {
    case Mode::M: return "M";
    case Mode::HS: return "HS";
    case Mode::U: return "U";
    case Mode::VS: return "VS";
    case Mode::VU: return "VU";
  }
  return "?";
}
Priv nominal(Mode m) { return m == Mode::M ? Priv::M : (m == Mode::HS || m == Mode::VS) ? Priv::S : Priv::U; }
bool virt(Mode m) { return m == Mode::VS || m == Mode::VU; }

constexpr u64 kNapotAll = (1ull << 54) - 1;  // pmpaddr of a NAPOT region covering every address
constexpr u64 kPmpNapotRwx = 0x1f;           // pmpcfg byte: A=NAPOT, X, W, R

// Guest RAM on a host page boundary, like an mmap'ed region. (A plain std::vector is only 16-byte
// aligned; hart_exec_test.cc checks that case separately.)
struct AlignedRam {
  explicit AlignedRam(std::size_t size) : p(static_cast<u8*>(std::aligned_alloc(4096, size))) { std::memset(p, 0, size); }
  ~AlignedRam() { std::free(p); }
  AlignedRam(const AlignedRam&) = delete;
  AlignedRam& operator=(const AlignedRam&) = delete;
  u8& operator[](std::size_t i) { return p[i]; }
  u8* data() { return p; }
  u8* p;
};

struct Outcome {
  bool trapped = false;
  u64 cause = 0, tval = 0, epc = 0, mstatus = 0, tval2 = 0, tinst = 0;
  u64 rd = 0;  // x5 after the instruction
};

class HartCsrTest : public ::testing::Test {
 protected:
  HartCsrTest() : ram_(kRamSize), hart_(bus_, config()) {
    bus_.add_ram(kRamBase, kRamSize, ram_.data());
    prepare();
  }

  static HartConfig config() {
    HartConfig c;
    c.clock = ClockKind::instret;
    return c;
  }

  u64 csr(u16 num) {
    u64 v = 0;
    EXPECT_TRUE(hart_.read_csr_raw(num, v)) << "csr 0x" << std::hex << num;
    return v;
  }
  void set_csr(u16 num, u64 v) { EXPECT_TRUE(hart_.write_csr_raw(num, v)) << "csr 0x" << std::hex << num; }

  // A freshly reset hart in a permissive machine configuration: every trap goes to M-mode
  // (medeleg=0), PMP grants everything, counters and Sstc are enabled at every level and FP is on.
  void prepare() {
    hart_.reset(kCode);
    set_csr(csr::mtvec, kTrapVec);
    set_csr(csr::medeleg, 0);
    set_csr(csr::pmpaddr0, kNapotAll);
    set_csr(csr::pmpcfg0, kPmpNapotRwx);
    set_csr(csr::mcounteren, 0xffffffff);
    set_csr(csr::hcounteren, 0xffffffff);
    set_csr(csr::scounteren, 0xffffffff);
    set_csr(csr::menvcfg, envcfg::STCE);
    set_csr(csr::henvcfg, envcfg::STCE);
    set_csr(csr::mstatus, (csr(csr::mstatus) & ~mstatus::FS) | (1ull << mstatus::kFsShift));
    set_csr(csr::vsstatus, (csr(csr::vsstatus) & ~mstatus::FS) | (1ull << mstatus::kFsShift));
  }

  // Executes one instruction at kCode in mode `m` with x6 = rs1_value.
  Outcome exec(u32 insn, Mode m, u64 rs1_value = 0) {
    std::memcpy(&ram_[kCode - kRamBase], &insn, 4);
    hart_.invalidate_code(&ram_[kCode - kRamBase], 4);
    hart_.set_x(5, 0xdead'beef);
    hart_.set_x(6, rs1_value);
    hart_.set_pc(kCode);
    hart_.set_priv(nominal(m), virt(m));
    u64 traps = hart_.stats().traps;
    (void)hart_.run(1);
    Outcome o;
    o.trapped = hart_.stats().traps != traps;
    o.rd = hart_.x(5);
    if (o.trapped) {
      o.cause = csr(csr::mcause);
      o.tval = csr(csr::mtval);
      o.epc = csr(csr::mepc);
      o.mstatus = csr(csr::mstatus);
      o.tval2 = csr(csr::mtval2);
      o.tinst = csr(csr::mtinst);
    }
    return o;
  }

  // Checks the M-mode trap state every illegal/virtual-instruction trap must leave [doc §1.1, §2.2].
  void expect_insn_trap(const Outcome& o, u64 cause, u32 insn, Mode m) {
    ASSERT_TRUE(o.trapped) << "expected cause " << cause;
    EXPECT_EQ(o.cause, cause);
    EXPECT_EQ(o.tval, insn) << "mtval must hold the instruction bits";
    EXPECT_EQ(o.epc, kCode);
    EXPECT_EQ((o.mstatus & mstatus::MPP) >> mstatus::kMppShift, static_cast<u64>(nominal(m)));
    EXPECT_EQ((o.mstatus & mstatus::MPV) != 0, virt(m));
    EXPECT_EQ(o.mstatus & mstatus::GVA, 0u) << "no guest virtual address in mtval";
    EXPECT_EQ(o.tval2, 0u);
    EXPECT_EQ(o.tinst, 0u) << "mtinst must be 0 for illegal/virtual instruction [doc §5]";
    EXPECT_EQ(hart_.pc(), kTrapVec);
    EXPECT_EQ(hart_.priv(), Priv::M);
    EXPECT_FALSE(hart_.virt());
    EXPECT_EQ(o.rd, 0xdead'beefu) << "a trapping CSR instruction must not write rd";
  }

  AlignedRam ram_;
  Bus bus_;
  Hart hart_;
};

// =============================================================================================
// mstatus / sstatus / vsstatus / hstatus

TEST_F(HartCsrTest, SstatusIsARestrictedViewOfMstatus) {
  set_csr(csr::mstatus, 0);
  set_csr(csr::sstatus, ~0ull);
  u64 m = csr(csr::mstatus);
  // Writable through sstatus: SIE, SPIE, SPP, FS, SUM, MXR [priv "Supervisor Status Register"].
  for (u64 f : {mstatus::SIE, mstatus::SPIE, mstatus::SPP, mstatus::SUM, mstatus::MXR})
    EXPECT_EQ(m & f, f) << std::hex << f;
  EXPECT_EQ(m & mstatus::FS, mstatus::FS);
  EXPECT_NE(m & mstatus::SD, 0u) << "FS=Dirty must set SD";
  // M-only fields are not reachable through sstatus.
  for (u64 f : {mstatus::MIE, mstatus::MPIE, mstatus::MPP, mstatus::MPRV, mstatus::TVM, mstatus::TW, mstatus::TSR,
                mstatus::MPV, mstatus::GVA})
    EXPECT_EQ(m & f, 0u) << std::hex << f;
  EXPECT_EQ(m & mstatus::XS, 0u) << "XS is read-only and there is no additional user state";

  // Reading sstatus shows none of the M-level fields even when they are set.
  set_csr(csr::mstatus, mstatus::MIE | mstatus::MPIE | mstatus::MPP | mstatus::TVM | mstatus::TW | mstatus::TSR |
                            mstatus::MPRV | mstatus::MPV);
  u64 s = csr(csr::sstatus);
  EXPECT_EQ(s & (mstatus::MIE | mstatus::MPIE | mstatus::MPP | mstatus::TVM | mstatus::TW | mstatus::TSR |
                 mstatus::MPRV | mstatus::MPV | mstatus::SXL | mstatus::GVA),
            0u)
      << std::hex << s;
  EXPECT_EQ((s & mstatus::UXL) >> 32, 2u) << "sstatus.UXL shows XLEN=64";
}

TEST_F(HartCsrTest, MstatusXlenFieldsAndMppAreWarl) {
  u64 before = csr(csr::mstatus);
  set_csr(csr::mstatus, before & ~(mstatus::UXL | mstatus::SXL));  // try XLEN "0" everywhere
  u64 m = csr(csr::mstatus);
  EXPECT_EQ((m & mstatus::UXL) >> 32, 2u) << "UXL is WARL; only 64 is supported (misa.MXL=2)";
  EXPECT_EQ((m & mstatus::SXL) >> 34, 2u);
  // MPP=2 is reserved: the WARL field must hold a legal privilege after the write.
  set_csr(csr::mstatus, 2ull << mstatus::kMppShift);
  u64 mpp = (csr(csr::mstatus) & mstatus::MPP) >> mstatus::kMppShift;
  EXPECT_NE(mpp, 2u);
  // The H extension adds MPV and GVA to mstatus (RV64) [H §Machine Status].
  set_csr(csr::mstatus, mstatus::MPV | mstatus::GVA);
  EXPECT_EQ(csr(csr::mstatus) & (mstatus::MPV | mstatus::GVA), mstatus::MPV | mstatus::GVA);
}

TEST_F(HartCsrTest, MisaReportsRv64gchsu) {
  u64 misa = csr(csr::misa);
  EXPECT_EQ(misa >> 62, 2u);
  for (char e : std::string("ACDFHIMSU")) EXPECT_NE(misa & (1ull << (e - 'A')), 0u) << e;
}

TEST_F(HartCsrTest, SdSummarisesFsInMstatusAndVsstatus) {
  set_csr(csr::mstatus, 3ull << mstatus::kFsShift);
  EXPECT_NE(csr(csr::mstatus) & mstatus::SD, 0u);
  EXPECT_NE(csr(csr::sstatus) & mstatus::SD, 0u);
  set_csr(csr::mstatus, 2ull << mstatus::kFsShift);
  EXPECT_EQ(csr(csr::mstatus) & mstatus::SD, 0u);
  set_csr(csr::vsstatus, 3ull << mstatus::kFsShift);
  EXPECT_NE(csr(csr::vsstatus) & mstatus::SD, 0u);
  set_csr(csr::vsstatus, 1ull << mstatus::kFsShift);
  EXPECT_EQ(csr(csr::vsstatus) & mstatus::SD, 0u);
}

TEST_F(HartCsrTest, VsstatusIsSeparateFromSstatus) {
  set_csr(csr::mstatus, 0);
  set_csr(csr::vsstatus, 0);
  set_csr(csr::vsstatus, mstatus::SIE | mstatus::SPP | mstatus::SUM | mstatus::MXR | mstatus::SPIE);
  EXPECT_EQ(csr(csr::sstatus) & (mstatus::SIE | mstatus::SPP | mstatus::SUM | mstatus::MXR | mstatus::SPIE), 0u);
  u64 vs = csr(csr::vsstatus);
  EXPECT_EQ(vs & (mstatus::SIE | mstatus::SPP | mstatus::SUM | mstatus::MXR | mstatus::SPIE),
            mstatus::SIE | mstatus::SPP | mstatus::SUM | mstatus::MXR | mstatus::SPIE);
  EXPECT_EQ((vs & mstatus::UXL) >> 32, 2u) << "VU-mode XLEN is 64";
  set_csr(csr::sstatus, mstatus::SIE);
  EXPECT_EQ(csr(csr::vsstatus), vs) << "writing sstatus (V=0) must leave vsstatus alone";
  // vsstatus has no M-level fields.
  set_csr(csr::vsstatus, ~0ull);
  EXPECT_EQ(csr(csr::vsstatus) & (mstatus::MIE | mstatus::MPP | mstatus::TVM | mstatus::MPV), 0u);
}

TEST_F(HartCsrTest, HstatusFields) {
  set_csr(csr::hstatus, 0);
  u64 h = csr(csr::hstatus);
  EXPECT_EQ((h & hstatus::VSXL) >> 32, 2u) << "VSXL reads 64 and is WARL";
  u64 rw = hstatus::SPV | hstatus::SPVP | hstatus::HU | hstatus::VTVM | hstatus::VTW | hstatus::VTSR | hstatus::GVA;
  set_csr(csr::hstatus, rw);
  EXPECT_EQ(csr(csr::hstatus) & rw, rw);
  set_csr(csr::hstatus, 0);
  EXPECT_EQ(csr(csr::hstatus) & rw, 0u);
  // VGEIN must hold every value 0..GEILEN [H §hstatus]. GEILEN: the writable bits of hgeie.
  set_csr(csr::hgeie, ~0ull);
  u64 hgeie = csr(csr::hgeie);
  EXPECT_EQ(hgeie & 1, 0u) << "hgeie bit 0 is read-only zero";
  unsigned geilen = 0;
  while (geilen < 63 && (hgeie >> (geilen + 1)) & 1) ++geilen;
  EXPECT_EQ(hgeie, geilen ? ((1ull << (geilen + 1)) - 2) : 0) << "hgeie bits GEILEN:1 are the writable ones";
  for (unsigned v = 0; v <= geilen; ++v) {
    set_csr(csr::hstatus, static_cast<u64>(v) << hstatus::kVgeinShift);
    EXPECT_EQ((csr(csr::hstatus) & hstatus::VGEIN) >> hstatus::kVgeinShift, v);
  }
}

// =============================================================================================
// Delegation registers

TEST_F(HartCsrTest, MidelegVsAndGuestExternalBitsAreReadOnlyOne) {
  set_csr(csr::hgeie, ~0ull);
  bool geilen_nonzero = csr(csr::hgeie) != 0;
  set_csr(csr::mideleg, 0);
  u64 d = csr(csr::mideleg);
  // [H §mideleg]: bits 10, 6, 2 read-only one; bit 12 too when GEILEN > 0.
  EXPECT_EQ(d & irq::kVsMask, irq::kVsMask);
  EXPECT_EQ((d & irq::SGEIP) != 0, geilen_nonzero);
  set_csr(csr::mideleg, irq::kSMask);
  EXPECT_EQ(csr(csr::mideleg) & irq::kSMask, irq::kSMask) << "S-level interrupts are delegable";
}

TEST_F(HartCsrTest, MedelegCannotDelegateEcallFromM) {
  set_csr(csr::medeleg, ~0ull);
  EXPECT_EQ(csr(csr::medeleg) & (1ull << cause::ecall_m), 0u) << "medeleg[11] is read-only zero";
}

TEST_F(HartCsrTest, HedelegWritableAndReadOnlyZeroBits) {
  set_csr(csr::hedeleg, ~0ull);
  u64 d = csr(csr::hedeleg);
  // [H §hedeleg-bits] table: writable 1-8, 12, 13, 15; read-only zero 9, 10, 11, 16, 20-23.
  for (unsigned b : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 12u, 13u, 15u}) EXPECT_NE(d & (1ull << b), 0u) << "bit " << b;
  for (unsigned b : {9u, 10u, 11u, 16u, 20u, 21u, 22u, 23u}) EXPECT_EQ(d & (1ull << b), 0u) << "bit " << b;
  set_csr(csr::hedeleg, 0);
  EXPECT_EQ(csr(csr::hedeleg), 0u);
}

// Bits 18 (software check) and 19 (hardware error) belong to extensions the hart does not
// implement (Zicfilp/Zicfiss, RAS): like H v1.0, they read as zero.
TEST_F(HartCsrTest, HedelegBitsOfUnimplementedExceptionsReadZero) {
  set_csr(csr::hedeleg, ~0ull);
  u64 d = csr(csr::hedeleg);
  EXPECT_EQ(d & (1ull << 18), 0u);
  EXPECT_EQ(d & (1ull << 19), 0u);
}

TEST_F(HartCsrTest, HidelegOnlyDelegatesVsLevelInterrupts) {
  set_csr(csr::hideleg, ~0ull);
  u64 d = csr(csr::hideleg);
  EXPECT_EQ(d & irq::kVsMask, irq::kVsMask) << "bits 10, 6, 2 writable";
  EXPECT_EQ(d & (irq::kSMask | irq::SGEIP), 0u) << "bits 12, 9, 5, 1 read-only zero; SGEI can never go to VS";
}

// =============================================================================================
// Interrupt-enable views: mie, hie, sie, vsie [H §hvip/hip/hie, §vsip/vsie; doc §3.1]

TEST_F(HartCsrTest, MieHoldsEveryStandardEnable) {
  set_csr(csr::mie, ~0ull);
  EXPECT_EQ(csr(csr::mie) & irq::kAll, irq::kAll);
}

TEST_F(HartCsrTest, HieIsTheHypervisorPartOfMie) {
  set_csr(csr::mie, ~0ull);
  EXPECT_EQ(csr(csr::hie), irq::kHsMask) << "hie holds VSSIE, VSTIE, VSEIE, SGEIE only";
  set_csr(csr::hie, 0);
  EXPECT_EQ(csr(csr::mie) & irq::kHsMask, 0u) << "mie bits 2, 6, 10, 12 alias hie";
  EXPECT_EQ(csr(csr::mie) & (irq::kSMask | irq::MSIP | irq::MTIP | irq::MEIP),
            irq::kSMask | irq::MSIP | irq::MTIP | irq::MEIP);
  set_csr(csr::hie, ~0ull);
  EXPECT_EQ(csr(csr::mie) & irq::kHsMask, irq::kHsMask);
}

TEST_F(HartCsrTest, SieShowsOnlyDelegatedSupervisorInterrupts) {
  set_csr(csr::mie, ~0ull);
  set_csr(csr::mideleg, 0);
  EXPECT_EQ(csr(csr::sie), 0u) << "undelegated interrupts read as zero in sie, VS bits never appear";
  set_csr(csr::sie, 0);
  EXPECT_EQ(csr(csr::mie) & irq::kSMask, irq::kSMask) << "sie bits of undelegated interrupts are read-only";
  set_csr(csr::mideleg, irq::SSIP | irq::STIP);
  EXPECT_EQ(csr(csr::sie), irq::SSIP | irq::STIP);
  set_csr(csr::sie, 0);
  EXPECT_EQ(csr(csr::mie) & irq::kSMask, irq::SEIP);
  // sie and hie never have a nonzero bit in common.
  set_csr(csr::mideleg, irq::kSMask);
  set_csr(csr::mie, ~0ull);
  EXPECT_EQ(csr(csr::sie) & csr(csr::hie), 0u);
}

TEST_F(HartCsrTest, VsieIsAShiftedViewGatedByHideleg) {
  set_csr(csr::mie, irq::kHsMask);
  set_csr(csr::hideleg, 0);
  EXPECT_EQ(csr(csr::vsie), 0u) << "without hideleg every vsie bit is read-only zero";
  set_csr(csr::vsie, 0);
  EXPECT_EQ(csr(csr::mie) & irq::kVsMask, irq::kVsMask);

  set_csr(csr::hideleg, irq::kVsMask);
  EXPECT_EQ(csr(csr::vsie), irq::kSMask) << "hie bits 2/6/10 appear at 1/5/9";
  set_csr(csr::vsie, irq::STIP);  // keep only the guest's timer enable
  EXPECT_EQ(csr(csr::mie) & irq::kVsMask, irq::VSTIP);
  EXPECT_EQ(csr(csr::mie) & irq::SGEIP, irq::SGEIP) << "vsie cannot touch SGEIE";

  set_csr(csr::hideleg, irq::VSEIP);
  set_csr(csr::mie, 0);
  set_csr(csr::vsie, ~0ull);
  EXPECT_EQ(csr(csr::mie), irq::VSEIP) << "only the delegated bit is writable through vsie";
}

// =============================================================================================
// Interrupt-pending views: mip, hip, hvip, vsip, sip, hgeip

TEST_F(HartCsrTest, HvipHasExactlyTheThreeVsBits) {
  set_csr(csr::hvip, ~0ull);
  EXPECT_EQ(csr(csr::hvip) & 0xffff, irq::kVsMask);
  set_csr(csr::hvip, 0);
  EXPECT_EQ(csr(csr::hvip), 0u);
}

TEST_F(HartCsrTest, MipAndHipAliasHvip) {
  set_csr(csr::hvip, irq::kVsMask);
  EXPECT_EQ(csr(csr::mip) & irq::kVsMask, irq::kVsMask);
  EXPECT_EQ(csr(csr::hip) & irq::kVsMask, irq::kVsMask);
  // VSSIP is a writable alias in hip and mip; VSTIP and VSEIP are read-only there.
  set_csr(csr::hip, 0);
  EXPECT_EQ(csr(csr::hvip), irq::VSTIP | irq::VSEIP);
  EXPECT_EQ(csr(csr::hip) & irq::kVsMask, irq::VSTIP | irq::VSEIP);
  set_csr(csr::mip, irq::VSSIP);
  EXPECT_EQ(csr(csr::hvip), irq::kVsMask) << "mip.VSSIP writes hvip.VSSIP";
  set_csr(csr::mip, 0);
  EXPECT_EQ(csr(csr::hvip) & (irq::VSTIP | irq::VSEIP), irq::VSTIP | irq::VSEIP);
  EXPECT_EQ(csr(csr::mip) & (irq::VSTIP | irq::VSEIP), irq::VSTIP | irq::VSEIP);
  // hip holds only the hypervisor-level bits.
  set_csr(csr::mideleg, irq::kSMask);
  set_csr(csr::mip, irq::SSIP | irq::SEIP);
  EXPECT_EQ(csr(csr::hip) & irq::kSMask, 0u);
  EXPECT_EQ(csr(csr::sip) & csr(csr::hip), 0u);
}

TEST_F(HartCsrTest, VsipIsAShiftedViewOfHipGatedByHideleg) {
  set_csr(csr::hvip, irq::kVsMask);
  set_csr(csr::hideleg, 0);
  EXPECT_EQ(csr(csr::vsip), 0u);
  set_csr(csr::hideleg, irq::kVsMask);
  EXPECT_EQ(csr(csr::vsip), irq::kSMask);
  // vsip.SSIP writes hvip.VSSIP; vsip.STIP/SEIP are read-only.
  set_csr(csr::vsip, 0);
  EXPECT_EQ(csr(csr::hvip), irq::VSTIP | irq::VSEIP);
  EXPECT_EQ(csr(csr::vsip), irq::STIP | irq::SEIP);
  set_csr(csr::vsip, irq::SSIP);
  EXPECT_EQ(csr(csr::hvip), irq::kVsMask);
  // Not delegated: the write does not reach hvip.
  set_csr(csr::hideleg, irq::VSTIP);
  set_csr(csr::vsip, 0);
  EXPECT_EQ(csr(csr::hvip) & irq::VSSIP, irq::VSSIP);
  EXPECT_EQ(csr(csr::vsip), irq::STIP);
}

TEST_F(HartCsrTest, SipWritableOnlyForDelegatedSoftwareInterrupt) {
  set_csr(csr::menvcfg, 0);  // without Sstc, M-mode may write STIP
  set_csr(csr::mideleg, irq::kSMask);
  set_csr(csr::mip, irq::SSIP | irq::STIP | irq::SEIP);
  EXPECT_EQ(csr(csr::mip) & irq::kSMask, irq::kSMask);
  EXPECT_EQ(csr(csr::sip), irq::kSMask);
  set_csr(csr::sip, 0);
  EXPECT_EQ(csr(csr::sip), irq::STIP | irq::SEIP) << "sip.SSIP is writable, STIP and SEIP are not";
  set_csr(csr::mideleg, 0);
  EXPECT_EQ(csr(csr::sip), 0u);
  set_csr(csr::sip, irq::SSIP);
  EXPECT_EQ(csr(csr::mip) & irq::SSIP, 0u) << "undelegated: sip.SSIP read-only zero";
}

TEST_F(HartCsrTest, SstcMakesStipReadOnly) {
  set_csr(csr::menvcfg, envcfg::STCE);
  set_csr(csr::stimecmp, ~0ull);
  set_csr(csr::mip, irq::STIP);
  EXPECT_EQ(csr(csr::mip) & irq::STIP, 0u) << "with STCE=1, STIP reflects stimecmp only [doc §7]";
  set_csr(csr::stimecmp, 0);
  EXPECT_NE(csr(csr::mip) & irq::STIP, 0u) << "time >= stimecmp=0";
  set_csr(csr::mip, 0);
  EXPECT_NE(csr(csr::mip) & irq::STIP, 0u);
}

TEST_F(HartCsrTest, VstimecmpDrivesVstipOnlyWithBothStce) {
  set_csr(csr::vstimecmp, 0);
  set_csr(csr::hvip, 0);
  set_csr(csr::menvcfg, envcfg::STCE);
  set_csr(csr::henvcfg, envcfg::STCE);
  EXPECT_NE(csr(csr::hip) & irq::VSTIP, 0u);
  set_csr(csr::henvcfg, 0);
  EXPECT_EQ(csr(csr::hip) & irq::VSTIP, 0u) << "henvcfg.STCE=0: VSTIP = hvip.VSTIP only";
  // time + htimedelta compared against vstimecmp, unsigned.
  set_csr(csr::henvcfg, envcfg::STCE);
  set_csr(csr::vstimecmp, 1000);
  set_csr(csr::htimedelta, 0);
  EXPECT_EQ(csr(csr::hip) & irq::VSTIP, 0u);
  set_csr(csr::htimedelta, 1000);
  EXPECT_NE(csr(csr::hip) & irq::VSTIP, 0u);
}

TEST_F(HartCsrTest, GuestExternalInterruptLines) {
  set_csr(csr::hgeie, ~0ull);
  u64 implemented = csr(csr::hgeie);
  if (!(implemented & (1ull << 1))) GTEST_SKIP() << "GEILEN = 0";
  set_csr(csr::hgeie, 0);
  hart_.set_hgeip(1ull << 1);
  EXPECT_EQ(csr(csr::hgeip), 1ull << 1);
  EXPECT_EQ(csr(csr::hip) & irq::SGEIP, 0u) << "SGEIP = OR(hgeip & hgeie)";
  set_csr(csr::hgeie, 1ull << 1);
  EXPECT_NE(csr(csr::hip) & irq::SGEIP, 0u);
  // The line selected by VGEIN feeds VSEIP regardless of hgeie [H §hgeip].
  set_csr(csr::hgeie, 0);
  set_csr(csr::hstatus, 1ull << hstatus::kVgeinShift);
  EXPECT_NE(csr(csr::hip) & irq::VSEIP, 0u);
  set_csr(csr::hstatus, 0);
  EXPECT_EQ(csr(csr::hip) & irq::VSEIP, 0u) << "VGEIN=0 selects nothing";
  // hgeip is read-only.
  set_csr(csr::hgeip, 0);
  EXPECT_EQ(csr(csr::hgeip), 1ull << 1);
  hart_.set_hgeip(0);
}

TEST_F(HartCsrTest, ExternalSeipLineIsOredIntoMip) {
  set_csr(csr::mip, 0);
  hart_.set_irq_line(irq::SEIP, true);
  EXPECT_NE(csr(csr::mip) & irq::SEIP, 0u);
  set_csr(csr::mip, 0);
  EXPECT_NE(csr(csr::mip) & irq::SEIP, 0u) << "software cannot clear the external signal";
  hart_.set_irq_line(irq::SEIP, false);
  EXPECT_EQ(csr(csr::mip) & irq::SEIP, 0u);
}

// =============================================================================================
// Address translation registers

TEST_F(HartCsrTest, SatpUnsupportedModeWriteIsIgnored) {
  u64 sv39 = (u64{atp::Sv39} << atp::kModeShift) | 0x80123;
  set_csr(csr::satp, sv39);
  EXPECT_EQ(csr(csr::satp) >> atp::kModeShift, u64{atp::Sv39});
  EXPECT_EQ(csr(csr::satp) & atp::kPpnMask, 0x80123u);
  // Modes 1-7 are reserved on RV64: "the entire write has no effect" [S §satp].
  for (u64 mode : {1ull, 5ull, 7ull, 15ull}) {
    set_csr(csr::satp, (mode << atp::kModeShift) | 0x555);
    EXPECT_EQ(csr(csr::satp), sv39) << "mode " << mode;
  }
}

TEST_F(HartCsrTest, VsatpWriteAtV0KeepsALegalMode) {
  u64 sv39 = (u64{atp::Sv39} << atp::kModeShift) | 0x80000;
  set_csr(csr::vsatp, sv39);
  EXPECT_EQ(csr(csr::vsatp), sv39);
  set_csr(csr::vsatp, (3ull << atp::kModeShift) | 0x777);
  u64 mode = csr(csr::vsatp) >> atp::kModeShift;
  // Ignored or WARL [H §vsatp], but never the reserved value.
  EXPECT_TRUE(mode == atp::Bare || mode == atp::Sv39 || mode == atp::Sv48 || mode == atp::Sv57) << mode;
}

TEST_F(HartCsrTest, SatpWriteFromVsWithUnsupportedModeIsIgnored) {
  // vsatp stays Bare while the guest runs so the fetch itself is untranslated.
  set_csr(csr::vsatp, 0x12345);
  set_csr(csr::satp, 0);
  Outcome o = exec(csrrw(5, csr::satp, 6), Mode::VS, (3ull << atp::kModeShift) | 0x80000);
  ASSERT_FALSE(o.trapped) << "mcause " << o.cause;
  EXPECT_EQ(o.rd, 0x12345u) << "satp read from VS returns vsatp";
  EXPECT_EQ(csr(csr::vsatp), 0x12345u) << "V=1 write to satp with unsupported MODE is ignored [H §vsatp]";
  EXPECT_EQ(csr(csr::satp), 0u) << "and never reaches the HS satp";
  // A supported mode written from VS lands in vsatp.
  u64 sv39 = (u64{atp::Sv39} << atp::kModeShift) | 0x80001;
  o = exec(csrrw(5, csr::satp, 6), Mode::VS, sv39);
  ASSERT_FALSE(o.trapped) << "mcause " << o.cause;
  EXPECT_EQ(csr(csr::vsatp), sv39);
  EXPECT_EQ(csr(csr::satp), 0u);
}

TEST_F(HartCsrTest, HgatpFieldsAreWarlIndividually) {
  u64 v = (u64{atp::Sv39} << atp::kModeShift) | (3ull << 58) | (0x3fffull << atp::kAsidShift) | 0x80123;
  set_csr(csr::hgatp, v);
  u64 r = csr(csr::hgatp);
  EXPECT_EQ(r >> atp::kModeShift, u64{atp::Sv39});
  EXPECT_EQ((r >> 58) & 3, 0u) << "bits 59:58 are read-only zero";
  EXPECT_EQ(r & 3, 0u) << "PPN[1:0] read as zero: 16 KiB root [H §hgatp]";
  EXPECT_EQ(r & atp::kPpnMask & ~3ull, 0x80120u);
  // VMIDLEN discovery: the implemented VMID bits are the low ones, at most 14.
  u64 vmid = (r >> atp::kAsidShift) & 0x3fff;
  EXPECT_EQ(vmid & (vmid + 1), 0u) << "VMID bits are implemented LSB first: " << std::hex << vmid;
  EXPECT_EQ((r >> atp::kAsidShift) >> 14 & 3, 0u);
  // A reserved MODE leaves a legal MODE behind.
  set_csr(csr::hgatp, (5ull << atp::kModeShift) | 0x80000);
  u64 mode = csr(csr::hgatp) >> atp::kModeShift;
  EXPECT_TRUE(mode == atp::Bare || mode == atp::Sv39 || mode == atp::Sv48 || mode == atp::Sv57) << mode;
  set_csr(csr::hgatp, 0);
  EXPECT_EQ(csr(csr::hgatp), 0u);
}

// =============================================================================================
// Environment configuration

TEST_F(HartCsrTest, HenvcfgBitsAreGatedByMenvcfg) {
  constexpr u64 kGated = envcfg::STCE | envcfg::PBMTE | envcfg::ADUE;
  set_csr(csr::menvcfg, kGated);
  ASSERT_EQ(csr(csr::menvcfg) & kGated, kGated) << "the hart implements Sstc, Svpbmt and Svadu";
  set_csr(csr::henvcfg, ~0ull);
  EXPECT_EQ(csr(csr::henvcfg) & kGated, kGated);
  // menvcfg.X=0 makes henvcfg.X read-only zero [doc §6.1, §6.2, §7].
  set_csr(csr::menvcfg, 0);
  EXPECT_EQ(csr(csr::henvcfg) & kGated, 0u);
  set_csr(csr::henvcfg, ~0ull);
  EXPECT_EQ(csr(csr::henvcfg) & kGated, 0u);
  for (u64 bit : {envcfg::STCE, envcfg::PBMTE, envcfg::ADUE}) {
    set_csr(csr::menvcfg, bit);
    set_csr(csr::henvcfg, ~0ull);
    EXPECT_EQ(csr(csr::henvcfg) & kGated, bit) << std::hex << bit;
  }
}

TEST_F(HartCsrTest, SenvcfgHasNoMachineOrHypervisorFields) {
  set_csr(csr::senvcfg, ~0ull);
  EXPECT_EQ(csr(csr::senvcfg) & (envcfg::STCE | envcfg::PBMTE | envcfg::ADUE), 0u);
}

// =============================================================================================
// PMP [priv "Physical Memory Protection"]

TEST_F(HartCsrTest, OddPmpcfgDoesNotExistOnRv64) {
  u64 v;
  EXPECT_FALSE(hart_.read_csr_raw(csr::pmpcfg0 + 1, v));
  u32 insn = csrrs(5, csr::pmpcfg0 + 1, 0);
  expect_insn_trap(exec(insn, Mode::M), cause::illegal_insn, insn, Mode::M);
}

TEST_F(HartCsrTest, PmpcfgLegalisesReservedEncodings) {
  hart_.reset(kCode);
  // Entry 0: W=1 with R=0 is reserved; entry 1: bits 6:5 are reserved zero.
  set_csr(csr::pmpcfg0, (0x60ull | 0x01) << 8 | 0x02);
  u64 cfg = csr(csr::pmpcfg0);
  EXPECT_NE(cfg & 0x3, 0x2u) << "R=0,W=1 must not be stored";
  EXPECT_EQ((cfg >> 8) & 0x60, 0u);
  EXPECT_EQ((cfg >> 8) & 0x1, 0x1u);
  // pmpaddr holds bits 55:2 of the address: bits 63:54 are zero on RV64.
  set_csr(csr::pmpaddr0 + 3, ~0ull);
  EXPECT_EQ(csr(csr::pmpaddr0 + 3) >> 54, 0u);
}

TEST_F(HartCsrTest, PmpLockBitFreezesEntryAndTorBase) {
  hart_.reset(kCode);
  set_csr(csr::pmpaddr0, 0x1000);
  set_csr(csr::pmpaddr0 + 1, 0x2000);
  // Entry 1: L=1, A=TOR, R. Entry 0 stays OFF but its pmpaddr is entry 1's TOR base.
  set_csr(csr::pmpcfg0, (0x80ull | 0x08 | 0x01) << 8);
  ASSERT_EQ(csr(csr::pmpcfg0), (0x80ull | 0x08 | 0x01) << 8);
  // "Writes to the configuration register and associated address registers are ignored" while L=1,
  // and with A=TOR the lower bound pmpaddr(i-1) is locked too.
  set_csr(csr::pmpcfg0, 0x0f0fu);
  EXPECT_EQ((csr(csr::pmpcfg0) >> 8) & 0xff, 0x89u) << "locked pmpcfg byte must not change";
  EXPECT_EQ(csr(csr::pmpcfg0) & 0xff, 0x0fu) << "the unlocked byte in the same register still changes";
  set_csr(csr::pmpaddr0 + 1, 0x3000);
  EXPECT_EQ(csr(csr::pmpaddr0 + 1), 0x2000u);
  set_csr(csr::pmpaddr0, 0x0800);
  EXPECT_EQ(csr(csr::pmpaddr0), 0x1000u) << "TOR base of a locked entry is locked";
}

// rvkvm's documented choice (README): PMP registers keep what firmware writes, but no access is
// ever denied, even where the spec's matching logic would deny it.
TEST_F(HartCsrTest, PmpNeverDeniesAccesses) {
  hart_.reset(kCode);
  set_csr(csr::mtvec, kTrapVec);
  set_csr(csr::mcounteren, ~0ull);
  set_csr(csr::scounteren, ~0ull);
  set_csr(csr::pmpaddr0, 0x1234);
  ASSERT_EQ(csr(csr::pmpaddr0), 0x1234u) << "PMP entries hold their value";
  set_csr(csr::pmpaddr0, 0);
  Outcome o = exec(csrrs(5, csr::cycle, 0), Mode::U);
  EXPECT_FALSE(o.trapped) << "U-mode fetch with every PMP entry OFF is allowed";
  // Entry 0: TOR [0, kRamBase + 0x3000) with R and X only.
  set_csr(csr::pmpaddr0, (kRamBase + 0x3000) >> 2);
  set_csr(csr::pmpcfg0, 0x08 | 0x04 | 0x01);
  ASSERT_EQ(csr(csr::pmpcfg0) & 0xff, 0x0du);
  u32 ld = enc_i(0, 6, 3, 5, 0x03);  // ld x5, 0(x6)
  o = exec(ld, Mode::HS, kRamBase + 0x8000);
  EXPECT_FALSE(o.trapped) << "outside every entry, still allowed";
}

// =============================================================================================
// Floating-point CSRs [F "Floating-Point Control and Status Register"]

TEST_F(HartCsrTest, FcsrIsComposedOfFrmAndFflags) {
  set_csr(csr::fcsr, ~0ull);
  EXPECT_EQ(csr(csr::fcsr), 0xffu) << "bits 31:8 of fcsr are reserved zero";
  EXPECT_EQ(csr(csr::frm), 7u);
  EXPECT_EQ(csr(csr::fflags), 0x1fu);
  set_csr(csr::fflags, 0);
  EXPECT_EQ(csr(csr::fcsr), 0xe0u);
  set_csr(csr::frm, 0x1fa);
  EXPECT_EQ(csr(csr::frm), 2u);
  EXPECT_EQ(csr(csr::fcsr), 0x40u);
  set_csr(csr::fflags, 0xff);
  EXPECT_EQ(csr(csr::fflags), 0x1fu);
  EXPECT_EQ(csr(csr::fcsr), 0x5fu);
}

TEST_F(HartCsrTest, WritingFflagsMakesFsDirty) {
  set_csr(csr::mstatus, 1ull << mstatus::kFsShift);  // Initial
  Outcome o = exec(csrrw(5, csr::fflags, 6), Mode::M, 0x3);
  ASSERT_FALSE(o.trapped);
  EXPECT_EQ(csr(csr::fflags), 3u);
  EXPECT_EQ(csr(csr::mstatus) & mstatus::FS, mstatus::FS);
  EXPECT_NE(csr(csr::mstatus) & mstatus::SD, 0u);
}

TEST_F(HartCsrTest, WritingFrmFromVsMakesBothFsFieldsDirty) {
  set_csr(csr::mstatus, 1ull << mstatus::kFsShift);
  set_csr(csr::vsstatus, 2ull << mstatus::kFsShift);  // Clean
  Outcome o = exec(csrrw(5, csr::frm, 6), Mode::VS, 0x1);
  ASSERT_FALSE(o.trapped);
  EXPECT_EQ(csr(csr::frm), 1u);
  // [H §vsstatus]: modifying FP state with V=1 sets both vsstatus.FS and HS sstatus.FS to Dirty.
  EXPECT_EQ(csr(csr::vsstatus) & mstatus::FS, mstatus::FS);
  EXPECT_EQ(csr(csr::mstatus) & mstatus::FS, mstatus::FS);
}

// =============================================================================================
// V=1 aliasing of supervisor CSRs by executed instructions [H §Hypervisor and Virtual Supervisor CSRs]

TEST_F(HartCsrTest, VsModeSupervisorCsrsReachTheVsTwins) {
  struct Pair {
    u16 s, vs;
  };
  for (Pair p : {Pair{csr::sscratch, csr::vsscratch}, Pair{csr::sepc, csr::vsepc}, Pair{csr::scause, csr::vscause},
                 Pair{csr::stval, csr::vstval}, Pair{csr::stvec, csr::vstvec}}) {
    SCOPED_TRACE(p.s);
    prepare();
    set_csr(p.s, 0x100);
    set_csr(p.vs, 0x200);
    Outcome o = exec(csrrw(5, p.s, 6), Mode::VS, 0x80000400);
    ASSERT_FALSE(o.trapped);
    EXPECT_EQ(o.rd, 0x200u) << "old value comes from the VS twin";
    EXPECT_EQ(csr(p.vs), 0x80000400u);
    EXPECT_EQ(csr(p.s), 0x100u) << "HS register untouched";
  }
}

TEST_F(HartCsrTest, VsModeSstatusIsVsstatus) {
  set_csr(csr::mstatus, 0);
  set_csr(csr::vsstatus, 0);
  Outcome o = exec(csrrs(5, csr::sstatus, 6), Mode::VS, mstatus::SUM | mstatus::SIE);
  ASSERT_FALSE(o.trapped);
  EXPECT_EQ(csr(csr::vsstatus) & (mstatus::SUM | mstatus::SIE), mstatus::SUM | mstatus::SIE);
  EXPECT_EQ(csr(csr::mstatus) & (mstatus::SUM | mstatus::SIE), 0u);
}

TEST_F(HartCsrTest, VsModeSieAndSipAreVsieAndVsip) {
  set_csr(csr::hideleg, irq::kVsMask);
  set_csr(csr::mideleg, irq::kSMask);
  set_csr(csr::mie, 0);
  Outcome o = exec(csrrs(5, csr::sie, 6), Mode::VS, irq::SSIP | irq::STIP);
  ASSERT_FALSE(o.trapped);
  EXPECT_EQ(csr(csr::mie), irq::VSSIP | irq::VSTIP) << "guest sie bits 1/5 land in mie bits 2/6";
  set_csr(csr::hvip, irq::VSEIP);
  o = exec(csrrs(5, csr::sip, 0), Mode::VS);
  ASSERT_FALSE(o.trapped);
  EXPECT_EQ(o.rd, irq::SEIP) << "guest sip shows VSEIP at bit 9";
}

TEST_F(HartCsrTest, VsModeSenvcfgIsTheRealSenvcfg) {
  set_csr(csr::senvcfg, 0);
  Outcome o = exec(csrrw(5, csr::senvcfg, 6), Mode::VS, envcfg::FIOM);
  ASSERT_FALSE(o.trapped);
  EXPECT_EQ(csr(csr::senvcfg) & envcfg::FIOM, envcfg::FIOM);
}

TEST_F(HartCsrTest, TimeReadWithV1AddsHtimedelta) {
  set_csr(csr::htimedelta, 5000);
  u64 t0 = hart_.time_now();
  Outcome o = exec(csrrs(5, csr::time, 0), Mode::VS);
  ASSERT_FALSE(o.trapped);
  EXPECT_GE(o.rd, t0 + 5000);
  EXPECT_LE(o.rd, t0 + 5001);
  set_csr(csr::htimedelta, ~0ull - 1);  // a negative offset wraps
  t0 = hart_.time_now();
  o = exec(csrrs(5, csr::time, 0), Mode::VU);
  ASSERT_FALSE(o.trapped);
  EXPECT_GE(o.rd, t0 - 2) << "time + htimedelta mod 2^64";
  EXPECT_LE(o.rd, t0 - 1);
  t0 = hart_.time_now();
  o = exec(csrrs(5, csr::time, 0), Mode::HS);
  EXPECT_GE(o.rd, t0) << "no delta with V=0";
  EXPECT_LE(o.rd, t0 + 1);
}

// =============================================================================================
// Privilege of CSR instructions in every mode [doc §1.2, §1.3; H §Trap Cause Codes]

constexpr int OK = -1, ILL = 2, VIRT = 22;

struct PrivCase {
  const char* what;
  u16 num;
  bool write;  // csrrs x5, csr, x6 (x6=0: no value change) vs csrrs x5, csr, x0 (read only)
  std::function<void(HartCsrTest*)> setup;
  int expect[5];  // M, HS, U, VS, VU
};

class HartCsrPrivTest : public HartCsrTest {
 public:
  void set(u16 num, u64 v) { set_csr(num, v); }
  u64 get(u16 num) { return csr(num); }

  // A write is tried both as CSRRS with a zero register operand (a write that changes nothing)
  // and as CSRRW of the current value; a read is CSRRS with rs1=x0, which never writes.
  void run_case(const PrivCase& c) {
    for (unsigned i = 0; i < 5; ++i) {
      for (bool use_csrrw : {false, true}) {
        if (use_csrrw && !c.write) continue;
        Mode m = kModes[i];
        SCOPED_TRACE(std::string(c.what) + " in " + name(m) + (use_csrrw ? " (csrrw)" : " (csrrs)"));
        prepare();
        if (c.setup) c.setup(this);
        u64 cur = 0;
        (void)hart_.read_csr_raw(c.num, cur);
        u32 insn = !c.write ? csrrs(5, c.num, 0) : use_csrrw ? csrrw(5, c.num, 6) : csrrs(5, c.num, 6);
        Outcome o = exec(insn, m, use_csrrw ? cur : 0);
        if (c.expect[i] == OK) {
          EXPECT_FALSE(o.trapped) << "unexpected trap, mcause=" << o.cause;
          EXPECT_EQ(hart_.pc(), kCode + 4);
        } else {
          expect_insn_trap(o, static_cast<u64>(c.expect[i]), insn, m);
        }
      }
    }
  }
};

auto clear_bits(u16 num, u64 bits) {
  return [num, bits](HartCsrTest* t) {
    auto* p = static_cast<HartCsrPrivTest*>(t);
    p->set(num, p->get(num) & ~bits);
  };
}
auto set_bits(u16 num, u64 bits) {
  return [num, bits](HartCsrTest* t) {
    auto* p = static_cast<HartCsrPrivTest*>(t);
    p->set(num, p->get(num) | bits);
  };
}

TEST_F(HartCsrPrivTest, MachineCsrs) {
  run_case({"mstatus read", csr::mstatus, false, nullptr, {OK, ILL, ILL, ILL, ILL}});
  run_case({"mscratch write", csr::mscratch, true, nullptr, {OK, ILL, ILL, ILL, ILL}});
  run_case({"mhartid read", csr::mhartid, false, nullptr, {OK, ILL, ILL, ILL, ILL}});
  run_case({"mvendorid write", csr::mvendorid, true, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"mcycle read", csr::mcycle, false, nullptr, {OK, ILL, ILL, ILL, ILL}});
  run_case({"mtval2 read", csr::mtval2, false, nullptr, {OK, ILL, ILL, ILL, ILL}});
  run_case({"mtinst write", csr::mtinst, true, nullptr, {OK, ILL, ILL, ILL, ILL}});
}

TEST_F(HartCsrPrivTest, SupervisorCsrs) {
  // S CSRs with a VS twin: VS reaches the twin, VU gets 22 because HS would allow it.
  run_case({"sstatus read", csr::sstatus, false, nullptr, {OK, OK, ILL, OK, VIRT}});
  run_case({"sscratch write", csr::sscratch, true, nullptr, {OK, OK, ILL, OK, VIRT}});
  run_case({"sip write", csr::sip, true, nullptr, {OK, OK, ILL, OK, VIRT}});
  run_case({"satp read", csr::satp, false, nullptr, {OK, OK, ILL, OK, VIRT}});
  // S CSRs without a twin act on the real register from VS.
  run_case({"senvcfg write", csr::senvcfg, true, nullptr, {OK, OK, ILL, OK, VIRT}});
  run_case({"scounteren read", csr::scounteren, false, nullptr, {OK, OK, ILL, OK, VIRT}});
}

TEST_F(HartCsrPrivTest, HypervisorAndVsCsrs) {
  // Hypervisor CSRs and VS CSRs by their own numbers: 22 from V=1 when HS would allow it.
  run_case({"hstatus read", csr::hstatus, false, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"hedeleg write", csr::hedeleg, true, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"hgatp read", csr::hgatp, false, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"htimedelta read", csr::htimedelta, false, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"vsstatus read", csr::vsstatus, false, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"vsatp write", csr::vsatp, true, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  // hgeip is read-only: reading is HS-qualified (22), writing is not (2) [doc §1.2].
  run_case({"hgeip read", csr::hgeip, false, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"hgeip write", csr::hgeip, true, nullptr, {ILL, ILL, ILL, ILL, ILL}});
}

TEST_F(HartCsrPrivTest, CountersFollowTheThreeCounterenRegisters) {
  run_case({"cycle read, all enabled", csr::cycle, false, nullptr, {OK, OK, OK, OK, OK}});
  run_case({"instret read, all enabled", csr::instret, false, nullptr, {OK, OK, OK, OK, OK}});
  run_case({"hpmcounter3 read, all enabled", csr::hpmcounter3, false, nullptr, {OK, OK, OK, OK, OK}});
  run_case({"cycle write", csr::cycle, true, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"cycle, mcounteren.CY=0", csr::cycle, false, clear_bits(csr::mcounteren, 1), {OK, ILL, ILL, ILL, ILL}});
  run_case({"cycle, hcounteren.CY=0", csr::cycle, false, clear_bits(csr::hcounteren, 1), {OK, OK, OK, VIRT, VIRT}});
  // VU with scounteren=0 is 22, not 2 [doc §1.3].
  run_case({"cycle, scounteren.CY=0", csr::cycle, false, clear_bits(csr::scounteren, 1), {OK, OK, ILL, OK, VIRT}});
  run_case({"time, hcounteren.TM=0", csr::time, false, clear_bits(csr::hcounteren, 2), {OK, OK, OK, VIRT, VIRT}});
  run_case({"instret, mcounteren.IR=0", csr::instret, false, clear_bits(csr::mcounteren, 4), {OK, ILL, ILL, ILL, ILL}});
  run_case({"hpmcounter3, mcounteren.HPM3=0", csr::hpmcounter3, false, clear_bits(csr::mcounteren, 8),
            {OK, ILL, ILL, ILL, ILL}});
  run_case({"hpmcounter3, hcounteren.HPM3=0", csr::hpmcounter3, false, clear_bits(csr::hcounteren, 8),
            {OK, OK, OK, VIRT, VIRT}});
}

TEST_F(HartCsrPrivTest, TrapVirtualMemoryBits) {
  // TVM affects HS only; VTVM affects VS only [H §Machine Status, §hstatus].
  run_case({"satp, TVM=1", csr::satp, false, set_bits(csr::mstatus, mstatus::TVM), {OK, ILL, ILL, OK, VIRT}});
  run_case({"satp, VTVM=1", csr::satp, false, set_bits(csr::hstatus, hstatus::VTVM), {OK, OK, ILL, VIRT, VIRT}});
  run_case({"hgatp, TVM=1", csr::hgatp, false, set_bits(csr::mstatus, mstatus::TVM), {OK, ILL, ILL, VIRT, VIRT}});
  run_case({"vsatp, TVM=1", csr::vsatp, false, set_bits(csr::mstatus, mstatus::TVM), {OK, OK, ILL, VIRT, VIRT}});
}

TEST_F(HartCsrPrivTest, SstcComparators) {
  run_case({"stimecmp, enabled", csr::stimecmp, false, nullptr, {OK, OK, ILL, OK, VIRT}});
  run_case({"stimecmp, menvcfg.STCE=0", csr::stimecmp, false, clear_bits(csr::menvcfg, envcfg::STCE),
            {OK, ILL, ILL, ILL, ILL}});
  run_case({"stimecmp, mcounteren.TM=0", csr::stimecmp, false, clear_bits(csr::mcounteren, 2),
            {OK, ILL, ILL, ILL, ILL}});
  run_case({"stimecmp, hcounteren.TM=0", csr::stimecmp, false, clear_bits(csr::hcounteren, 2),
            {OK, OK, ILL, VIRT, VIRT}});
  run_case({"stimecmp, henvcfg.STCE=0", csr::stimecmp, false, clear_bits(csr::henvcfg, envcfg::STCE),
            {OK, OK, ILL, VIRT, VIRT}});
  run_case({"vstimecmp, enabled", csr::vstimecmp, false, nullptr, {OK, OK, ILL, VIRT, VIRT}});
  run_case({"vstimecmp, menvcfg.STCE=0", csr::vstimecmp, false, clear_bits(csr::menvcfg, envcfg::STCE),
            {OK, ILL, ILL, ILL, ILL}});
}

TEST_F(HartCsrPrivTest, FloatingPointCsrsNeedFsOnAndNeverRaiseVirtualInstruction) {
  run_case({"fcsr, FS on", csr::fcsr, true, nullptr, {OK, OK, OK, OK, OK}});
  run_case({"fflags, mstatus.FS=0", csr::fflags, false, clear_bits(csr::mstatus, mstatus::FS),
            {ILL, ILL, ILL, ILL, ILL}});
  // vsstatus.FS=0 blocks V=1 only, and the cause is 2 [doc §1.1 exception to the rule].
  run_case({"frm, vsstatus.FS=0", csr::frm, false, clear_bits(csr::vsstatus, mstatus::FS), {OK, OK, OK, ILL, ILL}});
}

TEST_F(HartCsrPrivTest, CsrsThatDoNotExistAreAlwaysIllegal) {
  // Not HS-qualified (HS would also get 2), so never 22 [doc §1.1, §1.2].
  u64 v;
  for (u16 num : {u16{0x601}, u16{0x615}, u16{0x61a}, u16{0x101}, u16{0xc80}, u16{0x310}})
    ASSERT_FALSE(hart_.read_csr_raw(num, v)) << std::hex << num << " is expected not to exist";
  run_case({"0x601 (unallocated H-level)", 0x601, false, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"htimedeltah (RV32 only)", 0x615, false, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"henvcfgh (RV32 only)", 0x61a, false, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"0x101 (unallocated S-level)", 0x101, false, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"cycleh (RV32 only)", 0xc80, false, nullptr, {ILL, ILL, ILL, ILL, ILL}});
  run_case({"mstatush (RV32 only)", 0x310, false, nullptr, {ILL, ILL, ILL, ILL, ILL}});
}

}  // namespace
}  // namespace rvkvm
