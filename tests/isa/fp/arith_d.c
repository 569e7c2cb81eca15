// D extension arithmetic: fadd.d/fsub.d/fmul.d/fdiv.d/fsqrt.d and the fused multiply-adds under
// every static rounding mode and DYN (frm = RNE..RMM), with exact result bits and fflags.
// The D chapter defines these "analogously to their single-precision counterparts"; the rules
// cited in arith_s.c apply with the canonical NaN 0x7ff8000000000000, 53-bit significands and
// the subnormal boundary 2^-1022 (tininess after rounding, F chapter "Subnormal Arithmetic").
#include "fp.h"

#define ONE 0x3ff0000000000000ull
#define TWO 0x4000000000000000ull
#define THREE 0x4008000000000000ull
#define HALF 0x3fe0000000000000ull
#define MAXD 0x7fefffffffffffffull
#define NMAXD 0xffefffffffffffffull
#define INF 0x7ff0000000000000ull
#define NINF 0xfff0000000000000ull
#define MINN 0x0010000000000000ull  // 2^-1022
#define MAXSUB 0x000fffffffffffffull
#define SNAN 0x7ff0000000000001ull
#define NZERO 0x8000000000000000ull
#define NONE 0xbff0000000000000ull
#define P2M53 0x3ca0000000000000ull  // 2^-53, half an ulp of 1.0
#define A26 0x3ff0000004000000ull  // 1 + 2^-26
#define A27 0x3ff0000002000000ull  // 1 + 2^-27
#define PT 0x3ff0000006000000ull   // 1 + 2^-26 + 2^-27: (1+2^-26)(1+2^-27) rounded down

