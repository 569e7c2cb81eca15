// MMIO emulation and trap redirection as a VMM sees them (Linux arch/riscv/kvm/vcpu_insn.c
// kvm_riscv_vcpu_mmio_load/store/return, vcpu_exit.c gstage_page_fault and trap redirect).
#include <gtest/gtest.h>

#include "hyp/hyp_test_util.h"

namespace rvkvm::hyp {
namespace {

using namespace test;

constexpr u64 kHandler = kRamBase + 0x10'0000;  // the guest's trap handler (trap_reporter)

class MmioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_hv = create_emulated_hypervisor();
    ASSERT_TRUE(m_hv);
    m_vm = std::make_unique<TestVm>(*m_hv);
    ASSERT_TRUE(m_vm->ok());
    m_vm->load(trap_reporter(kHandler));
    set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_stvec), kHandler);
  }
  Vcpu& vcpu() { return m_vm->vcpu(); }
  // A fresh code address for every program (no guest code is rewritten in place).
  Asm code() {
    Asm a(kRamBase + m_next_code);
    m_next_code += 0x400;
    return a;
  }

  std::unique_ptr<Hypervisor> m_hv;
  std::unique_ptr<TestVm> m_vm;
  u64 m_next_code = 0;
};

struct LoadCase {
  const char* name;
  u32 (*enc)(unsigned, unsigned, i64);
  u32 len;
  bool sign;
};
const LoadCase kLoads[] = {
    {"lb", rv::lb, 1, true},   {"lh", rv::lh, 2, true},   {"lw", rv::lw, 4, true}, {"ld", rv::ld, 8, false},
    {"lbu", rv::lbu, 1, false}, {"lhu", rv::lhu, 2, false}, {"lwu", rv::lwu, 4, false},
};

u64 extend(u64 raw, u32 len, bool sign) {
  if (len == 8) return raw;
  u64 mask = (1ull << (8 * len)) - 1;
  raw &= mask;
  if (sign && (raw >> (8 * len - 1)) & 1) raw |= ~mask;
  return raw;
}

