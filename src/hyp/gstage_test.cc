// PagePool and GStage, checked against the real hart's G-stage walker: every mapping a test makes
// is exercised by guest code running in VS-mode with hgatp = GStage::hgatp().
#include "hyp/gstage.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "hart/hart.h"

namespace rvkvm::hyp {
namespace {

constexpr u64 k4K = GStage::kSize4K, k2M = GStage::kSize2M, k1G = GStage::kSize1G;

// Hand-encoded guest code.
constexpr u32 kLdA0A1 = 0x0005b503;  // ld a0, 0(a1)
constexpr u32 kSdA2A1 = 0x00c5b023;  // sd a2, 0(a1)
constexpr u32 kEbreak = 0x00100073;

// 1 GiB of host memory, 1 GiB aligned (a 1 GiB leaf needs an aligned target): reserve 2 GiB
// without backing and align inside. Only the pages a test touches cost memory.
class HostMem {
 public:
  HostMem() {
    void* p = mmap(nullptr, 2 * k1G, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    m_map = p;
    m_base = reinterpret_cast<u8*>((reinterpret_cast<u64>(p) + k1G - 1) & ~(k1G - 1));
  }
  ~HostMem() {
    if (m_map) munmap(m_map, 2 * k1G);
  }
  HostMem(const HostMem&) = delete;
  HostMem& operator=(const HostMem&) = delete;
  [[nodiscard]] bool ok() const { return m_base != nullptr; }
  [[nodiscard]] u8* base() const { return m_base; }
  [[nodiscard]] static u64 size() { return k1G; }
  [[nodiscard]] u64 hpa(u64 off) const { return reinterpret_cast<u64>(m_base) + off; }
  [[nodiscard]] bool contains(u64 hpa, u64 len) const {
    u64 b = reinterpret_cast<u64>(m_base);
    return hpa >= b && hpa - b <= size() && len <= size() - (hpa - b);
  }
  void put64(u64 off, u64 v) const { std::memcpy(m_base + off, &v, 8); }
  [[nodiscard]] u64 get64(u64 off) const {
    u64 v;
    std::memcpy(&v, m_base + off, 8);
    return v;
  }

 private:
  void* m_map = nullptr;
  u8* m_base = nullptr;
};

// ---------------------------------------------------------------------------------------------
// PagePool

TEST(PagePool, PagesAreZeroedAlignedAndOwned) {
  PagePool pool(1 << 20);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(reinterpret_cast<u64>(pool.base()) % PagePool::kRootSize, 0u);
  EXPECT_EQ(pool.size(), 1u << 20);
  auto* p = static_cast<u8*>(pool.alloc_page());
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(pool.owns(p));
  EXPECT_EQ(reinterpret_cast<u64>(p) % PagePool::kPageSize, 0u);
  for (u64 i = 0; i < PagePool::kPageSize; ++i) ASSERT_EQ(p[i], 0);
  auto* r = static_cast<u8*>(pool.alloc_root());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(reinterpret_cast<u64>(r) % PagePool::kRootSize, 0u);
  EXPECT_TRUE(pool.owns(r) && pool.owns(r + PagePool::kRootSize - 1));
  EXPECT_EQ(pool.pages_in_use(), 5u);

  // Recycled blocks come back zeroed.
  std::memset(p, 0xa5, PagePool::kPageSize);
  std::memset(r, 0x5a, PagePool::kRootSize);
  pool.free_page(p);
  pool.free_root(r);
  EXPECT_EQ(pool.pages_in_use(), 0u);
  auto* p2 = static_cast<u8*>(pool.alloc_page());
  auto* r2 = static_cast<u8*>(pool.alloc_root());
  EXPECT_EQ(p2, p);
  EXPECT_EQ(r2, r);
  for (u64 i = 0; i < PagePool::kPageSize; ++i) ASSERT_EQ(p2[i], 0);
  for (u64 i = 0; i < PagePool::kRootSize; ++i) ASSERT_EQ(r2[i], 0);

  int local = 0;
  EXPECT_FALSE(pool.owns(&local));
  EXPECT_FALSE(pool.owns(pool.base() + pool.size()));
  u64 b = reinterpret_cast<u64>(pool.base());
  EXPECT_TRUE(pool.overlaps(b - 4096, 4097));
  EXPECT_FALSE(pool.overlaps(b - 4096, 4096));
  EXPECT_TRUE(pool.overlaps(b + pool.size() - 1, 1));
  EXPECT_FALSE(pool.overlaps(b + pool.size(), 1ull << 40));
  EXPECT_TRUE(pool.overlaps(0, ~0ull));
}

TEST(PagePool, ExhaustionReturnsNull) {
  PagePool pool(2 * PagePool::kRootSize);  // room for one root and four pages
  ASSERT_TRUE(pool.ok());
  void* root = pool.alloc_root();
  ASSERT_NE(root, nullptr);
  std::vector<void*> pages;
  while (void* p = pool.alloc_page()) pages.push_back(p);
  EXPECT_EQ(pages.size(), 4u);
  EXPECT_EQ(pool.alloc_root(), nullptr);
  // A free root is broken up when pages run out.
  pool.free_root(root);
  for (int i = 0; i < 4; ++i) EXPECT_NE(pool.alloc_page(), nullptr);
  EXPECT_EQ(pool.alloc_page(), nullptr);
  EXPECT_EQ(pool.pages_in_use(), 8u);

  PagePool empty(0);
  EXPECT_FALSE(empty.ok());
  EXPECT_EQ(empty.alloc_page(), nullptr);
  EXPECT_EQ(empty.alloc_root(), nullptr);
}

// ---------------------------------------------------------------------------------------------
// GStage with the hart

// Guest layout (all below 2^41, so every mode can map it).
constexpr u64 kCodeGpa = 0x8000'0000, kCodeOff = 0x1000;
constexpr u64 kLoadPc = kCodeGpa, kStorePc = kCodeGpa + 0x100;
constexpr u64 kVmid = 5;

class GStageHart : public ::testing::TestWithParam<u64> {
 protected:
  struct Result {
    bool stopped = false;  // the run ended in a trap (to M, which the host_hs hart hands back)
    u64 cause = 0, tval = 0, tval2 = 0, a0 = 0;
  };

