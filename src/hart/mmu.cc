// Address translation: Sv39/48/57 for S- and VS-stage, Sv39x4/48x4/57x4 for the G-stage
// (privileged spec 4.3-4.6 and 9.5), the soft TLB, and the memory slow paths.
#include <cstring>

#include "hart/hart.h"
#include "hart/interp_labels.h"

namespace rvkvm {
namespace {

constexpr u64 kPageMask = 0xfff;
constexpr std::size_t kMaxContexts = 64;
constexpr std::size_t kMaxDecodedPages = 4096;

// Pseudo-instructions reported in htinst for faults on implicit VS-stage page-table accesses (9.6.3).
constexpr u64 kTinstPteRead = 0x00003000;
constexpr u64 kTinstPteWrite = 0x00003020;

u64 page_fault_cause(Access a) {
  return a == Access::fetch ? cause::insn_page_fault : a == Access::load ? cause::load_page_fault : cause::store_page_fault;
}
u64 guest_page_fault_cause(Access a) {
  return a == Access::fetch   ? cause::insn_guest_page_fault
         : a == Access::load ? cause::load_guest_page_fault
                             : cause::store_guest_page_fault;
}
u64 access_fault_cause(Access a) {
  return a == Access::fetch ? cause::insn_access_fault : a == Access::load ? cause::load_access_fault : cause::store_access_fault;
}
unsigned levels_of(u64 mode) { return mode == atp::Sv39 ? 3 : mode == atp::Sv48 ? 4 : 5; }

u64 atomic_load_pte(const u8* p) {
  return __atomic_load_n(reinterpret_cast<const u64*>(p), __ATOMIC_ACQUIRE);
}
bool atomic_cas_pte(u8* p, u64 expected, u64 desired) {
  return __atomic_compare_exchange_n(reinterpret_cast<u64*>(p), &expected, desired, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE);
}

// The checks shared by both stages on one PTE (4.3.2 steps 3-4, Svpbmt, Svnapot).
enum class PteKind { invalid, pointer, leaf };
PteKind classify_pte(u64 pte, unsigned level, bool pbmte) {
  if (!(pte & pte::V) || (!(pte & pte::R) && (pte & pte::W))) return PteKind::invalid;
  if (pte & pte::kReserved) return PteKind::invalid;
  u64 pbmt = (pte & pte::kPbmt) >> 61;
  if (pbmt == 3 || (pbmt && !pbmte)) return PteKind::invalid;
  if (!(pte & (pte::R | pte::X))) {
    // Non-leaf: D, A, U, N and PBMT are reserved and must be zero.
    if (pte & (pte::D | pte::A | pte::U | pte::N | pte::kPbmt)) return PteKind::invalid;
    return PteKind::pointer;
  }
  if (pte & pte::N) {
    // Svnapot: only 64 KiB pages (ppn[3:0] = 0b1000) at level 0 are defined.
    if (level != 0 || ((pte >> 10) & 0xf) != 0x8) return PteKind::invalid;
  }
  return PteKind::leaf;
}

// Physical address of a leaf at `level`: superpage bits and NAPOT bits come from the address.
bool leaf_address(u64 pte, unsigned level, u64 addr, u64& out) {
  u64 ppn = (pte >> 10) & atp::kPpnMask;
  u64 low_mask = (1ull << (9 * level)) - 1;
  if (ppn & low_mask) return false;  // misaligned superpage
  if (pte & pte::N) ppn = (ppn & ~0xfull) | ((addr >> 12) & 0xf);
  out = ((ppn | ((addr >> 12) & low_mask)) << 12) | (addr & kPageMask);
  return true;
}

}  // namespace

Hart::XlateMode Hart::fetch_mode() const { return {m_priv, m_virt, false, false, false, false}; }

Hart::XlateMode Hart::data_mode() const {
  Priv p = m_priv;
  bool v = m_virt;
  if (p == Priv::M && (m_mstatus & mstatus::MPRV)) {
    p = static_cast<Priv>((m_mstatus & mstatus::MPP) >> mstatus::kMppShift);
    v = p != Priv::M && (m_mstatus & mstatus::MPV);
  }
  bool hs_mxr = (m_mstatus & mstatus::MXR) != 0;
  if (v)
    return {p, true, (m_vsstatus & mstatus::SUM) != 0, (m_vsstatus & mstatus::MXR) != 0 || hs_mxr, hs_mxr, false};
  return {p, false, (m_mstatus & mstatus::SUM) != 0, hs_mxr, hs_mxr, false};
}

Hart::CtxKey Hart::ctx_key(const XlateMode& m) const {
  CtxKey key{};
  key.words[0] = static_cast<u64>(m.priv) | (u64{m.virt} << 2) | (u64{m.sum} << 3) | (u64{m.mxr} << 4) |
                 (u64{m.hs_mxr} << 5) | (u64{m.hlvx} << 6);
  if (m.priv != Priv::M) {
    if (m.virt) {
      key.words[2] = m_vsatp;
      key.words[3] = m_hgatp;
      key.words[4] = m_henvcfg | (m_menvcfg >> 1);
    } else {
      key.words[1] = m_satp;
      key.words[4] = m_menvcfg;
    }
  }
  return key;
}

void Hart::TlbSet::clear() {
  for (auto& e : load) e = {};
  for (auto& e : store) e = {};
  for (auto& e : fetch) e = {};
  used = false;
  large.clear();
  large_overflow = false;
}

void Hart::TlbSet::note_large(u64 base, u64 size) {
  for (const auto& [b, sz] : large)
    if (b == base && sz == size) return;
  if (large.size() >= 64) {
    large_overflow = true;
    return;
  }
  large.emplace_back(base, size);
}

Hart::TlbSet* Hart::ctx_set(const CtxKey& key) {
  for (std::size_t i = 0; i < m_ctx_keys.size(); ++i)
    if (m_ctx_keys[i] == key) return m_tlb_sets[i].get();
  m_ctx_keys.push_back(key);
  auto set = std::make_unique<TlbSet>();
  set->clear();
  m_tlb_sets.push_back(std::move(set));
  return m_tlb_sets.back().get();
}

void Hart::update_contexts() {
  CtxKey fk = ctx_key(fetch_mode()), dk = ctx_key(data_mode());
  if (m_ctx_keys.size() + 2 > kMaxContexts) {
    // Out of contexts: start over with empty TLBs.
    m_ctx_keys.clear();
    m_tlb_sets.clear();
  }
  m_tlb_fetch = ctx_set(fk);
  m_tlb_data = ctx_set(dk);
  auto fs = [](u64 s) { return (s & mstatus::FS) >> mstatus::kFsShift; };
  m_fp_on = fs(m_mstatus) != 0 && (!m_virt || fs(m_vsstatus) != 0);
  m_fs_dirty = fs(m_mstatus) == 3 && (!m_virt || fs(m_vsstatus) == 3);
}

void Hart::tlb_flush(u64 va, bool all) {
  // Dropping this page in every context over-flushes, which is always allowed.
  u64 page = va & ~kPageMask;
  ++(all ? m_stats.tlb_flush_all : m_stats.tlb_flush_page);
  auto drop_page = [](TlbSet& set, u64 p) {
    unsigned i = (p >> 12) & (kTlbSize - 1);
    if (set.load[i].tag == p) set.load[i] = {};
    if (set.store[i].tag == p) set.store[i] = {};
    if (set.fetch[i].tag == p) set.fetch[i] = {};
  };
  for (auto& set : m_tlb_sets) {
    if (!set->used) continue;
    if (all || set->large_overflow) {
      set->clear();
      continue;
    }
    drop_page(*set, page);
    // Every cached piece of a superpage or NAPOT leaf that contains the address goes too.
    for (std::size_t k = 0; k < set->large.size();) {
      auto [base, size] = set->large[k];
      if (page - base >= size) {
        ++k;
        continue;
      }
      if (size > (2ull << 20)) {
        set->clear();  // a gigapage or larger: cheaper to start over
        break;
      }
      for (u64 p = base; p < base + size; p += 0x1000) drop_page(*set, p);
      set->large[k] = set->large.back();
      set->large.pop_back();
    }
  }
}

void Hart::tlb_flush_asid(u64 asid, bool virt) {
  ++m_stats.tlb_flush_asid;
  for (std::size_t i = 0; i < m_tlb_sets.size(); ++i) {
    TlbSet& set = *m_tlb_sets[i];
    const CtxKey& k = m_ctx_keys[i];
    if (!set.used) continue;
    // Other address spaces, VMs and untranslated regimes keep their translations (4.2.1). The
    // set of this ASID also holds its global translations: dropping them is an allowed over-flush.
    const bool key_virt = (k.words[0] >> 2) & 1;
    if (static_cast<Priv>(k.words[0] & 3) == Priv::M || key_virt != virt) continue;
    const u64 atp_value = virt ? k.words[2] : k.words[1];
    if (virt && k.words[3] != m_hgatp) continue;
    if (((atp_value & atp::kAsidMask) >> atp::kAsidShift) != (asid & 0xffff)) continue;
    set.clear();
  }
}

void Hart::flush_all_caches() {
  gcache_flush();
  m_ctx_keys.clear();
  m_tlb_sets.clear();
  drop_decoded_pages();
  update_contexts();
}

void Hart::drop_decoded_pages() {
  for (auto& set : m_tlb_sets)
    for (auto& e : set->fetch) e = {};
  m_pages.clear();
}

void Hart::fill_tlb(TlbEntry* tlb, u64 va, u8* host_page) {
  m_tlb_data->used = true;
  if (m_last_walk_leaf_size > 0x1000)
    m_tlb_data->note_large(va & ~(m_last_walk_leaf_size - 1), m_last_walk_leaf_size);
  TlbEntry& e = tlb[(va >> 12) & (kTlbSize - 1)];
  e.tag = va & ~kPageMask;
  e.host_off = reinterpret_cast<u64>(host_page) - e.tag;
}

// ---------------------------------------------------------------------------------------------
// Page-table walks

// `acc` is the original access, which names the fault; `perm` is what this access needs: the same
// for the final translation, a read (or an A/D write) for VS-stage page-table accesses.
bool Hart::walk_gstage(u64 gpa, Access acc, Access perm, const XlateMode& m, bool implicit, u64 gva, bool gva_valid,
                       u64& hpa, TrapInfo& t) {
  u64 mode = m_hgatp >> atp::kModeShift;
  if (mode == atp::Bare) {
    hpa = gpa;
    return true;
  }
  auto guest_fault = [&] {
    t = {};
    t.cause = guest_page_fault_cause(acc);
    t.tval = gva_valid ? gva : 0;
    t.gva = gva_valid;
    t.tval2 = gpa >> 2;
    t.tinst = implicit ? (perm == Access::store ? kTinstPteWrite : kTinstPteRead) : 0;
    return false;
  };
  unsigned levels = levels_of(mode);
  unsigned gpa_bits = 12 + 9 * levels + 2;  // x4: two extra bits in the root index
  if (gpa >> gpa_bits) return guest_fault();
  bool pbmte = (m_menvcfg & envcfg::PBMTE) != 0;
  bool adue = (m_menvcfg & envcfg::ADUE) != 0;
  // The permission a G-stage leaf must grant; every G-stage access counts as a U-mode one (9.5.1).
  auto permitted = [&](u64 pte) {
    if (!(pte & pte::U)) return false;
    if (perm == Access::fetch || (m.hlvx && !implicit)) return (pte & pte::X) != 0;
    if (perm == Access::load) return (pte & pte::R) || (!implicit && m.hs_mxr && (pte & pte::X));
    return (pte & pte::W) != 0;
  };
  const u64 want = pte::A | (perm == Access::store ? pte::D : 0);
  GstageEntry& cached = m_gcache[(gpa >> 12) & (kGstageCacheSize - 1)];
  if (cached.gpa_page == (gpa & ~kPageMask) && permitted(cached.pte) && (cached.pte & want) == want) {
    ++m_stats.gstage_cache_hits;
    hpa = cached.hpa_page | (gpa & kPageMask);
    return true;
  }
  ++m_stats.gstage_walks;

restart:
  u64 base = (m_hgatp & atp::kPpnMask) << 12;
  for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
    unsigned idx_bits = level == static_cast<int>(levels) - 1 ? 11 : 9;
    u64 idx = (gpa >> (12 + 9 * level)) & ((1ull << idx_bits) - 1);
    u8* p = m_bus.ram_ptr(base + idx * 8, 8);
    if (!p) {
      t = {};
      t.cause = access_fault_cause(acc);
      t.tval = gva_valid ? gva : 0;
      t.gva = gva_valid;
      return false;
    }
    u64 pte = atomic_load_pte(p);
    PteKind kind = classify_pte(pte, static_cast<unsigned>(level), pbmte);
    if (kind == PteKind::invalid) return guest_fault();
    if (kind == PteKind::pointer) {
      base = ((pte >> 10) & atp::kPpnMask) << 12;
      continue;
    }
    if (!permitted(pte)) return guest_fault();
    u64 out;
    if (!leaf_address(pte, static_cast<unsigned>(level), gpa, out)) return guest_fault();
    if ((pte & want) != want) {
      if (!adue) return guest_fault();
      if (!atomic_cas_pte(p, pte, pte | want)) goto restart;
      pte |= want;
    }
    cached = {gpa & ~kPageMask, out & ~kPageMask, pte};
    hpa = out;
    return true;
  }
  return guest_fault();
}

