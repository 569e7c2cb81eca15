// Hart state, CSRs, traps and interrupts (privileged spec chapters 3, 4 and 9 "H" extension).
#include "hart/hart.h"

#include <ctime>
#include <cstring>

namespace rvkvm {
namespace {


constexpr u64 kMisa = (2ull << 62) | (1u << ('A' - 'A')) | (1u << ('C' - 'A')) | (1u << ('D' - 'A')) |
                      (1u << ('F' - 'A')) | (1u << ('H' - 'A')) | (1u << ('I' - 'A')) |
                      (1u << ('M' - 'A')) | (1u << ('S' - 'A')) | (1u << ('U' - 'A'));

constexpr unsigned kGeilen = 8;  // guest external interrupt lines hgeip[8:1]
constexpr u64 kHgeMask = ((1ull << (kGeilen + 1)) - 1) & ~1ull;

constexpr u64 kMstatusWritable = mstatus::SIE | mstatus::MIE | mstatus::SPIE | mstatus::MPIE |
                                 mstatus::SPP | mstatus::MPP | mstatus::FS | mstatus::MPRV |
                                 mstatus::SUM | mstatus::MXR | mstatus::TVM | mstatus::TW |
                                 mstatus::TSR | mstatus::GVA | mstatus::MPV;
constexpr u64 kSstatusWritable = mstatus::SIE | mstatus::SPIE | mstatus::SPP | mstatus::FS |
                                 mstatus::SUM | mstatus::MXR;
constexpr u64 kXlen64 = 2;  // UXL/SXL/VSXL encoding of XLEN=64

constexpr u64 kHstatusWritable = hstatus::GVA | hstatus::SPV | hstatus::SPVP | hstatus::HU |
                                 hstatus::VGEIN | hstatus::VTVM | hstatus::VTW | hstatus::VTSR;

// Exceptions that can be delegated (privileged spec 3.1.8; ecall from M cannot).
constexpr u64 kMedelegWritable = 0x7ffull | (1ull << 12) | (1ull << 13) | (1ull << 15) | (0xfull << 20);
// hedeleg: ecalls from HS/VS/M, guest-page faults and virtual instruction are read-only zero (9.4.2).
constexpr u64 kHedelegWritable = (1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 4) |
                                 (1ull << 5) | (1ull << 6) | (1ull << 7) | (1ull << 8) |
                                 (1ull << 12) | (1ull << 13) | (1ull << 15);
constexpr u64 kMidelegWritable = irq::kSMask;
constexpr u64 kMidelegForced = irq::kHsMask;  // VS-level and SGEI are read-only one (9.4.3)
constexpr u64 kMieWritable = irq::kAll;
constexpr u64 kEnvcfgWritable = envcfg::FIOM | envcfg::ADUE | envcfg::PBMTE | envcfg::STCE;

// Interrupt priority (privileged spec 3.1.9 and 9.4.3): MEI, MSI, MTI, SEI, SSI, STI, SGEI, VSEI, VSSI, VSTI.
constexpr unsigned kIrqPriority[] = {irq::MEI, irq::MSI, irq::MTI, irq::SEI, irq::SSI,
                                     irq::STI, irq::SGEI, irq::VSEI, irq::VSSI, irq::VSTI};

int highest_priority(u64 pending) {
  for (unsigned i : kIrqPriority)
    if (pending & (1ull << i)) return static_cast<int>(i);
  return -1;
}

u64 host_monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<u64>(ts.tv_sec) * 1'000'000'000ull + static_cast<u64>(ts.tv_nsec);
}

// One epoch for the whole process, so that every hart (every VCPU) reads the same time.
u64 process_epoch_ns() {
  static const u64 epoch = host_monotonic_ns();
  return epoch;
}

bool valid_atp_mode(u64 mode) {
  return mode == atp::Bare || mode == atp::Sv39 || mode == atp::Sv48 || mode == atp::Sv57;
}

// Moves VS-level interrupt bits (2, 6, 10) down to their S-level positions (1, 5, 9), as vsip/vsie
// present them to the guest (9.2.3).
u64 vs_to_s_bits(u64 v) { return (v & irq::kVsMask) >> 1; }
u64 s_to_vs_bits(u64 v) { return (v & irq::kSMask) << 1; }

}  // namespace

