// Tests for the RISC-V F/D arithmetic library (hart/fpu.h).
//
// Three layers, each run against both the dispatching entry points (which use the host SSE unit
// for RNE/RTZ/RDN/RUP in x86-64 builds with RVKVM_FPU_HOST_FAST_PATH) and fpu::soft:
//   1. Hand-written vectors for the cases the IEEE 754 and RISC-V specs single out: signed zeros,
//      infinities, NaNs, subnormals, overflow per rounding mode, ties in every mode, tininess
//      after rounding, fused-multiply-add special cases, fmin/fmax, compares, classify, and every
//      saturation boundary of the integer conversions.
//   2. Differential tests against the host FPU through <cfenv> for RNE/RTZ/RDN/RUP: results
//      (every NaN must be the canonical NaN) and the exact flag set, over random operands weighted
//      toward the interesting exponents.
//   3. RMM, which the host cannot do, against an exact reference: RMM equals RNE except at an
//      exact tie, where it equals the directed rounding away from zero, and the flags always equal
//      RNE's. Ties are detected exactly: the midpoint between the host's RTZ and away-from-zero
//      results is checked against the exact operation result using error-free transformations in
//      a wider format (binary64 for binary32 operations, binary128 for binary64 ones).
// The random layers are deterministic (RVKVM_FPU_SEED changes the seed) and take about 2.5 s of
// CPU; RVKVM_FPU_DIFF_SCALE multiplies their iteration counts (sanitizer builds default to 0.1).
#include "hart/fpu.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cfenv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

namespace rvkvm::fpu {
namespace {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

// ---------------------------------------------------------------------------------------------
// formats

enum class Op { kAdd, kSub, kMul, kDiv, kSqrt, kFmadd, kFmsub, kFnmsub, kFnmadd };

const char* OpName(Op op) {
  switch (op) {
    case Op::kAdd: return "add";
    case Op::kSub: return "sub";
    case Op::kMul: return "mul";
    case Op::kDiv: return "div";
    case Op::kSqrt: return "sqrt";
    case Op::kFmadd: return "fmadd";
    case Op::kFmsub: return "fmsub";
    case Op::kFnmsub: return "fnmsub";
    case Op::kFnmadd: return "fnmadd";
  }
  return "?";
}
bool IsFma(Op op) { return op >= Op::kFmadd; }
bool NegProduct(Op op) { return op == Op::kFnmsub || op == Op::kFnmadd; }
bool NegAddend(Op op) { return op == Op::kFmsub || op == Op::kFnmadd; }

struct Single {
  using U = u32;
  using H = float;  // host type
  using W = double;  // holds products of two H and midpoints between adjacent H exactly
  static constexpr const char* kName = "f32";
  static constexpr int kFracBits = 23;
  static constexpr int kPrecision = 24;
  static constexpr int kExpField = 0xff;
  static constexpr int kBias = 127;
  static constexpr U kSign = 0x80000000u;
  static constexpr U kInf = 0x7f800000u;
  static constexpr U kQuiet = 0x00400000u;
  static constexpr U kCanon = kCanonicalNaN32;

  static bool IsNan(U x) { return f32_is_nan(x); }
  static U Add(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f32_add(a, b, rm, f) : f32_add(a, b, rm, f);
  }
  static U Sub(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f32_sub(a, b, rm, f) : f32_sub(a, b, rm, f);
  }
  static U Mul(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f32_mul(a, b, rm, f) : f32_mul(a, b, rm, f);
  }
  static U Div(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f32_div(a, b, rm, f) : f32_div(a, b, rm, f);
  }
  static U Sqrt(bool s, U a, unsigned rm, u32& f) {
    return s ? soft::f32_sqrt(a, rm, f) : f32_sqrt(a, rm, f);
  }
  static U Fma(bool s, U a, U b, U c, bool np, bool na, unsigned rm, u32& f) {
    return s ? soft::f32_fma(a, b, c, np, na, rm, f) : f32_fma(a, b, c, np, na, rm, f);
  }
  static U Min(U a, U b, u32& f) { return f32_min(a, b, f); }
  static U Max(U a, U b, u32& f) { return f32_max(a, b, f); }
  static bool Eq(U a, U b, u32& f) { return f32_eq(a, b, f); }
  static bool Lt(U a, U b, u32& f) { return f32_lt(a, b, f); }
  static bool Le(U a, U b, u32& f) { return f32_le(a, b, f); }
  static u32 Classify(U a) { return f32_classify(a); }
  static i32 ToI32(U a, unsigned rm, u32& f) { return f32_to_i32(a, rm, f); }
  static u32 ToU32(U a, unsigned rm, u32& f) { return f32_to_u32(a, rm, f); }
  static i64 ToI64(U a, unsigned rm, u32& f) { return f32_to_i64(a, rm, f); }
  static u64 ToU64(U a, unsigned rm, u32& f) { return f32_to_u64(a, rm, f); }
  static U FromI32(i32 a, unsigned rm, u32& f) { return i32_to_f32(a, rm, f); }
  static U FromU32(u32 a, unsigned rm, u32& f) { return u32_to_f32(a, rm, f); }
  static U FromI64(i64 a, unsigned rm, u32& f) { return i64_to_f32(a, rm, f); }
  static U FromU64(u64 a, unsigned rm, u32& f) { return u64_to_f32(a, rm, f); }
};

struct Double {
  using U = u64;
  using H = double;
  using W = __float128;
  static constexpr const char* kName = "f64";
  static constexpr int kFracBits = 52;
  static constexpr int kPrecision = 53;
  static constexpr int kExpField = 0x7ff;
  static constexpr int kBias = 1023;
  static constexpr U kSign = 0x8000000000000000ull;
  static constexpr U kInf = 0x7ff0000000000000ull;
  static constexpr U kQuiet = 0x0008000000000000ull;
  static constexpr U kCanon = kCanonicalNaN64;

