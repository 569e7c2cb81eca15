// NaN-boxing, the integer<->FP moves and the FP loads/stores (including the RVC forms).
//
// D chapter, "NaN Boxing of Narrower Values":
//  - n-bit transfers INTO f registers (flw, fmv.w.x) create a valid NaN-boxed value (upper 32
//    bits all ones); transfers OUT (fsw, fmv.x.w) use the low 32 bits and ignore the upper ones.
//  - every other S operation checks its inputs: if the upper 32 bits are not all ones the input is
//    the canonical NaN 0x7fc00000 (a quiet NaN: no NV by itself).
//  - every S result is written NaN-boxed.
// F chapter: FMV.X.W fills the upper 32 bits of rd with copies of bit 31; FMV.W.X/FMV.X.W,
// FLW/FSW, FLD/FSD and FMV.D.X/FMV.X.D do not modify the bits moved (NaN payloads preserved) and
// raise no flags.
#include "fp.h"

#define ONE 0x3f800000u
#define TWO 0x40000000u
#define INF 0x7f800000u
#define SNAN 0x7f800001u

// Upper halves that are not a valid box, and one that is.
static const u64 kBadBoxes[] = {0x000000003f800000ull, 0xfffffffe3f800000ull,
                                0x7fffffff3f800000ull, 0xffff00003f800000ull,
                                0x3ff0000000000000ull, 0x00000001ffffffffull};

static void test_moves(void) {
  CK(FX1("fmv.w.x", "", 0xdeadbeef12345678ull), 0xffffffff12345678ull, 0);
  CK(FX1("fmv.w.x", "", 0x000000007f800001ull), 0xffffffff7f800001ull, 0);
  CK(FX1("fmv.w.x", "", 0), 0xffffffff00000000ull, 0);
  // fmv.x.w sign-extends bit 31 and ignores the box.
  CK(XF1("fmv.x.w", "", 0x0000000080000001ull), 0xffffffff80000001ull, 0);
  CK(XF1("fmv.x.w", "", 0x123456787fffffffull), 0x7fffffffull, 0);
  CK(XF1("fmv.x.w", "", B(SNAN)), SNAN, 0);
  CK(XF1("fmv.x.w", "", B(0xffc00001)), 0xffffffffffc00001ull, 0);
  CK(XF1("fmv.x.w", "", 0x400921fb54442d18ull), 0x54442d18ull, 0);
  CK(FX1("fmv.d.x", "", 0x7ff0000000000001ull), 0x7ff0000000000001ull, 0);
  CK(FX1("fmv.d.x", "", 0x00000000ffffffffull), 0x00000000ffffffffull, 0);
  CK(XF1("fmv.x.d", "", 0xfff4000000000000ull), 0xfff4000000000000ull, 0);
}

// Every S operation (other than transfers) on an improperly boxed operand.
static void test_bad_box_inputs(void) {
  for (unsigned i = 0; i < sizeof(kBadBoxes) / sizeof(kBadBoxes[0]); i++) {
    u64 bad = kBadBoxes[i];
    chk(__LINE__, "fadd.s", FF2("fadd.s", ",rne", bad, B(ONE)), B(QNAN_S), 0);
    chk(__LINE__, "fsub.s", FF2("fsub.s", ",rne", B(ONE), bad), B(QNAN_S), 0);
    chk(__LINE__, "fmul.s", FF2("fmul.s", ",rne", bad, B(0)), B(QNAN_S), 0);
    // NaN / 0 is not a division by zero.
    chk(__LINE__, "fdiv.s", FF2("fdiv.s", ",rne", bad, B(0)), B(QNAN_S), 0);
    chk(__LINE__, "fsqrt.s", FF1("fsqrt.s", ",rne", bad), B(QNAN_S), 0);
    chk(__LINE__, "fmadd.s", FF3("fmadd.s", ",rne", B(ONE), B(ONE), bad), B(QNAN_S), 0);
    chk(__LINE__, "fnmsub.s", FF3("fnmsub.s", ",rne", bad, B(ONE), B(ONE)), B(QNAN_S), 0);
    // inf * 0 with a (canonical, quiet) NaN addend still raises NV.
    chk(__LINE__, "fmadd.s inf*0", FF3("fmadd.s", ",rne", B(INF), B(0), bad), B(QNAN_S), NV);
    chk(__LINE__, "fcvt.w.s", XF1("fcvt.w.s", ",rtz", bad), 0x7fffffff, NV);
    chk(__LINE__, "fcvt.wu.s", XF1("fcvt.wu.s", ",rtz", bad), ~0ull, NV);
    chk(__LINE__, "fcvt.l.s", XF1("fcvt.l.s", ",rtz", bad), 0x7fffffffffffffffull, NV);
    chk(__LINE__, "fcvt.lu.s", XF1("fcvt.lu.s", ",rtz", bad), ~0ull, NV);
    chk(__LINE__, "fcvt.d.s", FF1("fcvt.d.s", "", bad), QNAN_D, 0);
    chk(__LINE__, "fclass.s", XF1("fclass.s", "", bad), 0x200, 0);
    chk(__LINE__, "feq.s", XF2("feq.s", bad, bad), 0, 0);
    chk(__LINE__, "flt.s", XF2("flt.s", bad, B(ONE)), 0, NV);
    chk(__LINE__, "fmin.s", FF2("fmin.s", "", bad, B(TWO)), B(TWO), 0);
    chk(__LINE__, "fmax.s", FF2("fmax.s", "", B(TWO), bad), B(TWO), 0);
    chk(__LINE__, "fsgnj.s", FF2("fsgnj.s", "", bad, B(0xbf800000)), B(0xffc00000), 0);
    chk(__LINE__, "fsgnjx.s", FF2("fsgnjx.s", "", B(0xbf800000), bad), B(0xbf800000), 0);
    // Transfers out ignore the upper bits.
    chk(__LINE__, "fmv.x.w", XF1("fmv.x.w", "", bad), (u64)(int64_t)(int32_t)(u32)bad, 0);
  }
  // A valid box with the same low word, for contrast.
  CKS(FF2("fadd.s", ",rne", B(ONE), B(ONE)), TWO, 0);
}