TEST_F(MmioTest, LoadsExitWithAddressAndLengthAndExtendTheData) {
  const u64 patterns[] = {0x8887'8685'8483'8281ull, 0x1122'3344'5566'7788ull, 0xffff'ffff'ffff'ffffull,
                          0x0000'0000'7fff'ff7full};
  for (const LoadCase& c : kLoads) {
    for (u64 pat : patterns) {
      SCOPED_TRACE(::testing::Message() << c.name << std::hex << " data " << pat);
      Asm a = code();
      a.li(a1, kMmioBase + 0x100);
      const u64 load_pc = a.pc();
      a.emit(c.enc(a0, a1, 8 * 3)).halt();  // offset 24: aligned for every size
      m_vm->start(a);
      set_xreg(vcpu(), a0, 0x5a5a'5a5a'5a5a'5a5aull);
      Exit& e = run_vcpu(vcpu());
      ASSERT_TRUE(IsMmio(e, kMmioBase + 0x118, c.len, false));
      EXPECT_EQ(pc_of(vcpu()), load_pc);
      set_mmio_data(std::get<MmioExit>(e), pat);
      ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
      EXPECT_EQ(xreg(vcpu(), a0), extend(pat, c.len, c.sign));
      EXPECT_EQ(pc_of(vcpu()), a.halt_pc()) << "pc advanced by 4";
    }
  }
}

TEST_F(MmioTest, StoresExitWithTheLowBytesOfRs2) {
  struct StoreCase {
    const char* name;
    u32 (*enc)(unsigned, unsigned, i64);
    u32 len;
  };
  const StoreCase stores[] = {{"sb", rv::sb, 1}, {"sh", rv::sh, 2}, {"sw", rv::sw, 4}, {"sd", rv::sd, 8}};
  const u64 value = 0x1122'3344'5566'7788ull;
  for (const StoreCase& c : stores) {
    SCOPED_TRACE(c.name);
    Asm a = code();
    a.li(a1, kMmioBase + 0x2000);
    const u64 store_pc = a.pc();
    a.emit(c.enc(a2, a1, -16)).emit(rv::addi(a3, zero, 7)).halt();
    m_vm->start(a);
    set_xreg(vcpu(), a2, value);
    Exit& e = run_vcpu(vcpu());
    ASSERT_TRUE(IsMmio(e, kMmioBase + 0x2000 - 16, c.len, true));
    EXPECT_EQ(mmio_data(std::get<MmioExit>(e)), extend(value, c.len, false));
    EXPECT_EQ(pc_of(vcpu()), store_pc);
    ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
    EXPECT_EQ(xreg(vcpu(), a3), 7u) << "the instruction after the store ran";
    EXPECT_EQ(xreg(vcpu(), a2), value) << "rs2 unchanged";
    EXPECT_EQ(pc_of(vcpu()), a.halt_pc());
  }
}

TEST_F(MmioTest, EveryAccessSizeAtEveryAlignedOffset) {
  // Addresses with high bits set, at the end of the GPA space a slot could never cover here.
  const u64 base = 0x4000'0000'0000ull;
  for (u32 len : {1u, 2u, 4u, 8u}) {
    for (u64 off = 0; off < 16; off += len) {
      Asm a = code();
      a.li(a1, base + off);
      u32 st = len == 1 ? rv::sb(a2, a1, 0) : len == 2 ? rv::sh(a2, a1, 0) : len == 4 ? rv::sw(a2, a1, 0) : rv::sd(a2, a1, 0);
      u32 ld = len == 1 ? rv::lbu(a0, a1, 0) : len == 2 ? rv::lhu(a0, a1, 0) : len == 4 ? rv::lwu(a0, a1, 0) : rv::ld(a0, a1, 0);
      a.emit(st).emit(ld).halt();
      m_vm->start(a);
      set_xreg(vcpu(), a2, 0xa1a2'a3a4'a5a6'a7a8ull);
      Exit& e = run_vcpu(vcpu());
      ASSERT_TRUE(IsMmio(e, base + off, len, true)) << "len " << len << " off " << off;
      Exit& l = run_vcpu(vcpu());
      ASSERT_TRUE(IsMmio(l, base + off, len, false)) << "len " << len << " off " << off;
      set_mmio_data(std::get<MmioExit>(l), 0x0102'0304'0506'0708ull);
      ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
      EXPECT_EQ(xreg(vcpu(), a0), extend(0x0102'0304'0506'0708ull, len, false));
    }
  }
}

TEST_F(MmioTest, CompressedFormsAdvancePcByTwo) {
  Asm a = code();
  const u64 start = a.pc();
  a.emit16(rv::c_lw(a0, s0, 4));      // +0
  a.emit16(rv::c_ld(a1, s0, 8));      // +2
  a.emit16(rv::c_sw(a0, s0, 16));     // +4
  a.emit16(rv::c_sd(a1, s0, 24));     // +6
  a.emit16(rv::c_lwsp(a2, 32));       // +8
  a.emit16(rv::c_ldsp(a3, 40));       // +10
  a.emit16(rv::c_swsp(a2, 48));       // +12
  a.emit16(rv::c_sdsp(a3, 56));       // +14
  a.emit(rv::lw(a4, s0, 64));         // +16: a 4-byte form after the 2-byte ones
  a.emit16(rv::c_sw(a4, s0, 68));     // +20
  a.halt();
  m_vm->start(a);
  set_xreg(vcpu(), s0, kMmioBase);
  set_xreg(vcpu(), sp, kMmioBase + 0x800);

  struct Step {
    u64 pc_off, addr;
    u32 len;
    bool write;
    u64 data;  // load: what the VMM returns; store: what must arrive
  };
  const Step steps[] = {
      {0, kMmioBase + 4, 4, false, 0x0000'0000'8000'0001ull},
      {2, kMmioBase + 8, 8, false, 0xdead'beef'0bad'f00dull},
      {4, kMmioBase + 16, 4, true, 0x8000'0001ull},             // c.lw sign-extended, c.sw stores 4 bytes
      {6, kMmioBase + 24, 8, true, 0xdead'beef'0bad'f00dull},
      {8, kMmioBase + 0x800 + 32, 4, false, 0x1234'5678ull},
      {10, kMmioBase + 0x800 + 40, 8, false, 0xfedc'ba98'7654'3210ull},
      {12, kMmioBase + 0x800 + 48, 4, true, 0x1234'5678ull},
      {14, kMmioBase + 0x800 + 56, 8, true, 0xfedc'ba98'7654'3210ull},
      {16, kMmioBase + 64, 4, false, 0x7777'6666ull},
      {20, kMmioBase + 68, 4, true, 0x7777'6666ull},
  };
  for (const Step& s : steps) {
    SCOPED_TRACE(::testing::Message() << "at +" << s.pc_off);
    Exit& e = run_vcpu(vcpu());
    ASSERT_TRUE(IsMmio(e, s.addr, s.len, s.write));
    EXPECT_EQ(pc_of(vcpu()), start + s.pc_off);
    auto& m = std::get<MmioExit>(e);
    if (s.write) {
      EXPECT_EQ(mmio_data(m), s.data);
    } else {
      set_mmio_data(m, s.data);
    }
  }
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(pc_of(vcpu()), a.halt_pc());
  EXPECT_EQ(xreg(vcpu(), a0), 0xffff'ffff'8000'0001ull) << "c.lw sign-extends";
  EXPECT_EQ(xreg(vcpu(), a3), 0xfedc'ba98'7654'3210ull);
}

TEST_F(MmioTest, LoadIntoX0LeavesItZero) {
  Asm a = code();
  a.li(a1, kMmioBase);
  a.emit(rv::ld(zero, a1, 0)).emit(rv::lw(zero, a1, 8)).emit(rv::sd(zero, a1, 16)).emit(rv::add(a0, zero, zero)).halt();
  m_vm->start(a);
  set_xreg(vcpu(), a0, 99);
  Exit& e = run_vcpu(vcpu());
  ASSERT_TRUE(IsMmio(e, kMmioBase, 8, false));
  set_mmio_data(std::get<MmioExit>(e), ~0ull);
  Exit& e2 = run_vcpu(vcpu());
  ASSERT_TRUE(IsMmio(e2, kMmioBase + 8, 4, false));
  set_mmio_data(std::get<MmioExit>(e2), 0x1234);
  Exit& s = run_vcpu(vcpu());
  ASSERT_TRUE(IsMmio(s, kMmioBase + 16, 8, true));
  EXPECT_EQ(mmio_data(std::get<MmioExit>(s)), 0u) << "x0 changed";
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a0), 0u);
}

TEST_F(MmioTest, WritingDataOfAStoreExitDoesNotChangeTheGuest) {
  Asm a = code();
  a.li(a1, kMmioBase);
  a.emit(rv::sd(a2, a1, 0)).halt();
  m_vm->start(a);
  set_xreg(vcpu(), a2, 0x42);
  Exit& e = run_vcpu(vcpu());
  ASSERT_TRUE(IsMmio(e, kMmioBase, 8, true));
  set_mmio_data(std::get<MmioExit>(e), 0x99);
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a2), 0x42u);
}

TEST_F(MmioTest, ImmediateExitCompletesTheAccessWithoutRunning) {
  // KVM completes a pending MMIO load at the start of KVM_RUN, before immediate_exit is checked.
  Asm a = code();
  a.li(a1, kMmioBase);
  const u64 load_pc = a.pc();
  a.emit(rv::lw(a0, a1, 0)).halt();
  m_vm->start(a);
  Exit& e = run_vcpu(vcpu());
  ASSERT_TRUE(IsMmio(e, kMmioBase, 4, false));
  set_mmio_data(std::get<MmioExit>(e), 0xffff'fffe);
  vcpu().set_immediate_exit(true);
  Exit& i = vcpu().run();
  EXPECT_EQ(exit_reason(i), ExitReason::KVM_EXIT_INTR);
  vcpu().set_immediate_exit(false);
  EXPECT_EQ(xreg(vcpu(), a0), ~1ull);
  EXPECT_EQ(pc_of(vcpu()), load_pc + 4);
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
}

// ---------------------------------------------------------------------------------------------
// Accesses the hypervisor does not emulate become exceptions in the guest.

TEST_F(MmioTest, MisalignedMmioLoadIsAMisalignedExceptionInTheGuest) {
  Asm a = code();
  a.li(a1, kMmioBase);
  const u64 pc = a.pc();
  a.emit(rv::lw(a0, a1, 2)).halt();
  m_vm->start(a);
  TrapReport r = run_to_trap_report(vcpu());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.scause, 4u);
  EXPECT_EQ(r.stval, kMmioBase + 2);
  EXPECT_EQ(r.sepc, pc);
}

TEST_F(MmioTest, MisalignedMmioStoreIsAMisalignedExceptionInTheGuest) {
  Asm a = code();
  a.li(a1, kMmioBase);
  const u64 pc = a.pc();
  a.emit(rv::sd(a2, a1, 4)).halt();
  m_vm->start(a);
  TrapReport r = run_to_trap_report(vcpu());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.scause, 6u);
  EXPECT_EQ(r.stval, kMmioBase + 4);
  EXPECT_EQ(r.sepc, pc);
}

struct AccessFaultCase {
  const char* name;
  u32 insn;
  u64 scause;
};

TEST_F(MmioTest, AmoAccessesToMmioAreAccessFaults) {
  for (const AccessFaultCase& c : std::vector<AccessFaultCase>{
           {"amoadd.w", rv::amoadd_w(a0, a2, a1), 7},
           {"amoswap.d", rv::amoswap_d(a0, a2, a1), 7},
           {"lr.w", rv::lr_w(a0, a1), 5},
       }) {
    SCOPED_TRACE(c.name);
    Asm a = code();
    a.li(a1, kMmioBase + 0x40);
    const u64 pc = a.pc();
    a.emit(c.insn).halt();
    m_vm->start(a);
    TrapReport r = run_to_trap_report(vcpu());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.scause, c.scause);
    EXPECT_EQ(r.stval, kMmioBase + 0x40);
    EXPECT_EQ(r.sepc, pc);
  }
}

TEST_F(MmioTest, FpAccessesToMmioAreAccessFaults) {
  // FP needs sstatus.FS on in the guest.
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sstatus), (1ull << 8) | (1ull << 13));
  for (const AccessFaultCase& c : std::vector<AccessFaultCase>{
           {"flw", rv::flw(1, a1, 0), 5},
           {"fld", rv::fld(1, a1, 0), 5},
           {"fsw", rv::fsw(1, a1, 0), 7},
           {"fsd", rv::fsd(1, a1, 0), 7},
       }) {
    SCOPED_TRACE(c.name);
    Asm a = code();
    a.li(a1, kMmioBase + 0x40);
    const u64 pc = a.pc();
    a.emit(c.insn).halt();
    m_vm->start(a);
    TrapReport r = run_to_trap_report(vcpu());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.scause, c.scause) << "scause 2 means the guest's FP instructions are off (HS sstatus.FS)";
    EXPECT_EQ(r.stval, kMmioBase + 0x40);
    EXPECT_EQ(r.sepc, pc);
  }
}

TEST_F(MmioTest, FetchOutsideRamIsAnInstructionAccessFault) {
  const u64 target = 0x2000'0000;
  Asm a = code();
  a.li(t0, target).emit(rv::jalr(zero, t0, 0));
  m_vm->start(a);
  TrapReport r = run_to_trap_report(vcpu());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.scause, 1u);
  EXPECT_EQ(r.stval, target);
  EXPECT_EQ(r.sepc, target);
  // Also when the VMM points pc there directly.
  complete_exit(vcpu());
  set_xreg(vcpu(), KVM_REG_RISCV_CORE_pc, kMmioBase + 0x3000);
  r = run_to_trap_report(vcpu());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.scause, 1u);
  EXPECT_EQ(r.sepc, kMmioBase + 0x3000);
}

TEST_F(MmioTest, IllegalInstructionIsRedirectedWithTheInstructionBits) {
  struct Case {
    const char* name;
    u32 insn;
  };
  const Case cases[] = {
      {"custom-0", 0x0005'050bu},
      {"csrr a0, mstatus", rv::csrr(a0, rv::kMstatus)},
      {"hfence.vvma (virtual instruction, KVM makes it illegal)", rv::hfence_vvma()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Asm a = code();
    a.emit(rv::addi(a0, zero, 1));
    const u64 pc = a.pc();
    a.emit(c.insn).halt();
    m_vm->start(a);
    TrapReport r = run_to_trap_report(vcpu());
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.scause, 2u);
    EXPECT_EQ(r.stval, c.insn) << std::hex << r.stval;
    EXPECT_EQ(r.sepc, pc);
  }
}

TEST_F(MmioTest, RedirectedTrapSetsTheGuestsStatus) {
  // sstatus.SIE = 1 before the trap: the handler sees SPIE = 1, SIE = 0, SPP = S.
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sstatus), (1ull << 1) | (1ull << 8));
  Asm a = code();
  a.emit(0x0005'050bu).halt();
  m_vm->start(a);
  TrapReport r = run_to_trap_report(vcpu());
  ASSERT_TRUE(r.ok);
  u64 st = get_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sstatus));
  EXPECT_EQ(st & (1u << 1), 0u) << "SIE cleared";
  EXPECT_EQ(st & (1u << 5), 1u << 5) << "SPIE = old SIE";
  EXPECT_EQ(st & (1u << 8), 1u << 8) << "SPP = S";
  EXPECT_EQ(get_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_scause)), 2u);
  EXPECT_EQ(get_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sepc)), a.base());
}

}  // namespace
}  // namespace rvkvm::hyp
