#pragma once
// A RISC-V PLIC (Platform-Level Interrupt Controller) following the riscv-plic-spec register map:
//   priority[source]         0x000000 + 4*source            (sources 1..kNumSources-1; 0 reserved)
//   pending bits             0x001000 + 4*word              (read-only)
//   enable bits of context c 0x002000 + 0x80*c + 4*word
//   threshold of context c   0x200000 + 0x1000*c
//   claim/complete of ctx c  0x200004 + 0x1000*c
// Sources are level-triggered (every VMM device drives a level). The VMM creates one S-mode context
// per hart (context i = hart i, as kvmtool does) and receives each context's output through a
// callback, which it turns into Vcpu::interrupt(KVM_INTERRUPT_SET / KVM_INTERRUPT_UNSET).
#include <array>
#include <functional>
#include <mutex>
#include <vector>

#include "common/log.h"
#include "common/types.h"
#include "vmm/device.h"

namespace rvkvm::vmm {

class Plic final : public MmioDevice {
 public:
  // 96 sources as on QEMU's virt machine: three 32-bit words of pending/enable bits.
  static constexpr u32 kNumSources = 96;
  static constexpr u32 kMaxPriority = 7;
  // The whole register space the spec defines (15872 contexts); the DT "reg" size.
  static constexpr u64 kSize = 0x4000000;
  static constexpr u64 kPriorityBase = 0x0;
  static constexpr u64 kPendingBase = 0x1000;
  static constexpr u64 kEnableBase = 0x2000;
  static constexpr u64 kEnableStride = 0x80;
  static constexpr u64 kContextBase = 0x200000;
  static constexpr u64 kContextStride = 0x1000;
  static constexpr u64 kClaimOffset = 4;  // within a context's threshold/claim page
  // Contexts the register map has room for: enable blocks end where context pages begin.
  static constexpr u32 kMaxContexts = static_cast<u32>((kContextBase - kEnableBase) / kEnableStride);

  // Called with a context's new output level, only when it changes. The call is made with the
  // PLIC's lock held so that outputs reach the harts in the order they were computed: it must
  // not call back into the PLIC.
  using ContextFn = std::function<void(u32 context, bool level)>;

  // `num_contexts` (1..kMaxContexts): one per hart, context i driving hart i's external interrupt.
  Plic(u32 num_contexts, ContextFn notify);

  // Drives source `source`'s input level, from any thread. Source 0 and sources >= kNumSources
  // are ignored.
  void set_irq(u32 source, bool level);

  // An IrqLine for a device wired to `source`. The Plic must outlive the line.
  [[nodiscard]] IrqLine irq_line(u32 source) {
    return IrqLine([this](u32 irq, bool level) { set_irq(irq, level); }, source);
  }

  void mmio_read(u64 offset, u8* data, u32 len) override;
  void mmio_write(u64 offset, const u8* data, u32 len) override;

  [[nodiscard]] u32 num_contexts() const { return static_cast<u32>(m_contexts.size()); }
  // The last output level notified for `context` (for tests and debugging).
  [[nodiscard]] bool context_output(u32 context);

 private:
  static constexpr u32 kWords = kNumSources / 32;
  static_assert(kNumSources % 32 == 0, "pending/enable words are used whole");
  using Bits = std::array<u32, kWords>;

  struct Context {
    Bits enable{};
    u32 threshold = 0;
    bool output = false;  // as last notified
  };

  static bool test(const Bits& b, u32 source) { return (b[source / 32] >> (source % 32)) & 1; }
  static void assign(Bits& b, u32 source, bool v) {
    const u32 m = 1u << (source % 32);
    b[source / 32] = v ? (b[source / 32] | m) : (b[source / 32] & ~m);
  }

  u32 read_reg(u64 offset);
  void write_reg(u64 offset, u32 value);
  // The best claimable source for `context`, 0 if none. m_mu held.
  u32 best_source(const Context& c) const;
  u32 claim(Context& c);
  void complete(Context& c, u32 source);
  // Recomputes every context's output and notifies the changes. m_mu held.
  void update();

  ContextFn m_notify;
  std::mutex m_mu;
  std::array<u32, kNumSources> m_priority{};
  Bits m_level{};       // input levels as the devices drive them
  Bits m_pending{};     // gateway has forwarded a request the core has not handed out
  Bits m_in_service{};  // claimed, gateway closed until completion
  std::vector<Context> m_contexts;
  WarnCounter m_bad_access{"plic: unsupported access"};
};

}  // namespace rvkvm::vmm
