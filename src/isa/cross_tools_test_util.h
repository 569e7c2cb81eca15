#pragma once
// Test-only helpers that drive the RISC-V cross assembler and objdump (paths come from CMake as
// RVKVM_RISCV_AS / RVKVM_RISCV_OBJDUMP), so the decoder, expander and disassembler are checked
// against an independent implementation instead of against numbers copied into the tests.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"

#ifndef RVKVM_RISCV_AS
#define RVKVM_RISCV_AS ""
#endif
#ifndef RVKVM_RISCV_OBJDUMP
#define RVKVM_RISCV_OBJDUMP ""
#endif

namespace rvkvm::isa::testing {

inline constexpr std::string_view kAs = RVKVM_RISCV_AS;
inline constexpr std::string_view kObjdump = RVKVM_RISCV_OBJDUMP;

// binutils 2.40 does not know Zicond, so tests emit it with .insn (and objdump shows it as
// .4byte). H comes from the single-letter "h". The assembler's -mpriv-spec=1.12 is recorded in
// the object's attributes and makes objdump name the 1.12 CSRs (menvcfg, mconfigptr, ...).
inline constexpr std::string_view kMarch = "rv64gch_zba_zbb_zbs_svinval_zihintpause";

// CMake leaves "<VAR>-NOTFOUND" in a find_program result it could not resolve.
constexpr bool tool_configured(std::string_view path) {
  return !path.empty() && !(path.size() >= 9 && path.substr(path.size() - 9) == "-NOTFOUND");
}

#define RVKVM_REQUIRE_CROSS_TOOLS()                                                                         \
  do {                                                                                                     \
    if (!::rvkvm::isa::testing::tool_configured(::rvkvm::isa::testing::kAs) ||                             \
        !::rvkvm::isa::testing::tool_configured(::rvkvm::isa::testing::kObjdump))                          \
      GTEST_SKIP() << "riscv64-unknown-elf binutils not found at configure time";                           \
  } while (0)

// A scratch directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "rvkvm-isa-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr together, for failure messages
};

inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[1 << 16];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline void write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

// One instruction line of `objdump -d`: its address, the encoding objdump read, how many bytes it
// spans, and the instruction text ("mnemonic\toperands") with the parts a stateless disassembler
// cannot produce normalised away: trailing "# ..." comments are dropped, and an ELF branch target
// "42 <.text+0x42>" becomes "0x42".
struct DumpLine {
  u64 addr = 0;
  u32 raw = 0;
  unsigned len = 0;
  std::string text;
};

inline std::optional<DumpLine> parse_dump_line(const std::string& line) {
  // "   1c:\t0001                \tc.addi\tzero,0"
  std::size_t colon = line.find(":\t");
  if (colon == std::string::npos) return std::nullopt;
  std::string addr = line.substr(0, colon);
  std::size_t first = addr.find_first_not_of(' ');
  if (first == std::string::npos) return std::nullopt;
  addr = addr.substr(first);
  if (addr.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  std::size_t hex_start = colon + 2;
  std::size_t hex_end = line.find(' ', hex_start);
  std::size_t text_start = line.find('\t', hex_start);
  if (hex_end == std::string::npos || text_start == std::string::npos) return std::nullopt;
  DumpLine d;
  d.addr = std::stoull(addr, nullptr, 16);
  std::string hex = line.substr(hex_start, hex_end - hex_start);
  d.raw = static_cast<u32>(std::stoul(hex, nullptr, 16));
  d.len = static_cast<unsigned>(hex.size() / 2);
  d.text = line.substr(text_start + 1);
  if (std::size_t c = d.text.find(" #"); c != std::string::npos) d.text.erase(c);
  if (std::size_t s = d.text.find(" <"); s != std::string::npos) {
    d.text.erase(s);
    std::size_t op = d.text.find_last_of("\t,");
    d.text.insert(op + 1, "0x");
  }
  return d;
}

inline std::vector<DumpLine> parse_dump(const std::string& dump) {
  std::vector<DumpLine> lines;
  std::istringstream in(dump);
  std::string line;
  while (std::getline(in, line))
    if (auto d = parse_dump_line(line)) lines.push_back(*d);
  return lines;
}

// Assembles `source` (norelax, so branch offsets are final in the object) and returns objdump's
// reading of the object's text. Fails the calling test (and returns nothing) if a tool fails.
inline std::vector<DumpLine> assemble_and_dump(std::string_view source) {
  TempDir dir;
  std::string src = dir.file("t.s"), obj = dir.file("t.o");
  write_file(src, std::string(".option norelax\n") + std::string(source));
  auto as = run_command(std::string(kAs) + " -march=" + std::string(kMarch) + " -mpriv-spec=1.12 -o " + obj + " " +
                        src);
  if (as.status != 0) {
    ADD_FAILURE() << "assembler failed:\n" << as.output;
    return {};
  }
  auto od = run_command(std::string(kObjdump) + " -d -z -M no-aliases " + obj);
  if (od.status != 0) {
    ADD_FAILURE() << "objdump failed:\n" << od.output;
    return {};
  }
  return parse_dump(od.output);
}

// objdump's reading of raw little-endian bytes loaded at `vma`, with no ELF attributes: binutils
// then assumes rv64gc, which covers every compressed instruction and all base branches.
inline std::vector<DumpLine> dump_raw(const std::vector<u8>& bytes, u64 vma) {
  TempDir dir;
  std::string bin = dir.file("t.bin");
  write_file(bin, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  char adjust[64];
  std::snprintf(adjust, sizeof adjust, "0x%llx", static_cast<unsigned long long>(vma));
  auto od = run_command(std::string(kObjdump) + " -D -z -b binary -m riscv:rv64 -M no-aliases --adjust-vma=" + adjust +
                        " " + bin);
  if (od.status != 0) {
    ADD_FAILURE() << "objdump failed:\n" << od.output;
    return {};
  }
  return parse_dump(od.output);
}

inline void append_le(std::vector<u8>& out, u32 v, unsigned len) {
  for (unsigned i = 0; i < len; ++i) out.push_back(static_cast<u8>(v >> (8 * i)));
}

}  // namespace rvkvm::isa::testing
