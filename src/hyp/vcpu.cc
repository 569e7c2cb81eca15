// VCPUs: the run loop, requests, interrupts, WFI and the handling of traps that reach HS-mode
// (Linux arch/riscv/kvm/vcpu.c, vcpu_exit.c, vcpu_insn.c).
#include <chrono>
#include <cstring>
#include <utility>

#include "hart/csr.h"
#include "hyp/emulated.h"
#include "isa/isa.h"

namespace rvkvm::hyp {
namespace {

constexpr u64 kSlice = 1u << 16;  // instructions per hart run before rechecking requests and timers

// KVM's default exception delegation to the guest (kvm_riscv_vcpu_setup_config): misaligned fetch,
// breakpoint, ecall from VU and page faults go straight to VS-mode. Illegal instructions and access
// faults come to the hypervisor, which redirects them like KVM's trap_redirect.
constexpr u64 kHedeleg = (1ull << cause::insn_misaligned) | (1ull << cause::breakpoint) |
                         (1ull << cause::ecall_u) | (1ull << cause::insn_page_fault) |
                         (1ull << cause::load_page_fault) | (1ull << cause::store_page_fault);

WarnCounter g_warn_unhandled_trap{"unhandled guest trap"};

}  // namespace

ExitReason exit_reason(const Exit& e) {
  struct V {
    ExitReason operator()(const MmioExit&) const { return ExitReason::KVM_EXIT_MMIO; }
    ExitReason operator()(const SbiExit&) const { return ExitReason::KVM_EXIT_RISCV_SBI; }
    ExitReason operator()(const CsrExit&) const { return ExitReason::KVM_EXIT_RISCV_CSR; }
    ExitReason operator()(const SystemEventExit&) const { return ExitReason::KVM_EXIT_SYSTEM_EVENT; }
    ExitReason operator()(const IntrExit&) const { return ExitReason::KVM_EXIT_INTR; }
    ExitReason operator()(const FailEntryExit&) const { return ExitReason::KVM_EXIT_FAIL_ENTRY; }
    ExitReason operator()(const InternalErrorExit&) const { return ExitReason::KVM_EXIT_INTERNAL_ERROR; }
  };
  return std::visit(V{}, e);
}

const char* exit_reason_name(ExitReason r) {
  switch (r) {
    case ExitReason::KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case ExitReason::KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case ExitReason::KVM_EXIT_INTR: return "KVM_EXIT_INTR";
    case ExitReason::KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    case ExitReason::KVM_EXIT_SYSTEM_EVENT: return "KVM_EXIT_SYSTEM_EVENT";
    case ExitReason::KVM_EXIT_RISCV_SBI: return "KVM_EXIT_RISCV_SBI";
    case ExitReason::KVM_EXIT_RISCV_CSR: return "KVM_EXIT_RISCV_CSR";
  }
  return "?";
}

EmulatedVcpu::EmulatedVcpu(EmulatedVm& vm, u32 id) : m_vm(vm), m_id(id) {
  HartConfig hc;
  hc.hartid = id;
  hc.host_hs = true;
  hc.clock = ClockKind::host;
  hc.timebase_hz = kTimebaseHz;
  hc.mtimecmp_in_hart = false;
  m_hart = std::make_unique<Hart>(vm.bus(), hc);
  auto bitsof = [](std::initializer_list<u64> l) {
    u64 v = 0;
    for (u64 b : l) v |= 1ull << b;
    return v;
  };
  m_isa_ext_enabled = bitsof({KVM_RISCV_ISA_EXT_A, KVM_RISCV_ISA_EXT_C, KVM_RISCV_ISA_EXT_D, KVM_RISCV_ISA_EXT_F,
                              KVM_RISCV_ISA_EXT_I, KVM_RISCV_ISA_EXT_M, KVM_RISCV_ISA_EXT_SVPBMT,
                              KVM_RISCV_ISA_EXT_SSTC, KVM_RISCV_ISA_EXT_SVINVAL, KVM_RISCV_ISA_EXT_ZIHINTPAUSE,
                              KVM_RISCV_ISA_EXT_ZBB, KVM_RISCV_ISA_EXT_SVNAPOT, KVM_RISCV_ISA_EXT_ZBA,
                              KVM_RISCV_ISA_EXT_ZBS, KVM_RISCV_ISA_EXT_ZICNTR, KVM_RISCV_ISA_EXT_ZICSR,
                              KVM_RISCV_ISA_EXT_ZIFENCEI, KVM_RISCV_ISA_EXT_ZICOND});
  m_sbi_ext_enabled = bitsof({KVM_RISCV_SBI_EXT_V01, KVM_RISCV_SBI_EXT_TIME, KVM_RISCV_SBI_EXT_IPI,
                              KVM_RISCV_SBI_EXT_RFENCE, KVM_RISCV_SBI_EXT_SRST, KVM_RISCV_SBI_EXT_HSM,
                              KVM_RISCV_SBI_EXT_EXPERIMENTAL, KVM_RISCV_SBI_EXT_VENDOR});
  // DBCN is off until the VMM enables it through ONE_REG, as in KVM (the VMM implements it).
  reset_guest_state();
  // Every VCPU but the first starts powered off, waiting for SBI HSM hart_start (as KVM does).
  m_mp_state.store(id == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_STOPPED);
}

EmulatedVcpu::~EmulatedVcpu() = default;

std::vector<std::pair<std::string, u64>> EmulatedVcpu::stats() const {
  const Hart::Stats& hs = m_hart->stats();
  return {
      {"instructions", m_hart->instret()},
      {"gstage_faults", m_stats.gstage_faults},
      {"mmio_exits", m_stats.mmio_exits},
      {"sbi_calls", m_stats.sbi_calls},
      {"wfi", m_stats.wfi},
      {"virtual_insns", m_stats.virtual_insns},
      {"redirected_traps", m_stats.redirected_traps},
      {"hart_traps", hs.traps},
      {"hart_interrupts", hs.interrupts},
      {"tlb_misses", hs.tlb_misses},
      {"tlb_flush_all", hs.tlb_flush_all},
      {"tlb_flush_page", hs.tlb_flush_page},
      {"tlb_flush_asid", hs.tlb_flush_asid},
      {"gstage_walks", hs.gstage_walks},
      {"gstage_cache_hits", hs.gstage_cache_hits},
      {"decoded_pages", hs.decoded_pages},
      {"pages_revalidated", hs.pages_revalidated},
      {"pages_redecoded", hs.pages_redecoded},
  };
}

void EmulatedVcpu::reset_guest_state() {
  Hart& h = *m_hart;
  h.reset(0);
  // The hart's M-level environment: everything is delegated to HS-mode, where this code sits.
  (void)h.write_csr_raw(csr::medeleg, ~0ull);
  (void)h.write_csr_raw(csr::mideleg, ~0ull);
  (void)h.write_csr_raw(csr::mcounteren, ~0ull);
  (void)h.write_csr_raw(csr::menvcfg, envcfg::STCE | envcfg::PBMTE);
  (void)h.write_csr_raw(csr::mstatus, 1ull << mstatus::kFsShift);
  h.set_priv(Priv::S, false);
  (void)h.write_csr_raw(csr::hstatus, hstatus::SPV | hstatus::SPVP | hstatus::VTW);
  (void)h.write_csr_raw(csr::hedeleg, kHedeleg);
  (void)h.write_csr_raw(csr::hideleg, irq::kVsMask);
  (void)h.write_csr_raw(csr::hcounteren, 0x7);  // cycle, time, instret
  u64 henv = 0;
  if ((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_SSTC) & 1) henv |= envcfg::STCE;
  if ((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_SVPBMT) & 1) henv |= envcfg::PBMTE;
  (void)h.write_csr_raw(csr::henvcfg, henv);
  (void)h.write_csr_raw(csr::htimedelta, m_vm.htimedelta());
  (void)h.write_csr_raw(csr::vstimecmp, ~0ull);
  // The guest starts in S-mode at pc 0 with a0 = hartid (the VMM sets pc and a1).
  // sstatus is a view of mstatus: keep the HS-level FS on, or every guest FP instruction traps
  // (KVM keeps it at Initial for a VCPU with F/D, kvm_riscv_vcpu_fp_reset).
  (void)h.write_csr_raw(csr::sstatus, mstatus::SPP | (1ull << mstatus::kFsShift));
  (void)h.write_csr_raw(csr::sepc, 0);
  h.set_x(10, m_id);
  m_sbi_timer_deadline = ~0ull;
  m_pending = {};
  m_vmid_version = 0;  // reload hgatp before the first entry
  // Like kvm_riscv_reset_vcpu: no interrupt survives a reset.
  m_irq_software.store(false, std::memory_order_release);
  m_irq_external.store(false, std::memory_order_release);
}

// ---------------------------------------------------------------------------------------------
// Cross-thread requests and wake-ups

void EmulatedVcpu::make_request(u32 req, bool wake) {
  m_requests.fetch_or(req, std::memory_order_acq_rel);
  if (wake) {
    m_hart->kick();
    std::lock_guard lock(m_sleep_mu);
    ++m_wake_gen;
    m_sleep_cv.notify_all();
  }
}

void EmulatedVcpu::queue_hfence(const HfenceRequest& r) {
  {
    std::lock_guard lock(m_hfence_mu);
    // A full queue degrades to a full flush, as KVM's kvm_riscv_hfence queue does.
    if (m_hfence_queue.size() >= kHfenceQueueSize)
      m_hfence_overflow = true;
    else
      m_hfence_queue.push_back(r);
  }
  make_request(kReqHfence, true);
}

void EmulatedVcpu::raise_ipi() {
  m_irq_software.store(true, std::memory_order_release);
  make_request(0, true);
}

void EmulatedVcpu::kick() {
  m_user_kick.store(true, std::memory_order_release);
  make_request(0, true);
}

int EmulatedVcpu::interrupt(u32 irq) {
  if (irq != KVM_INTERRUPT_SET && irq != KVM_INTERRUPT_UNSET) return kEINVAL;
  m_irq_external.store(irq == KVM_INTERRUPT_SET, std::memory_order_release);
  make_request(0, true);
  return kOk;
}

int EmulatedVcpu::get_mp_state(u32& state) {
  state = m_mp_state.load(std::memory_order_acquire);
  return kOk;
}

int EmulatedVcpu::set_mp_state(u32 state) {
  if (state != KVM_MP_STATE_RUNNABLE && state != KVM_MP_STATE_STOPPED) return kEINVAL;
  m_mp_state.store(state, std::memory_order_release);
  make_request(0, true);
  return kOk;
}

i64 EmulatedVcpu::hsm_start(u64 start_addr, u64 opaque) {
  std::lock_guard lock(m_sleep_mu);
  if (m_mp_state.load(std::memory_order_acquire) != KVM_MP_STATE_STOPPED) return SBI_ERR_ALREADY_AVAILABLE;
  m_start_addr = start_addr;
  m_start_opaque = opaque;
  m_requests.fetch_or(kReqReset, std::memory_order_acq_rel);
  m_mp_state.store(KVM_MP_STATE_RUNNABLE, std::memory_order_release);
  ++m_wake_gen;
  m_sleep_cv.notify_all();
  return SBI_SUCCESS;
}

bool EmulatedVcpu::process_requests() {
  u32 req = m_requests.exchange(0, std::memory_order_acq_rel);
  if (req) {
    Hart& h = *m_hart;
    if (req & kReqReset) {
      u64 addr, opaque;
      {
        std::lock_guard lock(m_sleep_mu);
        addr = m_start_addr;
        opaque = m_start_opaque;
      }
      // SBI HSM hart_start: S-mode at start_addr, a0 = hartid, a1 = opaque, satp = 0, SIE = 0.
      reset_guest_state();
      (void)h.write_csr_raw(csr::sepc, addr);
      h.set_x(11, opaque);
    }
    if (req & kReqFlushAll) h.flush_all_caches();
    if (req & kReqHfence) {
      std::deque<HfenceRequest> q;
      bool overflow;
      {
        std::lock_guard lock(m_hfence_mu);
        q.swap(m_hfence_queue);
        overflow = std::exchange(m_hfence_overflow, false);
      }
      if (overflow) {
        // Too many to track: every guest translation goes (KVM: HFENCE.VVMA for the whole VMID),
        // and pending instruction fences too.
        h.flush_tlb(0, true);
        h.fence_i();
      } else {
        for (const HfenceRequest& r : q) {
          switch (r.kind) {
            case HfenceRequest::Kind::fence_i: h.fence_i(); break;
            case HfenceRequest::Kind::vvma_gva:
            case HfenceRequest::Kind::vvma_asid_gva:
              // A range of more than a few pages is cheaper to flush whole.
              if (r.size > 64 * 4096) {
                h.flush_tlb(0, true);
              } else {
                for (u64 a = r.addr & ~0xfffull; a < r.addr + r.size; a += 4096) h.flush_tlb(a, false);
              }
              break;
            default: h.flush_tlb(0, true); break;
          }
        }
      }
    }
    m_request_epoch.fetch_add(1, std::memory_order_acq_rel);
  }
  return true;
}

u64 EmulatedVcpu::guest_time() const { return host_time_ticks() + m_vm.htimedelta(); }

void EmulatedVcpu::update_hvip() {
  Hart& h = *m_hart;
  u64 hvip = 0;
  (void)h.read_csr_raw(csr::hvip, hvip);
  u64 want = hvip;
  // An IPI stays pending until the guest clears sip.SSIP, which writes hvip.VSSIP.
  if (m_irq_software.exchange(false, std::memory_order_acq_rel)) want |= irq::VSSIP;
  if (m_irq_external.load(std::memory_order_acquire)) want |= irq::VSEIP;
  else want &= ~irq::VSEIP;
  if (m_sbi_timer_deadline != ~0ull && guest_time() >= m_sbi_timer_deadline) want |= irq::VSTIP;
  if (want != hvip) (void)h.write_csr_raw(csr::hvip, want);
}

i64 EmulatedVcpu::sbi_set_timer(u64 when) {
  Hart& h = *m_hart;
  u64 henv = 0;
  (void)h.read_csr_raw(csr::henvcfg, henv);
  u64 hvip = 0;
  (void)h.read_csr_raw(csr::hvip, hvip);
  (void)h.write_csr_raw(csr::hvip, hvip & ~irq::VSTIP);
  if (henv & envcfg::STCE) {
    // With Sstc, KVM programs vstimecmp even for the SBI call.
    (void)h.write_csr_raw(csr::vstimecmp, when);
    m_sbi_timer_deadline = ~0ull;
  } else {
    m_sbi_timer_deadline = when;
  }
  return SBI_SUCCESS;
}

bool EmulatedVcpu::wakeup_pending() {
  update_hvip();
  return m_hart->wfi_wakeup_pending();
}

void EmulatedVcpu::wait_for_interrupt() {
  ++m_stats.wfi;
  for (;;) {
    u64 gen;
    {
      std::lock_guard lock(m_sleep_mu);
      gen = m_wake_gen;
    }
    if (wakeup_pending()) return;
    if (m_user_kick.load() || m_immediate_exit.load() || m_requests.load() ||
        m_mp_state.load() != KVM_MP_STATE_RUNNABLE)
      return;
    // Sleep until the earliest armed timer or a wake-up from another thread (no busy wait).
    u64 host_deadline = m_sbi_timer_deadline == ~0ull ? ~0ull : m_sbi_timer_deadline - m_vm.htimedelta();
    host_deadline = std::min(host_deadline, m_hart->next_timer_deadline());
    auto timeout = std::chrono::nanoseconds(100'000'000);  // also bounds any missed wake-up
    if (host_deadline != ~0ull) {
      u64 ns = host_clock_deadline_ns(host_deadline, kTimebaseHz);
      timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      u64 now_ns = static_cast<u64>(now.tv_sec) * 1'000'000'000ull + static_cast<u64>(now.tv_nsec);
      if (ns <= now_ns) continue;
      timeout = std::min(timeout, std::chrono::nanoseconds(ns - now_ns));
    }
    std::unique_lock lock(m_sleep_mu);
    m_sleep_cv.wait_for(lock, timeout, [&] { return m_wake_gen != gen; });
  }
}

// ---------------------------------------------------------------------------------------------
// The run loop

void EmulatedVcpu::advance_pc(u64 len) {
  u64 sepc = 0;
  (void)m_hart->read_csr_raw(csr::sepc, sepc);
  (void)m_hart->write_csr_raw(csr::sepc, sepc + len);
}

void EmulatedVcpu::complete_pending() {
  Hart& h = *m_hart;
  switch (m_pending.kind) {
    case Pending::Kind::none: break;
    case Pending::Kind::mmio_load: {
      auto* m = std::get_if<MmioExit>(&m_exit);
      if (m && !m->is_write) {
        u64 v = 0;
        std::memcpy(&v, m->data, m_pending.len);
        if (m_pending.sign_extend) v = static_cast<u64>(sext(v, 8 * m_pending.len));
        h.set_x(m_pending.rd, v);
      }
      advance_pc(m_pending.insn_len);
      break;
    }
    case Pending::Kind::sbi: {
      // kvm_riscv_vcpu_sbi_return: a0 and a1 from ret[], then past the ecall.
      if (auto* s = std::get_if<SbiExit>(&m_exit)) {
        h.set_x(10, s->ret[0]);
        h.set_x(11, s->ret[1]);
      }
      advance_pc(4);
      break;
    }
    case Pending::Kind::csr: {
      if (auto* c = std::get_if<CsrExit>(&m_exit)) h.set_x(m_pending.rd, c->ret_value);
      advance_pc(4);
      break;
    }
  }
  m_pending = {};
}

void EmulatedVcpu::enter_guest() {
  if (m_hart->virt()) return;  // stopped mid-run (budget or kick): still in the guest
  u64 hs = 0;
  (void)m_hart->read_csr_raw(csr::hstatus, hs);
  if (!(hs & hstatus::SPV)) (void)m_hart->write_csr_raw(csr::hstatus, hs | hstatus::SPV);
  m_hart->sret();
}

Exit& EmulatedVcpu::run() {
  complete_pending();
  for (;;) {
    if (m_immediate_exit.load(std::memory_order_acquire) || m_user_kick.exchange(false, std::memory_order_acq_rel)) {
      m_exit = IntrExit{};
      return m_exit;
    }
    process_requests();
    if (m_mp_state.load(std::memory_order_acquire) != KVM_MP_STATE_RUNNABLE) {
      std::unique_lock lock(m_sleep_mu);
      m_sleep_cv.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return m_mp_state.load() == KVM_MP_STATE_RUNNABLE || m_user_kick.load() || m_requests.load();
      });
      continue;
    }
    if (m_vmid_version != m_vm.hypervisor().vmids().version() || !m_ran_once) {
      m_vm.update_vmid(*this);
      m_vmid_version = m_vm.hypervisor().vmids().version();
      (void)m_hart->write_csr_raw(csr::hgatp, m_vm.hgatp());
      m_ran_once = true;
    }
    update_hvip();
    m_in_guest.store(true, std::memory_order_seq_cst);
    // A flush requested while we were getting here saw in_guest false and did not wait: do it now.
    if (m_requests.load(std::memory_order_seq_cst)) {
      m_in_guest.store(false, std::memory_order_release);
      continue;
    }
    enter_guest();
    StopReason r = m_hart->run(kSlice);
    m_in_guest.store(false, std::memory_order_release);
    if (r == StopReason::host_trap && handle_trap()) return m_exit;
  }
}

