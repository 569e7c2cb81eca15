#pragma once
// The emulated backend of the hypervisor API: KVM RISC-V's semantics (arch/riscv/kvm) over rvkvm's
// own harts. Each VCPU owns a Hart configured with host_hs, so every trap that reaches HS-mode stops
// the hart and is handled here, in C++, the way KVM's exit handlers do on real hardware.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/log.h"
#include "common/types.h"
#include "hart/bus.h"
#include "hart/hart.h"
#include "hyp/api/kvm.h"
#include "hyp/api/riscv_regs.h"
#include "hyp/gstage.h"
#include "hyp/page_pool.h"

namespace rvkvm::hyp {

using rvkvm::u16;
using rvkvm::i64;

inline constexpr u32 kMaxVcpus = 64;
inline constexpr u32 kMaxMemslots = 512;
inline constexpr u64 kTimebaseHz = 10'000'000;

// SBI error codes (SBI spec, "Standard SBI Errors").
enum : i64 {
  SBI_SUCCESS = 0, SBI_ERR_FAILED = -1, SBI_ERR_NOT_SUPPORTED = -2, SBI_ERR_INVALID_PARAM = -3,
  SBI_ERR_DENIED = -4, SBI_ERR_INVALID_ADDRESS = -5, SBI_ERR_ALREADY_AVAILABLE = -6,
  SBI_ERR_ALREADY_STARTED = -7, SBI_ERR_ALREADY_STOPPED = -8,
};

// VMIDs with KVM's scheme: a global version; a VM whose VMID is from an older version gets a new
// one, and running out bumps the version and flushes every hart's guest TLB entries.
class VmidAllocator {
 public:
  explicit VmidAllocator(unsigned bits) : m_bits(bits) {}
  [[nodiscard]] unsigned bits() const { return m_bits; }
  [[nodiscard]] u64 version() const { return m_version.load(std::memory_order_acquire); }
  // Returns true if the VMID changed; `rollover` is set when every VM must flush and re-check.
  bool update(u64& vmid, u64& vmid_version, bool& rollover);

 private:
  std::mutex m_mu;
  unsigned m_bits;
  std::atomic<u64> m_version{1};
  u64 m_next = 1;
};

class EmulatedVm;

struct Memslot {
  u32 id = 0;
  u32 flags = 0;
  u64 gpa = 0;
  u64 size = 0;
  u8* hva = nullptr;
  std::vector<u64> dirty;  // KVM's dirty bitmap: one bit per 4 KiB page
  [[nodiscard]] u64 pages() const { return size >> 12; }
  [[nodiscard]] bool contains_gpa(u64 a) const { return a - gpa < size; }
};

// One remote TLB flush request, as KVM queues them per VCPU (kvm_riscv_hfence).
struct HfenceRequest {
  enum class Kind : u8 { vvma_all, vvma_gva, vvma_asid_all, vvma_asid_gva, gvma_all, fence_i } kind;
  u64 addr = 0, size = 0, asid = 0;
};

class EmulatedVcpu final : public Vcpu {
 public:
  EmulatedVcpu(EmulatedVm& vm, u32 id);
  ~EmulatedVcpu() override;

  Exit& run() override;
  void set_immediate_exit(bool v) override { m_immediate_exit.store(v); }
  int get_one_reg(u64 id, void* value) override;
  int set_one_reg(u64 id, const void* value) override;
  int get_reg_list(std::vector<u64>& ids) override;
  int interrupt(u32 irq) override;
  int get_mp_state(u32& state) override;
  int set_mp_state(u32 state) override;
  void kick() override;
  u32 id() const override { return m_id; }
  std::vector<std::pair<std::string, u64>> stats() const override;

