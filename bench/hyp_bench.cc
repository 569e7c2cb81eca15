// Hypervisor benchmark: MMIO-exit and guest-page-fault round trips per second, and the compute
// benchmark run as a VS-mode guest (two-stage translation) for comparison with `rvkvm sim`.
// Uses only the public hypervisor API, as a VMM would.
#include <fmt/format.h>
#include <sys/mman.h>

#include <chrono>
#include <cstring>
#include <string>

#include "common/elf.h"
#include "hyp/api/kvm.h"
#include "hyp/api/riscv_regs.h"

using namespace rvkvm::hyp;

namespace {

constexpr u64 kRamBase = 0x80000000;
constexpr u64 kRamSize = 256ull << 20;

struct Guest {
  std::unique_ptr<Hypervisor> hv = create_emulated_hypervisor();
  std::unique_ptr<Vm> vm;
  Vcpu* vcpu = nullptr;
  void* ram = nullptr;

  bool boot(const std::string& elf_path, bool huge) {
    VmConfig cfg;
    cfg.huge_pages = huge;
    if (hv->create_vm(cfg, vm)) return false;
    ram = mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) return false;
    std::vector<rvkvm::u8> bytes;
    std::string err;
    if (!rvkvm::read_file(elf_path, bytes, err)) {
      fmt::print(stderr, "{}\n", err);
      return false;
    }
    auto img = rvkvm::parse_elf(bytes, err);
    if (!img) return false;
    for (const auto& s : img->segments) std::memcpy(static_cast<char*>(ram) + (s.paddr - kRamBase), s.data.data(), s.data.size());
    if (vm->set_user_memory_region({0, 0, kRamBase, kRamSize, ram})) return false;
    if (vm->create_vcpu(0, vcpu)) return false;
    return set_reg(0, img->entry);
  }
  bool set_reg(unsigned idx, u64 v) {
    return vcpu->set_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CORE, 0, idx), &v) == kOk;
  }
  ~Guest() {
    vm.reset();
    if (ram && ram != MAP_FAILED) munmap(ram, kRamSize);
  }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Runs until a store to `end_addr`; returns the number of MMIO exits and fills `value`.
u64 run_until(Vcpu& v, u64 end_addr, u64* reported = nullptr) {
  u64 exits = 0;
  for (;;) {
    Exit& e = v.run();
    auto* m = std::get_if<MmioExit>(&e);
    if (!m) {
      fmt::print(stderr, "unexpected exit {}\n", exit_reason_name(exit_reason(e)));
      return exits;
    }
    ++exits;
    if (m->is_write && m->phys_addr == 0x10000100 && reported) std::memcpy(reported, m->data, 8);
    // A 16550's line status register: transmitter always empty, so the guest's console never waits.
    if (!m->is_write && m->phys_addr == 0x10000005) m->data[0] = 0x60;
    if (m->is_write && m->phys_addr == end_addr) return exits;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : RVKVM_BENCH_DIR;
  {
    Guest g;
    const u64 n = 400000;
    if (!g.boot(dir + "/exits.elf", true) || !g.set_reg(10, 0) || !g.set_reg(11, n)) return 1;
    auto t0 = std::chrono::steady_clock::now();
    u64 exits = run_until(*g.vcpu, 0x10000200);
    double s = seconds_since(t0);
    fmt::print("MMIO exit round trips     {:>10.0f} /s   ({} exits, {:.3f} s, {:.2f} us each)\n", exits / s, exits, s,
               s * 1e6 / exits);
  }
  {
    Guest g;
    const u64 pages = 32768;  // 128 MiB of 4 KiB guest-page faults
    if (!g.boot(dir + "/exits.elf", false) || !g.set_reg(10, 1) || !g.set_reg(11, pages) ||
        !g.set_reg(12, kRamBase + (64ull << 20)))
      return 1;
    auto t0 = std::chrono::steady_clock::now();
    (void)run_until(*g.vcpu, 0x10000200);
    double s = seconds_since(t0);
    fmt::print("G-stage fault round trips {:>10.0f} /s   ({} faults, {:.3f} s, {:.2f} us each)\n", pages / s, pages,
               s, s * 1e6 / pages);
  }
  {
    Guest g;
    if (!g.boot(dir + "/compute-vs.elf", true)) return 1;
    u64 insns = 0;
    auto t0 = std::chrono::steady_clock::now();
    (void)run_until(*g.vcpu, 0x100000, &insns);
    double s = seconds_since(t0);
    fmt::print("compute as a VS guest     {:>10.1f} MIPS ({} instructions, {:.3f} s, Sv57x4 G-stage, Bare VS-stage)\n",
               insns / s / 1e6, insns, s);
  }
  return 0;
}
