// Reserved rounding modes raise an illegal-instruction exception (mcause 2) and the instruction
// has no effect (no destination write, no flags).
//
// F chapter, "Floating-Point Control and Status Register": rm values 101 and 110 are reserved,
// and DYN (111) with frm holding 101-111 is reserved. The ratified F 2.2 text required an
// illegal-instruction exception for the dynamic case, and the current text notes that raising it
// "is still valid behavior"; this hart is required to trap in both cases. Instructions that are
// "mathematically unaffected by the rounding mode" (fcvt.d.s, fcvt.d.w[u]) must still "treat the
// rm field as usual (in particular, with regard to decoding legal vs. reserved encodings)".
// Instructions without an rm field (fsgnj, fmin, compares, fclass, moves, loads/stores) must keep
// working while frm holds a reserved value.
#include "trap.h"

#define ONE 0x3ff0000000000000ull
#define SONE B(0x3f800000)

// Reserved static rm (5 and 6) on every rounding-capable instruction shape. Operands are chosen
// so that a wrongly executed instruction would also raise a flag (1/0 -> DZ, sqrt(-1) -> NV...).
static void test_static_reserved(void) {
  // frm holds a valid mode, so only the instruction's own rm field is at fault.
  asm volatile("csrwi frm, 0");
  {  // rm = 101
    EXPECT_ILL(".insn r 0x53, 5, 0x00, ft3, ft0, ft1", SONE, B(0), 0);        // fadd.s
    EXPECT_ILL(".insn r 0x53, 5, 0x05, ft3, ft0, ft1", ONE, 0, 0);            // fsub.d
    EXPECT_ILL(".insn r 0x53, 5, 0x08, ft3, ft0, ft1", SONE, SONE, 0);        // fmul.s
    EXPECT_ILL(".insn r 0x53, 5, 0x0d, ft3, ft0, ft1", ONE, 0, 0);            // fdiv.d
    EXPECT_ILL(".insn r 0x53, 5, 0x2c, ft3, ft0, f0", B(0xbf800000), 0, 0);   // fsqrt.s
    EXPECT_ILL(".insn r 0x53, 5, 0x2d, ft3, ft0, f0", 0xbff0000000000000ull, 0, 0);  // fsqrt.d
    EXPECT_ILL(".insn r 0x53, 5, 0x20, ft3, ft0, f1", 0x3fd5555555555555ull, 0, 0);  // fcvt.s.d
    EXPECT_ILL(".insn r 0x53, 5, 0x21, ft3, ft0, f0", SONE, 0, 0);            // fcvt.d.s
    EXPECT_ILL(".insn r 0x53, 5, 0x60, t0, ft0, x0", SONE, 0, 0);             // fcvt.w.s
    EXPECT_ILL(".insn r 0x53, 5, 0x61, t0, ft0, x3", ONE, 0, 0);              // fcvt.lu.d
    EXPECT_ILL(".insn r 0x53, 5, 0x68, ft3, sp, x0", 0, 0, 0);                // fcvt.s.w
    EXPECT_ILL(".insn r 0x53, 5, 0x69, ft3, sp, x0", 0, 0, 0);                // fcvt.d.w
    EXPECT_ILL(".insn r 0x53, 5, 0x69, ft3, sp, x1", 0, 0, 0);                // fcvt.d.wu
    EXPECT_ILL(".insn r 0x53, 5, 0x69, ft3, sp, x3", 0, 0, 0);                // fcvt.d.lu
    EXPECT_ILL(".insn r4 0x43, 5, 0, ft3, ft0, ft1, ft2", SONE, SONE, SONE);  // fmadd.s
    EXPECT_ILL(".insn r4 0x47, 5, 1, ft3, ft0, ft1, ft2", ONE, ONE, ONE);     // fmsub.d
    EXPECT_ILL(".insn r4 0x4b, 5, 0, ft3, ft0, ft1, ft2", SONE, SONE, SONE);  // fnmsub.s
    EXPECT_ILL(".insn r4 0x4f, 5, 1, ft3, ft0, ft1, ft2", ONE, ONE, ONE);     // fnmadd.d
  }
  {  // rm = 110
    EXPECT_ILL(".insn r 0x53, 6, 0x01, ft3, ft0, ft1", ONE, ONE, 0);          // fadd.d
    EXPECT_ILL(".insn r 0x53, 6, 0x04, ft3, ft0, ft1", SONE, SONE, 0);        // fsub.s
    EXPECT_ILL(".insn r 0x53, 6, 0x09, ft3, ft0, ft1", ONE, ONE, 0);          // fmul.d
    EXPECT_ILL(".insn r 0x53, 6, 0x0c, ft3, ft0, ft1", SONE, B(0), 0);        // fdiv.s
    EXPECT_ILL(".insn r 0x53, 6, 0x2c, ft3, ft0, f0", SONE, 0, 0);            // fsqrt.s
    EXPECT_ILL(".insn r 0x53, 6, 0x20, ft3, ft0, f1", ONE, 0, 0);             // fcvt.s.d
    EXPECT_ILL(".insn r 0x53, 6, 0x21, ft3, ft0, f0", SONE, 0, 0);            // fcvt.d.s
    EXPECT_ILL(".insn r 0x53, 6, 0x60, t0, ft0, x1", SONE, 0, 0);             // fcvt.wu.s
    EXPECT_ILL(".insn r 0x53, 6, 0x61, t0, ft0, x2", ONE, 0, 0);              // fcvt.l.d
    EXPECT_ILL(".insn r 0x53, 6, 0x68, ft3, sp, x3", 0, 0, 0);                // fcvt.s.lu
    EXPECT_ILL(".insn r 0x53, 6, 0x69, ft3, sp, x2", 0, 0, 0);                // fcvt.d.l
    EXPECT_ILL(".insn r 0x53, 6, 0x69, ft3, sp, x0", 0, 0, 0);                // fcvt.d.w
    EXPECT_ILL(".insn r4 0x43, 6, 1, ft3, ft0, ft1, ft2", ONE, ONE, ONE);     // fmadd.d
    EXPECT_ILL(".insn r4 0x4f, 6, 0, ft3, ft0, ft1, ft2", SONE, SONE, SONE);  // fnmadd.s
  }
}