bool Hart::walk_stage1(u64 va, Access acc, const XlateMode& m, u64 atp, bool two_stage, u64& out, TrapInfo& t) {
  u64 mode = atp >> atp::kModeShift;
  unsigned levels = levels_of(mode);
  unsigned va_bits = 12 + 9 * levels;
  auto page_fault = [&] {
    t = {};
    t.cause = page_fault_cause(acc);
    t.tval = va;
    t.gva = m.virt;
    return false;
  };
  if (static_cast<u64>(sext(va, va_bits)) != va) return page_fault();
  const u64 envcfg_bits = two_stage ? m_henvcfg : m_menvcfg;
  bool pbmte = (envcfg_bits & envcfg::PBMTE) != 0;
  bool adue = (envcfg_bits & envcfg::ADUE) != 0;

restart:
  u64 base = (atp & atp::kPpnMask) << 12;
  for (int level = static_cast<int>(levels) - 1; level >= 0; --level) {
    u64 idx = (va >> (12 + 9 * level)) & 0x1ff;
    u64 pte_addr = base + idx * 8;
    u64 pte_pa = pte_addr;
    if (two_stage && !walk_gstage(pte_addr, acc, Access::load, m, true, va, true, pte_pa, t)) {
      // Faults on the implicit access report the original access type (9.6.3).
      return false;
    }
    u8* p = m_bus.ram_ptr(pte_pa, 8);
    if (!p) {
      t = {};
      t.cause = access_fault_cause(acc);
      t.tval = va;
      t.gva = m.virt;
      return false;
    }
    u64 pte = atomic_load_pte(p);
    PteKind kind = classify_pte(pte, static_cast<unsigned>(level), pbmte);
    if (kind == PteKind::invalid) return page_fault();
    if (kind == PteKind::pointer) {
      base = ((pte >> 10) & atp::kPpnMask) << 12;
      continue;
    }
    bool user_page = pte & pte::U;
    bool ok;
    if (acc == Access::fetch) {
      ok = (pte & pte::X) && (m.priv == Priv::U ? user_page : !user_page);
    } else {
      if (m.hlvx)
        ok = pte & pte::X;
      else if (acc == Access::load)
        ok = (pte & pte::R) || (m.mxr && (pte & pte::X));
      else
        ok = pte & pte::W;
      if (m.priv == Priv::U)
        ok = ok && user_page;
      else if (user_page && !m.sum)
        ok = false;
    }
    if (!ok) return page_fault();
    u64 result;
    if (!leaf_address(pte, static_cast<unsigned>(level), va, result)) return page_fault();
    // The TLB holds 4 KiB pieces; a fence by address must drop every piece of a larger leaf.
    m_last_walk_leaf_size = (pte & pte::N) ? 0x10000 : (0x1000ull << (9 * level));
    u64 want = pte::A | (acc == Access::store ? pte::D : 0);
    if ((pte & want) != want) {
      if (!adue) return page_fault();
      if (two_stage) {
        // Updating A/D is a store to the PTE, which the G-stage must allow (9.5.1).
        if (!walk_gstage(pte_addr, acc, Access::store, m, true, va, true, pte_pa, t)) return false;
        p = m_bus.ram_ptr(pte_pa, 8);
        if (!p) return page_fault();
      }
      if (!atomic_cas_pte(p, pte, pte | want)) goto restart;
    }
    out = result;
    return true;
  }
  return page_fault();
}

