/* SMP with SBI HSM, IPI and RFENCE on 4 VCPUs (the VMM creates them; 1..3 start STOPPED).
   Boot hart: status of each hart, hart_start with opaque, error cases; each secondary checks its
   entry state (a0 = hartid, a1 = opaque, SIE = 0, satp = 0) and counts itself in with an AMO;
   IPIs by mask, by mask + base, broadcast (base = -1), legacy send_ipi; the receivers take the
   supervisor software interrupt (scause 0x8000000000000001) in WFI and clear sip.SSIP; remote
   fences; secondaries hart_stop and the boot hart sees STOPPED; hart 2 is started again.
   config 1: an IPI sent to a STOPPED hart must not be pending when hart_start starts it (KVM
   resets the VCPU, including its pending interrupts, on hart_start). */
#include "guest.h"

#define NHARTS 4
#define OPAQUE(h) (0x5ec00000ull + (h))
#define OPAQUE_RESTART(h) (0x5ec00100ull + (h))
#define OPAQUE_PARK(h) (0x5ec00200ull + (h))
#define OPAQUE_FRESH(h) (0x5ec00300ull + (h))

extern char _secondary_start[];

static volatile u64 g_started;            /* AMO counter */
static volatile u64 g_entry_ok[NHARTS];   /* 1: entry state as HSM specifies */
static volatile u64 g_entry_bad[NHARTS];  /* nonzero: what was wrong (bit mask) */
static volatile u64 g_ready[NHARTS];
static volatile u64 g_ipis[NHARTS];       /* software interrupts taken, per hart */
static volatile u64 g_go_stop;
static volatile u64 g_stopping[NHARTS];
static volatile u64 g_restarted;
static volatile u64 g_bad_trap;
static volatile u64 g_parked;
static volatile u64 g_fresh_done;
static volatile u64 g_fresh_sip;

static int on_trap(struct trap_frame* f) {
  u64 h = hartid();
  if (f->scause != (SCAUSE_INTR | IRQ_S_SOFT) || h >= NHARTS) {
    g_bad_trap = f->scause | 0x100;
    return 0;
  }
  csr_clear(sip, SIP_SSIP);
  __atomic_fetch_add(&g_ipis[h], 1, __ATOMIC_SEQ_CST);
  return 1;
}

void secondary_main(u64 hart, u64 opaque) {
  u64 idx = opaque & 0xff;
  if (idx >= NHARTS) fail_check(__FILE__, __LINE__, "bad opaque");
  if (opaque == OPAQUE_RESTART(idx)) {
    /* Second start of hart 2: just report and stop again. */
    if (hart != idx || (csr_read(sstatus) & SSTATUS_SIE)) g_entry_bad[idx] |= 0x100;
    __atomic_fetch_add(&g_restarted, 1, __ATOMIC_SEQ_CST);
    sbi_hart_stop_self();
  }
  if (opaque == OPAQUE_PARK(idx)) {
    __atomic_fetch_add(&g_parked, 1, __ATOMIC_SEQ_CST);
    sbi_hart_stop_self();
  }
  if (opaque == OPAQUE_FRESH(idx)) {
    g_fresh_sip = csr_read(sip);
    __atomic_fetch_add(&g_fresh_done, 1, __ATOMIC_SEQ_CST);
    sbi_hart_stop_self();
  }
  u64 bad = 0;
  if (opaque != OPAQUE(idx)) bad |= 1;
  if (hart != idx) bad |= 2;
  if (csr_read(sstatus) & SSTATUS_SIE) bad |= 4;
  if (csr_read(satp) != 0) bad |= 8;
  g_entry_bad[idx] = bad;
  g_entry_ok[idx] = bad == 0;
  __atomic_fetch_add(&g_started, 1, __ATOMIC_SEQ_CST);

  csr_set(sie, SIE_SSIE);
  irq_enable();
  __atomic_store_n(&g_ready[hart], 1, __ATOMIC_SEQ_CST);
  while (!g_go_stop) wfi();
  irq_disable();
  g_stopping[hart] = 1;
  /* crt: hart_stop */
}

static void wait_ipis(u64 h0, u64 h1, u64 h2, u64 h3) {
  WAIT_UNTIL(g_ipis[0] >= h0 && g_ipis[1] >= h1 && g_ipis[2] >= h2 && g_ipis[3] >= h3, 2000);
  delay_ticks(MS(5)); /* nothing else may arrive */
  CHECK_EQ(g_ipis[0], h0);
  CHECK_EQ(g_ipis[1], h1);
  CHECK_EQ(g_ipis[2], h2);
  CHECK_EQ(g_ipis[3], h3);
  CHECK_EQ(g_bad_trap, 0);
}

static int stale_ipi(void) {
  struct sbiret r = sbi_hart_start(1, (u64)_secondary_start, OPAQUE_PARK(1));
  CHECK_EQ(r.error, SBI_SUCCESS);
  WAIT_UNTIL(g_parked == 1, 2000);
  WAIT_UNTIL(sbi_hart_status(1).value == SBI_HSM_STOPPED, 2000);
  r = sbi_send_ipi(0x2, 0); /* to the STOPPED hart 1 */
  CHECK_EQ(r.error, SBI_SUCCESS);
  delay_ticks(MS(5));
  r = sbi_hart_start(1, (u64)_secondary_start, OPAQUE_FRESH(1));
  CHECK_EQ(r.error, SBI_SUCCESS);
  WAIT_UNTIL(g_fresh_done == 1, 2000);
  CHECK_EQ(g_fresh_sip & SIP_SSIP, 0);
  WAIT_UNTIL(sbi_hart_status(1).value == SBI_HSM_STOPPED, 2000);
  puts_("smp stale ipi: ok\n");
  return 0;
}

