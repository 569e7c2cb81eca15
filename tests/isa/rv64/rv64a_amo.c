// A extension, AMOs (unprivileged spec, "A" chapter §Atomic Memory Operations): every AMO in .w
// and .d, each with the four aq/rl encodings (they differ only in ordering, which one hart cannot
// observe, so the values must be identical). rd gets the old memory value (sign-extended for .w);
// memory gets op(old, rs2). ".w AMOs ... ignore the upper 32 bits of the original value of rs2",
// so min/max .w must compare 32-bit values and .w never touches the other half of a doubleword.
#include "rv64.h"

static volatile u64 cell[3] __attribute__((aligned(16)));

// One AMO on `*addr`; returns rd.
#define AMO(insn, addr, src)                                                              \
  ({                                                                                      \
    u64 rd_;                                                                              \
    asm volatile(insn " %0, %2, (%1)" : "=&r"(rd_) : "r"(addr), "r"((u64)(src)) : "memory"); \
    rd_;                                                                                  \
  })

// Doubleword: memory starts at `init`; expects rd == init and memory == `mem`.
#define D1(insn, init, src, mem)                   \
  do {                                             \
    cell[0] = 0x1111111111111111ull;               \
    cell[1] = (init);                              \
    cell[2] = 0x2222222222222222ull;               \
    EQ(AMO(insn, &cell[1], src), (u64)(init));     \
    EQ(cell[1], (u64)(mem));                       \
    EQ(cell[0], 0x1111111111111111ull);            \
    EQ(cell[2], 0x2222222222222222ull);            \
  } while (0)
// Word: runs on the low and on the high word of cell[1]; the other word must stay intact.
// `rd` is the expected (sign-extended) old value.
#define W1(insn, init, src, rd, mem)                                   \
  do {                                                                 \
    volatile u32* w_ = (volatile u32*)&cell[1];                        \
    cell[1] = 0xa5a5a5a5a5a5a5a5ull;                                   \
    w_[0] = (u32)(init);                                               \
    EQ(AMO(insn, &w_[0], src), (u64)(rd));                             \
    EQ(cell[1], 0xa5a5a5a500000000ull | (u32)(mem));                   \
    cell[1] = 0xa5a5a5a5a5a5a5a5ull;                                   \
    w_[1] = (u32)(init);                                               \
    EQ(AMO(insn, &w_[1], src), (u64)(rd));                             \
    EQ(cell[1], ((u64)(u32)(mem) << 32) | 0xa5a5a5a5ull);              \
  } while (0)
#define D4(op, init, src, mem)                        \
  do {                                                \
    D1(op ".d", init, src, mem);                      \
    D1(op ".d.aq", init, src, mem);                   \
    D1(op ".d.rl", init, src, mem);                   \
    D1(op ".d.aqrl", init, src, mem);                 \
  } while (0)
#define W4(op, init, src, rd, mem)                    \
  do {                                                \
    W1(op ".w", init, src, rd, mem);                  \
    W1(op ".w.aq", init, src, rd, mem);               \
    W1(op ".w.rl", init, src, rd, mem);               \
    W1(op ".w.aqrl", init, src, rd, mem);             \
  } while (0)

#define MIN64 0x8000000000000000ull
#define MAX64 0x7fffffffffffffffull
#define M1 0xffffffffffffffffull

static void test_d(void) {
  D4("amoswap", 0x1234, MIN64, MIN64);
  D4("amoswap", M1, 0, 0);
  D4("amoadd", MAX64, 1, MIN64);
  D4("amoadd", M1, 1, 0);
  D4("amoadd", 0xffffffffull, 1, 0x100000000ull);  // carry across bit 32
  D4("amoand", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0x0f000f000f000f00ull);
  D4("amoor", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0xfff0fff0fff0fff0ull);
  D4("amoxor", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull, 0xf0f0f0f0f0f0f0f0ull);
  // Signed min/max: MIN64 and -1 are the smallest, MAX64 the largest.
  D4("amomin", M1, 1, M1);
  D4("amomin", 1, M1, M1);
  D4("amomin", MIN64, MAX64, MIN64);
  D4("amomin", MAX64, MIN64, MIN64);
  D4("amomin", 5, 5, 5);
  D4("amomax", M1, 1, 1);
  D4("amomax", 1, M1, 1);
  D4("amomax", MIN64, MAX64, MAX64);
  D4("amomax", MIN64, M1, M1);
  // Unsigned: -1 is the largest.
  D4("amominu", M1, 1, 1);
  D4("amominu", 0, M1, 0);
  D4("amominu", MIN64, MAX64, MAX64);
  D4("amomaxu", M1, 1, M1);
  D4("amomaxu", MAX64, MIN64, MIN64);
  D4("amomaxu", 0, M1, M1);
}

