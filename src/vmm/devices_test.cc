// Unit tests of the VMM's platform devices: PLIC, goldfish RTC and SiFive test/syscon.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "vmm/plic.h"
#include "vmm/rtc.h"
#include "vmm/syscon.h"

namespace rvkvm::vmm {
namespace {

u32 read32(MmioDevice& d, u64 offset) {
  u8 data[4] = {0xaa, 0xaa, 0xaa, 0xaa};
  d.mmio_read(offset, data, 4);
  return static_cast<u32>(mmio_value(data, 4));
}

void write32(MmioDevice& d, u64 offset, u32 value) {
  u8 data[4];
  mmio_set(data, 4, value);
  d.mmio_write(offset, data, 4);
}

// ---------------------------------------------------------------------------------------------
// PLIC

constexpr u64 priority_reg(u32 source) { return Plic::kPriorityBase + 4ull * source; }
constexpr u64 pending_reg(u32 word) { return Plic::kPendingBase + 4ull * word; }
constexpr u64 enable_reg(u32 ctx, u32 word) { return Plic::kEnableBase + Plic::kEnableStride * ctx + 4ull * word; }
constexpr u64 threshold_reg(u32 ctx) { return Plic::kContextBase + Plic::kContextStride * ctx; }
constexpr u64 claim_reg(u32 ctx) { return threshold_reg(ctx) + Plic::kClaimOffset; }

class PlicTest : public ::testing::Test {
 protected:
  explicit PlicTest(u32 contexts = 2)
      : plic(contexts, [this](u32 ctx, bool level) {
          std::lock_guard lock(mu);
          events.emplace_back(ctx, level);
        }) {}

  void enable(u32 ctx, u32 source) {
    const u64 reg = enable_reg(ctx, source / 32);
    write32(plic, reg, read32(plic, reg) | (1u << (source % 32)));
  }
  void disable(u32 ctx, u32 source) {
    const u64 reg = enable_reg(ctx, source / 32);
    write32(plic, reg, read32(plic, reg) & ~(1u << (source % 32)));
  }
  void set_priority(u32 source, u32 p) { write32(plic, priority_reg(source), p); }
  u32 claim(u32 ctx) { return read32(plic, claim_reg(ctx)); }
  void complete(u32 ctx, u32 source) { write32(plic, claim_reg(ctx), source); }
  bool pending(u32 source) { return (read32(plic, pending_reg(source / 32)) >> (source % 32)) & 1; }
  std::vector<std::pair<u32, bool>> take_events() {
    std::lock_guard lock(mu);
    return std::exchange(events, {});
  }

