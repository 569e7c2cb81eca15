// Zbb basic bit-manipulation on RV64 (bit-manipulation spec, chapter "Zbb"): logic-with-negate,
// count leading/trailing zeros and population count (64-bit and W forms; inputs 0 and all-ones),
// signed/unsigned min/max, sign/zero extension, rotates (register forms use rs2[5:0], W forms
// rs2[4:0]; W results are sign-extended from bit 31), orc.b and rev8.
#include "rv64.h"

#define M1 0xffffffffffffffffull

static void test_logic(void) {
  EQ(RR("andn", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xf000f000f000f000ull);
  EQ(RR("andn", M1, 0), M1);
  EQ(RR("andn", M1, M1), 0);
  EQ(RR("orn", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xff0fff0fff0fff0full);
  EQ(RR("orn", 0, M1), 0);
  EQ(RR("orn", 0, 0), M1);
  EQ(RR("xnor", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0x0f0f0f0f0f0f0f0full);
  EQ(RR("xnor", 0, 0), M1);
  EQ(RR("xnor", M1, 0), 0);
}

static void test_counts(void) {
  EQ(R1("clz", 0), 64);
  EQ(R1("clz", M1), 0);
  EQ(R1("clz", 1), 63);
  EQ(R1("clz", 0x0000000080000000ull), 32);
  EQ(R1("clz", 0x00000001ffffffffull), 31);
  EQ(R1("ctz", 0), 64);
  EQ(R1("ctz", M1), 0);
  EQ(R1("ctz", 0x8000000000000000ull), 63);
  EQ(R1("ctz", 0x0000000100000000ull), 32);
  EQ(R1("ctz", 0xfffffffe00000000ull), 33);
  EQ(R1("cpop", 0), 0);
  EQ(R1("cpop", M1), 64);
  EQ(R1("cpop", 0x8000000000000001ull), 2);
  EQ(R1("cpop", 0x5555555555555555ull), 32);
  // W forms look only at bits 31:0.
  EQ(R1("clzw", 0), 32);
  EQ(R1("clzw", M1), 0);
  EQ(R1("clzw", 0xffffffff00000000ull), 32);
  EQ(R1("clzw", 0xffffffff00000001ull), 31);
  EQ(R1("clzw", 0x0000000080000000ull), 0);
  EQ(R1("clzw", 0x0000000000010000ull), 15);
  EQ(R1("ctzw", 0), 32);
  EQ(R1("ctzw", M1), 0);
  EQ(R1("ctzw", 0xffffffff00000000ull), 32);
  EQ(R1("ctzw", 0x0000000080000000ull), 31);
  EQ(R1("ctzw", 0x1234567800000100ull), 8);
  EQ(R1("cpopw", 0), 0);
  EQ(R1("cpopw", M1), 32);
  EQ(R1("cpopw", 0xffffffff00000000ull), 0);
  EQ(R1("cpopw", 0x00000000f0f0f0f1ull), 17);
}

static void test_minmax(void) {
  EQ(RR("max", M1, 1), 1);
  EQ(RR("max", 0x8000000000000000ull, 0x7fffffffffffffffull), 0x7fffffffffffffffull);
  EQ(RR("max", 0x8000000000000000ull, M1), M1);
  EQ(RR("max", 5, 5), 5);
  EQ(RR("min", M1, 1), M1);
  EQ(RR("min", 0x8000000000000000ull, 0x7fffffffffffffffull), 0x8000000000000000ull);
  EQ(RR("min", 0, M1), M1);
  EQ(RR("maxu", M1, 1), M1);
  EQ(RR("maxu", 0x8000000000000000ull, 0x7fffffffffffffffull), 0x8000000000000000ull);
  EQ(RR("maxu", 0, 0), 0);
  EQ(RR("minu", M1, 1), 1);
  EQ(RR("minu", 0x8000000000000000ull, 0x7fffffffffffffffull), 0x7fffffffffffffffull);
  EQ(RR("minu", 0, M1), 0);
}

static void test_extend(void) {
  EQ(R1("sext.b", 0x80), 0xffffffffffffff80ull);
  EQ(R1("sext.b", 0x7f), 0x7f);
  EQ(R1("sext.b", 0xffffffffffffff00ull), 0);
  EQ(R1("sext.b", 0x12345678abcdefffull), M1);
  EQ(R1("sext.h", 0x8000), 0xffffffffffff8000ull);
  EQ(R1("sext.h", 0x7fff), 0x7fff);
  EQ(R1("sext.h", 0xffffffffffff0000ull), 0);
  EQ(R1("sext.h", 0x00000000ffff1234ull), 0x1234);
  EQ(R1("zext.h", M1), 0xffff);
  EQ(R1("zext.h", 0x8000), 0x8000);
  EQ(R1("zext.h", 0xffffffffffff0000ull), 0);
  EQ(R1("zext.h", 0x123456789abcdef0ull), 0xdef0);
}

static void test_rotates(void) {
  const u64 v = 0x8000000000000001ull;
  EQ(RR("rol", v, 0), v);
  EQ(RR("rol", v, 1), 3);
  EQ(RR("rol", v, 63), 0xc000000000000000ull);
  EQ(RR("rol", v, 64), v);                                    // rs2[5:0] = 0
  EQ(RR("rol", 0x0123456789abcdefull, 0xffffffffffffff04ull), 0x123456789abcdef0ull);
  EQ(RR("ror", v, 0), v);
  EQ(RR("ror", v, 1), 0xc000000000000000ull);
  EQ(RR("ror", v, 63), 3);
  EQ(RR("ror", v, 65), 0xc000000000000000ull);
  EQ(RR("ror", 0x0123456789abcdefull, 32), 0x89abcdef01234567ull);
  EQ(RI("rori", v, 0), v);
  EQ(RI("rori", v, 1), 0xc000000000000000ull);
  EQ(RI("rori", v, 63), 3);
  EQ(RI("rori", 0x0123456789abcdefull, 4), 0xf0123456789abcdeull);
  EQ(RI("rori", 0x0123456789abcdefull, 31), 0x13579bde02468acfull);
  // W rotates: 32-bit rotate of rs1[31:0], result sign-extended, shift amount rs2[4:0].
  EQ(RR("rolw", 0x80000001, 1), 3);
  EQ(RR("rolw", 0xffffffff00000001ull, 31), 0xffffffff80000000ull);
  EQ(RR("rolw", 0x40000000, 1), 0xffffffff80000000ull);
  EQ(RR("rolw", 0x12345678, 32), 0x12345678);                 // 32 & 31 = 0
  EQ(RR("rolw", 0x87654321, 0), 0xffffffff87654321ull);        // rotate by 0 still sign-extends
  EQ(RR("rorw", 0x80000001, 1), 0xffffffffc0000000ull);
  EQ(RR("rorw", 0x00000001ffffffffull, 4), M1);
  EQ(RR("rorw", 0x12345678, 36), 0xffffffff81234567ull);       // 36 & 31 = 4
  EQ(RR("rorw", 0x00000000fffffffeull, 0), 0xfffffffffffffffeull);
  EQ(RI("roriw", 0x80000001, 1), 0xffffffffc0000000ull);
  EQ(RI("roriw", 0x80000001, 31), 3);
  EQ(RI("roriw", 0x123456780000ffffull, 16), 0xffffffffffff0000ull);
  EQ(RI("roriw", 0x0000000012345678ull, 0), 0x12345678);
  EQ(RI("roriw", 0xffffffff7fffffffull, 0), 0x7fffffff);
}

static void test_bytes(void) {
  EQ(R1("orc.b", 0), 0);
  EQ(R1("orc.b", M1), M1);
  EQ(R1("orc.b", 0x0001008000ff1000ull), 0x00ff00ff00ffff00ull);
  EQ(R1("orc.b", 0x8000000000000001ull), 0xff000000000000ffull);
  EQ(R1("rev8", 0x0123456789abcdefull), 0xefcdab8967452301ull);
  EQ(R1("rev8", 0xff), 0xff00000000000000ull);
  EQ(R1("rev8", 0), 0);
  EQ(R1("rev8", M1), M1);
}

int main(void) {
  test_logic();
  test_counts();
  test_minmax();
  test_extend();
  test_rotates();
  test_bytes();
  return 0;
}
