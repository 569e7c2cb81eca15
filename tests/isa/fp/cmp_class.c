// feq/flt/fle and fclass, S and D.
//
// F chapter, "Single-Precision Floating-Point Compare Instructions": FEQ is a quiet comparison
// (NV only for a signaling NaN input); FLT and FLE are signaling comparisons (NV for any NaN
// input); the result is 0 whenever an operand is NaN. The integer destination gets exactly 0 or 1.
// F chapter, "Classify Instruction": exactly one of the 10 bits is set, no flags are raised.
// D chapter, "NaN Boxing": an improperly boxed S operand reads as the canonical (quiet) NaN.
#include "fp.h"

#define ONE 0x3f800000u
#define TWO 0x40000000u
#define NZERO 0x80000000u
#define INF 0x7f800000u
#define NINF 0xff800000u
#define SNAN 0x7f800001u
#define DONE 0x3ff0000000000000ull
#define DNZERO 0x8000000000000000ull
#define DINF 0x7ff0000000000000ull
#define DNINF 0xfff0000000000000ull
#define DSNAN 0x7ff0000000000001ull
#define BAD 0x000000003f800000ull  // 1.0f without its NaN-box

static void test_cmp_s(void) {
  CK(XF2("feq.s", B(ONE), B(ONE)), 1, 0);
  CK(XF2("feq.s", B(ONE), B(TWO)), 0, 0);
  CK(XF2("feq.s", B(0), B(NZERO)), 1, 0);
  CK(XF2("feq.s", B(INF), B(INF)), 1, 0);
  CK(XF2("flt.s", B(ONE), B(TWO)), 1, 0);
  CK(XF2("flt.s", B(TWO), B(ONE)), 0, 0);
  CK(XF2("flt.s", B(ONE), B(ONE)), 0, 0);
  CK(XF2("flt.s", B(NZERO), B(0)), 0, 0);
  CK(XF2("fle.s", B(NZERO), B(0)), 1, 0);
  CK(XF2("fle.s", B(0), B(NZERO)), 1, 0);
  CK(XF2("fle.s", B(TWO), B(ONE)), 0, 0);
  CK(XF2("fle.s", B(TWO), B(TWO)), 1, 0);
  CK(XF2("flt.s", B(NINF), B(INF)), 1, 0);
  CK(XF2("fle.s", B(INF), B(INF)), 1, 0);
  CK(XF2("flt.s", B(INF), B(INF)), 0, 0);
  CK(XF2("flt.s", B(0xff7fffff), B(0xbf800000)), 1, 0);
  // Subnormals and sign-magnitude ordering.
  CK(XF2("flt.s", B(0x00000001), B(0x00000002)), 1, 0);
  CK(XF2("flt.s", B(0x80000002), B(0x80000001)), 1, 0);
  CK(XF2("flt.s", B(0x80000001), B(0x00000001)), 1, 0);
  CK(XF2("fle.s", B(0x80000001), B(NZERO)), 1, 0);
  CK(XF2("feq.s", B(0x00000001), B(0)), 0, 0);
  // Quiet comparison.
  CK(XF2("feq.s", B(QNAN_S), B(ONE)), 0, 0);
  CK(XF2("feq.s", B(QNAN_S), B(QNAN_S)), 0, 0);
  CK(XF2("feq.s", B(ONE), B(0xffc12345)), 0, 0);
  CK(XF2("feq.s", B(SNAN), B(ONE)), 0, NV);
  CK(XF2("feq.s", B(ONE), B(0xffbfffff)), 0, NV);
  CK(XF2("feq.s", B(SNAN), B(SNAN)), 0, NV);
  // Signaling comparisons.
  CK(XF2("flt.s", B(QNAN_S), B(ONE)), 0, NV);
  CK(XF2("flt.s", B(ONE), B(QNAN_S)), 0, NV);
  CK(XF2("fle.s", B(QNAN_S), B(QNAN_S)), 0, NV);
  CK(XF2("fle.s", B(SNAN), B(ONE)), 0, NV);
  CK(XF2("flt.s", B(0xffc00000), B(NINF)), 0, NV);
  CK(XF2("fle.s", B(NINF), B(0x7fc00001)), 0, NV);
  // Improper boxes are quiet NaNs.
  CK(XF2("feq.s", BAD, BAD), 0, 0);
  CK(XF2("feq.s", BAD, B(ONE)), 0, 0);
  CK(XF2("flt.s", BAD, B(TWO)), 0, NV);
  CK(XF2("fle.s", B(ONE), 0xffffff7f3f800000ull), 0, NV);
}

