// Conversions between floating point and integers: fcvt.{w,wu,l,lu}.{s,d} and
// fcvt.{s,d}.{w,wu,l,lu}, under every rounding mode (static and DYN).
//
// Rules (F chapter, "Single-Precision Floating-Point Conversion and Move Instructions", and the D
// chapter, which applies the same table to FCVT.int.D):
//  - Range is judged on the ROUNDED value; out-of-range, infinite and NaN inputs produce the
//    saturated values of the "Domains of float-to-integer conversions" table (NaN -> largest
//    positive, whatever its sign) and set NV only (NX is not set together with NV: "set the
//    Inexact exception flag if the rounded result differs from the operand value and the Invalid
//    exception flag is not set").
//  - For XLEN > 32, FCVT.W[U].{S,D} sign-extend the 32-bit result (so 2^31 from fcvt.wu reads as
//    0xffffffff80000000).
//  - FCVT.{S,D}.W[U] take the low 32 bits of rs1 (the W forms convert "a 32-bit integer").
//  - Integer zero converts to +0 in every mode (IEEE 754-2008 5.4.1 convertFromInt is exact for 0).
//  - FCVT.D.W[U] is always exact (D chapter); its rm field is still decoded, so it is swept with
//    .insn encodings.
#include "fp.h"

#define M1 0xffffffffffffffffull  // -1 / all ones
#define I32MAX 0x7fffffffull
#define I32MIN 0xffffffff80000000ull
#define I64MAX 0x7fffffffffffffffull
#define I64MIN 0x8000000000000000ull
#define SQNAN 0x7fc00000u
#define SSNAN 0x7f800001u
#define SINF 0x7f800000u
#define SNINF 0xff800000u
#define DINF 0x7ff0000000000000ull
#define DNINF 0xfff0000000000000ull
#define DSNAN 0x7ff0000000000001ull

