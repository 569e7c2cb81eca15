// The SBI as the hypervisor implements it (Linux arch/riscv/kvm/vcpu_sbi*.c; SBI spec v2.0), seen
// from a guest: registers set with ONE_REG, an `ecall`, then a0 (error), a1 (value) and pc.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hyp/hyp_test_util.h"

namespace rvkvm::hyp {
namespace {

using namespace test;

// SBI ids and errors (SBI spec; /work/shared/reference/facts.md).
constexpr u64 kExtBase = 0x10, kExtTime = 0x54494D45, kExtIpi = 0x735049, kExtRfence = 0x52464E43,
              kExtHsm = 0x48534D, kExtSrst = 0x53525354, kExtPmu = 0x504D55, kExtDbcn = 0x4442434E,
              kExtSusp = 0x53555350;
constexpr u64 kLegacySetTimer = 0, kLegacyPutchar = 1, kLegacyGetchar = 2, kLegacyClearIpi = 3, kLegacySendIpi = 4,
              kLegacyFenceI = 5, kLegacySfenceVma = 6, kLegacySfenceVmaAsid = 7, kLegacyShutdown = 8;
constexpr i64 kSuccess = 0, kErrNotSupported = -2, kErrInvalidParam = -3, kErrAlreadyAvailable = -6;

struct SbiResult {
  i64 error = 1234;
  u64 value = 0;
  bool ok = false;  // the guest got back from the ecall to the next instruction (pc + 4)
};

class SbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_hv = create_emulated_hypervisor();
    ASSERT_TRUE(m_hv);
    m_vm = std::make_unique<TestVm>(*m_hv);
    ASSERT_TRUE(m_vm->ok());
  }
  Vcpu& vcpu(u32 i = 0) { return m_vm->vcpu(i); }

  // Creates VCPUs up to n and makes them runnable (KVM_SET_MP_STATE), as a VMM may.
  void runnable_vcpus(u32 n) {
    m_vm->add_vcpus(n);
    for (u32 i = 1; i < n; ++i) ASSERT_EQ(vcpu(i).set_mp_state(KVM_MP_STATE_RUNNABLE), kOk);
  }

  // Points VCPU `i` at `ecall; <extra>; halt` with a7/a6/a0..a5 set.
  Asm prepare(u32 i, u64 eid, u64 fid, std::initializer_list<u64> args, const std::vector<u32>& extra = {}) {
    Asm a(kRamBase + 0x1000 * i);
    a.emit(rv::ecall());
    for (u32 insn : extra) a.emit(insn);
    a.halt();
    m_vm->start(a, i);
    set_xreg(vcpu(i), a7, eid);
    set_xreg(vcpu(i), a6, fid);
    unsigned r = a0;
    for (u64 v : args) set_xreg(vcpu(i), r++, v);
    for (; r <= a5; ++r) set_xreg(vcpu(i), r, 0);
    return a;
  }

  // Makes an SBI call from VCPU `i` that the hypervisor handles by itself (no exit to the VMM).
  SbiResult call_on(u32 i, u64 eid, u64 fid, std::initializer_list<u64> args, const std::vector<u32>& extra = {}) {
    Asm a = prepare(i, eid, fid, args, extra);
    SbiResult r;
    Exit& e = run_vcpu(vcpu(i));
    if (!IsHalt(e)) {
      ADD_FAILURE() << "SBI call " << std::hex << eid << "/" << fid << ": " << IsHalt(e).message();
      return r;
    }
    r.error = static_cast<i64>(xreg(vcpu(i), a0));
    r.value = xreg(vcpu(i), a1);
    u64 pc = pc_of(vcpu(i));
    EXPECT_EQ(pc, a.halt_pc()) << "pc did not advance by 4 past the ecall";
    r.ok = pc == a.halt_pc();
    return r;
  }
  SbiResult call(u64 eid, u64 fid, std::initializer_list<u64> args = {}) { return call_on(0, eid, fid, args); }

  std::unique_ptr<Hypervisor> m_hv;
  std::unique_ptr<TestVm> m_vm;
};

// ---------------------------------------------------------------------------------------------
// BASE

