#include "test_vmm.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "common/elf.h"

namespace rvkvm::hyptest {

using namespace rvkvm::hyp;

namespace {

constexpr u64 k2M = 2ull << 20;
constexpr u64 kSbiExtLegacyPutchar = 0x1, kSbiExtLegacyGetchar = 0x2, kSbiExtDbcn = 0x4442434E;
constexpr std::int64_t kSbiErrInvalidParam = -3;

u64 core_reg(u64 index) { return riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_CORE, 0, index); }

std::string hex(u64 v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

}  // namespace

TestVmm::TestVmm(const VmmOptions& opts) : m_opts(opts) {
  m_hv = create_emulated_hypervisor();
  if (!m_hv) {
    m_setup_error = "create_emulated_hypervisor failed";
    return;
  }
  if (int rc = m_hv->create_vm(VmConfig{}, m_vm); rc != kOk) {
    m_setup_error = "create_vm: " + std::to_string(rc);
    return;
  }
  if (!add_memslot(0, GUEST_RAM_BASE, opts.ram_size, 0)) return;
  for (u32 i = 0; i < opts.vcpus; ++i) {
    Vcpu* v = nullptr;
    if (int rc = m_vm->create_vcpu(i, v); rc != kOk || !v) {
      m_setup_error = "create_vcpu " + std::to_string(i) + ": " + std::to_string(rc);
      return;
    }
    m_vcpus.push_back(v);
  }
  // kvmtool turns DBCN on (Linux KVM has it off by default); the tests use it.
  if (!set_sbi_ext(KVM_RISCV_SBI_EXT_DBCN, true)) {
    m_setup_error = "enabling SBI DBCN through ONE_REG failed";
    return;
  }
  // A fake flattened device tree: just a header with the FDT magic (big-endian 0xd00dfeed).
  if (u8* dtb = hva(GUEST_DTB_ADDR, 64)) {
    const u8 hdr[] = {0xd0, 0x0d, 0xfe, 0xed, 0, 0, 0, 0x40, 0, 0, 0, 0x38, 0, 0, 0, 0x40,
                      0,    0,    0,    0x28, 0, 0, 0, 17,   0, 0, 0, 16};
    std::memcpy(dtb, hdr, sizeof hdr);
  } else {
    m_setup_error = "DTB address outside RAM";
  }
}

TestVmm::~TestVmm() {
  if (m_started && !m_waited) {
    // The test gave up early: stop the guest now rather than waiting for the timeout.
    {
      std::lock_guard lock(m_mu);
      m_done = true;
    }
    (void)wait();
  }
  m_vm.reset();
  m_hv.reset();
  for (Mapping& m : m_maps) munmap(m.base, m.len);
}

u8* TestVmm::add_memslot(u32 slot, u64 gpa, u64 size, u32 flags) {
  std::size_t len = size + k2M;
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    m_setup_error = "mmap failed";
    return nullptr;
  }
  u8* aligned = reinterpret_cast<u8*>((reinterpret_cast<std::uintptr_t>(p) + k2M - 1) & ~(k2M - 1));
  m_maps.push_back({p, len, aligned, slot, flags, gpa, size});
  UserMemoryRegion r;
  r.slot = slot;
  r.flags = flags;
  r.guest_phys_addr = gpa;
  r.memory_size = size;
  r.userspace_addr = aligned;
  if (int rc = m_vm->set_user_memory_region(r); rc != kOk) {
    m_setup_error = "set_user_memory_region slot " + std::to_string(slot) + ": " + std::to_string(rc);
    return nullptr;
  }
  return aligned;
}

u8* TestVmm::slot_hva(u32 slot) const {
  for (const Mapping& m : m_maps)
    if (m.slot == slot) return m.aligned;
  return nullptr;
}

const TestVmm::Mapping* TestVmm::mapping_of(u64 gpa, u64 len) const {
  for (const Mapping& m : m_maps)
    if (gpa >= m.gpa && len <= m.size && gpa - m.gpa <= m.size - len) return &m;
  return nullptr;
}

u8* TestVmm::hva(u64 gpa, u64 len) const {
  const Mapping* m = mapping_of(gpa, len);
  return m ? m->aligned + (gpa - m->gpa) : nullptr;
}

