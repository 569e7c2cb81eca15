#include "isa/rvc.h"

#include "isa/isa.h"

namespace rvkvm::isa {
namespace {

// --- 32-bit encoders for the forms the expansions produce -----------------------------------

constexpr u32 enc_r(u32 opcode, u32 funct3, u32 funct7, u32 rd, u32 rs1, u32 rs2) {
  return (funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode;
}
constexpr u32 enc_i(u32 opcode, u32 funct3, u32 rd, u32 rs1, i64 imm) {
  return (static_cast<u32>(imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode;
}
constexpr u32 enc_s(u32 opcode, u32 funct3, u32 rs1, u32 rs2, i64 imm) {
  u32 v = static_cast<u32>(imm & 0xfff);
  return ((v >> 5) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((v & 31) << 7) | opcode;
}
constexpr u32 enc_b(u32 funct3, u32 rs1, u32 rs2, i64 imm) {
  u32 v = static_cast<u32>(imm & 0x1fff);
  return (static_cast<u32>(bit(v, 12)) << 31) | (static_cast<u32>(bits(v, 10, 5)) << 25) | (rs2 << 20) |
         (rs1 << 15) | (funct3 << 12) | (static_cast<u32>(bits(v, 4, 1)) << 8) |
         (static_cast<u32>(bit(v, 11)) << 7) | 0x63;
}
constexpr u32 enc_j(u32 rd, i64 imm) {
  u32 v = static_cast<u32>(imm & 0x1fffff);
  return (static_cast<u32>(bit(v, 20)) << 31) | (static_cast<u32>(bits(v, 10, 1)) << 21) |
         (static_cast<u32>(bit(v, 11)) << 20) | (static_cast<u32>(bits(v, 19, 12)) << 12) | (rd << 7) | 0x6f;
}
constexpr u32 enc_u(u32 opcode, u32 rd, i64 imm) {
  return (static_cast<u32>(imm) & 0xfffff000u) | (rd << 7) | opcode;
}

constexpr u32 kOpLoad = 0x03, kOpLoadFp = 0x07, kOpImm = 0x13, kOpImm32 = 0x1b, kOpStore = 0x23,
              kOpStoreFp = 0x27, kOp = 0x33, kOpLui = 0x37, kOp32 = 0x3b, kOpJalr = 0x67;
constexpr u32 kSp = 2, kRa = 1;

// --- RVC operand fields, named after the spec's instruction formats ---------------------------

// Full 5-bit register fields (CR/CI/CSS formats).
constexpr u32 rd_full(u16 c) { return bits(c, 11, 7); }
constexpr u32 rs2_full(u16 c) { return bits(c, 6, 2); }
// The 3-bit "popular register" fields (CIW/CL/CS/CA/CB formats) name x8..x15 / f8..f15.
constexpr u32 rd_prime(u16 c) { return 8 + bits(c, 4, 2); }
constexpr u32 rs1_prime(u16 c) { return 8 + bits(c, 9, 7); }
constexpr u32 rs2_prime(u16 c) { return 8 + bits(c, 4, 2); }

// CI: imm[5] in bit 12, imm[4:0] in bits 6:2.
constexpr i64 ci_imm(u16 c) { return sext((bit(c, 12) << 5) | bits(c, 6, 2), 6); }
constexpr u32 ci_shamt(u16 c) { return static_cast<u32>((bit(c, 12) << 5) | bits(c, 6, 2)); }
// C.LUI: nzimm[17] in bit 12, nzimm[16:12] in bits 6:2.
constexpr i64 lui_imm(u16 c) { return sext((bit(c, 12) << 17) | (bits(c, 6, 2) << 12), 18); }
// C.ADDI16SP: nzimm[9] | nzimm[4|6|8:7|5].
constexpr i64 addi16sp_imm(u16 c) {
  return sext((bit(c, 12) << 9) | (bit(c, 6) << 4) | (bit(c, 5) << 6) | (bits(c, 4, 3) << 7) | (bit(c, 2) << 5), 10);
}
// C.ADDI4SPN: nzuimm[5:4|9:6|2|3].
constexpr u32 addi4spn_imm(u16 c) {
  return static_cast<u32>((bits(c, 12, 11) << 4) | (bits(c, 10, 7) << 6) | (bit(c, 6) << 2) | (bit(c, 5) << 3));
}
// CL/CS word: uimm[5:3] in 12:10, uimm[2|6] in 6:5.
constexpr u32 clw_imm(u16 c) {
  return static_cast<u32>((bits(c, 12, 10) << 3) | (bit(c, 6) << 2) | (bit(c, 5) << 6));
}
// CL/CS doubleword: uimm[5:3] in 12:10, uimm[7:6] in 6:5.
constexpr u32 cld_imm(u16 c) { return static_cast<u32>((bits(c, 12, 10) << 3) | (bits(c, 6, 5) << 6)); }
// CI stack-relative word load: uimm[5] | uimm[4:2|7:6].
constexpr u32 lwsp_imm(u16 c) {
  return static_cast<u32>((bit(c, 12) << 5) | (bits(c, 6, 4) << 2) | (bits(c, 3, 2) << 6));
}
// CI stack-relative doubleword load: uimm[5] | uimm[4:3|8:6].
constexpr u32 ldsp_imm(u16 c) {
  return static_cast<u32>((bit(c, 12) << 5) | (bits(c, 6, 5) << 3) | (bits(c, 4, 2) << 6));
}
// CSS word store: uimm[5:2|7:6].
constexpr u32 swsp_imm(u16 c) { return static_cast<u32>((bits(c, 12, 9) << 2) | (bits(c, 8, 7) << 6)); }
// CSS doubleword store: uimm[5:3|8:6].
constexpr u32 sdsp_imm(u16 c) { return static_cast<u32>((bits(c, 12, 10) << 3) | (bits(c, 9, 7) << 6)); }
// CJ: offset[11|4|9:8|10|6|7|3:1|5].
constexpr i64 cj_imm(u16 c) {
  return sext((bit(c, 12) << 11) | (bit(c, 11) << 4) | (bits(c, 10, 9) << 8) | (bit(c, 8) << 10) | (bit(c, 7) << 6) |
                  (bit(c, 6) << 7) | (bits(c, 5, 3) << 1) | (bit(c, 2) << 5),
              12);
}
// CB branch: offset[8|4:3] in 12:10, offset[7:6|2:1|5] in 6:2.
constexpr i64 cb_imm(u16 c) {
  return sext(
      (bit(c, 12) << 8) | (bits(c, 11, 10) << 3) | (bits(c, 6, 5) << 6) | (bits(c, 4, 3) << 1) | (bit(c, 2) << 5), 9);
}

// --- Expanders: one per row of RVKVM_RVC_TABLE --------------------------------------------------
// Each assumes its row's match/mask already accepted `c`; 0 means "reserved operand values".

constexpr u32 expand_c_addi4spn(u16 c) {
  u32 imm = addi4spn_imm(c);
  return imm ? enc_i(kOpImm, 0, rd_prime(c), kSp, imm) : 0;
}
constexpr u32 expand_c_fld(u16 c) { return enc_i(kOpLoadFp, 3, rd_prime(c), rs1_prime(c), cld_imm(c)); }
constexpr u32 expand_c_lw(u16 c) { return enc_i(kOpLoad, 2, rd_prime(c), rs1_prime(c), clw_imm(c)); }
constexpr u32 expand_c_ld(u16 c) { return enc_i(kOpLoad, 3, rd_prime(c), rs1_prime(c), cld_imm(c)); }
constexpr u32 expand_c_fsd(u16 c) { return enc_s(kOpStoreFp, 3, rs1_prime(c), rs2_prime(c), cld_imm(c)); }
constexpr u32 expand_c_sw(u16 c) { return enc_s(kOpStore, 2, rs1_prime(c), rs2_prime(c), clw_imm(c)); }
constexpr u32 expand_c_sd(u16 c) { return enc_s(kOpStore, 3, rs1_prime(c), rs2_prime(c), cld_imm(c)); }

// A nonzero immediate makes C.NOP a HINT, which still executes as a no-op.
constexpr u32 expand_c_nop(u16 c) { return enc_i(kOpImm, 0, 0, 0, ci_imm(c)); }
// nzimm=0 is a HINT here, not reserved: addi rd,rd,0 is harmless.
constexpr u32 expand_c_addi(u16 c) { return enc_i(kOpImm, 0, rd_full(c), rd_full(c), ci_imm(c)); }
constexpr u32 expand_c_addiw(u16 c) {
  return rd_full(c) ? enc_i(kOpImm32, 0, rd_full(c), rd_full(c), ci_imm(c)) : 0;
}
constexpr u32 expand_c_li(u16 c) { return enc_i(kOpImm, 0, rd_full(c), 0, ci_imm(c)); }
constexpr u32 expand_c_addi16sp(u16 c) {
  i64 imm = addi16sp_imm(c);
  return imm ? enc_i(kOpImm, 0, kSp, kSp, imm) : 0;
}
// rd=x0 with a nonzero immediate is a HINT; a zero immediate is reserved whatever rd is.
constexpr u32 expand_c_lui(u16 c) {
  i64 imm = lui_imm(c);
  return imm ? enc_u(kOpLui, rd_full(c), imm) : 0;
}
// RV64 shifts use shamt[5]; shamt=0 is a HINT (a shift by zero).
constexpr u32 expand_c_srli(u16 c) { return enc_i(kOpImm, 5, rs1_prime(c), rs1_prime(c), ci_shamt(c)); }
constexpr u32 expand_c_srai(u16 c) { return enc_i(kOpImm, 5, rs1_prime(c), rs1_prime(c), 0x400 | ci_shamt(c)); }
constexpr u32 expand_c_andi(u16 c) { return enc_i(kOpImm, 7, rs1_prime(c), rs1_prime(c), ci_imm(c)); }
constexpr u32 expand_c_sub(u16 c) { return enc_r(kOp, 0, 0x20, rs1_prime(c), rs1_prime(c), rs2_prime(c)); }
constexpr u32 expand_c_xor(u16 c) { return enc_r(kOp, 4, 0, rs1_prime(c), rs1_prime(c), rs2_prime(c)); }
constexpr u32 expand_c_or(u16 c) { return enc_r(kOp, 6, 0, rs1_prime(c), rs1_prime(c), rs2_prime(c)); }
constexpr u32 expand_c_and(u16 c) { return enc_r(kOp, 7, 0, rs1_prime(c), rs1_prime(c), rs2_prime(c)); }
constexpr u32 expand_c_subw(u16 c) { return enc_r(kOp32, 0, 0x20, rs1_prime(c), rs1_prime(c), rs2_prime(c)); }
constexpr u32 expand_c_addw(u16 c) { return enc_r(kOp32, 0, 0, rs1_prime(c), rs1_prime(c), rs2_prime(c)); }
constexpr u32 expand_c_j(u16 c) { return enc_j(0, cj_imm(c)); }
constexpr u32 expand_c_beqz(u16 c) { return enc_b(0, rs1_prime(c), 0, cb_imm(c)); }
constexpr u32 expand_c_bnez(u16 c) { return enc_b(1, rs1_prime(c), 0, cb_imm(c)); }

constexpr u32 expand_c_slli(u16 c) { return enc_i(kOpImm, 1, rd_full(c), rd_full(c), ci_shamt(c)); }
constexpr u32 expand_c_fldsp(u16 c) { return enc_i(kOpLoadFp, 3, rd_full(c), kSp, ldsp_imm(c)); }
constexpr u32 expand_c_lwsp(u16 c) { return rd_full(c) ? enc_i(kOpLoad, 2, rd_full(c), kSp, lwsp_imm(c)) : 0; }
constexpr u32 expand_c_ldsp(u16 c) { return rd_full(c) ? enc_i(kOpLoad, 3, rd_full(c), kSp, ldsp_imm(c)) : 0; }
constexpr u32 expand_c_jr(u16 c) { return rd_full(c) ? enc_i(kOpJalr, 0, 0, rd_full(c), 0) : 0; }
constexpr u32 expand_c_mv(u16 c) { return enc_r(kOp, 0, 0, rd_full(c), 0, rs2_full(c)); }
constexpr u32 expand_c_ebreak(u16) { return 0x00100073; }
// rs1=x0 never reaches here: that encoding is C.EBREAK, which precedes this row.
constexpr u32 expand_c_jalr(u16 c) { return enc_i(kOpJalr, 0, kRa, rd_full(c), 0); }
constexpr u32 expand_c_add(u16 c) { return enc_r(kOp, 0, 0, rd_full(c), rd_full(c), rs2_full(c)); }
constexpr u32 expand_c_fsdsp(u16 c) { return enc_s(kOpStoreFp, 3, kSp, rs2_full(c), sdsp_imm(c)); }
constexpr u32 expand_c_swsp(u16 c) { return enc_s(kOpStore, 2, kSp, rs2_full(c), swsp_imm(c)); }
constexpr u32 expand_c_sdsp(u16 c) { return enc_s(kOpStore, 3, kSp, rs2_full(c), sdsp_imm(c)); }

using Expander = u32 (*)(u16);
constexpr std::array<Expander, kRvcOpCount - 1> kExpanders = {{
#define RVKVM_X(name, mnem, match, mask, expander) expander,
    RVKVM_RVC_TABLE(RVKVM_X)
#undef RVKVM_X
}};

// --- Build-time consistency of the table -------------------------------------------------------

struct Specialization {
  RvcOp specific, general;
};
constexpr Specialization kSpecializations[] = {
#define RVKVM_X(specific, general) {RvcOp::specific, RvcOp::general},
    RVKVM_RVC_SPECIALIZATIONS(RVKVM_X)
#undef RVKVM_X
};

constexpr bool rows_overlap(const RvcInfo& a, const RvcInfo& b) {
  return ((a.match ^ b.match) & a.mask & b.mask) == 0;
}
// Every encoding `specific` accepts is one `general` accepts, and not the other way round.
constexpr bool strictly_within(const RvcInfo& specific, const RvcInfo& general) {
  return (specific.mask & general.mask) == general.mask && (specific.match & general.mask) == general.match &&
         specific.mask != general.mask;
}
constexpr bool declared_specialization(std::size_t specific, std::size_t general) {
  for (const auto& s : kSpecializations)
    if (static_cast<std::size_t>(s.specific) == specific && static_cast<std::size_t>(s.general) == general) return true;
  return false;
}

constexpr bool rvc_table_is_consistent() {
  for (const auto& row : kRvcTable) {
    if ((row.match & ~row.mask) != 0) return false;  // match bits outside the mask
    if ((row.match & 3) == 3) return false;            // not a compressed encoding
    if ((row.mask & 0xe003) != 0xe003) return false;   // lookup buckets on quadrant and funct3
  }
  for (const auto& s : kSpecializations) {
    auto i = static_cast<std::size_t>(s.specific), j = static_cast<std::size_t>(s.general);
    // First-match lookup only honours a specialization that comes before its general row.
    if (i >= j || !strictly_within(kRvcTable[i], kRvcTable[j])) return false;
  }
  for (std::size_t i = 0; i < kRvcTable.size(); ++i)
    for (std::size_t j = i + 1; j < kRvcTable.size(); ++j)
      if (rows_overlap(kRvcTable[i], kRvcTable[j]) && !declared_specialization(i, j)) return false;
  return true;
}
static_assert(rvc_table_is_consistent(),
              "RVC rows overlap without a declared specialization, or a specialization is misplaced");

// Rows grouped by quadrant and funct3, in table order so that specializations are tried first.
constexpr std::size_t kRvcBucketCapacity = 12;  // quadrant 1 funct3=100 holds 9 rows
struct RvcBuckets {
  std::array<std::array<u8, kRvcBucketCapacity>, 32> rows{};
  std::array<u8, 32> count{};
  bool overflow = false;
};
constexpr unsigned bucket_of(u16 c) { return ((c >> 13) << 2) | (c & 3); }
constexpr RvcBuckets make_rvc_buckets() {
  RvcBuckets b{};
  for (std::size_t i = 0; i < kRvcTable.size(); ++i) {
    unsigned k = bucket_of(kRvcTable[i].match);
    if (b.count[k] == kRvcBucketCapacity) {
      b.overflow = true;
      continue;
    }
    b.rows[k][b.count[k]++] = static_cast<u8>(i);
  }
  return b;
}
constexpr RvcBuckets kRvcBuckets = make_rvc_buckets();
static_assert(!kRvcBuckets.overflow, "raise kRvcBucketCapacity");

constexpr RvcExpansion lookup(u16 c) {
  unsigned k = bucket_of(c);
  for (unsigned n = 0; n < kRvcBuckets.count[k]; ++n) {
    std::size_t row = kRvcBuckets.rows[k][n];
    if ((c & kRvcTable[row].mask) != kRvcTable[row].match) continue;
    u32 insn = kExpanders[row](c);
    if (insn == 0) return {};
    return {static_cast<RvcOp>(row), insn};
  }
  return {};
}

// Spot checks of the spec's examples, so a broken expander fails the build, not just the tests.
static_assert(lookup(0x0000).op == RvcOp::illegal);      // the all-zero halfword is defined illegal
static_assert(lookup(0x1141).insn == 0xff010113);        // c.addi sp,-16 -> addi sp,sp,-16
static_assert(lookup(0x9002).insn == 0x00100073);        // c.ebreak -> ebreak
static_assert(lookup(0x8082).insn == 0x00008067);        // c.jr ra -> jalr zero,0(ra)
static_assert(lookup(0x0001).op == RvcOp::c_nop);        // c.nop -> addi zero,zero,0
static_assert(lookup(0x0001).insn == 0x00000013);

}  // namespace

RvcExpansion expand_rvc(u16 c) { return (c & 3) == 3 ? RvcExpansion{} : lookup(c); }

u32 expand_compressed(u16 c) { return expand_rvc(c).insn; }

std::string_view compressed_mnemonic(u16 c) {
  RvcExpansion e = expand_rvc(c);
  return e.op == RvcOp::illegal ? std::string_view{} : info(e.op).mnemonic;
}

}  // namespace rvkvm::isa
