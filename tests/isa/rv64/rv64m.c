// M extension on RV64 (unprivileged spec, "M" Standard Extension: §Multiplication Operations,
// §Division Operations and the table of division-by-zero/overflow results). Division never traps.
#include "rv64.h"

#define MIN64 0x8000000000000000ull
#define MAX64 0x7fffffffffffffffull
#define M1 0xffffffffffffffffull

static void test_mul(void) {
  EQ(RR("mul", 6, 7), 42);
  EQ(RR("mul", MAX64, 2), 0xfffffffffffffffeull);
  EQ(RR("mul", M1, M1), 1);
  EQ(RR("mul", MIN64, M1), MIN64);
  EQ(RR("mul", 0x123456789abcdef0ull, 0x0fedcba987654321ull), 0x2236d88fe5618cf0ull);
  EQ(RR("mul", 0x100000000ull, 0x100000000ull), 0);  // 2^64 wraps to 0
  // High halves of the 128-bit product: signed x signed, unsigned x unsigned, signed x unsigned.
  EQ(RR("mulh", M1, M1), 0);                          // (-1)(-1) = 1
  EQ(RR("mulh", M1, 1), M1);                          // -1: high half all ones
  EQ(RR("mulh", MIN64, MIN64), 0x4000000000000000ull); // 2^126
  EQ(RR("mulh", MIN64, M1), 0);                       // +2^63 fits in the low half
  EQ(RR("mulh", MAX64, MAX64), 0x3fffffffffffffffull);
  EQ(RR("mulh", MIN64, MAX64), 0xc000000000000000ull); // -2^126 + 2^63
  EQ(RR("mulh", 0x123456789abcdef0ull, 0x0fedcba987654321ull), 0x0121fa00ad77d742ull);
  EQ(RR("mulhu", M1, M1), 0xfffffffffffffffeull);     // (2^64-1)^2 = 2^128 - 2^65 + 1
  EQ(RR("mulhu", MIN64, 2), 1);
  EQ(RR("mulhu", M1, 1), 0);
  EQ(RR("mulhu", MIN64, MIN64), 0x4000000000000000ull);
  EQ(RR("mulhu", 0x123456789abcdef0ull, 0xfedcba9876543210ull), 0x121fa00ad77d7422ull);
  EQ(RR("mulhsu", M1, M1), M1);                       // -1 * (2^64-1) = -2^64 + 1
  EQ(RR("mulhsu", 1, M1), 0);
  EQ(RR("mulhsu", MIN64, M1), 0x8000000000000000ull); // -2^63 * (2^64-1) = -2^127 + 2^63
  EQ(RR("mulhsu", 0xfffffffffffffffeull, MIN64), M1);  // -2 * 2^63 = -2^64
  EQ(RR("mulhsu", MAX64, M1), 0x7ffffffffffffffeull);
  EQ(RR("mulhsu", M1, 0), 0);
  // MULW: low 32 bits of the product, sign-extended; upper input bits ignored.
  EQ(RR("mulw", 0x7fffffff, 2), 0xfffffffffffffffeull);
  EQ(RR("mulw", 0xffffffff00000003ull, 0x1234567800000005ull), 15);
  EQ(RR("mulw", 0x10000, 0x10000), 0);
  EQ(RR("mulw", 0x10000, 0x8000), 0xffffffff80000000ull);
  EQ(RR("mulw", 0xffffffff, 0xffffffff), 1);
}

