# Start-up for the VS-mode test guests.
#   _start            boot hart, as the VMM enters it: a0 = hartid, a1 = DTB address
#   _secondary_start  SBI HSM hart_start entry: a0 = hartid, a1 = opaque
# Each hart gets its own stack (by hartid), tp = hartid and sstatus.FS = Initial. Traps go to trap_entry, which saves a
# struct trap_frame (guest.h) and calls the C trap_handler (lib.c); the handler may change the
# saved registers, sepc and sstatus, which are restored before sret.
#define STACK_SIZE 0x4000
#define MAX_HARTS 8

  .section .text.init, "ax"
  .globl _start
_start:
  mv s0, a0
  mv s1, a1
  call setup_hart
  # Zero .bss (boot hart only, before any other hart runs).
  la t0, __bss_start
  la t1, __bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  mv a0, s0
  mv a1, s1
  call main
  call guest_exit            # a0 = main's result: 0 passes
3:
  wfi
  j 3b

  .globl _secondary_start
  .align 2
_secondary_start:
  mv s0, a0
  mv s1, a1
  call setup_hart
  mv a0, s0
  mv a1, s1
  call secondary_main
  call sbi_hart_stop_self    # does not return
4:
  wfi
  j 4b

# a0 = hartid. Sets sp, tp, stvec, and enables the FPU. Clobbers t0, t1.
setup_hart:
  li t0, MAX_HARTS
  bgeu a0, t0, 5f
  mv tp, a0
  la sp, __stacks_start
  addi t0, a0, 1
  li t1, STACK_SIZE
  mul t0, t0, t1
  add sp, sp, t0
  la t0, trap_entry
  csrw stvec, t0
  li t0, (1 << 13)           # sstatus.FS = Initial (no FP use here: fp.c tests the FPU)
  csrs sstatus, t0
  ret
5:                           # a hartid without a stack: hang (the test times out)
  wfi
  j 5b

# struct trap_frame: x[32] (x[0] unused), sepc, scause, stval, sstatus.
#define FRAME_SIZE (36 * 8)
  .align 2
  .globl trap_entry
trap_entry:
  addi sp, sp, -FRAME_SIZE
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\n, (\n * 8)(sp)
  .endr
  addi t0, sp, FRAME_SIZE
  sd t0, (2 * 8)(sp)         # the interrupted sp
  csrr t0, sepc
  sd t0, (32 * 8)(sp)
  csrr t0, scause
  sd t0, (33 * 8)(sp)
  csrr t0, stval
  sd t0, (34 * 8)(sp)
  csrr t0, sstatus
  sd t0, (35 * 8)(sp)
  mv a0, sp
  call trap_handler
  ld t0, (32 * 8)(sp)
  csrw sepc, t0
  ld t0, (35 * 8)(sp)
  csrw sstatus, t0
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\n, (\n * 8)(sp)
  .endr
  addi sp, sp, FRAME_SIZE
  sret
