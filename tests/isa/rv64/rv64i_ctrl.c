// RV64I control transfer (unprivileged spec §Control Transfer Instructions) and the environment
// instructions ECALL/EBREAK (§Environment Call and Breakpoints; privileged spec §mepc/§mcause).
// Everything is assembled without compression so the 32-bit encodings are the ones tested.
#include "trap.h"

// Returns 1 if the branch to a forward target is taken.
#define BR_FWD(op, a, b)                                                                  \
  ({                                                                                      \
    u64 r_;                                                                               \
    asm volatile(".option push\n.option norvc\n"                                          \
                 "li %0, 1\n" op " %1, %2, 1f\n"                                          \
                 "li %0, 0\n"                                                             \
                 "1:\n.option pop"                                                        \
                 : "=&r"(r_) : "r"((u64)(a)), "r"((u64)(b)));                             \
    r_;                                                                                   \
  })
// Returns 1 if the branch to a backward target is taken.
#define BR_BACK(op, a, b)                                                                 \
  ({                                                                                      \
    u64 r_;                                                                               \
    asm volatile(".option push\n.option norvc\n"                                          \
                 "j 2f\n"                                                                 \
                 "1: li %0, 1\n"                                                          \
                 "j 3f\n"                                                                 \
                 "2: li %0, 0\n" op " %1, %2, 1b\n"                                       \
                 "3:\n.option pop"                                                        \
                 : "=&r"(r_) : "r"((u64)(a)), "r"((u64)(b)));                             \
    r_;                                                                                   \
  })
#define BR(op, a, b, want)              \
  do {                                  \
    EQ(BR_FWD(op, a, b), want);         \
    EQ(BR_BACK(op, a, b), want);        \
  } while (0)

static void test_branches(void) {
  const u64 m1 = ~0ull, min = 0x8000000000000000ull, max = 0x7fffffffffffffffull;
  BR("beq", 5, 5, 1);
  BR("beq", 5, 6, 0);
  BR("beq", 0x100000005ull, 5, 0);  // all 64 bits compared
  BR("bne", 5, 5, 0);
  BR("bne", 0x100000005ull, 5, 1);
  BR("blt", m1, 1, 1);
  BR("blt", 1, m1, 0);
  BR("blt", min, max, 1);
  BR("blt", 7, 7, 0);
  BR("bge", m1, 1, 0);
  BR("bge", 1, m1, 1);
  BR("bge", 7, 7, 1);
  BR("bge", max, min, 1);
  BR("bltu", m1, 1, 0);
  BR("bltu", 1, m1, 1);
  BR("bltu", max, min, 1);
  BR("bltu", 7, 7, 0);
  BR("bgeu", m1, 1, 1);
  BR("bgeu", 1, m1, 0);
  BR("bgeu", 7, 7, 1);
  BR("bgeu", 0, 0, 1);
}

// A branch across more than the 12-bit-scaled range of a short hop: +/- ~3 KiB both ways.
static void test_far_branches(void) {
  u64 r;
  asm volatile(".option push\n.option norvc\n"
               "li %0, 0\n"
               "beq zero, zero, 2f\n"           // forward over 3000 bytes
               "1: addi %0, %0, 1\n"            // reached by the backward branch below
               "j 3f\n"
               ".skip 3000\n"
               "2: addi %0, %0, 10\n"
               "bne %0, zero, 1b\n"             // backward over 3000 bytes
               "3:\n.option pop"
               : "=&r"(r));
  EQ(r, 11);
}

static void test_jal(void) {
  u64 link, target, after;
  // JAL writes pc+4 into rd; the jump lands on the label.
  asm volatile(".option push\n.option norvc\n"
               "jal %0, 1f\n"
               "2: j 3f\n"
               "1: lla %1, 2b\n"
               "3:\n.option pop"
               : "=r"(link), "=r"(target));
  EQ(link, target);
  // Backward JAL.
  asm volatile(".option push\n.option norvc\n"
               "j 2f\n"
               "1: lla %1, 4f\n"
               "j 3f\n"
               "2: jal %0, 1b\n"
               "4: nop\n"
               "3:\n.option pop"
               : "=r"(link), "=r"(after));
  EQ(link, after);
}

static void test_jalr(void) {
  u64 link, want, r;
  // Target = (rs1 + imm) with bit 0 cleared. rs1 is odd here.
  asm volatile(".option push\n.option norvc\n"
               "lla t0, 1f\n"
               "addi t0, t0, 1\n"
               "li %2, 0\n"
               "jalr %0, 0(t0)\n"
               "2: li %2, 99\n"          // skipped if the jump works
               "1: lla %1, 2b\n"
               ".option pop"
               : "=&r"(link), "=&r"(want), "=&r"(r) : : "t0");
  EQ(link, want);
  EQ(r, 0);
  // The odd sum may come from the immediate too, and a negative immediate.
  asm volatile(".option push\n.option norvc\n"
               "lla t0, 1f\n"
               "addi t0, t0, 16\n"
               "li %1, 0\n"
               "jalr %0, -15(t0)\n"       // label+16-15 = label+1 -> label
               "li %1, 99\n"
               "1: nop\n"
               ".option pop"
               : "=&r"(link), "=&r"(r) : : "t0");
  EQ(r, 0);
  // rd == rs1: the target uses the old rs1, then rd gets the link.
  asm volatile(".option push\n.option norvc\n"
               "lla %0, 1f\n"
               "jalr %0, 0(%0)\n"
               "2: li %0, 0\n"            // skipped
               "1: lla %1, 2b\n"
               ".option pop"
               : "=&r"(link), "=&r"(want));
  EQ(link, want);
  // A call through a register and return through ra (the normal calling sequence).
  asm volatile(".option push\n.option norvc\n"
               "lla t0, 5f\n"
               "li %0, 0\n"
               "jalr ra, 0(t0)\n"
               "addi %0, %0, 100\n"
               "j 6f\n"
               "5: addi %0, %0, 1\n"
               "jalr x0, 0(ra)\n"
               "6:\n.option pop"
               : "=&r"(r) : : "t0", "ra");
  EQ(r, 101);
}

static void test_ecall_ebreak(void) {
  u64 at;
  // ECALL from M-mode: cause 11, mepc = the ECALL itself, mtval = 0 ("other traps", privileged
  // spec §mtval).
  TRAP_EXPECT();
  asm volatile(".option push\n.option norvc\n1: ecall\n lla %0, 1b\n.option pop" : "=r"(at) : : "memory");
  EQ(trap_count, 1);
  EQ(trap_cause, 11);
  EQ(trap_epc, at);
  EQ(trap_tval, 0);
  // EBREAK: cause 3, mepc = the EBREAK (4-byte encoding here). mtval is not checked: the spec
  // lets it be 0 or the pc.
  TRAP_EXPECT();
  asm volatile(".option push\n.option norvc\n1: ebreak\n lla %0, 1b\n.option pop" : "=r"(at) : : "memory");
  EQ(trap_count, 1);
  EQ(trap_cause, 3);
  EQ(trap_epc, at);
  EQ(*(volatile u32*)at, 0x00100073);
}

int main(void) {
  test_branches();
  test_far_branches();
  test_jal();
  test_jalr();
  test_ecall_ebreak();
  return 0;
}