bool Hart::translate(u64 va, Access acc, const XlateMode& m, u64& pa, TrapInfo& t) {
  ++m_stats.tlb_misses;
  m_last_walk_leaf_size = 0x1000;
  if (!m.virt) {
    if (m.priv == Priv::M || (m_satp >> atp::kModeShift) == atp::Bare) {
      pa = va;
      return true;
    }
    return walk_stage1(va, acc, m, m_satp, false, pa, t);
  }
  u64 gpa = va;
  if ((m_vsatp >> atp::kModeShift) != atp::Bare && !walk_stage1(va, acc, m, m_vsatp, true, gpa, t)) return false;
  return walk_gstage(gpa, acc, acc, m, false, va, true, pa, t);
}

// ---------------------------------------------------------------------------------------------
// Memory slow paths

bool Hart::load_mode(u64 va, void* out, unsigned size, const XlateMode& m, TrapInfo& t) {
  u64 off = va & kPageMask;
  if (off + size > 0x1000) {
    // Crosses a page: both halves are translated before any byte is read.
    unsigned first = static_cast<unsigned>(0x1000 - off);
    u64 pa0, pa1;
    if (!translate(va, Access::load, m, pa0, t)) return false;
    if (!translate(va + first, Access::load, m, pa1, t)) {
      t.addr_offset = static_cast<u8>(first);
      return false;
    }
    u8* h0 = m_bus.ram_ptr(pa0, first);
    u8* h1 = m_bus.ram_ptr(pa1, size - first);
    if (!h0 || !h1) {
      t = {};
      t.cause = cause::load_access_fault;
      t.tval = va;
      t.gva = m.virt;
      return false;
    }
    std::memcpy(out, h0, first);
    std::memcpy(static_cast<u8*>(out) + first, h1, size - first);
    return true;
  }
  u64 pa;
  if (!translate(va, Access::load, m, pa, t)) return false;
  if (u8* h = m_bus.ram_ptr(pa & ~kPageMask, 0x1000)) {
    std::memcpy(out, h + off, size);
    if (!m.hlvx) {
      const XlateMode cur = data_mode();
      if (cur.priv == m.priv && cur.virt == m.virt && cur.sum == m.sum && cur.mxr == m.mxr)
        fill_tlb(m_tlb_data->load.data(), va, h);
    }
    return true;
  }
  u64 v = 0;
  if (!m_bus.read(pa, size, v)) {
    t = {};
    t.cause = cause::load_access_fault;
    t.tval = va;
    t.gva = m.virt;
    return false;
  }
  std::memcpy(out, &v, size);
  return true;
}