static void test_w(void) {
  // rd is sign-extended from bit 31 of the old word; rs2's upper half is ignored.
  W4("amoswap", 0x80000000u, 0xdeadbeef12345678ull, 0xffffffff80000000ull, 0x12345678u);
  W4("amoswap", 0x7fffffffu, 0xffffffff00000000ull, 0x7fffffff, 0);
  W4("amoadd", 0x7fffffffu, 0xffffffff00000001ull, 0x7fffffff, 0x80000000u);
  W4("amoadd", 0xffffffffu, 1, M1, 0);                        // no carry into the other word
  W4("amoadd", 0x80000000u, 0x80000000u, 0xffffffff80000000ull, 0);
  W4("amoand", 0xf0f0f0f0u, 0x123456780ff00ff0ull, 0xfffffffff0f0f0f0ull, 0x00f000f0u);
  W4("amoor", 0x0000f0f0u, 0xffffffff0f000000ull, 0xf0f0, 0x0f00f0f0u);
  W4("amoxor", 0xffffffffu, 0x00000000f0f0f0f0ull, M1, 0x0f0f0f0fu);
  // Signed 32-bit compare on the low words only.
  W4("amomin", 0x80000000u, 0x7fffffff, 0xffffffff80000000ull, 0x80000000u);
  W4("amomin", 1, 0x00000000ffffffffull, 1, 0xffffffffu);     // src word is -1
  W4("amomin", 3, 0xffffffff00000005ull, 3, 3);                // src word is +5
  W4("amomin", 0x7fffffffu, 0x80000000u, 0x7fffffff, 0x80000000u);
  W4("amomax", 0xffffffffu, 1, M1, 1);
  W4("amomax", 0x80000000u, 0x7fffffff, 0xffffffff80000000ull, 0x7fffffffu);
  W4("amomax", 0xffffffffu, 0x100000000ull, M1, 0);            // src word is 0
  W4("amomax", 5, 0x00000000fffffffbull, 5, 5);                // src word is -5
  // Unsigned 32-bit compare on the low words only.
  W4("amominu", 0xffffffffu, 1, M1, 1);
  W4("amominu", 1, 0xffffffff00000000ull, 1, 0);              // src word is 0
  W4("amominu", 0x80000000u, 0x7fffffff, 0xffffffff80000000ull, 0x7fffffffu);
  W4("amomaxu", 0x80000000u, 0x7fffffff, 0xffffffff80000000ull, 0x80000000u);
  W4("amomaxu", 5, 0x0000000100000003ull, 5, 5);               // src word is 3
  W4("amomaxu", 1, 0x00000000ffffffffull, 1, 0xffffffffu);
}

static void test_registers(void) {
  u64 r;
  // rd = x0: the memory update still happens.
  cell[1] = 40;
  asm volatile("amoadd.d x0, %1, (%0)" : : "r"(&cell[1]), "r"(2ull) : "memory");
  EQ(cell[1], 42);
  asm volatile("amoswap.w x0, %1, (%0)" : : "r"(&cell[1]), "r"(7ull) : "memory");
  EQ(cell[1], 7);
  // rs2 = x0: amoor with zero is an atomic load; amoswap with zero clears.
  cell[1] = 0x8000000000000123ull;
  asm volatile("amoor.d %0, x0, (%1)" : "=r"(r) : "r"(&cell[1]) : "memory");
  EQ(r, 0x8000000000000123ull);
  EQ(cell[1], 0x8000000000000123ull);
  // rd == rs2: the old rs2 value is what gets stored.
  cell[1] = 0x55;
  r = 0x66;
  asm volatile("amoswap.d %0, %0, (%1)" : "+r"(r) : "r"(&cell[1]) : "memory");
  EQ(r, 0x55);
  EQ(cell[1], 0x66);
  // rd == rs1: the address is read before rd is written.
  cell[1] = 0x77;
  r = (u64)&cell[1];
  asm volatile("amoadd.d %0, %1, (%0)" : "+r"(r) : "r"(1ull) : "memory");
  EQ(r, 0x77);
  EQ(cell[1], 0x78);
}

int main(void) {
  test_d();
  test_w();
  test_registers();
  return 0;
}
