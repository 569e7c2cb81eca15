// F extension arithmetic: fadd.s/fsub.s/fmul.s/fdiv.s/fsqrt.s and the four fused multiply-adds,
// under every static rounding mode and under DYN with frm = RNE..RMM, checking the exact result
// bits (including the NaN-box of the destination) and the exact fflags of each single operation.
//
// Rules used (unprivileged spec, F chapter unless noted):
//  - "NaN Generation and Propagation": any NaN result is the canonical NaN 0x7fc00000.
//  - "Subnormal Arithmetic": tininess is detected after rounding; without traps, UF is raised
//    only when the result is tiny and inexact (IEEE 754-2008 7.5).
//  - IEEE 754-2008 7.4: overflow is judged on the result rounded with an unbounded exponent; RTZ,
//    and RDN/RUP away from the infinity, deliver the largest finite number; OF always comes with NX.
//  - IEEE 754-2008 6.3: an exact zero sum of opposite-signed operands is +0, except -0 under RDN;
//    x + x keeps the sign of x for zeros.
//  - FMA: single rounding; inf*0 raises NV even if the addend is a quiet NaN; FNMSUB computes
//    -(a*b)+c and FNMADD -(a*b)-c, so the negation happens before rounding.
#include "fp.h"

#define ONE 0x3f800000u
#define TWO 0x40000000u
#define THREE 0x40400000u
#define HALF 0x3f000000u
#define MAXF 0x7f7fffffu
#define NMAXF 0xff7fffffu
#define INF 0x7f800000u
#define NINF 0xff800000u
#define MINN 0x00800000u  // 2^-126, smallest normal
#define SNAN 0x7f800001u
#define NZERO 0x80000000u

