// KVM_GET_ONE_REG / KVM_SET_ONE_REG / KVM_GET_REG_LIST through the public API, against Linux's
// RISC-V ids and error codes (arch/riscv/include/uapi/asm/kvm.h, arch/riscv/kvm/vcpu_onereg.c).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "hyp/hyp_test_util.h"

namespace rvkvm::hyp {
namespace {

using namespace test;

class OneRegTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_hv = create_emulated_hypervisor();
    ASSERT_TRUE(m_hv);
    m_vm = std::make_unique<TestVm>(*m_hv);
    ASSERT_TRUE(m_vm->ok());
  }
  Vcpu& vcpu() { return m_vm->vcpu(); }
  // Runs a trivial guest once, so that the VCPU has "run at least once".
  void run_once() {
    Asm a(kRamBase);
    a.halt();
    m_vm->start(a);
    ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  }

  std::unique_ptr<Hypervisor> m_hv;
  std::unique_ptr<TestVm> m_vm;
};

// ---------------------------------------------------------------------------------------------
// KVM_GET_REG_LIST

TEST_F(OneRegTest, RegListUsesLinuxEncodingAndEveryIdIsReadable) {
  std::vector<u64> ids;
  ASSERT_EQ(vcpu().get_reg_list(ids), kOk);
  ASSERT_FALSE(ids.empty());
  std::set<u64> seen;
  for (u64 id : ids) {
    SCOPED_TRACE(::testing::Message() << std::hex << "id " << id);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate";
    EXPECT_EQ(id & 0xff00'0000'0000'0000ull, KVM_REG_RISCV);
    u64 size = id & KVM_REG_SIZE_MASK;
    EXPECT_TRUE(size == KVM_REG_SIZE_U32 || size == KVM_REG_SIZE_U64);
    u64 type = (id & KVM_REG_RISCV_TYPE_MASK) >> KVM_REG_RISCV_TYPE_SHIFT;
    EXPECT_GE(type, 1u);
    EXPECT_LE(type, 10u);  // CONFIG .. SBI_STATE in Linux's uapi
    // Bits between the size and the type are zero.
    EXPECT_EQ(id & 0x000f'ffff'0000'0000ull, 0u);
    u8 buf[16];
    std::memset(buf, 0xa5, sizeof buf);
    EXPECT_EQ(vcpu().get_one_reg(id, buf), kOk);
    // Only one_reg_size(id) bytes are written.
    for (unsigned i = one_reg_size(id); i < sizeof buf; ++i) EXPECT_EQ(buf[i], 0xa5) << "byte " << i;
  }
  // The exact encodings, spelled out as Linux's headers compute them.
  const u64 expected[] = {
      0x8030'0000'0100'0000ull,  // CONFIG isa
      0x8030'0000'0100'0006ull,  // CONFIG satp_mode
      0x8030'0000'0200'0000ull,  // CORE regs.pc
      0x8030'0000'0200'0001ull,  // CORE regs.ra
      0x8030'0000'0200'001full,  // CORE regs.t6
      0x8030'0000'0200'0020ull,  // CORE mode
      0x8030'0000'0300'0000ull,  // CSR sstatus
      0x8030'0000'0300'000aull,  // CSR senvcfg
      0x8030'0000'0400'0000ull,  // TIMER frequency
      0x8030'0000'0400'0003ull,  // TIMER state
      0x8020'0000'0500'0000ull,  // FP_F f[0]
      0x8020'0000'0500'001full,  // FP_F f[31]
      0x8020'0000'0500'0020ull,  // FP_F fcsr
      0x8030'0000'0600'0000ull,  // FP_D f[0]
      0x8030'0000'0600'001full,  // FP_D f[31]
      0x8020'0000'0600'0020ull,  // FP_D fcsr (32-bit)
      0x8030'0000'0700'0000ull,  // ISA_EXT A
      0x8030'0000'0700'0005ull,  // ISA_EXT I
      0x8030'0000'0800'0000ull,  // SBI_EXT V01
      0x8030'0000'0800'0005ull,  // SBI_EXT HSM
  };
  for (u64 id : expected) EXPECT_TRUE(seen.count(id)) << std::hex << "missing " << id;
  // Every CORE, general CSR and TIMER register is listed.
  for (u64 i = 0; i <= KVM_REG_RISCV_CORE_mode; ++i) EXPECT_TRUE(seen.count(core_id(i))) << "core " << i;
  for (u64 i = 0; i < KVM_REG_RISCV_CSR_count; ++i) EXPECT_TRUE(seen.count(csr_id(i))) << "csr " << i;
  for (u64 i = 0; i <= KVM_REG_RISCV_TIMER_state; ++i) EXPECT_TRUE(seen.count(timer_id(i))) << "timer " << i;
  for (u64 i = 0; i <= KVM_REG_RISCV_FP_fcsr; ++i) {
    EXPECT_TRUE(seen.count(fp_f_id(i))) << "fp_f " << i;
    EXPECT_TRUE(seen.count(fp_d_id(i))) << "fp_d " << i;
  }
  // Every listed ISA_EXT/SBI_EXT index is below the uapi MAX.
  for (u64 id : ids) {
    u64 type = id & KVM_REG_RISCV_TYPE_MASK;
    if (type == KVM_REG_RISCV_ISA_EXT) {
      EXPECT_LT(id & 0xffff, KVM_RISCV_ISA_EXT_MAX);
    }
    if (type == KVM_REG_RISCV_SBI_EXT) {
      EXPECT_LT(id & 0xffff, KVM_RISCV_SBI_EXT_MAX);
    }
  }
}

TEST_F(OneRegTest, HelperIdsMatchLinuxHeaders) {
  // The helpers used by all tests compute the same numbers as the uapi macros.
  EXPECT_EQ(core_id(KVM_REG_RISCV_CORE_pc), 0x8030'0000'0200'0000ull);
  EXPECT_EQ(csr_id(KVM_REG_RISCV_CSR_stvec), 0x8030'0000'0300'0002ull);
  EXPECT_EQ(timer_id(KVM_REG_RISCV_TIMER_compare), 0x8030'0000'0400'0002ull);
  EXPECT_EQ(fp_f_id(3), 0x8020'0000'0500'0003ull);
  EXPECT_EQ(fp_d_id(3), 0x8030'0000'0600'0003ull);
  EXPECT_EQ(fp_d_id(KVM_REG_RISCV_FP_fcsr), 0x8020'0000'0600'0020ull);
  EXPECT_EQ(sbi_ext_id(KVM_RISCV_SBI_EXT_DBCN), 0x8030'0000'0800'0009ull);
  EXPECT_EQ(isa_ext_id(KVM_RISCV_ISA_EXT_SSTC), 0x8030'0000'0700'0008ull);
  EXPECT_EQ(one_reg_size(KVM_REG_SIZE_U32), 4u);
  EXPECT_EQ(one_reg_size(KVM_REG_SIZE_U64), 8u);
}

// ---------------------------------------------------------------------------------------------
// CORE

TEST_F(OneRegTest, CoreRoundTrip) {
  for (u64 i = 0; i <= 31; ++i) set_reg(vcpu(), core_id(i), 0x1000'0000'0000'0000ull * (i % 7) + 0x100 * i + 4);
  for (u64 i = 0; i <= 31; ++i) EXPECT_EQ(get_reg(vcpu(), core_id(i)), 0x1000'0000'0000'0000ull * (i % 7) + 0x100 * i + 4) << i;
  // The guest starts in S-mode.
  EXPECT_EQ(get_reg(vcpu(), core_id(KVM_REG_RISCV_CORE_mode)), KVM_RISCV_MODE_S);
  set_reg(vcpu(), core_id(KVM_REG_RISCV_CORE_mode), KVM_RISCV_MODE_U);
  EXPECT_EQ(get_reg(vcpu(), core_id(KVM_REG_RISCV_CORE_mode)), KVM_RISCV_MODE_U);
  set_reg(vcpu(), core_id(KVM_REG_RISCV_CORE_mode), KVM_RISCV_MODE_S);
  EXPECT_EQ(get_reg(vcpu(), core_id(KVM_REG_RISCV_CORE_mode)), KVM_RISCV_MODE_S);
}

TEST_F(OneRegTest, CoreRegistersAreTheGuestsRegisters) {
  // The guest stores a2 and bumps a3; ONE_REG sees the guest's view both ways.
  Asm a(kRamBase);
  a.li(a1, kMmioBase);
  const u64 store_pc = a.pc();
  a.emit(rv::sd(a2, a1, 0)).emit(rv::addi(a3, a3, 1)).halt();
  m_vm->start(a);
  set_xreg(vcpu(), a2, 0xfeed'face'cafe'beefull);
  set_xreg(vcpu(), a3, 41);
  Exit& e = run_vcpu(vcpu());
  ASSERT_TRUE(IsMmio(e, kMmioBase, 8, true));
  EXPECT_EQ(mmio_data(std::get<MmioExit>(e)), 0xfeed'face'cafe'beefull);
  // At an MMIO exit pc is the faulting instruction (KVM advances it on the next KVM_RUN).
  EXPECT_EQ(pc_of(vcpu()), store_pc);
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a3), 42u);
  EXPECT_EQ(pc_of(vcpu()), a.halt_pc());
}

// ---------------------------------------------------------------------------------------------
// CSR (general)

TEST_F(OneRegTest, CsrGeneralRoundTrip) {
  struct Case {
    u64 idx;
    u64 value;
  };
  const Case cases[] = {
      {KVM_REG_RISCV_CSR_sstatus, (1ull << 1) | (1ull << 5) | (1ull << 8) | (1ull << 13) | (1ull << 18)},  // SIE SPIE SPP FS=1 SUM
      {KVM_REG_RISCV_CSR_sie, 0x222},
      {KVM_REG_RISCV_CSR_stvec, kRamBase + 0x400},
      {KVM_REG_RISCV_CSR_sscratch, 0x0123'4567'89ab'cdefull},
      {KVM_REG_RISCV_CSR_sepc, kRamBase + 0x1234},
      {KVM_REG_RISCV_CSR_scause, 13},
      {KVM_REG_RISCV_CSR_stval, 0xdead'beef'0000'1000ull},
      {KVM_REG_RISCV_CSR_sip, 0x2},  // SSIP is the only software-writable pending bit
      {KVM_REG_RISCV_CSR_satp, (8ull << 60) | 0x81234},  // Sv39, ASID 0
      {KVM_REG_RISCV_CSR_scounteren, 0x7},
      {KVM_REG_RISCV_CSR_senvcfg, 0x1},  // FIOM
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "csr index " << c.idx);
    set_reg(vcpu(), csr_id(c.idx), c.value);
    u64 got = get_reg(vcpu(), csr_id(c.idx));
    if (c.idx == KVM_REG_RISCV_CSR_sstatus) {
      // sstatus also shows read-only fields (UXL, SD): compare the written bits.
      EXPECT_EQ(got & 0x4'2122ull, c.value) << std::hex << got;
    } else {
      EXPECT_EQ(got, c.value) << std::hex << got;
    }
  }
  // And back to zero (Bare satp, no pending interrupts).
  for (const Case& c : cases) {
    if (c.idx == KVM_REG_RISCV_CSR_sstatus) continue;
    set_reg(vcpu(), csr_id(c.idx), 0);
    EXPECT_EQ(get_reg(vcpu(), csr_id(c.idx)), 0u) << "csr index " << c.idx;
  }
}

TEST_F(OneRegTest, CsrSscratchIsTheGuestsSscratch) {
  Asm a(kRamBase);
  a.emit(rv::csrr(a0, rv::kSscratch)).li(t0, 0x5555).emit(rv::csrw(rv::kSscratch, t0)).halt();
  m_vm->start(a);
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sscratch), 0xabcdef);
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a0), 0xabcdefu);
  EXPECT_EQ(get_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sscratch)), 0x5555u);
}

// ---------------------------------------------------------------------------------------------
// TIMER

TEST_F(OneRegTest, TimerRegisters) {
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_frequency)), 10'000'000u);
  // The frequency is read-only: writing another value fails, the same value is accepted.
  u64 f = 1'000'000;
  EXPECT_EQ(vcpu().set_one_reg(timer_id(KVM_REG_RISCV_TIMER_frequency), &f), kEINVAL);
  f = 10'000'000;
  EXPECT_EQ(vcpu().set_one_reg(timer_id(KVM_REG_RISCV_TIMER_frequency), &f), kOk);

  // Time moves forward at about 10 MHz.
  u64 t1 = get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_time));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  u64 t2 = get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_time));
  EXPECT_GT(t2, t1);
  EXPECT_GE(t2 - t1, 40'000u);  // >= 4 ms worth of ticks

  // Setting the time moves the guest's clock.
  const u64 kT = 5'000'000'000ull;
  set_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_time), kT);
  u64 t3 = get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_time));
  EXPECT_GE(t3, kT);
  EXPECT_LT(t3, kT + 10'000'000u);  // within a second

  // compare + state, in the order a VMM restores them.
  set_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_compare), kT + 123'456'789);
  set_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_state), KVM_RISCV_TIMER_STATE_ON);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_compare)), kT + 123'456'789);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_state)), KVM_RISCV_TIMER_STATE_ON);
  set_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_state), KVM_RISCV_TIMER_STATE_OFF);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_state)), KVM_RISCV_TIMER_STATE_OFF);
}

