#include "isa/rvc.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "isa/cross_tools_test_util.h"
#include "isa/isa.h"

namespace rvkvm::isa {
namespace {

using testing::assemble_and_dump;

std::string hex16(u16 c) {
  char b[8];
  std::snprintf(b, sizeof b, "0x%04x", c);
  return b;
}

// The 32-bit instruction each compressed instruction stands for, per the RVC chapter.
constexpr Op expected_expansion(RvcOp op) {
  switch (op) {
    case RvcOp::c_addi4spn: return Op::addi;
    case RvcOp::c_fld: return Op::fld;
    case RvcOp::c_lw: return Op::lw;
    case RvcOp::c_ld: return Op::ld;
    case RvcOp::c_fsd: return Op::fsd;
    case RvcOp::c_sw: return Op::sw;
    case RvcOp::c_sd: return Op::sd;
    case RvcOp::c_nop: return Op::addi;
    case RvcOp::c_addi: return Op::addi;
    case RvcOp::c_addiw: return Op::addiw;
    case RvcOp::c_li: return Op::addi;
    case RvcOp::c_addi16sp: return Op::addi;
    case RvcOp::c_lui: return Op::lui;
    case RvcOp::c_srli: return Op::srli;
    case RvcOp::c_srai: return Op::srai;
    case RvcOp::c_andi: return Op::andi;
    case RvcOp::c_sub: return Op::sub;
    case RvcOp::c_xor: return Op::xor_;
    case RvcOp::c_or: return Op::or_;
    case RvcOp::c_and: return Op::and_;
    case RvcOp::c_subw: return Op::subw;
    case RvcOp::c_addw: return Op::addw;
    case RvcOp::c_j: return Op::jal;
    case RvcOp::c_beqz: return Op::beq;
    case RvcOp::c_bnez: return Op::bne;
    case RvcOp::c_slli: return Op::slli;
    case RvcOp::c_fldsp: return Op::fld;
    case RvcOp::c_lwsp: return Op::lw;
    case RvcOp::c_ldsp: return Op::ld;
    case RvcOp::c_jr: return Op::jalr;
    case RvcOp::c_mv: return Op::add;
    case RvcOp::c_ebreak: return Op::ebreak;
    case RvcOp::c_jalr: return Op::jalr;
    case RvcOp::c_add: return Op::add;
    case RvcOp::c_fsdsp: return Op::fsd;
    case RvcOp::c_swsp: return Op::sw;
    case RvcOp::c_sdsp: return Op::sd;
    case RvcOp::illegal:
    case RvcOp::count: break;
  }
  return Op::illegal;
}

TEST(Rvc, ReservedEncodingsExpandToZero) {
  const std::array<u16, 13> reserved = {
      0x0000,  // all zeros: defined illegal
      0x0004,  // c.addi4spn a1,sp,0: nzuimm=0
      0x0010,  // c.addi4spn a2,sp,0
      0x6001,  // c.lui zero,0
      0x6081,  // c.lui ra,0: nzimm=0
      0x6101,  // c.addi16sp sp,0: nzimm=0
      0x4002,  // c.lwsp zero,...: rd=0
      0x6002,  // c.ldsp zero,...: rd=0
      0x8002,  // c.jr zero: rs1=0
      0x2001,  // c.addiw zero,0: rd=0
      0x9c41,  // quadrant 1, funct6=100111, funct2=10: reserved
      0x9c61,  // quadrant 1, funct6=100111, funct2=11: reserved
      0x8000,  // quadrant 0, funct3=100: reserved
  };
  for (u16 c : reserved) {
    EXPECT_EQ(expand_compressed(c), 0u) << hex16(c);
    EXPECT_EQ(compressed_mnemonic(c), "") << hex16(c);
    EXPECT_EQ(expand_rvc(c).op, RvcOp::illegal) << hex16(c);
  }
  EXPECT_EQ(expand_compressed(0x0013), 0u);  // low bits 11: a 32-bit instruction, not RVC
  EXPECT_EQ(expand_compressed(0xffff), 0u);
}

TEST(Rvc, HintsExpandToHarmlessInstructions) {
  struct Case {
    u16 c;
    u32 expansion;
    std::string_view mnemonic;
  };
  // Encodings worked out from the RVC and base formats.
  const Case cases[] = {
      {0x0001, 0x00000013, "c.nop"},   // addi zero,zero,0
      {0x0005, 0x00100013, "c.nop"},   // c.nop with nzimm=1: addi zero,zero,1
      {0x0501, 0x00050513, "c.addi"},  // c.addi a0,0: addi a0,a0,0
      {0x4015, 0x00500013, "c.li"},    // c.li zero,5: addi zero,zero,5
      {0x6005, 0x00001037, "c.lui"},   // c.lui zero,0x1: lui zero,0x1
      {0x000e, 0x00301013, "c.slli"},  // c.slli zero,3: slli zero,zero,3
      {0x0502, 0x00051513, "c.slli"},  // c.slli a0,0: slli a0,a0,0
      {0x8001, 0x00045413, "c.srli"},  // c.srli s0,0: srli s0,s0,0
      {0x802e, 0x00b00033, "c.mv"},    // c.mv zero,a1: add zero,zero,a1
      {0x902e, 0x00b00033, "c.add"},   // c.add zero,a1: add zero,zero,a1
  };
  for (const Case& k : cases) {
    EXPECT_EQ(expand_compressed(k.c), k.expansion) << hex16(k.c);
    EXPECT_EQ(compressed_mnemonic(k.c), k.mnemonic) << hex16(k.c);
  }
}

TEST(Rvc, Rv64Meanings) {
  EXPECT_EQ(compressed_mnemonic(0x2505), "c.addiw");  // not c.jal
  EXPECT_EQ(expand_compressed(0x2505), 0x0015051bu);  // addiw a0,a0,1
  EXPECT_EQ(compressed_mnemonic(0x6188), "c.ld");     // not c.flw
  EXPECT_EQ(compressed_mnemonic(0xe188), "c.sd");     // not c.fsw
  EXPECT_EQ(compressed_mnemonic(0x6502), "c.ldsp");   // not c.flwsp
  EXPECT_EQ(compressed_mnemonic(0xe02a), "c.sdsp");   // not c.fswsp
  // Shift amounts with shamt[5]=1 are legal on RV64.
  EXPECT_EQ(expand_compressed(0x9001), 0x02045413u);  // c.srli s0,32: srli s0,s0,32
  EXPECT_EQ(expand_compressed(0x9401), 0x42045413u);  // c.srai s0,32: srai s0,s0,32
  EXPECT_EQ(expand_compressed(0x1502), 0x02051513u);  // c.slli a0,32: slli a0,a0,32
}

TEST(Rvc, SpecializationsTakePrecedence) {
  EXPECT_EQ(compressed_mnemonic(0x9002), "c.ebreak");
  EXPECT_EQ(compressed_mnemonic(0x9582), "c.jalr");
  EXPECT_EQ(compressed_mnemonic(0x952e), "c.add");
  EXPECT_EQ(compressed_mnemonic(0x8082), "c.jr");
  EXPECT_EQ(compressed_mnemonic(0x852e), "c.mv");
  EXPECT_EQ(compressed_mnemonic(0x7101), "c.addi16sp");
  EXPECT_EQ(compressed_mnemonic(0x7501), "c.lui");
  EXPECT_EQ(compressed_mnemonic(0x0001), "c.nop");
  EXPECT_EQ(compressed_mnemonic(0x0505), "c.addi");
}

// Every halfword either is illegal/reserved, or expands to a 32-bit instruction that decode32
// accepts and that is the instruction the RVC chapter names for the matching row.
TEST(Rvc, EveryHalfwordExpandsConsistently) {
  std::set<RvcOp> seen;
  for (u32 v = 0; v <= 0xffff; ++v) {
    u16 c = static_cast<u16>(v);
    RvcExpansion e = expand_rvc(c);
    ASSERT_EQ(expand_compressed(c), e.insn) << hex16(c);
    if ((c & 3) == 3) {
      ASSERT_EQ(e.insn, 0u) << hex16(c);
      continue;
    }
    DecodedInsn d = decode(c);
    ASSERT_EQ(d.len, 2) << hex16(c);
    if (e.insn == 0) {
      ASSERT_EQ(e.op, RvcOp::illegal) << hex16(c);
      ASSERT_EQ(compressed_mnemonic(c), "") << hex16(c);
      ASSERT_EQ(d.op, Op::illegal) << hex16(c);
      continue;
    }
    ASSERT_NE(e.op, RvcOp::illegal) << hex16(c);
    seen.insert(e.op);
    const RvcInfo& row = info(e.op);
    ASSERT_EQ(c & row.mask, row.match) << hex16(c);
    ASSERT_EQ(compressed_mnemonic(c), row.mnemonic) << hex16(c);
    ASSERT_EQ(e.insn & 3, 3u) << hex16(c);
    DecodedInsn d32 = decode32(e.insn);
    ASSERT_NE(d32.op, Op::illegal) << hex16(c) << " -> 0x" << std::hex << e.insn;
    ASSERT_EQ(d32.op, expected_expansion(e.op)) << hex16(c) << " -> " << info(d32.op).mnemonic;
    ASSERT_EQ(d.op, d32.op) << hex16(c);
    ASSERT_EQ(d.raw, e.insn) << hex16(c);
  }
  EXPECT_EQ(seen.size(), kRvcTable.size()) << "some row never matches any halfword";
}

// --- Against the cross assembler ---------------------------------------------------------------

struct RoundTrip {
  RvcOp op;
  std::string compressed;  // source of the 16-bit form
  std::string full;        // source of the 32-bit instruction it must expand to
};

// Representative instances of every row, including HINTs and extreme immediates.
const std::vector<RoundTrip>& round_trips() {
  static const std::vector<RoundTrip> cases = {
      {RvcOp::c_addi4spn, "c.addi4spn a0,sp,1020", "addi a0,sp,1020"},
      {RvcOp::c_addi4spn, "c.addi4spn s1,sp,4", "addi s1,sp,4"},
      {RvcOp::c_addi4spn, "c.addi4spn a5,sp,520", "addi a5,sp,520"},
      {RvcOp::c_fld, "c.fld fa0,248(a1)", "fld fa0,248(a1)"},
      {RvcOp::c_fld, "c.fld fs0,8(a5)", "fld fs0,8(a5)"},
      {RvcOp::c_lw, "c.lw a0,124(a1)", "lw a0,124(a1)"},
      {RvcOp::c_lw, "c.lw a5,64(s0)", "lw a5,64(s0)"},
      {RvcOp::c_lw, "c.lw s1,4(a4)", "lw s1,4(a4)"},
      {RvcOp::c_ld, "c.ld a0,248(a1)", "ld a0,248(a1)"},
      {RvcOp::c_ld, "c.ld s1,136(a4)", "ld s1,136(a4)"},
      {RvcOp::c_fsd, "c.fsd fa0,248(a1)", "fsd fa0,248(a1)"},
      {RvcOp::c_fsd, "c.fsd fs1,64(a3)", "fsd fs1,64(a3)"},
      {RvcOp::c_sw, "c.sw a0,124(a1)", "sw a0,124(a1)"},
      {RvcOp::c_sw, "c.sw a5,68(s0)", "sw a5,68(s0)"},
      {RvcOp::c_sd, "c.sd a0,248(a1)", "sd a0,248(a1)"},
      {RvcOp::c_sd, "c.sd s0,72(a5)", "sd s0,72(a5)"},
      {RvcOp::c_nop, "c.nop", "addi zero,zero,0"},
      {RvcOp::c_nop, "c.nop -7", "addi zero,zero,-7"},
      {RvcOp::c_addi, "c.addi a0,-32", "addi a0,a0,-32"},
      {RvcOp::c_addi, "c.addi sp,31", "addi sp,sp,31"},
      {RvcOp::c_addi, "c.addi t6,0", "addi t6,t6,0"},
      {RvcOp::c_addiw, "c.addiw a0,-1", "addiw a0,a0,-1"},
      {RvcOp::c_addiw, "c.addiw s11,0", "addiw s11,s11,0"},
      {RvcOp::c_addiw, "c.addiw ra,31", "addiw ra,ra,31"},
      {RvcOp::c_li, "c.li a0,-32", "addi a0,zero,-32"},
      {RvcOp::c_li, "c.li zero,5", "addi zero,zero,5"},
      {RvcOp::c_li, "c.li t3,31", "addi t3,zero,31"},
      {RvcOp::c_addi16sp, "c.addi16sp sp,-512", "addi sp,sp,-512"},
      {RvcOp::c_addi16sp, "c.addi16sp sp,496", "addi sp,sp,496"},
      {RvcOp::c_addi16sp, "c.addi16sp sp,16", "addi sp,sp,16"},
      {RvcOp::c_lui, "c.lui a0,0x1f", "lui a0,0x1f"},
      {RvcOp::c_lui, "c.lui s1,0xfffe0", "lui s1,0xfffe0"},
      {RvcOp::c_lui, "c.lui zero,1", "lui zero,0x1"},
      {RvcOp::c_srli, "c.srli a0,63", "srli a0,a0,63"},
      {RvcOp::c_srli, "c.srli s0,1", "srli s0,s0,1"},
      {RvcOp::c_srli, "c.srli64 a5", "srli a5,a5,0"},
      {RvcOp::c_srai, "c.srai a0,63", "srai a0,a0,63"},
      {RvcOp::c_srai, "c.srai s1,17", "srai s1,s1,17"},
      {RvcOp::c_andi, "c.andi a0,-32", "andi a0,a0,-32"},
      {RvcOp::c_andi, "c.andi s1,31", "andi s1,s1,31"},
      {RvcOp::c_sub, "c.sub a0,a1", "sub a0,a0,a1"},
      {RvcOp::c_xor, "c.xor s0,a5", "xor s0,s0,a5"},
      {RvcOp::c_or, "c.or a5,s1", "or a5,a5,s1"},
      {RvcOp::c_and, "c.and a2,a3", "and a2,a2,a3"},
      {RvcOp::c_subw, "c.subw a0,a1", "subw a0,a0,a1"},
      {RvcOp::c_addw, "c.addw a4,s0", "addw a4,a4,s0"},
      {RvcOp::c_j, "c.j .-2048", "jal zero,.-2048"},
      {RvcOp::c_j, "c.j .+2046", "jal zero,.+2046"},
      {RvcOp::c_j, "c.j .+42", "jal zero,.+42"},
      {RvcOp::c_beqz, "c.beqz a0,.-256", "beq a0,zero,.-256"},
      {RvcOp::c_beqz, "c.beqz s0,.+86", "beq s0,zero,.+86"},
      {RvcOp::c_bnez, "c.bnez s1,.+254", "bne s1,zero,.+254"},
      {RvcOp::c_bnez, "c.bnez a5,.-42", "bne a5,zero,.-42"},
      {RvcOp::c_slli, "c.slli a0,63", "slli a0,a0,63"},
      {RvcOp::c_slli, "c.slli zero,3", "slli zero,zero,3"},
      {RvcOp::c_slli, "c.slli64 t1", "slli t1,t1,0"},
      {RvcOp::c_fldsp, "c.fldsp fa0,504(sp)", "fld fa0,504(sp)"},
      {RvcOp::c_fldsp, "c.fldsp ft0,0(sp)", "fld ft0,0(sp)"},
      {RvcOp::c_lwsp, "c.lwsp a0,252(sp)", "lw a0,252(sp)"},
      {RvcOp::c_lwsp, "c.lwsp t6,68(sp)", "lw t6,68(sp)"},
      {RvcOp::c_ldsp, "c.ldsp ra,504(sp)", "ld ra,504(sp)"},
      {RvcOp::c_ldsp, "c.ldsp s5,40(sp)", "ld s5,40(sp)"},
      {RvcOp::c_jr, "c.jr ra", "jalr zero,0(ra)"},
      {RvcOp::c_jr, "c.jr t6", "jalr zero,0(t6)"},
      {RvcOp::c_mv, "c.mv a0,a1", "add a0,zero,a1"},
      {RvcOp::c_mv, "c.mv zero,t0", "add zero,zero,t0"},
      {RvcOp::c_ebreak, "c.ebreak", "ebreak"},
      {RvcOp::c_jalr, "c.jalr a1", "jalr ra,0(a1)"},
      {RvcOp::c_jalr, "c.jalr ra", "jalr ra,0(ra)"},
      {RvcOp::c_add, "c.add a0,a1", "add a0,a0,a1"},
      {RvcOp::c_add, "c.add zero,s2", "add zero,zero,s2"},
      {RvcOp::c_fsdsp, "c.fsdsp fa0,504(sp)", "fsd fa0,504(sp)"},
      {RvcOp::c_fsdsp, "c.fsdsp ft11,8(sp)", "fsd ft11,8(sp)"},
      {RvcOp::c_swsp, "c.swsp a0,252(sp)", "sw a0,252(sp)"},
      {RvcOp::c_swsp, "c.swsp s3,4(sp)", "sw s3,4(sp)"},
      {RvcOp::c_sdsp, "c.sdsp ra,504(sp)", "sd ra,504(sp)"},
      {RvcOp::c_sdsp, "c.sdsp zero,8(sp)", "sd zero,8(sp)"},
  };
  return cases;
}

TEST(Rvc, EveryRowRoundTripsThroughTheAssembler) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  const auto& cases = round_trips();
  std::set<RvcOp> covered;
  for (const auto& k : cases) covered.insert(k.op);
  ASSERT_EQ(covered.size(), kRvcTable.size()) << "a row has no round-trip case";

