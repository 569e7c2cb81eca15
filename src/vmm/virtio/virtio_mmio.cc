#include "vmm/virtio/virtio_mmio.h"

#include <cstring>

#include "common/log.h"

namespace rvkvm::vmm::virtio {

namespace {
WarnCounter g_warn_access{"virtio-mmio: bad register access"};
WarnCounter g_warn_queue{"virtio-mmio: bad queue configuration or notification"};
WarnCounter g_warn_status{"virtio-mmio: bad status or feature negotiation"};

constexpr u64 low32(u64 v) { return v & 0xffffffffu; }
constexpr u64 set_low(u64 old, u32 v) { return (old & ~0xffffffffull) | v; }
constexpr u64 set_high(u64 old, u32 v) { return (old & 0xffffffffull) | (static_cast<u64>(v) << 32); }
}  // namespace

VirtioMmio::VirtioMmio(std::unique_ptr<VirtioDevice> device, GuestMemory mem, IrqLine irq)
    : m_device(std::move(device)), m_mem(mem), m_irq(std::move(irq)) {
  const u32 n = m_device->num_queues();
  m_queues.reserve(n);
  for (u32 i = 0; i < n; ++i) m_queues.emplace_back(m_device->queue_max_size(i));
  m_device->attach(this);
}

VirtioMmio::~VirtioMmio() { m_device->attach(nullptr); }

u64 VirtioMmio::offered_features() const {
  // VIRTIO_F_VERSION_1 is what makes this a non-legacy device (6.2: "A device MUST offer
  // VIRTIO_F_VERSION_1"). Neither EVENT_IDX, packed rings nor ACCESS_PLATFORM are offered.
  return m_device->device_features() | feature_bit(VIRTIO_F_VERSION_1) | feature_bit(VIRTIO_F_INDIRECT_DESC);
}

Virtqueue* VirtioMmio::queue(u32 index) { return index < m_queues.size() ? &m_queues[index] : nullptr; }
Virtqueue* VirtioMmio::selected_queue() { return queue(m_queue_sel); }

bool VirtioMmio::driver_ok() const {
  return (m_status & VIRTIO_STATUS_DRIVER_OK) && !(m_status & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

void VirtioMmio::bad_access(const char* what, u64 offset, u32 len) {
  ++m_bad_accesses;
  warn(g_warn_access, "virtio-mmio (device {}): {} at offset {:#x}, size {}", m_device->device_id(), what, offset, len);
}

// ---------------------------------------------------------------------------------------------
// Interrupts. 4.2.2: InterruptStatus bits stay set from the event until the driver acknowledges
// them; the (level-triggered) line is high exactly while some bit is set.

void VirtioMmio::raise(u32 bits) {
  m_interrupt_status |= bits;
  update_irq();
}

void VirtioMmio::update_irq() {
  const bool level = m_interrupt_status != 0;
  if (level == m_irq_level) return;
  m_irq_level = level;
  m_irq.set(level);
}

void VirtioMmio::notify_used(u32 index) {
  Virtqueue* q = queue(index);
  if (!q || !driver_ok()) return;
  if (q->needs_interrupt()) raise(VIRTIO_MMIO_INT_VRING);
}

void VirtioMmio::notify_config() {
  ++m_config_generation;
  if (m_status & VIRTIO_STATUS_DRIVER_OK) raise(VIRTIO_MMIO_INT_CONFIG);
}

void VirtioMmio::set_needs_reset() {
  if (m_status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) return;
  m_status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
  warn(g_warn_status, "virtio-mmio (device {}): device needs reset", m_device->device_id());
  // 2.1.2: "If DRIVER_OK is set, after it sets DEVICE_NEEDS_RESET, the device MUST send a device
  // configuration change notification to the driver."
  if (m_status & VIRTIO_STATUS_DRIVER_OK) raise(VIRTIO_MMIO_INT_CONFIG);
}

// ---------------------------------------------------------------------------------------------
// Register accesses.

void VirtioMmio::mmio_read(u64 offset, u8* data, u32 len) {
  if (len) std::memset(data, 0, len);
  std::lock_guard lock(m_mu);
  if (len != 1 && len != 2 && len != 4 && len != 8) return bad_access("read of odd size", offset, len);
  if (offset >= VIRTIO_MMIO_CONFIG) {
    // 4.2.2.2: the driver accesses the configuration space with naturally aligned 8/16/32-bit
    // accesses (64-bit fields as two 32-bit halves); 64-bit accesses are harmless and allowed.
    const u64 rel = offset - VIRTIO_MMIO_CONFIG;
    const u64 size = m_device->config_size();
    if (rel % len || rel >= size || len > size - rel) return bad_access("config read out of range", offset, len);
    m_device->read_config(static_cast<u32>(rel), data, len);
    return;
  }
  // 4.2.2.2: "The driver MUST only use 32 bit wide and aligned reads and writes to access the
  // control registers".
  if (len != 4 || offset % 4) return bad_access("register read not 32-bit aligned", offset, len);
  mmio_set(data, 4, read_reg(offset));
}

void VirtioMmio::mmio_write(u64 offset, const u8* data, u32 len) {
  std::lock_guard lock(m_mu);
  if (len != 1 && len != 2 && len != 4 && len != 8) return bad_access("write of odd size", offset, len);
  if (offset >= VIRTIO_MMIO_CONFIG) {
    const u64 rel = offset - VIRTIO_MMIO_CONFIG;
    const u64 size = m_device->config_size();
    if (rel % len || rel >= size || len > size - rel) return bad_access("config write out of range", offset, len);
    m_device->write_config(static_cast<u32>(rel), data, len);
    return;
  }
  if (len != 4 || offset % 4) return bad_access("register write not 32-bit aligned", offset, len);
  write_reg(offset, static_cast<u32>(mmio_value(data, 4)));
}

u32 VirtioMmio::read_reg(u64 offset) {
  Virtqueue* q = selected_queue();
  switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE: return kMagic;
    case VIRTIO_MMIO_VERSION: return kVersion;
    case VIRTIO_MMIO_DEVICE_ID: return m_device->device_id();
    case VIRTIO_MMIO_VENDOR_ID: return kVendorId;
    case VIRTIO_MMIO_DEVICE_FEATURES: {
      const u64 f = offered_features();
      return m_device_features_sel == 0 ? static_cast<u32>(f) : m_device_features_sel == 1 ? static_cast<u32>(f >> 32) : 0;
    }
    // 4.2.2: reading QueueNumMax of a queue that does not exist returns 0 ("queue not available").
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->max_size() : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q && q->ready() ? 1 : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return m_interrupt_status;
    case VIRTIO_MMIO_STATUS: return m_status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return m_config_generation;
    // No shared memory regions: 4.2.2 says a non-existent region reads as length -1.
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH: return 0xffffffffu;
    // Write-only registers read back what a driver may harmlessly want to double-check.
    case VIRTIO_MMIO_QUEUE_NUM: return q ? q->size() : 0;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: return q ? static_cast<u32>(low32(q->desc_addr())) : 0;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: return q ? static_cast<u32>(q->desc_addr() >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return q ? static_cast<u32>(low32(q->driver_addr())) : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return q ? static_cast<u32>(q->driver_addr() >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return q ? static_cast<u32>(low32(q->device_addr())) : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return q ? static_cast<u32>(q->device_addr() >> 32) : 0;
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
    case VIRTIO_MMIO_DRIVER_FEATURES:
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
    case VIRTIO_MMIO_QUEUE_SEL:
    case VIRTIO_MMIO_QUEUE_NOTIFY:
    case VIRTIO_MMIO_INTERRUPT_ACK:
    case VIRTIO_MMIO_SHM_SEL:
    case VIRTIO_MMIO_QUEUE_RESET: return 0;
    default: bad_access("read of unknown register", offset, 4); return 0;
  }
}

void VirtioMmio::write_reg(u64 offset, u32 value) {
  Virtqueue* q = selected_queue();
  // Queue registers: only for an existing queue, and only while it is not ready, so that the
  // rings validated at QueueReady = 1 can never be moved or resized underneath the device.
  auto queue_reg = [&](auto&& set) {
    if (!q) return bad_access("queue register write with QueueSel out of range", offset, 4);
    if (!set(*q)) bad_access("queue register write while QueueReady", offset, 4);
  };
  switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m_device_features_sel = value; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m_driver_features_sel = value; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
      // 3.1.1: features are fixed once FEATURES_OK is set.
      if (m_status & VIRTIO_STATUS_FEATURES_OK) return bad_access("DriverFeatures write after FEATURES_OK", offset, 4);
      if (m_driver_features_sel == 0) m_driver_features = set_low(m_driver_features, value);
      else if (m_driver_features_sel == 1) m_driver_features = set_high(m_driver_features, value);
      else if (value) bad_access("DriverFeatures write to a nonexistent word", offset, 4);
      return;
    case VIRTIO_MMIO_QUEUE_SEL: m_queue_sel = value; return;
    case VIRTIO_MMIO_QUEUE_NUM: return queue_reg([&](Virtqueue& vq) { return vq.set_size(value); });
    case VIRTIO_MMIO_QUEUE_DESC_LOW: return queue_reg([&](Virtqueue& vq) { return vq.set_desc_addr(set_low(vq.desc_addr(), value)); });
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: return queue_reg([&](Virtqueue& vq) { return vq.set_desc_addr(set_high(vq.desc_addr(), value)); });
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return queue_reg([&](Virtqueue& vq) { return vq.set_driver_addr(set_low(vq.driver_addr(), value)); });
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return queue_reg([&](Virtqueue& vq) { return vq.set_driver_addr(set_high(vq.driver_addr(), value)); });
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return queue_reg([&](Virtqueue& vq) { return vq.set_device_addr(set_low(vq.device_addr(), value)); });
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return queue_reg([&](Virtqueue& vq) { return vq.set_device_addr(set_high(vq.device_addr(), value)); });
    case VIRTIO_MMIO_QUEUE_READY: return write_queue_ready(value);
    case VIRTIO_MMIO_QUEUE_NOTIFY:
      // Without VIRTIO_F_NOTIFICATION_DATA the value is just the queue index (4.2.2).
      return notify(value);
    case VIRTIO_MMIO_INTERRUPT_ACK:
      m_interrupt_status &= ~value;
      update_irq();
      return;
    case VIRTIO_MMIO_STATUS: return write_status(value);
    case VIRTIO_MMIO_SHM_SEL: return;  // no regions; the length registers say so
    case VIRTIO_MMIO_QUEUE_RESET: return bad_access("QueueReset without VIRTIO_F_RING_RESET", offset, 4);
    case VIRTIO_MMIO_MAGIC_VALUE:
    case VIRTIO_MMIO_VERSION:
    case VIRTIO_MMIO_DEVICE_ID:
    case VIRTIO_MMIO_VENDOR_ID:
    case VIRTIO_MMIO_DEVICE_FEATURES:
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
    case VIRTIO_MMIO_INTERRUPT_STATUS:
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
    case VIRTIO_MMIO_CONFIG_GENERATION: return bad_access("write to read-only register", offset, 4);
    default: return bad_access("write to unknown register", offset, 4);
  }
}

void VirtioMmio::write_queue_ready(u32 value) {
  Virtqueue* q = selected_queue();
  if (!q) return bad_access("QueueReady write with QueueSel out of range", VIRTIO_MMIO_QUEUE_READY, 4);
  if (value == 0) {
    // 4.2.2: writing 0 stops the device from using the queue.
    q->disable();
    return;
  }
  if (q->ready()) return;
  // 3.1.1: queues are set up after FEATURES_OK; before it we would not know whether indirect
  // descriptors are allowed.
  if (!(m_status & VIRTIO_STATUS_FEATURES_OK)) {
    ++m_queue_errors;
    warn(g_warn_queue, "virtio-mmio (device {}): queue {} enabled before FEATURES_OK", m_device->device_id(), m_queue_sel);
    return;
  }
  if (const char* why = q->enable(m_mem, (m_driver_features >> VIRTIO_F_INDIRECT_DESC) & 1)) {
    // The queue stays disabled (QueueReady reads 0), and the device reports that it cannot go
    // on without a reset: a driver that writes garbage here would otherwise wait forever.
    ++m_queue_errors;
    warn(g_warn_queue, "virtio-mmio (device {}): queue {} not enabled: {} (size {}, desc {:#x}, driver {:#x}, device {:#x})",
         m_device->device_id(), m_queue_sel, why, q->size(), q->desc_addr(), q->driver_addr(), q->device_addr());
    set_needs_reset();
  }
}

void VirtioMmio::notify(u32 index) {
  Virtqueue* q = queue(index);
  if (!q || !q->ready()) {
    ++m_queue_errors;
    warn(g_warn_queue, "virtio-mmio (device {}): notify of {} queue {}", m_device->device_id(),
         q ? "a disabled" : "a nonexistent", index);
    return;
  }
  // 2.1.2: "The device MUST NOT consume buffers ... before DRIVER_OK"; buffers made available
  // earlier are picked up when DRIVER_OK is set. After DEVICE_NEEDS_RESET nothing is consumed.
  if (!driver_ok()) return;
  m_device->on_notify(index);
}

void VirtioMmio::write_status(u32 value) {
  if (value == 0) return reset_device();
  // 2.1.1: the driver never clears bits (only a reset does), so bits only accumulate.
  // DEVICE_NEEDS_RESET belongs to the device.
  u32 next = m_status | (value & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
  if ((next & VIRTIO_STATUS_FEATURES_OK) && !(m_status & VIRTIO_STATUS_FEATURES_OK)) {
    // 2.2.2 and 3.1.1 (steps 5-6): the device refuses FEATURES_OK by leaving it clear, which
    // the driver reads back, for features it did not offer; and 6.2 lets a device refuse to
    // work without VIRTIO_F_VERSION_1, which this legacy-free transport does.
    const u64 offered = offered_features();
    const char* why = nullptr;
    if (m_driver_features & ~offered) why = "driver accepted features that were not offered";
    else if (!((m_driver_features >> VIRTIO_F_VERSION_1) & 1)) why = "driver did not accept VIRTIO_F_VERSION_1";
    else if (!m_device->accept_features(m_driver_features)) why = "device refused the feature combination";
    if (why) {
      warn(g_warn_status, "virtio-mmio (device {}): FEATURES_OK refused: {} (features {:#x}, offered {:#x})",
           m_device->device_id(), why, m_driver_features, offered);
      next &= ~VIRTIO_STATUS_FEATURES_OK;
    }
  }
  if ((next & VIRTIO_STATUS_DRIVER_OK) && !(next & VIRTIO_STATUS_FEATURES_OK)) {
    // 3.1.1: DRIVER_OK comes after a successful FEATURES_OK.
    warn(g_warn_status, "virtio-mmio (device {}): DRIVER_OK without FEATURES_OK ignored", m_device->device_id());
    ++m_bad_accesses;
    next &= ~VIRTIO_STATUS_DRIVER_OK;
  }
  const bool became_ok = (next & VIRTIO_STATUS_DRIVER_OK) && !(m_status & VIRTIO_STATUS_DRIVER_OK);
  m_status = next;
  if (became_ok && driver_ok()) {
    m_device->on_driver_ok();
    for (u32 i = 0; i < m_queues.size() && driver_ok(); ++i)
      if (m_queues[i].ready()) m_device->on_notify(i);
  }
}

void VirtioMmio::reset_device() {
  // 4.2.2.1: "Upon reset, the device MUST clear all bits in InterruptStatus and ready bits in the
  // QueueReady register for all queues in the device." 2.1.2: status reads 0 after reset.
  m_status = 0;
  m_device_features_sel = m_driver_features_sel = 0;
  m_driver_features = 0;
  m_queue_sel = 0;
  for (Virtqueue& q : m_queues) q.reset();
  m_interrupt_status = 0;
  update_irq();
  m_device->reset();
}

// ---------------------------------------------------------------------------------------------

u32 VirtioMmio::status() {
  std::lock_guard lock(m_mu);
  return m_status;
}
u32 VirtioMmio::interrupt_status() {
  std::lock_guard lock(m_mu);
  return m_interrupt_status;
}
bool VirtioMmio::irq_level() {
  std::lock_guard lock(m_mu);
  return m_irq_level;
}
u64 VirtioMmio::bad_accesses() {
  std::lock_guard lock(m_mu);
  return m_bad_accesses;
}
u64 VirtioMmio::queue_errors() {
  std::lock_guard lock(m_mu);
  return m_queue_errors;
}

}  // namespace rvkvm::vmm::virtio