// ---------------------------------------------------------------------------------------------
// Traps that reach HS-mode

bool EmulatedVcpu::read_guest_insn(u64 pc, u32& insn) {
  // As KVM's kvm_riscv_vcpu_unpriv_read: HLVX.HU, then the upper half for a 32-bit instruction.
  TrapInfo t;
  u16 lo = 0, hi = 0;
  if (!m_hart->guest_load(pc, &lo, 2, true, t)) {
    redirect_trap(t.cause == cause::load_guest_page_fault ? cause::insn_guest_page_fault
                  : t.cause == cause::load_page_fault     ? cause::insn_page_fault
                                                          : cause::insn_access_fault,
                  pc);
    return false;
  }
  if ((lo & 3) == 3 && !m_hart->guest_load(pc + 2, &hi, 2, true, t)) {
    redirect_trap(t.cause == cause::load_page_fault ? cause::insn_page_fault : cause::insn_access_fault, pc + 2);
    return false;
  }
  insn = lo | (static_cast<u32>(hi) << 16);
  return true;
}

// Injects an exception into VS-mode as if the hart had delegated it (KVM's trap_redirect).
void EmulatedVcpu::redirect_trap(u64 c, u64 tval) {
  ++m_stats.redirected_traps;
  Hart& h = *m_hart;
  u64 sstatus = 0, vsstatus = 0, sepc = 0, vstvec = 0;
  (void)h.read_csr_raw(csr::sstatus, sstatus);
  (void)h.read_csr_raw(csr::vsstatus, vsstatus);
  (void)h.read_csr_raw(csr::sepc, sepc);
  (void)h.read_csr_raw(csr::vstvec, vstvec);
  // vsstatus.SPP <- the guest's privilege (sstatus.SPP), SPIE <- SIE, SIE <- 0.
  bool sie = vsstatus & mstatus::SIE;
  vsstatus &= ~(mstatus::SPP | mstatus::SPIE | mstatus::SIE);
  if (sstatus & mstatus::SPP) vsstatus |= mstatus::SPP;
  if (sie) vsstatus |= mstatus::SPIE;
  (void)h.write_csr_raw(csr::vsstatus, vsstatus);
  (void)h.write_csr_raw(csr::vscause, c);
  (void)h.write_csr_raw(csr::vstval, tval);
  (void)h.write_csr_raw(csr::vsepc, sepc);
  // Return to the guest's trap vector, in VS-mode.
  (void)h.write_csr_raw(csr::sepc, vstvec & ~3ull);
  (void)h.write_csr_raw(csr::sstatus, sstatus | mstatus::SPP);
}

