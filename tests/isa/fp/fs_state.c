// mstatus.FS / SD and the FP enable gate.
//
// Privileged spec, "Extension Context Status in mstatus Register":
//  - FS = Off (0): "any instruction that attempts to read or write the corresponding state will
//    cause an illegal-instruction exception" -- every F/D instruction (including loads, stores,
//    moves, compares, classify and the RVC FP loads/stores) and every access to fflags/frm/fcsr.
//  - FS = Dirty (3) once the state has been modified; SD is the read-only summary
//    SD = (FS == 3 || VS == 3 || XS == 3).
//  - sstatus is a restricted view of the same FS and SD bits.
// Only modifications are required to make FS Dirty, so reads (fmv.x.w, fsw, compares without
// flags) are not checked either way.
#include "trap.h"

#define FS_MASK (3ull << 13)
#define SD_BIT (1ull << 63)
#define VS_MASK (3ull << 9)
#define XS_MASK (3ull << 15)

static void set_fs(u64 fs) {
  csr_clear(mstatus, FS_MASK);
  csr_set(mstatus, fs << 13);
}
static u64 get_fs(void) { return (csr_read(mstatus) & FS_MASK) >> 13; }

static volatile u64 slot[2] __attribute__((aligned(16)));

// An FS=Off attempt: `insn` must trap and leave t0 as it was; FS stays Off and SD clear. a0 points
// at `slot` for the register-relative loads/stores; pre/post run around it (with FP still Off, so
// they must be integer instructions).
#define OFFX(pre, insn, post)                                                              \
  do {                                                                                     \
    set_fs(0);                                                                             \
    g_traps = 0;                                                                           \
    u64 pc_, t0_;                                                                          \
    register volatile u64* a0_ asm("a0") = slot;                                           \
    asm volatile("mv t0, %2\n\t" pre "\n\tla %0, .Loff%=\n.Loff%=:\n\t" insn "\n\t" post   \
                 "\n\tmv %1, t0"                                                            \
                 : "=&r"(pc_), "=&r"(t0_)                                                  \
                 : "r"(JUNK), "r"(a0_)                                                     \
                 : "t0", "t1", "ft0", "ft1", "ft2", "ft3", "fa1", "memory");               \
    u64 fs_ = get_fs();                                                                    \
    u64 sd_ = csr_read(mstatus) & SD_BIT;                                                  \
    expect_illegal(__LINE__, insn, pc_);                                                   \
    chkv(__LINE__, t0_, JUNK);                                                             \
    chkv(__LINE__, fs_, 0);                                                                \
    chkv(__LINE__, sd_, 0);                                                                \
  } while (0)
#define OFF(insn) OFFX("", insn, "")

