#pragma once
// Virtio (VIRTIO 1.2) pieces shared by the transport and the device models: the spec's constants,
// the interface a device model implements (VirtioDevice) and the interface through which it
// reaches its queues and interrupts (VirtioTransport, implemented by VirtioMmio).
//
// Constants are named as in the spec. They are C++ constants, not macros, so this header must not
// be mixed with <linux/virtio_*.h> in one translation unit.
#include <mutex>
#include <utility>

#include "common/types.h"
#include "vmm/virtio/virtqueue.h"

namespace rvkvm::vmm::virtio {

// 2.1 Device Status Field.
inline constexpr u32 VIRTIO_STATUS_ACKNOWLEDGE = 1;
inline constexpr u32 VIRTIO_STATUS_DRIVER = 2;
inline constexpr u32 VIRTIO_STATUS_DRIVER_OK = 4;
inline constexpr u32 VIRTIO_STATUS_FEATURES_OK = 8;
inline constexpr u32 VIRTIO_STATUS_DEVICE_NEEDS_RESET = 64;
inline constexpr u32 VIRTIO_STATUS_FAILED = 128;

// 6 Reserved Feature Bits (bit numbers).
inline constexpr unsigned VIRTIO_F_INDIRECT_DESC = 28;
inline constexpr unsigned VIRTIO_F_EVENT_IDX = 29;
inline constexpr unsigned VIRTIO_F_VERSION_1 = 32;
inline constexpr unsigned VIRTIO_F_ACCESS_PLATFORM = 33;
inline constexpr unsigned VIRTIO_F_RING_PACKED = 34;

// 5 Device Types.
inline constexpr u32 VIRTIO_ID_BLOCK = 2;
inline constexpr u32 VIRTIO_ID_CONSOLE = 3;
inline constexpr u32 VIRTIO_ID_ENTROPY = 4;

constexpr u64 feature_bit(unsigned n) { return 1ull << n; }

class VirtioTransport;

// A device model (block, console, entropy, ...). The transport calls every method below with
// its lock held, from a VCPU thread (MMIO exits); a device that is also driven from another
// thread (console input from the event loop) takes the same lock through transport()->lock().
class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  [[nodiscard]] virtual u32 device_id() const = 0;
  // Device-type feature bits (0..23). The transport adds the ring/transport bits it implements
  // (VIRTIO_F_VERSION_1, VIRTIO_F_INDIRECT_DESC).
  [[nodiscard]] virtual u64 device_features() const = 0;
  [[nodiscard]] virtual u32 num_queues() const = 0;
  // QueueNumMax: a power of two, at most 32768 (2.7 Split Virtqueues).
  [[nodiscard]] virtual u16 queue_max_size(u32 queue) const { return 256; }

  // Device-specific configuration space. The transport guarantees offset + len <= config_size().
  [[nodiscard]] virtual u32 config_size() const { return 0; }
  virtual void read_config(u32 offset, u8* data, u32 len) {}
  virtual void write_config(u32 offset, const u8* data, u32 len) {}

  // A chance to refuse a feature combination at FEATURES_OK (the transport has already checked
  // that `features` is a subset of what was offered and includes VIRTIO_F_VERSION_1).
  virtual bool accept_features(u64 features) { return true; }
  // DRIVER_OK was set. The transport then calls on_notify() for every ready queue, because the
  // driver may have made buffers available before the device was allowed to use them (2.1.2).
  virtual void on_driver_ok() {}
  // The driver notified `queue` (always a ready queue of this device, with DRIVER_OK set).
  virtual void on_notify(u32 queue) = 0;
  // Device reset (Status written 0): forget all per-driver state.
  virtual void reset() {}

  // Called once by the transport that owns this device.
  void attach(VirtioTransport* transport) { m_transport = transport; }

 protected:
  [[nodiscard]] VirtioTransport* transport() const { return m_transport; }

  // The usual queue loop: hands each well-formed available chain to `handle`, which returns the
  // number of bytes it wrote into the chain's writable buffers, and puts the chain on the used
  // ring. A malformed chain (already counted and reported by the queue) is returned with length
  // 0 so the driver gets its descriptors back; a corrupted ring marks the device
  // DEVICE_NEEDS_RESET. Call with the transport lock held.
  template <typename Fn>
  void process_queue(u32 queue, Fn&& handle);

  // Takes the next well-formed chain of `vq` into m_chain. Malformed chains go back to the
  // driver with length 0 (setting `pushed`); a corrupted ring marks the device
  // DEVICE_NEEDS_RESET. False when there is nothing (more) to take. Transport lock held.
  bool next_chain(Virtqueue& vq, bool& pushed);

  // One chain object reused across requests so that processing does not allocate.
  DescChain m_chain;

 private:
  VirtioTransport* m_transport = nullptr;
};

// What a device sees of its transport. All methods except lock() require the lock to be held.
class VirtioTransport {
 public:
  virtual ~VirtioTransport() = default;
  // The transport's lock, for device work that starts outside a transport call.
  [[nodiscard]] virtual std::unique_lock<std::mutex> lock() = 0;
  // `index` < the device's num_queues(), else nullptr.
  [[nodiscard]] virtual Virtqueue* queue(u32 index) = 0;
  [[nodiscard]] virtual u64 driver_features() const = 0;
  [[nodiscard]] bool negotiated(unsigned bit) const { return (driver_features() >> bit) & 1; }
  // DRIVER_OK is set and the device has not failed: buffers may be consumed (2.1.2).
  [[nodiscard]] virtual bool driver_ok() const = 0;
  // Used buffers were added to `queue`: interrupt the driver unless it asked not to be.
  virtual void notify_used(u32 queue) = 0;
  // The configuration space changed: bump ConfigGeneration and interrupt the driver.
  virtual void notify_config() = 0;
  // The device is in an error state only a reset can clear (2.1.2): sets
  // DEVICE_NEEDS_RESET and stops all queue processing until the driver resets the device.
  virtual void set_needs_reset() = 0;
};

inline bool VirtioDevice::next_chain(Virtqueue& vq, bool& pushed) {
  for (;;) {
    const PopStatus s = vq.pop(m_chain);
    if (s == PopStatus::empty) return false;
    if (s == PopStatus::broken) {
      m_transport->set_needs_reset();
      return false;
    }
    if (s != PopStatus::malformed) return true;
    if (m_chain.head_valid()) {
      vq.push(m_chain.head(), 0);
      pushed = true;
    }
  }
}

template <typename Fn>
void VirtioDevice::process_queue(u32 queue, Fn&& handle) {
  VirtioTransport* t = m_transport;
  if (!t || !t->driver_ok()) return;
  Virtqueue* vq = t->queue(queue);
  if (!vq || !vq->ready()) return;
  bool pushed = false;
  while (next_chain(*vq, pushed)) {
    const u32 written = handle(m_chain);
    vq->push(m_chain.head(), written);
    pushed = true;
  }
  if (pushed) t->notify_used(queue);
}

}  // namespace rvkvm::vmm::virtio
