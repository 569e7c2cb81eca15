/* The FPU in a VS-mode guest: once the guest sets sstatus.FS (as crt does), F and D
   instructions and fcsr must work (Linux KVM keeps the host-level sstatus.FS of a VCPU with F/D
   at Initial or above: kvm_riscv_vcpu_fp_reset). Also: FS becomes Dirty after an FP write. */
#include "guest.h"

#define SSTATUS_FS (3ull << 13)

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;
  CHECK((csr_read(sstatus) & SSTATUS_FS) != 0);
  u64 fcsr;
  __asm__ volatile("csrwi fcsr, 0\n csrr %0, fcsr" : "=r"(fcsr)::"memory");
  CHECK_EQ(fcsr, 0);
  u64 bits;
  __asm__ volatile(
      "li t0, 3\n"
      "fcvt.d.l ft0, t0\n"
      "li t0, 4\n"
      "fcvt.d.l ft1, t0\n"
      "fmul.d ft2, ft0, ft1\n"  /* 12.0 */
      "fadd.d ft2, ft2, ft0\n"  /* 15.0 */
      "fmv.x.d %0, ft2\n"
      : "=r"(bits)::"t0", "ft0", "ft1", "ft2");
  CHECK_EQ(bits, 0x402e000000000000ull); /* 15.0 */
  CHECK_EQ(csr_read(sstatus) & SSTATUS_FS, SSTATUS_FS); /* Dirty */
  u32 fbits;
  __asm__ volatile(
      "li t0, 1\n"
      "fcvt.s.w fa0, t0\n"
      "li t0, 3\n"
      "fcvt.s.w fa1, t0\n"
      "fdiv.s fa2, fa0, fa1\n" /* inexact */
      "fmv.x.w %0, fa2\n"
      : "=r"(fbits)::"t0", "fa0", "fa1", "fa2");
  CHECK_EQ(fbits, 0x3eaaaaab);
  __asm__ volatile("csrr %0, fflags" : "=r"(fcsr));
  CHECK_EQ(fcsr & 1, 1); /* NX */
  puts_("fp: ok\n");
  return 0;
}
