// VMs through the public API: capabilities, memslots (KVM_SET_USER_MEMORY_REGION and its error
// codes, virt/kvm/kvm_main.c + arch/riscv/kvm/mmu.c), dirty logging, the MMU-notifier operations
// and VMID reuse, each checked by what guest code sees.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <set>
#include <thread>

#include "hyp/hyp_test_util.h"

namespace rvkvm::hyp {
namespace {

using namespace test;

constexpr u64 kPage = 4096;
constexpr u64 kDataGpa = 0x1'0000'0000ull;  // 2 MiB aligned, far from slot 0

// What a guest access did: either reached memory (value = what a load returned), or exited.
struct Access {
  bool mmio = false;
  MmioExit exit;
  u64 value = 0;
};

// Runs small guest programs on VCPU 0 of a TestVm, each at a fresh code address.
class Guest {
 public:
  explicit Guest(TestVm& vm) : m_vm(vm) {}

  Access load(u64 gpa) {
    Asm a = code();
    a.li(a1, gpa).emit(rv::ld(a0, a1, 0)).halt();
    return run(a, 0x0bad'0bad'0bad'0badull);
  }
  Access store(u64 gpa, u64 value) {
    Asm a = code();
    a.li(a1, gpa).li(a2, value).emit(rv::sd(a2, a1, 0)).halt();
    return run(a, 0);
  }
  // Stores `value + i` to the first word of each page in `pages` (offsets from `base`), no exits.
  void store_pages(u64 base, const std::vector<u64>& pages, u64 value) {
    Asm a = code();
    for (u64 p : pages) a.li(a1, base + p * kPage).li(a2, value + p).emit(rv::sd(a2, a1, 0));
    a.halt();
    m_vm.start(a);
    EXPECT_TRUE(IsHalt(run_vcpu(m_vm.vcpu())));
  }

 private:
  Asm code() {
    Asm a(kRamBase + m_next);
    m_next = (m_next + 0x800) % (TestVm::kDefaultRam / 2);
    return a;
  }
  Access run(const Asm& a, u64 mmio_reply) {
    m_vm.start(a);
    Access r;
    Exit& e = run_vcpu(m_vm.vcpu());
    if (auto* m = std::get_if<MmioExit>(&e); m && m->phys_addr != kHaltAddr) {
      r.mmio = true;
      r.exit = *m;
      set_mmio_data(*m, mmio_reply);
      Exit& h = run_vcpu(m_vm.vcpu());
      EXPECT_TRUE(IsHalt(h));
    } else {
      EXPECT_TRUE(IsHalt(e));
    }
    r.value = xreg(m_vm.vcpu(), a0);
    return r;
  }

  TestVm& m_vm;
  u64 m_next = 0;
};

UserMemoryRegion region(u32 slot, u64 gpa, u64 size, void* hva, u32 flags = 0) {
  UserMemoryRegion r;
  r.slot = slot;
  r.flags = flags;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = hva;
  return r;
}

std::vector<u64> bits_of(const std::vector<u64>& bitmap) {
  std::vector<u64> out;
  for (u64 w = 0; w < bitmap.size(); ++w)
    for (u64 b = 0; b < 64; ++b)
      if ((bitmap[w] >> b) & 1) out.push_back(w * 64 + b);
  return out;
}

class VmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_hv = create_emulated_hypervisor();
    ASSERT_TRUE(m_hv);
  }
  std::unique_ptr<Hypervisor> m_hv;
};

// ---------------------------------------------------------------------------------------------
// Capabilities, VM and VCPU creation

TEST_F(VmTest, CheckExtension) {
  for (Cap c : {Cap::KVM_CAP_USER_MEMORY, Cap::KVM_CAP_READONLY_MEM, Cap::KVM_CAP_ONE_REG, Cap::KVM_CAP_MP_STATE,
                Cap::KVM_CAP_IMMEDIATE_EXIT, Cap::KVM_CAP_SYNC_MMU})
    EXPECT_EQ(m_hv->check_extension(c), 1) << static_cast<u32>(c);
  int max_vcpus = m_hv->check_extension(Cap::KVM_CAP_MAX_VCPUS);
  EXPECT_GE(max_vcpus, 1);
  int nr_vcpus = m_hv->check_extension(Cap::KVM_CAP_NR_VCPUS);
  EXPECT_GE(nr_vcpus, 1);
  EXPECT_LE(nr_vcpus, max_vcpus);
  EXPECT_GE(m_hv->check_extension(Cap::KVM_CAP_NR_MEMSLOTS), 32);
  EXPECT_EQ(m_hv->check_extension(Cap::KVM_CAP_VM_GPA_BITS), 59) << "Sv57x4";
  EXPECT_EQ(m_hv->check_extension(static_cast<Cap>(12345)), 0) << "unknown capability";

  struct ModeBits {
    u32 mode;
    int bits;
  };
  for (ModeBits mb : {ModeBits{8, 41}, ModeBits{9, 50}, ModeBits{10, 59}}) {
    VmConfig cfg;
    cfg.gstage_mode = mb.mode;
    std::unique_ptr<Vm> vm;
    ASSERT_EQ(m_hv->create_vm(cfg, vm), kOk) << mb.mode;
    EXPECT_EQ(vm->check_extension(Cap::KVM_CAP_VM_GPA_BITS), mb.bits) << "mode " << mb.mode;
    EXPECT_EQ(vm->check_extension(Cap::KVM_CAP_READONLY_MEM), 1);
    EXPECT_EQ(vm->check_extension(Cap::KVM_CAP_NR_MEMSLOTS), m_hv->check_extension(Cap::KVM_CAP_NR_MEMSLOTS));
  }
}

TEST_F(VmTest, CreateVmAndVcpuErrors) {
  std::unique_ptr<Vm> vm;
  for (u32 mode : {0u, 7u, 11u, 15u}) {
    VmConfig cfg;
    cfg.gstage_mode = mode;
    EXPECT_EQ(m_hv->create_vm(cfg, vm), kEINVAL) << "mode " << mode;
  }
  ASSERT_EQ(m_hv->create_vm({}, vm), kOk);
  int max = m_hv->check_extension(Cap::KVM_CAP_MAX_VCPUS);
  Vcpu* v = nullptr;
  EXPECT_EQ(vm->create_vcpu(static_cast<u32>(max), v), kEINVAL);
  ASSERT_EQ(vm->create_vcpu(3, v), kOk);
  EXPECT_EQ(v->id(), 3u);
  Vcpu* again = nullptr;
  EXPECT_EQ(vm->create_vcpu(3, again), kEEXIST);
  ASSERT_EQ(vm->create_vcpu(static_cast<u32>(max - 1), again), kOk);
  // Every VCPU but 0 starts STOPPED.
  u32 st = 0;
  ASSERT_EQ(v->get_mp_state(st), kOk);
  EXPECT_EQ(st, KVM_MP_STATE_STOPPED);
  Vcpu* v0 = nullptr;
  ASSERT_EQ(vm->create_vcpu(0, v0), kOk);
  ASSERT_EQ(v0->get_mp_state(st), kOk);
  EXPECT_EQ(st, KVM_MP_STATE_RUNNABLE);
  EXPECT_EQ(v0->set_mp_state(77), kEINVAL);
}

// ---------------------------------------------------------------------------------------------
// Memslot validation

TEST_F(VmTest, MemslotErrorCodes) {
  std::unique_ptr<Vm> vm;
  ASSERT_EQ(m_hv->create_vm({}, vm), kOk);
  HostMem mem(16 * kPage);
  ASSERT_TRUE(mem.ok());
  u8* hva = mem.data();
  const u32 nslots = static_cast<u32>(vm->check_extension(Cap::KVM_CAP_NR_MEMSLOTS));

  // Bad arguments: EINVAL.
  EXPECT_EQ(vm->set_user_memory_region(region(nslots, kDataGpa, kPage, hva)), kEINVAL) << "slot id";
  EXPECT_EQ(vm->set_user_memory_region(region(~0u, kDataGpa, kPage, hva)), kEINVAL) << "slot id";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, kPage, hva, 1u << 2)), kEINVAL) << "flags";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, kPage, hva, 1u << 31)), kEINVAL) << "flags";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa + 0x800, kPage, hva)), kEINVAL) << "gpa";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa + 1, kPage, hva)), kEINVAL) << "gpa";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, kPage + 0x800, hva)), kEINVAL) << "size";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 100, hva)), kEINVAL) << "size";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, kPage, hva + 8)), kEINVAL) << "hva";
  EXPECT_EQ(vm->set_user_memory_region(region(1, ~0ull - kPage + 1, 2 * kPage, hva)), kEINVAL) << "gpa wraps";
  // Deleting a slot that does not exist.
  EXPECT_EQ(vm->set_user_memory_region(region(1, 0, 0, nullptr)), kEINVAL);
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 0, hva)), kEINVAL);

  // The highest slot id is fine.
  ASSERT_EQ(vm->set_user_memory_region(region(nslots - 1, kDataGpa + 0x10'0000, kPage, hva + 8 * kPage)), kOk);

  // A slot, then changes KVM refuses: size, host address, READONLY.
  ASSERT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 4 * kPage, hva)), kOk);
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 4 * kPage, hva)), kOk) << "unchanged";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 2 * kPage, hva)), kEINVAL) << "size change";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 8 * kPage, hva)), kEINVAL) << "size change";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 4 * kPage, hva + kPage)), kEINVAL) << "hva change";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa, 4 * kPage, hva, KVM_MEM_READONLY)), kEINVAL)
      << "READONLY change";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa + kPage, 4 * kPage, hva + kPage)), kEINVAL)
      << "move with another hva";

  // Overlaps: EEXIST, for a new slot and for a move.
  EXPECT_EQ(vm->set_user_memory_region(region(2, kDataGpa + 3 * kPage, 4 * kPage, hva + 4 * kPage)), kEEXIST);
  EXPECT_EQ(vm->set_user_memory_region(region(2, kDataGpa - kPage, 2 * kPage, hva + 4 * kPage)), kEEXIST);
  EXPECT_EQ(vm->set_user_memory_region(region(2, kDataGpa - 4 * kPage, 16 * kPage, hva)), kEEXIST);
  ASSERT_EQ(vm->set_user_memory_region(region(2, kDataGpa + 4 * kPage, 4 * kPage, hva + 4 * kPage)), kOk)
      << "adjacent is fine";
  EXPECT_EQ(vm->set_user_memory_region(region(2, kDataGpa + 2 * kPage, 4 * kPage, hva + 4 * kPage)), kEEXIST)
      << "move onto slot 1";
  ASSERT_EQ(vm->set_user_memory_region(region(2, kDataGpa + 64 * kPage, 4 * kPage, hva + 4 * kPage)), kOk)
      << "move";

  // Beyond the G-stage's reach: EFAULT (GPA bits 59 by default).
  EXPECT_EQ(vm->set_user_memory_region(region(3, 1ull << 59, kPage, hva)), kEFAULT);
  EXPECT_EQ(vm->set_user_memory_region(region(3, (1ull << 59) - kPage, 2 * kPage, hva)), kEFAULT);
  EXPECT_EQ(vm->set_user_memory_region(region(1, 1ull << 60, 4 * kPage, hva)), kEFAULT) << "move out of reach";
  EXPECT_EQ(vm->set_user_memory_region(region(3, (1ull << 59) - 16 * kPage, kPage, hva + 12 * kPage)), kOk);

  // Delete, then the id is free again.
  EXPECT_EQ(vm->set_user_memory_region(region(1, 0, 0, nullptr)), kOk);
  EXPECT_EQ(vm->set_user_memory_region(region(1, 0, 0, nullptr)), kEINVAL) << "already deleted";
  EXPECT_EQ(vm->set_user_memory_region(region(1, kDataGpa + 2 * kPage, 2 * kPage, hva)), kOk);
}

