#include "vmm/loader.h"

#include <cstring>

#include "common/elf.h"

namespace rvkvm::vmm {
namespace {

constexpr u64 k2M = 2ull << 20;
constexpr u64 k4M = 4ull << 20;
constexpr u64 k256M = 256ull << 20;

// Documentation/arch/riscv/boot-image-header.rst: code0, code1, text_offset, image_size, flags,
// version, res1, res2, magic ("RISCV\0\0\0", deprecated), magic2 ("RSC\x05"), res3.
struct ImageHeader {
  u32 code0, code1;
  u64 text_offset, image_size, flags;
  u32 version, res1;
  u64 res2, magic;
  u32 magic2, res3;
};
static_assert(sizeof(ImageHeader) == 64);
constexpr u32 kImageMagic2 = 0x05435352;  // "RSC\x05"

u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

bool is_linux_image(const std::vector<u8>& b) {
  if (b.size() < sizeof(ImageHeader)) return false;
  ImageHeader h;
  std::memcpy(&h, b.data(), sizeof(h));
  return h.magic2 == kImageMagic2;
}

bool load_guest(const GuestMemory& mem, const std::string& kernel_path, const std::string& initrd_path,
                BootLayout& out, std::string& error) {
  std::vector<u8> k;
  if (!read_file(kernel_path, k, error)) return false;
  if (k.empty()) {
    error = kernel_path + " is empty";
    return false;
  }
  const u64 ram = mem.base();
  if (is_elf(k)) {
    auto img = parse_elf(k, error);
    if (!img) return false;
    u64 lo = ~0ull, hi = 0;
    for (const auto& s : img->segments) {
      if (!mem.write(s.paddr, s.data.data(), s.data.size()) || !mem.ptr(s.paddr, s.memsz)) {
        error = "ELF segment outside guest RAM";
        return false;
      }
      std::memset(mem.ptr(s.paddr, s.memsz) + s.data.size(), 0, s.memsz - s.data.size());
      lo = std::min(lo, s.paddr);
      hi = std::max(hi, s.paddr + s.memsz);
    }
    out.kernel_entry = img->entry;
    out.kernel_start = lo;
    out.kernel_end = hi;
    out.kernel_kind = "ELF";
  } else {
    // A Linux Image (or a flat binary) goes at RAM + 2 MiB, as kvmtool places an RV64 kernel.
    u64 load = ram + k2M;
    u64 size = k.size();
    if (is_linux_image(k)) {
      ImageHeader h;
      std::memcpy(&h, k.data(), sizeof(h));
      // image_size covers .bss too: nothing else may be placed before its end.
      size = std::max<u64>(size, h.image_size);
      out.kernel_kind = "Image";
    } else {
      out.kernel_kind = "flat";
    }
    if (!mem.ptr(load, size) || !mem.write(load, k.data(), k.size())) {
      error = "the kernel does not fit in guest RAM";
      return false;
    }
    out.kernel_entry = load;
    out.kernel_start = load;
    out.kernel_end = load + size;
  }
  // The device tree after the kernel, aligned to 4 MiB.
  out.fdt_addr = align_up(out.kernel_end, k4M);
  if (!mem.ptr(out.fdt_addr, kFdtMaxSize)) {
    error = "no room for the device tree after the kernel";
    return false;
  }
  out.initrd_start = out.initrd_end = 0;
  if (!initrd_path.empty()) {
    std::vector<u8> rd;
    if (!read_file(initrd_path, rd, error)) return false;
    // At the top of the first min(RAM, 256 MiB), page aligned, above the device tree.
    u64 top = ram + std::min(mem.size(), k256M);
    if (rd.size() > top - ram) {
      error = "the initrd does not fit in guest RAM";
      return false;
    }
    u64 start = (top - rd.size()) & ~0xfffull;
    if (start < out.fdt_addr + kFdtMaxSize) {
      error = "the initrd overlaps the kernel or the device tree: give the guest more memory";
      return false;
    }
    if (!mem.write(start, rd.data(), rd.size())) {
      error = "the initrd does not fit in guest RAM";
      return false;
    }
    out.initrd_start = start;
    out.initrd_end = start + rd.size();
  }
  return true;
}

}  // namespace rvkvm::vmm
