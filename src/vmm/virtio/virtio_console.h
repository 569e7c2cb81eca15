#pragma once
// virtio-console (VIRTIO 1.2 section 5.3) with a single port and no VIRTIO_CONSOLE_F_MULTIPORT:
// queue 0 is port 0's receiveq (host -> guest), queue 1 its transmitq (guest -> host).
// VIRTIO_CONSOLE_F_EMERG_WRITE is offered: a byte written to emerg_wr goes to the output too.
//
// Wiring: output goes to the callback given at construction, called on a VCPU thread with the
// transport lock held (it must not call back into the console). Input is handed to push_input()
// from any thread once the console is attached to its transport, typically the event-loop
// callback that reads stdin:
//   loop.add_fd(0, [console] { u8 buf[256]; ssize_t n = read(0, buf, sizeof buf);
//                              if (n > 0) console->push_input(buf, n); });
// Bytes the guest has no receive buffers for yet wait in a bounded buffer; beyond the bound they
// are dropped (and counted).
#include <functional>
#include <vector>

#include "common/types.h"
#include "vmm/virtio/virtio.h"

namespace rvkvm::vmm::virtio {

// 5.3.3 Feature bits.
inline constexpr unsigned VIRTIO_CONSOLE_F_SIZE = 0;
inline constexpr unsigned VIRTIO_CONSOLE_F_MULTIPORT = 1;
inline constexpr unsigned VIRTIO_CONSOLE_F_EMERG_WRITE = 2;

// struct virtio_console_config (5.3.4): le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr.
inline constexpr u32 kConsoleCfgEmergWr = 8;
inline constexpr u32 kConsoleConfigSize = 12;

class VirtioConsole final : public VirtioDevice {
 public:
  using OutputFn = std::function<void(const u8* data, size_t len)>;
  static constexpr u32 kReceiveQueue = 0;
  static constexpr u32 kTransmitQueue = 1;
  static constexpr u16 kQueueSize = 64;
  static constexpr size_t kDefaultMaxPending = 64 * 1024;

  explicit VirtioConsole(OutputFn output, size_t max_pending = kDefaultMaxPending);

  // Input for the guest, from any thread (after attachment to a transport).
  void push_input(const u8* data, size_t len);
  // Bytes waiting for receive buffers, and bytes dropped because the wait buffer was full.
  [[nodiscard]] size_t pending_input();
  [[nodiscard]] u64 dropped_input();

  // VirtioDevice.
  [[nodiscard]] u32 device_id() const override { return VIRTIO_ID_CONSOLE; }
  [[nodiscard]] u64 device_features() const override { return feature_bit(VIRTIO_CONSOLE_F_EMERG_WRITE); }
  [[nodiscard]] u32 num_queues() const override { return 2; }
  [[nodiscard]] u16 queue_max_size(u32) const override { return kQueueSize; }
  [[nodiscard]] u32 config_size() const override { return kConsoleConfigSize; }
  void read_config(u32 offset, u8* data, u32 len) override;
  void write_config(u32 offset, const u8* data, u32 len) override;
  void on_notify(u32 queue) override;

 private:
  void deliver_input();

  OutputFn m_output;
  size_t m_max_pending;
  // Input not yet delivered; guarded by the transport lock.
  std::vector<u8> m_pending;
  u64 m_dropped = 0;
};

}  // namespace rvkvm::vmm::virtio
