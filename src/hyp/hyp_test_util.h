#pragma once
// Shared helpers for the hypervisor API tests (vm_test, sbi_test, mmio_test, onereg_test). They
// use only the public API (hyp/api/*.h), the way a VMM does: host memory from mmap, memslots,
// ONE_REG for registers, run() and the exits. Guest code is hand-encoded with the small encoder
// below (the encodings were checked against riscv64-unknown-elf-objdump).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "hyp/api/kvm.h"
#include "hyp/api/riscv_regs.h"

namespace rvkvm::hyp::test {

using i64 = std::int64_t;
using u16 = std::uint16_t;

// ---------------------------------------------------------------------------------------------
// Guest memory layout used by the tests.

inline constexpr u64 kRamBase = 0x8000'0000;    // code + data slot (slot 0)
inline constexpr u64 kMmioBase = 0x1000'0000;   // nothing mapped here: every access is MMIO
inline constexpr u64 kHaltAddr = 0x1000'0ff8;   // a byte store here ends a guest program
inline constexpr u64 kReportAddr = 0x1000'1000; // the trap handler reports scause/stval/sepc here

// ---------------------------------------------------------------------------------------------
// Register numbers.

enum Reg : unsigned {
  zero = 0, ra = 1, sp = 2, gp = 3, tp = 4, t0 = 5, t1 = 6, t2 = 7, s0 = 8, s1 = 9,
  a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14, a5 = 15, a6 = 16, a7 = 17,
  s2 = 18, s3 = 19, s4 = 20, s5 = 21, s6 = 22, s7 = 23, s8 = 24, s9 = 25, s10 = 26, s11 = 27,
  t3 = 28, t4 = 29, t5 = 30, t6 = 31,
};

// ---------------------------------------------------------------------------------------------
// Instruction encoder (RV64GC subset).

namespace rv {

constexpr u32 r_type(u32 op, unsigned rd, u32 f3, unsigned rs1, unsigned rs2, u32 f7) {
  return op | (rd << 7) | (f3 << 12) | (rs1 << 15) | (rs2 << 20) | (f7 << 25);
}
constexpr u32 i_type(u32 op, unsigned rd, u32 f3, unsigned rs1, i64 imm) {
  return op | (rd << 7) | (f3 << 12) | (rs1 << 15) | ((static_cast<u32>(imm) & 0xfff) << 20);
}
constexpr u32 s_type(u32 op, u32 f3, unsigned rs1, unsigned rs2, i64 imm) {
  u32 i = static_cast<u32>(imm) & 0xfff;
  return op | ((i & 0x1f) << 7) | (f3 << 12) | (rs1 << 15) | (rs2 << 20) | ((i >> 5) << 25);
}
constexpr u32 u_type(u32 op, unsigned rd, u32 imm20) { return op | (rd << 7) | ((imm20 & 0xfffff) << 12); }
constexpr u32 j_type(u32 op, unsigned rd, i64 off) {
  u32 o = static_cast<u32>(off);
  return op | (rd << 7) | (((o >> 12) & 0xff) << 12) | (((o >> 11) & 1) << 20) | (((o >> 1) & 0x3ff) << 21) |
         (((o >> 20) & 1) << 31);
}

constexpr u32 addi(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x13, rd, 0, rs1, imm); }
constexpr u32 addiw(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x1b, rd, 0, rs1, imm); }
constexpr u32 slli(unsigned rd, unsigned rs1, unsigned sh) { return i_type(0x13, rd, 1, rs1, sh & 63); }
constexpr u32 lui(unsigned rd, u32 imm20) { return u_type(0x37, rd, imm20); }
constexpr u32 add(unsigned rd, unsigned rs1, unsigned rs2) { return r_type(0x33, rd, 0, rs1, rs2, 0); }
constexpr u32 jal(unsigned rd, i64 off) { return j_type(0x6f, rd, off); }
constexpr u32 jalr(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x67, rd, 0, rs1, imm); }