TEST_F(VmTest, GpaLimitFollowsTheGStageMode) {
  for (u32 mode : {8u, 9u}) {
    VmConfig cfg;
    cfg.gstage_mode = mode;
    std::unique_ptr<Vm> vm;
    ASSERT_EQ(m_hv->create_vm(cfg, vm), kOk);
    const u64 bits = static_cast<u64>(vm->check_extension(Cap::KVM_CAP_VM_GPA_BITS));
    HostMem mem(4 * kPage);
    EXPECT_EQ(vm->set_user_memory_region(region(0, 1ull << bits, kPage, mem.data())), kEFAULT) << mode;
    EXPECT_EQ(vm->set_user_memory_region(region(0, (1ull << bits) - kPage, 2 * kPage, mem.data())), kEFAULT) << mode;
    EXPECT_EQ(vm->set_user_memory_region(region(0, (1ull << bits) - 4 * kPage, kPage, mem.data())), kOk) << mode;
  }
}

// KVM (arch/riscv/kvm/mmu.c kvm_arch_prepare_memory_region) rejects a slot whose end reaches the
// GPA limit: (base_gfn + npages) >= gpa_size >> PAGE_SHIFT -> -EFAULT.
TEST_F(VmTest, SlotEndingAtTheGpaLimitIsEfaultAsInKvm) {
  std::unique_ptr<Vm> vm;
  ASSERT_EQ(m_hv->create_vm({}, vm), kOk);
  HostMem mem(kPage);
  EXPECT_EQ(vm->set_user_memory_region(region(0, (1ull << 59) - kPage, kPage, mem.data())), kEFAULT);
}