TEST_F(SbiTest, BaseInformation) {
  SbiResult r = call(kExtBase, 0);  // get_spec_version
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(r.value, 0x0200'0000u) << "SBI v2.0: major in bits 30:24";
  r = call(kExtBase, 1);  // get_impl_id
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(r.value, 3u) << "KVM's implementation id";
  r = call(kExtBase, 2);  // get_impl_version
  EXPECT_EQ(r.error, kSuccess);
  // mvendorid/marchid/mimpid: what the VCPU's CONFIG registers say.
  const u64 ids[] = {KVM_REG_RISCV_CONFIG_mvendorid, KVM_REG_RISCV_CONFIG_marchid, KVM_REG_RISCV_CONFIG_mimpid};
  for (u64 fid = 4; fid <= 6; ++fid) {
    r = call(kExtBase, fid);
    EXPECT_EQ(r.error, kSuccess) << "fid " << fid;
    EXPECT_EQ(r.value, get_reg(vcpu(), config_id(ids[fid - 4]))) << "fid " << fid;
  }
  for (u64 fid : {7ull, 100ull, ~0ull}) {
    r = call(kExtBase, fid);
    EXPECT_EQ(r.error, kErrNotSupported) << "fid " << fid;
    EXPECT_TRUE(r.ok);
  }
}

TEST_F(SbiTest, BaseProbe) {
  struct Case {
    u64 eid;
    u64 present;
  };
  const Case cases[] = {
      {kExtBase, 1}, {kExtTime, 1}, {kExtIpi, 1}, {kExtRfence, 1}, {kExtHsm, 1}, {kExtSrst, 1},
      {kLegacySetTimer, 1}, {kLegacyPutchar, 1}, {kLegacyGetchar, 1}, {kLegacyClearIpi, 1}, {kLegacySendIpi, 1},
      {kLegacyFenceI, 1}, {kLegacySfenceVma, 1}, {kLegacySfenceVmaAsid, 1}, {kLegacyShutdown, 1},
      {kExtPmu, 0},        // no PMU for guests
      {kExtSusp, 0},       // system suspend: not offered (KVM: default disabled)
      {0x9, 0},            // between the legacy ids and BASE
      {0x12345678, 0},     // unknown
      {0x0A000000, 0},     // firmware-specific range
      {0x43505043, 0},     // CPPC
      {0x4E41434C, 0},     // NACL
      {0x46574654, 0},     // FWFT
      {~0ull, 0},
  };
  for (const Case& c : cases) {
    SbiResult r = call(kExtBase, 3, {c.eid});
    EXPECT_EQ(r.error, kSuccess) << std::hex << "probe " << c.eid;
    EXPECT_EQ(r.value, c.present) << std::hex << "probe " << c.eid;
  }
}

// KVM (vcpu_sbi_base.c, SBI_EXT_BASE_PROBE_EXT) forwards a probe of an experimental or vendor
// extension to the VMM as KVM_EXIT_RISCV_SBI {BASE, probe_extension, args[0] = the id}; the
// VMM's ret[] is the answer.
TEST_F(SbiTest, ProbeOfExperimentalOrVendorExtensionIsForwardedAsInKvm) {
  for (u64 eid : {0x0800'0000ull, 0x09ab'cdefull}) {
    Asm a = prepare(0, kExtBase, 3, {eid});
    Exit& e = run_vcpu(vcpu());
    auto* s = std::get_if<SbiExit>(&e);
    ASSERT_NE(s, nullptr) << std::hex << "probe " << eid << ": " << describe(e);
    EXPECT_EQ(s->extension_id, kExtBase);
    EXPECT_EQ(s->function_id, 3u);
    EXPECT_EQ(s->args[0], eid);
    s->ret[0] = 0;
    s->ret[1] = 1;
    ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
    EXPECT_EQ(xreg(vcpu(), a0), 0u);
    EXPECT_EQ(xreg(vcpu(), a1), 1u);
  }
}

// ---------------------------------------------------------------------------------------------
// TIME

TEST_F(SbiTest, SetTimerProgramsTheTimerWithSstc) {
  ASSERT_EQ(get_reg(vcpu(), isa_ext_id(KVM_RISCV_ISA_EXT_SSTC)), 1u);
  const u64 when = 0x0123'4567'89ab'cdefull;
  SbiResult r = call(kExtTime, 0, {when});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_compare)), when);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_state)), KVM_RISCV_TIMER_STATE_ON);
  // A deadline in the past makes the timer interrupt pending at once (sip.STIP, bit 5)...
  r = call_on(0, kExtTime, 0, {0}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(), a2) & (1u << 5), 1u << 5) << std::hex << xreg(vcpu(), a2);
  // ... and a new deadline far away clears it.
  r = call_on(0, kExtTime, 0, {~0ull}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(), a2) & (1u << 5), 0u) << std::hex << xreg(vcpu(), a2);
}