constexpr u32 lb(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 0, rs1, imm); }
constexpr u32 lh(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 1, rs1, imm); }
constexpr u32 lw(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 2, rs1, imm); }
constexpr u32 ld(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 3, rs1, imm); }
constexpr u32 lbu(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 4, rs1, imm); }
constexpr u32 lhu(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 5, rs1, imm); }
constexpr u32 lwu(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x03, rd, 6, rs1, imm); }
constexpr u32 sb(unsigned rs2, unsigned rs1, i64 imm) { return s_type(0x23, 0, rs1, rs2, imm); }
constexpr u32 sh(unsigned rs2, unsigned rs1, i64 imm) { return s_type(0x23, 1, rs1, rs2, imm); }
constexpr u32 sw(unsigned rs2, unsigned rs1, i64 imm) { return s_type(0x23, 2, rs1, rs2, imm); }
constexpr u32 sd(unsigned rs2, unsigned rs1, i64 imm) { return s_type(0x23, 3, rs1, rs2, imm); }
constexpr u32 flw(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x07, rd, 2, rs1, imm); }
constexpr u32 fld(unsigned rd, unsigned rs1, i64 imm) { return i_type(0x07, rd, 3, rs1, imm); }
constexpr u32 fsw(unsigned rs2, unsigned rs1, i64 imm) { return s_type(0x27, 2, rs1, rs2, imm); }
constexpr u32 fsd(unsigned rs2, unsigned rs1, i64 imm) { return s_type(0x27, 3, rs1, rs2, imm); }
// amoadd.w rd, rs2, (rs1) / lr.w rd, (rs1)
constexpr u32 amoadd_w(unsigned rd, unsigned rs2, unsigned rs1) { return r_type(0x2f, rd, 2, rs1, rs2, 0x00); }
constexpr u32 amoswap_d(unsigned rd, unsigned rs2, unsigned rs1) { return r_type(0x2f, rd, 3, rs1, rs2, 0x04); }
constexpr u32 lr_w(unsigned rd, unsigned rs1) { return r_type(0x2f, rd, 2, rs1, 0, 0x08); }

constexpr u32 ecall() { return 0x00000073; }
constexpr u32 ebreak() { return 0x00100073; }
constexpr u32 wfi() { return 0x10500073; }
constexpr u32 hfence_vvma() { return 0x22000073; }  // hfence.vvma zero, zero
constexpr u32 csrrw(unsigned rd, u32 csr, unsigned rs1) { return i_type(0x73, rd, 1, rs1, csr); }
constexpr u32 csrrs(unsigned rd, u32 csr, unsigned rs1) { return i_type(0x73, rd, 2, rs1, csr); }
constexpr u32 csrr(unsigned rd, u32 csr) { return csrrs(rd, csr, zero); }
constexpr u32 csrw(u32 csr, unsigned rs1) { return csrrw(zero, csr, rs1); }

// CSR numbers as the guest (VS-mode) names them.
inline constexpr u32 kSstatus = 0x100, kSie = 0x104, kStvec = 0x105, kSscratch = 0x140, kSepc = 0x141,
                     kScause = 0x142, kStval = 0x143, kSip = 0x144, kSatp = 0x180, kTime = 0xc01,
                     kMstatus = 0x300;