static void test_off(void) {
  // Known FP state to compare against afterwards.
  asm volatile("fmv.d.x ft0, %0\n\tfmv.d.x ft1, %0\n\tfmv.d.x ft2, %0\n\tfmv.d.x ft3, %1\n\t"
               "fmv.d.x fa1, %1\n\tcsrw fcsr, %2" ::"r"(0x3ff0000000000000ull), "r"(JUNK),
               "r"(0x45ull)
               : "ft0", "ft1", "ft2", "ft3", "fa1");
  slot[0] = 0x1111111111111111ull;
  slot[1] = 0x2222222222222222ull;
  // Loads and stores, including the RVC forms (a0 points at slot).
  OFF("flw ft3, 0(sp)");
  OFF("fld ft3, 0(sp)");
  OFF("fsw ft0, 0(a0)");
  OFF("fsd ft0, 8(a0)");
  OFF("c.fld fa1, 0(a0)");
  OFF("c.fsd fa1, 8(a0)");
  OFF("c.fldsp ft3, 0(sp)");
  // c.fsdsp writes through sp: give it a scratch doubleword in case it is wrongly executed.
  OFFX("addi sp, sp, -16", "c.fsdsp ft0, 8(sp)", "addi sp, sp, 16");
  // Arithmetic, S and D, every shape.
  OFF("fadd.s ft3, ft0, ft1");
  OFF("fsub.d ft3, ft0, ft1");
  OFF("fmul.s ft3, ft0, ft1");
  OFF("fdiv.d ft3, ft0, ft1");
  OFF("fsqrt.s ft3, ft0");
  OFF("fsqrt.d ft3, ft0");
  OFF("fmadd.s ft3, ft0, ft1, ft2");
  OFF("fmsub.d ft3, ft0, ft1, ft2");
  OFF("fnmsub.s ft3, ft0, ft1, ft2");
  OFF("fnmadd.d ft3, ft0, ft1, ft2");
  OFF("fsgnj.s ft3, ft0, ft1");
  OFF("fsgnjn.d ft3, ft0, ft1");
  OFF("fsgnjx.s ft3, ft0, ft1");
  OFF("fmin.s ft3, ft0, ft1");
  OFF("fmax.d ft3, ft0, ft1");
  // Conversions and moves in both directions.
  OFF("fcvt.w.s t0, ft0");
  OFF("fcvt.wu.d t0, ft0");
  OFF("fcvt.l.s t0, ft0");
  OFF("fcvt.lu.d t0, ft0");
  OFF("fcvt.s.w ft3, sp");
  OFF("fcvt.s.wu ft3, sp");
  OFF("fcvt.d.l ft3, sp");
  OFF("fcvt.d.lu ft3, sp");
  OFF("fcvt.s.d ft3, ft0");
  OFF("fcvt.d.s ft3, ft0");
  OFF("fmv.x.w t0, ft0");
  OFF("fmv.x.d t0, ft0");
  OFF("fmv.w.x ft3, sp");
  OFF("fmv.d.x ft3, sp");
  // Compares and classify (integer destinations).
  OFF("feq.s t0, ft0, ft1");
  OFF("flt.d t0, ft0, ft1");
  OFF("fle.s t0, ft0, ft1");
  OFF("fclass.s t0, ft0");
  OFF("fclass.d t0, ft0");
  // The FP CSRs, read-only accesses included.
  OFF("csrr t0, fflags");
  OFF("csrr t0, frm");
  OFF("csrr t0, fcsr");
  OFF("csrw fflags, sp");
  OFF("csrwi frm, 1");
  OFF("csrw fcsr, zero");
  OFF("csrrs t0, fcsr, zero");
  OFF("csrrsi t0, fflags, 1");
  OFF("csrrci t0, frm, 0");

  // Nothing above may have changed the FP state or memory.
  set_fs(1);
  u64 f0, f1, f3, fa1, fcsr;
  asm volatile("fmv.x.d %0, ft0\n\tfmv.x.d %1, ft1\n\tfmv.x.d %2, ft3\n\tfmv.x.d %3, fa1\n\t"
               "csrr %4, fcsr"
               : "=r"(f0), "=r"(f1), "=r"(f3), "=r"(fa1), "=r"(fcsr));
  chkv(__LINE__, f0, 0x3ff0000000000000ull);
  chkv(__LINE__, f1, 0x3ff0000000000000ull);
  chkv(__LINE__, f3, JUNK);
  chkv(__LINE__, fa1, JUNK);
  chkv(__LINE__, fcsr, 0x45);
  chkv(__LINE__, slot[0], 0x1111111111111111ull);
  chkv(__LINE__, slot[1], 0x2222222222222222ull);
  csr_write(fcsr, 0);
}

// After making FS Clean (or Initial), run one FP-state-modifying instruction and expect Dirty,
// with SD set in both mstatus and sstatus. Running from Clean each time also checks that the hart
// does not cache an old "already dirty" state across mstatus writes.
#define DIRTIES(from, insn)                                                          \
  do {                                                                               \
    set_fs(from);                                                                    \
    chkv(__LINE__, get_fs(), from);                                                  \
    chkv(__LINE__, csr_read(mstatus) & SD_BIT, 0);                                   \
    asm volatile(insn ::: "t0", "ft0", "ft1", "ft2", "ft3", "memory");               \
    u64 ms_ = csr_read(mstatus), ss_ = csr_read(sstatus);                            \
    chk(__LINE__, insn " mstatus.FS/SD", (fres){ms_ & (FS_MASK | SD_BIT), 0},        \
        FS_MASK | SD_BIT, 0);                                                        \
    chk(__LINE__, insn " sstatus.FS/SD", (fres){ss_ & (FS_MASK | SD_BIT), 0},        \
        FS_MASK | SD_BIT, 0);                                                        \
  } while (0)