  std::mutex mu;
  std::vector<std::pair<u32, bool>> events;
  Plic plic;
};

using Events = std::vector<std::pair<u32, bool>>;

TEST_F(PlicTest, ResetState) {
  for (u32 s = 0; s < Plic::kNumSources; ++s) EXPECT_EQ(read32(plic, priority_reg(s)), 0u);
  for (u32 w = 0; w < 3; ++w) {
    EXPECT_EQ(read32(plic, pending_reg(w)), 0u);
    EXPECT_EQ(read32(plic, enable_reg(0, w)), 0u);
  }
  EXPECT_EQ(read32(plic, threshold_reg(0)), 0u);
  EXPECT_EQ(claim(0), 0u);
  EXPECT_TRUE(take_events().empty());
}

TEST_F(PlicTest, PrioritiesAreThreeBits) {
  set_priority(5, 7);
  EXPECT_EQ(read32(plic, priority_reg(5)), 7u);
  set_priority(5, 0xffffffff);
  EXPECT_EQ(read32(plic, priority_reg(5)), 7u);
  set_priority(95, 3);
  EXPECT_EQ(read32(plic, priority_reg(95)), 3u);
  // Source 0 is reserved and sources past 95 do not exist.
  set_priority(0, 5);
  EXPECT_EQ(read32(plic, priority_reg(0)), 0u);
  set_priority(96, 5);
  EXPECT_EQ(read32(plic, priority_reg(96)), 0u);
  write32(plic, threshold_reg(0), 0xff);
  EXPECT_EQ(read32(plic, threshold_reg(0)), 7u);
}

TEST_F(PlicTest, EnablesArePerContextAndSourceZeroIsHardwired) {
  write32(plic, enable_reg(0, 0), 0xffffffff);
  write32(plic, enable_reg(0, 2), 0x80000001);
  EXPECT_EQ(read32(plic, enable_reg(0, 0)), 0xfffffffeu);
  EXPECT_EQ(read32(plic, enable_reg(0, 2)), 0x80000001u);
  EXPECT_EQ(read32(plic, enable_reg(1, 0)), 0u);
  // Words past source 95 read zero and ignore writes.
  write32(plic, enable_reg(0, 3), 0xffffffff);
  EXPECT_EQ(read32(plic, enable_reg(0, 3)), 0u);
  // Contexts that do not exist.
  write32(plic, enable_reg(2, 0), 0xffffffff);
  EXPECT_EQ(read32(plic, enable_reg(2, 0)), 0u);
}

TEST_F(PlicTest, PendingFollowsLevelAndIsReadOnly) {
  plic.set_irq(10, true);
  EXPECT_TRUE(pending(10));
  write32(plic, pending_reg(0), 0);  // read-only
  EXPECT_TRUE(pending(10));
  write32(plic, pending_reg(1), 0xffffffff);
  EXPECT_EQ(read32(plic, pending_reg(1)), 0u);
  // The line dropping before a claim withdraws the request.
  plic.set_irq(10, false);
  EXPECT_FALSE(pending(10));
}

TEST_F(PlicTest, SourceZeroAndOutOfRangeSourcesIgnored) {
  set_priority(1, 1);
  enable(0, 1);
  plic.set_irq(0, true);
  plic.set_irq(96, true);
  plic.set_irq(0xffffffff, true);
  EXPECT_EQ(read32(plic, pending_reg(0)), 0u);
  EXPECT_EQ(read32(plic, pending_reg(3)), 0u);
  EXPECT_EQ(claim(0), 0u);
  EXPECT_TRUE(take_events().empty());
  complete(0, 0);  // harmless
  complete(0, 200);
}

TEST_F(PlicTest, ZeroPriorityNeverInterrupts) {
  enable(0, 3);
  plic.set_irq(3, true);
  EXPECT_TRUE(pending(3));
  EXPECT_EQ(claim(0), 0u);
  EXPECT_TRUE(take_events().empty());
  set_priority(3, 1);
  EXPECT_EQ(take_events(), (Events{{0, true}}));
  EXPECT_EQ(claim(0), 3u);
}

TEST_F(PlicTest, ThresholdMasksPrioritiesAtOrBelowIt) {
  set_priority(4, 3);
  enable(0, 4);
  write32(plic, threshold_reg(0), 3);
  plic.set_irq(4, true);
  EXPECT_FALSE(plic.context_output(0));
  EXPECT_EQ(claim(0), 0u);
  EXPECT_TRUE(pending(4));  // a masked claim does not consume the request
  write32(plic, threshold_reg(0), 2);
  EXPECT_TRUE(plic.context_output(0));
  write32(plic, threshold_reg(0), 7);
  EXPECT_FALSE(plic.context_output(0));
  set_priority(4, 7);
  EXPECT_FALSE(plic.context_output(0));  // priority 7 cannot beat threshold 7
  write32(plic, threshold_reg(0), 0);
  EXPECT_EQ(claim(0), 4u);
  EXPECT_EQ(take_events(), (Events{{0, true}, {0, false}, {0, true}, {0, false}}));
}

TEST_F(PlicTest, ClaimOrderIsPriorityThenLowestId) {
  const u32 sources[] = {40, 7, 90, 33, 8};
  const u32 prios[] = {2, 2, 5, 5, 1};
  for (int i = 0; i < 5; ++i) {
    set_priority(sources[i], prios[i]);
    enable(0, sources[i]);
    plic.set_irq(sources[i], true);
  }
  EXPECT_EQ(claim(0), 33u);
  EXPECT_EQ(claim(0), 90u);
  EXPECT_EQ(claim(0), 7u);
  EXPECT_EQ(claim(0), 40u);
  EXPECT_EQ(claim(0), 8u);
  EXPECT_EQ(claim(0), 0u);
  EXPECT_FALSE(plic.context_output(0));
}

TEST_F(PlicTest, ClaimClearsPendingAndCompleteRepends) {
  set_priority(10, 1);
  enable(0, 10);
  plic.set_irq(10, true);
  EXPECT_EQ(take_events(), (Events{{0, true}}));
  EXPECT_EQ(claim(0), 10u);
  EXPECT_FALSE(pending(10));
  EXPECT_EQ(take_events(), (Events{{0, false}}));
  // In service: the gateway holds further requests back even though the level is high.
  plic.set_irq(10, true);
  EXPECT_FALSE(pending(10));
  EXPECT_EQ(claim(0), 0u);
  // Completion with the level still high makes a new request.
  complete(0, 10);
  EXPECT_TRUE(pending(10));
  EXPECT_EQ(take_events(), (Events{{0, true}}));
  EXPECT_EQ(claim(0), 10u);
  // Level lowered while in service: completion leaves nothing pending.
  plic.set_irq(10, false);
  complete(0, 10);
  EXPECT_FALSE(pending(10));
  EXPECT_EQ(claim(0), 0u);
  EXPECT_EQ(take_events(), (Events{{0, false}}));
}

TEST_F(PlicTest, LevelDroppedBeforeClaimRemovesRequest) {
  set_priority(12, 2);
  enable(0, 12);
  plic.set_irq(12, true);
  plic.set_irq(12, false);
  EXPECT_FALSE(pending(12));
  EXPECT_EQ(claim(0), 0u);
  EXPECT_EQ(take_events(), (Events{{0, true}, {0, false}}));
}

TEST_F(PlicTest, CompletionOfSourceNotEnabledIsIgnored) {
  set_priority(20, 1);
  enable(0, 20);
  plic.set_irq(20, true);
  EXPECT_EQ(claim(0), 20u);
  disable(0, 20);
  complete(0, 20);  // ignored: not enabled for context 0
  enable(0, 20);
  EXPECT_FALSE(pending(20));
  complete(0, 20);
  EXPECT_TRUE(pending(20));
  EXPECT_EQ(claim(0), 20u);
  // Completing a source that is not in service changes nothing.
  complete(0, 21);
  EXPECT_FALSE(pending(20));
}

TEST_F(PlicTest, TwoContextsWithDifferentEnables) {
  set_priority(1, 1);
  set_priority(2, 1);
  enable(0, 1);
  enable(1, 2);
  plic.set_irq(2, true);
  EXPECT_EQ(take_events(), (Events{{1, true}}));
  EXPECT_EQ(claim(0), 0u);
  plic.set_irq(1, true);
  EXPECT_EQ(take_events(), (Events{{0, true}}));
  EXPECT_EQ(claim(1), 2u);
  EXPECT_EQ(take_events(), (Events{{1, false}}));
  EXPECT_EQ(claim(0), 1u);
  EXPECT_EQ(take_events(), (Events{{0, false}}));
  complete(1, 2);
  complete(0, 1);
  EXPECT_EQ(take_events(), (Events{{1, true}, {0, true}}));
}

TEST_F(PlicTest, SharedSourceIsClaimedByOneContextOnly) {
  set_priority(9, 1);
  enable(0, 9);
  enable(1, 9);
  plic.set_irq(9, true);
  EXPECT_EQ(take_events(), (Events{{0, true}, {1, true}}));
  EXPECT_EQ(claim(1), 9u);
  EXPECT_EQ(take_events(), (Events{{0, false}, {1, false}}));
  EXPECT_EQ(claim(0), 0u);
}

TEST_F(PlicTest, CallbackOnlyOnChanges) {
  set_priority(5, 1);
  set_priority(6, 1);
  enable(0, 5);
  enable(0, 6);
  EXPECT_TRUE(take_events().empty());
  plic.set_irq(5, true);
  plic.set_irq(5, true);
  plic.set_irq(6, true);
  EXPECT_EQ(take_events(), (Events{{0, true}}));
  EXPECT_EQ(claim(0), 5u);
  EXPECT_TRUE(take_events().empty());  // 6 still pending: output stays high
  EXPECT_EQ(claim(0), 6u);
  EXPECT_EQ(take_events(), (Events{{0, false}}));
  write32(plic, threshold_reg(0), 3);
  set_priority(5, 2);
  EXPECT_TRUE(take_events().empty());
}

TEST_F(PlicTest, DisablingMasksAndReenablingRaises) {
  set_priority(30, 1);
  enable(0, 30);
  plic.set_irq(30, true);
  disable(0, 30);
  enable(0, 30);
  EXPECT_EQ(take_events(), (Events{{0, true}, {0, false}, {0, true}}));
}

TEST_F(PlicTest, OddAccessesIgnored) {
  set_priority(1, 3);
  enable(0, 1);
  plic.set_irq(1, true);
  u8 data[8];
  for (u32 len : {1u, 2u, 8u}) {
    std::memset(data, 0xaa, sizeof(data));
    plic.mmio_read(claim_reg(0), data, len);
    for (u32 i = 0; i < len; ++i) EXPECT_EQ(data[i], 0) << len;
    std::memset(data, 0xff, sizeof(data));
    plic.mmio_write(priority_reg(1), data, len);
    plic.mmio_write(threshold_reg(0), data, len);
  }
  // Misaligned, reserved and out-of-range offsets.
  EXPECT_EQ(read32(plic, claim_reg(0) + 2), 0u);
  EXPECT_EQ(read32(plic, threshold_reg(0) + 8), 0u);
  EXPECT_EQ(read32(plic, Plic::kSize), 0u);
  EXPECT_EQ(read32(plic, ~0ull - 3), 0u);
  EXPECT_EQ(read32(plic, threshold_reg(5)), 0u);
  EXPECT_EQ(read32(plic, claim_reg(5)), 0u);
  write32(plic, claim_reg(0) + 2, 1);
  write32(plic, Plic::kSize + 4, 1);
  write32(plic, ~0ull - 3, 1);
  write32(plic, threshold_reg(9), 1);
  // Nothing above claimed or changed anything.
  EXPECT_EQ(read32(plic, priority_reg(1)), 3u);
  EXPECT_EQ(read32(plic, threshold_reg(0)), 0u);
  EXPECT_TRUE(pending(1));
  EXPECT_EQ(claim(0), 1u);
}

TEST(PlicConstruction, ContextCountIsClamped) {
  Plic none(0, {});
  EXPECT_EQ(none.num_contexts(), 1u);
  Plic many(100000, {});
  EXPECT_EQ(many.num_contexts(), Plic::kMaxContexts);
  // No callback: still works.
  write32(none, priority_reg(1), 1);
  write32(none, enable_reg(0, 0), 2);
  none.set_irq(1, true);
  EXPECT_TRUE(none.context_output(0));
  EXPECT_EQ(read32(none, claim_reg(0)), 1u);
}

TEST(PlicIrqLine, DrivesSource) {
  Plic plic(1, {});
  write32(plic, priority_reg(11), 1);
  write32(plic, enable_reg(0, 0), 1u << 11);
  IrqLine line = plic.irq_line(11);
  EXPECT_EQ(line.number(), 11u);
  line.set(true);
  EXPECT_EQ(read32(plic, claim_reg(0)), 11u);
}

// Several device threads toggle their lines while two "harts" claim and complete: every raise
// must be delivered (no lost interrupt), and the callback's view must match the PLIC's.
TEST(PlicStress, ConcurrentSetIrqLosesNothing) {
  constexpr u32 kThreads = 6;
  constexpr u32 kRaises = 2000;
  constexpr u32 kHarts = 2;
  std::atomic<bool> output[kHarts] = {false, false};
  std::atomic<int> bad_callbacks{0};
  Plic plic(kHarts, [&](u32 ctx, bool level) {
    // Only changes are notified, so each call flips the state.
    if (output[ctx].exchange(level) == level) bad_callbacks++;
  });
  for (u32 t = 0; t < kThreads; ++t) {
    const u32 source = 1 + t * 15;  // spread over the three words
    write32(plic, priority_reg(source), 1 + t % 7);
    const u32 ctx = t % kHarts;
    const u64 reg = enable_reg(ctx, source / 32);
    write32(plic, reg, read32(plic, reg) | (1u << (source % 32)));
  }
  // Per source: raised by its device, acknowledged by the hart's handler.
  std::atomic<u32> acked[kThreads] = {};
  std::atomic<bool> done{false};
  std::vector<std::thread> devices, harts;
  for (u32 t = 0; t < kThreads; ++t) {
    devices.emplace_back([&, t] {
      const u32 source = 1 + t * 15;
      for (u32 i = 0; i < kRaises; ++i) {
        plic.set_irq(source, true);
        // Like a device, keep the line up until the guest has serviced this event.
        while (acked[t].load() <= i) std::this_thread::yield();
      }
    });
  }
  std::atomic<u32> claimed_total{0};
  for (u32 h = 0; h < kHarts; ++h) {
    harts.emplace_back([&, h] {
      while (!done.load()) {
        const u32 source = read32(plic, claim_reg(h));
        if (source == 0) {
          std::this_thread::yield();
          continue;
        }
        const u32 t = (source - 1) / 15;
        // The handler services the device (which lowers its line) and then completes.
        plic.set_irq(source, false);
        acked[t]++;
        claimed_total++;
        write32(plic, claim_reg(h), source);
      }
    });
  }
  for (auto& d : devices) d.join();
  done = true;
  for (auto& h : harts) h.join();
  EXPECT_EQ(claimed_total.load(), kThreads * kRaises);
  EXPECT_EQ(bad_callbacks.load(), 0);
  for (u32 h = 0; h < kHarts; ++h) {
    EXPECT_FALSE(output[h].load());
    EXPECT_EQ(plic.context_output(h), output[h].load());
  }
}

// ---------------------------------------------------------------------------------------------
// Goldfish RTC

struct FakeIrq {
  std::mutex mu;
  bool level = false;
  int changes = 0;
  IrqLine line() {
    return IrqLine(
        [this](u32, bool l) {
          std::lock_guard lock(mu);
          if (l != level) changes++;
          level = l;
        },
        11);
  }
};

struct FakeScheduler {
  std::vector<std::pair<std::chrono::nanoseconds, std::function<void()>>> timers;
  GoldfishRtc::ScheduleFn fn() {
    return [this](std::chrono::nanoseconds d, std::function<void()> cb) { timers.emplace_back(d, std::move(cb)); };
  }
  void run_all() {
    auto t = std::exchange(timers, {});
    for (auto& [d, cb] : t) cb();
  }
};

TEST(GoldfishRtc, TimeIsCloseToHostRealtime) {
  FakeIrq irq;
  GoldfishRtc rtc(irq.line());
  const u64 before = GoldfishRtc::host_realtime_ns();
  const u64 lo = read32(rtc, GoldfishRtc::kTimeLow);
  const u64 hi = read32(rtc, GoldfishRtc::kTimeHigh);
  const u64 after = GoldfishRtc::host_realtime_ns();
  const u64 t = (hi << 32) | lo;
  EXPECT_GE(t, before);
  EXPECT_LE(t, after);
  const auto sys = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LT(std::llabs(static_cast<long long>(t) - static_cast<long long>(sys)), 1'000'000'000ll);
}

TEST(GoldfishRtc, TimeLowLatchesHigh) {
  FakeIrq irq;
  u64 clock = 0x1'ffff'fff0ull;
  GoldfishRtc rtc(irq.line(), {}, [&] { return clock; });
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeLow), 0xfffffff0u);
  clock = 0x2'0000'0010ull;  // the high half changes between the two reads
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeHigh), 1u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeHigh), 1u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeLow), 0x10u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeHigh), 2u);
}

