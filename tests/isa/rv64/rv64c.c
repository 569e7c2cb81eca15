// C extension on RV64 (unprivileged spec, "C" chapter, RVC instruction listing for RV64C with D):
// every RV64 compressed instruction, written with its explicit `c.` mnemonic so the assembler
// cannot substitute the 32-bit form. Operand limits exercised: c.addi16sp -512/+496,
// c.addi4spn 4/1020, c.lwsp/c.swsp 252, c.ldsp/c.sdsp/c.fldsp/c.fsdsp 504, c.lw/c.sw 124,
// c.ld/c.sd/c.fld/c.fsd 248, shift amounts up to 63 (shamt[5] is legal on RV64), c.andi/c.li/c.addi
// -32..31, c.lui with negative nzimm. Also c.ebreak (breakpoint, mepc = the 2-byte instruction) and
// the defined-illegal all-zero halfword (illegal instruction, mtval 0).
#include "trap.h"

// Runs `code` with a0 = x and a1 = y; returns a0. Compressed register fields (rd'/rs1'/rs2') can
// only name x8-x15, so operands are pinned to a0/a1 and s0, s1, a2-a5 are free scratch.
#define CX(code, x, y)                                                                    \
  ({                                                                                      \
    register u64 a0_ asm("a0") = (u64)(x);                                                \
    register u64 a1_ asm("a1") = (u64)(y);                                                \
    asm volatile(code                                                                     \
                 : "+r"(a0_), "+r"(a1_)                                                   \
                 :                                                                        \
                 : "a2", "a3", "a4", "a5", "s0", "s1", "t0", "t1", "t2", "t3", "t4", "t5", \
                   "t6", "ra", "fa0", "fa1", "fs0", "ft10", "ft11", "memory");             \
    a0_;                                                                                  \
  })