static void test_f_to_w(void) {
  // 1.5, 2.5, -2.5, -0.5, 0.5: the 2.5 and -0.5 cases separate RMM from RNE.
  SW_XF1("fcvt.w.s", B(0x3fc00000), E5(2, 1, 1, 2, 2), FALL(NX));
  SW_XF1("fcvt.w.s", B(0x40200000), E5(2, 2, 2, 3, 3), FALL(NX));
  SW_XF1("fcvt.w.s", B(0xc0200000), E5(-2, -2, -3, -2, -3), FALL(NX));
  SW_XF1("fcvt.w.s", B(0xbf000000), E5(0, 0, -1, 0, -1), FALL(NX));
  SW_XF1("fcvt.w.s", B(0x3f000000), E5(0, 0, 0, 1, 1), FALL(NX));
  SW_XF1("fcvt.w.s", B(0x00000001), E5(0, 0, 0, 1, 0), FALL(NX));
  SW_XF1("fcvt.w.s", B(0x80000001), E5(0, 0, -1, 0, 0), FALL(NX));
  CK(XF1("fcvt.w.s", ",rne", B(0xc0e00000)), -7, 0);
  CK(XF1("fcvt.w.s", ",rne", B(0x80000000)), 0, 0);
  // Boundaries: 2^31 - 128 is the largest float below 2^31.
  CK(XF1("fcvt.w.s", ",rne", B(0x4effffff)), 0x7fffff80, 0);
  SW_XF1("fcvt.w.s", B(0x4f000000), FALL(I32MAX), FALL(NV));  // 2^31
  SW_XF1("fcvt.w.s", B(0xcf000000), FALL(I32MIN), FALL(0));   // -2^31 is in range
  SW_XF1("fcvt.w.s", B(0xcf000001), FALL(I32MIN), FALL(NV));  // -(2^31 + 256)
  CK(XF1("fcvt.w.s", ",rne", B(SINF)), I32MAX, NV);
  CK(XF1("fcvt.w.s", ",rne", B(SNINF)), I32MIN, NV);
  CK(XF1("fcvt.w.s", ",rne", B(SQNAN)), I32MAX, NV);
  CK(XF1("fcvt.w.s", ",rne", B(0xffc00000)), I32MAX, NV);  // negative NaN: still max
  CK(XF1("fcvt.w.s", ",rne", B(SSNAN)), I32MAX, NV);
  CK(XF1("fcvt.w.s", ",rne", B(0xff800001)), I32MAX, NV);
  CK(XF1("fcvt.w.s", ",rne", B(0x7f7fffff)), I32MAX, NV);

  // fcvt.w.d: values just around the limits, where rounding decides the range check.
  // 2147483647.5: RNE/RUP/RMM round to 2^31 (out of range, NV); RTZ/RDN give 2^31-1 (NX).
  SW_XF1("fcvt.w.d", 0x41dfffffffe00000ull, FALL(I32MAX), F5(NV, NX, NX, NV, NV));
  // 2147483646.5: an in-range tie (even neighbour 2147483646).
  SW_XF1("fcvt.w.d", 0x41dfffffffa00000ull,
         E5(0x7ffffffe, 0x7ffffffe, 0x7ffffffe, 0x7fffffff, 0x7fffffff), FALL(NX));
  // -2147483648.5: RNE ties to the even -2^31 (in range); RDN/RMM go to -2^31-1 (NV).
  SW_XF1("fcvt.w.d", 0xc1e0000000100000ull, FALL(I32MIN), F5(NX, NX, NV, NX, NV));
  SW_XF1("fcvt.w.d", 0xc1e0000000200000ull, FALL(I32MIN), FALL(NV));  // -2147483649
  SW_XF1("fcvt.w.d", 0x41e0000000000000ull, FALL(I32MAX), FALL(NV));  // 2^31
  SW_XF1("fcvt.w.d", 0xc1e0000000000000ull, FALL(I32MIN), FALL(0));
  SW_XF1("fcvt.w.d", 0x41dfffffffc00000ull, FALL(I32MAX), FALL(0));
  SW_XF1("fcvt.w.d", 0x4004000000000000ull, E5(2, 2, 2, 3, 3), FALL(NX));  // 2.5
  SW_XF1("fcvt.w.d", 0xbfe0000000000000ull, E5(0, 0, -1, 0, -1), FALL(NX));  // -0.5
  SW_XF1("fcvt.w.d", 0xbff8000000000000ull, E5(-2, -1, -2, -1, -2), FALL(NX));  // -1.5
  CK(XF1("fcvt.w.d", ",rne", 0x7fefffffffffffffull), I32MAX, NV);
  CK(XF1("fcvt.w.d", ",rne", 0xffefffffffffffffull), I32MIN, NV);
  CK(XF1("fcvt.w.d", ",rne", DINF), I32MAX, NV);
  CK(XF1("fcvt.w.d", ",rne", DNINF), I32MIN, NV);
  CK(XF1("fcvt.w.d", ",rne", QNAN_D), I32MAX, NV);
  CK(XF1("fcvt.w.d", ",rne", 0xfff8000000000000ull), I32MAX, NV);
  CK(XF1("fcvt.w.d", ",rne", DSNAN), I32MAX, NV);
  CK(XF1("fcvt.w.d", ",rne", 0x8000000000000000ull), 0, 0);
}

