#include "vmm/vmm.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fmt/format.h>

#include "common/log.h"
#include "common/uart16550.h"
#include "hyp/api/riscv_regs.h"
#include "vmm/fdt.h"
#include "vmm/loader.h"
#include "vmm/net_slirp.h"
#include "vmm/plic.h"
#include "vmm/rtc.h"
#include "vmm/syscon.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_console.h"
#include "vmm/virtio/virtio_mmio.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/virtio/virtio_rng.h"

namespace rvkvm::vmm {
namespace {

using namespace rvkvm::hyp;

WarnCounter g_warn_mmio{"unhandled MMIO"};
WarnCounter g_warn_sbi{"unimplemented SBI call"};

constexpr u64 SBI_EXT_0_1_CONSOLE_PUTCHAR = 0x1, SBI_EXT_0_1_CONSOLE_GETCHAR = 0x2;
constexpr u64 SBI_EXT_DBCN = 0x4442434E;
constexpr u64 SBI_EXT_DBCN_CONSOLE_WRITE = 0, SBI_EXT_DBCN_CONSOLE_READ = 1, SBI_EXT_DBCN_CONSOLE_WRITE_BYTE = 2;
constexpr i64 SBI_SUCCESS = 0, SBI_ERR_FAILED = -1, SBI_ERR_INVALID_PARAM = -3;
constexpr u8 kCtrlA = 0x01;

// The UART as an MMIO device: byte-wide registers.
class UartDevice final : public MmioDevice {
 public:
  UartDevice(Uart16550::TxFn tx, IrqLine irq)
      : m_uart(std::move(tx), [irq](bool level) { irq.set(level); }) {}
  void mmio_read(u64 offset, u8* data, u32 len) override {
    std::memset(data, 0, len);
    data[0] = m_uart.read(offset);
  }
  void mmio_write(u64 offset, const u8* data, u32 len) override { m_uart.write(offset, data[0]); }
  Uart16550& uart() { return m_uart; }

 private:
  Uart16550 m_uart;
};

u64 one_reg_core(unsigned idx) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CORE, 0, idx); }

}  // namespace

struct Vmm::Impl {
  Plic* plic = nullptr;
  UartDevice* uart = nullptr;
  virtio::VirtioConsole* vconsole = nullptr;
  virtio::VirtioNet* net = nullptr;
  std::unique_ptr<SlirpNet> slirp;
  // Input for the SBI console (legacy getchar, DBCN read).
  std::mutex input_mu;
  std::vector<u8> sbi_input;
  // The terminal, when stdin is one: raw mode while the guest runs.
  bool tty = false;
  termios saved{};
  bool saw_ctrl_a = false;
  // Serial input that arrived before the guest's driver enabled receive interrupts (a driver
  // that starts up clears the FIFO, so early bytes would be lost). Event-loop thread only.
  std::vector<u8> serial_backlog;
  bool backlog_timer = false;
};

Vmm::Vmm(VmmConfig cfg) : m_cfg(std::move(cfg)), m_impl(std::make_unique<Impl>()) {}

Vmm::~Vmm() {
  request_stop(m_exit_code.load());
  for (auto& t : m_threads)
    if (t.joinable()) t.join();
  m_loop.stop();
  if (m_impl->tty) tcsetattr(0, TCSAFLUSH, &m_impl->saved);
}

void Vmm::add_region(u64 base, u64 size, MmioDevice* dev) { m_regions.push_back({base, size, dev}); }

void Vmm::set_irq(u32 source, bool level) {
  if (m_impl->plic) m_impl->plic->set_irq(source, level);
}

