#include "vmm/plic.h"

#include <algorithm>

namespace rvkvm::vmm {

Plic::Plic(u32 num_contexts, ContextFn notify)
    : m_notify(std::move(notify)), m_contexts(std::clamp<u32>(num_contexts, 1, kMaxContexts)) {}

void Plic::set_irq(u32 source, bool level) {
  if (source == 0 || source >= kNumSources) return;
  std::lock_guard lock(m_mu);
  assign(m_level, source, level);
  if (test(m_in_service, source)) {
    // The gateway is closed until completion: the level is only remembered, and looked at again
    // when the guest completes the interrupt.
    return;
  }
  // A level source requests while its line is high. Dropping the line before the request is
  // claimed withdraws it, so the guest does not take an interrupt its device no longer wants.
  if (test(m_pending, source) == level) return;
  assign(m_pending, source, level);
  update();
}

bool Plic::context_output(u32 context) {
  std::lock_guard lock(m_mu);
  return context < m_contexts.size() && m_contexts[context].output;
}

u32 Plic::best_source(const Context& c) const {
  u32 best = 0;
  u32 best_priority = c.threshold;  // must beat the threshold strictly
  for (u32 w = 0; w < kWords; ++w) {
    u32 candidates = m_pending[w] & c.enable[w];
    while (candidates) {
      const u32 source = w * 32 + static_cast<u32>(__builtin_ctz(candidates));
      candidates &= candidates - 1;
      // Strictly greater: among equal priorities the lowest id, visited first, wins.
      if (m_priority[source] > best_priority) {
        best = source;
        best_priority = m_priority[source];
      }
    }
  }
  return best;
}

u32 Plic::claim(Context& c) {
  const u32 source = best_source(c);
  if (source == 0) return 0;
  assign(m_pending, source, false);
  assign(m_in_service, source, true);
  update();
  return source;
}

void Plic::complete(Context& c, u32 source) {
  // The spec: a completion naming a source not enabled for this context is silently ignored,
  // and the ID is not checked against the last claim.
  if (source == 0 || source >= kNumSources || !test(c.enable, source)) return;
  if (!test(m_in_service, source)) return;
  assign(m_in_service, source, false);
  // The gateway reopens: a line still high makes a new request at once.
  if (test(m_level, source)) {
    assign(m_pending, source, true);
    update();
  }
}

void Plic::update() {
  for (u32 i = 0; i < m_contexts.size(); ++i) {
    Context& c = m_contexts[i];
    const bool out = best_source(c) != 0;
    if (out == c.output) continue;
    c.output = out;
    if (m_notify) m_notify(i, out);
  }
}

u32 Plic::read_reg(u64 offset) {
  if (offset < kPendingBase) {
    const u64 source = offset / 4;
    return source < kNumSources ? m_priority[source] : 0;
  }
  if (offset < kEnableBase) {
    const u64 word = (offset - kPendingBase) / 4;
    return word < kWords ? m_pending[word] : 0;
  }
  if (offset < kContextBase) {
    const u64 ctx = (offset - kEnableBase) / kEnableStride;
    const u64 word = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx >= m_contexts.size() || word >= kWords) return 0;
    return m_contexts[ctx].enable[word];
  }
  const u64 ctx = (offset - kContextBase) / kContextStride;
  const u64 reg = (offset - kContextBase) % kContextStride;
  if (ctx >= m_contexts.size()) return 0;
  if (reg == 0) return m_contexts[ctx].threshold;
  if (reg == kClaimOffset) return claim(m_contexts[ctx]);
  return 0;
}

void Plic::write_reg(u64 offset, u32 value) {
  if (offset < kPendingBase) {
    const u64 source = offset / 4;
    // Source 0 does not exist: its priority stays 0.
    if (source == 0 || source >= kNumSources) return;
    m_priority[source] = value & kMaxPriority;
    update();
    return;
  }
  if (offset < kEnableBase) return;  // pending bits are read-only
  if (offset < kContextBase) {
    const u64 ctx = (offset - kEnableBase) / kEnableStride;
    const u64 word = (offset - kEnableBase) % kEnableStride / 4;
    if (ctx >= m_contexts.size() || word >= kWords) return;
    // Bit 0 of word 0 is source 0, hardwired to zero.
    m_contexts[ctx].enable[word] = word == 0 ? (value & ~1u) : value;
    update();
    return;
  }
  const u64 ctx = (offset - kContextBase) / kContextStride;
  const u64 reg = (offset - kContextBase) % kContextStride;
  if (ctx >= m_contexts.size()) return;
  if (reg == 0) {
    m_contexts[ctx].threshold = value & kMaxPriority;
    update();
  } else if (reg == kClaimOffset) {
    complete(m_contexts[ctx], value);
  }
}

void Plic::mmio_read(u64 offset, u8* data, u32 len) {
  // Every register is 32 bits wide and naturally aligned; Linux only issues readl/writel.
  if (len != 4 || offset % 4 != 0 || offset >= kSize) {
    warn(m_bad_access, "plic: read of {} bytes at {:#x} ignored", len, offset);
    mmio_set(data, len, 0);
    return;
  }
  std::lock_guard lock(m_mu);
  mmio_set(data, len, read_reg(offset));
}

void Plic::mmio_write(u64 offset, const u8* data, u32 len) {
  if (len != 4 || offset % 4 != 0 || offset >= kSize) {
    warn(m_bad_access, "plic: write of {} bytes at {:#x} ignored", len, offset);
    return;
  }
  std::lock_guard lock(m_mu);
  write_reg(offset, static_cast<u32>(mmio_value(data, len)));
}

}  // namespace rvkvm::vmm