static void test_f_to_wu(void) {
  CK(XF1("fcvt.wu.s", ",rne", B(0x40400000)), 3, 0);
  SW_XF1("fcvt.wu.s", B(0x3fc00000), E5(2, 1, 1, 2, 2), FALL(NX));
  // -0.5 rounds to -0 (= 0, in range, NX) except under RDN/RMM, which give -1 (NV, result 0).
  SW_XF1("fcvt.wu.s", B(0xbf000000), FALL(0), F5(NX, NX, NV, NX, NV));
  SW_XF1("fcvt.wu.s", B(0xbf800000), FALL(0), FALL(NV));  // -1.0
  CK(XF1("fcvt.wu.s", ",rne", B(0x80000000)), 0, 0);
  // 2^31 is in range for WU; the 32-bit result 0x80000000 is sign-extended.
  SW_XF1("fcvt.wu.s", B(0x4f000000), FALL(0xffffffff80000000ull), FALL(0));
  CK(XF1("fcvt.wu.s", ",rne", B(0x4f7fffff)), 0xffffffffffffff00ull, 0);  // 2^32 - 256
  SW_XF1("fcvt.wu.s", B(0x4f800000), FALL(M1), FALL(NV));                 // 2^32
  CK(XF1("fcvt.wu.s", ",rne", B(SINF)), M1, NV);
  CK(XF1("fcvt.wu.s", ",rne", B(SNINF)), 0, NV);
  CK(XF1("fcvt.wu.s", ",rne", B(SQNAN)), M1, NV);
  CK(XF1("fcvt.wu.s", ",rne", B(0xffc00000)), M1, NV);
  CK(XF1("fcvt.wu.s", ",rne", B(SSNAN)), M1, NV);
  CK(XF1("fcvt.wu.s", ",rne", B(0xcf000000)), 0, NV);

  // 4294967295.5: only RTZ/RDN stay in range (2^32-1, read back sign-extended as all ones).
  SW_XF1("fcvt.wu.d", 0x41effffffff00000ull, FALL(M1), F5(NV, NX, NX, NV, NV));
  // 4294967294.5: an in-range tie.
  SW_XF1("fcvt.wu.d", 0x41efffffffd00000ull,
         E5(0xfffffffffffffffeull, 0xfffffffffffffffeull, 0xfffffffffffffffeull, M1, M1),
         FALL(NX));
  SW_XF1("fcvt.wu.d", 0x41efffffffe00000ull, FALL(M1), FALL(0));  // 2^32 - 1
  SW_XF1("fcvt.wu.d", 0x41f0000000000000ull, FALL(M1), FALL(NV));  // 2^32
  // 2^31 + 0.5.
  SW_XF1("fcvt.wu.d", 0x41e0000000100000ull,
         E5(0xffffffff80000000ull, 0xffffffff80000000ull, 0xffffffff80000000ull,
            0xffffffff80000001ull, 0xffffffff80000001ull), FALL(NX));
  SW_XF1("fcvt.wu.d", 0xbfe0000000000000ull, FALL(0), F5(NX, NX, NV, NX, NV));  // -0.5
  // The smallest negative subnormal: only RDN rounds it to -1.
  SW_XF1("fcvt.wu.d", 0x8000000000000001ull, FALL(0), F5(NX, NX, NV, NX, NX));
  SW_XF1("fcvt.wu.d", 0xbff0000000000000ull, FALL(0), FALL(NV));  // -1.0
  CK(XF1("fcvt.wu.d", ",rne", DINF), M1, NV);
  CK(XF1("fcvt.wu.d", ",rne", DNINF), 0, NV);
  CK(XF1("fcvt.wu.d", ",rne", QNAN_D), M1, NV);
  CK(XF1("fcvt.wu.d", ",rne", 0xfff0000000000001ull), M1, NV);
}

static void test_f_to_l(void) {
  SW_XF1("fcvt.l.s", B(0xc0200000), E5(-2, -2, -3, -2, -3), FALL(NX));
  SW_XF1("fcvt.l.s", B(0x3fc00000), E5(2, 1, 1, 2, 2), FALL(NX));
  SW_XF1("fcvt.l.s", B(0x5f000000), FALL(I64MAX), FALL(NV));  // 2^63
  CK(XF1("fcvt.l.s", ",rne", B(0x5effffff)), 0x7fffff8000000000ull, 0);
  SW_XF1("fcvt.l.s", B(0xdf000000), FALL(I64MIN), FALL(0));   // -2^63
  SW_XF1("fcvt.l.s", B(0xdf000001), FALL(I64MIN), FALL(NV));
  CK(XF1("fcvt.l.s", ",rne", B(SINF)), I64MAX, NV);
  CK(XF1("fcvt.l.s", ",rne", B(SNINF)), I64MIN, NV);
  CK(XF1("fcvt.l.s", ",rne", B(0xffc00000)), I64MAX, NV);
  CK(XF1("fcvt.l.s", ",rne", B(SSNAN)), I64MAX, NV);
  CK(XF1("fcvt.l.s", ",rne", B(0xcf000000)), 0xffffffff80000000ull, 0);

  SW_XF1("fcvt.l.d", 0x43e0000000000000ull, FALL(I64MAX), FALL(NV));  // 2^63
  CK(XF1("fcvt.l.d", ",rne", 0x43dfffffffffffffull), 0x7ffffffffffffc00ull, 0);
  SW_XF1("fcvt.l.d", 0xc3e0000000000000ull, FALL(I64MIN), FALL(0));
  SW_XF1("fcvt.l.d", 0xc3e0000000000001ull, FALL(I64MIN), FALL(NV));
  // 2^52 - 0.5: a tie between the odd 2^52-1 and the even 2^52.
  SW_XF1("fcvt.l.d", 0x432fffffffffffffull,
         E5(0x10000000000000ull, 0xfffffffffffffull, 0xfffffffffffffull, 0x10000000000000ull,
            0x10000000000000ull), FALL(NX));
  SW_XF1("fcvt.l.d", 0xc32fffffffffffffull,
         E5(-0x10000000000000ll, -0xfffffffffffffll, -0x10000000000000ll, -0xfffffffffffffll,
            -0x10000000000000ll), FALL(NX));
  CK(XF1("fcvt.l.d", ",rne", 0x4330000000000001ull), 0x10000000000001ull, 0);
  // Subnormal inputs: only the directed mode away from zero reaches +-1.
  SW_XF1("fcvt.l.d", 1, E5(0, 0, 0, 1, 0), FALL(NX));
  SW_XF1("fcvt.l.d", 0x8000000000000001ull, E5(0, 0, -1, 0, 0), FALL(NX));
  SW_XF1("fcvt.lu.d", 0x000fffffffffffffull, E5(0, 0, 0, 1, 0), FALL(NX));
  SW_XF1("fcvt.l.d", 0x4004000000000000ull, E5(2, 2, 2, 3, 3), FALL(NX));
  CK(XF1("fcvt.l.d", ",rne", DINF), I64MAX, NV);
  CK(XF1("fcvt.l.d", ",rne", DNINF), I64MIN, NV);
  CK(XF1("fcvt.l.d", ",rne", QNAN_D), I64MAX, NV);
  CK(XF1("fcvt.l.d", ",rne", 0xfff8000000000000ull), I64MAX, NV);
  CK(XF1("fcvt.l.d", ",rne", DSNAN), I64MAX, NV);
  CK(XF1("fcvt.l.d", ",rne", 0x7fefffffffffffffull), I64MAX, NV);
}

