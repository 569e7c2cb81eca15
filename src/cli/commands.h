#pragma once
#include <CLI/CLI.hpp>

namespace rvkvm::cli {
void register_sim(CLI::App& app);
void register_run(CLI::App& app);
// The exit code chosen by the subcommand that ran.
int exit_code();
void set_exit_code(int code);
}  // namespace rvkvm::cli