TEST_F(OneRegTest, GuestTimeFollowsTimerRegister) {
  const u64 kT = 7'000'000'000ull;
  set_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_time), kT);
  Asm a(kRamBase);
  a.emit(rv::csrr(a0, rv::kTime)).halt();
  m_vm->start(a);
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  u64 t = xreg(vcpu(), a0);
  EXPECT_GE(t, kT);
  EXPECT_LT(t, kT + 50'000'000u);  // within 5 s
}

// ---------------------------------------------------------------------------------------------
// FP

TEST_F(OneRegTest, FpRoundTrip) {
  for (u64 i = 0; i < 32; ++i) {
    u32 v = 0x3f80'0000u + static_cast<u32>(i);
    ASSERT_EQ(vcpu().set_one_reg(fp_f_id(i), &v), kOk);
    u32 got = 0;
    ASSERT_EQ(vcpu().get_one_reg(fp_f_id(i), &got), kOk);
    EXPECT_EQ(got, v) << "f" << i;
  }
  for (u64 i = 0; i < 32; ++i) {
    u64 v = 0x4009'21fb'5444'2d18ull ^ (i << 40);
    ASSERT_EQ(vcpu().set_one_reg(fp_d_id(i), &v), kOk);
  }
  for (u64 i = 0; i < 32; ++i) {
    u64 got = 0;
    ASSERT_EQ(vcpu().get_one_reg(fp_d_id(i), &got), kOk);
    EXPECT_EQ(got, 0x4009'21fb'5444'2d18ull ^ (i << 40)) << "f" << i;
  }
  // fcsr is 32 bits wide in both FP_F and FP_D: frm = 1 (RTZ), fflags = NV|DZ.
  u32 fcsr = (1u << 5) | 0x18;
  ASSERT_EQ(vcpu().set_one_reg(fp_f_id(KVM_REG_RISCV_FP_fcsr), &fcsr), kOk);
  u32 got = 0;
  ASSERT_EQ(vcpu().get_one_reg(fp_d_id(KVM_REG_RISCV_FP_fcsr), &got), kOk);
  EXPECT_EQ(got, fcsr);
  fcsr = (4u << 5) | 0x1;
  ASSERT_EQ(vcpu().set_one_reg(fp_d_id(KVM_REG_RISCV_FP_fcsr), &fcsr), kOk);
  ASSERT_EQ(vcpu().get_one_reg(fp_f_id(KVM_REG_RISCV_FP_fcsr), &got), kOk);
  EXPECT_EQ(got, fcsr);

  // Wrong widths.
  u64 wide = 0;
  EXPECT_EQ(vcpu().get_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_F, 0, 0), &wide), kEINVAL);
  EXPECT_EQ(vcpu().get_one_reg(riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_FP_D, 0, 0), &wide), kEINVAL);
  EXPECT_EQ(vcpu().get_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_D, 0, KVM_REG_RISCV_FP_fcsr), &wide),
            kEINVAL);
}

