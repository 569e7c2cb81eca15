#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "isa/cross_tools_test_util.h"
#include "isa/csr_names.h"
#include "isa/isa.h"
#include "isa/rvc.h"

namespace rvkvm::isa {
namespace {

std::string hex32(u32 v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

TEST(Disasm, RegisterNames) {
  EXPECT_EQ(xreg_name(0), "zero");
  EXPECT_EQ(xreg_name(2), "sp");
  EXPECT_EQ(xreg_name(8), "s0");  // objdump spells x8 s0, not fp
  EXPECT_EQ(xreg_name(31), "t6");
  EXPECT_EQ(xreg_name(32), "");
  EXPECT_EQ(freg_name(0), "ft0");
  EXPECT_EQ(freg_name(9), "fs1");
  EXPECT_EQ(freg_name(17), "fa7");
  EXPECT_EQ(freg_name(31), "ft11");
  EXPECT_EQ(freg_name(32), "");
}

TEST(Disasm, CsrNames) {
  EXPECT_EQ(csr_name(0x001), "fflags");
  EXPECT_EQ(csr_name(0x180), "satp");
  EXPECT_EQ(csr_name(0x14d), "stimecmp");
  EXPECT_EQ(csr_name(0x24d), "vstimecmp");
  EXPECT_EQ(csr_name(0x600), "hstatus");
  EXPECT_EQ(csr_name(0x680), "hgatp");
  EXPECT_EQ(csr_name(0xe12), "hgeip");
  EXPECT_EQ(csr_name(0x30a), "menvcfg");
  EXPECT_EQ(csr_name(0x3a0), "pmpcfg0");
  EXPECT_EQ(csr_name(0x3af), "pmpcfg15");
  EXPECT_EQ(csr_name(0x3b0), "pmpaddr0");
  EXPECT_EQ(csr_name(0x3ef), "pmpaddr63");
  EXPECT_EQ(csr_name(0x323), "mhpmevent3");
  EXPECT_EQ(csr_name(0x33f), "mhpmevent31");
  EXPECT_EQ(csr_name(0xb03), "mhpmcounter3");
  EXPECT_EQ(csr_name(0xb9f), "mhpmcounter31h");
  EXPECT_EQ(csr_name(0xc1f), "hpmcounter31");
  EXPECT_EQ(csr_name(0xf15), "mconfigptr");
  EXPECT_EQ(csr_name(0x7ff), "");
  EXPECT_EQ(csr_name(0xfff), "");
  EXPECT_EQ(csr_name(0x1000), "");
}

TEST(Disasm, HandWrittenExamples) {
  EXPECT_EQ(disassemble(0xff010113, 0), "addi\tsp,sp,-16");
  EXPECT_EQ(disassemble(0x00813503, 0), "ld\ta0,8(sp)");
  EXPECT_EQ(disassemble(0x1141, 0), "c.addi\tsp,-16");
  EXPECT_EQ(disassemble(0x00b50863, 0x80000000), "beq\ta0,a1,0x80000010");
  EXPECT_EQ(disassemble(0x00b50863, 0xfffffffffffffff8ull), "beq\ta0,a1,0x8");  // wraps like the pc
  EXPECT_EQ(disassemble(0x30002573, 0), "csrrs\ta0,mstatus,zero");
  EXPECT_EQ(disassemble(0x7ff02573, 0), "csrrs\ta0,0x7ff,zero");
  EXPECT_EQ(disassemble(0x0ff0000f, 0), "fence\tiorw,iorw");
  EXPECT_EQ(disassemble(0x8330000f, 0), "fence.tso");
  EXPECT_EQ(disassemble(0x0100000f, 0), "pause");
  EXPECT_EQ(disassemble(0x04b6252f, 0), "amoadd.w.aq\ta0,a1,(a2)");
  EXPECT_EQ(disassemble(0x00c59553, 0), "fadd.s\tfa0,fa1,fa2,rtz");
  EXPECT_EQ(disassemble(0x00c5f553, 0), "fadd.s\tfa0,fa1,fa2");
  EXPECT_EQ(disassemble(0x00000073, 0), "ecall");
  EXPECT_EQ(disassemble(0xc0001073, 0), "unimp");
  EXPECT_EQ(disassemble(0x0000, 0), "c.unimp");
  EXPECT_EQ(disassemble(0x6101, 0), ".2byte\t0x6101");
  EXPECT_EQ(disassemble(0xffffffff, 0), ".4byte\t0xffffffff");
}

// --- Against objdump ------------------------------------------------------------------------------

// A random instance of `op` within the encodings objdump 2.40 also gives that meaning, so that
// the texts are comparable (see disasm.cc for where we deliberately decode more).
u32 random_instance(Op op, std::mt19937& rng) {
  const InsnInfo& row = info(op);
  u32 raw = row.match | (static_cast<u32>(rng()) & ~row.mask);
  if (op == Op::fence) raw &= ~0xf00fff80u;  // fm=0, rs1=rd=0
  if (op == Op::fence_i) raw = 0x0000100f;
  if (op == Op::fcvt_d_s || op == Op::fcvt_d_w || op == Op::fcvt_d_wu) raw &= ~0x7000u;  // rm=0
  return raw;
}

// Instructions with no random freedom worth sampling, and edge cases of objdump's spelling.
constexpr u32 kSpecialWords[] = {
    0x0100000f,  // pause
    0x8330000f,  // fence.tso
    0x0000000f,  // fence with empty sets: "unknown,unknown"
    0x0210000f,  // fence r,w
    0xc0001073,  // unimp
    0x00000013,  // addi zero,zero,0
    0x00000537,  // lui a0,0x0
    0xfffff517,  // auipc a0,0xfffff
    0x10500173,  // wfi with rd=sp: no instruction
    0x42059553,  // fcvt.d.s with rm=rtz: we print fcvt.d.s (objdump: .4byte) -- not compared
    0xc0056553,  // fcvt.w.s with reserved rm=6: "unknown"
};

TEST(Disasm, BroadCorpusMatchesObjdump) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  std::mt19937 rng(42);
  std::vector<u32> words;
  for (std::size_t i = 0; i < kInsnTable.size(); ++i)
    for (int k = 0; k < 40; ++k) words.push_back(random_instance(static_cast<Op>(i), rng));
  for (u32 w : kSpecialWords) words.push_back(w);
  // Compressed instructions in the same stream, so mixed-length addresses are exercised too.
  for (int k = 0; k < 2000; ++k) {
    u16 c = static_cast<u16>(rng());
    if ((c & 3) != 3 && c != 0x6101) words.push_back(c);
  }

  std::string source;
  char buf[40];
  for (u32 w : words) {
    std::snprintf(buf, sizeof buf, ".insn 0x%x\n", w);
    source += buf;
  }
  auto lines = testing::assemble_and_dump(source);
  ASSERT_EQ(lines.size(), words.size());

  int compared = 0, mismatches = 0;
  for (std::size_t n = 0; n < words.size(); ++n) {
    const auto& line = lines[n];
    u32 w = words[n];
    ASSERT_EQ(line.raw, (w & 3) == 3 ? w : (w & 0xffff));
    DecodedInsn d = decode(w);
    // binutils 2.40 has no Zicond; and see kSpecialWords for the fcvt.d.s we decode more widely.
    if (d.op != Op::illegal && info(d.op).ext == Ext::Zicond) {
      EXPECT_EQ(line.text.rfind(".4byte", 0), 0u) << line.text;
      continue;
    }
    if (w == 0x42059553) continue;
    ++compared;
    std::string ours = disassemble(w, line.addr);
    if (ours != line.text && ++mismatches <= 30)
      ADD_FAILURE() << hex32(w) << " at 0x" << std::hex << line.addr << ": ours \"" << ours << "\" objdump \""
                    << line.text << "\"";
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(compared, 10000);
}

// Random words in every major opcode the table uses, not just instances of rows: this also finds
// encodings objdump decodes but the table rejects (a missing row, or a mask that is too strict).
TEST(Disasm, RandomWordsMatchObjdump) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  std::vector<u32> majors;
  for (const auto& row : kInsnTable)
    if (std::find(majors.begin(), majors.end(), row.match & 0x7f) == majors.end()) majors.push_back(row.match & 0x7f);
  std::mt19937 rng(99);
  std::vector<u32> words;
  std::string source;
  char buf[40];
  for (int k = 0; k < 40000; ++k) {
    u32 w = (static_cast<u32>(rng()) & ~0x7fu) | majors[rng() % majors.size()];
    // Zero rs2 (or all but its low bit) half the time: the unary FP/bit-manipulation rows live there.
    if (k % 4 == 1) w &= ~(0x1fu << 20);
    if (k % 4 == 2) w &= ~(0x1eu << 20);
    words.push_back(w);
    std::snprintf(buf, sizeof buf, ".insn 0x%x\n", w);
    source += buf;
  }
  auto lines = testing::assemble_and_dump(source);
  ASSERT_EQ(lines.size(), words.size());
  int mismatches = 0;
  for (std::size_t n = 0; n < words.size(); ++n) {
    u32 w = words[n];
    const std::string& theirs = lines[n].text;
    DecodedInsn d = decode32(w);
    bool objdump_rejects = theirs.rfind(".4byte", 0) == 0;
    if (objdump_rejects && d.op != Op::illegal) {
      // Where we knowingly decode more than binutils 2.40 (see disasm.cc and the comments above).
      if (info(d.op).ext == Ext::Zicond) continue;
      if (d.op == Op::fence || d.op == Op::fence_i) continue;
      if ((d.op == Op::fcvt_d_s || d.op == Op::fcvt_d_w || d.op == Op::fcvt_d_wu) && d.rm != 0) continue;
    }
    std::string ours = disassemble(w, lines[n].addr);
    if (ours != theirs && ++mismatches <= 30)
      ADD_FAILURE() << hex32(w) << ": ours \"" << ours << "\" objdump \"" << theirs << "\"";
  }
  EXPECT_EQ(mismatches, 0);
}

// Jump and branch targets at addresses where the sign extension of the offset and the width of
// the pc both matter, read by objdump without symbols (the form our output imitates).
TEST(Disasm, TargetsMatchObjdumpAtHighAddresses) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  const Op kJumps[] = {Op::jal, Op::beq, Op::bne, Op::blt, Op::bge, Op::bltu, Op::bgeu};
  std::mt19937 rng(7);
  for (u64 base : {0x80000000ull, 0xffffffff80000000ull, 0x0ull}) {
    std::vector<u8> bytes;
    std::vector<u32> words;
    for (int k = 0; k < 300; ++k) {
      u32 w;
      if (k % 3 == 0) {
        const u32 kCompressed[] = {info(RvcOp::c_j).match, info(RvcOp::c_beqz).match, info(RvcOp::c_bnez).match};
        w = kCompressed[rng() % 3] | (rng() & 0x1ffc);
      } else {
        w = random_instance(kJumps[rng() % std::size(kJumps)], rng);
      }
      words.push_back(w);
      testing::append_le(bytes, w, (w & 3) == 3 ? 4 : 2);
    }
    auto lines = testing::dump_raw(bytes, base);
    ASSERT_EQ(lines.size(), words.size());
    for (std::size_t n = 0; n < words.size(); ++n)
      EXPECT_EQ(disassemble(words[n], lines[n].addr), lines[n].text) << hex32(words[n]);
  }
}

// Every CSR number: named exactly when objdump (privileged spec 1.12) names it, else hex.
TEST(Disasm, EveryCsrNumberMatchesObjdump) {
  RVKVM_REQUIRE_CROSS_TOOLS();
  std::string source;
  char buf[40];
  for (u32 csr = 0; csr < 4096; ++csr) {
    std::snprintf(buf, sizeof buf, ".insn 0x%x\n", (csr << 20) | 0x2573);  // csrrs a0,csr,zero
    source += buf;
  }
  auto lines = testing::assemble_and_dump(source);
  ASSERT_EQ(lines.size(), 4096u);
  int mismatches = 0;
  for (u32 csr = 0; csr < 4096; ++csr) {
    std::string ours = disassemble((csr << 20) | 0x2573, lines[csr].addr);
    if (ours != lines[csr].text && ++mismatches <= 40)
      ADD_FAILURE() << "csr 0x" << std::hex << csr << ": ours \"" << ours << "\" objdump \"" << lines[csr].text << "\"";
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace rvkvm::isa
