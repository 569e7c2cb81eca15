// fcvt.s.d (narrowing, rounds per rm) and fcvt.d.s (widening, exact: "FCVT.D.S will never
// round", D chapter). fcvt.d.s still decodes its rm field like any other instruction (F chapter,
// "Rounding Modes": "implementations must treat the rm field as usual"), so it is swept with .insn
// encodings (funct7 0x21, rs2 = 0 for an S source).
//
// Overflow/underflow follow IEEE 754-2008 7.4/7.5 with tininess after rounding (F chapter,
// "Subnormal Arithmetic"); NaN results are canonical and an sNaN source raises NV.
#include "fp.h"

#define ONE 0x3f800000u
#define MAXF 0x7f7fffffu
#define NMAXF 0xff7fffffu
#define INF 0x7f800000u
#define NINF 0xff800000u
#define MINN 0x00800000u
#define NZERO 0x80000000u

static void test_d_to_s(void) {
  // 1/3 in double rounds again to single: the discarded bits start 1010..., above half.
  SW_FF1("fcvt.s.d", 0x3fd5555555555555ull,
         E5S(0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab), FALL(NX));
  // 1 + 2^-24 (tie to even 1.0), 1 + 2^-23 + 2^-24 (tie, odd lower neighbour), just above a tie.
  SW_FF1("fcvt.s.d", 0x3ff0000010000000ull, E5S(ONE, ONE, ONE, 0x3f800001, 0x3f800001), FALL(NX));
  SW_FF1("fcvt.s.d", 0x3ff0000030000000ull,
         E5S(0x3f800002, 0x3f800001, 0x3f800001, 0x3f800002, 0x3f800002), FALL(NX));
  SW_FF1("fcvt.s.d", 0x3ff0000010000001ull,
         E5S(0x3f800001, ONE, ONE, 0x3f800001, 0x3f800001), FALL(NX));
  SW_FF1("fcvt.s.d", 0xbff0000010000000ull,
         E5S(0xbf800000, 0xbf800000, 0xbf800001, 0xbf800000, 0xbf800001), FALL(NX));
  SW_FF1("fcvt.s.d", 0x3ff8000000000000ull,
         E5S(0x3fc00000, 0x3fc00000, 0x3fc00000, 0x3fc00000, 0x3fc00000), FALL(0));

  // Overflow boundary. max float = 0x47efffffe0000000; the midpoint to 2^128 is 0x47effffff0...
  SW_FF1("fcvt.s.d", 0x47efffffe0000000ull, E5S(MAXF, MAXF, MAXF, MAXF, MAXF), FALL(0));
  SW_FF1("fcvt.s.d", 0x47effffff0000000ull, E5S(INF, MAXF, MAXF, INF, INF),
         F5(OF | NX, NX, NX, OF | NX, OF | NX));
  SW_FF1("fcvt.s.d", 0x47efffffefffffffull, E5S(MAXF, MAXF, MAXF, INF, MAXF),
         F5(NX, NX, NX, OF | NX, NX));
  // 2^128 itself overflows in every mode (the unbounded result already exceeds max).
  SW_FF1("fcvt.s.d", 0x47f0000000000000ull, E5S(INF, MAXF, MAXF, INF, INF), FALL(OF | NX));
  SW_FF1("fcvt.s.d", 0xc7effffff0000000ull, E5S(NINF, NMAXF, NINF, NMAXF, NINF),
         F5(OF | NX, NX, OF | NX, NX, OF | NX));
  SW_FF1("fcvt.s.d", 0x7fefffffffffffffull, E5S(INF, MAXF, MAXF, INF, INF), FALL(OF | NX));

  // Underflow.
  SW_FF1("fcvt.s.d", 0x36a0000000000000ull, E5S(1, 1, 1, 1, 1), FALL(0));  // 2^-149 exact
  SW_FF1("fcvt.s.d", 0x3800000000000000ull,                                   // 2^-127 exact
         E5S(0x00400000, 0x00400000, 0x00400000, 0x00400000, 0x00400000), FALL(0));
  SW_FF1("fcvt.s.d", 0x3690000000000000ull, E5S(0, 0, 0, 1, 1), FALL(UF | NX));  // 2^-150
  SW_FF1("fcvt.s.d", 0x3698000000000000ull, E5S(1, 0, 0, 1, 1), FALL(UF | NX));  // 0.75*2^-149
  SW_FF1("fcvt.s.d", 0x36a8000000000000ull, E5S(2, 1, 1, 2, 2), FALL(UF | NX));  // 1.5*2^-149
  SW_FF1("fcvt.s.d", 0x36b4000000000000ull, E5S(2, 2, 2, 3, 3), FALL(UF | NX));  // 2.5*2^-149
  SW_FF1("fcvt.s.d", 0x0000000000000001ull, E5S(0, 0, 0, 1, 0), FALL(UF | NX));
  SW_FF1("fcvt.s.d", 0x8000000000000001ull, E5S(NZERO, NZERO, 0x80000001, NZERO, NZERO),
         FALL(UF | NX));
  // 2^-126 * (1 - 2^-25): the unbounded-exponent tie rounds to 2^-126 under RNE and RMM, so the
  // result is not tiny (NX only). Tininess before rounding would wrongly add UF.
  SW_FF1("fcvt.s.d", 0x380ffffff0000000ull, E5S(MINN, 0x7fffff, 0x7fffff, MINN, MINN),
         F5(NX, UF | NX, UF | NX, NX, NX));
  // One double ulp lower: the unbounded nearest result is 2^-126 - 2^-150 (tiny, UF), but on the
  // subnormal grid the value is still nearer to 2^-126, which is what is delivered.
  SW_FF1("fcvt.s.d", 0x380fffffefffffffull, E5S(MINN, 0x7fffff, 0x7fffff, MINN, MINN),
         F5(UF | NX, UF | NX, UF | NX, NX, UF | NX));
  SW_FF1("fcvt.s.d", 0xb80ffffff0000000ull,
         E5S(0x80800000, 0x807fffff, 0x80800000, 0x807fffff, 0x80800000),
         F5(NX, UF | NX, NX, UF | NX, NX));

  // Specials.
  CKS(FF1("fcvt.s.d", ",rne", 0x7ff0000000000000ull), INF, 0);
  CKS(FF1("fcvt.s.d", ",rtz", 0xfff0000000000000ull), NINF, 0);
  CKS(FF1("fcvt.s.d", ",rdn", 0x8000000000000000ull), NZERO, 0);
  CKS(FF1("fcvt.s.d", ",rne", 0), 0, 0);
  CKS(FF1("fcvt.s.d", ",rne", QNAN_D), QNAN_S, 0);
  CKS(FF1("fcvt.s.d", ",rne", 0x7ff8000012345678ull), QNAN_S, 0);
  CKS(FF1("fcvt.s.d", ",rne", B(ONE)), QNAN_S, 0);  // a boxed single is a quiet NaN as a double
  CKS(FF1("fcvt.s.d", ",rne", 0xfff8000000000000ull), QNAN_S, 0);
  // sNaNs whose payload lies only in bits that narrowing would drop: must not become infinity.
  CKS(FF1("fcvt.s.d", ",rne", 0x7ff0000000000001ull), QNAN_S, NV);
  CKS(FF1("fcvt.s.d", ",rne", 0xfff0000000000001ull), QNAN_S, NV);
  CKS(FF1("fcvt.s.d", ",rne", 0x7ff4000000000000ull), QNAN_S, NV);
}