bool EmulatedVcpu::handle_trap() {
  Hart& h = *m_hart;
  u64 scause = 0, stval = 0, htval = 0, htinst = 0;
  (void)h.read_csr_raw(csr::scause, scause);
  (void)h.read_csr_raw(csr::stval, stval);
  (void)h.read_csr_raw(csr::htval, htval);
  (void)h.read_csr_raw(csr::htinst, htinst);
  if (scause & cause::kInterrupt) return false;  // host interrupts have nothing for us
  switch (scause) {
    case cause::insn_guest_page_fault:
    case cause::load_guest_page_fault:
    case cause::store_guest_page_fault:
      return handle_gstage_fault(scause, (htval << 2) | (stval & 3), stval, htinst);
    case cause::virtual_insn:
      ++m_stats.virtual_insns;
      return handle_virtual_insn(stval);
    case cause::ecall_vs:
      ++m_stats.sbi_calls;
      return handle_sbi();
    case cause::illegal_insn:
    case cause::load_misaligned:
    case cause::store_misaligned:
    case cause::load_access_fault:
    case cause::store_access_fault:
    case cause::insn_access_fault:
      redirect_trap(scause, stval);
      return false;
    default:
      warn(g_warn_unhandled_trap, "vcpu {}: unexpected trap cause {} (stval {:#x}); redirected to the guest", m_id,
           scause, stval);
      redirect_trap(scause, stval);
      return false;
  }
}