TEST_F(OneRegTest, FpRegistersAreTheGuestsRegisters) {
  // The guest (with sstatus.FS on) stores f5 as a double to RAM.
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sstatus), (1ull << 8) | (1ull << 13));
  u64 v = 0x4005'bf0a'8b14'5769ull;  // e
  ASSERT_EQ(vcpu().set_one_reg(fp_d_id(5), &v), kOk);
  Asm h = trap_reporter(kRamBase + 0x400);
  m_vm->load(h);
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_stvec), h.base());
  Asm b(kRamBase + 0x100);
  b.li(a1, kRamBase + 0x800).emit(rv::fsd(5, a1, 0)).halt();
  m_vm->start(b);
  Exit& e = run_vcpu(vcpu());
  if (!IsHalt(e)) {
    ASSERT_TRUE(IsMmio(e, kReportAddr, 8, true));
    ADD_FAILURE() << "guest FP store trapped: scause " << mmio_data(std::get<MmioExit>(e));
    return;
  }
  EXPECT_EQ(m_vm->ram().get64(0x800), v);
}

// ---------------------------------------------------------------------------------------------
// CONFIG

TEST_F(OneRegTest, ConfigRegisters) {
  u64 isa = get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_isa));
  for (char c : std::string("imafdc")) EXPECT_TRUE((isa >> (c - 'a')) & 1) << "letter " << c;
  EXPECT_FALSE((isa >> ('h' - 'a')) & 1) << "no nested virtualisation";
  EXPECT_EQ(isa >> 26, 0u) << "only single-letter bits";
  u64 satp_mode = get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_satp_mode));
  EXPECT_TRUE(satp_mode == 8 || satp_mode == 9 || satp_mode == 10) << satp_mode;
  // Read-only CONFIG values accept only themselves.
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_satp_mode), &satp_mode), kOk);
  u64 other = satp_mode == 8 ? 9 : 8;
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_satp_mode), &other), kEINVAL);
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_isa), &isa), kOk);
  (void)get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_mvendorid));
  (void)get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_marchid));
  (void)get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_mimpid));
}