bool TestVmm::load_elf(const std::string& path) {
  std::vector<u8> bytes;
  std::string err;
  if (!read_file(path, bytes, err)) {
    m_setup_error = "reading " + path + ": " + err;
    return false;
  }
  std::optional<ElfImage> img = parse_elf(bytes, err);
  if (!img) {
    m_setup_error = "parsing " + path + ": " + err;
    return false;
  }
  for (const ElfSegment& s : img->segments) {
    u8* dst = hva(s.paddr, s.memsz);
    if (!dst || s.data.size() > s.memsz) {
      m_setup_error = "segment at " + hex(s.paddr) + " outside RAM";
      return false;
    }
    if (!s.data.empty()) std::memcpy(dst, s.data.data(), s.data.size());
    std::memset(dst + s.data.size(), 0, s.memsz - s.data.size());
  }
  m_entry = img->entry;
  m_symbols = img->symbols;
  return true;
}

std::optional<u64> TestVmm::symbol(const std::string& name) const {
  for (const auto& [n, v] : m_symbols)
    if (n == name) return v;
  return std::nullopt;
}

bool TestVmm::set_isa_ext(u64 ext, bool on) {
  u64 v = on ? 1 : 0;
  u64 id = riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_ISA_EXT, KVM_REG_RISCV_ISA_SINGLE, ext);
  for (Vcpu* c : m_vcpus)
    if (c->set_one_reg(id, &v) != kOk) return false;
  return true;
}

bool TestVmm::set_sbi_ext(u64 ext, bool on) {
  u64 v = on ? 1 : 0;
  u64 id = riscv_reg_id(KVM_REG_SIZE_U64, KVM_REG_RISCV_SBI_EXT, KVM_REG_RISCV_SBI_SINGLE, ext);
  for (Vcpu* c : m_vcpus)
    if (c->set_one_reg(id, &v) != kOk) return false;
  return true;
}

void TestVmm::add_error(std::string msg) {
  {
    std::lock_guard lock(m_mu);
    m_result.errors.push_back(std::move(msg));
    m_done = true;
  }
  m_cv.notify_all();
  request_stop();
}

void TestVmm::request_stop() {
  m_stop.store(true, std::memory_order_seq_cst);
  for (Vcpu* v : m_vcpus) v->kick();
}

void TestVmm::start() {
  if (m_started || !ok()) return;
  m_started = true;
  // Boot like Linux on kvmtool: VCPU 0 at the entry in S-mode, a0 = hartid, a1 = DTB.
  const std::pair<u64, u64> regs[] = {{core_reg(KVM_REG_RISCV_CORE_pc), m_entry},
                                      {core_reg(10), 0},
                                      {core_reg(11), GUEST_DTB_ADDR},
                                      {core_reg(KVM_REG_RISCV_CORE_mode), KVM_RISCV_MODE_S}};
  for (auto [id, value] : regs)
    if (int rc = m_vcpus.at(0)->set_one_reg(id, &value); rc != kOk)
      add_error("set_one_reg " + hex(id) + ": " + std::to_string(rc));
  // KVM semantics: every VCPU but 0 starts STOPPED and waits for SBI HSM hart_start.
  for (u32 i = 0; i < m_vcpus.size(); ++i) {
    u32 st = 99;
    if (int rc = m_vcpus[i]->get_mp_state(st); rc != kOk) add_error("get_mp_state: " + std::to_string(rc));
    u32 want = i == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_STOPPED;
    if (st != want)
      add_error("VCPU " + std::to_string(i) + " mp_state before the first run is " + std::to_string(st) +
                ", want " + std::to_string(want));
  }
  m_running_threads.store(static_cast<u32>(m_vcpus.size()));
  for (u32 i = 0; i < m_vcpus.size(); ++i) m_threads.emplace_back([this, i] { vcpu_thread(i); });
}

RunResult TestVmm::wait() {
  if (!m_started) {
    RunResult r;
    r.errors.push_back(ok() ? "not started" : m_setup_error);
    return r;
  }
  m_waited = true;
  {
    std::unique_lock lock(m_mu);
    if (!m_cv.wait_for(lock, m_opts.timeout, [&] { return m_done; })) {
      m_result.timed_out = true;
      m_done = true;
    }
  }
  request_stop();
  // Kicked threads leave run() promptly; give them a bounded time. A thread stuck in run()
  // cannot be abandoned safely (it uses the VM), so the test process ends instead of hanging.
  {
    std::unique_lock lock(m_mu);
    if (!m_cv.wait_for(lock, std::chrono::seconds(5), [&] { return m_running_threads.load() == 0; })) {
      std::fprintf(stderr, "FATAL: %u VCPU thread(s) did not leave run() within 5 s of kick(); console: [%s]\n",
                   m_running_threads.load(), m_console.c_str());
      std::abort();
    }
  }
  for (std::thread& t : m_threads) t.join();
  m_threads.clear();
  std::lock_guard lock(m_mu);
  return m_result;
}

