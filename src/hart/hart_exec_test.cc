// Execution tests for the hart: each instruction group with hand-encoded instructions, trap entry
// and return (including delegation to HS and VS), privileged-instruction rules in every mode, x0,
// instret, and coherence of the decode cache with stores and host writes.
// Expected values are computed by hand from the unprivileged and privileged specifications and the
// checklist in docs/h-extension.md ([doc §n]).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "hart/bus.h"
#include "hart/csr.h"
#include "hart/hart.h"

namespace rvkvm {
namespace {

constexpr u64 kRamBase = 0x8000'0000;
constexpr u64 kRamSize = 8ull << 20;
constexpr u64 kCode = kRamBase + 0x1000;
constexpr u64 kTrapVec = kRamBase + 0x3000;   // mtvec
constexpr u64 kSTrapVec = kRamBase + 0x3400;  // stvec
constexpr u64 kVsTrapVec = kRamBase + 0x3800; // vstvec
constexpr u64 kData = kRamBase + 0x10000;
constexpr u64 kGRoot = kRamBase + 0x20000;    // 16 KiB aligned G-stage root

// ---- encoders (unprivileged spec "Base Instruction Formats" / "Immediate Encoding Variants") ----
constexpr u32 R(u32 f7, u32 rs2, u32 rs1, u32 f3, u32 rd, u32 op) {
  return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
constexpr u32 I(i32 imm, u32 rs1, u32 f3, u32 rd, u32 op) {
  return (static_cast<u32>(imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
constexpr u32 S(i32 imm, u32 rs2, u32 rs1, u32 f3, u32 op) {
  u32 i = static_cast<u32>(imm);
  return ((i >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (i & 0x1f) << 7 | op;
}
constexpr u32 B(i32 imm, u32 rs2, u32 rs1, u32 f3) {
  u32 i = static_cast<u32>(imm);
  return ((i >> 12) & 1) << 31 | ((i >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | ((i >> 1) & 0xf) << 8 |
         ((i >> 11) & 1) << 7 | 0x63;
}
constexpr u32 J(i32 imm, u32 rd) {
  u32 i = static_cast<u32>(imm);
  return ((i >> 20) & 1) << 31 | ((i >> 1) & 0x3ff) << 21 | ((i >> 11) & 1) << 20 | ((i >> 12) & 0xff) << 12 | rd << 7 |
         0x6f;
}
constexpr u32 U(u32 imm20, u32 rd, u32 op) { return imm20 << 12 | rd << 7 | op; }
constexpr u32 kOp = 0x33, kOpImm = 0x13, kOp32 = 0x3b, kOpImm32 = 0x1b, kLoad = 0x03, kStore = 0x23, kAmo = 0x2f,
              kOpFp = 0x53, kSystem = 0x73;
constexpr u32 addi(u32 rd, u32 rs1, i32 imm) { return I(imm, rs1, 0, rd, kOpImm); }
constexpr u32 add(u32 rd, u32 rs1, u32 rs2) { return R(0, rs2, rs1, 0, rd, kOp); }
constexpr u32 ld(u32 rd, u32 rs1, i32 imm) { return I(imm, rs1, 3, rd, kLoad); }
constexpr u32 sw(u32 rs2, u32 rs1, i32 imm) { return S(imm, rs2, rs1, 2, kStore); }
constexpr u32 sh(u32 rs2, u32 rs1, i32 imm) { return S(imm, rs2, rs1, 1, kStore); }
constexpr u32 jal(u32 rd, i32 off) { return J(off, rd); }
constexpr u32 csrrs(u32 rd, u16 csr, u32 rs1) { return I(csr, rs1, 2, rd, kSystem); }
constexpr u32 amo(u32 funct5, u32 width, u32 rd, u32 rs1, u32 rs2) {
  return funct5 << 27 | R(0, rs2, rs1, width, rd, kAmo);
}
constexpr u32 kEcall = 0x00000073, kEbreak = 0x00100073, kMret = 0x30200073, kSret = 0x10200073,
              kWfi = 0x10500073, kFenceI = 0x0000100f, kSfenceVma = 0x12000073, kSinvalVma = 0x16000073,
              kSfenceWInval = 0x18000073, kHfenceVvma = 0x22000073, kHfenceGvma = 0x62000073,
              kHinvalGvma = 0x66000073;
// Hypervisor virtual-machine loads/stores [H §Hypervisor Virtual-Machine Load and Store Instructions].
constexpr u32 hlv_d(u32 rd, u32 rs1) { return R(0x36, 0, rs1, 4, rd, kSystem); }
constexpr u32 hlvx_hu(u32 rd, u32 rs1) { return R(0x32, 3, rs1, 4, rd, kSystem); }
constexpr u32 hsv_d(u32 rs2, u32 rs1) { return R(0x37, rs2, rs1, 4, 0, kSystem); }

// Compressed (C extension "Compressed Instruction Formats").
constexpr u16 c_addi(u32 rd, i32 imm) {
  u32 i = static_cast<u32>(imm);
  return static_cast<u16>(0x0001 | ((i >> 5) & 1) << 12 | rd << 7 | (i & 0x1f) << 2);
}
constexpr u16 c_addiw(u32 rd, i32 imm) { return static_cast<u16>(c_addi(rd, imm) | 0x2000); }
constexpr u16 c_li(u32 rd, i32 imm) { return static_cast<u16>(c_addi(rd, imm) | 0x4000); }
constexpr u16 c_lui(u32 rd, u32 imm6) { return static_cast<u16>(0x6001 | ((imm6 >> 5) & 1) << 12 | rd << 7 | (imm6 & 0x1f) << 2); }
constexpr u16 c_slli(u32 rd, u32 sh) { return static_cast<u16>(0x0002 | ((sh >> 5) & 1) << 12 | rd << 7 | (sh & 0x1f) << 2); }
constexpr u16 c_mv(u32 rd, u32 rs2) { return static_cast<u16>(0x8002 | rd << 7 | rs2 << 2); }
constexpr u16 c_add(u32 rd, u32 rs2) { return static_cast<u16>(0x9002 | rd << 7 | rs2 << 2); }
constexpr u16 c_jalr(u32 rs1) { return static_cast<u16>(0x9002 | rs1 << 7); }
constexpr u16 c_sub(u32 rdp, u32 rs2p) { return static_cast<u16>(0x8c01 | (rdp - 8) << 7 | (rs2p - 8) << 2); }
constexpr u16 c_j(i32 off) {
  u32 o = static_cast<u32>(off);
  return static_cast<u16>(0xa001 | ((o >> 11) & 1) << 12 | ((o >> 4) & 1) << 11 | ((o >> 8) & 3) << 9 |
                          ((o >> 10) & 1) << 8 | ((o >> 6) & 1) << 7 | ((o >> 7) & 1) << 6 | ((o >> 1) & 7) << 3 |
                          ((o >> 5) & 1) << 2);
}
constexpr u16 c_beqz(u32 rs1p, i32 off) {
  u32 o = static_cast<u32>(off);
  return static_cast<u16>(0xc001 | ((o >> 8) & 1) << 12 | ((o >> 3) & 3) << 10 | (rs1p - 8) << 7 |
                          ((o >> 6) & 3) << 5 | ((o >> 1) & 3) << 3 | ((o >> 5) & 1) << 2);
}
constexpr u16 c_ldsp(u32 rd, u32 o) {
  return static_cast<u16>(0x6002 | ((o >> 5) & 1) << 12 | rd << 7 | ((o >> 3) & 3) << 5 | ((o >> 6) & 7) << 2);
}
constexpr u16 c_sdsp(u32 rs2, u32 o) { return static_cast<u16>(0xe002 | ((o >> 3) & 7) << 10 | ((o >> 6) & 7) << 7 | rs2 << 2); }
constexpr u16 c_addi4spn(u32 rdp, u32 i) {
  return static_cast<u16>(((i >> 4) & 3) << 11 | ((i >> 6) & 0xf) << 7 | ((i >> 2) & 1) << 6 | ((i >> 3) & 1) << 5 |
                          (rdp - 8) << 2);
}
constexpr u16 kCEbreak = 0x9002;

enum class Mode { M, HS, U, VS, VU };
constexpr Mode kModes[] = {Mode::M, Mode::HS, Mode::U, Mode::VS, Mode::VU};
const char* name(Mode m) {
  static const char* const n[] = {"M", "HS", "U", "VS", "VU"};
  return n[static_cast<int>(m)];
}
Priv nominal(Mode m) { return m == Mode::M ? Priv::M : (m == Mode::HS || m == Mode::VS) ? Priv::S : Priv::U; }
bool virt(Mode m) { return m == Mode::VS || m == Mode::VU; }

struct AlignedRam {
  explicit AlignedRam(std::size_t size) : p(static_cast<u8*>(std::aligned_alloc(4096, size))) { std::memset(p, 0, size); }
  ~AlignedRam() { std::free(p); }
  AlignedRam(const AlignedRam&) = delete;
  AlignedRam& operator=(const AlignedRam&) = delete;
  u8* p;
};

u64 box(u32 f) { return 0xffff'ffff'0000'0000ull | f; }
constexpr u64 kCanonicalNan32 = 0xffff'ffff'7fc0'0000ull;  // boxed
constexpr u32 kNV = 0x10, kDZ = 0x08, kNX = 0x01;

struct Trap {
  bool taken = false;
  u64 cause = 0, tval = 0, epc = 0;
};

class HartExecTest : public ::testing::Test {
 protected:
  HartExecTest() : hart_(bus_, config()) {
    bus_.add_ram(kRamBase, kRamSize, ram_.p);
    prepare();
  }
  static HartConfig config() {
    HartConfig c;
    c.clock = ClockKind::instret;
    return c;
  }

  u64 csr(u16 num) {
    u64 v = 0;
    EXPECT_TRUE(hart_.read_csr_raw(num, v)) << std::hex << num;
    return v;
  }
  void set_csr(u16 num, u64 v) { EXPECT_TRUE(hart_.write_csr_raw(num, v)) << std::hex << num; }
  u8* host(u64 pa) { return ram_.p + (pa - kRamBase); }
  u64 mem64(u64 pa) {
    u64 v;
    std::memcpy(&v, host(pa), 8);
    return v;
  }
  u32 mem32(u64 pa) {
    u32 v;
    std::memcpy(&v, host(pa), 4);
    return v;
  }
  void set_mem64(u64 pa, u64 v) { std::memcpy(host(pa), &v, 8); }
  void set_mem32(u64 pa, u32 v) { std::memcpy(host(pa), &v, 4); }

  // Every trap to M (medeleg=0), PMP open, counters and FP enabled, trap vectors in RAM.
  void prepare() {
    hart_.reset(kCode);
    set_csr(csr::mtvec, kTrapVec);
    set_csr(csr::stvec, kSTrapVec);
    set_csr(csr::vstvec, kVsTrapVec);
    set_csr(csr::medeleg, 0);
    set_csr(csr::pmpaddr0, (1ull << 54) - 1);
    set_csr(csr::pmpcfg0, 0x1f);
    set_csr(csr::mcounteren, 0xffffffff);
    set_csr(csr::hcounteren, 0xffffffff);
    set_csr(csr::scounteren, 0xffffffff);
    set_csr(csr::mstatus, 1ull << mstatus::kFsShift);
    set_csr(csr::vsstatus, 1ull << mstatus::kFsShift);
    // Each handler is a self-loop, so an interrupt taken at the start of run(1) (which retires
    // nothing) leaves pc on the handler after the one budgeted instruction.
    for (u64 v : {kTrapVec, kSTrapVec, kVsTrapVec, kVsTrapVec + 4}) put32(v, {jal(0, 0)});
  }

  // Writes code at `pc` (32-bit words and 16-bit parcels) and tells the hart about it.
  void put32(u64 pc, std::initializer_list<u32> words) {
    u64 a = pc;
    for (u32 w : words) {
      std::memcpy(host(a), &w, 4);
      a += 4;
    }
    hart_.invalidate_code(host(pc), a - pc);
  }
  void put16(u64 pc, std::initializer_list<u16> parcels) {
    u64 a = pc;
    for (u16 h : parcels) {
      std::memcpy(host(a), &h, 2);
      a += 2;
    }
    hart_.invalidate_code(host(pc), a - pc);
  }

  // Runs `n` instructions from `pc` in mode `m`; `trap_` tells whether (the last) trap happened.
  StopReason go(u64 pc, Mode m, u64 n) {
    hart_.set_pc(pc);
    hart_.set_priv(nominal(m), virt(m));
    u64 traps = hart_.stats().traps;
    StopReason r = hart_.run(n);
    trap_ = {};
    trap_.taken = hart_.stats().traps != traps;
    if (trap_.taken) {
      trap_.cause = csr(csr::mcause);
      trap_.tval = csr(csr::mtval);
      trap_.epc = csr(csr::mepc);
    }
    return r;
  }
  // One instruction at kCode.
  void one(u32 insn, Mode m = Mode::M) {
    put32(kCode, {insn});
    go(kCode, m, 1);
  }
  void one16(u16 insn, Mode m = Mode::M) {
    put16(kCode, {insn});
    go(kCode, m, 1);
  }
  void expect_retired(u64 next_pc) {
    EXPECT_FALSE(trap_.taken) << "unexpected trap, mcause=" << trap_.cause << " mtval=0x" << std::hex << trap_.tval;
    EXPECT_EQ(hart_.pc(), next_pc);
  }
  void expect_trap(u64 cause, u64 tval) {
    ASSERT_TRUE(trap_.taken) << "expected cause " << cause;
    EXPECT_EQ(trap_.cause, cause);
    EXPECT_EQ(trap_.tval, tval);
    EXPECT_EQ(trap_.epc, kCode);
    EXPECT_EQ(hart_.pc(), kTrapVec);
  }

  // A G-stage (Sv39x4) that maps GPA [2 GiB, 3 GiB) to the same SPA with one 1 GiB leaf, and
  // nothing else. Root table is 16 KiB with an 11-bit index [H §hgatp, §Guest Physical Address Translation].
  void identity_gstage() {
    std::memset(host(kGRoot), 0, 16384);
    u64 leaf = ((kRamBase >> 12) << 10) | pte::V | pte::R | pte::W | pte::X | pte::U | pte::A | pte::D;
    set_mem64(kGRoot + 2 * 8, leaf);
    set_csr(csr::hgatp, (u64{atp::Sv39} << atp::kModeShift) | (kGRoot >> 12));
  }

  AlignedRam ram_{kRamSize};
  Bus bus_;
  Hart hart_;
  Trap trap_;
};

// =============================================================================================
// RV64I

struct AluCase {
  const char* name;
  u32 insn;  // rd = x3, rs1 = x1, rs2 = x2
  u64 a, b, want;
};

TEST_F(HartExecTest, Rv64iArithmeticAndLogic) {
  constexpr u64 kMin = 0x8000'0000'0000'0000ull;
  const AluCase cases[] = {
      {"add", R(0, 2, 1, 0, 3, kOp), 5, static_cast<u64>(-3), 2},
      {"sub", R(0x20, 2, 1, 0, 3, kOp), 5, 7, static_cast<u64>(-2)},
      {"sll by 63", R(0, 2, 1, 1, 3, kOp), 1, 63, kMin},
      {"sll uses rs2[5:0]", R(0, 2, 1, 1, 3, kOp), 1, 67, 8},
      {"slt", R(0, 2, 1, 2, 3, kOp), static_cast<u64>(-1), 1, 1},
      {"sltu", R(0, 2, 1, 3, 3, kOp), static_cast<u64>(-1), 1, 0},
      {"xor", R(0, 2, 1, 4, 3, kOp), 0xff00, 0x0ff0, 0xf0f0},
      {"srl", R(0, 2, 1, 5, 3, kOp), kMin, 63, 1},
      {"sra", R(0x20, 2, 1, 5, 3, kOp), kMin, 63, ~0ull},
      {"or", R(0, 2, 1, 6, 3, kOp), 0xf0, 0x0f, 0xff},
      {"and", R(0, 2, 1, 7, 3, kOp), 0xf0, 0x3c, 0x30},
      {"addi negative", addi(3, 1, -6), 5, 0, ~0ull},
      {"slti", I(-4, 1, 2, 3, kOpImm), static_cast<u64>(-5), 0, 1},
      {"sltiu with -1 immediate", I(-1, 1, 3, 3, kOpImm), 5, 0, 1},
      {"xori -1 is not", I(-1, 1, 4, 3, kOpImm), 0x1234, 0, ~0x1234ull},
      {"ori", I(0x700, 1, 6, 3, kOpImm), 0x0ff, 0, 0x7ff},
      {"andi sign-extends", I(-16, 1, 7, 3, kOpImm), 0xffff, 0, 0xfff0},
      {"slli 63", I(63, 1, 1, 3, kOpImm), 1, 0, kMin},
      {"srli 1", I(1, 1, 5, 3, kOpImm), kMin, 0, kMin >> 1},
      {"srai 1", I(0x400 | 1, 1, 5, 3, kOpImm), kMin, 0, 0xc000'0000'0000'0000ull},
      {"addiw wraps and sign-extends", I(1, 1, 0, 3, kOpImm32), 0x7fffffff, 0, 0xffff'ffff'8000'0000ull},
      {"slliw", I(31, 1, 1, 3, kOpImm32), 1, 0, 0xffff'ffff'8000'0000ull},
      {"srliw", I(31, 1, 5, 3, kOpImm32), 0xffff'ffff'8000'0000ull, 0, 1},
      {"sraiw", I(0x400 | 31, 1, 5, 3, kOpImm32), 0x8000'0000, 0, ~0ull},
      {"addw", R(0, 2, 1, 0, 3, kOp32), 0x7fffffff, 1, 0xffff'ffff'8000'0000ull},
      {"subw", R(0x20, 2, 1, 0, 3, kOp32), 0x1'0000'0000ull, 1, ~0ull},
      {"sllw uses rs2[4:0]", R(0, 2, 1, 1, 3, kOp32), 1, 33, 2},
      {"srlw", R(0, 2, 1, 5, 3, kOp32), 0x8000'0000, 31, 1},
      {"sraw", R(0x20, 2, 1, 5, 3, kOp32), 0x8000'0000, 4, 0xffff'ffff'f800'0000ull},
      {"lui sign-extends", U(0x80000, 3, 0x37), 0, 0, 0xffff'ffff'8000'0000ull},
  };
  for (const AluCase& c : cases) {
    SCOPED_TRACE(c.name);
    hart_.set_x(1, c.a);
    hart_.set_x(2, c.b);
    one(c.insn);
    expect_retired(kCode + 4);
    EXPECT_EQ(hart_.x(3), c.want) << std::hex << hart_.x(3);
  }
}

TEST_F(HartExecTest, AuipcAddsToItsOwnPc) {
  one(U(0xfffff, 3, 0x17));  // auipc x3, -1 page
  EXPECT_EQ(hart_.x(3), kCode - 0x1000);
}

TEST_F(HartExecTest, BranchesTakenAndNotTaken) {
  struct Case {
    u32 f3;
    u64 a, b;
    bool taken;
  };
  const Case cases[] = {{0, 5, 5, true},   {0, 5, 6, false},  {1, 5, 6, true},          {1, 5, 5, false},
                        {4, ~0ull, 0, true}, {4, 0, ~0ull, false}, {5, 0, ~0ull, true},  {5, ~0ull, 0, false},
                        {6, 0, ~0ull, true}, {6, ~0ull, 0, false}, {7, ~0ull, 0, true},  {7, 0, 1, false}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "funct3 " << c.f3 << " a=" << c.a << " b=" << c.b);
    hart_.set_x(1, c.a);
    hart_.set_x(2, c.b);
    one(B(-16, 2, 1, c.f3));
    expect_retired(c.taken ? kCode - 16 : kCode + 4);
  }
}

TEST_F(HartExecTest, JalAndJalrLinkAndClearBitZero) {
  one(jal(1, 2048));
  expect_retired(kCode + 2048);
  EXPECT_EQ(hart_.x(1), kCode + 4);
  // jalr with rd == rs1 uses the old rs1 value; the target's bit 0 is cleared.
  hart_.set_x(5, kData + 0x100);
  one(I(3, 5, 0, 5, 0x67));  // jalr x5, 3(x5)
  expect_retired(kData + 0x102);
  EXPECT_EQ(hart_.x(5), kCode + 4);
}

TEST_F(HartExecTest, LoadsExtendAndStoresTruncate) {
  set_mem64(kData, 0x8182'8384'8586'8788ull);
  struct Case {
    u32 f3;
    u64 want;
  };
  const Case loads[] = {{0, 0xffff'ffff'ffff'ff88ull}, {4, 0x88},        {1, 0xffff'ffff'ffff'8788ull},
                        {5, 0x8788},                   {2, 0xffff'ffff'8586'8788ull}, {6, 0x8586'8788},
                        {3, 0x8182'8384'8586'8788ull}};
  hart_.set_x(1, kData);
  for (const Case& c : loads) {
    SCOPED_TRACE(c.f3);
    one(I(0, 1, c.f3, 3, kLoad));
    expect_retired(kCode + 4);
    EXPECT_EQ(hart_.x(3), c.want);
  }
  hart_.set_x(2, 0x1122'3344'5566'7788ull);
  hart_.set_x(1, kData + 0x100);
  set_mem64(kData + 0x100, 0);
  one(S(0, 2, 1, 0, kStore));  // sb
  EXPECT_EQ(mem64(kData + 0x100), 0x88u);
  one(S(2, 2, 1, 1, kStore));  // sh at +2
  EXPECT_EQ(mem64(kData + 0x100), 0x7788'0088u);
  one(S(4, 2, 1, 2, kStore));  // sw at +4
  EXPECT_EQ(mem64(kData + 0x100), 0x5566'7788'7788'0088ull);
  one(S(8, 2, 1, 3, kStore));  // sd at +8
  EXPECT_EQ(mem64(kData + 0x108), 0x1122'3344'5566'7788ull);
}

TEST_F(HartExecTest, MisalignedLoadEitherWorksOrTraps) {
  // Misaligned ordinary loads may be performed or raise load-address-misaligned [priv "Load/store misaligned"].
  set_mem64(kData, 0x0706'0504'0302'0100ull);
  set_mem64(kData + 8, 0x0f0e'0d0c'0b0a'0908ull);
  hart_.set_x(1, kData + 3);
  one(ld(3, 1, 0));
  if (trap_.taken) {
    EXPECT_TRUE(trap_.cause == cause::load_misaligned || trap_.cause == cause::load_access_fault) << trap_.cause;
    EXPECT_EQ(trap_.tval, kData + 3);
  } else {
    EXPECT_EQ(hart_.x(3), 0x0a09'0807'0605'0403ull);
  }
}

TEST_F(HartExecTest, AccessOutsideRamIsAnAccessFault) {
  hart_.set_x(1, 0x1000);
  one(ld(3, 1, 8));
  expect_trap(cause::load_access_fault, 0x1008);
  one(S(0, 3, 1, 3, kStore));
  expect_trap(cause::store_access_fault, 0x1000);
  // Fetching from a hole faults at the fetch address.
  go(0x4000, Mode::M, 1);
  ASSERT_TRUE(trap_.taken);
  EXPECT_EQ(trap_.cause, cause::insn_access_fault);
  EXPECT_EQ(trap_.tval, 0x4000u);
  EXPECT_EQ(trap_.epc, 0x4000u);
}

TEST_F(HartExecTest, X0IsNeverWritten) {
  hart_.set_x(1, kData);
  set_mem64(kData, 0x55);
  // Each of these targets x0; `add x3, x0, x0` afterwards must still read zero.
  const u32 writers[] = {addi(0, 0, 5), U(0x12345, 0, 0x37), ld(0, 1, 0), jal(0, 8), csrrs(0, csr::mscratch, 0),
                         amo(0, 3, 0, 1, 1) /* amoadd.d x0 */, R(1, 1, 1, 0, 0, kOp) /* mul x0 */};
  for (u32 w : writers) {
    SCOPED_TRACE(testing::Message() << std::hex << w);
    put32(kCode, {w});
    put32(kCode + 8, {add(3, 0, 0)});
    hart_.set_x(3, 0x77);
    go(kCode, Mode::M, 1);
    ASSERT_FALSE(trap_.taken);
    go(kCode + 8, Mode::M, 1);
    EXPECT_EQ(hart_.x(3), 0u);
  }
  EXPECT_EQ(mem64(kData), 0x55u + kData) << "amoadd.d with rd=x0 still updates memory";
}

// =============================================================================================
// M

TEST_F(HartExecTest, MultiplyAndDivide) {
  constexpr u64 kMin = 0x8000'0000'0000'0000ull;
  const AluCase cases[] = {
      {"mul", R(1, 2, 1, 0, 3, kOp), 0x1'0000'0001ull, 3, 0x3'0000'0003ull},
      {"mulh 2^62*4", R(1, 2, 1, 1, 3, kOp), 1ull << 62, 4, 1},
      {"mulh -2*3", R(1, 2, 1, 1, 3, kOp), static_cast<u64>(-2), 3, ~0ull},
      {"mulhsu -2*3", R(1, 2, 1, 2, 3, kOp), static_cast<u64>(-2), 3, ~0ull},
      {"mulhsu 1*-1u", R(1, 2, 1, 2, 3, kOp), 1, ~0ull, 0},
      {"mulhu", R(1, 2, 1, 3, 3, kOp), static_cast<u64>(-2), 3, 2},
      {"div rounds toward zero", R(1, 2, 1, 4, 3, kOp), static_cast<u64>(-7), 2, static_cast<u64>(-3)},
      {"div by zero", R(1, 2, 1, 4, 3, kOp), 7, 0, ~0ull},
      {"div overflow", R(1, 2, 1, 4, 3, kOp), kMin, ~0ull, kMin},
      {"divu", R(1, 2, 1, 5, 3, kOp), 7, 2, 3},
      {"divu by zero", R(1, 2, 1, 5, 3, kOp), 7, 0, ~0ull},
      {"rem sign follows dividend", R(1, 2, 1, 6, 3, kOp), static_cast<u64>(-7), 2, ~0ull},
      {"rem by zero", R(1, 2, 1, 6, 3, kOp), static_cast<u64>(-7), 0, static_cast<u64>(-7)},
      {"rem overflow", R(1, 2, 1, 6, 3, kOp), kMin, ~0ull, 0},
      {"remu by zero", R(1, 2, 1, 7, 3, kOp), 9, 0, 9},
      {"mulw", R(1, 2, 1, 0, 3, kOp32), 0x7fffffff, 2, static_cast<u64>(-2)},
      {"divw overflow", R(1, 2, 1, 4, 3, kOp32), 0x8000'0000, ~0ull, 0xffff'ffff'8000'0000ull},
      {"divw by zero", R(1, 2, 1, 4, 3, kOp32), 5, 0x1'0000'0000ull, ~0ull},
      {"divuw", R(1, 2, 1, 5, 3, kOp32), 0xffff'ffff'ffff'fffeull, 2, 0x7fff'ffff},
      {"divuw by zero", R(1, 2, 1, 5, 3, kOp32), 5, 0, ~0ull},
      {"remw overflow", R(1, 2, 1, 6, 3, kOp32), 0x8000'0000, ~0ull, 0},
      {"remuw by zero sign-extends", R(1, 2, 1, 7, 3, kOp32), 0x8000'0005, 0, 0xffff'ffff'8000'0005ull},
  };
  for (const AluCase& c : cases) {
    SCOPED_TRACE(c.name);
    hart_.set_x(1, c.a);
    hart_.set_x(2, c.b);
    one(c.insn);
    expect_retired(kCode + 4);
    EXPECT_EQ(hart_.x(3), c.want) << std::hex << hart_.x(3);
  }
}

// =============================================================================================
// A

TEST_F(HartExecTest, AtomicMemoryOperations) {
  struct Case {
    const char* name;
    u32 funct5, width;
    u64 mem, operand, want_rd, want_mem;
  };
  const Case cases[] = {
      {"amoadd.d", 0x00, 3, 10, 5, 10, 15},
      {"amoswap.w sign-extends", 0x01, 2, 0x8000'0000, 7, 0xffff'ffff'8000'0000ull, 7},
      {"amoxor.d", 0x04, 3, 0xff, 0x0f, 0xff, 0xf0},
      {"amoand.d", 0x0c, 3, 0xff, 0x0f, 0xff, 0x0f},
      {"amoor.w", 0x08, 2, 0xf0, 0x0f, 0xf0, 0xff},
      {"amomin.w signed", 0x10, 2, 0xffff'fffb, 3, ~0ull - 4, 0xffff'fffb},
      {"amominu.w", 0x18, 2, 0xffff'fffb, 3, ~0ull - 4, 3},
      {"amomax.d", 0x14, 3, ~0ull, 1, ~0ull, 1},
      {"amomaxu.d", 0x1c, 3, ~0ull, 1, ~0ull, ~0ull},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    set_mem64(kData, c.width == 2 ? (0xaaaa'aaaa'0000'0000ull | c.mem) : c.mem);
    hart_.set_x(1, kData);
    hart_.set_x(2, c.operand);
    one(amo(c.funct5, c.width, 3, 1, 2));
    expect_retired(kCode + 4);
    EXPECT_EQ(hart_.x(3), c.want_rd);
    if (c.width == 2) {
      EXPECT_EQ(mem32(kData), static_cast<u32>(c.want_mem));
      EXPECT_EQ(mem32(kData + 4), 0xaaaa'aaaau) << "a word AMO touches only its word";
    } else {
      EXPECT_EQ(mem64(kData), c.want_mem);
    }
  }
}

TEST_F(HartExecTest, LoadReservedStoreConditional) {
  constexpr u32 kLr = 0x02, kSc = 0x03;
  set_mem64(kData, 41);
  hart_.set_x(1, kData);
  hart_.set_x(2, 99);
  put32(kCode, {amo(kLr, 3, 3, 1, 0), amo(kSc, 3, 4, 1, 2), amo(kSc, 3, 5, 1, 2)});
  go(kCode, Mode::M, 3);
  ASSERT_FALSE(trap_.taken);
  EXPECT_EQ(hart_.x(3), 41u);
  EXPECT_EQ(hart_.x(4), 0u) << "sc.d after lr.d succeeds";
  EXPECT_EQ(mem64(kData), 99u);
  EXPECT_NE(hart_.x(5), 0u) << "the first sc consumed the reservation; the second must fail";
  // An SC outside the reserved address fails and stores nothing.
  set_mem64(kData + 0x1000, 1);
  hart_.set_x(6, kData + 0x1000);
  put32(kCode, {amo(kLr, 3, 3, 1, 0), amo(kSc, 3, 4, 6, 2)});
  go(kCode, Mode::M, 2);
  EXPECT_NE(hart_.x(4), 0u);
  EXPECT_EQ(mem64(kData + 0x1000), 1u);
}

TEST_F(HartExecTest, MisalignedAtomicsTrap) {
  // AMOs and LR/SC require natural alignment: misaligned -> address-misaligned or access fault.
  set_mem64(kData, 0);
  hart_.set_x(1, kData + 2);
  hart_.set_x(2, 1);
  one(amo(0x00, 2, 3, 1, 2));  // amoadd.w
  ASSERT_TRUE(trap_.taken);
  EXPECT_TRUE(trap_.cause == cause::store_misaligned || trap_.cause == cause::store_access_fault) << trap_.cause;
  EXPECT_EQ(trap_.tval, kData + 2);
  EXPECT_EQ(mem64(kData), 0u);
  one(amo(0x02, 3, 3, 1, 0));  // lr.d
  ASSERT_TRUE(trap_.taken);
  EXPECT_TRUE(trap_.cause == cause::load_misaligned || trap_.cause == cause::load_access_fault) << trap_.cause;
}

// =============================================================================================
// Zba, Zbb, Zbs, Zicond

TEST_F(HartExecTest, BitManipulationAndConditionalZero) {
  const AluCase cases[] = {
      {"sh1add", R(0x10, 2, 1, 2, 3, kOp), 3, 100, 106},
      {"sh2add", R(0x10, 2, 1, 4, 3, kOp), 3, 100, 112},
      {"sh3add", R(0x10, 2, 1, 6, 3, kOp), 3, 100, 124},
      {"add.uw", R(0x04, 2, 1, 0, 3, kOp32), 0xffff'ffff'0000'0005ull, 1, 6},
      {"sh2add.uw", R(0x10, 2, 1, 4, 3, kOp32), 0x1'8000'0000ull, 1, 0x2'0000'0001ull},
      {"slli.uw", I(0x080 | 4, 1, 1, 3, kOpImm32), 0xffff'ffff'8000'0001ull, 0, 0x8'0000'0010ull},
      {"andn", R(0x20, 2, 1, 7, 3, kOp), 0xff, 0x0f, 0xf0},
      {"orn", R(0x20, 2, 1, 6, 3, kOp), 0, 0xffff'ffff'ffff'ff0full, 0xf0},
      {"xnor", R(0x20, 2, 1, 4, 3, kOp), 0x1234, 0x1234, ~0ull},
      {"clz", I(0x600, 1, 1, 3, kOpImm), 1, 0, 63},
      {"clz 0", I(0x600, 1, 1, 3, kOpImm), 0, 0, 64},
      {"ctz", I(0x601, 1, 1, 3, kOpImm), 0x100, 0, 8},
      {"cpop", I(0x602, 1, 1, 3, kOpImm), 0xff00ff, 0, 16},
      {"clzw", I(0x600, 1, 1, 3, kOpImm32), 0xffff'ffff'0000'0001ull, 0, 31},
      {"ctzw 0", I(0x601, 1, 1, 3, kOpImm32), 0xffff'0000'0000'0000ull, 0, 32},
      {"cpopw", I(0x602, 1, 1, 3, kOpImm32), 0xffff'ffff'0000'000full, 0, 4},
      {"max", R(0x05, 2, 1, 6, 3, kOp), ~0ull, 1, 1},
      {"maxu", R(0x05, 2, 1, 7, 3, kOp), ~0ull, 1, ~0ull},
      {"min", R(0x05, 2, 1, 4, 3, kOp), ~0ull, 1, ~0ull},
      {"minu", R(0x05, 2, 1, 5, 3, kOp), ~0ull, 1, 1},
      {"sext.b", I(0x604, 1, 1, 3, kOpImm), 0x80, 0, 0xffff'ffff'ffff'ff80ull},
      {"sext.h", I(0x605, 1, 1, 3, kOpImm), 0x8000, 0, 0xffff'ffff'ffff'8000ull},
      {"zext.h", R(0x04, 0, 1, 4, 3, kOp32), 0xffff'ffff'ffff'8001ull, 0, 0x8001},
      {"rol", R(0x30, 2, 1, 1, 3, kOp), 0x8000'0000'0000'0001ull, 1, 3},
      {"ror", R(0x30, 2, 1, 5, 3, kOp), 1, 1, 0x8000'0000'0000'0000ull},
      {"rori", I(0x600 | 4, 1, 5, 3, kOpImm), 1, 0, 0x1000'0000'0000'0000ull},
      {"rolw", R(0x30, 2, 1, 1, 3, kOp32), 0x8000'0001, 1, 3},
      {"rorw", R(0x30, 2, 1, 5, 3, kOp32), 1, 1, 0xffff'ffff'8000'0000ull},
      {"roriw", I(0x600 | 4, 1, 5, 3, kOpImm32), 0x10, 0, 1},
      {"orc.b", I(0x287, 1, 5, 3, kOpImm), 0x0001'0000'ff00'0010ull, 0, 0x00ff'0000'ff00'00ffull},
      {"rev8", I(0x6b8, 1, 5, 3, kOpImm), 0x0102'0304'0506'0708ull, 0, 0x0807'0605'0403'0201ull},
      {"bclr", R(0x24, 2, 1, 1, 3, kOp), ~0ull, 63, 0x7fff'ffff'ffff'ffffull},
      {"bclri", I(0x480 | 4, 1, 1, 3, kOpImm), 0xff, 0, 0xef},
      {"bext", R(0x24, 2, 1, 5, 3, kOp), 0x10, 4, 1},
      {"bexti", I(0x480 | 5, 1, 5, 3, kOpImm), 0x10, 0, 0},
      {"binv uses rs2[5:0]", R(0x34, 2, 1, 1, 3, kOp), 0, 65, 2},
      {"binvi", I(0x680 | 0, 1, 1, 3, kOpImm), 1, 0, 0},
      {"bset", R(0x14, 2, 1, 1, 3, kOp), 0, 63, 0x8000'0000'0000'0000ull},
      {"bseti", I(0x280 | 3, 1, 1, 3, kOpImm), 0, 0, 8},
      {"czero.eqz zero", R(0x07, 2, 1, 5, 3, kOp), 7, 0, 0},
      {"czero.eqz nonzero", R(0x07, 2, 1, 5, 3, kOp), 7, 5, 7},
      {"czero.nez zero", R(0x07, 2, 1, 7, 3, kOp), 7, 0, 7},
      {"czero.nez nonzero", R(0x07, 2, 1, 7, 3, kOp), 7, 5, 0},
  };
  for (const AluCase& c : cases) {
    SCOPED_TRACE(c.name);
    hart_.set_x(1, c.a);
    hart_.set_x(2, c.b);
    one(c.insn);
    expect_retired(kCode + 4);
    EXPECT_EQ(hart_.x(3), c.want) << std::hex << hart_.x(3);
  }
}

// =============================================================================================
// C

TEST_F(HartExecTest, CompressedArithmetic) {
  struct Case {
    const char* name;
    u16 insn;
    u64 before;  // value of the destination register before
    unsigned rd;
    u64 want;
  };
  hart_.set_x(11, 0x100);
  const Case cases[] = {
      {"c.addi", c_addi(10, -3), 10, 10, 7},
      {"c.addiw", c_addiw(10, 1), 0x7fffffff, 10, 0xffff'ffff'8000'0000ull},
      {"c.li", c_li(12, -1), 0, 12, ~0ull},
      {"c.lui", c_lui(12, 0x1f), 0, 12, 0x1f000},
      {"c.lui negative", c_lui(12, 0x3e), 0, 12, 0xffff'ffff'ffff'e000ull},  // nzimm[17:12]=111110
      {"c.slli 32", c_slli(10, 32), 3, 10, 3ull << 32},
      {"c.mv", c_mv(13, 11), 0, 13, 0x100},
      {"c.add", c_add(13, 11), 5, 13, 0x105},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    hart_.set_x(c.rd, c.before);
    one16(c.insn);
    expect_retired(kCode + 2);
    EXPECT_EQ(hart_.x(c.rd), c.want) << std::hex << hart_.x(c.rd);
  }
  hart_.set_x(8, 10);
  hart_.set_x(9, 3);
  one16(c_sub(8, 9));
  EXPECT_EQ(hart_.x(8), 7u);
}

TEST_F(HartExecTest, CompressedStackAccessAndControlTransfer) {
  hart_.set_x(2, kData);
  hart_.set_x(10, 0x1122'3344'5566'7788ull);
  put16(kCode, {c_sdsp(10, 16), c_ldsp(11, 16), c_addi4spn(8, 16)});
  go(kCode, Mode::M, 3);
  ASSERT_FALSE(trap_.taken);
  EXPECT_EQ(mem64(kData + 16), 0x1122'3344'5566'7788ull);
  EXPECT_EQ(hart_.x(11), 0x1122'3344'5566'7788ull);
  EXPECT_EQ(hart_.x(8), kData + 16);
  EXPECT_EQ(hart_.pc(), kCode + 6);

  one16(c_j(-2048));
  expect_retired(kCode - 2048);
  hart_.set_x(5, kData + 0x40);
  one16(c_jalr(5));
  expect_retired(kData + 0x40);
  EXPECT_EQ(hart_.x(1), kCode + 2) << "c.jalr links pc+2";
  hart_.set_x(8, 0);
  one16(c_beqz(8, 8));
  expect_retired(kCode + 8);
  hart_.set_x(8, 1);
  one16(c_beqz(8, 8));
  expect_retired(kCode + 2);
  one16(kCEbreak);
  ASSERT_TRUE(trap_.taken);
  EXPECT_EQ(trap_.cause, cause::breakpoint);
  EXPECT_TRUE(trap_.tval == 0 || trap_.tval == kCode) << std::hex << trap_.tval;
}

TEST_F(HartExecTest, MixedLengthInstructionStream) {
  hart_.set_x(10, 0);
  u16 c1 = c_addi(10, 1);
  u32 mid = addi(10, 10, 16);
  u16 parcels[] = {c1, static_cast<u16>(mid), static_cast<u16>(mid >> 16), c1, c1};
  std::memcpy(host(kCode), parcels, sizeof parcels);
  hart_.invalidate_code(host(kCode), sizeof parcels);
  go(kCode, Mode::M, 4);
  EXPECT_EQ(hart_.x(10), 19u);
  EXPECT_EQ(hart_.pc(), kCode + 10);
}

TEST_F(HartExecTest, InstructionStraddlingAPageBoundary) {
  constexpr u64 kEnd = kCode + 0x1000 - 2;
  put32(kEnd, {addi(10, 0, 123)});
  go(kEnd, Mode::M, 1);
  ASSERT_FALSE(trap_.taken);
  EXPECT_EQ(hart_.x(10), 123u);
  EXPECT_EQ(hart_.pc(), kEnd + 4);
}

// =============================================================================================
// F and D

class HartFpTest : public HartExecTest {
 protected:
  // Runs an OP-FP style instruction with f1, f2 (and f3 for R4) and returns fflags it raised.
  u32 fp(u32 insn, u64 f1, u64 f2 = 0, u64 f3 = 0) {
    hart_.set_f(1, f1);
    hart_.set_f(2, f2);
    hart_.set_f(3, f3);
    set_csr(csr::fflags, 0);
    one(insn);
    EXPECT_FALSE(trap_.taken) << "mcause " << trap_.cause;
    return static_cast<u32>(csr(csr::fflags));
  }
};

constexpr u32 fop(u32 f7, u32 rs2, u32 rs1, u32 rm, u32 rd) { return R(f7, rs2, rs1, rm, rd, kOpFp); }
constexpr u32 kRne = 0, kRtz = 1, kDyn = 7;

TEST_F(HartFpTest, SingleArithmeticAndFlags) {
  EXPECT_EQ(fp(fop(0x00, 2, 1, kDyn, 4), box(0x3fc00000), box(0x40100000)), 0u);  // 1.5 + 2.25
  EXPECT_EQ(hart_.f(4), box(0x40700000));
  EXPECT_EQ(fp(fop(0x0c, 2, 1, kRne, 4), box(0x3f800000), box(0)), kDZ);  // 1 / 0
  EXPECT_EQ(hart_.f(4), box(0x7f800000));
  EXPECT_EQ(fp(fop(0x2c, 0, 1, kRne, 4), box(0xbf800000)), kNV);  // sqrt(-1)
  EXPECT_EQ(hart_.f(4), kCanonicalNan32);
  // fmin(-0, +0) = -0 and fmax = +0 [F "Single-Precision Floating-Point Computational Instructions"].
  fp(fop(0x14, 2, 1, 0, 4), box(0x80000000), box(0));
  EXPECT_EQ(hart_.f(4), box(0x80000000));
  fp(fop(0x14, 2, 1, 1, 4), box(0x80000000), box(0));
  EXPECT_EQ(hart_.f(4), box(0));
}

TEST_F(HartFpTest, ConversionsRoundAndSaturate) {
  EXPECT_EQ(fp(fop(0x60, 0, 1, kRtz, 3), box(0xbfc00000)), kNX);  // fcvt.w.s -1.5, rtz
  EXPECT_EQ(hart_.x(3), ~0ull);
  EXPECT_EQ(fp(fop(0x60, 0, 1, kRne, 3), box(0xbfc00000)), kNX);  // ties to even
  EXPECT_EQ(hart_.x(3), static_cast<u64>(-2));
  EXPECT_EQ(fp(fop(0x60, 0, 1, kRne, 3), box(0x7fc00000)), kNV);  // NaN -> max int
  EXPECT_EQ(hart_.x(3), 0x7fff'ffffu);
  set_csr(csr::frm, kRtz);
  fp(fop(0x60, 0, 1, kDyn, 3), box(0x3fe00000));  // 1.75 with frm=RTZ
  EXPECT_EQ(hart_.x(3), 1u);
}

TEST_F(HartFpTest, DoubleArithmetic) {
  EXPECT_EQ(fp(fop(0x0d, 2, 1, kRne, 4), 0x3ff0'0000'0000'0000ull, 0x4008'0000'0000'0000ull), kNX);  // 1/3
  EXPECT_EQ(hart_.f(4), 0x3fd5'5555'5555'5555ull);
  fp((3u << 27) | R(1, 2, 1, kRne, 4, 0x43), 0x4000'0000'0000'0000ull, 0x4008'0000'0000'0000ull,
     0x3ff0'0000'0000'0000ull);  // fmadd.d 2*3+1
  EXPECT_EQ(hart_.f(4), 0x401c'0000'0000'0000ull);
  fp(fop(0x21, 0, 1, kRne, 4), box(0x3fc00000));  // fcvt.d.s 1.5
  EXPECT_EQ(hart_.f(4), 0x3ff8'0000'0000'0000ull);
}

// [F/D "NaN Boxing of Narrower Values"]: single-precision operands whose upper 32 bits are not all
// ones are the canonical NaN; results are boxed; FMV.X.W, FSW ignore the upper bits.
TEST_F(HartFpTest, NanBoxing) {
  constexpr u64 kUnboxed = 0x0000'0000'3fc0'0000ull;  // 1.5f without the box
  fp(fop(0x00, 2, 1, kRne, 4), kUnboxed, box(0x3f800000));
  EXPECT_EQ(hart_.f(4), kCanonicalNan32) << "fadd.s reads an improperly boxed input as the canonical NaN";
  fp(fop(0x10, 2, 1, 0, 4), kUnboxed, box(0));  // fsgnj.s
  EXPECT_EQ(hart_.f(4), kCanonicalNan32);
  fp(fop(0x70, 0, 1, 1, 3), kUnboxed);  // fclass.s
  EXPECT_EQ(hart_.x(3), 1u << 9) << "quiet NaN class";
  fp(fop(0x21, 0, 1, kRne, 4), kUnboxed);  // fcvt.d.s
  EXPECT_EQ(hart_.f(4), 0x7ff8'0000'0000'0000ull);
  fp(fop(0x70, 0, 1, 0, 3), 0x1234'5678'8000'0001ull);  // fmv.x.w
  EXPECT_EQ(hart_.x(3), 0xffff'ffff'8000'0001ull);
  hart_.set_x(1, 0xdead'beef'4049'0fdbull);
  one(fop(0x78, 0, 1, 0, 4));  // fmv.w.x
  EXPECT_EQ(hart_.f(4), box(0x40490fdb));
  // FLW boxes; FSW stores the low word of whatever is in the register.
  set_mem64(kData, 0x1111'1111'3f80'0000ull);
  hart_.set_x(1, kData);
  one(I(0, 1, 2, 5, 0x07));  // flw f5, 0(x1)
  EXPECT_EQ(hart_.f(5), box(0x3f800000));
  hart_.set_f(6, 0x0102'0304'0506'0708ull);
  one(S(8, 6, 1, 2, 0x27));  // fsw f6, 8(x1)
  EXPECT_EQ(mem64(kData + 8), 0x0506'0708u);
}

TEST_F(HartFpTest, FpStateTransitionsAndIllegalCases) {
  set_csr(csr::mstatus, 1ull << mstatus::kFsShift);
  hart_.set_priv(Priv::M, false);
  fp(fop(0x00, 2, 1, kRne, 4), box(0), box(0));
  EXPECT_EQ(csr(csr::mstatus) & mstatus::FS, mstatus::FS) << "writing an f register makes FS Dirty";

  u32 fadd = fop(0x00, 2, 1, kRne, 4);
  set_csr(csr::mstatus, 0);
  one(fadd);
  expect_trap(cause::illegal_insn, fadd);
  // With V=1 both FS fields must be on; vsstatus.FS=Off is cause 2, never 22 [doc §1.1].
  set_csr(csr::mstatus, 3ull << mstatus::kFsShift);
  set_csr(csr::vsstatus, 0);
  one(fadd, Mode::VS);
  expect_trap(cause::illegal_insn, fadd);
  set_csr(csr::vsstatus, 1ull << mstatus::kFsShift);
  one(fadd, Mode::VU);
  expect_retired(kCode + 4);
  EXPECT_EQ(csr(csr::vsstatus) & mstatus::FS, mstatus::FS) << "V=1 FP write dirties vsstatus.FS";

  // Reserved static rounding modes 5, 6 and a dynamic mode with frm >= 5 are illegal.
  u32 fadd_rm5 = fop(0x00, 2, 1, 5, 4);
  one(fadd_rm5);
  expect_trap(cause::illegal_insn, fadd_rm5);
  set_csr(csr::frm, 5);
  u32 fadd_dyn = fop(0x00, 2, 1, kDyn, 4);
  one(fadd_dyn);
  expect_trap(cause::illegal_insn, fadd_dyn);
}

// =============================================================================================
// Trap entry [doc §2.1-2.4]

TEST_F(HartExecTest, EcallFromEachModeTrapsToMachineMode) {
  const u64 causes[] = {cause::ecall_m, cause::ecall_s, cause::ecall_u, cause::ecall_vs, cause::ecall_u};
  for (unsigned i = 0; i < 5; ++i) {
    Mode m = kModes[i];
    SCOPED_TRACE(name(m));
    prepare();
    set_csr(csr::mstatus, csr(csr::mstatus) | mstatus::MIE);
    one(kEcall, m);
    expect_trap(causes[i], 0);
    u64 s = csr(csr::mstatus);
    EXPECT_EQ((s & mstatus::MPP) >> mstatus::kMppShift, static_cast<u64>(nominal(m)));
    EXPECT_EQ((s & mstatus::MPV) != 0, virt(m));
    EXPECT_NE(s & mstatus::MPIE, 0u) << "MPIE <- MIE";
    EXPECT_EQ(s & mstatus::MIE, 0u);
    EXPECT_EQ(s & mstatus::GVA, 0u);
    EXPECT_EQ(csr(csr::mtval2), 0u);
    EXPECT_EQ(csr(csr::mtinst), 0u);
    EXPECT_EQ(hart_.priv(), Priv::M);
    EXPECT_FALSE(hart_.virt());
  }
}

TEST_F(HartExecTest, ExceptionDelegatedToHsFromGuest) {
  set_csr(csr::medeleg, 1ull << cause::ecall_u | 1ull << cause::ecall_vs);
  set_csr(csr::hedeleg, 0);
  set_csr(csr::mstatus, csr(csr::mstatus) | mstatus::SIE);
  set_csr(csr::hstatus, hstatus::SPVP);  // must be overwritten with VU's nominal privilege
  u64 vsstatus_before = csr(csr::vsstatus);
  set_csr(csr::mcause, 0x77);
  one(kEcall, Mode::VU);
  EXPECT_EQ(hart_.pc(), kSTrapVec);
  EXPECT_EQ(hart_.priv(), Priv::S);
  EXPECT_FALSE(hart_.virt());
  EXPECT_EQ(csr(csr::scause), cause::ecall_u);
  EXPECT_EQ(csr(csr::sepc), kCode);
  EXPECT_EQ(csr(csr::stval), 0u);
  u64 h = csr(csr::hstatus);
  EXPECT_NE(h & hstatus::SPV, 0u);
  EXPECT_EQ(h & hstatus::SPVP, 0u) << "SPVP <- nominal privilege (U) on a trap from V=1";
  EXPECT_EQ(h & hstatus::GVA, 0u);
  u64 s = csr(csr::mstatus);
  EXPECT_EQ(s & mstatus::SPP, 0u);
  EXPECT_NE(s & mstatus::SPIE, 0u);
  EXPECT_EQ(s & mstatus::SIE, 0u);
  EXPECT_EQ(csr(csr::mcause), 0x77u) << "M-mode trap CSRs untouched";
  EXPECT_EQ(csr(csr::vsstatus), vsstatus_before) << "vsstatus untouched";
  EXPECT_EQ(csr(csr::htval), 0u);
  EXPECT_EQ(csr(csr::htinst), 0u);

  one(kEcall, Mode::VS);
  EXPECT_EQ(csr(csr::scause), cause::ecall_vs);
  EXPECT_NE(csr(csr::mstatus) & mstatus::SPP, 0u);
  EXPECT_NE(csr(csr::hstatus) & hstatus::SPVP, 0u);
}

TEST_F(HartExecTest, TrapFromUserWithV0IgnoresHedelegAndKeepsSpvp) {
  set_csr(csr::medeleg, 1ull << cause::ecall_u);
  set_csr(csr::hedeleg, 1ull << cause::ecall_u);
  set_csr(csr::hstatus, hstatus::SPVP | hstatus::SPV);
  one(kEcall, Mode::U);
  EXPECT_EQ(hart_.pc(), kSTrapVec) << "hedeleg only matters for traps from V=1";
  EXPECT_EQ(csr(csr::scause), cause::ecall_u);
  EXPECT_EQ(csr(csr::hstatus) & hstatus::SPV, 0u);
  EXPECT_NE(csr(csr::hstatus) & hstatus::SPVP, 0u) << "SPVP is left unchanged when V was 0";
}

TEST_F(HartExecTest, ExceptionDelegatedToVs) {
  set_csr(csr::medeleg, 1ull << cause::ecall_u | 1ull << cause::illegal_insn);
  set_csr(csr::hedeleg, 1ull << cause::ecall_u | 1ull << cause::illegal_insn);
  set_csr(csr::vsstatus, csr(csr::vsstatus) | mstatus::SIE | mstatus::SPP);
  set_csr(csr::scause, 0x55);
  u64 hstatus_before = csr(csr::hstatus);
  u64 mstatus_before = csr(csr::mstatus);
  one(kEcall, Mode::VU);
  EXPECT_EQ(hart_.pc(), kVsTrapVec);
  EXPECT_EQ(hart_.priv(), Priv::S);
  EXPECT_TRUE(hart_.virt());
  EXPECT_EQ(csr(csr::vscause), cause::ecall_u);
  EXPECT_EQ(csr(csr::vsepc), kCode);
  u64 vs = csr(csr::vsstatus);
  EXPECT_EQ(vs & mstatus::SPP, 0u) << "from VU";
  EXPECT_NE(vs & mstatus::SPIE, 0u);
  EXPECT_EQ(vs & mstatus::SIE, 0u);
  EXPECT_EQ(csr(csr::scause), 0x55u);
  EXPECT_EQ(csr(csr::hstatus), hstatus_before);
  EXPECT_EQ(csr(csr::mstatus), mstatus_before);

  // An illegal instruction in VS goes to VS with the instruction in vstval.
  u32 bad = 0xffff'ffff;
  one(bad, Mode::VS);
  EXPECT_EQ(hart_.pc(), kVsTrapVec);
  EXPECT_EQ(csr(csr::vscause), cause::illegal_insn);
  EXPECT_EQ(csr(csr::vstval), bad);
  EXPECT_NE(csr(csr::vsstatus) & mstatus::SPP, 0u) << "from VS";
}

TEST_F(HartExecTest, VirtualInstructionCannotBeDelegatedToVs) {
  set_csr(csr::medeleg, 1ull << cause::virtual_insn);
  set_csr(csr::hedeleg, ~0ull);
  u32 insn = csrrs(5, csr::hstatus, 0);
  one(insn, Mode::VS);
  EXPECT_EQ(hart_.pc(), kSTrapVec);
  EXPECT_EQ(csr(csr::scause), cause::virtual_insn);
  EXPECT_EQ(csr(csr::stval), insn);
  EXPECT_NE(csr(csr::hstatus) & hstatus::SPV, 0u);
}

TEST_F(HartExecTest, GuestPageFaultReportsGuestPhysicalAddress) {
  identity_gstage();
  constexpr u64 kGpa = 0x4000'1008;  // root index 1: unmapped
  u32 insn = ld(5, 6, 8);
  hart_.set_x(6, kGpa - 8);
  one(insn, Mode::VS);
  expect_trap(cause::load_guest_page_fault, kGpa);
  EXPECT_EQ(csr(csr::mtval2), kGpa >> 2);
  u64 s = csr(csr::mstatus);
  EXPECT_NE(s & mstatus::GVA, 0u);
  EXPECT_NE(s & mstatus::MPV, 0u);
  u64 tinst = csr(csr::mtinst);
  // Transformed load: bits 31:20 zero, rs1 field = address offset (0), rest as the instruction.
  EXPECT_TRUE(tinst == 0 || tinst == (insn & 0x7fff)) << std::hex << tinst;

  // Into HS with medeleg: htval, hstatus.GVA and SPV.
  set_csr(csr::medeleg, 1ull << cause::store_guest_page_fault);
  u32 st = S(0, 7, 6, 3, kStore);  // sd x7, 0(x6)
  hart_.set_x(6, 1ull << 41);      // above the 41-bit Sv39x4 GPA space: must not be sign-extended
  one(st, Mode::VU);
  EXPECT_EQ(hart_.pc(), kSTrapVec);
  EXPECT_EQ(csr(csr::scause), cause::store_guest_page_fault);
  EXPECT_EQ(csr(csr::stval), 1ull << 41);
  EXPECT_EQ(csr(csr::htval), (1ull << 41) >> 2);
  u64 h = csr(csr::hstatus);
  EXPECT_NE(h & hstatus::GVA, 0u);
  EXPECT_NE(h & hstatus::SPV, 0u);
  tinst = csr(csr::htinst);
  EXPECT_TRUE(tinst == 0 || tinst == (st & 0x01f0707f)) << std::hex << tinst;
}

TEST_F(HartExecTest, HlvFaultFromHsHasGvaButNotSpv) {
  identity_gstage();
  set_csr(csr::medeleg, 1ull << cause::load_guest_page_fault);
  constexpr u64 kGpa = 0x4000'0000;
  hart_.set_x(6, kGpa);
  one(hlv_d(5, 6), Mode::HS);
  EXPECT_EQ(hart_.pc(), kSTrapVec);
  EXPECT_EQ(csr(csr::scause), cause::load_guest_page_fault);
  EXPECT_EQ(csr(csr::stval), kGpa);
  EXPECT_EQ(csr(csr::htval), kGpa >> 2);
  u64 h = csr(csr::hstatus);
  EXPECT_EQ(h & hstatus::SPV, 0u) << "the trap came from V=0";
  EXPECT_NE(h & hstatus::GVA, 0u) << "stval holds a guest virtual address [H §hstatus]";
  // And the successful case reads guest memory through the G-stage.
  set_mem64(kData, 0x1234'5678);
  hart_.set_x(6, kData);
  one(hlv_d(5, 6), Mode::HS);
  expect_retired(kCode + 4);
  EXPECT_EQ(hart_.x(5), 0x1234'5678u);
}

// =============================================================================================
// Trap return [doc §2.6]

TEST_F(HartExecTest, MretRestoresModeFromMppAndMpv) {
  struct Case {
    u64 mpp;
    bool mpv;
    Priv priv;
    bool v;
  };
  const Case cases[] = {{3, true, Priv::M, false},  {1, false, Priv::S, false}, {0, false, Priv::U, false},
                        {1, true, Priv::S, true},   {0, true, Priv::U, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "MPP=" << c.mpp << " MPV=" << c.mpv);
    prepare();
    set_csr(csr::mepc, kData);
    set_csr(csr::mstatus, (csr(csr::mstatus) & ~(mstatus::MIE | mstatus::MPP)) | c.mpp << mstatus::kMppShift |
                              mstatus::MPIE | mstatus::MPRV | (c.mpv ? mstatus::MPV : 0));
    one(kMret, Mode::M);
    expect_retired(kData);
    EXPECT_EQ(hart_.priv(), c.priv);
    EXPECT_EQ(hart_.virt(), c.v) << "MPV is ignored when MPP=M";
    u64 s = csr(csr::mstatus);
    EXPECT_EQ(s & mstatus::MPV, 0u);
    EXPECT_EQ((s & mstatus::MPP) >> mstatus::kMppShift, 0u) << "MPP <- U";
    EXPECT_NE(s & mstatus::MIE, 0u) << "MIE <- MPIE";
    EXPECT_NE(s & mstatus::MPIE, 0u) << "MPIE <- 1";
    EXPECT_EQ((s & mstatus::MPRV) != 0, c.priv == Priv::M) << "leaving M clears MPRV";
  }
}

TEST_F(HartExecTest, SretFromHsUsesSpvAndClearsIt) {
  struct Case {
    bool spp, spv;
    Priv priv;
    bool v;
  };
  const Case cases[] = {{true, false, Priv::S, false}, {false, false, Priv::U, false}, {true, true, Priv::S, true},
                        {false, true, Priv::U, true}};
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "SPP=" << c.spp << " SPV=" << c.spv);
    prepare();
    set_csr(csr::sepc, kData);
    set_csr(csr::mstatus, (csr(csr::mstatus) & ~mstatus::SIE) | mstatus::SPIE | mstatus::MPRV |
                              (c.spp ? mstatus::SPP : 0));
    set_csr(csr::hstatus, (c.spv ? hstatus::SPV : 0) | hstatus::SPVP);
    one(kSret, Mode::HS);
    expect_retired(kData);
    EXPECT_EQ(hart_.priv(), c.priv);
    EXPECT_EQ(hart_.virt(), c.v);
    u64 s = csr(csr::mstatus);
    EXPECT_EQ(s & mstatus::SPP, 0u);
    EXPECT_NE(s & mstatus::SIE, 0u);
    EXPECT_NE(s & mstatus::SPIE, 0u);
    EXPECT_EQ(s & mstatus::MPRV, 0u);
    EXPECT_EQ(csr(csr::hstatus) & hstatus::SPV, 0u) << "SRET at V=0 clears SPV";
    EXPECT_NE(csr(csr::hstatus) & hstatus::SPVP, 0u) << "SPVP is not changed by SRET";
  }
}

TEST_F(HartExecTest, SretFromMachineModeAlsoUsesSpv) {
  set_csr(csr::sepc, kData);
  set_csr(csr::mstatus, csr(csr::mstatus) | mstatus::SPP);
  set_csr(csr::hstatus, hstatus::SPV);
  one(kSret, Mode::M);
  expect_retired(kData);
  EXPECT_EQ(hart_.priv(), Priv::S);
  EXPECT_TRUE(hart_.virt());
}

TEST_F(HartExecTest, SretFromVsUsesVsstatus) {
  set_csr(csr::vsepc, kData);
  set_csr(csr::sepc, kData + 0x100);
  set_csr(csr::vsstatus, csr(csr::vsstatus) | mstatus::SPIE);
  set_csr(csr::hstatus, hstatus::SPV | hstatus::SPVP);
  set_csr(csr::mstatus, csr(csr::mstatus) | mstatus::SPP);
  one(kSret, Mode::VS);
  expect_retired(kData);
  EXPECT_EQ(hart_.priv(), Priv::U);
  EXPECT_TRUE(hart_.virt());
  u64 vs = csr(csr::vsstatus);
  EXPECT_NE(vs & mstatus::SIE, 0u);
  EXPECT_NE(vs & mstatus::SPIE, 0u);
  EXPECT_EQ(csr(csr::hstatus), hstatus::SPV | hstatus::SPVP | (csr(csr::hstatus) & hstatus::VSXL))
      << "hstatus untouched by a V=1 SRET";
  EXPECT_NE(csr(csr::mstatus) & mstatus::SPP, 0u) << "HS sstatus untouched";
}

// =============================================================================================
// Interrupts [doc §3.2]

TEST_F(HartExecTest, VsInterruptIsRenumberedAndVectored) {
  set_csr(csr::hideleg, irq::VSSIP);
  set_csr(csr::mie, irq::VSSIP);
  set_csr(csr::hvip, irq::VSSIP);
  set_csr(csr::vstvec, kVsTrapVec | 1);  // vectored
  set_csr(csr::vsstatus, csr(csr::vsstatus) | mstatus::SIE);
  put32(kCode, {addi(10, 10, 1)});
  go(kCode, Mode::VS, 1);
  EXPECT_EQ(csr(csr::vscause), cause::kInterrupt | irq::SSI) << "VSSI (2) is reported as SSI (1) to the guest";
  EXPECT_EQ(csr(csr::vsepc), kCode);
  EXPECT_EQ(hart_.pc(), kVsTrapVec + 4 * irq::SSI);
  EXPECT_TRUE(hart_.virt());
}

TEST_F(HartExecTest, HsInterruptsAreAlwaysEnabledWhileV1) {
  set_csr(csr::mideleg, irq::SSIP);
  set_csr(csr::mie, irq::SSIP);
  set_csr(csr::mip, irq::SSIP);
  set_csr(csr::mstatus, csr(csr::mstatus) & ~mstatus::SIE);
  put32(kCode, {addi(10, 10, 1)});
  go(kCode, Mode::VS, 1);
  EXPECT_EQ(hart_.pc(), kSTrapVec);
  EXPECT_EQ(csr(csr::scause), cause::kInterrupt | irq::SSI);
  EXPECT_NE(csr(csr::hstatus) & hstatus::SPV, 0u);
}

TEST_F(HartExecTest, VsInterruptsAreNeverTakenWithV0) {
  set_csr(csr::hideleg, irq::VSSIP);
  set_csr(csr::mie, irq::VSSIP);
  set_csr(csr::hvip, irq::VSSIP);
  hart_.set_x(10, 0);
  put32(kCode, {addi(10, 10, 1)});
  go(kCode, Mode::U, 1);
  expect_retired(kCode + 4);
  EXPECT_EQ(hart_.x(10), 1u);
}

// =============================================================================================
// Privileged instructions in every mode [doc §1.4]

constexpr int OK = -1, ILL = 2, VIRT = 22;

class HartPrivInsnTest : public HartExecTest {
 protected:
  void check(const char* what, u32 insn, const std::function<void()>& setup, const int (&expect)[5],
             u64 ok_pc = kCode + 4) {
    for (unsigned i = 0; i < 5; ++i) {
      Mode m = kModes[i];
      SCOPED_TRACE(std::string(what) + " in " + name(m));
      prepare();
      set_csr(csr::mepc, kData);
      set_csr(csr::sepc, kData);
      set_csr(csr::vsepc, kData);
      hart_.set_x(6, kData + 0x100);
      hart_.set_x(7, 0x42);
      if (setup) setup();
      one(insn, m);
      if (expect[i] == OK) {
        expect_retired(ok_pc);
      } else {
        expect_trap(static_cast<u64>(expect[i]), insn);
        u64 s = csr(csr::mstatus);
        EXPECT_EQ((s & mstatus::MPP) >> mstatus::kMppShift, static_cast<u64>(nominal(m)));
        EXPECT_EQ((s & mstatus::MPV) != 0, virt(m));
        EXPECT_EQ(csr(csr::mtinst), 0u);
      }
    }
  }
  std::function<void()> set(u16 num, u64 bits) {
    return [this, num, bits] { set_csr(num, csr(num) | bits); };
  }
};

TEST_F(HartPrivInsnTest, TrapReturns) {
  check("mret", kMret, nullptr, {OK, ILL, ILL, ILL, ILL}, kData);
  check("sret", kSret, nullptr, {OK, OK, ILL, OK, VIRT}, kData);
  check("sret TSR=1", kSret, set(csr::mstatus, mstatus::TSR), {OK, ILL, ILL, OK, VIRT}, kData);
  check("sret VTSR=1", kSret, set(csr::hstatus, hstatus::VTSR), {OK, OK, ILL, VIRT, VIRT}, kData);
}

TEST_F(HartPrivInsnTest, WaitForInterrupt) {
  check("wfi", kWfi, nullptr, {OK, OK, ILL, OK, VIRT});
  check("wfi TW=1", kWfi, set(csr::mstatus, mstatus::TW), {OK, ILL, ILL, ILL, ILL});
  check("wfi VTW=1", kWfi, set(csr::hstatus, hstatus::VTW), {OK, OK, ILL, VIRT, VIRT});
}

TEST_F(HartPrivInsnTest, SupervisorFences) {
  check("sfence.vma", kSfenceVma, nullptr, {OK, OK, ILL, OK, VIRT});
  check("sfence.vma TVM=1", kSfenceVma, set(csr::mstatus, mstatus::TVM), {OK, ILL, ILL, OK, VIRT});
  check("sfence.vma VTVM=1", kSfenceVma, set(csr::hstatus, hstatus::VTVM), {OK, OK, ILL, VIRT, VIRT});
  check("sinval.vma VTVM=1", kSinvalVma, set(csr::hstatus, hstatus::VTVM), {OK, OK, ILL, VIRT, VIRT});
  check("sfence.w.inval TVM+VTVM", kSfenceWInval,
        [this] {
          set_csr(csr::mstatus, csr(csr::mstatus) | mstatus::TVM);
          set_csr(csr::hstatus, hstatus::VTVM);
        },
        {OK, OK, ILL, OK, VIRT});
}

TEST_F(HartPrivInsnTest, HypervisorFences) {
  check("hfence.vvma", kHfenceVvma, nullptr, {OK, OK, ILL, VIRT, VIRT});
  check("hfence.vvma TVM=1", kHfenceVvma, set(csr::mstatus, mstatus::TVM), {OK, OK, ILL, VIRT, VIRT});
  check("hfence.gvma", kHfenceGvma, nullptr, {OK, OK, ILL, VIRT, VIRT});
  check("hfence.gvma TVM=1", kHfenceGvma, set(csr::mstatus, mstatus::TVM), {OK, ILL, ILL, VIRT, VIRT});
  check("hinval.gvma TVM=1", kHinvalGvma, set(csr::mstatus, mstatus::TVM), {OK, ILL, ILL, VIRT, VIRT});
}

TEST_F(HartPrivInsnTest, HypervisorLoadsAndStores) {
  check("hlv.d", hlv_d(5, 6), nullptr, {OK, OK, ILL, VIRT, VIRT});
  check("hlv.d HU=1", hlv_d(5, 6), set(csr::hstatus, hstatus::HU), {OK, OK, OK, VIRT, VIRT});
  check("hlvx.hu", hlvx_hu(5, 6), nullptr, {OK, OK, ILL, VIRT, VIRT});
  check("hsv.d HU=1", hsv_d(7, 6), set(csr::hstatus, hstatus::HU), {OK, OK, OK, VIRT, VIRT});
  EXPECT_EQ(mem64(kData + 0x100), 0x42u);
}

TEST_F(HartPrivInsnTest, BreakpointInEveryMode) {
  for (Mode m : kModes) {
    SCOPED_TRACE(name(m));
    prepare();
    one(kEbreak, m);
    ASSERT_TRUE(trap_.taken);
    EXPECT_EQ(trap_.cause, cause::breakpoint);
    EXPECT_TRUE(trap_.tval == 0 || trap_.tval == kCode);
    // GVA=1 exactly when mtval holds a guest virtual address [H §Machine Status].
    EXPECT_EQ((csr(csr::mstatus) & mstatus::GVA) != 0, virt(m) && trap_.tval != 0);
  }
}

// =============================================================================================
// Counting and the budget

TEST_F(HartExecTest, InstretCountsRetiredInstructionsOnly) {
  put32(kCode, {addi(10, 10, 1), addi(10, 10, 1), addi(10, 10, 1), addi(10, 10, 1)});
  u64 before = hart_.instret();
  EXPECT_EQ(go(kCode, Mode::M, 3), StopReason::budget);
  EXPECT_EQ(hart_.instret() - before, 3u);
  EXPECT_EQ(hart_.pc(), kCode + 12);
  // A trapping instruction does not retire.
  before = hart_.instret();
  one(kEcall);
  EXPECT_TRUE(trap_.taken);
  EXPECT_EQ(hart_.instret(), before);
  // minstret read by an instruction counts the instructions before it.
  put32(kCode, {addi(10, 10, 1), addi(10, 10, 1), csrrs(5, csr::minstret, 0)});
  u64 base = hart_.instret();
  go(kCode, Mode::M, 3);
  EXPECT_EQ(hart_.x(5), base + 2);
}

// =============================================================================================
// Decode cache coherence

TEST_F(HartExecTest, StoreToCodeIsSeenWithoutFenceI) {
  // loop: addi x10, x10, 1 ; sw x11, 0(x12) ; jal x0, loop. The store rewrites the addi.
  hart_.set_x(10, 0);
  hart_.set_x(11, addi(10, 10, 100));
  hart_.set_x(12, kCode);
  put32(kCode, {addi(10, 10, 1), sw(11, 12, 0), jal(0, -8)});
  go(kCode, Mode::M, 4);
  ASSERT_FALSE(trap_.taken);
  EXPECT_EQ(hart_.x(10), 101u);
}

TEST_F(HartExecTest, StoreToUpperHalfOfAnInstruction) {
  // Rewrite only bits 31:16 (the immediate) of an addi that was decoded already.
  hart_.set_x(10, 0);
  hart_.set_x(11, addi(10, 10, 0x7f) >> 16);
  hart_.set_x(12, kCode + 2);
  put32(kCode, {addi(10, 10, 1), sh(11, 12, 0), jal(0, -8)});
  go(kCode, Mode::M, 4);
  EXPECT_EQ(hart_.x(10), 1u + 0x7f);
}

TEST_F(HartExecTest, AtomicToCodeIsSeen) {
  hart_.set_x(10, 0);
  hart_.set_x(11, addi(10, 10, 100) ^ addi(10, 10, 1));
  hart_.set_x(12, kCode);
  put32(kCode, {addi(10, 10, 1), amo(0x04, 2, 0, 12, 11) /* amoxor.w */, jal(0, -8)});
  go(kCode, Mode::M, 4);
  EXPECT_EQ(hart_.x(10), 101u);
}

TEST_F(HartExecTest, HostWriteThenInvalidateCode) {
  hart_.set_x(10, 0);
  put32(kCode, {addi(10, 10, 1)});
  go(kCode, Mode::M, 1);
  EXPECT_EQ(hart_.x(10), 1u);
  u32 w = addi(10, 10, 50);
  std::memcpy(host(kCode), &w, 4);
  hart_.invalidate_code(host(kCode), 4);
  go(kCode, Mode::M, 1);
  EXPECT_EQ(hart_.x(10), 51u);
}

TEST_F(HartExecTest, FenceIMakesHostWrittenCodeVisible) {
  hart_.set_x(10, 0);
  put32(kCode, {addi(10, 10, 1), kFenceI, jal(0, -8)});
  go(kCode, Mode::M, 1);
  u32 w = addi(10, 10, 50);
  std::memcpy(host(kCode), &w, 4);  // like another hart's store: no invalidate_code
  go(kCode + 4, Mode::M, 3);        // fence.i ; jal ; addi
  EXPECT_EQ(hart_.x(10), 51u);
}

// The same two scenarios with guest RAM whose host buffer is not 4 KiB aligned (a std::vector or
// malloc buffer is only 16-byte aligned). Bus::add_ram accepts any host pointer, so the decode
// cache must not assume host page alignment when it maps a store back to a decoded page.
class HartUnalignedRamTest : public ::testing::Test {
 protected:
  HartUnalignedRamTest() : buf_(kRamSize + 4096 + 16) {
    u8* p = buf_.data();
    p += (4096 - reinterpret_cast<uintptr_t>(p) % 4096) % 4096 + 16;  // deliberately not page aligned
    ram_ = p;
    bus_.add_ram(kRamBase, kRamSize, ram_);
    HartConfig c;
    c.clock = ClockKind::instret;
    hart_ = std::make_unique<Hart>(bus_, c);
    hart_->reset(kCode);
    hart_->write_csr_raw(csr::mtvec, kTrapVec);
  }
  void put(u64 pc, u32 w) { std::memcpy(ram_ + (pc - kRamBase), &w, 4); }
  std::vector<u8> buf_;
  u8* ram_;
  Bus bus_;
  std::unique_ptr<Hart> hart_;
};

TEST_F(HartUnalignedRamTest, StoreToCodeIsSeenWithoutFenceI) {
  put(kCode, addi(10, 10, 1));
  put(kCode + 4, sw(11, 12, 0));
  put(kCode + 8, jal(0, -8));
  hart_->set_x(11, addi(10, 10, 100));
  hart_->set_x(12, kCode);
  (void)hart_->run(4);
  EXPECT_EQ(hart_->x(10), 101u);
}

TEST_F(HartUnalignedRamTest, HostWriteThenInvalidateCode) {
  put(kCode, addi(10, 10, 1));
  (void)hart_->run(1);
  EXPECT_EQ(hart_->x(10), 1u);
  put(kCode, addi(10, 10, 50));
  hart_->invalidate_code(ram_ + (kCode - kRamBase), 4);
  hart_->set_pc(kCode);
  (void)hart_->run(1);
  EXPECT_EQ(hart_->x(10), 51u);
}

// =============================================================================================
// Host CSR writes take effect on the next run() (the hypervisor programs the hart this way)

TEST_F(HartExecTest, HostWriteOfMstatusFsTakesEffect) {
  set_csr(csr::mstatus, 3ull << mstatus::kFsShift);
  u32 fadd = fop(0x00, 2, 1, kRne, 4);
  one(fadd);
  ASSERT_FALSE(trap_.taken);
  // No set_priv() in between: only the CSR changes.
  set_csr(csr::mstatus, 0);
  put32(kCode, {fadd});
  hart_.set_pc(kCode);
  u64 traps = hart_.stats().traps;
  (void)hart_.run(1);
  EXPECT_EQ(hart_.stats().traps, traps + 1) << "FS=Off written by the host must disable FP";
  EXPECT_EQ(csr(csr::mcause), cause::illegal_insn);
}

TEST_F(HartExecTest, HostWriteOfSatpTakesEffect) {
  // Sv39: VPN[2]=2 -> level-1 table; 2 MiB pages: index 0 identity (code), index 2 -> kRamBase+6 MiB.
  constexpr u64 kRoot = kRamBase + 0x40000, kL1 = kRamBase + 0x41000;
  std::memset(host(kRoot), 0, 8192);
  set_mem64(kRoot + 2 * 8, ((kL1 >> 12) << 10) | pte::V);
  u64 rwx = pte::V | pte::R | pte::W | pte::X | pte::A | pte::D;
  set_mem64(kL1 + 0 * 8, ((kRamBase >> 12) << 10) | rwx);
  set_mem64(kL1 + 2 * 8, (((kRamBase + (6ull << 20)) >> 12) << 10) | rwx);
  constexpr u64 kVa = kRamBase + (4ull << 20);
  set_mem64(kVa, 0xaaaa);
  set_mem64(kRamBase + (6ull << 20), 0xbbbb);
  hart_.set_x(6, kVa);
  one(ld(5, 6, 0), Mode::HS);  // satp Bare
  ASSERT_FALSE(trap_.taken);
  EXPECT_EQ(hart_.x(5), 0xaaaau);
  set_csr(csr::satp, (u64{atp::Sv39} << atp::kModeShift) | (kRoot >> 12));
  hart_.set_pc(kCode);
  (void)hart_.run(1);
  EXPECT_EQ(hart_.x(5), 0xbbbbu) << "the load must use the translation the host just installed";
}

}  // namespace
}  // namespace rvkvm
