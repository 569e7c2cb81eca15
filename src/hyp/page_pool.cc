#include "hyp/page_pool.h"

#include <sys/mman.h>

#include <cstring>

namespace rvkvm::hyp {

PagePool::PagePool(u64 size) {
  if (size == 0) return;
  size = (size + kRootSize - 1) & ~(kRootSize - 1);
  // mmap only promises 4 KiB alignment; over-reserve so a 16 KiB-aligned base fits inside.
  u64 len = size + kRootSize - kPageSize;
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return;
  m_map = static_cast<u8*>(p);
  m_map_len = len;
  u64 aligned = (reinterpret_cast<u64>(p) + kRootSize - 1) & ~(kRootSize - 1);
  m_base = reinterpret_cast<u8*>(aligned);
  m_size = size;
  m_low = 0;
  m_high = size;
}

PagePool::~PagePool() {
  if (m_map) munmap(m_map, m_map_len);
}

void* PagePool::alloc_page() {
  if (m_free_pages) {
    FreeBlock* b = m_free_pages;
    m_free_pages = b->next;
    std::memset(b, 0, kPageSize);
    ++m_in_use;
    return b;
  }
  if (m_high - m_low >= kPageSize) {
    // Never-used anonymous memory is already zero; not touching it keeps MAP_NORESERVE cheap.
    void* p = m_base + m_low;
    m_low += kPageSize;
    ++m_in_use;
    return p;
  }
  if (m_free_roots) {
    // Out of fresh space: break a free root into four pages rather than fail.
    FreeBlock* b = m_free_roots;
    m_free_roots = b->next;
    u8* r = reinterpret_cast<u8*>(b);
    for (u64 off = kPageSize; off < kRootSize; off += kPageSize) {
      auto* f = reinterpret_cast<FreeBlock*>(r + off);
      f->next = m_free_pages;
      m_free_pages = f;
    }
    std::memset(r, 0, kPageSize);
    ++m_in_use;
    return r;
  }
  return nullptr;
}

void* PagePool::alloc_root() {
  if (m_free_roots) {
    FreeBlock* b = m_free_roots;
    m_free_roots = b->next;
    std::memset(b, 0, kRootSize);
    m_in_use += kRootSize / kPageSize;
    return b;
  }
  if (m_high - m_low >= kRootSize) {
    m_high -= kRootSize;  // m_high stays 16 KiB aligned: m_size is a multiple of kRootSize
    m_in_use += kRootSize / kPageSize;
    return m_base + m_high;
  }
  // Free 4 KiB pages are not coalesced: roots are one per VM, so this is not worth the bookkeeping.
  return nullptr;
}

void PagePool::free_page(void* p) {
  if (!p) return;
  auto* b = static_cast<FreeBlock*>(p);
  b->next = m_free_pages;
  m_free_pages = b;
  --m_in_use;
}

void PagePool::free_root(void* p) {
  if (!p) return;
  auto* b = static_cast<FreeBlock*>(p);
  b->next = m_free_roots;
  m_free_roots = b;
  m_in_use -= kRootSize / kPageSize;
}

bool PagePool::owns(const void* p) const {
  u64 a = reinterpret_cast<u64>(p);
  u64 b = reinterpret_cast<u64>(m_base);
  return m_base && a - b < m_size;
}

bool PagePool::overlaps(u64 addr, u64 len) const {
  if (!m_base || len == 0) return false;
  u64 b = reinterpret_cast<u64>(m_base);
  // Written without addr + len, which may wrap for hostile inputs.
  return addr >= b ? addr - b < m_size : b - addr < len;
}

}  // namespace rvkvm::hyp
