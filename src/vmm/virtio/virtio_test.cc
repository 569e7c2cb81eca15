// Tests for the virtio-mmio transport, split virtqueues and the block, console and entropy devices.
// A fake guest (host memory presented as guest RAM at 0x80000000) drives the registers the way
// Linux's virtio_mmio driver does and builds descriptor chains by hand, including broken ones.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/host_memory.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_console.h"
#include "vmm/virtio/virtio_mmio.h"
#include "vmm/virtio/virtio_rng.h"

namespace rvkvm::vmm::virtio {
namespace {

constexpr u64 kRamBase = 0x8000'0000;
constexpr u64 kRamSize = 16ull << 20;  // lazily allocated, so cheap
constexpr u64 kRamEnd = kRamBase + kRamSize;
constexpr u32 kIrq = 7;

constexpr u64 kFeaturesAll = ~0ull;
constexpr u64 kVersion1 = feature_bit(VIRTIO_F_VERSION_1);
constexpr u64 kIndirect = feature_bit(VIRTIO_F_INDIRECT_DESC);

struct Buf {
  u64 gpa;
  u32 len;
  bool write;
};

struct UsedElem {
  u32 id;
  u32 len;
};

// The driver side: registers, rings and buffers, as a guest OS would manage them.
class Driver {
 public:
  explicit Driver(std::unique_ptr<VirtioDevice> device)
      : m_ram(kRamSize),
        m_mem(m_ram.data(), kRamBase, kRamSize),
        m_mmio(std::move(device), m_mem, IrqLine([this](u32 irq, bool level) { on_irq(irq, level); }, kIrq)) {}
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  VirtioMmio& mmio() { return m_mmio; }
  template <typename T>
  T& device() {
    return static_cast<T&>(m_mmio.device());
  }
  [[nodiscard]] bool irq() const { return m_irq_level.load(); }
  [[nodiscard]] int irq_changes() const { return m_irq_changes.load(); }

  // --- registers ---
  u32 read32(u64 off) {
    u8 b[4];
    m_mmio.mmio_read(off, b, 4);
    return static_cast<u32>(mmio_value(b, 4));
  }
  void write32(u64 off, u32 v) {
    u8 b[4];
    mmio_set(b, 4, v);
    m_mmio.mmio_write(off, b, 4);
  }
  u64 read_n(u64 off, u32 len) {
    u8 b[8] = {};
    m_mmio.mmio_read(off, b, len);
    return mmio_value(b, len);
  }
  void write_n(u64 off, u32 len, u64 v) {
    u8 b[8];
    mmio_set(b, len, v);
    m_mmio.mmio_write(off, b, len);
  }
  u32 status() { return read32(VIRTIO_MMIO_STATUS); }

  // --- 3.1.1 Driver Requirements: Device Initialization, as Linux does it ---
  u64 device_features() {
    write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    u64 f = static_cast<u64>(read32(VIRTIO_MMIO_DEVICE_FEATURES)) << 32;
    write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return f | read32(VIRTIO_MMIO_DEVICE_FEATURES);
  }
  void write_driver_features(u64 f) {
    write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    write32(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<u32>(f >> 32));
    write32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    write32(VIRTIO_MMIO_DRIVER_FEATURES, static_cast<u32>(f));
  }
  // Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; true if the device kept FEATURES_OK.
  // `features` is written as given (not masked), so tests can offer what was not offered.
  bool negotiate(u64 features) {
    EXPECT_EQ(read32(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
    EXPECT_EQ(read32(VIRTIO_MMIO_VERSION), 2u);
    write32(VIRTIO_MMIO_STATUS, 0);
    EXPECT_EQ(status(), 0u);
    write32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    write32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    write_driver_features(features);
    write32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    m_features = features;
    return status() & VIRTIO_STATUS_FEATURES_OK;
  }
  // Queue `q` of `size` entries with its rings at the default place (or where told).
  bool setup_queue(u32 q, u32 size) { return setup_queue_at(q, size, desc_gpa(q), avail_gpa(q), used_gpa(q)); }
  bool setup_queue_at(u32 q, u32 size, u64 desc, u64 avail, u64 used) {
    write32(VIRTIO_MMIO_QUEUE_SEL, q);
    if (read32(VIRTIO_MMIO_QUEUE_READY) != 0) return false;
    const u32 max = read32(VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max == 0) return false;
    // The rings start out zeroed, as the driver allocates them.
    std::memset(host(desc_gpa(q)), 0, 0x10000);
    write32(VIRTIO_MMIO_QUEUE_NUM, size);
    write32(VIRTIO_MMIO_QUEUE_DESC_LOW, static_cast<u32>(desc));
    write32(VIRTIO_MMIO_QUEUE_DESC_HIGH, static_cast<u32>(desc >> 32));
    write32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, static_cast<u32>(avail));
    write32(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, static_cast<u32>(avail >> 32));
    write32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, static_cast<u32>(used));
    write32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, static_cast<u32>(used >> 32));
    write32(VIRTIO_MMIO_QUEUE_READY, 1);
    m_queues[q] = QueueState{size, desc, avail, used};
    return read32(VIRTIO_MMIO_QUEUE_READY) == 1;
  }
  void set_driver_ok() { write32(VIRTIO_MMIO_STATUS, status() | VIRTIO_STATUS_DRIVER_OK); }
  // The whole sequence; every queue of `num_queues` gets `size` entries.
  void init(u64 wanted, u32 num_queues, u32 size) {
    ASSERT_TRUE(negotiate(device_features() & wanted));
    for (u32 q = 0; q < num_queues; ++q) ASSERT_TRUE(setup_queue(q, size)) << "queue " << q;
    set_driver_ok();
    ASSERT_EQ(status() & VIRTIO_STATUS_DRIVER_OK, VIRTIO_STATUS_DRIVER_OK);
  }

  // --- guest memory ---
  u8* host(u64 gpa) { return m_ram.data() + (gpa - kRamBase); }
  static u64 desc_gpa(u32 q) { return kRamBase + 0x10000 * (q + 1); }
  static u64 avail_gpa(u32 q) { return desc_gpa(q) + 0x4000; }
  static u64 used_gpa(u32 q) { return desc_gpa(q) + 0x8000; }
  // Bump allocation of data buffers, above the rings.
  u64 alloc(u64 size, u64 align = 16) {
    m_next_data = (m_next_data + align - 1) & ~(align - 1);
    const u64 gpa = m_next_data;
    m_next_data += size;
    EXPECT_LE(m_next_data, kRamEnd);
    return gpa;
  }
  u64 alloc_bytes(const std::vector<u8>& bytes) {
    const u64 gpa = alloc(bytes.size());
    std::memcpy(host(gpa), bytes.data(), bytes.size());
    return gpa;
  }
  std::vector<u8> bytes(u64 gpa, u64 len) { return std::vector<u8>(host(gpa), host(gpa) + len); }

