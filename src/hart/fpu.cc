#include "hart/fpu.h"

#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

namespace rvkvm::fpu {
namespace {

template <class U_, int kExpBits_, int kFracBits_>
struct Format {
  using U = U_;
  static constexpr int kExpBits = kExpBits_;
  static constexpr int kFracBits = kFracBits_;
  static constexpr int kPrecision = kFracBits + 1;
  static constexpr int kSignShift = kExpBits + kFracBits;
  static constexpr int kExpField = (1 << kExpBits) - 1;  // biased exponent of inf/NaN
  static constexpr int kBias = (1 << (kExpBits - 1)) - 1;
  static constexpr int kEmin = 1 - kBias;
  static constexpr int kEmax = kBias;
  static constexpr U kSignMask = U(1) << kSignShift;
  static constexpr U kFracMask = (U(1) << kFracBits) - 1;
  static constexpr U kQuietBit = U(1) << (kFracBits - 1);
  static constexpr U kInf = U(kExpField) << kFracBits;
  static constexpr U kMaxFinite = kInf - 1;
  static constexpr U kCanonicalNaN = kInf | kQuietBit;

  static constexpr U sign_bits(bool sign) { return U(sign) << kSignShift; }
};
using F32 = Format<u32, 8, 23>;
using F64 = Format<u64, 11, 52>;
static_assert(F32::kCanonicalNaN == kCanonicalNaN32 && F64::kCanonicalNaN == kCanonicalNaN64);

// Working representation of a finite nonzero value: sig * 2^(exp - kSigTop), sig in
// [2^62, 2^63). Bit 63 is headroom for the carry of an addition; the bits below the destination
// precision (39 for binary32, 10 for binary64) are rounding bits whose lowest one is "sticky":
// anything shifted out is ORed into it ("jamming"). With at least two bits between the sticky
// bit and the round bit, the jammed value lies in the same open interval between rounding
// breakpoints as the exact value, so every rounding decision (and inexactness) is preserved.
constexpr int kSigTop = 62;

enum class Kind : u8 { kZero, kFinite, kInf, kQuietNaN, kSignalingNaN };

struct Unpacked {
  Kind kind;
  bool sign;
  int exp;
  u64 sig;
  bool is_nan() const { return kind >= Kind::kQuietNaN; }
};

RVKVM_ALWAYS_INLINE u64 shift_right_jam(u64 x, int n) {
  if (n == 0) return x;
  if (n >= 64) return x != 0;
  return (x >> n) | ((x << (64 - n)) != 0);
}

RVKVM_ALWAYS_INLINE u128 shift_right_jam128(u128 x, int n) {
  if (n == 0) return x;
  if (n >= 128) return x != 0;
  return (x >> n) | ((x << (128 - n)) != 0);
}

RVKVM_ALWAYS_INLINE int clz128(u128 x) {  // x != 0
  u64 hi = u64(x >> 64);
  return hi ? std::countl_zero(hi) : 64 + std::countl_zero(u64(x));
}

template <class F>
RVKVM_ALWAYS_INLINE Unpacked unpack(typename F::U x) {
  Unpacked u{Kind::kFinite, bool((x >> F::kSignShift) & 1), 0, 0};
  int biased = int((x >> F::kFracBits) & F::kExpField);
  u64 frac = u64(x & F::kFracMask);
  if (RVKVM_LIKELY(biased != 0 && biased != F::kExpField)) {
    u.sig = (frac | (u64(1) << F::kFracBits)) << (kSigTop - F::kFracBits);
    u.exp = biased - F::kBias;
  } else if (biased == F::kExpField) {
    u.kind = frac == 0                ? Kind::kInf
             : (frac & F::kQuietBit) ? Kind::kQuietNaN
                                      : Kind::kSignalingNaN;
  } else if (frac == 0) {
    u.kind = Kind::kZero;
  } else {
    // Subnormal: value = frac * 2^(emin - fracbits); renormalize the leading one to bit 62.
    int lz = std::countl_zero(frac);
    u.sig = frac << (lz - 1);
    u.exp = F::kEmin - F::kFracBits + 63 - lz;
  }
  return u;
}

// Whether to add one ulp to the truncated magnitude, given nonzero discarded bits `rem` and the
// value `half` of a half ulp in the same units (IEEE 754-2008 §4.3).
RVKVM_ALWAYS_INLINE bool round_up(unsigned rm, bool sign, u64 rem, u64 half, bool odd) {
  switch (rm) {
    case kRNE: return rem > half || (rem == half && odd);
    case kRTZ: return false;
    case kRDN: return sign;
    case kRUP: return !sign;
    default: return rem >= half;  // kRMM: ties away from zero
  }
}

template <class F>
typename F::U overflow_result(bool sign, unsigned rm, u32& flags) {
  flags |= kOF | kNX;
  // IEEE 754-2008 §7.4: modes that round this sign's magnitude down deliver the largest finite
  // number instead of infinity.
  bool to_inf = rm == kRNE || rm == kRMM || (rm == kRDN && sign) || (rm == kRUP && !sign);
  return F::sign_bits(sign) | (to_inf ? F::kInf : F::kMaxFinite);
}

// Rounds sig * 2^(exp - 62) (sig in [2^62, 2^63), bit 0 sticky) to format F.
template <class F>
RVKVM_ALWAYS_INLINE typename F::U round_pack(bool sign, int exp, u64 sig, unsigned rm,
                                             u32& flags) {
  using U = typename F::U;
  constexpr int kDrop = kSigTop + 1 - F::kPrecision;
  constexpr u64 kRemMask = (u64(1) << kDrop) - 1;
  constexpr u64 kHalf = u64(1) << (kDrop - 1);
  if (RVKVM_UNLIKELY(exp > F::kEmax)) return overflow_result<F>(sign, rm, flags);
  bool tiny = false;
  if (RVKVM_UNLIKELY(exp < F::kEmin)) {
    // RISC-V detects tininess after rounding (IEEE 754-2008 §7.5): the value is tiny unless
    // rounding it to full precision with an unbounded exponent reaches 2^emin, which can only
    // happen from just below 2^emin with an all-ones significand that rounds up.
    tiny = true;
    if (exp == F::kEmin - 1 && (sig >> kDrop) == (u64(1) << F::kPrecision) - 1) {
      u64 rem = sig & kRemMask;
      if (rem != 0 && round_up(rm, sign, rem, kHalf, true)) tiny = false;
    }
    sig = shift_right_jam(sig, F::kEmin - exp);
    exp = F::kEmin;
  }
  u64 rem = sig & kRemMask;
  u64 q = sig >> kDrop;
  if (rem != 0) {
    // UF only when tiny AND inexact: RISC-V never traps, so this is IEEE's default handling.
    flags |= tiny ? (kNX | kUF) : kNX;
    q += round_up(rm, sign, rem, kHalf, q & 1);
  }
  // The hidden bit of q adds one to the exponent field, so a subnormal (field 0, no hidden bit)
  // that rounds up to 2^emin and a significand that carries out to 2^p both land on the right
  // encoding without special cases.
  U mag = (U(exp + F::kBias - 1) << F::kFracBits) + U(q);
  if (RVKVM_UNLIKELY(mag >= F::kInf)) return overflow_result<F>(sign, rm, flags);
  return F::sign_bits(sign) | mag;
}

template <class F>
RVKVM_ALWAYS_INLINE typename F::U invalid(u32& flags) {
  flags |= kNV;
  return F::kCanonicalNaN;
}

// Result for operations with a NaN operand: canonical NaN, NV iff some NaN is signaling.
template <class F>
RVKVM_ALWAYS_INLINE typename F::U nan_result(const Unpacked& x, const Unpacked& y,
                                             u32& flags) {
  if (x.kind == Kind::kSignalingNaN || y.kind == Kind::kSignalingNaN) flags |= kNV;
  return F::kCanonicalNaN;
}

// ---------------------------------------------------------------------------------------------
// add / sub

template <class F>
RVKVM_NOINLINE typename F::U add_special(const Unpacked& x, const Unpacked& y,
                                         typename F::U a, typename F::U b, unsigned rm,
                                         u32& flags) {
  if (x.is_nan() || y.is_nan()) return nan_result<F>(x, y, flags);
  if (x.kind == Kind::kInf) {
    if (y.kind == Kind::kInf && x.sign != y.sign) return invalid<F>(flags);
    return F::sign_bits(x.sign) | F::kInf;
  }
  if (y.kind == Kind::kInf) return F::sign_bits(y.sign) | F::kInf;
  if (x.kind == Kind::kZero) {
    // IEEE 754-2008 §6.3: (+0) + (-0) is +0 in every mode but roundTowardNegative.
    if (y.kind == Kind::kZero) return F::sign_bits(x.sign == y.sign ? x.sign : rm == kRDN);
    return F::sign_bits(y.sign) | (b & ~F::kSignMask);  // y.sign may have been flipped by sub
  }
  return a;  // y is zero, x finite nonzero: exact
}

template <class F>
RVKVM_ALWAYS_INLINE typename F::U add_impl(typename F::U a, typename F::U b, bool negate_b,
                                      unsigned rm, u32& flags) {
  Unpacked x = unpack<F>(a);
  Unpacked y = unpack<F>(b);
  y.sign ^= negate_b;
  if (RVKVM_UNLIKELY(x.kind != Kind::kFinite || y.kind != Kind::kFinite))
    return add_special<F>(x, y, a, b, rm, flags);
  if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) std::swap(x, y);  // now |x| >= |y|
  u64 ys = shift_right_jam(y.sig, x.exp - y.exp);
  int exp = x.exp;
  if (x.sign == y.sign) {
    u64 sum = x.sig + ys;
    if (sum >> 63) {
      sum = (sum >> 1) | (sum & 1);
      ++exp;
    }
    return round_pack<F>(x.sign, exp, sum, rm, flags);
  }
  // Bits are only jammed away when the exponents differ by 2 or more, and then the difference
  // needs at most one bit of renormalization, so the sticky bit stays far below the round bit.
  u64 diff = x.sig - ys;
  if (diff == 0) return F::sign_bits(rm == kRDN);  // IEEE 754-2008 §6.3 exact-zero sign rule
  int shift = std::countl_zero(diff) - 1;
  return round_pack<F>(x.sign, exp - shift, diff << shift, rm, flags);
}

// ---------------------------------------------------------------------------------------------
// mul

// Rounds the exact product of two finite nonzero unpacked values.
template <class F>
RVKVM_ALWAYS_INLINE typename F::U mul_finite(bool sign, const Unpacked& x, const Unpacked& y,
                                             unsigned rm, u32& flags) {
  u128 p = u128(x.sig) * y.sig;  // in [2^124, 2^126), value p * 2^(ex + ey - 124)
  int exp = x.exp + y.exp;
  u64 sig;
  if (p >> 125) {
    sig = u64(p >> 63) | ((u64(p) << 1) != 0);
    ++exp;
  } else {
    sig = u64(p >> 62) | ((u64(p) << 2) != 0);
  }
  return round_pack<F>(sign, exp, sig, rm, flags);
}

template <class F>
RVKVM_ALWAYS_INLINE typename F::U mul_impl(typename F::U a, typename F::U b, unsigned rm,
                                      u32& flags) {
  Unpacked x = unpack<F>(a);
  Unpacked y = unpack<F>(b);
  bool sign = x.sign ^ y.sign;
  if (RVKVM_UNLIKELY(x.kind != Kind::kFinite || y.kind != Kind::kFinite)) {
    if (x.is_nan() || y.is_nan()) return nan_result<F>(x, y, flags);
    if (x.kind == Kind::kInf || y.kind == Kind::kInf) {
      if (x.kind == Kind::kZero || y.kind == Kind::kZero) return invalid<F>(flags);
      return F::sign_bits(sign) | F::kInf;
    }
    return F::sign_bits(sign);  // a zero times a finite value
  }
  return mul_finite<F>(sign, x, y, rm, flags);
}

// ---------------------------------------------------------------------------------------------
// div

// floor((hi:lo) / d) and the remainder; requires hi < d so the quotient fits 64 bits.
RVKVM_ALWAYS_INLINE u64 div_128_by_64(u64 hi, u64 lo, u64 d, u64& rem) {
#if defined(__x86_64__)
  // libgcc's __udivti3 does not know the quotient fits; one divq is several times cheaper.
  u64 q, r;
  asm("divq %[d]" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), [d] "rm"(d) : "cc");
  rem = r;
  return q;
#else
  u128 n = (u128(hi) << 64) | lo;
  rem = u64(n % d);
  return u64(n / d);
#endif
}

