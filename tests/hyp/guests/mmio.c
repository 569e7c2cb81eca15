/* MMIO emulation: loads of every width and signedness (I and C encodings, loads into x0 and
   into the base register) from the test device, checked against its known pattern; stores of
   every width (I and C encodings) to its write log, which the host compares; a scratch register
   read back at other widths; a read counter. Then a read-only memslot (KVM_MEM_READONLY): loads
   read the memory, stores exit as MMIO writes (the host logs them) and change nothing. */
#include "guest.h"

#define TD(off) (TESTDEV_BASE + (off))

/* The test device's read pattern. */
static u8 pat(u64 off) { return off < 0x100 ? (u8)(0x80 | (off & 0x7f)) : (u8)(off & 0x7f); }
static u64 expect(u64 off, unsigned len, int sign) {
  u64 v = 0;
  for (unsigned i = 0; i < len; ++i) v |= (u64)pat(off + i) << (8 * i);
  if (sign && len < 8 && ((v >> (8 * len - 1)) & 1)) v |= ~0ull << (8 * len);
  return v;
}

#define LOAD(insn, addr)                                                     \
  ({                                                                         \
    u64 __v;                                                                 \
    __asm__ volatile(insn " %0, 0(%1)" : "=r"(__v) : "r"(addr) : "memory");  \
    __v;                                                                     \
  })
#define STORE(insn, addr, val) __asm__ volatile(insn " %1, 0(%0)" ::"r"(addr), "r"(val) : "memory")

static void check_loads(u64 off) {
  CHECK_EQ(LOAD("lb", TD(off)), expect(off, 1, 1));
  CHECK_EQ(LOAD("lbu", TD(off)), expect(off, 1, 0));
  CHECK_EQ(LOAD("lb", TD(off + 3)), expect(off + 3, 1, 1));
  CHECK_EQ(LOAD("lbu", TD(off + 5)), expect(off + 5, 1, 0));
  CHECK_EQ(LOAD("lh", TD(off)), expect(off, 2, 1));
  CHECK_EQ(LOAD("lhu", TD(off)), expect(off, 2, 0));
  CHECK_EQ(LOAD("lh", TD(off + 6)), expect(off + 6, 2, 1));
  CHECK_EQ(LOAD("lhu", TD(off + 2)), expect(off + 2, 2, 0));
  CHECK_EQ(LOAD("lw", TD(off)), expect(off, 4, 1));
  CHECK_EQ(LOAD("lwu", TD(off)), expect(off, 4, 0));
  CHECK_EQ(LOAD("lw", TD(off + 4)), expect(off + 4, 4, 1));
  CHECK_EQ(LOAD("lwu", TD(off + 4)), expect(off + 4, 4, 0));
  CHECK_EQ(LOAD("ld", TD(off)), expect(off, 8, 0));
  CHECK_EQ(LOAD("ld", TD(off + 8)), expect(off + 8, 8, 0));
}