TEST_F(SbiTest, SetTimerWithoutSstc) {
  u64 off = 0;
  ASSERT_EQ(vcpu().set_one_reg(isa_ext_id(KVM_RISCV_ISA_EXT_SSTC), &off), kOk);
  const u64 when = 0x7777'0000'0000ull;
  SbiResult r = call(kExtTime, 0, {when});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_compare)), when);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_state)), KVM_RISCV_TIMER_STATE_ON);
  r = call_on(0, kExtTime, 0, {0}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(), a2) & (1u << 5), 1u << 5) << std::hex << xreg(vcpu(), a2);
  r = call_on(0, kExtTime, 0, {~0ull}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(), a2) & (1u << 5), 0u) << std::hex << xreg(vcpu(), a2);
  // The legacy call does the same.
  r = call(kLegacySetTimer, 0, {when + 1});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(get_reg(vcpu(), timer_id(KVM_REG_RISCV_TIMER_compare)), when + 1);
}

// ---------------------------------------------------------------------------------------------
// IPI

TEST_F(SbiTest, SendIpi) {
  runnable_vcpus(2);
  // To VCPU 1 (hart_mask 0b10, base 0): VCPU 1 then sees sip.SSIP.
  SbiResult r = call(kExtIpi, 0, {0b10, 0});
  EXPECT_EQ(r.error, kSuccess);
  r = call_on(1, kExtBase, 0, {}, {rv::csrr(a2, rv::kSip)});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(xreg(vcpu(1), a2) & 2u, 2u) << "VCPU 1 did not get the IPI";
  // To itself, through hart_mask_base 0 and to everyone through base -1.
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sip), 0);
  r = call_on(0, kExtIpi, 0, {0b1, 0}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(), a2) & 2u, 2u);
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sip), 0);
  r = call_on(0, kExtIpi, 0, {0, ~0ull}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(), a2) & 2u, 2u);
  // hart_mask_base 1, bit 0 = hart 1.
  r = call(kExtIpi, 0, {0b1, 1});
  EXPECT_EQ(r.error, kSuccess);
  // Harts that do not exist: SBI_ERR_INVALID_PARAM.
  r = call(kExtIpi, 0, {1ull << 5, 0});
  EXPECT_EQ(r.error, kErrInvalidParam);
  r = call(kExtIpi, 0, {0b11, 1});  // harts 1 and 2; 2 does not exist
  EXPECT_EQ(r.error, kErrInvalidParam);
  r = call(kExtIpi, 0, {0b1, 64});
  EXPECT_EQ(r.error, kErrInvalidParam);
  // Unknown function.
  r = call(kExtIpi, 1, {0b1, 0});
  EXPECT_EQ(r.error, kErrNotSupported);
}

