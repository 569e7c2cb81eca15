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

const void* const* g_interp_labels = nullptr;

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
  out.label = labels[static_cast<std::size_t>(d.op)];
  out.rs1 = d.rs1;
  out.rs2 = d.rs2;
  out.aux = static_cast<u8>((d.rs3 & 31) | (d.len == 2 ? 0x80 : 0));
  out.rd = d.rd;
  out.imm = static_cast<i32>(d.imm);
  if (d.op == Op::illegal) {
    out.imm = static_cast<i32>(d.raw);
    return;
  }
  Fmt f = isa::info(d.op).fmt;
  if (writes_integer_rd(f) && d.rd == 0) out.rd = 32;  // writes to x0 land in the sink register
  if (has_rounding_mode(f)) out.imm = d.rm;
}

// The "transformed instruction" reported in htinst/mtinst for a guest-page fault on an explicit
// load or store (9.6.3): immediate and rs1 fields cleared, compressed forms expanded with bit 1 clear.
u64 transformed_insn(u32 raw) {
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
  return t;
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
#define RVKVM_X(name, mnem, match, mask, ext, fmt) &&L_##name,
      RVKVM_INSN_TABLE(RVKVM_X)
#undef RVKVM_X
      &&L_illegal, &&L_decode, &&L_lookup,
  };
  g_interp_labels = kLabels;
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