TEST_F(OneRegTest, ConfigIsaDisablesFpBeforeFirstRun) {
  u64 isa = get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_isa));
  u64 no_fp = isa & ~((1ull << ('f' - 'a')) | (1ull << ('d' - 'a')));
  ASSERT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_isa), &no_fp), kOk);
  EXPECT_EQ(get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_isa)), no_fp);
  EXPECT_EQ(get_reg(vcpu(), isa_ext_id(KVM_RISCV_ISA_EXT_F)), 0u);
  EXPECT_EQ(get_reg(vcpu(), isa_ext_id(KVM_RISCV_ISA_EXT_D)), 0u);
  // Without F and D the FP registers are gone (KVM: -ENOENT) and not listed.
  u32 v32 = 0;
  u64 v64 = 0;
  EXPECT_EQ(vcpu().get_one_reg(fp_f_id(0), &v32), kENOENT);
  EXPECT_EQ(vcpu().get_one_reg(fp_d_id(0), &v64), kENOENT);
  std::vector<u64> ids;
  ASSERT_EQ(vcpu().get_reg_list(ids), kOk);
  for (u64 id : ids) {
    u64 type = id & KVM_REG_RISCV_TYPE_MASK;
    EXPECT_TRUE(type != KVM_REG_RISCV_FP_F && type != KVM_REG_RISCV_FP_D) << std::hex << id;
  }
  // After the first run the ISA is fixed.
  run_once();
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_isa), &isa), kEBUSY);
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_isa), &no_fp), kOk);  // unchanged: fine
}

