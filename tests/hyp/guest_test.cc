// Guest programs under the hypervisor, driven by the test VMM (public API only). Each guest
// checks itself and ends with SBI SRST: shutdown with reason 0 passes; shutdown with reason 1
// (system failure) follows a FAIL message on the console. The host side adds its own checks.
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_vmm.h"

#ifndef RVKVM_HYP_GUEST_DIR
#error "RVKVM_HYP_GUEST_DIR must name the folder of the guest ELFs"
#endif

namespace rvkvm::hyptest {
namespace {

using namespace rvkvm::hyp;
using namespace std::chrono_literals;

std::string guest(const char* name) { return std::string(RVKVM_HYP_GUEST_DIR) + "/" + name + ".elf"; }

// The pages whose bits are set in a KVM dirty bitmap.
std::vector<u64> dirty_pages(const std::vector<u64>& bitmap) {
  std::vector<u64> pages;
  for (std::size_t w = 0; w < bitmap.size(); ++w)
    for (unsigned b = 0; b < 64; ++b)
      if ((bitmap[w] >> b) & 1) pages.push_back(w * 64 + b);
  return pages;
}

u64 thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<u64>(ts.tv_sec) * 1'000'000'000ull + static_cast<u64>(ts.tv_nsec);
}

#define EXPECT_PASSED(vmm, r)                            \
  do {                                                   \
    EXPECT_TRUE((r).passed()) << (vmm).describe(r);      \
  } while (0)

// ---------------------------------------------------------------------------------------------
// 1. SBI

constexpr u64 kVendorExt = 0x09000001, kExperimentalExt = 0x08000000, kSbiBase = 0x10;

// The VMM side of the SBI guest: implements vendor extension kVendorExt (function 7 returns
// a0 + a1) and answers the forwarded probe of it, as a KVM VMM does.
void run_sbi_guest(u64 config) {
  VmmOptions o;
  o.config = config;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("sbi"))) << vmm.error();
  ASSERT_TRUE(vmm.set_sbi_ext(KVM_RISCV_SBI_EXT_RFENCE, false));
  vmm.on_sbi = [](u32, SbiExit& s) {
    if (s.extension_id == kVendorExt && s.function_id == 7) {
      s.ret[0] = 0;
      s.ret[1] = s.args[0] + s.args[1];
      return true;
    }
    if (s.extension_id == kSbiBase && s.function_id == 3 && s.args[0] == kVendorExt) {
      s.ret[0] = 0;
      s.ret[1] = 1;
      return true;
    }
    return false;
  };
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  if (!r.passed()) return;  // the guest stopped early: the checks below would only echo that
  EXPECT_NE(vmm.console().find("sbi: ok"), std::string::npos) << vmm.console();
  EXPECT_EQ(vmm.dbcn(), "hello from dbcn\n!");
  EXPECT_EQ(vmm.legacy_console(), "legacy\n");
  // Experimental and vendor extensions reach the VMM (KVM forwards them) with their arguments.
  bool saw_experimental = false, saw_vendor = false;
  for (const SbiCall& c : vmm.sbi_log()) {
    if (c.ext == kExperimentalExt) {
      saw_experimental = true;
      EXPECT_EQ(c.args[0], 11u);
      EXPECT_EQ(c.args[1], 22u);
      EXPECT_EQ(c.ret[0], static_cast<u64>(-2)) << "ret[0] must be preset to SBI_ERR_NOT_SUPPORTED";
      EXPECT_EQ(c.ret[1], 0u);
    }
    if (c.ext == kVendorExt) saw_vendor = true;
    // Everything the hypervisor implements itself must not be forwarded.
    for (u64 own : {0x10ull, 0x54494D45ull, 0x735049ull, 0x48534Dull, 0x53525354ull, 0x52464E43ull})
      if (c.ext == own && !(own == kSbiBase && c.fid == 3 && c.args[0] == kVendorExt))
        ADD_FAILURE() << "SBI extension " << std::hex << own << " function " << c.fid
                      << " was forwarded to the VMM";
  }
  EXPECT_TRUE(saw_experimental);
  EXPECT_TRUE(saw_vendor);
}

TEST(HypGuest, Sbi) { run_sbi_guest(0); }