#define LEN() (4u - ((ip->aux >> 6) & 2u))
#define RD x[ip->rd]
#define RS1 x[ip->rs1]
#define RS2 x[ip->rs2]
#define IMM (static_cast<i64>(ip->imm))
#define INSN(name) L_##name:
#define NEXT()                                         \
  do {                                                 \
    unsigned len_ = LEN();                             \
    pc += len_;                                        \
    ip += len_ >> 1;                                   \
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

#define LOAD(T, addr, out)                                                                    \
  do {                                                                                        \
    u64 a_ = (addr);                                                                          \
    u64 vpn_ = a_ >> 12;                                                                      \
    const Hart::TlbEntry& e_ = h.m_tlb_load[vpn_ & (Hart::kTlbSize - 1)];                     \
    if (RVKVM_LIKELY(e_.tag == (vpn_ | h.m_ctx_data) && (a_ & 0xfff) <= 0x1000 - sizeof(T))) \
      std::memcpy(&(out), reinterpret_cast<const void*>(a_ + e_.host_off), sizeof(T));        \
    else if (!h.load_slow(a_, &(out), sizeof(T), trap))                                       \
      goto L_mem_fault;                                                                       \
  } while (0)
#define STORE(T, addr, val)                                                                   \
  do {                                                                                        \
    u64 a_ = (addr);                                                                          \
    T v_ = static_cast<T>(val);                                                               \
    u64 vpn_ = a_ >> 12;                                                                      \
    const Hart::TlbEntry& e_ = h.m_tlb_store[vpn_ & (Hart::kTlbSize - 1)];                    \
    if (RVKVM_LIKELY(e_.tag == (vpn_ | h.m_ctx_data) && (a_ & 0xfff) <= 0x1000 - sizeof(T))) \
      std::memcpy(reinterpret_cast<void*>(a_ + e_.host_off), &v_, sizeof(T));                 \
    else if (!h.store_slow(a_, &v_, sizeof(T), trap))                                         \
      goto L_mem_fault;                                                                       \
  } while (0)

  goto L_new_chunk;

  // ------------------------------------------------------------------------------------------
  // Dispatch machinery

L_new_chunk : {
  u64 executed = static_cast<u64>(chunk - n);
  h.m_instret += executed - std::min(executed, untimely);
  h.m_insn_in_flight = 0;
  untimely = 0;
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
  u64 vpn = pc >> 12;
  const Hart::FetchTlbEntry& e = h.m_tlb_fetch[vpn & (Hart::kTlbSize - 1)];
  if (RVKVM_LIKELY(e.tag == (vpn | h.m_ctx_fetch) && e.page)) {
    page = e.page;
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
    if (h.fetch_raw(pc, raw, ignored)) trap.tinst = transformed_insn(raw);
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

  // ------------------------------------------------------------------------------------------
  // RV64I

INSN(lui) RD = static_cast<u64>(IMM); NEXT();
INSN(auipc) RD = pc + IMM; NEXT();
INSN(jal) {
  u64 t = pc + IMM;
  RD = pc + LEN();
  JUMP(t);
}
INSN(jalr) {
  u64 t = (RS1 + IMM) & ~1ull;
  RD = pc + LEN();
  JUMP(t);
}
INSN(beq) if (RS1 == RS2) JUMP(pc + IMM); NEXT();
INSN(bne) if (RS1 != RS2) JUMP(pc + IMM); NEXT();
INSN(blt) if (static_cast<i64>(RS1) < static_cast<i64>(RS2)) JUMP(pc + IMM); NEXT();
INSN(bge) if (static_cast<i64>(RS1) >= static_cast<i64>(RS2)) JUMP(pc + IMM); NEXT();
INSN(bltu) if (RS1 < RS2) JUMP(pc + IMM); NEXT();
INSN(bgeu) if (RS1 >= RS2) JUMP(pc + IMM); NEXT();
INSN(lb) { i8 v; LOAD(i8, RS1 + IMM, v); RD = static_cast<u64>(static_cast<i64>(v)); NEXT(); }
INSN(lh) { i16 v; LOAD(i16, RS1 + IMM, v); RD = static_cast<u64>(static_cast<i64>(v)); NEXT(); }
INSN(lw) { i32 v; LOAD(i32, RS1 + IMM, v); RD = static_cast<u64>(static_cast<i64>(v)); NEXT(); }
INSN(ld) { u64 v; LOAD(u64, RS1 + IMM, v); RD = v; NEXT(); }
INSN(lbu) { u8 v; LOAD(u8, RS1 + IMM, v); RD = v; NEXT(); }
INSN(lhu) { u16 v; LOAD(u16, RS1 + IMM, v); RD = v; NEXT(); }
INSN(lwu) { u32 v; LOAD(u32, RS1 + IMM, v); RD = v; NEXT(); }
INSN(sb) STORE(u8, RS1 + IMM, RS2); NEXT();
INSN(sh) STORE(u16, RS1 + IMM, RS2); NEXT();
INSN(sw) STORE(u32, RS1 + IMM, RS2); NEXT();
INSN(sd) STORE(u64, RS1 + IMM, RS2); NEXT();
INSN(addi) RD = RS1 + IMM; NEXT();
INSN(slti) RD = static_cast<i64>(RS1) < IMM; NEXT();
INSN(sltiu) RD = RS1 < static_cast<u64>(IMM); NEXT();
INSN(xori) RD = RS1 ^ IMM; NEXT();
INSN(ori) RD = RS1 | IMM; NEXT();
INSN(andi) RD = RS1 & IMM; NEXT();
INSN(slli) RD = RS1 << IMM; NEXT();
INSN(srli) RD = RS1 >> IMM; NEXT();
INSN(srai) RD = static_cast<u64>(static_cast<i64>(RS1) >> IMM); NEXT();
INSN(add) RD = RS1 + RS2; NEXT();
INSN(sub) RD = RS1 - RS2; NEXT();
INSN(sll) RD = RS1 << (RS2 & 63); NEXT();
INSN(slt) RD = static_cast<i64>(RS1) < static_cast<i64>(RS2); NEXT();
INSN(sltu) RD = RS1 < RS2; NEXT();
INSN(xor_) RD = RS1 ^ RS2; NEXT();
INSN(srl) RD = RS1 >> (RS2 & 63); NEXT();
INSN(sra) RD = static_cast<u64>(static_cast<i64>(RS1) >> (RS2 & 63)); NEXT();
INSN(or_) RD = RS1 | RS2; NEXT();
INSN(and_) RD = RS1 & RS2; NEXT();
#define W(v) static_cast<u64>(static_cast<i64>(static_cast<i32>(v)))
INSN(addiw) RD = W(RS1 + IMM); NEXT();
INSN(slliw) RD = W(static_cast<u32>(RS1) << IMM); NEXT();
INSN(srliw) RD = W(static_cast<u32>(RS1) >> IMM); NEXT();
INSN(sraiw) RD = W(static_cast<i32>(RS1) >> IMM); NEXT();
INSN(addw) RD = W(RS1 + RS2); NEXT();
INSN(subw) RD = W(RS1 - RS2); NEXT();
INSN(sllw) RD = W(static_cast<u32>(RS1) << (RS2 & 31)); NEXT();
INSN(srlw) RD = W(static_cast<u32>(RS1) >> (RS2 & 31)); NEXT();
INSN(sraw) RD = W(static_cast<i32>(RS1) >> (RS2 & 31)); NEXT();
INSN(fence) NEXT();  // guest memory is host memory; host atomics order what needs ordering
INSN(ecall) {
  u64 c = h.m_priv == Priv::M ? cause::ecall_m
          : h.m_priv == Priv::U ? cause::ecall_u
          : h.m_virt            ? cause::ecall_vs
                                : cause::ecall_s;
  RAISE(c);
}
INSN(ebreak) {
  trap = {};
  trap.cause = cause::breakpoint;
  trap.tval = pc;
  trap.gva = h.m_virt;
  goto L_take_trap;
}
INSN(fence_i) {
  h.drop_decoded_pages();
  SYNC_NEXT();
}

  // ------------------------------------------------------------------------------------------
  // Zicsr

#define CSR_OP(kind, operand, writes)                                                              \
  do {                                                                                             \
    u64 old_ = 0;                                                                                  \
    bool sync_ = false;                                                                            \
    u64 operand_ = (operand);                                                                      \
    h.m_insn_in_flight = static_cast<u64>(chunk - n);                                              \
    if (!h.csr_insn(static_cast<u16>(IMM & 0xfff), Hart::CsrOp::kind, operand_, ip->rd != 32, (writes), \
                    old_, trap, sync_))                                                            \
      goto L_raise_insn;                                                                           \
    RD = old_;                                                                                     \
    if (sync_ || (writes)) SYNC_NEXT();                                                            \
    NEXT();                                                                                        \
  } while (0)
INSN(csrrw) CSR_OP(rw, RS1, true);
INSN(csrrs) CSR_OP(rs, RS1, ip->rs1 != 0);
INSN(csrrc) CSR_OP(rc, RS1, ip->rs1 != 0);
INSN(csrrwi) CSR_OP(rw, ip->rs1, true);
INSN(csrrsi) CSR_OP(rs, ip->rs1, ip->rs1 != 0);
INSN(csrrci) CSR_OP(rc, ip->rs1, ip->rs1 != 0);

  // ------------------------------------------------------------------------------------------
  // M

INSN(mul) RD = RS1 * RS2; NEXT();
INSN(mulh) RD = static_cast<u64>((static_cast<i128>(static_cast<i64>(RS1)) * static_cast<i64>(RS2)) >> 64); NEXT();
INSN(mulhsu) RD = static_cast<u64>((static_cast<i128>(static_cast<i64>(RS1)) * static_cast<i128>(RS2)) >> 64); NEXT();
INSN(mulhu) RD = static_cast<u64>((static_cast<u128>(RS1) * RS2) >> 64); NEXT();
INSN(div) {
  i64 a = static_cast<i64>(RS1), b = static_cast<i64>(RS2);
  RD = b == 0 ? ~0ull : (a == INT64_MIN && b == -1) ? static_cast<u64>(a) : static_cast<u64>(a / b);
  NEXT();
}
INSN(divu) RD = RS2 == 0 ? ~0ull : RS1 / RS2; NEXT();
INSN(rem) {
  i64 a = static_cast<i64>(RS1), b = static_cast<i64>(RS2);
  RD = b == 0 ? static_cast<u64>(a) : (a == INT64_MIN && b == -1) ? 0 : static_cast<u64>(a % b);
  NEXT();
}
INSN(remu) RD = RS2 == 0 ? RS1 : RS1 % RS2; NEXT();
INSN(mulw) RD = W(static_cast<u32>(RS1) * static_cast<u32>(RS2)); NEXT();
INSN(divw) {
  i32 a = static_cast<i32>(RS1), b = static_cast<i32>(RS2);
  RD = b == 0 ? ~0ull : (a == INT32_MIN && b == -1) ? W(a) : W(a / b);
  NEXT();
}
INSN(divuw) {
  u32 a = static_cast<u32>(RS1), b = static_cast<u32>(RS2);
  RD = b == 0 ? ~0ull : W(a / b);
  NEXT();
}
INSN(remw) {
  i32 a = static_cast<i32>(RS1), b = static_cast<i32>(RS2);
  RD = b == 0 ? W(a) : (a == INT32_MIN && b == -1) ? 0 : W(a % b);
  NEXT();
}
INSN(remuw) {
  u32 a = static_cast<u32>(RS1), b = static_cast<u32>(RS2);
  RD = b == 0 ? W(a) : W(a % b);
  NEXT();
}

  // ------------------------------------------------------------------------------------------
  // A: LR/SC and AMOs on host atomics, so harts on several threads share memory coherently.

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
INSN(lr_w) LR_OP(i32);
INSN(sc_w) SC_OP(i32);
INSN(amoswap_w) AMO_FETCH(i32, __atomic_exchange_n);
INSN(amoadd_w) AMO_FETCH(i32, __atomic_fetch_add);
INSN(amoxor_w) AMO_FETCH(i32, __atomic_fetch_xor);
INSN(amoand_w) AMO_FETCH(i32, __atomic_fetch_and);
INSN(amoor_w) AMO_FETCH(i32, __atomic_fetch_or);
INSN(amomin_w) AMO_CAS(i32, a < b ? a : b);
INSN(amomax_w) AMO_CAS(i32, a > b ? a : b);
INSN(amominu_w) AMO_CAS(i32, static_cast<u32>(a) < static_cast<u32>(b) ? a : b);
INSN(amomaxu_w) AMO_CAS(i32, static_cast<u32>(a) > static_cast<u32>(b) ? a : b);
INSN(lr_d) LR_OP(i64);
INSN(sc_d) SC_OP(i64);
INSN(amoswap_d) AMO_FETCH(i64, __atomic_exchange_n);
INSN(amoadd_d) AMO_FETCH(i64, __atomic_fetch_add);
INSN(amoxor_d) AMO_FETCH(i64, __atomic_fetch_xor);
INSN(amoand_d) AMO_FETCH(i64, __atomic_fetch_and);
INSN(amoor_d) AMO_FETCH(i64, __atomic_fetch_or);
INSN(amomin_d) AMO_CAS(i64, a < b ? a : b);
INSN(amomax_d) AMO_CAS(i64, a > b ? a : b);
INSN(amominu_d) AMO_CAS(i64, static_cast<u64>(a) < static_cast<u64>(b) ? a : b);
INSN(amomaxu_d) AMO_CAS(i64, static_cast<u64>(a) > static_cast<u64>(b) ? a : b);

  // ------------------------------------------------------------------------------------------
  // F and D

#define FP_CHECK()                                 \
  do {                                             \
    if (RVKVM_UNLIKELY(!h.m_fp_on)) ILLEGAL();     \
  } while (0)
#define FP_DIRTY()                                 \
  do {                                             \
    if (RVKVM_UNLIKELY(!h.m_fs_dirty)) h.mark_fs_dirty(); \
  } while (0)
#define FP_RM(var)                                 \
  unsigned var = static_cast<unsigned>(ip->imm);   \
  if (var == 7) var = h.m_frm;                     \
  if (RVKVM_UNLIKELY(var > 4)) ILLEGAL()
#define FS1 unbox32(f[ip->rs1])
#define FS2 unbox32(f[ip->rs2])
#define FS3 unbox32(f[ip->aux & 31])
#define FD1 f[ip->rs1]
#define FD2 f[ip->rs2]
#define FD3 f[ip->aux & 31]
#define FRD f[ip->rd]
// An FP operation: computes `expr` with `fl` accumulating fflags, then writes it with `write`.
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

INSN(flw) {
  FP_CHECK();
  u32 v;
  LOAD(u32, RS1 + IMM, v);
  FRD = box32(v);
  FP_DIRTY();
  NEXT();
}
INSN(fsw) {
  FP_CHECK();
  STORE(u32, RS1 + IMM, static_cast<u32>(FD2));
  NEXT();
}
INSN(fld) {
  FP_CHECK();
  u64 v;
  LOAD(u64, RS1 + IMM, v);
  FRD = v;
  FP_DIRTY();
  NEXT();
}
INSN(fsd) {
  FP_CHECK();
  STORE(u64, RS1 + IMM, FD2);
  NEXT();
}
INSN(fmadd_s) FP_OP_RM(TO_F32, fpu::f32_fma(FS1, FS2, FS3, false, false, rm, fl));
INSN(fmsub_s) FP_OP_RM(TO_F32, fpu::f32_fma(FS1, FS2, FS3, false, true, rm, fl));
INSN(fnmsub_s) FP_OP_RM(TO_F32, fpu::f32_fma(FS1, FS2, FS3, true, false, rm, fl));
INSN(fnmadd_s) FP_OP_RM(TO_F32, fpu::f32_fma(FS1, FS2, FS3, true, true, rm, fl));
INSN(fadd_s) FP_OP_RM(TO_F32, fpu::f32_add(FS1, FS2, rm, fl));
INSN(fsub_s) FP_OP_RM(TO_F32, fpu::f32_sub(FS1, FS2, rm, fl));
INSN(fmul_s) FP_OP_RM(TO_F32, fpu::f32_mul(FS1, FS2, rm, fl));
INSN(fdiv_s) FP_OP_RM(TO_F32, fpu::f32_div(FS1, FS2, rm, fl));
INSN(fsqrt_s) FP_OP_RM(TO_F32, fpu::f32_sqrt(FS1, rm, fl));
INSN(fsgnj_s) FP_OP(TO_F32, (FS1 & 0x7fffffffu) | (FS2 & 0x80000000u));
INSN(fsgnjn_s) FP_OP(TO_F32, (FS1 & 0x7fffffffu) | (~FS2 & 0x80000000u));
INSN(fsgnjx_s) FP_OP(TO_F32, FS1 ^ (FS2 & 0x80000000u));
INSN(fmin_s) FP_OP(TO_F32, fpu::f32_min(FS1, FS2, fl));
INSN(fmax_s) FP_OP(TO_F32, fpu::f32_max(FS1, FS2, fl));
INSN(fcvt_w_s) FP_OP_RM(TO_X32, fpu::f32_to_i32(FS1, rm, fl));
INSN(fcvt_wu_s) FP_OP_RM(TO_X32, fpu::f32_to_u32(FS1, rm, fl));
INSN(fcvt_l_s) FP_OP_RM(TO_X, fpu::f32_to_i64(FS1, rm, fl));
INSN(fcvt_lu_s) FP_OP_RM(TO_X, fpu::f32_to_u64(FS1, rm, fl));
INSN(fmv_x_w) {
  FP_CHECK();
  RD = W(static_cast<u32>(FD1));
  NEXT();
}
INSN(fclass_s) {
  FP_CHECK();
  RD = fpu::f32_classify(FS1);
  NEXT();
}
INSN(feq_s) FP_OP(TO_X, fpu::f32_eq(FS1, FS2, fl));
INSN(flt_s) FP_OP(TO_X, fpu::f32_lt(FS1, FS2, fl));
INSN(fle_s) FP_OP(TO_X, fpu::f32_le(FS1, FS2, fl));
INSN(fcvt_s_w) FP_OP_RM(TO_F32, fpu::i32_to_f32(static_cast<i32>(RS1), rm, fl));
INSN(fcvt_s_wu) FP_OP_RM(TO_F32, fpu::u32_to_f32(static_cast<u32>(RS1), rm, fl));
INSN(fcvt_s_l) FP_OP_RM(TO_F32, fpu::i64_to_f32(static_cast<i64>(RS1), rm, fl));
INSN(fcvt_s_lu) FP_OP_RM(TO_F32, fpu::u64_to_f32(RS1, rm, fl));
INSN(fmv_w_x) FP_OP(TO_F32, static_cast<u32>(RS1));
INSN(fmadd_d) FP_OP_RM(TO_F64, fpu::f64_fma(FD1, FD2, FD3, false, false, rm, fl));
INSN(fmsub_d) FP_OP_RM(TO_F64, fpu::f64_fma(FD1, FD2, FD3, false, true, rm, fl));
INSN(fnmsub_d) FP_OP_RM(TO_F64, fpu::f64_fma(FD1, FD2, FD3, true, false, rm, fl));
INSN(fnmadd_d) FP_OP_RM(TO_F64, fpu::f64_fma(FD1, FD2, FD3, true, true, rm, fl));
INSN(fadd_d) FP_OP_RM(TO_F64, fpu::f64_add(FD1, FD2, rm, fl));
INSN(fsub_d) FP_OP_RM(TO_F64, fpu::f64_sub(FD1, FD2, rm, fl));
INSN(fmul_d) FP_OP_RM(TO_F64, fpu::f64_mul(FD1, FD2, rm, fl));
INSN(fdiv_d) FP_OP_RM(TO_F64, fpu::f64_div(FD1, FD2, rm, fl));
INSN(fsqrt_d) FP_OP_RM(TO_F64, fpu::f64_sqrt(FD1, rm, fl));
INSN(fsgnj_d) FP_OP(TO_F64, (FD1 & ~(1ull << 63)) | (FD2 & (1ull << 63)));
INSN(fsgnjn_d) FP_OP(TO_F64, (FD1 & ~(1ull << 63)) | (~FD2 & (1ull << 63)));
INSN(fsgnjx_d) FP_OP(TO_F64, FD1 ^ (FD2 & (1ull << 63)));
INSN(fmin_d) FP_OP(TO_F64, fpu::f64_min(FD1, FD2, fl));
INSN(fmax_d) FP_OP(TO_F64, fpu::f64_max(FD1, FD2, fl));
INSN(fcvt_s_d) FP_OP_RM(TO_F32, fpu::f64_to_f32(FD1, rm, fl));
INSN(fcvt_d_s) FP_OP_RM(TO_F64, fpu::f32_to_f64(FS1, fl));
INSN(feq_d) FP_OP(TO_X, fpu::f64_eq(FD1, FD2, fl));
INSN(flt_d) FP_OP(TO_X, fpu::f64_lt(FD1, FD2, fl));
INSN(fle_d) FP_OP(TO_X, fpu::f64_le(FD1, FD2, fl));
INSN(fclass_d) {
  FP_CHECK();
  RD = fpu::f64_classify(FD1);
  NEXT();
}
INSN(fcvt_w_d) FP_OP_RM(TO_X32, fpu::f64_to_i32(FD1, rm, fl));
INSN(fcvt_wu_d) FP_OP_RM(TO_X32, fpu::f64_to_u32(FD1, rm, fl));
INSN(fcvt_l_d) FP_OP_RM(TO_X, fpu::f64_to_i64(FD1, rm, fl));
INSN(fcvt_lu_d) FP_OP_RM(TO_X, fpu::f64_to_u64(FD1, rm, fl));
INSN(fcvt_d_w) FP_OP_RM(TO_F64, fpu::i32_to_f64(static_cast<i32>(RS1), rm, fl));
INSN(fcvt_d_wu) FP_OP_RM(TO_F64, fpu::u32_to_f64(static_cast<u32>(RS1), rm, fl));
INSN(fcvt_d_l) FP_OP_RM(TO_F64, fpu::i64_to_f64(static_cast<i64>(RS1), rm, fl));
INSN(fcvt_d_lu) FP_OP_RM(TO_F64, fpu::u64_to_f64(RS1, rm, fl));
INSN(fmv_x_d) {
  FP_CHECK();
  RD = FD1;
  NEXT();
}
INSN(fmv_d_x) FP_OP(TO_F64, RS1);

  // ------------------------------------------------------------------------------------------
  // Zba, Zbb, Zbs, Zicond

INSN(sh1add) RD = (RS1 << 1) + RS2; NEXT();
INSN(sh2add) RD = (RS1 << 2) + RS2; NEXT();
INSN(sh3add) RD = (RS1 << 3) + RS2; NEXT();
INSN(add_uw) RD = static_cast<u32>(RS1) + RS2; NEXT();
INSN(sh1add_uw) RD = (static_cast<u64>(static_cast<u32>(RS1)) << 1) + RS2; NEXT();
INSN(sh2add_uw) RD = (static_cast<u64>(static_cast<u32>(RS1)) << 2) + RS2; NEXT();
INSN(sh3add_uw) RD = (static_cast<u64>(static_cast<u32>(RS1)) << 3) + RS2; NEXT();
INSN(slli_uw) RD = static_cast<u64>(static_cast<u32>(RS1)) << IMM; NEXT();
INSN(andn) RD = RS1 & ~RS2; NEXT();
INSN(orn) RD = RS1 | ~RS2; NEXT();
INSN(xnor) RD = ~(RS1 ^ RS2); NEXT();
INSN(clz) RD = RS1 ? static_cast<u64>(__builtin_clzll(RS1)) : 64; NEXT();
INSN(clzw) RD = static_cast<u32>(RS1) ? static_cast<u64>(__builtin_clz(static_cast<u32>(RS1))) : 32; NEXT();
INSN(ctz) RD = RS1 ? static_cast<u64>(__builtin_ctzll(RS1)) : 64; NEXT();
INSN(ctzw) RD = static_cast<u32>(RS1) ? static_cast<u64>(__builtin_ctz(static_cast<u32>(RS1))) : 32; NEXT();
INSN(cpop) RD = static_cast<u64>(__builtin_popcountll(RS1)); NEXT();
INSN(cpopw) RD = static_cast<u64>(__builtin_popcount(static_cast<u32>(RS1))); NEXT();
INSN(max) RD = static_cast<i64>(RS1) > static_cast<i64>(RS2) ? RS1 : RS2; NEXT();
INSN(maxu) RD = RS1 > RS2 ? RS1 : RS2; NEXT();
INSN(min) RD = static_cast<i64>(RS1) < static_cast<i64>(RS2) ? RS1 : RS2; NEXT();
INSN(minu) RD = RS1 < RS2 ? RS1 : RS2; NEXT();
INSN(sext_b) RD = static_cast<u64>(static_cast<i64>(static_cast<i8>(RS1))); NEXT();
INSN(sext_h) RD = static_cast<u64>(static_cast<i64>(static_cast<i16>(RS1))); NEXT();
INSN(zext_h) RD = static_cast<u16>(RS1); NEXT();
INSN(rol) { unsigned s = RS2 & 63; RD = (RS1 << s) | (RS1 >> ((64 - s) & 63)); NEXT(); }
INSN(rolw) {
  u32 v = static_cast<u32>(RS1);
  unsigned s = RS2 & 31;
  RD = W((v << s) | (v >> ((32 - s) & 31)));
  NEXT();
}
INSN(ror) { unsigned s = RS2 & 63; RD = (RS1 >> s) | (RS1 << ((64 - s) & 63)); NEXT(); }
INSN(rorw) {
  u32 v = static_cast<u32>(RS1);
  unsigned s = RS2 & 31;
  RD = W((v >> s) | (v << ((32 - s) & 31)));
  NEXT();
}
INSN(rori) { unsigned s = static_cast<unsigned>(IMM) & 63; RD = (RS1 >> s) | (RS1 << ((64 - s) & 63)); NEXT(); }
INSN(roriw) {
  u32 v = static_cast<u32>(RS1);
  unsigned s = static_cast<unsigned>(IMM) & 31;
  RD = W((v >> s) | (v << ((32 - s) & 31)));
  NEXT();
}
INSN(orc_b) {
  u64 v = RS1, r = 0;
  for (unsigned i = 0; i < 64; i += 8)
    if ((v >> i) & 0xff) r |= 0xffull << i;
  RD = r;
  NEXT();
}
INSN(rev8) RD = __builtin_bswap64(RS1); NEXT();
INSN(bclr) RD = RS1 & ~(1ull << (RS2 & 63)); NEXT();
INSN(bclri) RD = RS1 & ~(1ull << (IMM & 63)); NEXT();
INSN(bext) RD = (RS1 >> (RS2 & 63)) & 1; NEXT();
INSN(bexti) RD = (RS1 >> (IMM & 63)) & 1; NEXT();
INSN(binv) RD = RS1 ^ (1ull << (RS2 & 63)); NEXT();
INSN(binvi) RD = RS1 ^ (1ull << (IMM & 63)); NEXT();
INSN(bset) RD = RS1 | (1ull << (RS2 & 63)); NEXT();
INSN(bseti) RD = RS1 | (1ull << (IMM & 63)); NEXT();
INSN(czero_eqz) RD = RS2 == 0 ? 0 : RS1; NEXT();
INSN(czero_nez) RD = RS2 != 0 ? 0 : RS1; NEXT();

  // ------------------------------------------------------------------------------------------
  // Privileged instructions. Virtual-instruction (22) only where HS-mode would have allowed the
  // instruction; anything an M-level control forbids stays illegal (9.6.1, docs/h-extension.md).

INSN(mret) {
  if (h.m_priv != Priv::M) ILLEGAL();
  h.do_mret();
  pc = h.m_pc;
  --n;
  goto L_new_chunk;
}
INSN(sret) {
  if (h.m_virt) {
    if (h.m_priv == Priv::U || (h.m_hstatus & hstatus::VTSR)) VIRTUAL();
  } else {
    if (h.m_priv == Priv::U || (h.m_priv == Priv::S && (h.m_mstatus & mstatus::TSR))) ILLEGAL();
  }
  h.do_sret();
  pc = h.m_pc;
  --n;
  goto L_new_chunk;
}
INSN(wfi) {
  if (h.m_priv != Priv::M) {
    if (h.m_mstatus & mstatus::TW) ILLEGAL();
    if (h.m_virt) {
      if (h.m_priv == Priv::U || (h.m_hstatus & hstatus::VTW)) VIRTUAL();
    } else if (h.m_priv == Priv::U) {
      ILLEGAL();
    }
  }
  pc += LEN();
  --n;
  h.m_insn_in_flight = static_cast<u64>(chunk - n);
  if (h.wfi_wakeup_pending()) goto L_new_chunk;
  reason = StopReason::wfi;
  goto L_exit;
}
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
INSN(sfence_vma) {
  SFENCE_CHECK(true);
  h.tlb_flush(RS1, ip->rs1 == 0);
  SYNC_NEXT();
}
INSN(sinval_vma) {
  SFENCE_CHECK(true);
  h.tlb_flush(RS1, ip->rs1 == 0);
  SYNC_NEXT();
}
INSN(sfence_w_inval) SFENCE_CHECK(false); NEXT();
INSN(sfence_inval_ir) SFENCE_CHECK(false); NEXT();
#define HFENCE_CHECK(is_gvma)                                                        \
  do {                                                                               \
    if (h.m_virt) VIRTUAL();                                                         \
    if (h.m_priv == Priv::U) ILLEGAL();                                              \
    if ((is_gvma) && h.m_priv == Priv::S && (h.m_mstatus & mstatus::TVM)) ILLEGAL(); \
  } while (0)
INSN(hfence_vvma) {
  HFENCE_CHECK(false);
  h.tlb_flush(RS1, ip->rs1 == 0);
  SYNC_NEXT();
}
INSN(hinval_vvma) {
  HFENCE_CHECK(false);
  h.tlb_flush(RS1, ip->rs1 == 0);
  SYNC_NEXT();
}
// A G-stage change can alter any guest translation: drop them all.
INSN(hfence_gvma) {
  HFENCE_CHECK(true);
  h.tlb_flush(0, true);
  SYNC_NEXT();
}
INSN(hinval_gvma) {
  HFENCE_CHECK(true);
  h.tlb_flush(0, true);
  SYNC_NEXT();
}

  // ------------------------------------------------------------------------------------------
  // H: loads and stores as though V=1 at privilege hstatus.SPVP (9.3.2).

#define HLSV_CHECK()                                                       \
  do {                                                                     \
    if (h.m_virt) VIRTUAL();                                               \
    if (h.m_priv == Priv::U && !(h.m_hstatus & hstatus::HU)) ILLEGAL();    \
  } while (0)
#define HLV_OP(T, hlvx)                                                                          \
  do {                                                                                           \
    HLSV_CHECK();                                                                                \
    bool hs_mxr_ = (h.m_mstatus & mstatus::MXR) != 0;                                            \
    Hart::XlateMode m_{(h.m_hstatus & hstatus::SPVP) ? Priv::S : Priv::U, true,                  \
                       (h.m_vsstatus & mstatus::SUM) != 0,                                       \
                       (h.m_vsstatus & mstatus::MXR) != 0 || hs_mxr_, hs_mxr_, (hlvx)};          \
    T v_;                                                                                        \
    if (!h.load_mode(RS1, &v_, sizeof(T), m_, trap)) goto L_mem_fault;                           \
    RD = static_cast<u64>(static_cast<i64>(v_));                                                 \
    NEXT();                                                                                      \
  } while (0)
#define HSV_OP(T)                                                                                \
  do {                                                                                           \
    HLSV_CHECK();                                                                                \
    bool hs_mxr_ = (h.m_mstatus & mstatus::MXR) != 0;                                            \
    Hart::XlateMode m_{(h.m_hstatus & hstatus::SPVP) ? Priv::S : Priv::U, true,                  \
                       (h.m_vsstatus & mstatus::SUM) != 0,                                       \
                       (h.m_vsstatus & mstatus::MXR) != 0 || hs_mxr_, hs_mxr_, false};           \
    T v_ = static_cast<T>(RS2);                                                                  \
    if (!h.store_mode(RS1, &v_, sizeof(T), m_, trap)) goto L_mem_fault;                          \
    NEXT();                                                                                      \
  } while (0)
INSN(hlv_b) HLV_OP(i8, false);
INSN(hlv_bu) HLV_OP(u8, false);
INSN(hlv_h) HLV_OP(i16, false);
INSN(hlv_hu) HLV_OP(u16, false);
INSN(hlvx_hu) HLV_OP(u16, true);
INSN(hlv_w) HLV_OP(i32, false);
INSN(hlvx_wu) HLV_OP(u32, true);
INSN(hlv_wu) HLV_OP(u32, false);
INSN(hlv_d) HLV_OP(u64, false);
INSN(hsv_b) HSV_OP(u8);
INSN(hsv_h) HSV_OP(u16);
INSN(hsv_w) HSV_OP(u32);
INSN(hsv_d) HSV_OP(u64);

INSN(illegal) ILLEGAL();
}

}  // namespace rvkvm
