/* A guest that never finishes, for the VMM's own timeout: config 0 spins, config 1 sleeps in
   WFI with no interrupt enabled, config 2 stops its only hart (HSM hart_stop). */
#include "guest.h"

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;
  switch (test_config()) {
    case 0:
      for (;;) __asm__ volatile("" ::: "memory");
    case 1:
      csr_write(sie, 0);
      for (;;) wfi();
    case 2:
      sbi_hart_stop_self();
  }
  return 1;
}