// Linux KVM forwards BASE probe_extension for experimental and vendor extension ids to user
// space (kvm_sbi_ext_base_handler), so a VMM can implement and advertise them.
TEST(HypGuest, SbiVendorProbeForwarded) { run_sbi_guest(1); }

// ---------------------------------------------------------------------------------------------
// 2. MMIO

TEST(HypGuest, Mmio) {
  TestVmm vmm;
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("mmio"))) << vmm.error();
  u8* rom = vmm.add_memslot(ROM_SLOT, ROM_BASE, ROM_SIZE, KVM_MEM_READONLY);
  ASSERT_NE(rom, nullptr) << vmm.error();
  auto* rom_words = reinterpret_cast<u64*>(rom);
  for (u64 i = 0; i < ROM_SIZE / 8; ++i) rom_words[i] = ROM_WORD(i);
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  EXPECT_NE(vmm.console().find("mmio: ok"), std::string::npos) << vmm.console();

  struct W {
    u64 off;
    u32 len;
    u64 value;
  };
  const W want[] = {
      {0x200, 1, 0x88},       {0x202, 2, 0x7788},
      {0x204, 4, 0x55667788}, {0x208, 8, 0x1122334455667788ull},
      {0x210, 4, 0xcafef00d}, {0x218, 8, 0xdeadbeefcafef00dull},  // c.sw, c.sd
      {0x224, 4, 0x05060708}, {0x228, 8, 0x0102030405060708ull},  // c.swsp, c.sdsp
      {0x230, 8, 0},          {0x238, 1, 0xa5},
      {0x23a, 2, 0xbeef},
  };
  std::vector<MmioAccess> got, rom_writes;
  u64 loads = 0;
  for (const MmioAccess& a : vmm.mmio_log()) {
    u64 off = a.addr - TESTDEV_BASE;
    if (a.is_write && off >= TESTDEV_LOG && off < TESTDEV_SCRATCH) got.push_back(a);
    if (a.addr - ROM_BASE < ROM_SIZE) rom_writes.push_back(a);
    if (!a.is_write) ++loads;
  }
  // Stores to the read-only slot exit as MMIO writes and leave the memory alone.
  const W want_rom[] = {{0x8, 8, 0x1234}, {0x10, 4, 0xcafebeef}, {0x1fff, 1, 0x99}};
  ASSERT_EQ(rom_writes.size(), std::size(want_rom));
  for (std::size_t i = 0; i < rom_writes.size(); ++i) {
    EXPECT_EQ(rom_writes[i].addr, ROM_BASE + want_rom[i].off) << "ROM write " << i;
    EXPECT_EQ(rom_writes[i].len, want_rom[i].len) << "ROM write " << i;
    EXPECT_EQ(rom_writes[i].value, want_rom[i].value) << "ROM write " << i;
  }
  for (u64 i = 0; i < ROM_SIZE / 8; ++i) ASSERT_EQ(rom_words[i], ROM_WORD(i)) << "ROM word " << i;
  ASSERT_EQ(got.size(), std::size(want));
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].addr, TESTDEV_BASE + want[i].off) << "write " << i;
    EXPECT_EQ(got[i].len, want[i].len) << "write " << i;
    EXPECT_EQ(got[i].value, want[i].value) << "write " << i;
  }
  EXPECT_GT(loads, 100u);
}

// ---------------------------------------------------------------------------------------------
// 3. Dirty logging