static void test_f_to_lu(void) {
  SW_XF1("fcvt.lu.s", B(0x5f800000), FALL(M1), FALL(NV));  // 2^64
  CK(XF1("fcvt.lu.s", ",rne", B(0x5f7fffff)), 0xffffff0000000000ull, 0);
  CK(XF1("fcvt.lu.s", ",rne", B(0x5f000000)), 0x8000000000000000ull, 0);
  SW_XF1("fcvt.lu.s", B(0xbf000000), FALL(0), F5(NX, NX, NV, NX, NV));
  SW_XF1("fcvt.lu.s", B(0xbf800000), FALL(0), FALL(NV));
  SW_XF1("fcvt.lu.s", B(0x40200000), E5(2, 2, 2, 3, 3), FALL(NX));
  CK(XF1("fcvt.lu.s", ",rne", B(SNINF)), 0, NV);
  CK(XF1("fcvt.lu.s", ",rne", B(SINF)), M1, NV);
  CK(XF1("fcvt.lu.s", ",rne", B(SQNAN)), M1, NV);
  CK(XF1("fcvt.lu.s", ",rne", B(0xffc00000)), M1, NV);

  SW_XF1("fcvt.lu.d", 0x43f0000000000000ull, FALL(M1), FALL(NV));  // 2^64
  CK(XF1("fcvt.lu.d", ",rne", 0x43efffffffffffffull), 0xfffffffffffff800ull, 0);
  CK(XF1("fcvt.lu.d", ",rne", 0x43e0000000000000ull), 0x8000000000000000ull, 0);
  SW_XF1("fcvt.lu.d", 0x3ff8000000000000ull, E5(2, 1, 1, 2, 2), FALL(NX));
  SW_XF1("fcvt.lu.d", 0xbfe0000000000000ull, FALL(0), F5(NX, NX, NV, NX, NV));
  SW_XF1("fcvt.lu.d", 0xbff0000000000000ull, FALL(0), FALL(NV));
  CK(XF1("fcvt.lu.d", ",rne", 0x8000000000000000ull), 0, 0);
  CK(XF1("fcvt.lu.d", ",rne", DNINF), 0, NV);
  CK(XF1("fcvt.lu.d", ",rne", DINF), M1, NV);
  CK(XF1("fcvt.lu.d", ",rne", QNAN_D), M1, NV);
  CK(XF1("fcvt.lu.d", ",rne", DSNAN), M1, NV);
  CK(XF1("fcvt.lu.d", ",rne", 0xfff8000000000000ull), M1, NV);
}

