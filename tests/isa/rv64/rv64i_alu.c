// RV64I integer computational instructions (unprivileged spec, "RV32I Base Integer Instruction
// Set" §Integer Computational Instructions and "RV64I" §Integer Computational Instructions).
// Every expected value is a literal worked out by hand from the spec's definition.
#include "rv64.h"

static void test_add_sub(void) {
  EQ(RR("add", 5, 7), 12);
  EQ(RR("add", 0x7fffffffffffffffull, 1), 0x8000000000000000ull);  // wraps, no overflow trap
  EQ(RR("add", ~0ull, 1), 0);
  EQ(RR("add", 0xffffffff00000000ull, 0x100000000ull), 0);
  EQ(RR("sub", 0, 1), ~0ull);
  EQ(RR("sub", 0x8000000000000000ull, 1), 0x7fffffffffffffffull);
  EQ(RR("sub", 3, 5), 0xfffffffffffffffeull);
  EQ(RR("sub", 0x100000000ull, 1), 0xffffffffull);  // borrow crosses bit 32 (no 32-bit truncation)
  // ADDI: 12-bit sign-extended immediate, both extremes.
  EQ(RI("addi", 0, -2048), 0xfffffffffffff800ull);
  EQ(RI("addi", 0, 2047), 2047);
  EQ(RI("addi", 0x7fffffffffffffffull, 1), 0x8000000000000000ull);
  EQ(RI("addi", 0x800, -2048), 0);
}

