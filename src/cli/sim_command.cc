// `rvkvm sim`: runs an M-mode ELF on the bare-metal machine.
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "common/elf.h"
#include "hart/machine.h"

namespace rvkvm::cli {
namespace {

int g_exit_code = 0;

bool parse_size(const std::string& s, u64& out) {
  if (s.empty()) return false;
  std::size_t idx = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(s, &idx, 0);
  } catch (...) {
    return false;
  }
  u64 mul = 1;
  std::string suffix = s.substr(idx);
  if (suffix == "K" || suffix == "k") mul = 1ull << 10;
  else if (suffix == "M" || suffix == "m") mul = 1ull << 20;
  else if (suffix == "G" || suffix == "g") mul = 1ull << 30;
  else if (!suffix.empty()) return false;
  out = v * mul;
  return true;
}

struct SimOptions {
  std::string elf;
  u64 max_insns = 0;
  std::string memory = "128M";
  bool stats = false;
  bool trace = false;
  std::string clock = "instret";
};

int run_sim(const SimOptions& o) {
  std::vector<u8> bytes;
  std::string err;
  if (!read_file(o.elf, bytes, err)) {
    fmt::print(stderr, "rvkvm sim: {}\n", err);
    return 2;
  }
  auto img = parse_elf(bytes, err);
  if (!img) {
    fmt::print(stderr, "rvkvm sim: {}: {}\n", o.elf, err);
    return 2;
  }
  SimConfig cfg;
  if (!parse_size(o.memory, cfg.ram_size) || cfg.ram_size < 4096 || cfg.ram_size % 4096) {
    fmt::print(stderr, "rvkvm sim: bad --memory '{}'\n", o.memory);
    return 2;
  }
  cfg.max_insns = o.max_insns;
  cfg.clock = o.clock == "host" ? ClockKind::host : ClockKind::instret;
  cfg.trace = o.trace ? stderr : nullptr;
  SimMachine m(cfg);
  if (!m.load_elf(*img, err)) {
    fmt::print(stderr, "rvkvm sim: {}\n", err);
    return 2;
  }
  SimResult r = m.run();
  if (o.stats) {
    double mips = r.seconds > 0 ? static_cast<double>(r.instructions) / r.seconds / 1e6 : 0;
    const auto& hs = m.hart().stats();
    fmt::print(stderr, "instructions: {}\nseconds: {:.3f}\nMIPS: {:.1f}\ntraps: {}\ninterrupts: {}\ntlb misses: {}\ndecoded pages: {}\n",
               r.instructions, r.seconds, mips, hs.traps, hs.interrupts, hs.tlb_misses, hs.decoded_pages);
  }
  switch (r.outcome) {
    case SimOutcome::pass: return 0;
    case SimOutcome::fail:
      fmt::print(stderr, "rvkvm sim: FAIL code {} ({})\n", r.code, r.message);
      return r.code == 0 ? 1 : static_cast<int>(std::min<u64>(r.code, 255) == 0 ? 1 : std::min<u64>(r.code, 255));
    case SimOutcome::timeout:
      fmt::print(stderr, "rvkvm sim: timeout after {} instructions (pc {:#x})\n", r.instructions, m.hart().pc());
      return 124;
    case SimOutcome::error:
      fmt::print(stderr, "rvkvm sim: error: {} (pc {:#x})\n", r.message, m.hart().pc());
      return 125;
  }
  return 125;
}

}  // namespace

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

void register_sim(CLI::App& app) {
  auto opts = std::make_shared<SimOptions>();
  CLI::App* sim = app.add_subcommand("sim", "Run a bare-metal M-mode ELF program on an emulated RV64GC+H hart");
  sim->add_option("--elf", opts->elf, "ELF executable (entry point from the ELF, RAM at 0x80000000)")->required();
  sim->add_option("--max-insns", opts->max_insns, "Stop with a timeout (exit 124) after N instructions");
  sim->add_option("-m,--memory", opts->memory, "RAM size, e.g. 128M or 1G")->capture_default_str();
  sim->add_option("--clock", opts->clock,
                  "Time source: 'instret' (reproducible, 10 instructions per tick) or 'host' (10 MHz host clock)")
      ->check(CLI::IsMember({"instret", "host"}))
      ->capture_default_str();
  sim->add_flag("--stats", opts->stats, "Print instruction count, wall time and MIPS at exit");
  sim->add_flag("--trace", opts->trace, "Print every executed instruction, disassembled, to stderr");
  sim->callback([opts] { set_exit_code(run_sim(*opts)); });
}

}  // namespace rvkvm::cli