TEST(HypGuest, DirtyLogPhases) {
  VmmOptions o;
  o.config = 0;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("dirty"))) << vmm.error();
  u8* data = vmm.add_memslot(DIRTY_SLOT, DIRTY_BASE, DIRTY_SIZE, 0);
  ASSERT_NE(data, nullptr) << vmm.error();

  auto word = [&](u64 page) { return __atomic_load_n(reinterpret_cast<u64*>(data + page * 4096), __ATOMIC_ACQUIRE); };
  auto region = [&](u32 flags) {
    UserMemoryRegion m;
    m.slot = DIRTY_SLOT;
    m.flags = flags;
    m.guest_phys_addr = DIRTY_BASE;
    m.memory_size = DIRTY_SIZE;
    m.userspace_addr = data;
    return m;
  };
  const std::vector<u64> p1 = {0, 1, 63, 64, 65, 127, 128, 300, 511};
  const std::vector<u64> p2 = {1, 2, 300, 400};
  std::atomic<int> phases_seen{0};

  // On the VCPU thread, while the guest waits in its sync store.
  vmm.on_sync = [&](u32, u64 phase) {
    ++phases_seen;
    std::vector<u64> bm;
    auto expect_log = [&](const std::vector<u64>& want) {
      ASSERT_EQ(vmm.vm().get_dirty_log(DIRTY_SLOT, bm), kOk) << "phase " << phase;
      EXPECT_EQ(bm.size(), DIRTY_PAGES / 64) << "phase " << phase;
      EXPECT_EQ(dirty_pages(bm), want) << "phase " << phase;
    };
    auto expect_words = [&](const std::vector<u64>& pages) {
      for (u64 p : pages) EXPECT_EQ(word(p), phase << 32 | p) << "phase " << phase << " page " << p;
    };
    switch (phase) {
      case 0: {
        // Every page was written before logging: turning it on starts with an empty log.
        std::vector<u64> all(DIRTY_PAGES);
        for (u64 p = 0; p < DIRTY_PAGES; ++p) all[p] = p;
        expect_words(all);
        EXPECT_EQ(vmm.vm().get_dirty_log(DIRTY_SLOT, bm), kENOENT) << "log of a slot without logging";
        ASSERT_EQ(vmm.vm().set_user_memory_region(region(KVM_MEM_LOG_DIRTY_PAGES)), kOk);
        expect_log({});
        break;
      }
      case 1:
        expect_words(p1);
        expect_log(p1);
        break;
      case 2:
        expect_words({1, 2, 400});  // page 300 got a byte store to its last byte instead
        EXPECT_EQ(data[300 * 4096 + 4095], 0x77);
        EXPECT_EQ(data[1 * 4096 + 100], 0x5a);
        expect_log(p2);
        break;
      case 3: expect_log({}); break;
      case 4: {
        expect_words({5, 6, 7});
        std::vector<u64> clear(DIRTY_PAGES / 64, 0);
        clear[0] = 1ull << 5;
        EXPECT_EQ(vmm.vm().clear_dirty_log(DIRTY_SLOT, 0, DIRTY_PAGES, clear.data()), kOk);
        expect_log({6, 7});
        break;
      }
      case 5:
        expect_words({5, 6});
        expect_log({5, 6});
        // Logging off: writes are no longer tracked.
        ASSERT_EQ(vmm.vm().set_user_memory_region(region(0)), kOk);
        EXPECT_EQ(vmm.vm().get_dirty_log(DIRTY_SLOT, bm), kENOENT);
        break;
      case 6: {
        std::vector<u64> all(DIRTY_PAGES);
        for (u64 p = 0; p < DIRTY_PAGES; ++p) all[p] = p;
        expect_words(all);
        break;
      }
      default: ADD_FAILURE() << "unexpected sync " << phase;
    }
  };
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  EXPECT_EQ(phases_seen.load(), 7);
}

// The log read from another thread while the guest keeps writing: after each GET_DIRTY_LOG the
// page is write-protected again on the running VCPU, so a store seen after it must be logged.
TEST(HypGuest, DirtyLogConcurrent) {
  VmmOptions o;
  o.config = 1;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("dirty"))) << vmm.error();
  u8* data = vmm.add_memslot(DIRTY_SLOT, DIRTY_BASE, DIRTY_SIZE, KVM_MEM_LOG_DIRTY_PAGES);
  ASSERT_NE(data, nullptr) << vmm.error();
  std::optional<u64> stop_gpa = vmm.symbol("g_host_stop");
  ASSERT_TRUE(stop_gpa.has_value());
  u64* stop = reinterpret_cast<u64*>(vmm.hva(*stop_gpa, 8));
  ASSERT_NE(stop, nullptr);
  u64* counter = reinterpret_cast<u64*>(data + 10 * 4096);

  vmm.start();
  std::vector<u64> bm;
  ASSERT_EQ(vmm.vm().get_dirty_log(DIRTY_SLOT, bm), kOk);
  for (int i = 0; i < 30; ++i) {
    u64 before = __atomic_load_n(counter, __ATOMIC_ACQUIRE);
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) == before) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the guest stopped writing; iteration " << i;
      std::this_thread::yield();
    }
    ASSERT_EQ(vmm.vm().get_dirty_log(DIRTY_SLOT, bm), kOk);
    ASSERT_EQ(dirty_pages(bm), std::vector<u64>{10}) << "iteration " << i;
  }
  __atomic_store_n(stop, 1, __ATOMIC_RELEASE);
  RunResult r = vmm.wait();
  EXPECT_PASSED(vmm, r);
}