static void test_logic(void) {
  EQ(RR("and", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0x0f000f000f000f00ull);
  EQ(RR("or", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xfff0fff0fff0fff0ull);
  EQ(RR("xor", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xf0f0f0f0f0f0f0f0ull);
  // The immediate is sign-extended to 64 bits before the operation.
  EQ(RI("andi", 0x123456789abcdeffull, -16), 0x123456789abcdef0ull);
  EQ(RI("andi", 0x123456789abcdeffull, 0x7f0), 0x6f0);
  EQ(RI("ori", 0, -2048), 0xfffffffffffff800ull);
  EQ(RI("ori", 0x8000000000000000ull, 1), 0x8000000000000001ull);
  EQ(RI("xori", 0x123456789abcdef0ull, -1), 0xedcba9876543210full);  // NOT
  EQ(RI("xori", 0x0f0, 0x7ff), 0x70f);
}

static void test_shifts(void) {
  const u64 v = 0x8000000000000001ull;
  // Register shifts use only rs2[5:0] on RV64.
  EQ(RR("sll", v, 0), v);
  EQ(RR("sll", v, 31), 0x80000000ull);
  EQ(RR("sll", v, 63), 0x8000000000000000ull);
  EQ(RR("sll", v, 64), v);                         // 64 & 63 = 0
  EQ(RR("sll", 3, 0xffffffffffffffc1ull), 6);      // low six bits = 1
  EQ(RR("srl", v, 0), v);
  EQ(RR("srl", v, 31), 0x100000000ull);
  EQ(RR("srl", v, 63), 1);
  EQ(RR("srl", v, 127), 1);                        // 127 & 63 = 63
  EQ(RR("sra", v, 0), v);
  EQ(RR("sra", v, 31), 0xffffffff00000000ull);
  EQ(RR("sra", v, 63), ~0ull);
  EQ(RR("sra", 0x7fffffffffffffffull, 63), 0);
  EQ(RR("sra", 0x8000000000000000ull, 0x40), 0x8000000000000000ull);
  // Immediate forms: shamt is 6 bits on RV64.
  EQ(RI("slli", v, 0), v);
  EQ(RI("slli", v, 31), 0x80000000ull);
  EQ(RI("slli", v, 63), 0x8000000000000000ull);
  EQ(RI("slli", 0xffffffffull, 32), 0xffffffff00000000ull);
  EQ(RI("srli", v, 0), v);
  EQ(RI("srli", v, 31), 0x100000000ull);
  EQ(RI("srli", v, 63), 1);
  EQ(RI("srli", ~0ull, 32), 0xffffffffull);
  EQ(RI("srai", v, 0), v);
  EQ(RI("srai", v, 31), 0xffffffff00000000ull);
  EQ(RI("srai", v, 63), ~0ull);
  EQ(RI("srai", 0x4000000000000000ull, 62), 1);
  EQ(RI("srai", 0x00000000ffffffffull, 31), 1);    // bit 63 is 0: no sign fill from bit 31
}

static void test_compare(void) {
  EQ(RR("slt", ~0ull, 1), 1);     // -1 < 1
  EQ(RR("slt", 1, ~0ull), 0);
  EQ(RR("slt", 0x8000000000000000ull, 0x7fffffffffffffffull), 1);
  EQ(RR("slt", 5, 5), 0);
  EQ(RR("sltu", ~0ull, 1), 0);    // 2^64-1 is not below 1
  EQ(RR("sltu", 1, ~0ull), 1);
  EQ(RR("sltu", 0x7fffffffffffffffull, 0x8000000000000000ull), 1);
  EQ(RR("sltu", 5, 5), 0);
  EQ(RI("slti", ~0ull, 0), 1);
  EQ(RI("slti", 0, -1), 0);
  EQ(RI("slti", 0xfffffffffffff800ull, -2047), 1);  // -2048 < -2047
  EQ(RI("slti", 0x8000000000000000ull, -2048), 1);
  // SLTIU sign-extends the immediate, then compares unsigned: -1 becomes 2^64-1.
  EQ(RI("sltiu", 0, -1), 1);
  EQ(RI("sltiu", 0xfffffffffffffffeull, -1), 1);
  EQ(RI("sltiu", ~0ull, -1), 0);
  EQ(RI("sltiu", 0, 1), 1);       // seqz
  EQ(RI("sltiu", 0x100000000ull, 1), 0);
  EQ(RI("sltiu", 0x7ff, 0x800 - 1), 0);
  // snez is sltu rd, x0, rs2.
  u64 r;
  asm volatile("sltu %0, zero, %1" : "=r"(r) : "r"(0x100000000ull));
  EQ(r, 1);
  asm volatile("sltu %0, zero, %1" : "=r"(r) : "r"(0ull));
  EQ(r, 0);
}

static void test_word_ops(void) {
  // W forms operate on the low 32 bits and sign-extend bit 31 of the result (RV64I §5.2).
  EQ(RR("addw", 0x7fffffff, 1), 0xffffffff80000000ull);
  EQ(RR("addw", 0xffffffff00000001ull, 0x0000000100000002ull), 3);  // upper input bits ignored
  EQ(RR("addw", 0xffffffff, 1), 0);
  EQ(RR("subw", 0x80000000ull, 1), 0x7fffffff);
  EQ(RR("subw", 0, 1), ~0ull);
  EQ(RR("subw", 0x1234567800000000ull, 0), 0);
  EQ(RI("addiw", 0x00000000ffffffffull, 0), ~0ull);  // sext.w
  EQ(RI("addiw", 0x7fffffff, 1), 0xffffffff80000000ull);
  EQ(RI("addiw", 0x123456780000007full, -2048), 0xfffffffffffff87full);
  EQ(RI("addiw", 0xfffffffe7fffffffull, 0), 0x7fffffff);
  // Shift amounts are rs2[4:0]; bit 5 is ignored.
  EQ(RR("sllw", 1, 31), 0xffffffff80000000ull);
  EQ(RR("sllw", 1, 32), 1);
  EQ(RR("sllw", 1, 33), 2);
  EQ(RR("sllw", 0xffffffff00000003ull, 0), 3);
  EQ(RR("sllw", 3, 31), 0xffffffff80000000ull);
  EQ(RR("srlw", 0xffffffff80000000ull, 0), 0xffffffff80000000ull);  // shift by 0 still sign-extends
  EQ(RR("srlw", 0x0000000080000000ull, 0), 0xffffffff80000000ull);
  EQ(RR("srlw", 0x80000000ull, 31), 1);
  EQ(RR("srlw", 0xffffffff80000000ull, 1), 0x40000000);             // zeros shifted in at bit 31
  EQ(RR("srlw", 0xffffffff80000000ull, 32), 0xffffffff80000000ull); // 32 & 31 = 0
  EQ(RR("sraw", 0x80000000ull, 31), ~0ull);
  EQ(RR("sraw", 0x123456787fffffffull, 4), 0x07ffffff);             // sign comes from bit 31
  EQ(RR("sraw", 0x0000000080000000ull, 1), 0xffffffffc0000000ull);
  EQ(RR("sraw", 0x80000000ull, 63), ~0ull);                          // 63 & 31 = 31
  EQ(RI("slliw", 3, 31), 0xffffffff80000000ull);
  EQ(RI("slliw", 0x1ffffffffull, 0), ~0ull);
  EQ(RI("slliw", 0x12345678ull, 4), 0x23456780);
  EQ(RI("slliw", 0x0000000008000000ull, 4), 0xffffffff80000000ull);
  EQ(RI("srliw", 0x0000000080000000ull, 0), 0xffffffff80000000ull);
  EQ(RI("srliw", 0xffffffff80000000ull, 31), 1);
  EQ(RI("srliw", 0xffffffffffffffffull, 1), 0x7fffffff);
  EQ(RI("srliw", 0x00000000f0000000ull, 28), 0xf);
  EQ(RI("sraiw", 0x00000000ffff0000ull, 0), 0xffffffffffff0000ull);
  EQ(RI("sraiw", 0x0000000080000000ull, 31), ~0ull);
  EQ(RI("sraiw", 0xffffffff7fffffffull, 31), 0);
  EQ(RI("sraiw", 0x00000000f0000000ull, 28), ~0ull);
}

static void test_lui_auipc(void) {
  u64 r, here;
  // LUI places imm<<12 and sign-extends bit 31 on RV64.
  asm volatile("lui %0, 0x80000" : "=r"(r));
  EQ(r, 0xffffffff80000000ull);
  asm volatile("lui %0, 0xfffff" : "=r"(r));
  EQ(r, 0xfffffffffffff000ull);
  asm volatile("lui %0, 0x7ffff" : "=r"(r));
  EQ(r, 0x7ffff000);
  asm volatile("lui %0, 0" : "=r"(r));
  EQ(r, 0);
  // AUIPC adds the sign-extended imm<<12 to the address of the AUIPC itself.
  asm volatile(".option push\n.option norelax\n1: auipc %0, 0\n lla %1, 1b\n.option pop" : "=r"(r), "=r"(here));
  EQ(r, here);
  asm volatile(".option push\n.option norelax\n1: auipc %0, 0xfffff\n lla %1, 1b\n.option pop" : "=r"(r), "=r"(here));
  EQ(r, here - 0x1000);
  asm volatile(".option push\n.option norelax\n1: auipc %0, 0x80000\n lla %1, 1b\n.option pop" : "=r"(r), "=r"(here));
  EQ(r, here - 0x80000000ull);  // imm<<12 = -2^31
  OK(here >= 0x80000000ull && here < 0x88000000ull);
  EQ(r, here & 0x7fffffff);     // so the 0x8000_0000 RAM base cancels out
  asm volatile(".option push\n.option norelax\n1: auipc %0, 0x7ffff\n lla %1, 1b\n.option pop" : "=r"(r), "=r"(here));
  EQ(r, here + 0x7ffff000ull);
}

static void test_x0(void) {
  // Writes to x0 are discarded; every instruction class tries once. A volatile asm reads x0 back.
  u64 r = 0x5555;
  asm volatile(
      ".option push\n.option norvc\n"
      "addi x0, x0, 5\n"
      "lui x0, 0x12345\n"
      "auipc x0, 1\n"
      "add x0, %1, %1\n"
      "slli x0, %1, 3\n"
      "addiw x0, %1, 1\n"
      "mv %0, x0\n"
      ".option pop\n"
      : "=r"(r)
      : "r"(0x77ull));
  EQ(r, 0);
  // A load into x0 still performs the access but leaves x0 zero.
  static volatile u64 cell = 0x1122334455667788ull;
  asm volatile("ld x0, 0(%1)\n mv %0, x0" : "=r"(r) : "r"(&cell) : "memory");
  EQ(r, 0);
  // JAL/JALR with rd=x0 jump without linking.
  asm volatile(".option push\n.option norvc\n jal x0, 1f\n li %0, 9\n1: add %0, x0, x0\n.option pop" : "=r"(r));
  EQ(r, 0);
  // x0 as a source always reads zero, also right after a write to it.
  asm volatile("li %0, 3\n addi x0, %0, 1\n add %0, %0, x0" : "=&r"(r));
  EQ(r, 3);
}

int main(void) {
  test_add_sub();
  test_logic();
  test_shifts();
  test_compare();
  test_word_ops();
  test_lui_auipc();
  test_x0();
  return 0;
}