// ---------------------------------------------------------------------------------------------
// What the guest sees

TEST_F(VmTest, MoveAndDeleteSlot) {
  TestVm tvm(*m_hv);
  ASSERT_TRUE(tvm.ok());
  Guest g(tvm);
  HostMem data(4 * kPage);
  data.put64(kPage + 8, 0x1111'2222'3333'4444ull);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 4 * kPage, data.data())), kOk);

  Access r = g.load(kDataGpa + kPage + 8);
  ASSERT_FALSE(r.mmio) << describe(Exit{r.exit});
  EXPECT_EQ(r.value, 0x1111'2222'3333'4444ull);
  // A guest store goes to the host memory.
  EXPECT_FALSE(g.store(kDataGpa + 2 * kPage, 0xabcd).mmio);
  EXPECT_EQ(data.get64(2 * kPage), 0xabcdu);

  // Move: same memory at the new GPA; the old GPA (mapped before the move) is MMIO now.
  const u64 moved = kDataGpa + 0x4000'0000;
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, moved, 4 * kPage, data.data())), kOk);
  r = g.load(moved + kPage + 8);
  ASSERT_FALSE(r.mmio) << describe(Exit{r.exit});
  EXPECT_EQ(r.value, 0x1111'2222'3333'4444ull);
  r = g.load(kDataGpa + kPage + 8);
  ASSERT_TRUE(r.mmio);
  EXPECT_EQ(r.exit.phys_addr, kDataGpa + kPage + 8);
  EXPECT_FALSE(r.exit.is_write);
  EXPECT_EQ(r.value, 0x0bad'0bad'0bad'0badull) << "the load got the VMM's data";
  Access w = g.store(kDataGpa + 2 * kPage, 0x5555);
  ASSERT_TRUE(w.mmio);
  EXPECT_TRUE(w.exit.is_write);
  EXPECT_EQ(data.get64(2 * kPage), 0xabcdu) << "the store did not reach the moved slot's memory";

  // Delete: the GPA is MMIO.
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, 0, 0, nullptr)), kOk);
  r = g.load(moved + kPage + 8);
  ASSERT_TRUE(r.mmio);
  EXPECT_EQ(r.exit.phys_addr, moved + kPage + 8);
  // And the slot id can be reused for other memory.
  HostMem other(kPage);
  other.put64(0, 77);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, moved, kPage, other.data())), kOk);
  r = g.load(moved);
  ASSERT_FALSE(r.mmio);
  EXPECT_EQ(r.value, 77u);
}

