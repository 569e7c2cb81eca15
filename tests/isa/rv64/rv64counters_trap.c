// Instructions that trap do not retire, so they do not count in minstret (privileged spec
// §ECALL/EBREAK: "not considered to retire, and should not increment the minstret CSR";
// Smcntrpmf §Counter Behavior: "instructions that cause synchronous exceptions ... are not
// considered to retire, and hence do not increment instret"). The handler's instructions and its
// MRET retire normally. Measured with a tiny assembly handler that reads minstret first.
#include "trap.h"

// A minimal M-mode handler: reads minstret first thing, skips the 4-byte faulting instruction.
extern char counting_handler[];
asm(".text\n"
    ".balign 4\n"
    "counting_handler:\n"
    "csrr t1, minstret\n"
    "csrr t2, mepc\n"
    "addi t2, t2, 4\n"
    "csrw mepc, t2\n"
    "mret\n");

// Runs `insn` (4 bytes, traps) between two minstret reads with counting_handler installed.
// *in_handler = first read inside the handler - read before; returns read after - read before.
#define TRAP_RETIRE(insn, in_handler) TRAP_RETIRE_PRE("", insn, in_handler)
// `pre` runs before the first read (it may set up t1 for the faulting instruction).
#define TRAP_RETIRE_PRE(pre, insn, in_handler)                                          \
  ({                                                                                    \
    u64 before_, inside_, after_, cause_;                                               \
    asm volatile(".option push\n.option norvc\n"                                        \
                 "csrrw t3, mtvec, %4\n"                                                \
                 pre "\n"                                                               \
                 "csrr %0, minstret\n"                                                  \
                 insn "\n"                                                              \
                 "csrr %2, minstret\n"                                                  \
                 "csrw mtvec, t3\n"                                                     \
                 "mv %1, t1\n"                                                          \
                 "csrr %3, mcause\n"                                                    \
                 ".option pop"                                                          \
                 : "=&r"(before_), "=&r"(inside_), "=&r"(after_), "=&r"(cause_)         \
                 : "r"(counting_handler)                                                \
                 : "t1", "t2", "t3", "memory");                                         \
    *(in_handler) = inside_ - before_;                                                  \
    cause_ * 1000 + (after_ - before_);                                                 \
  })


static void test_trap_does_not_retire(void) {
  u64 inside;
  // before-read retires (+1); the trapping instruction does not; the handler's csrr reads +1;
  // handler retires 5 (csrr, csrr, addi, csrw, mret); the after-read sees +6.
  EQ(TRAP_RETIRE("ecall", &inside), 11 * 1000 + 6);
  EQ(inside, 1);
  EQ(TRAP_RETIRE("ebreak", &inside), 3 * 1000 + 6);
  EQ(inside, 1);
  EQ(TRAP_RETIRE("csrw cycle, zero", &inside), 2 * 1000 + 6);  // read-only CSR: illegal
  EQ(inside, 1);
  EQ(TRAP_RETIRE(".word 0x0000006b", &inside), 2 * 1000 + 6);   // reserved major opcode 1101011
  EQ(inside, 1);
  EQ(TRAP_RETIRE_PRE("addi t1, sp, 2", "amoadd.w zero, zero, (t1)", &inside), 6 * 1000 + 6);  // misaligned
  EQ(inside, 1);
  EQ(TRAP_RETIRE_PRE("addi t1, sp, 4", "lr.d zero, (t1)", &inside), 4 * 1000 + 6);
  EQ(inside, 1);
}

int main(void) {
  csr_write(mcountinhibit, 0);
  test_trap_does_not_retire();
  return 0;
}
