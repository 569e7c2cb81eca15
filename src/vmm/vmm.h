#pragma once
// The VMM behind `rvkvm run`: a kvmtool-class machine on top of the hypervisor API (it includes
// nothing from the hart or the hypervisor's internals). Memory map as QEMU's riscv `virt`.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/host_memory.h"
#include "hyp/api/kvm.h"
#include "vmm/device.h"
#include "vmm/event_loop.h"

namespace rvkvm::vmm {

struct DiskSpec {
  std::string path;
  bool read_only = false;
};

enum class ConsoleKind : u8 { serial, virtio, sbi };

struct VmmConfig {
  std::string kernel, initrd, append;
  bool append_given = false;
  u64 memory = 512ull << 20;
  unsigned cpus = 1;
  std::vector<DiskSpec> disks;
  bool net = false;
  std::vector<std::string> hostfwds;
  ConsoleKind console = ConsoleKind::serial;
  std::string dump_dtb;
  u32 gstage_mode = 10;  // Sv57x4
  bool huge_pages = true;
  bool stats = false;
};

// The memory map (QEMU virt).
inline constexpr u64 kSysconBase = 0x0010'0000, kSysconSize = 0x1000;
inline constexpr u64 kRtcBase = 0x0010'1000, kRtcSize = 0x1000;
inline constexpr u64 kPlicBase = 0x0c00'0000, kPlicSize = 0x0060'0000;
inline constexpr u64 kUartBase = 0x1000'0000, kUartSize = 0x100;
inline constexpr u64 kVirtioBase = 0x1000'1000, kVirtioStride = 0x1000;
inline constexpr unsigned kVirtioSlots = 8;
inline constexpr u64 kRamBase = 0x8000'0000;
inline constexpr u32 kUartIrq = 10, kRtcIrq = 11;  // virtio slot i: IRQ 1 + i

class Vmm {
 public:
  explicit Vmm(VmmConfig cfg);
  ~Vmm();
  // Builds the machine; false with `error` set if anything is wrong with the configuration.
  bool setup(std::string& error);
  // Runs until the guest powers off or reboots, or a signal arrives. Returns the exit code.
  int run();
  // Asks the machine to stop (from any thread, e.g. a signal handler's wake-up).
  void request_stop(int exit_code);

  // For tests and --dump-dtb.
  [[nodiscard]] const std::vector<u8>& dtb() const { return m_dtb; }

 private:
  struct Region {
    u64 base, size;
    MmioDevice* dev;
  };
  void vcpu_thread(unsigned index);
  void handle_mmio(hyp::MmioExit& m);
  void handle_sbi(hyp::SbiExit& s);
  void console_output(const u8* data, size_t len);
  void console_input(u8 c);
  void flush_serial_backlog();
  void add_region(u64 base, u64 size, MmioDevice* dev);
  void set_irq(u32 source, bool level);
  void print_stats();

  VmmConfig m_cfg;
  std::unique_ptr<hyp::Hypervisor> m_hv;
  std::unique_ptr<hyp::Vm> m_vm;
  std::vector<hyp::Vcpu*> m_vcpus;
  HostMemory m_ram;
  GuestMemory m_mem;
  EventLoop m_loop;
  std::vector<Region> m_regions;
  std::vector<std::unique_ptr<MmioDevice>> m_devices;
  struct Impl;
  std::unique_ptr<Impl> m_impl;  // device models, console state
  std::vector<u8> m_dtb;
  std::vector<std::thread> m_threads;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_exit_code{0};
  std::mutex m_exit_mu;
  std::string m_exit_reason;
  std::atomic<u64> m_unhandled_mmio{0}, m_unhandled_sbi{0};
  struct ExitCounts {
    std::atomic<u64> mmio{0}, sbi{0}, csr{0}, system_event{0}, intr{0}, other{0};
  } m_exits;
};

}  // namespace rvkvm::vmm