template <class F>
RVKVM_ALWAYS_INLINE typename F::U div_impl(typename F::U a, typename F::U b, unsigned rm,
                                      u32& flags) {
  Unpacked x = unpack<F>(a);
  Unpacked y = unpack<F>(b);
  bool sign = x.sign ^ y.sign;
  if (RVKVM_UNLIKELY(x.kind != Kind::kFinite || y.kind != Kind::kFinite)) {
    if (x.is_nan() || y.is_nan()) return nan_result<F>(x, y, flags);
    if (x.kind == Kind::kInf) {
      if (y.kind == Kind::kInf) return invalid<F>(flags);
      return F::sign_bits(sign) | F::kInf;
    }
    if (y.kind == Kind::kInf) return F::sign_bits(sign);
    if (y.kind == Kind::kZero) {
      if (x.kind == Kind::kZero) return invalid<F>(flags);
      flags |= kDZ;  // finite nonzero / 0 is exact infinity: DZ, not OF/NX (IEEE 754-2008 §7.3)
      return F::sign_bits(sign) | F::kInf;
    }
    return F::sign_bits(sign);  // 0 / finite
  }
  // q = floor(xsig * 2^63 / ysig) lies in (2^62, 2^64): at least 63 significant bits.
  u64 rem;
  u64 q = div_128_by_64(x.sig >> 1, x.sig << 63, y.sig, rem);
  int exp = x.exp - y.exp;
  u64 sig;
  if (q >> 63) {
    sig = (q >> 1) | (q & 1) | (rem != 0);
  } else {
    sig = q | (rem != 0);
    --exp;
  }
  return round_pack<F>(sign, exp, sig, rm, flags);
}