static void test_s_to_d(void) {
  SW_FF1_INSN(0x21, f0, B(0x3fc00000), FALL(0x3ff8000000000000ull), FALL(0));
  SW_FF1_INSN(0x21, f0, B(0x00000001), FALL(0x36a0000000000000ull), FALL(0));  // 2^-149
  SW_FF1_INSN(0x21, f0, B(0x80000001), FALL(0xb6a0000000000000ull), FALL(0));
  SW_FF1_INSN(0x21, f0, B(0x007fffff), FALL(0x380fffffc0000000ull), FALL(0));
  SW_FF1_INSN(0x21, f0, B(MAXF), FALL(0x47efffffe0000000ull), FALL(0));
  SW_FF1_INSN(0x21, f0, B(0x3eaaaaab), FALL(0x3fd5555560000000ull), FALL(0));
  CK(FF1("fcvt.d.s", "", B(INF)), 0x7ff0000000000000ull, 0);
  CK(FF1("fcvt.d.s", "", B(NINF)), 0xfff0000000000000ull, 0);
  CK(FF1("fcvt.d.s", "", B(NZERO)), 0x8000000000000000ull, 0);
  CK(FF1("fcvt.d.s", "", B(0)), 0, 0);
  CK(FF1("fcvt.d.s", "", B(QNAN_S)), QNAN_D, 0);
  CK(FF1("fcvt.d.s", "", B(0x7fc12345)), QNAN_D, 0);
  CK(FF1("fcvt.d.s", "", B(0xffc00000)), QNAN_D, 0);
  CK(FF1("fcvt.d.s", "", B(0x7f800001)), QNAN_D, NV);
  CK(FF1("fcvt.d.s", "", B(0xffbfffff)), QNAN_D, NV);
  // An improperly NaN-boxed source is the canonical NaN (quiet: no NV).
  CK(FF1("fcvt.d.s", "", 0x000000003f800000ull), QNAN_D, 0);
  CK(FF1("fcvt.d.s", "", 0x7ff0000000000001ull), QNAN_D, 0);
}

int main(void) {
  test_d_to_s();
  test_s_to_d();
  return fp_result();
}