static void test_cmp_d(void) {
  CK(XF2("feq.d", DONE, DONE), 1, 0);
  CK(XF2("feq.d", 0, DNZERO), 1, 0);
  CK(XF2("flt.d", DNZERO, 0), 0, 0);
  CK(XF2("fle.d", DNZERO, 0), 1, 0);
  CK(XF2("flt.d", DONE, DONE + 1), 1, 0);
  CK(XF2("fle.d", DONE + 1, DONE), 0, 0);
  CK(XF2("flt.d", DNINF, 0xffefffffffffffffull), 1, 0);
  CK(XF2("flt.d", 0x8000000000000001ull, 1), 1, 0);
  CK(XF2("feq.d", DINF, DINF), 1, 0);
  CK(XF2("feq.d", QNAN_D, DONE), 0, 0);
  CK(XF2("feq.d", 0xfff8000000000000ull, 0xfff8000000000000ull), 0, 0);
  CK(XF2("feq.d", DSNAN, DONE), 0, NV);
  CK(XF2("feq.d", DONE, 0xfff7ffffffffffffull), 0, NV);
  CK(XF2("flt.d", QNAN_D, DONE), 0, NV);
  CK(XF2("fle.d", DONE, QNAN_D), 0, NV);
  CK(XF2("flt.d", DSNAN, DONE), 0, NV);
  // A boxed single read by a D compare is a quiet NaN.
  CK(XF2("feq.d", B(ONE), B(ONE)), 0, 0);
  CK(XF2("fle.d", B(ONE), B(ONE)), 0, NV);
}

static void test_class(void) {
  static const u32 s_in[] = {
      NINF,       0xbf800000, 0xff7fffff, 0x80800000, 0x807fffff, 0x80000001, NZERO,
      0,          0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, ONE,        INF,
      SNAN,       0x7fbfffff, 0xff800001, QNAN_S,     0xffc00000, 0x7fffffff};
  static const u64 s_out[] = {0x1,  0x2,  0x2,  0x2,   0x4,   0x4,   0x8,
                              0x10, 0x20, 0x20, 0x40,  0x40,  0x40,  0x80,
                              0x100, 0x100, 0x100, 0x200, 0x200, 0x200};
  for (unsigned i = 0; i < sizeof(s_in) / sizeof(s_in[0]); i++)
    chk(__LINE__, "fclass.s", XF1("fclass.s", "", B(s_in[i])), s_out[i], 0);
  // Improper boxes are the canonical quiet NaN, whatever their low bits hold.
  CK(XF1("fclass.s", "", 0x000000007f800000ull), 0x200, 0);
  CK(XF1("fclass.s", "", 0x000000007f800001ull), 0x200, 0);
  CK(XF1("fclass.s", "", 0xfffffffe00000000ull), 0x200, 0);
  CK(XF1("fclass.s", "", 0x3ff0000000000000ull), 0x200, 0);

  static const u64 d_in[] = {DNINF,
                             0xbff0000000000000ull,
                             0xffefffffffffffffull,
                             0x800fffffffffffffull,
                             0x8000000000000001ull,
                             DNZERO,
                             0,
                             1,
                             0x000fffffffffffffull,
                             0x0010000000000000ull,
                             DONE,
                             DINF,
                             DSNAN,
                             0x7ff7ffffffffffffull,
                             0xfff0000000000001ull,
                             QNAN_D,
                             0xfff8000000000000ull,
                             B(ONE)};
  static const u64 d_out[] = {0x1,  0x2,  0x2,   0x4,   0x4,   0x8,   0x10,  0x20,  0x20,
                              0x40, 0x40, 0x80,  0x100, 0x100, 0x100, 0x200, 0x200, 0x200};
  for (unsigned i = 0; i < sizeof(d_in) / sizeof(d_in[0]); i++)
    chk(__LINE__, "fclass.d", XF1("fclass.d", "", d_in[i]), d_out[i], 0);
}

int main(void) {
  test_cmp_s();
  test_cmp_d();
  test_class();
  return fp_result();
}
