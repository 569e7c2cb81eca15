// Sign injection (fsgnj/fsgnjn/fsgnjx and the fmv/fneg/fabs pseudos) and fmin/fmax, S and D.
//
// F chapter, "Single-Precision Floating-Point Conversion and Move Instructions": sign injection
// takes every bit but the sign from rs1, never sets flags and never canonicalizes NaNs.
// F chapter, "Single-Precision Floating-Point Computational Instructions" (F 2.2 minimumNumber /
// maximumNumber): -0 < +0; one NaN operand -> the other operand; two NaNs -> canonical NaN;
// any sNaN input sets NV even when the result is not NaN.
// D chapter, "NaN Boxing of Narrower Values": an S operand whose upper 32 bits are not all ones
// is read as the canonical NaN 0x7fc00000 (positive, quiet) -- also by sign injection.
#include "fp.h"

#define ONE 0x3f800000u
#define NONE 0xbf800000u
#define TWO 0x40000000u
#define NTWO 0xc0000000u
#define NZERO 0x80000000u
#define INF 0x7f800000u
#define NINF 0xff800000u
#define SNAN 0x7f800001u
#define DONE 0x3ff0000000000000ull
#define DNONE 0xbff0000000000000ull
#define DTWO 0x4000000000000000ull
#define DNZERO 0x8000000000000000ull
#define DSNAN 0x7ff0000000000001ull

static void test_sgnj_s(void) {
  CKS(FF2("fsgnj.s", "", B(ONE), B(NTWO)), NONE, 0);
  CKS(FF2("fsgnj.s", "", B(NONE), B(TWO)), ONE, 0);
  CKS(FF2("fsgnj.s", "", B(ONE), B(TWO)), ONE, 0);
  CKS(FF2("fsgnjn.s", "", B(ONE), B(NTWO)), ONE, 0);
  CKS(FF2("fsgnjn.s", "", B(ONE), B(TWO)), NONE, 0);
  CKS(FF2("fsgnjn.s", "", B(NONE), B(NTWO)), ONE, 0);
  CKS(FF2("fsgnjx.s", "", B(NONE), B(NTWO)), ONE, 0);
  CKS(FF2("fsgnjx.s", "", B(NONE), B(TWO)), NONE, 0);
  CKS(FF2("fsgnjx.s", "", B(ONE), B(NTWO)), NONE, 0);
  CKS(FF2("fsgnjx.s", "", B(ONE), B(TWO)), ONE, 0);
  CKS(FF2("fsgnj.s", "", B(0), B(NZERO)), NZERO, 0);
  // NaNs pass through untouched, signaling or not, with no NV.
  CKS(FF2("fsgnj.s", "", B(SNAN), B(NONE)), 0xff800001, 0);
  CKS(FF2("fsgnjn.s", "", B(0xffc12345), B(0xffc00000)), 0x7fc12345, 0);
  CKS(FF2("fsgnjx.s", "", B(0x7fbfffff), B(NZERO)), 0xffbfffff, 0);
  CKS(FF2("fsgnj.s", "", B(ONE), B(0xff800001)), NONE, 0);
  // Pseudo-instructions (fsgnj*.s rd, rs, rs).
  CKS(FF1("fmv.s", "", B(SNAN)), SNAN, 0);
  CKS(FF1("fneg.s", "", B(QNAN_S)), 0xffc00000, 0);
  CKS(FF1("fabs.s", "", B(0xff800001)), SNAN, 0);
  CKS(FF1("fabs.s", "", B(NINF)), INF, 0);

  // Improperly boxed operands are the canonical NaN 0x7fc00000 (sign bit 0).
  CKS(FF2("fsgnj.s", "", 0x000000003f800000ull, B(NONE)), 0xffc00000, 0);
  CKS(FF2("fsgnj.s", "", 0xfffffffe3f800000ull, B(ONE)), QNAN_S, 0);
  CKS(FF2("fsgnj.s", "", B(NONE), 0x00000000bf800000ull), ONE, 0);
  CKS(FF2("fsgnjn.s", "", B(ONE), 0x7fffffffbf800000ull), NONE, 0);
  CKS(FF2("fsgnjx.s", "", B(NONE), 0x00000000bf800000ull), NONE, 0);
  CKS(FF2("fsgnjx.s", "", 0xbff0000000000000ull, B(NONE)), 0xffc00000, 0);
  CKS(FF1("fabs.s", "", 0x00000000bf800000ull), QNAN_S, 0);
  CKS(FF1("fneg.s", "", 0x00000000bf800000ull), 0xffc00000, 0);
  CKS(FF1("fmv.s", "", 0x123456787f800001ull), QNAN_S, 0);
}

static void test_sgnj_d(void) {
  CK(FF2("fsgnj.d", "", DONE, DNZERO), DNONE, 0);
  CK(FF2("fsgnj.d", "", DNONE, 0), DONE, 0);
  CK(FF2("fsgnjn.d", "", DONE, DONE), DNONE, 0);
  CK(FF2("fsgnjn.d", "", DONE, DNONE), DONE, 0);
  CK(FF2("fsgnjx.d", "", DNONE, DNONE), DONE, 0);
  CK(FF2("fsgnjx.d", "", DNONE, DONE), DNONE, 0);
  CK(FF2("fsgnj.d", "", DSNAN, DNZERO), 0xfff0000000000001ull, 0);
  CK(FF2("fsgnjn.d", "", 0xfff8000000012345ull, DNZERO), 0x7ff8000000012345ull, 0);
  // A boxed single is just a NaN pattern to the D form: its payload survives.
  CK(FF2("fsgnj.d", "", B(ONE), 0), 0x7fffffff3f800000ull, 0);
  CK(FF1("fabs.d", "", B(NONE)), 0x7fffffffbf800000ull, 0);
  CK(FF1("fneg.d", "", DSNAN), 0xfff0000000000001ull, 0);
  CK(FF1("fmv.d", "", 0x0123456789abcdefull), 0x0123456789abcdefull, 0);
}