/* Compressed loads: c.lw / c.ld take x8..x15; c.lwsp / c.ldsp use sp. */
static void check_compressed_loads(u64 off) {
  register u64 base __asm__("s0") = TD(off);
  register u64 v __asm__("s1");
  __asm__ volatile("c.lw %0, 4(%1)" : "=r"(v) : "r"(base) : "memory");
  CHECK_EQ(v, expect(off + 4, 4, 1));
  __asm__ volatile("c.ld %0, 8(%1)" : "=r"(v) : "r"(base) : "memory");
  CHECK_EQ(v, expect(off + 8, 8, 0));
  __asm__ volatile("c.lw %0, 0(%1)" : "=r"(v) : "r"(base) : "memory");
  CHECK_EQ(v, expect(off, 4, 1));
  u64 w, d;
  __asm__ volatile(
      "mv t0, sp\n"
      "mv sp, %2\n"
      "c.lwsp %0, 12(sp)\n"
      "c.ldsp %1, 16(sp)\n"
      "mv sp, t0\n"
      : "=&r"(w), "=&r"(d)
      : "r"(TD(off))
      : "t0", "memory");
  CHECK_EQ(w, expect(off + 12, 4, 1));
  CHECK_EQ(d, expect(off + 16, 8, 0));
}

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;

  /* Loads from both pattern regions: bit 7 set (sign extension fills ones) and clear. */
  for (u64 off = TESTDEV_NEG; off < TESTDEV_NEG + 0x40; off += 0x18) check_loads(off);
  for (u64 off = TESTDEV_POS; off < TESTDEV_POS + 0x40; off += 0x18) check_loads(off);
  check_compressed_loads(TESTDEV_NEG + 0x20);
  check_compressed_loads(TESTDEV_POS + 0x20);

  /* A load into x0 is performed (the device sees it) but changes nothing; a load whose rd is
     its base register. */
  u64 c0 = mmio_r64(TD(TESTDEV_COUNTER));
  __asm__ volatile("lw x0, 0(%0)" ::"r"(TD(TESTDEV_COUNTER)) : "memory");
  u64 c2 = mmio_r64(TD(TESTDEV_COUNTER));
  CHECK_EQ(c2, c0 + 2);
  u64 self = TD(TESTDEV_NEG + 0x28);
  __asm__ volatile("ld %0, 0(%0)" : "+r"(self)::"memory");
  CHECK_EQ(self, expect(0x28, 8, 0));
  /* The counter truncated to 32 and 16 bits (zero-extended by lwu/lhu). */
  u64 c3 = LOAD("lwu", TD(TESTDEV_COUNTER));
  CHECK_EQ(c3, c0 + 3);
  u64 c4 = LOAD("lhu", TD(TESTDEV_COUNTER));
  CHECK_EQ(c4, c0 + 4);
  /* The system device's counter is separate. */
  u64 s0 = mmio_r64(SYSDEV_COUNTER), s1 = mmio_r64(SYSDEV_COUNTER);
  CHECK_EQ(s1, s0 + 1);

  /* Stores to the write log. The host expects exactly this sequence. */
  const u64 v = 0x1122334455667788ull;
  STORE("sb", TD(0x200), v);
  STORE("sh", TD(0x202), v);
  STORE("sw", TD(0x204), v);
  STORE("sd", TD(0x208), v);
  {
    register u64 base __asm__("a0") = TD(0x210);
    register u64 val __asm__("a1") = 0xdeadbeefcafef00dull;
    __asm__ volatile("c.sw %1, 0(%0)\n c.sd %1, 8(%0)" ::"r"(base), "r"(val) : "memory");
  }
  {
    u64 val = 0x0102030405060708ull;
    __asm__ volatile(
        "mv t0, sp\n"
        "mv sp, %0\n"
        "c.swsp %1, 4(sp)\n"
        "c.sdsp %1, 8(sp)\n"
        "mv sp, t0\n" ::"r"(TD(0x220)),
        "r"(val)
        : "t0", "memory");
  }
  __asm__ volatile("sd x0, 0(%0)" ::"r"(TD(0x230)) : "memory");
  __asm__ volatile("sb %1, -8(%0)" ::"r"(TD(0x240)), "r"(0xa5ull) : "memory"); /* 0x238 */
  __asm__ volatile("sh %1, 2047(%0)" ::"r"(TD(0x23a) - 2047), "r"(0xbeefull) : "memory");

  /* Scratch: store at one width, read back at others. */
  const u64 s = TD(TESTDEV_SCRATCH);
  STORE("sd", s, 0x0123456789abcdefull);
  CHECK_EQ(LOAD("lb", s + 7), 0x01);
  CHECK_EQ(LOAD("lbu", s), 0xef);
  CHECK_EQ(LOAD("lb", s), 0xffffffffffffffefull);
  CHECK_EQ(LOAD("lh", s + 6), 0x0123);
  CHECK_EQ(LOAD("lh", s + 2), 0xffffffffffff89abull);
  CHECK_EQ(LOAD("lw", s + 4), 0x01234567);
  CHECK_EQ(LOAD("lw", s), 0xffffffff89abcdefull);
  CHECK_EQ(LOAD("lwu", s), 0x89abcdefull);
  STORE("sb", s + 1, 0xffull);
  CHECK_EQ(LOAD("ld", s), 0x0123456789abffefull);
  STORE("sh", s + 8, 0x8001ull);
  STORE("sw", s + 12, 0x80000001ull);
  CHECK_EQ(LOAD("lh", s + 8), 0xffffffffffff8001ull);
  CHECK_EQ(LOAD("lw", s + 12), 0xffffffff80000001ull);
  CHECK_EQ(LOAD("lwu", s + 12), 0x80000001ull);

  /* Read-only memslot. */
  volatile u64* rom = (volatile u64*)ROM_BASE;
  CHECK_EQ(rom[0], ROM_WORD(0));
  CHECK_EQ(rom[0x201], ROM_WORD(0x201));
  rom[1] = 0x1234; /* MMIO write (0x8, 8, 0x1234) */
  {
    register u64 base __asm__("a0") = ROM_BASE + 0x10;
    register u64 val __asm__("a1") = 0xfeedfacecafebeefull;
    __asm__ volatile("c.sw %1, 0(%0)" ::"r"(base), "r"(val) : "memory"); /* (0x10, 4, 0xcafebeef) */
  }
  *(volatile u8*)(ROM_BASE + 0x1fff) = 0x99; /* (0x1fff, 1, 0x99) */
  CHECK_EQ(rom[1], ROM_WORD(1));
  CHECK_EQ(rom[2], ROM_WORD(2));
  CHECK_EQ(rom[0x3ff], ROM_WORD(0x3ff));

  puts_("mmio: ok\n");
  return 0;
}