bool EmulatedVcpu::handle_gstage_fault(u64 c, u64 gpa, u64 stval, u64 htinst) {
  ++m_stats.gstage_faults;
  bool write = c == cause::store_guest_page_fault;
  int rc = m_vm.map_gpa(gpa, write);
  if (rc == 1) return false;  // mapped: retry the access
  if (rc < -1) {
    InternalErrorExit e;
    e.suberror = KVM_INTERNAL_ERROR_EMULATION;
    e.ndata = 2;
    e.data[0] = gpa;
    e.data[1] = static_cast<u64>(-rc);
    m_exit = e;
    return true;
  }
  if (c == cause::insn_guest_page_fault) {
    // Executing outside RAM: an access fault for the guest, never a host problem.
    redirect_trap(cause::insn_access_fault, stval);
    return false;
  }
  return handle_mmio(gpa, htinst, write);
}

bool EmulatedVcpu::handle_mmio(u64 gpa, u64 htinst, bool write_fault) {
  Hart& h = *m_hart;
  u64 sepc = 0, stval = 0;
  (void)h.read_csr_raw(csr::sepc, sepc);
  (void)h.read_csr_raw(csr::stval, stval);
  u32 insn;
  unsigned insn_len;
  if (htinst & 1) {
    // A transformed instruction: bit 1 clear means the original was compressed (9.6.3).
    insn = static_cast<u32>(htinst) | 3;
    insn_len = (htinst & 2) ? 4 : 2;
  } else {
    if (!read_guest_insn(sepc, insn)) return false;
    insn_len = (insn & 3) == 3 ? 4 : 2;
    if (insn_len == 2) {
      insn = isa::expand_compressed(static_cast<u16>(insn));
      if (!insn) {
        redirect_trap(cause::illegal_insn, 0);
        return false;
      }
    }
  }
  isa::DecodedInsn d = isa::decode32(insn);
  unsigned len = 0;
  bool is_store = false, sign = false;
  switch (d.op) {
    case isa::Op::lb: len = 1; sign = true; break;
    case isa::Op::lh: len = 2; sign = true; break;
    case isa::Op::lw: len = 4; sign = true; break;
    case isa::Op::ld: len = 8; break;
    case isa::Op::lbu: len = 1; break;
    case isa::Op::lhu: len = 2; break;
    case isa::Op::lwu: len = 4; break;
    case isa::Op::sb: len = 1; is_store = true; break;
    case isa::Op::sh: len = 2; is_store = true; break;
    case isa::Op::sw: len = 4; is_store = true; break;
    case isa::Op::sd: len = 8; is_store = true; break;
    default: break;
  }
  if (len == 0 || is_store != write_fault) {
    // Atomics, FP or vector accesses to device memory: an access fault for the guest.
    redirect_trap(write_fault ? cause::store_access_fault : cause::load_access_fault, stval);
    return false;
  }
  if (gpa & (len - 1)) {
    redirect_trap(write_fault ? cause::store_misaligned : cause::load_misaligned, stval);
    return false;
  }
  ++m_stats.mmio_exits;
  MmioExit m;
  m.phys_addr = gpa;
  m.len = len;
  m.is_write = is_store;
  if (is_store) {
    u64 v = h.x(d.rs2);
    std::memcpy(m.data, &v, len);
  }
  m_exit = m;
  m_pending.kind = Pending::Kind::mmio_load;  // completes a load's rd, and advances pc either way
  m_pending.rd = is_store ? 0 : d.rd;
  m_pending.len = len;
  m_pending.insn_len = insn_len;
  m_pending.sign_extend = sign;
  return true;
}

