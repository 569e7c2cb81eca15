#pragma once
// RISC-V ONE_REG register ids, encoded as Linux does (arch/riscv/include/uapi/asm/kvm.h):
// KVM_REG_RISCV | size | type << 24 | subtype << 16 | index, where index is the byte offset within
// the uapi struct divided by the width of its members.
#include <cstdint>

namespace rvkvm::hyp {

inline constexpr std::uint64_t KVM_REG_RISCV = 0x8000000000000000ull;
inline constexpr std::uint64_t KVM_REG_SIZE_MASK = 0x00f0000000000000ull;
inline constexpr unsigned KVM_REG_SIZE_SHIFT = 52;
inline constexpr std::uint64_t KVM_REG_SIZE_U32 = 0x0020000000000000ull;
inline constexpr std::uint64_t KVM_REG_SIZE_U64 = 0x0030000000000000ull;
inline constexpr std::uint64_t KVM_REG_RISCV_TYPE_MASK = 0x00000000ff000000ull;
inline constexpr unsigned KVM_REG_RISCV_TYPE_SHIFT = 24;
inline constexpr std::uint64_t KVM_REG_RISCV_SUBTYPE_MASK = 0x0000000000ff0000ull;
inline constexpr unsigned KVM_REG_RISCV_SUBTYPE_SHIFT = 16;

inline constexpr std::uint64_t KVM_REG_RISCV_CONFIG = 1ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_CORE = 2ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_CSR = 3ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_TIMER = 4ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_FP_F = 5ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_FP_D = 6ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_ISA_EXT = 7ull << KVM_REG_RISCV_TYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_SBI_EXT = 8ull << KVM_REG_RISCV_TYPE_SHIFT;

inline constexpr std::uint64_t KVM_REG_RISCV_CSR_GENERAL = 0ull << KVM_REG_RISCV_SUBTYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_ISA_SINGLE = 0ull << KVM_REG_RISCV_SUBTYPE_SHIFT;
inline constexpr std::uint64_t KVM_REG_RISCV_SBI_SINGLE = 0ull << KVM_REG_RISCV_SUBTYPE_SHIFT;

// struct kvm_riscv_config
enum KvmRiscvConfigReg : std::uint64_t {
  KVM_REG_RISCV_CONFIG_isa = 0, KVM_REG_RISCV_CONFIG_zicbom_block_size = 1, KVM_REG_RISCV_CONFIG_mvendorid = 2,
  KVM_REG_RISCV_CONFIG_marchid = 3, KVM_REG_RISCV_CONFIG_mimpid = 4, KVM_REG_RISCV_CONFIG_zicboz_block_size = 5,
  KVM_REG_RISCV_CONFIG_satp_mode = 6,
};
// struct kvm_riscv_core: regs.pc, then x1..x31, then mode.
inline constexpr std::uint64_t KVM_REG_RISCV_CORE_pc = 0;
inline constexpr std::uint64_t KVM_REG_RISCV_CORE_mode = 32;
inline constexpr std::uint64_t KVM_RISCV_MODE_S = 1, KVM_RISCV_MODE_U = 0;
// struct kvm_riscv_csr
enum KvmRiscvCsrReg : std::uint64_t {
  KVM_REG_RISCV_CSR_sstatus = 0, KVM_REG_RISCV_CSR_sie, KVM_REG_RISCV_CSR_stvec, KVM_REG_RISCV_CSR_sscratch,
  KVM_REG_RISCV_CSR_sepc, KVM_REG_RISCV_CSR_scause, KVM_REG_RISCV_CSR_stval, KVM_REG_RISCV_CSR_sip,
  KVM_REG_RISCV_CSR_satp, KVM_REG_RISCV_CSR_scounteren, KVM_REG_RISCV_CSR_senvcfg, KVM_REG_RISCV_CSR_count,
};
// struct kvm_riscv_timer (all __u64)
enum KvmRiscvTimerReg : std::uint64_t {
  KVM_REG_RISCV_TIMER_frequency = 0, KVM_REG_RISCV_TIMER_time = 1, KVM_REG_RISCV_TIMER_compare = 2,
  KVM_REG_RISCV_TIMER_state = 3,
};
inline constexpr std::uint64_t KVM_RISCV_TIMER_STATE_OFF = 0, KVM_RISCV_TIMER_STATE_ON = 1;
// FP: f[0..31] then fcsr at index 32 (always 32 bits wide).
inline constexpr std::uint64_t KVM_REG_RISCV_FP_fcsr = 32;

enum KvmRiscvIsaExt : std::uint64_t {
  KVM_RISCV_ISA_EXT_A = 0, KVM_RISCV_ISA_EXT_C, KVM_RISCV_ISA_EXT_D, KVM_RISCV_ISA_EXT_F, KVM_RISCV_ISA_EXT_H,
  KVM_RISCV_ISA_EXT_I, KVM_RISCV_ISA_EXT_M, KVM_RISCV_ISA_EXT_SVPBMT, KVM_RISCV_ISA_EXT_SSTC,
  KVM_RISCV_ISA_EXT_SVINVAL, KVM_RISCV_ISA_EXT_ZIHINTPAUSE, KVM_RISCV_ISA_EXT_ZICBOM, KVM_RISCV_ISA_EXT_ZICBOZ,
  KVM_RISCV_ISA_EXT_ZBB, KVM_RISCV_ISA_EXT_SSAIA, KVM_RISCV_ISA_EXT_V, KVM_RISCV_ISA_EXT_SVNAPOT,
  KVM_RISCV_ISA_EXT_ZBA, KVM_RISCV_ISA_EXT_ZBS, KVM_RISCV_ISA_EXT_ZICNTR, KVM_RISCV_ISA_EXT_ZICSR,
  KVM_RISCV_ISA_EXT_ZIFENCEI, KVM_RISCV_ISA_EXT_ZIHPM, KVM_RISCV_ISA_EXT_SMSTATEEN, KVM_RISCV_ISA_EXT_ZICOND,
  KVM_RISCV_ISA_EXT_MAX,
};
enum KvmRiscvSbiExt : std::uint64_t {
  KVM_RISCV_SBI_EXT_V01 = 0, KVM_RISCV_SBI_EXT_TIME, KVM_RISCV_SBI_EXT_IPI, KVM_RISCV_SBI_EXT_RFENCE,
  KVM_RISCV_SBI_EXT_SRST, KVM_RISCV_SBI_EXT_HSM, KVM_RISCV_SBI_EXT_PMU, KVM_RISCV_SBI_EXT_EXPERIMENTAL,
  KVM_RISCV_SBI_EXT_VENDOR, KVM_RISCV_SBI_EXT_DBCN, KVM_RISCV_SBI_EXT_STA, KVM_RISCV_SBI_EXT_SUSP,
  KVM_RISCV_SBI_EXT_MAX,
};

constexpr std::uint64_t riscv_reg_id(std::uint64_t size, std::uint64_t type, std::uint64_t subtype, std::uint64_t index) {
  return KVM_REG_RISCV | size | type | subtype | index;
}
constexpr unsigned one_reg_size(std::uint64_t id) { return 1u << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT); }

}  // namespace rvkvm::hyp
