# Start-up for benchmark programs run as VS-mode guests under the hypervisor: stack, FP on,
# .bss cleared, main(); then the retired-instruction count goes to MMIO 0x10000100 and the result
# to the SiFive test finisher address, both of which become KVM_EXIT_MMIO.
  .section .text.init
  .globl _start
_start:
  la sp, __stack_top
  li t0, (1 << 13)
  csrs sstatus, t0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  rdinstret s1
  call main
  rdinstret s2
  sub s2, s2, s1
  li t0, 0x10000100
  sd s2, 0(t0)
  li t0, 0x100000
  li t1, 0x5555
  sw t1, 0(t0)
3:
  j 3b