int main(u64 hart, u64 dtb) {
  (void)dtb;
  CHECK_EQ(hart, 0);
  g_trap_hook = on_trap;
  if (test_config() == 1) return stale_ipi();

  /* HSM: initial states and argument checks. */
  struct sbiret r = sbi_hart_status(0);
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, SBI_HSM_STARTED);
  for (u64 h = 1; h < NHARTS; ++h) {
    r = sbi_hart_status(h);
    CHECK_EQ(r.error, SBI_SUCCESS);
    CHECK_EQ(r.value, SBI_HSM_STOPPED);
  }
  r = sbi_hart_status(NHARTS);
  CHECK_EQ(r.error, SBI_ERR_INVALID_PARAM);
  r = sbi_hart_start(NHARTS, (u64)_secondary_start, 0);
  CHECK_EQ(r.error, SBI_ERR_INVALID_PARAM);
  r = sbi_hart_start(0, (u64)_secondary_start, 0);
  CHECK_EQ(r.error, SBI_ERR_ALREADY_AVAILABLE);

  for (u64 h = 1; h < NHARTS; ++h) {
    r = sbi_hart_start(h, (u64)_secondary_start, OPAQUE(h));
    CHECK_EQ(r.error, SBI_SUCCESS);
  }
  WAIT_UNTIL(g_started == NHARTS - 1, 2000);
  for (u64 h = 1; h < NHARTS; ++h) {
    CHECK_EQ(g_entry_bad[h], 0);
    CHECK_EQ(g_entry_ok[h], 1);
    r = sbi_hart_status(h);
    CHECK_EQ(r.error, SBI_SUCCESS);
    CHECK_EQ(r.value, SBI_HSM_STARTED);
    r = sbi_hart_start(h, (u64)_secondary_start, OPAQUE(h));
    CHECK_EQ(r.error, SBI_ERR_ALREADY_AVAILABLE);
  }

  /* IPIs. */
  csr_set(sie, SIE_SSIE);
  irq_enable();
  WAIT_UNTIL(g_ready[1] && g_ready[2] && g_ready[3], 2000);
  delay_ticks(MS(2)); /* let them reach WFI */
  r = sbi_send_ipi(0xe, 0); /* harts 1..3 */
  CHECK_EQ(r.error, SBI_SUCCESS);
  wait_ipis(0, 1, 1, 1);
  r = sbi_send_ipi(0x1, 2); /* hart 2 only, through hart_mask_base */
  CHECK_EQ(r.error, SBI_SUCCESS);
  wait_ipis(0, 1, 2, 1);
  r = sbi_send_ipi(0x3, 0); /* self and hart 1 */
  CHECK_EQ(r.error, SBI_SUCCESS);
  wait_ipis(1, 2, 2, 1);
  r = sbi_send_ipi(0, ~0ull); /* broadcast: the mask is ignored */
  CHECK_EQ(r.error, SBI_SUCCESS);
  wait_ipis(2, 3, 3, 2);
  r = sbi_send_ipi(0, 0); /* nobody */
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = sbi_send_ipi(1, NHARTS); /* hart 4 does not exist */
  CHECK_EQ(r.error, SBI_ERR_INVALID_PARAM);
  wait_ipis(2, 3, 3, 2);
  static u64 legacy_mask = 0x8; /* hart 3, through a pointer (SBI v0.1) */
  CHECK_EQ(sbi_legacy(SBI_EXT_0_1_SEND_IPI, (u64)&legacy_mask), 0);
  wait_ipis(2, 3, 3, 3);

  /* Remote fences. */
  r = SBI2(SBI_EXT_RFENCE, 0, 0xe, 0); /* remote_fence_i */
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = sbi_call(SBI_EXT_RFENCE, 1, 0xf, 0, 0, 4 * 4096, 0, 0); /* remote_sfence_vma */
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = sbi_call(SBI_EXT_RFENCE, 1, 0, ~0ull, 0, ~0ull, 0, 0); /* all harts, whole space */
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = sbi_call(SBI_EXT_RFENCE, 2, 0x2, 0, 0x1000, 0x1000, 0, 0); /* remote_sfence_vma_asid */
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = SBI2(SBI_EXT_RFENCE, 0, 1, 9);
  CHECK_EQ(r.error, SBI_ERR_INVALID_PARAM);
  /* Fences wake WFI but deliver no interrupt. */
  wait_ipis(2, 3, 3, 3);

  /* Stop the secondaries. */
  g_go_stop = 1;
  r = sbi_send_ipi(0xe, 0);
  CHECK_EQ(r.error, SBI_SUCCESS);
  for (u64 h = 1; h < NHARTS; ++h) {
    WAIT_UNTIL(sbi_hart_status(h).value == SBI_HSM_STOPPED, 2000);
    CHECK_EQ(g_stopping[h], 1);
  }

  /* Start hart 2 again with a different opaque. */
  r = sbi_hart_start(2, (u64)_secondary_start, OPAQUE_RESTART(2));
  CHECK_EQ(r.error, SBI_SUCCESS);
  WAIT_UNTIL(g_restarted == 1, 2000);
  WAIT_UNTIL(sbi_hart_status(2).value == SBI_HSM_STOPPED, 2000);
  CHECK_EQ(g_entry_bad[2], 0);
  CHECK_EQ(g_bad_trap, 0);

  puts_("smp: ok\n");
  return 0;
}
