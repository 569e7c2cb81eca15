#pragma once
// virtio-net (VIRTIO 1.2 section 5.1) with one receive and one transmit queue. Frames go to and
// come from a back end (user-mode networking, vmm/net_slirp.h) through two callbacks.
#include <array>
#include <deque>
#include <functional>
#include <vector>

#include "vmm/virtio/virtio.h"

namespace rvkvm::vmm::virtio {

inline constexpr u32 VIRTIO_ID_NET = 1;
inline constexpr unsigned VIRTIO_NET_F_MAC = 5;
inline constexpr unsigned VIRTIO_NET_F_STATUS = 16;
inline constexpr u16 VIRTIO_NET_S_LINK_UP = 1;

class VirtioNet final : public VirtioDevice {
 public:
  using TransmitFn = std::function<void(const u8* frame, size_t len)>;
  static constexpr u32 kReceiveQueue = 0;
  static constexpr u32 kTransmitQueue = 1;
  static constexpr u16 kQueueSize = 256;
  // struct virtio_net_hdr with num_buffers: always 12 bytes once VIRTIO_F_VERSION_1 is negotiated.
  static constexpr u32 kHeaderSize = 12;
  static constexpr size_t kMaxFrame = 65536;
  static constexpr size_t kMaxPendingFrames = 256;

  VirtioNet(std::array<u8, 6> mac, TransmitFn transmit);

  // A frame for the guest (from any thread, after attachment to a transport): delivered when a
  // receive buffer is free, queued (bounded) until then.
  void receive(const u8* frame, size_t len);
  [[nodiscard]] u64 dropped_frames() const { return m_dropped; }

  [[nodiscard]] u32 device_id() const override { return VIRTIO_ID_NET; }
  [[nodiscard]] u64 device_features() const override {
    return feature_bit(VIRTIO_NET_F_MAC) | feature_bit(VIRTIO_NET_F_STATUS);
  }
  [[nodiscard]] u32 num_queues() const override { return 2; }
  [[nodiscard]] u16 queue_max_size(u32) const override { return kQueueSize; }
  [[nodiscard]] u32 config_size() const override { return 8; }  // mac[6], status (5.1.4)
  void read_config(u32 offset, u8* data, u32 len) override;
  void on_notify(u32 queue) override;
  void reset() override;

 private:
  void deliver();  // with the transport lock held
  std::array<u8, 6> m_mac;
  TransmitFn m_transmit;
  std::deque<std::vector<u8>> m_pending;  // frames waiting for receive buffers
  std::vector<u8> m_tx;                   // one transmit frame, reused
  u64 m_dropped = 0;
};

}  // namespace rvkvm::vmm::virtio
