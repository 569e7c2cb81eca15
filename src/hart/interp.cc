// The interpreter: threaded dispatch (computed goto) over per-page caches of decoded instructions.
// Each row of isa/insn_table.h has a handler here, labelled L_<name>; a missing one fails the build.
// Hot paths (ALU, branches, TLB-hit loads and stores) stay inside this function; everything that can
// trap or touch devices is out of line in hart.cc / mmu.cc.
#include <cstring>

#include <fmt/format.h>

#include "hart/fpu.h"
#include "hart/hart.h"
#include "hart/interp_labels.h"
#include "isa/isa.h"

namespace rvkvm {

std::atomic<const void* const*> g_interp_labels{nullptr};

namespace {

constexpr i64 kChunk = 2048;  // instructions between interrupt, timer and kick checks

using isa::Fmt;
using isa::Op;

bool writes_integer_rd(Fmt f) {
  switch (f) {
    case Fmt::R: case Fmt::R1: case Fmt::I: case Fmt::Shift: case Fmt::U: case Fmt::J: case Fmt::Jalr:
    case Fmt::Load: case Fmt::Csr: case Fmt::CsrI: case Fmt::Lr: case Fmt::Amo: case Fmt::XFrm:
    case Fmt::XF: case Fmt::XFF: case Fmt::Hlv:
      return true;
    default:
      return false;
  }
}

bool has_rounding_mode(Fmt f) {
  return f == Fmt::R4 || f == Fmt::FRrm || f == Fmt::FR1rm || f == Fmt::XFrm || f == Fmt::FXrm;
}

void pack(const isa::DecodedInsn& d, Hart::CachedInsn& out, const void* const* labels) {
  out.label = labels[static_cast<std::size_t>(d.op) + (d.len == 2 ? kLabelCompressedBase : 0)];
  out.rs1 = d.rs1;
  out.rs2 = d.rs2;
  out.len = d.len;
  out.rd = d.rd;
  out.imm = static_cast<i32>(d.imm);
  if (d.op == Op::illegal) {
    out.imm = static_cast<i32>(d.raw);
    return;
  }
  Fmt f = isa::info(d.op).fmt;
  if (writes_integer_rd(f) && d.rd == 0) out.rd = 32;  // writes to x0 land in the sink register
  // FP operations carry their rounding mode (and FMA its third source) in the immediate.
  if (has_rounding_mode(f)) out.imm = d.rm | (f == Fmt::R4 ? (d.rs3 << 8) : 0);
}

// The "transformed instruction" reported in htinst/mtinst for a guest-page fault on an explicit
// load or store (9.6.3): immediate and rs1 fields cleared, compressed forms expanded with bit 1 clear.
u64 transformed_insn(u32 raw, unsigned addr_offset) {
  bool compressed = (raw & 3) != 3;
  u32 full = compressed ? isa::expand_compressed(static_cast<u16>(raw)) : raw;
  isa::DecodedInsn d = isa::decode32(full);
  if (d.op == Op::illegal) return 0;
  u32 t;
  switch (isa::info(d.op).fmt) {
    case Fmt::Load: case Fmt::FLoad: t = full & 0x00007fffu; break;
    case Fmt::Store: case Fmt::FStore: t = full & 0x01f0707fu; break;
    case Fmt::Lr: case Fmt::Amo: case Fmt::Hlv: case Fmt::Hsv: t = full & ~(0x1fu << 15); break;
    default: return 0;
  }
  if (compressed) t &= ~2u;
  // Addr Offset (bits 19:15): how far into the access the faulting part starts (misaligned only).
  return t | ((addr_offset & 31u) << 15);
}

inline u32 unbox32(u64 v) { return (v >> 32) == 0xffffffffu ? static_cast<u32>(v) : fpu::kCanonicalNaN32; }
inline u64 box32(u32 v) { return 0xffffffff00000000ull | v; }

}  // namespace

struct Interp {
  static StopReason run(Hart& h, u64 budget);
};

StopReason Hart::run(u64 budget) { return Interp::run(*this, budget); }

StopReason Interp::run(Hart& h, u64 budget) {
  static const void* const kLabels[kLabelCount] = {
#define RVKVM_X(name, mnem, match, mask, ext, fmt) &&L4_##name,
      RVKVM_INSN_TABLE(RVKVM_X)
#undef RVKVM_X
      &&L4_illegal,
#define RVKVM_X(name, mnem, match, mask, ext, fmt) &&L2_##name,
      RVKVM_INSN_TABLE(RVKVM_X)
#undef RVKVM_X
      &&L2_illegal, &&L_decode, &&L_lookup,
  };
  g_interp_labels.store(kLabels, std::memory_order_relaxed);
  if (budget == 0) return StopReason::budget;

  u64* const x = h.m_x;
  u64* const f = h.m_f;
  u64 pc = h.m_pc;
  Hart::CachedInsn* ip = nullptr;
  Hart::DecodedPage* page = nullptr;
  u64 page_va = 1;  // virtual address of `page`; 1 never matches
  TrapInfo trap;
  u64 remaining = budget;
  i64 chunk = 0, n = 0;
  u64 untimely = 0;  // budget spent on traps, which retire nothing
  StopReason reason = StopReason::budget;

#define RVKVM_CAT_(a, b) a##b
#define RVKVM_CAT(a, b) RVKVM_CAT_(a, b)
#define LEN() ILEN
#define RD x[ip->rd]
#define RS1 x[ip->rs1]
#define RS2 x[ip->rs2]
#define IMM (static_cast<i64>(ip->imm))
#define NEXT()                                         \
  do {                                                 \
    pc += ILEN;                                        \
    ip += ILEN / 2;                                    \
    if (RVKVM_UNLIKELY(--n == 0)) goto L_new_chunk;    \
    goto* ip->label;                                   \
  } while (0)
#define JUMP(target)                                                 \
  do {                                                               \
    pc = (target);                                                   \
    if (RVKVM_UNLIKELY(--n == 0)) goto L_new_chunk;                  \
    if (RVKVM_LIKELY((pc & ~0xfffull) == page_va)) {                 \
      ip = &page->insns[(pc & 0xfff) >> 1];                          \
      goto* ip->label;                                               \
    }                                                                \
    goto L_lookup;                                                   \
  } while (0)
// Retire this instruction, then re-evaluate contexts and interrupts before the next one.
#define SYNC_NEXT()          \
  do {                       \
    pc += LEN();             \
    --n;                     \
    h.update_contexts();     \
    goto L_new_chunk;        \
  } while (0)
#define RAISE(c)             \
  do {                       \
    trap = {};               \
    trap.cause = (c);        \
    goto L_raise_insn;       \
  } while (0)
#define ILLEGAL() RAISE(cause::illegal_insn)
#define VIRTUAL() RAISE(cause::virtual_insn)

// TLB hit: same page-aligned tag and naturally aligned (misaligned accesses take the slow path).
#define TLB_HIT(e, a, T) (((a) & (~0xfffull | (sizeof(T) - 1))) == (e).tag)
#define LOAD(T, addr, out)                                                                \
  do {                                                                                    \
    u64 a_ = (addr);                                                                      \
    const Hart::TlbEntry& e_ = h.m_tlb_data->load[(a_ >> 12) & (Hart::kTlbSize - 1)];     \
    if (RVKVM_LIKELY(TLB_HIT(e_, a_, T))) {                                               \
      T t_;                                                                               \
      std::memcpy(&t_, reinterpret_cast<const void*>(a_ + e_.host_off), sizeof(T));       \
      (out) = t_;                                                                         \
    } else {                                                                              \
      T t_;                                                                               \
      h.m_insn_in_flight = static_cast<u64>(chunk - n) - untimely; /* devices read time */ \
      if (!h.load_slow(a_, &t_, sizeof(T), trap)) goto L_mem_fault;                       \
      (out) = t_;                                                                         \
    }                                                                                     \
  } while (0)
#define STORE(T, addr, val)                                                               \
  do {                                                                                    \
    u64 a_ = (addr);                                                                      \
    T v_ = static_cast<T>(val);                                                           \
    const Hart::TlbEntry& e_ = h.m_tlb_data->store[(a_ >> 12) & (Hart::kTlbSize - 1)];    \
    if (RVKVM_LIKELY(TLB_HIT(e_, a_, T))) {                                               \
      std::memcpy(reinterpret_cast<void*>(a_ + e_.host_off), &v_, sizeof(T));             \
    } else {                                                                              \
      h.m_insn_in_flight = static_cast<u64>(chunk - n) - untimely;                        \
      if (!h.store_slow(a_, &v_, sizeof(T), trap)) goto L_mem_fault;                      \
    }                                                                                     \
  } while (0)

  goto L_new_chunk;

  // ------------------------------------------------------------------------------------------
  // Dispatch machinery

L_new_chunk : {
  u64 executed = static_cast<u64>(chunk - n);
  h.m_instret += executed - std::min(executed, untimely);
  h.m_insn_in_flight = 0;
  untimely = 0;
  chunk = n = 0;  // accounted: L_exit must not count these again
  remaining -= std::min(remaining, executed);
  if (remaining == 0) goto L_exit;
  if (h.m_kick.exchange(false, std::memory_order_acq_rel)) {
    reason = StopReason::kicked;
    chunk = n = 0;
    goto L_exit;
  }
  int irq = h.pending_interrupt();
  if (irq >= 0) {
    TrapInfo it{};
    it.cause = static_cast<u64>(irq);
    bool to_host = h.take_trap(it, true, pc);
    pc = h.m_pc;
    if (to_host) {
      reason = StopReason::host_trap;
      chunk = n = 0;
      goto L_exit;
    }
  }
  chunk = n = h.m_trace ? 1 : static_cast<i64>(std::min<u64>(remaining, kChunk));
  page_va = 1;
  if (RVKVM_UNLIKELY(h.m_trace != nullptr)) {
    u32 raw = 0;
    TrapInfo ignored;
    if (h.fetch_raw(pc, raw, ignored))
      fmt::print(h.m_trace, "{:016x} ({:08x}) {}\n", pc, raw, isa::disassemble(raw, pc));
    else
      fmt::print(h.m_trace, "{:016x} (fetch fault)\n", pc);
  }
  goto L_lookup;
}

L_lookup : {
  const Hart::FetchTlbEntry& e = h.m_tlb_fetch->fetch[(pc >> 12) & (Hart::kTlbSize - 1)];
  if (RVKVM_LIKELY(e.tag == (pc & ~0xfffull) && e.page)) {
    page = e.page;
    if (RVKVM_UNLIKELY(page->epoch != h.m_code_epoch)) h.revalidate_page(page);
  } else {
    page = h.fetch_page(pc, trap);
    if (!page) goto L_take_trap;
  }
  page_va = pc & ~0xfffull;
  ip = &page->insns[(pc & 0xfff) >> 1];
  goto* ip->label;
}

L_decode : {
  unsigned off = static_cast<unsigned>(pc & 0xfff);
  const u8* hp = page->host + off;
  u16 lo;
  std::memcpy(&lo, hp, 2);
  u32 raw = lo;
  if ((lo & 3) == 3) {
    if (off == 0xffe) {
      // The instruction crosses into the next page: decode it for this execution only.
      if (!h.fetch_raw(pc, raw, trap)) goto L_take_trap;
      pack(isa::decode(raw), h.m_straddle[0], kLabels);
      h.m_straddle[1].label = h.m_straddle[2].label = kLabels[kLabelLookupIndex];
      ip = h.m_straddle;
      goto* ip->label;
    }
    u16 hi;
    std::memcpy(&hi, hp + 2, 2);
    raw |= static_cast<u32>(hi) << 16;
  }
  pack(isa::decode(raw), *ip, kLabels);
  goto* ip->label;
}

L_mem_fault:
  // Explicit loads and stores report the transformed instruction on guest-page faults.
  if ((trap.cause == cause::load_guest_page_fault || trap.cause == cause::store_guest_page_fault) && trap.tinst == 0) {
    u32 raw = 0;
    TrapInfo ignored;
    if (h.fetch_raw(pc, raw, ignored)) trap.tinst = transformed_insn(raw, trap.addr_offset);
  }
  goto L_take_trap;

L_raise_insn : {
  // Illegal and virtual instruction exceptions report the instruction bits in xtval (KVM relies on it).
  u32 raw = 0;
  TrapInfo ignored;
  if (trap.cause == cause::illegal_insn || trap.cause == cause::virtual_insn) {
    if (h.fetch_raw(pc, raw, ignored)) trap.tval = (raw & 3) == 3 ? raw : (raw & 0xffff);
  }
  goto L_take_trap;
}

L_take_trap : {
  bool to_host = h.take_trap(trap, false, pc);
  pc = h.m_pc;
  ++untimely;
  if (to_host) {
    --n;
    reason = StopReason::host_trap;
    goto L_exit;
  }
  page_va = 1;
  if (--n == 0) goto L_new_chunk;
  goto L_lookup;
}

L_exit : {
  u64 executed = static_cast<u64>(chunk - n);
  h.m_instret += executed - std::min(executed, untimely);
  h.m_insn_in_flight = 0;
  h.m_pc = pc;
  return reason;
}

// Helpers for the handlers.
#define W(v) static_cast<u64>(static_cast<i64>(static_cast<i32>(v)))
#define CSR_OP(kind, operand, writes)                                                              \
  do {                                                                                             \
    u64 old_ = 0;                                                                                  \
    bool sync_ = false;                                                                            \
    u64 operand_ = (operand);                                                                      \
    h.m_insn_in_flight = static_cast<u64>(chunk - n) - untimely;                                              \
    if (!h.csr_insn(static_cast<u16>(IMM & 0xfff), Hart::CsrOp::kind, operand_, (writes),               \
                    old_, trap, sync_))                                                            \
      goto L_raise_insn;                                                                           \
    RD = old_;                                                                                     \
    if (sync_ || (writes)) SYNC_NEXT();                                                            \
    NEXT();                                                                                        \
  } while (0)
#define LR_OP(T)                                                        \
  do {                                                                  \
    u8* p_ = h.amo_ptr(RS1, sizeof(T), true, trap);                     \
    if (!p_) goto L_mem_fault;                                          \
    T v_ = __atomic_load_n(reinterpret_cast<T*>(p_), __ATOMIC_ACQUIRE); \
    h.m_resv_host = p_;                                                 \
    h.m_resv_value = static_cast<u64>(v_);                              \
    RD = static_cast<u64>(static_cast<i64>(v_));                        \
    NEXT();                                                             \
  } while (0)
#define SC_OP(T)                                                                                      \
  do {                                                                                                \
    u8* p_ = h.amo_ptr(RS1, sizeof(T), false, trap);                                                  \
    if (!p_) goto L_mem_fault;                                                                        \
    bool ok_ = false;                                                                                 \
    if (h.m_resv_host == p_) {                                                                        \
      T expected_ = static_cast<T>(h.m_resv_value);                                                   \
      ok_ = __atomic_compare_exchange_n(reinterpret_cast<T*>(p_), &expected_, static_cast<T>(RS2), false, \
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);                          \
    }                                                                                                 \
    h.m_resv_host = nullptr;                                                                          \
    RD = ok_ ? 0 : 1;                                                                                 \
    NEXT();                                                                                           \
  } while (0)
#define AMO_FETCH(T, builtin)                                                             \
  do {                                                                                    \
    u8* p_ = h.amo_ptr(RS1, sizeof(T), false, trap);                                      \
    if (!p_) goto L_mem_fault;                                                            \
    T old_ = builtin(reinterpret_cast<T*>(p_), static_cast<T>(RS2), __ATOMIC_SEQ_CST);    \
    RD = static_cast<u64>(static_cast<i64>(old_));                                        \
    NEXT();                                                                               \
  } while (0)
#define AMO_CAS(T, expr)                                                                       \
  do {                                                                                         \
    u8* p_ = h.amo_ptr(RS1, sizeof(T), false, trap);                                           \
    if (!p_) goto L_mem_fault;                                                                 \
    T* q_ = reinterpret_cast<T*>(p_);                                                          \
    T b = static_cast<T>(RS2);                                                                 \
    T a = __atomic_load_n(q_, __ATOMIC_RELAXED);                                               \
    while (!__atomic_compare_exchange_n(q_, &a, static_cast<T>(expr), true, __ATOMIC_SEQ_CST,  \
                                        __ATOMIC_RELAXED)) {                                   \
    }                                                                                          \
    RD = static_cast<u64>(static_cast<i64>(a));                                                \
    NEXT();                                                                                    \
  } while (0)
#define FP_CHECK()                                 \
  do {                                             \
    if (RVKVM_UNLIKELY(!h.m_fp_on)) ILLEGAL();     \
  } while (0)
#define FP_DIRTY()                                 \
  do {                                             \
    if (RVKVM_UNLIKELY(!h.m_fs_dirty)) h.mark_fs_dirty(); \
  } while (0)
#define FP_RM(var)                                 \
  unsigned var = static_cast<unsigned>(ip->imm) & 7; \
  if (var == 7) var = h.m_frm;                     \
  if (RVKVM_UNLIKELY(var > 4)) ILLEGAL()
#define FS1 unbox32(f[ip->rs1])
#define FS2 unbox32(f[ip->rs2])
#define FS3 unbox32(f[(ip->imm >> 8) & 31])
#define FD1 f[ip->rs1]
#define FD2 f[ip->rs2]
#define FD3 f[(ip->imm >> 8) & 31]
#define FRD f[ip->rd]
#define FP_OP_RM(write, expr)            \
  do {                                   \
    FP_CHECK();                          \
    FP_RM(rm);                           \
    u32 fl = 0;                          \
    auto r_ = (expr);                    \
    write(r_);                           \
    h.m_fflags |= fl;                    \
    FP_DIRTY();                          \
    NEXT();                              \
  } while (0)
#define FP_OP(write, expr)               \
  do {                                   \
    FP_CHECK();                          \
    u32 fl = 0;                          \
    auto r_ = (expr);                    \
    write(r_);                           \
    h.m_fflags |= fl;                    \
    FP_DIRTY();                          \
    NEXT();                              \
  } while (0)
#define TO_F32(v) (FRD = box32(v))
#define TO_F64(v) (FRD = (v))
#define TO_X(v) (RD = static_cast<u64>(v))
#define TO_X32(v) (RD = static_cast<u64>(static_cast<i64>(static_cast<i32>(v))))
#define SFENCE_CHECK(tvm_applies)                                                  \
  do {                                                                             \
    if (h.m_virt) {                                                                \
      if (h.m_priv == Priv::U || ((tvm_applies) && (h.m_hstatus & hstatus::VTVM))) \
        VIRTUAL();                                                                 \
    } else if (h.m_priv == Priv::U ||                                              \
               (h.m_priv == Priv::S && (tvm_applies) && (h.m_mstatus & mstatus::TVM))) { \
      ILLEGAL();                                                                   \
    }                                                                              \
  } while (0)
// rs1 = x0 and rs2 = x0: everything; rs1 = x0 with an ASID: that address space's non-global
// translations; an address: that page (and its superpage) in every context, an over-flush the
// spec allows.
#define SFENCE_FLUSH(virt)                                      \
  do {                                                          \
    if (ip->rs1 == 0 && ip->rs2 != 0)                           \
      h.tlb_flush_asid(RS2, (virt));                            \
    else                                                        \
      h.tlb_flush(RS1, ip->rs1 == 0);                           \
  } while (0)
#define HFENCE_CHECK(is_gvma)                                                        \
  do {                                                                               \
    if (h.m_virt) VIRTUAL();                                                         \
    if (h.m_priv == Priv::U) ILLEGAL();                                              \
    if ((is_gvma) && h.m_priv == Priv::S && (h.m_mstatus & mstatus::TVM)) ILLEGAL(); \
  } while (0)
#define HLSV_CHECK()                                                       \
  do {                                                                     \
    if (h.m_virt) VIRTUAL();                                               \
    if (h.m_priv == Priv::U && !(h.m_hstatus & hstatus::HU)) ILLEGAL();    \
  } while (0)
#define HLV_OP(T, hlvx)                                                            \
  do {                                                                             \
    HLSV_CHECK();                                                                  \
    T v_;                                                                          \
    if (!h.load_mode(RS1, &v_, sizeof(T), h.hlv_mode(hlvx), trap)) goto L_mem_fault; \
    RD = static_cast<u64>(static_cast<i64>(v_));                                   \
    NEXT();                                                                        \
  } while (0)
#define HSV_OP(T)                                                                \
  do {                                                                           \
    HLSV_CHECK();                                                                \
    T v_ = static_cast<T>(RS2);                                                  \
    if (!h.store_mode(RS1, &v_, sizeof(T), h.hlv_mode(false), trap)) goto L_mem_fault; \
    NEXT();                                                                      \
  } while (0)

#define INSN(name) RVKVM_CAT(L4_, name):
#define ILEN 4u
#include "hart/interp_handlers.inc"
#undef INSN
#undef ILEN
#define INSN(name) RVKVM_CAT(L2_, name):
#define ILEN 2u
#include "hart/interp_handlers.inc"
#undef INSN
#undef ILEN
}

}  // namespace rvkvm
