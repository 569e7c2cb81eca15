#pragma once
// The memory that G-stage page tables live in.
//
// In the hypervisor world host-physical = host-virtual, so a table page is named in a PTE by its
// own host address, and the hart's walker reads it through the Bus. The Bus knows RAM as a short
// list of ranges, so the pool is one contiguous reservation that the hypervisor registers once:
//   bus.add_ram(reinterpret_cast<u64>(pool.base()), pool.size(), pool.base());
// and never has to touch the Bus again as tables come and go.
//
// Thread safety: none. Every caller holds the owning VM's MMU lock (the same lock that serialises
// G-stage updates); harts on other threads only *read* table pages, through atomic loads.
#include "common/types.h"

namespace rvkvm::hyp {

class PagePool {
 public:
  static constexpr u64 kPageSize = 4096;
  static constexpr u64 kRootSize = 16384;  // G-stage root: 2048 PTEs, 16 KiB aligned (priv 9.5)
  static constexpr u64 kDefaultSize = 64ull << 20;

  // Reserves `size` bytes (rounded up to 16 KiB) of address space with MAP_NORESERVE: pages cost
  // host memory only once a table is written into them. On failure the pool is empty (ok() false)
  // and every allocation returns nullptr.
  explicit PagePool(u64 size = kDefaultSize);
  ~PagePool();
  PagePool(const PagePool&) = delete;
  PagePool& operator=(const PagePool&) = delete;

  [[nodiscard]] bool ok() const { return m_base != nullptr; }

  // A zeroed 4 KiB page, or nullptr when the pool is exhausted (never aborts).
  [[nodiscard]] void* alloc_page();
  // A zeroed, 16 KiB-aligned 16 KiB block for a G-stage root, or nullptr.
  [[nodiscard]] void* alloc_root();
  // Return blocks obtained from alloc_page / alloc_root. The caller must make sure no hart can
  // still be walking through them (see GStage::reclaim_retired). nullptr is ignored.
  void free_page(void* p);
  void free_root(void* p);

  // True if `p` lies inside the pool's reservation (allocated or not).
  [[nodiscard]] bool owns(const void* p) const;
  // True if [addr, addr + len) intersects the reservation; used to keep guest leaves out of it.
  [[nodiscard]] bool overlaps(u64 addr, u64 len) const;

  // The reservation, for Bus registration.
  [[nodiscard]] u8* base() const { return m_base; }
  [[nodiscard]] u64 size() const { return m_size; }

  // 4 KiB pages currently handed out (a root counts as four), for statistics and leak tests.
  [[nodiscard]] u64 pages_in_use() const { return m_in_use; }

 private:
  // Freed blocks are chained through their first word: a free block is never walked by a hart
  // (that is the caller's contract above), so its contents are ours to reuse.
  struct FreeBlock {
    FreeBlock* next;
  };

  u8* m_map = nullptr;  // what mmap returned (before alignment), for munmap
  u64 m_map_len = 0;
  u8* m_base = nullptr;
  u64 m_size = 0;
  // Never-used space: 4 KiB pages are carved from the bottom and roots from the top, so roots
  // always find 16 KiB alignment without wasting pages in between.
  u64 m_low = 0;   // offset of the first never-used byte
  u64 m_high = 0;  // offset one past the last never-used byte
  FreeBlock* m_free_pages = nullptr;
  FreeBlock* m_free_roots = nullptr;
  u64 m_in_use = 0;
};

}  // namespace rvkvm::hyp
