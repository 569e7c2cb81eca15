// Privileged-architecture test harness: M- and S-mode trap vectors that record what they see,
// a way to run a C function in S- or U-mode and come back to M with its return value, and
// "try_*" helpers that execute one instruction and report the exception it raised (if any).
//
// How control flows:
//  - run_as(mode, fn, arg) saves the M-mode callee-saved registers, sets mstatus.MPP and mepc and
//    executes MRET; fn runs in `mode` with the same stack. Its `ret` lands in priv_exit_stub, which
//    does ECALL with a magic pair in a6/a7; the M handler recognises it and resumes the saved M
//    context, so run_as() returns fn's result. (A delegated U ECALL reaches the S handler first,
//    which forwards it with its own ECALL; a delegated S ECALL is forwarded with EBREAK.)
//  - An exception is only allowed while a try_* helper has "armed" the harness (T_armed). The
//    handler that takes it (M or S) records cause/epc/tval/status in T and resumes after the
//    faulting instruction (or at T_resume, or at ra for instruction-fetch faults: try_exec jumps
//    to the target with JALR, so ra is the return point). Anything unexpected fails the test with
//    1000+cause (M) / 1100+cause (S), or 1050+irq / 1150+irq for interrupts without irq_hook.
//  - Interrupts are handed to irq_hook(cause, level), which must clear the source.
// Everything that runs in S/U must be identity-mapped (or run through an alias, see run_as_off).
#pragma once
#include "test.h"

#define PRV_U 0ull
#define PRV_S 1ull
#define PRV_M 3ull

#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_UBE (1ull << 6)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_VS (3ull << 9)
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_XS (3ull << 15)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_SBE (1ull << 36)
#define MSTATUS_MBE (1ull << 37)
#define MSTATUS_GVA (1ull << 38)
#define MSTATUS_MPV (1ull << 39)
#define MSTATUS_SD (1ull << 63)
#define MPP_SHIFT 11

#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11
#define MIP_SSIP (1ull << IRQ_SSI)
#define MIP_MSIP (1ull << IRQ_MSI)
#define MIP_STIP (1ull << IRQ_STI)
#define MIP_MTIP (1ull << IRQ_MTI)
#define MIP_SEIP (1ull << IRQ_SEI)
#define MIP_MEIP (1ull << IRQ_MEI)
#define CAUSE_INTR (1ull << 63)

#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_LOAD_MISALIGNED 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_STORE_MISALIGNED 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15

#define ENVCFG_FIOM (1ull << 0)
#define ENVCFG_ADUE (1ull << 61)
#define ENVCFG_PBMTE (1ull << 62)
#define ENVCFG_STCE (1ull << 63)

#define CLINT_MSIP ((volatile u32*)0x2000000ull)
#define CLINT_MTIMECMP ((volatile u64*)0x2004000ull)
#define CLINT_MTIME ((volatile u64*)0x200bff8ull)

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x08000000ull

#define NOTRAP (~0ull)

// Instruction encodings, so tests can compare xtval with the exact instruction bits.
#define INSN_CSRR_A0(csr) (0x00002073u | ((u32)(csr) << 20) | (10u << 7))   // csrrs a0, csr, x0
#define INSN_CSRW_A1(csr) (0x00001073u | ((u32)(csr) << 20) | (11u << 15))  // csrrw x0, csr, a1

#define PRIV_EXIT_MAGIC_A6 0x5ec0de02
#define PRIV_EXIT_MAGIC_A7 0x5ec0de01
#define PRIV_STR_(x) #x
#define PRIV_STR(x) PRIV_STR_(x)

struct trap_rec {
  u64 count;   // traps recorded so far (exceptions and interrupts)
  u64 cause;   // mcause / scause
  u64 epc;     // mepc / sepc at entry
  u64 tval;    // mtval / stval
  u64 status;  // mstatus (level 3) or sstatus (level 1) as trap entry left it
  u64 level;   // privilege that took the trap: 3 or 1
  u64 vec;     // 0 if it came through the direct entry, else 1 + vector-table slot
  u64 ra;      // ra of the trapped context
};

volatile struct trap_rec T;
volatile u64 T_armed;   // exceptions the test is prepared for
volatile u64 T_resume;  // nonzero: resume the next expected exception here
void (*volatile irq_hook)(u64 cause, u64 level);
u64 priv_mctx[16];      // M context saved by run_as
u64 priv_mstack[512] __attribute__((aligned(16)));
u64 priv_sstack[512] __attribute__((aligned(16)));

