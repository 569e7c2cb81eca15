#include "hart/bus.h"

#include <algorithm>
#include <cstring>

namespace rvkvm {
namespace {
bool overlaps(u64 a, u64 as, u64 b, u64 bs) { return a < b + bs && b < a + as; }
bool identity(const Bus::Ram& r) { return reinterpret_cast<u64>(r.host) == r.base; }
}  // namespace

Bus::Bus() { publish({}); }

void Bus::publish(std::vector<Ram> next) {
  auto snap = std::make_unique<const std::vector<Ram>>(std::move(next));
  m_rams.store(snap.get(), std::memory_order_release);
  m_snapshots.push_back(std::move(snap));
}

bool Bus::add_ram(u64 base, u64 size, u8* host) {
  if (size == 0 || base + size < base) return false;
  std::lock_guard lock(m_write_mu);
  Ram nr{base, size, host};
  const auto& cur = *m_rams.load(std::memory_order_acquire);
  for (const Ram& r : cur)
    if (overlaps(base, size, r.base, r.size) && !(identity(r) && identity(nr))) return false;
  for (const Device& d : m_devices)
    if (overlaps(base, size, d.base, d.size)) return false;
  std::vector<Ram> next = cur;
  next.push_back(nr);
  publish(std::move(next));
  return true;
}

bool Bus::remove_ram(u64 base, u64 size) {
  std::lock_guard lock(m_write_mu);
  std::vector<Ram> next = *m_rams.load(std::memory_order_acquire);
  auto it = std::find_if(next.begin(), next.end(), [&](const Ram& r) { return r.base == base && r.size == size; });
  if (it == next.end()) return false;
  next.erase(it);
  publish(std::move(next));
  return true;
}

bool Bus::add_device(u64 base, u64 size, MmioDevice* dev) {
  if (size == 0 || base + size < base) return false;
  std::lock_guard lock(m_write_mu);
  for (const Ram& r : *m_rams.load(std::memory_order_acquire))
    if (overlaps(base, size, r.base, r.size)) return false;
  for (const Device& d : m_devices)
    if (overlaps(base, size, d.base, d.size)) return false;
  m_devices.push_back({base, size, dev});
  return true;
}

u8* Bus::ram_ptr(u64 paddr, u64 len) const {
  for (const Ram& r : *m_rams.load(std::memory_order_acquire))
    if (paddr - r.base < r.size && len <= r.size - (paddr - r.base)) return r.host + (paddr - r.base);
  return nullptr;
}

const Bus::Device* Bus::find_device(u64 paddr, unsigned size) const {
  for (const Device& d : m_devices)
    if (paddr - d.base < d.size && size <= d.size - (paddr - d.base)) return &d;
  return nullptr;
}

bool Bus::read(u64 paddr, unsigned size, u64& value) const {
  if (u8* p = ram_ptr(paddr, size)) {
    value = 0;
    std::memcpy(&value, p, size);
    return true;
  }
  const Device* d = find_device(paddr, size);
  return d && d->dev->mmio_read(paddr - d->base, size, value);
}

bool Bus::write(u64 paddr, unsigned size, u64 value) const {
  if (u8* p = ram_ptr(paddr, size)) {
    std::memcpy(p, &value, size);
    return true;
  }
  const Device* d = find_device(paddr, size);
  return d && d->dev->mmio_write(paddr - d->base, size, value);
}

bool Bus::write_bytes(u64 paddr, const void* src, u64 len) const {
  if (len == 0) return true;
  u8* p = ram_ptr(paddr, len);
  if (!p) return false;
  std::memcpy(p, src, len);
  return true;
}

bool Bus::read_bytes(u64 paddr, void* dst, u64 len) const {
  if (len == 0) return true;
  const u8* p = ram_ptr(paddr, len);
  if (!p) return false;
  std::memcpy(dst, p, len);
  return true;
}

}  // namespace rvkvm