// ---------------------------------------------------------------------------------------------
// sqrt

// floor(sqrt(x)) for x in [2^126, 2^128); `exact` tells whether it is the exact root.
u64 isqrt_128(u128 x, bool& exact) {
  // A binary64 estimate is within a few units of 2^11 of the root; one Newton step (from any
  // start the step lands at or above floor(sqrt(x)), error squared) and a final +-1 fix make it
  // exact. The estimate's accuracy does not depend on the host rounding mode in any way that
  // matters here.
  double estimate = std::sqrt(static_cast<double>(x));
  u64 r = estimate >= 18446744073709551616.0 ? ~u64(0) : static_cast<u64>(estimate);
  u128 s = (u128(r) + x / r) >> 1;
  r = s > ~u64(0) ? ~u64(0) : u64(s);
  while (u128(r) * r > x) --r;
  while (r != ~u64(0) && u128(r + 1) * (r + 1) <= x) ++r;
  exact = u128(r) * r == x;
  return r;
}

template <class F>
typename F::U sqrt_impl(typename F::U a, unsigned rm, u32& flags) {
  Unpacked x = unpack<F>(a);
  if (RVKVM_UNLIKELY(x.kind != Kind::kFinite)) {
    if (x.is_nan()) return nan_result<F>(x, x, flags);
    if (x.kind == Kind::kZero) return a;  // sqrt(-0) = -0 (IEEE 754-2008 §5.4.1)
    if (x.sign) return invalid<F>(flags);
    return a;  // +inf
  }
  if (x.sign) return invalid<F>(flags);
  // value = sig * 2^(exp - 62). Scale the radicand to an even power of two:
  // even exp: X = sig << 64, value = X * 2^(exp - 126); odd exp: X = sig << 65,
  // value = X * 2^(exp - 127). Either way the root is isqrt(X) * 2^(floor(exp / 2) - 63).
  u128 radicand = u128(x.sig) << (64 + (x.exp & 1));
  bool exact;
  u64 r = isqrt_128(radicand, exact);  // in [2^63, 2^64): 64 significant bits
  u64 sig = (r >> 1) | (r & 1) | !exact;
  return round_pack<F>(false, x.exp >> 1, sig, rm, flags);
}