static void test_int_to_s(void) {
  // 2^24+1 is a tie between 2^24 (even) and 2^24+2.
  SW_FX1("fcvt.s.w", 0x01000001, E5S(0x4b800000, 0x4b800000, 0x4b800000, 0x4b800001, 0x4b800001),
         FALL(NX));
  // 2^24+3: tie with an odd lower neighbour.
  SW_FX1("fcvt.s.w", 0x01000003, E5S(0x4b800002, 0x4b800001, 0x4b800001, 0x4b800002, 0x4b800002),
         FALL(NX));
  SW_FX1("fcvt.s.w", -0x01000001ll,
         E5S(0xcb800000, 0xcb800000, 0xcb800001, 0xcb800000, 0xcb800001), FALL(NX));
  SW_FX1("fcvt.s.w", I32MAX, E5S(0x4f000000, 0x4effffff, 0x4effffff, 0x4f000000, 0x4f000000),
         FALL(NX));
  SW_FX1("fcvt.s.w", I32MIN, E5S(0xcf000000, 0xcf000000, 0xcf000000, 0xcf000000, 0xcf000000),
         FALL(0));
  // Integer zero is +0 even under RDN.
  SW_FX1("fcvt.s.w", 0, E5S(0, 0, 0, 0, 0), FALL(0));
  CKS(FX1("fcvt.s.w", ",rne", 1), 0x3f800000, 0);
  CKS(FX1("fcvt.s.w", ",rne", M1), 0xbf800000, 0);
  // Only the low 32 bits of rs1 are converted.
  CKS(FX1("fcvt.s.w", ",rne", 0x00000000ffffffffull), 0xbf800000, 0);
  CKS(FX1("fcvt.s.w", ",rne", 0xdeadbeef00000001ull), 0x3f800000, 0);
  CKS(FX1("fcvt.s.w", ",rne", 0x0000000080000000ull), 0xcf000000, 0);

  SW_FX1("fcvt.s.wu", 0xffffffffull,
         E5S(0x4f800000, 0x4f7fffff, 0x4f7fffff, 0x4f800000, 0x4f800000), FALL(NX));
  SW_FX1("fcvt.s.wu", 0x12345678ffffffffull,
         E5S(0x4f800000, 0x4f7fffff, 0x4f7fffff, 0x4f800000, 0x4f800000), FALL(NX));
  CKS(FX1("fcvt.s.wu", ",rne", 0xffffffff80000000ull), 0x4f000000, 0);
  SW_FX1("fcvt.s.wu", 0x01000001,
         E5S(0x4b800000, 0x4b800000, 0x4b800000, 0x4b800001, 0x4b800001), FALL(NX));
  SW_FX1("fcvt.s.wu", 0xffffffff00000000ull, E5S(0, 0, 0, 0, 0), FALL(0));

  SW_FX1("fcvt.s.l", I64MAX, E5S(0x5f000000, 0x5effffff, 0x5effffff, 0x5f000000, 0x5f000000),
         FALL(NX));
  CKS(FX1("fcvt.s.l", ",rne", I64MIN), 0xdf000000, 0);
  // Around 2^32 the single-precision ulp is 512: +256 is a tie, +257 is above it (sticky bit).
  SW_FX1("fcvt.s.l", 0x100000100ull,
         E5S(0x4f800000, 0x4f800000, 0x4f800000, 0x4f800001, 0x4f800001), FALL(NX));
  SW_FX1("fcvt.s.l", 0x100000101ull,
         E5S(0x4f800001, 0x4f800000, 0x4f800000, 0x4f800001, 0x4f800001), FALL(NX));
  SW_FX1("fcvt.s.l", 0x100000300ull,
         E5S(0x4f800002, 0x4f800001, 0x4f800001, 0x4f800002, 0x4f800002), FALL(NX));
  SW_FX1("fcvt.s.l", -0x100000100ll,
         E5S(0xcf800000, 0xcf800000, 0xcf800001, 0xcf800000, 0xcf800001), FALL(NX));
  SW_FX1("fcvt.s.l", 0, E5S(0, 0, 0, 0, 0), FALL(0));
  CKS(FX1("fcvt.s.l", ",rne", 0x00000000ffffffffull), 0x4f800000, NX);  // a 64-bit source

  SW_FX1("fcvt.s.lu", M1, E5S(0x5f800000, 0x5f7fffff, 0x5f7fffff, 0x5f800000, 0x5f800000),
         FALL(NX));
  CKS(FX1("fcvt.s.lu", ",rne", 0x8000000000000000ull), 0x5f000000, 0);
  // 2^63 + 2^39: half of the 2^40 ulp.
  SW_FX1("fcvt.s.lu", 0x8000008000000000ull,
         E5S(0x5f000000, 0x5f000000, 0x5f000000, 0x5f000001, 0x5f000001), FALL(NX));
  SW_FX1("fcvt.s.lu", 0, E5S(0, 0, 0, 0, 0), FALL(0));
}

