#include "vmm/rtc.h"

#include <time.h>

#include <algorithm>

namespace rvkvm::vmm {

u64 GoldfishRtc::host_realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<u64>(ts.tv_sec) * 1'000'000'000ull + static_cast<u64>(ts.tv_nsec);
}

GoldfishRtc::GoldfishRtc(IrqLine irq, ScheduleFn schedule, ClockFn clock)
    : m_irq(std::move(irq)), m_schedule(std::move(schedule)), m_clock(std::move(clock)) {
  if (!m_clock) m_clock = &GoldfishRtc::host_realtime_ns;
}

void GoldfishRtc::update_line() {
  const bool level = m_fired && m_irq_enabled;
  if (level == m_line) return;
  m_line = level;
  // Under m_mu, so that levels reach the PLIC in the order they were decided.
  m_irq.set(level);
}

u64 GoldfishRtc::check_alarm(u64 host_now) {
  if (!m_armed) return 0;
  const u64 guest_now = host_now + m_offset;
  if (guest_now >= m_alarm) {
    m_armed = false;
    m_fired = true;
    update_line();
    return 0;
  }
  if (!m_schedule) return 0;
  const u64 delay = std::min(m_alarm - guest_now, kMaxWakeDelay);
  const u64 deadline = (host_now + delay + kWakeGrid - 1) / kWakeGrid * kWakeGrid;
  // A wake-up in flight at or before this deadline will re-examine the alarm anyway.
  if (!m_wakes.empty() && *m_wakes.begin() <= deadline) return 0;
  m_wakes.insert(deadline);
  return deadline;
}

void GoldfishRtc::schedule_wake(u64 deadline) {
  if (deadline == 0) return;
  // Outside m_mu: the scheduler takes its own locks and may even run the callback at once.
  const u64 host_now = m_clock();
  const u64 delay = deadline > host_now ? deadline - host_now : 0;
  m_schedule(std::chrono::nanoseconds(delay), [this, deadline] { on_wake(deadline); });
}

void GoldfishRtc::on_wake(u64 deadline) {
  u64 next;
  {
    std::lock_guard lock(m_mu);
    m_wakes.erase(deadline);
    next = check_alarm(m_clock());
  }
  schedule_wake(next);
}

void GoldfishRtc::poll() {
  u64 next;
  {
    std::lock_guard lock(m_mu);
    next = check_alarm(m_clock());
  }
  schedule_wake(next);
}

void GoldfishRtc::read_locked(u64 offset, u32& value) {
  switch (offset) {
    case kTimeLow: {
      const u64 t = now();
      // Latching makes the two 32-bit reads one consistent 64-bit value.
      m_time_high_latch = static_cast<u32>(t >> 32);
      value = static_cast<u32>(t);
      break;
    }
    case kTimeHigh: value = m_time_high_latch; break;
    case kAlarmLow: value = static_cast<u32>(m_alarm); break;
    case kAlarmHigh: value = static_cast<u32>(m_alarm >> 32); break;
    case kIrqEnabled: value = m_irq_enabled ? 1 : 0; break;
    case kAlarmStatus: value = m_armed ? 1 : 0; break;
    default: value = 0; break;  // write-only and unknown registers
  }
}

void GoldfishRtc::write_locked(u64 offset, u32 value) {
  switch (offset) {
    case kTimeLow: {
      const u64 t = (static_cast<u64>(m_time_high_set) << 32) | value;
      m_offset = t - m_clock();
      break;
    }
    case kTimeHigh: m_time_high_set = value; break;
    case kAlarmLow:
      m_alarm = (static_cast<u64>(m_alarm_high_next) << 32) | value;
      m_armed = true;
      break;
    case kAlarmHigh: m_alarm_high_next = value; break;
    case kIrqEnabled:
      m_irq_enabled = value & 1;
      update_line();
      break;
    case kClearAlarm: m_armed = false; break;
    case kClearInterrupt:
      m_fired = false;
      update_line();
      break;
    default: break;  // read-only and unknown registers
  }
}

void GoldfishRtc::mmio_read(u64 offset, u8* data, u32 len) {
  if (len != 4 || offset % 4 != 0 || offset >= kSize) {
    warn(m_bad_access, "goldfish-rtc: read of {} bytes at {:#x} ignored", len, offset);
    mmio_set(data, len, 0);
    return;
  }
  u32 value = 0;
  u64 next;
  {
    std::lock_guard lock(m_mu);
    // Without a scheduler this is where a due alarm is noticed; with one it costs nothing.
    next = check_alarm(m_clock());
    read_locked(offset, value);
  }
  schedule_wake(next);
  mmio_set(data, len, value);
}

void GoldfishRtc::mmio_write(u64 offset, const u8* data, u32 len) {
  if (len != 4 || offset % 4 != 0 || offset >= kSize) {
    warn(m_bad_access, "goldfish-rtc: write of {} bytes at {:#x} ignored", len, offset);
    return;
  }
  u64 next;
  {
    std::lock_guard lock(m_mu);
    write_locked(offset, static_cast<u32>(mmio_value(data, len)));
    // After the write: a new alarm or a new time may make the alarm due now.
    next = check_alarm(m_clock());
  }
  schedule_wake(next);
}

}  // namespace rvkvm::vmm