bool Vmm::setup(std::string& error) {
  if (m_cfg.cpus == 0 || m_cfg.cpus > 32) {
    error = "--cpus must be between 1 and 32";
    return false;
  }
  if (m_cfg.memory < (64ull << 20) || (m_cfg.memory & 0xfffff)) {
    error = "--memory must be at least 64M and a multiple of 1M";
    return false;
  }
  m_hv = create_emulated_hypervisor();
  VmConfig vc;
  vc.gstage_mode = m_cfg.gstage_mode;
  vc.huge_pages = m_cfg.huge_pages;
  if (int rc = m_hv->create_vm(vc, m_vm); rc) {
    error = fmt::format("cannot create the VM ({})", rc);
    return false;
  }
  // Guest RAM, aligned so 1 GiB G-stage mappings are possible: reserve extra and align.
  m_ram = HostMemory(m_cfg.memory + (1ull << 30));
  if (!m_ram) {
    error = "cannot reserve guest memory";
    return false;
  }
  u8* ram = reinterpret_cast<u8*>((reinterpret_cast<u64>(m_ram.data()) + (1ull << 30) - 1) & ~((1ull << 30) - 1));
  m_mem = GuestMemory(ram, kRamBase, m_cfg.memory);
  if (int rc = m_vm->set_user_memory_region({0, 0, kRamBase, m_cfg.memory, ram}); rc) {
    error = fmt::format("cannot map guest memory ({})", rc);
    return false;
  }

  BootLayout layout;
  if (!load_guest(m_mem, m_cfg.kernel, m_cfg.initrd, layout, error)) return false;

  for (unsigned i = 0; i < m_cfg.cpus; ++i) {
    Vcpu* v = nullptr;
    if (int rc = m_vm->create_vcpu(i, v); rc) {
      error = fmt::format("cannot create vcpu {} ({})", i, rc);
      return false;
    }
    // The VMM implements the SBI debug console, so the guest may use it.
    u64 on = 1;
    (void)v->set_one_reg(riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE,
                                      KVM_RISCV_SBI_EXT_DBCN),
                         &on);
    m_vcpus.push_back(v);
  }

  // Devices.
  auto plic = std::make_unique<Plic>(m_cfg.cpus, [this](u32 context, bool level) {
    if (context < m_vcpus.size()) (void)m_vcpus[context]->interrupt(level ? KVM_INTERRUPT_SET : KVM_INTERRUPT_UNSET);
  });
  m_impl->plic = plic.get();
  add_region(kPlicBase, Plic::kSize, plic.get());
  m_devices.push_back(std::move(plic));

  auto irq_fn = [this](u32 irq, bool level) { set_irq(irq, level); };
  auto uart = std::make_unique<UartDevice>([this](u8 c) { console_output(&c, 1); }, IrqLine(irq_fn, kUartIrq));
  m_impl->uart = uart.get();
  add_region(kUartBase, kUartSize, uart.get());
  m_devices.push_back(std::move(uart));

  auto rtc = std::make_unique<GoldfishRtc>(
      IrqLine(irq_fn, kRtcIrq), [this](std::chrono::nanoseconds d, std::function<void()> cb) { m_loop.call_after(d, std::move(cb)); });
  add_region(kRtcBase, kRtcSize, rtc.get());
  m_devices.push_back(std::move(rtc));

  auto syscon = std::make_unique<Syscon>([this](SysconEvent ev, u32 code) {
    switch (ev) {
      case SysconEvent::kPoweroff: request_stop(0); break;
      case SysconEvent::kReboot: request_stop(0); break;
      case SysconEvent::kFail: request_stop(code ? static_cast<int>(std::min<u32>(code, 255)) : 1); break;
    }
  });
  add_region(kSysconBase, kSysconSize, syscon.get());
  m_devices.push_back(std::move(syscon));

  // virtio-mmio slots: disks, then the console, the entropy source and the network.
  std::vector<FdtDevice> virtio_nodes;
  unsigned slot = 0;
  auto add_virtio = [&](std::unique_ptr<virtio::VirtioDevice> dev) -> bool {
    if (slot >= kVirtioSlots) {
      error = "too many virtio devices (8 slots)";
      return false;
    }
    u64 base = kVirtioBase + slot * kVirtioStride;
    u32 irq = 1 + slot;
    auto mmio = std::make_unique<virtio::VirtioMmio>(std::move(dev), m_mem, IrqLine(irq_fn, irq));
    add_region(base, kVirtioStride, mmio.get());
    m_devices.push_back(std::move(mmio));
    virtio_nodes.push_back({fmt::format("virtio_mmio@{:x}", base), {"virtio,mmio"}, base, kVirtioStride, irq, {}});
    ++slot;
    return true;
  };
  for (const DiskSpec& d : m_cfg.disks) {
    std::string err;
    auto blk = virtio::VirtioBlk::open({.path = d.path, .read_only = d.read_only, .serial = ""}, err);
    if (!blk) {
      error = fmt::format("--disk {}: {}", d.path, err);
      return false;
    }
    if (!add_virtio(std::move(blk))) return false;
  }
  if (m_cfg.console == ConsoleKind::virtio) {
    auto con = std::make_unique<virtio::VirtioConsole>([this](const u8* p, size_t n) { console_output(p, n); });
    m_impl->vconsole = con.get();
    if (!add_virtio(std::move(con))) return false;
  }
  if (!add_virtio(std::make_unique<virtio::VirtioRng>())) return false;
  if (m_cfg.net) {
    // QEMU's locally administered 52:54:00:12:34:56, as slirp users expect.
    std::array<u8, 6> mac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    m_impl->slirp = std::make_unique<SlirpNet>(m_loop, [this](const u8* f, size_t n) {
      if (m_impl->net) m_impl->net->receive(f, n);
    });
    auto net = std::make_unique<virtio::VirtioNet>(mac, [this](const u8* f, size_t n) {
      if (m_impl->slirp) m_impl->slirp->from_guest(f, n);
    });
    m_impl->net = net.get();
    if (!add_virtio(std::move(net))) return false;
    if (!m_impl->slirp->start(m_cfg.hostfwds, error)) return false;
  }

  // Device tree.
  FdtConfig fc;
  fc.ram_base = kRamBase;
  fc.ram_size = m_cfg.memory;
  fc.cpus = m_cfg.cpus;
  fc.isa = "rv64imafdc_zicntr_zicsr_zifencei_zihintpause_zba_zbb_zbs_zicond_sstc_svinval_svnapot_svpbmt";
  fc.isa_extensions = {"i",      "m",        "a",          "f",   "d",   "c",   "zicntr", "zicsr", "zifencei",
                       "zihintpause", "zba", "zbb",        "zbs", "zicond", "sstc", "svinval", "svnapot", "svpbmt"};
  fc.mmu_type = m_cfg.gstage_mode == 8 ? "riscv,sv39" : m_cfg.gstage_mode == 9 ? "riscv,sv48" : "riscv,sv57";
  // serial: the 16550; virtio: virtio-console (hvc0); sbi: the SBI debug console, which carries
  // the kernel log as a kept boot console (and hvc0 if the kernel has CONFIG_HVC_RISCV_SBI).
  std::string default_args = m_cfg.console == ConsoleKind::serial   ? "console=ttyS0 earlycon=sbi"
                             : m_cfg.console == ConsoleKind::virtio ? "console=hvc0 earlycon=sbi"
                                                                    : "console=hvc0 earlycon=sbi keep_bootcon";
  fc.bootargs = m_cfg.append_given ? m_cfg.append : default_args;
  fc.stdout_path = m_cfg.console == ConsoleKind::serial ? fmt::format("/soc/serial@{:x}", kUartBase) : "";
  fc.initrd_start = layout.initrd_start;
  fc.initrd_end = layout.initrd_end;
  fc.plic_base = kPlicBase;
  fc.plic_size = Plic::kSize;
  fc.plic_sources = Plic::kNumSources;
  fc.syscon_base = kSysconBase;
  fc.syscon_size = kSysconSize;
  fc.devices.push_back({fmt::format("serial@{:x}", kUartBase), {"ns16550a"}, kUartBase, kUartSize, kUartIrq,
                        {{"clock-frequency", 3686400}}});
  fc.devices.push_back({fmt::format("rtc@{:x}", kRtcBase), {"google,goldfish-rtc"}, kRtcBase, kRtcSize, kRtcIrq, {}});
  for (auto& n : virtio_nodes) fc.devices.push_back(std::move(n));
  if (!build_fdt(fc, m_dtb, error)) return false;
  if (m_dtb.size() > kFdtMaxSize || !m_mem.write(layout.fdt_addr, m_dtb.data(), m_dtb.size())) {
    error = "the device tree does not fit";
    return false;
  }
  if (!m_cfg.dump_dtb.empty()) {
    std::FILE* f = std::fopen(m_cfg.dump_dtb.c_str(), "wb");
    if (!f || std::fwrite(m_dtb.data(), 1, m_dtb.size(), f) != m_dtb.size()) {
      error = "cannot write " + m_cfg.dump_dtb;
      if (f) std::fclose(f);
      return false;
    }
    std::fclose(f);
  }

  // Boot VCPU: pc = kernel entry, a0 = hartid, a1 = device tree (the others wait for HSM).
  Vcpu* boot = m_vcpus[0];
  u64 pc = layout.kernel_entry, a0 = 0, a1 = layout.fdt_addr;
  if (boot->set_one_reg(one_reg_core(KVM_REG_RISCV_CORE_pc), &pc) || boot->set_one_reg(one_reg_core(10), &a0) ||
      boot->set_one_reg(one_reg_core(11), &a1)) {
    error = "cannot set the boot registers";
    return false;
  }
  std::sort(m_regions.begin(), m_regions.end(), [](const Region& a, const Region& b) { return a.base < b.base; });
  return true;
}

