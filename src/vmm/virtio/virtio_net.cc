#include "vmm/virtio/virtio_net.h"

#include <cstring>

#include "common/log.h"

namespace rvkvm::vmm::virtio {
namespace {
WarnCounter g_warn_net{"virtio-net"};
}  // namespace

VirtioNet::VirtioNet(std::array<u8, 6> mac, TransmitFn transmit) : m_mac(mac), m_transmit(std::move(transmit)) {}

void VirtioNet::read_config(u32 offset, u8* data, u32 len) {
  u8 cfg[8] = {};
  std::memcpy(cfg, m_mac.data(), 6);
  u16 status = VIRTIO_NET_S_LINK_UP;
  std::memcpy(cfg + 6, &status, 2);
  std::memcpy(data, cfg + offset, len);
}

void VirtioNet::reset() {
  m_pending.clear();
}

void VirtioNet::on_notify(u32 queue) {
  if (queue == kReceiveQueue) {
    deliver();
    return;
  }
  if (queue != kTransmitQueue) return;
  process_queue(kTransmitQueue, [this](const DescChain& chain) -> u32 {
    // 5.1.6.2: each transmitted buffer is a header followed by one whole frame.
    u64 total = chain.readable_len();
    if (total < kHeaderSize || total - kHeaderSize > kMaxFrame) {
      warn(g_warn_net, "virtio-net: transmit chain of {} bytes dropped", total);
      return 0;
    }
    m_tx.resize(total - kHeaderSize);
    chain.read(kHeaderSize, m_tx.data(), m_tx.size());
    m_transmit(m_tx.data(), m_tx.size());
    return 0;
  });
}

void VirtioNet::receive(const u8* frame, size_t len) {
  VirtioTransport* t = transport();
  if (!t || len > kMaxFrame) return;
  auto lock = t->lock();
  if (m_pending.size() >= kMaxPendingFrames) {
    ++m_dropped;
    return;
  }
  m_pending.emplace_back(frame, frame + len);
  deliver();
}

void VirtioNet::deliver() {
  VirtioTransport* t = transport();
  if (m_pending.empty() || !t || !t->driver_ok()) return;
  Virtqueue* q = t->queue(kReceiveQueue);
  if (!q || !q->ready()) return;
  bool pushed = false;
  while (!m_pending.empty() && next_chain(*q, pushed)) {
    const std::vector<u8>& f = m_pending.front();
    u32 written = 0;
    // One buffer per frame (no VIRTIO_NET_F_MRG_RXBUF): the header says num_buffers = 1.
    if (m_chain.writable_len() >= kHeaderSize + f.size()) {
      u8 hdr[kHeaderSize] = {};
      u16 num_buffers = 1;
      std::memcpy(hdr + 10, &num_buffers, 2);
      m_chain.write(0, hdr, kHeaderSize);
      m_chain.write(kHeaderSize, f.data(), f.size());
      written = static_cast<u32>(kHeaderSize + f.size());
    } else {
      ++m_dropped;
      warn(g_warn_net, "virtio-net: receive buffer of {} bytes too small for a {}-byte frame", m_chain.writable_len(),
           f.size());
    }
    q->push(m_chain.head(), written);
    pushed = true;
    m_pending.pop_front();
  }
  if (pushed) t->notify_used(kReceiveQueue);
}

}  // namespace rvkvm::vmm::virtio
