/* The VS-level external interrupt driven by the VMM through KVM_INTERRUPT: sync(1) raises it
   while sie.SEIE is clear (pending only: sip.SEIP = 1, no trap); enabling SEIE takes it
   (scause 0x8000000000000009); the handler lowers it through sync(100) and sees sip.SEIP = 0.
   sync(2) makes another host thread raise it 20 ms later while the guest sleeps in WFI. */
#include "guest.h"

#define SIP_SEIP (1ull << 9)
#define IRQ_S_EXT 9

static volatile u64 g_ext;

static int on_trap(struct trap_frame* f) {
  if (f->scause != (SCAUSE_INTR | IRQ_S_EXT)) return 0;
  CHECK(csr_read(sip) & SIP_SEIP);
  ++g_ext;
  sync_host(100); /* lower the line */
  CHECK_EQ(csr_read(sip) & SIP_SEIP, 0);
  return 1;
}

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;
  g_trap_hook = on_trap;
  irq_enable();
  CHECK_EQ(csr_read(sip) & SIP_SEIP, 0);
  sync_host(1);
  CHECK(csr_read(sip) & SIP_SEIP); /* pending, not enabled */
  delay_ticks(MS(2));
  CHECK_EQ(g_ext, 0);
  csr_set(sie, SIE_SEIE);
  CHECK_EQ(g_ext, 1);

  sync_host(2);
  const u64 t0 = rdtime();
  while (g_ext < 2) {
    wfi();
    if (rdtime() - t0 > MS(2000)) fail_check(__FILE__, __LINE__, "no external interrupt within 2 s");
  }
  CHECK_EQ(g_ext, 2);
  puts_("irq: ok\n");
  return 0;
}