  // Cross-VCPU requests (from any thread).
  enum Request : u32 {
    kReqFlushAll = 1u << 0,     // drop every cached translation (VMID rollover, G-stage unmap)
    kReqUpdateHgatp = 1u << 1,  // reload hgatp (new VMID)
    kReqHfence = 1u << 2,       // process the hfence queue
    kReqReset = 1u << 3,        // HSM hart_start: reset to the new entry point
  };
  void make_request(u32 req, bool wake);
  void queue_hfence(const HfenceRequest& r);
  void raise_ipi();
  // HSM hart_start from another VCPU: returns an SBI error code.
  i64 hsm_start(u64 start_addr, u64 opaque);
  [[nodiscard]] u32 mp_state() const { return m_mp_state.load(std::memory_order_acquire); }
  // True while the VCPU's thread is inside its hart (so a synchronous flush must wait for it).
  [[nodiscard]] bool in_guest() const { return m_in_guest.load(std::memory_order_acquire); }
  [[nodiscard]] u64 acked_requests() const { return m_request_epoch.load(std::memory_order_acquire); }

  struct Stats {
    u64 gstage_faults = 0, mmio_exits = 0, sbi_calls = 0, wfi = 0, redirected_traps = 0, virtual_insns = 0;
  };
  [[nodiscard]] Hart& hart() { return *m_hart; }

 private:
  friend class EmulatedVm;
  struct Pending;  // what the next run() must complete

  void reset_guest_state();
  void complete_pending();
  bool process_requests();  // false when the run loop should return to the VMM
  void update_hvip();
  void enter_guest();
  // Handles a trap that stopped the hart; returns true with m_exit set when the VMM is needed.
  bool handle_trap();
  bool handle_gstage_fault(u64 cause, u64 gpa, u64 stval, u64 htinst);
  bool handle_mmio(u64 gpa, u64 htinst, bool is_write_fault);
  bool handle_virtual_insn(u64 stval);
  bool handle_sbi();
  bool forward_sbi(u64 eid, u64 fid, const u64 (&args)[6]);
  void redirect_trap(u64 cause, u64 tval);
  void advance_pc(u64 len);
  void wait_for_interrupt();
  [[nodiscard]] bool wakeup_pending();
  [[nodiscard]] u64 guest_time() const;
  [[nodiscard]] i64 sbi_set_timer(u64 when);
  [[nodiscard]] bool read_guest_insn(u64 pc, u32& insn);
  [[nodiscard]] bool sbi_ext_enabled(u64 kvm_ext) const { return (m_sbi_ext_enabled >> kvm_ext) & 1; }

  EmulatedVm& m_vm;
  const u32 m_id;
  std::unique_ptr<Hart> m_hart;
  Exit m_exit;
  struct Pending {
    enum class Kind : u8 { none, mmio_load, sbi, csr } kind = Kind::none;
    unsigned rd = 0, len = 0, insn_len = 0;
    bool sign_extend = false;
  } m_pending;

  std::atomic<bool> m_immediate_exit{false};
  std::atomic<bool> m_user_kick{false};
  std::atomic<u32> m_requests{0};
  std::atomic<u64> m_request_epoch{0};
  std::atomic<bool> m_in_guest{false};
  std::atomic<u32> m_mp_state{KVM_MP_STATE_RUNNABLE};
  std::atomic<bool> m_irq_external{false};
  std::atomic<bool> m_irq_software{false};
  std::mutex m_hfence_mu;
  std::deque<HfenceRequest> m_hfence_queue;
  bool m_hfence_overflow = false;
  static constexpr std::size_t kHfenceQueueSize = 16;

  // Blocking (WFI, STOPPED): the VCPU thread sleeps here; any wake-up source notifies.
  std::mutex m_sleep_mu;
  std::condition_variable m_sleep_cv;
  u64 m_wake_gen = 0;  // bumped (under m_sleep_mu) by every wake-up

  // HSM start request from another VCPU.
  u64 m_start_addr = 0, m_start_opaque = 0;

  // SBI timer without Sstc: deadline in guest time units, ~0 when off.
  u64 m_sbi_timer_deadline = ~0ull;

  u64 m_vmid_version = 0;
  u64 m_sbi_ext_enabled = ~0ull;  // bit per KVM_RISCV_SBI_EXT_*
  u64 m_isa_ext_enabled = 0;      // bit per KVM_RISCV_ISA_EXT_*
  u64 m_mvendorid = 0, m_marchid = 0, m_mimpid = 0;  // what the guest's SBI BASE reports
  bool m_ran_once = false;
  Stats m_stats;
};

class EmulatedHypervisor;

class EmulatedVm final : public Vm {
 public:
  EmulatedVm(EmulatedHypervisor& hv, const VmConfig& cfg);
  ~EmulatedVm() override;

