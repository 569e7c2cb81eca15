#pragma once
// The G-stage (guest-physical -> host-physical) page table of one VM, kept in the exact format the
// hart's walker reads (privileged spec 9.5: Sv39x4 / Sv48x4 / Sv57x4, hgatp MODE 8 / 9 / 10), so
// that installing it is one hgatp write and the hart needs no hypervisor callback on a TLB miss.
//
// Host-physical = host-virtual: a PTE's PPN is (host address >> 12). Table pages come from a
// PagePool; leaves may only point at host memory that a memory slot owns (the ownership predicate)
// and never into the pool, so a guest can never reach its own page tables or foreign host memory.
//
// Every leaf is written with V|R|X|U|A, plus W|D when writable:
//  - U=1 because G-stage permission checks treat every access as a U-mode access (9.5.1);
//  - A (and D for writable leaves) are set up front, as KVM does, because the hypervisor world runs
//    with menvcfg.ADUE=0 (Svade): the hart never writes a G-stage PTE and instead raises a
//    guest-page fault when A, or D for a store, is clear. Aging (test_and_clear_accessed) relies on
//    exactly that: clearing A makes the next access fault, and the fault handler re-maps the page.
//
// Concurrency: all mutators must be called with the VM's MMU lock held. Harts on other threads walk
// the tables at the same time without any lock, so every PTE is read and written with a single
// atomic 64-bit access, and a new table is fully initialised before the release store that links it.
// A table page that is unlinked (by unmap, by clear, or because a leaf replaced it) is not freed
// at once: a hart may be in the middle of a walk through it. It is "retired" with its contents
// intact; the caller returns retired pages to the pool with reclaim_retired() after the TLB flush
// that any change requires (HFENCE.GVMA on every hart of the VM, acknowledged).
//
// Errors are negative errno values, as KVM's ioctls return them: -EINVAL (-22), -EFAULT (-14),
// -ENOMEM (-12).
#include <functional>
#include <vector>

#include "common/types.h"
#include "hyp/page_pool.h"

namespace rvkvm::hyp {

class GStage {
 public:
  // Says whether the host range [hpa, hpa + size) lies entirely inside memory a slot of this VM
  // owns. Called by map() for every leaf, with the MMU lock held.
  using OwnsFn = std::function<bool(u64 hpa, u64 size)>;
  // For for_each_leaf: the GPA the leaf starts at (aligned to its size), the PTE, and its level
  // (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB).
  using LeafFn = std::function<void(u64 leaf_gpa, u64 pte, unsigned level)>;

  static constexpr u64 kSize4K = 1ull << 12, kSize2M = 1ull << 21, kSize1G = 1ull << 30;
  // map() return value on success when a valid entry (leaf or table) was replaced by a different
  // one: translations of the old entry may be cached, so the caller must flush before relying on
  // the new mapping everywhere (and may then reclaim_retired()).
  static constexpr int kReplaced = 1;

  // `mode` is the hgatp MODE (8, 9 or 10). Allocates the root from `pool`; if that fails or the
  // mode is not one of these, ok() is false and every operation fails harmlessly.
  GStage(PagePool& pool, u64 mode, OwnsFn owns);
  // Frees every table (live and retired) and the root. No hart may be using hgatp() any more.
  ~GStage();
  GStage(const GStage&) = delete;
  GStage& operator=(const GStage&) = delete;

  [[nodiscard]] bool ok() const { return m_root != nullptr; }
  [[nodiscard]] u64 mode() const { return m_mode; }
  [[nodiscard]] unsigned levels() const { return m_levels; }
  // Input GPA width: 41 / 50 / 59 bits (12 + 9 * levels + 2: the root index has two extra bits).
  [[nodiscard]] unsigned gpa_bits() const { return m_gpa_bits; }
  [[nodiscard]] const void* root() const { return m_root; }

  // The value to load into hgatp: MODE << 60 | VMID << 44 | root PPN. `vmid` is truncated to the
  // 14-bit field; the hart keeps as many of those bits as it implements. If !ok(), a value whose
  // walks all end in access faults (Sv39x4, PPN 0), never Bare.
  [[nodiscard]] u64 hgatp(u64 vmid) const;