// Logging on the RAM slot the guest executes from: enabling it must not break instruction
// fetch, and only the pages written are logged (code pages never are).
TEST(HypGuest, DirtyLogRamSlot) {
  VmmOptions o;
  o.config = 2;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("dirty"))) << vmm.error();
  std::optional<u64> buf = vmm.symbol("g_buf"), stacks = vmm.symbol("__stacks_start"), text = vmm.symbol("main");
  ASSERT_TRUE(buf && stacks && text);
  const u64 buf_page = (*buf - GUEST_RAM_BASE) / 4096;
  // Hart 0's stack (crt: one 16 KiB stack per hart, hart 0 first) may be written at any time.
  const u64 stack_first = (*stacks - GUEST_RAM_BASE) / 4096, stack_end = stack_first + 4;
  const u64 text_page = (*text - GUEST_RAM_BASE) / 4096;
  UserMemoryRegion ram;
  ram.slot = 0;
  ram.guest_phys_addr = GUEST_RAM_BASE;
  ram.memory_size = o.ram_size;
  ram.userspace_addr = vmm.slot_hva(0);
  int syncs = 0;
  vmm.on_sync = [&](u32, u64 phase) {
    ++syncs;
    std::vector<u64> bm;
    auto check = [&](std::initializer_list<u64> written, std::initializer_list<u64> clean) {
      ASSERT_EQ(vmm.vm().get_dirty_log(0, bm), kOk);
      ASSERT_EQ(bm.size(), o.ram_size / 4096 / 64);
      std::vector<u64> pages = dirty_pages(bm);
      auto has = [&](u64 p) { return std::find(pages.begin(), pages.end(), p) != pages.end(); };
      for (u64 k : written) EXPECT_TRUE(has(buf_page + k)) << "phase " << phase << ": g_buf[" << k << "] not logged";
      for (u64 k : clean) EXPECT_FALSE(has(buf_page + k)) << "phase " << phase << ": g_buf[" << k << "] logged";
      EXPECT_FALSE(has(0)) << "the entry code page was logged";
      EXPECT_FALSE(has(text_page)) << "the page of main() was logged";
      for (u64 p : pages)
        if (!(p >= buf_page && p < buf_page + 4) && !(p >= stack_first && p < stack_end))
          ADD_FAILURE() << "phase " << phase << ": unexpected dirty page " << p << " (gpa 0x" << std::hex
                        << GUEST_RAM_BASE + p * 4096 << ")";
    };
    switch (phase) {
      case 10:
        ram.flags = KVM_MEM_LOG_DIRTY_PAGES;
        ASSERT_EQ(vmm.vm().set_user_memory_region(ram), kOk);
        ASSERT_EQ(vmm.vm().get_dirty_log(0, bm), kOk);
        EXPECT_EQ(dirty_pages(bm), std::vector<u64>{});
        break;
      case 11: check({0, 2}, {1, 3}); break;
      case 12:
        check({1}, {0, 2, 3});
        ram.flags = 0;
        ASSERT_EQ(vmm.vm().set_user_memory_region(ram), kOk);
        break;
      default: ADD_FAILURE() << "unexpected sync " << phase;
    }
  };
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  EXPECT_EQ(syncs, 3);
}

// ---------------------------------------------------------------------------------------------
// 4. SMP: HSM, IPI, RFENCE

TEST(HypGuest, Smp) {
  VmmOptions o;
  o.vcpus = 4;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("smp"))) << vmm.error();
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  EXPECT_EQ(r.event_vcpu, 0u);
  EXPECT_NE(vmm.console().find("smp: ok"), std::string::npos) << vmm.console();
  // HSM, IPI and RFENCE are the hypervisor's: none may reach the VMM.
  for (const SbiCall& c : vmm.sbi_log()) ADD_FAILURE() << "forwarded SBI call ext " << std::hex << c.ext;
}