TEST_F(VmTest, FlagsOnlyChangeKeepsTheMemory) {
  TestVm tvm(*m_hv);
  Guest g(tvm);
  HostMem data(8 * kPage);
  data.put64(0, 42);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 8 * kPage, data.data())), kOk);
  EXPECT_EQ(g.load(kDataGpa).value, 42u);
  std::vector<u64> bm;
  EXPECT_EQ(tvm.vm().get_dirty_log(1, bm), kENOENT) << "not logging";
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 8 * kPage, data.data(), KVM_MEM_LOG_DIRTY_PAGES)), kOk);
  EXPECT_EQ(g.load(kDataGpa).value, 42u);
  EXPECT_FALSE(g.store(kDataGpa + 3 * kPage, 9).mmio);
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bits_of(bm), std::vector<u64>{3});
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 8 * kPage, data.data())), kOk);
  EXPECT_EQ(tvm.vm().get_dirty_log(1, bm), kENOENT) << "logging off again";
  EXPECT_EQ(g.load(kDataGpa + 3 * kPage).value, 9u);
  EXPECT_FALSE(g.store(kDataGpa + 4 * kPage, 10).mmio);
  EXPECT_EQ(data.get64(4 * kPage), 10u);
}

TEST_F(VmTest, ReadOnlySlot) {
  TestVm tvm(*m_hv);
  Guest g(tvm);
  HostMem rom(4 * kPage);
  rom.put64(kPage, 0x0123'4567'89ab'cdefull);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 4 * kPage, rom.data(), KVM_MEM_READONLY)), kOk);
  Access r = g.load(kDataGpa + kPage);
  ASSERT_FALSE(r.mmio);
  EXPECT_EQ(r.value, 0x0123'4567'89ab'cdefull);
  // Stores exit as MMIO writes (KVM: a write fault on a read-only slot is MMIO) and change nothing;
  // every time, including after the page was mapped by the load.
  for (int i = 0; i < 2; ++i) {
    Access w = g.store(kDataGpa + kPage, 0x99);
    ASSERT_TRUE(w.mmio);
    EXPECT_TRUE(w.exit.is_write);
    EXPECT_EQ(w.exit.phys_addr, kDataGpa + kPage);
    EXPECT_EQ(w.exit.len, 8u);
    EXPECT_EQ(mmio_data(w.exit), 0x99u);
    EXPECT_EQ(rom.get64(kPage), 0x0123'4567'89ab'cdefull);
  }
  // A store to a page not touched before, then a load from it.
  EXPECT_TRUE(g.store(kDataGpa + 3 * kPage, 1).mmio);
  EXPECT_EQ(g.load(kDataGpa + 3 * kPage).value, 0u);
  // The host may change the contents; the guest sees it.
  rom.put64(kPage, 5);
  EXPECT_EQ(g.load(kDataGpa + kPage).value, 5u);
}

// ---------------------------------------------------------------------------------------------
// Dirty logging

TEST_F(VmTest, DirtyLogReportsExactlyTheStoredPages) {
  TestVm tvm(*m_hv);
  Guest g(tvm);
  const u64 pages = 512 + 130;  // a 2 MiB block (a huge mapping without logging) and a partial word
  HostMem data(pages * kPage);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, pages * kPage, data.data())), kOk);
  // Touch it before logging starts, so that large writable mappings exist.
  g.store_pages(kDataGpa, {0, 600}, 0x100);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, pages * kPage, data.data(), KVM_MEM_LOG_DIRTY_PAGES)),
            kOk);
  std::vector<u64> bm;
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bm.size(), (pages + 63) / 64);
  EXPECT_TRUE(bits_of(bm).empty());

  const std::vector<u64> stored = {0, 1, 63, 64, 100, 511, 512, 641};
  g.store_pages(kDataGpa, stored, 0x200);
  // Loads do not dirty pages.
  EXPECT_FALSE(g.load(kDataGpa + 5 * kPage).mmio);
  EXPECT_FALSE(g.load(kDataGpa + 300 * kPage).mmio);
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bm.size(), (pages + 63) / 64);
  EXPECT_EQ(bits_of(bm), stored);
  // KVM's layout: bit i of word i / 64 is page i.
  EXPECT_EQ(bm[0], (1ull << 0) | (1ull << 1) | (1ull << 63));
  EXPECT_EQ(bm[1], (1ull << 0) | (1ull << 36));
  EXPECT_EQ(bm[7], 1ull << 63);
  EXPECT_EQ(bm[8], 1ull << 0);
  EXPECT_EQ(bm[10], 1ull << 1);
  for (u64 p : stored) EXPECT_EQ(data.get64(p * kPage), 0x200 + p) << "page " << p;

  // Read and cleared: nothing new since.
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_TRUE(bits_of(bm).empty());
  // New stores, to pages logged before and not.
  g.store_pages(kDataGpa, {1, 600}, 0x300);
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bits_of(bm), (std::vector<u64>{1, 600}));
  // Stores to the same page twice: one bit.
  g.store_pages(kDataGpa, {7, 7, 7}, 0x400);
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bits_of(bm), std::vector<u64>{7});
}