// ---------------------------------------------------------------------------------------------
// fma

template <class F>
typename F::U fma_impl(typename F::U a, typename F::U b, typename F::U c, bool negate_product,
                  bool negate_addend, unsigned rm, u32& flags) {
  Unpacked x = unpack<F>(a);
  Unpacked y = unpack<F>(b);
  Unpacked z = unpack<F>(c);
  bool prod_sign = x.sign ^ y.sign ^ negate_product;
  z.sign ^= negate_addend;
  if (RVKVM_UNLIKELY(x.kind != Kind::kFinite || y.kind != Kind::kFinite ||
                     z.kind != Kind::kFinite)) {
    bool inf_times_zero = (x.kind == Kind::kInf && y.kind == Kind::kZero) ||
                          (x.kind == Kind::kZero && y.kind == Kind::kInf);
    if (x.is_nan() || y.is_nan() || z.is_nan()) {
      // RISC-V F spec (fused multiply-add): inf * 0 raises NV even when the addend is a quiet
      // NaN, a choice IEEE 754-2008 §7.2(c) leaves to the implementation.
      if (inf_times_zero || x.kind == Kind::kSignalingNaN || y.kind == Kind::kSignalingNaN ||
          z.kind == Kind::kSignalingNaN)
        flags |= kNV;
      return F::kCanonicalNaN;
    }
    if (inf_times_zero) return invalid<F>(flags);
    if (x.kind == Kind::kInf || y.kind == Kind::kInf) {
      if (z.kind == Kind::kInf && z.sign != prod_sign) return invalid<F>(flags);
      return F::sign_bits(prod_sign) | F::kInf;
    }
    if (z.kind == Kind::kInf) return F::sign_bits(z.sign) | F::kInf;
    if (x.kind == Kind::kZero || y.kind == Kind::kZero) {
      if (z.kind == Kind::kZero) return F::sign_bits(prod_sign == z.sign ? z.sign : rm == kRDN);
      return F::sign_bits(z.sign) | (c & ~F::kSignMask);
    }
    // Nonzero product plus a zero addend: the sum is the product itself, rounded once.
    return mul_finite<F>(prod_sign, x, y, rm, flags);
  }
  // Exact product p * 2^(pexp - 124) with p in [2^124, 2^126); the addend is put on the same
  // scale, cz in [2^124, 2^125). The operand with the smaller exponent is shifted right with
  // jamming; bits can only be lost once the shift exceeds the 20 (binary64) / 78 (binary32)
  // trailing zero bits of the product or 72 / 101 of the addend, and at such distances the
  // difference needs at most one bit of renormalization, so the sticky bit stays far below the
  // round bit. Cancellation down to a few bits only happens for near-equal exponents, where
  // nothing was lost and the subtraction is exact.
  u128 p = u128(x.sig) * y.sig;
  u128 cz = u128(z.sig) << 62;
  int pexp = x.exp + y.exp;
  int exp;
  if (pexp >= z.exp) {
    cz = shift_right_jam128(cz, pexp - z.exp);
    exp = pexp;
  } else {
    p = shift_right_jam128(p, z.exp - pexp);
    exp = z.exp;
  }
  u128 r;
  bool sign;
  if (prod_sign == z.sign) {
    r = p + cz;  // < 2^127
    sign = prod_sign;
  } else if (p >= cz) {
    r = p - cz;
    sign = prod_sign;
  } else {
    r = cz - p;
    sign = z.sign;
  }
  if (r == 0) return F::sign_bits(rm == kRDN);  // exact zero: IEEE 754-2008 §6.3
  int msb = 127 - clz128(r);
  u64 sig = msb > kSigTop ? u64(shift_right_jam128(r, msb - kSigTop)) : u64(r) << (kSigTop - msb);
  return round_pack<F>(sign, exp - 124 + msb, sig, rm, flags);
}

// ---------------------------------------------------------------------------------------------
// comparisons, min/max, classify

// Maps non-NaN encodings to unsigned integers in value order, with -0 just below +0.
template <class F>
constexpr typename F::U order_key(typename F::U x) {
  return (x & F::kSignMask) ? typename F::U(~x) : typename F::U(x | F::kSignMask);
}

template <class F>
constexpr bool is_nan(typename F::U x) {
  return (x & ~F::kSignMask) > F::kInf;
}

template <class F>
constexpr bool is_snan(typename F::U x) {
  return is_nan<F>(x) && !(x & F::kQuietBit);
}

template <class F>
constexpr bool both_zero(typename F::U a, typename F::U b) {
  return ((a | b) & ~F::kSignMask) == 0;
}

template <class F>
bool eq(typename F::U a, typename F::U b, u32& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;  // quiet predicate (IEEE 754-2008 §5.11)
    return false;
  }
  return a == b || both_zero<F>(a, b);
}

template <class F>
bool lt(typename F::U a, typename F::U b, u32& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    flags |= kNV;  // signaling predicate: any NaN is invalid
    return false;
  }
  return !both_zero<F>(a, b) && order_key<F>(a) < order_key<F>(b);
}

template <class F>
bool le(typename F::U a, typename F::U b, u32& flags) {
  if (is_nan<F>(a) || is_nan<F>(b)) {
    flags |= kNV;
    return false;
  }
  return both_zero<F>(a, b) || order_key<F>(a) <= order_key<F>(b);
}

