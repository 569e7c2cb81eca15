#pragma once
// What every device model of the VMM sees. Devices are called from VCPU threads (MMIO exits) and
// from the event-loop thread (I/O readiness), so each device protects its own state.
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>

#include "common/types.h"

namespace rvkvm::vmm {

// Guest RAM as the VMM sees it: one contiguous range at `base` (QEMU virt: 0x80000000).
// Every guest-provided address and length goes through ptr(), which returns nullptr when the range
// is not wholly inside RAM: a hostile guest can never make the VMM touch other memory.
class GuestMemory {
 public:
  GuestMemory() = default;
  GuestMemory(u8* host, u64 base, u64 size) : m_host(host), m_base(base), m_size(size) {}
  [[nodiscard]] u8* ptr(u64 gpa, u64 len) const {
    if (gpa < m_base || len > m_size || gpa - m_base > m_size - len) return nullptr;
    return m_host + (gpa - m_base);
  }
  [[nodiscard]] bool read(u64 gpa, void* dst, u64 len) const {
    const u8* p = ptr(gpa, len);
    if (!p) return false;
    std::memcpy(dst, p, len);
    return true;
  }
  [[nodiscard]] bool write(u64 gpa, const void* src, u64 len) const {
    u8* p = ptr(gpa, len);
    if (!p) return false;
    std::memcpy(p, src, len);
    return true;
  }
  [[nodiscard]] u64 base() const { return m_base; }
  [[nodiscard]] u64 size() const { return m_size; }
  [[nodiscard]] u8* host() const { return m_host; }

 private:
  u8* m_host = nullptr;
  u64 m_base = 0;
  u64 m_size = 0;
};

// An interrupt line into the interrupt controller (the PLIC), level-triggered.
class IrqLine {
 public:
  using SetFn = std::function<void(u32 irq, bool level)>;
  IrqLine() = default;
  IrqLine(SetFn fn, u32 irq) : m_fn(std::move(fn)), m_irq(irq) {}
  void set(bool level) const {
    if (m_fn) m_fn(m_irq, level);
  }
  [[nodiscard]] u32 number() const { return m_irq; }

 private:
  SetFn m_fn;
  u32 m_irq = 0;
};

// A memory-mapped device. `offset` is relative to the device's base; `len` is 1, 2, 4 or 8 and
// `data` little-endian. Accesses the device does not support read as zero and writes are
// ignored (and counted by the device where it helps debugging): never a crash.
class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  virtual void mmio_read(u64 offset, u8* data, u32 len) = 0;
  virtual void mmio_write(u64 offset, const u8* data, u32 len) = 0;
};

// Little-endian helpers for MMIO data.
inline u64 mmio_value(const u8* data, u32 len) {
  u64 v = 0;
  std::memcpy(&v, data, len > 8 ? 8 : len);
  return v;
}
inline void mmio_set(u8* data, u32 len, u64 v) { std::memcpy(data, &v, len > 8 ? 8 : len); }

}  // namespace rvkvm::vmm