  // --- rings ---
  static void put_desc(u8* table, u32 index, u64 addr, u32 len, u16 flags, u16 next) {
    u8* d = table + 16 * index;
    std::memcpy(d, &addr, 8);
    std::memcpy(d + 8, &len, 4);
    std::memcpy(d + 12, &flags, 2);
    std::memcpy(d + 14, &next, 2);
  }
  void write_desc(u32 q, u32 index, u64 addr, u32 len, u16 flags, u16 next) {
    put_desc(host(m_queues[q].desc), index, addr, len, flags, next);
  }
  // Puts `head` on the available ring and publishes it (release, as virtio_wmb does).
  void publish(u32 q, u16 head) {
    QueueState& s = m_queues[q];
    u8* avail = host(s.avail);
    std::memcpy(avail + 4 + 2 * (s.avail_idx % s.size), &head, 2);
    ++s.avail_idx;
    __atomic_store_n(reinterpret_cast<u16*>(avail + 2), s.avail_idx, __ATOMIC_RELEASE);
  }
  // A chain of fresh descriptors for `bufs`, published; returns its head.
  u16 post(u32 q, const std::vector<Buf>& bufs) {
    QueueState& s = m_queues[q];
    const u16 head = static_cast<u16>(s.next_desc);
    for (size_t i = 0; i < bufs.size(); ++i) {
      const u32 index = (s.next_desc + i) % s.size;
      const u16 next = static_cast<u16>((s.next_desc + i + 1) % s.size);
      const u16 flags = static_cast<u16>((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < bufs.size() ? VIRTQ_DESC_F_NEXT : 0));
      write_desc(q, index, bufs[i].gpa, bufs[i].len, flags, next);
    }
    s.next_desc = static_cast<u32>((s.next_desc + bufs.size()) % s.size);
    publish(q, head);
    return head;
  }
  // A single direct descriptor naming an indirect table that holds `bufs`.
  u16 post_indirect(u32 q, const std::vector<Buf>& bufs) {
    const u64 table = alloc(16 * bufs.size(), 16);
    for (size_t i = 0; i < bufs.size(); ++i) {
      const u16 flags = static_cast<u16>((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < bufs.size() ? VIRTQ_DESC_F_NEXT : 0));
      put_desc(host(table), static_cast<u32>(i), bufs[i].gpa, bufs[i].len, flags, static_cast<u16>(i + 1));
    }
    QueueState& s = m_queues[q];
    const u16 head = static_cast<u16>(s.next_desc);
    write_desc(q, head, table, static_cast<u32>(16 * bufs.size()), VIRTQ_DESC_F_INDIRECT, 0);
    s.next_desc = (s.next_desc + 1) % s.size;
    publish(q, head);
    return head;
  }
  void kick(u32 q) { write32(VIRTIO_MMIO_QUEUE_NOTIFY, q); }
  void set_avail_flags(u32 q, u16 flags) {
    __atomic_store_n(reinterpret_cast<u16*>(host(m_queues[q].avail)), flags, __ATOMIC_RELAXED);
  }
  void set_avail_idx(u32 q, u16 idx) {
    m_queues[q].avail_idx = idx;
    __atomic_store_n(reinterpret_cast<u16*>(host(m_queues[q].avail) + 2), idx, __ATOMIC_RELEASE);
  }
  u16 used_idx(u32 q) { return __atomic_load_n(reinterpret_cast<u16*>(host(m_queues[q].used) + 2), __ATOMIC_ACQUIRE); }
  // Used elements added since the last call.
  std::vector<UsedElem> take_used(u32 q) {
    QueueState& s = m_queues[q];
    std::vector<UsedElem> out;
    const u16 idx = used_idx(q);
    while (s.last_used != idx) {
      const u8* e = host(s.used) + 4 + 8 * (s.last_used % s.size);
      UsedElem u;
      std::memcpy(&u.id, e, 4);
      std::memcpy(&u.len, e + 4, 4);
      out.push_back(u);
      ++s.last_used;
    }
    return out;
  }
  // As a driver's interrupt handler: read and acknowledge InterruptStatus.
  u32 ack_interrupt() {
    const u32 st = read32(VIRTIO_MMIO_INTERRUPT_STATUS);
    write32(VIRTIO_MMIO_INTERRUPT_ACK, st);
    return st;
  }
  u64 queue_errors(u32 q) { return m_mmio.queue(q)->errors(); }

 private:
  struct QueueState {
    u32 size = 0;
    u64 desc = 0, avail = 0, used = 0;
    u32 next_desc = 0;
    u16 avail_idx = 0;
    u16 last_used = 0;
  };
  void on_irq(u32 irq, bool level) {
    EXPECT_EQ(irq, kIrq);
    m_irq_level = level;
    ++m_irq_changes;
  }

  HostMemory m_ram;
  GuestMemory m_mem;
  std::atomic<bool> m_irq_level{false};
  std::atomic<int> m_irq_changes{0};
  VirtioMmio m_mmio;
  QueueState m_queues[4];
  u64 m_features = 0;
  u64 m_next_data = kRamBase + 0x100000;
};

// ================================================================================================
// Transport

TEST(VirtioMmio, IdentityRegisters) {
  Driver d(std::make_unique<VirtioRng>());
  EXPECT_EQ(d.read32(VIRTIO_MMIO_MAGIC_VALUE), VirtioMmio::kMagic);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_VERSION), 2u);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_ENTROPY);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_VENDOR_ID), VirtioMmio::kVendorId);
  d.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_NUM_MAX), VirtioRng::kQueueSize);
  d.write32(VIRTIO_MMIO_QUEUE_SEL, 1);  // no such queue
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_READY), 0u);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);  // no shared memory regions
  EXPECT_EQ(d.mmio().bad_accesses(), 0u);
}

TEST(VirtioMmio, OffersVersion1AndIndirect) {
  Driver d(std::make_unique<VirtioRng>());
  const u64 f = d.device_features();
  EXPECT_TRUE(f & kVersion1);
  EXPECT_TRUE(f & kIndirect);
  EXPECT_FALSE(f & feature_bit(VIRTIO_F_EVENT_IDX));
  EXPECT_FALSE(f & feature_bit(VIRTIO_F_RING_PACKED));
  d.write32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);  // beyond the 64 feature bits
  EXPECT_EQ(d.read32(VIRTIO_MMIO_DEVICE_FEATURES), 0u);
}

TEST(VirtioMmio, FeaturesOkRequiresVersion1) {
  Driver d(std::make_unique<VirtioRng>());
  EXPECT_FALSE(d.negotiate(0));  // a legacy driver
  EXPECT_FALSE(d.negotiate(kIndirect));
  EXPECT_TRUE(d.negotiate(kVersion1));
  EXPECT_TRUE(d.negotiate(kVersion1 | kIndirect));
}

TEST(VirtioMmio, FeaturesOkRefusesUnofferedFeatures) {
  Driver d(std::make_unique<VirtioRng>());
  EXPECT_FALSE(d.negotiate(kVersion1 | feature_bit(VIRTIO_F_EVENT_IDX)));
  EXPECT_FALSE(d.negotiate(kVersion1 | feature_bit(3)));  // a device-type bit rng does not have
  EXPECT_FALSE(d.negotiate(kFeaturesAll));
  // A refused FEATURES_OK leaves the device usable after a reset.
  EXPECT_TRUE(d.negotiate(kVersion1));
}

TEST(VirtioMmio, FeaturesAreFrozenAtFeaturesOk) {
  Driver d(std::make_unique<VirtioRng>());
  ASSERT_TRUE(d.negotiate(kVersion1));
  const u64 before = d.mmio().bad_accesses();
  d.write_driver_features(kVersion1 | kIndirect);
  EXPECT_GT(d.mmio().bad_accesses(), before);
  EXPECT_EQ(d.mmio().driver_features(), kVersion1);
}

TEST(VirtioMmio, DriverOkWithoutFeaturesOkIsIgnored) {
  Driver d(std::make_unique<VirtioRng>());
  d.write32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);
  EXPECT_EQ(d.status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}

TEST(VirtioMmio, DriverCannotClearStatusBits) {
  Driver d(std::make_unique<VirtioRng>());
  ASSERT_TRUE(d.negotiate(kVersion1));
  d.write32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
  EXPECT_EQ(d.status(), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  // The device's own bit cannot be set by the driver either.
  d.write32(VIRTIO_MMIO_STATUS, d.status() | VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  EXPECT_FALSE(d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

TEST(VirtioMmio, ResetClearsEverything) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  const u64 buf = d.alloc(32);
  d.post(0, {{buf, 32, true}});
  d.kick(0);
  EXPECT_TRUE(d.irq());
  EXPECT_EQ(d.read32(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);

  d.write32(VIRTIO_MMIO_STATUS, 0);
  EXPECT_EQ(d.status(), 0u);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
  EXPECT_FALSE(d.irq());
  d.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_READY), 0u);
  EXPECT_EQ(d.mmio().driver_features(), 0u);

  // And the device comes back up from scratch.
  d.init(kFeaturesAll, 1, 16);
  d.post(0, {{buf, 32, true}});
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 32u);
}

TEST(VirtioMmio, InterruptStatusAndLine) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  EXPECT_FALSE(d.irq());
  const u64 buf = d.alloc(8);
  d.post(0, {{buf, 8, true}});
  d.kick(0);
  EXPECT_TRUE(d.irq());
  EXPECT_EQ(d.read32(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
  // Acknowledging another bit changes nothing; acknowledging the right one lowers the line.
  d.write32(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
  EXPECT_TRUE(d.irq());
  EXPECT_EQ(d.ack_interrupt(), VIRTIO_MMIO_INT_VRING);
  EXPECT_FALSE(d.irq());
  EXPECT_EQ(d.read32(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
  // Two completions before the ack: still one level, one edge.
  const int changes = d.irq_changes();
  d.post(0, {{buf, 8, true}});
  d.kick(0);
  d.post(0, {{buf, 8, true}});
  d.kick(0);
  EXPECT_EQ(d.irq_changes(), changes + 1);
  EXPECT_EQ(d.take_used(0).size(), 3u);
}

TEST(VirtioMmio, NoInterruptFlagSuppressesUsedNotification) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  d.set_avail_flags(0, VIRTQ_AVAIL_F_NO_INTERRUPT);
  const u64 buf = d.alloc(8);
  d.post(0, {{buf, 8, true}});
  d.kick(0);
  EXPECT_EQ(d.take_used(0).size(), 1u);  // served, but silently
  EXPECT_FALSE(d.irq());
  EXPECT_EQ(d.read32(VIRTIO_MMIO_INTERRUPT_STATUS), 0u);
  d.set_avail_flags(0, 0);
  d.post(0, {{buf, 8, true}});
  d.kick(0);
  EXPECT_TRUE(d.irq());
}

TEST(VirtioMmio, BuffersWaitForDriverOk) {
  // 2.1.2: nothing is consumed before DRIVER_OK; what was queued is served when it is set.
  Driver d(std::make_unique<VirtioRng>());
  ASSERT_TRUE(d.negotiate(kVersion1));
  ASSERT_TRUE(d.setup_queue(0, 16));
  const u64 buf = d.alloc(16);
  d.post(0, {{buf, 16, true}});
  d.kick(0);
  EXPECT_EQ(d.used_idx(0), 0);
  EXPECT_FALSE(d.irq());
  d.set_driver_ok();
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 16u);
  EXPECT_TRUE(d.irq());
}

TEST(VirtioMmio, QueueDisableStopsService) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  d.write32(VIRTIO_MMIO_QUEUE_SEL, 0);
  d.write32(VIRTIO_MMIO_QUEUE_READY, 0);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_READY), 0u);
  const u64 buf = d.alloc(16);
  d.post(0, {{buf, 16, true}});
  d.kick(0);
  EXPECT_EQ(d.used_idx(0), 0);
}