void TestVmm::finish_with_event(u32 i, const SystemEventExit& e) {
  {
    std::lock_guard lock(m_mu);
    if (!m_result.system_event && !m_done) {
      m_result.system_event = true;
      m_result.event_type = e.type;
      m_result.event_reason = e.ndata ? e.data[0] : ~0ull;
      m_result.event_vcpu = i;
    }
    m_done = true;
  }
  m_cv.notify_all();
  request_stop();
}

void TestVmm::vcpu_thread(u32 i) {
  Vcpu& v = *m_vcpus[i];
  while (!m_stop.load(std::memory_order_seq_cst)) {
    Exit& e = v.run();
    ExitReason why = exit_reason(e);
    if (why == ExitReason::KVM_EXIT_INTR) continue;  // kicked: the loop re-checks m_stop
    if (why == ExitReason::KVM_EXIT_MMIO) {
      handle_mmio(i, std::get<MmioExit>(e));
    } else if (why == ExitReason::KVM_EXIT_RISCV_SBI) {
      handle_sbi(i, std::get<SbiExit>(e));
    } else if (why == ExitReason::KVM_EXIT_SYSTEM_EVENT) {
      finish_with_event(i, std::get<SystemEventExit>(e));
      break;
    } else {
      std::string msg = "VCPU " + std::to_string(i) + ": unexpected exit " + exit_reason_name(why);
      if (auto* ie = std::get_if<InternalErrorExit>(&e))
        msg += " suberror " + std::to_string(ie->suberror) + " data " + hex(ie->data[0]) + " " + hex(ie->data[1]);
      if (auto* ce = std::get_if<CsrExit>(&e)) msg += " csr " + hex(ce->csr_num);
      add_error(msg);
      break;
    }
  }
  {
    std::lock_guard lock(m_mu);
    m_running_threads.fetch_sub(1);
  }
  m_cv.notify_all();
}

u64 TestVmm::testdev_read(u64 off, u32 len) {
  // Called with m_mu held.
  u64 v = 0;
  if (off < TESTDEV_LOG) {
    for (u32 b = 0; b < len; ++b) {
      u64 o = off + b;
      u8 byte = o < TESTDEV_POS ? static_cast<u8>(0x80 | (o & 0x7f)) : static_cast<u8>(o & 0x7f);
      v |= static_cast<u64>(byte) << (8 * b);
    }
  } else if (off >= TESTDEV_SCRATCH && off + len <= TESTDEV_SCRATCH + sizeof m_scratch) {
    std::memcpy(&v, m_scratch + (off - TESTDEV_SCRATCH), len);
  } else if (off == TESTDEV_COUNTER) {
    v = m_testdev_counter++;
  }
  return v;
}

void TestVmm::handle_mmio(u32 i, MmioExit& m) {
  u64 value = 0;
  if (m.is_write) std::memcpy(&value, m.data, std::min<u32>(m.len, 8));
  const u64 a = m.phys_addr;
  if (const Mapping* map = mapping_of(a, m.len); map && (map->flags & KVM_MEM_READONLY) && m.is_write) {
    // KVM: a store to a read-only memslot exits as MMIO; the memory stays as it was.
    std::lock_guard lock(m_mu);
    m_mmio_log.push_back({i, a, m.len, value, true});
    return;
  }
  if (a >= SYSDEV_BASE && a < SYSDEV_BASE + SYSDEV_SIZE) {
    if (m.is_write && a == SYSDEV_CONSOLE) {
      std::lock_guard lock(m_mu);
      m_console.push_back(static_cast<char>(value & 0xff));
      return;
    }
    if (m.is_write && a == SYSDEV_SYNC) {
      if (on_sync) on_sync(i, value);
      return;
    }
    if (!m.is_write && (a == SYSDEV_CONFIG || a == SYSDEV_COUNTER)) {
      u64 v;
      {
        std::lock_guard lock(m_mu);
        v = a == SYSDEV_CONFIG ? m_opts.config : m_sysdev_counter++;
      }
      std::memcpy(m.data, &v, std::min<u32>(m.len, 8));
      return;
    }
  } else if (a >= TESTDEV_BASE && a < TESTDEV_BASE + TESTDEV_SIZE && m.len >= 1 && m.len <= 8) {
    const u64 off = a - TESTDEV_BASE;
    std::lock_guard lock(m_mu);
    if (m.is_write) {
      if (off >= TESTDEV_SCRATCH && off + m.len <= TESTDEV_SCRATCH + sizeof m_scratch)
        std::memcpy(m_scratch + (off - TESTDEV_SCRATCH), m.data, m.len);
    } else {
      value = testdev_read(off, m.len);
      std::memcpy(m.data, &value, m.len);
    }
    m_mmio_log.push_back({i, a, m.len, value, m.is_write});
    return;
  }
  add_error("VCPU " + std::to_string(i) + ": unexpected MMIO " + (m.is_write ? "write" : "read") + " at " + hex(a) +
            " len " + std::to_string(m.len));
}

