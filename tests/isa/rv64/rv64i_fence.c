// FENCE (unprivileged spec §Memory Ordering Instructions) and FENCE.I (Zifencei chapter):
// every fence form executes without trapping, reserved fence fields are ignored, and FENCE.I makes
// this hart's earlier stores to instruction memory visible to its later instruction fetches.
// Instruction words are hand-encoded from the base opcode tables.
#include "rv64.h"

typedef u64 (*fn_t)(u64);

// addi a0, a0, imm: imm[11:0] rs1=a0(10) funct3=000 rd=a0(10) opcode=0010011
#define ADDI_A0_A0(imm) ((((u32)(imm) & 0xfff) << 20) | (10u << 15) | (10u << 7) | 0x13u)
#define RET32 0x00008067u  // jalr x0, 0(ra)
#define C_LI_A0_5 0x4515u  // c.li a0, 5: 010 0 01010 00101 01
#define C_JR_RA 0x8082u    // c.jr ra

static void test_fence_forms(void) {
  static volatile u64 cell;
  cell = 1;
  asm volatile("fence" ::: "memory");
  asm volatile("fence rw, rw" ::: "memory");
  asm volatile("fence r, r" ::: "memory");
  asm volatile("fence w, w" ::: "memory");
  asm volatile("fence r, rw" ::: "memory");
  asm volatile("fence rw, w" ::: "memory");
  asm volatile("fence iorw, iorw" ::: "memory");
  asm volatile("fence i, o" ::: "memory");
  asm volatile("fence.tso" ::: "memory");
  cell = cell + 1;
  EQ(cell, 2);
  // Reserved fence configurations (rd/rs1 non-zero, reserved fm, empty sets) must execute as a
  // normal fence: "base implementations shall ignore these fields" / "shall treat all such
  // reserved configurations as normal fences with fm=0000". So rd must not be written.
  u64 a0v;
  asm volatile("li a0, 0x1234\n li a1, 0x5678\n"
               ".word 0x0ff5850f\n"  // fence iorw,iorw with rd=a0, rs1=a1
               ".word 0xfff5850f\n"  // the same with fm=1111 (reserved)
               ".word 0x0000000f\n"  // pred = succ = 0
               ".word 0x0005850f\n"  // empty sets, rd=a0, rs1=a1
               "mv %0, a0"
               : "=r"(a0v) : : "a0", "a1", "memory");
  EQ(a0v, 0x1234);
  // FENCE.I's imm, rs1 and rd fields are reserved and ignored likewise (Zifencei).
  asm volatile("li a0, 0x4321\n li a1, 0x10\n"
               ".word 0x0000150f\n"  // fence.i with rd=a0
               ".word 0x7ff5950f\n"  // fence.i with imm=0x7ff, rs1=a1, rd=a0
               "mv %0, a0"
               : "=r"(a0v) : : "a0", "a1", "memory");
  EQ(a0v, 0x4321);
}

// A code buffer in RAM, rewritten several times; each version must run after FENCE.I.
static u32 code[64] __attribute__((aligned(64)));

static u64 run_code(u64 x) {
  return ((fn_t)(void*)code)(x);
}

static void test_smc_buffer(void) {
  volatile u32* w = code;
  w[0] = ADDI_A0_A0(7);
  w[1] = RET32;
  asm volatile("fence.i" ::: "memory");
  EQ(run_code(100), 107);
  // Same buffer, new immediate: a decoded copy of the old instruction must not survive.
  w[0] = ADDI_A0_A0(-3);
  asm volatile("fence.i" ::: "memory");
  EQ(run_code(100), 97);
  for (int i = 1; i <= 20; i++) {
    w[0] = ADDI_A0_A0(i * 50);
    asm volatile("fence.i" ::: "memory");
    EQ(run_code(1000), 1000 + (u64)i * 50);
  }
  // The instruction boundaries change: two 16-bit instructions replace the 32-bit ones.
  volatile u16* h = (volatile u16*)code;
  h[0] = C_LI_A0_5;
  h[1] = C_JR_RA;
  asm volatile("fence.i" ::: "memory");
  EQ(run_code(1000), 5);
  // And back to one 32-bit instruction written as two halfwords (low half first).
  h[0] = (u16)ADDI_A0_A0(1);
  h[1] = (u16)(ADDI_A0_A0(1) >> 16);
  h[2] = (u16)RET32;
  h[3] = (u16)(RET32 >> 16);
  asm volatile("fence.i" ::: "memory");
  EQ(run_code(41), 42);
}

// FENCE.I must cover every kind of store, not only plain SW: byte stores, AMOs, SC, FP stores,
// compressed stores and a misaligned store that crosses into the next page of code. Each version
// runs once before it is replaced, so a stale decoded copy would be caught.
static u8 code2[2 * 4096] __attribute__((aligned(4096)));