TEST(VirtioMmio, ConfigSpaceAccessWidths) {
  auto path = testing::TempDir() + "virtio_cfg.img";
  {
    const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 0x123456 * 512ll), 0);
    ::close(fd);
  }
  std::string err;
  auto blk = VirtioBlk::open({path, false, "cfg"}, err);
  ASSERT_TRUE(blk) << err;
  Driver d(std::move(blk));
  const u64 cap = VIRTIO_MMIO_CONFIG + kBlkCfgCapacity;
  EXPECT_EQ(d.read_n(cap, 4), 0x123456u);
  EXPECT_EQ(d.read_n(cap + 4, 4), 0u);
  EXPECT_EQ(d.read_n(cap, 8), 0x123456u);
  EXPECT_EQ(d.read_n(cap, 2), 0x3456u);
  EXPECT_EQ(d.read_n(cap + 2, 1), 0x12u);
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_CONFIG + kBlkCfgBlkSize, 4), 512u);
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_CONFIG + kBlkCfgSegMax, 4), VirtioBlk::kSegMax);
  EXPECT_EQ(d.mmio().bad_accesses(), 0u);
  // Misaligned and out-of-range config accesses read 0 and are counted.
  EXPECT_EQ(d.read_n(cap + 1, 4), 0u);
  EXPECT_EQ(d.read_n(cap + 2, 4), 0u);
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_CONFIG + kBlkConfigSize, 4), 0u);
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_CONFIG + kBlkConfigSize - 2, 4), 0u);
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_CONFIG + 0x10000, 4), 0u);
  EXPECT_EQ(d.read_n(~0ull - 3, 4), 0u);
  EXPECT_EQ(d.mmio().bad_accesses(), 6u);
  // Config writes to a read-only blk config are harmless.
  d.write_n(cap, 4, 0xdead);
  EXPECT_EQ(d.read_n(cap, 4), 0x123456u);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_CONFIG_GENERATION), d.read32(VIRTIO_MMIO_CONFIG_GENERATION));
  ::unlink(path.c_str());
}

TEST(VirtioMmio, UnknownOffsetsAndOddSizes) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  const u32 status = d.status();
  u64 bad = d.mmio().bad_accesses();
  auto expect_bad = [&](const char* what) {
    EXPECT_GT(d.mmio().bad_accesses(), bad) << what;
    bad = d.mmio().bad_accesses();
  };
  // Unknown registers.
  for (u64 off : {0x018ull, 0x028ull, 0x03cull, 0x040ull, 0x048ull, 0x054ull, 0x068ull, 0x0a8ull, 0x0c4ull, 0x0f8ull}) {
    EXPECT_EQ(d.read32(off), 0u) << off;
    expect_bad("read of an unknown register");
    d.write32(off, 0xffffffff);
    expect_bad("write of an unknown register");
  }
  // Control registers need 32-bit aligned accesses.
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_MAGIC_VALUE, 2), 0u);
  expect_bad("16-bit register read");
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_MAGIC_VALUE, 1), 0u);
  expect_bad("8-bit register read");
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_MAGIC_VALUE, 8), 0u);
  expect_bad("64-bit register read");
  EXPECT_EQ(d.read_n(VIRTIO_MMIO_MAGIC_VALUE + 2, 4), 0u);
  expect_bad("misaligned register read");
  d.write_n(VIRTIO_MMIO_STATUS, 1, 0);
  expect_bad("8-bit status write");
  d.write_n(VIRTIO_MMIO_STATUS, 2, 0);
  expect_bad("16-bit status write");
  d.write_n(VIRTIO_MMIO_STATUS + 1, 4, 0);
  expect_bad("misaligned status write");
  // Sizes the bus should never produce.
  u8 buf[16];
  std::memset(buf, 0xaa, sizeof(buf));
  for (u32 len : {0u, 3u, 5u, 16u}) {
    d.mmio().mmio_read(VIRTIO_MMIO_STATUS, buf, len);
    expect_bad("odd-size read");
    for (u32 i = 0; i < len; ++i) EXPECT_EQ(buf[i], 0) << "odd-size reads return zeros";
    std::memset(buf, 0, sizeof(buf));
    d.mmio().mmio_write(VIRTIO_MMIO_STATUS, buf, len);
    expect_bad("odd-size write");
  }
  // Read-only registers ignore writes.
  for (u64 off : {VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_QUEUE_NUM_MAX,
                  VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_CONFIG_GENERATION}) {
    d.write32(off, 0);
    expect_bad("write of a read-only register");
  }
  d.write32(VIRTIO_MMIO_QUEUE_RESET, 1);
  expect_bad("QueueReset without VIRTIO_F_RING_RESET");
  EXPECT_EQ(d.read32(VIRTIO_MMIO_MAGIC_VALUE), VirtioMmio::kMagic);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_ENTROPY);
  EXPECT_EQ(d.status(), status);  // nothing above changed the device's state
  // The device still works.
  const u64 b = d.alloc(8);
  d.post(0, {{b, 8, true}});
  d.kick(0);
  EXPECT_EQ(d.take_used(0).size(), 1u);
}

// ================================================================================================
// Queue configuration errors

class QueueConfigTest : public testing::Test {
 protected:
  QueueConfigTest() : d(std::make_unique<VirtioRng>()) { EXPECT_TRUE(d.negotiate(kVersion1 | kIndirect)); }
  // The queue must stay disabled, the error be counted, and the device ask for a reset.
  void expect_refused(u32 size, u64 desc, u64 avail, u64 used) {
    const u64 errors = d.mmio().queue_errors();
    EXPECT_FALSE(d.setup_queue_at(0, size, desc, avail, used));
    EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_READY), 0u);
    EXPECT_EQ(d.mmio().queue_errors(), errors + 1);
    EXPECT_TRUE(d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    // A notification of the refused queue is ignored.
    d.kick(0);
    EXPECT_TRUE(d.negotiate(kVersion1 | kIndirect));  // reset clears DEVICE_NEEDS_RESET
    EXPECT_FALSE(d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  }
  Driver d;
};

TEST_F(QueueConfigTest, SizeNotPowerOfTwo) {
  expect_refused(3, Driver::desc_gpa(0), Driver::avail_gpa(0), Driver::used_gpa(0));
  expect_refused(48, Driver::desc_gpa(0), Driver::avail_gpa(0), Driver::used_gpa(0));
}

TEST_F(QueueConfigTest, SizeZero) { expect_refused(0, Driver::desc_gpa(0), Driver::avail_gpa(0), Driver::used_gpa(0)); }

TEST_F(QueueConfigTest, SizeAboveQueueNumMax) {
  expect_refused(VirtioRng::kQueueSize * 2, Driver::desc_gpa(0), Driver::avail_gpa(0), Driver::used_gpa(0));
  expect_refused(0x10000, Driver::desc_gpa(0), Driver::avail_gpa(0), Driver::used_gpa(0));
  expect_refused(0x80000000u, Driver::desc_gpa(0), Driver::avail_gpa(0), Driver::used_gpa(0));
}

