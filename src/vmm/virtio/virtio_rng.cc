#include "vmm/virtio/virtio_rng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace rvkvm::vmm::virtio {

namespace {
WarnCounter g_warn_rng{"virtio-rng: getrandom failed"};
}  // namespace

void VirtioRng::on_notify(u32 queue) {
  if (queue != 0) return;
  process_queue(0, [this](const DescChain& chain) { return fill(chain); });
}

u32 VirtioRng::fill(const DescChain& chain) {
  const u64 want = std::min<u64>(chain.writable_len(), kMaxBytesPerRequest);
  u64 done = 0;
  chain.for_each_writable(0, want, [&](u8* p, u32 n) {
    while (n) {
      const ssize_t r = ::getrandom(p, n, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        warn(g_warn_rng, "virtio-rng: getrandom: {}", std::strerror(errno));
        return false;
      }
      p += r;
      n -= static_cast<u32>(r);
      done += static_cast<u64>(r);
    }
    return true;
  });
  // 5.4.6.1: the driver learns from the used length how many random bytes it received.
  return static_cast<u32>(done);
}

}  // namespace rvkvm::vmm::virtio
