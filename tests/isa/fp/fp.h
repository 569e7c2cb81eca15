// Shared helpers for the F/D tests in this folder (a header, so it is not itself a test).
//
// Every operation runs inside one asm block: load operands with fmv.d.x (so the test controls all
// 64 register bits, including the NaN-box), clear fflags, execute exactly one FP instruction,
// read fflags, and move the destination out with fmv.x.d (so single-precision results are checked
// for their NaN-box too). Keeping it in one block stops the compiler from moving FP work across
// the fflags accesses. Failures are reported and counted rather than fatal, so one run lists every
// mismatch; main() returns fp_result() (0 = pass).
#pragma once
#include "test.h"

enum { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };

// A single-precision value NaN-boxed in a 64-bit f register (D spec, "NaN Boxing of Narrower
// Values").
#define B(x) (0xffffffff00000000ull | (u32)(x))

#define QNAN_S 0x7fc00000u
#define QNAN_D 0x7ff8000000000000ull

// Value left in the destination before each op, so an instruction that fails to write it shows.
#define JUNK 0x5a5a5a5a5a5a5a5aull

typedef struct {
  u64 v, f;
} fres;

static int fp_fails;
static int fp_checks;

__attribute__((unused)) static void put_dec(u64 v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) htif_putc(buf[--n]);
}

// Each HTIF character costs a simulator polling slice, so only the first failures are printed.
#define FP_MAX_PRINTED 40

__attribute__((unused)) static void fp_report(int line, const char* tag, u64 got, u64 exp, u64 gotfl, u64 expfl) {
  if (fp_fails > FP_MAX_PRINTED) return;
  puts_("FAIL line ");
  put_dec((u64)line);
  if (tag && *tag) {
    puts_(" [");
    puts_(tag);
    puts_("]");
  }
  puts_(": got ");
  put_hex(got);
  puts_(" flags ");
  put_hex(gotfl);
  puts_(", expected ");
  put_hex(exp);
  puts_(" flags ");
  put_hex(expfl);
  htif_putc('\n');
}

__attribute__((unused)) static void chk(int line, const char* tag, fres r, u64 exp, u64 expfl) {
  fp_checks++;
  if (r.v != exp || r.f != expfl) {
    fp_fails++;
    fp_report(line, tag, r.v, exp, r.f, expfl);
  }
}

// Plain value check (no flags).
__attribute__((unused)) static void chkv(int line, u64 got, u64 exp) {
  fp_checks++;
  if (got != exp) {
    fp_fails++;
    fp_report(line, "", got, exp, 0, 0);
  }
}

__attribute__((unused)) static int fp_result(void) {
  puts_("fp: ");
  put_dec((u64)(fp_checks - fp_fails));
  puts_(" of ");
  put_dec((u64)fp_checks);
  puts_(" checks passed\n");
  return fp_fails > 100 ? 100 : fp_fails;
}

// ---- single-instruction runners; `rm` is a string such as ",rtz" or "" ----
// f-dest <- op(f-src)
#define FF1(op, rm, a)                                                                     \
  ({                                                                                       \
    u64 r_, f_;                                                                            \
    asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft3, %3\n\tcsrwi fflags, 0\n\t" op            \
                 " ft3, ft0" rm "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                        \
                 : "=r"(r_), "=r"(f_)                                                      \
                 : "r"((u64)(a)), "r"(JUNK)                                                \
                 : "ft0", "ft3", "memory");                                                \
    (fres){r_, f_};                                                                        \
  })
// f-dest <- op(f-src, f-src)
#define FF2(op, rm, a, b)                                                                  \
  ({                                                                                       \
    u64 r_, f_;                                                                            \
    asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfmv.d.x ft3, %4\n\tcsrwi fflags, 0\n\t" \
                 op " ft3, ft0, ft1" rm "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                \
                 : "=r"(r_), "=r"(f_)                                                      \
                 : "r"((u64)(a)), "r"((u64)(b)), "r"(JUNK)                                 \
                 : "ft0", "ft1", "ft3", "memory");                                         \
    (fres){r_, f_};                                                                        \
  })
// f-dest <- op(f-src, f-src, f-src)   (fused multiply-add family)
#define FF3(op, rm, a, b, c)                                                               \
  ({                                                                                       \
    u64 r_, f_;                                                                            \
    asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfmv.d.x ft2, %4\n\tfmv.d.x ft3, %5\n\t" \
                 "csrwi fflags, 0\n\t" op " ft3, ft0, ft1, ft2" rm                         \
                 "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                                       \
                 : "=r"(r_), "=r"(f_)                                                      \
                 : "r"((u64)(a)), "r"((u64)(b)), "r"((u64)(c)), "r"(JUNK)                  \
                 : "ft0", "ft1", "ft2", "ft3", "memory");                                  \
    (fres){r_, f_};                                                                        \
  })
