// A 32-bit instruction whose first halfword is the last one of a page (offset 0xffe) and whose
// second halfword is on the next page. With C, IALIGN=16 and such placements are legal (unpriv
// spec §Instruction Length Encoding; "instructions ... may cross page boundaries"): the hart must
// fetch both halves and execute the instruction once, with pc = the address of its first half.
// Two placements: one linked into .text, and one written into a RAM buffer (after FENCE.I), which
// is then patched half by half.
#include "rv64.h"

typedef u64 (*fn_t)(u64);

// Linked placement: straddle_auipc sits at page offset 0xffe. Its AUIPC must return its own
// address (the address of the first half, not of the second page).
asm(".pushsection .text.straddle, \"ax\", @progbits\n"
    ".balign 4096\n"
    ".skip 4094\n"
    ".globl straddle_auipc\n"
    "straddle_auipc:\n"
    ".option push\n.option norvc\n"
    "auipc a0, 0\n"          // 0xffe .. 0x1001
    "addi a1, zero, 77\n"    // 0x1002: first instruction wholly on the second page
    "ret\n"
    ".option pop\n"
    ".popsection\n");
extern char straddle_auipc[];

static u64 call_auipc(u64* a1_out) {
  u64 a0v, a1v;
  asm volatile("li a1, 0\n call straddle_auipc\n mv %0, a0\n mv %1, a1"
               : "=r"(a0v), "=r"(a1v)
               :
               : "ra", "a0", "a1", "memory");
  *a1_out = a1v;
  return a0v;
}

#define ADDI_A0_A0(imm) ((((u32)(imm) & 0xfff) << 20) | (10u << 15) | (10u << 7) | 0x13u)
#define XORI_A0_A0(imm) ((((u32)(imm) & 0xfff) << 20) | (10u << 15) | (4u << 12) | (10u << 7) | 0x13u)
#define AUIPC_A0_0 0x00000517u
#define BEQ_ZERO_ZERO_8 0x00000463u  // beq x0, x0, +8
#define RET32 0x00008067u
#define C_ADDI_A0_2 0x0509u          // c.addi a0, 2: 000 0 01010 00010 01

static u8 pages[3 * 4096] __attribute__((aligned(4096)));

static void put16(u64 off, u16 v) { *(volatile u16*)(pages + off) = v; }
static void put32(u64 off, u32 v) {  // written as two halfwords: off may be 2 mod 4
  put16(off, (u16)v);
  put16(off + 2, (u16)(v >> 16));
}
static u64 run_at(u64 off, u64 x) {
  asm volatile("fence.i" ::: "memory");
  return ((fn_t)(void*)(pages + off))(x);
}

int main(void) {
  OK(((u64)straddle_auipc & 0xfff) == 0xffe);
  u64 a1v = 0;
  EQ(call_auipc(&a1v), (u64)straddle_auipc);
  EQ(a1v, 77);

  // RAM placement: 0xff8 addi (32) | 0xffc c.addi (16) | 0xffe addi (32, straddles) | 0x1002 ret.
  put32(0xff8, ADDI_A0_A0(1));
  put16(0xffc, C_ADDI_A0_2);
  put32(0xffe, ADDI_A0_A0(0x100));
  put32(0x1002, RET32);
  EQ(run_at(0xff8, 0x1000), 0x1103);
  EQ(run_at(0xffe, 0x1000), 0x1100);  // entered directly at the straddling instruction
  // Patch only the second half (the immediate lives in bits 31:20, on the second page).
  put16(0x1000, (u16)(ADDI_A0_A0(0x200) >> 16));
  EQ(run_at(0xff8, 0x1000), 0x1203);
  // Patch only the first half (funct3 in bits 14:12): addi becomes xori with the same immediate.
  put16(0xffe, (u16)XORI_A0_A0(0x200));
  EQ(run_at(0xff8, 0x1200), 0x1203 ^ 0x200);  // addi would give 0x1403
  // AUIPC straddling: its pc is the address of the first half.
  put32(0xffe, AUIPC_A0_0);
  EQ(run_at(0xffe, 0), (u64)(pages + 0xffe));
  // A taken branch straddling: the target is relative to the first half (0xffe + 8 = 0x1006).
  put32(0xffe, BEQ_ZERO_ZERO_8);
  put32(0x1002, ADDI_A0_A0(0x55));  // skipped
  put32(0x1006, RET32);
  EQ(run_at(0xff8, 0x10), 0x13);
  // A 16-bit instruction at 0xffe does not straddle; the next one starts the second page.
  put16(0xffe, C_ADDI_A0_2);
  put32(0x1000, ADDI_A0_A0(0x40));
  put32(0x1004, RET32);
  EQ(run_at(0xff8, 0x10), 0x10 + 1 + 2 + 2 + 0x40);
  // The second page boundary of the buffer, reached by falling through from the first page.
  put32(0x1ff8, ADDI_A0_A0(-1));
  put16(0x1ffc, C_ADDI_A0_2);
  put32(0x1ffe, ADDI_A0_A0(-0x10));
  put32(0x2002, RET32);
  EQ(run_at(0x1ff8, 0x100), 0x100 - 1 + 2 - 0x10);
  return 0;
}