bool EmulatedVcpu::handle_virtual_insn(u64 stval) {
  u32 insn = static_cast<u32>(stval);
  if (insn == 0) {
    u64 sepc = 0;
    (void)m_hart->read_csr_raw(csr::sepc, sepc);
    if (!read_guest_insn(sepc, insn)) return false;
  }
  if ((insn & 3) != 3) {
    redirect_trap(cause::illegal_insn, insn);
    return false;
  }
  isa::DecodedInsn d = isa::decode32(insn);
  if (d.op == isa::Op::wfi) {
    advance_pc(4);
    wait_for_interrupt();
    return false;
  }
  bool is_csr = d.op == isa::Op::csrrw || d.op == isa::Op::csrrs || d.op == isa::Op::csrrc ||
                d.op == isa::Op::csrrwi || d.op == isa::Op::csrrsi || d.op == isa::Op::csrrci;
  constexpr u64 kSeed = 0x015;
  if (is_csr && static_cast<u64>(d.imm) == kSeed) {
    // KVM hands the entropy source CSR to user space (KVM_EXIT_RISCV_CSR).
    bool imm_form = d.op == isa::Op::csrrwi || d.op == isa::Op::csrrsi || d.op == isa::Op::csrrci;
    u64 operand = imm_form ? d.rs1 : m_hart->x(d.rs1);
    CsrExit c;
    c.csr_num = kSeed;
    if (d.op == isa::Op::csrrw || d.op == isa::Op::csrrwi) {
      c.new_value = operand;
      c.write_mask = ~0ull;
    } else if (d.op == isa::Op::csrrs || d.op == isa::Op::csrrsi) {
      c.new_value = ~0ull;
      c.write_mask = operand;
    } else {
      c.new_value = 0;
      c.write_mask = operand;
    }
    m_exit = c;
    m_pending.kind = Pending::Kind::csr;
    m_pending.rd = d.rd;
    return true;
  }
  redirect_trap(cause::illegal_insn, insn);
  return false;
}

}  // namespace rvkvm::hyp
