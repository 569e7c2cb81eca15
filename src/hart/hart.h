#pragma once
// One RV64GC hart with the H extension. It is the "silicon" of rvkvm: either the CPU of a full
// machine (firmware in M-mode, traps handled by guest software), or the CPU under the hypervisor,
// where only V=1 code runs and every trap that reaches HS-mode stops run() and is handed to the
// C++ hypervisor, which reads the trap CSRs just as KVM does on real hardware.
#include <array>
#include <atomic>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/types.h"
#include "hart/bus.h"
#include "hart/csr.h"

namespace rvkvm {

// A trap as a value: what the hart records before it vectors (or hands the trap to the host).
struct TrapInfo {
  u64 cause = 0;    // without the interrupt bit
  u64 tval = 0;
  u64 tval2 = 0;    // GPA >> 2 for guest-page faults
  u64 tinst = 0;
  bool gva = false; // tval holds a guest virtual address
  u8 addr_offset = 0;  // for a misaligned access, where the faulting part starts (htinst)
};

enum class StopReason : u8 {
  budget,     // the instruction budget ran out
  wfi,        // WFI with no enabled interrupt pending: the caller decides how long to wait
  host_trap,  // (hypervisor world) a trap was taken into HS-mode; read scause/stval/htval/htinst
  kicked,     // kick() was called from another thread
};

enum class Access : u8 { fetch, load, store };

// Time base. `host` follows the host monotonic clock; `instret` derives time from retired
// instructions, which makes bare-metal runs reproducible (WFI then skips ahead to the next timer).
enum class ClockKind : u8 { host, instret };

// The host clock shared by every hart with ClockKind::host: ticks of `hz` since a process-wide
// epoch, and the CLOCK_MONOTONIC nanosecond value at which a tick count is reached.
[[nodiscard]] u64 host_clock_ticks(u64 hz);
[[nodiscard]] u64 host_clock_deadline_ns(u64 ticks, u64 hz);

struct HartConfig {
  u64 hartid = 0;
  // Traps into HS-mode (and M-mode, which the hypervisor world never uses) stop run() instead of
  // vectoring through stvec: the hypervisor in C++ plays HS-mode.
  bool host_hs = false;
  ClockKind clock = ClockKind::host;
  u64 timebase_hz = 10'000'000;
  u64 insns_per_tick = 10;   // for ClockKind::instret
  bool mtimecmp_in_hart = true;  // MTIP is derived from mtime >= mtimecmp (a CLINT writes it)
};

class Hart {
 public:
  Hart(Bus& bus, const HartConfig& cfg);
  ~Hart();
  Hart(const Hart&) = delete;
  Hart& operator=(const Hart&) = delete;

  void reset(u64 pc);
  // Executes at most `budget` instructions.
  [[nodiscard]] StopReason run(u64 budget);

  // Architectural state, for loaders, debuggers and the hypervisor.
  [[nodiscard]] u64 x(unsigned r) const { return r == 0 ? 0 : m_x[r]; }
  void set_x(unsigned r, u64 v) {
    if (r != 0 && r < 32) m_x[r] = v;
  }
  [[nodiscard]] u64 f(unsigned r) const { return m_f[r & 31]; }
  void set_f(unsigned r, u64 v) { m_f[r & 31] = v; }
  [[nodiscard]] u64 pc() const { return m_pc; }
  void set_pc(u64 pc) { m_pc = pc; }
  [[nodiscard]] Priv priv() const { return m_priv; }
  [[nodiscard]] bool virt() const { return m_virt; }
  void set_priv(Priv p, bool v);
  [[nodiscard]] u64 instret() const { return m_instret; }
  [[nodiscard]] u64 hartid() const { return m_cfg.hartid; }

  // CSR access by the host (debugger/hypervisor): no privilege checks, no V=1 aliasing, but the
  // same WARL legalisation as an instruction would apply. Returns false for unknown CSRs.
  bool read_csr_raw(u16 num, u64& value);
  bool write_csr_raw(u16 num, u64 value);

  // Interrupt lines driven by devices, safe from any thread: MSIP, MTIP, MEIP, SEIP.
  void set_irq_line(u64 mip_bit, bool level);
  void set_hgeip(u64 bits);
  void kick();