// KVM (vcpu_onereg.c, kvm_riscv_vcpu_set_reg_config) lets the VMM set mvendorid/marchid/mimpid
// before the first run; SBI BASE then reports them. After the first run: -EBUSY.
TEST_F(OneRegTest, ConfigMachineIdsWritableBeforeFirstRunAsInKvm) {
  u64 v = 0x489;
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_mvendorid), &v), kOk);
  EXPECT_EQ(get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_mvendorid)), 0x489u);
  v = 0x8000'0000'0000'0007ull;
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_marchid), &v), kOk);
  run_once();
  v = 0x123;
  EXPECT_EQ(vcpu().set_one_reg(config_id(KVM_REG_RISCV_CONFIG_mimpid), &v), kEBUSY);
}

// ---------------------------------------------------------------------------------------------
// ISA_EXT and SBI_EXT

TEST_F(OneRegTest, IsaExtEnableDisableBeforeFirstRunThenBusy) {
  for (u64 e : {KVM_RISCV_ISA_EXT_A, KVM_RISCV_ISA_EXT_C, KVM_RISCV_ISA_EXT_D, KVM_RISCV_ISA_EXT_F,
                KVM_RISCV_ISA_EXT_I, KVM_RISCV_ISA_EXT_M})
    EXPECT_EQ(get_reg(vcpu(), isa_ext_id(e)), 1u) << "ext " << e;
  // Nested virtualisation is not offered: not available at all (KVM: -ENOENT).
  u64 v = 0;
  EXPECT_EQ(vcpu().get_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_H), &v), kENOENT);
  v = 1;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_H), &v), kENOENT);

  // Svpbmt can be disabled and enabled again before the first run.
  v = 0;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT), &v), kOk);
  EXPECT_EQ(get_reg(vcpu(), isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT)), 0u);
  v = 1;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT), &v), kOk);
  EXPECT_EQ(get_reg(vcpu(), isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT)), 1u);
  // Not a boolean.
  v = 2;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT), &v), kEINVAL);
  // F off: the single-letter view follows.
  v = 0;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_D), &v), kOk);
  EXPECT_FALSE((get_reg(vcpu(), config_id(KVM_REG_RISCV_CONFIG_isa)) >> ('d' - 'a')) & 1);

  run_once();
  // After the first run: changing is -EBUSY, writing the current value is accepted (as in KVM).
  v = 0;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT), &v), kEBUSY);
  v = 1;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_SVPBMT), &v), kOk);
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_D), &v), kEBUSY);
}

