#include "vmm/virtio/virtio_console.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace rvkvm::vmm::virtio {

namespace {
WarnCounter g_warn_dropped{"virtio-console: input dropped"};
WarnCounter g_warn_misuse{"virtio-console: unexpected use"};
}  // namespace

VirtioConsole::VirtioConsole(OutputFn output, size_t max_pending)
    : m_output(std::move(output)), m_max_pending(max_pending) {}

void VirtioConsole::read_config(u32 offset, u8* data, u32 len) {
  // Neither VIRTIO_CONSOLE_F_SIZE nor _MULTIPORT is offered, so cols, rows and max_nr_ports
  // carry nothing; emerg_wr is write-only in effect.
  std::memset(data, 0, len);
}

void VirtioConsole::write_config(u32 offset, const u8* data, u32 len) {
  // 5.3.5.1: "The device MUST allow a write to emerg_wr, even on an unconfigured device" and
  // "SHOULD transmit the lower byte written to emerg_wr".
  if (offset == kConsoleCfgEmergWr && m_output) m_output(data, 1);
}

void VirtioConsole::on_notify(u32 queue) {
  if (queue == kTransmitQueue) {
    process_queue(kTransmitQueue, [this](const DescChain& chain) -> u32 {
      // 5.3.6.1: transmit buffers are device-readable; a writable part is ignored.
      if (!chain.writable().empty())
        warn(g_warn_misuse, "virtio-console: device-writable buffer in the transmitq (head {})", chain.head());
      if (m_output)
        for (const GuestBuffer& b : chain.readable()) m_output(b.host, b.len);
      return 0;  // nothing written into the chain
    });
  } else if (queue == kReceiveQueue) {
    deliver_input();  // the driver added receive buffers
  }
}

void VirtioConsole::push_input(const u8* data, size_t len) {
  VirtioTransport* t = transport();
  if (!t) {
    warn(g_warn_dropped, "virtio-console: {} input bytes before the device has a transport", len);
    return;
  }
  auto lock = t->lock();
  const size_t room = m_max_pending - std::min(m_max_pending, m_pending.size());
  const size_t take = std::min(room, len);
  m_pending.insert(m_pending.end(), data, data + take);
  if (take < len) {
    m_dropped += len - take;
    warn(g_warn_dropped, "virtio-console: guest not reading input, {} bytes dropped", len - take);
  }
  deliver_input();
}

void VirtioConsole::deliver_input() {
  // Called with the transport lock held. Only takes receive buffers while there is input, so
  // buffers the driver posts ahead of time wait on the ring.
  VirtioTransport* t = transport();
  if (m_pending.empty() || !t || !t->driver_ok()) return;
  Virtqueue* q = t->queue(kReceiveQueue);
  if (!q || !q->ready()) return;
  size_t taken = 0;
  bool pushed = false;
  while (taken < m_pending.size() && next_chain(*q, pushed)) {
    // 5.3.6.1: receive buffers are device-writable; a readable part is ignored.
    const u64 n = m_chain.write(0, m_pending.data() + taken, m_pending.size() - taken);
    taken += n;
    q->push(m_chain.head(), static_cast<u32>(n));
    pushed = true;
  }
  m_pending.erase(m_pending.begin(), m_pending.begin() + static_cast<std::ptrdiff_t>(taken));
  if (pushed) t->notify_used(kReceiveQueue);
}

size_t VirtioConsole::pending_input() {
  VirtioTransport* t = transport();
  if (!t) return 0;
  auto lock = t->lock();
  return m_pending.size();
}

u64 VirtioConsole::dropped_input() {
  VirtioTransport* t = transport();
  if (!t) return 0;
  auto lock = t->lock();
  return m_dropped;
}

}  // namespace rvkvm::vmm::virtio