  // Time.
  [[nodiscard]] u64 time_now() const;
  void set_mtimecmp(u64 v) { m_mtimecmp.store(v, std::memory_order_relaxed); }
  [[nodiscard]] u64 mtimecmp() const { return m_mtimecmp.load(std::memory_order_relaxed); }
  // The earliest armed timer deadline (in time units), or ~0 if none; for WFI.
  [[nodiscard]] u64 next_timer_deadline() const;
  // For ClockKind::instret: move time forward (WFI skipping ahead).
  void advance_time_to(u64 t);
  // True if an interrupt that WFI waits for is pending (mip & mie != 0, after delegation views).
  [[nodiscard]] bool wfi_wakeup_pending();

  // The hypervisor world (HartConfig::host_hs): the C++ hypervisor plays HS-mode.
  // Executes SRET as HS-mode software would: enters the guest when hstatus.SPV is set.
  void sret() { do_sret(); }
  // Reads guest memory as HLV (or HLVX when `execute`) executed in HS-mode would: through the
  // VS-stage and G-stage with the privilege in hstatus.SPVP. Returns false with the fault in `t`.
  [[nodiscard]] bool guest_load(u64 gva, void* out, unsigned size, bool execute, TrapInfo& t);
  [[nodiscard]] bool guest_store(u64 gva, const void* in, unsigned size, TrapInfo& t);
  // What HFENCE.VVMA / SFENCE.VMA (one page, or all) and FENCE.I do, for remote fences.
  void flush_tlb(u64 va, bool all) { tlb_flush(va, all); }
  // FENCE.I does not discard decoded code: pages are re-checked against memory when next entered.
  void fence_i() { ++m_code_epoch; }

  // Tracing: when set, each executed instruction is printed (slow path; decode cache bypassed).
  void set_trace(std::FILE* out) { m_trace = out; }

  // Flushes every cached translation and decoded instruction (e.g. after the host changes memory).
  void flush_all_caches();
  // Drops decoded instructions for host range (the host wrote code into guest memory).
  void invalidate_code(const u8* host, u64 len);

  [[nodiscard]] Bus& bus() { return m_bus; }
  [[nodiscard]] const TrapInfo& last_trap() const { return m_last_trap; }

  struct Stats {
    u64 tlb_misses = 0;
    u64 decoded_pages = 0;
    u64 pages_revalidated = 0;
    u64 tlb_flush_all = 0, tlb_flush_page = 0, tlb_flush_asid = 0;
    u64 gstage_walks = 0, gstage_cache_hits = 0;
    u64 pages_redecoded = 0;
    u64 traps = 0;
    u64 interrupts = 0;
  };
  [[nodiscard]] const Stats& stats() const { return m_stats; }

  // The hart's decode cache and TLB entries are public types so the interpreter can be written as
  // free helpers in hart/*.cc; they are not part of the API.
  struct CachedInsn {
    const void* label;
    i32 imm;
    u8 rd, rs1, rs2, len;  // len: 2 or 4 bytes
  };
  static constexpr unsigned kPageInsns = 2048;
  struct DecodedPage {
    const u8* host;
    u64 epoch;  // m_code_epoch when `code` was last known to match memory
    CachedInsn insns[kPageInsns + 2];  // two sentinels past the end lead to a fresh lookup
    u8 code[4096];  // the bytes the entries were decoded from
  };
  // A soft-TLB entry: `tag` is the page-aligned virtual address (~0 when empty), so a hit check is
  // one mask and compare, which also sends misaligned accesses to the slow path.
  struct TlbEntry {
    u64 tag = ~0ull;
    u64 host_off = 0;  // host address = guest virtual address + host_off
  };
  struct FetchTlbEntry {
    u64 tag = ~0ull;
    u64 host_off = 0;
    DecodedPage* page = nullptr;
  };
  static constexpr unsigned kTlbSize = 1024;
  // One set of direct-mapped TLBs per translation context (privilege, V, satp/vsatp/hgatp with
  // their ASID/VMID, SUM/MXR): switching context swaps a pointer instead of flushing.
  struct TlbSet {
    std::array<TlbEntry, kTlbSize> load;
    std::array<TlbEntry, kTlbSize> store;
    std::array<FetchTlbEntry, kTlbSize> fetch;
    bool used = false;
    // Superpage and NAPOT leaves whose 4 KiB pieces are in this set (virtual base, size), so a
    // fence by address can drop every piece of its leaf. Too many: the set is flushed whole.
    std::vector<std::pair<u64, u64>> large;
    bool large_overflow = false;
    void clear();
    void note_large(u64 base, u64 size);
  };

 private:
  friend struct Interp;