// x-dest <- op(f-src)   (fcvt to integer, fclass, fmv.x.*)
#define XF1(op, rm, a)                                                                     \
  ({                                                                                       \
    u64 r_ = JUNK, f_;                                                                     \
    asm volatile("fmv.d.x ft0, %2\n\tcsrwi fflags, 0\n\t" op " %0, ft0" rm                 \
                 "\n\tfrflags %1"                                                          \
                 : "+&r"(r_), "=&r"(f_)                                                    \
                 : "r"((u64)(a))                                                           \
                 : "ft0", "memory");                                                       \
    (fres){r_, f_};                                                                        \
  })
// x-dest <- op(f-src, f-src)   (compares)
#define XF2(op, a, b)                                                                      \
  ({                                                                                       \
    u64 r_ = JUNK, f_;                                                                     \
    asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tcsrwi fflags, 0\n\t" op            \
                 " %0, ft0, ft1\n\tfrflags %1"                                             \
                 : "+&r"(r_), "=&r"(f_)                                                    \
                 : "r"((u64)(a)), "r"((u64)(b))                                            \
                 : "ft0", "ft1", "memory");                                                \
    (fres){r_, f_};                                                                        \
  })
// f-dest <- op(x-src)   (fcvt from integer, fmv.*.x)
#define FX1(op, rm, x)                                                                     \
  ({                                                                                       \
    u64 r_, f_;                                                                            \
    asm volatile("fmv.d.x ft3, %3\n\tcsrwi fflags, 0\n\t" op " ft3, %2" rm                 \
                 "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                                       \
                 : "=r"(r_), "=r"(f_)                                                      \
                 : "r"((u64)(x)), "r"(JUNK)                                                \
                 : "ft3", "memory");                                                       \
    (fres){r_, f_};                                                                        \
  })

#define CK(r, exp, fl) chk(__LINE__, "", (r), (u64)(exp), (fl))
#define CKS(r, exp, fl) chk(__LINE__, "", (r), B(exp), (fl))

// Five expected values / flags in RNE, RTZ, RDN, RUP, RMM order.
#define E5(a, b, c, d, e) ((const u64[5]){(u64)(a), (u64)(b), (u64)(c), (u64)(d), (u64)(e)})
#define E5S(a, b, c, d, e) E5(B(a), B(b), B(c), B(d), B(e))
#define F5(a, b, c, d, e) E5(a, b, c, d, e)
#define FALL(x) E5(x, x, x, x, x)

__attribute__((unused)) static const char* const kRmTag[5] = {"rne", "rtz", "rdn", "rup", "rmm"};
__attribute__((unused)) static const char* const kDynTag[5] = {"dyn/rne", "dyn/rtz", "dyn/rdn", "dyn/rup", "dyn/rmm"};

// Checks one operation under each static rounding mode and then under DYN with frm = 0..4
// (the DYN expression is re-evaluated after each frm write).
#define SWEEP_(E, F, r0, r1, r2, r3, r4, rdyn)                                    \
  do {                                                                            \
    const u64* e_ = (E);                                                          \
    const u64* fl_ = (F);                                                         \
    chk(__LINE__, kRmTag[0], r0, e_[0], fl_[0]);                                  \
    chk(__LINE__, kRmTag[1], r1, e_[1], fl_[1]);                                  \
    chk(__LINE__, kRmTag[2], r2, e_[2], fl_[2]);                                  \
    chk(__LINE__, kRmTag[3], r3, e_[3], fl_[3]);                                  \
    chk(__LINE__, kRmTag[4], r4, e_[4], fl_[4]);                                  \
    for (int m_ = 0; m_ < 5; m_++) {                                              \
      asm volatile("csrw frm, %0" ::"r"((u64)m_));                                \
      chk(__LINE__, kDynTag[m_], rdyn, e_[m_], fl_[m_]);                          \
    }                                                                             \
    asm volatile("csrwi frm, 0");                                                 \
  } while (0)

// Sweeps per operand shape. Operands and expected values are raw 64-bit register patterns: use
// B() / E5S for single precision.
#define SW_FF1(op, a, E, F)                                                                \
  do {                                                                                     \
    u64 a_ = (u64)(a);                                                                     \
    SWEEP_(E, F, FF1(op, ",rne", a_), FF1(op, ",rtz", a_), FF1(op, ",rdn", a_),            \
           FF1(op, ",rup", a_), FF1(op, ",rmm", a_), FF1(op, ",dyn", a_));                 \
  } while (0)
#define SW_FF2(op, a, b, E, F)                                                             \
  do {                                                                                     \
    u64 a_ = (u64)(a), b_ = (u64)(b);                                                      \
    SWEEP_(E, F, FF2(op, ",rne", a_, b_), FF2(op, ",rtz", a_, b_), FF2(op, ",rdn", a_, b_), \
           FF2(op, ",rup", a_, b_), FF2(op, ",rmm", a_, b_), FF2(op, ",dyn", a_, b_));     \
  } while (0)
#define SW_FF3(op, a, b, c, E, F)                                                          \
  do {                                                                                     \
    u64 a_ = (u64)(a), b_ = (u64)(b), c_ = (u64)(c);                                       \
    SWEEP_(E, F, FF3(op, ",rne", a_, b_, c_), FF3(op, ",rtz", a_, b_, c_),                 \
           FF3(op, ",rdn", a_, b_, c_), FF3(op, ",rup", a_, b_, c_),                       \
           FF3(op, ",rmm", a_, b_, c_), FF3(op, ",dyn", a_, b_, c_));                      \
  } while (0)
#define SW_XF1(op, a, E, F)                                                                \
  do {                                                                                     \
    u64 a_ = (u64)(a);                                                                     \
    SWEEP_(E, F, XF1(op, ",rne", a_), XF1(op, ",rtz", a_), XF1(op, ",rdn", a_),            \
           XF1(op, ",rup", a_), XF1(op, ",rmm", a_), XF1(op, ",dyn", a_));                 \
  } while (0)
#define SW_FX1(op, x, E, F)                                                                \
  do {                                                                                     \
    u64 x_ = (u64)(x);                                                                     \
    SWEEP_(E, F, FX1(op, ",rne", x_), FX1(op, ",rtz", x_), FX1(op, ",rdn", x_),            \
           FX1(op, ",rup", x_), FX1(op, ",rmm", x_), FX1(op, ",dyn", x_));                 \
  } while (0)

// Encodings the assembler will not take with an explicit rounding mode (fcvt.d.s, fcvt.d.w[u]):
// emit them with .insn so every rm value can be exercised. OP-FP major opcode is 0x53.
#define FF1_INSN(f7, rs2, rm, a)                                                           \
  ({                                                                                       \
    u64 r_, f_;                                                                            \
    asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft3, %3\n\tcsrwi fflags, 0\n\t"              \
                 ".insn r 0x53, " #rm ", " #f7 ", ft3, ft0, " #rs2                        \
                 "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                                       \
                 : "=r"(r_), "=r"(f_)                                                      \
                 : "r"((u64)(a)), "r"(JUNK)                                                \
                 : "ft0", "ft3", "memory");                                                \
    (fres){r_, f_};                                                                        \
  })
#define FX1_INSN(f7, rs2, rm, x)                                                           \
  ({                                                                                       \
    u64 r_, f_;                                                                            \
    asm volatile("fmv.d.x ft3, %3\n\tcsrwi fflags, 0\n\t"                                 \
                 ".insn r 0x53, " #rm ", " #f7 ", ft3, %2, " #rs2                         \
                 "\n\tfrflags %1\n\tfmv.x.d %0, ft3"                                       \
                 : "=r"(r_), "=r"(f_)                                                      \
                 : "r"((u64)(x)), "r"(JUNK)                                                \
                 : "ft3", "memory");                                                       \
    (fres){r_, f_};                                                                        \
  })
#define SW_FF1_INSN(f7, rs2, a, E, F)                                                      \
  do {                                                                                     \
    u64 a_ = (u64)(a);                                                                     \
    SWEEP_(E, F, FF1_INSN(f7, rs2, 0, a_), FF1_INSN(f7, rs2, 1, a_),                       \
           FF1_INSN(f7, rs2, 2, a_), FF1_INSN(f7, rs2, 3, a_), FF1_INSN(f7, rs2, 4, a_),   \
           FF1_INSN(f7, rs2, 7, a_));                                                      \
  } while (0)
#define SW_FX1_INSN(f7, rs2, x, E, F)                                                      \
  do {                                                                                     \
    u64 x_ = (u64)(x);                                                                     \
    SWEEP_(E, F, FX1_INSN(f7, rs2, 0, x_), FX1_INSN(f7, rs2, 1, x_),                       \
           FX1_INSN(f7, rs2, 2, x_), FX1_INSN(f7, rs2, 3, x_), FX1_INSN(f7, rs2, 4, x_),   \
           FX1_INSN(f7, rs2, 7, x_));                                                      \
  } while (0)
