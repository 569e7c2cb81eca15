#include "isa/isa.h"

namespace rvkvm::isa {
namespace {

// Build-time check: no two rows of the table accept the same encoding.
constexpr bool rows_overlap(const InsnInfo& a, const InsnInfo& b) {
  u32 common = a.mask & b.mask;
  return ((a.match ^ b.match) & common) == 0;
}
constexpr bool table_is_consistent() {
  for (std::size_t i = 0; i < kInsnTable.size(); ++i) {
    if ((kInsnTable[i].match & ~kInsnTable[i].mask) != 0) return false;
    if ((kInsnTable[i].match & 3) != 3) return false;
    for (std::size_t j = i + 1; j < kInsnTable.size(); ++j)
      if (rows_overlap(kInsnTable[i], kInsnTable[j])) return false;
  }
  return true;
}
static_assert(table_is_consistent(), "instruction table rows overlap or have match bits outside mask");

// Rows grouped by major opcode (bits 6:2) so that decode scans only a handful.
struct Buckets {
  std::array<std::array<u16, 96>, 32> rows{};
  std::array<u8, 32> count{};
};
constexpr Buckets make_buckets() {
  Buckets b{};
  for (std::size_t i = 0; i < kInsnTable.size(); ++i) {
    unsigned major = (kInsnTable[i].match >> 2) & 31;
    b.rows[major][b.count[major]++] = static_cast<u16>(i);
  }
  return b;
}
constexpr Buckets kBuckets = make_buckets();

i64 imm_i(u32 r) { return sext(r >> 20, 12); }
i64 imm_s(u32 r) { return sext(((r >> 25) << 5) | ((r >> 7) & 31), 12); }
i64 imm_b(u32 r) {
  u64 v = (bits(r, 31, 31) << 12) | (bits(r, 7, 7) << 11) | (bits(r, 30, 25) << 5) | (bits(r, 11, 8) << 1);
  return sext(v, 13);
}
i64 imm_u(u32 r) { return sext(r & 0xfffff000u, 32); }
i64 imm_j(u32 r) {
  u64 v = (bits(r, 31, 31) << 20) | (bits(r, 19, 12) << 12) | (bits(r, 20, 20) << 11) | (bits(r, 30, 21) << 1);
  return sext(v, 21);
}

}  // namespace

DecodedInsn decode32(u32 raw) {
  DecodedInsn d;
  d.raw = raw;
  d.len = 4;
  if ((raw & 3) != 3) return d;
  unsigned major = (raw >> 2) & 31;
  const auto& bucket = kBuckets.rows[major];
  for (unsigned k = 0; k < kBuckets.count[major]; ++k) {
    const InsnInfo& row = kInsnTable[bucket[k]];
    if ((raw & row.mask) != row.match) continue;
    d.op = static_cast<Op>(bucket[k]);
    d.rd = bits(raw, 11, 7);
    d.rs1 = bits(raw, 19, 15);
    d.rs2 = bits(raw, 24, 20);
    d.rs3 = bits(raw, 31, 27);
    d.rm = bits(raw, 14, 12);
    switch (row.fmt) {
      case Fmt::I: case Fmt::Load: case Fmt::FLoad: case Fmt::Jalr: d.imm = imm_i(raw); break;
      case Fmt::Store: case Fmt::FStore: d.imm = imm_s(raw); break;
      case Fmt::B: d.imm = imm_b(raw); break;
      case Fmt::U: d.imm = imm_u(raw); break;
      case Fmt::J: d.imm = imm_j(raw); break;
      case Fmt::Shift: d.imm = bits(raw, 25, 20); break;
      case Fmt::Csr: case Fmt::CsrI: d.imm = bits(raw, 31, 20); break;
      case Fmt::Fence: d.imm = bits(raw, 31, 20); break;
      case Fmt::Amo: case Fmt::Lr: d.imm = bits(raw, 26, 25); break;
      default: break;
    }
    return d;
  }
  return d;
}

DecodedInsn decode(u32 raw) {
  if ((raw & 3) == 3) return decode32(raw);
  u32 expanded = expand_compressed(static_cast<u16>(raw));
  DecodedInsn d = expanded ? decode32(expanded) : DecodedInsn{};
  if (!expanded) d.raw = raw & 0xffff;
  d.len = 2;
  return d;
}

}  // namespace rvkvm::isa