  void SetUp() override {
    ASSERT_TRUE(m_mem.ok());
    ASSERT_TRUE(m_pool.ok());
    m_gs = std::make_unique<GStage>(m_pool, GetParam(), [this](u64 hpa, u64 len) { return m_mem.contains(hpa, len); });
    ASSERT_TRUE(m_gs->ok());
    ASSERT_TRUE(m_bus.add_ram(reinterpret_cast<u64>(m_pool.base()), m_pool.size(), m_pool.base()));
    ASSERT_TRUE(m_bus.add_ram(m_mem.hpa(0), HostMem::size(), m_mem.base()));
    HartConfig cfg;
    cfg.host_hs = true;  // a trap out of the guest stops run(), as in the hypervisor
    m_hart = std::make_unique<Hart>(m_bus, cfg);
    const u32 code[] = {kLdA0A1, kEbreak};
    const u32 store_code[] = {kSdA2A1, kEbreak};
    std::memcpy(m_mem.base() + kCodeOff, code, sizeof(code));
    std::memcpy(m_mem.base() + kCodeOff + 0x100, store_code, sizeof(store_code));
    ASSERT_EQ(m_gs->map(kCodeGpa, m_mem.hpa(kCodeOff), k4K, false), 0);
    m_base_tables = m_gs->table_pages();
  }

  // Runs the guest at `pc` in VS-mode (vsatp Bare, so GVA = GPA) until its first trap, which
  // medeleg = 0 sends to M: ebreak (3) means the access went through.
  Result run(u64 pc, u64 a1, u64 a2 = 0, const GStage* gs = nullptr) {
    EXPECT_TRUE(m_hart->write_csr_raw(csr::hgatp, (gs ? gs : m_gs.get())->hgatp(kVmid)));
    EXPECT_TRUE(m_hart->write_csr_raw(csr::vsatp, 0));
    EXPECT_TRUE(m_hart->write_csr_raw(csr::medeleg, 0));
    EXPECT_TRUE(m_hart->write_csr_raw(csr::hedeleg, 0));
    m_hart->set_priv(Priv::S, true);
    m_hart->set_pc(pc);
    m_hart->set_x(10, 0xbad);
    m_hart->set_x(11, a1);
    m_hart->set_x(12, a2);
    // What the hypervisor does after changing the G-stage (HFENCE.GVMA).
    m_hart->flush_all_caches();
    Result r;
    r.stopped = m_hart->run(16) == StopReason::host_trap;
    EXPECT_TRUE(m_hart->read_csr_raw(csr::mcause, r.cause));
    EXPECT_TRUE(m_hart->read_csr_raw(csr::mtval, r.tval));
    EXPECT_TRUE(m_hart->read_csr_raw(csr::mtval2, r.tval2));
    r.a0 = m_hart->x(10);
    return r;
  }

