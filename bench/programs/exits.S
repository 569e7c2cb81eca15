# Exit round trips. a0 selects the loop (set by the benchmark through ONE_REG):
#   0: a0..: N word stores to MMIO 0x10000000 (each is one KVM_EXIT_MMIO)
#   1: touch N consecutive 4 KiB pages starting at a2 (each is one guest-page fault that maps RAM)
# then a final store to 0x10000200 ends the run.
  .section .text.init
  .globl _start
_start:
  li t0, 0x10000000
  beqz a0, mmio_loop
1:
  sd a1, 0(a2)
  li t1, 4096
  add a2, a2, t1
  addi a1, a1, -1
  bnez a1, 1b
  j done
mmio_loop:
  sw a1, 0(t0)
  addi a1, a1, -1
  bnez a1, mmio_loop
done:
  li t0, 0x10000200
  sd zero, 0(t0)
2:
  j 2b