bool Hart::store_mode(u64 va, const void* in, unsigned size, const XlateMode& m, TrapInfo& t) {
  u64 off = va & kPageMask;
  auto access_fault = [&] {
    t = {};
    t.cause = cause::store_access_fault;
    t.tval = va;
    t.gva = m.virt;
    return false;
  };
  if (off + size > 0x1000) {
    unsigned first = static_cast<unsigned>(0x1000 - off);
    u64 pa0, pa1;
    if (!translate(va, Access::store, m, pa0, t)) return false;
    if (!translate(va + first, Access::store, m, pa1, t)) {
      t.addr_offset = static_cast<u8>(first);
      return false;
    }
    u8* h0 = m_bus.ram_ptr(pa0, first);
    u8* h1 = m_bus.ram_ptr(pa1, size - first);
    if (!h0 || !h1) return access_fault();
    std::memcpy(h0, in, first);
    std::memcpy(h1, static_cast<const u8*>(in) + first, size - first);
    note_code_page_store(h0 - (pa0 & kPageMask), static_cast<unsigned>(pa0 & kPageMask), first);
    note_code_page_store(h1, 0, size - first);
    return true;
  }
  u64 pa;
  if (!translate(va, Access::store, m, pa, t)) return false;
  if (u8* h = m_bus.ram_ptr(pa & ~kPageMask, 0x1000)) {
    std::memcpy(h + off, in, size);
    if (m_pages.count(h)) {
      note_code_page_store(h, static_cast<unsigned>(off), size);  // code pages never enter the store TLB
    } else {
      const XlateMode cur = data_mode();
      if (cur.priv == m.priv && cur.virt == m.virt && cur.sum == m.sum && cur.mxr == m.mxr)
        fill_tlb(m_tlb_data->store.data(), va, h);
    }
    return true;
  }
  u64 v = 0;
  std::memcpy(&v, in, size);
  if (!m_bus.write(pa, size, v)) return access_fault();
  return true;
}