void TestVmm::handle_sbi(u32 i, SbiExit& s) {
  bool answered = on_sbi && on_sbi(i, s);
  if (!answered) {
    if (s.extension_id == kSbiExtLegacyPutchar) {
      std::lock_guard lock(m_mu);
      m_legacy.push_back(static_cast<char>(s.args[0] & 0xff));
      s.ret[0] = 0;
    } else if (s.extension_id == kSbiExtLegacyGetchar) {
      s.ret[0] = static_cast<u64>(-1);  // no input
    } else if (s.extension_id == kSbiExtDbcn) {
      switch (s.function_id) {
        case 0: {  // console_write(num_bytes, base_addr_lo, base_addr_hi)
          u64 n = s.args[0], addr = s.args[1] | (s.args[2] << 32);
          if (u8* p = hva(addr, n)) {
            std::lock_guard lock(m_mu);
            m_dbcn.append(reinterpret_cast<const char*>(p), n);
            s.ret[0] = 0;
            s.ret[1] = n;
          } else {
            s.ret[0] = static_cast<u64>(kSbiErrInvalidParam);
            s.ret[1] = 0;
          }
          break;
        }
        case 1:  // console_read: nothing to read
          s.ret[0] = 0;
          s.ret[1] = 0;
          break;
        case 2: {  // console_write_byte
          std::lock_guard lock(m_mu);
          m_dbcn.push_back(static_cast<char>(s.args[0] & 0xff));
          s.ret[0] = 0;
          s.ret[1] = 0;
          break;
        }
        default: break;  // ret preset: SBI_ERR_NOT_SUPPORTED
      }
    }
    // Anything else keeps the preset answer {SBI_ERR_NOT_SUPPORTED, 0}.
  }
  SbiCall c;
  c.vcpu = i;
  c.ext = s.extension_id;
  c.fid = s.function_id;
  std::copy(s.args, s.args + 6, c.args);
  c.ret[0] = s.ret[0];
  c.ret[1] = s.ret[1];
  std::lock_guard lock(m_mu);
  m_sbi_log.push_back(c);
}

std::string TestVmm::console() const {
  std::lock_guard lock(m_mu);
  return m_console;
}
std::string TestVmm::dbcn() const {
  std::lock_guard lock(m_mu);
  return m_dbcn;
}
std::string TestVmm::legacy_console() const {
  std::lock_guard lock(m_mu);
  return m_legacy;
}
std::vector<MmioAccess> TestVmm::mmio_log() const {
  std::lock_guard lock(m_mu);
  return m_mmio_log;
}
std::vector<SbiCall> TestVmm::sbi_log() const {
  std::lock_guard lock(m_mu);
  return m_sbi_log;
}

std::string TestVmm::describe(const RunResult& r) const {
  std::ostringstream s;
  if (r.timed_out) s << "timed out after " << m_opts.timeout.count() << " ms; ";
  if (r.system_event)
    s << "system event type " << r.event_type << " (" << (r.event_type == KVM_SYSTEM_EVENT_SHUTDOWN ? "shutdown"
                                                         : r.event_type == KVM_SYSTEM_EVENT_RESET  ? "reset"
                                                                                                   : "?")
      << ") reason " << r.event_reason << " from VCPU " << r.event_vcpu << "; ";
  else
    s << "no system event; ";
  for (const std::string& e : r.errors) s << "error: " << e << "; ";
  s << "console: [" << console() << "]";
  std::string d = dbcn();
  if (!d.empty()) s << " dbcn: [" << d << "]";
  return s.str();
}

}  // namespace rvkvm::hyptest