// F 2.2 fmin/fmax: minimumNumber/maximumNumber. A single NaN operand is ignored (even a
// signaling one, which still raises NV); -0 orders below +0.
template <class F>
typename F::U min_max(typename F::U a, typename F::U b, bool want_max, u32& flags) {
  bool a_nan = is_nan<F>(a);
  bool b_nan = is_nan<F>(b);
  if (RVKVM_UNLIKELY(a_nan || b_nan)) {
    if (is_snan<F>(a) || is_snan<F>(b)) flags |= kNV;
    if (a_nan && b_nan) return F::kCanonicalNaN;
    return a_nan ? b : a;
  }
  bool a_below = order_key<F>(a) < order_key<F>(b);
  return a_below != want_max ? a : b;
}

template <class F>
u32 classify(typename F::U a) {
  bool sign = (a >> F::kSignShift) & 1;
  int biased = int((a >> F::kFracBits) & F::kExpField);
  typename F::U frac = a & F::kFracMask;
  if (biased == F::kExpField) {
    if (frac != 0) return (frac & F::kQuietBit) ? kClassQuietNaN : kClassSignalingNaN;
    return sign ? kClassNegInf : kClassPosInf;
  }
  if (biased == 0) {
    if (frac == 0) return sign ? kClassNegZero : kClassPosZero;
    return sign ? kClassNegSubnormal : kClassPosSubnormal;
  }
  return sign ? kClassNegNormal : kClassPosNormal;
}

// ---------------------------------------------------------------------------------------------
// conversions

// RISC-V F spec, "Single-Precision Floating-Point Conversion and Move Instructions": the value
// is rounded to an integer first; if that integer does not fit, the result saturates (NaN
// counts as +inf) and only NV is raised. In-range inexact results raise NX. A negative value
// that rounds to 0 is in range even for unsigned destinations.
template <class F, class Int>
Int to_int(typename F::U a, unsigned rm, u32& flags) {
  using UInt = std::make_unsigned_t<Int>;
  constexpr Int kMax = std::numeric_limits<Int>::max();
  constexpr Int kMin = std::numeric_limits<Int>::min();
  Unpacked x = unpack<F>(a);
  if (RVKVM_UNLIKELY(x.kind != Kind::kFinite)) {
    if (x.kind == Kind::kZero) return 0;
    flags |= kNV;
    if (x.is_nan()) return kMax;
    return x.sign ? kMin : kMax;
  }
  // Largest representable magnitude for this sign: 2^(N-1) for negative signed, 0 for negative
  // unsigned.
  u64 limit = x.sign ? u64(UInt(0) - UInt(kMin)) : u64(kMax);
  u64 mag;
  bool inexact = false;
  if (x.exp >= 64) {
    mag = ~u64(0);  // >= 2^64: beyond every limit (limits are < 2^64)
    limit = mag - 1;
  } else if (x.exp >= kSigTop) {
    mag = x.sig << (x.exp - kSigTop);
  } else {
    int shift = kSigTop - x.exp;
    u64 sig = x.sig;
    if (shift > 63) {  // |value| < 1/2: only a sticky bit survives
      sig = 1;
      shift = 63;
    }
    u64 rem = sig & ((u64(1) << shift) - 1);
    mag = sig >> shift;
    if (rem != 0) {
      inexact = true;
      mag += round_up(rm, x.sign, rem, u64(1) << (shift - 1), mag & 1);
    }
  }
  if (mag > limit) {
    flags |= kNV;
    return x.sign ? kMin : kMax;
  }
  if (inexact) flags |= kNX;
  return x.sign ? Int(UInt(0) - UInt(mag)) : Int(mag);
}

template <class F>
typename F::U from_int(bool negative, u64 mag, unsigned rm, u32& flags) {
  if (mag == 0) return 0;  // integer zero converts to +0
  int msb = 63 - std::countl_zero(mag);
  u64 sig = msb > kSigTop ? (mag >> 1) | (mag & 1) : mag << (kSigTop - msb);
  return round_pack<F>(negative, msb, sig, rm, flags);
}

template <class From, class To>
typename To::U convert_format(typename From::U a, unsigned rm, u32& flags) {
  Unpacked x = unpack<From>(a);
  switch (x.kind) {
    case Kind::kFinite: return round_pack<To>(x.sign, x.exp, x.sig, rm, flags);
    case Kind::kZero: return To::sign_bits(x.sign);
    case Kind::kInf: return To::sign_bits(x.sign) | To::kInf;
    case Kind::kSignalingNaN: flags |= kNV; [[fallthrough]];
    default: return To::kCanonicalNaN;
  }
}

// ---------------------------------------------------------------------------------------------
// host fast path
//
// Opt-in (build with -DRVKVM_FPU_HOST_FAST_PATH): it is bit-for-bit identical to the software
// path but, measured on the x86-64 hosts this runs on (a virtualized AVX-512 Xeon), slower. The
// per-operation MXCSR round trip (stmxcsr, ldmxcsr with the flags cleared, the operation,
// stmxcsr, ldmxcsr) costs 15-110 ns on its own whenever the operation raises a flag (nearly
// every result is inexact), against about 4 ns when the ldmxcsr values leave the status bits
// unchanged, which reading per-operation flags cannot arrange. f64_add/mul/div/fma in RNE cost
// 53/29/32/33 ns with the caller's MXCSR.PE set and 65/117/121/114 ns with it clear, against
// 14/11/14/19 ns in software (thread CPU time, operands in [0.5, 2)). Re-measure before enabling
// it on other hosts.

