#include "hart/machine.h"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace rvkvm {
namespace {
constexpr u64 kClintBase = 0x0200'0000, kClintSize = 0x10000;
constexpr u64 kUartBase = 0x1000'0000, kUartSize = 0x100;
constexpr u64 kFinisherBase = 0x0010'0000, kFinisherSize = 0x1000;
constexpr u64 kSlice = 1u << 13;  // also how often HTIF's tohost is polled
constexpr u64 kSysWrite = 64;
}  // namespace

// CLINT layout (SiFive): msip at 0, mtimecmp at 0x4000, mtime at 0xbff8.
class SimMachine::Clint final : public MmioDevice {
 public:
  explicit Clint(Hart& h) : m_hart(h) {}
  bool mmio_read(u64 off, unsigned size, u64& v) override {
    if (off < 4) {
      v = (m_msip ? 1 : 0);
      return true;
    }
    if (off >= 0x4000 && off + size <= 0x4008) return read_part(m_hart.mtimecmp(), off - 0x4000, size, v);
    if (off >= 0xbff8 && off + size <= 0xc000) return read_part(m_hart.time_now(), off - 0xbff8, size, v);
    v = 0;
    return true;
  }
  bool mmio_write(u64 off, unsigned size, u64 v) override {
    if (off < 4) {
      m_msip = v & 1;
      m_hart.set_irq_line(irq::MSIP, m_msip);
      return true;
    }
    if (off >= 0x4000 && off + size <= 0x4008) {
      m_hart.set_mtimecmp(write_part(m_hart.mtimecmp(), off - 0x4000, size, v));
      return true;
    }
    if (off >= 0xbff8 && off + size <= 0xc000) {
      u64 now = m_hart.time_now();
      u64 want = write_part(now, off - 0xbff8, size, v);
      if (want > now) m_hart.advance_time_to(want);  // time only moves forward
      return true;
    }
    return true;
  }

 private:
  static bool read_part(u64 reg, u64 off, unsigned size, u64& v) {
    v = (reg >> (8 * off)) & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
    return true;
  }
  static u64 write_part(u64 reg, u64 off, unsigned size, u64 v) {
    u64 mask = (size == 8 ? ~0ull : (1ull << (8 * size)) - 1) << (8 * off);
    return (reg & ~mask) | ((v << (8 * off)) & mask);
  }
  Hart& m_hart;
  bool m_msip = false;
};

class SimMachine::UartDevice final : public MmioDevice {
 public:
  explicit UartDevice(std::FILE* out)
      : m_uart([out](u8 c) { std::fputc(c, out); if (c == '\n') std::fflush(out); }, nullptr) {}
  bool mmio_read(u64 off, unsigned size, u64& v) override {
    poll_stdin();
    v = m_uart.read(off);
    return true;
  }
  bool mmio_write(u64 off, unsigned size, u64 v) override {
    m_uart.write(off, static_cast<u8>(v));
    return true;
  }

 private:
  void poll_stdin() {
    if (m_stdin_done || !m_uart.rx_has_room()) return;
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) return;
    u8 c;
    if (::read(0, &c, 1) == 1)
      m_uart.receive(c);
    else
      m_stdin_done = true;
  }
  Uart16550 m_uart;
  bool m_stdin_done = false;
};

// SiFive test device: 0x5555 pass, (code << 16) | 0x3333 fail, 0x7777 reset.
class SimMachine::Finisher final : public MmioDevice {
 public:
  explicit Finisher(SimMachine& m) : m_machine(m) {}
  bool mmio_read(u64, unsigned, u64& v) override {
    v = 0;
    return true;
  }
  bool mmio_write(u64 off, unsigned size, u64 v) override {
    if (off != 0) return true;
    switch (v & 0xffff) {
      case 0x5555: m_machine.finish(SimOutcome::pass, 0, "finisher: pass"); break;
      case 0x3333: m_machine.finish(SimOutcome::fail, (v >> 16) & 0xffff, "finisher: fail"); break;
      case 0x7777: m_machine.finish(SimOutcome::pass, 0, "finisher: reset requested"); break;
      default: break;
    }
    return true;
  }

 private:
  SimMachine& m_machine;
};

SimMachine::SimMachine(const SimConfig& cfg) : m_cfg(cfg), m_ram(cfg.ram_size) {
  if (!m_ram) throw std::bad_alloc();
  m_bus.add_ram(cfg.ram_base, cfg.ram_size, m_ram.data());
  HartConfig hc;
  hc.clock = cfg.clock;
  m_hart = std::make_unique<Hart>(m_bus, hc);
  m_clint = std::make_unique<Clint>(*m_hart);
  m_uart = std::make_unique<UartDevice>(cfg.console);
  m_finisher = std::make_unique<Finisher>(*this);
  m_bus.add_device(kClintBase, kClintSize, m_clint.get());
  m_bus.add_device(kUartBase, kUartSize, m_uart.get());
  m_bus.add_device(kFinisherBase, kFinisherSize, m_finisher.get());
  m_hart->set_trace(cfg.trace);
}

