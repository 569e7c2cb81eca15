#pragma once
// The bare-metal machine behind `rvkvm sim`: one hart, RAM, a CLINT-compatible timer, a 16550
// UART, a SiFive-test finisher and Spike's HTIF (tohost/fromhost).
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/elf.h"
#include "common/host_memory.h"
#include "common/uart16550.h"
#include "hart/hart.h"

namespace rvkvm {

struct SimConfig {
  u64 ram_base = 0x8000'0000;
  u64 ram_size = 128ull << 20;
  u64 max_insns = 0;  // 0: no limit
  ClockKind clock = ClockKind::instret;
  std::FILE* console = stdout;
  std::FILE* trace = nullptr;
};

enum class SimOutcome : u8 { pass, fail, timeout, error };

struct SimResult {
  SimOutcome outcome = SimOutcome::error;
  u64 code = 0;  // failure code reported by the program
  u64 instructions = 0;
  double seconds = 0;
  std::string message;
};

class SimMachine {
 public:
  explicit SimMachine(const SimConfig& cfg);
  ~SimMachine();

  // Loads an ELF executable into RAM and points the hart at its entry.
  bool load_elf(const ElfImage& img, std::string& error);
  SimResult run();

  [[nodiscard]] Hart& hart() { return *m_hart; }
  [[nodiscard]] Bus& bus() { return m_bus; }

  // Finisher and CLINT register a result here; public for the device classes.
  void finish(SimOutcome o, u64 code, std::string msg);

 private:
  class Clint;
  class UartDevice;
  class Finisher;
  bool poll_htif();

  SimConfig m_cfg;
  Bus m_bus;
  HostMemory m_ram;
  std::unique_ptr<Hart> m_hart;
  std::unique_ptr<Clint> m_clint;
  std::unique_ptr<UartDevice> m_uart;
  std::unique_ptr<Finisher> m_finisher;
  std::optional<u64> m_tohost, m_fromhost;
  std::optional<SimResult> m_result;
};

}  // namespace rvkvm
