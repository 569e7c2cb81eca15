/* The supervisor timer, by config:
     0: Sstc (stimecmp, CSR 0x14d)
     1: SBI TIME set_timer, Sstc disabled by the VMM (stimecmp must then be illegal)
     2: SBI TIME set_timer with Sstc enabled (KVM programs vstimecmp)
     3: legacy SBI set_timer (EID 0), Sstc disabled
   Checks: sip.STIP follows the comparator with sie.STIE clear; timer interrupts
   (scause 0x8000000000000005) arrive not before the deadline and within 500 ms; a deadline in
   the past fires at once; a disarmed timer stays quiet; WFI wakes on a pending enabled timer
   with sstatus.SIE clear; a 200 ms wait bracketed by sync(1)/sync(2) so the host can measure
   the VCPU thread's CPU time while it sleeps in WFI; at sync(3) the host reads ONE_REG TIMER
   time (>= g_guest_time, read just before) and compare (== g_armed) and state (ON); SBI HSM
   retentive hart_suspend wakes on the pending timer. */
#include "guest.h"

#define LATENCY_BOUND MS(500)

static u64 g_mode;
static volatile u64 g_fired;
static volatile u64 g_fired_at;
static volatile u64 g_deadline;
static volatile u64 g_illegal;
volatile u64 g_guest_time, g_armed; /* read by the host at sync(3) */

static void arm(u64 when) {
  switch (g_mode) {
    case 0: csr_write(0x14d, when); break;
    case 1:
    case 2: CHECK_EQ(sbi_set_timer(when).error, SBI_SUCCESS); break;
    case 3: CHECK_EQ(sbi_legacy(SBI_EXT_0_1_SET_TIMER, when), 0); break;
  }
}

static int on_trap(struct trap_frame* f) {
  if (f->scause == (SCAUSE_INTR | IRQ_S_TIMER)) {
    u64 now = rdtime();
    arm(~0ull); /* clears the pending timer */
    g_fired_at = now;
    __atomic_fetch_add(&g_fired, 1, __ATOMIC_SEQ_CST);
    return 1;
  }
  if (f->scause == CAUSE_ILLEGAL && g_illegal == 0) {
    g_illegal = f->sepc;
    f->sepc += insn_len(f->sepc);
    return 1;
  }
  return 0;
}

/* Arms `delta` ticks ahead, waits in WFI for the interrupt and checks its timing. */
static u64 wait_timer(u64 delta) {
  u64 before = g_fired;
  u64 deadline = rdtime() + delta;
  g_deadline = deadline;
  arm(deadline);
  while (g_fired == before) {
    wfi();
    if (rdtime() > deadline + LATENCY_BOUND) fail_check(__FILE__, __LINE__, "timer interrupt did not arrive");
  }
  CHECK_EQ(g_fired, before + 1);
  if (g_fired_at < deadline) fail_eq(__FILE__, __LINE__, "timer fired early (fired_at, deadline)", g_fired_at, deadline);
  if (g_fired_at - deadline > LATENCY_BOUND)
    fail_eq(__FILE__, __LINE__, "timer fired late (fired_at, deadline)", g_fired_at, deadline);
  return g_fired_at - deadline;
}

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;
  g_mode = test_config();
  CHECK(g_mode <= 3);
  g_trap_hook = on_trap;

  if (g_mode == 1 || g_mode == 3) {
    /* Without Sstc (henvcfg.STCE = 0) the guest's stimecmp access is a virtual instruction
       trap, which KVM turns into an illegal instruction for the guest. */
    u64 v;
    __asm__ volatile(
        ".option push\n .option norvc\n"
        "1: csrr %0, 0x14d\n"
        ".option pop\n"
        "la %1, 1b\n"
        : "=r"(v), "=r"(g_deadline));
    CHECK(g_illegal != 0);
    CHECK_EQ(g_illegal, g_deadline);
    g_illegal = 1;
  }

  /* With sie.STIE clear the interrupt is only pending: sip.STIP follows time >= stimecmp. */
  arm(~0ull);
  CHECK_EQ(csr_read(sip) & SIP_STIP, 0);
  arm(rdtime());
  WAIT_UNTIL(csr_read(sip) & SIP_STIP, 100);
  arm(~0ull);
  WAIT_UNTIL((csr_read(sip) & SIP_STIP) == 0, 100);
  CHECK_EQ(g_fired, 0);

  /* Interrupt-driven. */
  csr_set(sie, SIE_STIE);
  irq_enable();
  for (int i = 0; i < 5; ++i) (void)wait_timer(MS(2));
  /* A deadline already passed fires at once. */
  u64 before = g_fired;
  arm(rdtime() - 1000);
  WAIT_UNTIL(g_fired == before + 1, 100);
  /* Disarmed: nothing for 5 ms. */
  arm(~0ull);
  delay_ticks(MS(5));
  CHECK_EQ(g_fired, before + 1);
  /* Re-arming replaces the previous deadline (far future, then near). */
  arm(rdtime() + MS(100000));
  (void)wait_timer(MS(3));

  /* WFI wakes on a pending, locally enabled interrupt even with sstatus.SIE clear; the
     interrupt is taken once SIE is set again. */
  irq_disable();
  before = g_fired;
  u64 deadline = rdtime() + MS(2);
  arm(deadline);
  while (!(csr_read(sip) & SIP_STIP)) {
    wfi();
    if (rdtime() > deadline + LATENCY_BOUND) fail_check(__FILE__, __LINE__, "WFI did not wake with SIE=0");
  }
  CHECK(rdtime() >= deadline);
  CHECK_EQ(g_fired, before);
  irq_enable();
  WAIT_UNTIL(g_fired == before + 1, 100);

  /* The host's view of the timer through ONE_REG. */
  g_armed = rdtime() + MS(100000);
  arm(g_armed);
  g_guest_time = rdtime();
  sync_host(3);
  arm(~0ull);

  /* A long wait, for the host's CPU-time measurement: the VCPU thread must sleep in WFI. */
  sync_host(1);
  u64 t0 = rdtime();
  (void)wait_timer(MS(200));
  u64 t1 = rdtime();
  sync_host(2);
  CHECK(t1 - t0 >= MS(200));

  /* SBI HSM retentive suspend returns (0) once an enabled interrupt is pending, like WFI;
     here sstatus.SIE = 0 so the timer stays pending instead of being taken. */
  irq_disable();
  deadline = rdtime() + MS(2);
  arm(deadline);
  while (!(csr_read(sip) & SIP_STIP)) {
    struct sbiret r = SBI3(SBI_EXT_HSM, 3, 0, 0, 0);
    CHECK_EQ(r.error, SBI_SUCCESS);
    if (rdtime() > deadline + LATENCY_BOUND) fail_check(__FILE__, __LINE__, "hart_suspend did not wake");
  }
  CHECK(rdtime() >= deadline);
  arm(~0ull);
  CHECK_EQ(SBI3(SBI_EXT_HSM, 3, 1, 0, 0).error, SBI_ERR_INVALID_PARAM); /* reserved suspend type */

  puts_("timer: ok\n");
  return 0;
}