TEST(GoldfishRtc, GuestSetsTheTime) {
  FakeIrq irq;
  u64 clock = 1000;
  GoldfishRtc rtc(irq.line(), {}, [&] { return clock; });
  write32(rtc, GoldfishRtc::kTimeHigh, 0x12);
  write32(rtc, GoldfishRtc::kTimeLow, 0x34);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeLow), 0x34u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeHigh), 0x12u);
  clock += 5;
  EXPECT_EQ(read32(rtc, GoldfishRtc::kTimeLow), 0x39u);
}

TEST(GoldfishRtc, AlarmInThePastFiresAtOnce) {
  FakeIrq irq;
  u64 clock = 5'000'000'000ull;
  GoldfishRtc rtc(irq.line(), {}, [&] { return clock; });
  // As Linux sets an alarm: high, low (arms), then enable the interrupt.
  write32(rtc, GoldfishRtc::kAlarmHigh, 0);
  write32(rtc, GoldfishRtc::kAlarmLow, 1'000'000'000u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmStatus), 0u);  // already fired
  EXPECT_FALSE(irq.level);  // interrupt not enabled yet
  write32(rtc, GoldfishRtc::kIrqEnabled, 1);
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kIrqEnabled), 1u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmLow), 1'000'000'000u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmHigh), 0u);
  write32(rtc, GoldfishRtc::kClearInterrupt, 1);
  EXPECT_FALSE(irq.level);
  EXPECT_EQ(irq.changes, 2);
}