// KVM (riscv_vcpu_set_isa_ext_single): an extension that cannot be disabled (I, and A/C/M which
// have no disable mechanism) is refused with -EINVAL before the first run; -EBUSY is only for
// "the VCPU already ran".
TEST_F(OneRegTest, IsaExtThatCannotBeDisabledIsEinvalAsInKvm) {
  u64 v = 0;
  EXPECT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_I), &v), kEINVAL);
  EXPECT_EQ(get_reg(vcpu(), isa_ext_id(KVM_RISCV_ISA_EXT_I)), 1u);
}

TEST_F(OneRegTest, SbiExtEnableDisableBeforeFirstRunThenBusy) {
  for (u64 e : {KVM_RISCV_SBI_EXT_V01, KVM_RISCV_SBI_EXT_TIME, KVM_RISCV_SBI_EXT_IPI, KVM_RISCV_SBI_EXT_RFENCE,
                KVM_RISCV_SBI_EXT_SRST, KVM_RISCV_SBI_EXT_HSM})
    EXPECT_EQ(get_reg(vcpu(), sbi_ext_id(e)), 1u) << "sbi ext " << e;
  u64 v = 0;
  EXPECT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_TIME), &v), kOk);
  EXPECT_EQ(get_reg(vcpu(), sbi_ext_id(KVM_RISCV_SBI_EXT_TIME)), 0u);
  v = 1;
  EXPECT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_TIME), &v), kOk);
  EXPECT_EQ(get_reg(vcpu(), sbi_ext_id(KVM_RISCV_SBI_EXT_TIME)), 1u);
  v = 2;
  EXPECT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_TIME), &v), kEINVAL);
  run_once();
  v = 0;
  EXPECT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_TIME), &v), kEBUSY);
  EXPECT_EQ(get_reg(vcpu(), sbi_ext_id(KVM_RISCV_SBI_EXT_TIME)), 1u);
}

// KVM (kvm_riscv_vcpu_set_reg_sbi_ext) returns -EBUSY for any SBI_EXT write once the VCPU ran,
// even one that would not change anything.
TEST_F(OneRegTest, SbiExtWriteAfterRunIsBusyEvenUnchangedAsInKvm) {
  run_once();
  u64 v = 1;
  EXPECT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_TIME), &v), kEBUSY);
}

// KVM marks DBCN default_disabled (vcpu_sbi_replace.c): the VMM must enable it explicitly.
TEST_F(OneRegTest, SbiExtDbcnIsDisabledByDefaultAsInKvm) {
  EXPECT_EQ(get_reg(vcpu(), sbi_ext_id(KVM_RISCV_SBI_EXT_DBCN)), 0u);
  u64 v = 1;
  EXPECT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_DBCN), &v), kOk);
  EXPECT_EQ(get_reg(vcpu(), sbi_ext_id(KVM_RISCV_SBI_EXT_DBCN)), 1u);
}

