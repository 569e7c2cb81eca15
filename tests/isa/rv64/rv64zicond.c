// Zicond (integer conditional operations, ratified v1.0): czero.eqz rd, rs1, rs2 writes 0 if
// rs2 == 0, else rs1; czero.nez writes 0 if rs2 != 0, else rs1. The condition is the whole XLEN-bit
// rs2. binutils 2.40 does not know the mnemonics, so they are emitted with .insn:
// OP opcode 0110011, funct7 0000111, funct3 101 (eqz) / 111 (nez).
#include "rv64.h"

#define CZERO_EQZ(v, c) RR(".insn r 0x33, 5, 7,", v, c)
#define CZERO_NEZ(v, c) RR(".insn r 0x33, 7, 7,", v, c)

int main(void) {
  const u64 v = 0x8123456789abcdefull;
  EQ(CZERO_EQZ(v, 0), 0);
  EQ(CZERO_EQZ(v, 1), v);
  EQ(CZERO_EQZ(v, 0x8000000000000000ull), v);  // only bit 63 set: still non-zero
  EQ(CZERO_EQZ(v, 0x100000000ull), v);         // low word zero, register non-zero
  EQ(CZERO_EQZ(v, ~0ull), v);
  EQ(CZERO_EQZ(0, 5), 0);
  EQ(CZERO_NEZ(v, 0), v);
  EQ(CZERO_NEZ(v, 1), 0);
  EQ(CZERO_NEZ(v, 0x8000000000000000ull), 0);
  EQ(CZERO_NEZ(v, 0x100000000ull), 0);
  EQ(CZERO_NEZ(~0ull, 0), ~0ull);
  // The encodings themselves, read back from the instruction stream.
  u64 r, at;
  asm volatile("1: .insn r 0x33, 5, 7, a0, a1, a2\n lla %0, 1b" : "=r"(at) : : "a0");
  EQ(*(volatile u32*)at, 0x0ec5d533);
  asm volatile("1: .insn r 0x33, 7, 7, a0, a1, a2\n lla %0, 1b" : "=r"(at) : : "a0");
  EQ(*(volatile u32*)at, 0x0ec5f533);
  // rs1 == rs2 == rd.
  r = 0x42;
  asm volatile(".insn r 0x33, 5, 7, %0, %0, %0" : "+r"(r));
  EQ(r, 0x42);
  r = 0;
  asm volatile(".insn r 0x33, 7, 7, %0, %0, %0" : "+r"(r));
  EQ(r, 0);
  // Conditional select idiom: (c ? a : b) = czero.eqz(a, c) | czero.nez(b, c).
  u64 a = 0x1111, b = 0x2222;
  EQ(CZERO_EQZ(a, 7) | CZERO_NEZ(b, 7), a);
  EQ(CZERO_EQZ(a, 0) | CZERO_NEZ(b, 0), b);
  // rd = x0 is ignored.
  asm volatile(".insn r 0x33, 5, 7, x0, %1, %1\n mv %0, x0" : "=r"(r) : "r"(5ull));
  EQ(r, 0);
  return 0;
}
