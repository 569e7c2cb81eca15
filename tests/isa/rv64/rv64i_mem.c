// RV64I loads and stores (unprivileged spec §Load and Store Instructions): sign/zero extension of
// every width, immediate offsets, byte-exact stores, and misaligned accesses of every width.
// Misaligned accesses may either complete or trap (same section: "may be handled in hardware or
// by an execution-environment trap"); rvkvm's hart completes them, also when they cross a page,
// so any trap here fails the test (no trap handler is installed).
#include "rv64.h"

#define LOAD(insn, base, off)                                                             \
  ({                                                                                      \
    u64 r_;                                                                               \
    asm volatile(insn " %0, " #off "(%1)" : "=r"(r_) : "r"(base) : "memory");             \
    r_;                                                                                   \
  })
#define STORE(insn, base, off, val) \
  asm volatile(insn " %0, " #off "(%1)" : : "r"((u64)(val)), "r"(base) : "memory")

// Two pages; byte i of the buffer holds i & 0xff, so every expected value below can be read off
// the addresses: little-endian, lowest address in the least significant byte.
static u8 buf[8192] __attribute__((aligned(4096)));

static void fill(void) {
  for (int i = 0; i < 8192; i++) ((volatile u8*)buf)[i] = (u8)i;
}

static void test_aligned_loads(void) {
  static volatile u64 d[2] __attribute__((aligned(8)));
  d[0] = 0x8081828384858687ull;  // every byte has bit 7 set
  d[1] = 0x7f7e7d7c7b7a7978ull;  // none has
  u8* p = (u8*)d;
  EQ(LOAD("lb", p, 0), 0xffffffffffffff87ull);
  EQ(LOAD("lbu", p, 0), 0x87);
  EQ(LOAD("lb", p, 8), 0x78);
  EQ(LOAD("lbu", p, 15), 0x7f);
  EQ(LOAD("lh", p, 0), 0xffffffffffff8687ull);
  EQ(LOAD("lhu", p, 0), 0x8687);
  EQ(LOAD("lh", p, 14), 0x7f7e);
  EQ(LOAD("lhu", p, 6), 0x8081);
  EQ(LOAD("lw", p, 0), 0xffffffff84858687ull);
  EQ(LOAD("lwu", p, 0), 0x84858687);
  EQ(LOAD("lw", p, 4), 0xffffffff80818283ull);
  EQ(LOAD("lw", p, 12), 0x7f7e7d7c);
  EQ(LOAD("lwu", p, 12), 0x7f7e7d7c);
  EQ(LOAD("ld", p, 0), 0x8081828384858687ull);
  EQ(LOAD("ld", p, 8), 0x7f7e7d7c7b7a7978ull);
  // Negative offsets.
  u8* q = p + 16;
  EQ(LOAD("lb", q, -1), 0x7f);
  EQ(LOAD("lb", q, -9), 0xffffffffffffff80ull);
  EQ(LOAD("lh", q, -10), 0xffffffffffff8081ull);
  EQ(LOAD("lw", q, -12), 0xffffffff80818283ull);
  EQ(LOAD("ld", q, -16), 0x8081828384858687ull);
  // Largest positive and negative 12-bit offsets.
  u8* far = buf + 2048;
  fill();
  EQ(LOAD("lbu", far, 2047), 0xff);          // buf[4095]
  EQ(LOAD("lbu", far, -2048), 0x00);         // buf[0]
  EQ(LOAD("lhu", far, 2046), 0xfffe);        // buf[4094..4095]
}

static void test_aligned_stores(void) {
  static volatile u64 d[3] __attribute__((aligned(8)));
  u8* p = (u8*)&d[1];
  d[0] = d[1] = d[2] = 0xaaaaaaaaaaaaaaaaull;
  STORE("sb", p, 0, 0x123456789abcdef1ull);  // only the low byte lands
  EQ(d[1], 0xaaaaaaaaaaaaaaf1ull);
  STORE("sb", p, 7, 0x55);
  EQ(d[1], 0x55aaaaaaaaaaaaf1ull);
  STORE("sh", p, 2, 0xffffffffffff1234ull);
  EQ(d[1], 0x55aaaaaa1234aaf1ull);
  STORE("sw", p, 4, 0x8765432100000000ull);  // low word is 0
  EQ(d[1], 0x000000001234aaf1ull);
  STORE("sw", p, 0, 0xdeadbeefcafef00dull);
  EQ(d[1], 0x00000000cafef00dull);
  STORE("sd", p, 0, 0x0123456789abcdefull);
  EQ(d[1], 0x0123456789abcdefull);
  EQ(d[0], 0xaaaaaaaaaaaaaaaaull);            // neighbours untouched
  EQ(d[2], 0xaaaaaaaaaaaaaaaaull);
  STORE("sd", p, -8, 0);
  STORE("sb", p, -1, 0x99);
  EQ(d[0], 0x9900000000000000ull);
  STORE("sh", p, 8, 0x7777);
  EQ(d[2], 0xaaaaaaaaaaaa7777ull);
  EQ(d[1], 0x0123456789abcdefull);
}

static void test_misaligned_loads(void) {
  fill();
  u8* b = buf;
  // Inside a page.
  EQ(LOAD("lh", b, 1), 0x0201);
  EQ(LOAD("lhu", b, 0x7f), 0x807f);
  EQ(LOAD("lh", b, 0x7f), 0xffffffffffff807full);
  EQ(LOAD("lw", b, 1), 0x04030201);
  EQ(LOAD("lw", b, 2), 0x05040302);
  EQ(LOAD("lw", b, 3), 0x06050403);
  EQ(LOAD("lw", b, 0x7d), 0xffffffff807f7e7dull);
  EQ(LOAD("lwu", b, 0x7d), 0x807f7e7d);
  EQ(LOAD("ld", b, 1), 0x0807060504030201ull);
  EQ(LOAD("ld", b, 2), 0x0908070605040302ull);
  EQ(LOAD("ld", b, 3), 0x0a09080706050403ull);
  EQ(LOAD("ld", b, 4), 0x0b0a090807060504ull);
  EQ(LOAD("ld", b, 5), 0x0c0b0a0908070605ull);
  EQ(LOAD("ld", b, 6), 0x0d0c0b0a09080706ull);
  EQ(LOAD("ld", b, 7), 0x0e0d0c0b0a090807ull);
  EQ(LOAD("ld", b, 0x7b), 0x8281807f7e7d7c7bull);
  // Across the page boundary at buf+0x1000 (bytes ... fe ff | 00 01 ...).
  u8* e = buf + 0x1000;
  EQ(LOAD("lh", e, -1), 0x00ff);
  EQ(LOAD("lhu", e, -1), 0x00ff);
  EQ(LOAD("lw", e, -1), 0x020100ff);
  EQ(LOAD("lw", e, -2), 0x0100fffe);
  EQ(LOAD("lw", e, -3), 0x00fffefd);
  EQ(LOAD("lwu", e, -3), 0x00fffefd);
  EQ(LOAD("ld", e, -1), 0x06050403020100ffull);
  EQ(LOAD("ld", e, -2), 0x050403020100fffeull);
  EQ(LOAD("ld", e, -3), 0x0403020100fffefdull);
  EQ(LOAD("ld", e, -4), 0x03020100fffefdfcull);
  EQ(LOAD("ld", e, -5), 0x020100fffefdfcfbull);
  EQ(LOAD("ld", e, -6), 0x0100fffefdfcfbfaull);
  EQ(LOAD("ld", e, -7), 0x00fffefdfcfbfaf9ull);
  // Sign extension still comes from the top byte, which sits on the second page here.
  ((volatile u8*)buf)[0x1000] = 0x80;
  ((volatile u8*)buf)[0x1001] = 0xc0;
  EQ(LOAD("lh", e, -1), 0xffffffffffff80ffull);
  EQ(LOAD("lhu", e, -1), 0x80ff);
  EQ(LOAD("lw", e, -2), 0xffffffffc080fffeull);
  EQ(LOAD("lwu", e, -2), 0xc080fffe);
  EQ(LOAD("lw", e, -3), 0xffffffff80fffefdull);
  EQ(LOAD("ld", e, -6), 0xc080fffefdfcfbfaull);
}

static void test_misaligned_stores(void) {
  fill();
  volatile u8* v = buf;
  u8* b = buf;
  STORE("sh", b, 0x11, 0xa1a2);
  EQ(v[0x10], 0x10);
  EQ(v[0x11], 0xa2);
  EQ(v[0x12], 0xa1);
  EQ(v[0x13], 0x13);
  STORE("sw", b, 0x21, 0xb1b2b3b4);
  EQ(LOAD("ld", b, 0x20), 0x272625b1b2b3b420ull);
  STORE("sw", b, 0x32, 0xc1c2c3c4);
  EQ(LOAD("ld", b, 0x30), 0x3736c1c2c3c43130ull);
  STORE("sw", b, 0x43, 0xd1d2d3d4);
  EQ(LOAD("ld", b, 0x40), 0x47d1d2d3d4424140ull);
  for (int off = 1; off < 8; off++) {
    u8* p = buf + 0x100 + 8 * off + off;  // misaligned by `off`; blocks do not overlap
    STORE("sd", p, 0, 0x1122334455667788ull);
    volatile u8* w = p;
    EQ(w[-1], (u8)(0x100 + 8 * off + off - 1));
    EQ(w[0], 0x88);
    EQ(w[1], 0x77);
    EQ(w[2], 0x66);
    EQ(w[3], 0x55);
    EQ(w[4], 0x44);
    EQ(w[5], 0x33);
    EQ(w[6], 0x22);
    EQ(w[7], 0x11);
    EQ(w[8], (u8)(0x100 + 8 * off + off + 8));
  }
  // Across the page boundary: every width, the bytes on both pages must change, nothing else.
  u8* e = buf + 0x1000;
  volatile u8* ve = e;
  STORE("sh", e, -1, 0x5a6b);
  EQ(ve[-2], 0xfe);
  EQ(ve[-1], 0x6b);
  EQ(ve[0], 0x5a);
  EQ(ve[1], 0x01);
  STORE("sw", e, -3, 0xa1b2c3d4);
  EQ(ve[-4], 0xfc);
  EQ(ve[-3], 0xd4);
  EQ(ve[-2], 0xc3);
  EQ(ve[-1], 0xb2);
  EQ(ve[0], 0xa1);
  EQ(ve[1], 0x01);
  STORE("sw", e, -1, 0x0f1e2d3c);
  EQ(ve[-2], 0xc3);
  EQ(ve[-1], 0x3c);
  EQ(ve[0], 0x2d);
  EQ(ve[1], 0x1e);
  EQ(ve[2], 0x0f);
  EQ(ve[3], 0x03);
  STORE("sd", e, -5, 0x8877665544332211ull);
  EQ(ve[-6], 0xfa);
  EQ(ve[-5], 0x11);
  EQ(ve[-4], 0x22);
  EQ(ve[-3], 0x33);
  EQ(ve[-2], 0x44);
  EQ(ve[-1], 0x55);
  EQ(ve[0], 0x66);
  EQ(ve[1], 0x77);
  EQ(ve[2], 0x88);
  EQ(ve[3], 0x03);
  // Reading back across the boundary with the same misaligned width.
  EQ(LOAD("ld", e, -5), 0x8877665544332211ull);
  EQ(LOAD("lw", e, -2), 0x0000000077665544ull);
  EQ(LOAD("lh", e, -1), 0x6655);
}

// The FP loads and stores go through the same memory path; their misaligned and page-crossing
// forms must move the same bytes (D/F chapters: FLD/FSD/FLW/FSW use the integer load/store
// addressing and alignment rules).
static void test_misaligned_fp(void) {
  fill();
  u8* e = buf + 0x1000;
  u64 r;
  asm volatile("fld ft0, -3(%1)\n fmv.x.d %0, ft0" : "=r"(r) : "r"(e) : "ft0", "memory");
  EQ(r, 0x0403020100fffefdull);
  asm volatile("flw ft0, -1(%1)\n fmv.x.w %0, ft0" : "=r"(r) : "r"(e) : "ft0", "memory");
  EQ(r, 0x00000000020100ffull);  // fmv.x.w sign-extends bit 31, which is 0 here
  asm volatile("fmv.d.x ft0, %0\n fsd ft0, -6(%1)" : : "r"(0x1122334455667788ull), "r"(e) : "ft0", "memory");
  volatile u8* v = e;
  EQ(v[-7], 0xf9);
  EQ(v[-6], 0x88);
  EQ(v[-1], 0x33);
  EQ(v[0], 0x22);
  EQ(v[1], 0x11);
  EQ(v[2], 0x02);
  asm volatile("fmv.w.x ft0, %0\n fsw ft0, -2(%1)" : : "r"(0xa1b2c3d4ull), "r"(e) : "ft0", "memory");
  EQ(v[-3], 0x55);
  EQ(v[-2], 0xd4);
  EQ(v[-1], 0xc3);
  EQ(v[0], 0xb2);
  EQ(v[1], 0xa1);
  EQ(v[2], 0x02);
}

static void test_register_overlap(void) {
  static volatile u64 d[2] __attribute__((aligned(8)));
  u64 r;
  // rd == rs1: the address is consumed before the destination is written.
  d[0] = 0x0123456789abcdefull;
  r = (u64)&d[0];
  asm volatile("ld %0, 0(%0)" : "+r"(r) : : "memory");
  EQ(r, 0x0123456789abcdefull);
  r = (u64)&d[0] + 1;
  asm volatile("lw %0, -1(%0)" : "+r"(r) : : "memory");
  EQ(r, 0xffffffff89abcdefull);
  // rs2 == rs1: the store writes the address itself.
  r = (u64)&d[1];
  asm volatile("sd %0, 0(%0)" : : "r"(r) : "memory");
  EQ(d[1], (u64)&d[1]);
}

int main(void) {
  test_aligned_loads();
  test_aligned_stores();
  test_misaligned_loads();
  test_misaligned_stores();
  test_misaligned_fp();
  test_register_overlap();
  return 0;
}