#if defined(__x86_64__) && defined(RVKVM_FPU_HOST_FAST_PATH) && !defined(RVKVM_FPU_SOFT_ONLY)
#define RVKVM_FPU_HOST 1

// MXCSR for each static RISC-V mode below RMM: all exceptions masked (RISC-V never traps), flags
// clear, DAZ and FTZ off (subnormals must be exact), rounding control RC in bits 14:13
// (00 nearest, 01 down, 10 up, 11 toward zero).
constexpr u32 kMxcsrMasked = 0x1f80;
constexpr u32 kMxcsrForMode[4] = {kMxcsrMasked | (0u << 13), kMxcsrMasked | (3u << 13),
                                  kMxcsrMasked | (1u << 13), kMxcsrMasked | (2u << 13)};

// MXCSR status bits IE DE ZE OE UE PE (bits 0..5) -> fflags. DE (denormal operand) has no
// RISC-V counterpart. With UE masked, SSE sets UE only for results that are tiny after rounding
// and inexact, exactly RISC-V's UF.
constexpr std::array<u8, 64> make_flag_map() {
  std::array<u8, 64> map{};
  for (u32 s = 0; s < 64; ++s) {
    u32 f = 0;
    if (s & 1) f |= kNV;
    if (s & 4) f |= kDZ;
    if (s & 8) f |= kOF;
    if (s & 16) f |= kUF;
    if (s & 32) f |= kNX;
    map[s] = u8(f);
  }
  return map;
}
constexpr std::array<u8, 64> kFlagMap = make_flag_map();

// Each helper runs one SSE instruction under `control` and returns the status it produced. The
// whole sequence is a single asm statement so the compiler cannot move the arithmetic away from
// the MXCSR accesses, and the caller's MXCSR (rounding mode, sticky flags) is restored.
#define RVKVM_HOST_BINARY(name, T, insn)                                                   \
  RVKVM_ALWAYS_INLINE T name(T a, T b, u32 control, u32& status) {                         \
    u32 saved;                                                                             \
    asm volatile("stmxcsr %[saved]\n\t"                                                    \
                 "ldmxcsr %[control]\n\t" insn " %[b], %[a]\n\t"                           \
                 "stmxcsr %[status]\n\t"                                                   \
                 "ldmxcsr %[saved]"                                                        \
                 : [a] "+x"(a), [saved] "=m"(saved), [status] "=m"(status)                \
                 : [b] "x"(b), [control] "m"(control));                                   \
    return a;                                                                              \
  }
RVKVM_HOST_BINARY(host_addss, float, "addss")
RVKVM_HOST_BINARY(host_subss, float, "subss")
RVKVM_HOST_BINARY(host_mulss, float, "mulss")
RVKVM_HOST_BINARY(host_divss, float, "divss")
RVKVM_HOST_BINARY(host_addsd, double, "addsd")
RVKVM_HOST_BINARY(host_subsd, double, "subsd")
RVKVM_HOST_BINARY(host_mulsd, double, "mulsd")
RVKVM_HOST_BINARY(host_divsd, double, "divsd")
#undef RVKVM_HOST_BINARY

#define RVKVM_HOST_UNARY(name, T, insn)                                                    \
  RVKVM_ALWAYS_INLINE T name(T a, u32 control, u32& status) {                              \
    u32 saved;                                                                             \
    asm volatile("stmxcsr %[saved]\n\t"                                                    \
                 "ldmxcsr %[control]\n\t" insn " %[a], %[a]\n\t"                           \
                 "stmxcsr %[status]\n\t"                                                   \
                 "ldmxcsr %[saved]"                                                        \
                 : [a] "+x"(a), [saved] "=m"(saved), [status] "=m"(status)                \
                 : [control] "m"(control));                                               \
    return a;                                                                              \
  }
RVKVM_HOST_UNARY(host_sqrtss, float, "sqrtss")
RVKVM_HOST_UNARY(host_sqrtsd, double, "sqrtsd")
#undef RVKVM_HOST_UNARY

// c + a * b in one rounding (FMA3). Only reached when the CPU reports FMA3 (and, through
// libgcc's check, OS-enabled AVX state).
#define RVKVM_HOST_FMA(name, T, insn)                                                      \
  RVKVM_ALWAYS_INLINE T name(T a, T b, T c, u32 control, u32& status) {                    \
    u32 saved;                                                                             \
    asm volatile("stmxcsr %[saved]\n\t"                                                    \
                 "ldmxcsr %[control]\n\t" insn " %[b], %[a], %[c]\n\t"                     \
                 "stmxcsr %[status]\n\t"                                                   \
                 "ldmxcsr %[saved]"                                                        \
                 : [c] "+x"(c), [saved] "=m"(saved), [status] "=m"(status)                \
                 : [a] "x"(a), [b] "x"(b), [control] "m"(control));                       \
    return c;                                                                              \
  }
RVKVM_HOST_FMA(host_fmass, float, "vfmadd231ss")
RVKVM_HOST_FMA(host_fmasd, double, "vfmadd231sd")
#undef RVKVM_HOST_FMA

bool detect_host_fma() {
  __builtin_cpu_init();  // may run before libgcc's own constructor
  return __builtin_cpu_supports("fma");
}

// Dynamic initialization; before it runs the flag reads as false (zero-initialized), which only
// selects the software path.
const bool g_host_fma = detect_host_fma();

