// Illegal-instruction trap capture for the tests in this folder (a header, not a test).
// The handler records the trap and resumes after the faulting instruction (2 or 4 bytes).
#pragma once
#include "fp.h"

static volatile u64 g_traps, g_cause, g_epc, g_tval;

u64 trap_handler(u64 cause, u64 epc, u64 tval) {
  g_traps++;
  g_cause = cause;
  g_epc = epc;
  g_tval = tval;
  uint16_t lo = *(volatile uint16_t*)epc;
  return epc + ((lo & 3) == 3 ? 4 : 2);
}

// The instruction bits at pc (16-bit parcel reads, so no misaligned 32-bit access is needed).
static inline u64 insn_bits(u64 pc) {
  u64 lo = *(volatile uint16_t*)pc;
  if ((lo & 3) != 3) return lo;
  return lo | ((u64)*(volatile uint16_t*)(pc + 2) << 16);
}

// Exactly one trap, an illegal-instruction exception (mcause 2) at `pc`, with mtval either 0 or
// the faulting instruction bits (privileged spec, "Machine Trap Value Register": both are allowed).
__attribute__((unused)) static void expect_illegal(int line, const char* what, u64 pc) {
  fp_checks++;
  u64 bits = insn_bits(pc);
  if (g_traps == 1 && g_cause == 2 && g_epc == pc && (g_tval == 0 || g_tval == bits)) return;
  fp_fails++;
  if (fp_fails > FP_MAX_PRINTED) return;
  puts_("FAIL line ");
  put_dec((u64)line);
  puts_(" [");
  puts_(what);
  puts_("]: expected illegal-instruction trap at ");
  put_hex(pc);
  puts_("; traps ");
  put_dec(g_traps);
  puts_(" mcause ");
  put_hex(g_cause);
  puts_(" mepc ");
  put_hex(g_epc);
  puts_(" mtval ");
  put_hex(g_tval);
  htif_putc('\n');
}

__attribute__((unused)) static void expect_no_trap(int line, const char* what) {
  fp_checks++;
  if (g_traps == 0) return;
  fp_fails++;
  if (fp_fails > FP_MAX_PRINTED) return;
  puts_("FAIL line ");
  put_dec((u64)line);
  puts_(" [");
  puts_(what);
  puts_("]: unexpected trap, mcause ");
  put_hex(g_cause);
  puts_(" mepc ");
  put_hex(g_epc);
  htif_putc('\n');
}

// Runs `insn` (which may use ft0-ft3, t0, t1 and sp-relative memory) with ft0 = a, ft1 = b,
// ft2 = c, ft3 = JUNK, t0 = JUNK and fflags = 0; returns the pc of `insn`, and what ft3, t0 and
// fflags hold afterwards, so a trapped instruction can be shown to have had no effect.
typedef struct {
  u64 pc, f3, t0, fl;
} trial;

#define TRY(insn, a, b, c)                                                                  \
  ({                                                                                        \
    trial t_;                                                                               \
    g_traps = 0;                                                                            \
    asm volatile("fmv.d.x ft0, %4\n\tfmv.d.x ft1, %5\n\tfmv.d.x ft2, %6\n\t"               \
                 "fmv.d.x ft3, %7\n\tmv t0, %7\n\tcsrwi fflags, 0\n\t"                     \
                 "la %0, .Ltry%=\n.Ltry%=:\n\t" insn "\n\t"                                 \
                 "frflags %3\n\tfmv.x.d %1, ft3\n\tmv %2, t0"                               \
                 : "=&r"(t_.pc), "=&r"(t_.f3), "=&r"(t_.t0), "=&r"(t_.fl)                   \
                 : "r"((u64)(a)), "r"((u64)(b)), "r"((u64)(c)), "r"(JUNK)                   \
                 : "ft0", "ft1", "ft2", "ft3", "t0", "t1", "memory");                       \
    t_;                                                                                     \
  })

// insn must trap as illegal and leave ft3, t0 and fflags untouched.
#define EXPECT_ILL(insn, a, b, c)                                    \
  do {                                                               \
    trial r_ = TRY(insn, a, b, c);                                   \
    expect_illegal(__LINE__, insn, r_.pc);                           \
    chk(__LINE__, insn " (ft3 kept)", (fres){r_.f3, r_.fl}, JUNK, 0); \
    chkv(__LINE__, r_.t0, JUNK);                                     \
  } while (0)