static u64 run_at(void* p, u64 x) {
  asm volatile("fence.i" ::: "memory");
  return ((fn_t)p)(x);
}

static void test_smc_store_kinds(void) {
  u32* c = (u32*)code2;
  volatile u32* w = c;
  w[0] = ADDI_A0_A0(1);
  w[1] = RET32;
  EQ(run_at(c, 10), 11);
  // SB: imm[11:4] is byte 3 of the instruction word.
  *(volatile u8*)(code2 + 3) = 0x10;  // imm becomes 0x100 | imm[3:0] (= 1)
  EQ(run_at(c, 10), 10 + 0x101);
  // SH on the upper half.
  *(volatile u16*)(code2 + 2) = (u16)(ADDI_A0_A0(2) >> 16);
  EQ(run_at(c, 10), 12);
  // AMOSWAP.W.
  u64 old;
  asm volatile("amoswap.w %0, %1, (%2)" : "=r"(old) : "r"((u64)ADDI_A0_A0(3)), "r"(c) : "memory");
  EQ(old, ADDI_A0_A0(2));
  EQ(run_at(c, 10), 13);
  // AMOADD.W: adding 1 << 20 increments the immediate.
  asm volatile("amoadd.w %0, %1, (%2)" : "=r"(old) : "r"(1ull << 20), "r"(c) : "memory");
  EQ(run_at(c, 10), 14);
  // LR/SC (retried until the SC succeeds).
  u64 st = 1;
  for (int i = 0; i < 100 && st; i++)
    asm volatile("lr.w %0, (%2)\n sc.w %0, %1, (%2)" : "=&r"(st) : "r"((u64)ADDI_A0_A0(5)), "r"(c) : "memory");
  EQ(st, 0);
  EQ(run_at(c, 10), 15);
  // FSD writes both instructions at once.
  u64 pair = ((u64)RET32 << 32) | ADDI_A0_A0(6);
  asm volatile("fmv.d.x ft0, %0\n fsd ft0, 0(%1)" : : "r"(pair), "r"(c) : "ft0", "memory");
  EQ(run_at(c, 10), 16);
  // FSW.
  asm volatile("fmv.w.x ft0, %0\n fsw ft0, 0(%1)" : : "r"((u64)ADDI_A0_A0(7)), "r"(c) : "ft0", "memory");
  EQ(run_at(c, 10), 17);
  // C.SW (base and source must be x8-x15).
  {
    register u64 v asm("a4") = ADDI_A0_A0(8);
    register u32* b asm("a5") = c;
    asm volatile("c.sw a4, 0(a5)" : : "r"(v), "r"(b) : "memory");
  }
  EQ(run_at(c, 10), 18);
  // A misaligned SD at page offset 0xffc writes the last instruction of the first page and the
  // first one of the second page.
  u8* edge = code2 + 0xffc;
  *(volatile u32*)edge = ADDI_A0_A0(0x20);
  *(volatile u32*)(edge + 4) = RET32;
  EQ(run_at(edge, 0), 0x20);
  asm volatile("sd %0, 0(%1)" : : "r"(((u64)RET32 << 32) | ADDI_A0_A0(0x41)), "r"(edge) : "memory");
  EQ(run_at(edge, 0), 0x41);
  // Now make the second page's instruction an addi and put the return after it.
  *(volatile u32*)(edge + 8) = RET32;
  asm volatile("sd %0, 0(%1)" : : "r"(((u64)ADDI_A0_A0(0x7) << 32) | ADDI_A0_A0(0x50)), "r"(edge) : "memory");
  EQ(run_at(edge, 0), 0x57);
}

// Rewrites the instruction right after the FENCE.I, in the .text page that is executing.
static u64 __attribute__((noinline)) patch_inline(u64 imm) {
  u64 r;
  asm volatile(".option push\n.option norvc\n"
               "lla t0, 1f\n"
               "sw %1, 0(t0)\n"
               "fence.i\n"
               "1: addi a0, zero, 1\n"   // overwritten each call with addi a0, zero, imm
               "mv %0, a0\n"
               ".option pop"
               : "=r"(r)
               : "r"((u64)(((u32)imm << 20) | (10u << 7) | 0x13u))
               : "t0", "a0", "memory");
  return r;
}

int main(void) {
  test_fence_forms();
  test_smc_buffer();
  test_smc_store_kinds();
  EQ(patch_inline(2), 2);
  EQ(patch_inline(3), 3);
  for (u64 i = 4; i < 40; i += 7) EQ(patch_inline(i), i);
  EQ(patch_inline(0x7ff), 0x7ff);
  return 0;
}
