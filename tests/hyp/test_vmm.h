#pragma once
// A small VMM for the hypervisor's guest tests, written against the public API only (as kvmtool
// is written against /dev/kvm): one RAM memslot at 0x80000000, the guest ELF loaded into it, a
// fake device tree, a console / sync / config / counter device and a test device on MMIO, the
// console SBI extensions, and one thread per VCPU calling run(). Every wait is bounded: when the
// timeout expires the VMM kicks every VCPU, and the test fails instead of hanging (a VCPU thread
// still inside run() 5 s after its kick aborts the process rather than hang it).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "guests/common/layout.h"
#include "hyp/api/kvm.h"
#include "hyp/api/riscv_regs.h"

namespace rvkvm::hyptest {

using hyp::u32;
using hyp::u64;
using hyp::u8;

struct VmmOptions {
  u32 vcpus = 1;
  u64 ram_size = 64ull << 20;
  u64 config = 0;  // what the guest reads from SYSDEV_CONFIG
  std::chrono::milliseconds timeout{10'000};
};

struct MmioAccess {
  u32 vcpu = 0;
  u64 addr = 0;
  u32 len = 0;
  u64 value = 0;
  bool is_write = false;
};

struct SbiCall {
  u32 vcpu = 0;
  u64 ext = 0, fid = 0;
  u64 args[6] = {};
  u64 ret[2] = {};  // as answered
};

struct RunResult {
  bool timed_out = false;
  bool system_event = false;
  u32 event_type = 0;
  u64 event_reason = 0;  // data[0]
  u32 event_vcpu = 0;
  std::vector<std::string> errors;  // unexpected exits, unexpected MMIO, API failures
  [[nodiscard]] bool clean() const { return !timed_out && errors.empty(); }
  [[nodiscard]] bool passed() const {  // the guest's success: SRST shutdown, reason none
    return clean() && system_event && event_type == hyp::KVM_SYSTEM_EVENT_SHUTDOWN && event_reason == 0;
  }
};

class TestVmm {
 public:
  explicit TestVmm(const VmmOptions& opts = {});
  ~TestVmm();
  TestVmm(const TestVmm&) = delete;
  TestVmm& operator=(const TestVmm&) = delete;

  // False (with error()) if the VM could not be set up.
  [[nodiscard]] bool ok() const { return m_setup_error.empty(); }
  [[nodiscard]] const std::string& error() const { return m_setup_error; }

  // Loads an ELF's segments into RAM; remembers its entry point and symbols.
  [[nodiscard]] bool load_elf(const std::string& path);
  [[nodiscard]] std::optional<u64> symbol(const std::string& name) const;

  // Adds a memslot backed by fresh anonymous memory aligned to 2 MiB; returns its host address.
  u8* add_memslot(u32 slot, u64 gpa, u64 size, u32 flags);
  [[nodiscard]] u8* slot_hva(u32 slot) const;
  // The host address of guest-physical [gpa, gpa + len) if it lies in one memslot.
  [[nodiscard]] u8* hva(u64 gpa, u64 len) const;

  [[nodiscard]] hyp::Vm& vm() { return *m_vm; }
  [[nodiscard]] hyp::Vcpu& vcpu(u32 i) { return *m_vcpus.at(i); }
  [[nodiscard]] u32 num_vcpus() const { return static_cast<u32>(m_vcpus.size()); }
  // ONE_REG helpers applied to every VCPU (before start()); false on any error.
  bool set_isa_ext(u64 ext, bool on);
  bool set_sbi_ext(u64 ext, bool on);

  // Hooks, called on the VCPU's thread while that VCPU is out of run().
  // A write to SYSDEV_SYNC.
  std::function<void(u32 vcpu, u64 value)> on_sync;
  // Any KVM_EXIT_RISCV_SBI before the built-in handling; return true when answered.
  std::function<bool(u32 vcpu, hyp::SbiExit& sbi)> on_sbi;

  // Boots VCPU 0 at the ELF entry (a0 = 0, a1 = DTB) and starts the VCPU threads.
  void start();
  // Waits for a system event or an error, or the timeout; then stops and joins the threads.
  RunResult wait();
  RunResult run() {
    start();
    return wait();
  }
  // Asks every VCPU thread to stop (from any thread).
  void request_stop();

  // What the guest produced.
  [[nodiscard]] std::string console() const;         // SYSDEV_CONSOLE
  [[nodiscard]] std::string dbcn() const;            // SBI DBCN write / write_byte
  [[nodiscard]] std::string legacy_console() const;  // SBI v0.1 console_putchar
  // Test-device accesses, and writes to read-only memslots (which KVM turns into MMIO exits).
  [[nodiscard]] std::vector<MmioAccess> mmio_log() const;
  [[nodiscard]] std::vector<SbiCall> sbi_log() const;      // every SBI exit, as answered
  // A summary for failure messages: result, console output, errors.
  [[nodiscard]] std::string describe(const RunResult& r) const;

 private:
  struct Mapping {
    void* base = nullptr;
    std::size_t len = 0;
    u8* aligned = nullptr;
    u32 slot = 0;
    u32 flags = 0;
    u64 gpa = 0, size = 0;
  };
  [[nodiscard]] const Mapping* mapping_of(u64 gpa, u64 len) const;
  void vcpu_thread(u32 i);
  void handle_mmio(u32 i, hyp::MmioExit& m);
  void handle_sbi(u32 i, hyp::SbiExit& s);
  void add_error(std::string msg);
  void finish_with_event(u32 i, const hyp::SystemEventExit& e);
  u64 testdev_read(u64 off, u32 len);

  VmmOptions m_opts;
  std::string m_setup_error;
  // Declared first so they are destroyed last, after the VM.
  std::vector<Mapping> m_maps;
  std::unique_ptr<hyp::Hypervisor> m_hv;
  std::unique_ptr<hyp::Vm> m_vm;
  std::vector<hyp::Vcpu*> m_vcpus;
  u64 m_entry = 0;
  std::vector<std::pair<std::string, u64>> m_symbols;

  std::vector<std::thread> m_threads;
  std::atomic<bool> m_stop{false};
  std::atomic<u32> m_running_threads{0};
  bool m_started = false;
  bool m_waited = false;

  mutable std::mutex m_mu;  // everything below
  std::condition_variable m_cv;
  bool m_done = false;
  RunResult m_result;
  std::string m_console, m_dbcn, m_legacy;
  std::vector<MmioAccess> m_mmio_log;
  std::vector<SbiCall> m_sbi_log;
  u8 m_scratch[64] = {};
  u64 m_testdev_counter = 0;
  u64 m_sysdev_counter = 0;
};

}  // namespace rvkvm::hyptest