  // Loads from `gpa` in the guest and expects the value stored at host offset `off`.
  void expect_load(u64 gpa, u64 off) {
    u64 want = 0x1234'5678'0000'0000ull ^ gpa ^ (off << 7);
    m_mem.put64(off, want);
    Result r = run(kLoadPc, gpa);
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.cause, cause::breakpoint) << std::hex << "gpa " << gpa << " tval2 " << r.tval2;
    EXPECT_EQ(r.a0, want) << std::hex << "gpa " << gpa;
  }
  // A load or store from `gpa` must raise the guest-page fault of its type with mtval2 = GPA >> 2.
  void expect_load_fault(u64 gpa) {
    Result r = run(kLoadPc, gpa);
    EXPECT_TRUE(r.stopped);
    EXPECT_EQ(r.cause, cause::load_guest_page_fault) << std::hex << "gpa " << gpa;
    EXPECT_EQ(r.tval, gpa);
    EXPECT_EQ(r.tval2, gpa >> 2);
    EXPECT_EQ(r.a0, 0xbadu);
  }
  void expect_store(u64 gpa, u64 off) {
    u64 v = 0xfeed'0000'0000'0000ull ^ gpa;
    m_mem.put64(off, 0);
    Result r = run(kStorePc, gpa, v);
    EXPECT_EQ(r.cause, cause::breakpoint) << std::hex << "gpa " << gpa;
    EXPECT_EQ(m_mem.get64(off), v) << std::hex << "gpa " << gpa;
  }
  void expect_store_fault(u64 gpa, u64 off) {
    u64 before = m_mem.get64(off);
    Result r = run(kStorePc, gpa, ~before);
    EXPECT_EQ(r.cause, cause::store_guest_page_fault) << std::hex << "gpa " << gpa;
    EXPECT_EQ(r.tval2, gpa >> 2);
    EXPECT_EQ(m_mem.get64(off), before);
  }