// ---------------------------------------------------------------------------------------------
// Error codes

TEST_F(OneRegTest, ErrorCodes) {
  u64 v = 0;
  // Unknown type: -ENOENT.
  for (u64 type : {0ull, 11ull, 0x0full, 0xffull}) {
    u64 id = KVM_REG_RISCV | KVM_REG_SIZE_U64 | (type << KVM_REG_RISCV_TYPE_SHIFT);
    EXPECT_EQ(vcpu().get_one_reg(id, &v), kENOENT) << "type " << type;
    EXPECT_EQ(vcpu().set_one_reg(id, &v), kENOENT) << "type " << type;
  }
  // Wrong size in the id: -EINVAL.
  const u64 wrong_size[] = {
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_CORE, 0, KVM_REG_RISCV_CORE_pc),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_CORE, 0, 5),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_CSR, 0, KVM_REG_RISCV_CSR_sstatus),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_TIMER, 0, KVM_REG_RISCV_TIMER_time),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_CONFIG, 0, KVM_REG_RISCV_CONFIG_isa),
      riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_F, 0, 0),
      riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_F, 0, KVM_REG_RISCV_FP_fcsr),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_FP_D, 0, 7),
      riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_D, 0, KVM_REG_RISCV_FP_fcsr),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_ISA_EXT, 0, KVM_RISCV_ISA_EXT_A),
      riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_SBI_EXT, 0, KVM_RISCV_SBI_EXT_V01),
  };
  for (u64 id : wrong_size) {
    EXPECT_EQ(vcpu().get_one_reg(id, &v), kEINVAL) << std::hex << id;
    EXPECT_EQ(vcpu().set_one_reg(id, &v), kEINVAL) << std::hex << id;
  }
  // Index out of range: -ENOENT.
  const u64 out_of_range[] = {
      core_id(KVM_REG_RISCV_CORE_mode + 1),
      core_id(0xffff),
      csr_id(KVM_REG_RISCV_CSR_count),
      timer_id(KVM_REG_RISCV_TIMER_state + 1),
      config_id(100),
      fp_f_id(KVM_REG_RISCV_FP_fcsr + 1),
      riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_D, 0, KVM_REG_RISCV_FP_fcsr + 1),
      isa_ext_id(KVM_RISCV_ISA_EXT_MAX),
      isa_ext_id(0xfff),
      sbi_ext_id(KVM_RISCV_SBI_EXT_MAX),
  };
  for (u64 id : out_of_range) {
    u64 buf = 0;
    EXPECT_EQ(vcpu().get_one_reg(id, &buf), kENOENT) << std::hex << id;
    EXPECT_EQ(vcpu().set_one_reg(id, &buf), kENOENT) << std::hex << id;
  }
  // Null value pointer: -EFAULT.
  for (u64 id : {core_id(KVM_REG_RISCV_CORE_pc), csr_id(KVM_REG_RISCV_CSR_sepc), timer_id(KVM_REG_RISCV_TIMER_time),
                 fp_f_id(1), fp_d_id(1), config_id(KVM_REG_RISCV_CONFIG_isa), isa_ext_id(KVM_RISCV_ISA_EXT_A),
                 sbi_ext_id(KVM_RISCV_SBI_EXT_TIME)}) {
    EXPECT_EQ(vcpu().get_one_reg(id, nullptr), kEFAULT) << std::hex << id;
    EXPECT_EQ(vcpu().set_one_reg(id, nullptr), kEFAULT) << std::hex << id;
  }
}

// KVM (kvm_riscv_vcpu_get_reg_csr): an unknown CSR subtype is -ENOENT, like an unknown type.
TEST_F(OneRegTest, UnknownCsrSubtypeIsEnoentAsInKvm) {
  u64 v = 0;
  u64 id = riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CSR, 7ull << KVM_REG_RISCV_SUBTYPE_SHIFT, 0);
  EXPECT_EQ(vcpu().get_one_reg(id, &v), kENOENT);
  EXPECT_EQ(vcpu().set_one_reg(id, &v), kENOENT);
}

}  // namespace
}  // namespace rvkvm::hyp
