// Synchronous exceptions raised in M, S and U with nothing delegated: every one lands in M with
// the right mcause, mepc, mtval and mstatus.MPP/MPIE/MIE (priv spec "Machine Trap Handling",
// "Machine Trap Value Register"). Access faults come from physical addresses with nothing behind
// them (0 and 0x4000_0000 on this machine).
#include "priv.h"

#define HOLE0 0x0ull
#define HOLE1 0x40000000ull

static u64 data[4] __attribute__((aligned(64)));

// Runs the exception checks in the current mode `mode`; a trap always goes to M.
static u64 exceptions(u64 mode) {
  u64 v;
  // Illegal instructions: the canonical UNIMP (csrrw x0, cycle, x0) and an unallocated OP funct7.
  CHECK_TRAP(10, TRY_WORD(0xc0001073), CAUSE_ILLEGAL, PRV_M, 0xc0001073);
  CHECK_EQ(11, mpp_of(T.status), mode);
  CHECK_TRAP(12, TRY_WORD(0xfe000033), CAUSE_ILLEGAL, PRV_M, 0xfe000033);

  // EBREAK: mtval = the address of the instruction ("Machine Trap Value Register").
  {
    u64 c = TRY_INSN("ebreak");
    CHECK_EQ(13, c, CAUSE_BREAKPOINT);
    CHECK_EQ(14, T.tval, T.epc);
    CHECK_EQ(15, mpp_of(T.status), mode);
  }
  // C.EBREAK likewise (2-byte instruction, resumed right after it).
  {
    u64 c0 = trap_begin();
    asm volatile(".option push\n.option rvc\nc.ebreak\n.option pop" ::: "memory");
    CHECK_EQ(16, trap_end(c0), CAUSE_BREAKPOINT);
    CHECK_EQ(17, T.tval, T.epc);
    CHECK_EQ(18, *(volatile unsigned short*)T.epc, 0x9002);
  }

  // ECALL: the cause encodes the mode it came from; mtval is 0.
  {
    u64 c = TRY_INSN("ecall");
    CHECK_EQ(20, c, mode == PRV_M ? CAUSE_ECALL_M : mode == PRV_S ? CAUSE_ECALL_S : CAUSE_ECALL_U);
    CHECK_EQ(21, T.tval, 0);
    CHECK_EQ(22, T.level, PRV_M);
  }

  // Loads, stores and AMOs to addresses where nothing responds: access faults, mtval = address.
  CHECK_TRAP(30, try_ld(HOLE0, &v), CAUSE_LOAD_ACCESS, PRV_M, HOLE0);
  CHECK_EQ(31, v, 0x0badc0de);  // rd not written
  CHECK_TRAP(32, try_lw(HOLE1 + 0x40, &v), CAUSE_LOAD_ACCESS, PRV_M, HOLE1 + 0x40);
  CHECK_TRAP(33, try_lbu(HOLE1 + 3, &v), CAUSE_LOAD_ACCESS, PRV_M, HOLE1 + 3);
  CHECK_TRAP(34, try_sd(HOLE1 + 8, 1), CAUSE_STORE_ACCESS, PRV_M, HOLE1 + 8);
  CHECK_TRAP(35, try_sb(HOLE0 + 0x11, 1), CAUSE_STORE_ACCESS, PRV_M, HOLE0 + 0x11);
  // AMOs fault as stores, LR as a load ("Exception codes": AMOs never raise load faults).
  CHECK_TRAP(36, try_amoadd_d(HOLE1 + 0x100, 1), CAUSE_STORE_ACCESS, PRV_M, HOLE1 + 0x100);
  CHECK_TRAP(37, try_lr_d(HOLE1 + 0x200, &v), CAUSE_LOAD_ACCESS, PRV_M, HOLE1 + 0x200);
  // Fetch from nowhere: mepc and mtval are the target, and the call's ra is untouched.
  {
    u64 c = try_exec(HOLE1 + 0x1000, &v);
    CHECK_EQ(38, c, CAUSE_FETCH_ACCESS);
    CHECK_EQ(39, T.epc, HOLE1 + 0x1000);
    CHECK_EQ(40, T.tval, HOLE1 + 0x1000);
    CHECK_EQ(41, mpp_of(T.status), mode);
  }
  CHECK_TRAP(42, try_exec(HOLE0, &v), CAUSE_FETCH_ACCESS, PRV_M, HOLE0);

  // Misaligned LR/AMO must trap (address-misaligned or access fault; never silently succeed).
  {
    u64 a = (u64)&data[0];
    u64 c = try_lr_d(a + 4, &v);
    CHECK(43, c == CAUSE_LOAD_MISALIGNED || c == CAUSE_LOAD_ACCESS);
    CHECK_EQ(44, T.tval, a + 4);
    c = try_amoadd_w(a + 2, 1);
    CHECK(45, c == CAUSE_STORE_MISALIGNED || c == CAUSE_STORE_ACCESS);
    CHECK_EQ(46, T.tval, a + 2);
  }
  return 0;
}

int main(void) {
  priv_init();
  exceptions(PRV_M);
  // MIE/MPIE on trap entry from M: MPIE <- MIE, MIE <- 0, and MRET swaps back.
  csr_set(mstatus, MSTATUS_MIE);
  CHECK_EQ(50, TRY_INSN("ecall"), CAUSE_ECALL_M);
  CHECK_EQ(51, T.status & (MSTATUS_MIE | MSTATUS_MPIE), MSTATUS_MPIE);
  CHECK_EQ(52, mpp_of(T.status), PRV_M);
  CHECK_EQ(53, csr_read(mstatus) & MSTATUS_MIE, MSTATUS_MIE);
  csr_clear(mstatus, MSTATUS_MIE);
  CHECK_EQ(54, TRY_INSN("ecall"), CAUSE_ECALL_M);
  CHECK_EQ(55, T.status & (MSTATUS_MIE | MSTATUS_MPIE), 0);

  csr_write(scause, 0x77);
  csr_write(stval, 0x78);
  csr_write(sepc, 0x80);
  run_as(PRV_S, exceptions, PRV_S);
  run_as(PRV_U, exceptions, PRV_U);
  // Exceptions that were not delegated never touch the S trap CSRs.
  CHECK_EQ(60, csr_read(scause), 0x77);
  CHECK_EQ(61, csr_read(stval), 0x78);
  CHECK_EQ(62, csr_read(sepc), 0x80);
  return 0;
}