// Compressed forms. rd'/rs1'/rs2' must be x8..x15.
constexpr unsigned creg(unsigned r) { return (r - 8) & 7; }
constexpr u16 c_lw(unsigned rd, unsigned rs1, u32 off) {
  return static_cast<u16>((2u << 13) | (((off >> 3) & 7) << 10) | (creg(rs1) << 7) | (((off >> 2) & 1) << 6) |
                          (((off >> 6) & 1) << 5) | (creg(rd) << 2) | 0);
}
constexpr u16 c_ld(unsigned rd, unsigned rs1, u32 off) {
  return static_cast<u16>((3u << 13) | (((off >> 3) & 7) << 10) | (creg(rs1) << 7) | (((off >> 6) & 3) << 5) |
                          (creg(rd) << 2) | 0);
}
constexpr u16 c_sw(unsigned rs2, unsigned rs1, u32 off) {
  return static_cast<u16>((6u << 13) | (((off >> 3) & 7) << 10) | (creg(rs1) << 7) | (((off >> 2) & 1) << 6) |
                          (((off >> 6) & 1) << 5) | (creg(rs2) << 2) | 0);
}
constexpr u16 c_sd(unsigned rs2, unsigned rs1, u32 off) {
  return static_cast<u16>((7u << 13) | (((off >> 3) & 7) << 10) | (creg(rs1) << 7) | (((off >> 6) & 3) << 5) |
                          (creg(rs2) << 2) | 0);
}
constexpr u16 c_lwsp(unsigned rd, u32 off) {
  return static_cast<u16>((2u << 13) | (((off >> 5) & 1) << 12) | (rd << 7) | (((off >> 2) & 7) << 4) |
                          (((off >> 6) & 3) << 2) | 2);
}
constexpr u16 c_ldsp(unsigned rd, u32 off) {
  return static_cast<u16>((3u << 13) | (((off >> 5) & 1) << 12) | (rd << 7) | (((off >> 3) & 3) << 5) |
                          (((off >> 6) & 7) << 2) | 2);
}
constexpr u16 c_swsp(unsigned rs2, u32 off) {
  return static_cast<u16>((6u << 13) | (((off >> 2) & 0xf) << 9) | (((off >> 6) & 3) << 7) | (rs2 << 2) | 2);
}
constexpr u16 c_sdsp(unsigned rs2, u32 off) {
  return static_cast<u16>((7u << 13) | (((off >> 3) & 7) << 10) | (((off >> 6) & 7) << 7) | (rs2 << 2) | 2);
}
constexpr u16 c_nop() { return 0x0001; }

}  // namespace rv

// A growing block of guest code at a fixed guest address.
class Asm {
 public:
  explicit Asm(u64 base) : m_base(base) {}
  [[nodiscard]] u64 base() const { return m_base; }
  [[nodiscard]] u64 pc() const { return m_base + m_bytes.size(); }
  [[nodiscard]] const std::vector<u8>& bytes() const { return m_bytes; }

  Asm& emit(u32 insn) {
    for (int i = 0; i < 4; ++i) m_bytes.push_back(static_cast<u8>(insn >> (8 * i)));
    return *this;
  }
  Asm& emit16(u16 insn) {
    m_bytes.push_back(static_cast<u8>(insn));
    m_bytes.push_back(static_cast<u8>(insn >> 8));
    return *this;
  }
  // Loads any 64-bit constant (lui/addiw, then shifts and addi for the wider ones).
  Asm& li(unsigned rd, u64 value) {
    i64 v = static_cast<i64>(value);
    if (v == static_cast<std::int32_t>(v)) {
      i64 lo = sext12(v);
      i64 hi = (v - lo) >> 12;
      if (hi != 0) {
        emit(rv::lui(rd, static_cast<u32>(hi) & 0xfffff));
        if (lo != 0) emit(rv::addiw(rd, rd, lo));
      } else {
        emit(rv::addi(rd, zero, lo));
      }
      return *this;
    }
    i64 lo = sext12(v);
    i64 hi = (v - lo) >> 12;  // arithmetic shift
    unsigned shift = 12 + static_cast<unsigned>(__builtin_ctzll(static_cast<u64>(hi)));
    li(rd, static_cast<u64>(hi >> (shift - 12)));
    emit(rv::slli(rd, rd, shift));
    if (lo != 0) emit(rv::addi(rd, rd, lo));
    return *this;
  }
  // Ends a test program: a byte store to kHaltAddr (clobbers t6). The store is the last instruction.
  Asm& halt() {
    li(t6, kHaltAddr);
    m_halt_pc = pc();
    return emit(rv::sb(zero, t6, 0));
  }
  // The address of the last halt()'s store.
  [[nodiscard]] u64 halt_pc() const { return m_halt_pc; }

 private:
  static i64 sext12(i64 v) { return static_cast<i64>(static_cast<u64>(v) << 52) >> 52; }
  u64 m_base;
  std::vector<u8> m_bytes;
  u64 m_halt_pc = 0;
};

// ---------------------------------------------------------------------------------------------
// Host memory for memslots: anonymous, zeroed, aligned to `align` (2 MiB by default so that the
// hypervisor may use huge G-stage pages), unmapped on destruction.