u64 priv_run_as(u64 pc, u64 arg, u64 off);
u64 priv_run_as_sret(u64 pc, u64 arg);
void priv_sret_to(u64 pc, u64 arg) __attribute__((noreturn));
void priv_resume_m(u64 value) __attribute__((noreturn));
extern char priv_mvec[], priv_mvec_tab[], priv_svec[], priv_svec_tab[], priv_exit_stub[];

// clang-format off
__asm__(
"  .pushsection .text.priv, \"ax\", @progbits\n"
"  .option push\n"
"  .option norvc\n"
// Vector tables: slot n jumps to an entry that remembers n. Slot 0 is also used for exceptions.
"  .balign 256\n"
"  .globl priv_mvec_tab\n"
"priv_mvec_tab:\n"
"  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"  j priv_mvec_e\\n\n"
"  .endr\n"
"  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"priv_mvec_e\\n:\n"
"  csrrw sp, mscratch, sp\n"
"  addi sp, sp, -256\n"
"  sd t0, 40(sp)\n"
"  li t0, \\n + 1\n"
"  j priv_mvec_common\n"
"  .endr\n"
"  .balign 64\n"
"  .globl priv_mvec\n"
"priv_mvec:\n"
"  csrrw sp, mscratch, sp\n"
"  addi sp, sp, -256\n"
"  sd t0, 40(sp)\n"
"  li t0, 0\n"
"priv_mvec_common:\n"
"  sd t0, 0(sp)\n"
"  sd x1, 8(sp)\n"
"  .irp r, 3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"  sd x\\r, (\\r * 8)(sp)\n"
"  .endr\n"
"  csrr t0, mscratch\n"
"  sd t0, 16(sp)\n"
"  addi t0, sp, 256\n"
"  csrw mscratch, t0\n"
"  mv a0, sp\n"
"  call priv_m_trap\n"
"  ld x1, 8(sp)\n"
"  .irp r, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"  ld x\\r, (\\r * 8)(sp)\n"
"  .endr\n"
"  ld sp, 16(sp)\n"
"  mret\n"
// The same for S-mode, with sscratch holding the S trap stack.
"  .balign 256\n"
"  .globl priv_svec_tab\n"
"priv_svec_tab:\n"
"  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"  j priv_svec_e\\n\n"
"  .endr\n"
"  .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
"priv_svec_e\\n:\n"
"  csrrw sp, sscratch, sp\n"
"  addi sp, sp, -256\n"
"  sd t0, 40(sp)\n"
"  li t0, \\n + 1\n"
"  j priv_svec_common\n"
"  .endr\n"
"  .balign 64\n"
"  .globl priv_svec\n"
"priv_svec:\n"
"  csrrw sp, sscratch, sp\n"
"  addi sp, sp, -256\n"
"  sd t0, 40(sp)\n"
"  li t0, 0\n"
"priv_svec_common:\n"
"  sd t0, 0(sp)\n"
"  sd x1, 8(sp)\n"
"  .irp r, 3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"  sd x\\r, (\\r * 8)(sp)\n"
"  .endr\n"
"  csrr t0, sscratch\n"
"  sd t0, 16(sp)\n"
"  addi t0, sp, 256\n"
"  csrw sscratch, t0\n"
"  mv a0, sp\n"
"  call priv_s_trap\n"
"  ld x1, 8(sp)\n"
"  .irp r, 3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
"  ld x\\r, (\\r * 8)(sp)\n"
"  .endr\n"
"  ld sp, 16(sp)\n"
"  sret\n"
// priv_run_as(pc, arg, off): enter the mode already in mstatus.MPP at pc, with sp and the
// return address moved by `off` (for code that runs through an aliased mapping).
"  .macro priv_save_mctx\n"
"  la t0, priv_mctx\n"
"  sd ra, 0(t0)\n"
"  sd sp, 8(t0)\n"
"  sd s0, 16(t0)\n"
"  sd s1, 24(t0)\n"
"  sd s2, 32(t0)\n"
"  sd s3, 40(t0)\n"
"  sd s4, 48(t0)\n"
"  sd s5, 56(t0)\n"
"  sd s6, 64(t0)\n"
"  sd s7, 72(t0)\n"
"  sd s8, 80(t0)\n"
"  sd s9, 88(t0)\n"
"  sd s10, 96(t0)\n"
"  sd s11, 104(t0)\n"
"  sd gp, 112(t0)\n"
"  sd tp, 120(t0)\n"
"  .endm\n"
"  .globl priv_run_as\n"
"priv_run_as:\n"
"  priv_save_mctx\n"
"  csrw mepc, a0\n"
"  la ra, priv_exit_stub\n"
"  add ra, ra, a2\n"
"  add sp, sp, a2\n"
"  mv a0, a1\n"
"  li a6, 0\n"
"  li a7, 0\n"
"  mret\n"
// The same, but entering through SRET (mode from sstatus.SPP), executed in M-mode.
"  .globl priv_run_as_sret\n"
"priv_run_as_sret:\n"
"  priv_save_mctx\n"
"  csrw sepc, a0\n"
"  la ra, priv_exit_stub\n"
"  mv a0, a1\n"
"  sret\n"
// From S-mode inside run_as: SRET to pc(arg); its return still ends the whole run_as.
"  .globl priv_sret_to\n"
"priv_sret_to:\n"
"  csrw sepc, a0\n"
"  la ra, priv_exit_stub\n"
"  mv a0, a1\n"
"  sret\n"
"  .globl priv_exit_stub\n"
"priv_exit_stub:\n"
"  li a6, " PRIV_STR(PRIV_EXIT_MAGIC_A6) "\n"
"  li a7, " PRIV_STR(PRIV_EXIT_MAGIC_A7) "\n"
"  ecall\n"
"1: j 1b\n"
"  .globl priv_resume_m\n"
"priv_resume_m:\n"
"  la t0, priv_mctx\n"
"  ld ra, 0(t0)\n"
"  ld sp, 8(t0)\n"
"  ld s0, 16(t0)\n"
"  ld s1, 24(t0)\n"
"  ld s2, 32(t0)\n"
"  ld s3, 40(t0)\n"
"  ld s4, 48(t0)\n"
"  ld s5, 56(t0)\n"
"  ld s6, 64(t0)\n"
"  ld s7, 72(t0)\n"
"  ld s8, 80(t0)\n"
"  ld s9, 88(t0)\n"
"  ld s10, 96(t0)\n"
"  ld s11, 104(t0)\n"
"  ld gp, 112(t0)\n"
"  ld tp, 120(t0)\n"
"  li a6, 0\n"   // drop the exit magic so a later ECALL is never mistaken for an exit
"  li a7, 0\n"
"  ret\n"
"  .option pop\n"
"  .popsection\n");
// clang-format on