  HostMem m_mem;
  PagePool m_pool{4 << 20};
  Bus m_bus;
  std::unique_ptr<GStage> m_gs;
  std::unique_ptr<Hart> m_hart;
  u64 m_base_tables = 0;
};

TEST_P(GStageHart, HgatpFormat) {
  const u64 mode = GetParam();
  EXPECT_EQ(m_gs->mode(), mode);
  EXPECT_EQ(m_gs->gpa_bits(), mode == 8 ? 41u : mode == 9 ? 50u : 59u);
  EXPECT_EQ(m_gs->levels(), mode - 5);
  u64 h = m_gs->hgatp(0x3fff);
  EXPECT_EQ(h >> 60, mode);
  EXPECT_EQ((h >> 44) & 0x3fff, 0x3fffu);
  EXPECT_EQ((h & atp::kPpnMask) << 12, reinterpret_cast<u64>(m_gs->root()));
  EXPECT_EQ(h & 3, 0u);  // 16 KiB root: PPN[1:0] = 0
  EXPECT_TRUE(m_pool.owns(m_gs->root()));
  // The hart keeps every field (its hgatp is WARL per field and it implements 14 VMID bits).
  ASSERT_TRUE(m_hart->write_csr_raw(csr::hgatp, h));
  u64 back = 0;
  ASSERT_TRUE(m_hart->read_csr_raw(csr::hgatp, back));
  EXPECT_EQ(back, h);
  EXPECT_EQ(m_gs->hgatp(0x4005) & (0x3fffull << 44), 5ull << 44);

  // A G-stage without a root must not hand out Bare: the guest would reach host memory.
  GStage broken(m_pool, 7, [](u64, u64) { return true; });
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.hgatp(kVmid) >> 60, 0u);
  Result r = run(kLoadPc, kCodeGpa, 0, &broken);
  EXPECT_EQ(r.cause, cause::insn_access_fault);
}

TEST_P(GStageHart, MapsAllSizes) {
  const u64 g4k = 0x8000'1000, g2m = 0x8020'0000, g1g = 0x1'0000'0000;
  ASSERT_EQ(m_gs->map(g4k, m_mem.hpa(0x2000), k4K, true), 0);
  ASSERT_EQ(m_gs->map(g2m, m_mem.hpa(0x20'0000), k2M, true), 0);
  ASSERT_EQ(m_gs->map(g1g, m_mem.hpa(0), k1G, false), 0);

  u64 pte = 0;
  unsigned level = 9;
  ASSERT_TRUE(m_gs->lookup(g4k + 8, pte, level));
  EXPECT_EQ(level, 0u);
  EXPECT_EQ(pte & 0xff, pte::V | pte::R | pte::W | pte::X | pte::U | pte::A | pte::D);
  ASSERT_TRUE(m_gs->lookup(g2m + 0x1'2340, pte, level));
  EXPECT_EQ(level, 1u);
  ASSERT_TRUE(m_gs->lookup(g1g + 0x3456'7000, pte, level));
  EXPECT_EQ(level, 2u);
  EXPECT_EQ(pte & 0xff, pte::V | pte::R | pte::X | pte::U | pte::A);
  u64 hpa = 0;
  bool writable = true;
  ASSERT_TRUE(m_gs->translate(g1g + 0x3456'7008, hpa, &writable));
  EXPECT_EQ(hpa, m_mem.hpa(0x3456'7008));
  EXPECT_FALSE(writable);

  expect_load(g4k, 0x2000);
  expect_load(g4k + 0xff8, 0x2ff8);
  expect_load(g2m, 0x20'0000);
  expect_load(g2m + 0x1'2348, 0x21'2348);
  expect_load(g2m + k2M - 8, 0x3f'fff8);
  expect_load(g1g + 0x3456'7008, 0x3456'7008);
  expect_load(g1g + k1G - 8, k1G - 8);
  expect_store(g4k + 0x10, 0x2010);
  expect_store(g2m + 0x1f'0000, 0x3f'0000);
  expect_store_fault(g1g + 0x3000, 0x3000);  // read-only leaf: store/AMO guest-page fault (23)

  // Just outside each mapping.
  expect_load_fault(g4k + k4K);
  expect_load_fault(g2m - 8);
  expect_load_fault(g2m + k2M);
  expect_load_fault(g1g + k1G);

  // Fetching from an unmapped GPA is an instruction guest-page fault.
  Result r = run(0x9000'0000, 0);
  EXPECT_EQ(r.cause, cause::insn_guest_page_fault);
  EXPECT_EQ(r.tval, 0x9000'0000u);
  EXPECT_EQ(r.tval2, 0x9000'0000u >> 2);

  std::vector<std::pair<u64, unsigned>> leaves;
  m_gs->for_each_leaf(0, ~0ull, [&](u64 g, u64, unsigned l) { leaves.emplace_back(g, l); });
  std::vector<std::pair<u64, unsigned>> want = {{kCodeGpa, 0}, {g4k, 0}, {g2m, 1}, {g1g, 2}};
  EXPECT_EQ(leaves, want);
}

TEST_P(GStageHart, GpaWidth) {
  const u64 limit = 1ull << m_gs->gpa_bits();
  // The very top of the GPA space is reachable: this exercises the root's two extra index bits.
  ASSERT_EQ(m_gs->map(limit - k4K, m_mem.hpa(0x5000), k4K, true), 0);
  ASSERT_EQ(m_gs->map(limit - 2 * k2M, m_mem.hpa(0x40'0000), k2M, false), 0);
  expect_load(limit - 8, 0x5ff8);
  expect_load(limit - 2 * k2M + 0x800, 0x40'0800);
  expect_store(limit - k4K, 0x5000);
  // The same low bits one bit higher must not alias: the walker requires the high bits to be zero.
  expect_load_fault(limit + (limit - k4K));
  expect_load_fault(limit);
  expect_load_fault(1ull << 63);
  expect_load_fault((limit - k4K) | (1ull << 63));

  EXPECT_EQ(m_gs->map(limit, m_mem.hpa(0x5000), k4K, true), -EINVAL);
  EXPECT_EQ(m_gs->map(limit + (limit - k4K), m_mem.hpa(0x5000), k4K, true), -EINVAL);
  EXPECT_EQ(m_gs->map(1ull << 63, m_mem.hpa(0x5000), k4K, true), -EINVAL);
  EXPECT_EQ(m_gs->map(~0ull & ~(k1G - 1), m_mem.hpa(0), k1G, true), -EINVAL);
  u64 pte;
  unsigned level;
  EXPECT_FALSE(m_gs->lookup(limit, pte, level));
  EXPECT_EQ(m_gs->unmap(limit, k1G), 0u);
  EXPECT_EQ(m_gs->unmap(limit - k4K, ~0ull), 1u);  // clipped to the GPA space
  expect_load_fault(limit - 8);
}

TEST_P(GStageHart, UnmapRemovesLeavesAndEmptyTables) {
  const u64 g = 0x1'8000'0000;
  ASSERT_EQ(m_gs->map(g, m_mem.hpa(0x7000), k4K, true), 0);
  ASSERT_EQ(m_gs->map(g + k4K, m_mem.hpa(0x8000), k4K, true), 0);
  EXPECT_GT(m_gs->table_pages(), m_base_tables);
  expect_load(g + k4K, 0x8000);
  EXPECT_EQ(m_gs->unmap(g + 0x100, 0x10), 1u);  // rounded out to the one page
  expect_load_fault(g);
  expect_load(g + k4K, 0x8000);
  EXPECT_EQ(m_gs->unmap(g, 2 * k4K), 1u);
  EXPECT_EQ(m_gs->unmap(g, 2 * k4K), 0u);
  expect_load_fault(g + k4K);
  // The tables that only served these pages are unlinked and retired, not freed under the harts.
  EXPECT_EQ(m_gs->table_pages(), m_base_tables);
  u64 retired = m_gs->retired_pages();
  EXPECT_GT(retired, 0u);
  u64 in_use = m_pool.pages_in_use();
  EXPECT_EQ(m_gs->reclaim_retired(), retired);
  EXPECT_EQ(m_pool.pages_in_use(), in_use - retired);
  expect_load(kCodeGpa + 0x800, kCodeOff + 0x800);  // the code page's path survived

  // A huge leaf partly inside the range is removed whole.
  const u64 h = 0x8040'0000;
  ASSERT_EQ(m_gs->map(h, m_mem.hpa(0x40'0000), k2M, true), 0);
  ASSERT_EQ(m_gs->map(h + k2M, m_mem.hpa(0x60'0000), k2M, true), 0);
  expect_load(h + 0x1'0000, 0x41'0000);
  EXPECT_EQ(m_gs->unmap(h + 0x3000, k4K), 1u);
  expect_load_fault(h);
  expect_load_fault(h + k2M - 8);
  expect_load(h + k2M, 0x60'0000);
  // A range straddling the boundary between two huge leaves takes both.
  ASSERT_EQ(m_gs->map(h, m_mem.hpa(0x40'0000), k2M, true), 0);
  EXPECT_EQ(m_gs->unmap(h + k2M - k4K, 2 * k4K), 2u);
  expect_load_fault(h + 0x1'0000);
  expect_load_fault(h + k2M);

  // A 1 GiB leaf likewise.
  ASSERT_EQ(m_gs->map(0x1'0000'0000, m_mem.hpa(0), k1G, true), 0);
  expect_load(0x1'2000'0000, 0x2000'0000);
  EXPECT_EQ(m_gs->unmap(0x1'3fff'f000, k4K), 1u);
  expect_load_fault(0x1'2000'0000);

  EXPECT_TRUE(m_gs->clear());
  Result r = run(kLoadPc, kCodeGpa);  // the code page is gone too
  EXPECT_EQ(r.cause, cause::insn_guest_page_fault);
  EXPECT_EQ(r.tval2, kLoadPc >> 2);
  EXPECT_EQ(m_gs->table_pages(), 0u);
  EXPECT_FALSE(m_gs->clear());
  m_gs->reclaim_retired();
  EXPECT_EQ(m_pool.pages_in_use(), PagePool::kRootSize / PagePool::kPageSize);
}

TEST_P(GStageHart, ReplaceTableWithHugeLeafAndBack) {
  const u64 g = 0x8040'0000;
  ASSERT_EQ(m_gs->map(g, m_mem.hpa(0x30'0000), k4K, true), 0);
  ASSERT_EQ(m_gs->map(g + k4K, m_mem.hpa(0x31'0000), k4K, true), 0);
  expect_load(g + k4K + 8, 0x31'0008);
  const u64 tables = m_gs->table_pages();

  // A 2 MiB leaf over a 4 KiB table: the table is unlinked (and reclaimable after the flush).
  EXPECT_EQ(m_gs->map(g, m_mem.hpa(0x40'0000), k2M, true), GStage::kReplaced);
  EXPECT_EQ(m_gs->table_pages(), tables - 1);
  EXPECT_EQ(m_gs->retired_pages(), 1u);
  expect_load(g + k4K + 8, 0x40'1008);
  expect_load(g + 0x12'3450, 0x52'3450);
  u64 in_use = m_pool.pages_in_use();
  EXPECT_EQ(m_gs->reclaim_retired(), 1u);
  EXPECT_EQ(m_pool.pages_in_use(), in_use - 1);

  // Back to 4 KiB inside the huge leaf: the leaf is split, so the rest of it stays mapped.
  EXPECT_EQ(m_gs->map(g + k4K, m_mem.hpa(0x31'0000), k4K, true), GStage::kReplaced);
  EXPECT_EQ(m_gs->table_pages(), tables);
  u64 pte;
  unsigned level;
  ASSERT_TRUE(m_gs->lookup(g + 0x2000, pte, level));
  EXPECT_EQ(level, 0u);
  EXPECT_EQ(pte, ((m_mem.hpa(0x40'2000) >> 12) << 10) | pte::V | pte::R | pte::W | pte::X | pte::U | pte::A | pte::D);
  expect_load(g + k4K + 8, 0x31'0008);
  expect_load(g + 8, 0x40'0008);
  expect_load(g + k2M - 8, 0x5f'fff8);
  expect_store(g + 0x2000, 0x40'2000);
  // Re-mapping a split page to the same place changes nothing.
  EXPECT_EQ(m_gs->map(g + 0x3000, m_mem.hpa(0x40'3000), k4K, true), 0);

  // A 1 GiB leaf splits twice (to 2 MiB leaves, then 4 KiB leaves).
  const u64 big = 0x1'0000'0000;
  ASSERT_EQ(m_gs->map(big, m_mem.hpa(0), k1G, false), 0);
  const u64 before = m_gs->table_pages();
  EXPECT_EQ(m_gs->map(big + 0x5000, m_mem.hpa(0x31'0000), k4K, true), GStage::kReplaced);
  EXPECT_EQ(m_gs->table_pages(), before + 2);
  ASSERT_TRUE(m_gs->lookup(big + 0x2345'6000, pte, level));
  EXPECT_EQ(level, 1u);
  EXPECT_EQ(pte & pte::W, 0u);
  expect_load(big + 0x5000, 0x31'0000);
  expect_load(big + 0x4ff8, 0x4ff8);
  expect_load(big + 0x2345'6008, 0x2345'6008);
  expect_store(big + 0x5008, 0x31'0008);
  expect_store_fault(big + 0x6000, 0x6000);
  // And a 1 GiB leaf over that two-level subtree retires both tables.
  EXPECT_EQ(m_gs->map(big, m_mem.hpa(0), k1G, true), GStage::kReplaced);
  EXPECT_EQ(m_gs->table_pages(), before);
  EXPECT_EQ(m_gs->retired_pages(), 2u);
  expect_load(big + 0x5000, 0x5000);
  m_gs->reclaim_retired();
}

TEST_P(GStageHart, WriteProtect) {
  const u64 g = 0x8000'4000, h = 0x8060'0000;
  ASSERT_EQ(m_gs->map(g, m_mem.hpa(0x9000), k4K, true), 0);
  ASSERT_EQ(m_gs->map(h, m_mem.hpa(0x60'0000), k2M, true), 0);
  expect_store(g + 8, 0x9008);
  EXPECT_TRUE(m_gs->write_protect(g, k4K));
  EXPECT_FALSE(m_gs->write_protect(g, k4K));
  u64 pte;
  unsigned level;
  ASSERT_TRUE(m_gs->lookup(g, pte, level));
  EXPECT_EQ(pte & (pte::W | pte::D), 0u);
  EXPECT_EQ(pte & pte::A, pte::A);
  expect_store_fault(g + 8, 0x9008);
  expect_load(g + 8, 0x9008);
  // A huge leaf partly inside the range is protected whole.
  EXPECT_TRUE(m_gs->write_protect(h + 0x10'0000, k4K));
  expect_store_fault(h + 0x1f'f000, 0x7f'f000);
  expect_load(h + 0x1f'f000, 0x7f'f000);
  // Mapping again restores write access.
  EXPECT_EQ(m_gs->map(g, m_mem.hpa(0x9000), k4K, true), GStage::kReplaced);
  expect_store(g + 8, 0x9008);
  EXPECT_FALSE(m_gs->write_protect(0x2'0000'0000, k1G));  // nothing there
}

TEST_P(GStageHart, AgingMakesTheNextAccessFault) {
  const u64 g = 0x8000'5000;
  ASSERT_EQ(m_gs->map(g, m_mem.hpa(0xa000), k4K, true), 0);
  ASSERT_EQ(m_gs->map(0x8080'0000, m_mem.hpa(0x80'0000), k2M, true), 0);
  expect_load(g, 0xa000);
  EXPECT_TRUE(m_gs->test_and_clear_accessed(g, k4K, false));
  EXPECT_TRUE(m_gs->test_and_clear_accessed(g, k4K, false));  // testing does not clear
  EXPECT_TRUE(m_gs->test_and_clear_accessed(g, k4K, true));
  EXPECT_FALSE(m_gs->test_and_clear_accessed(g, k4K, false));
  // With menvcfg.ADUE = 0 the hart does not set A: it reports a guest-page fault instead.
  expect_load_fault(g + 0x10);
  expect_store_fault(g + 0x10, 0xa010);
  Result r = run(g, 0);  // fetch
  EXPECT_EQ(r.cause, cause::insn_guest_page_fault);
  EXPECT_EQ(r.tval2, g >> 2);
  // The fault handler makes the page young again.
  EXPECT_TRUE(m_gs->mark_accessed(g));
  expect_load(g + 0x10, 0xa010);
  expect_store(g + 0x10, 0xa010);
  EXPECT_TRUE(m_gs->test_and_clear_accessed(g, k4K, true));
  EXPECT_EQ(m_gs->map(g, m_mem.hpa(0xa000), k4K, true), GStage::kReplaced);
  expect_load(g + 0x10, 0xa010);
  EXPECT_FALSE(m_gs->mark_accessed(0x9000'0000));

  // Ranges over several leaves: any young leaf makes the range young.
  EXPECT_TRUE(m_gs->test_and_clear_accessed(0x8000'0000, 0x100'0000, true));
  EXPECT_FALSE(m_gs->test_and_clear_accessed(0x8000'0000, 0x100'0000, false));
  EXPECT_TRUE(m_gs->mark_accessed(kCodeGpa));  // the code page was aged as well
  expect_load_fault(0x8090'0000);
  EXPECT_TRUE(m_gs->mark_accessed(0x8090'0000));
  expect_load(0x8090'0000, 0x90'0000);
}

// Harts on other threads walk the tables while they change. Splitting a huge leaf and replacing
// the table again with the leaf never changes a translation, so every guest load must succeed
// with the right value; a table published before it is filled, or reused while a walk could still
// be in it, would show up as a fault or a wrong value.
TEST_P(GStageHart, ConcurrentWalksSeeConsistentTables) {
  const u64 g = 0x8040'0000, off = 0x40'0000, stride = 0x4'0000;
  auto value = [](u64 k) { return 0x5eed'0000'0000'0000ull + k; };
  for (u64 k = 0; k < 8; ++k) m_mem.put64(off + k * stride + 8 * k, value(k));
  ASSERT_EQ(m_gs->map(g, m_mem.hpa(off), k2M, true), 0);

  std::atomic<bool> stop{false};
  std::atomic<u64> done_runs{0}, bad{0};
  std::thread guest([&] {
    for (u64 i = 0; !stop.load(std::memory_order_acquire); ++i) {
      u64 k = i % 8;
      Result r = run(kLoadPc, g + k * stride + 8 * k);  // flushes first, so every run walks
      if (r.cause != cause::breakpoint || r.a0 != value(k)) bad.fetch_add(1);
      done_runs.store(i + 1, std::memory_order_release);
    }
  });
  const u64 in_use = m_pool.pages_in_use();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  u64 handshakes = 0;
  for (u64 round = 0; round < 4000 && std::chrono::steady_clock::now() < deadline; ++round) {
    u64 k = round % 8;
    ASSERT_EQ(m_gs->map(g + k * stride, m_mem.hpa(off + k * stride), k4K, true), 0);  // split
    ASSERT_EQ(m_gs->map(g, m_mem.hpa(off), k2M, true), GStage::kReplaced);            // unsplit
    if (round % 32 == 31) {
      // The flush handshake: once the run in progress now has finished, no walk can still be
      // inside a retired table, and the pages may be reused by the next splits.
      u64 seen = done_runs.load(std::memory_order_acquire);
      while (done_runs.load(std::memory_order_acquire) < seen + 1) std::this_thread::yield();
      EXPECT_EQ(m_gs->reclaim_retired(), 32u);
      ++handshakes;
    }
  }
  stop.store(true, std::memory_order_release);
  guest.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GE(done_runs.load(), handshakes);
  EXPECT_GT(handshakes, 0u);
  m_gs->reclaim_retired();
  EXPECT_EQ(m_pool.pages_in_use(), in_use);
}

INSTANTIATE_TEST_SUITE_P(Modes, GStageHart, ::testing::Values(atp::Sv39, atp::Sv48, atp::Sv57),
                         [](const ::testing::TestParamInfo<u64>& i) {
                           return i.param == atp::Sv39 ? "Sv39x4" : i.param == atp::Sv48 ? "Sv48x4" : "Sv57x4";
                         });

// ---------------------------------------------------------------------------------------------
// GStage without the hart

TEST(GStage, RejectsBadArguments) {
  HostMem mem;
  ASSERT_TRUE(mem.ok());
  PagePool pool(1 << 20);
  // The slot is the first 16 MiB of the host memory.
  GStage gs(pool, atp::Sv48,
            [&](u64 hpa, u64 len) { return mem.contains(hpa, len) && hpa + len <= mem.hpa(16 << 20); });
  ASSERT_TRUE(gs.ok());
  EXPECT_EQ(gs.map(0x1000, mem.hpa(0x1000), 0x2000, true), -EINVAL);
  EXPECT_EQ(gs.map(0x1000, mem.hpa(0x1000), 0, true), -EINVAL);
  EXPECT_EQ(gs.map(0x1800, mem.hpa(0x1000), k4K, true), -EINVAL);
  EXPECT_EQ(gs.map(0x1000, mem.hpa(0x1800), k4K, true), -EINVAL);
  EXPECT_EQ(gs.map(0x20'0000, mem.hpa(0x1000), k2M, true), -EINVAL);
  EXPECT_EQ(gs.map(0x4000'0000, mem.hpa(0), k1G, true), -EFAULT);  // larger than the slot
  EXPECT_EQ(gs.map(0x1000, mem.hpa(16 << 20), k4K, true), -EFAULT);
  EXPECT_EQ(gs.map(0x20'0000, mem.hpa(16 << 20), k2M, true), -EFAULT);
  EXPECT_EQ(gs.map(0x1000, mem.hpa(16 << 20) - 8, k4K, true), -EINVAL);
  EXPECT_EQ(gs.map(0x1000, 0x1000, k4K, true), -EFAULT);
  EXPECT_EQ(gs.map(0x1000, 1ull << 56, k4K, true), -EFAULT);
  EXPECT_EQ(gs.table_pages(), 0u);
  EXPECT_EQ(gs.map(0x1000, mem.hpa(0x1000), k4K, true), 0);
  EXPECT_EQ(gs.map(0x20'0000, mem.hpa(0x20'0000), k2M, true), 0);

  // Never into the pool, even if the predicate were to allow it.
  GStage lax(pool, atp::Sv39, [](u64, u64) { return true; });
  EXPECT_EQ(lax.map(0x1000, reinterpret_cast<u64>(pool.base()), k4K, true), -EFAULT);
  EXPECT_EQ(lax.map(0x1000, reinterpret_cast<u64>(lax.root()), k4K, true), -EFAULT);
  EXPECT_EQ(lax.map(0x1000, reinterpret_cast<u64>(pool.base()) + pool.size() - k4K, k4K, true), -EFAULT);
  GStage none(pool, atp::Sv39, nullptr);
  EXPECT_EQ(none.map(0x1000, mem.hpa(0x1000), k4K, true), -EFAULT);

  GStage bad(pool, 7, [](u64, u64) { return true; });
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.map(0x1000, mem.hpa(0x1000), k4K, true), -ENOMEM);
  EXPECT_EQ(bad.unmap(0, ~0ull), 0u);
  EXPECT_EQ(bad.hgatp(1) & atp::kPpnMask, 0u);
}

TEST(GStage, PoolExhaustionIsAnError) {
  HostMem mem;
  ASSERT_TRUE(mem.ok());
  PagePool pool(2 * PagePool::kRootSize);  // the root plus four table pages
  auto owns = [&](u64 hpa, u64 len) { return mem.contains(hpa, len); };
  {
    GStage gs(pool, atp::Sv57, owns);
    ASSERT_TRUE(gs.ok());
    // Sv57x4 needs four tables under the root for a 4 KiB page.
    ASSERT_EQ(gs.map(0x1000, mem.hpa(0x1000), k4K, true), 0);
    EXPECT_EQ(gs.table_pages(), 4u);
    const u64 far = 1ull << 50;  // a different root entry: four more tables
    EXPECT_EQ(gs.map(far, mem.hpa(0x2000), k4K, true), -ENOMEM);
    EXPECT_EQ(gs.map(0x20'0000, mem.hpa(0x2000), k4K, true), -ENOMEM);  // needs one more
    // What was there is intact and what failed is absent.
    u64 hpa = 0;
    ASSERT_TRUE(gs.translate(0x1008, hpa));
    EXPECT_EQ(hpa, mem.hpa(0x1008));
    EXPECT_FALSE(gs.translate(far, hpa));
    // A huge page at an existing level needs no new table.
    EXPECT_EQ(gs.map(0x4000'0000, mem.hpa(0), k1G, true), 0);
    // Splitting it would.
    EXPECT_EQ(gs.map(0x4000'1000, mem.hpa(0x1000), k4K, true), -ENOMEM);
    ASSERT_TRUE(gs.translate(0x4000'1008, hpa));
    EXPECT_EQ(hpa, mem.hpa(0x1008));
    // Freeing makes room again.
    EXPECT_EQ(gs.unmap(0, 1ull << 40), 2u);
    EXPECT_EQ(gs.reclaim_retired(), 4u);
    EXPECT_EQ(gs.map(far, mem.hpa(0x2000), k4K, true), 0);
    ASSERT_TRUE(gs.translate(far + 8, hpa));
    EXPECT_EQ(hpa, mem.hpa(0x2008));
  }
  // The destructor gives everything back.
  EXPECT_EQ(pool.pages_in_use(), 0u);
  // No room for a second root while one exists.
  GStage one(pool, atp::Sv39, owns);
  GStage two(pool, atp::Sv39, owns);
  EXPECT_TRUE(one.ok());
  EXPECT_FALSE(two.ok());
}

TEST(GStage, SplitFromPartialFailureStaysConsistent) {
  HostMem mem;
  ASSERT_TRUE(mem.ok());
  PagePool pool(2 * PagePool::kRootSize);
  GStage gs(pool, atp::Sv39, [&](u64 hpa, u64 len) { return mem.contains(hpa, len); });
  ASSERT_EQ(gs.map(0, mem.hpa(0), k1G, true), 0);
  // Use up three of the four pages elsewhere so only the first of the two splits succeeds.
  ASSERT_EQ(gs.map(0x4000'0000, mem.hpa(0), k4K, true), 0);   // two tables
  ASSERT_EQ(gs.map(0x8000'0000, mem.hpa(0), k2M, true), 0);   // one table
  EXPECT_EQ(gs.map(0x1234'5000, mem.hpa(0x1000), k4K, true), -ENOMEM);
  // The 1 GiB leaf became 512 equivalent 2 MiB leaves.
  u64 pte, hpa;
  unsigned level;
  ASSERT_TRUE(gs.lookup(0x1234'5000, pte, level));
  EXPECT_EQ(level, 1u);
  for (u64 g : {0ull, 0x1234'5008ull, 0x3fff'fff8ull}) {
    ASSERT_TRUE(gs.translate(g, hpa));
    EXPECT_EQ(hpa, mem.hpa(g));
  }
  u64 n = 0;
  gs.for_each_leaf(0, k1G, [&](u64 g, u64 e, unsigned l) {
    EXPECT_EQ(l, 1u);
    EXPECT_EQ(g, n * k2M);
    EXPECT_EQ(((e >> 10) << 12), mem.hpa(g));
    ++n;
  });
  EXPECT_EQ(n, 512u);
}

}  // namespace
}  // namespace rvkvm::hyp
