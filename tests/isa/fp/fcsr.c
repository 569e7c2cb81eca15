// fcsr, frm and fflags (F chapter, "Floating-Point Control and Status Register"):
//  - fcsr = frm (bits 7:5) | fflags (bits 4:0); bits 31:8 (and above, in RV64) are not
//    implemented here, so writes are ignored and they read as zero.
//  - frm and fflags are views of the same bits: FRRM/FSRM use the low three bits, FRFLAGS/FSFLAGS
//    the low five, with zero in all other bits of rd.
//  - fflags accrue: an operation only ORs its exceptions in, it never clears earlier ones, and
//    it never touches frm.
#include "fp.h"

#define ONE 0x3f800000u

static u64 swap(u64 v) {
  u64 old;
  asm volatile("csrrw %0, fcsr, %1" : "=r"(old) : "r"(v) : "memory");
  return old;
}

static void test_layout(void) {
  csr_write(fcsr, 0xff);
  chkv(__LINE__, csr_read(fcsr), 0xff);
  chkv(__LINE__, csr_read(frm), 7);
  chkv(__LINE__, csr_read(fflags), 0x1f);
  csr_write(fcsr, ~0ull);
  chkv(__LINE__, csr_read(fcsr), 0xff);
  csr_write(fcsr, 0xffffffffffffff00ull);
  chkv(__LINE__, csr_read(fcsr), 0);
  csr_write(fcsr, 0xa5);  // frm = 5 (reserved, but storable), fflags = OF|NX
  chkv(__LINE__, csr_read(frm), 5);
  chkv(__LINE__, csr_read(fflags), 0x05);

  // fflags writes keep frm; frm writes keep fflags.
  csr_write(fcsr, 0x40);  // frm = RDN
  csr_write(fflags, 0xff);
  chkv(__LINE__, csr_read(fflags), 0x1f);
  chkv(__LINE__, csr_read(fcsr), 0x5f);
  csr_write(frm, 0xff);
  chkv(__LINE__, csr_read(frm), 7);
  chkv(__LINE__, csr_read(fcsr), 0xff);
  csr_write(frm, 0x0a);  // only the low three bits: 2
  chkv(__LINE__, csr_read(frm), 2);
  chkv(__LINE__, csr_read(fcsr), 0x5f);
  csr_clear(fflags, 0x15);
  chkv(__LINE__, csr_read(fcsr), 0x4a);
  csr_set(frm, 0x5);
  chkv(__LINE__, csr_read(fcsr), 0xea);

  // Swaps return the previous value.
  chkv(__LINE__, swap(0x21), 0xea);
  chkv(__LINE__, swap(0), 0x21);
  u64 old;
  asm volatile("csrrwi %0, frm, 3" : "=r"(old)::"memory");
  chkv(__LINE__, old, 0);
  asm volatile("csrrwi %0, fflags, 0x11" : "=r"(old)::"memory");
  chkv(__LINE__, old, 0);
  asm volatile("csrrsi %0, fflags, 0x2" : "=r"(old)::"memory");
  chkv(__LINE__, old, 0x11);
  chkv(__LINE__, csr_read(fcsr), 0x73);
  csr_write(fcsr, 0);
}

// The frm value set through fcsr is the one DYN uses.
static void test_fcsr_sets_dyn(void) {
  csr_write(fcsr, 4 << 5);  // RMM
  u64 r, fl;
  asm volatile("fmv.w.x ft0, %2\n\tfmv.w.x ft1, %3\n\tfadd.s ft2, ft0, ft1, dyn\n\t"
               "fmv.x.w %0, ft2\n\tcsrr %1, fcsr"
               : "=r"(r), "=r"(fl)
               : "r"((u64)ONE), "r"(0x33800000ull)
               : "ft0", "ft1", "ft2");
  chkv(__LINE__, r, 0x3f800001);   // 1 + 2^-24 rounds away under RMM
  chkv(__LINE__, fl, (4 << 5) | NX);
  csr_write(fcsr, 0);
}

// Flags accrue across operations.
static void test_accrual(void) {
  u64 fl;
  csr_write(fcsr, 3 << 5);  // frm = RUP, flags clear
  asm volatile(
      "fmv.w.x ft0, %1\n\t"
      "fmv.w.x ft1, %2\n\t"
      "fadd.s ft2, ft0, ft1, rne\n\t"  // 1 + 2^-24: NX
      "fmv.w.x ft3, zero\n\t"
      "fdiv.s ft2, ft0, ft3, rne\n\t"  // 1/0: DZ
      "fadd.s ft2, ft0, ft0, rne\n\t"  // exact: must not clear anything
      "frflags %0"
      : "=r"(fl)
      : "r"((u64)ONE), "r"(0x33800000ull)
      : "ft0", "ft1", "ft2", "ft3");
  chkv(__LINE__, fl, NX | DZ);
  asm volatile(
      "li t0, 0xbf800000\n\tfmv.w.x ft0, t0\n\t"
      "fsqrt.s ft1, ft0, rne\n\t"  // sqrt(-1): NV
      "frflags %0"
      : "=r"(fl)::"t0", "ft0", "ft1");
  chkv(__LINE__, fl, NV | NX | DZ);
  asm volatile(
      "li t0, 0x7f7fffff\n\tfmv.w.x ft0, t0\n\t"
      "fadd.s ft1, ft0, ft0, rne\n\t"  // overflow: OF|NX
      "frflags %0"
      : "=r"(fl)::"t0", "ft0", "ft1");
  chkv(__LINE__, fl, NV | OF | NX | DZ);
  asm volatile(
      "li t0, 1\n\tfmv.w.x ft0, t0\n\tli t0, 0x3f000000\n\tfmv.w.x ft1, t0\n\t"
      "fmul.s ft2, ft0, ft1, rne\n\t"  // 2^-150: UF|NX
      "frflags %0"
      : "=r"(fl)::"t0", "ft0", "ft1", "ft2");
  chkv(__LINE__, fl, 0x1f);
  // A compare and a conversion ORing into an already set field.
  csr_write(fflags, DZ);
  asm volatile(
      "li t0, 0x7fc00000\n\tfmv.w.x ft0, t0\n\tflt.s t0, ft0, ft0\n\t"  // NV
      "fcvt.w.s t0, ft0, rtz\n\t"                                        // NV again
      "frflags %0"
      : "=r"(fl)::"t0", "ft0");
  chkv(__LINE__, fl, DZ | NV);
  // Flags are raised even when the integer result is discarded into x0.
  csr_write(fflags, 0);
  asm volatile(
      "li t0, 0x7f800001\n\tfmv.w.x ft0, t0\n\tfeq.s zero, ft0, ft0\n\t"
      "frflags %0"
      : "=r"(fl)::"t0", "ft0");
  chkv(__LINE__, fl, NV);
  csr_write(fflags, 0);
  asm volatile(
      "li t0, 0x3fc00000\n\tfmv.w.x ft0, t0\n\tfcvt.w.s zero, ft0, rtz\n\t"
      "frflags %0"
      : "=r"(fl)::"t0", "ft0");
  chkv(__LINE__, fl, NX);
  // frm was never touched by any of it.
  chkv(__LINE__, csr_read(frm), 3);
  csr_write(fcsr, 0);
}

int main(void) {
  test_layout();
  test_fcsr_sets_dyn();
  test_accrual();
  return fp_result();
}
