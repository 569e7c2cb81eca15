// A extension: LR/SC/AMO addresses must be naturally aligned; otherwise "an address-misaligned
// exception or an access-fault exception will be generated" (unprivileged spec, "A" chapter,
// §Load-Reserved/Store-Conditional and §Atomic Memory Operations; this hart has no Zam).
// The spec allows either cause; rvkvm's hart raises address-misaligned (4 = load for LR, 6 =
// store/AMO for SC and AMOs), which is what is asserted here, with mtval = the faulting address
// (privileged spec §mtval: misaligned exceptions write the faulting virtual address).
// The faulting instruction must have no effect: memory and rd unchanged. A misaligned SC traps
// even without a reservation (riscv-isa-manual issue #217: the exception does not depend on it).
#include "trap.h"

static volatile u64 mem[4] __attribute__((aligned(64)));

#define SENTINEL 0x5e5e5e5e5e5e5e5eull

// Runs `insn rd, rs2, (addr)` (or `insn rd, (addr)` for LR) expecting one trap.
#define EXPECT_MISALIGNED(asmtext, addr, cause) EXPECT_MISALIGNED_AFTER("", asmtext, addr, cause)
// `pre` runs first (without trapping) and may use t0.
#define EXPECT_MISALIGNED_AFTER(pre, asmtext, addr, cause)                              \
  do {                                                                                  \
    u64 rd_ = SENTINEL;                                                                 \
    u64 at_;                                                                            \
    mem[0] = 0x0706050403020100ull;                                                     \
    mem[1] = 0x0f0e0d0c0b0a0908ull;                                                     \
    TRAP_EXPECT();                                                                      \
    asm volatile(".option push\n.option norvc\n" pre "\n"                              \
                 "1: " asmtext "\n"                                                     \
                 "lla %1, 1b\n"                                                         \
                 ".option pop"                                                          \
                 : "+&r"(rd_), "=&r"(at_)                                               \
                 : "r"(addr), "r"(0xffffffffffffffffull)                                \
                 : "t0", "memory");                                                     \
    EQ(trap_count, 1);                                                                  \
    EQ(trap_cause, cause);                                                              \
    EQ(trap_tval, (u64)(addr));                                                         \
    EQ(trap_epc, at_);                                                                  \
    EQ(rd_, SENTINEL);                                                                  \
    EQ(mem[0], 0x0706050403020100ull);                                                  \
    EQ(mem[1], 0x0f0e0d0c0b0a0908ull);                                                  \
  } while (0)

#define AMO_W(op, off) EXPECT_MISALIGNED(op " %0, %3, (%2)", (u8*)mem + (off), 6)
#define AMO_D(op, off) EXPECT_MISALIGNED(op " %0, %3, (%2)", (u8*)mem + (off), 6)

static void test_amo(void) {
  static const int woffs[] = {1, 2, 3, 5, 6, 7};
  for (unsigned i = 0; i < sizeof woffs / sizeof woffs[0]; i++) {
    int o = woffs[i];
    AMO_W("amoswap.w", o);
    AMO_W("amoadd.w", o);
    AMO_W("amoand.w", o);
    AMO_W("amoor.w", o);
    AMO_W("amoxor.w", o);
    AMO_W("amomin.w", o);
    AMO_W("amomax.w", o);
    AMO_W("amominu.w", o);
    AMO_W("amomaxu.w", o);
    AMO_W("amoadd.w.aqrl", o);
  }
  for (int o = 1; o < 8; o++) {  // includes offset 4: word-aligned is still misaligned for .d
    AMO_D("amoswap.d", o);
    AMO_D("amoadd.d", o);
    AMO_D("amoand.d", o);
    AMO_D("amoor.d", o);
    AMO_D("amoxor.d", o);
    AMO_D("amomin.d", o);
    AMO_D("amomax.d", o);
    AMO_D("amominu.d", o);
    AMO_D("amomaxu.d", o);
    AMO_D("amoswap.d.aq", o);
  }
}