class HostMem {
 public:
  explicit HostMem(u64 size, u64 align = 2ull << 20) : m_size(size) {
    m_map_size = size + align;
    void* p = mmap(nullptr, m_map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    m_map = p;
    m_base = reinterpret_cast<u8*>((reinterpret_cast<u64>(p) + align - 1) & ~(align - 1));
  }
  ~HostMem() {
    if (m_map) munmap(m_map, m_map_size);
  }
  HostMem(const HostMem&) = delete;
  HostMem& operator=(const HostMem&) = delete;
  [[nodiscard]] bool ok() const { return m_base != nullptr; }
  [[nodiscard]] u8* data() const { return m_base; }
  [[nodiscard]] u64 size() const { return m_size; }
  void put64(u64 off, u64 v) const { std::memcpy(m_base + off, &v, 8); }
  [[nodiscard]] u64 get64(u64 off) const {
    u64 v;
    std::memcpy(&v, m_base + off, 8);
    return v;
  }
  void write(u64 off, const std::vector<u8>& bytes) const { std::memcpy(m_base + off, bytes.data(), bytes.size()); }

 private:
  void* m_map = nullptr;
  u8* m_base = nullptr;
  u64 m_size = 0;
  u64 m_map_size = 0;
};

// ---------------------------------------------------------------------------------------------
// ONE_REG helpers.

constexpr u64 core_id(u64 idx) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CORE, 0, idx); }
constexpr u64 csr_id(u64 idx) {
  return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CSR, KVM_REG_RISCV_CSR_GENERAL, idx);
}
constexpr u64 timer_id(u64 idx) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_TIMER, 0, idx); }
constexpr u64 config_id(u64 idx) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CONFIG, 0, idx); }
constexpr u64 isa_ext_id(u64 idx) {
  return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_SINGLE, idx);
}
constexpr u64 sbi_ext_id(u64 idx) {
  return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE, idx);
}
constexpr u64 fp_f_id(u64 idx) { return riscv_reg_id(KVM_REG_SIZE_U32, KVM_REG_RISCV_FP_F, 0, idx); }
constexpr u64 fp_d_id(u64 idx) {
  return riscv_reg_id(idx == KVM_REG_RISCV_FP_fcsr ? KVM_REG_SIZE_U32 : KVM_REG_SIZE_U64, KVM_REG_RISCV_FP_D, 0, idx);
}

inline u64 get_reg(Vcpu& v, u64 id) {
  u64 val = 0;
  int rc = v.get_one_reg(id, &val);
  EXPECT_EQ(rc, kOk) << "get_one_reg(" << std::hex << id << ")";
  return val;
}
inline void set_reg(Vcpu& v, u64 id, u64 val) {
  int rc = v.set_one_reg(id, &val);
  EXPECT_EQ(rc, kOk) << "set_one_reg(" << std::hex << id << ", " << val << ")";
}
inline u64 xreg(Vcpu& v, unsigned r) { return get_reg(v, core_id(r)); }
inline void set_xreg(Vcpu& v, unsigned r, u64 val) { set_reg(v, core_id(r), val); }
inline u64 pc_of(Vcpu& v) { return get_reg(v, core_id(KVM_REG_RISCV_CORE_pc)); }

// ---------------------------------------------------------------------------------------------
// Exits.

