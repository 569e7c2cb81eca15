// Zba address-generation instructions on RV64 (bit-manipulation spec, chapter "Zba"). The .uw
// forms zero-extend the low 32 bits of rs1 before shifting, so inputs carry garbage in bits 63:32.
#include "rv64.h"

int main(void) {
  EQ(RR("sh1add", 5, 100), 110);
  EQ(RR("sh1add", 0x8000000000000001ull, 0), 2);                    // bit 63 shifted out
  EQ(RR("sh1add", ~0ull, 1), ~0ull);                                // -2 + 1
  EQ(RR("sh2add", 5, 100), 120);
  EQ(RR("sh2add", 0x4000000000000001ull, 0x10), 0x14);
  EQ(RR("sh2add", 0x7fffffffffffffffull, 0), 0xfffffffffffffffcull);
  EQ(RR("sh3add", 5, 100), 140);
  EQ(RR("sh3add", 0x2000000000000001ull, 0xfffffffffffffff8ull), 0);
  EQ(RR("sh3add", 0xffffffffull, 0), 0x7fffffff8ull);
  // add.uw: rs2 + zext(rs1[31:0]).
  EQ(RR("add.uw", 0xffffffff80000000ull, 0), 0x80000000ull);
  EQ(RR("add.uw", 0x12345678ffffffffull, 1), 0x100000000ull);
  EQ(RR("add.uw", 0xffffffff00000000ull, 0x5), 5);
  EQ(RR("add.uw", 0x7fffffffull, 0xffffffff00000000ull), 0xffffffff7fffffffull);
  u64 r;
  asm volatile("zext.w %0, %1" : "=r"(r) : "r"(0xdeadbeefcafef00dull));  // add.uw rd, rs, zero
  EQ(r, 0xcafef00dull);
  EQ(RR("sh1add.uw", 0xffffffff80000000ull, 0), 0x100000000ull);
  EQ(RR("sh1add.uw", 0xabcdef01ffffffffull, 2), 0x200000000ull);
  EQ(RR("sh2add.uw", 0xffffffff80000000ull, 0), 0x200000000ull);
  EQ(RR("sh2add.uw", 0x0000000100000003ull, 0x100ull), 0x10cull);
  EQ(RR("sh3add.uw", 0xffffffff80000000ull, 0), 0x400000000ull);
  EQ(RR("sh3add.uw", 0xffffffffffffffffull, 8), 0x800000000ull);
  // slli.uw: zext(rs1[31:0]) << shamt (6-bit shamt).
  EQ(RI("slli.uw", 0xffffffff80000000ull, 0), 0x80000000ull);
  EQ(RI("slli.uw", 0xffffffff80000001ull, 1), 0x100000002ull);
  EQ(RI("slli.uw", 0x12345678ffffffffull, 32), 0xffffffff00000000ull);
  EQ(RI("slli.uw", 0x12345678ffffffffull, 63), 0x8000000000000000ull);
  EQ(RI("slli.uw", 0xfffffffe00000003ull, 62), 0xc000000000000000ull);
  return 0;
}
