#pragma once
// Anonymous host memory for guest RAM: zero-filled lazily by the kernel, so a large RAM costs
// nothing until it is touched.
#include <sys/mman.h>

#include <cstddef>
#include <utility>

#include "common/types.h"

namespace rvkvm {

class HostMemory {
 public:
  HostMemory() = default;
  explicit HostMemory(std::size_t size) : m_size(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) m_ptr = static_cast<u8*>(p);
    else m_size = 0;
  }
  ~HostMemory() { reset(); }
  HostMemory(HostMemory&& o) noexcept : m_ptr(std::exchange(o.m_ptr, nullptr)), m_size(std::exchange(o.m_size, 0)) {}
  HostMemory& operator=(HostMemory&& o) noexcept {
    if (this != &o) {
      reset();
      m_ptr = std::exchange(o.m_ptr, nullptr);
      m_size = std::exchange(o.m_size, 0);
    }
    return *this;
  }
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;

  [[nodiscard]] u8* data() const { return m_ptr; }
  [[nodiscard]] std::size_t size() const { return m_size; }
  [[nodiscard]] explicit operator bool() const { return m_ptr != nullptr; }

 private:
  void reset() {
    if (m_ptr) ::munmap(m_ptr, m_size);
    m_ptr = nullptr;
    m_size = 0;
  }
  u8* m_ptr = nullptr;
  std::size_t m_size = 0;
};

}  // namespace rvkvm