// DYN (rm = 111) with frm = 5, 6, 7.
static void test_dynamic_reserved(void) {
  for (u64 frm = 5; frm <= 7; frm++) {
    asm volatile("csrw frm, %0" ::"r"(frm));
    // The reserved value is held (and reads back) until used.
    chkv(__LINE__, csr_read(frm), frm);
    EXPECT_ILL("fadd.s ft3, ft0, ft1, dyn", SONE, SONE, 0);
    EXPECT_ILL("fdiv.d ft3, ft0, ft1, dyn", ONE, 0, 0);
    EXPECT_ILL("fsqrt.d ft3, ft0, dyn", 0xbff0000000000000ull, 0, 0);
    EXPECT_ILL("fmadd.d ft3, ft0, ft1, ft2, dyn", ONE, ONE, ONE);
    EXPECT_ILL("fnmsub.s ft3, ft0, ft1, ft2, dyn", SONE, SONE, SONE);
    EXPECT_ILL("fcvt.w.d t0, ft0, dyn", 0x3ff8000000000000ull, 0, 0);
    EXPECT_ILL("fcvt.lu.s t0, ft0, dyn", B(0xbf800000), 0, 0);
    EXPECT_ILL("fcvt.s.l ft3, sp, dyn", 0, 0, 0);
    EXPECT_ILL("fcvt.s.d ft3, ft0, dyn", 0x3fd5555555555555ull, 0, 0);
    EXPECT_ILL(".insn r 0x53, 7, 0x21, ft3, ft0, f0", SONE, 0, 0);  // fcvt.d.s, dyn
    EXPECT_ILL(".insn r 0x53, 7, 0x69, ft3, sp, x0", 0, 0, 0);      // fcvt.d.w, dyn
    EXPECT_ILL(".insn r 0x53, 7, 0x69, ft3, sp, x1", 0, 0, 0);      // fcvt.d.wu, dyn

    // Static modes and rm-less instructions are unaffected by the reserved frm.
    trial t = TRY("fadd.s ft3, ft0, ft1, rmm", SONE, B(0x33800000), 0);  // 1 + 2^-24, tie
    expect_no_trap(__LINE__, "fadd.s rmm with reserved frm");
    chk(__LINE__, "fadd.s rmm", (fres){t.f3, t.fl}, B(0x3f800001), NX);
    t = TRY("fcvt.d.s ft3, ft0", SONE, 0, 0);  // assembler encodes rm = RNE
    expect_no_trap(__LINE__, "fcvt.d.s rne with reserved frm");
    chk(__LINE__, "fcvt.d.s rne", (fres){t.f3, t.fl}, ONE, 0);
    t = TRY("fsgnjn.d ft3, ft0, ft1", ONE, ONE, 0);
    expect_no_trap(__LINE__, "fsgnjn.d");
    chk(__LINE__, "fsgnjn.d", (fres){t.f3, t.fl}, 0xbff0000000000000ull, 0);
    t = TRY("fmin.s ft3, ft0, ft1", SONE, B(0x7f800001), 0);
    expect_no_trap(__LINE__, "fmin.s");
    chk(__LINE__, "fmin.s", (fres){t.f3, t.fl}, SONE, NV);
    t = TRY("flt.d t0, ft0, ft1", 0, ONE, 0);
    expect_no_trap(__LINE__, "flt.d");
    chk(__LINE__, "flt.d", (fres){t.t0, t.fl}, 1, 0);
    t = TRY("fclass.d t0, ft0", ONE, 0, 0);
    expect_no_trap(__LINE__, "fclass.d");
    chk(__LINE__, "fclass.d", (fres){t.t0, t.fl}, 0x40, 0);
    t = TRY("fmv.x.w t0, ft0", B(0x80000000), 0, 0);
    expect_no_trap(__LINE__, "fmv.x.w");
    chk(__LINE__, "fmv.x.w", (fres){t.t0, t.fl}, 0xffffffff80000000ull, 0);
    t = TRY("fmv.d.x ft3, sp\n\tfsd ft0, -8(sp)\n\tfld ft3, -8(sp)", ONE, 0, 0);
    expect_no_trap(__LINE__, "fmv.d.x/fsd/fld");
    chk(__LINE__, "fsd/fld", (fres){t.f3, t.fl}, ONE, 0);
    chkv(__LINE__, csr_read(frm), frm);
  }
  asm volatile("csrwi frm, 0");
  // Back to a valid frm, DYN works again.
  trial t = TRY("fadd.s ft3, ft0, ft1, dyn", SONE, SONE, 0);
  expect_no_trap(__LINE__, "fadd.s dyn, frm = RNE");
  chk(__LINE__, "fadd.s dyn", (fres){t.f3, t.fl}, B(0x40000000), 0);
}

int main(void) {
  test_static_reserved();
  test_dynamic_reserved();
  return fp_result();
}
