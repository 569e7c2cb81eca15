#pragma once
// The public API of rvkvm's hypervisor. It mirrors Linux's KVM ioctls (include/uapi/linux/kvm.h and
// arch/riscv/include/uapi/asm/kvm.h) so that a VMM written against it could also run over a real
// /dev/kvm on a RISC-V host: the classes are interfaces, and the emulated backend is one
// implementation. Errors are negative errno values, as the ioctls return them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace rvkvm::hyp {

using u8 = std::uint8_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

enum : int {
  kOk = 0, kEPERM = -1, kENOENT = -2, kEINTR = -4, kENXIO = -6, kE2BIG = -7, kEAGAIN = -11,
  kENOMEM = -12, kEFAULT = -14, kEBUSY = -16, kEEXIST = -17, kEINVAL = -22, kENOSPC = -28,
  kEOPNOTSUPP = -95,
};

// KVM_CHECK_EXTENSION capabilities (KVM_CAP_*).
enum class Cap : u32 {
  KVM_CAP_USER_MEMORY = 3,
  KVM_CAP_NR_VCPUS = 9,
  KVM_CAP_NR_MEMSLOTS = 10,
  KVM_CAP_MP_STATE = 14,
  KVM_CAP_SYNC_MMU = 16,
  KVM_CAP_MAX_VCPUS = 66,
  KVM_CAP_ONE_REG = 70,
  KVM_CAP_READONLY_MEM = 81,
  KVM_CAP_IMMEDIATE_EXIT = 136,
  KVM_CAP_VM_GPA_BITS = 207,
};

// KVM_SET_USER_MEMORY_REGION.
inline constexpr u32 KVM_MEM_LOG_DIRTY_PAGES = 1u << 0;
inline constexpr u32 KVM_MEM_READONLY = 1u << 1;
struct UserMemoryRegion {
  u32 slot = 0;
  u32 flags = 0;
  u64 guest_phys_addr = 0;
  u64 memory_size = 0;  // 0 deletes the slot
  void* userspace_addr = nullptr;
};

// KVM_GET_MP_STATE / KVM_SET_MP_STATE values used on RISC-V.
inline constexpr u32 KVM_MP_STATE_RUNNABLE = 0;
inline constexpr u32 KVM_MP_STATE_STOPPED = 5;

// KVM_INTERRUPT on RISC-V raises or lowers the VS-level external interrupt.
inline constexpr u32 KVM_INTERRUPT_SET = static_cast<u32>(-1);
inline constexpr u32 KVM_INTERRUPT_UNSET = static_cast<u32>(-2);

// ---------------------------------------------------------------------------------------------
// Exits. The exit returned by Vcpu::run() stays valid until the next run(); the VMM writes its
// answer into it (MMIO read data, SBI ret[], CSR ret_value) and the next run() completes it.

enum class ExitReason : u32 {
  KVM_EXIT_MMIO = 6,
  KVM_EXIT_FAIL_ENTRY = 9,
  KVM_EXIT_INTR = 10,
  KVM_EXIT_INTERNAL_ERROR = 17,
  KVM_EXIT_SYSTEM_EVENT = 24,
  KVM_EXIT_RISCV_SBI = 35,
  KVM_EXIT_RISCV_CSR = 36,
};

struct MmioExit {
  u64 phys_addr = 0;
  u8 data[8] = {};
  u32 len = 0;
  bool is_write = false;
};
struct SbiExit {
  u64 extension_id = 0;
  u64 function_id = 0;
  u64 args[6] = {};
  u64 ret[2] = {};  // preset to {SBI_ERR_NOT_SUPPORTED, 0}
};
struct CsrExit {
  u64 csr_num = 0;
  u64 new_value = 0;
  u64 write_mask = 0;
  u64 ret_value = 0;
};
inline constexpr u32 KVM_SYSTEM_EVENT_SHUTDOWN = 1;
inline constexpr u32 KVM_SYSTEM_EVENT_RESET = 2;
struct SystemEventExit {
  u32 type = 0;
  u32 ndata = 0;
  u64 data[16] = {};  // data[0]: the SBI SRST reset reason
};
struct IntrExit {};
struct FailEntryExit {
  u64 hardware_entry_failure_reason = 0;
  u32 cpu = 0;
};
inline constexpr u32 KVM_INTERNAL_ERROR_EMULATION = 1;
struct InternalErrorExit {
  u32 suberror = 0;
  u32 ndata = 0;
  u64 data[16] = {};
};