#else
#define RVKVM_FPU_HOST 0
#endif

}  // namespace

// ---------------------------------------------------------------------------------------------
// soft entry points

namespace soft {
u32 f32_add(u32 a, u32 b, unsigned rm, u32& flags) { return add_impl<F32>(a, b, false, rm, flags); }
u32 f32_sub(u32 a, u32 b, unsigned rm, u32& flags) { return add_impl<F32>(a, b, true, rm, flags); }
u32 f32_mul(u32 a, u32 b, unsigned rm, u32& flags) { return mul_impl<F32>(a, b, rm, flags); }
u32 f32_div(u32 a, u32 b, unsigned rm, u32& flags) { return div_impl<F32>(a, b, rm, flags); }
u32 f32_sqrt(u32 a, unsigned rm, u32& flags) { return sqrt_impl<F32>(a, rm, flags); }
u32 f32_fma(u32 a, u32 b, u32 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags) {
  return fma_impl<F32>(a, b, c, negate_product, negate_addend, rm, flags);
}
u64 f64_add(u64 a, u64 b, unsigned rm, u32& flags) { return add_impl<F64>(a, b, false, rm, flags); }
u64 f64_sub(u64 a, u64 b, unsigned rm, u32& flags) { return add_impl<F64>(a, b, true, rm, flags); }
u64 f64_mul(u64 a, u64 b, unsigned rm, u32& flags) { return mul_impl<F64>(a, b, rm, flags); }
u64 f64_div(u64 a, u64 b, unsigned rm, u32& flags) { return div_impl<F64>(a, b, rm, flags); }
u64 f64_sqrt(u64 a, unsigned rm, u32& flags) { return sqrt_impl<F64>(a, rm, flags); }
u64 f64_fma(u64 a, u64 b, u64 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags) {
  return fma_impl<F64>(a, b, c, negate_product, negate_addend, rm, flags);
}
}  // namespace soft

// ---------------------------------------------------------------------------------------------
// dispatching entry points

bool host_fast_path_available() { return RVKVM_FPU_HOST; }

bool host_fma_available() {
#if RVKVM_FPU_HOST
  return g_host_fma;
#else
  return false;
#endif
}

#if RVKVM_FPU_HOST
// Host results are used unless they are NaN: x86 propagates payloads and its NV rules for
// inf*0 + qNaN differ, so NaN results are recomputed in software (they are rare).
#define RVKVM_HOST_DISPATCH(T, U, is_nan_fn, call)                    \
  if (RVKVM_LIKELY(rm < kRMM)) {                                      \
    u32 status;                                                       \
    U r = std::bit_cast<U>(call);                                     \
    if (RVKVM_LIKELY(!is_nan_fn(r))) {                                \
      flags |= kFlagMap[status & 63];                                 \
      return r;                                                       \
    }                                                                 \
  }
#define RVKVM_F32(x) std::bit_cast<float>(x)
#define RVKVM_F64(x) std::bit_cast<double>(x)
#else
#define RVKVM_HOST_DISPATCH(T, U, is_nan_fn, call)
#endif

u32 f32_add(u32 a, u32 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(float, u32, f32_is_nan,
                      host_addss(RVKVM_F32(a), RVKVM_F32(b), kMxcsrForMode[rm], status))
  return soft::f32_add(a, b, rm, flags);
}
u32 f32_sub(u32 a, u32 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(float, u32, f32_is_nan,
                      host_subss(RVKVM_F32(a), RVKVM_F32(b), kMxcsrForMode[rm], status))
  return soft::f32_sub(a, b, rm, flags);
}
u32 f32_mul(u32 a, u32 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(float, u32, f32_is_nan,
                      host_mulss(RVKVM_F32(a), RVKVM_F32(b), kMxcsrForMode[rm], status))
  return soft::f32_mul(a, b, rm, flags);
}
u32 f32_div(u32 a, u32 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(float, u32, f32_is_nan,
                      host_divss(RVKVM_F32(a), RVKVM_F32(b), kMxcsrForMode[rm], status))
  return soft::f32_div(a, b, rm, flags);
}
u32 f32_sqrt(u32 a, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(float, u32, f32_is_nan, host_sqrtss(RVKVM_F32(a), kMxcsrForMode[rm], status))
  return soft::f32_sqrt(a, rm, flags);
}
u32 f32_fma(u32 a, u32 b, u32 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags) {
#if RVKVM_FPU_HOST
  if (g_host_fma) {
    // Negating an operand is exact, so fmsub/fnmsub/fnmadd map onto one vfmadd.
    u32 na = a ^ (u32(negate_product) << 31);
    u32 nc = c ^ (u32(negate_addend) << 31);
    RVKVM_HOST_DISPATCH(float, u32, f32_is_nan,
                        host_fmass(RVKVM_F32(na), RVKVM_F32(b), RVKVM_F32(nc),
                                   kMxcsrForMode[rm], status))
  }
#endif
  return soft::f32_fma(a, b, c, negate_product, negate_addend, rm, flags);
}