SimMachine::~SimMachine() = default;

void SimMachine::finish(SimOutcome o, u64 code, std::string msg) {
  if (m_result) return;
  SimResult r;
  r.outcome = o;
  r.code = code;
  r.message = std::move(msg);
  m_result = r;
}

bool SimMachine::load_elf(const ElfImage& img, std::string& error) {
  for (const auto& seg : img.segments) {
    u8* p = m_bus.ram_ptr(seg.paddr, seg.memsz);
    if (!p) {
      error = "segment at " + std::to_string(seg.paddr) + " is outside RAM";
      return false;
    }
    std::memcpy(p, seg.data.data(), seg.data.size());
    std::memset(p + seg.data.size(), 0, seg.memsz - seg.data.size());
  }
  m_tohost = img.symbol("tohost");
  m_fromhost = img.symbol("fromhost");
  m_hart->reset(img.entry);
  return true;
}

// Spike's HTIF protocol: device in bits 63:56, command in 55:48, payload below.
bool SimMachine::poll_htif() {
  if (!m_tohost) return false;
  u8* tp = m_bus.ram_ptr(*m_tohost, 8);
  if (!tp) return false;
  u64 v;
  std::memcpy(&v, tp, 8);
  if (v == 0) return false;
  u64 zero = 0;
  std::memcpy(tp, &zero, 8);
  u64 device = v >> 56, cmd = (v >> 48) & 0xff, payload = v & ((1ull << 48) - 1);
  u64 reply = 0;
  if (device == 0 && cmd == 0) {
    if (payload & 1) {
      u64 code = payload >> 1;
      finish(code == 0 ? SimOutcome::pass : SimOutcome::fail, code, code == 0 ? "htif: pass" : "htif: fail");
      return true;
    }
    // A pointer to magic_mem: syscall number and arguments; the result goes back in word 0.
    u64 mm[8] = {};
    if (!m_bus.read_bytes(payload, mm, sizeof(mm))) {
      finish(SimOutcome::error, 0, "htif: bad syscall block address");
      return true;
    }
    i64 ret = -38;  // ENOSYS
    if (mm[0] == kSysWrite && (mm[1] == 1 || mm[1] == 2)) {
      const u8* buf = m_bus.ram_ptr(mm[2], mm[3]);
      if (buf) {
        std::FILE* out = mm[1] == 1 ? m_cfg.console : stderr;
        std::fwrite(buf, 1, mm[3], out);
        std::fflush(out);
        ret = static_cast<i64>(mm[3]);
      } else {
        ret = -14;  // EFAULT
      }
    }
    u64 r = static_cast<u64>(ret);
    (void)m_bus.write_bytes(payload, &r, 8);
    reply = 1;
  } else if (device == 1 && cmd == 1) {
    std::fputc(static_cast<int>(payload & 0xff), m_cfg.console);
    if ((payload & 0xff) == '\n') std::fflush(m_cfg.console);
    reply = (1ull << 56) | (1ull << 48);
  } else {
    return false;
  }
  if (m_fromhost) (void)m_bus.write_bytes(*m_fromhost, &reply, 8);
  return true;
}

SimResult SimMachine::run() {
  auto start = std::chrono::steady_clock::now();
  Hart& h = *m_hart;
  u64 start_insns = h.instret();
  while (!m_result) {
    u64 slice = kSlice;
    if (m_cfg.max_insns) {
      u64 done = h.instret() - start_insns;
      if (done >= m_cfg.max_insns) {
        finish(SimOutcome::timeout, 0, "instruction limit reached");
        break;
      }
      slice = std::min(slice, m_cfg.max_insns - done);
    }
    StopReason r = h.run(slice);
    poll_htif();
    if (m_result) break;
    if (r == StopReason::wfi) {
      u64 deadline = h.next_timer_deadline();
      if (h.wfi_wakeup_pending()) continue;
      if (deadline == ~0ull) {
        // One hart, no interrupt controller: nothing armed can ever wake it.
        finish(SimOutcome::error, 0, "WFI with no enabled interrupt source: the program would hang");
        break;
      }
      if (m_cfg.clock == ClockKind::instret) {
        h.advance_time_to(deadline);
      } else {
        u64 now = h.time_now();
        if (deadline > now)
          std::this_thread::sleep_for(std::chrono::microseconds(std::min<u64>((deadline - now) / 10, 10000)));
      }
    }
  }
  SimResult res = *m_result;
  res.instructions = h.instret() - start_insns;
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fflush(m_cfg.console);
  return res;
}

}  // namespace rvkvm
