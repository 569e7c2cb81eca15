/* SBI from a VS-mode guest: BASE, TIME, DBCN and the legacy console (forwarded to the VMM),
   unknown/experimental/vendor extensions, an extension the VMM disabled (RFENCE), IPI to self,
   HSM and SRST argument checks; ends with SRST shutdown.
   The VMM disables RFENCE through ONE_REG, answers vendor extension 0x09000001 function 7 with
   {0, a0 + a1}, and with config bit 0 also expects the KVM forwarding of vendor probes. */
#include "guest.h"

#define VENDOR_EXT 0x09000001ull
#define EXPERIMENTAL_EXT 0x08000000ull
#define UNKNOWN_EXT 0x12345678ull

static const char g_dbcn_msg[] = "hello from dbcn\n";
static const char g_legacy_msg[] = "legacy\n";

int main(u64 hart, u64 dtb) {
  CHECK_EQ(hart, 0);
  CHECK_EQ(dtb, GUEST_DTB_ADDR);
  CHECK_EQ(*(volatile u32*)dtb, 0xedfe0dd0); /* FDT magic, big-endian */
  const u64 config = test_config();

  /* BASE */
  struct sbiret r = SBI0(SBI_EXT_BASE, 0); /* get_spec_version */
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ((u64)r.value >> 31, 0);             /* bit 31 must be zero */
  CHECK(((u64)r.value >> 24) >= 1);            /* at least SBI v1.0 (DBCN needs v2.0 semantics) */
  r = SBI0(SBI_EXT_BASE, 1); /* get_impl_id */
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, 3); /* KVM */
  r = SBI0(SBI_EXT_BASE, 2); /* get_impl_version */
  CHECK_EQ(r.error, SBI_SUCCESS);
  for (u64 fid = 4; fid <= 6; ++fid) { /* mvendorid, marchid, mimpid */
    r = SBI0(SBI_EXT_BASE, fid);
    CHECK_EQ(r.error, SBI_SUCCESS);
  }
  r = SBI0(SBI_EXT_BASE, 0x55);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);

  /* probe_extension */
  static const u64 present[] = {SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI, SBI_EXT_HSM, SBI_EXT_SRST,
                                SBI_EXT_DBCN, SBI_EXT_0_1_CONSOLE_PUTCHAR};
  for (unsigned i = 0; i < sizeof(present) / sizeof(present[0]); ++i) {
    r = sbi_probe(present[i]);
    CHECK_EQ(r.error, SBI_SUCCESS);
    if (r.value == 0) fail_eq(__FILE__, __LINE__, "probe of an available extension", present[i], 1);
  }
  r = sbi_probe(SBI_EXT_RFENCE); /* disabled by the VMM through ONE_REG */
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, 0);
  r = sbi_probe(UNKNOWN_EXT);
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, 0);
  if (config & 1) {
    /* KVM forwards probes of experimental and vendor extensions to the VMM, which answers 1. */
    r = sbi_probe(VENDOR_EXT);
    CHECK_EQ(r.error, SBI_SUCCESS);
    CHECK_EQ(r.value, 1);
  }

  /* A disabled extension is not supported. */
  r = SBI2(SBI_EXT_RFENCE, 0, 1, 0);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);

  /* TIME */
  r = sbi_set_timer(rdtime() + 1000000000ull);
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = sbi_set_timer(~0ull);
  CHECK_EQ(r.error, SBI_SUCCESS);
  r = SBI0(SBI_EXT_TIME, 1);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);
  u64 t0 = rdtime(), t1 = rdtime();
  CHECK(t1 >= t0);

  /* DBCN: forwarded to the VMM, which reads the buffer from guest memory. */
  u64 n = sizeof(g_dbcn_msg) - 1;
  r = SBI3(SBI_EXT_DBCN, 0, n, (u64)g_dbcn_msg, 0);
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, n);
  r = SBI1(SBI_EXT_DBCN, 2, '!'); /* write_byte */
  CHECK_EQ(r.error, SBI_SUCCESS);

  /* Legacy console_putchar: forwarded, a0 = the VMM's ret[0]. */
  for (const char* p = g_legacy_msg; *p; ++p) CHECK_EQ(sbi_legacy(SBI_EXT_0_1_CONSOLE_PUTCHAR, (u64)*p), 0);

  /* Unknown and experimental extensions: -2 (KVM answers itself or forwards with ret preset to -2;
     this VMM leaves the preset). a1 must come back 0, not the argument. */
  r = sbi_call(UNKNOWN_EXT, 5, 1, 2, 3, 4, 5, 6);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);
  CHECK_EQ(r.value, 0);
  r = sbi_call(EXPERIMENTAL_EXT, 0, 11, 22, 0, 0, 0, 0);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);
  CHECK_EQ(r.value, 0);
  /* A vendor extension the VMM implements. */
  r = sbi_call(VENDOR_EXT, 7, 0x11, 0x22, 0, 0, 0, 0);
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, 0x33);

  /* IPI to self with sie.SSIE clear: sip.SSIP becomes pending; the guest clears it. */
  CHECK_EQ(csr_read(sip) & SIP_SSIP, 0);
  r = sbi_send_ipi(1, 0);
  CHECK_EQ(r.error, SBI_SUCCESS);
  WAIT_UNTIL(csr_read(sip) & SIP_SSIP, 1000);
  csr_clear(sip, SIP_SSIP);
  CHECK_EQ(csr_read(sip) & SIP_SSIP, 0);
  /* ... and the legacy clear_ipi clears it too. */
  CHECK_EQ(sbi_legacy(SBI_EXT_0_1_SEND_IPI, 0), 0); /* NULL mask: all harts */
  WAIT_UNTIL(csr_read(sip) & SIP_SSIP, 1000);
  CHECK_EQ(sbi_legacy(SBI_EXT_0_1_CLEAR_IPI, 0), 0);
  CHECK_EQ(csr_read(sip) & SIP_SSIP, 0);
  r = sbi_send_ipi(1, 1); /* hart 1 does not exist */
  CHECK_EQ(r.error, SBI_ERR_INVALID_PARAM);

  /* HSM on a single-hart VM. */
  r = sbi_hart_status(0);
  CHECK_EQ(r.error, SBI_SUCCESS);
  CHECK_EQ(r.value, SBI_HSM_STARTED);
  r = sbi_hart_status(1);
  CHECK_EQ(r.error, SBI_ERR_INVALID_PARAM);
  r = sbi_hart_start(0, GUEST_RAM_BASE, 0);
  CHECK_EQ(r.error, SBI_ERR_ALREADY_AVAILABLE);
  r = SBI0(SBI_EXT_HSM, 0x77);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);

  /* SRST with a reserved reset type returns an error instead of resetting (SBI: INVALID_PARAM;
     Linux KVM answers NOT_SUPPORTED). */
  r = sbi_system_reset(3, 0);
  CHECK(r.error == SBI_ERR_INVALID_PARAM || r.error == SBI_ERR_NOT_SUPPORTED);
  r = SBI0(SBI_EXT_SRST, 1);
  CHECK_EQ(r.error, SBI_ERR_NOT_SUPPORTED);

  puts_("sbi: ok\n");
  return 0; /* crt: SRST shutdown, reason none */
}