bool Hart::load_slow(u64 va, void* out, unsigned size, TrapInfo& t) { return load_mode(va, out, size, data_mode(), t); }

bool Hart::store_slow(u64 va, const void* in, unsigned size, TrapInfo& t) {
  return store_mode(va, in, size, data_mode(), t);
}

Hart::XlateMode Hart::hlv_mode(bool hlvx) const {
  bool hs_mxr = (m_mstatus & mstatus::MXR) != 0;
  return {(m_hstatus & hstatus::SPVP) ? Priv::S : Priv::U, true, (m_vsstatus & mstatus::SUM) != 0,
          (m_vsstatus & mstatus::MXR) != 0 || hs_mxr, hs_mxr, hlvx};
}

bool Hart::guest_load(u64 gva, void* out, unsigned size, bool execute, TrapInfo& t) {
  return load_mode(gva, out, size, hlv_mode(execute), t);
}

bool Hart::guest_store(u64 gva, const void* in, unsigned size, TrapInfo& t) {
  return store_mode(gva, in, size, hlv_mode(false), t);
}

u8* Hart::amo_ptr(u64 va, unsigned size, bool is_lr, TrapInfo& t) {
  if (va & (size - 1)) {
    t = {};
    t.cause = is_lr ? cause::load_misaligned : cause::store_misaligned;
    t.tval = va;
    t.gva = m_virt;
    return nullptr;
  }
  if (!is_lr) {
    const TlbEntry& e = m_tlb_data->store[(va >> 12) & (kTlbSize - 1)];
    if (e.tag == (va & ~kPageMask)) return reinterpret_cast<u8*>(va + e.host_off);
  }
  XlateMode m = data_mode();
  u64 pa;
  if (!translate(va, is_lr ? Access::load : Access::store, m, pa, t)) return nullptr;
  u8* h = m_bus.ram_ptr(pa & ~kPageMask, 0x1000);
  if (!h) {
    // Atomics are only supported on RAM.
    t = {};
    t.cause = is_lr ? cause::load_access_fault : cause::store_access_fault;
    t.tval = va;
    t.gva = m.virt;
    return nullptr;
  }
  if (!is_lr) {
    if (m_pages.count(h))
      note_code_page_store(h, static_cast<unsigned>(va & kPageMask), size);
    else
      fill_tlb(m_tlb_data->store.data(), va, h);
  }
  return h + (va & kPageMask);
}