TEST_F(QueueConfigTest, RingsOutsideRam) {
  const u64 a = Driver::avail_gpa(0), u = Driver::used_gpa(0), t = Driver::desc_gpa(0);
  expect_refused(16, 0x1000, a, u);                      // below RAM
  expect_refused(16, t, kRamEnd, u);                     // just past RAM
  expect_refused(16, t, a, kRamEnd - 8);                 // used ring straddles the end
  expect_refused(16, kRamEnd - 16 * 8, a, u);            // descriptor table straddles the end
  expect_refused(16, t + (1ull << 32), a, u);            // high half set
  expect_refused(16, ~0ull & ~15ull, a, u);              // wraps around
  expect_refused(16, t, a, ~0ull & ~3ull);
}

TEST_F(QueueConfigTest, RingsMisaligned) {
  const u64 a = Driver::avail_gpa(0), u = Driver::used_gpa(0), t = Driver::desc_gpa(0);
  expect_refused(16, t + 8, a, u);
  expect_refused(16, t, a + 1, u);
  expect_refused(16, t, a, u + 2);
}

TEST_F(QueueConfigTest, EnableBeforeFeaturesOkRefused) {
  d.write32(VIRTIO_MMIO_STATUS, 0);
  d.write32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
  const u64 errors = d.mmio().queue_errors();
  EXPECT_FALSE(d.setup_queue(0, 16));
  EXPECT_EQ(d.mmio().queue_errors(), errors + 1);
}

TEST_F(QueueConfigTest, QueueSelOutOfRange) {
  const u64 bad = d.mmio().bad_accesses();
  d.write32(VIRTIO_MMIO_QUEUE_SEL, 5);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_NUM_MAX), 0u);
  d.write32(VIRTIO_MMIO_QUEUE_NUM, 16);
  d.write32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
  d.write32(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_READY), 0u);
  EXPECT_EQ(d.mmio().bad_accesses(), bad + 3);
  d.write32(VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
  d.write32(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_READY), 0u);
}

TEST_F(QueueConfigTest, QueueRegistersFrozenWhileReady) {
  ASSERT_TRUE(d.setup_queue(0, 16));
  d.set_driver_ok();
  const u64 bad = d.mmio().bad_accesses();
  // Try to grow the queue and move its rings outside RAM after it was validated.
  d.write32(VIRTIO_MMIO_QUEUE_NUM, 64);
  d.write32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0xffff);
  d.write32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, 0);
  d.write32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0x1);
  EXPECT_EQ(d.mmio().bad_accesses(), bad + 4);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_NUM), 16u);
  EXPECT_EQ(d.read32(VIRTIO_MMIO_QUEUE_DESC_HIGH), 0u);
  const u64 buf = d.alloc(8);
  d.post(0, {{buf, 8, true}});
  d.kick(0);
  EXPECT_EQ(d.take_used(0).size(), 1u);
}

TEST_F(QueueConfigTest, NotifyOfUnconfiguredQueue) {
  d.set_driver_ok();
  const u64 errors = d.mmio().queue_errors();
  d.kick(0);           // exists, not ready
  d.kick(1);           // does not exist
  d.kick(0xffff);
  d.kick(0xffffffff);
  EXPECT_EQ(d.mmio().queue_errors(), errors + 4);
  EXPECT_FALSE(d.irq());
}

// ================================================================================================
// Malformed descriptor chains. The entropy device is the simplest consumer: a well-formed chain
// gets random bytes, a malformed one comes back with length 0 and nothing written.

class ChainTest : public testing::Test {
 protected:
  static constexpr u32 kSize = 16;
  ChainTest() : d(std::make_unique<VirtioRng>()) {}
  void SetUp() override { d.init(kFeaturesAll, 1, kSize); }

  // Publishes `head` (descriptors already written), kicks, and expects the rejection.
  void expect_rejected(u16 head, bool head_returned = true) {
    const u64 errors = d.queue_errors(0);
    d.publish(0, head);
    d.kick(0);
    auto used = d.take_used(0);
    if (head_returned) {
      ASSERT_EQ(used.size(), 1u);
      EXPECT_EQ(used[0].id, head);
      EXPECT_EQ(used[0].len, 0u);
      EXPECT_TRUE(d.irq());
    } else {
      EXPECT_TRUE(used.empty());
    }
    EXPECT_EQ(d.queue_errors(0), errors + 1);
    for (u8 b : d.bytes(m_buf, 64)) EXPECT_EQ(b, 0) << "nothing may be written for a rejected chain";
    // The queue keeps working for well-formed chains.
    expect_served();
  }
  void expect_served() {
    d.ack_interrupt();
    const u64 buf = d.alloc(32);
    const u16 head = 10;
    d.write_desc(0, head, buf, 32, VIRTQ_DESC_F_WRITE, 0);
    d.publish(0, head);
    d.kick(0);
    auto used = d.take_used(0);
    ASSERT_EQ(used.size(), 1u);
    EXPECT_EQ(used[0].id, head);
    EXPECT_EQ(used[0].len, 32u);
    EXPECT_FALSE(d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  }

  Driver d;
  const u64 m_buf = d.alloc(64);
};

TEST_F(ChainTest, WellFormed) { expect_served(); }

TEST_F(ChainTest, HeadIndexOutOfRange) {
  expect_rejected(kSize, /*head_returned=*/false);
  expect_rejected(0xffff, false);
}

TEST_F(ChainTest, NextIndexOutOfRange) {
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, kSize);
  expect_rejected(0);
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0xffff);
  expect_rejected(0);
}