  static bool IsNan(U x) { return f64_is_nan(x); }
  static U Add(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f64_add(a, b, rm, f) : f64_add(a, b, rm, f);
  }
  static U Sub(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f64_sub(a, b, rm, f) : f64_sub(a, b, rm, f);
  }
  static U Mul(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f64_mul(a, b, rm, f) : f64_mul(a, b, rm, f);
  }
  static U Div(bool s, U a, U b, unsigned rm, u32& f) {
    return s ? soft::f64_div(a, b, rm, f) : f64_div(a, b, rm, f);
  }
  static U Sqrt(bool s, U a, unsigned rm, u32& f) {
    return s ? soft::f64_sqrt(a, rm, f) : f64_sqrt(a, rm, f);
  }
  static U Fma(bool s, U a, U b, U c, bool np, bool na, unsigned rm, u32& f) {
    return s ? soft::f64_fma(a, b, c, np, na, rm, f) : f64_fma(a, b, c, np, na, rm, f);
  }
  static U Min(U a, U b, u32& f) { return f64_min(a, b, f); }
  static U Max(U a, U b, u32& f) { return f64_max(a, b, f); }
  static bool Eq(U a, U b, u32& f) { return f64_eq(a, b, f); }
  static bool Lt(U a, U b, u32& f) { return f64_lt(a, b, f); }
  static bool Le(U a, U b, u32& f) { return f64_le(a, b, f); }
  static u32 Classify(U a) { return f64_classify(a); }
  static i32 ToI32(U a, unsigned rm, u32& f) { return f64_to_i32(a, rm, f); }
  static u32 ToU32(U a, unsigned rm, u32& f) { return f64_to_u32(a, rm, f); }
  static i64 ToI64(U a, unsigned rm, u32& f) { return f64_to_i64(a, rm, f); }
  static u64 ToU64(U a, unsigned rm, u32& f) { return f64_to_u64(a, rm, f); }
  static U FromI32(i32 a, unsigned rm, u32& f) { return i32_to_f64(a, rm, f); }
  static U FromU32(u32 a, unsigned rm, u32& f) { return u32_to_f64(a, rm, f); }
  static U FromI64(i64 a, unsigned rm, u32& f) { return i64_to_f64(a, rm, f); }
  static U FromU64(u64 a, unsigned rm, u32& f) { return u64_to_f64(a, rm, f); }
};

struct FormatNames {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

template <class T>
constexpr typename T::U kFracMask = (typename T::U(1) << T::kFracBits) - 1;

// Raw encoding; `biased` may be the all-ones exponent.
template <class T>
constexpr typename T::U Bits(bool sign, int biased, typename T::U frac) {
  return (sign ? T::kSign : 0) | (typename T::U(biased) << T::kFracBits) | (frac & kFracMask<T>);
}
// 2^e for a normal exponent e.
template <class T>
constexpr typename T::U Pow2(int e) {
  return Bits<T>(false, e + T::kBias, 0);
}
template <class T>
typename T::H AsHost(typename T::U x) {
  return std::bit_cast<typename T::H>(x);
}
template <class T>
typename T::U FromHost(typename T::H x) {
  return std::bit_cast<typename T::U>(x);
}
// Encoding of a double literal that must be exactly representable in format T.
template <class T>
typename T::U V(double x) {
  auto h = static_cast<typename T::H>(x);
  if (static_cast<double>(h) != x && !std::isnan(x)) {
    std::fprintf(stderr, "test bug: %a is not exact in %s\n", x, T::kName);
    std::abort();
  }
  return FromHost<T>(h);
}
template <class T>
typename T::U Canon(typename T::U x) {
  return T::IsNan(x) ? T::kCanon : x;
}

template <class T> constexpr typename T::U kPosZero = 0;
template <class T> constexpr typename T::U kNegZero = T::kSign;
template <class T> constexpr typename T::U kPosInf = T::kInf;
template <class T> constexpr typename T::U kNegInf = T::kInf | T::kSign;
template <class T> constexpr typename T::U kMax = T::kInf - 1;  // largest finite
template <class T> constexpr typename T::U kMinNorm = Bits<T>(false, 1, 0);
template <class T> constexpr typename T::U kMaxSub = kFracMask<T>;
template <class T> constexpr typename T::U kMinSub = 1;
template <class T> constexpr typename T::U kOne = Pow2<T>(0);
// NaNs with nonzero payloads (and a negative one) so payload propagation would be caught.
template <class T> constexpr typename T::U kQNaN = T::kInf | T::kQuiet | 0x123;
template <class T> constexpr typename T::U kNegQNaN = T::kSign | T::kInf | T::kQuiet | 0x5;
template <class T> constexpr typename T::U kSNaN = T::kInf | 0x77;
template <class T> constexpr typename T::U kNegSNaN = T::kSign | T::kInf | 1;

constexpr unsigned kModes[] = {kRNE, kRTZ, kRDN, kRUP, kRMM};
const char* ModeName(unsigned rm) {
  static const char* const kNames[] = {"RNE", "RTZ", "RDN", "RUP", "RMM"};
  return rm < 5 ? kNames[rm] : "?";
}

std::string FlagsStr(u32 f) {
  if (f == 0) return "{}";
  std::string s = "{";
  const std::pair<u32, const char*> names[] = {{kNV, "NV"}, {kDZ, "DZ"}, {kOF, "OF"},
                                               {kUF, "UF"}, {kNX, "NX"}};
  for (auto [bit, name] : names) {
    if (f & bit) {
      if (s.size() > 1) s += '|';
      s += name;
    }
  }
  if (f & ~u32(0x1f)) s += "|junk";
  return s + "}";
}

std::string Hex(u64 v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

template <class T>
typename T::U Run(bool soft_path, Op op, typename T::U a, typename T::U b, typename T::U c,
                  unsigned rm, u32& flags) {
  switch (op) {
    case Op::kAdd: return T::Add(soft_path, a, b, rm, flags);
    case Op::kSub: return T::Sub(soft_path, a, b, rm, flags);
    case Op::kMul: return T::Mul(soft_path, a, b, rm, flags);
    case Op::kDiv: return T::Div(soft_path, a, b, rm, flags);
    case Op::kSqrt: return T::Sqrt(soft_path, a, rm, flags);
    default: return T::Fma(soft_path, a, b, c, NegProduct(op), NegAddend(op), rm, flags);
  }
}

template <class T>
std::string Describe(Op op, typename T::U a, typename T::U b, typename T::U c, unsigned rm,
                     bool soft_path) {
  std::ostringstream os;
  os << T::kName << "_" << OpName(op) << "(" << Hex(a);
  if (op != Op::kSqrt) os << ", " << Hex(b);
  if (IsFma(op)) os << ", " << Hex(c);
  os << ") " << ModeName(rm) << (soft_path ? " [soft]" : " [dispatch]");
  return os.str();
}

template <class T>
struct Want {
  typename T::U value;
  u32 flags;
};
template <class T>
using PerMode = std::array<Want<T>, 5>;

template <class T>
PerMode<T> Same(typename T::U v, u32 f = 0) {
  return {{{v, f}, {v, f}, {v, f}, {v, f}, {v, f}}};
}
// The sign of an exact zero sum: +0 in every mode but RDN.
template <class T>
PerMode<T> ExactZeroSum() {
  PerMode<T> w = Same<T>(kPosZero<T>);
  w[kRDN].value = kNegZero<T>;
  return w;
}

template <class T>
AssertionResult CheckModes(Op op, typename T::U a, typename T::U b, typename T::U c,
                           const PerMode<T>& want) {
  for (unsigned rm : kModes) {
    for (bool soft_path : {false, true}) {
      u32 flags = 0;
      typename T::U got = Run<T>(soft_path, op, a, b, c, rm, flags);
      if (got != want[rm].value || flags != want[rm].flags)
        return AssertionFailure() << Describe<T>(op, a, b, c, rm, soft_path) << ": got "
                                  << Hex(got) << " " << FlagsStr(flags) << ", want "
                                  << Hex(want[rm].value) << " " << FlagsStr(want[rm].flags);
    }
  }
  return AssertionSuccess();
}

// Shorthands for the typed tests below (T is the format).
#define EXPECT_MODES(op, a, b, c, ...) \
  EXPECT_TRUE((CheckModes<T>(Op::op, a, b, c, PerMode<T>{{__VA_ARGS__}})))
#define EXPECT_ALL(op, a, b, c, want, flags) \
  EXPECT_TRUE((CheckModes<T>(Op::op, a, b, c, Same<T>(want, flags))))

template <class T>
class FpuHand : public ::testing::Test {};
using Formats = ::testing::Types<Single, Double>;
TYPED_TEST_SUITE(FpuHand, Formats, FormatNames);

// ---------------------------------------------------------------------------------------------
// 1. hand-written vectors, generic over the format

TYPED_TEST(FpuHand, SignedZerosInAddSub) {
  using T = TypeParam;
  using U = typename T::U;
  const U p0 = kPosZero<T>, n0 = kNegZero<T>;
  EXPECT_ALL(kAdd, p0, p0, 0, p0, 0);
  EXPECT_ALL(kAdd, n0, n0, 0, n0, 0);
  EXPECT_TRUE(CheckModes<T>(Op::kAdd, p0, n0, 0, ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kAdd, n0, p0, 0, ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kSub, p0, p0, 0, ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kSub, n0, n0, 0, ExactZeroSum<T>()));
  EXPECT_ALL(kSub, p0, n0, 0, p0, 0);
  EXPECT_ALL(kSub, n0, p0, 0, n0, 0);
  // x + 0 is x exactly, whatever the zero's sign.
  for (U x : {kOne<T>, kMinSub<T>, kMax<T> | T::kSign, kMaxSub<T> | T::kSign}) {
    EXPECT_ALL(kAdd, x, n0, 0, x, 0);
    EXPECT_ALL(kAdd, p0, x, 0, x, 0);
    EXPECT_ALL(kSub, x, p0, 0, x, 0);
    EXPECT_ALL(kSub, n0, x, 0, x ^ T::kSign, 0);
  }
  // Exact cancellation: x - x = +0, except -0 in RDN; also for subnormals and huge values.
  for (U x : {kOne<T>, V<T>(-3.5), kMinSub<T>, kMaxSub<T> | T::kSign, kMax<T>, kMinNorm<T>,
              kMax<T> | T::kSign}) {
    EXPECT_TRUE(CheckModes<T>(Op::kSub, x, x, 0, ExactZeroSum<T>()));
    EXPECT_TRUE(CheckModes<T>(Op::kAdd, x, x ^ T::kSign, 0, ExactZeroSum<T>()));
    EXPECT_TRUE(CheckModes<T>(Op::kFmadd, x, kOne<T>, x ^ T::kSign, ExactZeroSum<T>()));
    EXPECT_TRUE(CheckModes<T>(Op::kFmsub, x, kOne<T>, x, ExactZeroSum<T>()));
    EXPECT_TRUE(CheckModes<T>(Op::kFnmsub, x, kOne<T>, x, ExactZeroSum<T>()));
    EXPECT_TRUE(CheckModes<T>(Op::kFnmadd, x, kOne<T>, x ^ T::kSign, ExactZeroSum<T>()));
  }
  // Cancellation of nearby values is exact (Sterbenz), including into the subnormal range.
  EXPECT_ALL(kSub, kMinNorm<T>, kMinSub<T>, 0, kMaxSub<T>, 0);
  EXPECT_ALL(kSub, kMinNorm<T> + 1, kMinNorm<T>, 0, kMinSub<T>, 0);
  EXPECT_ALL(kAdd, kMinSub<T>, kMinSub<T>, 0, U(2), 0);
  EXPECT_ALL(kAdd, kMaxSub<T>, kMinSub<T>, 0, kMinNorm<T>, 0);
}

TYPED_TEST(FpuHand, SignedZerosInMulDivSqrt) {
  using T = TypeParam;
  const auto p0 = kPosZero<T>, n0 = kNegZero<T>;
  EXPECT_ALL(kMul, p0, V<T>(-2), 0, n0, 0);
  EXPECT_ALL(kMul, n0, n0, 0, p0, 0);
  EXPECT_ALL(kMul, n0, kMax<T>, 0, n0, 0);
  EXPECT_ALL(kDiv, p0, V<T>(-5), 0, n0, 0);
  EXPECT_ALL(kDiv, n0, V<T>(-5), 0, p0, 0);
  EXPECT_ALL(kDiv, V<T>(-1), kPosInf<T>, 0, n0, 0);
  EXPECT_ALL(kDiv, kMinSub<T>, kNegInf<T>, 0, n0, 0);
  EXPECT_ALL(kSqrt, n0, 0, 0, n0, 0);  // sqrt(-0) = -0, no NV
  EXPECT_ALL(kSqrt, p0, 0, 0, p0, 0);
}

TYPED_TEST(FpuHand, Infinities) {
  using T = TypeParam;
  const auto pi = kPosInf<T>, ni = kNegInf<T>, cn = T::kCanon, one = kOne<T>;
  EXPECT_ALL(kAdd, pi, pi, 0, pi, 0);
  EXPECT_ALL(kAdd, ni, ni, 0, ni, 0);
  EXPECT_ALL(kAdd, pi, ni, 0, cn, kNV);
  EXPECT_ALL(kAdd, ni, pi, 0, cn, kNV);
  EXPECT_ALL(kSub, pi, pi, 0, cn, kNV);
  EXPECT_ALL(kSub, pi, ni, 0, pi, 0);
  EXPECT_ALL(kAdd, pi, kMax<T> | T::kSign, 0, pi, 0);
  EXPECT_ALL(kSub, V<T>(1), pi, 0, ni, 0);
  EXPECT_ALL(kMul, pi, V<T>(-2), 0, ni, 0);
  EXPECT_ALL(kMul, ni, kMinSub<T> | T::kSign, 0, pi, 0);
  EXPECT_ALL(kMul, pi, kPosZero<T>, 0, cn, kNV);
  EXPECT_ALL(kMul, kNegZero<T>, pi, 0, cn, kNV);
  EXPECT_ALL(kDiv, pi, pi, 0, cn, kNV);
  EXPECT_ALL(kDiv, ni, V<T>(3), 0, ni, 0);
  EXPECT_ALL(kDiv, pi, kNegZero<T>, 0, ni, 0);  // inf / 0 is an exact infinity: no DZ
  EXPECT_ALL(kDiv, V<T>(3), pi, 0, kPosZero<T>, 0);
  EXPECT_ALL(kSqrt, pi, 0, 0, pi, 0);
  EXPECT_ALL(kSqrt, ni, 0, 0, cn, kNV);
  // Division by zero.
  EXPECT_ALL(kDiv, one, kPosZero<T>, 0, pi, kDZ);
  EXPECT_ALL(kDiv, one, kNegZero<T>, 0, ni, kDZ);
  EXPECT_ALL(kDiv, kMinSub<T> | T::kSign, kNegZero<T>, 0, pi, kDZ);
  EXPECT_ALL(kDiv, kMax<T>, kPosZero<T>, 0, pi, kDZ);
  EXPECT_ALL(kDiv, kPosZero<T>, kPosZero<T>, 0, cn, kNV);
  EXPECT_ALL(kDiv, kNegZero<T>, kPosZero<T>, 0, cn, kNV);
}

TYPED_TEST(FpuHand, NaNOperands) {
  using T = TypeParam;
  using U = typename T::U;
  const U cn = T::kCanon, one = kOne<T>;
  for (U q : {kQNaN<T>, kNegQNaN<T>, T::kCanon}) {
    EXPECT_ALL(kAdd, q, one, 0, cn, 0);
    EXPECT_ALL(kAdd, one, q, 0, cn, 0);
    EXPECT_ALL(kSub, kPosInf<T>, q, 0, cn, 0);  // NaN wins over inf - inf: no NV
    EXPECT_ALL(kMul, q, kPosZero<T>, 0, cn, 0);
    EXPECT_ALL(kMul, kPosInf<T>, q, 0, cn, 0);
    EXPECT_ALL(kDiv, q, kPosZero<T>, 0, cn, 0);  // no DZ
    EXPECT_ALL(kDiv, kPosZero<T>, q, 0, cn, 0);
    EXPECT_ALL(kSqrt, q, 0, 0, cn, 0);  // even a negative quiet NaN: no NV
    EXPECT_ALL(kFmadd, q, one, one, cn, 0);
    EXPECT_ALL(kFmadd, one, q, one, cn, 0);
    EXPECT_ALL(kFmadd, one, one, q, cn, 0);
    EXPECT_ALL(kFnmadd, kPosInf<T>, one, q, cn, 0);  // inf*1 + qNaN: no NV
    EXPECT_ALL(kFmadd, q, kPosZero<T>, kPosInf<T>, cn, 0);
  }
  for (U s : {kSNaN<T>, kNegSNaN<T>}) {
    EXPECT_ALL(kAdd, s, one, 0, cn, kNV);
    EXPECT_ALL(kSub, one, s, 0, cn, kNV);
    EXPECT_ALL(kAdd, s, kQNaN<T>, 0, cn, kNV);
    EXPECT_ALL(kMul, kQNaN<T>, s, 0, cn, kNV);
    EXPECT_ALL(kMul, s, kPosZero<T>, 0, cn, kNV);
    EXPECT_ALL(kDiv, kPosZero<T>, s, 0, cn, kNV);
    EXPECT_ALL(kDiv, s, kPosZero<T>, 0, cn, kNV);
    EXPECT_ALL(kSqrt, s, 0, 0, cn, kNV);
    EXPECT_ALL(kFmadd, s, one, one, cn, kNV);
    EXPECT_ALL(kFmsub, one, s, one, cn, kNV);
    EXPECT_ALL(kFnmadd, one, one, s, cn, kNV);
    EXPECT_ALL(kFnmsub, kQNaN<T>, one, s, cn, kNV);
  }
}

TYPED_TEST(FpuHand, FusedMultiplyAddSpecials) {
  using T = TypeParam;
  const auto pi = kPosInf<T>, ni = kNegInf<T>, cn = T::kCanon, one = kOne<T>;
  const auto p0 = kPosZero<T>, n0 = kNegZero<T>;
  // inf * 0 is invalid whatever the addend, including a quiet NaN (RISC-V requires NV there).
  for (Op op : {Op::kFmadd, Op::kFmsub, Op::kFnmsub, Op::kFnmadd}) {
    EXPECT_TRUE(CheckModes<T>(op, pi, p0, one, Same<T>(cn, kNV)));
    EXPECT_TRUE(CheckModes<T>(op, n0, pi, ni, Same<T>(cn, kNV)));
    EXPECT_TRUE(CheckModes<T>(op, pi, p0, kQNaN<T>, Same<T>(cn, kNV)));
    EXPECT_TRUE(CheckModes<T>(op, p0, ni, kNegQNaN<T>, Same<T>(cn, kNV)));
    EXPECT_TRUE(CheckModes<T>(op, pi, n0, kSNaN<T>, Same<T>(cn, kNV)));
  }
  // inf - inf between the product and the addend.
  EXPECT_ALL(kFmadd, pi, V<T>(2), ni, cn, kNV);
  EXPECT_ALL(kFmadd, pi, V<T>(-2), pi, cn, kNV);
  EXPECT_ALL(kFmsub, pi, V<T>(2), pi, cn, kNV);
  EXPECT_ALL(kFnmadd, pi, V<T>(2), ni, cn, kNV);  // -(inf) - (-inf)
  EXPECT_ALL(kFmadd, pi, V<T>(2), pi, pi, 0);
  EXPECT_ALL(kFnmsub, pi, V<T>(2), ni, ni, 0);
  EXPECT_ALL(kFmadd, V<T>(2), V<T>(3), ni, ni, 0);
  // The exact product is finite, so no overflow even though it exceeds the format.
  EXPECT_ALL(kFmadd, kMax<T>, kMax<T>, ni, ni, 0);
  EXPECT_ALL(kFmadd, kMax<T>, V<T>(2), kMax<T> | T::kSign, kMax<T>, 0);
  EXPECT_ALL(kFmsub, kMax<T>, V<T>(-2), kMax<T> | T::kSign, kMax<T> | T::kSign, 0);
  // Single rounding: (1 + u)(1 - u) - 1 = -u^2 exactly, with u = 2^-(p-1).
  const int p = T::kPrecision;
  EXPECT_ALL(kFmadd, kOne<T> + 1, Bits<T>(false, T::kBias - 1, kFracMask<T> - 1), V<T>(-1),
             Pow2<T>(-2 * (p - 1)) | T::kSign, 0);
  // Zero products: the sign of an exact zero sum.
  EXPECT_TRUE(CheckModes<T>(Op::kFmadd, p0, one, n0, ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kFmadd, p0, V<T>(-1), p0, ExactZeroSum<T>()));
  EXPECT_ALL(kFmadd, n0, one, n0, n0, 0);
  EXPECT_ALL(kFnmadd, p0, one, p0, n0, 0);  // -(+0) - (+0)
  EXPECT_TRUE(CheckModes<T>(Op::kFmsub, p0, one, p0, ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kFnmsub, p0, one, p0, ExactZeroSum<T>()));
  EXPECT_ALL(kFnmsub, p0, one, n0, n0, 0);  // -(+0) + (-0)
  EXPECT_ALL(kFmadd, p0, V<T>(5), V<T>(3), V<T>(3), 0);
  EXPECT_ALL(kFmsub, n0, kMax<T>, kMinSub<T>, kMinSub<T> | T::kSign, 0);
  // Exact cancellation of a nonzero product.
  EXPECT_TRUE(CheckModes<T>(Op::kFmadd, V<T>(2), V<T>(3), V<T>(-6), ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kFnmadd, V<T>(2), V<T>(3), V<T>(-6), ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kFmsub, V<T>(2), V<T>(3), V<T>(6), ExactZeroSum<T>()));
  EXPECT_TRUE(CheckModes<T>(Op::kFnmsub, V<T>(-2), V<T>(3), V<T>(-6), ExactZeroSum<T>()));
  // A nonzero product that rounds to zero keeps its sign, even against a zero addend.
  EXPECT_MODES(kFmadd, kMinSub<T>, V<T>(0.5), n0, {p0, kUF | kNX}, {p0, kUF | kNX},
               {p0, kUF | kNX}, {kMinSub<T>, kUF | kNX}, {kMinSub<T>, kUF | kNX});
  EXPECT_MODES(kFnmadd, kMinSub<T>, V<T>(0.25), p0, {n0, kUF | kNX}, {n0, kUF | kNX},
               {kMinSub<T> | T::kSign, kUF | kNX}, {n0, kUF | kNX}, {n0, kUF | kNX});
  // Overflow of a fused result.
  EXPECT_MODES(kFmadd, kMax<T>, V<T>(2), V<T>(-1), {pi, kOF | kNX}, {kMax<T>, kOF | kNX},
               {kMax<T>, kOF | kNX}, {pi, kOF | kNX}, {pi, kOF | kNX});
}

TYPED_TEST(FpuHand, Sqrt) {
  using T = TypeParam;
  const auto cn = T::kCanon;
  EXPECT_ALL(kSqrt, V<T>(-1), 0, 0, cn, kNV);
  EXPECT_ALL(kSqrt, kMinSub<T> | T::kSign, 0, 0, cn, kNV);
  EXPECT_ALL(kSqrt, kMax<T> | T::kSign, 0, 0, cn, kNV);
  EXPECT_ALL(kSqrt, V<T>(4), 0, 0, V<T>(2), 0);
  EXPECT_ALL(kSqrt, V<T>(0.25), 0, 0, V<T>(0.5), 0);
  EXPECT_ALL(kSqrt, V<T>(1), 0, 0, V<T>(1), 0);
  EXPECT_ALL(kSqrt, V<T>(144), 0, 0, V<T>(12), 0);
  // sqrt of the subnormal 2^-148 (binary32) / 2^-1074 (binary64) is exact.
  if constexpr (std::is_same_v<T, Single>) {
    EXPECT_ALL(kSqrt, 2, 0, 0, Pow2<T>(-74), 0);
  } else {
    EXPECT_ALL(kSqrt, 1, 0, 0, Pow2<T>(-537), 0);
  }
}

TYPED_TEST(FpuHand, OverflowDependsOnRoundingMode) {
  using T = TypeParam;
  using U = typename T::U;
  const U pi = kPosInf<T>, ni = kNegInf<T>, mx = kMax<T>, nmx = kMax<T> | T::kSign;
  const u32 o = kOF | kNX;
  // Positive overflow: RTZ and RDN deliver the largest finite number.
  const PerMode<T> pos = {{{pi, o}, {mx, o}, {mx, o}, {pi, o}, {pi, o}}};
  const PerMode<T> neg = {{{ni, o}, {nmx, o}, {ni, o}, {nmx, o}, {ni, o}}};
  EXPECT_TRUE(CheckModes<T>(Op::kMul, mx, V<T>(2), 0, pos));
  EXPECT_TRUE(CheckModes<T>(Op::kMul, mx, V<T>(-2), 0, neg));
  EXPECT_TRUE(CheckModes<T>(Op::kAdd, mx, mx, 0, pos));
  EXPECT_TRUE(CheckModes<T>(Op::kSub, nmx, mx, 0, neg));
  EXPECT_TRUE(CheckModes<T>(Op::kDiv, mx, V<T>(0.5), 0, pos));
  EXPECT_TRUE(CheckModes<T>(Op::kDiv, V<T>(-1), kMinSub<T>, 0, neg));
  EXPECT_TRUE(CheckModes<T>(Op::kFnmsub, mx, mx, V<T>(1), neg));
  // max + half an ulp of max is a tie: RNE rounds to the even neighbour 2^(emax+1) and
  // overflows, RMM too; RTZ/RDN stay at max with only NX (the rounded value is finite).
  const int emax = T::kBias, p = T::kPrecision;
  const U half_ulp = Pow2<T>(emax - p), quarter_ulp = Pow2<T>(emax - p - 1);
  EXPECT_MODES(kAdd, mx, half_ulp, 0, {pi, o}, {mx, kNX}, {mx, kNX}, {pi, o}, {pi, o});
  EXPECT_MODES(kSub, nmx, half_ulp, 0, {ni, o}, {nmx, kNX}, {ni, o}, {nmx, kNX}, {ni, o});
  // Below the tie: RNE and RMM round to max, only RUP overflows.
  EXPECT_MODES(kAdd, mx, quarter_ulp, 0, {mx, kNX}, {mx, kNX}, {mx, kNX}, {pi, o}, {mx, kNX});
  // The largest finite result is not an overflow.
  EXPECT_ALL(kMul, Bits<T>(false, T::kExpField - 2, kFracMask<T>), V<T>(2), 0, mx, 0);
}

TYPED_TEST(FpuHand, UnderflowAndTininessAfterRounding) {
  using T = TypeParam;
  using U = typename T::U;
  const U ms = kMinSub<T>, nms = kMinSub<T> | T::kSign, p0 = kPosZero<T>, n0 = kNegZero<T>;
  const u32 u = kUF | kNX;
  // Half the smallest subnormal: a tie between 0 and minsub.
  EXPECT_MODES(kMul, ms, V<T>(0.5), 0, {p0, u}, {p0, u}, {p0, u}, {ms, u}, {ms, u});
  EXPECT_MODES(kMul, nms, V<T>(0.5), 0, {n0, u}, {n0, u}, {nms, u}, {n0, u}, {nms, u});
  EXPECT_MODES(kDiv, ms, V<T>(2), 0, {p0, u}, {p0, u}, {p0, u}, {ms, u}, {ms, u});
  EXPECT_MODES(kMul, ms, V<T>(0.25), 0, {p0, u}, {p0, u}, {p0, u}, {ms, u}, {p0, u});
  EXPECT_MODES(kMul, ms, V<T>(0.75), 0, {ms, u}, {p0, u}, {p0, u}, {ms, u}, {ms, u});
  // Ties between subnormals: 1.5 and 2.5 times minsub.
  EXPECT_MODES(kDiv, U(3), V<T>(2), 0, {2, u}, {1, u}, {1, u}, {2, u}, {2, u});
  EXPECT_MODES(kDiv, U(5), V<T>(-2), 0, {2 | T::kSign, u}, {2 | T::kSign, u},
               {3 | T::kSign, u}, {2 | T::kSign, u}, {3 | T::kSign, u});
  // Tiny but exact: no UF.
  EXPECT_ALL(kMul, kMinNorm<T>, V<T>(0.5), 0, kMinNorm<T> >> 1, 0);
  EXPECT_ALL(kDiv, kMaxSub<T>, V<T>(1), 0, kMaxSub<T>, 0);
  EXPECT_ALL(kMul, U(6), V<T>(0.5), 0, U(3), 0);
  // (1 - 2^-p) * 2^emin has p significant bits, so it is tiny after rounding to p bits with an
  // unbounded exponent: UF in every mode, even where it rounds up to the smallest normal.
  const U one_minus_ulp = Bits<T>(false, T::kBias - 1, kFracMask<T>);  // 1 - 2^-p
  const U mn = kMinNorm<T>, mxs = kMaxSub<T>;
  EXPECT_MODES(kMul, mn, one_minus_ulp, 0, {mn, u}, {mxs, u}, {mxs, u}, {mn, u}, {mn, u});
  // (1 - 2^-(p+1)) * 2^emin rounds to 2^emin with an unbounded exponent in RNE/RMM/RUP: not tiny,
  // so only NX there (x86 and ARM famously disagree here; RISC-V is "after rounding").
  // Built as a product of two normal numbers: 2^(p+1) - 1 = f1 * f2.
  U f1, f2;
  if constexpr (std::is_same_v<T, Single>) {
    f1 = V<T>(std::ldexp(18631.0, -75));  // 18631 * 1801 = 2^25 - 1
    f2 = V<T>(std::ldexp(1801.0, -76));
  } else {
    f1 = V<T>(std::ldexp(134217727.0, -538));  // (2^27 - 1)(2^27 + 1) = 2^54 - 1
    f2 = V<T>(std::ldexp(134217729.0, -538));
  }
  EXPECT_MODES(kMul, f1, f2, 0, {mn, kNX}, {mxs, u}, {mxs, u}, {mn, kNX}, {mn, kNX});
  EXPECT_MODES(kMul, f1 | T::kSign, f2, 0, {mn | T::kSign, kNX}, {mxs | T::kSign, u},
               {mn | T::kSign, kNX}, {mxs | T::kSign, u}, {mn | T::kSign, kNX});
  EXPECT_MODES(kFmadd, f1, f2, p0, {mn, kNX}, {mxs, u}, {mxs, u}, {mn, kNX}, {mn, kNX});
}

TYPED_TEST(FpuHand, TiesInEveryMode) {
  using T = TypeParam;
  using U = typename T::U;
  const int p = T::kPrecision;
  const U one = kOne<T>, half_ulp = Pow2<T>(-p);  // ulp(1) = 2^-(p-1)
  const u32 x = kNX;
  // 1 + ulp/2: tie between 1 (even) and 1 + ulp (odd).
  EXPECT_MODES(kAdd, one, half_ulp, 0, {one, x}, {one, x}, {one, x}, {one + 1, x},
               {one + 1, x});
  EXPECT_MODES(kSub, one | T::kSign, half_ulp, 0, {one | T::kSign, x}, {one | T::kSign, x},
               {(one + 1) | T::kSign, x}, {one | T::kSign, x}, {(one + 1) | T::kSign, x});
  // (1 + ulp) + ulp/2: tie between 1 + ulp (odd) and 1 + 2ulp (even): RNE and RMM agree.
  EXPECT_MODES(kAdd, one + 1, half_ulp, 0, {one + 2, x}, {one + 1, x}, {one + 1, x},
               {one + 2, x}, {one + 2, x});
  // Just off the tie in either direction.
  const U above = Bits<T>(false, T::kBias - p, 1);               // 2^-p (1 + 2^-(p-1))
  const U below = Bits<T>(false, T::kBias - p - 1, kFracMask<T>);  // 2^-p (1 - 2^-p)
  EXPECT_MODES(kAdd, one, above, 0, {one + 1, x}, {one, x}, {one, x}, {one + 1, x},
               {one + 1, x});
  EXPECT_MODES(kAdd, one, below, 0, {one, x}, {one, x}, {one, x}, {one + 1, x}, {one, x});
  EXPECT_MODES(kFmadd, one, one, half_ulp, {one, x}, {one, x}, {one, x}, {one + 1, x},
               {one + 1, x});
  // Products that are ties: (2^(p-1) + 3) * 3 = 3 * 2^(p-1) + 9, ulp 2 there.
  const double m = std::ldexp(1.0, p - 1);
  const U a = V<T>(m + 3), three = V<T>(3);
  const U lo = V<T>(3 * m + 8), hi = V<T>(3 * m + 10);
  EXPECT_MODES(kMul, a, three, 0, {lo, x}, {lo, x}, {lo, x}, {hi, x}, {hi, x});
  EXPECT_MODES(kMul, a | T::kSign, three, 0, {lo | T::kSign, x}, {lo | T::kSign, x},
               {hi | T::kSign, x}, {lo | T::kSign, x}, {hi | T::kSign, x});
  // Fused: (3 * 2^(p-1) + 9) - 2^(p-1) = 2^p + 9, ulp 2: tie between 2^p + 8 (even) and + 10.
  const U flo = V<T>(2 * m + 8), fhi = V<T>(2 * m + 10);
  EXPECT_MODES(kFmadd, a, three, V<T>(-m), {flo, x}, {flo, x}, {flo, x}, {fhi, x}, {fhi, x});
  EXPECT_MODES(kFnmadd, a, three, V<T>(-m), {flo | T::kSign, x}, {flo | T::kSign, x},
               {fhi | T::kSign, x}, {flo | T::kSign, x}, {fhi | T::kSign, x});
}

TYPED_TEST(FpuHand, MinMax) {
  using T = TypeParam;
  using U = typename T::U;
  struct Case {
    U a, b, min, max;
    u32 flags;
  };
  const U p0 = kPosZero<T>, n0 = kNegZero<T>, one = kOne<T>, cn = T::kCanon;
  const Case cases[] = {
      {n0, p0, n0, p0, 0},
      {p0, n0, n0, p0, 0},
      {n0, n0, n0, n0, 0},
      {V<T>(-1), V<T>(2), V<T>(-1), V<T>(2), 0},
      {V<T>(-2), V<T>(-3), V<T>(-3), V<T>(-2), 0},
      {kNegInf<T>, kPosInf<T>, kNegInf<T>, kPosInf<T>, 0},
      {kMinSub<T>, kMinSub<T> | T::kSign, kMinSub<T> | T::kSign, kMinSub<T>, 0},
      {kMaxSub<T>, kMinNorm<T>, kMaxSub<T>, kMinNorm<T>, 0},
      {one, one, one, one, 0},
      // A single NaN is ignored; a signaling one still raises NV.
      {kQNaN<T>, one, one, one, 0},
      {one, kNegQNaN<T>, one, one, 0},
      {kNegInf<T>, kQNaN<T>, kNegInf<T>, kNegInf<T>, 0},
      {n0, kQNaN<T>, n0, n0, 0},
      {kSNaN<T>, one, one, one, kNV},
      {one, kNegSNaN<T>, one, one, kNV},
      // Two NaNs give the canonical NaN.
      {kQNaN<T>, kNegQNaN<T>, cn, cn, 0},
      {kSNaN<T>, kQNaN<T>, cn, cn, kNV},
      {kQNaN<T>, kSNaN<T>, cn, cn, kNV},
      {kSNaN<T>, kSNaN<T>, cn, cn, kNV},
  };
  for (const Case& c : cases) {
    u32 f = 0;
    EXPECT_EQ(T::Min(c.a, c.b, f), c.min) << Hex(c.a) << " " << Hex(c.b);
    EXPECT_EQ(f, c.flags) << Hex(c.a) << " " << Hex(c.b);
    f = 0;
    EXPECT_EQ(T::Max(c.a, c.b, f), c.max) << Hex(c.a) << " " << Hex(c.b);
    EXPECT_EQ(f, c.flags) << Hex(c.a) << " " << Hex(c.b);
  }
}

TYPED_TEST(FpuHand, Compare) {
  using T = TypeParam;
  using U = typename T::U;
  struct Case {
    U a, b;
    bool eq, lt, le;
    u32 eq_flags, order_flags;
  };
  const U p0 = kPosZero<T>, n0 = kNegZero<T>, one = kOne<T>;
  const Case cases[] = {
      {one, one, true, false, true, 0, 0},
      {one, V<T>(2), false, true, true, 0, 0},
      {V<T>(2), one, false, false, false, 0, 0},
      {n0, p0, true, false, true, 0, 0},
      {p0, n0, true, false, true, 0, 0},
      {V<T>(-1), V<T>(-2), false, false, false, 0, 0},
      {V<T>(-2), V<T>(-1), false, true, true, 0, 0},
      {kNegInf<T>, kPosInf<T>, false, true, true, 0, 0},
      {kPosInf<T>, kPosInf<T>, true, false, true, 0, 0},
      {p0, kMinSub<T>, false, true, true, 0, 0},
      {kMinSub<T> | T::kSign, n0, false, true, true, 0, 0},
      {kMax<T>, kPosInf<T>, false, true, true, 0, 0},
      // feq is quiet (NV only for sNaN); flt/fle signal on any NaN.
      {kQNaN<T>, one, false, false, false, 0, kNV},
      {one, kNegQNaN<T>, false, false, false, 0, kNV},
      {kQNaN<T>, kQNaN<T>, false, false, false, 0, kNV},
      {kSNaN<T>, one, false, false, false, kNV, kNV},
      {p0, kNegSNaN<T>, false, false, false, kNV, kNV},
  };
  for (const Case& c : cases) {
    u32 f = 0;
    EXPECT_EQ(T::Eq(c.a, c.b, f), c.eq) << Hex(c.a) << " " << Hex(c.b);
    EXPECT_EQ(f, c.eq_flags) << Hex(c.a) << " " << Hex(c.b);
    f = 0;
    EXPECT_EQ(T::Lt(c.a, c.b, f), c.lt) << Hex(c.a) << " " << Hex(c.b);
    EXPECT_EQ(f, c.order_flags) << Hex(c.a) << " " << Hex(c.b);
    f = 0;
    EXPECT_EQ(T::Le(c.a, c.b, f), c.le) << Hex(c.a) << " " << Hex(c.b);
    EXPECT_EQ(f, c.order_flags) << Hex(c.a) << " " << Hex(c.b);
  }
}

TYPED_TEST(FpuHand, Classify) {
  using T = TypeParam;
  using U = typename T::U;
  const std::pair<U, u32> cases[] = {
      {kNegInf<T>, kClassNegInf},
      {V<T>(-1), kClassNegNormal},
      {kMax<T> | T::kSign, kClassNegNormal},
      {kMinNorm<T> | T::kSign, kClassNegNormal},
      {kMaxSub<T> | T::kSign, kClassNegSubnormal},
      {kMinSub<T> | T::kSign, kClassNegSubnormal},
      {kNegZero<T>, kClassNegZero},
      {kPosZero<T>, kClassPosZero},
      {kMinSub<T>, kClassPosSubnormal},
      {kMaxSub<T>, kClassPosSubnormal},
      {kMinNorm<T>, kClassPosNormal},
      {kOne<T>, kClassPosNormal},
      {kMax<T>, kClassPosNormal},
      {kPosInf<T>, kClassPosInf},
      {kSNaN<T>, kClassSignalingNaN},
      {kNegSNaN<T>, kClassSignalingNaN},
      {T::kInf | (T::kQuiet - 1), kClassSignalingNaN},
      {T::kCanon, kClassQuietNaN},
      {kNegQNaN<T>, kClassQuietNaN},
      {U(~U(0)), kClassQuietNaN},
  };
  for (auto [x, cls] : cases) EXPECT_EQ(T::Classify(x), cls) << Hex(x);
}

TYPED_TEST(FpuHand, SmallValuesToInt) {
  using T = TypeParam;
  struct Case {
    double x;
    std::array<i64, 5> want;  // per mode
  };
  const Case cases[] = {
      {0.5, {0, 0, 0, 1, 1}},      {1.5, {2, 1, 1, 2, 2}},      {2.5, {2, 2, 2, 3, 3}},
      {-2.5, {-2, -2, -3, -2, -3}}, {-0.5, {0, 0, -1, 0, -1}},   {0.25, {0, 0, 0, 1, 0}},
      {0.75, {1, 0, 0, 1, 1}},      {-1.75, {-2, -1, -2, -1, -2}}, {3.0, {3, 3, 3, 3, 3}},
      {std::ldexp(1.0, -149), {0, 0, 0, 1, 0}}, {-std::ldexp(1.0, -149), {0, 0, -1, 0, 0}},
  };
  for (const Case& c : cases) {
    for (unsigned rm : kModes) {
      const bool exact = c.x == std::trunc(c.x);
      u32 f = 0;
      EXPECT_EQ(T::ToI32(V<T>(c.x), rm, f), c.want[rm]) << c.x << " " << ModeName(rm);
      EXPECT_EQ(f, exact ? 0u : kNX) << c.x << " " << ModeName(rm);
      f = 0;
      EXPECT_EQ(T::ToI64(V<T>(c.x), rm, f), c.want[rm]) << c.x << " " << ModeName(rm);
      EXPECT_EQ(f, exact ? 0u : kNX) << c.x << " " << ModeName(rm);
      // Unsigned: a negative value that rounds to 0 is in range (NX); to -1 it is invalid.
      f = 0;
      const u32 got32 = T::ToU32(V<T>(c.x), rm, f);
      const u64 got64 = T::ToU64(V<T>(c.x), rm, f);
      if (c.want[rm] < 0) {
        EXPECT_EQ(got32, 0u) << c.x << " " << ModeName(rm);
        EXPECT_EQ(got64, 0u) << c.x << " " << ModeName(rm);
        EXPECT_EQ(f, kNV) << c.x << " " << ModeName(rm);
      } else {
        EXPECT_EQ(got32, u32(c.want[rm])) << c.x << " " << ModeName(rm);
        EXPECT_EQ(got64, u64(c.want[rm])) << c.x << " " << ModeName(rm);
        EXPECT_EQ(f, exact ? 0u : kNX) << c.x << " " << ModeName(rm);
      }
    }
  }
  // Zeros convert to 0 without flags; NaN (either sign) to the largest positive value.
  for (unsigned rm : kModes) {
    for (auto z : {kPosZero<T>, kNegZero<T>}) {
      u32 f = 0;
      EXPECT_EQ(T::ToI32(z, rm, f), 0);
      EXPECT_EQ(T::ToU32(z, rm, f), 0u);
      EXPECT_EQ(T::ToI64(z, rm, f), 0);
      EXPECT_EQ(T::ToU64(z, rm, f), 0u);
      EXPECT_EQ(f, 0u);
    }
    for (auto n : {kQNaN<T>, kNegQNaN<T>, kSNaN<T>, kNegSNaN<T>}) {
      u32 f = 0;
      EXPECT_EQ(T::ToI32(n, rm, f), std::numeric_limits<i32>::max());
      EXPECT_EQ(f, kNV);
      f = 0;
      EXPECT_EQ(T::ToU32(n, rm, f), std::numeric_limits<u32>::max());
      EXPECT_EQ(f, kNV);
      f = 0;
      EXPECT_EQ(T::ToI64(n, rm, f), std::numeric_limits<i64>::max());
      EXPECT_EQ(f, kNV);
      f = 0;
      EXPECT_EQ(T::ToU64(n, rm, f), std::numeric_limits<u64>::max());
      EXPECT_EQ(f, kNV);
    }
    u32 f = 0;
    EXPECT_EQ(T::ToI32(kPosInf<T>, rm, f), std::numeric_limits<i32>::max());
    EXPECT_EQ(T::ToI32(kNegInf<T>, rm, f), std::numeric_limits<i32>::min());
    EXPECT_EQ(T::ToU32(kPosInf<T>, rm, f), std::numeric_limits<u32>::max());
    EXPECT_EQ(T::ToU32(kNegInf<T>, rm, f), 0u);
    EXPECT_EQ(T::ToI64(kPosInf<T>, rm, f), std::numeric_limits<i64>::max());
    EXPECT_EQ(T::ToI64(kNegInf<T>, rm, f), std::numeric_limits<i64>::min());
    EXPECT_EQ(T::ToU64(kPosInf<T>, rm, f), std::numeric_limits<u64>::max());
    EXPECT_EQ(T::ToU64(kNegInf<T>, rm, f), 0u);
    EXPECT_EQ(f, kNV);
  }
}

TYPED_TEST(FpuHand, FlagsAreOnlyOred) {
  using T = TypeParam;
  u32 f = kDZ | kOF;
  T::Add(false, kOne<T>, Pow2<T>(-60), kRNE, f);
  EXPECT_EQ(f, kDZ | kOF | kNX);
  f = kDZ | kOF;
  T::Add(true, kOne<T>, Pow2<T>(-60), kRMM, f);
  EXPECT_EQ(f, kDZ | kOF | kNX);
  f = kNV | kNX;
  T::Mul(false, kOne<T>, kOne<T>, kRUP, f);
  T::Min(kOne<T>, V<T>(2), f);
  T::Eq(kOne<T>, kQNaN<T>, f);
  T::FromI32(7, kRNE, f);
  EXPECT_EQ(f, kNV | kNX);
}

// ---------------------------------------------------------------------------------------------
// 1b. hand-written vectors specific to one format: conversions at their boundaries

constexpr u64 D(double x) { return std::bit_cast<u64>(x); }
constexpr u32 F(float x) { return std::bit_cast<u32>(x); }

template <class Int>
struct IntWant {
  Int value;
  u32 flags;
};

template <class Int, class U, class Fn>
AssertionResult CheckToInt(const char* name, Fn fn, U a, const std::array<IntWant<Int>, 5>& want) {
  for (unsigned rm : kModes) {
    u32 f = 0;
    Int got = fn(a, rm, f);
    if (got != want[rm].value || f != want[rm].flags)
      return AssertionFailure() << name << "(" << Hex(a) << ") " << ModeName(rm) << ": got "
                                << Hex(u64(got)) << " " << FlagsStr(f) << ", want "
                                << Hex(u64(want[rm].value)) << " " << FlagsStr(want[rm].flags);
  }
  return AssertionSuccess();
}
template <class Int>
std::array<IntWant<Int>, 5> AllModes(Int v, u32 f) {
  return {{{v, f}, {v, f}, {v, f}, {v, f}, {v, f}}};
}
#define EXPECT_TO_INT(fn, Int, a, ...) \
  EXPECT_TRUE((CheckToInt<Int>(#fn, fn, a, std::array<IntWant<Int>, 5>{{__VA_ARGS__}})))
#define EXPECT_TO_INT_ALL(fn, Int, a, v, f) \
  EXPECT_TRUE((CheckToInt<Int>(#fn, fn, a, AllModes<Int>(v, f))))

constexpr i32 kI32Max = std::numeric_limits<i32>::max(), kI32Min = std::numeric_limits<i32>::min();
constexpr u32 kU32Max = std::numeric_limits<u32>::max();
constexpr i64 kI64Max = std::numeric_limits<i64>::max(), kI64Min = std::numeric_limits<i64>::min();
constexpr u64 kU64Max = std::numeric_limits<u64>::max();

TEST(FpuConvert, F64ToI32Boundaries) {
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(2147483647.0), kI32Max, 0);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(-2147483648.0), kI32Min, 0);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(2147483648.0), kI32Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(-2147483649.0), kI32Min, kNV);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(1e300), kI32Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(-1e300), kI32Min, kNV);
  // 2^31 - 0.5 rounds in range only toward zero/down.
  EXPECT_TO_INT(f64_to_i32, i32, D(2147483647.5), {kI32Max, kNV}, {kI32Max, kNX},
                {kI32Max, kNX}, {kI32Max, kNV}, {kI32Max, kNV});
  EXPECT_TO_INT(f64_to_i32, i32, D(2147483647.25), {kI32Max, kNX}, {kI32Max, kNX},
                {kI32Max, kNX}, {kI32Max, kNV}, {kI32Max, kNX});
  // -2^31 - 0.5: a tie whose even neighbour is in range.
  EXPECT_TO_INT(f64_to_i32, i32, D(-2147483648.5), {kI32Min, kNX}, {kI32Min, kNX},
                {kI32Min, kNV}, {kI32Min, kNX}, {kI32Min, kNV});
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(INFINITY), kI32Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, D(-INFINITY), kI32Min, kNV);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, kCanonicalNaN64, kI32Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i32, i32, 0xfff0000000000001ull, kI32Max, kNV);  // negative sNaN
}

TEST(FpuConvert, F64ToU32Boundaries) {
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(4294967295.0), kU32Max, 0);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(4294967296.0), kU32Max, kNV);
  // 4294967295.5: RNE ties to the even 2^32 (out of range), RMM away (out of range).
  EXPECT_TO_INT(f64_to_u32, u32, D(4294967295.5), {kU32Max, kNV}, {kU32Max, kNX},
                {kU32Max, kNX}, {kU32Max, kNV}, {kU32Max, kNV});
  // Negative values that round to 0 are in range (NX only); to -1 they are invalid (0, NV).
  EXPECT_TO_INT(f64_to_u32, u32, D(-0.5), {0, kNX}, {0, kNX}, {0, kNV}, {0, kNX}, {0, kNV});
  EXPECT_TO_INT(f64_to_u32, u32, D(-0.9999), {0, kNV}, {0, kNX}, {0, kNV}, {0, kNX}, {0, kNV});
  EXPECT_TO_INT(f64_to_u32, u32, D(-0.25), {0, kNX}, {0, kNX}, {0, kNV}, {0, kNX}, {0, kNX});
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(-1.0), 0, kNV);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(-0.0), 0, 0);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(-2147483648.0), 0, kNV);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(-INFINITY), 0, kNV);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, D(INFINITY), kU32Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, kCanonicalNaN64, kU32Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_u32, u32, 0xfff8000000000000ull, kU32Max, kNV);
}