inline std::string describe(const Exit& e) {
  char buf[256];
  if (auto* m = std::get_if<MmioExit>(&e)) {
    u64 d = 0;
    std::memcpy(&d, m->data, 8);
    std::snprintf(buf, sizeof buf, "KVM_EXIT_MMIO{addr=%#llx len=%u %s data=%#llx}",
                  static_cast<unsigned long long>(m->phys_addr), m->len, m->is_write ? "write" : "read",
                  static_cast<unsigned long long>(d));
  } else if (auto* s = std::get_if<SbiExit>(&e)) {
    std::snprintf(buf, sizeof buf, "KVM_EXIT_RISCV_SBI{ext=%#llx fid=%llu a0=%#llx}",
                  static_cast<unsigned long long>(s->extension_id), static_cast<unsigned long long>(s->function_id),
                  static_cast<unsigned long long>(s->args[0]));
  } else if (auto* se = std::get_if<SystemEventExit>(&e)) {
    std::snprintf(buf, sizeof buf, "KVM_EXIT_SYSTEM_EVENT{type=%u ndata=%u data0=%#llx}", se->type, se->ndata,
                  static_cast<unsigned long long>(se->data[0]));
  } else if (auto* ie = std::get_if<InternalErrorExit>(&e)) {
    std::snprintf(buf, sizeof buf, "KVM_EXIT_INTERNAL_ERROR{suberror=%u data0=%#llx}", ie->suberror,
                  static_cast<unsigned long long>(ie->data[0]));
  } else {
    std::snprintf(buf, sizeof buf, "%s", exit_reason_name(exit_reason(e)));
  }
  return buf;
}

inline u64 mmio_data(const MmioExit& m) {
  u64 v = 0;
  std::memcpy(&v, m.data, m.len <= 8 ? m.len : 8);
  return v;
}
inline void set_mmio_data(MmioExit& m, u64 v) { std::memcpy(m.data, &v, 8); }