TEST_F(ChainTest, AddressOutsideRam) {
  d.write_desc(0, 0, kRamEnd, 8, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
  d.write_desc(0, 0, kRamBase - 8, 8, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
  d.write_desc(0, 0, 0, 8, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
  // The second buffer of a chain is checked as well.
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  d.write_desc(0, 1, 0x1000, 8, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, LengthOverflow) {
  d.write_desc(0, 0, kRamEnd - 16, 32, VIRTQ_DESC_F_WRITE, 0);  // runs off the end of RAM
  expect_rejected(0);
  d.write_desc(0, 0, m_buf, 0xffffffff, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
  d.write_desc(0, 0, ~0ull - 7, 16, VIRTQ_DESC_F_WRITE, 0);  // addr + len wraps around 2^64
  expect_rejected(0);
}

TEST_F(ChainTest, TotalLengthAbove4GiB) {
  // 1024 indirect descriptors of 15 MiB each: every buffer is inside RAM, the total is not
  // representable in the used length (2.7.5.2).
  const u64 table = d.alloc(16 * kMaxIndirectEntries, 16);
  for (u32 i = 0; i < kMaxIndirectEntries; ++i)
    Driver::put_desc(d.host(table), i, kRamBase, 15u << 20, VIRTQ_DESC_F_WRITE | (i + 1 < kMaxIndirectEntries ? VIRTQ_DESC_F_NEXT : 0),
                     static_cast<u16>(i + 1));
  d.write_desc(0, 0, table, 16 * kMaxIndirectEntries, VIRTQ_DESC_F_INDIRECT, 0);
  const u64 errors = d.queue_errors(0);
  d.publish(0, 0);
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 0u);
  EXPECT_EQ(d.queue_errors(0), errors + 1);
}

TEST_F(ChainTest, DescriptorLoop) {
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);  // to itself
  expect_rejected(0);
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  d.write_desc(0, 1, m_buf + 8, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
  d.write_desc(0, 2, m_buf + 16, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
  expect_rejected(0);
  // Longest legal chain: all kSize descriptors. One more step would be a loop.
  for (u32 i = 0; i < kSize; ++i)
    d.write_desc(0, i, m_buf, 1, VIRTQ_DESC_F_WRITE | (i + 1 < kSize ? VIRTQ_DESC_F_NEXT : 0), static_cast<u16>(i + 1));
  d.publish(0, 0);
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, kSize);
}

TEST_F(ChainTest, WritableThenReadable) {
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  d.write_desc(0, 1, m_buf + 8, 8, VIRTQ_DESC_F_NEXT, 2);
  d.write_desc(0, 2, m_buf + 16, 8, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectTableOutsideRam) {
  d.write_desc(0, 0, kRamEnd - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
  d.write_desc(0, 0, 0x10, 16, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
  d.write_desc(0, 0, ~0ull - 15, 32, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectTableBadLength) {
  const u64 table = d.alloc(64, 16);
  Driver::put_desc(d.host(table), 0, m_buf, 8, VIRTQ_DESC_F_WRITE, 0);
  for (u32 len : {0u, 8u, 24u, 17u}) {
    d.write_desc(0, 0, table, len, VIRTQ_DESC_F_INDIRECT, 0);
    expect_rejected(0);
  }
  d.write_desc(0, 0, table, 16 * (kMaxIndirectEntries + 1), VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectBufferOutsideRamOrIndexOutOfRange) {
  const u64 table = d.alloc(64, 16);
  Driver::put_desc(d.host(table), 0, kRamEnd - 4, 8, VIRTQ_DESC_F_WRITE, 0);
  d.write_desc(0, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
  Driver::put_desc(d.host(table), 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);  // table has 2 entries
  Driver::put_desc(d.host(table), 1, m_buf, 8, VIRTQ_DESC_F_WRITE, 0);
  d.write_desc(0, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectLoop) {
  const u64 table = d.alloc(64, 16);
  Driver::put_desc(d.host(table), 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  Driver::put_desc(d.host(table), 1, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
  d.write_desc(0, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, NestedIndirect) {
  const u64 inner = d.alloc(16, 16);
  Driver::put_desc(d.host(inner), 0, m_buf, 8, VIRTQ_DESC_F_WRITE, 0);
  const u64 outer = d.alloc(32, 16);
  Driver::put_desc(d.host(outer), 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  Driver::put_desc(d.host(outer), 1, inner, 16, VIRTQ_DESC_F_INDIRECT, 0);
  d.write_desc(0, 0, outer, 32, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectWithNext) {
  const u64 table = d.alloc(16, 16);
  Driver::put_desc(d.host(table), 0, m_buf, 8, VIRTQ_DESC_F_WRITE, 0);
  d.write_desc(0, 0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
  d.write_desc(0, 1, m_buf, 8, VIRTQ_DESC_F_WRITE, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectReadableAfterWritable) {
  const u64 table = d.alloc(32, 16);
  Driver::put_desc(d.host(table), 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  Driver::put_desc(d.host(table), 1, m_buf + 8, 8, 0, 0);
  d.write_desc(0, 0, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
  // The rule spans the direct part and the table: a writable direct descriptor followed by a
  // table holding a readable one.
  Driver::put_desc(d.host(table), 0, m_buf + 8, 8, 0, 0);
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  d.write_desc(0, 1, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
  expect_rejected(0);
}

TEST_F(ChainTest, IndirectWellFormedIncludingDirectPrefix) {
  // 2.7.5.3.2: zero or more direct descriptors followed by one indirect one is valid.
  const u64 table = d.alloc(32, 16);
  Driver::put_desc(d.host(table), 0, m_buf + 8, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  Driver::put_desc(d.host(table), 1, m_buf + 16, 8, VIRTQ_DESC_F_WRITE, 0);
  d.write_desc(0, 0, m_buf, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
  // The WRITE flag on the descriptor naming the table is ignored.
  d.write_desc(0, 1, table, 32, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
  d.publish(0, 0);
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 24u);
}

TEST(VirtioChain, IndirectNotNegotiated) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(~kIndirect, 1, 16);
  const u64 buf = d.alloc(8);
  const u64 errors = d.queue_errors(0);
  d.post_indirect(0, {{buf, 8, true}});
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 0u);
  EXPECT_EQ(d.queue_errors(0), errors + 1);
}

TEST(VirtioChain, AvailIndexRunsAheadMarksDeviceBroken) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  d.set_avail_idx(0, 17);  // 17 chains outstanding in a 16-entry queue: impossible
  d.kick(0);
  EXPECT_TRUE(d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  // 2.1.2: with DRIVER_OK set, DEVICE_NEEDS_RESET comes with a configuration change notification.
  EXPECT_EQ(d.read32(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
  EXPECT_TRUE(d.irq());
  EXPECT_EQ(d.used_idx(0), 0);
  // Nothing more is consumed until a reset.
  d.ack_interrupt();
  d.set_avail_idx(0, 1);
  d.write_desc(0, 0, d.alloc(8), 8, VIRTQ_DESC_F_WRITE, 0);
  d.kick(0);
  EXPECT_EQ(d.used_idx(0), 0);
  d.init(kFeaturesAll, 1, 16);
  EXPECT_FALSE(d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  d.post(0, {{d.alloc(8), 8, true}});
  d.kick(0);
  EXPECT_EQ(d.take_used(0).size(), 1u);
}

// Random garbage in the descriptor table and the available ring, with random notifications:
// the devices must neither crash nor touch memory outside guest RAM (run under ASan/UBSan).
TEST(VirtioChain, RandomGarbageIsSurvived) {
  std::mt19937_64 rng(12345);
  auto path = testing::TempDir() + "virtio_fuzz.img";
  {
    const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 64 * 512), 0);
    ::close(fd);
  }
  std::string err;
  for (int device = 0; device < 3; ++device) {
    std::unique_ptr<VirtioDevice> dev;
    u32 queues = 1;
    if (device == 0) dev = std::make_unique<VirtioRng>();
    if (device == 1) {
      dev = std::make_unique<VirtioConsole>([](const u8*, size_t) {});
      queues = 2;
    }
    if (device == 2) dev = VirtioBlk::open({path, false, ""}, err);
    ASSERT_TRUE(dev) << err;
    Driver d(std::move(dev));
    d.init(kFeaturesAll, queues, 16);
    auto* console = device == 1 ? &d.device<VirtioConsole>() : nullptr;
    for (int round = 0; round < 2000; ++round) {
      const u32 q = static_cast<u32>(rng() % queues);
      // Descriptors that point anywhere, mostly near or inside RAM so that some are valid.
      for (int i = 0; i < 4; ++i) {
        const u32 idx = static_cast<u32>(rng() % 16);
        u64 addr;
        switch (rng() % 4) {
          case 0: addr = rng(); break;
          case 1: addr = kRamBase + 0x200000 + rng() % 0x1000; break;
          case 2: addr = kRamEnd - rng() % 64; break;
          default: addr = kRamBase + 0x200000 + (rng() % 4) * 0x100; break;
        }
        const u32 len = rng() % 3 == 0 ? static_cast<u32>(rng()) : static_cast<u32>(rng() % 600);
        d.write_desc(q, idx, addr, len, static_cast<u16>(rng() % 8), static_cast<u16>(rng() % 20));
      }
      // Mostly sane ring updates, sometimes nonsense.
      if (rng() % 50 == 0) d.set_avail_idx(q, static_cast<u16>(rng()));
      else d.publish(q, static_cast<u16>(rng() % 20));
      if (console && rng() % 4 == 0) {
        const u8 in[5] = {'a', 'b', 'c', 'd', 'e'};
        console->push_input(in, rng() % 5);
      }
      d.kick(q);
      if (rng() % 8 == 0) d.ack_interrupt();
      if (d.status() & VIRTIO_STATUS_DEVICE_NEEDS_RESET) d.init(kFeaturesAll, queues, 16);
      if (rng() % 200 == 0) d.init(kFeaturesAll, queues, 16);
    }
  }
  ::unlink(path.c_str());
}

// ================================================================================================
// Block device

class BlkTest : public testing::Test {
 protected:
  static constexpr u64 kSectors = 64;

  void SetUp() override {
    m_path = testing::TempDir() + "virtio_blk_test_" + std::to_string(::getpid()) + "_" +
             testing::UnitTest::GetInstance()->current_test_info()->name() + ".img";
    const int fd = ::open(m_path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    std::vector<u8> image(kSectors * 512);
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<u8>(i / 512 * 7 + i);
    ASSERT_EQ(::write(fd, image.data(), image.size()), static_cast<ssize_t>(image.size()));
    ::close(fd);
    m_image = image;
  }
  void TearDown() override { ::unlink(m_path.c_str()); }

  std::unique_ptr<Driver> make(bool read_only, u64 features = kFeaturesAll) {
    std::string err;
    auto blk = VirtioBlk::open({m_path, read_only, "test-serial-0123"}, err);
    EXPECT_TRUE(blk) << err;
    if (!blk) return nullptr;
    auto d = std::make_unique<Driver>(std::move(blk));
    d->init(features, 1, 128);
    return d;
  }
  std::vector<u8> file_bytes(u64 off, u64 len) {
    std::vector<u8> out(len);
    const int fd = ::open(m_path.c_str(), O_RDONLY);
    EXPECT_EQ(::pread(fd, out.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
    ::close(fd);
    return out;
  }
  static std::vector<u8> header(u32 type, u64 sector) {
    std::vector<u8> h(16, 0);
    std::memcpy(h.data(), &type, 4);
    std::memcpy(h.data() + 8, &sector, 8);
    return h;
  }

  struct Result {
    u8 status = 0xff;
    u32 used_len = 0;
    bool completed = false;
    u64 data_gpa = 0;
  };
  // A request laid out like Linux's: header | data (split into `pieces` descriptors) | status.
  // OUT-like requests carry `out`; IN-like ones get `in_len` writable bytes.
  Result request(Driver& d, u32 type, u64 sector, const std::vector<u8>& out, u32 in_len, int pieces = 1,
                 bool indirect = false) {
    Result r;
    std::vector<Buf> bufs;
    bufs.push_back({d.alloc_bytes(header(type, sector)), 16, false});
    auto add_split = [&](u64 gpa, u64 len, bool write) {
      const u64 step = (len + pieces - 1) / pieces;
      for (u64 off = 0; off < len; off += step) bufs.push_back({gpa + off, static_cast<u32>(std::min(step, len - off)), write});
    };
    if (!out.empty()) add_split(r.data_gpa = d.alloc_bytes(out), out.size(), false);
    if (in_len) {
      r.data_gpa = d.alloc(in_len);
      std::memset(d.host(r.data_gpa), 0xee, in_len);
      add_split(r.data_gpa, in_len, true);
    }
    const u64 status = d.alloc(1);
    *d.host(status) = 0xff;
    bufs.push_back({status, 1, true});
    const u16 head = indirect ? d.post_indirect(0, bufs) : d.post(0, bufs);
    d.kick(0);
    auto used = d.take_used(0);
    if (used.size() == 1 && used[0].id == head) {
      r.completed = true;
      r.used_len = used[0].len;
    }
    r.status = *d.host(status);
    return r;
  }

  std::string m_path;
  std::vector<u8> m_image;
};

TEST_F(BlkTest, FeaturesAndCapacity) {
  auto d = make(false);
  ASSERT_TRUE(d);
  const u64 f = d->mmio().driver_features();
  EXPECT_TRUE(f & feature_bit(VIRTIO_BLK_F_FLUSH));
  EXPECT_TRUE(f & feature_bit(VIRTIO_BLK_F_SEG_MAX));
  EXPECT_TRUE(f & feature_bit(VIRTIO_BLK_F_BLK_SIZE));
  EXPECT_TRUE(f & feature_bit(VIRTIO_BLK_F_DISCARD));
  EXPECT_TRUE(f & feature_bit(VIRTIO_BLK_F_WRITE_ZEROES));
  EXPECT_FALSE(f & feature_bit(VIRTIO_BLK_F_RO));
  EXPECT_EQ(d->read32(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
  EXPECT_EQ(d->read_n(VIRTIO_MMIO_CONFIG + kBlkCfgCapacity, 8), kSectors);
  EXPECT_EQ(d->read_n(VIRTIO_MMIO_CONFIG + kBlkCfgMaxDiscardSeg, 4), VirtioBlk::kMaxDiscardSeg);
  EXPECT_EQ(d->read_n(VIRTIO_MMIO_CONFIG + kBlkCfgWriteZeroesMayUnmap, 1), 1u);
}

TEST_F(BlkTest, OpenFailures) {
  std::string err;
  EXPECT_FALSE(VirtioBlk::open({m_path + ".missing", false, ""}, err));
  EXPECT_NE(err.find("cannot open"), std::string::npos);
  // An image in use by another writer is refused.
  auto first = VirtioBlk::open({m_path, false, ""}, err);
  ASSERT_TRUE(first);
  EXPECT_FALSE(VirtioBlk::open({m_path, false, ""}, err));
  EXPECT_FALSE(VirtioBlk::open({m_path, true, ""}, err));
}

TEST_F(BlkTest, ReadSectors) {
  auto d = make(false);
  ASSERT_TRUE(d);
  for (int pieces : {1, 3, 7}) {
    auto r = request(*d, VIRTIO_BLK_T_IN, 5, {}, 3 * 512, pieces);
    ASSERT_TRUE(r.completed);
    EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
    EXPECT_EQ(r.used_len, 3 * 512 + 1u);
    EXPECT_EQ(d->bytes(r.data_gpa, 3 * 512), std::vector<u8>(m_image.begin() + 5 * 512, m_image.begin() + 8 * 512));
  }
  // The last sector of the disk.
  auto r = request(*d, VIRTIO_BLK_T_IN, kSectors - 1, {}, 512);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(d->bytes(r.data_gpa, 512), std::vector<u8>(m_image.end() - 512, m_image.end()));
  EXPECT_TRUE(d->irq());
  EXPECT_EQ(d->ack_interrupt(), VIRTIO_MMIO_INT_VRING);
}

TEST_F(BlkTest, WriteThenReadBack) {
  auto d = make(false);
  ASSERT_TRUE(d);
  std::vector<u8> data(2 * 512);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<u8>(0xa5 ^ i);
  auto w = request(*d, VIRTIO_BLK_T_OUT, 10, data, 0, 4);
  ASSERT_TRUE(w.completed);
  EXPECT_EQ(w.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(w.used_len, 1u);
  EXPECT_EQ(file_bytes(10 * 512, data.size()), data);
  EXPECT_EQ(file_bytes(9 * 512, 512), std::vector<u8>(m_image.begin() + 9 * 512, m_image.begin() + 10 * 512));
  auto r = request(*d, VIRTIO_BLK_T_IN, 10, {}, 2 * 512, 2);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(d->bytes(r.data_gpa, data.size()), data);
}

TEST_F(BlkTest, WriteWithoutFlushNegotiated) {
  // Then every write must be stable at completion (5.2.6.2); it still succeeds.
  auto d = make(false, ~feature_bit(VIRTIO_BLK_F_FLUSH));
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->mmio().driver_features() & feature_bit(VIRTIO_BLK_F_FLUSH));
  std::vector<u8> data(512, 0x5a);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_OUT, 0, data, 0).status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(file_bytes(0, 512), data);
}

TEST_F(BlkTest, IndirectRequests) {
  auto d = make(false);
  ASSERT_TRUE(d);
  std::vector<u8> data(4 * 512, 0x3c);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_OUT, 20, data, 0, 4, /*indirect=*/true).status, VIRTIO_BLK_S_OK);
  auto r = request(*d, VIRTIO_BLK_T_IN, 20, {}, 4 * 512, 8, /*indirect=*/true);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(d->bytes(r.data_gpa, data.size()), data);
}

TEST_F(BlkTest, Flush) {
  auto d = make(false);
  ASSERT_TRUE(d);
  auto r = request(*d, VIRTIO_BLK_T_FLUSH, 0, {}, 0);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(r.used_len, 1u);
}

TEST_F(BlkTest, GetId) {
  auto d = make(false);
  ASSERT_TRUE(d);
  auto r = request(*d, VIRTIO_BLK_T_GET_ID, 0, {}, VIRTIO_BLK_ID_BYTES);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  std::vector<u8> want(VIRTIO_BLK_ID_BYTES, 0);  // NUL-padded
  const std::string serial = "test-serial-0123";
  std::memcpy(want.data(), serial.data(), serial.size());
  EXPECT_EQ(d->bytes(r.data_gpa, VIRTIO_BLK_ID_BYTES), want);
  // A long serial is cut at 20 bytes without a terminator; a short buffer gets what fits.
  d = nullptr;
  std::string err;
  auto blk = VirtioBlk::open({m_path, false, "0123456789abcdefghijKLMNOP"}, err);
  ASSERT_TRUE(blk);
  Driver d2(std::move(blk));
  d2.init(kFeaturesAll, 1, 16);
  r = request(d2, VIRTIO_BLK_T_GET_ID, 0, {}, VIRTIO_BLK_ID_BYTES);
  const std::string id(reinterpret_cast<const char*>(d2.host(r.data_gpa)), VIRTIO_BLK_ID_BYTES);
  EXPECT_EQ(id, "0123456789abcdefghij");
  r = request(d2, VIRTIO_BLK_T_GET_ID, 0, {}, 4);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(d2.bytes(r.data_gpa, 4), (std::vector<u8>{'0', '1', '2', '3'}));
}

TEST_F(BlkTest, ReadOnlyRejectsWrites) {
  auto d = make(true);
  ASSERT_TRUE(d);
  const u64 f = d->mmio().driver_features();
  EXPECT_TRUE(f & feature_bit(VIRTIO_BLK_F_RO));
  EXPECT_FALSE(f & feature_bit(VIRTIO_BLK_F_DISCARD));
  std::vector<u8> data(512, 0x77);
  auto w = request(*d, VIRTIO_BLK_T_OUT, 1, data, 0);
  ASSERT_TRUE(w.completed);
  EXPECT_EQ(w.status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(file_bytes(0, m_image.size()), m_image);  // 5.2.6.2: "MUST NOT write any data"
  // Discard and write-zeroes were not offered.
  std::vector<u8> seg(16, 0);
  const u64 sector = 1;
  const u32 num = 1;
  std::memcpy(seg.data(), &sector, 8);
  std::memcpy(seg.data() + 8, &num, 4);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_DISCARD, 0, seg, 0).status, VIRTIO_BLK_S_UNSUPP);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 0).status, VIRTIO_BLK_S_UNSUPP);
  EXPECT_EQ(file_bytes(0, m_image.size()), m_image);
  // Reads and flushes work.
  auto r = request(*d, VIRTIO_BLK_T_IN, 1, {}, 512);
  EXPECT_EQ(r.status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(d->bytes(r.data_gpa, 512), std::vector<u8>(m_image.begin() + 512, m_image.begin() + 1024));
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_FLUSH, 0, {}, 0).status, VIRTIO_BLK_S_OK);
}

TEST_F(BlkTest, OutOfRangeAndMisSized) {
  auto d = make(false);
  ASSERT_TRUE(d);
  std::vector<u8> data(512, 1);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_IN, kSectors, {}, 512).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_IN, kSectors - 1, {}, 1024).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_IN, ~0ull, {}, 512).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_IN, 1ull << 55, {}, 512).status, VIRTIO_BLK_S_IOERR);  // sector * 512 overflows
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_OUT, kSectors, data, 0).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_OUT, ~0ull - 1, data, 0).status, VIRTIO_BLK_S_IOERR);
  // Data not a multiple of 512 bytes.
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_IN, 0, {}, 100).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_OUT, 0, std::vector<u8>(513, 1), 0).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(file_bytes(0, m_image.size()), m_image);
  // A zero-length read at the very end is fine.
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_IN, kSectors, {}, 0).status, VIRTIO_BLK_S_OK);
}

TEST_F(BlkTest, UnsupportedRequest) {
  auto d = make(false);
  ASSERT_TRUE(d);
  for (u32 type : {2u, 3u, VIRTIO_BLK_T_GET_LIFETIME, VIRTIO_BLK_T_SECURE_ERASE, 15u, 0x80000000u, 0xffffffffu}) {
    auto r = request(*d, type, 0, {}, 512);
    ASSERT_TRUE(r.completed);
    EXPECT_EQ(r.status, VIRTIO_BLK_S_UNSUPP) << type;
  }
  EXPECT_EQ(file_bytes(0, m_image.size()), m_image);
}

TEST_F(BlkTest, MalformedRequests) {
  auto d = make(false);
  ASSERT_TRUE(d);
  const u64 failed = d->device<VirtioBlk>().failed_requests();
  // No writable byte for the status: returned untouched with length 0.
  const u64 hdr = d->alloc_bytes(header(VIRTIO_BLK_T_IN, 0));
  d->post(0, {{hdr, 16, false}});
  d->kick(0);
  auto used = d->take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 0u);
  // A header shorter than 16 bytes.
  const u64 status = d->alloc(1);
  d->post(0, {{hdr, 8, false}, {status, 1, true}});
  d->kick(0);
  used = d->take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(*d->host(status), VIRTIO_BLK_S_IOERR);
  // The header split over two descriptors is fine (no assumptions about framing, 2.7.4.1).
  const u64 data = d->alloc(512);
  d->post(0, {{hdr, 5, false}, {hdr + 5, 11, false}, {data, 512, true}, {status, 1, true}});
  d->kick(0);
  used = d->take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(*d->host(status), VIRTIO_BLK_S_OK);
  EXPECT_EQ(d->bytes(data, 512), std::vector<u8>(m_image.begin(), m_image.begin() + 512));
  EXPECT_EQ(d->device<VirtioBlk>().failed_requests(), failed + 2);
}

TEST_F(BlkTest, WriteZeroesAndDiscard) {
  auto d = make(false);
  ASSERT_TRUE(d);
  auto segment = [](u64 sector, u32 num, u32 flags) {
    std::vector<u8> s(16);
    std::memcpy(s.data(), &sector, 8);
    std::memcpy(s.data() + 8, &num, 4);
    std::memcpy(s.data() + 12, &flags, 4);
    return s;
  };
  auto cat = [](std::vector<u8> a, const std::vector<u8>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, segment(2, 3, 0), 0).status, VIRTIO_BLK_S_OK);
  EXPECT_EQ(file_bytes(2 * 512, 3 * 512), std::vector<u8>(3 * 512, 0));
  EXPECT_EQ(file_bytes(512, 512), std::vector<u8>(m_image.begin() + 512, m_image.begin() + 1024));
  EXPECT_EQ(file_bytes(5 * 512, 512), std::vector<u8>(m_image.begin() + 5 * 512, m_image.begin() + 6 * 512));
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, cat(segment(8, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), segment(30, 1, 0)), 0).status,
            VIRTIO_BLK_S_OK);
  EXPECT_EQ(file_bytes(8 * 512, 8 * 512), std::vector<u8>(8 * 512, 0));
  EXPECT_EQ(file_bytes(30 * 512, 512), std::vector<u8>(512, 0));
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_DISCARD, 0, segment(40, 8, 0), 0).status, VIRTIO_BLK_S_OK);
  // 5.2.6.2: UNSUPP for a discard with unmap, and for unknown flags.
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_DISCARD, 0, segment(40, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP), 0).status, VIRTIO_BLK_S_UNSUPP);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, segment(40, 8, 2), 0).status, VIRTIO_BLK_S_UNSUPP);
  // Out of range, or a bad segment list: IOERR and nothing changes (segments are checked first).
  const auto before = file_bytes(0, m_image.size());
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, cat(segment(50, 2, 0), segment(kSectors, 1, 0)), 0).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, segment(~0ull, 2, 0), 0).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, std::vector<u8>(8, 0), 0).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, {}, 0).status, VIRTIO_BLK_S_IOERR);
  std::vector<u8> many;
  for (u32 i = 0; i <= VirtioBlk::kMaxDiscardSeg; ++i) many = cat(many, segment(50, 1, 0));
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, many, 0).status, VIRTIO_BLK_S_IOERR);
  EXPECT_EQ(file_bytes(0, m_image.size()), before);
}

