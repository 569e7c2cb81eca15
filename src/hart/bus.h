#pragma once
// The physical address space seen by a hart: RAM ranges backed by host memory, and MMIO devices.
// In the full-machine world these are the machine's RAM and devices. In the hypervisor world the
// "physical" addresses are host addresses (host-physical = host-virtual) and there are no devices:
// every range is a memory slot or the page-table pool handed out by the hypervisor.
//
// Harts on several threads read the RAM list while the hypervisor changes memory slots, so the
// list is an immutable snapshot published atomically; replaced snapshots live until the bus dies.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "common/types.h"

namespace rvkvm {

class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  // `offset` is relative to the device base; `size` is 1, 2, 4 or 8. Returning false means the
  // access is not supported and becomes an access fault for the hart.
  [[nodiscard]] virtual bool mmio_read(u64 offset, unsigned size, u64& value) = 0;
  [[nodiscard]] virtual bool mmio_write(u64 offset, unsigned size, u64 value) = 0;
};

class Bus {
 public:
  struct Ram {
    u64 base;
    u64 size;
    u8* host;
  };
  struct Device {
    u64 base;
    u64 size;
    MmioDevice* dev;
  };

  Bus();
  // Ranges must not overlap, except identity-mapped ranges (base == host address), which may
  // overlap each other because they name the same host memory. Returns false on a conflict.
  bool add_ram(u64 base, u64 size, u8* host);
  // Removes one range added with exactly this base and size.
  bool remove_ram(u64 base, u64 size);
  // Devices are added while the machine is built, before any hart runs.
  bool add_device(u64 base, u64 size, MmioDevice* dev);

  // Host pointer for [paddr, paddr + len) if it lies inside one RAM range, else nullptr.
  [[nodiscard]] u8* ram_ptr(u64 paddr, u64 len) const;
  [[nodiscard]] bool read(u64 paddr, unsigned size, u64& value) const;
  [[nodiscard]] bool write(u64 paddr, unsigned size, u64 value) const;

  // Copies between host memory and bus RAM, for loaders. False if any byte is not RAM.
  bool write_bytes(u64 paddr, const void* src, u64 len) const;
  bool read_bytes(u64 paddr, void* dst, u64 len) const;

 private:
  const Device* find_device(u64 paddr, unsigned size) const;
  void publish(std::vector<Ram> next);
  std::mutex m_write_mu;
  std::atomic<const std::vector<Ram>*> m_rams{nullptr};
  std::vector<std::unique_ptr<const std::vector<Ram>>> m_snapshots;
  std::vector<Device> m_devices;
};

}  // namespace rvkvm