static void test_minmax_s(void) {
  CKS(FF2("fmin.s", "", B(ONE), B(TWO)), ONE, 0);
  CKS(FF2("fmax.s", "", B(ONE), B(TWO)), TWO, 0);
  CKS(FF2("fmin.s", "", B(NONE), B(NTWO)), NTWO, 0);
  CKS(FF2("fmax.s", "", B(NONE), B(NTWO)), NONE, 0);
  CKS(FF2("fmin.s", "", B(NZERO), B(0)), NZERO, 0);
  CKS(FF2("fmin.s", "", B(0), B(NZERO)), NZERO, 0);
  CKS(FF2("fmax.s", "", B(NZERO), B(0)), 0, 0);
  CKS(FF2("fmax.s", "", B(0), B(NZERO)), 0, 0);
  CKS(FF2("fmin.s", "", B(NZERO), B(NZERO)), NZERO, 0);
  CKS(FF2("fmin.s", "", B(NINF), B(0x7f7fffff)), NINF, 0);
  CKS(FF2("fmax.s", "", B(INF), B(0x7f7fffff)), INF, 0);
  CKS(FF2("fmin.s", "", B(0x00000001), B(0)), 0, 0);
  CKS(FF2("fmin.s", "", B(0x80000001), B(0)), 0x80000001, 0);
  CKS(FF2("fmax.s", "", B(0x00000001), B(0x00000002)), 0x00000002, 0);
  // One quiet NaN: the other operand, no flags.
  CKS(FF2("fmin.s", "", B(QNAN_S), B(ONE)), ONE, 0);
  CKS(FF2("fmin.s", "", B(ONE), B(QNAN_S)), ONE, 0);
  CKS(FF2("fmax.s", "", B(QNAN_S), B(NONE)), NONE, 0);
  CKS(FF2("fmax.s", "", B(0xffc12345), B(0x40a00000)), 0x40a00000, 0);
  CKS(FF2("fmin.s", "", B(NZERO), B(0xffc00000)), NZERO, 0);
  // One signaling NaN: the other operand, NV.
  CKS(FF2("fmin.s", "", B(SNAN), B(ONE)), ONE, NV);
  CKS(FF2("fmax.s", "", B(ONE), B(SNAN)), ONE, NV);
  CKS(FF2("fmax.s", "", B(0xff800001), B(NINF)), NINF, NV);
  // Two NaNs: canonical NaN (NV if either is signaling).
  CKS(FF2("fmin.s", "", B(QNAN_S), B(QNAN_S)), QNAN_S, 0);
  CKS(FF2("fmin.s", "", B(0x7fc12345), B(0xffc00001)), QNAN_S, 0);
  CKS(FF2("fmax.s", "", B(0xffc00000), B(0xffc00000)), QNAN_S, 0);
  CKS(FF2("fmin.s", "", B(SNAN), B(QNAN_S)), QNAN_S, NV);
  CKS(FF2("fmax.s", "", B(QNAN_S), B(0xffbfffff)), QNAN_S, NV);
  CKS(FF2("fmax.s", "", B(SNAN), B(SNAN)), QNAN_S, NV);
  // Improperly boxed operands count as (quiet) canonical NaNs.
  CKS(FF2("fmin.s", "", 0x0000000000000000ull, B(TWO)), TWO, 0);
  CKS(FF2("fmax.s", "", B(NTWO), 0x3ff0000000000000ull), NTWO, 0);
  CKS(FF2("fmin.s", "", 0x000000003f800000ull, 0x0000000040000000ull), QNAN_S, 0);
  CKS(FF2("fmax.s", "", 0x0000000040000000ull, B(SNAN)), QNAN_S, NV);
}

static void test_minmax_d(void) {
  CK(FF2("fmin.d", "", DONE, DTWO), DONE, 0);
  CK(FF2("fmax.d", "", DONE, DTWO), DTWO, 0);
  CK(FF2("fmin.d", "", DNZERO, 0), DNZERO, 0);
  CK(FF2("fmin.d", "", 0, DNZERO), DNZERO, 0);
  CK(FF2("fmax.d", "", DNZERO, 0), 0, 0);
  CK(FF2("fmax.d", "", 0, DNZERO), 0, 0);
  CK(FF2("fmin.d", "", 0xfff0000000000000ull, DNONE), 0xfff0000000000000ull, 0);
  CK(FF2("fmax.d", "", 0x8000000000000001ull, 0x8000000000000002ull), 0x8000000000000001ull, 0);
  CK(FF2("fmin.d", "", QNAN_D, DONE), DONE, 0);
  CK(FF2("fmax.d", "", DONE, 0xfff8000000000000ull), DONE, 0);
  CK(FF2("fmin.d", "", DSNAN, DONE), DONE, NV);
  CK(FF2("fmax.d", "", DNONE, 0x7ff4000000000000ull), DNONE, NV);
  CK(FF2("fmin.d", "", QNAN_D, 0x7ff8000000012345ull), QNAN_D, 0);
  CK(FF2("fmax.d", "", DSNAN, QNAN_D), QNAN_D, NV);
  // A boxed single is a quiet NaN to the D forms.
  CK(FF2("fmin.d", "", B(ONE), DTWO), DTWO, 0);
  CK(FF2("fmax.d", "", B(ONE), B(TWO)), QNAN_D, 0);
}

int main(void) {
  test_sgnj_s();
  test_sgnj_d();
  test_minmax_s();
  test_minmax_d();
  return fp_result();
}