TEST_F(BlkTest, DiscardUnsupportedUnlessNegotiated) {
  auto d = make(false, ~(feature_bit(VIRTIO_BLK_F_DISCARD) | feature_bit(VIRTIO_BLK_F_WRITE_ZEROES)));
  ASSERT_TRUE(d);
  std::vector<u8> seg(16, 0);
  seg[8] = 1;
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_DISCARD, 0, seg, 0).status, VIRTIO_BLK_S_UNSUPP);
  EXPECT_EQ(request(*d, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg, 0).status, VIRTIO_BLK_S_UNSUPP);
  EXPECT_EQ(file_bytes(0, m_image.size()), m_image);
}

TEST_F(BlkTest, ManyRequestsInOneNotify) {
  auto d = make(false);
  ASSERT_TRUE(d);
  // Post several requests, then one notification; the ring wraps around the 128-entry table.
  std::vector<u64> statuses, datas;
  for (int round = 0; round < 3; ++round) {
    statuses.clear();
    datas.clear();
    for (int i = 0; i < 40; ++i) {
      const u64 hdr = d->alloc_bytes(header(VIRTIO_BLK_T_IN, static_cast<u64>(i)));
      const u64 data = d->alloc(512);
      const u64 st = d->alloc(1);
      d->post(0, {{hdr, 16, false}, {data, 512, true}, {st, 1, true}});
      statuses.push_back(st);
      datas.push_back(data);
    }
    d->kick(0);
    EXPECT_EQ(d->take_used(0).size(), 40u);
    for (int i = 0; i < 40; ++i) {
      EXPECT_EQ(*d->host(statuses[i]), VIRTIO_BLK_S_OK);
      EXPECT_EQ(d->bytes(datas[i], 512), std::vector<u8>(m_image.begin() + i * 512, m_image.begin() + (i + 1) * 512));
    }
  }
}