// KVM resets a VCPU on HSM hart_start (kvm_riscv_reset_vcpu clears irqs_pending): an IPI sent
// while the hart was STOPPED must not be pending in the freshly started hart.
TEST(HypGuest, SmpNoStaleIpiAfterHartStart) {
  VmmOptions o;
  o.vcpus = 2;
  o.config = 1;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("smp"))) << vmm.error();
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
}

// ---------------------------------------------------------------------------------------------
// 5. Timer

void run_timer_guest(u64 mode, bool sstc) {
  VmmOptions o;
  o.config = mode;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("timer"))) << vmm.error();
  ASSERT_TRUE(vmm.set_isa_ext(KVM_RISCV_ISA_EXT_SSTC, sstc));
  u64 freq = 0;
  ASSERT_EQ(vmm.vcpu(0).get_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_TIMER, 0,
                                                 KVM_REG_RISCV_TIMER_frequency),
                                    &freq),
            kOk);
  EXPECT_EQ(freq, GUEST_TIMEBASE_HZ);

  u64 cpu0 = 0, cpu1 = 0;
  std::chrono::steady_clock::time_point wall0, wall1;
  int syncs = 0;
  std::optional<u64> guest_time_gpa = vmm.symbol("g_guest_time"), armed_gpa = vmm.symbol("g_armed");
  ASSERT_TRUE(guest_time_gpa && armed_gpa);
  auto timer_reg = [&](u64 index) {
    u64 v = 0;
    EXPECT_EQ(vmm.vcpu(0).get_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_TIMER, 0, index), &v), kOk);
    return v;
  };
  vmm.on_sync = [&](u32, u64 v) {
    ++syncs;
    if (v == 3) {
      const u64 guest_time = *reinterpret_cast<u64*>(vmm.hva(*guest_time_gpa, 8));
      const u64 armed = *reinterpret_cast<u64*>(vmm.hva(*armed_gpa, 8));
      const u64 now = timer_reg(KVM_REG_RISCV_TIMER_time);
      EXPECT_GE(now, guest_time) << "ONE_REG TIMER time is behind the guest's time CSR";
      EXPECT_LT(now - guest_time, GUEST_TIMEBASE_HZ) << "ONE_REG TIMER time is >1 s ahead of the guest's";
      EXPECT_EQ(timer_reg(KVM_REG_RISCV_TIMER_compare), armed);
      EXPECT_EQ(timer_reg(KVM_REG_RISCV_TIMER_state), KVM_RISCV_TIMER_STATE_ON);
    } else if (v == 1) {
      wall0 = std::chrono::steady_clock::now();
      cpu0 = thread_cpu_ns();
    } else if (v == 2) {
      cpu1 = thread_cpu_ns();
      wall1 = std::chrono::steady_clock::now();
    }
  };
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  EXPECT_NE(vmm.console().find("timer: ok"), std::string::npos) << vmm.console();
  ASSERT_EQ(syncs, 3);
  double wall_ms = std::chrono::duration<double, std::milli>(wall1 - wall0).count();
  double cpu_ms = static_cast<double>(cpu1 - cpu0) / 1e6;
  ::testing::Test::RecordProperty("wfi_wait_wall_us", static_cast<int>(wall_ms * 1000));
  ::testing::Test::RecordProperty("wfi_wait_vcpu_cpu_us", static_cast<int>(cpu_ms * 1000));
  EXPECT_GE(wall_ms, 195.0);
  // The VCPU thread must sleep in WFI, not spin: its CPU time is a small part of the wait.
  EXPECT_LT(cpu_ms, wall_ms / 4) << "VCPU thread used " << cpu_ms << " ms of CPU in a " << wall_ms
                                 << " ms WFI wait";
}

TEST(HypGuest, TimerSstc) { run_timer_guest(0, true); }
TEST(HypGuest, TimerSbi) { run_timer_guest(1, false); }
TEST(HypGuest, TimerSbiWithSstc) { run_timer_guest(2, true); }
TEST(HypGuest, TimerSbiLegacy) { run_timer_guest(3, false); }

