#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "isa/cross_tools_test_util.h"
#include "isa/isa.h"
#include "isa/rvc.h"

namespace rvkvm::isa {
namespace {

using testing::assemble_and_dump;

std::string op_name(Op op) { return op == Op::illegal ? "illegal" : std::string(info(op).mnemonic); }

// --- Self-consistency of the table and decode32 --------------------------------------------------

TEST(Decode32, EveryRowDecodesToItselfWhateverItsFreeBits) {
  std::mt19937 rng(1);
  for (std::size_t i = 0; i < kInsnTable.size(); ++i) {
    const InsnInfo& row = kInsnTable[i];
    for (int k = 0; k < 64; ++k) {
      u32 free_bits = k == 0 ? 0 : (k == 1 ? ~0u : static_cast<u32>(rng()));
      u32 raw = row.match | (free_bits & ~row.mask);
      DecodedInsn d = decode32(raw);
      ASSERT_EQ(d.op, static_cast<Op>(i)) << row.mnemonic << " raw=0x" << std::hex << raw << " decoded as "
                                           << op_name(d.op);
      EXPECT_EQ(d.raw, raw);
      EXPECT_EQ(d.len, 4);
    }
  }
}

// decode32 must agree with a plain scan of the table: it accepts exactly the words some row's
// match/mask accepts, and picks that row.
TEST(Decode32, AgreesWithLinearScanOnRandomWords) {
  std::mt19937 rng(2);
  for (int n = 0; n < 100000; ++n) {
    u32 raw = static_cast<u32>(rng());
    // Bias towards the populated major opcodes so both outcomes are exercised.
    if (n % 2) raw = (raw & ~0x7fu) | (kInsnTable[rng() % kInsnTable.size()].match & 0x7f);
    Op expected = Op::illegal;
    for (std::size_t i = 0; i < kInsnTable.size(); ++i)
      if ((raw & kInsnTable[i].mask) == kInsnTable[i].match) expected = static_cast<Op>(i);
    ASSERT_EQ(decode32(raw).op, expected) << "raw=0x" << std::hex << raw;
  }
}

TEST(Decode32, ImmediatesOfSpecEncodings) {
  // Values worked out by hand from the base ISA's immediate layouts.
  EXPECT_EQ(decode32(0xfff00513).imm, -1);                // addi a0,zero,-1
  EXPECT_EQ(decode32(0x80000537).imm, -0x80000000ll);     // lui a0,0x80000: sign-extended on RV64
  EXPECT_EQ(decode32(0x800000ef).imm, -(1 << 20));        // jal ra,-1 MiB
  EXPECT_EQ(decode32(0x80000063).imm, -4096);             // beq zero,zero,-4096
  EXPECT_EQ(decode32(0xfe000fa3).imm, -1);                // sb zero,-1(zero)
  EXPECT_EQ(decode32(0x03f51513).imm, 63);                // slli a0,a0,63
  EXPECT_EQ(decode32(0x30002573).imm, 0x300);             // csrrs a0,mstatus,zero
  EXPECT_EQ(decode32(0x0c05a52f).imm, 2);                 // amoswap.w.aq: aq=1, rl=0
  EXPECT_EQ(decode32(0x00000000).op, Op::illegal);
  EXPECT_EQ(decode32(0xffffffff).op, Op::illegal);
}

TEST(Decode, CompressedGoesThroughExpansion) {
  DecodedInsn d = decode(0xdead1141);  // c.addi sp,-16; the high half is the next instruction's
  EXPECT_EQ(d.op, Op::addi);
  EXPECT_EQ(d.len, 2);
  EXPECT_EQ(d.rd, 2);
  EXPECT_EQ(d.rs1, 2);
  EXPECT_EQ(d.imm, -16);
  EXPECT_EQ(d.raw, 0xff010113u);

  DecodedInsn bad = decode(0xffff0000);
  EXPECT_EQ(bad.op, Op::illegal);
  EXPECT_EQ(bad.len, 2);
  EXPECT_EQ(bad.raw, 0u);

  DecodedInsn reserved = decode(0x6101);  // c.addi16sp with imm 0
  EXPECT_EQ(reserved.op, Op::illegal);
  EXPECT_EQ(reserved.raw, 0x6101u);

  EXPECT_EQ(decode(0x00a58533).op, Op::add);  // a 32-bit word is not expanded
  EXPECT_EQ(decode(0x00a58533).len, 4);
  EXPECT_EQ(insn_length(0x1141), 2u);
  EXPECT_EQ(insn_length(0x0513), 4u);
}

// --- Every row against the cross assembler -----------------------------------------------------

// The fields decode must recover; unset ones are not checked.
struct Expect {
  int rd_ = -1, rs1_ = -1, rs2_ = -1, rs3_ = -1, rm_ = -1;
  std::optional<i64> imm_;
  Expect& rd(int v) { rd_ = v; return *this; }
  Expect& rs1(int v) { rs1_ = v; return *this; }
  Expect& rs2(int v) { rs2_ = v; return *this; }
  Expect& rs3(int v) { rs3_ = v; return *this; }
  Expect& rm(int v) { rm_ = v; return *this; }
  Expect& imm(i64 v) { imm_ = v; return *this; }
};
Expect fields() { return {}; }

struct Instance {
  Op op;
  std::string source;
  Expect expect;
};

constexpr bool is_word_shift(const InsnInfo& row) { return (row.mask >> 25) == 0x7f; }
constexpr bool takes_no_rm(Op op) { return op == Op::fcvt_d_s || op == Op::fcvt_d_w || op == Op::fcvt_d_wu; }

// Representative instances of a row, written in assembler syntax, with the fields decode must
// recover. Registers are a0/a1/a2/fa3 (10/11/12/13) so that no two fields alias.
std::vector<Instance> instances_of(Op op) {
  const InsnInfo& row = info(op);
  std::string m(row.mnemonic);
  std::vector<Instance> out;
  auto add = [&](std::string operands, Expect e) {
    out.push_back({op, operands.empty() ? m : m + " " + operands, e});
  };
  if (row.ext == Ext::Zicond) {
    // Unknown to binutils 2.40: spell the R-type fields out.
    char buf[96];
    std::snprintf(buf, sizeof buf, ".insn r 0x%x, %u, %u, a0, a1, a2", row.match & 0x7f, (row.match >> 12) & 7,
                  row.match >> 25);
    out.push_back({op, buf, fields().rd(10).rs1(11).rs2(12)});
    return out;
  }
  switch (row.fmt) {
    case Fmt::R: add("a0,a1,a2", fields().rd(10).rs1(11).rs2(12)); break;
    case Fmt::R1: add("a0,a1", fields().rd(10).rs1(11)); break;
    case Fmt::I:
      add("a0,a1,-2048", fields().rd(10).rs1(11).imm(-2048));
      add("a0,a1,2047", fields().rd(10).rs1(11).imm(2047));
      break;
    case Fmt::Shift: {
      int max = is_word_shift(row) ? 31 : 63;
      add("a0,a1," + std::to_string(max), fields().rd(10).rs1(11).imm(max));
      add("a0,a1,1", fields().rd(10).rs1(11).imm(1));
      break;
    }
    case Fmt::U:
      add("a0,0x87654", fields().rd(10).imm(static_cast<i32>(0x87654000u)));
      add("a0,0x7ffff", fields().rd(10).imm(0x7ffff000));
      break;
    case Fmt::J:
      add("a0,.-1048576", fields().rd(10).imm(-1048576));
      add("a0,.+1048574", fields().rd(10).imm(1048574));
      break;
    case Fmt::Jalr:
      add("a0,-2048(a1)", fields().rd(10).rs1(11).imm(-2048));
      add("a0,2047(a1)", fields().rd(10).rs1(11).imm(2047));
      break;
    case Fmt::B:
      add("a1,a2,.-4096", fields().rs1(11).rs2(12).imm(-4096));
      add("a1,a2,.+4094", fields().rs1(11).rs2(12).imm(4094));
      break;
    case Fmt::Load:
      add("a0,-2048(a1)", fields().rd(10).rs1(11).imm(-2048));
      add("a0,2047(a1)", fields().rd(10).rs1(11).imm(2047));
      break;
    case Fmt::Store:
      add("a2,-2048(a1)", fields().rs1(11).rs2(12).imm(-2048));
      add("a2,2047(a1)", fields().rs1(11).rs2(12).imm(2047));
      break;
    case Fmt::Fence:
      add("rw,w", fields().rd(0).rs1(0).imm(0x031));
      add("iorw,iorw", fields().rd(0).rs1(0).imm(0x0ff));
      break;
    case Fmt::Fence2:
      add("a1,a2", fields().rs1(11).rs2(12));
      add("zero,zero", fields().rs1(0).rs2(0));
      break;
    case Fmt::None: add("", fields()); break;
    case Fmt::Csr:
      add("a0,mstatus,a1", fields().rd(10).rs1(11).imm(0x300));
      add("a0,hgatp,a1", fields().rd(10).rs1(11).imm(0x680));
      break;
    case Fmt::CsrI: add("a0,sstatus,17", fields().rd(10).rs1(17).imm(0x100)); break;
    case Fmt::Lr:
      out.push_back({op, m + " a0,(a1)", fields().rd(10).rs1(11).imm(0)});
      out.push_back({op, m + ".aqrl a0,(a1)", fields().rd(10).rs1(11).imm(3)});
      break;
    case Fmt::Amo:
      out.push_back({op, m + ".aq a0,a2,(a1)", fields().rd(10).rs1(11).rs2(12).imm(2)});
      out.push_back({op, m + ".rl a0,a2,(a1)", fields().rd(10).rs1(11).rs2(12).imm(1)});
      break;
    case Fmt::FLoad: add("fa0,-8(a1)", fields().rd(10).rs1(11).imm(-8)); break;
    case Fmt::FStore: add("fa2,-8(a1)", fields().rs1(11).rs2(12).imm(-8)); break;
    case Fmt::R4: add("fa0,fa1,fa2,fa3,rtz", fields().rd(10).rs1(11).rs2(12).rs3(13).rm(1)); break;
    case Fmt::FRrm:
      add("fa0,fa1,fa2,rup", fields().rd(10).rs1(11).rs2(12).rm(3));
      add("fa0,fa1,fa2", fields().rd(10).rs1(11).rs2(12).rm(7));
      break;
    case Fmt::FR1rm:
      if (takes_no_rm(op)) add("fa0,fa1", fields().rd(10).rs1(11).rm(0));
      else add("fa0,fa1,rdn", fields().rd(10).rs1(11).rm(2));
      break;
    case Fmt::FR: add("fa0,fa1,fa2", fields().rd(10).rs1(11).rs2(12)); break;
    case Fmt::XFrm: add("a0,fa1,rtz", fields().rd(10).rs1(11).rm(1)); break;
    case Fmt::XF: add("a0,fa1", fields().rd(10).rs1(11)); break;
    case Fmt::XFF: add("a0,fa1,fa2", fields().rd(10).rs1(11).rs2(12)); break;
    case Fmt::FXrm:
      if (takes_no_rm(op)) add("fa0,a1", fields().rd(10).rs1(11).rm(0));
      else add("fa0,a1,rmm", fields().rd(10).rs1(11).rm(4));
      break;
    case Fmt::FX: add("fa0,a1", fields().rd(10).rs1(11)); break;
    case Fmt::Hlv: add("a0,(a1)", fields().rd(10).rs1(11)); break;
    case Fmt::Hsv: add("a2,(a1)", fields().rs1(11).rs2(12)); break;
  }
  return out;
}

TEST(Decode32, EveryRowMatchesTheCrossAssembler) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  std::vector<Instance> all;
  for (std::size_t i = 0; i < kInsnTable.size(); ++i)
    for (auto& inst : instances_of(static_cast<Op>(i))) all.push_back(std::move(inst));