static inline void priv_fail(const char* what, u64 code, u64 cause, u64 epc, u64 tval) {
  puts_(what);
  puts_(" cause=");
  put_hex(cause);
  puts_(" epc=");
  put_hex(epc);
  puts_(" tval=");
  put_hex(tval);
  htif_putc('\n');
  htif_exit(code);
}

// Length of the instruction at `pc`, if it can be read at that address from the current mode
// (code is identity-mapped in RAM); code running elsewhere only traps on 4-byte instructions.
static inline u64 priv_insn_len(u64 pc) {
  if (pc >= RAM_BASE && pc < RAM_BASE + RAM_SIZE) return (*(volatile unsigned short*)pc & 3) == 3 ? 4 : 2;
  return 4;
}

static inline int priv_is_exit(const u64* f, u64 cause) {
  return (cause == CAUSE_ECALL_U || cause == CAUSE_ECALL_S || cause == CAUSE_BREAKPOINT) &&
         f[16] == PRIV_EXIT_MAGIC_A6 && f[17] == PRIV_EXIT_MAGIC_A7;
}

// Returns the pc to resume at after an expected exception.
static inline u64 priv_resume_pc(const u64* f, u64 cause, u64 epc) {
  if (T_resume) {
    u64 r = T_resume;
    T_resume = 0;
    return r;
  }
  if (cause == CAUSE_FETCH_ACCESS || cause == CAUSE_FETCH_PAGE) return f[1];
  return epc + priv_insn_len(epc);
}

__attribute__((used)) void priv_m_trap(u64* f) {
  u64 cause = csr_read(mcause), epc = csr_read(mepc), tval = csr_read(mtval), st = csr_read(mstatus);
  if (!(cause & CAUSE_INTR) && ((st & MSTATUS_MPP) >> MPP_SHIFT) != PRV_M && priv_is_exit(f, cause))
    priv_resume_m(f[10]);
  T.cause = cause;
  T.epc = epc;
  T.tval = tval;
  T.status = st;
  T.level = PRV_M;
  T.vec = f[0];
  T.ra = f[1];
  T.count = T.count + 1;
  if (cause & CAUSE_INTR) {
    if (!irq_hook) priv_fail("unexpected M interrupt", 1050 + (cause & 63), cause, epc, tval);
    irq_hook(cause, PRV_M);
    return;
  }
  if (!T_armed) priv_fail("unexpected M trap", 1000 + cause, cause, epc, tval);
  T_armed = T_armed - 1;
  csr_write(mepc, priv_resume_pc(f, cause, epc));
}