static void test_ci_cr_alu(void) {
  EQ(CX("c.li a0, -32", 0, 0), 0xffffffffffffffe0ull);
  EQ(CX("c.li a0, 31", 0, 0), 31);
  EQ(CX("c.li a0, 0", 99, 0), 0);
  EQ(CX("c.addi a0, -32", 100, 0), 68);
  EQ(CX("c.addi a0, 31", ~0ull, 0), 30);
  EQ(CX("c.addi a0, 1", 0x7fffffffffffffffull, 0), 0x8000000000000000ull);
  // c.addiw: 32-bit add, result sign-extended; imm 0 is sext.w.
  EQ(CX("c.addiw a0, 0", 0x00000000ffffffffull, 0), ~0ull);
  EQ(CX("c.addiw a0, 0", 0xffffffff7fffffffull, 0), 0x7fffffff);
  EQ(CX("c.addiw a0, 1", 0x7fffffff, 0), 0xffffffff80000000ull);
  EQ(CX("c.addiw a0, -32", 0x123456780000001full, 0), ~0ull);
  EQ(CX("c.addiw a0, 31", 0xffffffffffffffe1ull, 0), 0);
  // c.lui: nzimm[17:12], sign-extended from bit 17. 0xfffe0 and 0xfffff are -32 and -1.
  EQ(CX("c.lui a0, 1", 0, 0), 0x1000);
  EQ(CX("c.lui a0, 31", 0, 0), 0x1f000);
  EQ(CX("c.lui a0, 0xfffe0", 0, 0), 0xfffffffffffe0000ull);
  EQ(CX("c.lui a0, 0xfffff", 0, 0), 0xfffffffffffff000ull);
  EQ(CX("c.lui t6, 0xffff0\n c.mv a0, t6", 0, 0), 0xffffffffffff0000ull);
  // Shifts: 6-bit shamt.
  EQ(CX("c.slli a0, 1", 0x8000000000000001ull, 0), 2);
  EQ(CX("c.slli a0, 31", 3, 0), 0x180000000ull);
  EQ(CX("c.slli a0, 32", 0xffffffffull, 0), 0xffffffff00000000ull);
  EQ(CX("c.slli a0, 63", 3, 0), 0x8000000000000000ull);
  EQ(CX("c.srli a0, 1", 0x8000000000000001ull, 0), 0x4000000000000000ull);
  EQ(CX("c.srli a0, 31", 0x8000000000000000ull, 0), 0x100000000ull);
  EQ(CX("c.srli a0, 32", ~0ull, 0), 0xffffffffull);
  EQ(CX("c.srli a0, 63", 0x8000000000000000ull, 0), 1);
  EQ(CX("c.srai a0, 1", 0x8000000000000000ull, 0), 0xc000000000000000ull);
  EQ(CX("c.srai a0, 31", 0x8000000000000000ull, 0), 0xffffffff00000000ull);
  EQ(CX("c.srai a0, 32", 0x8000000000000000ull, 0), 0xffffffff80000000ull);
  EQ(CX("c.srai a0, 63", 0x8000000000000000ull, 0), ~0ull);
  EQ(CX("c.srai a0, 63", 0x7fffffffffffffffull, 0), 0);
  EQ(CX("c.srai a0, 33", 0x00000000ffffffffull, 0), 0);  // bit 63 is the sign, not bit 31
  // c.andi: 6-bit sign-extended immediate.
  EQ(CX("c.andi a0, -32", ~0ull, 0), 0xffffffffffffffe0ull);
  EQ(CX("c.andi a0, 31", ~0ull, 0), 31);
  EQ(CX("c.andi a0, -1", 0x8000000000000123ull, 0), 0x8000000000000123ull);
  EQ(CX("c.andi a0, 0", ~0ull, 0), 0);
  EQ(CX("c.andi a0, -2", 0x8000000000000001ull, 0), 0x8000000000000000ull);
  // CR/CA register-register forms.
  EQ(CX("c.mv a0, a1", 0, 0x123456789abcdef0ull), 0x123456789abcdef0ull);
  EQ(CX("c.add a0, a1", 0x7fffffffffffffffull, 1), 0x8000000000000000ull);
  EQ(CX("c.add a0, a1", 0xffffffffull, 1), 0x100000000ull);
  EQ(CX("c.sub a0, a1", 0, 1), ~0ull);
  EQ(CX("c.sub a0, a1", 0x100000000ull, 1), 0xffffffffull);
  EQ(CX("c.xor a0, a1", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xf0f0f0f0f0f0f0f0ull);
  EQ(CX("c.or a0, a1", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0xfff0fff0fff0fff0ull);
  EQ(CX("c.and a0, a1", 0xff00ff00ff00ff00ull, 0x0ff00ff00ff00ff0ull), 0x0f000f000f000f00ull);
  EQ(CX("c.addw a0, a1", 0x7fffffff, 1), 0xffffffff80000000ull);
  EQ(CX("c.addw a0, a1", 0xffffffff00000001ull, 0x00000001ffffffffull), 0);
  EQ(CX("c.addw a0, a1", 0x100000000ull, 0x80000000ull), 0xffffffff80000000ull);
  EQ(CX("c.subw a0, a1", 0, 1), ~0ull);
  EQ(CX("c.subw a0, a1", 0x80000000ull, 1), 0x7fffffff);
  EQ(CX("c.subw a0, a1", 0x500000003ull, 0x200000003ull), 0);
  // Every compressed register (x8-x15) in the 3-bit fields.
  EQ(CX("c.mv s0, a0\n c.mv s1, a1\n c.and s0, s1\n c.mv a2, s0\n c.or a2, a1\n"
        "c.mv a3, a2\n c.xor a3, a0\n c.mv a4, a3\n c.sub a4, s1\n c.mv a5, a4\n"
        "c.addw a5, s0\n c.mv a0, a5",
        0xf0, 0x3c),
     // s0 = 0x30, a2 = 0x30|0x3c = 0x3c, a3 = 0x3c^0xf0 = 0xcc, a4 = 0xcc-0x3c = 0x90,
     // a5 = 0x90+0x30 = 0xc0
     0xc0);
  // Full 5-bit register fields (c.li/c.mv/c.add/c.slli/c.addi on x28-x31).
  EQ(CX("c.li t6, -5\n c.mv t5, t6\n c.add t6, t5\n c.slli t6, 4\n c.addi t6, 1\n c.mv a0, t6", 0, 0),
     (u64)(-159ll));
  // c.nop changes nothing.
  EQ(CX("c.li a0, 7\n c.nop\n c.nop", 0, 0), 7);
}

static u64 mbuf[64] __attribute__((aligned(16)));

static void test_loads_stores(void) {
  volatile u64* m = mbuf;
  for (int i = 0; i < 64; i++) m[i] = 0;
  m[0] = 0x0123456789abcdefull;
  m[15] = 0x8000000111111111ull;  // the word at byte 124 is 0x80000001
  m[31] = 0xfedcba9876543210ull;  // byte 248
  m[63] = 0x7ff0000000000001ull;  // byte 504; a signalling NaN pattern for the FP forms
  // CL format (base in a1 = x11).
  EQ(CX("c.lw a0, 0(a1)", 0, mbuf), 0xffffffff89abcdefull);
  EQ(CX("c.lw a0, 4(a1)", 0, mbuf), 0x01234567);
  EQ(CX("c.lw a0, 124(a1)", 0, mbuf), 0xffffffff80000001ull);
  EQ(CX("c.ld a0, 0(a1)", 0, mbuf), 0x0123456789abcdefull);
  EQ(CX("c.ld a0, 248(a1)", 0, mbuf), 0xfedcba9876543210ull);
  // FLD/FSD move raw bits (no NaN canonicalisation).
  EQ(CX("c.fld fa0, 248(a1)\n fmv.x.d a0, fa0", 0, mbuf), 0xfedcba9876543210ull);
  EQ(CX("c.fld fs0, 0(a1)\n fmv.x.d a0, fs0", 0, mbuf), 0x0123456789abcdefull);
  // CS format.
  CX("c.sw a0, 124(a1)", 0xaaaaaaaa55555555ull, mbuf);
  EQ(m[15], 0x5555555511111111ull);
  CX("c.sw a0, 8(a1)", 0xffffffff87654321ull, mbuf);
  EQ(m[1], 0x0000000087654321ull);
  CX("c.sd a0, 248(a1)", 0x1111222233334444ull, mbuf);
  EQ(m[31], 0x1111222233334444ull);
  CX("fmv.d.x fa1, a0\n c.fsd fa1, 16(a1)", 0x7ff0000000000001ull, mbuf);
  EQ(m[2], 0x7ff0000000000001ull);
  CX("fmv.d.x fa1, a0\n c.fsd fa1, 248(a1)", 0xfff8000000000abcull, mbuf);
  EQ(m[31], 0xfff8000000000abcull);

  // SP-relative forms: sp temporarily points at the buffer (t0 keeps the real one).
  m[31] = 0xfedcba9876543210ull;
#define SPX(code, x) CX("mv t0, sp\n mv sp, a1\n" code "\n mv sp, t0", x, mbuf)
  EQ(SPX("c.lwsp a0, 248(sp)", 0), 0x76543210);
  EQ(SPX("c.lwsp a0, 252(sp)", 0), 0xfffffffffedcba98ull);
  EQ(SPX("c.lwsp t6, 0(sp)\n c.mv a0, t6", 0), 0xffffffff89abcdefull);
  EQ(SPX("c.ldsp a0, 504(sp)", 0), 0x7ff0000000000001ull);
  EQ(SPX("c.ldsp a0, 248(sp)", 0), 0xfedcba9876543210ull);
  EQ(SPX("c.ldsp t5, 0(sp)\n c.mv a0, t5", 0), 0x0123456789abcdefull);
  EQ(SPX("c.fldsp fa0, 504(sp)\n fmv.x.d a0, fa0", 0), 0x7ff0000000000001ull);
  EQ(SPX("c.fldsp ft11, 0(sp)\n fmv.x.d a0, ft11", 0), 0x0123456789abcdefull);
  SPX("c.swsp a0, 252(sp)", 0x1234567800000000ull);
  EQ(m[31], 0x0000000076543210ull);
  SPX("c.swsp a0, 4(sp)", 0xcafef00d);
  EQ(m[0], 0xcafef00d89abcdefull);
  SPX("c.sdsp a0, 504(sp)", 0x0102030405060708ull);
  EQ(m[63], 0x0102030405060708ull);
  SPX("c.sdsp a0, 8(sp)", 0x8877665544332211ull);
  EQ(m[1], 0x8877665544332211ull);
  SPX("fmv.d.x fa1, a0\n c.fsdsp fa1, 496(sp)", 0x7ff4000000000000ull);
  EQ(m[62], 0x7ff4000000000000ull);
  SPX("fmv.d.x ft10, a0\n c.fsdsp ft10, 0(sp)", 0x3ff0000000000000ull);
  EQ(m[0], 0x3ff0000000000000ull);
#undef SPX
}

static void test_sp_arith(void) {
  // c.addi4spn: rd' = sp + nzuimm (zero-extended, scaled by 4).
  EQ(CX("c.addi4spn a0, sp, 4\n sub a0, a0, sp", 0, 0), 4);
  EQ(CX("c.addi4spn a0, sp, 1020\n sub a0, a0, sp", 0, 0), 1020);
  EQ(CX("c.addi4spn s1, sp, 512\n sub a0, s1, sp", 0, 0), 512);
  // c.addi16sp: sp += nzimm (sign-extended, multiple of 16). sp is restored from t0.
  EQ(CX("mv t0, sp\n c.addi16sp sp, -512\n sub a0, sp, t0\n mv sp, t0", 0, 0), (u64)-512ll);
  EQ(CX("mv t0, sp\n c.addi16sp sp, 496\n sub a0, sp, t0\n mv sp, t0", 0, 0), 496);
  EQ(CX("mv t0, sp\n c.addi16sp sp, 16\n c.addi16sp sp, -32\n sub a0, sp, t0\n mv sp, t0", 0, 0),
     (u64)-16ll);
}

static void test_control(void) {
  // c.j forward and backward.
  EQ(CX("c.li a0, 1\n c.j 1f\n c.li a0, 2\n1:", 0, 0), 1);
  EQ(CX("c.j 2f\n1: c.li a0, 5\n c.j 3f\n2: c.li a0, 6\n c.j 1b\n3:", 0, 0), 5);
  // c.j near its +-2 KiB reach.
  EQ(CX("c.li a0, 0\n c.j 2f\n1: c.addi a0, 1\n c.j 3f\n .skip 1900\n2: c.addi a0, 10\n c.j 1b\n3:", 0, 0),
     11);
  // c.beqz/c.bnez test the whole 64-bit register.
#define BZ(op, v) CX("c.li a0, 1\n " op " a1, 1f\n c.li a0, 0\n1:", 0, v)
#define BZ_BACK(op, v) CX("c.j 2f\n1: c.li a0, 1\n c.j 3f\n2: c.li a0, 0\n " op " a1, 1b\n3:", 0, v)
  EQ(BZ("c.beqz", 0), 1);
  EQ(BZ("c.beqz", 1), 0);
  EQ(BZ("c.beqz", 0x100000000ull), 0);
  EQ(BZ("c.beqz", 0x8000000000000000ull), 0);
  EQ(BZ("c.bnez", 0), 0);
  EQ(BZ("c.bnez", 0x100000000ull), 1);
  EQ(BZ("c.bnez", ~0ull), 1);
  EQ(BZ_BACK("c.beqz", 0), 1);
  EQ(BZ_BACK("c.beqz", 0x100000000ull), 0);
  EQ(BZ_BACK("c.bnez", 0x8000000000000000ull), 1);
  EQ(BZ_BACK("c.bnez", 0), 0);
#undef BZ
#undef BZ_BACK
  // Near the +-256 byte reach of c.beqz/c.bnez, with other compressed registers.
  EQ(CX("c.li s0, 0\n c.li a0, 0\n c.beqz s0, 2f\n1: c.addi a0, 1\n c.j 3f\n .skip 200\n"
        "2: c.addi a0, 10\n c.li s1, 1\n c.bnez s1, 1b\n3:", 0, 0),
     11);
  // c.jr: to a register target; bit 0 of the target is cleared as for JALR.
  EQ(CX("lla a2, 1f\n c.li a0, 1\n c.jr a2\n c.li a0, 2\n1:", 0, 0), 1);
  EQ(CX("lla a2, 1f\n addi a2, a2, 1\n c.li a0, 1\n c.jr a2\n c.li a0, 2\n1:", 0, 0), 1);
  EQ(CX("lla t6, 1f\n c.li a0, 3\n c.jr t6\n c.li a0, 2\n1:", 0, 0), 3);
  // c.jalr: ra = address of the c.jalr + 2.
  EQ(CX("lla a2, 1f\n c.jalr a2\n2: c.j 3f\n1: lla a0, 2b\n sub a0, ra, a0\n c.jr ra\n3:", 0, 0), 0);
  // c.jalr with rs1 = ra: the jump uses the old ra, then ra is overwritten with the link.
  EQ(CX("lla ra, 1f\n c.jalr ra\n2: c.j 3f\n1: lla a0, 2b\n sub a0, ra, a0\n c.jr ra\n3:", 0, 0), 0);
  // c.jalr with an odd target register.
  EQ(CX("lla a2, 1f\n addi a2, a2, 1\n c.jalr a2\n2: c.j 3f\n1: lla a0, 2b\n sub a0, ra, a0\n c.jr ra\n3:",
        0, 0),
     0);
}

// RVC HINT code points (C chapter §HINT Instructions, table "RVC HINT instructions"): they "do not
// modify any architectural state, except for advancing the pc", so they must neither trap nor
// write a register. binutils will not emit most of them, hence the hand encodings.
static void test_hints(void) {
  u64 a0v, z;
  asm volatile("li a0, 0x1234\n"
               ".2byte 0x0005\n"  // c.nop 1        (C.NOP, nzimm != 0)
               ".2byte 0x107d\n"  // c.nop -1
               ".2byte 0x0501\n"  // c.addi a0, 0   (C.ADDI, rd != 0, nzimm = 0)
               ".2byte 0x4015\n"  // c.li x0, 5     (C.LI, rd = 0)
               ".2byte 0x6005\n"  // c.lui x0, 1    (C.LUI, rd = 0)
               ".2byte 0x802a\n"  // c.mv x0, a0    (C.MV, rd = 0)
               ".2byte 0x902a\n"  // c.add x0, a0   (C.ADD, rd = 0)
               ".2byte 0x900a\n"  // c.add x0, sp   (c.ntl.p1)
               ".2byte 0x0006\n"  // c.slli x0, 1   (C.SLLI, rd = 0)
               ".2byte 0x107e\n"  // c.slli x0, 63
               ".2byte 0x0502\n"  // c.slli64 a0    (shamt 0)
               ".2byte 0x8101\n"  // c.srli64 a0    (shamt 0, RV64 HINT)
               ".2byte 0x8501\n"  // c.srai64 a0    (shamt 0, RV64 HINT)
               "mv %0, a0\n"
               "mv %1, x0\n"
               : "=r"(a0v), "=r"(z)
               :
               : "a0");
  EQ(a0v, 0x1234);
  EQ(z, 0);
}

static void test_traps(void) {
  u64 at;
  // c.ebreak: breakpoint, mepc = the c.ebreak, which is the 16-bit encoding 0x9002.
  TRAP_EXPECT();
  asm volatile("1: c.ebreak\n lla %0, 1b" : "=r"(at) : : "memory");
  EQ(trap_count, 1);
  EQ(trap_cause, 3);
  EQ(trap_epc, at);
  EQ(*(volatile u16*)at, 0x9002);
  // The all-zero halfword is defined illegal (C chapter: "the instruction with all bits zero is
  // permanently reserved as an illegal instruction"). mtval gets the faulting instruction bits or
  // 0; both are 0 here.
  TRAP_EXPECT();
  asm volatile("1: .2byte 0x0000\n lla %0, 1b" : "=r"(at) : : "memory");
  EQ(trap_count, 1);
  EQ(trap_cause, 2);
  EQ(trap_epc, at);
  EQ(trap_tval, 0);
  // Also when the zero halfword follows a 16-bit instruction at a 2 mod 4 address.
  u64 r;
  TRAP_EXPECT();
  asm volatile(".balign 4\n c.li %1, 9\n1: .2byte 0x0000\n lla %0, 1b"
               : "=r"(at), "=&r"(r) : : "memory");
  EQ(trap_count, 1);
  EQ(trap_cause, 2);
  EQ(trap_epc, at);
  EQ(at & 3, 2);
  EQ(trap_tval, 0);
  EQ(r, 9);
}

int main(void) {
  test_ci_cr_alu();
  test_loads_stores();
  test_sp_arith();
  test_control();
  test_hints();
  test_traps();
  return 0;
}