using Exit = std::variant<MmioExit, SbiExit, CsrExit, SystemEventExit, IntrExit, FailEntryExit, InternalErrorExit>;
[[nodiscard]] ExitReason exit_reason(const Exit& e);
[[nodiscard]] const char* exit_reason_name(ExitReason r);

// ---------------------------------------------------------------------------------------------

class Vcpu {
 public:
  virtual ~Vcpu() = default;
  // KVM_RUN: runs until the VMM has something to do.
  [[nodiscard]] virtual Exit& run() = 0;
  // kvm_run->immediate_exit: when set, run() returns KVM_EXIT_INTR without entering the guest.
  virtual void set_immediate_exit(bool v) = 0;
  // KVM_GET_ONE_REG / KVM_SET_ONE_REG with Linux's RISC-V register ids; `value` points to a buffer
  // of the size the id encodes. KVM_GET_REG_LIST.
  [[nodiscard]] virtual int get_one_reg(u64 id, void* value) = 0;
  [[nodiscard]] virtual int set_one_reg(u64 id, const void* value) = 0;
  [[nodiscard]] virtual int get_reg_list(std::vector<u64>& ids) = 0;
  // KVM_INTERRUPT: KVM_INTERRUPT_SET or KVM_INTERRUPT_UNSET.
  [[nodiscard]] virtual int interrupt(u32 irq) = 0;
  [[nodiscard]] virtual int get_mp_state(u32& state) = 0;
  [[nodiscard]] virtual int set_mp_state(u32 state) = 0;
  // From any thread: makes a running run() return KVM_EXIT_INTR soon (the signal KVM's users send).
  virtual void kick() = 0;
  [[nodiscard]] virtual u32 id() const = 0;
  // Counters, like KVM's binary statistics (KVM_GET_STATS_FD): name and value. Read them while
  // run() is not executing on another thread.
  [[nodiscard]] virtual std::vector<std::pair<std::string, u64>> stats() const = 0;
};

struct VmConfig {
  // G-stage mode: 8 Sv39x4, 9 Sv48x4, 10 Sv57x4 (the widest, by default).
  u32 gstage_mode = 10;
  // Map guest memory with 2 MiB and 1 GiB G-stage pages where the memslot allows.
  bool huge_pages = true;
};

class Vm {
 public:
  virtual ~Vm() = default;
  [[nodiscard]] virtual int check_extension(Cap cap) = 0;
  [[nodiscard]] virtual int set_user_memory_region(const UserMemoryRegion& r) = 0;
  // KVM_GET_DIRTY_LOG: one bit per page of the slot, in 64-bit words, and clears it.
  [[nodiscard]] virtual int get_dirty_log(u32 slot, std::vector<u64>& bitmap) = 0;
  // KVM_CLEAR_DIRTY_LOG: re-protects the pages whose bits are set, starting at first_page.
  [[nodiscard]] virtual int clear_dirty_log(u32 slot, u64 first_page, u64 num_pages, const u64* bitmap) = 0;
  // What Linux's MMU notifiers do: the host is about to reuse [hva, hva+len) (unmap it from the
  // G-stage and flush), or asks whether the guest touched it since the last call (age clears).
  [[nodiscard]] virtual int invalidate_host_range(const void* hva, u64 len) = 0;
  [[nodiscard]] virtual bool age(const void* hva, u64 len) = 0;
  [[nodiscard]] virtual bool test_age(const void* hva, u64 len) = 0;
  // KVM_CREATE_VCPU. The VM owns the VCPU.
  [[nodiscard]] virtual int create_vcpu(u32 id, Vcpu*& out) = 0;
};

struct HypervisorConfig {
  // VMID width; the allocator reuses VMIDs with KVM's version/rollover scheme.
  unsigned vmid_bits = 14;
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  [[nodiscard]] virtual int check_extension(Cap cap) = 0;
  [[nodiscard]] virtual int create_vm(const VmConfig& cfg, std::unique_ptr<Vm>& out) = 0;
};

// The emulated backend: guests run on rvkvm's own harts.
[[nodiscard]] std::unique_ptr<Hypervisor> create_emulated_hypervisor(const HypervisorConfig& cfg = {});

}  // namespace rvkvm::hyp
