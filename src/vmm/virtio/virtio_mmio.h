#pragma once
// The virtio-mmio transport, version 2 (VIRTIO 1.2 section 4.2; no legacy interface).
//
// Wiring, for a VMM:
//   auto dev = std::make_unique<VirtioRng>();
//   auto mmio = std::make_unique<VirtioMmio>(std::move(dev), guest_memory, plic.irq_line(irq));
//   // map mmio at `base` (a 0x200-byte window; kVirtioStride is fine) and describe it in the DT:
//   //   virtio_mmio@base { compatible = "virtio,mmio"; reg = <base size>; interrupts = <irq>; }
// The transport owns the device model; keep a raw pointer if the VMM needs to reach it (the
// console's push_input()).
//
// Threading: every register access takes the transport's lock; the device model runs under it
// (virtio.h). Interrupts go out through the IrqLine with the lock held, so the line's callback
// must not call back into this device.
#include <memory>
#include <mutex>
#include <vector>

#include "common/types.h"
#include "vmm/device.h"
#include "vmm/virtio/virtio.h"

namespace rvkvm::vmm::virtio {

// 4.2.2 MMIO Device Register Layout.
inline constexpr u64 VIRTIO_MMIO_MAGIC_VALUE = 0x000;
inline constexpr u64 VIRTIO_MMIO_VERSION = 0x004;
inline constexpr u64 VIRTIO_MMIO_DEVICE_ID = 0x008;
inline constexpr u64 VIRTIO_MMIO_VENDOR_ID = 0x00c;
inline constexpr u64 VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
inline constexpr u64 VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
inline constexpr u64 VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
inline constexpr u64 VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
inline constexpr u64 VIRTIO_MMIO_QUEUE_SEL = 0x030;
inline constexpr u64 VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
inline constexpr u64 VIRTIO_MMIO_QUEUE_NUM = 0x038;
inline constexpr u64 VIRTIO_MMIO_QUEUE_READY = 0x044;
inline constexpr u64 VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
inline constexpr u64 VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
inline constexpr u64 VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
inline constexpr u64 VIRTIO_MMIO_STATUS = 0x070;
inline constexpr u64 VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
inline constexpr u64 VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
inline constexpr u64 VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090;
inline constexpr u64 VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094;
inline constexpr u64 VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0;
inline constexpr u64 VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4;
inline constexpr u64 VIRTIO_MMIO_SHM_SEL = 0x0ac;
inline constexpr u64 VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
inline constexpr u64 VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
inline constexpr u64 VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
inline constexpr u64 VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
inline constexpr u64 VIRTIO_MMIO_QUEUE_RESET = 0x0c0;
inline constexpr u64 VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
inline constexpr u64 VIRTIO_MMIO_CONFIG = 0x100;

// InterruptStatus bits (4.2.2).
inline constexpr u32 VIRTIO_MMIO_INT_VRING = 1;   // Used Buffer Notification
inline constexpr u32 VIRTIO_MMIO_INT_CONFIG = 2;  // Configuration Change Notification

class VirtioMmio final : public MmioDevice, public VirtioTransport {
 public:
  static constexpr u32 kMagic = 0x74726976;  // "virt"
  static constexpr u32 kVersion = 2;
  static constexpr u32 kVendorId = 0x554d4551;  // "QEMU", as most VMMs report
  // The register window: control registers, then the device configuration space.
  static constexpr u64 kWindowSize = 0x200;

  // `mem` is the guest RAM the queues may use; `irq` the device's interrupt line.
  VirtioMmio(std::unique_ptr<VirtioDevice> device, GuestMemory mem, IrqLine irq);
  ~VirtioMmio() override;
  VirtioMmio(const VirtioMmio&) = delete;
  VirtioMmio& operator=(const VirtioMmio&) = delete;

  void mmio_read(u64 offset, u8* data, u32 len) override;
  void mmio_write(u64 offset, const u8* data, u32 len) override;

  [[nodiscard]] VirtioDevice& device() { return *m_device; }

  // VirtioTransport.
  [[nodiscard]] std::unique_lock<std::mutex> lock() override { return std::unique_lock(m_mu); }
  [[nodiscard]] Virtqueue* queue(u32 index) override;
  [[nodiscard]] u64 driver_features() const override { return m_driver_features; }
  [[nodiscard]] bool driver_ok() const override;
  void notify_used(u32 queue) override;
  void notify_config() override;
  void set_needs_reset() override;

  // For tests and statistics (each takes the lock).
  [[nodiscard]] u32 status();
  [[nodiscard]] u32 interrupt_status();
  [[nodiscard]] bool irq_level();
  // Register accesses the transport refused: unknown offsets, wrong sizes, writes to read-only
  // registers, writes that the current state forbids.
  [[nodiscard]] u64 bad_accesses();
  // Queue configurations refused at QueueReady = 1, and notifications of unusable queues.
  [[nodiscard]] u64 queue_errors();

 private:
  [[nodiscard]] u64 offered_features() const;
  [[nodiscard]] Virtqueue* selected_queue();
  u32 read_reg(u64 offset);
  void write_reg(u64 offset, u32 value);
  void write_status(u32 value);
  void write_queue_ready(u32 value);
  void notify(u32 queue);
  void reset_device();
  void raise(u32 bits);
  void update_irq();
  void bad_access(const char* what, u64 offset, u32 len);

  std::mutex m_mu;
  std::unique_ptr<VirtioDevice> m_device;
  GuestMemory m_mem;
  IrqLine m_irq;
  std::vector<Virtqueue> m_queues;
  u32 m_status = 0;
  u32 m_device_features_sel = 0;
  u32 m_driver_features_sel = 0;
  u64 m_driver_features = 0;
  u32 m_queue_sel = 0;
  u32 m_interrupt_status = 0;
  u32 m_config_generation = 0;
  bool m_irq_level = false;
  u64 m_bad_accesses = 0;
  u64 m_queue_errors = 0;
};

}  // namespace rvkvm::vmm::virtio