TEST(FpuConvert, F64To64BitBoundaries) {
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(0x1p63), kI64Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(0x1.fffffffffffffp62), i64(0x7ffffffffffffc00), 0);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(-0x1p63), kI64Min, 0);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(-0x1.0000000000001p63), kI64Min, kNV);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(0x1p64), kI64Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(INFINITY), kI64Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, D(-INFINITY), kI64Min, kNV);
  EXPECT_TO_INT_ALL(f64_to_i64, i64, kCanonicalNaN64, kI64Max, kNV);
  EXPECT_TO_INT(f64_to_i64, i64, D(-2.5), {-2, kNX}, {-2, kNX}, {-3, kNX}, {-2, kNX}, {-3, kNX});

  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(0x1p64), kU64Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(0x1.fffffffffffffp63), 0xfffffffffffff800ull, 0);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(0x1p63), 0x8000000000000000ull, 0);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(0x1.0000000000001p63), 0x8000000000000800ull, 0);
  EXPECT_TO_INT(f64_to_u64, u64, D(-0.5), {0, kNX}, {0, kNX}, {0, kNV}, {0, kNX}, {0, kNV});
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(-1.0), 0, kNV);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(-0x1p63), 0, kNV);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(-INFINITY), 0, kNV);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, D(INFINITY), kU64Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, kCanonicalNaN64, kU64Max, kNV);
  EXPECT_TO_INT_ALL(f64_to_u64, u64, 0xfff0000000000001ull, kU64Max, kNV);
}