// ---------------------------------------------------------------------------------------------
// KVM_INTERRUPT: the VS-level external interrupt, raised and lowered by the VMM, from the VCPU's
// thread and from another thread while the guest sleeps in WFI.

TEST(HypGuest, ExternalInterrupt) {
  TestVmm vmm;
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("irq"))) << vmm.error();
  EXPECT_EQ(vmm.vcpu(0).interrupt(7), kEINVAL);
  std::thread injector;
  vmm.on_sync = [&](u32, u64 v) {
    if (v == 1) {
      EXPECT_EQ(vmm.vcpu(0).interrupt(KVM_INTERRUPT_SET), kOk);
    } else if (v == 2) {
      injector = std::thread([&] {
        std::this_thread::sleep_for(20ms);
        EXPECT_EQ(vmm.vcpu(0).interrupt(KVM_INTERRUPT_SET), kOk);
      });
    } else if (v == 100) {
      EXPECT_EQ(vmm.vcpu(0).interrupt(KVM_INTERRUPT_UNSET), kOk);
    } else {
      ADD_FAILURE() << "unexpected sync " << v;
    }
  };
  RunResult r = vmm.run();
  if (injector.joinable()) injector.join();
  EXPECT_PASSED(vmm, r);
  EXPECT_NE(vmm.console().find("irq: ok"), std::string::npos) << vmm.console();
}

// ---------------------------------------------------------------------------------------------
// 6. Redirected exceptions and system reset

void run_srst_guest(u64 mode, u64 want_reason) {
  VmmOptions o;
  o.config = mode;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("srst"))) << vmm.error();
  RunResult r = vmm.run();
  EXPECT_TRUE(r.clean()) << vmm.describe(r);
  EXPECT_TRUE(r.system_event) << vmm.describe(r);
  EXPECT_EQ(r.event_type, KVM_SYSTEM_EVENT_RESET) << vmm.describe(r);
  EXPECT_EQ(r.event_reason, want_reason) << vmm.describe(r);
  EXPECT_NE(vmm.console().find("srst: resetting"), std::string::npos) << vmm.console();
  EXPECT_EQ(vmm.console().find("FAIL"), std::string::npos) << vmm.console();
}

TEST(HypGuest, SrstColdRebootSystemFailure) { run_srst_guest(0, 1); }
TEST(HypGuest, SrstWarmReboot) { run_srst_guest(1, 0); }

// ---------------------------------------------------------------------------------------------
// The FPU: a guest that sets sstatus.FS can use F/D (KVM keeps the VCPU's host-level FS on).

TEST(HypGuest, Fpu) {
  TestVmm vmm;
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("fp"))) << vmm.error();
  RunResult r = vmm.run();
  EXPECT_PASSED(vmm, r);
  EXPECT_NE(vmm.console().find("fp: ok"), std::string::npos) << vmm.console();
}

// ---------------------------------------------------------------------------------------------
// The VMM's own timeout: a guest that never ends is stopped by kick(), whether it spins, sleeps
// in WFI or is STOPPED.

void run_hang_guest(u64 mode) {
  VmmOptions o;
  o.config = mode;
  o.timeout = 300ms;
  TestVmm vmm(o);
  ASSERT_TRUE(vmm.ok()) << vmm.error();
  ASSERT_TRUE(vmm.load_elf(guest("hang"))) << vmm.error();
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = vmm.run();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(r.timed_out);
  EXPECT_TRUE(r.errors.empty()) << vmm.describe(r);
  EXPECT_FALSE(r.system_event);
  EXPECT_LT(elapsed, 2s);
  u32 st = 99;
  ASSERT_EQ(vmm.vcpu(0).get_mp_state(st), kOk);
  EXPECT_EQ(st, mode == 2 ? KVM_MP_STATE_STOPPED : KVM_MP_STATE_RUNNABLE);
}

TEST(HypGuest, TimeoutStopsSpinningGuest) { run_hang_guest(0); }
TEST(HypGuest, TimeoutStopsGuestInWfi) { run_hang_guest(1); }
TEST(HypGuest, TimeoutStopsStoppedHart) { run_hang_guest(2); }

}  // namespace
}  // namespace rvkvm::hyptest
