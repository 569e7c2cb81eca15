/* Exceptions the hypervisor redirects to the guest, and system reset.
   - illegal instructions (unimp, c.unimp, an M-mode CSR, an HS-mode CSR and hfence.vvma, the
     last two virtual-instruction traps that KVM turns into illegal instructions) reach the
     guest's stvec with scause 2, sepc at the instruction, sstatus.SPP = 1 and SPIE = the old SIE;
   - ebreak (delegated) gives scause 3; ecall from VU-mode (delegated) gives scause 8;
   - finally SRST: config 0 cold reboot with reason 1 (system failure), config 1 warm reboot with
     reason 0; the host expects KVM_EXIT_SYSTEM_EVENT RESET with data[0] = the reason. */
#include "guest.h"

static volatile u64 g_traps;
static volatile u64 g_expect_cause;
static volatile u64 g_last_sepc;
static volatile u64 g_last_sstatus;
static volatile u64 g_resume; /* for the ecall from U-mode */

static int on_trap(struct trap_frame* f) {
  if (f->scause != g_expect_cause) return 0;
  g_last_sepc = f->sepc;
  g_last_sstatus = f->sstatus;
  ++g_traps;
  if (f->scause == CAUSE_ECALL_U) {
    /* Back to S-mode at the continuation. */
    f->sstatus |= SSTATUS_SPP;
    f->sepc = g_resume;
  } else {
    f->sepc += insn_len(f->sepc);
  }
  return 1;
}

/* Runs the faulting instruction at label 1: and checks the trap. */
#define EXPECT_TRAP(cause, asm_insn)                                                     \
  do {                                                                                   \
    u64 __pc, __n = g_traps;                                                             \
    g_expect_cause = (cause);                                                            \
    __asm__ volatile("la %0, 1f\n 1: " asm_insn "\n" : "=&r"(__pc)::"memory");           \
    CHECK_EQ(g_traps, __n + 1);                                                          \
    CHECK_EQ(g_last_sepc, __pc);                                                         \
    CHECK((g_last_sstatus & SSTATUS_SPP) != 0);                                          \
    CHECK((g_last_sstatus & SSTATUS_SPIE) != 0);                                         \
    CHECK_EQ(csr_read(sstatus) & SSTATUS_SIE, SSTATUS_SIE);                              \
  } while (0)

static void __attribute__((noinline, aligned(4))) user_code(void) {
  __asm__ volatile("ecall");
  for (;;) {
  }
}

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;
  g_trap_hook = on_trap;
  /* sstatus.SIE = 1 with nothing enabled in sie: traps must save it in SPIE and clear it. */
  csr_write(sie, 0);
  irq_enable();

  EXPECT_TRAP(CAUSE_ILLEGAL, ".4byte 0xc0001073");      /* unimp (csrrw x0, cycle, x0) */
  EXPECT_TRAP(CAUSE_ILLEGAL, ".2byte 0x0000");          /* c.unimp */
  EXPECT_TRAP(CAUSE_ILLEGAL, "csrr t0, mstatus");       /* an M-mode CSR */
  EXPECT_TRAP(CAUSE_ILLEGAL, "csrr t0, hstatus");       /* virtual instruction -> illegal */
  EXPECT_TRAP(CAUSE_ILLEGAL, ".4byte 0x22000073");     /* hfence.vvma: virtual insn -> illegal */
  EXPECT_TRAP(CAUSE_BREAKPOINT, "ebreak");
  CHECK_EQ(g_traps, 6);

  /* ecall from VU-mode: delegated to the guest (hedeleg), never an SBI call. */
  {
    u64 resume;
    g_expect_cause = CAUSE_ECALL_U;
    __asm__ volatile(
        "la %0, 2f\n"
        "sd %0, 0(%1)\n"
        "csrc sstatus, %2\n"  /* SPP = U */
        "csrw sepc, %3\n"
        "sret\n"
        "2:\n"
        : "=&r"(resume)
        : "r"(&g_resume), "r"(SSTATUS_SPP), "r"((u64)user_code)
        : "memory");
  }
  CHECK_EQ(g_traps, 7);
  CHECK_EQ(g_last_sepc, (u64)user_code);
  CHECK_EQ(g_last_sstatus & SSTATUS_SPP, 0);

  /* A reserved reset type returns an error. */
  struct sbiret r = sbi_system_reset(0x1000, 0);
  CHECK(r.error == SBI_ERR_INVALID_PARAM || r.error == SBI_ERR_NOT_SUPPORTED);

  puts_("srst: resetting\n");
  if (test_config() == 0)
    r = sbi_system_reset(1, 1); /* cold reboot, system failure */
  else
    r = sbi_system_reset(2, 0); /* warm reboot, no reason */
  fail_eq(__FILE__, __LINE__, "SRST reboot returned", (u64)r.error, 0);
}