static void test_dirty(void) {
  // With no vector unit and no custom state, SD reflects FS alone.
  u64 ms = csr_read(mstatus);
  chkv(__LINE__, ms & (VS_MASK | XS_MASK), 0);
  for (u64 fs = 0; fs < 4; fs++) {
    set_fs(fs);
    u64 m = csr_read(mstatus), s = csr_read(sstatus);
    chkv(__LINE__, (m & FS_MASK) >> 13, fs);
    chkv(__LINE__, (s & FS_MASK) >> 13, fs);
    chkv(__LINE__, m >> 63, fs == 3);
    chkv(__LINE__, s >> 63, fs == 3);
  }
  // Writes to SD itself are ignored (read-only summary bit).
  set_fs(2);
  csr_set(mstatus, SD_BIT);
  chkv(__LINE__, csr_read(mstatus) & SD_BIT, 0);

  DIRTIES(1, "fmv.w.x ft0, zero");
  DIRTIES(2, "fmv.d.x ft0, sp");
  DIRTIES(2, "li t0, 0x3ff0000000000000\n\tfmv.d.x ft1, t0\n\tfadd.d ft0, ft1, ft1");
  DIRTIES(2, "flw ft0, 0(sp)");
  DIRTIES(2, "fld ft0, 0(sp)");
  DIRTIES(2, "c.fldsp ft0, 0(sp)");
  DIRTIES(2, "fcvt.s.w ft0, sp");
  DIRTIES(2, "fcvt.d.s ft0, ft1");
  DIRTIES(2, "fsgnjn.d ft0, ft0, ft0");
  DIRTIES(2, "fmadd.d ft0, ft1, ft2, ft3");
  DIRTIES(2, "csrwi fflags, 0");
  DIRTIES(2, "csrwi frm, 0");
  DIRTIES(2, "csrw fcsr, zero");
  DIRTIES(2, "csrsi fflags, 1");
}

// feq.s on a signaling NaN and fcvt.w.s of a NaN change only fflags: that is a state change too.
static void test_dirty_flags_only(void) {
  u64 ms;
  set_fs(1);
  asm volatile("li t0, 0x7f800001\n\tfmv.w.x ft1, t0\n\tcsrwi fflags, 0" ::: "t0", "ft1");
  set_fs(2);
  asm volatile("feq.s t0, ft1, ft1" ::: "t0");
  ms = csr_read(mstatus);
  chkv(__LINE__, (ms & FS_MASK) >> 13, 3);
  chkv(__LINE__, csr_read(fflags), NV);

  set_fs(1);
  asm volatile("csrwi fflags, 0" ::: "memory");
  set_fs(2);
  asm volatile("fcvt.w.s t0, ft1, rtz" ::: "t0");
  ms = csr_read(mstatus);
  chkv(__LINE__, (ms & FS_MASK) >> 13, 3);
  chkv(__LINE__, csr_read(fflags), NV);
  csr_write(fflags, 0);
}

// Turning FP off via sstatus gates instructions just the same, and turning it back on restores
// access with the register contents intact.
static void test_sstatus_gate(void) {
  set_fs(1);
  asm volatile("fmv.d.x ft0, %0" ::"r"(0x4000000000000000ull) : "ft0");
  csr_clear(sstatus, FS_MASK);
  chkv(__LINE__, get_fs(), 0);
  g_traps = 0;
  u64 pc;
  asm volatile("la %0, .Lss%=\n.Lss%=:\n\tfadd.d ft0, ft0, ft0" : "=&r"(pc) :: "ft0");
  expect_illegal(__LINE__, "fadd.d with sstatus.FS = 0", pc);
  csr_set(sstatus, 2ull << 13);
  chkv(__LINE__, get_fs(), 2);
  u64 v;
  asm volatile("fmv.x.d %0, ft0" : "=r"(v));
  chkv(__LINE__, v, 0x4000000000000000ull);
}

int main(void) {
  // FP starts enabled (crt.S sets FS = Initial) and F and D are present in misa.
  u64 misa = csr_read(misa);
  chkv(__LINE__, (misa >> 5) & 1, 1);  // F
  chkv(__LINE__, (misa >> 3) & 1, 1);  // D
  test_off();
  test_dirty();
  test_dirty_flags_only();
  test_sstatus_gate();
  set_fs(1);
  return fp_result();
}
