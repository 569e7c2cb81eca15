// rvkvm: one binary, several subcommands.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"rvkvm: RISC-V virtualization stack (RV64GC+H hart, KVM-style hypervisor, VMM)"};
  app.set_version_flag("--version", "rvkvm 0.1.0");
  app.require_subcommand(1);
  rvkvm::cli::register_sim(app);
  rvkvm::cli::register_run(app);
  CLI11_PARSE(app, argc, argv);
  return rvkvm::cli::exit_code();
}
