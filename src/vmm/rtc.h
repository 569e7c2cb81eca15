#pragma once
// The Android goldfish RTC ("google,goldfish-rtc"), as Linux's rtc-goldfish driver uses it:
//   0x00 TIME_LOW        read: low 32 bits of the time (ns since the epoch), latches TIME_HIGH;
//                        write: sets the time to (value written to TIME_HIGH << 32) | value
//   0x04 TIME_HIGH       read: high 32 bits latched by the last TIME_LOW read; write: see above
//   0x08 ALARM_LOW       write: low 32 bits of the alarm, and arms it; read: the alarm's low bits
//   0x0c ALARM_HIGH      write: high 32 bits of the next alarm; read: the alarm's high bits
//   0x10 IRQ_ENABLED     bit 0: the alarm interrupt reaches the IRQ line
//   0x14 CLEAR_ALARM     write: disarms the alarm
//   0x18 ALARM_STATUS    read: 1 while an alarm is armed and has not fired
//   0x1c CLEAR_INTERRUPT write: acknowledges a fired alarm (lowers the line)
// Time is the host's CLOCK_REALTIME plus an offset the guest sets by writing the time.
#include <chrono>
#include <functional>
#include <mutex>
#include <set>

#include "common/log.h"
#include "common/types.h"
#include "vmm/device.h"

namespace rvkvm::vmm {

class GoldfishRtc final : public MmioDevice {
 public:
  static constexpr u64 kSize = 0x1000;
  static constexpr u64 kTimeLow = 0x00;
  static constexpr u64 kTimeHigh = 0x04;
  static constexpr u64 kAlarmLow = 0x08;
  static constexpr u64 kAlarmHigh = 0x0c;
  static constexpr u64 kIrqEnabled = 0x10;
  static constexpr u64 kClearAlarm = 0x14;
  static constexpr u64 kAlarmStatus = 0x18;
  static constexpr u64 kClearInterrupt = 0x1c;

  // Host time in ns since the epoch; tests substitute a fake clock.
  using ClockFn = std::function<u64()>;
  // Runs a callback once after a delay, on any thread (EventLoop::call_after fits). The callbacks
  // must not run after the RTC is destroyed: the VMM stops its event loop first.
  using ScheduleFn = std::function<void(std::chrono::nanoseconds, std::function<void()>)>;

  // Without `schedule`, a due alarm is only noticed on the next MMIO access or poll().
  explicit GoldfishRtc(IrqLine irq, ScheduleFn schedule = {}, ClockFn clock = {});

  // Fires the alarm if it is due (from any thread).
  void poll();

  void mmio_read(u64 offset, u8* data, u32 len) override;
  void mmio_write(u64 offset, const u8* data, u32 len) override;

  [[nodiscard]] static u64 host_realtime_ns();

 private:
  // Host-time deadlines of the wake-ups in flight. A guest re-arming the alarm must not pile up
  // timers in the event loop, so wake-ups lie on a 1 ms grid, at most kMaxWakeDelay ahead (a
  // later alarm is reached by re-arming on each wake-up, which also catches host clock steps),
  // and one is only added when it is earlier than all those in flight: at most ~1000.
  static constexpr u64 kWakeGrid = 1'000'000;
  static constexpr u64 kMaxWakeDelay = 1'000'000'000;

  u64 now() const { return m_clock() + m_offset; }
  // Fires a due alarm and computes the wake-up still needed (0: none). m_mu held.
  u64 check_alarm(u64 host_now);
  void update_line();
  void schedule_wake(u64 deadline);
  void on_wake(u64 deadline);
  void read_locked(u64 offset, u32& value);
  void write_locked(u64 offset, u32 value);

  IrqLine m_irq;
  ScheduleFn m_schedule;
  ClockFn m_clock;
  std::mutex m_mu;
  u64 m_offset = 0;          // guest time - host time (wrapping)
  u32 m_time_high_latch = 0;
  u32 m_time_high_set = 0;   // TIME_HIGH written, used by the next TIME_LOW write
  u32 m_alarm_high_next = 0;
  u64 m_alarm = 0;           // guest time
  bool m_armed = false;
  bool m_fired = false;      // alarm fired, not yet acknowledged
  bool m_irq_enabled = false;
  bool m_line = false;
  std::set<u64> m_wakes;
  WarnCounter m_bad_access{"rtc: unsupported access"};
};

}  // namespace rvkvm::vmm