inline ::testing::AssertionResult IsMmio(const Exit& e, u64 addr, u32 len, bool is_write) {
  auto* m = std::get_if<MmioExit>(&e);
  if (!m || m->phys_addr != addr || m->len != len || m->is_write != is_write) {
    char want[128];
    std::snprintf(want, sizeof want, "MMIO %s of %u bytes at %#llx", is_write ? "write" : "read", len,
                  static_cast<unsigned long long>(addr));
    return ::testing::AssertionFailure() << "expected " << want << ", got " << describe(e);
  }
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult IsHalt(const Exit& e) {
  auto* m = std::get_if<MmioExit>(&e);
  if (!m || m->phys_addr != kHaltAddr || !m->is_write || m->len != 1)
    return ::testing::AssertionFailure() << "expected the halt store, got " << describe(e);
  return ::testing::AssertionSuccess();
}

// Kicks a VCPU if run() has not returned within the timeout, so that a broken guest fails the
// test instead of hanging the binary.
class Watchdog {
 public:
  Watchdog(Vcpu& v, std::chrono::milliseconds timeout)
      : m_thread([this, &v, timeout] {
          std::unique_lock lock(m_mu);
          if (!m_cv.wait_for(lock, timeout, [this] { return m_done; })) {
            m_fired = true;
            v.kick();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(m_mu);
      m_done = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  [[nodiscard]] bool fired() {
    std::lock_guard lock(m_mu);
    return m_fired;
  }

 private:
  std::mutex m_mu;
  std::condition_variable m_cv;
  bool m_done = false;
  bool m_fired = false;
  std::thread m_thread;
};

inline constexpr std::chrono::milliseconds kRunTimeout{5000};

// run() with a watchdog; a KVM_EXIT_INTR caused by the watchdog is reported as a failure.
inline Exit& run_vcpu(Vcpu& v, std::chrono::milliseconds timeout = kRunTimeout) {
  Watchdog w(v, timeout);
  Exit& e = v.run();
  if (w.fired()) ADD_FAILURE() << "vcpu " << v.id() << ": run() did not return within " << timeout.count() << " ms";
  return e;
}

// Completes whatever the last exit left pending (KVM does it at the start of KVM_RUN) without
// entering the guest, as a VMM does with immediate_exit before it changes pc.
inline void complete_exit(Vcpu& v) {
  v.set_immediate_exit(true);
  Exit& e = v.run();
  EXPECT_EQ(exit_reason(e), ExitReason::KVM_EXIT_INTR) << describe(e);
  v.set_immediate_exit(false);
}

// ---------------------------------------------------------------------------------------------
// A VM with one RAM slot (slot 0 at kRamBase) and VCPU 0.

class TestVm {
 public:
  static constexpr u64 kDefaultRam = 2ull << 20;

  explicit TestVm(Hypervisor& hv, VmConfig cfg = {}, u64 ram_size = kDefaultRam)
      : m_ram(ram_size) {
    EXPECT_TRUE(m_ram.ok());
    EXPECT_EQ(hv.create_vm(cfg, m_vm), kOk);
    if (!m_vm) return;
    UserMemoryRegion r;
    r.slot = 0;
    r.guest_phys_addr = kRamBase;
    r.memory_size = ram_size;
    r.userspace_addr = m_ram.data();
    EXPECT_EQ(m_vm->set_user_memory_region(r), kOk);
    Vcpu* v = nullptr;
    EXPECT_EQ(m_vm->create_vcpu(0, v), kOk);
    m_vcpus.push_back(v);
  }

  [[nodiscard]] bool ok() const { return m_vm && !m_vcpus.empty() && m_vcpus[0]; }
  [[nodiscard]] Vm& vm() { return *m_vm; }
  [[nodiscard]] Vcpu& vcpu(u32 i = 0) { return *m_vcpus.at(i); }
  [[nodiscard]] HostMem& ram() { return m_ram; }
  // Creates VCPUs 1..n-1 (they start STOPPED, as in KVM).
  void add_vcpus(u32 n) {
    for (u32 i = static_cast<u32>(m_vcpus.size()); i < n; ++i) {
      Vcpu* v = nullptr;
      EXPECT_EQ(m_vm->create_vcpu(i, v), kOk);
      m_vcpus.push_back(v);
    }
  }
  // Copies code into guest RAM (it must lie in slot 0). Like a VMM that rewrites guest code, it
  // then tells the hypervisor that the host changed that memory (the MMU-notifier path): the
  // emulated harts cache decoded instructions, and a guest would otherwise need a FENCE.I.
  void load(const Asm& a) {
    ASSERT_GE(a.base(), kRamBase);
    ASSERT_LE(a.base() - kRamBase + a.bytes().size(), m_ram.size());
    m_ram.write(a.base() - kRamBase, a.bytes());
    EXPECT_EQ(m_vm->invalidate_host_range(m_ram.data() + (a.base() - kRamBase), a.bytes().size()), kOk);
  }
  // Loads the code and points VCPU `i` at it, completing any pending exit first.
  void start(const Asm& a, u32 i = 0) {
    load(a);
    complete_exit(vcpu(i));
    set_xreg(vcpu(i), KVM_REG_RISCV_CORE_pc, a.base());
  }

 private:
  HostMem m_ram;
  std::unique_ptr<Vm> m_vm;
  std::vector<Vcpu*> m_vcpus;
};

// A guest trap handler at `base`: reports scause, stval and sepc with three 8-byte MMIO stores
// to kReportAddr, +8, +16, then halts. Point the guest's stvec (ONE_REG CSR stvec) at it.
inline Asm trap_reporter(u64 base) {
  Asm a(base);
  a.li(t5, kReportAddr);
  a.emit(rv::csrr(t4, rv::kScause)).emit(rv::sd(t4, t5, 0));
  a.emit(rv::csrr(t4, rv::kStval)).emit(rv::sd(t4, t5, 8));
  a.emit(rv::csrr(t4, rv::kSepc)).emit(rv::sd(t4, t5, 16));
  a.halt();
  return a;
}

struct TrapReport {
  u64 scause = ~0ull, stval = ~0ull, sepc = ~0ull;
  bool ok = false;
};
// Runs the VCPU until the trap reporter has reported (and halted).
inline TrapReport run_to_trap_report(Vcpu& v) {
  TrapReport r;
  u64* slots[3] = {&r.scause, &r.stval, &r.sepc};
  for (unsigned i = 0; i < 3; ++i) {
    Exit& e = run_vcpu(v);
    if (!IsMmio(e, kReportAddr + 8 * i, 8, true)) {
      ADD_FAILURE() << "trap report " << i << ": " << IsMmio(e, kReportAddr + 8 * i, 8, true).message();
      return r;
    }
    *slots[i] = mmio_data(std::get<MmioExit>(e));
  }
  Exit& e = run_vcpu(v);
  EXPECT_TRUE(IsHalt(e));
  r.ok = true;
  return r;
}

}  // namespace rvkvm::hyp::test