// ---------------------------------------------------------------------------------------------
// Console

void Vmm::console_output(const u8* data, size_t len) {
  std::fwrite(data, 1, len, stdout);
  std::fflush(stdout);
}

void Vmm::console_input(u8 c) {
  // Ctrl-A x quits, as in QEMU; Ctrl-A Ctrl-A sends one Ctrl-A.
  if (m_impl->tty) {
    if (m_impl->saw_ctrl_a) {
      m_impl->saw_ctrl_a = false;
      if (c == 'x') {
        std::fputs("\r\nrvkvm: terminated by Ctrl-A x\r\n", stderr);
        request_stop(0);
        return;
      }
      if (c != kCtrlA) return;
    } else if (c == kCtrlA) {
      m_impl->saw_ctrl_a = true;
      return;
    }
  }
  switch (m_cfg.console) {
    case ConsoleKind::serial:
      if (m_impl->serial_backlog.size() < 65536) m_impl->serial_backlog.push_back(c);
      flush_serial_backlog();
      break;
    case ConsoleKind::virtio:
      if (m_impl->vconsole) m_impl->vconsole->push_input(&c, 1);
      break;
    case ConsoleKind::sbi: {
      std::lock_guard lock(m_impl->input_mu);
      if (m_impl->sbi_input.size() < 4096) m_impl->sbi_input.push_back(c);
      break;
    }
  }
}