// S results are always boxed, including those of conversions and of the fsgnj family.
static void test_boxed_results(void) {
  CK(FX1("fcvt.s.w", ",rne", 3), B(0x40400000), 0);
  CK(FX1("fcvt.s.lu", ",rne", 0), B(0), 0);
  CK(FF1("fcvt.s.d", ",rne", 0x4000000000000000ull), B(TWO), 0);
  CK(FF1("fcvt.s.d", ",rne", 0x8000000000000000ull), B(0x80000000), 0);
  CK(FF2("fsgnjn.s", "", B(0), B(0)), B(0x80000000), 0);
  CK(FF2("fmin.s", "", B(QNAN_S), B(QNAN_S)), B(QNAN_S), 0);
}

static volatile u64 mem[4] __attribute__((aligned(16)));

static void test_loads_stores(void) {
  u64 r;
  // flw boxes the loaded word; the payload of a signaling NaN survives, no flags.
  mem[0] = 0xaaaaaaaa7f800001ull;
  mem[1] = 0x55555555bf800000ull;
  u64 fl;
  asm volatile("csrwi fflags, 0\n\tflw ft0, 0(%2)\n\tfmv.x.d %0, ft0\n\tfrflags %1"
               : "=r"(r), "=r"(fl)
               : "r"(&mem[0])
               : "ft0", "memory");
  chkv(__LINE__, r, 0xffffffff7f800001ull);
  chkv(__LINE__, fl, 0);
  // Negative offset, and the upper word of the same doubleword.
  asm volatile("flw ft0, -4(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(&mem[2]) : "ft0", "memory");
  chkv(__LINE__, r, 0xffffffff55555555ull);
  // fsw stores the low 32 bits of an improperly boxed value and nothing else.
  mem[2] = 0x1111111122222222ull;
  asm volatile("fmv.d.x ft0, %1\n\tfsw ft0, 4(%0)" ::"r"(&mem[2]), "r"(0x0123456789abcdefull)
               : "ft0", "memory");
  chkv(__LINE__, mem[2], 0x89abcdef22222222ull);
  // fld/fsd move 64 bits unchanged: a boxed single and a signaling NaN payload.
  mem[3] = 0;
  asm volatile("fmv.w.x ft0, %1\n\tfsd ft0, 24(%0)" ::"r"(&mem[0]), "r"(0x3f800000ull)
               : "ft0", "memory");
  chkv(__LINE__, mem[3], 0xffffffff3f800000ull);
  mem[1] = 0x7ff0000000000005ull;
  asm volatile("csrwi fflags, 0\n\tfld ft1, 8(%2)\n\tfsd ft1, -8(%3)\n\tfmv.x.d %0, ft1\n\t"
               "frflags %1"
               : "=r"(r), "=r"(fl)
               : "r"(&mem[0]), "r"(&mem[1])
               : "ft1", "memory");
  chkv(__LINE__, r, 0x7ff0000000000005ull);
  chkv(__LINE__, mem[0], 0x7ff0000000000005ull);
  chkv(__LINE__, fl, 0);
  // flw followed by a D op: the box makes it a quiet NaN.
  mem[0] = 0x3f800000ull;
  asm volatile("flw ft0, 0(%1)\n\tfadd.d ft0, ft0, ft0\n\tfmv.x.d %0, ft0"
               : "=r"(r)
               : "r"(&mem[0])
               : "ft0", "memory");
  chkv(__LINE__, r, QNAN_D);

  // RVC: c.fld / c.fsd (registers x8-x15 / f8-f15) and c.fldsp / c.fsdsp.
  mem[0] = 0xfff0000000000123ull;
  mem[1] = 0;
  {
    register volatile u64* p asm("a0") = mem;
    asm volatile("c.fld fa1, 0(a0)\n\tc.fsd fa1, 8(a0)" ::"r"(p) : "fa1", "memory");
  }
  chkv(__LINE__, mem[1], 0xfff0000000000123ull);
  asm volatile("addi sp, sp, -16\n\tsd %1, 8(sp)\n\tc.fldsp fa2, 8(sp)\n\tc.fsdsp fa2, 0(sp)\n\t"
               "ld %0, 0(sp)\n\taddi sp, sp, 16"
               : "=&r"(r)
               : "r"(0x7ff4000000000042ull)
               : "fa2", "memory");
  chkv(__LINE__, r, 0x7ff4000000000042ull);
}

int main(void) {
  test_moves();
  test_bad_box_inputs();
  test_boxed_results();
  test_loads_stores();
  return fp_result();
}
