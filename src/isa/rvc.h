#pragma once
// The compressed (RVC) instruction table for RV64GC: one row per 16-bit instruction.
//   X(name, mnemonic, match, mask, expander)
// `expander` names the function in rvc.cc that rewrites the halfword as its 32-bit equivalent
// (a row of insn_table.h), or returns 0 when the operand values make the encoding reserved.
//
// Several spec instructions are carved out of a more general one by fixing an operand field
// (C.NOP is C.ADDI with rd=x0, C.EBREAK is C.JALR with rs1=x0 which is C.ADD with rs2=x0, ...).
// Such a row is listed in RVKVM_RVC_SPECIALIZATIONS and comes before its general row, and lookup
// takes the first row that matches. rvc.cc checks at build time that every overlap between rows is
// one of those declared specializations.
//
// RV64 meanings throughout: quadrant 1 funct3=001 is C.ADDIW (not C.JAL) and the FP word forms
// (C.FLW/C.FSW/...) are C.LD/C.SD/C.LDSP/C.SDSP.

#include <array>
#include <string_view>

#include "common/types.h"

#define RVKVM_RVC_TABLE(X)                                          \
  /* Quadrant 0 */                                                  \
  X(c_addi4spn, "c.addi4spn", 0x0000, 0xe003, expand_c_addi4spn)    \
  X(c_fld, "c.fld", 0x2000, 0xe003, expand_c_fld)                   \
  X(c_lw, "c.lw", 0x4000, 0xe003, expand_c_lw)                      \
  X(c_ld, "c.ld", 0x6000, 0xe003, expand_c_ld)                      \
  X(c_fsd, "c.fsd", 0xa000, 0xe003, expand_c_fsd)                   \
  X(c_sw, "c.sw", 0xc000, 0xe003, expand_c_sw)                      \
  X(c_sd, "c.sd", 0xe000, 0xe003, expand_c_sd)                      \
  /* Quadrant 1 */                                                  \
  X(c_nop, "c.nop", 0x0001, 0xef83, expand_c_nop)                   \
  X(c_addi, "c.addi", 0x0001, 0xe003, expand_c_addi)                \
  X(c_addiw, "c.addiw", 0x2001, 0xe003, expand_c_addiw)             \
  X(c_li, "c.li", 0x4001, 0xe003, expand_c_li)                      \
  X(c_addi16sp, "c.addi16sp", 0x6101, 0xef83, expand_c_addi16sp)    \
  X(c_lui, "c.lui", 0x6001, 0xe003, expand_c_lui)                   \
  X(c_srli, "c.srli", 0x8001, 0xec03, expand_c_srli)                \
  X(c_srai, "c.srai", 0x8401, 0xec03, expand_c_srai)                \
  X(c_andi, "c.andi", 0x8801, 0xec03, expand_c_andi)                \
  X(c_sub, "c.sub", 0x8c01, 0xfc63, expand_c_sub)                   \
  X(c_xor, "c.xor", 0x8c21, 0xfc63, expand_c_xor)                   \
  X(c_or, "c.or", 0x8c41, 0xfc63, expand_c_or)                      \
  X(c_and, "c.and", 0x8c61, 0xfc63, expand_c_and)                   \
  X(c_subw, "c.subw", 0x9c01, 0xfc63, expand_c_subw)                \
  X(c_addw, "c.addw", 0x9c21, 0xfc63, expand_c_addw)                \
  X(c_j, "c.j", 0xa001, 0xe003, expand_c_j)                         \
  X(c_beqz, "c.beqz", 0xc001, 0xe003, expand_c_beqz)                \
  X(c_bnez, "c.bnez", 0xe001, 0xe003, expand_c_bnez)                \
  /* Quadrant 2 */                                                  \
  X(c_slli, "c.slli", 0x0002, 0xe003, expand_c_slli)                \
  X(c_fldsp, "c.fldsp", 0x2002, 0xe003, expand_c_fldsp)             \
  X(c_lwsp, "c.lwsp", 0x4002, 0xe003, expand_c_lwsp)                \
  X(c_ldsp, "c.ldsp", 0x6002, 0xe003, expand_c_ldsp)                \
  X(c_jr, "c.jr", 0x8002, 0xf07f, expand_c_jr)                      \
  X(c_mv, "c.mv", 0x8002, 0xf003, expand_c_mv)                      \
  X(c_ebreak, "c.ebreak", 0x9002, 0xffff, expand_c_ebreak)          \
  X(c_jalr, "c.jalr", 0x9002, 0xf07f, expand_c_jalr)                \
  X(c_add, "c.add", 0x9002, 0xf003, expand_c_add)                   \
  X(c_fsdsp, "c.fsdsp", 0xa002, 0xe003, expand_c_fsdsp)             \
  X(c_swsp, "c.swsp", 0xc002, 0xe003, expand_c_swsp)                \
  X(c_sdsp, "c.sdsp", 0xe002, 0xe003, expand_c_sdsp)

// X(specific, general): `specific` is `general` with more fields fixed, and takes precedence.
// Only these pairs may overlap.
#define RVKVM_RVC_SPECIALIZATIONS(X) \
  X(c_nop, c_addi)                   \
  X(c_addi16sp, c_lui)               \
  X(c_jr, c_mv)                      \
  X(c_ebreak, c_jalr)                \
  X(c_ebreak, c_add)                 \
  X(c_jalr, c_add)

namespace rvkvm::isa {

enum class RvcOp : u8 {
#define RVKVM_X(name, mnem, match, mask, expander) name,
  RVKVM_RVC_TABLE(RVKVM_X)
#undef RVKVM_X
  illegal,
  count,
};
inline constexpr std::size_t kRvcOpCount = static_cast<std::size_t>(RvcOp::count);

struct RvcInfo {
  std::string_view mnemonic;
  u16 match;
  u16 mask;
};

inline constexpr std::array<RvcInfo, kRvcOpCount - 1> kRvcTable = {{
#define RVKVM_X(name, mnem, match, mask, expander) {mnem, match, mask},
    RVKVM_RVC_TABLE(RVKVM_X)
#undef RVKVM_X
}};

constexpr const RvcInfo& info(RvcOp op) { return kRvcTable[static_cast<std::size_t>(op)]; }

// A compressed instruction and its 32-bit equivalent. `op` is RvcOp::illegal (and `insn` 0) when
// no row matches or the row's operand values are reserved; also for any 32-bit-length encoding
// (low bits 11), which is not a compressed instruction at all.
struct RvcExpansion {
  RvcOp op = RvcOp::illegal;
  u32 insn = 0;
};
[[nodiscard]] RvcExpansion expand_rvc(u16 c);

// The spec mnemonic of a compressed instruction ("c.addi"), or "" if it is illegal or reserved.
// HINT encodings are legal and get the mnemonic of the instruction they are carved from.
[[nodiscard]] std::string_view compressed_mnemonic(u16 c);

}  // namespace rvkvm::isa