static void test_div(void) {
  EQ(RR("div", 7, 2), 3);
  EQ(RR("div", -7ll, 2), -3ll);                       // rounds toward zero
  EQ(RR("div", 7, -2ll), -3ll);
  EQ(RR("div", -7ll, -2ll), 3);
  EQ(RR("rem", 7, 2), 1);
  EQ(RR("rem", -7ll, 2), -1ll);                       // sign of the dividend
  EQ(RR("rem", 7, -2ll), 1);
  EQ(RR("rem", -7ll, -2ll), -1ll);
  EQ(RR("divu", M1, 2), MAX64);
  EQ(RR("divu", -7ll, 2), 0x7ffffffffffffffcull);
  EQ(RR("remu", M1, 10), 5);
  EQ(RR("remu", -7ll, 2), 1);
  EQ(RR("divu", 5, M1), 0);
  EQ(RR("remu", 5, M1), 5);
  // Division by zero: quotient all ones, remainder = dividend (table "Semantics for division by
  // zero and division overflow").
  EQ(RR("div", 5, 0), M1);
  EQ(RR("div", -5ll, 0), M1);
  EQ(RR("div", 0, 0), M1);
  EQ(RR("divu", 5, 0), M1);
  EQ(RR("divu", 0, 0), M1);
  EQ(RR("rem", 5, 0), 5);
  EQ(RR("rem", -5ll, 0), -5ll);
  EQ(RR("rem", MIN64, 0), MIN64);
  EQ(RR("remu", 5, 0), 5);
  EQ(RR("remu", M1, 0), M1);
  // Signed overflow: MIN / -1 = MIN, MIN % -1 = 0.
  EQ(RR("div", MIN64, M1), MIN64);
  EQ(RR("rem", MIN64, M1), 0);
  EQ(RR("divu", MIN64, M1), 0);                       // unsigned: no overflow case
  EQ(RR("remu", MIN64, M1), MIN64);
  EQ(RR("div", MIN64, 1), MIN64);
  EQ(RR("div", MIN64, 2), 0xc000000000000000ull);
}

static void test_div_w(void) {
  // W forms divide the low 32 bits and sign-extend the 32-bit result, also for divide by zero.
  EQ(RR("divw", 7, 2), 3);
  EQ(RR("divw", 0x12345678fffffff9ull, 2), -3ll);     // low word is -7
  EQ(RR("remw", 0x12345678fffffff9ull, 2), -1ll);
  EQ(RR("divw", 7, 0xfffffffe), -3ll);                // divisor low word is -2
  EQ(RR("divuw", 0x12345678fffffff9ull, 2), 0x7ffffffc);
  EQ(RR("remuw", 0x12345678fffffff9ull, 2), 1);
  EQ(RR("divuw", 0x80000000ull, 1), 0xffffffff80000000ull);  // result bit 31 set -> sign-extended
  EQ(RR("divuw", 0xffffffffull, 2), 0x7fffffff);
  EQ(RR("divuw", 7, 0x100000000ull), M1);             // divisor's low word is 0: divide by zero
  EQ(RR("remuw", 0x80000000ull, 0), 0xffffffff80000000ull);
  EQ(RR("remuw", 0x1234567800000005ull, 0), 5);
  EQ(RR("divw", 5, 0), M1);
  EQ(RR("divw", 7, 0x100000000ull), M1);              // divisor's low word is 0
  EQ(RR("remw", 7, 0x100000000ull), 7);
  EQ(RR("remw", 0xfffffffff0000000ull, 0xffffffff00000000ull), 0xfffffffff0000000ull);
  EQ(RR("divuw", 5, 0), M1);                          // 0xffffffff sign-extended
  EQ(RR("remw", 0xffffffff80000001ull, 0), 0xffffffff80000001ull);
  EQ(RR("remw", 0x00000000fffffffbull, 0), -5ll);     // remainder is sign-extended from bit 31
  EQ(RR("remuw", 0x00000000fffffffbull, 0), -5ll);
  // 32-bit overflow: INT32_MIN / -1.
  EQ(RR("divw", 0x80000000ull, 0xffffffffull), 0xffffffff80000000ull);
  EQ(RR("remw", 0x80000000ull, 0xffffffffull), 0);
  EQ(RR("divw", 0xffffffff80000000ull, M1), 0xffffffff80000000ull);
  EQ(RR("remw", 0xffffffff80000000ull, M1), 0);
  EQ(RR("divuw", 0x80000000ull, 0xffffffffull), 0);
  EQ(RR("remuw", 0x80000000ull, 0xffffffffull), 0xffffffff80000000ull);
}

int main(void) {
  test_mul();
  test_div();
  test_div_w();
  return 0;
}
