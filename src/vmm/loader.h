#pragma once
// Loads what the guest boots: a Linux RISC-V Image, an ELF, or a flat binary, plus the initrd,
// and decides where everything goes the way kvmtool does (riscv/kvm.c).
#include <string>
#include <vector>

#include "common/types.h"
#include "vmm/device.h"

namespace rvkvm::vmm {

struct BootLayout {
  u64 kernel_entry = 0;
  u64 kernel_start = 0, kernel_end = 0;
  u64 fdt_addr = 0;        // where the device tree goes
  u64 initrd_start = 0, initrd_end = 0;  // 0, 0 when there is none
  std::string kernel_kind;  // "Image", "ELF" or "flat"
};

inline constexpr u64 kFdtMaxSize = 64 * 1024;

// Loads the kernel and initrd into guest RAM. Returns false with `error` set when a file is
// missing or does not fit.
bool load_guest(const GuestMemory& mem, const std::string& kernel_path, const std::string& initrd_path,
                BootLayout& out, std::string& error);

// True if `bytes` start with a RISC-V Linux Image header (magic2 "RSC\x05" at offset 56).
bool is_linux_image(const std::vector<u8>& bytes);

}  // namespace rvkvm::vmm
