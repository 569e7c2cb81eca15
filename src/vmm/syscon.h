#pragma once
// The SiFive test device ("sifive,test1", QEMU virt's finisher at 0x100000): a 32-bit write at
// offset 0 ends the machine. The low 16 bits say how: 0x5555 poweroff, 0x7777 reboot,
// 0x3333 failure with the exit code in the high 16 bits. Linux reaches it through the
// "syscon-poweroff" and "syscon-reboot" nodes (regmap writes of 0x5555 / 0x7777 at offset 0);
// OpenSBI-style firmware and bare-metal tests write it directly.
#include <functional>

#include "common/log.h"
#include "common/types.h"
#include "vmm/device.h"

namespace rvkvm::vmm {

enum class SysconEvent : u32 { kPoweroff, kReboot, kFail };

class Syscon final : public MmioDevice {
 public:
  static constexpr u64 kSize = 0x1000;
  static constexpr u32 kFail = 0x3333;
  static constexpr u32 kPass = 0x5555;
  static constexpr u32 kReset = 0x7777;

  // `code` is the failure code for kFail and 0 otherwise. Called on the writing VCPU's thread.
  using EventFn = std::function<void(SysconEvent event, u32 code)>;
  explicit Syscon(EventFn on_event) : m_on_event(std::move(on_event)) {}

  // Reads as zero: the syscon regmap's read-modify-write then writes exactly the command value.
  void mmio_read(u64 offset, u8* data, u32 len) override { mmio_set(data, len, 0); }
  void mmio_write(u64 offset, const u8* data, u32 len) override;

 private:
  EventFn m_on_event;
  WarnCounter m_ignored{"syscon: ignored write"};
};

}  // namespace rvkvm::vmm
