// A hostile guest: random instruction words and random register values, so that random loads and
// stores, SBI calls with random arguments, CSR accesses and traps reach the hypervisor's exit
// paths. Driven through the public API like a VMM; the host must never crash, every exit must be
// well-formed, and run() must keep returning. (Run under ASan+UBSan in CI.)
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "hyp/api/kvm.h"
#include "hyp/api/riscv_regs.h"

namespace rvkvm::hyp {
namespace {

constexpr u64 kRam = 0x80000000;
constexpr u64 kRamSize = 8ull << 20;

u64 core_id(unsigned idx) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CORE, 0, idx); }
u64 csr_id(unsigned idx) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_GENERAL, idx); }

void fill_random(u8* p, u64 n, std::mt19937_64& rng) {
  for (u64 i = 0; i < n; i += 8) {
    u64 v = rng();
    std::memcpy(p + i, &v, std::min<u64>(8, n - i));
  }
}

void run_chaos(u64 seed, unsigned vcpus, unsigned exits_per_vcpu) {
  std::mt19937_64 rng(seed);
  auto hv = create_emulated_hypervisor(HypervisorConfig{2});
  std::unique_ptr<Vm> vm;
  VmConfig cfg;
  cfg.gstage_mode = 8 + static_cast<u32>(seed % 3);
  cfg.huge_pages = seed & 1;
  ASSERT_EQ(hv->create_vm(cfg, vm), kOk);
  void* mem = mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  u8* ram = static_cast<u8*>(mem);
  fill_random(ram, kRamSize, rng);
  // Sprinkle the RAM with instructions that reach the hypervisor: ecall, wfi, loads and stores
  // through random registers, and CSR accesses.
  const u32 interesting[] = {0x00000073, 0x10500073, 0x0002b283, 0x0062b023, 0x100022f3, 0x180022f3,
                             0x14d022f3, 0xc01022f3, 0x015022f3, 0x0000100f, 0x12000073};
  for (int i = 0; i < 20000; ++i) {
    u64 off = (rng() % (kRamSize / 4)) * 4;
    u32 w = interesting[rng() % (sizeof(interesting) / sizeof(interesting[0]))];
    std::memcpy(ram + off, &w, 4);
  }
  ASSERT_EQ(vm->set_user_memory_region({0, 0, kRam, kRamSize, mem}), kOk);
  // A read-only alias of part of RAM, to exercise writes to read-only memory.
  ASSERT_EQ(vm->set_user_memory_region({1, KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES, kRam + (1ull << 30),
                                        1ull << 20, mem}),
            kOk);
  std::vector<Vcpu*> vs;
  for (unsigned i = 0; i < vcpus; ++i) {
    Vcpu* v = nullptr;
    ASSERT_EQ(vm->create_vcpu(i, v), kOk);
    u64 on = 1;
    (void)v->set_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE,
                                      KVM_RISCV_SBI_EXT_DBCN),
                         &on);
    u64 pc = kRam + (rng() % (kRamSize / 2)) * 2;
    ASSERT_EQ(v->set_one_reg(core_id(KVM_REG_RISCV_CORE_pc), &pc), kOk);
    for (unsigned r = 1; r < 32; ++r) {
      // Half of the registers point into RAM, so loads and stores sometimes succeed.
      u64 val = (rng() & 1) ? kRam + rng() % kRamSize : rng();
      ASSERT_EQ(v->set_one_reg(core_id(r), &val), kOk);
    }
    u64 stvec = kRam + (rng() % (kRamSize / 4)) * 4;
    ASSERT_EQ(v->set_one_reg(csr_id(KVM_REG_RISCV_CSR_stvec), &stvec), kOk);
    u64 sstatus = rng() & 0x7e2;  // random SIE/SPIE/SPP/FS
    ASSERT_EQ(v->set_one_reg(csr_id(KVM_REG_RISCV_CSR_sstatus), &sstatus), kOk);
    vs.push_back(v);
  }
  std::vector<std::thread> threads;
  std::atomic<u64> total{0};
  for (unsigned i = 0; i < vcpus; ++i) {
    threads.emplace_back([&, i, s = rng()] {
      std::mt19937_64 r(s);
      Vcpu& v = *vs[i];
      // A watchdog kick bounds a VCPU that never exits (a tight loop in RAM, WFI forever, or
      // STOPPED by hart_stop); after 400 ms the next KVM_EXIT_INTR ends the run.
      std::atomic<bool> done{false}, times_up{false};
      std::thread watchdog([&] {
        auto start = std::chrono::steady_clock::now();
        while (!done) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
          if (std::chrono::steady_clock::now() - start > std::chrono::milliseconds(400)) times_up = true;
          v.kick();
        }
      });
      for (unsigned n = 0; n < exits_per_vcpu; ++n) {
        Exit& e = v.run();
        ++total;
        if (auto* m = std::get_if<MmioExit>(&e)) {
          EXPECT_TRUE(m->len == 1 || m->len == 2 || m->len == 4 || m->len == 8) << m->len;
          if (!m->is_write) {
            u64 d = r();
            std::memcpy(m->data, &d, 8);
          }
        } else if (auto* s = std::get_if<SbiExit>(&e)) {
          s->ret[0] = r();
          s->ret[1] = r();
        } else if (std::get_if<SystemEventExit>(&e)) {
          // The guest asked for a shutdown: restart it somewhere random.
          (void)v.set_mp_state(KVM_MP_STATE_RUNNABLE);
          u64 pc = kRam + (r() % (kRamSize / 2)) * 2;
          (void)v.set_one_reg(core_id(KVM_REG_RISCV_CORE_pc), &pc);
        } else if (std::get_if<IntrExit>(&e)) {
          if (times_up) break;
        } else if (auto* c = std::get_if<CsrExit>(&e)) {
          c->ret_value = r();
        } else {
          ADD_FAILURE() << "unexpected exit " << exit_reason_name(exit_reason(e));
          break;
        }
      }
      done = true;
      watchdog.join();
    });
  }
  for (auto& t : threads) t.join();
  std::vector<u64> bitmap;
  EXPECT_EQ(vm->get_dirty_log(1, bitmap), kOk);
  EXPECT_GT(total.load(), 0u);
  vm.reset();
  munmap(mem, kRamSize);
}

TEST(HostileGuestTest, RandomCodeOneVcpu) {
  for (u64 seed = 1; seed <= 6; ++seed) run_chaos(seed, 1, 3000);
}

TEST(HostileGuestTest, RandomCodeFourVcpus) {
  for (u64 seed = 100; seed <= 102; ++seed) run_chaos(seed, 4, 1500);
}

}  // namespace
}  // namespace rvkvm::hyp