__attribute__((used)) void priv_s_trap(u64* f) {
  u64 cause = csr_read(scause), epc = csr_read(sepc), tval = csr_read(stval), st = csr_read(sstatus);
  if (!(cause & CAUSE_INTR) && priv_is_exit(f, cause)) {
    // A delegated exit request: pass it on to M with a trap that is not delegated in our tests.
    register u64 a0 asm("a0") = f[10];
    register u64 a6 asm("a6") = PRIV_EXIT_MAGIC_A6;
    register u64 a7 asm("a7") = PRIV_EXIT_MAGIC_A7;
    if (cause == CAUSE_ECALL_U)
      asm volatile("ecall" ::"r"(a0), "r"(a6), "r"(a7) : "memory");
    else
      asm volatile(".option push\n.option norvc\nebreak\n.option pop" ::"r"(a0), "r"(a6), "r"(a7) : "memory");
    priv_fail("exit forwarding returned", 1199, cause, epc, tval);
  }
  T.cause = cause;
  T.epc = epc;
  T.tval = tval;
  T.status = st;
  T.level = PRV_S;
  T.vec = f[0];
  T.ra = f[1];
  T.count = T.count + 1;
  if (cause & CAUSE_INTR) {
    if (!irq_hook) priv_fail("unexpected S interrupt", 1150 + (cause & 63), cause, epc, tval);
    irq_hook(cause, PRV_S);
    return;
  }
  if (!T_armed) priv_fail("unexpected S trap", 1100 + cause, cause, epc, tval);
  T_armed = T_armed - 1;
  csr_write(sepc, priv_resume_pc(f, cause, epc));
}

// Sets up both trap vectors and their stacks, a PMP entry that grants S/U access to everything
// (with PMP implemented, an S/U access that matches no entry fails: priv spec "Priority and
// Matching Logic"), and a quiet interrupt/delegation state.
static inline void priv_init(void) {
  csr_write(mscratch, (u64)&priv_mstack[512]);
  csr_write(sscratch, (u64)&priv_sstack[512]);
  csr_write(mtvec, (u64)priv_mvec);
  csr_write(stvec, (u64)priv_svec);
  csr_write(pmpaddr0, ~0ull);
  csr_write(pmpcfg0, 0x1f);  // entry 0: NAPOT, R/W/X
  csr_write(mie, 0);
  csr_write(medeleg, 0);
  csr_write(mideleg, 0);
  csr_write(satp, 0);
  csr_clear(mstatus, MSTATUS_MIE | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_SUM | MSTATUS_MXR);
  asm volatile("sfence.vma" ::: "memory");
}

// Runs fn(arg) in `mode` (PRV_S or PRV_U) and returns its result. `off` is added to the entry
// point, the stack pointer and the return stub: code that runs through an alias of RAM.
static inline u64 run_as_off(u64 mode, u64 (*fn)(u64), u64 arg, u64 off) {
  u64 s = csr_read(mstatus);
  s &= ~(MSTATUS_MPP | MSTATUS_MPV);
  s |= mode << MPP_SHIFT;
  csr_write(mstatus, s);
  return priv_run_as((u64)fn + off, arg, off);
}
static inline u64 run_as(u64 mode, u64 (*fn)(u64), u64 arg) { return run_as_off(mode, fn, arg, 0); }
// Like run_as, but M-mode enters `mode` with SRET (legal in M; uses sstatus.SPP).
static inline u64 run_as_sret(u64 mode, u64 (*fn)(u64), u64 arg) {
  if (mode == PRV_S)
    csr_set(mstatus, MSTATUS_SPP);
  else
    csr_clear(mstatus, MSTATUS_SPP);
  return priv_run_as_sret((u64)fn, arg);
}

static inline u64 trap_begin(void) {
  T_armed = 1;
  asm volatile("" ::: "memory");
  return T.count;
}
static inline u64 trap_end(u64 c0) {
  asm volatile("" ::: "memory");
  T_armed = 0;
  return T.count != c0 ? T.cause : NOTRAP;
}

// Each try_* executes one 4-byte instruction and returns the exception cause, or NOTRAP.
#define PRIV_TRY_LOAD(name, insn)                                                            \
  static inline u64 name(u64 va, u64* out) {                                                 \
    register u64 v asm("a0") = 0x0badc0de;                                                   \
    u64 c0 = trap_begin();                                                                   \
    asm volatile(".option push\n.option norvc\n" insn " a0, 0(%1)\n.option pop"             \
                 : "+r"(v) : "r"(va) : "memory");                                            \
    u64 c = trap_end(c0);                                                                    \
    if (out) *out = v;                                                                       \
    return c;                                                                                \
  }