// Misaligned atomics that would also cross a page boundary: still one misaligned exception with
// the original address, and neither page is written.
static u8 two_pages[8192] __attribute__((aligned(4096)));

static void test_page_cross(void) {
  volatile u64* a = (volatile u64*)(two_pages + 0xff8);
  volatile u64* b = (volatile u64*)(two_pages + 0x1000);
  static const int offs[] = {0xffc, 0xffe, 0xfff, 0xff9};   // doubleword accesses
  static const int woffs[] = {0xffe, 0xffd, 0xfff, 0xffb};  // word accesses
  for (unsigned i = 0; i < 4; i++) {
    u8* p = two_pages + offs[i];
    u8* q = two_pages + woffs[i];
    u64 rd = SENTINEL, at;
    *a = 0x1111111111111111ull;
    *b = 0x2222222222222222ull;
    TRAP_EXPECT();
    asm volatile("1: amoadd.d %0, %2, (%3)\n lla %1, 1b" : "+&r"(rd), "=&r"(at) : "r"(1ull), "r"(p) : "memory");
    EQ(trap_count, 1);
    EQ(trap_cause, 6);
    EQ(trap_tval, (u64)p);
    EQ(trap_epc, at);
    EQ(rd, SENTINEL);
    TRAP_EXPECT();
    asm volatile("1: amoswap.w %0, %2, (%3)\n lla %1, 1b" : "+&r"(rd), "=&r"(at) : "r"(0ull), "r"(q) : "memory");
    EQ(trap_count, 1);
    EQ(trap_cause, 6);
    EQ(trap_tval, (u64)q);
    TRAP_EXPECT();
    asm volatile("1: sc.w %0, %2, (%3)\n lla %1, 1b" : "+&r"(rd), "=&r"(at) : "r"(0ull), "r"(q) : "memory");
    EQ(trap_count, 1);
    EQ(trap_cause, 6);
    EQ(trap_tval, (u64)q);
    EQ(rd, SENTINEL);
    TRAP_EXPECT();
    asm volatile("1: lr.d %0, (%2)\n lla %1, 1b" : "+&r"(rd), "=&r"(at) : "r"(p) : "memory");
    EQ(trap_count, 1);
    EQ(trap_cause, 4);
    EQ(trap_tval, (u64)p);
    EQ(rd, SENTINEL);
    EQ(*a, 0x1111111111111111ull);
    EQ(*b, 0x2222222222222222ull);
  }
}

static void test_lr_sc(void) {
  // LR: load-address-misaligned.
  EXPECT_MISALIGNED("lr.w %0, (%2)", (u8*)mem + 2, 4);
  EXPECT_MISALIGNED("lr.w %0, (%2)", (u8*)mem + 7, 4);
  EXPECT_MISALIGNED("lr.d %0, (%2)", (u8*)mem + 4, 4);
  EXPECT_MISALIGNED("lr.d.aq %0, (%2)", (u8*)mem + 1, 4);
  // SC without a reservation: still store/AMO-address-misaligned, and rd is not written.
  u64 dummy;
  asm volatile("sc.d %0, zero, (%1)" : "=&r"(dummy) : "r"(&mem[3]) : "memory");
  EXPECT_MISALIGNED("sc.w %0, %3, (%2)", (u8*)mem + 2, 6);
  EXPECT_MISALIGNED("sc.d %0, %3, (%2)", (u8*)mem + 4, 6);
  // SC right after an LR of the containing aligned doubleword.
  EXPECT_MISALIGNED_AFTER("andi t0, %2, -8\n lr.d t0, (t0)", "sc.d %0, %3, (%2)", (u8*)mem + 4, 6);
  EXPECT_MISALIGNED_AFTER("andi t0, %2, -8\n lr.w t0, (t0)", "sc.w.rl %0, %3, (%2)", (u8*)mem + 1, 6);
}

int main(void) {
  test_amo();
  test_lr_sc();
  test_page_cross();
  return 0;
}
