// An M-mode trap recorder for tests that provoke synchronous exceptions on purpose.
// Usage: TRAP_EXPECT(); <faulting code>; then check trap_count/trap_cause/trap_epc/trap_tval.
// By default the handler resumes after the faulting instruction (its length read from memory);
// a test may set trap_resume to continue somewhere else instead.
#pragma once
#include "rv64.h"

static volatile u64 trap_cause, trap_epc, trap_tval, trap_count, trap_resume;
static volatile int trap_armed;

#define TRAP_EXPECT()  \
  do {                 \
    trap_count = 0;    \
    trap_cause = ~0ull; \
    trap_epc = 0;      \
    trap_tval = ~0ull; \
    trap_resume = 0;   \
    trap_armed = 1;    \
  } while (0)

u64 trap_handler(u64 cause, u64 epc, u64 tval) {
  if (!trap_armed) {
    puts_("unexpected trap, mcause ");
    put_hex(cause);
    puts_(" mepc ");
    put_hex(epc);
    puts_(" mtval ");
    put_hex(tval);
    htif_putc('\n');
    htif_exit(1000 + (cause & 0xff));
  }
  trap_armed = 0;  // a second trap before TRAP_EXPECT is a failure
  trap_cause = cause;
  trap_epc = epc;
  trap_tval = tval;
  trap_count = trap_count + 1;
  if (trap_resume) return trap_resume;
  u16 first = *(volatile u16*)epc;
  return epc + ((first & 3) == 3 ? 4 : 2);
}