TEST_F(SbiTest, LegacyIpiCalls) {
  runnable_vcpus(2);
  // send_ipi takes a pointer to the hart mask in guest memory.
  m_vm->ram().put64(0x8000, 0b10);
  SbiResult r = call(kLegacySendIpi, 0, {kRamBase + 0x8000});
  EXPECT_EQ(r.error, kSuccess);
  r = call_on(1, kExtBase, 0, {}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(xreg(vcpu(1), a2) & 2u, 2u);
  // clear_ipi clears the caller's SSIP.
  r = call_on(1, kLegacyClearIpi, 0, {}, {rv::csrr(a2, rv::kSip)});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(xreg(vcpu(1), a2) & 2u, 0u);
  // A null mask pointer means every hart.
  r = call(kLegacyFenceI, 0, {0});
  EXPECT_EQ(r.error, kSuccess);
  r = call(kLegacySfenceVma, 0, {0, 0, 4096});
  EXPECT_EQ(r.error, kSuccess);
  r = call(kLegacySfenceVmaAsid, 0, {kRamBase + 0x8000, 0, 4096, 1});
  EXPECT_EQ(r.error, kSuccess);
}

// ---------------------------------------------------------------------------------------------
// RFENCE

TEST_F(SbiTest, RemoteFences) {
  runnable_vcpus(2);
  for (u64 fid : {0ull, 1ull, 2ull}) {
    SCOPED_TRACE(::testing::Message() << "fid " << fid);
    EXPECT_EQ(call(kExtRfence, fid, {0b11, 0, kRamBase, 0x2000, 1}).error, kSuccess);
    EXPECT_EQ(call(kExtRfence, fid, {0b1, 1, 0, 0, 0}).error, kSuccess);
    EXPECT_EQ(call(kExtRfence, fid, {0, ~0ull, 0, ~0ull, 0}).error, kSuccess);  // all harts, whole space
    EXPECT_EQ(call(kExtRfence, fid, {1ull << 9, 0, 0, 4096, 0}).error, kErrInvalidParam);
    EXPECT_EQ(call(kExtRfence, fid, {0b1, 2, 0, 4096, 0}).error, kErrInvalidParam);
  }
  // The HFENCE functions need nested virtualisation: not supported; so is an unknown function.
  for (u64 fid : {3ull, 4ull, 5ull, 6ull, 7ull, 1000ull})
    EXPECT_EQ(call(kExtRfence, fid, {0b1, 0, 0, 4096, 0}).error, kErrNotSupported) << "fid " << fid;
}

// Remote fences travel through a per-VCPU queue; one that overflows becomes a single full flush,
// as in KVM. Observed through the target VCPU's statistics.
TEST_F(SbiTest, RemoteFenceQueueOverflowBecomesAFullFlush) {
  runnable_vcpus(2);
  auto stat = [&](const char* name) {
    for (const auto& [n, v] : vcpu(1).stats())
      if (n == name) return v;
    ADD_FAILURE() << "no statistic " << name;
    return u64{0};
  };
  Asm idle(kRamBase + 0x1000);
  idle.halt();
  auto run_target = [&] {
    m_vm->start(idle, 1);
    EXPECT_TRUE(IsHalt(run_vcpu(vcpu(1))));
  };
  run_target();
  const u64 all0 = stat("tlb_flush_all"), page0 = stat("tlb_flush_page");
  for (u64 k = 0; k < 3; ++k)
    ASSERT_EQ(call(kExtRfence, 1, {0b10, 0, kRamBase + k * 4096, 4096, 0}).error, kSuccess);
  run_target();
  EXPECT_EQ(stat("tlb_flush_page") - page0, 3u) << "three queued one-page fences";
  EXPECT_EQ(stat("tlb_flush_all"), all0);
  const u64 all1 = stat("tlb_flush_all"), page1 = stat("tlb_flush_page");
  for (u64 k = 0; k < 40; ++k)
    ASSERT_EQ(call(kExtRfence, 1, {0b10, 0, kRamBase + k * 4096, 4096, 0}).error, kSuccess);
  run_target();
  EXPECT_EQ(stat("tlb_flush_all") - all1, 1u) << "an overflowing queue is one full flush";
  EXPECT_EQ(stat("tlb_flush_page"), page1) << "and nothing page by page";
}

// ---------------------------------------------------------------------------------------------
// HSM

TEST_F(SbiTest, HartStatusAndStartErrors) {
  m_vm->add_vcpus(2);  // VCPU 1 exists and is STOPPED
  u32 st = 99;
  ASSERT_EQ(vcpu(1).get_mp_state(st), kOk);
  EXPECT_EQ(st, KVM_MP_STATE_STOPPED);

  SbiResult r = call(kExtHsm, 2, {0});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(r.value, 0u) << "hart 0 is STARTED";
  r = call(kExtHsm, 2, {1});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(r.value, 1u) << "hart 1 is STOPPED";
  EXPECT_EQ(call(kExtHsm, 2, {7}).error, kErrInvalidParam);

  EXPECT_EQ(call(kExtHsm, 0, {0, kRamBase, 0}).error, kErrAlreadyAvailable) << "start of a running hart";
  EXPECT_EQ(call(kExtHsm, 0, {7, kRamBase, 0}).error, kErrInvalidParam) << "start of a hart that does not exist";
  EXPECT_EQ(call(kExtHsm, 0, {~0ull, kRamBase, 0}).error, kErrInvalidParam);
  EXPECT_EQ(call(kExtHsm, 9, {}).error, kErrNotSupported) << "unknown function";
}

TEST_F(SbiTest, HartStartRunsTheStoppedVcpuAtStartAddr) {
  m_vm->add_vcpus(2);
  // VCPU 1's entry: report a1 (opaque) and a0 (hartid) with absolute stores to GPA 0x100/0x108.
  const u64 entry = kRamBase + 0x4000;
  Asm e1(entry);
  e1.emit(rv::sd(a1, zero, 0x100)).emit(rv::sd(a0, zero, 0x108)).halt();
  m_vm->load(e1);
  const u64 opaque = 0xfeed'0000'beefull;

  SbiResult r = call(kExtHsm, 0, {1, entry, opaque});
  EXPECT_EQ(r.error, kSuccess);
  u32 st = 99;
  ASSERT_EQ(vcpu(1).get_mp_state(st), kOk);
  EXPECT_EQ(st, KVM_MP_STATE_RUNNABLE);
  r = call(kExtHsm, 2, {1});
  EXPECT_EQ(r.value, 0u) << "hart 1 is STARTED now";
  EXPECT_EQ(call(kExtHsm, 0, {1, entry, opaque}).error, kErrAlreadyAvailable);

  // VCPU 1 runs, here on another thread, from `entry` with a0 = 1 and a1 = opaque.
  std::string exits[3];
  u64 pcs[3] = {0, 0, 0};
  std::thread t([&] {
    for (int i = 0; i < 3; ++i) {
      Exit& e = run_vcpu(vcpu(1));
      exits[i] = describe(e);
      pcs[i] = pc_of(vcpu(1));
      if (!std::holds_alternative<MmioExit>(e)) break;
    }
  });
  t.join();
  char want[128];
  std::snprintf(want, sizeof want, "KVM_EXIT_MMIO{addr=0x100 len=8 write data=%#llx}",
                static_cast<unsigned long long>(opaque));
  EXPECT_EQ(exits[0], want);
  EXPECT_EQ(pcs[0], entry);
  EXPECT_EQ(exits[1], "KVM_EXIT_MMIO{addr=0x108 len=8 write data=0x1}");
  EXPECT_EQ(pcs[1], entry + 4);
  EXPECT_EQ(exits[2], "KVM_EXIT_MMIO{addr=0x10000ff8 len=1 write data=0}");
  EXPECT_EQ(pcs[2], e1.halt_pc());
}

TEST_F(SbiTest, HartStopThenStartAgain) {
  runnable_vcpus(2);
  // VCPU 0 stops itself on its own thread; its run() only returns once it runs guest code again.
  Asm stop(kRamBase);
  stop.emit(rv::ecall());
  m_vm->start(stop);
  set_xreg(vcpu(), a7, kExtHsm);
  set_xreg(vcpu(), a6, 1);
  std::string first_exit;
  u64 first_pc = 0, first_data = 0;
  std::thread t([&] {
    Exit& e = run_vcpu(vcpu(0), std::chrono::milliseconds(10000));
    first_exit = describe(e);
    first_pc = pc_of(vcpu(0));
    if (auto* m = std::get_if<MmioExit>(&e)) first_data = mmio_data(*m);
  });
  u32 st = KVM_MP_STATE_RUNNABLE;
  for (int i = 0; i < 5000 && st != KVM_MP_STATE_STOPPED; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(vcpu(0).get_mp_state(st), kOk);
  }
  EXPECT_EQ(st, KVM_MP_STATE_STOPPED) << "hart_stop did not stop VCPU 0";

  // VCPU 1 sees hart 0 STOPPED, then starts it at `entry` with opaque 0x42.
  const u64 entry = kRamBase + 0x6000;
  Asm e0(entry);
  e0.emit(rv::sd(a1, zero, 0x100)).halt();
  m_vm->load(e0);
  SbiResult r = call_on(1, kExtHsm, 2, {0});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_EQ(r.value, 1u);
  r = call_on(1, kExtHsm, 0, {0, entry, 0x42});
  EXPECT_EQ(r.error, kSuccess);
  t.join();
  EXPECT_NE(first_exit.find("addr=0x100 len=8 write"), std::string::npos) << first_exit;
  EXPECT_EQ(first_pc, entry);
  EXPECT_EQ(first_data, 0x42u);
}

TEST_F(SbiTest, HartSuspend) {
  EXPECT_EQ(call(kExtHsm, 3, {0x0000'0001}).error, kErrInvalidParam) << "reserved type";
  EXPECT_EQ(call(kExtHsm, 3, {0x0fff'ffff}).error, kErrInvalidParam) << "reserved type";
  EXPECT_EQ(call(kExtHsm, 3, {0x8000'0001}).error, kErrInvalidParam) << "reserved type";
  EXPECT_EQ(call(kExtHsm, 3, {0x8000'0000, kRamBase, 0}).error, kErrNotSupported) << "non-retentive";
  // Retentive suspend returns when an interrupt is pending: with a self-IPI pending and sie.SSIE
  // set, at once.
  set_reg(vcpu(), csr_id(KVM_REG_RISCV_CSR_sie), 0x2);
  SbiResult r = call(kExtIpi, 0, {0b1, 0});
  EXPECT_EQ(r.error, kSuccess);
  r = call(kExtHsm, 3, {0});
  EXPECT_EQ(r.error, kSuccess);
  EXPECT_TRUE(r.ok);
}

// KVM (vcpu_sbi_hsm.c): every suspend type other than the two defaults is SBI_ERR_INVALID_PARAM,
// including the platform-specific ranges (KVM implements none of them), as the SBI spec asks for
// "platform-specific and unimplemented".
TEST_F(SbiTest, HartSuspendPlatformSpecificTypesAreInvalidParamAsInKvm) {
  EXPECT_EQ(call(kExtHsm, 3, {0x1000'0000}).error, kErrInvalidParam);
  EXPECT_EQ(call(kExtHsm, 3, {0x9000'0000}).error, kErrInvalidParam);
}

// ---------------------------------------------------------------------------------------------
// SRST

TEST_F(SbiTest, SystemReset) {
  struct Case {
    u64 type, reason;
    u32 event;
  };
  const Case cases[] = {
      {0, 0, KVM_SYSTEM_EVENT_SHUTDOWN},
      {1, 1, KVM_SYSTEM_EVENT_RESET},  // cold reboot, system failure
      {2, 0, KVM_SYSTEM_EVENT_RESET},  // warm reboot
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << "type " << c.type << " reason " << c.reason);
    // A fresh VM each time: a reset stops the VCPUs.
    TestVm vm(*m_hv);
    ASSERT_TRUE(vm.ok());
    Asm a(kRamBase);
    a.emit(rv::ecall()).halt();
    vm.start(a);
    set_xreg(vm.vcpu(), a7, kExtSrst);
    set_xreg(vm.vcpu(), a6, 0);
    set_xreg(vm.vcpu(), a0, c.type);
    set_xreg(vm.vcpu(), a1, c.reason);
    Exit& e = run_vcpu(vm.vcpu());
    auto* se = std::get_if<SystemEventExit>(&e);
    ASSERT_NE(se, nullptr) << describe(e);
    EXPECT_EQ(se->type, c.event);
    EXPECT_EQ(se->ndata, 1u);
    EXPECT_EQ(se->data[0], c.reason);
  }
  // A reserved reset type is SBI_ERR_INVALID_PARAM, as the SBI spec says (KVM's
  // kvm_sbi_ext_srst_handler answers SBI_ERR_NOT_SUPPORTED instead); an unknown function is not
  // supported.
  EXPECT_EQ(call(kExtSrst, 0, {3, 0}).error, kErrInvalidParam);
  EXPECT_EQ(call(kExtSrst, 0, {0xefff'ffff, 0}).error, kErrInvalidParam);
  EXPECT_EQ(call(kExtSrst, 1, {0, 0}).error, kErrNotSupported);
}

// KVM (kvm_riscv_vcpu_sbi_system_reset) marks every VCPU of the VM STOPPED, the caller included,
// and leaves the caller's pc on the ecall (sbi_ret.uexit: no sepc += 4).
TEST_F(SbiTest, SystemResetStopsEveryVcpuAsInKvm) {
  runnable_vcpus(2);
  Asm a(kRamBase);
  a.emit(rv::ecall()).halt();
  m_vm->start(a);
  set_xreg(vcpu(), a7, kExtSrst);
  set_xreg(vcpu(), a6, 0);
  set_xreg(vcpu(), a0, 0);
  set_xreg(vcpu(), a1, 0);
  Exit& e = run_vcpu(vcpu());
  ASSERT_EQ(exit_reason(e), ExitReason::KVM_EXIT_SYSTEM_EVENT) << describe(e);
  u32 st0 = 99, st1 = 99;
  ASSERT_EQ(vcpu(0).get_mp_state(st0), kOk);
  ASSERT_EQ(vcpu(1).get_mp_state(st1), kOk);
  EXPECT_EQ(st1, KVM_MP_STATE_STOPPED);
  EXPECT_EQ(st0, KVM_MP_STATE_STOPPED) << "the calling VCPU stays RUNNABLE";
  EXPECT_EQ(pc_of(vcpu()), a.base()) << "pc advanced past the SRST ecall";
}

// ---------------------------------------------------------------------------------------------
// Legacy (v0.1)

TEST_F(SbiTest, LegacyConsoleIsForwarded) {
  Asm a = prepare(0, kLegacyPutchar, 0, {'A'});
  Exit& e = run_vcpu(vcpu());
  auto* s = std::get_if<SbiExit>(&e);
  ASSERT_NE(s, nullptr) << describe(e);
  EXPECT_EQ(s->extension_id, kLegacyPutchar);
  EXPECT_EQ(s->args[0], static_cast<u64>('A'));
  EXPECT_EQ(static_cast<i64>(s->ret[0]), kErrNotSupported) << "ret[0] preset";
  EXPECT_EQ(s->ret[1], 0u) << "ret[1] preset";
  EXPECT_EQ(pc_of(vcpu()), a.base()) << "pc stays on the ecall until the VMM completes it";
  s->ret[0] = 0;
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a0), 0u);
  EXPECT_EQ(pc_of(vcpu()), a.halt_pc());

  a = prepare(0, kLegacyGetchar, 0, {});
  Exit& g = run_vcpu(vcpu());
  s = std::get_if<SbiExit>(&g);
  ASSERT_NE(s, nullptr) << describe(g);
  EXPECT_EQ(s->extension_id, kLegacyGetchar);
  s->ret[0] = 'x';
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a0), static_cast<u64>('x'));
  EXPECT_EQ(pc_of(vcpu()), a.halt_pc());
}

// KVM's kvm_riscv_vcpu_sbi_return writes both ret[0] -> a0 and ret[1] -> a1 for every forwarded
// call, the legacy console included.
TEST_F(SbiTest, LegacyForwardedCallCompletesA1AsInKvm) {
  prepare(0, kLegacyPutchar, 0, {'B', 0x5555});
  Exit& e = run_vcpu(vcpu());
  auto* s = std::get_if<SbiExit>(&e);
  ASSERT_NE(s, nullptr) << describe(e);
  s->ret[0] = 0;
  s->ret[1] = 0x77;
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a0), 0u);
  EXPECT_EQ(xreg(vcpu(), a1), 0x77u);
}

TEST_F(SbiTest, LegacyShutdown) {
  prepare(0, kLegacyShutdown, 0, {});
  Exit& e = run_vcpu(vcpu());
  auto* se = std::get_if<SystemEventExit>(&e);
  ASSERT_NE(se, nullptr) << describe(e);
  EXPECT_EQ(se->type, KVM_SYSTEM_EVENT_SHUTDOWN);
  EXPECT_EQ(se->data[0], 0u);
}

// ---------------------------------------------------------------------------------------------
// Forwarded extensions

TEST_F(SbiTest, DebugConsoleIsForwardedWhenEnabled) {
  u64 on = 1;
  ASSERT_EQ(vcpu().set_one_reg(sbi_ext_id(KVM_RISCV_SBI_EXT_DBCN), &on), kOk);
  EXPECT_EQ(call(kExtBase, 3, {kExtDbcn}).value, 1u) << "probe";
  // console_write(num_bytes 5, base_lo, base_hi 0)
  Asm a = prepare(0, kExtDbcn, 0, {5, kRamBase + 0x9000, 0, 0x44, 0x55, 0x66});
  Exit& e = run_vcpu(vcpu());
  auto* s = std::get_if<SbiExit>(&e);
  ASSERT_NE(s, nullptr) << describe(e);
  EXPECT_EQ(s->extension_id, kExtDbcn);
  EXPECT_EQ(s->function_id, 0u);
  const u64 want_args[6] = {5, kRamBase + 0x9000, 0, 0x44, 0x55, 0x66};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(s->args[i], want_args[i]) << "args[" << i << "]";
  EXPECT_EQ(static_cast<i64>(s->ret[0]), kErrNotSupported);
  EXPECT_EQ(s->ret[1], 0u);
  s->ret[0] = 0;
  s->ret[1] = 5;
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(xreg(vcpu(), a0), 0u);
  EXPECT_EQ(xreg(vcpu(), a1), 5u);
  EXPECT_EQ(pc_of(vcpu()), a.halt_pc());

  // Untouched ret[] gives the guest the preset NOT_SUPPORTED.
  prepare(0, kExtDbcn, 2, {'z'});
  Exit& e2 = run_vcpu(vcpu());
  ASSERT_NE(std::get_if<SbiExit>(&e2), nullptr) << describe(e2);
  ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
  EXPECT_EQ(static_cast<i64>(xreg(vcpu(), a0)), kErrNotSupported);
  EXPECT_EQ(xreg(vcpu(), a1), 0u);
}

TEST_F(SbiTest, ExperimentalAndVendorExtensionsAreForwarded) {
  for (u64 eid : {0x0800'0000ull, 0x08ff'ffffull, 0x0900'0000ull, 0x0912'3456ull}) {
    SCOPED_TRACE(::testing::Message() << std::hex << "eid " << eid);
    Asm a = prepare(0, eid, 7, {1, 2, 3});
    Exit& e = run_vcpu(vcpu());
    auto* s = std::get_if<SbiExit>(&e);
    ASSERT_NE(s, nullptr) << describe(e);
    EXPECT_EQ(s->extension_id, eid);
    EXPECT_EQ(s->function_id, 7u);
    EXPECT_EQ(s->args[2], 3u);
    EXPECT_EQ(static_cast<i64>(s->ret[0]), kErrNotSupported);
    EXPECT_EQ(s->ret[1], 0u);
    s->ret[0] = static_cast<u64>(-1);
    s->ret[1] = 0xabc;
    ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
    EXPECT_EQ(static_cast<i64>(xreg(vcpu(), a0)), -1);
    EXPECT_EQ(xreg(vcpu(), a1), 0xabcu);
    EXPECT_EQ(pc_of(vcpu()), a.halt_pc());
  }
}

// KVM (kvm_riscv_vcpu_sbi_ecall): an extension it has no handler for (firmware range, PMU without
// a PMU, anything unknown) gets a0 = SBI_ERR_NOT_SUPPORTED in the kernel; only experimental,
// vendor, DBCN and the legacy console reach the VMM.
// rvkvm forwards every extension it does not implement to the VMM with ret[0] preset to
// SBI_ERR_NOT_SUPPORTED (KVM answers unknown ids itself); a VMM that leaves ret alone gives the
// guest the same -2. (PMU is a KVM extension this VCPU has disabled: answered here, like KVM.)
TEST_F(SbiTest, UnknownExtensionIsForwardedWithNotSupportedPreset) {
  for (u64 eid : {u64{0x0A00'0000}, u64{0x1234'5678}}) {
    SCOPED_TRACE(::testing::Message() << std::hex << "eid " << eid);
    Asm a = prepare(0, eid, 0, {});
    Exit& e = run_vcpu(vcpu());
    auto* s = std::get_if<SbiExit>(&e);
    ASSERT_NE(s, nullptr) << describe(e);
    EXPECT_EQ(s->extension_id, eid);
    EXPECT_EQ(static_cast<i64>(s->ret[0]), kErrNotSupported);
    EXPECT_EQ(s->ret[1], 0u);
    ASSERT_TRUE(IsHalt(run_vcpu(vcpu())));
    EXPECT_EQ(static_cast<i64>(xreg(vcpu(), a0)), kErrNotSupported);
    EXPECT_EQ(pc_of(vcpu()), a.halt_pc());
  }
}

// ---------------------------------------------------------------------------------------------
// SBI_EXT through ONE_REG

TEST_F(SbiTest, DisabledExtensionsAreNotSupported) {
  m_vm->add_vcpus(2);
  for (u64 ext : {KVM_RISCV_SBI_EXT_TIME, KVM_RISCV_SBI_EXT_IPI, KVM_RISCV_SBI_EXT_RFENCE, KVM_RISCV_SBI_EXT_HSM,
                  KVM_RISCV_SBI_EXT_SRST, KVM_RISCV_SBI_EXT_V01}) {
    u64 off = 0;
    ASSERT_EQ(vcpu().set_one_reg(sbi_ext_id(ext), &off), kOk) << ext;
  }
  for (u64 eid : {kExtTime, kExtIpi, kExtRfence, kExtHsm, kExtSrst, kLegacyPutchar, kLegacyShutdown})
    EXPECT_EQ(call(kExtBase, 3, {eid}).value, 0u) << std::hex << "probe " << eid;
  EXPECT_EQ(call(kExtBase, 3, {kExtBase}).value, 1u) << "BASE cannot be disabled";
  EXPECT_EQ(call(kExtTime, 0, {0}).error, kErrNotSupported);
  EXPECT_EQ(call(kExtIpi, 0, {1, 0}).error, kErrNotSupported);
  EXPECT_EQ(call(kExtRfence, 0, {1, 0}).error, kErrNotSupported);
  EXPECT_EQ(call(kExtHsm, 2, {1}).error, kErrNotSupported);
  EXPECT_EQ(call(kExtSrst, 0, {0, 0}).error, kErrNotSupported);
  // A disabled legacy console is answered in the hypervisor, not forwarded.
  EXPECT_EQ(call(kLegacyPutchar, 0, {'A'}).error, kErrNotSupported);
  EXPECT_EQ(call(kLegacySetTimer, 0, {0}).error, kErrNotSupported);
  // The other VCPU still has them.
  ASSERT_EQ(vcpu(1).set_mp_state(KVM_MP_STATE_RUNNABLE), kOk);
  EXPECT_EQ(call_on(1, kExtBase, 3, {kExtTime}).value, 1u);
}

}  // namespace
}  // namespace rvkvm::hyp