void Vmm::flush_serial_backlog() {
  Impl& im = *m_impl;
  if (!im.uart) return;
  std::size_t n = 0;
  while (n < im.serial_backlog.size() && im.uart->uart().rx_ready()) im.uart->uart().receive(im.serial_backlog[n++]);
  im.serial_backlog.erase(im.serial_backlog.begin(), im.serial_backlog.begin() + static_cast<long>(n));
  if (!im.serial_backlog.empty() && !im.backlog_timer && !m_stop.load()) {
    im.backlog_timer = true;
    m_loop.call_after(std::chrono::milliseconds(20), [this] {
      m_impl->backlog_timer = false;
      flush_serial_backlog();
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Exits

void Vmm::handle_mmio(MmioExit& m) {
  auto it = std::upper_bound(m_regions.begin(), m_regions.end(), m.phys_addr,
                             [](u64 a, const Region& r) { return a < r.base; });
  if (it != m_regions.begin()) {
    const Region& r = *std::prev(it);
    if (m.phys_addr - r.base < r.size && m.len <= r.size - (m.phys_addr - r.base)) {
      if (m.is_write) r.dev->mmio_write(m.phys_addr - r.base, m.data, m.len);
      else r.dev->mmio_read(m.phys_addr - r.base, m.data, m.len);
      return;
    }
  }
  // Nothing there: reads return zero, writes vanish, as on a real bus with no device.
  ++m_unhandled_mmio;
  warn(g_warn_mmio, "guest {} {} bytes at {:#x}: no device", m.is_write ? "wrote" : "read", m.len, m.phys_addr);
  if (!m.is_write) std::memset(m.data, 0, sizeof(m.data));
}

void Vmm::handle_sbi(SbiExit& s) {
  switch (s.extension_id) {
    case SBI_EXT_0_1_CONSOLE_PUTCHAR: {
      u8 c = static_cast<u8>(s.args[0]);
      console_output(&c, 1);
      s.ret[0] = SBI_SUCCESS;
      return;
    }
    case SBI_EXT_0_1_CONSOLE_GETCHAR: {
      std::lock_guard lock(m_impl->input_mu);
      if (m_impl->sbi_input.empty()) {
        s.ret[0] = static_cast<u64>(-1);
      } else {
        s.ret[0] = m_impl->sbi_input.front();
        m_impl->sbi_input.erase(m_impl->sbi_input.begin());
      }
      return;
    }
    case SBI_EXT_DBCN: {
      // SBI 2.0 debug console: the buffer address is guest-physical (base_lo, base_hi).
      // A call may move fewer bytes than asked (SBI 2.0, DBCN): cap one call so that a guest
      // naming all of its RAM does not stall this VCPU in one giant write.
      constexpr u64 kMaxDbcnChunk = 64 * 1024;
      u64 n = std::min(s.args[0], kMaxDbcnChunk), addr = s.args[1] | (s.args[2] << 32);
      if (s.function_id == SBI_EXT_DBCN_CONSOLE_WRITE_BYTE) {
        u8 c = static_cast<u8>(s.args[0]);
        console_output(&c, 1);
        s.ret[0] = SBI_SUCCESS;
        s.ret[1] = 0;
      } else if (s.function_id == SBI_EXT_DBCN_CONSOLE_WRITE) {
        const u8* p = m_mem.ptr(addr, n);
        if (!p) {
          s.ret[0] = static_cast<u64>(SBI_ERR_INVALID_PARAM);
          return;
        }
        console_output(p, n);
        s.ret[0] = SBI_SUCCESS;
        s.ret[1] = n;
      } else if (s.function_id == SBI_EXT_DBCN_CONSOLE_READ) {
        u8* p = m_mem.ptr(addr, n);
        if (!p) {
          s.ret[0] = static_cast<u64>(SBI_ERR_INVALID_PARAM);
          return;
        }
        std::lock_guard lock(m_impl->input_mu);
        u64 k = std::min<u64>(n, m_impl->sbi_input.size());
        std::copy(m_impl->sbi_input.begin(), m_impl->sbi_input.begin() + static_cast<long>(k), p);
        m_impl->sbi_input.erase(m_impl->sbi_input.begin(), m_impl->sbi_input.begin() + static_cast<long>(k));
        s.ret[0] = SBI_SUCCESS;
        s.ret[1] = k;
      } else {
        s.ret[0] = static_cast<u64>(SBI_ERR_FAILED);
      }
      return;
    }
    default:
      // Leave ret[0] = SBI_ERR_NOT_SUPPORTED as the hypervisor preset it; the guest carries on.
      ++m_unhandled_sbi;
      warn(g_warn_sbi, "SBI extension {:#x} function {} is not implemented", s.extension_id, s.function_id);
      return;
  }
}

void Vmm::vcpu_thread(unsigned index) {
  Vcpu& v = *m_vcpus[index];
  while (!m_stop.load(std::memory_order_acquire)) {
    Exit& e = v.run();
    if (auto* m = std::get_if<MmioExit>(&e)) {
      ++m_exits.mmio;
      handle_mmio(*m);
    } else if (auto* s = std::get_if<SbiExit>(&e)) {
      ++m_exits.sbi;
      handle_sbi(*s);
    } else if (auto* c = std::get_if<CsrExit>(&e)) {
      // The entropy source CSR: KVM leaves it to user space; none here, as Linux expects then.
      ++m_exits.csr;
      c->ret_value = 0;
    } else if (auto* ev = std::get_if<SystemEventExit>(&e)) {
      ++m_exits.system_event;
      bool failure = ev->ndata > 0 && ev->data[0] == 1;  // SBI SRST reason "system failure"
      {
        std::lock_guard lock(m_exit_mu);
        if (m_exit_reason.empty())
          m_exit_reason = ev->type == KVM_SYSTEM_EVENT_SHUTDOWN ? "guest shutdown" : "guest reboot request";
      }
      request_stop(failure ? 1 : 0);
    } else if (std::get_if<IntrExit>(&e)) {
      ++m_exits.intr;
    } else {
      ++m_exits.other;
      std::lock_guard lock(m_exit_mu);
      if (m_exit_reason.empty()) m_exit_reason = fmt::format("vcpu {}: {}", index, exit_reason_name(exit_reason(e)));
      request_stop(2);
    }
  }
}

void Vmm::request_stop(int exit_code) {
  bool expected = false;
  if (!m_stop.compare_exchange_strong(expected, true)) return;
  m_exit_code.store(exit_code);
  for (Vcpu* v : m_vcpus) v->kick();
}

int Vmm::run() {
  // Raw terminal so the guest sees every key; Ctrl-A x leaves.
  if (isatty(0) && tcgetattr(0, &m_impl->saved) == 0) {
    termios raw = m_impl->saved;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;  // keep the host's newline handling for our own messages
    m_impl->tty = tcsetattr(0, TCSAFLUSH, &raw) == 0;
  }
  m_loop.add_fd(0, [this] {
    u8 buf[256];
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n <= 0) {
      m_loop.remove_fd(0);  // stdin closed (a pipe at EOF): the guest keeps running
      return;
    }
    for (ssize_t i = 0; i < n; ++i) console_input(buf[i]);
  });
  m_loop.start();
  auto t0 = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < m_vcpus.size(); ++i) m_threads.emplace_back([this, i] { vcpu_thread(i); });
  for (auto& t : m_threads) t.join();
  m_threads.clear();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (m_impl->slirp) m_impl->slirp->stop();
  m_loop.stop();
  m_impl->plic = nullptr;
  m_impl->uart = nullptr;
  m_impl->vconsole = nullptr;
  m_impl->net = nullptr;
  m_impl->slirp.reset();
  m_devices.clear();  // closes and flushes disks
  if (m_impl->tty) {
    tcsetattr(0, TCSAFLUSH, &m_impl->saved);
    m_impl->tty = false;
  }
  if (m_cfg.stats) {
    u64 insns = 0;
    for (Vcpu* v : m_vcpus) {
      for (const auto& [name, value] : v->stats())
        if (name == "instructions") insns += value;
    }
    fmt::print(stderr, "\nrvkvm: {} after {:.2f} s\n", m_exit_reason.empty() ? "stopped" : m_exit_reason, secs);
    fmt::print(stderr, "exits: mmio {} sbi {} csr {} system_event {} intr {} other {}\n", m_exits.mmio.load(),
               m_exits.sbi.load(), m_exits.csr.load(), m_exits.system_event.load(), m_exits.intr.load(),
               m_exits.other.load());
    fmt::print(stderr, "unhandled: mmio {} sbi {}\n", m_unhandled_mmio.load(), m_unhandled_sbi.load());
    for (Vcpu* v : m_vcpus) {
      std::string line = fmt::format("vcpu {}:", v->id());
      for (const auto& [name, value] : v->stats()) line += fmt::format(" {} {}", name, value);
      fmt::print(stderr, "{}\n", line);
    }
    fmt::print(stderr, "guest instructions {} ({:.1f} MIPS)\n", insns, secs > 0 ? insns / secs / 1e6 : 0.0);
  }
  return m_exit_code.load();
}

}  // namespace rvkvm::vmm