TEST_F(VmTest, DirtyLogOfTwoSlotsAndAMove) {
  TestVm tvm(*m_hv);
  Guest g(tvm);
  HostMem d1(64 * kPage), d2(64 * kPage);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 64 * kPage, d1.data(), KVM_MEM_LOG_DIRTY_PAGES)), kOk);
  ASSERT_EQ(tvm.vm().set_user_memory_region(
                region(2, kDataGpa + 64 * kPage, 64 * kPage, d2.data(), KVM_MEM_LOG_DIRTY_PAGES)),
            kOk);
  g.store_pages(kDataGpa, {2, 64 + 5}, 1);
  std::vector<u64> b1, b2;
  ASSERT_EQ(tvm.vm().get_dirty_log(1, b1), kOk);
  ASSERT_EQ(tvm.vm().get_dirty_log(2, b2), kOk);
  EXPECT_EQ(bits_of(b1), std::vector<u64>{2});
  EXPECT_EQ(bits_of(b2), std::vector<u64>{5});
  // After a move, pages are numbered within the slot as before.
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(2, kDataGpa + 0x100'0000, 64 * kPage, d2.data(), KVM_MEM_LOG_DIRTY_PAGES)),
            kOk);
  g.store_pages(kDataGpa + 0x100'0000, {9}, 1);
  ASSERT_EQ(tvm.vm().get_dirty_log(2, b2), kOk);
  EXPECT_EQ(bits_of(b2), std::vector<u64>{9});
}

TEST_F(VmTest, ClearDirtyLog) {
  TestVm tvm(*m_hv);
  Guest g(tvm);
  const u64 pages = 200;
  HostMem data(pages * kPage);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, pages * kPage, data.data(), KVM_MEM_LOG_DIRTY_PAGES)),
            kOk);
  g.store_pages(kDataGpa, {3, 70, 150, 199}, 1);
  // Clear 70 (first_page 64, bit 6) and 150 (first_page 128, bit 22), then store to 150 again:
  // cleared pages are write-protected again, so the new store is logged; 70 stays clean.
  u64 m64 = 1ull << 6;
  ASSERT_EQ(tvm.vm().clear_dirty_log(1, 64, 64, &m64), kOk);
  u64 m128[2] = {1ull << 22, 0};
  ASSERT_EQ(tvm.vm().clear_dirty_log(1, 128, 72, m128), kOk);  // ends the slot: no multiple of 64 needed
  g.store_pages(kDataGpa, {150}, 2);
  std::vector<u64> bm;
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bits_of(bm), (std::vector<u64>{3, 150, 199}));
  // A cleared page is logged again on its next write.
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_TRUE(bits_of(bm).empty());
  g.store_pages(kDataGpa, {70}, 3);
  ASSERT_EQ(tvm.vm().get_dirty_log(1, bm), kOk);
  EXPECT_EQ(bits_of(bm), std::vector<u64>{70});
  // Clearing an already clean page is harmless.
  u64 all = ~0ull;
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 0, 64, &all), kOk);

  // Alignment rules: first_page must be a multiple of 64; num_pages too unless the range ends
  // the slot; the range must lie inside the slot.
  u64 z[4] = {};
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 1, 63, z), kEINVAL);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 32, 64, z), kEINVAL);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 64, 10, z), kEINVAL);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 0, 201, z), kEINVAL);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 192, 16, z), kEINVAL);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 256, 0, z), kEINVAL);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 192, 8, z), kOk);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 0, 200, z), kOk);
  EXPECT_EQ(tvm.vm().clear_dirty_log(1, 64, 0, z), kOk);
  // Not logging / no such slot: ENOENT.
  HostMem other(kPage);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(2, kDataGpa + 0x100'0000, kPage, other.data())), kOk);
  EXPECT_EQ(tvm.vm().clear_dirty_log(2, 0, 1, z), kENOENT);
  EXPECT_EQ(tvm.vm().clear_dirty_log(3, 0, 1, z), kENOENT);
  EXPECT_EQ(tvm.vm().get_dirty_log(3, bm), kENOENT);
}