static void test_add_sub(void) {
  // 1 + 2^-24 is exactly halfway between 1 and 1+2^-23: RNE picks the even 1.0, RMM rounds away.
  SW_FF2("fadd.s", B(ONE), B(0x33800000), E5S(ONE, ONE, ONE, 0x3f800001, 0x3f800001), FALL(NX));
  // (1+2^-23) + 2^-24: halfway with an odd lower neighbour, so RNE and RMM both round up.
  SW_FF2("fadd.s", B(0x3f800001), B(0x33800000),
         E5S(0x3f800002, 0x3f800001, 0x3f800001, 0x3f800002, 0x3f800002), FALL(NX));
  // Negative tie: directed modes swap roles.
  SW_FF2("fadd.s", B(0xbf800000), B(0xb3800000),
         E5S(0xbf800000, 0xbf800000, 0xbf800001, 0xbf800000, 0xbf800001), FALL(NX));
  // 1 + 0.75 ulp (not a tie): both nearest modes round up.
  SW_FF2("fadd.s", B(ONE), B(0x33c00000), E5S(0x3f800001, ONE, ONE, 0x3f800001, 0x3f800001),
         FALL(NX));
  // 1 + 2^-30: far below half an ulp, only RUP moves.
  SW_FF2("fadd.s", B(ONE), B(0x30800000), E5S(ONE, ONE, ONE, 0x3f800001, ONE), FALL(NX));
  // 1 - 2^-30 crosses the binade: the ulp below 1 is 2^-24.
  SW_FF2("fadd.s", B(ONE), B(0xb0800000), E5S(ONE, 0x3f7fffff, 0x3f7fffff, ONE, ONE), FALL(NX));
  // Exact zero results: +0 except under RDN (IEEE 6.3).
  SW_FF2("fadd.s", B(ONE), B(0xbf800000), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fadd.s", B(0), B(NZERO), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fadd.s", B(NZERO), B(NZERO), E5S(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  // Overflow: max+max exceeds the range in every mode; RTZ and the mode rounding toward zero
  // give the largest finite value.
  SW_FF2("fadd.s", B(MAXF), B(MAXF), E5S(INF, MAXF, MAXF, INF, INF), FALL(OF | NX));
  SW_FF2("fadd.s", B(NMAXF), B(NMAXF), E5S(NINF, NMAXF, NINF, NMAXF, NINF), FALL(OF | NX));
  // max + half an ulp (2^103): a tie that RNE/RMM round to 2^128 (overflow); under RTZ/RDN the
  // unbounded-exponent result is max itself, so only NX.
  SW_FF2("fadd.s", B(MAXF), B(0x73000000), E5S(INF, MAXF, MAXF, INF, INF),
         F5(OF | NX, NX, NX, OF | NX, OF | NX));
  // max + quarter ulp: only RUP overflows.
  SW_FF2("fadd.s", B(MAXF), B(0x72800000), E5S(MAXF, MAXF, MAXF, INF, MAXF),
         F5(NX, NX, NX, OF | NX, NX));
  // Sums of subnormals are exact: tiny but not inexact, so no UF.
  SW_FF2("fadd.s", B(MINN), B(0x80000001), E5S(0x007fffff, 0x007fffff, 0x007fffff, 0x007fffff,
                                               0x007fffff), FALL(0));
  SW_FF2("fadd.s", B(0x00000001), B(0x00000001), E5S(2, 2, 2, 2, 2), FALL(0));
  CKS(FF2("fadd.s", ",rne", B(0x007fffff), B(0x00000001)), MINN, 0);

  // Specials.
  CKS(FF2("fadd.s", ",rne", B(INF), B(NINF)), QNAN_S, NV);
  CKS(FF2("fadd.s", ",rne", B(NINF), B(INF)), QNAN_S, NV);
  CKS(FF2("fadd.s", ",rne", B(INF), B(ONE)), INF, 0);
  CKS(FF2("fadd.s", ",rne", B(INF), B(INF)), INF, 0);
  CKS(FF2("fadd.s", ",rdn", B(NINF), B(MAXF)), NINF, 0);
  // Quiet NaN inputs: canonical result, no flags, whatever the payload or sign.
  CKS(FF2("fadd.s", ",rne", B(QNAN_S), B(ONE)), QNAN_S, 0);
  CKS(FF2("fadd.s", ",rne", B(0x7fc12345), B(ONE)), QNAN_S, 0);
  CKS(FF2("fadd.s", ",rne", B(ONE), B(0xffc00000)), QNAN_S, 0);
  CKS(FF2("fadd.s", ",rne", B(ONE), B(0xffffffff)), QNAN_S, 0);
  CKS(FF2("fadd.s", ",rne", B(INF), B(0x7fc00001)), QNAN_S, 0);
  // Signaling NaN inputs raise NV.
  CKS(FF2("fadd.s", ",rne", B(SNAN), B(ONE)), QNAN_S, NV);
  CKS(FF2("fadd.s", ",rne", B(ONE), B(0xff800001)), QNAN_S, NV);
  CKS(FF2("fadd.s", ",rne", B(0x7fbfffff), B(QNAN_S)), QNAN_S, NV);
  CKS(FF2("fadd.s", ",rne", B(QNAN_S), B(0x7fa00000)), QNAN_S, NV);
  CKS(FF2("fadd.s", ",rne", B(SNAN), B(INF)), QNAN_S, NV);

  CKS(FF2("fsub.s", ",rne", B(THREE), B(ONE)), TWO, 0);
  // 1 - 2^-25: halfway between 1-2^-24 (odd) and 1.0 (even).
  SW_FF2("fsub.s", B(ONE), B(0x33000000), E5S(ONE, 0x3f7fffff, 0x3f7fffff, ONE, ONE), FALL(NX));
  SW_FF2("fsub.s", B(ONE), B(ONE), E5S(0, 0, NZERO, 0, 0), FALL(0));
  // (-0) - (-0) = (-0) + (+0); (-0) - (+0) = -0 in every mode.
  SW_FF2("fsub.s", B(NZERO), B(NZERO), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fsub.s", B(NZERO), B(0), E5S(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  SW_FF2("fsub.s", B(NMAXF), B(MAXF), E5S(NINF, NMAXF, NINF, NMAXF, NINF), FALL(OF | NX));
  CKS(FF2("fsub.s", ",rne", B(INF), B(INF)), QNAN_S, NV);
  CKS(FF2("fsub.s", ",rne", B(INF), B(NINF)), INF, 0);
  CKS(FF2("fsub.s", ",rne", B(ONE), B(SNAN)), QNAN_S, NV);
  CKS(FF2("fsub.s", ",rne", B(0xffc00000), B(ONE)), QNAN_S, 0);
}

static void test_mul(void) {
  CKS(FF2("fmul.s", ",rne", B(0x3fc00000), B(0x3fc00000)), 0x40100000, 0);
  // (1+2^-12)^2 = 1 + 2^-11 + 2^-24: a tie between 0x3f801000 (even) and 0x3f801001.
  SW_FF2("fmul.s", B(0x3f800800), B(0x3f800800),
         E5S(0x3f801000, 0x3f801000, 0x3f801000, 0x3f801001, 0x3f801001), FALL(NX));
  SW_FF2("fmul.s", B(0xbf800800), B(0x3f800800),
         E5S(0xbf801000, 0xbf801000, 0xbf801001, 0xbf801000, 0xbf801001), FALL(NX));
  SW_FF2("fmul.s", B(MAXF), B(TWO), E5S(INF, MAXF, MAXF, INF, INF), FALL(OF | NX));
  SW_FF2("fmul.s", B(MAXF), B(0xc0000000), E5S(NINF, NMAXF, NINF, NMAXF, NINF), FALL(OF | NX));
  // Exact subnormal product: tiny but exact, no UF.
  SW_FF2("fmul.s", B(MINN), B(HALF), E5S(0x00400000, 0x00400000, 0x00400000, 0x00400000,
                                         0x00400000), FALL(0));
  // 2^-150 is half the smallest subnormal: RNE -> 0 (even), RMM -> 2^-149.
  SW_FF2("fmul.s", B(0x00000001), B(HALF), E5S(0, 0, 0, 1, 1), FALL(UF | NX));
  SW_FF2("fmul.s", B(0x80000001), B(HALF), E5S(NZERO, NZERO, 0x80000001, NZERO, 0x80000001),
         FALL(UF | NX));
  SW_FF2("fmul.s", B(0x00000001), B(0x3f400000), E5S(1, 0, 0, 1, 1), FALL(UF | NX));  // 0.75
  SW_FF2("fmul.s", B(0x00000001), B(0x3e800000), E5S(0, 0, 0, 1, 0), FALL(UF | NX));  // 0.25
  // Ties inside the subnormal range: 1.5 and 2.5 units of 2^-149.
  SW_FF2("fmul.s", B(0x00000003), B(HALF), E5S(2, 1, 1, 2, 2), FALL(UF | NX));
  SW_FF2("fmul.s", B(0x00000005), B(HALF), E5S(2, 2, 2, 3, 3), FALL(UF | NX));
  SW_FF2("fmul.s", B(MINN), B(MINN), E5S(0, 0, 0, 1, 0), FALL(UF | NX));
  // Tininess AFTER rounding. (1-2^-23)*2^-63 * (1+2^-23)*2^-63 = 2^-126 * (1 - 2^-46).
  // Rounded to 24 bits with unbounded exponent: RNE/RUP/RMM give exactly 2^-126 (not tiny, so
  // NX only); RTZ/RDN give 2^-126*(1-2^-24) (tiny, so UF|NX) and deliver 0x007fffff.
  SW_FF2("fmul.s", B(0x1ffffffe), B(0x20000001),
         E5S(MINN, 0x007fffff, 0x007fffff, MINN, MINN), F5(NX, UF | NX, UF | NX, NX, NX));
  SW_FF2("fmul.s", B(0x9ffffffe), B(0x20000001),
         E5S(0x80800000, 0x807fffff, 0x80800000, 0x807fffff, 0x80800000),
         F5(NX, UF | NX, NX, UF | NX, NX));
  // 2^-126 * (1-2^-24): exactly representable with an unbounded exponent (tiny), but a tie on the
  // subnormal grid: RNE delivers 2^-126 and still signals UF.
  SW_FF2("fmul.s", B(0x3f7fffff), B(MINN), E5S(MINN, 0x007fffff, 0x007fffff, MINN, MINN),
         FALL(UF | NX));

  // Subnormal operands are normalized: 2^-149 * 2^127 = 2^-22 exactly.
  SW_FF2("fmul.s", B(0x00000001), B(0x7f000000),
         E5S(0x34800000, 0x34800000, 0x34800000, 0x34800000, 0x34800000), FALL(0));
  CKS(FF2("fmul.s", ",rne", B(0x00400000), B(0x00400000)), 0, UF | NX);
  CKS(FF2("fmul.s", ",rne", B(INF), B(0)), QNAN_S, NV);
  CKS(FF2("fmul.s", ",rne", B(NZERO), B(NINF)), QNAN_S, NV);
  CKS(FF2("fmul.s", ",rne", B(INF), B(0xbf800000)), NINF, 0);
  CKS(FF2("fmul.s", ",rne", B(NZERO), B(0x40a00000)), NZERO, 0);
  CKS(FF2("fmul.s", ",rne", B(QNAN_S), B(0)), QNAN_S, 0);
  CKS(FF2("fmul.s", ",rne", B(0x7fc12345), B(INF)), QNAN_S, 0);
  CKS(FF2("fmul.s", ",rne", B(ONE), B(SNAN)), QNAN_S, NV);
}

static void test_div_sqrt(void) {
  // 1/3 = 1.0101...b * 2^-2: the bits after the 23rd fraction bit are 1010..., above half.
  SW_FF2("fdiv.s", B(ONE), B(THREE),
         E5S(0x3eaaaaab, 0x3eaaaaaa, 0x3eaaaaaa, 0x3eaaaaab, 0x3eaaaaab), FALL(NX));
  SW_FF2("fdiv.s", B(0xbf800000), B(THREE),
         E5S(0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab), FALL(NX));
  SW_FF2("fdiv.s", B(TWO), B(THREE),
         E5S(0x3f2aaaab, 0x3f2aaaaa, 0x3f2aaaaa, 0x3f2aaaab, 0x3f2aaaab), FALL(NX));
  CKS(FF2("fdiv.s", ",rne", B(0x40c00000), B(THREE)), TWO, 0);
  // Division by zero is exact: DZ only, in every mode.
  SW_FF2("fdiv.s", B(ONE), B(0), E5S(INF, INF, INF, INF, INF), FALL(DZ));
  CKS(FF2("fdiv.s", ",rne", B(0xbf800000), B(0)), NINF, DZ);
  CKS(FF2("fdiv.s", ",rne", B(ONE), B(NZERO)), NINF, DZ);
  CKS(FF2("fdiv.s", ",rne", B(0xbf800000), B(NZERO)), INF, DZ);
  CKS(FF2("fdiv.s", ",rne", B(0x00000001), B(0)), INF, DZ);
  CKS(FF2("fdiv.s", ",rne", B(0), B(0)), QNAN_S, NV);
  CKS(FF2("fdiv.s", ",rne", B(INF), B(NINF)), QNAN_S, NV);
  CKS(FF2("fdiv.s", ",rne", B(0), B(INF)), 0, 0);
  CKS(FF2("fdiv.s", ",rne", B(NZERO), B(ONE)), NZERO, 0);
  CKS(FF2("fdiv.s", ",rne", B(INF), B(0)), INF, 0);  // infinite dividend: no DZ
  CKS(FF2("fdiv.s", ",rne", B(QNAN_S), B(0)), QNAN_S, 0);  // NaN dividend: no DZ
  CKS(FF2("fdiv.s", ",rne", B(SNAN), B(0)), QNAN_S, NV);
  CKS(FF2("fdiv.s", ",rne", B(0), B(SNAN)), QNAN_S, NV);
  SW_FF2("fdiv.s", B(MAXF), B(HALF), E5S(INF, MAXF, MAXF, INF, INF), FALL(OF | NX));
  SW_FF2("fdiv.s", B(0x00000001), B(TWO), E5S(0, 0, 0, 1, 1), FALL(UF | NX));
  // 2^-126 / (1+2^-23) = 2^-126 - 2^-149 + (tiny): RUP delivers 2^-126, but the unbounded-exponent
  // RUP result is 2^-126 - 2^-150, still tiny, so UF is raised with a normal result.
  SW_FF2("fdiv.s", B(MINN), B(0x3f800001),
         E5S(0x007fffff, 0x007fffff, 0x007fffff, MINN, 0x007fffff), FALL(UF | NX));

  // sqrt(2) = 1.6a09e667f...h: the bit after the 23rd is 0 -> RNE rounds down.
  SW_FF1("fsqrt.s", B(TWO), E5S(0x3fb504f3, 0x3fb504f3, 0x3fb504f3, 0x3fb504f4, 0x3fb504f3),
         FALL(NX));
  SW_FF1("fsqrt.s", B(THREE), E5S(0x3fddb3d7, 0x3fddb3d7, 0x3fddb3d7, 0x3fddb3d8, 0x3fddb3d7),
         FALL(NX));
  // sqrt(5) = 1.1e3779b9...h * 2: rounds up under RNE.
  SW_FF1("fsqrt.s", B(0x40a00000), E5S(0x400f1bbd, 0x400f1bbc, 0x400f1bbc, 0x400f1bbd, 0x400f1bbd),
         FALL(NX));
  // sqrt(max) = 2^64*sqrt(1-2^-24), just below the midpoint 2^64*(1-2^-25).
  SW_FF1("fsqrt.s", B(MAXF), E5S(0x5f7fffff, 0x5f7fffff, 0x5f7fffff, 0x5f800000, 0x5f7fffff),
         FALL(NX));
  CKS(FF1("fsqrt.s", ",rne", B(0x40800000)), TWO, 0);
  // sqrt(2^-149) = sqrt(2) * 2^-75: a subnormal input with a normal result.
  SW_FF1("fsqrt.s", B(0x00000001), E5S(0x1a3504f3, 0x1a3504f3, 0x1a3504f3, 0x1a3504f4, 0x1a3504f3),
         FALL(NX));
  CKS(FF2("fdiv.s", ",rne", B(0x00000001), B(0x00000002)), HALF, 0);
  CKS(FF2("fdiv.s", ",rne", B(0x007fffff), B(0x3f000000)), 0x00fffffe, 0);
  CKS(FF1("fsqrt.s", ",rne", B(0x00000002)), 0x1a800000, 0);  // sqrt(2^-148) = 2^-74
  CKS(FF1("fsqrt.s", ",rne", B(NZERO)), NZERO, 0);
  CKS(FF1("fsqrt.s", ",rne", B(0)), 0, 0);
  CKS(FF1("fsqrt.s", ",rne", B(0xbf800000)), QNAN_S, NV);
  CKS(FF1("fsqrt.s", ",rne", B(0x80000001)), QNAN_S, NV);
  CKS(FF1("fsqrt.s", ",rne", B(INF)), INF, 0);
  CKS(FF1("fsqrt.s", ",rne", B(NINF)), QNAN_S, NV);
  CKS(FF1("fsqrt.s", ",rne", B(QNAN_S)), QNAN_S, 0);
  CKS(FF1("fsqrt.s", ",rne", B(0xffc00000)), QNAN_S, 0);
  CKS(FF1("fsqrt.s", ",rne", B(SNAN)), QNAN_S, NV);
}

static void test_fma(void) {
  CKS(FF3("fmadd.s", ",rne", B(TWO), B(THREE), B(ONE)), 0x40e00000, 0);    // 7
  CKS(FF3("fmsub.s", ",rne", B(TWO), B(THREE), B(ONE)), 0x40a00000, 0);    // 5
  CKS(FF3("fnmsub.s", ",rne", B(TWO), B(THREE), B(ONE)), 0xc0a00000, 0);   // -(6)+1
  CKS(FF3("fnmadd.s", ",rne", B(TWO), B(THREE), B(ONE)), 0xc0e00000, 0);   // -(6)-1
  // Exact zero results follow the sum rule (+0 except RDN) for every variant.
  SW_FF3("fmadd.s", B(ONE), B(ONE), B(0xbf800000), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fmsub.s", B(ONE), B(ONE), B(ONE), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fnmsub.s", B(ONE), B(ONE), B(ONE), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fnmadd.s", B(ONE), B(ONE), B(0xbf800000), E5S(0, 0, NZERO, 0, 0), FALL(0));
  // Zero product plus zero addend: same-signed zeros keep their sign.
  SW_FF3("fmadd.s", B(0), B(0xbf800000), B(NZERO), E5S(NZERO, NZERO, NZERO, NZERO, NZERO),
         FALL(0));
  SW_FF3("fmadd.s", B(0), B(ONE), B(NZERO), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fnmadd.s", B(0), B(ONE), B(0), E5S(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  SW_FF3("fnmsub.s", B(0), B(ONE), B(0), E5S(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fmsub.s", B(0), B(ONE), B(0), E5S(0, 0, NZERO, 0, 0), FALL(0));
  // Single rounding: (1+2^-12)^2 - 1 = 2^-11 + 2^-24 exactly (a separate multiply would have
  // rounded the product to 1+2^-11 first).
  SW_FF3("fmadd.s", B(0x3f800800), B(0x3f800800), B(0xbf800000),
         E5S(0x3a000400, 0x3a000400, 0x3a000400, 0x3a000400, 0x3a000400), FALL(0));
  SW_FF3("fnmsub.s", B(0x3f800800), B(0x3f800800), B(ONE),
         E5S(0xba000400, 0xba000400, 0xba000400, 0xba000400, 0xba000400), FALL(0));
  // Ties in the sum.
  SW_FF3("fmadd.s", B(ONE), B(ONE), B(0x33800000), E5S(ONE, ONE, ONE, 0x3f800001, 0x3f800001),
         FALL(NX));
  SW_FF3("fmsub.s", B(ONE), B(ONE), B(0x33000000), E5S(ONE, 0x3f7fffff, 0x3f7fffff, ONE, ONE),
         FALL(NX));
  CKS(FF3("fmsub.s", ",rne", B(ONE), B(ONE), B(0x33800000)), 0x3f7fffff, 0);
  // The product's tie with a zero addend; FNMADD rounds the negated value, so RDN/RUP swap.
  SW_FF3("fmadd.s", B(0x3f800800), B(0x3f800800), B(NZERO),
         E5S(0x3f801000, 0x3f801000, 0x3f801000, 0x3f801001, 0x3f801001), FALL(NX));
  SW_FF3("fnmadd.s", B(0x3f800800), B(0x3f800800), B(0),
         E5S(0xbf801000, 0xbf801000, 0xbf801001, 0xbf801000, 0xbf801001), FALL(NX));
  SW_FF3("fnmsub.s", B(0x3f800800), B(0x3f800800), B(0),
         E5S(0xbf801000, 0xbf801000, 0xbf801001, 0xbf801000, 0xbf801001), FALL(NX));
  SW_FF3("fmsub.s", B(0xbf800800), B(0x3f800800), B(0),
         E5S(0xbf801000, 0xbf801000, 0xbf801001, 0xbf801000, 0xbf801001), FALL(NX));
  // No intermediate overflow: 2*max - max = max exactly.
  SW_FF3("fmadd.s", B(MAXF), B(TWO), B(NMAXF), E5S(MAXF, MAXF, MAXF, MAXF, MAXF), FALL(0));
  SW_FF3("fmadd.s", B(MAXF), B(TWO), B(0), E5S(INF, MAXF, MAXF, INF, INF), FALL(OF | NX));
  SW_FF3("fnmadd.s", B(MAXF), B(TWO), B(0), E5S(NINF, NMAXF, NINF, NMAXF, NINF), FALL(OF | NX));
  // Tininess after rounding on sums near 2^-126 (product exact, single rounding of the sum):
  // 2^-126 - 2^-152: unbounded RNE gives 2^-126 -> NX only; RTZ/RDN give 2^-126 - 2^-150 (tiny).
  SW_FF3("fmadd.s", B(0x19800000), B(0x99800000), B(MINN),
         E5S(MINN, 0x007fffff, 0x007fffff, MINN, MINN), F5(NX, UF | NX, UF | NX, NX, NX));
  // 2^-126 - 2^-151: the unbounded tie goes to the even 2^-126 under RNE and away under RMM.
  SW_FF3("fmadd.s", B(0x19800000), B(0x9a000000), B(MINN),
         E5S(MINN, 0x007fffff, 0x007fffff, MINN, MINN), F5(NX, UF | NX, UF | NX, NX, NX));
  // 2^-126 - 3*2^-152: unbounded nearest is 2^-126 - 2^-150 (tiny) while the delivered subnormal-
  // grid result is 2^-126: UF|NX with a normal result for RNE and RMM.
  SW_FF3("fmadd.s", B(0x19c00000), B(0x9a000000), B(MINN),
         E5S(MINN, 0x007fffff, 0x007fffff, MINN, MINN), F5(UF | NX, UF | NX, UF | NX, NX, UF | NX));

  // Subnormal inexact results: 2^-127 + 2^-150 is a tie on the subnormal grid, reached both as
  // a plain product and as a product plus a subnormal addend (alignment below the product).
  SW_FF2("fmul.s", B(0x00800001), B(HALF),
         E5S(0x00400000, 0x00400000, 0x00400000, 0x00400001, 0x00400001), FALL(UF | NX));
  SW_FF3("fmadd.s", B(0x00800003), B(HALF), B(0x80000001),
         E5S(0x00400000, 0x00400000, 0x00400000, 0x00400001, 0x00400001), FALL(UF | NX));
  // Sticky bits: a tiny negative product borrows from the addend (1 - 2^-64).
  SW_FF3("fmadd.s", B(0x2f800000), B(0xaf800000), B(ONE),
         E5S(ONE, 0x3f7fffff, 0x3f7fffff, ONE, ONE), FALL(NX));
  SW_FF3("fmadd.s", B(0x2f800000), B(0x2f800000), B(ONE),
         E5S(ONE, ONE, ONE, 0x3f800001, ONE), FALL(NX));
  // A nonzero product that rounds to zero keeps the sign of the exact sum, even with a zero
  // addend of the other sign (the exact sum is +-2^-150, not a zero).
  SW_FF3("fmadd.s", B(0x00000001), B(HALF), B(NZERO), E5S(0, 0, 0, 1, 1), FALL(UF | NX));
  SW_FF3("fmadd.s", B(0x80000001), B(HALF), B(0),
         E5S(NZERO, NZERO, 0x80000001, NZERO, 0x80000001), FALL(UF | NX));

  // Invalid and NaN cases; FMA must raise NV for inf*0 even with a quiet-NaN addend.
  CKS(FF3("fmadd.s", ",rne", B(INF), B(0), B(QNAN_S)), QNAN_S, NV);
  CKS(FF3("fmadd.s", ",rne", B(NZERO), B(NINF), B(0x7fc12345)), QNAN_S, NV);
  CKS(FF3("fnmadd.s", ",rne", B(0), B(INF), B(ONE)), QNAN_S, NV);
  CKS(FF3("fmadd.s", ",rne", B(INF), B(ONE), B(NINF)), QNAN_S, NV);
  CKS(FF3("fmadd.s", ",rne", B(INF), B(ONE), B(INF)), INF, 0);
  CKS(FF3("fmsub.s", ",rne", B(INF), B(ONE), B(INF)), QNAN_S, NV);
  CKS(FF3("fnmadd.s", ",rne", B(INF), B(ONE), B(NINF)), QNAN_S, NV);
  CKS(FF3("fnmsub.s", ",rne", B(INF), B(ONE), B(INF)), QNAN_S, NV);
  CKS(FF3("fnmsub.s", ",rne", B(INF), B(ONE), B(NINF)), NINF, 0);
  CKS(FF3("fmadd.s", ",rne", B(ONE), B(ONE), B(NINF)), NINF, 0);
  CKS(FF3("fmadd.s", ",rne", B(QNAN_S), B(ONE), B(ONE)), QNAN_S, 0);
  CKS(FF3("fmadd.s", ",rne", B(ONE), B(0x7fc12345), B(ONE)), QNAN_S, 0);
  CKS(FF3("fmadd.s", ",rne", B(ONE), B(ONE), B(QNAN_S)), QNAN_S, 0);
  CKS(FF3("fmadd.s", ",rne", B(ONE), B(ONE), B(SNAN)), QNAN_S, NV);
  CKS(FF3("fmadd.s", ",rne", B(SNAN), B(0), B(INF)), QNAN_S, NV);
  CKS(FF3("fmadd.s", ",rne", B(INF), B(0), B(SNAN)), QNAN_S, NV);
  // Negating variants must not flip the sign of the canonical NaN.
  CKS(FF3("fnmadd.s", ",rne", B(0xffc00000), B(ONE), B(ONE)), QNAN_S, 0);
  CKS(FF3("fnmadd.s", ",rne", B(ONE), B(ONE), B(QNAN_S)), QNAN_S, 0);
  CKS(FF3("fnmsub.s", ",rne", B(QNAN_S), B(ONE), B(ONE)), QNAN_S, 0);
  CKS(FF3("fmsub.s", ",rne", B(ONE), B(ONE), B(QNAN_S)), QNAN_S, 0);
}

// A static rounding mode wins over frm; DYN follows frm.
static void test_static_vs_dynamic(void) {
  asm volatile("csrwi frm, 3");  // RUP
  CKS(FF2("fadd.s", ",rne", B(ONE), B(0x33800000)), ONE, NX);
  CKS(FF2("fadd.s", ",rtz", B(ONE), B(0x33800000)), ONE, NX);
  CKS(FF2("fadd.s", "", B(ONE), B(0x33800000)), 0x3f800001, NX);  // assembler default is DYN
  asm volatile("csrwi frm, 1");  // RTZ
  CKS(FF2("fadd.s", ",rmm", B(ONE), B(0x33800000)), 0x3f800001, NX);
  CKS(FF2("fadd.s", ",dyn", B(ONE), B(0x33800000)), ONE, NX);
  asm volatile("csrwi frm, 0");
}

int main(void) {
  test_add_sub();
  test_mul();
  test_div_sqrt();
  test_fma();
  test_static_vs_dynamic();
  return fp_result();
}
