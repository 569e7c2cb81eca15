#pragma once
// A loader for little-endian ELF64 RISC-V executables.
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace rvkvm {

struct ElfSegment {
  u64 paddr;
  u64 memsz;
  std::vector<u8> data;  // filesz bytes; the rest up to memsz is zero
};

struct ElfImage {
  u64 entry = 0;
  std::vector<ElfSegment> segments;
  std::vector<std::pair<std::string, u64>> symbols;
  [[nodiscard]] std::optional<u64> symbol(std::string_view name) const;
};

// Parses `bytes` as an ELF64 RISC-V executable. On failure returns nullopt and sets `error`.
std::optional<ElfImage> parse_elf(const std::vector<u8>& bytes, std::string& error);
bool is_elf(const std::vector<u8>& bytes);
bool read_file(const std::string& path, std::vector<u8>& out, std::string& error);

}  // namespace rvkvm