TEST(FpuConvert, F32ToIntBoundaries) {
  EXPECT_TO_INT_ALL(f32_to_i32, i32, F(0x1p31f), kI32Max, kNV);
  EXPECT_TO_INT_ALL(f32_to_i32, i32, 0x4effffffu, 2147483520, 0);
  EXPECT_TO_INT_ALL(f32_to_i32, i32, F(-0x1p31f), kI32Min, 0);
  EXPECT_TO_INT_ALL(f32_to_i32, i32, 0xcf000001u, kI32Min, kNV);
  EXPECT_TO_INT_ALL(f32_to_i32, i32, kCanonicalNaN32, kI32Max, kNV);
  EXPECT_TO_INT_ALL(f32_to_u32, u32, F(0x1p32f), kU32Max, kNV);
  EXPECT_TO_INT_ALL(f32_to_u32, u32, 0x4f7fffffu, 4294967040u, 0);
  EXPECT_TO_INT(f32_to_u32, u32, F(-0.5f), {0, kNX}, {0, kNX}, {0, kNV}, {0, kNX}, {0, kNV});
  EXPECT_TO_INT_ALL(f32_to_u32, u32, F(-1.0f), 0, kNV);
  EXPECT_TO_INT_ALL(f32_to_u32, u32, F(-INFINITY), 0, kNV);
  EXPECT_TO_INT_ALL(f32_to_u32, u32, 0x7f800001u, kU32Max, kNV);
  EXPECT_TO_INT_ALL(f32_to_i64, i64, F(0x1p63f), kI64Max, kNV);
  EXPECT_TO_INT_ALL(f32_to_i64, i64, 0x5effffffu, 0x7fffff8000000000, 0);
  EXPECT_TO_INT_ALL(f32_to_i64, i64, F(-0x1p63f), kI64Min, 0);
  EXPECT_TO_INT_ALL(f32_to_i64, i64, 0xdf000001u, kI64Min, kNV);
  EXPECT_TO_INT_ALL(f32_to_i64, i64, F(-INFINITY), kI64Min, kNV);
  EXPECT_TO_INT_ALL(f32_to_u64, u64, F(0x1p64f), kU64Max, kNV);
  EXPECT_TO_INT_ALL(f32_to_u64, u64, 0x5f7fffffu, 0xffffff0000000000ull, 0);
  EXPECT_TO_INT_ALL(f32_to_u64, u64, F(0x1p63f), 0x8000000000000000ull, 0);
  EXPECT_TO_INT_ALL(f32_to_u64, u64, F(-1.0f), 0, kNV);
  EXPECT_TO_INT_ALL(f32_to_u64, u64, kCanonicalNaN32, kU64Max, kNV);
}