u64 host_clock_ticks(u64 hz) {
  u64 ns = host_monotonic_ns() - process_epoch_ns();
  return static_cast<u64>((static_cast<u128>(ns) * hz) / 1'000'000'000ull);
}

u64 host_clock_deadline_ns(u64 ticks, u64 hz) {
  u128 ns = (static_cast<u128>(ticks) * 1'000'000'000ull + hz - 1) / hz;
  u128 abs = ns + process_epoch_ns();
  return abs > ~0ull ? ~0ull : static_cast<u64>(abs);
}

Hart::Hart(Bus& bus, const HartConfig& cfg) : m_bus(bus), m_cfg(cfg) {
  // Probe-able VMID width of 14 bits (hgatp.VMID is WARL; Linux discovers it by writing ones).
  m_hgatp_vmid_mask = ((1ull << 14) - 1) << atp::kAsidShift;
  reset(0);
}

Hart::~Hart() = default;

void Hart::reset(u64 pc) {
  std::memset(m_x, 0, sizeof(m_x));
  std::memset(m_f, 0, sizeof(m_f));
  m_pc = pc;
  m_priv = Priv::M;
  m_virt = false;
  m_mstatus = (kXlen64 << 32) | (kXlen64 << 34);
  m_vsstatus = kXlen64 << 32;
  m_hstatus = kXlen64 << 32;
  m_medeleg = m_mie = m_mip_sw = m_mtvec = m_mscratch = m_mepc = m_mcause = m_mtval = 0;
  m_mtval2 = m_mtinst = m_mcounteren = m_menvcfg = m_mcountinhibit = 0;
  m_mideleg = kMidelegForced;
  m_stvec = m_sscratch = m_sepc = m_scause = m_stval = m_satp = m_scounteren = m_senvcfg = 0;
  m_stimecmp = m_vstimecmp = ~0ull;
  m_hedeleg = m_hideleg = m_hvip = m_hcounteren = m_htimedelta = m_htval = m_htinst = 0;
  m_hgatp = m_henvcfg = m_hgeie = 0;
  m_vstvec = m_vsscratch = m_vsepc = m_vscause = m_vstval = m_vsatp = 0;
  m_fflags = m_frm = 0;
  m_pmpcfg.fill(0);
  m_pmpaddr.fill(0);
  m_resv_host = nullptr;
  flush_all_caches();
}

void Hart::set_priv(Priv p, bool v) {
  m_priv = p;
  m_virt = v && p != Priv::M;
  update_contexts();
}

// ---------------------------------------------------------------------------------------------
// Time

u64 Hart::time_now() const {
  if (m_cfg.clock == ClockKind::instret)
    return (m_instret + m_insn_in_flight) / m_cfg.insns_per_tick + m_time_offset;
  return host_clock_ticks(m_cfg.timebase_hz) + m_time_offset;
}

void Hart::advance_time_to(u64 t) {
  u64 now = time_now();
  if (t > now) m_time_offset += t - now;
}

u64 Hart::next_timer_deadline() const {
  u64 d = ~0ull;
  if (m_cfg.mtimecmp_in_hart && (m_mie & irq::MTIP)) d = std::min(d, mtimecmp());
  if ((m_menvcfg & envcfg::STCE) && (m_mie & irq::STIP)) d = std::min(d, m_stimecmp);
  if ((m_henvcfg & envcfg::STCE) && (m_mie & irq::VSTIP) && m_vstimecmp != ~0ull)
    d = std::min(d, m_vstimecmp - m_htimedelta);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Interrupts

void Hart::set_irq_line(u64 mip_bit, bool level) {
  if (level)
    m_lines.fetch_or(mip_bit, std::memory_order_acq_rel);
  else
    m_lines.fetch_and(~mip_bit, std::memory_order_acq_rel);
}

void Hart::set_hgeip(u64 bits) {
  m_hgeip.store(bits & kHgeMask, std::memory_order_release);
}

void Hart::kick() {
  m_kick.store(true, std::memory_order_release);
}

u64 Hart::effective_mip() {
  u64 v = m_mip_sw | (m_hvip & irq::kVsMask) | m_lines.load(std::memory_order_acquire);
  u64 now = time_now();
  if (m_cfg.mtimecmp_in_hart) {
    v &= ~irq::MTIP;
    if (now >= mtimecmp()) v |= irq::MTIP;
  }
  if (m_menvcfg & envcfg::STCE) {
    // With Sstc, STIP reflects stimecmp alone and is not writable through mip (Sstc 2.1).
    v &= ~irq::STIP;
    if (now >= m_stimecmp) v |= irq::STIP;
  }
  if ((m_henvcfg & envcfg::STCE) && now + m_htimedelta >= m_vstimecmp) v |= irq::VSTIP;
  u64 hgeip = m_hgeip.load(std::memory_order_acquire);
  unsigned vgein = static_cast<unsigned>((m_hstatus & hstatus::VGEIN) >> hstatus::kVgeinShift);
  if (vgein && ((hgeip >> vgein) & 1)) v |= irq::VSEIP;
  if (hgeip & m_hgeie) v |= irq::SGEIP;
  return v;
}

int Hart::pending_interrupt() {
  u64 pend = effective_mip() & m_mie;
  if (!pend) return -1;
  // M-level interrupts are enabled below M-mode, or in M-mode with MIE.
  u64 m_pend = pend & ~m_mideleg;
  if (m_pend && (m_priv != Priv::M || (m_mstatus & mstatus::MIE))) return highest_priority(m_pend);
  if (m_priv == Priv::M) return -1;
  // HS-level: delegated by mideleg but not further by hideleg. Always enabled when V=1.
  u64 hs_pend = pend & m_mideleg & ~m_hideleg;
  if (hs_pend && (m_virt || m_priv == Priv::U || (m_mstatus & mstatus::SIE))) return highest_priority(hs_pend);
  if (!m_virt) return -1;
  u64 vs_pend = pend & m_mideleg & m_hideleg;
  if (vs_pend && (m_priv == Priv::U || (m_vsstatus & mstatus::SIE))) return highest_priority(vs_pend);
  return -1;
}

bool Hart::wfi_wakeup_pending() {
  // WFI resumes on any locally enabled pending interrupt, whatever the global enables (3.3.3).
  return (effective_mip() & m_mie) != 0;
}

// ---------------------------------------------------------------------------------------------
// Traps

bool Hart::take_trap(const TrapInfo& t, bool interrupt, u64 epc) {
  ++m_stats.traps;
  if (interrupt) ++m_stats.interrupts;
  m_last_trap = t;
  m_resv_host = nullptr;  // a trap drops the LR reservation
  u64 c = t.cause;
  enum class Target { M, HS, VS } target;
  if (interrupt) {
    if (!((m_mideleg >> c) & 1))
      target = Target::M;
    else if (m_virt && ((m_hideleg >> c) & 1))
      target = Target::VS;
    else
      target = Target::HS;
  } else if (m_priv == Priv::M || !((m_medeleg >> c) & 1)) {
    target = Target::M;
  } else if (m_virt && ((m_hedeleg >> c) & 1)) {
    target = Target::VS;
  } else {
    target = Target::HS;
  }

  u64 irq_bit = interrupt ? cause::kInterrupt : 0;
  switch (target) {
    case Target::M: {
      m_mcause = c | irq_bit;
      m_mepc = epc;
      m_mtval = t.tval;
      m_mtval2 = t.tval2;
      m_mtinst = t.tinst;
      u64 s = m_mstatus;
      s = (s & ~mstatus::MPIE) | ((s & mstatus::MIE) ? mstatus::MPIE : 0);
      s &= ~(mstatus::MIE | mstatus::MPP | mstatus::MPV | mstatus::GVA);
      s |= static_cast<u64>(m_priv) << mstatus::kMppShift;
      if (m_virt) s |= mstatus::MPV;
      if (t.gva) s |= mstatus::GVA;
      m_mstatus = s;
      m_priv = Priv::M;
      m_virt = false;
      u64 base = m_mtvec & ~3ull;
      m_pc = (interrupt && (m_mtvec & 1)) ? base + 4 * c : base;
      update_contexts();
      return m_cfg.host_hs;
    }
    case Target::HS: {
      m_scause = c | irq_bit;
      m_sepc = epc;
      m_stval = t.tval;
      m_htval = t.tval2;
      m_htinst = t.tinst;
      u64 h = m_hstatus & ~(hstatus::SPV | hstatus::GVA);
      if (m_virt) {
        h |= hstatus::SPV;
        // SPVP records the nominal privilege of the virtual mode that trapped (9.2.1).
        h = (h & ~hstatus::SPVP) | (m_priv == Priv::S ? hstatus::SPVP : 0);
      }
      if (t.gva) h |= hstatus::GVA;
      m_hstatus = h;
      u64 s = m_mstatus;
      s = (s & ~mstatus::SPIE) | ((s & mstatus::SIE) ? mstatus::SPIE : 0);
      s &= ~(mstatus::SIE | mstatus::SPP);
      if (m_priv == Priv::S) s |= mstatus::SPP;
      m_mstatus = s;
      m_priv = Priv::S;
      m_virt = false;
      u64 base = m_stvec & ~3ull;
      m_pc = (interrupt && (m_stvec & 1)) ? base + 4 * c : base;
      update_contexts();
      return m_cfg.host_hs;
    }
    case Target::VS: {
      // VS-level interrupts are presented to the guest at their S-level numbers (9.4.3).
      u64 vc = c;
      if (interrupt && (c == irq::VSSI || c == irq::VSTI || c == irq::VSEI)) vc = c - 1;
      m_vscause = vc | irq_bit;
      m_vsepc = epc;
      m_vstval = t.tval;
      u64 s = m_vsstatus;
      s = (s & ~mstatus::SPIE) | ((s & mstatus::SIE) ? mstatus::SPIE : 0);
      s &= ~(mstatus::SIE | mstatus::SPP);
      if (m_priv == Priv::S) s |= mstatus::SPP;
      m_vsstatus = s;
      m_priv = Priv::S;
      u64 base = m_vstvec & ~3ull;
      m_pc = (interrupt && (m_vstvec & 1)) ? base + 4 * vc : base;
      update_contexts();
      return false;
    }
  }
  return false;
}

void Hart::do_mret() {
  u64 s = m_mstatus;
  Priv mpp = static_cast<Priv>((s & mstatus::MPP) >> mstatus::kMppShift);
  bool mpv = (s & mstatus::MPV) != 0;
  s = (s & ~mstatus::MIE) | ((s & mstatus::MPIE) ? mstatus::MIE : 0);
  s |= mstatus::MPIE;
  s &= ~(mstatus::MPP | mstatus::MPV);  // MPP <- U, MPV <- 0
  if (mpp != Priv::M) s &= ~mstatus::MPRV;
  m_mstatus = s;
  m_pc = m_mepc;
  m_priv = mpp;
  m_virt = mpp != Priv::M && mpv;
  update_contexts();
}

void Hart::do_sret() {
  if (m_virt) {
    u64 s = m_vsstatus;
    Priv spp = (s & mstatus::SPP) ? Priv::S : Priv::U;
    s = (s & ~mstatus::SIE) | ((s & mstatus::SPIE) ? mstatus::SIE : 0);
    s |= mstatus::SPIE;
    s &= ~mstatus::SPP;
    m_vsstatus = s;
    m_pc = m_vsepc;
    m_priv = spp;
  } else {
    u64 s = m_mstatus;
    Priv spp = (s & mstatus::SPP) ? Priv::S : Priv::U;
    s = (s & ~mstatus::SIE) | ((s & mstatus::SPIE) ? mstatus::SIE : 0);
    s |= mstatus::SPIE;
    s &= ~(mstatus::SPP | mstatus::MPRV);
    m_mstatus = s;
    bool spv = (m_hstatus & hstatus::SPV) != 0;
    m_hstatus &= ~hstatus::SPV;
    m_pc = m_sepc;
    m_priv = spp;
    m_virt = spv;
  }
  update_contexts();
}

// ---------------------------------------------------------------------------------------------
// CSRs

void Hart::update_sd() {
  auto sd = [](u64 s) {
    bool dirty = (s & mstatus::FS) == mstatus::FS || (s & mstatus::XS) == mstatus::XS;
    return dirty ? (s | mstatus::SD) : (s & ~mstatus::SD);
  };
  m_mstatus = sd(m_mstatus);
  m_vsstatus = sd(m_vsstatus);
}

void Hart::mark_fs_dirty() {
  m_mstatus |= mstatus::FS | mstatus::SD;
  if (m_virt) m_vsstatus |= mstatus::FS | mstatus::SD;
  m_fs_dirty = true;
}

void Hart::write_mstatus(u64 v) {
  u64 mpp = (v & mstatus::MPP) >> mstatus::kMppShift;
  if (mpp == 2) v = (v & ~mstatus::MPP) | (m_mstatus & mstatus::MPP);  // reserved: keep old
  m_mstatus = (m_mstatus & ~kMstatusWritable) | (v & kMstatusWritable);
  update_sd();
}

void Hart::write_vsstatus(u64 v) {
  m_vsstatus = (m_vsstatus & ~kSstatusWritable) | (v & kSstatusWritable);
  update_sd();
}

// Privilege checks for a CSR instruction (privileged spec 2.1; 9.6.1 for V=1). A virtual-instruction
// exception (22) is only for an access HS-mode would have been allowed to make: anything that
// does not exist, or that an M-level control forbids, is an illegal instruction (2) in every mode.
bool Hart::csr_access_trap(u16 num, bool exists, bool write, TrapInfo& t) {
  const unsigned level = (num >> 8) & 3;
  const bool read_only = ((num >> 10) & 3) == 3;
  auto illegal = [&] { t.cause = cause::illegal_insn; return true; };
  auto virt_insn = [&] { t.cause = cause::virtual_insn; return true; };
  if (!exists) return illegal();
  if (write && read_only) return illegal();
  if (level == 3 && m_priv != Priv::M) return illegal();
  const bool is_counter = num == csr::cycle || num == csr::time || num == csr::instret ||
                          (num >= csr::hpmcounter3 && num <= csr::hpmcounter31);
  const bool is_timecmp = num == csr::stimecmp || num == csr::vstimecmp;
  // M-level gates.
  if ((num == csr::fflags || num == csr::frm || num == csr::fcsr) &&
      ((m_mstatus & mstatus::FS) == 0 || (m_virt && (m_vsstatus & mstatus::FS) == 0)))
    return illegal();
  if (m_priv != Priv::M) {
    if (is_counter && !((m_mcounteren >> (num & 31)) & 1)) return illegal();
    // Sstc (2.2): without STCE or mcounteren.TM, the comparators are illegal below M.
    if (is_timecmp && (!(m_menvcfg & envcfg::STCE) || !(m_mcounteren & 2))) return illegal();
  }
  // Privilege level of the CSR number.
  if (level == 2) {
    if (m_priv == Priv::U && !m_virt) return illegal();
    if (m_virt) return virt_insn();
  }
  if (level == 1 && m_priv == Priv::U) return m_virt ? virt_insn() : illegal();
  // HS- and VS-level gates.
  if (is_counter) {
    if (m_virt && !((m_hcounteren >> (num & 31)) & 1)) return virt_insn();
    if (m_priv == Priv::U && !((m_scounteren >> (num & 31)) & 1)) return m_virt ? virt_insn() : illegal();
  }
  if (num == csr::satp) {
    if (!m_virt && m_priv == Priv::S && (m_mstatus & mstatus::TVM)) return illegal();
    if (m_virt && (m_hstatus & hstatus::VTVM)) return virt_insn();
  }
  if (num == csr::hgatp && m_priv == Priv::S && (m_mstatus & mstatus::TVM)) return illegal();
  if (is_timecmp && m_virt && (!(m_henvcfg & envcfg::STCE) || !(m_hcounteren & 2))) return virt_insn();
  return false;
}

// With V=1, supervisor CSRs name their VS counterparts (9.2.5 "VS CSRs").
u16 Hart::vs_alias(u16 num) const {
  if (!m_virt) return num;
  switch (num) {
    case csr::sstatus: return csr::vsstatus;
    case csr::sie: return csr::vsie;
    case csr::stvec: return csr::vstvec;
    case csr::sscratch: return csr::vsscratch;
    case csr::sepc: return csr::vsepc;
    case csr::scause: return csr::vscause;
    case csr::stval: return csr::vstval;
    case csr::sip: return csr::vsip;
    case csr::satp: return csr::vsatp;
    case csr::stimecmp: return csr::vstimecmp;
    default: return num;
  }
}

bool Hart::read_csr_raw(u16 num, u64& v) {
  switch (num) {
    case csr::fflags: v = m_fflags; return true;
    case csr::frm: v = m_frm; return true;
    case csr::fcsr: v = (m_frm << 5) | m_fflags; return true;
    case csr::cycle: case csr::mcycle: v = counter_value(false); return true;
    case csr::instret: case csr::minstret: v = counter_value(true); return true;
    case csr::time: v = time_now() + (m_virt ? m_htimedelta : 0); return true;

    case csr::sstatus: v = m_mstatus & mstatus::kSstatusMask; return true;
    case csr::sie: v = m_mie & m_mideleg & irq::kSMask; return true;
    case csr::stvec: v = m_stvec; return true;
    case csr::scounteren: v = m_scounteren; return true;
    case csr::senvcfg: v = m_senvcfg; return true;
    case csr::sscratch: v = m_sscratch; return true;
    case csr::sepc: v = m_sepc; return true;
    case csr::scause: v = m_scause; return true;
    case csr::stval: v = m_stval; return true;
    case csr::sip: v = effective_mip() & m_mideleg & irq::kSMask; return true;
    case csr::stimecmp: v = m_stimecmp; return true;
    case csr::satp: v = m_satp; return true;

    case csr::hstatus: v = m_hstatus; return true;
    case csr::hedeleg: v = m_hedeleg; return true;
    case csr::hideleg: v = m_hideleg; return true;
    case csr::hie: v = m_mie & irq::kHsMask; return true;
    case csr::htimedelta: v = m_htimedelta; return true;
    case csr::hcounteren: v = m_hcounteren; return true;
    case csr::hgeie: v = m_hgeie; return true;
    case csr::henvcfg: v = m_henvcfg; return true;
    case csr::htval: v = m_htval; return true;
    case csr::hip: v = effective_mip() & irq::kHsMask; return true;
    case csr::hvip: v = m_hvip; return true;
    case csr::htinst: v = m_htinst; return true;
    case csr::hgatp: v = m_hgatp; return true;
    case csr::hgeip: v = m_hgeip.load(std::memory_order_acquire); return true;

    case csr::vsstatus: v = m_vsstatus; return true;
    case csr::vsie: v = vs_to_s_bits(m_mie & m_hideleg); return true;
    case csr::vstvec: v = m_vstvec; return true;
    case csr::vsscratch: v = m_vsscratch; return true;
    case csr::vsepc: v = m_vsepc; return true;
    case csr::vscause: v = m_vscause; return true;
    case csr::vstval: v = m_vstval; return true;
    case csr::vsip: v = vs_to_s_bits(effective_mip() & m_hideleg); return true;
    case csr::vstimecmp: v = m_vstimecmp; return true;
    case csr::vsatp: v = m_vsatp; return true;

    case csr::mvendorid: case csr::marchid: case csr::mimpid: case csr::mconfigptr: v = 0; return true;
    case csr::mhartid: v = m_cfg.hartid; return true;
    case csr::mstatus: v = m_mstatus; return true;
    case csr::misa: v = kMisa; return true;
    case csr::medeleg: v = m_medeleg; return true;
    case csr::mideleg: v = m_mideleg; return true;
    case csr::mie: v = m_mie; return true;
    case csr::mtvec: v = m_mtvec; return true;
    case csr::mcounteren: v = m_mcounteren; return true;
    case csr::menvcfg: v = m_menvcfg; return true;
    case csr::mcountinhibit: v = m_mcountinhibit; return true;
    case csr::mscratch: v = m_mscratch; return true;
    case csr::mepc: v = m_mepc; return true;
    case csr::mcause: v = m_mcause; return true;
    case csr::mtval: v = m_mtval; return true;
    case csr::mip: v = effective_mip(); return true;
    case csr::mtinst: v = m_mtinst; return true;
    case csr::mtval2: v = m_mtval2; return true;
    default: break;
  }
  if (num >= csr::pmpcfg0 && num <= csr::pmpcfg15) {
    if (num & 1) return false;  // odd pmpcfg registers do not exist on RV64
    v = m_pmpcfg[num - csr::pmpcfg0];
    return true;
  }
  if (num >= csr::pmpaddr0 && num <= csr::pmpaddr63) {
    v = m_pmpaddr[num - csr::pmpaddr0];
    return true;
  }
  if ((num >= csr::hpmcounter3 && num <= csr::hpmcounter31) || (num >= csr::mhpmcounter3 && num <= csr::mhpmcounter31) ||
      (num >= csr::mhpmevent3 && num <= csr::mhpmevent31)) {
    v = 0;
    return true;
  }
  return false;
}

// CSRs whose writes can change the translation context, interrupt state or FP enable: the
// interpreter re-evaluates after them, and a host write refreshes the cached context.
bool Hart::affects_context(u16 num) {
  switch (num) {
    case csr::sstatus: case csr::mstatus: case csr::vsstatus: case csr::sie: case csr::sip: case csr::mie: case csr::mip: case csr::hie:
    case csr::hip: case csr::hvip: case csr::vsie: case csr::vsip: case csr::mideleg: case csr::hideleg: case csr::satp: case csr::vsatp:
    case csr::hgatp: case csr::hstatus: case csr::menvcfg: case csr::henvcfg: case csr::stimecmp: case csr::vstimecmp:
    case csr::htimedelta: case csr::hgeie: case csr::fflags: case csr::frm: case csr::fcsr:
      return true;
    default:
      return false;
  }
}

bool Hart::csr_write(u16 num, u64 v, bool& sync) {
  num = vs_alias(num);
  if (affects_context(num)) sync = true;
  return write_csr_internal(num, v);
}

bool Hart::write_csr_raw(u16 num, u64 v) {
  bool ok = write_csr_internal(num, v);
  if (affects_context(num)) update_contexts();
  return ok;
}

bool Hart::write_csr_internal(u16 num, u64 v) {
  auto set_fs_dirty = [&] {
    m_mstatus |= mstatus::FS;
    if (m_virt) m_vsstatus |= mstatus::FS;
    update_sd();
  };
  switch (num) {
    case csr::fflags: m_fflags = v & 31; set_fs_dirty(); return true;
    case csr::frm: m_frm = v & 7; set_fs_dirty(); return true;
    case csr::fcsr: m_fflags = v & 31; m_frm = (v >> 5) & 7; set_fs_dirty(); return true;
    // A CSR write to a counter replaces the increment of the writing instruction (Zicsr 9.1), so
    // the next instruction reads exactly the value written.
    case csr::mcycle: set_counter(false, v); return true;
    case csr::minstret: set_counter(true, v); return true;

    case csr::sstatus:
      m_mstatus = (m_mstatus & ~kSstatusWritable) | (v & kSstatusWritable);
      update_sd();
      return true;
    case csr::sie: {
      u64 mask = m_mideleg & irq::kSMask;
      m_mie = (m_mie & ~mask) | (v & mask);
      return true;
    }
    case csr::stvec: m_stvec = v & ~2ull; return true;
    case csr::scounteren: m_scounteren = v & 0xffffffff; return true;
    case csr::senvcfg: m_senvcfg = v & envcfg::FIOM; return true;
    case csr::sscratch: m_sscratch = v; return true;
    case csr::sepc: m_sepc = v & ~1ull; return true;
    case csr::scause: m_scause = v; return true;
    case csr::stval: m_stval = v; return true;
    case csr::sip: {
      u64 mask = m_mideleg & irq::SSIP;
      m_mip_sw = (m_mip_sw & ~mask) | (v & mask);
      return true;
    }
    case csr::stimecmp: m_stimecmp = v; return true;
    case csr::satp:
      if (valid_atp_mode(v >> atp::kModeShift)) m_satp = v;  // unsupported MODE: write ignored
      return true;

    case csr::hstatus:
      m_hstatus = (m_hstatus & ~kHstatusWritable) | (v & kHstatusWritable);
      if (((m_hstatus & hstatus::VGEIN) >> hstatus::kVgeinShift) > kGeilen) m_hstatus &= ~hstatus::VGEIN;
      return true;
    case csr::hedeleg: m_hedeleg = v & kHedelegWritable; return true;
    case csr::hideleg: m_hideleg = v & irq::kVsMask; return true;
    case csr::hie: m_mie = (m_mie & ~irq::kHsMask) | (v & irq::kHsMask); return true;
    case csr::htimedelta: m_htimedelta = v; return true;
    case csr::hcounteren: m_hcounteren = v & 0xffffffff; return true;
    case csr::hgeie: m_hgeie = v & kHgeMask; return true;
    case csr::henvcfg: {
      u64 allowed = envcfg::FIOM | (m_menvcfg & (envcfg::ADUE | envcfg::PBMTE | envcfg::STCE));
      m_henvcfg = v & allowed;
      return true;
    }
    case csr::htval: m_htval = v; return true;
    case csr::hip: m_hvip = (m_hvip & ~irq::VSSIP) | (v & irq::VSSIP); return true;
    case csr::hvip: m_hvip = v & irq::kVsMask; return true;
    case csr::htinst: m_htinst = v; return true;
    case csr::hgatp: {
      // WARL per field (unlike satp): an unsupported MODE keeps the old one, VMID and PPN still change.
      // The root of a G-stage table is 16 KiB aligned: PPN[1:0] read as zero.
      u64 mode = v >> atp::kModeShift;
      if (!valid_atp_mode(mode)) mode = m_hgatp >> atp::kModeShift;
      m_hgatp = (mode << atp::kModeShift) | (v & m_hgatp_vmid_mask) | (v & atp::kPpnMask & ~3ull);
      gcache_flush();
      return true;
    }
    case csr::hgeip: return true;  // read-only

    case csr::vsstatus: write_vsstatus(v); return true;
    case csr::vsie: {
      u64 mask = m_hideleg & irq::kVsMask;
      m_mie = (m_mie & ~mask) | (s_to_vs_bits(v) & mask);
      return true;
    }
    case csr::vstvec: m_vstvec = v & ~2ull; return true;
    case csr::vsscratch: m_vsscratch = v; return true;
    case csr::vsepc: m_vsepc = v & ~1ull; return true;
    case csr::vscause: m_vscause = v; return true;
    case csr::vstval: m_vstval = v; return true;
    case csr::vsip: {
      u64 mask = m_hideleg & irq::VSSIP;
      m_hvip = (m_hvip & ~mask) | (s_to_vs_bits(v) & mask);
      return true;
    }
    case csr::vstimecmp: m_vstimecmp = v; return true;
    case csr::vsatp:
      if (valid_atp_mode(v >> atp::kModeShift)) m_vsatp = v;
      return true;

    case csr::mstatus: write_mstatus(v); return true;
    case csr::misa: return true;  // WARL, fixed
    case csr::medeleg: m_medeleg = v & kMedelegWritable; return true;
    case csr::mideleg: m_mideleg = (v & kMidelegWritable) | kMidelegForced; return true;
    case csr::mie: m_mie = v & kMieWritable; return true;
    case csr::mtvec: m_mtvec = v & ~2ull; return true;
    case csr::mcounteren: m_mcounteren = v & 0xffffffff; return true;
    case csr::menvcfg:
      gcache_flush();  // ADUE and PBMTE change what a G-stage walk would do
      m_menvcfg = v & kEnvcfgWritable;
      m_henvcfg &= envcfg::FIOM | (m_menvcfg & (envcfg::ADUE | envcfg::PBMTE | envcfg::STCE));
      return true;
    case csr::mcountinhibit: {
      // Freeze or resume cycle (bit 0) and instret (bit 2); the other counters read zero anyway.
      u64 next = v & 0xfffffffd;
      for (bool ir : {false, true}) {
        u64 b = ir ? 4 : 1;
        if ((next ^ m_mcountinhibit) & b) {
          u64 cur = counter_value(ir);
          (ir ? m_minstret_frozen : m_mcycle_frozen) = cur;
          m_mcountinhibit ^= b;
          if (!(next & b)) set_counter(ir, cur, false);
        }
      }
      m_mcountinhibit = next;
      return true;
    }
    case csr::mscratch: m_mscratch = v; return true;
    case csr::mepc: m_mepc = v & ~1ull; return true;
    case csr::mcause: m_mcause = v; return true;
    case csr::mtval: m_mtval = v; return true;
    case csr::mip: {
      u64 mask = irq::SSIP | irq::SEIP | ((m_menvcfg & envcfg::STCE) ? 0 : irq::STIP);
      m_mip_sw = (m_mip_sw & ~mask) | (v & mask);
      m_hvip = (m_hvip & ~irq::VSSIP) | (v & irq::VSSIP);  // mip.VSSIP aliases hvip.VSSIP
      return true;
    }
    case csr::mtinst: m_mtinst = v; return true;
    case csr::mtval2: m_mtval2 = v; return true;
    case csr::mvendorid: case csr::marchid: case csr::mimpid: case csr::mhartid: case csr::mconfigptr:
      return true;
    default:
      break;
  }
  if (num >= csr::pmpcfg0 && num <= csr::pmpcfg15) {
    if (num & 1) return false;
    // PMP registers hold what firmware writes (with the WARL rules, including locked entries),
    // but every access is allowed: rvkvm does not enforce physical memory protection.
    u64 cur = m_pmpcfg[num - csr::pmpcfg0], cfg = 0;
    for (unsigned i = 0; i < 8; ++i) {
      u64 old_b = (cur >> (8 * i)) & 0xff;
      u64 b = (v >> (8 * i)) & 0x9f;
      if ((b & 3) == 2) b &= ~3ull;  // W=1,R=0 is reserved
      cfg |= ((old_b & 0x80) ? old_b : b) << (8 * i);  // a locked entry ignores writes
    }
    m_pmpcfg[num - csr::pmpcfg0] = cfg;
    return true;
  }
  if (num >= csr::pmpaddr0 && num <= csr::pmpaddr63) {
    unsigned i = num - csr::pmpaddr0;
    auto cfg_byte = [&](unsigned e) { return (m_pmpcfg[(e / 8) * 2] >> (8 * (e % 8))) & 0xff; };
    bool locked = cfg_byte(i) & 0x80;
    // The base of a locked TOR entry (pmpaddr i-1 for entry i) is locked too.
    if (i + 1 < 64 && (cfg_byte(i + 1) & 0x80) && ((cfg_byte(i + 1) >> 3) & 3) == 1) locked = true;
    if (!locked) m_pmpaddr[i] = v & ((1ull << 54) - 1);
    return true;
  }
  if ((num >= csr::mhpmcounter3 && num <= csr::mhpmcounter31) || (num >= csr::mhpmevent3 && num <= csr::mhpmevent31)) return true;
  if (num >= csr::hpmcounter3 && num <= csr::hpmcounter31) return false;
  return false;
}

u64 Hart::counter_value(bool instret) const {
  if (m_mcountinhibit & (instret ? 4 : 1)) return instret ? m_minstret_frozen : m_mcycle_frozen;
  return m_instret + m_insn_in_flight + (instret ? m_minstret_offset : m_mcycle_offset);
}

void Hart::set_counter(bool instret, u64 v, bool by_insn) {
  if (m_mcountinhibit & (instret ? 4 : 1)) {
    (instret ? m_minstret_frozen : m_mcycle_frozen) = v;
    return;
  }
  // When an instruction writes the counter, that instruction's own retirement must not count.
  u64 base = m_instret + m_insn_in_flight + (by_insn ? 1 : 0);
  (instret ? m_minstret_offset : m_mcycle_offset) = v - base;
}

bool Hart::csr_insn(u16 num, CsrOp op, u64 operand, bool do_write, u64& old, TrapInfo& t,
                    bool& sync) {
  // One read both proves the CSR exists and, unless V=1 redirects it to a VS CSR, gives its value.
  u64 cur = 0;
  const bool exists = read_csr_raw(num, cur);
  if (csr_access_trap(num, exists, do_write, t)) return false;
  if (const u16 aliased = vs_alias(num); aliased != num && !read_csr_raw(aliased, cur)) {
    t.cause = cause::illegal_insn;
    return false;
  }
  old = cur;
  if (do_write) {
    u64 nv = op == CsrOp::rw ? operand : op == CsrOp::rs ? (cur | operand) : (cur & ~operand);
    if (!csr_write(num, nv, sync)) {
      t.cause = cause::illegal_insn;
      return false;
    }
  }
  return true;
}

}  // namespace rvkvm