static void test_int_to_d(void) {
  // fcvt.d.w / fcvt.d.wu are exact in every rounding mode (rm swept through .insn).
  SW_FX1_INSN(0x69, x0, I32MIN, FALL(0xc1e0000000000000ull), FALL(0));
  SW_FX1_INSN(0x69, x0, I32MAX, FALL(0x41dfffffffc00000ull), FALL(0));
  SW_FX1_INSN(0x69, x0, 0, FALL(0), FALL(0));  // +0 even under RDN
  SW_FX1_INSN(0x69, x0, 0x00000000ffffffffull, FALL(0xbff0000000000000ull), FALL(0));
  SW_FX1_INSN(0x69, x0, 0x1234567800000003ull, FALL(0x4008000000000000ull), FALL(0));
  SW_FX1_INSN(0x69, x1, 0xffffffffull, FALL(0x41efffffffe00000ull), FALL(0));
  SW_FX1_INSN(0x69, x1, 0xffffffff80000000ull, FALL(0x41e0000000000000ull), FALL(0));
  SW_FX1_INSN(0x69, x1, 0xffffffff00000000ull, FALL(0), FALL(0));
  CK(FX1("fcvt.d.w", "", M1), 0xbff0000000000000ull, 0);
  CK(FX1("fcvt.d.wu", "", M1), 0x41efffffffe00000ull, 0);

  // 2^53+1 and 2^53+3: ties with even / odd lower neighbours.
  SW_FX1("fcvt.d.l", 0x20000000000001ull,
         E5(0x4340000000000000ull, 0x4340000000000000ull, 0x4340000000000000ull,
            0x4340000000000001ull, 0x4340000000000001ull), FALL(NX));
  SW_FX1("fcvt.d.l", 0x20000000000003ull,
         E5(0x4340000000000002ull, 0x4340000000000001ull, 0x4340000000000001ull,
            0x4340000000000002ull, 0x4340000000000002ull), FALL(NX));
  SW_FX1("fcvt.d.l", -0x20000000000001ll,
         E5(0xc340000000000000ull, 0xc340000000000000ull, 0xc340000000000001ull,
            0xc340000000000000ull, 0xc340000000000001ull), FALL(NX));
  SW_FX1("fcvt.d.l", I64MAX,
         E5(0x43e0000000000000ull, 0x43dfffffffffffffull, 0x43dfffffffffffffull,
            0x43e0000000000000ull, 0x43e0000000000000ull), FALL(NX));
  CK(FX1("fcvt.d.l", ",rne", I64MIN), 0xc3e0000000000000ull, 0);
  SW_FX1("fcvt.d.l", 0, FALL(0), FALL(0));
  CK(FX1("fcvt.d.l", ",rne", 0x20000000000000ull), 0x4340000000000000ull, 0);

  SW_FX1("fcvt.d.lu", M1,
         E5(0x43f0000000000000ull, 0x43efffffffffffffull, 0x43efffffffffffffull,
            0x43f0000000000000ull, 0x43f0000000000000ull), FALL(NX));
  // 2^63 + 2^10: half of the 2^11 ulp.
  SW_FX1("fcvt.d.lu", 0x8000000000000400ull,
         E5(0x43e0000000000000ull, 0x43e0000000000000ull, 0x43e0000000000000ull,
            0x43e0000000000001ull, 0x43e0000000000001ull), FALL(NX));
  CK(FX1("fcvt.d.lu", ",rne", 0x8000000000000000ull), 0x43e0000000000000ull, 0);
  SW_FX1("fcvt.d.lu", 0, FALL(0), FALL(0));
}

int main(void) {
  test_f_to_w();
  test_f_to_wu();
  test_f_to_l();
  test_f_to_lu();
  test_int_to_s();
  test_int_to_d();
  return fp_result();
}