// KVM (kvm_get_dirty_log / kvm_clear_dirty_log_protect): a slot id beyond KVM_USER_MEM_SLOTS is
// -EINVAL; -ENOENT is for a valid id without a (logging) slot.
TEST_F(VmTest, DirtyLogSlotIdOutOfRangeIsEinvalAsInKvm) {
  std::unique_ptr<Vm> vm;
  ASSERT_EQ(m_hv->create_vm({}, vm), kOk);
  const u32 nslots = static_cast<u32>(vm->check_extension(Cap::KVM_CAP_NR_MEMSLOTS));
  std::vector<u64> bm;
  u64 z = 0;
  EXPECT_EQ(vm->get_dirty_log(nslots, bm), kEINVAL);
  EXPECT_EQ(vm->clear_dirty_log(nslots, 0, 64, &z), kEINVAL);
}

// ---------------------------------------------------------------------------------------------
// MMU-notifier operations

TEST_F(VmTest, InvalidateHostRangeRemapsOnTheNextAccess) {
  TestVm tvm(*m_hv);
  Guest g(tvm);
  HostMem data(16 * kPage);
  data.put64(4 * kPage, 1);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 16 * kPage, data.data())), kOk);
  EXPECT_EQ(g.load(kDataGpa + 4 * kPage).value, 1u);

  // The host swaps in a different page at the same address (what reclaim or migration does),
  // tells the hypervisor, and the guest sees the new page.
  u8* page = data.data() + 4 * kPage;
  ASSERT_EQ(tvm.vm().invalidate_host_range(page, kPage), kOk);
  void* p = mmap(page, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(p, static_cast<void*>(page));
  data.put64(4 * kPage, 2);
  Access r = g.load(kDataGpa + 4 * kPage);
  ASSERT_FALSE(r.mmio);
  EXPECT_EQ(r.value, 2u);
  // Stores reach the new page too.
  EXPECT_FALSE(g.store(kDataGpa + 4 * kPage + 8, 3).mmio);
  EXPECT_EQ(data.get64(4 * kPage + 8), 3u);

  // Unaligned and partial ranges, a range larger than the slot, one outside every slot.
  EXPECT_EQ(tvm.vm().invalidate_host_range(data.data() + 100, 10), kOk);
  EXPECT_EQ(g.load(kDataGpa).value, 0u);
  EXPECT_EQ(tvm.vm().invalidate_host_range(data.data() - 64 * kPage, 128 * kPage), kOk);
  EXPECT_EQ(g.load(kDataGpa + 4 * kPage).value, 2u);
  HostMem elsewhere(kPage);
  EXPECT_EQ(tvm.vm().invalidate_host_range(elsewhere.data(), kPage), kOk);
  EXPECT_EQ(tvm.vm().invalidate_host_range(data.data(), 0), kOk);
  // The whole slot, many times over, with the guest in between.
  for (int i = 0; i < 20; ++i) {
    data.put64(8 * kPage, 100 + i);
    ASSERT_EQ(tvm.vm().invalidate_host_range(data.data(), 16 * kPage), kOk);
    EXPECT_EQ(g.load(kDataGpa + 8 * kPage).value, 100u + i);
  }
}

