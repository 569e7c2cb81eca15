# Start-up for bare-metal tests: M-mode, stack, zeroed .bss, FP enabled, then main(); its return
# value goes to HTIF tohost (0 = pass). Traps land in trap_entry, which calls the C handler
# `trap_handler(cause, epc, tval)` if the test defines one, else fails with the cause.
  .section .text.init
  .globl _start
_start:
  la sp, __stack_top
  la t0, trap_entry
  csrw mtvec, t0
  li t0, (1 << 13)          # mstatus.FS = Initial
  csrs mstatus, t0
  csrwi fcsr, 0
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  call main
  j htif_exit

  .globl htif_exit
htif_exit:                    # a0 = code; 0 passes
  slli a0, a0, 1
  ori a0, a0, 1
  la t0, tohost
  sd a0, 0(t0)
3:
  j 3b

  .align 2
  .weak trap_handler
trap_entry:
  # Save all caller-saved registers on the stack so C handlers can return and mret.
  addi sp, sp, -256
  sd ra, 0(sp); sd t0, 8(sp); sd t1, 16(sp); sd t2, 24(sp); sd a0, 32(sp); sd a1, 40(sp)
  sd a2, 48(sp); sd a3, 56(sp); sd a4, 64(sp); sd a5, 72(sp); sd a6, 80(sp); sd a7, 88(sp)
  sd t3, 96(sp); sd t4, 104(sp); sd t5, 112(sp); sd t6, 120(sp)
  la t0, trap_handler
  beqz t0, 4f
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  jalr t0                     # returns the pc to resume at
  csrw mepc, a0
  ld ra, 0(sp); ld t0, 8(sp); ld t1, 16(sp); ld t2, 24(sp); ld a0, 32(sp); ld a1, 40(sp)
  ld a2, 48(sp); ld a3, 56(sp); ld a4, 64(sp); ld a5, 72(sp); ld a6, 80(sp); ld a7, 88(sp)
  ld t3, 96(sp); ld t4, 104(sp); ld t5, 112(sp); ld t6, 120(sp)
  addi sp, sp, 256
  mret
4:
  csrr a0, mcause
  addi a0, a0, 1000            # unexpected trap: fail with 1000 + cause
  j htif_exit

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0