  // The translation regime of one kind of access.
  struct XlateMode {
    Priv priv;
    bool virt;
    bool sum, mxr;   // effective for the first stage (vsstatus for V=1, plus sstatus.MXR)
    bool hs_mxr;     // sstatus.MXR, which also applies to the G-stage
    bool hlvx;       // execute permission instead of read, in both stages
  };
  [[nodiscard]] XlateMode fetch_mode() const;
  [[nodiscard]] XlateMode data_mode() const;
  // HLV/HLVX/HSV: as though V=1 at privilege hstatus.SPVP, with vsstatus.SUM/MXR (9.3.2).
  [[nodiscard]] XlateMode hlv_mode(bool hlvx) const;

  // Address translation: vaddr -> physical (host-physical in the hypervisor world).
  [[nodiscard]] bool translate(u64 va, Access acc, const XlateMode& m, u64& pa, TrapInfo& t);
  [[nodiscard]] bool walk_stage1(u64 va, Access acc, const XlateMode& m, u64 atp, bool g_stage_after,
                                 u64& out, TrapInfo& t);
  [[nodiscard]] bool walk_gstage(u64 gpa, Access acc, Access perm, const XlateMode& m, bool implicit, u64 gva,
                                 bool gva_valid, u64& hpa, TrapInfo& t);

  // Memory slow paths (TLB miss, page crossing, MMIO, faults). `t` receives the trap.
  [[nodiscard]] bool load_slow(u64 va, void* out, unsigned size, TrapInfo& t);
  [[nodiscard]] bool store_slow(u64 va, const void* in, unsigned size, TrapInfo& t);
  [[nodiscard]] bool load_mode(u64 va, void* out, unsigned size, const XlateMode& m, TrapInfo& t);
  [[nodiscard]] bool store_mode(u64 va, const void* in, unsigned size, const XlateMode& m, TrapInfo& t);
  // Translates an atomic access (store permission) to a host pointer; RAM only.
  [[nodiscard]] u8* amo_ptr(u64 va, unsigned size, bool is_lr, TrapInfo& t);
  // Fills the fetch TLB for `pc` and returns its decoded page (creating it), or nullptr on a trap.
  [[nodiscard]] DecodedPage* fetch_page(u64 pc, TrapInfo& t);
  [[nodiscard]] bool fetch_raw(u64 pc, u32& raw, TrapInfo& t);
  void fill_tlb(TlbEntry* tlb, u64 va, u8* host_page);
  void note_code_page_store(const u8* page_host, unsigned off, unsigned size);

  // Traps and interrupts.
  // Takes the trap: updates the trap CSRs and pc. Returns true if the trap went to the host.
  bool take_trap(const TrapInfo& t, bool interrupt, u64 epc);
  [[nodiscard]] u64 effective_mip();
  [[nodiscard]] int pending_interrupt();  // interrupt number to take now, or -1
  void do_mret();
  void do_sret();

  // CSRs executed by instructions. Returns false with `t` set when the access traps.
  enum class CsrOp : u8 { rw, rs, rc };
  // No CSR has read side effects here, so an instruction that would not read (rd = x0) reads anyway.
  [[nodiscard]] bool csr_insn(u16 num, CsrOp op, u64 operand, bool do_write, u64& old, TrapInfo& t,
                              bool& sync);
  [[nodiscard]] u16 vs_alias(u16 num) const;
  [[nodiscard]] bool csr_write(u16 num, u64 v, bool& sync);
  [[nodiscard]] static bool affects_context(u16 num);
  [[nodiscard]] bool write_csr_internal(u16 num, u64 v);
  [[nodiscard]] bool csr_access_trap(u16 num, bool exists, bool write, TrapInfo& t);  // true if it traps
  void write_mstatus(u64 v);
  void write_vsstatus(u64 v);
  void update_contexts();
  void update_sd();
  [[nodiscard]] u64 counter_value(bool instret) const;
  void set_counter(bool instret, u64 v, bool by_insn = true);
  void mark_fs_dirty();
  void tlb_flush(u64 va, bool all);
  // SFENCE.VMA/HFENCE.VVMA with rs1 = x0 and an ASID: only that address space's translations
  // (in the current VMID when `virt`).
  void tlb_flush_asid(u64 asid, bool virt);
  void hfence_gvma() {
    tlb_flush(0, true);
    gcache_flush();
  }

  // Decode cache.
  DecodedPage* decoded_page_for(const u8* host_page);
  void drop_decoded_pages();
  // Called when a page is entered after a FENCE.I: re-decode it only if its bytes changed.
  void revalidate_page(DecodedPage* page);
  u64 m_code_epoch = 0;