TEST_F(VmTest, InvalidateWhileTheGuestRunsOnAnotherThread) {
  TestVm tvm(*m_hv);
  ASSERT_TRUE(tvm.ok());
  HostMem data(4 * kPage);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 4 * kPage, data.data())), kOk);
  // The guest loops: a = *p; *(p + 8) = a; reporting a every 4096 iterations through MMIO.
  Asm a(kRamBase);
  a.li(a1, kDataGpa).li(a3, kMmioBase).emit(rv::addi(a4, zero, 0));
  const u64 loop = a.pc();
  a.emit(rv::ld(a0, a1, 0)).emit(rv::sd(a0, a1, 8)).emit(rv::addi(a4, a4, 1)).emit(rv::slli(a5, a4, 52));
  // if (a5 == 0) report: beq a5, zero, +8 ; jal zero, loop ; sd a0, 0(a3) ; jal zero, loop
  auto beq = [](unsigned rs1, unsigned rs2, i64 off) {
    u32 o = static_cast<u32>(off);
    return 0x63u | (((o >> 11) & 1) << 7) | (((o >> 1) & 0xf) << 8) | (rs1 << 15) | (rs2 << 20) |
           (((o >> 5) & 0x3f) << 25) | (((o >> 12) & 1) << 31);
  };
  a.emit(beq(a5, zero, 8));
  a.emit(rv::jal(zero, static_cast<i64>(loop) - static_cast<i64>(a.pc())));
  a.emit(rv::sd(a0, a3, 0));
  a.emit(rv::jal(zero, static_cast<i64>(loop) - static_cast<i64>(a.pc())));
  tvm.start(a);
  std::atomic<bool> stop{false};
  std::thread host([&] {
    u64 v = 1;
    while (!stop.load()) {
      data.put64(0, v++);
      (void)tvm.vm().invalidate_host_range(data.data(), 4 * kPage);
      std::this_thread::yield();
    }
  });
  u64 last = 0;
  int backwards = 0;
  for (int i = 0; i < 200; ++i) {
    Exit& e = run_vcpu(tvm.vcpu());
    if (!IsMmio(e, kMmioBase, 8, true)) {
      ADD_FAILURE() << IsMmio(e, kMmioBase, 8, true).message();
      break;
    }
    u64 v = mmio_data(std::get<MmioExit>(e));
    if (v < last) ++backwards;
    last = v;
  }
  stop.store(true);
  host.join();
  EXPECT_EQ(backwards, 0) << "the guest saw the value go backwards";
  EXPECT_GT(last, 0u);
}

TEST_F(VmTest, AgeAndTestAge) {
  for (bool huge : {false, true}) {
    SCOPED_TRACE(huge ? "huge pages" : "4 KiB pages");
    VmConfig cfg;
    cfg.huge_pages = huge;
    TestVm tvm(*m_hv, cfg);
    Guest g(tvm);
    HostMem data(2ull << 20);  // one 2 MiB block, 2 MiB aligned in the host and the guest
    ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 2ull << 20, data.data())), kOk);
    u8* p0 = data.data();
    u8* p1 = data.data() + kPage;

    // Nothing accessed yet.
    EXPECT_FALSE(tvm.vm().test_age(p0, kPage));
    EXPECT_FALSE(tvm.vm().age(p0, kPage));

    EXPECT_FALSE(g.load(kDataGpa).mmio);
    EXPECT_TRUE(tvm.vm().test_age(p0, kPage));
    EXPECT_TRUE(tvm.vm().test_age(p0, kPage)) << "test_age does not clear";
    EXPECT_TRUE(tvm.vm().test_age(p0 + 100, 8)) << "unaligned range";
    // Indirectly, the mapping size: with 4 KiB pages the neighbour was not touched; a 2 MiB
    // mapping covers it too.
    EXPECT_EQ(tvm.vm().test_age(p1, kPage), huge);

    EXPECT_TRUE(tvm.vm().age(p0, kPage));
    EXPECT_FALSE(tvm.vm().test_age(p0, kPage)) << "age clears";
    EXPECT_FALSE(tvm.vm().age(p0, kPage));

    // Accessed again (a store this time).
    EXPECT_FALSE(g.store(kDataGpa + 16, 1).mmio);
    EXPECT_TRUE(tvm.vm().test_age(p0, kPage));
    EXPECT_TRUE(tvm.vm().age(data.data(), 2ull << 20));
    EXPECT_FALSE(tvm.vm().test_age(data.data(), 2ull << 20));

    // Ranges outside every slot are never young.
    HostMem elsewhere(kPage);
    EXPECT_FALSE(tvm.vm().test_age(elsewhere.data(), kPage));
    EXPECT_FALSE(tvm.vm().age(elsewhere.data(), kPage));
  }
}

TEST_F(VmTest, HugePagesOffStillMapsEverything) {
  // With huge_pages=false every access still works, across a whole 4 MiB of 2 MiB blocks.
  VmConfig cfg;
  cfg.huge_pages = false;
  TestVm tvm(*m_hv, cfg);
  Guest g(tvm);
  HostMem data(4ull << 20);
  ASSERT_EQ(tvm.vm().set_user_memory_region(region(1, kDataGpa, 4ull << 20, data.data())), kOk);
  std::vector<u64> pages;
  for (u64 p = 0; p < 1024; p += 37) pages.push_back(p);
  g.store_pages(kDataGpa, pages, 0x1000);
  for (u64 p : pages) EXPECT_EQ(data.get64(p * kPage), 0x1000 + p) << p;
  for (u64 p : {0ull, 511ull, 512ull, 1023ull}) {
    data.put64(p * kPage + 8, p * 3);
    EXPECT_EQ(g.load(kDataGpa + p * kPage + 8).value, p * 3) << p;
  }
}