TEST(GoldfishRtc, AlarmWithRealClockInThePast) {
  FakeIrq irq;
  GoldfishRtc rtc(irq.line());
  write32(rtc, GoldfishRtc::kIrqEnabled, 1);
  write32(rtc, GoldfishRtc::kAlarmHigh, 0);
  write32(rtc, GoldfishRtc::kAlarmLow, 1);
  EXPECT_TRUE(irq.level);
  write32(rtc, GoldfishRtc::kClearInterrupt, 1);
  EXPECT_FALSE(irq.level);
}

TEST(GoldfishRtc, FutureAlarmFiresWhenDueAndCanBeCleared) {
  FakeIrq irq;
  u64 clock = 100'000'000'000ull;
  GoldfishRtc rtc(irq.line(), {}, [&] { return clock; });
  write32(rtc, GoldfishRtc::kIrqEnabled, 1);
  const u64 alarm = clock + 2'000'000'000ull;
  write32(rtc, GoldfishRtc::kAlarmHigh, static_cast<u32>(alarm >> 32));
  write32(rtc, GoldfishRtc::kAlarmLow, static_cast<u32>(alarm));
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmStatus), 1u);
  EXPECT_FALSE(irq.level);
  clock = alarm - 1;
  rtc.poll();
  EXPECT_FALSE(irq.level);
  clock = alarm;
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmStatus), 0u);  // noticed on the access
  EXPECT_TRUE(irq.level);
  write32(rtc, GoldfishRtc::kClearInterrupt, 1);
  EXPECT_FALSE(irq.level);

  // CLEAR_ALARM disarms.
  write32(rtc, GoldfishRtc::kAlarmLow, static_cast<u32>(alarm + 1000));
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmStatus), 1u);
  write32(rtc, GoldfishRtc::kClearAlarm, 1);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmStatus), 0u);
  clock = alarm + 5000;
  rtc.poll();
  EXPECT_FALSE(irq.level);
}