PRIV_TRY_LOAD(try_ld, "ld")
PRIV_TRY_LOAD(try_lw, "lw")
PRIV_TRY_LOAD(try_lbu, "lbu")
PRIV_TRY_LOAD(try_lr_d, "lr.d")

#define PRIV_TRY_STORE(name, insn)                                                           \
  static inline u64 name(u64 va, u64 val) {                                                  \
    u64 c0 = trap_begin();                                                                   \
    asm volatile(".option push\n.option norvc\n" insn " %0, 0(%1)\n.option pop"              \
                 ::"r"(val), "r"(va) : "memory");                                            \
    return trap_end(c0);                                                                     \
  }
PRIV_TRY_STORE(try_sd, "sd")
PRIV_TRY_STORE(try_sw, "sw")
PRIV_TRY_STORE(try_sb, "sb")

static inline u64 try_amoadd_d(u64 va, u64 val) {
  u64 c0 = trap_begin();
  u64 old;
  asm volatile("amoadd.d %0, %1, (%2)" : "=r"(old) : "r"(val), "r"(va) : "memory");
  (void)old;
  return trap_end(c0);
}
static inline u64 try_amoadd_w(u64 va, u64 val) {
  u64 c0 = trap_begin();
  u64 old;
  asm volatile("amoadd.w %0, %1, (%2)" : "=r"(old) : "r"(val), "r"(va) : "memory");
  (void)old;
  return trap_end(c0);
}

// Calls the code at `va` (which should be "li a0, X; ret"); *out receives a0.
static inline u64 try_exec(u64 va, u64* out) {
  register u64 a0 asm("a0") = 0;
  register u64 t asm("t1") = va;
  u64 c0 = trap_begin();
  asm volatile(".option push\n.option norvc\njalr ra, 0(%1)\n.option pop" : "+r"(a0) : "r"(t)
               : "ra", "t0", "t2", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "t3", "t4", "t5", "t6", "memory");
  u64 c = trap_end(c0);
  if (out) *out = a0;
  return c;
}

// The code try_exec expects: li a0, v (v < 2048); ret.
static inline void put_ret_code(u64 pa, u64 v) {
  volatile u32* p = (volatile u32*)pa;
  p[0] = 0x00000513u | ((u32)v << 20);  // addi a0, x0, v
  p[1] = 0x00008067u;                   // jalr x0, 0(ra)
  asm volatile("fence.i" ::: "memory");
}

#define TRY_CSRR(csr)                                                                        \
  ({                                                                                         \
    register u64 v_ asm("a0") = 0;                                                           \
    u64 c0_ = trap_begin();                                                                  \
    asm volatile("csrr a0, " #csr : "+r"(v_)::"memory");                                     \
    trap_end(c0_);                                                                           \
  })
#define TRY_CSRW(csr, val)                                                                   \
  ({                                                                                         \
    register u64 v_ asm("a1") = (val);                                                       \
    u64 c0_ = trap_begin();                                                                  \
    asm volatile("csrw " #csr ", a1" ::"r"(v_) : "memory");                                  \
    trap_end(c0_);                                                                           \
  })
// Executes raw instruction bits (a 32-bit instruction given as a string literal number).
#define TRY_WORD(word)                                                                       \
  ({                                                                                         \
    u64 c0_ = trap_begin();                                                                  \
    asm volatile(".option push\n.option norvc\n.word " #word "\n.option pop" ::: "memory");  \
    trap_end(c0_);                                                                           \
  })
#define TRY_INSN(text)                                                                       \
  ({                                                                                         \
    u64 c0_ = trap_begin();                                                                  \
    asm volatile(".option push\n.option norvc\n" text "\n.option pop" ::: "a0", "a1", "memory"); \
    trap_end(c0_);                                                                           \
  })

// Checks that the last try_* raised `cause` into `level` with xtval `tval`.
#define CHECK_TRAP(id, got, cause_, level_, tval_)                                           \
  do {                                                                                       \
    CHECK_EQ(id, got, cause_);                                                               \
    CHECK_EQ(id, T.level, level_);                                                           \
    CHECK_EQ(id, T.tval, tval_);                                                             \
  } while (0)

static inline u64 mpp_of(u64 status) { return (status & MSTATUS_MPP) >> MPP_SHIFT; }