  // Maps [gpa, gpa + size) to [hpa, hpa + size); size is 4 KiB, 2 MiB or 1 GiB and both addresses
  // must be aligned to it. Whatever was mapped at that granule before is replaced:
  //  - a smaller-grained table under it is unlinked and retired (with all tables below it);
  //  - a larger leaf that contains it is first split into a table of next-size leaves with the
  //    same target and permissions (linked with one atomic store, so concurrent walkers see either
  //    the old leaf or an equivalent table), repeatedly down to `size`, and then the granule is
  //    overwritten. The rest of the huge page therefore stays mapped. (KVM refuses this case with
  //    -EEXIST; splitting is what dirty logging on huge pages needs.)
  // Returns 0 if the granule was empty (no flush needed: the hart never caches invalid entries),
  // kReplaced if a different valid entry was replaced, or:
  //  -EINVAL  bad size, misaligned gpa/hpa, or gpa range beyond gpa_bits();
  //  -EFAULT  the host range is not wholly owned by a slot, touches the pool, or does not fit the
  //           44-bit PPN;
  //  -ENOMEM  the pool could not supply a table. Tables created or split before the failure stay:
  //           they map exactly what was mapped before, so the table stays consistent.
  [[nodiscard]] int map(u64 gpa, u64 hpa, u64 size, bool writable);

  // Removes every leaf that overlaps [gpa, gpa + size) (rounded out to 4 KiB). A huge leaf only
  // partly inside the range is removed whole, as KVM does; callers that must keep the rest map it
  // again at a smaller size. Tables left empty are unlinked and retired. Returns the number of
  // leaves removed: non-zero means the caller must flush (then may reclaim_retired()).
  u64 unmap(u64 gpa, u64 size);

  // Clears W and D on every leaf overlapping the range (a huge leaf partly inside is protected
  // whole, which only costs an extra fault). Returns whether any PTE changed (flush needed).
  bool write_protect(u64 gpa, u64 size);

  // MMU-notifier aging: returns whether any leaf overlapping the range has A set, and with
  // `clear` also clears those A bits. Contract: with menvcfg.ADUE=0 a hart that later touches such
  // a page takes a guest-page fault (20/21/23, htval = GPA >> 2) instead of setting A; the
  // hypervisor's fault handler must then make the page young again with map() (or mark_accessed()).
  // A clear that changed something needs a flush before the page is guaranteed to fault.
  bool test_and_clear_accessed(u64 gpa, u64 size, bool clear);

  // Sets A on the leaf mapping `gpa` (fast path of the fault handler after aging). Returns false if
  // nothing maps `gpa`. No flush is needed: the hart caches no translation of an A=0 leaf.
  bool mark_accessed(u64 gpa);

  // The leaf PTE that maps `gpa`, and its level (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, ...).
  [[nodiscard]] bool lookup(u64 gpa, u64& pte, unsigned& level) const;
  // The host address `gpa` maps to (and whether the leaf is writable); false if unmapped.
  [[nodiscard]] bool translate(u64 gpa, u64& hpa, bool* writable = nullptr) const;

  // Calls `fn` for every leaf overlapping [gpa, gpa + size), in GPA order. `fn` must not modify
  // the table.
  void for_each_leaf(u64 gpa, u64 size, const LeafFn& fn) const;

  // Drops every mapping (the root stays, so hgatp() is unchanged). Returns whether anything was
  // mapped; all tables are retired.
  bool clear();

  // Returns retired table pages to the pool. Only call once no hart can be inside a walk that
  // started before they were unlinked, i.e. after the flush their unlinking asked for.
  // Returns the number of pages reclaimed.
  u64 reclaim_retired();

  // Statistics (and leak checks): table pages linked below the root, and retired pages.
  [[nodiscard]] u64 table_pages() const { return m_tables; }
  [[nodiscard]] u64 retired_pages() const { return m_retired.size(); }

 private:
  enum class Op : u8 { unmap, write_protect, test_young, clear_young, visit };
  // Applies `op` to every leaf overlapping [lo, hi) in the table at `level` whose first entry maps
  // `base`; returns how many leaves it changed (or, for the test/visit ops, matched).
  u64 walk_range(u64* table, unsigned level, u64 base, u64 lo, u64 hi, Op op, const LeafFn* fn);
  // Pointer to the PTE that maps `gpa` at whatever level the leaf is, or nullptr.
  u64* find_leaf(u64 gpa, unsigned& level) const;
  [[nodiscard]] u64* alloc_table();
  // Unlinked already: retire `table` (at `level`) and every table below it.
  void retire_tree(u64* table, unsigned level);
  // Clips a user range to the GPA space; false if nothing is left.
  bool clip(u64 gpa, u64 size, u64& lo, u64& hi) const;
  [[nodiscard]] unsigned entries(unsigned level) const { return level == m_levels - 1 ? 2048 : 512; }

  PagePool& m_pool;
  OwnsFn m_owns;
  u64 m_mode = 0;
  unsigned m_levels = 0;
  unsigned m_gpa_bits = 0;
  u64* m_root = nullptr;
  u64 m_tables = 0;
  std::vector<u64*> m_retired;
};

}  // namespace rvkvm::hyp
