// SBI in the hypervisor (RISC-V SBI specification v2.0; Linux arch/riscv/kvm/vcpu_sbi*.c): BASE,
// TIME, IPI, RFENCE, HSM and SRST are handled here; the legacy console, DBCN and every unknown
// extension go to the VMM as KVM_EXIT_RISCV_SBI with ret[0] preset to SBI_ERR_NOT_SUPPORTED.
#include "hart/csr.h"
#include "hyp/emulated.h"

namespace rvkvm::hyp {
namespace {

enum : u64 {
  SBI_EXT_0_1_SET_TIMER = 0x0, SBI_EXT_0_1_CONSOLE_PUTCHAR = 0x1, SBI_EXT_0_1_CONSOLE_GETCHAR = 0x2,
  SBI_EXT_0_1_CLEAR_IPI = 0x3, SBI_EXT_0_1_SEND_IPI = 0x4, SBI_EXT_0_1_REMOTE_FENCE_I = 0x5,
  SBI_EXT_0_1_REMOTE_SFENCE_VMA = 0x6, SBI_EXT_0_1_REMOTE_SFENCE_VMA_ASID = 0x7, SBI_EXT_0_1_SHUTDOWN = 0x8,
  SBI_EXT_BASE = 0x10, SBI_EXT_TIME = 0x54494D45, SBI_EXT_IPI = 0x735049, SBI_EXT_RFENCE = 0x52464E43,
  SBI_EXT_HSM = 0x48534D, SBI_EXT_SRST = 0x53525354, SBI_EXT_PMU = 0x504D55, SBI_EXT_DBCN = 0x4442434E,
  SBI_EXT_SUSP = 0x53555350, SBI_EXT_STA = 0x535441,
  SBI_EXT_EXPERIMENTAL_START = 0x08000000, SBI_EXT_EXPERIMENTAL_END = 0x08FFFFFF,
  SBI_EXT_VENDOR_START = 0x09000000, SBI_EXT_VENDOR_END = 0x09FFFFFF,
};
enum : u64 {
  SBI_EXT_BASE_GET_SPEC_VERSION = 0, SBI_EXT_BASE_GET_IMP_ID = 1, SBI_EXT_BASE_GET_IMP_VERSION = 2,
  SBI_EXT_BASE_PROBE_EXT = 3, SBI_EXT_BASE_GET_MVENDORID = 4, SBI_EXT_BASE_GET_MARCHID = 5,
  SBI_EXT_BASE_GET_MIMPID = 6,
};
enum : u64 {
  SBI_EXT_RFENCE_REMOTE_FENCE_I = 0, SBI_EXT_RFENCE_REMOTE_SFENCE_VMA = 1, SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID = 2,
};
enum : u64 { SBI_EXT_HSM_HART_START = 0, SBI_EXT_HSM_HART_STOP = 1, SBI_EXT_HSM_HART_STATUS = 2, SBI_EXT_HSM_HART_SUSPEND = 3 };
enum : u64 { SBI_HSM_STATE_STARTED = 0, SBI_HSM_STATE_STOPPED = 1 };
enum : u64 { SBI_HSM_SUSPEND_RET_DEFAULT = 0, SBI_HSM_SUSPEND_NON_RET_DEFAULT = 0x80000000 };
enum : u64 { SBI_SRST_RESET_TYPE_SHUTDOWN = 0, SBI_SRST_RESET_TYPE_COLD_REBOOT = 1, SBI_SRST_RESET_TYPE_WARM_REBOOT = 2 };
enum : u64 { SBI_SRST_RESET_REASON_NONE = 0, SBI_SRST_RESET_REASON_SYS_FAILURE = 1 };

constexpr u64 kSbiSpecVersion = 2ull << 24;  // v2.0: major in bits 30:24
constexpr u64 kSbiImplIdKvm = 3;             // the implementation id KVM reports
constexpr u64 kSbiImplVersion = 1;

// The KVM extension id behind an SBI extension id, or KVM_RISCV_SBI_EXT_MAX when none.
u64 kvm_ext_of(u64 eid) {
  if (eid <= SBI_EXT_0_1_SHUTDOWN) return KVM_RISCV_SBI_EXT_V01;
  switch (eid) {
    case SBI_EXT_TIME: return KVM_RISCV_SBI_EXT_TIME;
    case SBI_EXT_IPI: return KVM_RISCV_SBI_EXT_IPI;
    case SBI_EXT_RFENCE: return KVM_RISCV_SBI_EXT_RFENCE;
    case SBI_EXT_SRST: return KVM_RISCV_SBI_EXT_SRST;
    case SBI_EXT_HSM: return KVM_RISCV_SBI_EXT_HSM;
    case SBI_EXT_PMU: return KVM_RISCV_SBI_EXT_PMU;
    case SBI_EXT_DBCN: return KVM_RISCV_SBI_EXT_DBCN;
    case SBI_EXT_STA: return KVM_RISCV_SBI_EXT_STA;
    case SBI_EXT_SUSP: return KVM_RISCV_SBI_EXT_SUSP;
    default: break;
  }
  if (eid >= SBI_EXT_EXPERIMENTAL_START && eid <= SBI_EXT_EXPERIMENTAL_END) return KVM_RISCV_SBI_EXT_EXPERIMENTAL;
  if (eid >= SBI_EXT_VENDOR_START && eid <= SBI_EXT_VENDOR_END) return KVM_RISCV_SBI_EXT_VENDOR;
  return KVM_RISCV_SBI_EXT_MAX;
}

// Extensions implemented here; the rest are forwarded.
bool handled_in_hyp(u64 kvm_ext) {
  switch (kvm_ext) {
    case KVM_RISCV_SBI_EXT_TIME: case KVM_RISCV_SBI_EXT_IPI: case KVM_RISCV_SBI_EXT_RFENCE:
    case KVM_RISCV_SBI_EXT_SRST: case KVM_RISCV_SBI_EXT_HSM:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Hands the call to the VMM as KVM_EXIT_RISCV_SBI with ret[] preset to {NOT_SUPPORTED, 0}; the
// next run() copies ret[] to a0/a1 and steps past the ecall.
bool EmulatedVcpu::forward_sbi(u64 eid, u64 fid, const u64 (&args)[6]) {
  SbiExit e;
  e.extension_id = eid;
  e.function_id = fid;
  std::copy(args, args + 6, e.args);
  e.ret[0] = static_cast<u64>(SBI_ERR_NOT_SUPPORTED);
  e.ret[1] = 0;
  m_exit = e;
  m_pending.kind = Pending::Kind::sbi;
  return true;
}

bool EmulatedVcpu::handle_sbi() {
  Hart& h = *m_hart;
  const u64 eid = h.x(17), fid = h.x(16);
  u64 a[6];
  for (unsigned i = 0; i < 6; ++i) a[i] = h.x(10 + i);
  const u64 kvm_ext = kvm_ext_of(eid);
  const bool enabled = kvm_ext < KVM_RISCV_SBI_EXT_MAX && sbi_ext_enabled(kvm_ext);
  i64 err = SBI_SUCCESS;
  u64 value = 0;
  bool legacy = eid <= SBI_EXT_0_1_SHUTDOWN;

  // Resolves the SBI hart mask (hart_mask, hart_mask_base) to VCPUs; false if any hart is invalid.
  // Like KVM, the harts that exist are served even when the mask also names some that do not;
  // the call then reports SBI_ERR_INVALID_PARAM.
  auto for_each_target = [&](u64 mask, u64 base, auto&& fn) -> bool {
    if (base == ~0ull) {
      for (EmulatedVcpu* v : m_vm.vcpus()) fn(*v);
      return true;
    }
    bool all_valid = true;
    for (unsigned bit = 0; bit < 64; ++bit) {
      if (!((mask >> bit) & 1)) continue;
      EmulatedVcpu* v = base + bit < base ? nullptr : m_vm.vcpu_by_hartid(base + bit);
      if (v) fn(*v);
      else all_valid = false;
    }
    return all_valid;
  };
  // The legacy calls pass a pointer to the hart mask in guest memory (null: all harts).
  auto legacy_mask = [&](u64 ptr, u64& mask, u64& base) -> bool {
    if (ptr == 0) {
      base = ~0ull;
      return true;
    }
    TrapInfo t;
    if (!h.guest_load(ptr, &mask, 8, false, t)) return false;
    base = 0;
    return true;
  };
  auto fence_targets = [&](u64 mask, u64 base, HfenceRequest r) {
    return for_each_target(mask, base, [&](EmulatedVcpu& v) { v.queue_hfence(r); });
  };

  if (legacy) {
    if (!enabled) {
      err = SBI_ERR_NOT_SUPPORTED;
    } else {
      switch (eid) {
        case SBI_EXT_0_1_SET_TIMER: err = sbi_set_timer(a[0]); break;
        case SBI_EXT_0_1_CONSOLE_PUTCHAR:
        case SBI_EXT_0_1_CONSOLE_GETCHAR: {
          return forward_sbi(eid, fid, a);
        }
        case SBI_EXT_0_1_CLEAR_IPI: {
          u64 hvip = 0;
          (void)h.read_csr_raw(csr::hvip, hvip);
          (void)h.write_csr_raw(csr::hvip, hvip & ~irq::VSSIP);
          break;
        }
        case SBI_EXT_0_1_SEND_IPI:
        case SBI_EXT_0_1_REMOTE_FENCE_I:
        case SBI_EXT_0_1_REMOTE_SFENCE_VMA:
        case SBI_EXT_0_1_REMOTE_SFENCE_VMA_ASID: {
          u64 mask = 0, base = 0;
          if (!legacy_mask(a[0], mask, base)) {
            err = SBI_ERR_INVALID_ADDRESS;
            break;
          }
          bool ok;
          if (eid == SBI_EXT_0_1_SEND_IPI)
            ok = for_each_target(mask, base, [](EmulatedVcpu& v) { v.raise_ipi(); });
          else if (eid == SBI_EXT_0_1_REMOTE_FENCE_I)
            ok = fence_targets(mask, base, {HfenceRequest::Kind::fence_i});
          else
            ok = fence_targets(mask, base, {HfenceRequest::Kind::vvma_gva, a[1], a[2], a[3]});
          if (!ok) err = SBI_ERR_INVALID_PARAM;
          break;
        }
        case SBI_EXT_0_1_SHUTDOWN: {
          SystemEventExit e;
          e.type = KVM_SYSTEM_EVENT_SHUTDOWN;
          e.ndata = 1;
          e.data[0] = SBI_SRST_RESET_REASON_NONE;
          m_exit = e;
          m_pending.kind = Pending::Kind::sbi;
          return true;
        }
      }
    }
    h.set_x(10, static_cast<u64>(err));
    advance_pc(4);
    return false;
  }

  if (eid == SBI_EXT_BASE) {
    switch (fid) {
      case SBI_EXT_BASE_GET_SPEC_VERSION: value = kSbiSpecVersion; break;
      case SBI_EXT_BASE_GET_IMP_ID: value = kSbiImplIdKvm; break;
      case SBI_EXT_BASE_GET_IMP_VERSION: value = kSbiImplVersion; break;
      case SBI_EXT_BASE_PROBE_EXT: {
        u64 k = kvm_ext_of(a[0]);
        if (k == KVM_RISCV_SBI_EXT_EXPERIMENTAL || k == KVM_RISCV_SBI_EXT_VENDOR) {
          // Only the VMM knows its experimental and vendor extensions: KVM forwards the probe.
          return forward_sbi(eid, fid, a);
        }
        value = (a[0] == SBI_EXT_BASE) || (k < KVM_RISCV_SBI_EXT_MAX && sbi_ext_enabled(k));
        break;
      }
      case SBI_EXT_BASE_GET_MVENDORID: value = m_mvendorid; break;
      case SBI_EXT_BASE_GET_MARCHID: value = m_marchid; break;
      case SBI_EXT_BASE_GET_MIMPID: value = m_mimpid; break;
      default: err = SBI_ERR_NOT_SUPPORTED; break;
    }
  } else if (kvm_ext < KVM_RISCV_SBI_EXT_MAX && !enabled) {
    err = SBI_ERR_NOT_SUPPORTED;
  } else if (!handled_in_hyp(kvm_ext)) {
    return forward_sbi(eid, fid, a);
  } else {
    switch (kvm_ext) {
      case KVM_RISCV_SBI_EXT_TIME:
        if (fid == 0) err = sbi_set_timer(a[0]);
        else err = SBI_ERR_NOT_SUPPORTED;
        break;
      case KVM_RISCV_SBI_EXT_IPI:
        if (fid != 0) err = SBI_ERR_NOT_SUPPORTED;
        else if (!for_each_target(a[0], a[1], [](EmulatedVcpu& v) { v.raise_ipi(); })) err = SBI_ERR_INVALID_PARAM;
        break;
      case KVM_RISCV_SBI_EXT_RFENCE: {
        bool ok = true;
        switch (fid) {
          case SBI_EXT_RFENCE_REMOTE_FENCE_I: ok = fence_targets(a[0], a[1], {HfenceRequest::Kind::fence_i}); break;
          case SBI_EXT_RFENCE_REMOTE_SFENCE_VMA:
            ok = fence_targets(a[0], a[1], {HfenceRequest::Kind::vvma_gva, a[2], a[3], 0});
            break;
          case SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID:
            ok = fence_targets(a[0], a[1], {HfenceRequest::Kind::vvma_asid_gva, a[2], a[3], a[4]});
            break;
          default: err = SBI_ERR_NOT_SUPPORTED; break;  // the HFENCE calls need nested virtualisation
        }
        if (!ok) err = SBI_ERR_INVALID_PARAM;
        break;
      }
      case KVM_RISCV_SBI_EXT_HSM:
        switch (fid) {
          case SBI_EXT_HSM_HART_START: {
            EmulatedVcpu* t = m_vm.vcpu_by_hartid(a[0]);
            err = t ? t->hsm_start(a[1], a[2]) : SBI_ERR_INVALID_PARAM;
            break;
          }
          case SBI_EXT_HSM_HART_STOP:
            // The hart stops here; it restarts only through hart_start, so no return value.
            m_mp_state.store(KVM_MP_STATE_STOPPED, std::memory_order_release);
            return false;
          case SBI_EXT_HSM_HART_STATUS: {
            EmulatedVcpu* t = m_vm.vcpu_by_hartid(a[0]);
            if (!t) err = SBI_ERR_INVALID_PARAM;
            else value = t->mp_state() == KVM_MP_STATE_STOPPED ? SBI_HSM_STATE_STOPPED : SBI_HSM_STATE_STARTED;
            break;
          }
          case SBI_EXT_HSM_HART_SUSPEND: {
            u64 type = a[0] & 0xffffffffull;
            if (type == SBI_HSM_SUSPEND_RET_DEFAULT) {
              h.set_x(10, SBI_SUCCESS);
              advance_pc(4);
              wait_for_interrupt();
              return false;
            }
            // Non-retentive suspend is not offered; every other type is invalid here, as in KVM.
            err = type == SBI_HSM_SUSPEND_NON_RET_DEFAULT ? SBI_ERR_NOT_SUPPORTED : SBI_ERR_INVALID_PARAM;
            break;
          }
          default: err = SBI_ERR_NOT_SUPPORTED; break;
        }
        break;
      case KVM_RISCV_SBI_EXT_SRST: {
        if (fid != 0) {
          err = SBI_ERR_NOT_SUPPORTED;
          break;
        }
        u64 type = a[0] & 0xffffffffull, reason = a[1] & 0xffffffffull;
        bool type_ok = type <= SBI_SRST_RESET_TYPE_WARM_REBOOT;
        bool reason_ok = reason <= SBI_SRST_RESET_REASON_SYS_FAILURE || reason >= 0xe0000000;
        if (!type_ok || !reason_ok) {
          err = (type >= 0xf0000000) ? SBI_ERR_NOT_SUPPORTED : SBI_ERR_INVALID_PARAM;
          break;
        }
        // Like KVM: every VCPU, the caller included, stops, and the VMM sees the system event with
        // the caller's pc still on the ecall.
        for (EmulatedVcpu* v : m_vm.vcpus()) (void)v->set_mp_state(KVM_MP_STATE_STOPPED);
        SystemEventExit e;
        e.type = type == SBI_SRST_RESET_TYPE_SHUTDOWN ? KVM_SYSTEM_EVENT_SHUTDOWN : KVM_SYSTEM_EVENT_RESET;
        e.ndata = 1;
        e.data[0] = reason;
        m_exit = e;
        m_pending.kind = Pending::Kind::none;
        return true;
      }
      default: err = SBI_ERR_NOT_SUPPORTED; break;
    }
  }
  h.set_x(10, static_cast<u64>(err));
  h.set_x(11, value);
  advance_pc(4);
  return false;
}

}  // namespace rvkvm::hyp