// ---------------------------------------------------------------------------------------------
// VMIDs

// A guest that increments the word at kRamBase + 0x10'0000 and reports the new value by MMIO.
Asm counter_program() {
  Asm a(kRamBase);
  a.li(a1, kRamBase + 0x10'0000).li(a3, kMmioBase);
  a.emit(rv::ld(a0, a1, 0)).emit(rv::addi(a0, a0, 1)).emit(rv::sd(a0, a1, 0)).emit(rv::sd(a0, a3, 0)).halt();
  return a;
}

TEST_F(VmTest, OneVmidSharedByThreeVmsAlternately) {
  auto hv = create_emulated_hypervisor(HypervisorConfig{1});
  std::vector<std::unique_ptr<TestVm>> vms;
  for (int i = 0; i < 3; ++i) {
    vms.push_back(std::make_unique<TestVm>(*hv));
    ASSERT_TRUE(vms.back()->ok());
    vms.back()->ram().put64(0x10'0000, 1000 * (i + 1));
  }
  const Asm prog = counter_program();
  for (int round = 1; round <= 40; ++round) {
    for (int i = 0; i < 3; ++i) {
      TestVm& vm = *vms[i];
      vm.start(prog);
      Exit& e = run_vcpu(vm.vcpu());
      ASSERT_TRUE(IsMmio(e, kMmioBase, 8, true)) << "vm " << i << " round " << round;
      ASSERT_EQ(mmio_data(std::get<MmioExit>(e)), 1000u * (i + 1) + round) << "vm " << i << " round " << round;
      ASSERT_TRUE(IsHalt(run_vcpu(vm.vcpu())));
    }
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(vms[i]->ram().get64(0x10'0000), 1000u * (i + 1) + 40);
}

TEST_F(VmTest, OneVmidSharedByVmsRunningConcurrently) {
  auto hv = create_emulated_hypervisor(HypervisorConfig{1});
  constexpr int kVms = 3, kRounds = 100;
  std::vector<std::unique_ptr<TestVm>> vms;
  for (int i = 0; i < kVms; ++i) {
    vms.push_back(std::make_unique<TestVm>(*hv));
    ASSERT_TRUE(vms.back()->ok());
    vms.back()->ram().put64(0x10'0000, 1'000'000ull * (i + 1));
    vms.back()->start(counter_program());
  }
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kVms; ++i) {
    threads.emplace_back([&, i] {
      TestVm& vm = *vms[i];
      for (int round = 1; round <= kRounds; ++round) {
        Exit& e = run_vcpu(vm.vcpu());
        auto* m = std::get_if<MmioExit>(&e);
        if (!m || m->phys_addr != kMmioBase || mmio_data(*m) != 1'000'000ull * (i + 1) + round) {
          ++errors;
          return;
        }
        if (!IsHalt(run_vcpu(vm.vcpu()))) {
          ++errors;
          return;
        }
        complete_exit(vm.vcpu());
        set_xreg(vm.vcpu(), KVM_REG_RISCV_CORE_pc, kRamBase);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (int i = 0; i < kVms; ++i) EXPECT_EQ(vms[i]->ram().get64(0x10'0000), 1'000'000ull * (i + 1) + kRounds);
}

TEST_F(VmTest, VmsAreIsolatedAtTheSameGpa) {
  TestVm v1(*m_hv), v2(*m_hv);
  Guest g1(v1), g2(v2);
  constexpr u64 kOff = 0x18'0000;  // data in slot 0, above the code
  v1.ram().put64(kOff, 11);
  v2.ram().put64(kOff, 22);
  EXPECT_EQ(g1.load(kRamBase + kOff).value, 11u);
  EXPECT_EQ(g2.load(kRamBase + kOff).value, 22u);
  EXPECT_FALSE(g1.store(kRamBase + kOff + 8, 33).mmio);
  EXPECT_EQ(v2.ram().get64(kOff + 8), 0u);
  EXPECT_EQ(v1.ram().get64(kOff + 8), 33u);
  // Destroying one VM leaves the other working.
  {
    TestVm v3(*m_hv);
    Guest g3(v3);
    EXPECT_EQ(g3.load(kRamBase + kOff).value, 0u);
  }
  EXPECT_EQ(g2.load(kRamBase + kOff).value, 22u);
}

}  // namespace
}  // namespace rvkvm::hyp