  // Each pair sits together, so pc-relative operands resolve to the same offset in both forms.
  std::string source;
  for (const auto& k : cases) source += ".option rvc\n" + k.compressed + "\n.option norvc\n" + k.full + "\n";
  auto lines = assemble_and_dump(source);
  ASSERT_EQ(lines.size(), 2 * cases.size());
  for (std::size_t n = 0; n < cases.size(); ++n) {
    const auto& k = cases[n];
    const auto& c = lines[2 * n];
    const auto& w = lines[2 * n + 1];
    SCOPED_TRACE(k.compressed + " / " + k.full);
    ASSERT_EQ(c.len, 2u);
    ASSERT_EQ(w.len, 4u);
    u16 half = static_cast<u16>(c.raw);
    EXPECT_EQ(expand_compressed(half), w.raw) << hex16(half);
    EXPECT_EQ(compressed_mnemonic(half), info(k.op).mnemonic) << hex16(half);
  }
}

// objdump's reading of every one of the 49152 compressed halfwords must equal ours. Operands are
// printed from the expansion, so this also checks every expanded field of every halfword.
TEST(Rvc, EveryHalfwordDisassemblesLikeObjdump) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  constexpr u64 kBase = 0x80000000;
  std::vector<u8> bytes;
  std::vector<u16> halves;
  for (u32 v = 0; v <= 0xffff; ++v) {
    if ((v & 3) == 3) continue;
    halves.push_back(static_cast<u16>(v));
    testing::append_le(bytes, v, 2);
  }
  auto lines = testing::dump_raw(bytes, kBase);
  ASSERT_EQ(lines.size(), halves.size());
  int mismatches = 0;
  for (std::size_t n = 0; n < halves.size(); ++n) {
    u16 c = halves[n];
    const auto& line = lines[n];
    ASSERT_EQ(line.raw, c);
    ASSERT_EQ(line.addr, kBase + 2 * n);
    // binutils 2.40 accepts c.addi16sp with a zero immediate, which the spec reserves.
    if (c == 0x6101) {
      EXPECT_EQ(line.text, "c.addi16sp\tsp,0");
      EXPECT_EQ(disassemble(c, line.addr), ".2byte\t0x6101");
      continue;
    }
    std::string ours = disassemble(c, line.addr);
    if (ours != line.text && ++mismatches <= 20)
      ADD_FAILURE() << hex16(c) << ": ours \"" << ours << "\" objdump \"" << line.text << "\"";
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace rvkvm::isa