bool Hart::fetch_raw(u64 pc, u32& raw, TrapInfo& t) {
  XlateMode m = fetch_mode();
  auto fetch16 = [&](u64 va, u16& half) {
    u64 pa;
    if (!translate(va, Access::fetch, m, pa, t)) return false;
    u8* h = m_bus.ram_ptr(pa, 2);
    if (!h) {
      t = {};
      t.cause = cause::insn_access_fault;
      t.tval = va;
      t.gva = m.virt;
      return false;
    }
    std::memcpy(&half, h, 2);
    return true;
  };
  u16 lo = 0, hi = 0;
  if (!fetch16(pc, lo)) return false;
  if ((lo & 3) == 3 && !fetch16(pc + 2, hi)) return false;
  raw = lo | (static_cast<u32>(hi) << 16);
  return true;
}

// `page_host` is the host address of the start of the guest page (decoded pages are keyed by it,
// whatever the host alignment of guest RAM).
void Hart::note_code_page_store(const u8* page_host, unsigned off, unsigned size) {
  auto it = m_pages.find(page_host);
  if (it == m_pages.end()) return;
  // A store may change the instruction that starts two bytes earlier and any that start inside it.
  unsigned first = off >= 2 ? (off - 2) / 2 : 0;
  unsigned last = std::min<unsigned>((off + size - 1) / 2, kPageInsns - 1);
  std::memcpy(it->second->code + off, page_host + off, std::min<unsigned>(size, 4096 - off));
  const void* decode = g_interp_labels.load(std::memory_order_relaxed)[kLabelDecodeIndex];
  for (unsigned i = first; i <= last; ++i) it->second->insns[i].label = decode;
}

