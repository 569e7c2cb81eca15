#include "common/elf.h"

#include <elf.h>

#include <cstring>
#include <fstream>

namespace rvkvm {

std::optional<u64> ElfImage::symbol(std::string_view name) const {
  for (const auto& [n, v] : symbols)
    if (n == name) return v;
  return std::nullopt;
}

bool is_elf(const std::vector<u8>& b) { return b.size() >= 4 && std::memcmp(b.data(), ELFMAG, SELFMAG) == 0; }

bool read_file(const std::string& path, std::vector<u8>& out, std::string& error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    error = "cannot open " + path;
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return true;
}

namespace {
template <typename T>
bool read_at(const std::vector<u8>& b, u64 off, T& out) {
  if (off > b.size() || sizeof(T) > b.size() - off) return false;
  std::memcpy(&out, b.data() + off, sizeof(T));
  return true;
}
}  // namespace

std::optional<ElfImage> parse_elf(const std::vector<u8>& b, std::string& error) {
  Elf64_Ehdr eh;
  if (!is_elf(b) || !read_at(b, 0, eh)) {
    error = "not an ELF file";
    return std::nullopt;
  }
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_RISCV) {
    error = "not a little-endian ELF64 RISC-V file";
    return std::nullopt;
  }
  ElfImage img;
  img.entry = eh.e_entry;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!read_at(b, eh.e_phoff + u64{i} * eh.e_phentsize, ph)) {
      error = "truncated program header";
      return std::nullopt;
    }
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_filesz > ph.p_memsz || ph.p_offset > b.size() || ph.p_filesz > b.size() - ph.p_offset) {
      error = "bad PT_LOAD segment";
      return std::nullopt;
    }
    ElfSegment seg{ph.p_paddr, ph.p_memsz, {}};
    seg.data.assign(b.begin() + static_cast<long>(ph.p_offset), b.begin() + static_cast<long>(ph.p_offset + ph.p_filesz));
    img.segments.push_back(std::move(seg));
  }
  // Symbols (optional): used for HTIF's tohost/fromhost.
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    if (!read_at(b, eh.e_shoff + u64{i} * eh.e_shentsize, sh) || sh.sh_type != SHT_SYMTAB) continue;
    Elf64_Shdr strtab;
    if (!read_at(b, eh.e_shoff + u64{sh.sh_link} * eh.e_shentsize, strtab)) continue;
    for (u64 off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      if (!read_at(b, sh.sh_offset + off, sym)) break;
      u64 name_off = strtab.sh_offset + sym.st_name;
      if (name_off >= b.size()) continue;
      const char* s = reinterpret_cast<const char*>(b.data() + name_off);
      std::size_t max = b.size() - name_off;
      std::size_t len = strnlen(s, max);
      if (len == 0 || len == max) continue;
      img.symbols.emplace_back(std::string(s, len), sym.st_value);
    }
  }
  return img;
}

}  // namespace rvkvm
