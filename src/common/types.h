#pragma once
#include <cstddef>
#include <cstdint>

namespace rvkvm {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i8 = std::int8_t;
using i16 = std::int16_t;
using i32 = std::int32_t;
using i64 = std::int64_t;
using u128 = unsigned __int128;
using i128 = __int128;

#define RVKVM_LIKELY(x) __builtin_expect(!!(x), 1)
#define RVKVM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RVKVM_ALWAYS_INLINE inline __attribute__((always_inline))
#define RVKVM_NOINLINE __attribute__((noinline))

// Bits [hi:lo] of x, as the specs write fields.
constexpr u64 bits(u64 x, unsigned hi, unsigned lo) {
  return (x >> lo) & ((hi - lo + 1 >= 64) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}
constexpr u64 bit(u64 x, unsigned n) { return (x >> n) & 1; }
constexpr i64 sext(u64 x, unsigned width) {
  return width >= 64 ? static_cast<i64>(x) : static_cast<i64>(x << (64 - width)) >> (64 - width);
}
constexpr u64 mask_bits(unsigned width) { return width >= 64 ? ~0ull : (1ull << width) - 1; }

}  // namespace rvkvm