  int check_extension(Cap cap) override;
  int set_user_memory_region(const UserMemoryRegion& r) override;
  int get_dirty_log(u32 slot, std::vector<u64>& bitmap) override;
  int clear_dirty_log(u32 slot, u64 first_page, u64 num_pages, const u64* bitmap) override;
  int invalidate_host_range(const void* hva, u64 len) override;
  bool age(const void* hva, u64 len) override;
  bool test_age(const void* hva, u64 len) override;
  int create_vcpu(u32 id, Vcpu*& out) override;

  [[nodiscard]] bool ok() const { return m_gstage != nullptr; }
  [[nodiscard]] Bus& bus() { return m_bus; }
  [[nodiscard]] EmulatedHypervisor& hypervisor() { return m_hv; }
  [[nodiscard]] u64 htimedelta() const { return m_htimedelta; }
  void set_htimedelta(u64 v) { m_htimedelta = v; }
  [[nodiscard]] u64 hgatp();
  // Keeps this VM's VMID current; flushes on rollover (called by each VCPU before entering).
  void update_vmid(EmulatedVcpu& v);
  [[nodiscard]] EmulatedVcpu* vcpu_by_hartid(u64 hartid);
  [[nodiscard]] std::vector<EmulatedVcpu*> vcpus();
  // Maps the page for a guest-page fault at `gpa`. Returns: 1 mapped, 0 not in RAM (MMIO),
  // -1 write to read-only memory (MMIO write, as KVM treats it).
  int map_gpa(u64 gpa, bool write);
  // Drops cached translations on every VCPU and waits until those running in the guest have done so.
  void flush_remote_tlbs_sync();
  [[nodiscard]] u64 gpa_bits() const;

 private:
  friend class EmulatedVcpu;
  Memslot* find_slot_locked(u64 gpa);
  std::vector<Memslot>::iterator slot_by_id_locked(u32 id);
  // Calls fn(slot, start, end) for each slot whose host memory overlaps [hva, hva + len), with the
  // overlap as host addresses. m_mmu_mu held.
  template <typename Fn>
  void for_each_slot_overlap_locked(u64 hva, u64 len, Fn&& fn);
  bool host_range_owned(u64 hpa, u64 size) const;
  void unmap_slot_locked(const Memslot& s);

  EmulatedHypervisor& m_hv;
  VmConfig m_cfg;
  Bus m_bus;
  std::unique_ptr<PagePool> m_pool;
  std::unique_ptr<GStage> m_gstage;
  mutable std::mutex m_mmu_mu;  // memslots and the G-stage
  std::vector<Memslot> m_slots;
  std::mutex m_vcpu_mu;
  std::vector<std::unique_ptr<EmulatedVcpu>> m_vcpus;
  u64 m_htimedelta = 0;
  u64 m_vmid = 0, m_vmid_version = 0;
};

class EmulatedHypervisor final : public Hypervisor {
 public:
  explicit EmulatedHypervisor(const HypervisorConfig& cfg) : m_vmids(cfg.vmid_bits) {}
  int check_extension(Cap cap) override;
  int create_vm(const VmConfig& cfg, std::unique_ptr<Vm>& out) override;
  [[nodiscard]] VmidAllocator& vmids() { return m_vmids; }
  // Every VM's VCPUs, for VMID rollover.
  void register_vm(EmulatedVm* vm);
  void unregister_vm(EmulatedVm* vm);
  void request_all(u32 req);

 private:
  VmidAllocator m_vmids;
  std::mutex m_mu;
  std::vector<EmulatedVm*> m_vms;
};

// Host monotonic time in timebase ticks (10 MHz), the hart's ClockKind::host.
[[nodiscard]] u64 host_time_ticks();

}  // namespace rvkvm::hyp