// ================================================================================================
// Console

struct ConsoleFixture {
  ConsoleFixture(size_t max_pending = VirtioConsole::kDefaultMaxPending)
      : d(std::make_unique<VirtioConsole>([this](const u8* p, size_t n) { output.append(reinterpret_cast<const char*>(p), n); },
                                          max_pending)) {}
  VirtioConsole& console() { return d.device<VirtioConsole>(); }
  // Posts a receive buffer of `len` bytes; returns its guest address.
  u64 post_rx(u32 len) {
    const u64 gpa = d.alloc(len);
    d.post(VirtioConsole::kReceiveQueue, {{gpa, len, true}});
    return gpa;
  }
  std::string output;
  Driver d;
};

TEST(VirtioConsole, Output) {
  ConsoleFixture f;
  f.d.init(kFeaturesAll, 2, 16);
  EXPECT_EQ(f.d.read32(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
  const u64 a = f.d.alloc_bytes({'h', 'e', 'l', 'l', 'o', ',', ' '});
  const u64 b = f.d.alloc_bytes({'w', 'o', 'r', 'l', 'd', '\n'});
  const u16 head = f.d.post(VirtioConsole::kTransmitQueue, {{a, 7, false}, {b, 6, false}});
  f.d.kick(VirtioConsole::kTransmitQueue);
  EXPECT_EQ(f.output, "hello, world\n");
  auto used = f.d.take_used(VirtioConsole::kTransmitQueue);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].id, head);
  EXPECT_EQ(used[0].len, 0u);
  EXPECT_TRUE(f.d.irq());
}