TEST(GoldfishRtc, DisablingTheInterruptLowersTheLine) {
  FakeIrq irq;
  u64 clock = 10;
  GoldfishRtc rtc(irq.line(), {}, [&] { return clock; });
  write32(rtc, GoldfishRtc::kAlarmLow, 5);
  write32(rtc, GoldfishRtc::kIrqEnabled, 1);
  EXPECT_TRUE(irq.level);
  write32(rtc, GoldfishRtc::kIrqEnabled, 0);
  EXPECT_FALSE(irq.level);
  write32(rtc, GoldfishRtc::kIrqEnabled, 1);
  EXPECT_TRUE(irq.level);
}

TEST(GoldfishRtc, ScheduledWakeupFiresTheAlarm) {
  FakeIrq irq;
  FakeScheduler sched;
  u64 clock = 1'000'000'000'000ull;
  GoldfishRtc rtc(irq.line(), sched.fn(), [&] { return clock; });
  write32(rtc, GoldfishRtc::kIrqEnabled, 1);
  const u64 alarm = clock + 2'500'000'000ull;  // 2.5 s: more than one wake-up away
  write32(rtc, GoldfishRtc::kAlarmHigh, static_cast<u32>(alarm >> 32));
  write32(rtc, GoldfishRtc::kAlarmLow, static_cast<u32>(alarm));
  ASSERT_EQ(sched.timers.size(), 1u);
  EXPECT_LE(sched.timers[0].first.count(), 1'000'000'000);
  // More accesses while the wake-up is in flight do not schedule more.
  for (int i = 0; i < 100; ++i) (void)read32(rtc, GoldfishRtc::kAlarmStatus);
  write32(rtc, GoldfishRtc::kAlarmLow, static_cast<u32>(alarm));
  EXPECT_EQ(sched.timers.size(), 1u);
  int wakeups = 0;
  while (!irq.level && wakeups < 10) {
    ASSERT_EQ(sched.timers.size(), 1u);
    clock += static_cast<u64>(sched.timers[0].first.count());
    sched.run_all();
    wakeups++;
  }
  EXPECT_TRUE(irq.level);
  EXPECT_EQ(wakeups, 3);
  EXPECT_GE(clock, alarm);
  EXPECT_TRUE(sched.timers.empty());
}

// Real clock, wake-ups on other threads (as the event loop would run them).
TEST(GoldfishRtc, AlarmFiresFromAnotherThread) {
  FakeIrq irq;
  std::mutex threads_mu;
  std::vector<std::thread> threads;
  auto schedule = [&](std::chrono::nanoseconds d, std::function<void()> cb) {
    std::lock_guard lock(threads_mu);
    threads.emplace_back([d, cb = std::move(cb)] {
      std::this_thread::sleep_for(d);
      cb();
    });
  };
  {
    GoldfishRtc rtc(irq.line(), schedule);
    write32(rtc, GoldfishRtc::kIrqEnabled, 1);
    const u64 alarm = GoldfishRtc::host_realtime_ns() + 20'000'000;  // 20 ms
    write32(rtc, GoldfishRtc::kAlarmHigh, static_cast<u32>(alarm >> 32));
    write32(rtc, GoldfishRtc::kAlarmLow, static_cast<u32>(alarm));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool fired = false;
    while (!fired && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::lock_guard lock(irq.mu);
      fired = irq.level;
    }
    EXPECT_TRUE(fired);
    EXPECT_GE(GoldfishRtc::host_realtime_ns(), alarm);
    // The wake-up callbacks must be over before the RTC goes away.
    for (;;) {
      std::thread t;
      {
        std::lock_guard lock(threads_mu);
        if (threads.empty()) break;
        t = std::move(threads.back());
        threads.pop_back();
      }
      t.join();
    }
  }
}

TEST(GoldfishRtc, RearmingEarlierBoundsWakeups) {
  FakeIrq irq;
  FakeScheduler sched;
  u64 clock = 1'000'000'000'000ull;
  GoldfishRtc rtc(irq.line(), sched.fn(), [&] { return clock; });
  // A guest moving the alarm ever earlier, 1 us at a time.
  for (u64 i = 0; i < 100000; ++i) {
    const u64 alarm = clock + 3'000'000'000ull - i * 1000;
    write32(rtc, GoldfishRtc::kAlarmHigh, static_cast<u32>(alarm >> 32));
    write32(rtc, GoldfishRtc::kAlarmLow, static_cast<u32>(alarm));
  }
  EXPECT_LE(sched.timers.size(), 1001u);
}

TEST(GoldfishRtc, OddAccessesIgnored) {
  FakeIrq irq;
  GoldfishRtc rtc(irq.line());
  u8 data[8];
  std::memset(data, 0xaa, sizeof(data));
  rtc.mmio_read(GoldfishRtc::kTimeLow, data, 8);
  for (u8 b : data) EXPECT_EQ(b, 0);
  std::memset(data, 0xff, sizeof(data));
  rtc.mmio_write(GoldfishRtc::kIrqEnabled, data, 2);
  rtc.mmio_write(GoldfishRtc::kIrqEnabled, data, 1);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kIrqEnabled), 0u);
  EXPECT_EQ(read32(rtc, 0x20), 0u);
  EXPECT_EQ(read32(rtc, 0x2), 0u);
  EXPECT_EQ(read32(rtc, GoldfishRtc::kSize), 0u);
  write32(rtc, 0x2, 1);
  write32(rtc, GoldfishRtc::kSize + 0x10, 1);
  write32(rtc, GoldfishRtc::kAlarmStatus, 1);  // read-only
  EXPECT_EQ(read32(rtc, GoldfishRtc::kAlarmStatus), 0u);
  EXPECT_EQ(irq.changes, 0);
}