template <class U, class In, class Fn>
AssertionResult CheckFromInt(const char* name, Fn fn, In a, const std::array<IntWant<U>, 5>& want) {
  for (unsigned rm : kModes) {
    u32 f = 0;
    U got = fn(a, rm, f);
    if (got != want[rm].value || f != want[rm].flags)
      return AssertionFailure() << name << "(" << Hex(u64(a)) << ") " << ModeName(rm)
                                << ": got " << Hex(got) << " " << FlagsStr(f) << ", want "
                                << Hex(want[rm].value) << " " << FlagsStr(want[rm].flags);
  }
  return AssertionSuccess();
}
#define EXPECT_FROM_INT(fn, U, a, ...) \
  EXPECT_TRUE((CheckFromInt<U>(#fn, fn, a, std::array<IntWant<U>, 5>{{__VA_ARGS__}})))
#define EXPECT_FROM_INT_ALL(fn, U, a, v, f) \
  EXPECT_TRUE((CheckFromInt<U>(#fn, fn, a, AllModes<U>(v, f))))

TEST(FpuConvert, IntToFloat) {
  const u32 x = kNX;
  EXPECT_FROM_INT_ALL(i32_to_f32, u32, 0, 0u, 0);  // +0 even in RDN
  EXPECT_FROM_INT_ALL(i64_to_f64, u64, 0, 0ull, 0);
  EXPECT_FROM_INT_ALL(u64_to_f32, u32, 0, 0u, 0);
  EXPECT_FROM_INT_ALL(i32_to_f32, u32, kI32Min, 0xcf000000u, 0);
  EXPECT_FROM_INT_ALL(i32_to_f32, u32, -1, 0xbf800000u, 0);
  EXPECT_FROM_INT_ALL(i32_to_f32, u32, 16777216, 0x4b800000u, 0);
  // 2^24 + 1: a tie between 2^24 (even) and 2^24 + 2.
  EXPECT_FROM_INT(i32_to_f32, u32, 16777217, {0x4b800000, x}, {0x4b800000, x},
                  {0x4b800000, x}, {0x4b800001, x}, {0x4b800001, x});
  EXPECT_FROM_INT(i32_to_f32, u32, -16777217, {0xcb800000, x}, {0xcb800000, x},
                  {0xcb800001, x}, {0xcb800000, x}, {0xcb800001, x});
  // 2^24 + 3: a tie between 2^24 + 2 (odd) and 2^24 + 4 (even).
  EXPECT_FROM_INT(i32_to_f32, u32, 16777219, {0x4b800002, x}, {0x4b800001, x},
                  {0x4b800001, x}, {0x4b800002, x}, {0x4b800002, x});
  EXPECT_FROM_INT(i32_to_f32, u32, kI32Max, {0x4f000000, x}, {0x4effffff, x}, {0x4effffff, x},
                  {0x4f000000, x}, {0x4f000000, x});
  EXPECT_FROM_INT(u32_to_f32, u32, kU32Max, {0x4f800000, x}, {0x4f7fffff, x}, {0x4f7fffff, x},
                  {0x4f800000, x}, {0x4f800000, x});
  EXPECT_FROM_INT(u64_to_f32, u32, 0x8000008000000000ull, {0x5f000000, x}, {0x5f000000, x},
                  {0x5f000000, x}, {0x5f000001, x}, {0x5f000001, x});
  EXPECT_FROM_INT(u64_to_f32, u32, kU64Max, {0x5f800000, x}, {0x5f7fffff, x}, {0x5f7fffff, x},
                  {0x5f800000, x}, {0x5f800000, x});
  EXPECT_FROM_INT(i64_to_f32, u32, kI64Min + 1, {0xdf000000, x}, {0xdeffffff, x},
                  {0xdf000000, x}, {0xdeffffff, x}, {0xdf000000, x});
  EXPECT_FROM_INT_ALL(i64_to_f32, u32, kI64Min, 0xdf000000u, 0);

  EXPECT_FROM_INT_ALL(i32_to_f64, u64, kI32Min, D(-2147483648.0), 0);
  EXPECT_FROM_INT_ALL(i32_to_f64, u64, -7, D(-7.0), 0);
  EXPECT_FROM_INT_ALL(u32_to_f64, u64, kU32Max, D(4294967295.0), 0);
  EXPECT_FROM_INT_ALL(i64_to_f64, u64, kI64Min, D(-0x1p63), 0);
  EXPECT_FROM_INT_ALL(i64_to_f64, u64, (i64(1) << 53), D(0x1p53), 0);
  const u64 t53 = D(0x1p53), t53u = D(0x1p53) + 1;
  EXPECT_FROM_INT(i64_to_f64, u64, (i64(1) << 53) + 1, {t53, x}, {t53, x}, {t53, x}, {t53u, x},
                  {t53u, x});
  EXPECT_FROM_INT(i64_to_f64, u64, -(i64(1) << 53) - 1, {t53 | Double::kSign, x},
                  {t53 | Double::kSign, x}, {t53u | Double::kSign, x}, {t53 | Double::kSign, x},
                  {t53u | Double::kSign, x});
  EXPECT_FROM_INT(i64_to_f64, u64, (i64(1) << 53) + 3, {t53 + 2, x}, {t53 + 1, x}, {t53 + 1, x},
                  {t53 + 2, x}, {t53 + 2, x});
  EXPECT_FROM_INT(i64_to_f64, u64, kI64Max, {D(0x1p63), x}, {D(0x1p63) - 1, x},
                  {D(0x1p63) - 1, x}, {D(0x1p63), x}, {D(0x1p63), x});
  EXPECT_FROM_INT(u64_to_f64, u64, kU64Max, {D(0x1p64), x}, {D(0x1p64) - 1, x},
                  {D(0x1p64) - 1, x}, {D(0x1p64), x}, {D(0x1p64), x});
  EXPECT_FROM_INT(u64_to_f64, u64, 0x8000000000000400ull, {D(0x1p63), x}, {D(0x1p63), x},
                  {D(0x1p63), x}, {D(0x1p63) + 1, x}, {D(0x1p63) + 1, x});
}

TEST(FpuConvert, F64ToF32) {
  const u32 u = kUF | kNX, o = kOF | kNX, x = kNX;
  const u32 inf = 0x7f800000, mx = 0x7f7fffff, mn = 0x00800000, mxs = 0x007fffff;
  auto check = [](u64 a, const std::array<IntWant<u32>, 5>& want) {
    return CheckFromInt<u32>("f64_to_f32", f64_to_f32, a, want);
  };
  auto same = [](u32 v, u32 f) { return AllModes<u32>(v, f); };
  EXPECT_TRUE(check(D(1.0), same(0x3f800000, 0)));
  EXPECT_TRUE(check(D(-0.0), same(0x80000000, 0)));
  EXPECT_TRUE(check(D(INFINITY), same(inf, 0)));
  EXPECT_TRUE(check(D(-INFINITY), same(0xff800000, 0)));
  EXPECT_TRUE(check(0x7ff0000000000001ull, same(kCanonicalNaN32, kNV)));
  EXPECT_TRUE(check(0xfff8000000000123ull, same(kCanonicalNaN32, 0)));
  EXPECT_TRUE(check(D(0x1p-149), same(1, 0)));
  EXPECT_TRUE(check(D(0x1p-127), same(0x00400000, 0)));
  EXPECT_TRUE(check(D(0x1.fffffep127), same(mx, 0)));
  // Rounding to a subnormal, with ties.
  EXPECT_TRUE(check(D(0x1p-150), {{{0, u}, {0, u}, {0, u}, {1, u}, {1, u}}}));
  EXPECT_TRUE(check(D(-0x1p-150), {{{0x80000000, u}, {0x80000000, u}, {0x80000001, u},
                                     {0x80000000, u}, {0x80000001, u}}}));
  EXPECT_TRUE(check(D(0x1p-151), {{{0, u}, {0, u}, {0, u}, {1, u}, {0, u}}}));
  EXPECT_TRUE(check(D(0x1p-200), {{{0, u}, {0, u}, {0, u}, {1, u}, {0, u}}}));
  EXPECT_TRUE(check(D(0x1.8p-149), {{{2, u}, {1, u}, {1, u}, {2, u}, {2, u}}}));
  EXPECT_TRUE(check(D(0x1.000002p-127),  // 2^-127 + 2^-150: a tie on the subnormal grid
                    {{{0x00400000, u}, {0x00400000, u}, {0x00400000, u}, {0x00400001, u},
                      {0x00400001, u}}}));
  EXPECT_TRUE(check(D(0x1.000006p-127),  // 2^-127 + 3 * 2^-150: a tie, even neighbour above
                    {{{0x00400002, u}, {0x00400001, u}, {0x00400001, u}, {0x00400002, u},
                      {0x00400002, u}}}));
  EXPECT_TRUE(check(D(0x1.000001p-127),  // a quarter of the subnormal ulp above
                    {{{0x00400000, u}, {0x00400000, u}, {0x00400000, u}, {0x00400001, u},
                      {0x00400000, u}}}));
  // Tininess after rounding at the subnormal/normal boundary.
  EXPECT_TRUE(check(D(0x1.fffffep-127), {{{mn, u}, {mxs, u}, {mxs, u}, {mn, u}, {mn, u}}}));
  EXPECT_TRUE(check(D(0x1.ffffffp-127), {{{mn, x}, {mxs, u}, {mxs, u}, {mn, x}, {mn, x}}}));
  // Overflow.
  EXPECT_TRUE(check(D(0x1.ffffffp127), {{{inf, o}, {mx, x}, {mx, x}, {inf, o}, {inf, o}}}));
  EXPECT_TRUE(check(D(0x1.fffffe8p127), {{{mx, x}, {mx, x}, {mx, x}, {inf, o}, {mx, x}}}));
  EXPECT_TRUE(check(D(0x1p128), {{{inf, o}, {mx, o}, {mx, o}, {inf, o}, {inf, o}}}));
  EXPECT_TRUE(check(D(-0x1p128), {{{0xff800000, o}, {0xff7fffff, o}, {0xff800000, o},
                                    {0xff7fffff, o}, {0xff800000, o}}}));
  EXPECT_TRUE(check(D(0x1.fffffffffffffp1023), {{{inf, o}, {mx, o}, {mx, o}, {inf, o}, {inf, o}}}));
  // Ties in the normal range.
  EXPECT_TRUE(check(D(0x1.000001p0), {{{0x3f800000, x}, {0x3f800000, x}, {0x3f800000, x},
                                        {0x3f800001, x}, {0x3f800001, x}}}));
  EXPECT_TRUE(check(D(0x1.000003p0), {{{0x3f800002, x}, {0x3f800001, x}, {0x3f800001, x},
                                        {0x3f800002, x}, {0x3f800002, x}}}));
}

TEST(FpuConvert, F32ToF64) {
  const std::pair<u32, u64> exact[] = {
      {0x00000001, D(0x1p-149)},       {0x807fffff, D(-0x1.fffffcp-127)},
      {0x7f7fffff, D(0x1.fffffep127)}, {0x80000000, D(-0.0)},
      {0x7f800000, D(INFINITY)},       {0x3eaaaaab, D(0x1.555556p-2)},
  };
  for (auto [a, want] : exact) {
    u32 f = 0;
    EXPECT_EQ(f32_to_f64(a, f), want) << Hex(a);
    EXPECT_EQ(f, 0u) << Hex(a);
  }
  u32 f = 0;
  EXPECT_EQ(f32_to_f64(0x7f800001, f), kCanonicalNaN64);
  EXPECT_EQ(f, kNV);
  f = 0;
  EXPECT_EQ(f32_to_f64(0xffc00123, f), kCanonicalNaN64);
  EXPECT_EQ(f, 0u);
}

TEST(FpuHandExact, CorrectlyRoundedConstants) {
  // sqrt(2), sqrt(max), sqrt of a subnormal, 1/3 in every mode (computed with mpmath).
  EXPECT_TRUE(CheckModes<Double>(Op::kSqrt, D(2.0), 0, 0,
                                 {{{0x3ff6a09e667f3bcd, kNX}, {0x3ff6a09e667f3bcc, kNX},
                                   {0x3ff6a09e667f3bcc, kNX}, {0x3ff6a09e667f3bcd, kNX},
                                   {0x3ff6a09e667f3bcd, kNX}}}));
  EXPECT_TRUE(CheckModes<Single>(Op::kSqrt, F(2.0f), 0, 0,
                                 {{{0x3fb504f3, kNX}, {0x3fb504f3, kNX}, {0x3fb504f3, kNX},
                                   {0x3fb504f4, kNX}, {0x3fb504f3, kNX}}}));
  EXPECT_TRUE(CheckModes<Double>(Op::kSqrt, kMax<Double>, 0, 0,
                                 {{{0x5fefffffffffffff, kNX}, {0x5fefffffffffffff, kNX},
                                   {0x5fefffffffffffff, kNX}, {0x5ff0000000000000, kNX},
                                   {0x5fefffffffffffff, kNX}}}));
  EXPECT_TRUE(CheckModes<Single>(Op::kSqrt, kMax<Single>, 0, 0,
                                 {{{0x5f7fffff, kNX}, {0x5f7fffff, kNX}, {0x5f7fffff, kNX},
                                   {0x5f800000, kNX}, {0x5f7fffff, kNX}}}));
  EXPECT_TRUE(CheckModes<Single>(Op::kSqrt, 1, 0, 0,
                                 {{{0x1a3504f3, kNX}, {0x1a3504f3, kNX}, {0x1a3504f3, kNX},
                                   {0x1a3504f4, kNX}, {0x1a3504f3, kNX}}}));
  EXPECT_TRUE(CheckModes<Double>(Op::kSqrt, 3, 0, 0,
                                 {{{0x1e6bb67ae8584caa, kNX}, {0x1e6bb67ae8584caa, kNX},
                                   {0x1e6bb67ae8584caa, kNX}, {0x1e6bb67ae8584cab, kNX},
                                   {0x1e6bb67ae8584caa, kNX}}}));
  EXPECT_TRUE(CheckModes<Double>(Op::kDiv, D(1.0), D(3.0), 0,
                                 {{{0x3fd5555555555555, kNX}, {0x3fd5555555555555, kNX},
                                   {0x3fd5555555555555, kNX}, {0x3fd5555555555556, kNX},
                                   {0x3fd5555555555555, kNX}}}));
  EXPECT_TRUE(CheckModes<Double>(Op::kDiv, D(-1.0), D(3.0), 0,
                                 {{{0xbfd5555555555555, kNX}, {0xbfd5555555555555, kNX},
                                   {0xbfd5555555555556, kNX}, {0xbfd5555555555555, kNX},
                                   {0xbfd5555555555555, kNX}}}));
  EXPECT_TRUE(CheckModes<Single>(Op::kDiv, F(1.0f), F(3.0f), 0,
                                 {{{0x3eaaaaab, kNX}, {0x3eaaaaaa, kNX}, {0x3eaaaaaa, kNX},
                                   {0x3eaaaaab, kNX}, {0x3eaaaaab, kNX}}}));
  EXPECT_TRUE(CheckModes<Single>(Op::kDiv, F(-1.0f), F(3.0f), 0,
                                 {{{0xbeaaaaab, kNX}, {0xbeaaaaaa, kNX}, {0xbeaaaaab, kNX},
                                   {0xbeaaaaaa, kNX}, {0xbeaaaaab, kNX}}}));
}

// ---------------------------------------------------------------------------------------------
// 2. differential testing against the host FPU

constexpr int kFeModes[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

u32 FromFe(int ex) {
  u32 f = 0;
  if (ex & FE_INEXACT) f |= kNX;
  if (ex & FE_UNDERFLOW) f |= kUF;
  if (ex & FE_OVERFLOW) f |= kOF;
  if (ex & FE_DIVBYZERO) f |= kDZ;
  if (ex & FE_INVALID) f |= kNV;
  return f;
}

template <class V>
struct HostResult {
  V value;
  u32 flags;
};

// The host computations. -frounding-math keeps GCC from folding or moving FP operations on the
// assumption of round-to-nearest, and the volatile operands pin the single operation between
// fesetround/feclearexcept and fetestexcept: the loads come after the calls, the store before.
#if defined(__clang__)
#define RVKVM_HOST_FN __attribute__((noinline))
#define RVKVM_FENV_ACCESS _Pragma("STDC FENV_ACCESS ON")
#else
#define RVKVM_HOST_FN __attribute__((noinline, optimize("-frounding-math")))
#define RVKVM_FENV_ACCESS
#endif

template <class T>
RVKVM_HOST_FN HostResult<typename T::U> HostArith(Op op, typename T::U a, typename T::U b,
                                                  typename T::U c, int fe_mode) {
  RVKVM_FENV_ACCESS
  using H = typename T::H;
  volatile H va = std::bit_cast<H>(a), vb = std::bit_cast<H>(b), vc = std::bit_cast<H>(c);
  std::fesetround(fe_mode);
  std::feclearexcept(FE_ALL_EXCEPT);
  H r;
  switch (op) {
    case Op::kAdd: r = va + vb; break;
    case Op::kSub: r = va - vb; break;
    case Op::kMul: r = va * vb; break;
    case Op::kDiv: r = va / vb; break;
    case Op::kSqrt: r = std::sqrt(H(va)); break;
    case Op::kFmadd: r = std::fma(H(va), H(vb), H(vc)); break;
    case Op::kFmsub: r = std::fma(H(va), H(vb), -H(vc)); break;
    case Op::kFnmsub: r = std::fma(-H(va), H(vb), H(vc)); break;
    default: r = std::fma(-H(va), H(vb), -H(vc)); break;
  }
  volatile H vr = r;
  const int ex = std::fetestexcept(FE_ALL_EXCEPT);
  std::fesetround(FE_TONEAREST);
  return {std::bit_cast<typename T::U>(H(vr)), FromFe(ex)};
}

// llrint rounds in the current mode (cvtsd2si/cvtss2si); out of range it raises FE_INVALID.
template <class T>
RVKVM_HOST_FN HostResult<i64> HostToI64(typename T::U a, int fe_mode) {
  RVKVM_FENV_ACCESS
  using H = typename T::H;
  volatile H va = std::bit_cast<H>(a);
  std::fesetround(fe_mode);
  std::feclearexcept(FE_ALL_EXCEPT);
  volatile long long r = std::llrint(H(va));
  const int ex = std::fetestexcept(FE_ALL_EXCEPT);
  std::fesetround(FE_TONEAREST);
  return {i64(r), FromFe(ex)};
}

enum class IntKind { kI32, kU32, kI64, kU64 };
const char* IntKindName(IntKind k) {
  static const char* const kNames[] = {"i32", "u32", "i64", "u64"};
  return kNames[int(k)];
}

template <class T>
RVKVM_HOST_FN HostResult<typename T::U> HostFromInt(IntKind kind, u64 v, int fe_mode) {
  RVKVM_FENV_ACCESS
  using H = typename T::H;
  volatile u64 vv = v;
  std::fesetround(fe_mode);
  std::feclearexcept(FE_ALL_EXCEPT);
  H r;
  switch (kind) {
    case IntKind::kI32: r = H(i32(u32(vv))); break;
    case IntKind::kU32: r = H(u32(vv)); break;
    case IntKind::kI64: r = H(i64(vv)); break;
    default: r = H(u64(vv)); break;
  }
  volatile H vr = r;
  const int ex = std::fetestexcept(FE_ALL_EXCEPT);
  std::fesetround(FE_TONEAREST);
  return {std::bit_cast<typename T::U>(H(vr)), FromFe(ex)};
}

RVKVM_HOST_FN HostResult<u32> HostF64ToF32(u64 a, int fe_mode) {
  RVKVM_FENV_ACCESS
  volatile double va = std::bit_cast<double>(a);
  std::fesetround(fe_mode);
  std::feclearexcept(FE_ALL_EXCEPT);
  volatile float vr = float(va);
  const int ex = std::fetestexcept(FE_ALL_EXCEPT);
  std::fesetround(FE_TONEAREST);
  return {std::bit_cast<u32>(float(vr)), FromFe(ex)};
}

RVKVM_HOST_FN HostResult<u64> HostF32ToF64(u32 a) {
  RVKVM_FENV_ACCESS
  volatile float va = std::bit_cast<float>(a);
  std::feclearexcept(FE_ALL_EXCEPT);
  volatile double vr = double(va);
  const int ex = std::fetestexcept(FE_ALL_EXCEPT);
  return {std::bit_cast<u64>(double(vr)), FromFe(ex)};
}

// Guards against a vacuous comparison: the host functions really round in the requested mode
// and really report flags.
TEST(FpuHostReference, HonorsRoundingModeAndFlags) {
  const u64 one = D(1.0), tiny = D(0x1p-60);
  EXPECT_EQ(HostArith<Double>(Op::kAdd, one, tiny, 0, FE_TONEAREST).value, one);
  EXPECT_EQ(HostArith<Double>(Op::kAdd, one, tiny, 0, FE_UPWARD).value, one + 1);
  EXPECT_EQ(HostArith<Double>(Op::kAdd, one, tiny, 0, FE_UPWARD).flags, kNX);
  EXPECT_EQ(HostArith<Double>(Op::kSub, one, tiny, 0, FE_TOWARDZERO).value,
            D(0x1.fffffffffffffp-1));
  EXPECT_EQ(HostArith<Single>(Op::kFmadd, F(1.0f), F(1.0f), F(0x1p-30f), FE_UPWARD).value,
            F(1.0f) + 1);
  EXPECT_EQ(HostArith<Double>(Op::kDiv, one, 0, 0, FE_TONEAREST).flags, kDZ);
  EXPECT_EQ(HostArith<Double>(Op::kMul, 1, D(0.5), 0, FE_TONEAREST).flags, kUF | kNX);
  EXPECT_EQ(HostArith<Double>(Op::kMul, kMax<Double>, D(2.0), 0, FE_DOWNWARD).value,
            kMax<Double>);
  EXPECT_EQ(HostToI64<Double>(D(2.5), FE_UPWARD).value, 3);
  EXPECT_EQ(HostToI64<Single>(F(-2.5f), FE_DOWNWARD).value, -3);
  EXPECT_EQ(HostToI64<Double>(D(0x1p70), FE_UPWARD).flags, kNV);
  EXPECT_EQ(HostFromInt<Single>(IntKind::kU64, kU64Max, FE_TOWARDZERO).value, 0x5f7fffffu);
  EXPECT_EQ(HostF64ToF32(D(0x1p-150), FE_UPWARD).value, 1u);
  EXPECT_EQ(HostF64ToF32(D(0x1p-150), FE_UPWARD).flags, kUF | kNX);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

// ---- random operands

class Rng {
 public:
  explicit Rng(u64 seed) : g_(seed) {}
  u64 Bits() { return g_(); }
  u64 Below(u64 n) { return g_() % n; }
  int Range(int lo, int hi) { return lo + int(Below(u64(hi - lo + 1))); }
  bool Chance(unsigned percent) { return Below(100) < percent; }

 private:
  std::mt19937_64 g_;
};

u64 BaseSeed() {
  static const u64 seed = [] {
    const char* env = std::getenv("RVKVM_FPU_SEED");
    return env ? std::strtoull(env, nullptr, 0) : 0x5eed0f9u;
  }();
  return seed;
}

// Iteration multiplier: RVKVM_FPU_DIFF_SCALE overrides; sanitizer builds run a tenth.
double Scale() {
  static const double scale = [] {
    if (const char* env = std::getenv("RVKVM_FPU_DIFF_SCALE")) return std::atof(env);
#if defined(__SANITIZE_ADDRESS__)
    return 0.1;
#else
    return 1.0;
#endif
  }();
  return scale;
}
int Iterations(int base) { return std::max(1, int(base * Scale())); }

template <class T>
typename T::U RandFrac(Rng& r) {
  using U = typename T::U;
  const U all = kFracMask<T>;
  const int f = T::kFracBits;
  const U x = U(r.Bits()) & all;
  switch (r.Below(9)) {
    case 0:
    case 1:
    case 2: return x;
    case 3: {  // sparse
      U m = 0;
      for (int k = r.Range(1, 3); k > 0; --k) m |= U(1) << r.Below(f);
      return m;
    }
    case 4: {  // dense
      U m = all;
      for (int k = r.Range(1, 3); k > 0; --k) m &= ~(U(1) << r.Below(f));
      return m;
    }
    case 5: return x & ~((U(1) << r.Below(f)) - 1);  // short significand: trailing zeros
    case 6: return x | ((U(1) << r.Below(f)) - 1);   // trailing ones
    case 7: {  // ...1000 tail: a potential tie at some position
      const int k = r.Range(1, f);
      const U low = (U(1) << k) - 1;
      return (x & ~low) | (U(1) << (k - 1));
    }
    default: return r.Chance(50) ? 0 : all;
  }
}

template <class T>
int RandBiasedExp(Rng& r) {
  switch (r.Below(10)) {
    case 0: return 0;                                                   // subnormal
    case 1: return r.Range(1, 3);                                       // near the normal edge
    case 2: return r.Range(T::kExpField - 4, T::kExpField - 1);         // near overflow
    case 3:
    case 4:
    case 5: return r.Range(T::kBias - T::kPrecision - 2, T::kBias + T::kPrecision + 2);
    default: return r.Range(0, T::kExpField - 1);
  }
}

// A finite value with unbiased exponent `e` (clamped into the format; below emin it becomes a
// subnormal with a random fraction), random sign.
template <class T>
typename T::U WithExp(Rng& r, int e) {
  const int biased = std::clamp(e + T::kBias, 0, T::kExpField - 1);
  return Bits<T>(r.Chance(50), biased, RandFrac<T>(r));
}

template <class T>
typename T::U RandSpecial(Rng& r) {
  using U = typename T::U;
  U v;
  switch (r.Below(11)) {
    case 0: v = 0; break;
    case 1: v = T::kInf; break;
    case 2: v = T::kInf | T::kQuiet | (U(r.Bits()) & (T::kQuiet - 1)); break;
    case 3: v = T::kInf | std::max<U>(1, U(r.Bits()) & (T::kQuiet - 1)); break;
    case 4: v = kMax<T>; break;
    case 5: v = kMinNorm<T>; break;
    case 6: v = kMinSub<T>; break;
    case 7: v = kMaxSub<T>; break;
    case 8: v = kOne<T>; break;
    case 9: v = kMax<T> - U(r.Below(4)); break;
    default: v = U(r.Below(4)); break;
  }
  return r.Chance(50) ? v | T::kSign : v;
}

template <class T>
typename T::U RandValue(Rng& r) {
  if (r.Chance(5)) return RandSpecial<T>(r);
  return Bits<T>(r.Chance(50), RandBiasedExp<T>(r), RandFrac<T>(r));
}

template <class T>
typename T::U RandBits(Rng& r) {
  return typename T::U(r.Bits());
}

// floor(log2|x|) for finite nonzero x, else 0.
template <class T>
int Log2(typename T::U x) {
  const auto h = AsHost<T>(x);
  return (std::isfinite(h) && h != 0) ? std::ilogb(h) : 0;
}

// Operands for a product or quotient aimed at the underflow or overflow threshold, or with a
// subnormal operand.
template <class T>
void MulDivOperands(Rng& r, bool div, typename T::U& a, typename T::U& b) {
  const int p = T::kPrecision, emin = 1 - T::kBias, emax = T::kBias;
  int target;  // unbiased exponent aimed at for the result
  switch (r.Below(6)) {
    case 0: return;  // independent
    case 1: target = emin + r.Range(-p - 2, 2); break;
    case 2: target = emax + r.Range(-1, 1); break;
    case 3:
      a = WithExp<T>(r, emin - r.Range(0, p));
      target = r.Range(-p, p);
      break;
    case 4:
      a = WithExp<T>(r, r.Range(-4, 4));
      target = r.Range(-8, 8);
      break;
    default: target = r.Range(emin - 2 * p, emax + 2); break;
  }
  const int ea = Log2<T>(a);
  b = WithExp<T>(r, div ? ea - target : target - ea);
}

template <class T>
void RandOperands(Rng& r, Op op, typename T::U& a, typename T::U& b, typename T::U& c) {
  using U = typename T::U;
  const int p = T::kPrecision, emin = 1 - T::kBias;
  a = RandValue<T>(r);
  b = RandValue<T>(r);
  c = RandValue<T>(r);
  if (r.Chance(3)) {  // uniformly random encodings
    a = RandBits<T>(r);
    b = RandBits<T>(r);
    c = RandBits<T>(r);
    return;
  }
  switch (op) {
    case Op::kAdd:
    case Op::kSub: {
      const int ea = Log2<T>(a);
      switch (r.Below(6)) {
        case 0: break;
        case 1: b = WithExp<T>(r, ea + r.Range(-2, 2)); break;          // cancellation, carries
        case 2: b = WithExp<T>(r, ea - r.Range(p - 3, p + 3)); break;  // b in the rounding bits
        case 3: {  // b = -a give or take a few ulps: massive cancellation
          const U d = U(r.Below(5));
          b = r.Chance(50) ? a + d : a - d;
          if (op == Op::kAdd) b ^= T::kSign;
          break;
        }
        case 4:
          a = WithExp<T>(r, emin - r.Range(0, 2));
          b = WithExp<T>(r, emin - r.Range(0, 2));
          break;
        default: b = WithExp<T>(r, ea + r.Range(-3 * p, 3 * p)); break;
      }
      break;
    }
    case Op::kMul: MulDivOperands<T>(r, false, a, b); break;
    case Op::kDiv: MulDivOperands<T>(r, true, a, b); break;
    case Op::kSqrt:
      switch (r.Below(5)) {
        case 0: break;
        case 1: a &= ~T::kSign; break;
        case 2: {  // exact squares and their neighbours
          const U half_frac = RandFrac<T>(r) & ~((U(1) << (T::kFracBits / 2 + 1)) - 1);
          const U root = Bits<T>(false, r.Range(T::kBias / 2, T::kBias + T::kBias / 2), half_frac);
          a = FromHost<T>(AsHost<T>(root) * AsHost<T>(root)) + U(r.Range(-1, 1));
          break;
        }
        case 3: a = Bits<T>(false, 0, RandFrac<T>(r)); break;
        default: a = WithExp<T>(r, r.Range(-3, 3)) & ~T::kSign; break;
      }
      break;
    default: {  // fused multiply-add
      if (r.Chance(60)) MulDivOperands<T>(r, false, a, b);
      const int pe = Log2<T>(a) + Log2<T>(b);
      switch (r.Below(8)) {
        case 0: break;
        case 1: c = WithExp<T>(r, pe + r.Range(-2, 2)); break;
        case 2: {  // c = -(a*b) give or take a few ulps: massive cancellation
          const U prod = FromHost<T>(AsHost<T>(a) * AsHost<T>(b));
          c = (prod + U(r.Range(-2, 2))) ^ (r.Chance(50) ? T::kSign : 0);
          break;
        }
        case 3: c = WithExp<T>(r, pe - r.Range(p - 2, 2 * p + 3)); break;
        case 4: c = WithExp<T>(r, pe + r.Range(p - 2, 2 * p + 3)); break;
        case 5: c = Bits<T>(r.Chance(50), r.Range(0, 1), RandFrac<T>(r)); break;
        case 6: c = r.Chance(50) ? T::kSign : 0; break;
        default: c = WithExp<T>(r, pe + r.Range(-p, p)); break;
      }
      break;
    }
  }
  if (op != Op::kSqrt && r.Chance(50)) std::swap(a, b);
}

// ---- exact RMM reference

// Error-free sum (Knuth): s + e == a + b exactly, in round-to-nearest without overflow.
template <class W>
void TwoSum(W a, W b, W& s, W& e) {
  s = a + b;
  const W bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// The exact midpoint between lo and hi, adjacent values of T with lo finite; hi is infinite
// when lo is the largest finite number, and the midpoint is then max + ulp(max)/2.
template <class T>
typename T::W Midpoint(typename T::U lo, typename T::U hi) {
  using W = typename T::W;
  const W l = W(AsHost<T>(lo));
  W h;
  if ((hi & ~T::kSign) == T::kInf) {
    const W ulp = W(AsHost<T>(Pow2<T>(T::kBias - T::kPrecision + 1)));
    h = (lo & T::kSign) ? l - ulp : l + ulp;
  } else {
    h = W(AsHost<T>(hi));
  }
  return (l + h) / 2;  // both exact in W
}

// Whether the exact result of `op` equals `mid`. Every check is exact in W: products of two T
// values and of a midpoint (p + 1 bits) with a T value fit W's precision, sums go through TwoSum.
template <class T>
bool ExactResultIs(Op op, typename T::U a, typename T::U b, typename T::U c, typename T::W mid) {
  using W = typename T::W;
  const W A = W(AsHost<T>(a)), B = W(AsHost<T>(b)), C = W(AsHost<T>(c));
  W s, e;
  switch (op) {
    case Op::kAdd: TwoSum(A, B, s, e); return s == mid && e == 0;
    case Op::kSub: TwoSum(A, -B, s, e); return s == mid && e == 0;
    case Op::kMul: return A * B == mid;
    case Op::kDiv: return mid * B == A;
    case Op::kSqrt: return mid * mid == A;
    default: {
      const W prod = NegProduct(op) ? -(A * B) : A * B;
      TwoSum(prod, NegAddend(op) ? -C : C, s, e);
      return s == mid && e == 0;
    }
  }
}

// RMM from the host's RNE/RTZ/RDN/RUP results: RNE's result and flags, except at an exact tie,
// where the result is the one rounded away from zero. `is_tie(mid)` tells whether the exact
// result equals the midpoint `mid`.
template <class T, class TieFn>
Want<T> RmmFromHost(const HostResult<typename T::U> (&h)[4], TieFn is_tie, bool& tie) {
  Want<T> w{Canon<T>(h[kRNE].value), h[kRNE].flags};
  tie = false;
  if (T::IsNan(h[kRNE].value)) return w;
  const bool negative = h[kRNE].value & T::kSign;
  const typename T::U lo = h[kRTZ].value, hi = h[negative ? kRDN : kRUP].value;
  if (lo != hi && is_tie(Midpoint<T>(lo, hi))) {
    w.value = hi;
    tie = true;
  }
  return w;
}

template <class T>
bool InfTimesZero(typename T::U a, typename T::U b) {
  const auto x = AsHost<T>(a), y = AsHost<T>(b);
  return (std::isinf(x) && y == 0) || (x == 0 && std::isinf(y));
}

struct Stats {
  long cases = 0, nx = 0, uf = 0, of = 0, dz = 0, nv = 0, ties = 0;
  void Count(u32 f, bool tie) {
    ++cases;
    nx += (f & kNX) != 0;
    uf += (f & kUF) != 0;
    of += (f & kOF) != 0;
    dz += (f & kDZ) != 0;
    nv += (f & kNV) != 0;
    ties += tie;
  }
  void Print(const std::string& what, double seconds) const {
    std::printf("[    stats ] %-14s %8ld cases (RNE flags: NX %ld UF %ld OF %ld DZ %ld NV %ld; "
                "RMM ties %ld) %.2fs\n",
                what.c_str(), cases, nx, uf, of, dz, nv, ties, seconds);
  }
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

constexpr int kMaxFailures = 10;

template <class T>
Stats DiffArith(Op op, int iterations) {
  using U = typename T::U;
  Rng r(BaseSeed() ^ (u64(op) + 1) * 0x9e3779b97f4a7c15ull ^ u64(T::kPrecision) << 40);
  Stats st;
  int failures = 0;
  for (int i = 0; i < iterations && failures < kMaxFailures; ++i) {
    U a, b, c;
    RandOperands<T>(r, op, a, b, c);
    HostResult<U> h[4];
    for (int m = 0; m < 4; ++m) {
      h[m] = HostArith<T>(op, a, b, c, kFeModes[m]);
      // RISC-V raises NV for inf * 0 even when the addend is a quiet NaN; x86 does not have to.
      if (IsFma(op) && InfTimesZero<T>(a, b)) h[m].flags |= kNV;
    }
    Want<T> want[5];
    for (int m = 0; m < 4; ++m) want[m] = {Canon<T>(h[m].value), h[m].flags};
    bool tie;
    want[kRMM] = RmmFromHost<T>(
        h, [&](typename T::W mid) { return ExactResultIs<T>(op, a, b, c, mid); }, tie);
    st.Count(h[kRNE].flags, tie);
    for (unsigned rm : kModes) {
      for (bool soft_path : {true, false}) {
        u32 f = 0;
        const U got = Run<T>(soft_path, op, a, b, c, rm, f);
        if (got != want[rm].value || f != want[rm].flags) {
          ADD_FAILURE() << Describe<T>(op, a, b, c, rm, soft_path) << ": got " << Hex(got) << " "
                        << FlagsStr(f) << ", want " << Hex(want[rm].value) << " "
                        << FlagsStr(want[rm].flags) << (rm == kRMM && tie ? " (tie)" : "");
          ++failures;
        }
      }
    }
  }
  return st;
}

class FpuDifferentialArith : public ::testing::TestWithParam<Op> {};

TEST_P(FpuDifferentialArith, F32) {
  const auto start = std::chrono::steady_clock::now();
  const Stats st = DiffArith<Single>(GetParam(), Iterations(IsFma(GetParam()) ? 75000 : 150000));
  st.Print(std::string("f32 ") + OpName(GetParam()), Seconds(start));
  if (Scale() >= 1 && GetParam() != Op::kSqrt) {
    // The generator does reach the interesting cases. (Sums are never inexact and tiny: two
    // values on the subnormal grid add exactly there.)
    if (GetParam() != Op::kAdd && GetParam() != Op::kSub) {
      EXPECT_GT(st.uf, 0);
    }
    EXPECT_GT(st.of, 0);
    EXPECT_GT(st.nv, 0);
    if (GetParam() != Op::kDiv) {
      EXPECT_GT(st.ties, 0);
    }
  }
}

TEST_P(FpuDifferentialArith, F64) {
  const auto start = std::chrono::steady_clock::now();
  const Stats st = DiffArith<Double>(GetParam(), Iterations(IsFma(GetParam()) ? 75000 : 150000));
  st.Print(std::string("f64 ") + OpName(GetParam()), Seconds(start));
  if (Scale() >= 1 && GetParam() != Op::kSqrt) {
    if (GetParam() != Op::kAdd && GetParam() != Op::kSub) {
      EXPECT_GT(st.uf, 0);
    }
    EXPECT_GT(st.of, 0);
    EXPECT_GT(st.nv, 0);
    if (GetParam() != Op::kDiv) {
      EXPECT_GT(st.ties, 0);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, FpuDifferentialArith,
                         ::testing::Values(Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kSqrt,
                                           Op::kFmadd, Op::kFmsub, Op::kFnmsub, Op::kFnmadd),
                         [](const ::testing::TestParamInfo<Op>& info) {
                           return std::string(OpName(info.param));
                         });

// ---- conversions

template <class Int>
u64 Widen(Int v) {
  if constexpr (std::is_signed_v<Int>) {
    return u64(i64(v));
  } else {
    return u64(v);
  }
}

struct IntResult {
  u64 value;  // sign-extended for signed destinations
  u32 flags;
};

// Reference for float -> Int in mode rm. x is the operand widened exactly to double. For the
// host-supported modes it is built from llrint under that mode (`host`), adding RISC-V's
// saturation; for RMM from std::round (which rounds half away from zero, exactly).
template <class Int>
IntResult RefToInt(double x, unsigned rm, const HostResult<i64>& host) {
  constexpr Int kLo = std::numeric_limits<Int>::min(), kHi = std::numeric_limits<Int>::max();
  const auto saturate = [](bool negative) {
    return IntResult{Widen<Int>(negative ? kLo : kHi), kNV};
  };
  if (std::isnan(x)) return saturate(false);
  if (rm == kRMM) {
    const double r = std::round(x);
    if (!(r >= double(kLo) && r < double(kHi) + 1.0)) return saturate(r < 0);
    return {Widen<Int>(Int(r)), r != x ? kNX : 0u};
  }
  if constexpr (std::is_same_v<Int, u64>) {
    if (x >= 0x1p63) {  // beyond llrint; every such value is an integer
      if (x >= 0x1p64) return saturate(false);
      return {u64(x), 0};
    }
  }
  if (host.flags & kNV) return saturate(std::signbit(x));
  const i64 v = host.value;
  if (v < i64(kLo) || (v > 0 && u64(v) > u64(kHi))) return saturate(v < 0);
  return {Widen<Int>(Int(v)), host.flags};
}

template <class T>
typename T::U RandForToInt(Rng& r) {
  using U = typename T::U;
  switch (r.Below(6)) {
    case 0: return RandValue<T>(r);
    case 1: return WithExp<T>(r, r.Range(-2, 65));
    case 2: {  // k + 1/4, 1/2 or 3/4
      const int bits = r.Range(1, T::kPrecision - 3);
      const double v = double(r.Bits() >> (64 - bits)) + 0.25 * r.Range(1, 3);
      return V<T>(r.Chance(50) ? -v : v);
    }
    case 3: {  // around the saturation thresholds
      static const double kEdges[] = {0x1p31, 0x1p32, 0x1p63, 0x1p64, 1.0, 0.5};
      const double e = kEdges[r.Below(6)];
      return V<T>(r.Chance(50) ? -e : e) + U(r.Range(-3, 3));
    }
    case 4: return WithExp<T>(r, r.Range(-30, 0));
    default: return RandBits<T>(r);
  }
}

template <class T>
Stats DiffToInt(int iterations) {
  using U = typename T::U;
  Rng r(BaseSeed() ^ 0x70696e74ull ^ u64(T::kPrecision) << 40);
  Stats st;
  int failures = 0;
  for (int i = 0; i < iterations && failures < kMaxFailures; ++i) {
    const U a = RandForToInt<T>(r);
    const double x = double(AsHost<T>(a));
    HostResult<i64> h[4];
    for (int m = 0; m < 4; ++m) h[m] = HostToI64<T>(a, kFeModes[m]);
    st.Count(h[kRNE].flags, false);
    for (unsigned rm : kModes) {
      const HostResult<i64>& hr = h[rm < 4 ? rm : 0];
      auto check = [&](const char* name, auto fn, auto tag) {
        using Int = decltype(tag);
        const IntResult want = RefToInt<Int>(x, rm, hr);
        u32 f = 0;
        const u64 got = Widen<Int>(fn(a, rm, f));
        if (got != want.value || f != want.flags) {
          ADD_FAILURE() << T::kName << "_to_" << name << "(" << Hex(a) << ") " << ModeName(rm)
                        << ": got " << Hex(got) << " " << FlagsStr(f) << ", want "
                        << Hex(want.value) << " " << FlagsStr(want.flags);
          ++failures;
        }
      };
      check("i32", T::ToI32, i32{});
      check("u32", T::ToU32, u32{});
      check("i64", T::ToI64, i64{});
      check("u64", T::ToU64, u64{});
    }
  }
  return st;
}

u64 RandInt(Rng& r, IntKind kind, int p) {
  const bool is64 = kind == IntKind::kI64 || kind == IntKind::kU64;
  const bool is_signed = kind == IntKind::kI32 || kind == IntKind::kI64;
  const int width = is64 ? 64 : 32;
  u64 v;
  switch (r.Below(6)) {
    case 0: v = r.Bits(); break;
    case 1: {
      const int len = r.Range(1, width);
      v = (r.Bits() >> (64 - len)) | (u64(1) << (len - 1));
      break;
    }
    case 2: {  // a tie or near-tie at the rounding position
      const int len = r.Range(std::min(p + 1, width), width);
      v = (r.Bits() >> (64 - len)) | (u64(1) << (len - 1));
      const int drop = len - p;
      if (drop > 0) {
        v = (v & ~((u64(1) << drop) - 1)) | (u64(1) << (drop - 1));
        if (r.Chance(30)) v += u64(r.Range(-1, 1));
      }
      break;
    }
    case 3:  // near a power of two
      v = (u64(1) << r.Range(std::min(p - 1, width - 1), width - 1)) + u64(r.Range(-3, 3));
      break;
    case 4: {
      static const u64 kEdges[] = {0, 1, ~0ull, 0x7fffffff, 0x80000000, 0xffffffff,
                                   0x7fffffffffffffff, 0x8000000000000000};
      v = kEdges[r.Below(8)];
      break;
    }
    default: v = r.Bits() >> (64 - r.Range(1, width)); break;
  }
  if (is_signed && r.Chance(50)) v = 0 - v;
  return is64 ? v : u64(u32(v));
}

template <class T>
typename T::U CallFromInt(IntKind kind, u64 v, unsigned rm, u32& f) {
  switch (kind) {
    case IntKind::kI32: return T::FromI32(i32(u32(v)), rm, f);
    case IntKind::kU32: return T::FromU32(u32(v), rm, f);
    case IntKind::kI64: return T::FromI64(i64(v), rm, f);
    default: return T::FromU64(v, rm, f);
  }
}

template <class T>
Stats DiffFromInt(int iterations) {
  using U = typename T::U;
  Rng r(BaseSeed() ^ 0x66696e74ull ^ u64(T::kPrecision) << 40);
  Stats st;
  int failures = 0;
  for (int i = 0; i < iterations && failures < kMaxFailures; ++i) {
    const IntKind kind = IntKind(r.Below(4));
    const u64 v = RandInt(r, kind, T::kPrecision);
    HostResult<U> h[4];
    for (int m = 0; m < 4; ++m) h[m] = HostFromInt<T>(kind, v, kFeModes[m]);
    const __float128 exact = kind == IntKind::kI32   ? __float128(i32(u32(v)))
                             : kind == IntKind::kI64 ? __float128(i64(v))
                                                     : __float128(v);
    Want<T> want[5];
    for (int m = 0; m < 4; ++m) want[m] = {h[m].value, h[m].flags};
    bool tie;
    want[kRMM] = RmmFromHost<T>(
        h, [&](typename T::W mid) { return exact == __float128(mid); }, tie);
    st.Count(h[kRNE].flags, tie);
    for (unsigned rm : kModes) {
      u32 f = 0;
      const U got = CallFromInt<T>(kind, v, rm, f);
      if (got != want[rm].value || f != want[rm].flags) {
        ADD_FAILURE() << IntKindName(kind) << "_to_" << T::kName << "(" << Hex(v) << ") "
                      << ModeName(rm) << ": got " << Hex(got) << " " << FlagsStr(f) << ", want "
                      << Hex(want[rm].value) << " " << FlagsStr(want[rm].flags);
        ++failures;
      }
    }
  }
  return st;
}

u64 RandForNarrowing(Rng& r) {
  switch (r.Below(6)) {
    case 0: return RandValue<Double>(r);
    case 1: return WithExp<Double>(r, r.Range(-152, -124));  // binary32 subnormals and edge
    case 2: return WithExp<Double>(r, r.Range(125, 129));    // binary32 overflow edge
    case 3: {  // a tie or near-tie at binary32's rounding position for normal results
      u64 v = WithExp<Double>(r, r.Range(-126, 127));
      v = (v & ~u64(0x1fffffff)) | 0x10000000;
      return v + u64(r.Range(-1, 1));
    }
    case 4: return WithExp<Double>(r, r.Range(-10, 10));
    default: return RandBits<Double>(r);
  }
}

Stats DiffF64ToF32(int iterations) {
  Rng r(BaseSeed() ^ 0x6e6172726f77ull);
  Stats st;
  int failures = 0;
  for (int i = 0; i < iterations && failures < kMaxFailures; ++i) {
    const u64 a = RandForNarrowing(r);
    HostResult<u32> h[4];
    for (int m = 0; m < 4; ++m) h[m] = HostF64ToF32(a, kFeModes[m]);
    Want<Single> want[5];
    for (int m = 0; m < 4; ++m) want[m] = {Canon<Single>(h[m].value), h[m].flags};
    bool tie;
    want[kRMM] = RmmFromHost<Single>(
        h, [&](double mid) { return std::bit_cast<double>(a) == mid; }, tie);
    st.Count(h[kRNE].flags, tie);
    for (unsigned rm : kModes) {
      u32 f = 0;
      const u32 got = f64_to_f32(a, rm, f);
      if (got != want[rm].value || f != want[rm].flags) {
        ADD_FAILURE() << "f64_to_f32(" << Hex(a) << ") " << ModeName(rm) << ": got " << Hex(got)
                      << " " << FlagsStr(f) << ", want " << Hex(want[rm].value) << " "
                      << FlagsStr(want[rm].flags) << (rm == kRMM && tie ? " (tie)" : "");
        ++failures;
      }
    }
  }
  return st;
}

TEST(FpuDifferentialConvert, FloatToInt) {
  auto start = std::chrono::steady_clock::now();
  DiffToInt<Single>(Iterations(100000)).Print("f32 to int", Seconds(start));
  start = std::chrono::steady_clock::now();
  DiffToInt<Double>(Iterations(100000)).Print("f64 to int", Seconds(start));
}

TEST(FpuDifferentialConvert, IntToFloat) {
  auto start = std::chrono::steady_clock::now();
  const Stats s32 = DiffFromInt<Single>(Iterations(100000));
  s32.Print("int to f32", Seconds(start));
  start = std::chrono::steady_clock::now();
  const Stats s64 = DiffFromInt<Double>(Iterations(100000));
  s64.Print("int to f64", Seconds(start));
  if (Scale() >= 1) {
    EXPECT_GT(s32.ties, 0);
    EXPECT_GT(s64.ties, 0);
  }
}

TEST(FpuDifferentialConvert, F64ToF32) {
  const auto start = std::chrono::steady_clock::now();
  const Stats st = DiffF64ToF32(Iterations(200000));
  st.Print("f64 to f32", Seconds(start));
  if (Scale() >= 1) {
    EXPECT_GT(st.ties, 0);
    EXPECT_GT(st.uf, 0);
    EXPECT_GT(st.of, 0);
  }
}

TEST(FpuDifferentialConvert, F32ToF64) {
  Rng r(BaseSeed() ^ 0x7769646eull);
  int failures = 0;
  for (int i = 0; i < Iterations(200000) && failures < kMaxFailures; ++i) {
    const u32 a = r.Chance(50) ? RandValue<Single>(r) : RandBits<Single>(r);
    const HostResult<u64> h = HostF32ToF64(a);
    u32 f = 0;
    const u64 got = f32_to_f64(a, f);
    if (got != Canon<Double>(h.value) || f != h.flags) {
      ADD_FAILURE() << "f32_to_f64(" << Hex(a) << "): got " << Hex(got) << " " << FlagsStr(f)
                    << ", want " << Hex(Canon<Double>(h.value)) << " " << FlagsStr(h.flags);
      ++failures;
    }
  }
}

// ---- compares, min/max, classify (quiet host comparisons give the results; flags follow the
// RISC-V rules, which the hand vectors pin down)

template <class T>
void DiffCompareMinMaxClassify(int iterations) {
  using U = typename T::U;
  Rng r(BaseSeed() ^ 0x636d70ull ^ u64(T::kPrecision) << 40);
  int failures = 0;
  for (int i = 0; i < iterations && failures < kMaxFailures; ++i) {
    const U a = r.Chance(80) ? RandValue<T>(r) : RandBits<T>(r);
    U b = r.Chance(80) ? RandValue<T>(r) : RandBits<T>(r);
    switch (r.Below(4)) {
      case 0: b = a; break;
      case 1: b = a ^ T::kSign; break;
      case 2: b = a + U(r.Range(-1, 1)); break;
      default: break;
    }
    const auto x = AsHost<T>(a), y = AsHost<T>(b);
    const bool a_nan = std::isnan(x), b_nan = std::isnan(y);
    const bool any_snan = (a_nan && !(a & T::kQuiet)) || (b_nan && !(b & T::kQuiet));
    const u32 quiet_flags = any_snan ? u32(kNV) : 0u;
    const u32 signaling_flags = (a_nan || b_nan) ? u32(kNV) : 0u;
    U want_min, want_max;
    if (a_nan && b_nan) {
      want_min = want_max = T::kCanon;
    } else if (a_nan || b_nan) {
      want_min = want_max = a_nan ? b : a;
    } else if (std::isless(x, y)) {
      want_min = a, want_max = b;
    } else if (std::isless(y, x)) {
      want_min = b, want_max = a;
    } else {  // equal: only the zeros can differ
      want_min = a | (b & T::kSign);
      want_max = a & (b | ~T::kSign);
    }
    u32 f = 0;
    const bool eq = T::Eq(a, b, f);
    const bool eq_ok = eq == (x == y) && f == quiet_flags;
    f = 0;
    const bool lt = T::Lt(a, b, f);
    const bool lt_ok = lt == std::isless(x, y) && f == signaling_flags;
    f = 0;
    const bool le = T::Le(a, b, f);
    const bool le_ok = le == std::islessequal(x, y) && f == signaling_flags;
    f = 0;
    const U mn = T::Min(a, b, f);
    const bool min_ok = mn == want_min && f == quiet_flags;
    f = 0;
    const U mx = T::Max(a, b, f);
    const bool max_ok = mx == want_max && f == quiet_flags;
    u32 want_class;
    const bool neg = a & T::kSign;
    switch (std::fpclassify(x)) {
      case FP_NAN: want_class = (a & T::kQuiet) ? kClassQuietNaN : kClassSignalingNaN; break;
      case FP_INFINITE: want_class = neg ? kClassNegInf : kClassPosInf; break;
      case FP_ZERO: want_class = neg ? kClassNegZero : kClassPosZero; break;
      case FP_SUBNORMAL: want_class = neg ? kClassNegSubnormal : kClassPosSubnormal; break;
      default: want_class = neg ? kClassNegNormal : kClassPosNormal; break;
    }
    const bool class_ok = T::Classify(a) == want_class;
    if (!(eq_ok && lt_ok && le_ok && min_ok && max_ok && class_ok)) {
      ADD_FAILURE() << T::kName << " compare/min/max/classify(" << Hex(a) << ", " << Hex(b)
                    << "): eq " << eq_ok << " lt " << lt_ok << " le " << le_ok << " min "
                    << min_ok << " max " << max_ok << " classify " << class_ok;
      ++failures;
    }
  }
}

TEST(FpuDifferentialCompare, F32) { DiffCompareMinMaxClassify<Single>(Iterations(200000)); }
TEST(FpuDifferentialCompare, F64) { DiffCompareMinMaxClassify<Double>(Iterations(200000)); }

// Say which path the dispatching entry points took (the host one is opt-in, see fpu.h); every
// test above checks them and fpu::soft separately either way.
TEST(FpuDispatch, ReportsHostPaths) {
  std::printf("[     info ] host fast path: %s, host fma: %s\n",
              host_fast_path_available() ? "yes" : "no", host_fma_available() ? "yes" : "no");
  if (!host_fast_path_available()) {
    EXPECT_FALSE(host_fma_available());
  }
}

}  // namespace
}  // namespace rvkvm::fpu