  // norvc: the assembler would otherwise pick compressed encodings (ebreak -> c.ebreak).
  std::string source = ".option norvc\n";
  for (const auto& inst : all) source += inst.source + "\n";
  auto lines = assemble_and_dump(source);
  ASSERT_EQ(lines.size(), all.size());

  for (std::size_t n = 0; n < all.size(); ++n) {
    const Instance& inst = all[n];
    const testing::DumpLine& line = lines[n];
    SCOPED_TRACE(inst.source + "  ->  0x" + [&] {
      char b[16];
      std::snprintf(b, sizeof b, "%08x", line.raw);
      return std::string(b);
    }());
    ASSERT_EQ(line.len, 4u);
    DecodedInsn d = decode(line.raw);
    ASSERT_EQ(op_name(d.op), op_name(inst.op));
    EXPECT_EQ(d.len, 4);
    const Expect& e = inst.expect;
    if (e.rd_ >= 0) { EXPECT_EQ(d.rd, e.rd_); }
    if (e.rs1_ >= 0) { EXPECT_EQ(d.rs1, e.rs1_); }
    if (e.rs2_ >= 0) { EXPECT_EQ(d.rs2, e.rs2_); }
    if (e.rs3_ >= 0) { EXPECT_EQ(d.rs3, e.rs3_); }
    if (e.rm_ >= 0) { EXPECT_EQ(d.rm, e.rm_); }
    if (e.imm_) { EXPECT_EQ(d.imm, *e.imm_); }
    // binutils' own name for the encoding must be the row's (it prints Zicond as .4byte).
    std::string objdump_mnemonic = line.text.substr(0, line.text.find('\t'));
    if (info(inst.op).ext != Ext::Zicond) {
      std::string expected(info(inst.op).mnemonic);
      if (info(inst.op).fmt == Fmt::Amo || info(inst.op).fmt == Fmt::Lr)
        expected += std::array<const char*, 4>{"", ".rl", ".aq", ".aqrl"}[d.imm & 3];
      EXPECT_EQ(objdump_mnemonic, expected);
    }
  }
}

}  // namespace
}  // namespace rvkvm::isa