TEST(VirtioConsole, EmergencyWrite) {
  ConsoleFixture f;
  // 5.3.5.1: allowed even on an unconfigured device; the low byte is output.
  f.d.write_n(VIRTIO_MMIO_CONFIG + kConsoleCfgEmergWr, 4, 0x1234'5621);
  EXPECT_EQ(f.output, "!");
  EXPECT_TRUE(f.d.device_features() & feature_bit(VIRTIO_CONSOLE_F_EMERG_WRITE));
  EXPECT_FALSE(f.d.device_features() & feature_bit(VIRTIO_CONSOLE_F_MULTIPORT));
}

TEST(VirtioConsole, InputIntoWaitingBuffers) {
  ConsoleFixture f;
  f.d.init(kFeaturesAll, 2, 16);
  const u64 rx0 = f.post_rx(4);
  const u64 rx1 = f.post_rx(4);
  f.d.kick(VirtioConsole::kReceiveQueue);
  EXPECT_EQ(f.d.used_idx(VirtioConsole::kReceiveQueue), 0);  // no input, buffers wait
  const std::string in = "abcdefghij";
  f.console().push_input(reinterpret_cast<const u8*>(in.data()), in.size());
  auto used = f.d.take_used(VirtioConsole::kReceiveQueue);
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(used[0].len, 4u);
  EXPECT_EQ(used[1].len, 4u);
  EXPECT_EQ(f.d.bytes(rx0, 4), (std::vector<u8>{'a', 'b', 'c', 'd'}));
  EXPECT_EQ(f.d.bytes(rx1, 4), (std::vector<u8>{'e', 'f', 'g', 'h'}));
  EXPECT_TRUE(f.d.irq());
  EXPECT_EQ(f.console().pending_input(), 2u);
  // The rest arrives when the driver posts another buffer.
  const u64 rx2 = f.post_rx(64);
  f.d.kick(VirtioConsole::kReceiveQueue);
  used = f.d.take_used(VirtioConsole::kReceiveQueue);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 2u);
  EXPECT_EQ(f.d.bytes(rx2, 2), (std::vector<u8>{'i', 'j'}));
  EXPECT_EQ(f.console().pending_input(), 0u);
}

TEST(VirtioConsole, InputBeforeDriverIsBuffered) {
  ConsoleFixture f;
  const std::string in = "early";
  f.console().push_input(reinterpret_cast<const u8*>(in.data()), in.size());
  ASSERT_TRUE(f.d.negotiate(kVersion1));
  ASSERT_TRUE(f.d.setup_queue(0, 16));
  ASSERT_TRUE(f.d.setup_queue(1, 16));
  const u64 rx = f.post_rx(16);
  f.d.kick(VirtioConsole::kReceiveQueue);
  EXPECT_EQ(f.d.used_idx(VirtioConsole::kReceiveQueue), 0);  // not before DRIVER_OK
  f.d.set_driver_ok();
  auto used = f.d.take_used(VirtioConsole::kReceiveQueue);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 5u);
  EXPECT_EQ(f.d.bytes(rx, 5), std::vector<u8>(in.begin(), in.end()));
}

TEST(VirtioConsole, PendingInputIsBounded) {
  ConsoleFixture f(16);
  f.d.init(kFeaturesAll, 2, 16);
  std::vector<u8> in(20, 'x');
  f.console().push_input(in.data(), in.size());
  EXPECT_EQ(f.console().pending_input(), 16u);
  EXPECT_EQ(f.console().dropped_input(), 4u);
  f.console().push_input(in.data(), 1);
  EXPECT_EQ(f.console().dropped_input(), 5u);
  f.post_rx(64);
  f.d.kick(VirtioConsole::kReceiveQueue);
  auto used = f.d.take_used(VirtioConsole::kReceiveQueue);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 16u);
}

TEST(VirtioConsole, MalformedReceiveBufferIsReturnedEmpty) {
  ConsoleFixture f;
  f.d.init(kFeaturesAll, 2, 16);
  f.d.write_desc(VirtioConsole::kReceiveQueue, 0, kRamEnd, 16, VIRTQ_DESC_F_WRITE, 0);
  f.d.publish(VirtioConsole::kReceiveQueue, 0);
  const u64 rx = f.d.alloc(8);
  f.d.write_desc(VirtioConsole::kReceiveQueue, 1, rx, 8, VIRTQ_DESC_F_WRITE, 0);
  f.d.publish(VirtioConsole::kReceiveQueue, 1);
  const u8 in[3] = {'x', 'y', 'z'};
  f.console().push_input(in, 3);
  auto used = f.d.take_used(VirtioConsole::kReceiveQueue);
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(used[0].len, 0u);
  EXPECT_EQ(used[1].id, 1u);
  EXPECT_EQ(used[1].len, 3u);
  EXPECT_EQ(f.d.bytes(rx, 3), (std::vector<u8>{'x', 'y', 'z'}));
}

// Input pushed from another thread (the event loop in the VMM) while the driver keeps posting
// receive buffers: every byte arrives once, in order.
TEST(VirtioConsole, InputFromAnotherThread) {
  ConsoleFixture f(1 << 20);
  f.d.init(kFeaturesAll, 2, 16);
  constexpr int kBytes = 3000;
  std::thread pusher([&] {
    for (int i = 0; i < kBytes; i += 10) {
      u8 chunk[10];
      for (int j = 0; j < 10; ++j) chunk[j] = static_cast<u8>(i + j);
      f.console().push_input(chunk, 10);
    }
  });
  std::vector<u8> got;
  std::vector<u64> posted;
  auto post_one = [&] { posted.push_back(f.post_rx(7)); };
  for (int i = 0; i < 8; ++i) post_one();
  f.d.kick(VirtioConsole::kReceiveQueue);
  size_t consumed = 0;
  for (int spins = 0; got.size() < kBytes && spins < 10'000'000; ++spins) {
    for (const UsedElem& u : f.d.take_used(VirtioConsole::kReceiveQueue)) {
      auto b = f.d.bytes(posted[consumed++], u.len);
      got.insert(got.end(), b.begin(), b.end());
      post_one();
      f.d.kick(VirtioConsole::kReceiveQueue);
    }
  }
  pusher.join();
  ASSERT_EQ(got.size(), static_cast<size_t>(kBytes));
  for (int i = 0; i < kBytes; ++i) ASSERT_EQ(got[i], static_cast<u8>(i)) << i;
}

// ================================================================================================
// Entropy device

TEST(VirtioRng, FillsWritableBuffers) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  const u64 a = d.alloc(32), b = d.alloc(16);
  const u16 head = d.post(0, {{a, 32, true}, {b, 16, true}});
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].id, head);
  EXPECT_EQ(used[0].len, 48u);
  EXPECT_NE(d.bytes(a, 32), std::vector<u8>(32, 0));
  EXPECT_NE(d.bytes(b, 16), std::vector<u8>(16, 0));
  EXPECT_NE(d.bytes(a, 16), d.bytes(b, 16));
  EXPECT_TRUE(d.irq());
}

TEST(VirtioRng, LargeRequestIsCapped) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  const u64 a = d.alloc(1 << 20);
  d.post(0, {{a, 1 << 20, true}});
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, VirtioRng::kMaxBytesPerRequest);
}

TEST(VirtioRng, ReadableBuffersAreNotWritten) {
  Driver d(std::make_unique<VirtioRng>());
  d.init(kFeaturesAll, 1, 16);
  const u64 a = d.alloc(32);
  d.post(0, {{a, 32, false}});
  d.kick(0);
  auto used = d.take_used(0);
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].len, 0u);
  EXPECT_EQ(d.bytes(a, 32), std::vector<u8>(32, 0));
}

}  // namespace
}  // namespace rvkvm::vmm::virtio
