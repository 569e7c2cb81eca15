// KVM_GET_ONE_REG / KVM_SET_ONE_REG / KVM_GET_REG_LIST with Linux's RISC-V register ids
// (arch/riscv/kvm/vcpu_onereg.c): CONFIG, CORE, CSR (general), TIMER, FP_F, FP_D, ISA_EXT, SBI_EXT.
#include <cstring>

#include "hart/csr.h"
#include "hyp/emulated.h"

namespace rvkvm::hyp {
namespace {

constexpr u64 kTypeMask = KVM_REG_RISCV_TYPE_MASK;
constexpr u64 kSubtypeMask = KVM_REG_RISCV_SUBTYPE_MASK;
constexpr u64 kIndexMask = 0xffff;

// The guest's S-level CSRs live in the hart's VS CSRs (V=1 aliasing), except scounteren and
// senvcfg, which have no VS copy.
constexpr u16 kGuestCsr[KVM_REG_RISCV_CSR_count] = {
    csr::vsstatus, csr::vsie, csr::vstvec, csr::vsscratch, csr::vsepc, csr::vscause,
    csr::vstval,   csr::vsip, csr::vsatp,  csr::scounteren, csr::senvcfg,
};

// misa-style letters for CONFIG.isa.
u64 isa_letters(u64 exts) {
  u64 v = 0;
  auto set = [&](u64 ext, char c) {
    if ((exts >> ext) & 1) v |= 1ull << (c - 'a');
  };
  set(KVM_RISCV_ISA_EXT_A, 'a');
  set(KVM_RISCV_ISA_EXT_C, 'c');
  set(KVM_RISCV_ISA_EXT_D, 'd');
  set(KVM_RISCV_ISA_EXT_F, 'f');
  set(KVM_RISCV_ISA_EXT_H, 'h');
  set(KVM_RISCV_ISA_EXT_I, 'i');
  set(KVM_RISCV_ISA_EXT_M, 'm');
  return v;
}

// Extensions the hart can offer to a guest (no nested virtualisation, no vector, no AIA).
constexpr u64 kIsaExtAvailable =
    (1ull << KVM_RISCV_ISA_EXT_A) | (1ull << KVM_RISCV_ISA_EXT_C) | (1ull << KVM_RISCV_ISA_EXT_D) |
    (1ull << KVM_RISCV_ISA_EXT_F) | (1ull << KVM_RISCV_ISA_EXT_I) | (1ull << KVM_RISCV_ISA_EXT_M) |
    (1ull << KVM_RISCV_ISA_EXT_SVPBMT) | (1ull << KVM_RISCV_ISA_EXT_SSTC) | (1ull << KVM_RISCV_ISA_EXT_SVINVAL) |
    (1ull << KVM_RISCV_ISA_EXT_ZIHINTPAUSE) | (1ull << KVM_RISCV_ISA_EXT_ZBB) | (1ull << KVM_RISCV_ISA_EXT_SVNAPOT) |
    (1ull << KVM_RISCV_ISA_EXT_ZBA) | (1ull << KVM_RISCV_ISA_EXT_ZBS) | (1ull << KVM_RISCV_ISA_EXT_ZICNTR) |
    (1ull << KVM_RISCV_ISA_EXT_ZICSR) | (1ull << KVM_RISCV_ISA_EXT_ZIFENCEI) | (1ull << KVM_RISCV_ISA_EXT_ZICOND);
// Extensions a guest cannot run without on this hart: they stay on.
constexpr u64 kIsaExtFixed = (1ull << KVM_RISCV_ISA_EXT_I) | (1ull << KVM_RISCV_ISA_EXT_ZICSR) |
                             (1ull << KVM_RISCV_ISA_EXT_ZIFENCEI) | (1ull << KVM_RISCV_ISA_EXT_ZICNTR);
constexpr u64 kSbiExtAvailable =
    (1ull << KVM_RISCV_SBI_EXT_V01) | (1ull << KVM_RISCV_SBI_EXT_TIME) | (1ull << KVM_RISCV_SBI_EXT_IPI) |
    (1ull << KVM_RISCV_SBI_EXT_RFENCE) | (1ull << KVM_RISCV_SBI_EXT_SRST) | (1ull << KVM_RISCV_SBI_EXT_HSM) |
    (1ull << KVM_RISCV_SBI_EXT_EXPERIMENTAL) | (1ull << KVM_RISCV_SBI_EXT_VENDOR) | (1ull << KVM_RISCV_SBI_EXT_DBCN);

}  // namespace

int EmulatedVcpu::get_one_reg(u64 id, void* value) {
  if (!value) return kEFAULT;
  if ((id & 0xff00000000000000ull) != KVM_REG_RISCV) return kEINVAL;
  Hart& h = *m_hart;
  const unsigned size = one_reg_size(id);
  const u64 type = id & kTypeMask, sub = id & kSubtypeMask, idx = id & kIndexMask;
  u64 v = 0;
  auto need = [&](unsigned want) { return size == want; };
  switch (type) {
    case KVM_REG_RISCV_CONFIG:
      if (!need(8) || sub) return kEINVAL;
      switch (idx) {
        case KVM_REG_RISCV_CONFIG_isa: v = isa_letters(m_isa_ext_enabled); break;
        case KVM_REG_RISCV_CONFIG_mvendorid: v = m_mvendorid; break;
        case KVM_REG_RISCV_CONFIG_marchid: v = m_marchid; break;
        case KVM_REG_RISCV_CONFIG_mimpid: v = m_mimpid; break;
        case KVM_REG_RISCV_CONFIG_satp_mode: v = atp::Sv57; break;  // the widest the hart walks
        default: return kENOENT;
      }
      break;
    case KVM_REG_RISCV_CORE:
      if (!need(8) || sub) return kEINVAL;
      if (idx == KVM_REG_RISCV_CORE_pc) {
        if (h.virt()) v = h.pc();
        else (void)h.read_csr_raw(csr::sepc, v);
      } else if (idx >= 1 && idx <= 31) {
        v = h.x(static_cast<unsigned>(idx));
      } else if (idx == KVM_REG_RISCV_CORE_mode) {
        u64 s = 0;
        (void)h.read_csr_raw(csr::sstatus, s);
        bool smode = h.virt() ? h.priv() == Priv::S : (s & mstatus::SPP) != 0;
        v = smode ? KVM_RISCV_MODE_S : KVM_RISCV_MODE_U;
      } else {
        return kENOENT;
      }
      break;
    case KVM_REG_RISCV_CSR:
      if (sub != KVM_REG_RISCV_CSR_GENERAL) return kENOENT;
      if (!need(8)) return kEINVAL;
      if (idx >= KVM_REG_RISCV_CSR_count) return kENOENT;
      (void)h.read_csr_raw(kGuestCsr[idx], v);
      break;
    case KVM_REG_RISCV_TIMER:
      if (!need(8) || sub) return kEINVAL;
      switch (idx) {
        case KVM_REG_RISCV_TIMER_frequency: v = kTimebaseHz; break;
        case KVM_REG_RISCV_TIMER_time: v = guest_time(); break;
        case KVM_REG_RISCV_TIMER_compare: {
          u64 henv = 0;
          (void)h.read_csr_raw(csr::henvcfg, henv);
          if (henv & envcfg::STCE) (void)h.read_csr_raw(csr::vstimecmp, v);
          else v = m_sbi_timer_deadline;
          break;
        }
        case KVM_REG_RISCV_TIMER_state: {
          u64 henv = 0, cmp = 0;
          (void)h.read_csr_raw(csr::henvcfg, henv);
          (void)h.read_csr_raw(csr::vstimecmp, cmp);
          bool on = (henv & envcfg::STCE) ? cmp != ~0ull : m_sbi_timer_deadline != ~0ull;
          v = on ? KVM_RISCV_TIMER_STATE_ON : KVM_RISCV_TIMER_STATE_OFF;
          break;
        }
        default: return kENOENT;
      }
      break;
    case KVM_REG_RISCV_FP_F:
      if (sub || !((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_F) & 1)) return kENOENT;
      if (!need(4)) return kEINVAL;
      if (idx < 32) v = static_cast<u32>(h.f(static_cast<unsigned>(idx)));
      else if (idx == KVM_REG_RISCV_FP_fcsr) (void)h.read_csr_raw(csr::fcsr, v);
      else return kENOENT;
      break;
    case KVM_REG_RISCV_FP_D:
      if (sub || !((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_D) & 1)) return kENOENT;
      if (idx < 32) {
        if (!need(8)) return kEINVAL;
        v = h.f(static_cast<unsigned>(idx));
      } else if (idx == KVM_REG_RISCV_FP_fcsr) {
        if (!need(4)) return kEINVAL;
        (void)h.read_csr_raw(csr::fcsr, v);
      } else {
        return kENOENT;
      }
      break;
    case KVM_REG_RISCV_ISA_EXT:
      if (!need(8) || sub != KVM_REG_RISCV_ISA_SINGLE) return kEINVAL;
      if (idx >= KVM_RISCV_ISA_EXT_MAX || !((kIsaExtAvailable >> idx) & 1)) return kENOENT;
      v = (m_isa_ext_enabled >> idx) & 1;
      break;
    case KVM_REG_RISCV_SBI_EXT:
      if (!need(8) || sub != KVM_REG_RISCV_SBI_SINGLE) return kEINVAL;
      if (idx >= KVM_RISCV_SBI_EXT_MAX || !((kSbiExtAvailable >> idx) & 1)) return kENOENT;
      v = (m_sbi_ext_enabled >> idx) & 1;
      break;
    default:
      return kENOENT;
  }
  std::memcpy(value, &v, size);
  return kOk;
}

int EmulatedVcpu::set_one_reg(u64 id, const void* value) {
  if (!value) return kEFAULT;
  if ((id & 0xff00000000000000ull) != KVM_REG_RISCV) return kEINVAL;
  Hart& h = *m_hart;
  const unsigned size = one_reg_size(id);
  const u64 type = id & kTypeMask, sub = id & kSubtypeMask, idx = id & kIndexMask;
  if (size != 4 && size != 8) return kEINVAL;
  u64 v = 0;
  std::memcpy(&v, value, size);
  auto need = [&](unsigned want) { return size == want; };
  switch (type) {
    case KVM_REG_RISCV_CONFIG: {
      if (!need(8) || sub) return kEINVAL;
      u64 cur = 0;
      if (int rc = get_one_reg(id, &cur); rc) return rc;
      if (idx == KVM_REG_RISCV_CONFIG_isa) {
        // Like KVM: the single-letter extensions can be turned off before the first run.
        if (m_ran_once && v != cur) return kEBUSY;
        u64 letters_mask = isa_letters(kIsaExtAvailable);
        if (v & ~letters_mask) return kEINVAL;
        for (auto [ext, c] : {std::pair{KVM_RISCV_ISA_EXT_A, 'a'}, {KVM_RISCV_ISA_EXT_C, 'c'},
                              {KVM_RISCV_ISA_EXT_D, 'd'}, {KVM_RISCV_ISA_EXT_F, 'f'}, {KVM_RISCV_ISA_EXT_M, 'm'}}) {
          if ((v >> (c - 'a')) & 1) m_isa_ext_enabled |= 1ull << ext;
          else m_isa_ext_enabled &= ~(1ull << ext);
        }
        return kOk;
      }
      if (idx == KVM_REG_RISCV_CONFIG_mvendorid || idx == KVM_REG_RISCV_CONFIG_marchid ||
          idx == KVM_REG_RISCV_CONFIG_mimpid) {
        // The machine ids a guest sees can be chosen until the VCPU first runs (KVM).
        if (v == cur) return kOk;
        if (m_ran_once) return kEBUSY;
        (idx == KVM_REG_RISCV_CONFIG_mvendorid ? m_mvendorid
         : idx == KVM_REG_RISCV_CONFIG_marchid ? m_marchid
                                               : m_mimpid) = v;
        return kOk;
      }
      // The other CONFIG registers are read-only: writing the current value is accepted.
      return v == cur ? kOk : kEINVAL;
    }
    case KVM_REG_RISCV_CORE:
      if (!need(8) || sub) return kEINVAL;
      if (idx == KVM_REG_RISCV_CORE_pc) {
        if (h.virt()) h.set_pc(v);
        else (void)h.write_csr_raw(csr::sepc, v);
        // A new pc usually means freshly loaded code (boot, reboot): forget decoded instructions.
        h.fence_i();
      } else if (idx >= 1 && idx <= 31) {
        h.set_x(static_cast<unsigned>(idx), v);
      } else if (idx == KVM_REG_RISCV_CORE_mode) {
        if (v != KVM_RISCV_MODE_S && v != KVM_RISCV_MODE_U) return kEINVAL;
        if (h.virt()) {
          h.set_priv(v == KVM_RISCV_MODE_S ? Priv::S : Priv::U, true);
        } else {
          u64 s = 0;
          (void)h.read_csr_raw(csr::sstatus, s);
          s = v == KVM_RISCV_MODE_S ? (s | mstatus::SPP) : (s & ~mstatus::SPP);
          (void)h.write_csr_raw(csr::sstatus, s);
        }
      } else {
        return kENOENT;
      }
      return kOk;
    case KVM_REG_RISCV_CSR:
      if (sub != KVM_REG_RISCV_CSR_GENERAL) return kENOENT;
      if (!need(8)) return kEINVAL;
      if (idx >= KVM_REG_RISCV_CSR_count) return kENOENT;
      (void)h.write_csr_raw(kGuestCsr[idx], v);
      return kOk;
    case KVM_REG_RISCV_TIMER:
      if (!need(8) || sub) return kEINVAL;
      switch (idx) {
        case KVM_REG_RISCV_TIMER_frequency: return v == kTimebaseHz ? kOk : kEINVAL;
        case KVM_REG_RISCV_TIMER_time:
          // Guest time is per VM (htimedelta), as in KVM.
          m_vm.set_htimedelta(v - host_time_ticks());
          (void)h.write_csr_raw(csr::htimedelta, m_vm.htimedelta());
          return kOk;
        case KVM_REG_RISCV_TIMER_compare: (void)sbi_set_timer(v); return kOk;
        case KVM_REG_RISCV_TIMER_state:
          if (v == KVM_RISCV_TIMER_STATE_OFF) {
            m_sbi_timer_deadline = ~0ull;
            (void)h.write_csr_raw(csr::vstimecmp, ~0ull);
          } else if (v != KVM_RISCV_TIMER_STATE_ON) {
            return kEINVAL;
          }
          return kOk;
        default: return kENOENT;
      }
    case KVM_REG_RISCV_FP_F:
      if (sub || !((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_F) & 1)) return kENOENT;
      if (!need(4)) return kEINVAL;
      if (idx < 32) h.set_f(static_cast<unsigned>(idx), 0xffffffff00000000ull | static_cast<u32>(v));
      else if (idx == KVM_REG_RISCV_FP_fcsr) (void)h.write_csr_raw(csr::fcsr, v & 0xff);
      else return kENOENT;
      return kOk;
    case KVM_REG_RISCV_FP_D:
      if (sub || !((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_D) & 1)) return kENOENT;
      if (idx < 32) {
        if (!need(8)) return kEINVAL;
        h.set_f(static_cast<unsigned>(idx), v);
      } else if (idx == KVM_REG_RISCV_FP_fcsr) {
        if (!need(4)) return kEINVAL;
        (void)h.write_csr_raw(csr::fcsr, v & 0xff);
      } else {
        return kENOENT;
      }
      return kOk;
    case KVM_REG_RISCV_ISA_EXT:
      if (!need(8) || sub != KVM_REG_RISCV_ISA_SINGLE) return kEINVAL;
      if (idx >= KVM_RISCV_ISA_EXT_MAX || !((kIsaExtAvailable >> idx) & 1)) return kENOENT;
      if (v > 1) return kEINVAL;
      if (((m_isa_ext_enabled >> idx) & 1) == v) return kOk;
      if ((kIsaExtFixed >> idx) & 1) return kEINVAL;  // cannot be turned off at all
      if (m_ran_once) return kEBUSY;
      m_isa_ext_enabled = (m_isa_ext_enabled & ~(1ull << idx)) | (v << idx);
      if (idx == KVM_RISCV_ISA_EXT_SSTC || idx == KVM_RISCV_ISA_EXT_SVPBMT) {
        u64 henv = 0;
        (void)h.read_csr_raw(csr::henvcfg, henv);
        u64 bit = idx == KVM_RISCV_ISA_EXT_SSTC ? envcfg::STCE : envcfg::PBMTE;
        (void)h.write_csr_raw(csr::henvcfg, v ? (henv | bit) : (henv & ~bit));
      }
      return kOk;
    case KVM_REG_RISCV_SBI_EXT:
      if (!need(8) || sub != KVM_REG_RISCV_SBI_SINGLE) return kEINVAL;
      if (idx >= KVM_RISCV_SBI_EXT_MAX || !((kSbiExtAvailable >> idx) & 1)) return kENOENT;
      if (v > 1) return kEINVAL;
      if (m_ran_once) return kEBUSY;  // KVM refuses any SBI_EXT write once the VCPU has run
      m_sbi_ext_enabled = (m_sbi_ext_enabled & ~(1ull << idx)) | (v << idx);
      return kOk;
    default:
      return kENOENT;
  }
}

int EmulatedVcpu::get_reg_list(std::vector<u64>& ids) {
  ids.clear();
  auto u64id = [](u64 type, u64 sub, u64 idx) { return riscv_reg_id(KVM_REG_SIZE_U64, type, sub, idx); };
  auto u32id = [](u64 type, u64 sub, u64 idx) { return riscv_reg_id(KVM_REG_SIZE_U32, type, sub, idx); };
  for (u64 i : {KVM_REG_RISCV_CONFIG_isa, KVM_REG_RISCV_CONFIG_mvendorid, KVM_REG_RISCV_CONFIG_marchid,
                KVM_REG_RISCV_CONFIG_mimpid, KVM_REG_RISCV_CONFIG_satp_mode})
    ids.push_back(u64id(KVM_REG_RISCV_CONFIG, 0, i));
  for (u64 i = 0; i <= KVM_REG_RISCV_CORE_mode; ++i) ids.push_back(u64id(KVM_REG_RISCV_CORE, 0, i));
  for (u64 i = 0; i < KVM_REG_RISCV_CSR_count; ++i) ids.push_back(u64id(KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_GENERAL, i));
  for (u64 i = 0; i <= KVM_REG_RISCV_TIMER_state; ++i) ids.push_back(u64id(KVM_REG_RISCV_TIMER, 0, i));
  if ((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_F) & 1) {
    for (u64 i = 0; i < 32; ++i) ids.push_back(u32id(KVM_REG_RISCV_FP_F, 0, i));
    ids.push_back(u32id(KVM_REG_RISCV_FP_F, 0, KVM_REG_RISCV_FP_fcsr));
  }
  if ((m_isa_ext_enabled >> KVM_RISCV_ISA_EXT_D) & 1) {
    for (u64 i = 0; i < 32; ++i) ids.push_back(u64id(KVM_REG_RISCV_FP_D, 0, i));
    ids.push_back(u32id(KVM_REG_RISCV_FP_D, 0, KVM_REG_RISCV_FP_fcsr));
  }
  for (u64 i = 0; i < KVM_RISCV_ISA_EXT_MAX; ++i)
    if ((kIsaExtAvailable >> i) & 1) ids.push_back(u64id(KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_SINGLE, i));
  for (u64 i = 0; i < KVM_RISCV_SBI_EXT_MAX; ++i)
    if ((kSbiExtAvailable >> i) & 1) ids.push_back(u64id(KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE, i));
  return kOk;
}

}  // namespace rvkvm::hyp
