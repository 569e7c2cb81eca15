#pragma once
#include <array>
#include <string>
#include <string_view>

#include "common/types.h"
#include "isa/insn_table.h"

namespace rvkvm::isa {

enum class Ext : u8 { I, M, A, F, D, C, Zicsr, Zifencei, Zba, Zbb, Zbs, Zicond, Priv, Svinval, H };

// Operand layout of an instruction, which drives both operand extraction and disassembly.
enum class Fmt : u8 {
  R, R1, I, Shift, U, J, Jalr, B, Load, Store, Fence, Fence2, None, Csr, CsrI, Lr, Amo,
  FLoad, FStore, R4, FRrm, FR1rm, FR, XFrm, XF, XFF, FXrm, FX, Hlv, Hsv,
};

enum class Op : u16 {
#define RVKVM_X(name, mnem, match, mask, ext, fmt) name,
  RVKVM_INSN_TABLE(RVKVM_X)
#undef RVKVM_X
  illegal,
  count,
};
inline constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::count);

struct InsnInfo {
  std::string_view mnemonic;
  u32 match;
  u32 mask;
  Ext ext;
  Fmt fmt;
};

inline constexpr std::array<InsnInfo, kOpCount - 1> kInsnTable = {{
#define RVKVM_X(name, mnem, match, mask, ext, fmt) {mnem, match, mask, Ext::ext, Fmt::fmt},
    RVKVM_INSN_TABLE(RVKVM_X)
#undef RVKVM_X
}};

constexpr const InsnInfo& info(Op op) { return kInsnTable[static_cast<std::size_t>(op)]; }

// One decoded instruction, independent of how the hart will execute it.
struct DecodedInsn {
  Op op = Op::illegal;
  u8 rd = 0, rs1 = 0, rs2 = 0, rs3 = 0;
  u8 rm = 0;   // funct3: FP rounding mode, or the width of loads/stores
  u8 len = 4;  // 2 for a compressed instruction
  i64 imm = 0; // immediate, shift amount, CSR number, or fence bits, per Fmt
  u32 raw = 0; // the 32-bit encoding (a compressed instruction's expansion)
};

// Decodes a 32-bit instruction. Unknown encodings give Op::illegal.
[[nodiscard]] DecodedInsn decode32(u32 raw);

// Expands a 16-bit compressed instruction into its 32-bit equivalent (the RVC table in rvc.h).
// Returns 0 for an illegal or reserved encoding (0 is itself an illegal instruction).
[[nodiscard]] u32 expand_compressed(u16 c);

// Decodes the instruction whose low bits are `raw` (either length). `raw` holds 32 bits of fetch;
// only the low 16 are used for a compressed one.
[[nodiscard]] DecodedInsn decode(u32 raw);

constexpr unsigned insn_length(u32 raw_low16) { return (raw_low16 & 3) == 3 ? 4 : 2; }

// Disassembles one instruction as GNU objdump would print it (without pseudo-instruction aliases
// beyond the few that objdump always uses). `pc` resolves branch and jump targets.
[[nodiscard]] std::string disassemble(u32 raw, u64 pc);

// ABI register names.
std::string_view xreg_name(unsigned r);
std::string_view freg_name(unsigned r);

}  // namespace rvkvm::isa