u64 f64_add(u64 a, u64 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(double, u64, f64_is_nan,
                      host_addsd(RVKVM_F64(a), RVKVM_F64(b), kMxcsrForMode[rm], status))
  return soft::f64_add(a, b, rm, flags);
}
u64 f64_sub(u64 a, u64 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(double, u64, f64_is_nan,
                      host_subsd(RVKVM_F64(a), RVKVM_F64(b), kMxcsrForMode[rm], status))
  return soft::f64_sub(a, b, rm, flags);
}
u64 f64_mul(u64 a, u64 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(double, u64, f64_is_nan,
                      host_mulsd(RVKVM_F64(a), RVKVM_F64(b), kMxcsrForMode[rm], status))
  return soft::f64_mul(a, b, rm, flags);
}
u64 f64_div(u64 a, u64 b, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(double, u64, f64_is_nan,
                      host_divsd(RVKVM_F64(a), RVKVM_F64(b), kMxcsrForMode[rm], status))
  return soft::f64_div(a, b, rm, flags);
}
u64 f64_sqrt(u64 a, unsigned rm, u32& flags) {
  RVKVM_HOST_DISPATCH(double, u64, f64_is_nan, host_sqrtsd(RVKVM_F64(a), kMxcsrForMode[rm], status))
  return soft::f64_sqrt(a, rm, flags);
}
u64 f64_fma(u64 a, u64 b, u64 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags) {
#if RVKVM_FPU_HOST
  if (g_host_fma) {
    u64 na = a ^ (u64(negate_product) << 63);
    u64 nc = c ^ (u64(negate_addend) << 63);
    RVKVM_HOST_DISPATCH(double, u64, f64_is_nan,
                        host_fmasd(RVKVM_F64(na), RVKVM_F64(b), RVKVM_F64(nc),
                                   kMxcsrForMode[rm], status))
  }
#endif
  return soft::f64_fma(a, b, c, negate_product, negate_addend, rm, flags);
}
#undef RVKVM_HOST_DISPATCH
#undef RVKVM_F32
#undef RVKVM_F64

u32 f32_min(u32 a, u32 b, u32& flags) { return min_max<F32>(a, b, false, flags); }
u32 f32_max(u32 a, u32 b, u32& flags) { return min_max<F32>(a, b, true, flags); }
bool f32_eq(u32 a, u32 b, u32& flags) { return eq<F32>(a, b, flags); }
bool f32_lt(u32 a, u32 b, u32& flags) { return lt<F32>(a, b, flags); }
bool f32_le(u32 a, u32 b, u32& flags) { return le<F32>(a, b, flags); }
u32 f32_classify(u32 a) { return classify<F32>(a); }
i32 f32_to_i32(u32 a, unsigned rm, u32& flags) { return to_int<F32, i32>(a, rm, flags); }
u32 f32_to_u32(u32 a, unsigned rm, u32& flags) { return to_int<F32, u32>(a, rm, flags); }
i64 f32_to_i64(u32 a, unsigned rm, u32& flags) { return to_int<F32, i64>(a, rm, flags); }
u64 f32_to_u64(u32 a, unsigned rm, u32& flags) { return to_int<F32, u64>(a, rm, flags); }
u32 i32_to_f32(i32 a, unsigned rm, u32& flags) {
  return from_int<F32>(a < 0, a < 0 ? 0 - u64(a) : u64(a), rm, flags);
}
u32 u32_to_f32(u32 a, unsigned rm, u32& flags) { return from_int<F32>(false, a, rm, flags); }
u32 i64_to_f32(i64 a, unsigned rm, u32& flags) {
  return from_int<F32>(a < 0, a < 0 ? 0 - u64(a) : u64(a), rm, flags);
}
u32 u64_to_f32(u64 a, unsigned rm, u32& flags) { return from_int<F32>(false, a, rm, flags); }
u64 f32_to_f64(u32 a, u32& flags) { return convert_format<F32, F64>(a, kRNE, flags); }

u64 f64_min(u64 a, u64 b, u32& flags) { return min_max<F64>(a, b, false, flags); }
u64 f64_max(u64 a, u64 b, u32& flags) { return min_max<F64>(a, b, true, flags); }
bool f64_eq(u64 a, u64 b, u32& flags) { return eq<F64>(a, b, flags); }
bool f64_lt(u64 a, u64 b, u32& flags) { return lt<F64>(a, b, flags); }
bool f64_le(u64 a, u64 b, u32& flags) { return le<F64>(a, b, flags); }
u32 f64_classify(u64 a) { return classify<F64>(a); }
i32 f64_to_i32(u64 a, unsigned rm, u32& flags) { return to_int<F64, i32>(a, rm, flags); }
u32 f64_to_u32(u64 a, unsigned rm, u32& flags) { return to_int<F64, u32>(a, rm, flags); }
i64 f64_to_i64(u64 a, unsigned rm, u32& flags) { return to_int<F64, i64>(a, rm, flags); }
u64 f64_to_u64(u64 a, unsigned rm, u32& flags) { return to_int<F64, u64>(a, rm, flags); }
u64 i32_to_f64(i32 a, unsigned rm, u32& flags) {
  return from_int<F64>(a < 0, a < 0 ? 0 - u64(a) : u64(a), rm, flags);
}
u64 u32_to_f64(u32 a, unsigned rm, u32& flags) { return from_int<F64>(false, a, rm, flags); }
u64 i64_to_f64(i64 a, unsigned rm, u32& flags) {
  return from_int<F64>(a < 0, a < 0 ? 0 - u64(a) : u64(a), rm, flags);
}
u64 u64_to_f64(u64 a, unsigned rm, u32& flags) { return from_int<F64>(false, a, rm, flags); }
u32 f64_to_f32(u64 a, unsigned rm, u32& flags) { return convert_format<F64, F32>(a, rm, flags); }

}  // namespace rvkvm::fpu
