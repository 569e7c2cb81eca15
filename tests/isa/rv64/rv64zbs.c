// Zbs single-bit instructions on RV64 (bit-manipulation spec, chapter "Zbs"). The register forms
// use index = rs2 & 63, so indices >= 64 wrap; the immediate forms take a 6-bit shamt (0..63).
#include "rv64.h"

#define M1 0xffffffffffffffffull

int main(void) {
  EQ(RR("bset", 0, 0), 1);
  EQ(RR("bset", 0, 63), 0x8000000000000000ull);
  EQ(RR("bset", 0, 64), 1);                                   // 64 & 63 = 0
  EQ(RR("bset", 0, 127), 0x8000000000000000ull);
  EQ(RR("bset", 0, 0xffffffffffffffe0ull), 0x100000000ull);    // low six bits = 32
  EQ(RR("bset", M1, 17), M1);
  EQ(RR("bset", 0, 31), 0x80000000ull);                        // no sign extension from bit 31
  EQ(RR("bclr", M1, 0), 0xfffffffffffffffeull);
  EQ(RR("bclr", M1, 63), 0x7fffffffffffffffull);
  EQ(RR("bclr", M1, 64), 0xfffffffffffffffeull);
  EQ(RR("bclr", M1, 95), 0xffffffff7fffffffull);               // 95 & 63 = 31
  EQ(RR("bclr", 0, 5), 0);
  EQ(RR("binv", 0, 63), 0x8000000000000000ull);
  EQ(RR("binv", 0x8000000000000000ull, 63), 0);
  EQ(RR("binv", 0x8000000000000000ull, 127), 0);
  EQ(RR("binv", 0x10, 68), 0);                                 // 68 & 63 = 4
  EQ(RR("binv", 0, 0x100000001ull), 2);                         // low six bits = 1
  EQ(RR("bext", 0x8000000000000000ull, 63), 1);
  EQ(RR("bext", 0x7fffffffffffffffull, 63), 0);
  EQ(RR("bext", 0x8000000000000000ull, 127), 1);
  EQ(RR("bext", 1, 64), 1);
  EQ(RR("bext", 0xfffffffffffffffeull, 64), 0);
  EQ(RR("bext", 0x100000000ull, 32), 1);
  EQ(RR("bext", 0x100000000ull, 0xffffffffffffffe0ull), 1);
  EQ(RI("bseti", 0, 0), 1);
  EQ(RI("bseti", 0, 63), 0x8000000000000000ull);
  EQ(RI("bseti", 0, 31), 0x80000000ull);
  EQ(RI("bseti", 0, 32), 0x100000000ull);
  EQ(RI("bclri", M1, 63), 0x7fffffffffffffffull);
  EQ(RI("bclri", M1, 0), 0xfffffffffffffffeull);
  EQ(RI("bclri", M1, 31), 0xffffffff7fffffffull);
  EQ(RI("binvi", M1, 63), 0x7fffffffffffffffull);
  EQ(RI("binvi", 0, 63), 0x8000000000000000ull);
  EQ(RI("binvi", 0x123, 8), 0x23);
  EQ(RI("bexti", 0x8000000000000000ull, 63), 1);
  EQ(RI("bexti", 0x7fffffffffffffffull, 63), 0);
  EQ(RI("bexti", 0x100000000ull, 32), 1);
  EQ(RI("bexti", 0x100000000ull, 0), 0);
  return 0;
}
