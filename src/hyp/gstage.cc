#include "hyp/gstage.h"

#include <algorithm>
#include <cerrno>

#include "hart/csr.h"

namespace rvkvm::hyp {
namespace {

constexpr u64 kLeafBase = pte::V | pte::R | pte::X | pte::U | pte::A;
constexpr u64 kPpnLimit = 1ull << 56;  // PPN is 44 bits wide (priv 4.4.1 / 9.5)

// Harts on other threads walk these tables concurrently: one atomic access per PTE, and release
// on stores so a table's contents are visible before the pointer to it.
u64 load_pte(const u64* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
void store_pte(u64* p, u64 v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
// Read-modify-write stays atomic in case a hart ever runs with ADUE=1 and sets A/D itself.
u64 clear_pte_bits(u64* p, u64 bits) { return __atomic_fetch_and(p, ~bits, __ATOMIC_ACQ_REL); }
void set_pte_bits(u64* p, u64 bits) { __atomic_fetch_or(p, bits, __ATOMIC_ACQ_REL); }

// Only this class writes these tables, so an entry is either 0, a pointer (V, no R/W/X) or one of
// our leaves (V|R|X...).
bool is_valid(u64 e) { return e & pte::V; }
bool is_leaf(u64 e) { return (e & pte::V) && (e & (pte::R | pte::X)); }
bool is_table(u64 e) { return (e & pte::V) && !(e & (pte::R | pte::W | pte::X)); }
u64* table_of(u64 e) { return reinterpret_cast<u64*>(((e >> 10) & atp::kPpnMask) << 12); }
u64 table_pte(const u64* t) { return ((reinterpret_cast<u64>(t) >> 12) << 10) | pte::V; }
u64 leaf_pte(u64 hpa, bool writable) {
  return ((hpa >> 12) << 10) | kLeafBase | (writable ? pte::W | pte::D : 0);
}
unsigned shift_of(unsigned level) { return 12 + 9 * level; }

unsigned levels_for(u64 mode) {
  switch (mode) {
    case atp::Sv39: return 3;
    case atp::Sv48: return 4;
    case atp::Sv57: return 5;
    default: return 0;
  }
}

}  // namespace

GStage::GStage(PagePool& pool, u64 mode, OwnsFn owns) : m_pool(pool), m_owns(std::move(owns)), m_mode(mode) {
  m_levels = levels_for(mode);
  if (m_levels == 0) return;
  m_gpa_bits = 12 + 9 * m_levels + 2;
  m_root = static_cast<u64*>(m_pool.alloc_root());
}

GStage::~GStage() {
  if (!m_root) return;
  clear();
  reclaim_retired();
  m_pool.free_root(m_root);
}

u64 GStage::hgatp(u64 vmid) const {
  const u64 vmid_field = (vmid & 0x3fff) << atp::kAsidShift;
  // Without a root, hand out a translating mode with PPN 0 rather than Bare: host address 0 is
  // never RAM, so every guest access becomes an access fault instead of reaching host memory.
  if (!m_root) return (u64{atp::Sv39} << atp::kModeShift) | vmid_field;
  return (m_mode << atp::kModeShift) | vmid_field | (reinterpret_cast<u64>(m_root) >> 12);
}

u64* GStage::alloc_table() {
  auto* t = static_cast<u64*>(m_pool.alloc_page());
  if (t) ++m_tables;
  return t;
}

void GStage::retire_tree(u64* table, unsigned level) {
  if (level > 0) {
    for (unsigned i = 0; i < 512; ++i) {
      u64 e = load_pte(&table[i]);
      if (is_table(e)) retire_tree(table_of(e), level - 1);
    }
  }
  m_retired.push_back(table);
  --m_tables;
}

u64 GStage::reclaim_retired() {
  u64 n = m_retired.size();
  for (u64* t : m_retired) m_pool.free_page(t);
  m_retired.clear();
  return n;
}

int GStage::map(u64 gpa, u64 hpa, u64 size, bool writable) {
  if (!m_root) return -ENOMEM;
  unsigned target;
  switch (size) {
    case kSize4K: target = 0; break;
    case kSize2M: target = 1; break;
    case kSize1G: target = 2; break;
    default: return -EINVAL;
  }
  if ((gpa | hpa) & (size - 1)) return -EINVAL;
  // GPA bits above the width must be zero, not sign-extended (9.5): the walker faults on them.
  u64 gpa_limit = 1ull << m_gpa_bits;
  if (gpa >= gpa_limit || size > gpa_limit - gpa) return -EINVAL;
  if (hpa >= kPpnLimit || size > kPpnLimit - hpa) return -EFAULT;
  // A leaf into the pool would let the guest rewrite its own G-stage.
  if (m_pool.overlaps(hpa, size) || !m_owns || !m_owns(hpa, size)) return -EFAULT;

  const u64 leaf = leaf_pte(hpa, writable);
  u64* table = m_root;
  for (unsigned level = m_levels - 1;; --level) {
    u64* p = &table[(gpa >> shift_of(level)) & (entries(level) - 1)];
    u64 e = load_pte(p);
    if (level == target) {
      store_pte(p, leaf);
      if (is_table(e)) retire_tree(table_of(e), level - 1);
      return is_valid(e) && e != leaf ? kReplaced : 0;
    }
    if (is_table(e)) {
      table = table_of(e);
      continue;
    }
    u64* child = alloc_table();
    if (!child) return -ENOMEM;
    if (is_leaf(e)) {
      // Split: the child maps the same range with the same bits. The huge leaf's PPN is aligned,
      // so adding to it never carries out of the PPN field.
      u64 step = 1ull << (10 + 9 * (level - 1));
      for (u64 j = 0; j < 512; ++j) child[j] = e + j * step;
    }
    store_pte(p, table_pte(child));
    table = child;
  }
}

bool GStage::clip(u64 gpa, u64 size, u64& lo, u64& hi) const {
  if (!m_root || size == 0) return false;
  u64 limit = 1ull << m_gpa_bits;
  if (gpa >= limit) return false;
  lo = gpa & ~(kSize4K - 1);
  hi = size > limit - gpa ? limit : gpa + size;
  hi = std::min(limit, (hi + kSize4K - 1) & ~(kSize4K - 1));
  return lo < hi;
}

u64 GStage::walk_range(u64* table, unsigned level, u64 base, u64 lo, u64 hi, Op op, const LeafFn* fn) {
  const unsigned shift = shift_of(level);
  const u64 span = 1ull << shift;
  u64 first = (lo - base) >> shift;
  u64 last = std::min<u64>(entries(level) - 1, (hi - 1 - base) >> shift);
  u64 count = 0;
  for (u64 i = first; i <= last; ++i) {
    u64* p = &table[i];
    u64 e = load_pte(p);
    if (!is_valid(e)) continue;
    u64 entry_gpa = base + i * span;
    if (is_table(e)) {
      u64* child = table_of(e);
      u64 n = walk_range(child, level - 1, entry_gpa, std::max(lo, entry_gpa), std::min(hi, entry_gpa + span), op, fn);
      count += n;
      if (op == Op::unmap && n) {
        bool empty = true;
        for (unsigned j = 0; j < 512 && empty; ++j) empty = load_pte(&child[j]) == 0;
        if (empty) {
          store_pte(p, 0);
          retire_tree(child, level - 1);
        }
      }
      continue;
    }
    switch (op) {
      case Op::unmap:
        store_pte(p, 0);
        ++count;
        break;
      case Op::write_protect:
        if (e & (pte::W | pte::D)) {
          clear_pte_bits(p, pte::W | pte::D);
          ++count;
        }
        break;
      case Op::test_young:
        if (e & pte::A) ++count;
        break;
      case Op::clear_young:
        if (clear_pte_bits(p, pte::A) & pte::A) ++count;
        break;
      case Op::visit:
        (*fn)(entry_gpa, e, level);
        ++count;
        break;
    }
  }
  return count;
}

u64 GStage::unmap(u64 gpa, u64 size) {
  u64 lo, hi;
  if (!clip(gpa, size, lo, hi)) return 0;
  return walk_range(m_root, m_levels - 1, 0, lo, hi, Op::unmap, nullptr);
}

bool GStage::write_protect(u64 gpa, u64 size) {
  u64 lo, hi;
  if (!clip(gpa, size, lo, hi)) return false;
  return walk_range(m_root, m_levels - 1, 0, lo, hi, Op::write_protect, nullptr) != 0;
}

bool GStage::test_and_clear_accessed(u64 gpa, u64 size, bool clear) {
  u64 lo, hi;
  if (!clip(gpa, size, lo, hi)) return false;
  return walk_range(m_root, m_levels - 1, 0, lo, hi, clear ? Op::clear_young : Op::test_young, nullptr) != 0;
}

void GStage::for_each_leaf(u64 gpa, u64 size, const LeafFn& fn) const {
  u64 lo, hi;
  if (!clip(gpa, size, lo, hi)) return;
  // The visit op never writes, so walking from a const method is sound.
  const_cast<GStage*>(this)->walk_range(m_root, m_levels - 1, 0, lo, hi, Op::visit, &fn);
}

u64* GStage::find_leaf(u64 gpa, unsigned& level) const {
  if (!m_root || (gpa >> m_gpa_bits) != 0) return nullptr;
  u64* table = m_root;
  for (unsigned l = m_levels - 1;; --l) {
    u64* p = &table[(gpa >> shift_of(l)) & (entries(l) - 1)];
    u64 e = load_pte(p);
    if (is_leaf(e)) {
      level = l;
      return p;
    }
    if (!is_table(e) || l == 0) return nullptr;
    table = table_of(e);
  }
}

bool GStage::lookup(u64 gpa, u64& pte, unsigned& level) const {
  u64* p = find_leaf(gpa, level);
  if (!p) return false;
  pte = load_pte(p);
  return true;
}

bool GStage::translate(u64 gpa, u64& hpa, bool* writable) const {
  u64 e;
  unsigned level;
  if (!lookup(gpa, e, level)) return false;
  u64 in_leaf = (1ull << shift_of(level)) - 1;
  hpa = ((((e >> 10) & atp::kPpnMask) << 12) & ~in_leaf) | (gpa & in_leaf);
  if (writable) *writable = (e & pte::W) != 0;
  return true;
}

bool GStage::mark_accessed(u64 gpa) {
  unsigned level;
  u64* p = find_leaf(gpa, level);
  if (!p) return false;
  set_pte_bits(p, pte::A);
  return true;
}

bool GStage::clear() {
  if (!m_root) return false;
  bool changed = false;
  for (unsigned i = 0; i < entries(m_levels - 1); ++i) {
    u64 e = load_pte(&m_root[i]);
    if (!is_valid(e)) continue;
    store_pte(&m_root[i], 0);
    changed = true;
    if (is_table(e)) retire_tree(table_of(e), m_levels - 2);
  }
  return changed;
}

}  // namespace rvkvm::hyp