// ---------------------------------------------------------------------------------------------
// SiFive test / syscon

struct SysconRecorder {
  std::vector<std::pair<SysconEvent, u32>> events;
  Syscon::EventFn fn() {
    return [this](SysconEvent e, u32 code) { events.emplace_back(e, code); };
  }
};

TEST(Syscon, Commands) {
  SysconRecorder rec;
  Syscon syscon(rec.fn());
  write32(syscon, 0, 0x5555);
  write32(syscon, 0, 0x7777);
  write32(syscon, 0, (42u << 16) | 0x3333);
  write32(syscon, 0, 0x3333);
  using E = std::vector<std::pair<SysconEvent, u32>>;
  EXPECT_EQ(rec.events, (E{{SysconEvent::kPoweroff, 0}, {SysconEvent::kReboot, 0},
                           {SysconEvent::kFail, 42}, {SysconEvent::kFail, 0}}));
}

TEST(Syscon, IgnoredWrites) {
  SysconRecorder rec;
  Syscon syscon(rec.fn());
  write32(syscon, 0, 0);
  write32(syscon, 0, 0x1234);
  write32(syscon, 0, 0x5556);
  write32(syscon, 4, 0x5555);       // wrong offset
  write32(syscon, 0x1000, 0x5555);  // outside
  u8 data[8] = {0x55, 0x55, 0, 0, 0, 0, 0, 0};
  syscon.mmio_write(0, data, 2);  // wrong widths
  syscon.mmio_write(0, data, 8);
  syscon.mmio_write(0, data, 1);
  EXPECT_TRUE(rec.events.empty());
  EXPECT_EQ(read32(syscon, 0), 0u);
  Syscon silent({});
  write32(silent, 0, 0x5555);  // no callback: no crash
}

TEST(Syscon, RegmapReadModifyWrite) {
  // Linux's syscon-poweroff updates bits under a mask: read, merge, write.
  SysconRecorder rec;
  Syscon syscon(rec.fn());
  const u32 old = read32(syscon, 0);
  const u32 mask = 0xffffffff;
  write32(syscon, 0, (old & ~mask) | (0x5555 & mask));
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].first, SysconEvent::kPoweroff);
}

}  // namespace
}  // namespace rvkvm::vmm
