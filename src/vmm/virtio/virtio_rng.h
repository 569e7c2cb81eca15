#pragma once
// virtio-rng, the entropy device (VIRTIO 1.2 section 5.4): one requestq whose device-writable
// buffers are filled from the host's getrandom().
#include "common/types.h"
#include "vmm/virtio/virtio.h"

namespace rvkvm::vmm::virtio {

class VirtioRng final : public VirtioDevice {
 public:
  static constexpr u16 kQueueSize = 64;
  // 5.4.6.2 lets the device fill less than the whole buffer; a bound keeps one request cheap.
  static constexpr u32 kMaxBytesPerRequest = 64 * 1024;

  [[nodiscard]] u32 device_id() const override { return VIRTIO_ID_ENTROPY; }
  [[nodiscard]] u64 device_features() const override { return 0; }
  [[nodiscard]] u32 num_queues() const override { return 1; }
  [[nodiscard]] u16 queue_max_size(u32) const override { return kQueueSize; }
  void on_notify(u32 queue) override;

 private:
  u32 fill(const DescChain& chain);
};

}  // namespace rvkvm::vmm::virtio