static void test_add_sub(void) {
  SW_FF2("fadd.d", ONE, P2M53, E5(ONE, ONE, ONE, ONE + 1, ONE + 1), FALL(NX));
  SW_FF2("fadd.d", ONE + 1, P2M53, E5(ONE + 2, ONE + 1, ONE + 1, ONE + 2, ONE + 2), FALL(NX));
  SW_FF2("fadd.d", NONE, 0xbca0000000000000ull, E5(NONE, NONE, NONE + 1, NONE, NONE + 1),
         FALL(NX));
  SW_FF2("fadd.d", ONE, 0x3ca8000000000000ull, E5(ONE + 1, ONE, ONE, ONE + 1, ONE + 1), FALL(NX));
  // 1 - 2^-60: the ulp below 1.0 is 2^-53.
  SW_FF2("fadd.d", ONE, 0xbc30000000000000ull,
         E5(ONE, 0x3fefffffffffffffull, 0x3fefffffffffffffull, ONE, ONE), FALL(NX));
  SW_FF2("fadd.d", ONE, NONE, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fadd.d", NZERO, 0, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fadd.d", NZERO, NZERO, E5(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  SW_FF2("fadd.d", MAXD, MAXD, E5(INF, MAXD, MAXD, INF, INF), FALL(OF | NX));
  SW_FF2("fadd.d", NMAXD, NMAXD, E5(NINF, NMAXD, NINF, NMAXD, NINF), FALL(OF | NX));
  // max + 2^970 (half an ulp): overflow only where the unbounded rounding goes up to 2^1024.
  SW_FF2("fadd.d", MAXD, 0x7c90000000000000ull, E5(INF, MAXD, MAXD, INF, INF),
         F5(OF | NX, NX, NX, OF | NX, OF | NX));
  SW_FF2("fadd.d", MINN, 0x8000000000000001ull, E5(MAXSUB, MAXSUB, MAXSUB, MAXSUB, MAXSUB),
         FALL(0));
  CK(FF2("fadd.d", ",rne", MAXSUB, 1), MINN, 0);

  CK(FF2("fadd.d", ",rne", INF, NINF), QNAN_D, NV);
  CK(FF2("fadd.d", ",rne", INF, ONE), INF, 0);
  CK(FF2("fadd.d", ",rne", QNAN_D, ONE), QNAN_D, 0);
  CK(FF2("fadd.d", ",rne", 0x7ff8000000012345ull, ONE), QNAN_D, 0);
  CK(FF2("fadd.d", ",rne", ONE, 0xfff8000000000000ull), QNAN_D, 0);
  // A NaN-boxed single is a negative quiet NaN when read as a double.
  CK(FF2("fadd.d", ",rne", B(0x3f800000), ONE), QNAN_D, 0);
  CK(FF2("fadd.d", ",rne", SNAN, ONE), QNAN_D, NV);
  CK(FF2("fadd.d", ",rne", ONE, 0xfff7ffffffffffffull), QNAN_D, NV);
  CK(FF2("fadd.d", ",rne", QNAN_D, 0x7ff4000000000000ull), QNAN_D, NV);

  CK(FF2("fsub.d", ",rne", THREE, ONE), TWO, 0);
  SW_FF2("fsub.d", ONE, 0x3c90000000000000ull,  // 1 - 2^-54: tie, even neighbour is 1.0
         E5(ONE, 0x3fefffffffffffffull, 0x3fefffffffffffffull, ONE, ONE), FALL(NX));
  SW_FF2("fsub.d", ONE, ONE, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fsub.d", NZERO, NZERO, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF2("fsub.d", NZERO, 0, E5(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  SW_FF2("fsub.d", NMAXD, MAXD, E5(NINF, NMAXD, NINF, NMAXD, NINF), FALL(OF | NX));
  CK(FF2("fsub.d", ",rne", NINF, NINF), QNAN_D, NV);
  CK(FF2("fsub.d", ",rne", ONE, SNAN), QNAN_D, NV);
}

static void test_mul(void) {
  CK(FF2("fmul.d", ",rne", 0x3ff8000000000000ull, 0x3ff8000000000000ull), 0x4002000000000000ull,
     0);
  // (1+2^-26)(1+2^-27) = 1 + 2^-26 + 2^-27 + 2^-53: a tie (half of the 2^-52 ulp) whose lower
  // neighbour is even.
  SW_FF2("fmul.d", A26, A27, E5(PT, PT, PT, PT + 1, PT + 1), FALL(NX));
  SW_FF2("fmul.d", A26 | NZERO, A27,
         E5(PT | NZERO, PT | NZERO, (PT | NZERO) + 1, PT | NZERO, (PT | NZERO) + 1), FALL(NX));
  SW_FF2("fmul.d", MAXD, TWO, E5(INF, MAXD, MAXD, INF, INF), FALL(OF | NX));
  SW_FF2("fmul.d", NMAXD, TWO, E5(NINF, NMAXD, NINF, NMAXD, NINF), FALL(OF | NX));
  SW_FF2("fmul.d", MINN, HALF, E5(0x0008000000000000ull, 0x0008000000000000ull,
                                  0x0008000000000000ull, 0x0008000000000000ull,
                                  0x0008000000000000ull), FALL(0));
  SW_FF2("fmul.d", 1, HALF, E5(0, 0, 0, 1, 1), FALL(UF | NX));
  SW_FF2("fmul.d", NZERO | 1, HALF, E5(NZERO, NZERO, NZERO | 1, NZERO, NZERO | 1), FALL(UF | NX));
  SW_FF2("fmul.d", 3, HALF, E5(2, 1, 1, 2, 2), FALL(UF | NX));
  SW_FF2("fmul.d", 5, HALF, E5(2, 2, 2, 3, 3), FALL(UF | NX));
  SW_FF2("fmul.d", 1, 0x3fe8000000000000ull, E5(1, 0, 0, 1, 1), FALL(UF | NX));  // * 0.75
  // Tininess after rounding: (1-2^-52)*2^-511 * (1+2^-52)*2^-511 = 2^-1022 * (1 - 2^-104).
  SW_FF2("fmul.d", 0x1ffffffffffffffeull, 0x2000000000000001ull,
         E5(MINN, MAXSUB, MAXSUB, MINN, MINN), F5(NX, UF | NX, UF | NX, NX, NX));
  SW_FF2("fmul.d", 0x9ffffffffffffffeull, 0x2000000000000001ull,
         E5(MINN | NZERO, MAXSUB | NZERO, MINN | NZERO, MAXSUB | NZERO, MINN | NZERO),
         F5(NX, UF | NX, NX, UF | NX, NX));
  // 2^-1022 * (1-2^-53): exact with unbounded exponent (so tiny), a tie on the subnormal grid.
  SW_FF2("fmul.d", 0x3fefffffffffffffull, MINN, E5(MINN, MAXSUB, MAXSUB, MINN, MINN),
         FALL(UF | NX));
  // Subnormal operand normalized: 2^-1074 * 2^1023 = 2^-51.
  CK(FF2("fmul.d", ",rne", 1, 0x7fe0000000000000ull), 0x3cc0000000000000ull, 0);
  CK(FF2("fdiv.d", ",rne", 1, 2), HALF, 0);
  CK(FF2("fmul.d", ",rne", INF, 0), QNAN_D, NV);
  CK(FF2("fmul.d", ",rne", NINF, NONE), INF, 0);
  CK(FF2("fmul.d", ",rne", NZERO, TWO), NZERO, 0);
  CK(FF2("fmul.d", ",rne", QNAN_D, 0), QNAN_D, 0);
  CK(FF2("fmul.d", ",rne", SNAN, ONE), QNAN_D, NV);
}

static void test_div_sqrt(void) {
  // 1/3: the bits after the 52nd fraction bit are 0101..., below half.
  SW_FF2("fdiv.d", ONE, THREE,
         E5(0x3fd5555555555555ull, 0x3fd5555555555555ull, 0x3fd5555555555555ull,
            0x3fd5555555555556ull, 0x3fd5555555555555ull), FALL(NX));
  SW_FF2("fdiv.d", NONE, THREE,
         E5(0xbfd5555555555555ull, 0xbfd5555555555555ull, 0xbfd5555555555556ull,
            0xbfd5555555555555ull, 0xbfd5555555555555ull), FALL(NX));
  SW_FF2("fdiv.d", TWO, THREE,
         E5(0x3fe5555555555555ull, 0x3fe5555555555555ull, 0x3fe5555555555555ull,
            0x3fe5555555555556ull, 0x3fe5555555555555ull), FALL(NX));
  CK(FF2("fdiv.d", ",rne", 0x4018000000000000ull, THREE), TWO, 0);
  SW_FF2("fdiv.d", ONE, 0, E5(INF, INF, INF, INF, INF), FALL(DZ));
  CK(FF2("fdiv.d", ",rne", NONE, 0), NINF, DZ);
  CK(FF2("fdiv.d", ",rne", ONE, NZERO), NINF, DZ);
  CK(FF2("fdiv.d", ",rne", 0, 0), QNAN_D, NV);
  CK(FF2("fdiv.d", ",rne", NINF, INF), QNAN_D, NV);
  CK(FF2("fdiv.d", ",rne", ONE, NINF), NZERO, 0);
  CK(FF2("fdiv.d", ",rne", NINF, 0), NINF, 0);
  CK(FF2("fdiv.d", ",rne", QNAN_D, 0), QNAN_D, 0);
  CK(FF2("fdiv.d", ",rne", 0, SNAN), QNAN_D, NV);
  SW_FF2("fdiv.d", MAXD, HALF, E5(INF, MAXD, MAXD, INF, INF), FALL(OF | NX));
  SW_FF2("fdiv.d", 1, TWO, E5(0, 0, 0, 1, 1), FALL(UF | NX));
  // 2^-1022/(1+2^-52): RUP delivers 2^-1022 yet the unbounded RUP result is still tiny.
  SW_FF2("fdiv.d", MINN, ONE + 1, E5(MAXSUB, MAXSUB, MAXSUB, MINN, MAXSUB), FALL(UF | NX));

  // sqrt(2) = 1.6a09e667f3bcc908...h: rounds up under RNE.
  SW_FF1("fsqrt.d", TWO,
         E5(0x3ff6a09e667f3bcdull, 0x3ff6a09e667f3bccull, 0x3ff6a09e667f3bccull,
            0x3ff6a09e667f3bcdull, 0x3ff6a09e667f3bcdull), FALL(NX));
  // sqrt(3) = 1.bb67ae8584caa73b...h: rounds down under RNE.
  SW_FF1("fsqrt.d", THREE,
         E5(0x3ffbb67ae8584caaull, 0x3ffbb67ae8584caaull, 0x3ffbb67ae8584caaull,
            0x3ffbb67ae8584cabull, 0x3ffbb67ae8584caaull), FALL(NX));
  CK(FF1("fsqrt.d", ",rne", 0x4010000000000000ull), TWO, 0);
  CK(FF1("fsqrt.d", ",rne", 4), 0x1e70000000000000ull, 0);  // sqrt(2^-1072) = 2^-536
  CK(FF1("fsqrt.d", ",rne", NZERO), NZERO, 0);
  CK(FF1("fsqrt.d", ",rne", NONE), QNAN_D, NV);
  CK(FF1("fsqrt.d", ",rne", NZERO | 1), QNAN_D, NV);
  CK(FF1("fsqrt.d", ",rne", INF), INF, 0);
  CK(FF1("fsqrt.d", ",rne", NINF), QNAN_D, NV);
  CK(FF1("fsqrt.d", ",rne", 0xfff8000000000000ull), QNAN_D, 0);
  CK(FF1("fsqrt.d", ",rne", SNAN), QNAN_D, NV);
}

static void test_fma(void) {
  CK(FF3("fmadd.d", ",rne", TWO, THREE, ONE), 0x401c000000000000ull, 0);   // 7
  CK(FF3("fmsub.d", ",rne", TWO, THREE, ONE), 0x4014000000000000ull, 0);   // 5
  CK(FF3("fnmsub.d", ",rne", TWO, THREE, ONE), 0xc014000000000000ull, 0);  // -5
  CK(FF3("fnmadd.d", ",rne", TWO, THREE, ONE), 0xc01c000000000000ull, 0);  // -7
  SW_FF3("fmadd.d", ONE, ONE, NONE, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fmsub.d", ONE, ONE, ONE, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fnmsub.d", ONE, ONE, ONE, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fnmadd.d", ONE, ONE, NONE, E5(0, 0, NZERO, 0, 0), FALL(0));
  SW_FF3("fmadd.d", 0, NONE, NZERO, E5(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  SW_FF3("fnmadd.d", 0, ONE, 0, E5(NZERO, NZERO, NZERO, NZERO, NZERO), FALL(0));
  SW_FF3("fnmsub.d", 0, ONE, 0, E5(0, 0, NZERO, 0, 0), FALL(0));
  // Single rounding: (1+2^-27)^2 - 1 = 2^-26 + 2^-54 exactly.
  SW_FF3("fmadd.d", A27, A27, NONE,
         E5(0x3e50000001000000ull, 0x3e50000001000000ull, 0x3e50000001000000ull,
            0x3e50000001000000ull, 0x3e50000001000000ull), FALL(0));
  SW_FF3("fmadd.d", ONE, ONE, P2M53, E5(ONE, ONE, ONE, ONE + 1, ONE + 1), FALL(NX));
  // The product tie with a zero addend; the negating forms round the negated value.
  SW_FF3("fnmadd.d", A26, A27, 0,
         E5(PT | NZERO, PT | NZERO, (PT | NZERO) + 1, PT | NZERO, (PT | NZERO) + 1), FALL(NX));
  SW_FF3("fnmsub.d", A26, A27, 0,
         E5(PT | NZERO, PT | NZERO, (PT | NZERO) + 1, PT | NZERO, (PT | NZERO) + 1), FALL(NX));
  SW_FF3("fmsub.d", A26, A27, 0, E5(PT, PT, PT, PT + 1, PT + 1), FALL(NX));
  SW_FF3("fmadd.d", MAXD, TWO, NMAXD, E5(MAXD, MAXD, MAXD, MAXD, MAXD), FALL(0));
  SW_FF3("fmadd.d", MAXD, TWO, 0, E5(INF, MAXD, MAXD, INF, INF), FALL(OF | NX));
  // Sums just below 2^-1022 (the unbounded ulp there is 2^-1075):
  // 2^-1022 - 2^-1077 (a quarter ulp): RNE rounds to 2^-1022 without UF.
  SW_FF3("fmadd.d", 0x1e50000000000000ull, 0x9e40000000000000ull, MINN,
         E5(MINN, MAXSUB, MAXSUB, MINN, MINN), F5(NX, UF | NX, UF | NX, NX, NX));
  // 2^-1022 - 2^-1076 (half ulp, a tie).
  SW_FF3("fmadd.d", 0x1e50000000000000ull, 0x9e50000000000000ull, MINN,
         E5(MINN, MAXSUB, MAXSUB, MINN, MINN), F5(NX, UF | NX, UF | NX, NX, NX));
  // 2^-1022 - 3*2^-1077 (three quarters): tiny after unbounded rounding, delivered as 2^-1022.
  SW_FF3("fmadd.d", 0x1e58000000000000ull, 0x9e50000000000000ull, MINN,
         E5(MINN, MAXSUB, MAXSUB, MINN, MINN), F5(UF | NX, UF | NX, UF | NX, NX, UF | NX));

  // 1 - 2^-80 through a tiny negative product (sticky borrow).
  SW_FF3("fmadd.d", 0x3d70000000000000ull, 0xbd70000000000000ull, ONE,
         E5(ONE, 0x3fefffffffffffffull, 0x3fefffffffffffffull, ONE, ONE), FALL(NX));
  SW_FF3("fmadd.d", 1, HALF, NZERO, E5(0, 0, 0, 1, 1), FALL(UF | NX));
  SW_FF3("fmadd.d", NZERO | 1, HALF, 0, E5(NZERO, NZERO, NZERO | 1, NZERO, NZERO | 1),
         FALL(UF | NX));

  CK(FF3("fmadd.d", ",rne", INF, 0, QNAN_D), QNAN_D, NV);
  CK(FF3("fmadd.d", ",rne", 0, NINF, ONE), QNAN_D, NV);
  CK(FF3("fmadd.d", ",rne", INF, ONE, NINF), QNAN_D, NV);
  CK(FF3("fnmadd.d", ",rne", INF, ONE, NINF), QNAN_D, NV);
  CK(FF3("fnmsub.d", ",rne", INF, ONE, NINF), NINF, 0);
  CK(FF3("fmsub.d", ",rne", NINF, ONE, INF), NINF, 0);
  CK(FF3("fmadd.d", ",rne", ONE, QNAN_D, ONE), QNAN_D, 0);
  CK(FF3("fmadd.d", ",rne", ONE, ONE, SNAN), QNAN_D, NV);
  CK(FF3("fmadd.d", ",rne", SNAN, 0, INF), QNAN_D, NV);
  CK(FF3("fnmadd.d", ",rne", ONE, ONE, QNAN_D), QNAN_D, 0);
  CK(FF3("fnmsub.d", ",rne", 0xfff8000000000000ull, ONE, ONE), QNAN_D, 0);
}

int main(void) {
  test_add_sub();
  test_mul();
  test_div_sqrt();
  test_fma();
  return fp_result();
}
