#pragma once
// The device tree the VMM hands to the guest, generated with libfdt (Documentation/devicetree
// bindings: riscv/cpus.yaml, sifive,plic-1.0.0, ns16550, virtio/mmio, goldfish-rtc, syscon).
#include <string>
#include <vector>

#include "common/types.h"

namespace rvkvm::vmm {

struct FdtDevice {
  std::string node;                      // e.g. "serial@10000000"
  std::vector<std::string> compatible;   // most specific first
  u64 base = 0, size = 0;
  u32 irq = 0;                           // PLIC source, 0 for none
  std::vector<std::pair<std::string, u32>> u32_props;  // extra cells, e.g. clock-frequency
};

struct FdtConfig {
  u64 ram_base = 0, ram_size = 0;
  unsigned cpus = 1;
  std::string isa;                       // riscv,isa, e.g. "rv64imafdc_zicsr_..."
  std::vector<std::string> isa_extensions;  // riscv,isa-extensions
  std::string mmu_type = "riscv,sv57";
  u64 timebase_hz = 10'000'000;
  std::string bootargs;
  std::string stdout_path;               // e.g. "/soc/serial@10000000"
  u64 initrd_start = 0, initrd_end = 0;
  u64 plic_base = 0, plic_size = 0;
  u32 plic_sources = 96;
  u64 syscon_base = 0, syscon_size = 0;  // the SiFive test device, for syscon-poweroff/reboot
  std::vector<FdtDevice> devices;
};

// Builds the blob. Returns false with `error` set if libfdt fails (e.g. too small a buffer).
bool build_fdt(const FdtConfig& cfg, std::vector<u8>& blob, std::string& error);

}  // namespace rvkvm::vmm
