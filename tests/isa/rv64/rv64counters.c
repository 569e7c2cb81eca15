// Zicntr counters and the machine counters behind them (unprivileged spec, "Zicntr" chapter;
// privileged spec §Machine Counter/Timer registers; Zicsr chapter §CSR Instructions, on counters
// modified as side effects of execution).
//  - cycle/instret/time never decrease and do advance over a busy loop; time follows mtime.
//  - minstret counts retired instructions exactly. A CSR read of a side-effect counter returns the
//    value before the reading instruction ("if a CSR access instruction reads a CSR, it reads the
//    value prior to the execution of the instruction"), so `csrr minstret; N instructions;
//    csrr minstret` differ by exactly N + 1, whatever the N instructions are.
// Related programs: rv64counters_write (writing minstret/mcycle), rv64counters_trap (trapping
// instructions do not retire), rv64counters_inhibit (mcountinhibit).
#include "trap.h"

#define CLINT_MTIME 0x200bff8ull

static void busy(unsigned n) {
  for (volatile unsigned i = 0; i < n; i++) {
  }
}

static void test_monotonic(void) {
  csr_write(mcountinhibit, 0);
  u64 c0 = csr_read(cycle), i0 = csr_read(instret), t0 = csr_read(time);
  for (int k = 0; k < 200; k++) {
    u64 c = csr_read(cycle), i = csr_read(instret), t = csr_read(time);
    OK(c >= c0);
    OK(i > i0);  // at least the previous csrr retired in between
    OK(t >= t0);
    c0 = c, i0 = i, t0 = t;
  }
  u64 cs = csr_read(cycle), is = csr_read(instret), ts = csr_read(time);
  busy(20000);
  u64 ce = csr_read(cycle), ie = csr_read(instret), te = csr_read(time);
  OK(ce > cs);
  OK(ie - is >= 20000);  // the loop body is several instructions per iteration
  OK(te > ts);
  // The rdcycle/rdinstret/rdtime pseudo-instructions name the same user CSRs, and the machine
  // counters behind them hold the same counts (one instruction apart here).
  u64 a, b;
  asm volatile("rdinstret %0\n csrr %1, minstret" : "=r"(a), "=r"(b));
  EQ(b - a, 1);
  asm volatile("csrr %0, minstret\n rdinstret %1" : "=r"(a), "=r"(b));
  EQ(b - a, 1);
  asm volatile("rdcycle %0\n csrr %1, mcycle" : "=r"(a), "=r"(b));
  OK(b >= a && b - a < 1000);
  // time is a shadow of the memory-mapped mtime (privileged spec §Machine Timer Registers).
  u64 m;
  asm volatile("rdtime %0\n ld %1, 0(%3)\n rdtime %2" : "=&r"(a), "=&r"(m), "=&r"(b) : "r"(CLINT_MTIME) : "memory");
  OK(a <= m && m <= b);
}

static void test_exact_instret(void) {
  u64 a, b;
  asm volatile("csrr %0, minstret\n csrr %1, minstret" : "=r"(a), "=r"(b));
  EQ(b - a, 1);
  asm volatile("csrr %0, minstret\n .rept 10\n nop\n .endr\n csrr %1, minstret" : "=r"(a), "=r"(b));
  EQ(b - a, 11);
  asm volatile(".option push\n.option norvc\n csrr %0, minstret\n .rept 500\n addi x0, x0, 0\n .endr\n"
               " csrr %1, minstret\n.option pop"
               : "=r"(a), "=r"(b));
  EQ(b - a, 501);
  // A mix of instruction classes; each one retires exactly once. 32 instructions between reads.
  static volatile u64 mem[4] __attribute__((aligned(16)));
  asm volatile(
      ".option push\n.option norelax\n"
      "csrr %0, minstret\n"
      "addi t0, zero, 5\n"           // 1
      "c.addi t0, 1\n"               // 2  compressed
      "ld t1, 0(%2)\n"               // 3
      "sd t0, 8(%2)\n"               // 4
      "lw t1, 3(%2)\n"               // 5  misaligned, carried out by the hart
      "mul t1, t0, t0\n"             // 6
      "div t1, t1, t0\n"             // 7
      "divu t1, t1, zero\n"          // 8  divide by zero does not trap
      "amoadd.d t1, t0, (%2)\n"      // 9
      "lr.d t1, (%2)\n"              // 10
      "sc.d t1, t0, (%2)\n"          // 11 (success or failure, it retires)
      "fence\n"                      // 12
      "fence.i\n"                    // 13
      ".option arch, +zihintpause\n pause\n" // 14
      "beq zero, zero, 1f\n"         // 15 taken branch
      "1: bne zero, zero, 1b\n"      // 16 not taken
      "jal t1, 2f\n"                 // 17
      "2: lla t1, 3f\n"              // 18, 19 (auipc + addi)
      "jalr zero, 0(t1)\n"           // 20
      "3: csrr t1, mscratch\n"       // 21
      "csrw mscratch, t1\n"          // 22
      "c.nop\n"                      // 23
      "c.mv t2, t0\n"                // 24
      "slli t2, t2, 3\n"             // 25
      "sext.w t2, t2\n"              // 26
      "fmv.d.x ft0, t0\n"            // 27
      "fadd.d ft0, ft0, ft0\n"       // 28
      "amoswap.w.aqrl t1, t0, (%2)\n" // 29
      "clz t1, t0\n"                 // 30
      "sh1add t1, t0, t0\n"          // 31
      "c.li t2, 0\n"                 // 32
      "csrr %1, minstret\n"
      ".option pop\n"
      : "=&r"(a), "=&r"(b)
      : "r"(mem)
      : "t0", "t1", "t2", "ft0", "memory");
  EQ(b - a, 33);
}

int main(void) {
  csr_write(mcountinhibit, 0);
  test_monotonic();
  test_exact_instret();
  return 0;
}