  Bus& m_bus;
  HartConfig m_cfg;

  // Integer registers: x[32] is a sink for writes to x0, so handlers need no branch.
  alignas(64) u64 m_x[33] = {};
  u64 m_f[32] = {};
  u64 m_pc = 0;
  Priv m_priv = Priv::M;
  bool m_virt = false;

  // The TLB sets of the current fetch and data contexts.
  TlbSet* m_tlb_fetch = nullptr;
  TlbSet* m_tlb_data = nullptr;
  bool m_fp_on = false;     // FP instructions are enabled (mstatus.FS, and vsstatus.FS when V=1)
  bool m_fs_dirty = false;  // FS already Dirty: FP writes need not update the status registers
  u64 m_last_walk_leaf_size = 0;  // the first-stage leaf size of the last walk (4 KiB if none)
  struct CtxKey {
    u64 words[5];
    bool operator==(const CtxKey&) const = default;
  };
  std::vector<CtxKey> m_ctx_keys;
  std::vector<std::unique_ptr<TlbSet>> m_tlb_sets;  // parallel to m_ctx_keys
  [[nodiscard]] CtxKey ctx_key(const XlateMode& m) const;
  [[nodiscard]] TlbSet* ctx_set(const CtxKey& key);

  // G-stage translations (guest-physical page -> host page, with the leaf's bits). Fences of the
  // VS-stage leave them valid; HFENCE.GVMA, hgatp and menvcfg writes and full flushes drop them.
  // A two-stage walk then costs one lookup per guest page-table level instead of a G-stage walk.
  struct GstageEntry {
    u64 gpa_page = ~0ull;
    u64 hpa_page = 0;
    u64 pte = 0;
  };
  static constexpr unsigned kGstageCacheSize = 512;
  std::array<GstageEntry, kGstageCacheSize> m_gcache{};
  void gcache_flush() { m_gcache.fill({}); }

  std::unordered_map<const u8*, std::unique_ptr<DecodedPage>> m_pages;
  std::vector<std::unique_ptr<DecodedPage>> m_retired_pages;  // freed at the next safe point
  CachedInsn m_straddle[3] = {};  // an instruction that crosses a page, decoded for one execution

  // LR/SC reservation (host address and the value loaded).
  u8* m_resv_host = nullptr;
  u64 m_resv_value = 0;

  // CSR state.
  u64 m_mstatus = 0, m_medeleg = 0, m_mideleg = 0, m_mie = 0, m_mip_sw = 0, m_mtvec = 0,
      m_mscratch = 0, m_mepc = 0, m_mcause = 0, m_mtval = 0, m_mtval2 = 0, m_mtinst = 0,
      m_mcounteren = 0, m_menvcfg = 0, m_mcountinhibit = 0;
  u64 m_stvec = 0, m_sscratch = 0, m_sepc = 0, m_scause = 0, m_stval = 0, m_satp = 0,
      m_scounteren = 0, m_senvcfg = 0, m_stimecmp = ~0ull;
  u64 m_hstatus = 0, m_hedeleg = 0, m_hideleg = 0, m_hvip = 0, m_hcounteren = 0,
      m_htimedelta = 0, m_htval = 0, m_htinst = 0, m_hgatp = 0, m_henvcfg = 0, m_hgeie = 0;
  u64 m_vsstatus = 0, m_vstvec = 0, m_vsscratch = 0, m_vsepc = 0, m_vscause = 0,
      m_vstval = 0, m_vsatp = 0, m_vstimecmp = ~0ull;
  u32 m_fflags = 0, m_frm = 0;
  u64 m_mcycle_offset = 0, m_minstret_offset = 0, m_mcycle_frozen = 0, m_minstret_frozen = 0;
  std::array<u64, 16> m_pmpcfg{};
  std::array<u64, 64> m_pmpaddr{};
  u64 m_hgatp_vmid_mask = 0;

  // Asynchronous inputs.
  std::atomic<u64> m_lines{0};      // MSIP, MTIP, MEIP, SEIP from devices
  std::atomic<u64> m_hgeip{0};
  std::atomic<u64> m_mtimecmp{~0ull};
  std::atomic<bool> m_kick{false};

  // Time.
  u64 m_time_offset = 0;

  u64 m_instret = 0;
  u64 m_insn_in_flight = 0;  // instructions retired in the current chunk, not yet in m_instret
  TrapInfo m_last_trap;
  Stats m_stats;
  std::FILE* m_trace = nullptr;
};

}  // namespace rvkvm
