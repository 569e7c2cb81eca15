#include "vmm/syscon.h"

namespace rvkvm::vmm {

void Syscon::mmio_write(u64 offset, const u8* data, u32 len) {
  if (offset != 0 || len != 4) {
    warn(m_ignored, "syscon: write of {} bytes at {:#x} ignored", len, offset);
    return;
  }
  const u32 value = static_cast<u32>(mmio_value(data, len));
  const u32 code = value >> 16;
  if (!m_on_event) return;
  switch (value & 0xffff) {
    case kPass: m_on_event(SysconEvent::kPoweroff, 0); return;
    case kReset: m_on_event(SysconEvent::kReboot, 0); return;
    case kFail: m_on_event(SysconEvent::kFail, code); return;
    default: warn(m_ignored, "syscon: unknown command {:#x} ignored", value); return;
  }
}

}  // namespace rvkvm::vmm
