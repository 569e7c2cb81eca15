#pragma once
// IEEE 754-2008 arithmetic for the RISC-V F and D extensions, over raw bit patterns.
//
// Every function is exact: results are correctly rounded in the requested mode and `flags`
// receives exactly the exception flags IEEE 754 and the RISC-V unprivileged spec (chapters "F"
// and "D") require. RISC-V specifics that differ from "generic" IEEE:
//   - NaN results are always the canonical NaN; payloads never propagate (F spec, "NaN
//     Generation and Propagation").
//   - Tininess is detected after rounding, so UF is raised only when the result is tiny after
//     rounding to the destination precision with an unbounded exponent AND inexact.
//   - fmin/fmax follow F 2.2 (IEEE 754-201x minimumNumber/maximumNumber).
//   - fcvt to integer saturates instead of returning an "indefinite" value.
//   - fma raises NV for inf*0 even when the addend is a quiet NaN.
//
// `rm` is always a valid static mode 0..4: the hart resolves DYN against frm and rejects
// reserved encodings before calling in here. `flags` is only ever ORed into.
//
// Everything runs in software by default. An x86-64 build with -DRVKVM_FPU_HOST_FAST_PATH runs
// the arithmetic operations (add/sub/mul/div/sqrt/fma) on the host SSE unit with MXCSR
// programmed for the requested rounding mode, which matches RISC-V bit-for-bit for
// RNE/RTZ/RDN/RUP (x86 SSE also detects tininess after rounding); RMM and every NaN result still
// go through the software implementation in `soft`, which is what the host path is tested
// against. It is off by default because the per-operation MXCSR reprogramming made it 2-8x
// slower than the software path on the hosts measured (see fpu.cc).
#include "common/types.h"

namespace rvkvm::fpu {

enum RoundingMode : unsigned { kRNE = 0, kRTZ = 1, kRDN = 2, kRUP = 3, kRMM = 4 };

// fflags bit positions (RISC-V unprivileged spec, "Floating-Point Control and Status Register").
enum Flag : u32 { kNX = 1, kUF = 2, kOF = 4, kDZ = 8, kNV = 16 };

inline constexpr u32 kCanonicalNaN32 = 0x7fc00000;
inline constexpr u64 kCanonicalNaN64 = 0x7ff8000000000000;

// fclass result bits (F spec, "Single-Precision Floating-Point Classify Instruction").
enum ClassBit : u32 {
  kClassNegInf = 1u << 0,
  kClassNegNormal = 1u << 1,
  kClassNegSubnormal = 1u << 2,
  kClassNegZero = 1u << 3,
  kClassPosZero = 1u << 4,
  kClassPosSubnormal = 1u << 5,
  kClassPosNormal = 1u << 6,
  kClassPosInf = 1u << 7,
  kClassSignalingNaN = 1u << 8,
  kClassQuietNaN = 1u << 9,
};

constexpr bool f32_is_nan(u32 a) { return (a & 0x7fffffffu) > 0x7f800000u; }
constexpr bool f64_is_nan(u64 a) { return (a & 0x7fffffffffffffffull) > 0x7ff0000000000000ull; }
constexpr bool f32_is_signaling_nan(u32 a) { return f32_is_nan(a) && !(a & 0x00400000u); }
constexpr bool f64_is_signaling_nan(u64 a) { return f64_is_nan(a) && !(a & 0x0008000000000000ull); }

// ---- single precision ----
u32 f32_add(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_sub(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_mul(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_div(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_sqrt(u32 a, unsigned rm, u32& flags);
// (a*b)+c with one rounding; negate_product/negate_addend select fmsub/fnmsub/fnmadd:
// fmadd (f,f), fmsub (f,t), fnmsub (t,f), fnmadd (t,t).
u32 f32_fma(u32 a, u32 b, u32 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags);
u32 f32_min(u32 a, u32 b, u32& flags);
u32 f32_max(u32 a, u32 b, u32& flags);
bool f32_eq(u32 a, u32 b, u32& flags);  // quiet compare
bool f32_lt(u32 a, u32 b, u32& flags);  // signaling compare
bool f32_le(u32 a, u32 b, u32& flags);  // signaling compare
u32 f32_classify(u32 a);
i32 f32_to_i32(u32 a, unsigned rm, u32& flags);
u32 f32_to_u32(u32 a, unsigned rm, u32& flags);
i64 f32_to_i64(u32 a, unsigned rm, u32& flags);
u64 f32_to_u64(u32 a, unsigned rm, u32& flags);
u32 i32_to_f32(i32 a, unsigned rm, u32& flags);
u32 u32_to_f32(u32 a, unsigned rm, u32& flags);
u32 i64_to_f32(i64 a, unsigned rm, u32& flags);
u32 u64_to_f32(u64 a, unsigned rm, u32& flags);
u64 f32_to_f64(u32 a, u32& flags);

// ---- double precision ----
u64 f64_add(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_sub(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_mul(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_div(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_sqrt(u64 a, unsigned rm, u32& flags);
u64 f64_fma(u64 a, u64 b, u64 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags);
u64 f64_min(u64 a, u64 b, u32& flags);
u64 f64_max(u64 a, u64 b, u32& flags);
bool f64_eq(u64 a, u64 b, u32& flags);
bool f64_lt(u64 a, u64 b, u32& flags);
bool f64_le(u64 a, u64 b, u32& flags);
u32 f64_classify(u64 a);
i32 f64_to_i32(u64 a, unsigned rm, u32& flags);
u32 f64_to_u32(u64 a, unsigned rm, u32& flags);
i64 f64_to_i64(u64 a, unsigned rm, u32& flags);
u64 f64_to_u64(u64 a, unsigned rm, u32& flags);
u64 i32_to_f64(i32 a, unsigned rm, u32& flags);  // always exact
u64 u32_to_f64(u32 a, unsigned rm, u32& flags);  // always exact
u64 i64_to_f64(i64 a, unsigned rm, u32& flags);
u64 u64_to_f64(u64 a, unsigned rm, u32& flags);
u32 f64_to_f32(u64 a, unsigned rm, u32& flags);

// True when the arithmetic entry points above may use the host FPU (x86-64 build with
// RVKVM_FPU_HOST_FAST_PATH, and FMA3 present for the fma entry points; see host_fma_available()).
bool host_fast_path_available();
bool host_fma_available();

// The pure-software implementation of the operations that have a host fast path. Results and
// flags are identical to the entry points above for every input and mode; exposed so tests and
// benchmarks can exercise each path on its own.
namespace soft {
u32 f32_add(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_sub(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_mul(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_div(u32 a, u32 b, unsigned rm, u32& flags);
u32 f32_sqrt(u32 a, unsigned rm, u32& flags);
u32 f32_fma(u32 a, u32 b, u32 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags);
u64 f64_add(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_sub(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_mul(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_div(u64 a, u64 b, unsigned rm, u32& flags);
u64 f64_sqrt(u64 a, unsigned rm, u32& flags);
u64 f64_fma(u64 a, u64 b, u64 c, bool negate_product, bool negate_addend, unsigned rm,
            u32& flags);
}  // namespace soft

}  // namespace rvkvm::fpu