void Hart::invalidate_code(const u8* host, u64 len) {
  // The host wrote [host, host+len): find the decoded pages it overlaps.
  u64 lo = reinterpret_cast<u64>(host), hi = lo + len;
  for (auto& [page_host, page] : m_pages) {
    u64 p = reinterpret_cast<u64>(page_host);
    if (p >= hi || p + 0x1000 <= lo) continue;
    u64 start = std::max(lo, p), end = std::min(hi, p + 0x1000);
    note_code_page_store(page_host, static_cast<unsigned>(start - p), static_cast<unsigned>(end - start));
  }
}

Hart::DecodedPage* Hart::decoded_page_for(const u8* host_page) {
  auto it = m_pages.find(host_page);
  if (it != m_pages.end()) return it->second.get();
  if (m_pages.size() >= kMaxDecodedPages) drop_decoded_pages();
  auto page = std::make_unique<DecodedPage>();
  page->host = host_page;
  page->epoch = m_code_epoch;
  std::memcpy(page->code, host_page, sizeof(page->code));
  const void* const* labels = g_interp_labels.load(std::memory_order_relaxed);
  for (auto& ins : page->insns) ins = {labels[kLabelDecodeIndex], 0, 0, 0, 0, 0};
  page->insns[kPageInsns].label = labels[kLabelLookupIndex];
  page->insns[kPageInsns + 1].label = labels[kLabelLookupIndex];
  // Stores to this page must now take the slow path, which keeps the decoded copy coherent.
  for (auto& set : m_tlb_sets) {
    if (!set->used) continue;
    for (auto& e : set->store)
      if (e.tag != ~0ull && e.tag + e.host_off == reinterpret_cast<u64>(host_page)) e = {};
  }
  ++m_stats.decoded_pages;
  DecodedPage* raw = page.get();
  m_pages.emplace(host_page, std::move(page));
  return raw;
}

void Hart::revalidate_page(DecodedPage* page) {
  ++m_stats.pages_revalidated;
  page->epoch = m_code_epoch;
  if (std::memcmp(page->code, page->host, sizeof(page->code)) == 0) return;
  // Someone (another hart, a device, the host) changed the code: decode it all again.
  ++m_stats.pages_redecoded;
  std::memcpy(page->code, page->host, sizeof(page->code));
  const void* decode = g_interp_labels.load(std::memory_order_relaxed)[kLabelDecodeIndex];
  for (unsigned i = 0; i < kPageInsns; ++i) page->insns[i].label = decode;
}

Hart::DecodedPage* Hart::fetch_page(u64 pc, TrapInfo& t) {
  XlateMode m = fetch_mode();
  u64 pa;
  if (!translate(pc, Access::fetch, m, pa, t)) return nullptr;
  u8* h = m_bus.ram_ptr(pa & ~kPageMask, 0x1000);
  if (!h) {
    t = {};
    t.cause = cause::insn_access_fault;
    t.tval = pc;
    t.gva = m.virt;
    return nullptr;
  }
  DecodedPage* page = decoded_page_for(h);
  if (page->epoch != m_code_epoch) revalidate_page(page);
  FetchTlbEntry& e = m_tlb_fetch->fetch[(pc >> 12) & (kTlbSize - 1)];
  e.tag = pc & ~kPageMask;
  e.host_off = reinterpret_cast<u64>(h) - e.tag;
  e.page = page;
  m_tlb_fetch->used = true;
  if (m_last_walk_leaf_size > 0x1000)
    m_tlb_fetch->note_large(pc & ~(m_last_walk_leaf_size - 1), m_last_walk_leaf_size);
  return page;
}

}  // namespace rvkvm
