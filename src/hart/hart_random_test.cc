// Randomized robustness test of the hart. Tens of thousands of random 32-bit words and every
// 16-bit word are executed once in each of M, HS, U, VS and VU, from randomized registers and
// CSR settings. The host must never crash, and each outcome must be architecturally right:
// either the instruction retired (pc advanced by its length, or moved to the control-transfer
// target) or it trapped with a cause the specification allows for that encoding in that mode,
// with precise state (no register written) and the right trap CSRs.
//
// Whether an encoding is defined at all is decided independently of the hart's decoder: GNU
// objdump (binutils, configured for rv64gch_zba_zbb_zbs_svinval) disassembles all words once.
// Zicond (unknown to binutils 2.40) and a few encodings binutils gets wrong are handled by rules
// written from the specification (see `classify`). The rest of the oracle (CSR privilege rules,
// privileged instruction rules, memory faults) follows docs/h-extension.md.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hart/bus.h"
#include "hart/csr.h"
#include "hart/hart.h"

namespace rvkvm {
namespace {

constexpr const char* kObjdump = "/usr/bin/riscv64-unknown-elf-objdump";
constexpr const char* kAs = "/usr/bin/riscv64-unknown-elf-as";
constexpr const char* kObjcopy = "/usr/bin/riscv64-unknown-elf-objcopy";

constexpr u64 kRamBase = 0x8000'0000;
constexpr u64 kRamSize = 4ull << 20;
constexpr u64 kCode = kRamBase + 0x1000;  // two pages: an instruction may straddle into the second
constexpr u64 kTrapVec = kRamBase + 0x4000;
constexpr u64 kMepc = kRamBase + 0x5000, kSepc = kRamBase + 0x5100, kVsepc = kRamBase + 0x5200;
constexpr u64 kData = kRamBase + 0x10'0000;  // registers "pointing into RAM" point here (64 KiB)
constexpr u64 kGRoot = kRamBase + 0x20'0000;  // G-stage root, far from any generated address

enum class Mode { M, HS, U, VS, VU };
constexpr Mode kModes[] = {Mode::M, Mode::HS, Mode::U, Mode::VS, Mode::VU};
const char* name(Mode m) {
  static const char* const n[] = {"M", "HS", "U", "VS", "VU"};
  return n[static_cast<int>(m)];
}
Priv nominal(Mode m) { return m == Mode::M ? Priv::M : (m == Mode::HS || m == Mode::VS) ? Priv::S : Priv::U; }
bool is_virt(Mode m) { return m == Mode::VS || m == Mode::VU; }

struct AlignedRam {
  explicit AlignedRam(std::size_t size) : p(static_cast<u8*>(std::aligned_alloc(4096, size))) { std::memset(p, 0, size); }
  ~AlignedRam() { std::free(p); }
  AlignedRam(const AlignedRam&) = delete;
  AlignedRam& operator=(const AlignedRam&) = delete;
  u8* p;
};

// =============================================================================================
// The independent decoder: objdump

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool tools_present() {
  for (const char* t : {kObjdump, kAs, kObjcopy})
    if (access(t, X_OK) != 0) return false;
  return true;
}

struct Dis {
  bool defined = false;
  std::string mnem;
  std::vector<std::string> ops;
  u64 addr = 0;  // offset of the word in the blob (objdump prints targets relative to it)
};

// Disassembles `words` (each with its own length 2 or 4) laid out back to back. Returns one entry
// per word, in order; an empty vector on tool failure.
std::vector<Dis> objdump_words(const std::vector<std::pair<u32, unsigned>>& words) {
  char tmpl[] = "/tmp/rvkvm-hart-random-XXXXXX";
  if (!mkdtemp(tmpl)) return {};
  std::string dir = tmpl;
  std::vector<u8> blob;
  std::vector<u64> offsets;
  for (auto [w, len] : words) {
    offsets.push_back(blob.size());
    for (unsigned i = 0; i < len; ++i) blob.push_back(static_cast<u8>(w >> (8 * i)));
  }
  { std::ofstream(dir + "/e.s") << ".text\n"; }
  { std::ofstream(dir + "/b.bin", std::ios::binary).write(reinterpret_cast<const char*>(blob.data()), blob.size()); }
  // An object with the RISC-V attributes of the hart's ISA, whose .text is then replaced by the
  // raw words: objdump honours the attributes (a raw binary would be read as plain rv64gc).
  std::string cmd = std::string(kAs) + " -march=rv64gch_zba_zbb_zbs_svinval_zihintpause -o " + dir + "/e.o " + dir +
                    "/e.s && " + kObjcopy + " --update-section .text=" + dir + "/b.bin " + dir + "/e.o " + dir +
                    "/u.o && " + kObjdump + " -d -z -M no-aliases,numeric " + dir + "/u.o";
  std::string out = run_capture(cmd + " 2>/dev/null");
  std::filesystem::remove_all(dir);

  std::map<u64, Dis> by_addr;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    // "   1c:\t0001                \tc.addi\tx0,0"
    std::size_t colon = line.find(":\t");
    if (colon == std::string::npos) continue;
    std::string a = line.substr(0, colon);
    a.erase(0, a.find_first_not_of(' '));
    if (a.empty() || a.find_first_not_of("0123456789abcdef") != std::string::npos) continue;
    std::size_t t1 = line.find('\t', colon + 2);
    if (t1 == std::string::npos) continue;
    std::string text = line.substr(t1 + 1);
    Dis d;
    d.addr = std::stoull(a, nullptr, 16);
    std::size_t sp = text.find('\t');
    d.mnem = text.substr(0, sp);
    if (sp != std::string::npos) {
      std::string ops = text.substr(sp + 1);
      if (std::size_t c = ops.find(" #"); c != std::string::npos) ops.erase(c);
      if (std::size_t c = ops.find(" <"); c != std::string::npos) ops.erase(c);
      std::stringstream ss(ops);
      std::string op;
      while (std::getline(ss, op, ',')) d.ops.push_back(op);
    }
    d.defined = !(d.mnem.empty() || d.mnem[0] == '.' || d.mnem == "unknown");
    by_addr[d.addr] = d;
  }
  std::vector<Dis> res;
  for (u64 off : offsets) {
    auto it = by_addr.find(off);
    if (it == by_addr.end()) return {};  // out of step: refuse to guess
    res.push_back(it->second);
  }
  return res;
}

// =============================================================================================
// Classification of one encoding

enum class Kind {
  undefined, alu, fp, fp_load, fp_store, load, store, lr, sc, amo, branch, jal, jalr, csr, ecall, ebreak, mret,
  sret, wfi, sfence_vma, sfence_inval, hfence_v, hfence_g, hlv, hsv, fence,
};

struct Insn {
  u32 raw = 0;
  unsigned len = 4;
  Kind kind = Kind::undefined;
  std::string mnem;     // for messages
  bool reserved_hint = false;  // defined by objdump but a reserved code point: illegal or no-op
  // memory
  unsigned size = 0, base = 0;
  i64 offset = 0;
  u64 tinst = 0;  // transformed instruction for xtinst (with Addr Offset 0)
  // control transfer
  unsigned rs1 = 0, rs2 = 0, rd = 0;
  i64 rel = 0;  // pc-relative target
  unsigned branch_cond = 0;  // funct3 semantics: 0 eq 1 ne 4 lt 5 ge 6 ltu 7 geu
  // csr
  u16 csr = 0;
  bool csr_writes = false;
  bool load_signed = false;  // sign-extends the loaded value
  // fp
  bool has_rm = false;
  unsigned rm = 0;
};

unsigned xreg(const std::string& s) {
  // "x12" / "f3"
  return static_cast<unsigned>(std::stoul(s.substr(1)));
}
// "imm(xN)" or "(xN)"
void mem_operand(const std::string& s, i64& imm, unsigned& reg) {
  std::size_t p = s.find('(');
  imm = p == 0 ? 0 : std::stoll(s.substr(0, p), nullptr, 0);
  reg = xreg(s.substr(p + 1, s.find(')') - p - 1));
}
u64 hexval(const std::string& s) { return std::stoull(s, nullptr, 16); }

std::string base_mnemonic(std::string m) {
  for (const char* suf : {".aqrl", ".aq", ".rl"}) {
    std::size_t n = std::strlen(suf);
    if (m.size() > n && m.compare(m.size() - n, n, suf) == 0) {
      m.erase(m.size() - n);
      break;
    }
  }
  return m;
}

unsigned access_size(const std::string& m) {
  auto ends = [&](const char* s) {
    std::size_t n = std::strlen(s);
    return m.size() >= n && m.compare(m.size() - n, n, s) == 0;
  };
  if (m == "lb" || m == "lbu" || m == "sb" || m == "hlv.b" || m == "hlv.bu" || m == "hsv.b") return 1;
  if (m == "lh" || m == "lhu" || m == "sh" || m == "hlv.h" || m == "hlv.hu" || m == "hlvx.hu" || m == "hsv.h") return 2;
  if (m == "ld" || m == "sd" || m == "fld" || m == "fsd" || ends(".d") || m == "c.ld" || m == "c.sd" || m == "c.ldsp" ||
      m == "c.sdsp" || m == "c.fld" || m == "c.fsd" || m == "c.fldsp" || m == "c.fsdsp")
    return 8;
  return 4;
}

// Transformed instruction with Addr Offset 0 [H §Transformed Instruction or Pseudoinstruction]:
// loads keep funct3/rd/opcode; stores keep rs2/funct3/opcode; atomics and HLV/HSV keep all but rs1.
// Compressed ones are expanded first and then bit 1 is cleared.
u64 transformed(const Insn& in, const std::string& m) {
  u32 w = in.raw;
  if (in.len == 4) {
    switch (in.kind) {
      case Kind::load: case Kind::fp_load: return w & 0x00007fffu & ~(0x1fu << 15);
      case Kind::store: case Kind::fp_store: return w & 0x01f0707fu;
      case Kind::lr: case Kind::sc: case Kind::amo: case Kind::hlv: case Kind::hsv: return w & ~(0x1fu << 15);
      default: return 0;
    }
  }
  bool fp = m.find(".f") != std::string::npos;
  u32 f3 = in.size == 8 ? 3 : 2;
  if (in.kind == Kind::load || in.kind == Kind::fp_load) return (f3 << 12 | in.rd << 7 | (fp ? 0x07u : 0x03u)) & ~2u;
  return (in.rs2 << 20 | f3 << 12 | (fp ? 0x27u : 0x23u)) & ~2u;
}

// The FP operations whose encoding carries a rounding mode (F/D chapters).
bool fp_has_rm(const std::string& m) {
  for (const char* p : {"fadd.", "fsub.", "fmul.", "fdiv.", "fsqrt.", "fmadd.", "fmsub.", "fnmadd.", "fnmsub.", "fcvt."})
    if (m.rfind(p, 0) == 0) return true;
  return false;
}

Insn classify(u32 raw, unsigned len, const Dis& d) {
  Insn in;
  in.raw = raw;
  in.len = len;
  in.mnem = d.defined ? d.mnem : "<undefined>";
  u32 opc = raw & 0x7f, f3 = (raw >> 12) & 7;
  if (len == 4) {
    // Encodings of 48 bits or more: the hart implements none, so they are illegal.
    if ((raw & 0x1f) == 0x1f) return in;
    // CSR instructions are defined for every rd/rs1/csr value; legality is a CSR-access question
    // (objdump even prints one of them as "unimp").
    if (opc == 0x73 && f3 != 0 && f3 != 4) {
      in.kind = Kind::csr;
      in.mnem = d.defined ? d.mnem : "csr?";
      in.csr = static_cast<u16>(raw >> 20);
      in.rd = (raw >> 7) & 31;
      unsigned src = (raw >> 15) & 31;
      in.csr_writes = (f3 & 3) == 1 || src != 0;  // CSRRW[I] always writes; CSRRS/C[I] only with rs1/uimm != 0
      return in;
    }
    // FENCE and FENCE.I: reserved fields (fm, rs1, rd, imm) "shall" be ignored by base
    // implementations (unpriv "Memory Ordering Instructions", "Zifencei"); binutils rejects them.
    if (opc == 0x0f && (f3 == 0 || f3 == 1)) {
      in.kind = Kind::fence;
      in.mnem = f3 ? "fence.i" : "fence";
      return in;
    }
    // Zicond: czero.eqz / czero.nez (unknown to binutils 2.40).
    if ((raw & 0xfe00707f) == 0x0e005033 || (raw & 0xfe00707f) == 0x0e007033) {
      in.kind = Kind::alu;
      in.mnem = "czero";
      in.rd = (raw >> 7) & 31;
      return in;
    }
    // FCVT.D.S, FCVT.D.W, FCVT.D.WU have an rm field (D chapter encoding table); binutils 2.40
    // only accepts rm=000 for them.
    if (!d.defined && ((raw & 0xfff0007f) == 0x42000053 || (raw & 0xfff0007f) == 0xd2000053 ||
                       (raw & 0xfff0007f) == 0xd2100053)) {
      in.kind = Kind::fp;
      in.mnem = "fcvt.d.*";
      in.has_rm = true;
      in.rm = f3;
      in.rd = (raw >> 7) & 31;
      if (in.rm == 5 || in.rm == 6) in.kind = Kind::undefined;
      return in;
    }
  }
  if (!d.defined) return in;
  const std::string m = base_mnemonic(d.mnem);
  const auto& o = d.ops;
  auto is = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (m == n) return true;
    return false;
  };
  // Not instructions of this hart: N-extension URET is gone from the spec; DRET is only legal in
  // Debug Mode (debug spec); C.UNIMP is the defined-illegal all-zero parcel.
  if (is({"uret", "dret", "c.unimp", "unimp"})) return in;

  if (is({"lb", "lh", "lw", "ld", "lbu", "lhu", "lwu", "c.lw", "c.ld", "c.lwsp", "c.ldsp"})) {
    in.kind = Kind::load;
  } else if (is({"flw", "fld", "c.fld", "c.fldsp"})) {
    in.kind = Kind::fp_load;
  } else if (is({"sb", "sh", "sw", "sd", "c.sw", "c.sd", "c.swsp", "c.sdsp"})) {
    in.kind = Kind::store;
  } else if (is({"fsw", "fsd", "c.fsd", "c.fsdsp"})) {
    in.kind = Kind::fp_store;
  } else if (m.rfind("lr.", 0) == 0) {
    in.kind = Kind::lr;
  } else if (m.rfind("sc.", 0) == 0) {
    in.kind = Kind::sc;
  } else if (m.rfind("amo", 0) == 0) {
    in.kind = Kind::amo;
  } else if (m.rfind("hlv", 0) == 0) {
    in.kind = Kind::hlv;
  } else if (m.rfind("hsv", 0) == 0) {
    in.kind = Kind::hsv;
  } else if (is({"beq", "bne", "blt", "bge", "bltu", "bgeu"})) {
    in.kind = Kind::branch;
    in.rs1 = xreg(o[0]);
    in.rs2 = xreg(o[1]);
    in.rel = static_cast<i64>(hexval(o[2]) - d.addr);
    in.branch_cond = f3;
  } else if (is({"c.beqz", "c.bnez"})) {
    in.kind = Kind::branch;
    in.rs1 = xreg(o[0]);
    in.rs2 = 0;
    in.rel = static_cast<i64>(hexval(o[1]) - d.addr);
    in.branch_cond = m == "c.beqz" ? 0 : 1;
  } else if (is({"jal", "c.j"})) {
    in.kind = Kind::jal;
    in.rel = static_cast<i64>(hexval(o.back()) - d.addr);
    in.rd = m == "jal" ? xreg(o[0]) : 0;
  } else if (m == "jalr") {
    in.kind = Kind::jalr;
    in.rd = xreg(o[0]);
    mem_operand(o[1], in.offset, in.rs1);
  } else if (is({"c.jr", "c.jalr"})) {
    in.kind = Kind::jalr;
    in.rs1 = xreg(o[0]);
    in.rd = m == "c.jalr" ? 1 : 0;
  } else if (is({"ecall"})) {
    in.kind = Kind::ecall;
  } else if (is({"ebreak", "c.ebreak"})) {
    in.kind = Kind::ebreak;
  } else if (m == "mret") {
    in.kind = Kind::mret;
  } else if (m == "sret") {
    in.kind = Kind::sret;
  } else if (m == "wfi") {
    in.kind = Kind::wfi;
  } else if (is({"sfence.vma", "sinval.vma"})) {
    in.kind = Kind::sfence_vma;
  } else if (is({"sfence.w.inval", "sfence.inval.ir"})) {
    in.kind = Kind::sfence_inval;
  } else if (is({"hfence.vvma", "hinval.vvma"})) {
    in.kind = Kind::hfence_v;
  } else if (is({"hfence.gvma", "hinval.gvma"})) {
    in.kind = Kind::hfence_g;
  } else if (m[0] == 'f' && m.rfind("fence", 0) != 0) {
    in.kind = Kind::fp;
    in.has_rm = fp_has_rm(m);
    in.rm = f3;
  } else if (m.rfind("fence", 0) == 0 || m == "pause") {
    in.kind = Kind::fence;
  } else {
    in.kind = Kind::alu;
    // Reserved compressed code points that binutils still disassembles (C chapter): C.ADDI16SP
    // with nzimm=0. Executing them may raise illegal instruction or act as a no-op.
    if (raw == 0x6101) in.reserved_hint = true;
  }

  switch (in.kind) {
    case Kind::load: case Kind::fp_load: case Kind::store: case Kind::fp_store:
      (in.kind == Kind::load || in.kind == Kind::fp_load ? in.rd : in.rs2) = xreg(o[0]);
      mem_operand(o[1], in.offset, in.base);
      in.size = access_size(m);
      break;
    case Kind::lr: case Kind::hlv:
      in.rd = xreg(o[0]);
      mem_operand(o[1], in.offset, in.base);
      in.size = access_size(m);
      break;
    case Kind::sc: case Kind::amo:
      in.rd = xreg(o[0]);
      in.rs2 = xreg(o[1]);
      mem_operand(o[2], in.offset, in.base);
      in.size = access_size(m);
      break;
    case Kind::hsv:
      in.rs2 = xreg(o[0]);
      mem_operand(o[1], in.offset, in.base);
      in.size = access_size(m);
      break;
    default:
      break;
  }
  if (in.size) in.tinst = transformed(in, m);
  in.load_signed = is({"lb", "lh", "lw", "c.lw", "c.lwsp", "hlv.b", "hlv.h", "hlv.w"});
  if (in.has_rm && (in.rm == 5 || in.rm == 6)) in.kind = Kind::undefined;
  return in;
}

// =============================================================================================
// The expected outcome of one execution

struct TrapSpec {
  u64 cause;
  std::vector<u64> tvals;          // empty: any value
  std::vector<u64> tval2s = {0};   // mtval2
  bool tval2_is_gpa = false;       // mtval2 is 0 or GPA(mtval) >> 2 (guest-page faults)
  std::vector<u64> tinsts = {0};   // mtinst
  bool gva = false;
};

struct Expect {
  bool may_retire = false;
  std::vector<u64> pcs;  // allowed next pc when retired
  bool no_reg_change = false;  // retire as a no-op (reserved code points)
  std::vector<TrapSpec> traps;
  std::string why;
};

// The per-execution machine state the oracle reads (all set by the test before running).
struct State {
  Mode mode;
  u64 pc;
  std::array<u64, 32> x;
  u64 mstatus, vsstatus, hstatus, mcounteren, hcounteren, scounteren, menvcfg, henvcfg;
  unsigned frm;
  bool gstage;  // hgatp = identity Sv39x4 (else Bare)
};

class CsrExistence {
 public:
  explicit CsrExistence(Hart& h) {
    for (unsigned n = 0; n < 4096; ++n) {
      u64 v;
      exists_[n] = h.read_csr_raw(static_cast<u16>(n), v);
    }
  }
  bool operator()(u16 n) const { return exists_[n & 0xfff]; }

 private:
  std::array<bool, 4096> exists_{};
};

bool fs_off(const State& s) {
  return (s.mstatus & mstatus::FS) == 0 || (is_virt(s.mode) && (s.vsstatus & mstatus::FS) == 0);
}

constexpr int OK = -1, ILL = 2, VIRT = 22;

// CSR access rules [doc §1.1-§1.3, Sstc].
int csr_rule(u16 num, bool write, const State& s, const CsrExistence& exists) {
  if (!exists(num)) return ILL;
  if (write && (num >> 10) == 3) return ILL;
  unsigned level = (num >> 8) & 3;
  Mode m = s.mode;
  if (num >= csr::fflags && num <= csr::fcsr && fs_off(s)) return ILL;
  if (m == Mode::M) return OK;
  if (num >= csr::cycle && num <= csr::hpmcounter31) {
    unsigned b = num & 31;
    if (!((s.mcounteren >> b) & 1)) return ILL;
    bool h = (s.hcounteren >> b) & 1, sc = (s.scounteren >> b) & 1;
    switch (m) {
      case Mode::HS: return OK;
      case Mode::U: return sc ? OK : ILL;
      case Mode::VS: return h ? OK : VIRT;
      case Mode::VU: return h && sc ? OK : VIRT;
      default: return OK;
    }
  }
  if (level == 3) return ILL;
  if (m == Mode::U) return level == 0 ? OK : ILL;
  bool sstc = num == csr::stimecmp || num == csr::vstimecmp;
  bool m_gates_ok = !sstc || ((s.menvcfg & envcfg::STCE) && (s.mcounteren & 2));
  if (m == Mode::HS) {
    if ((num == csr::satp || num == csr::hgatp) && (s.mstatus & mstatus::TVM)) return ILL;
    return m_gates_ok ? OK : ILL;
  }
  // V=1: not HS-qualified -> 2, otherwise the V=1 gates give 22.
  if (!m_gates_ok) return ILL;
  if (level == 2) return VIRT;
  if (level == 1) {
    if (m == Mode::VU) return VIRT;
    if (num == csr::satp && (s.hstatus & hstatus::VTVM)) return VIRT;
    if (num == csr::stimecmp && (!(s.hcounteren & 2) || !(s.henvcfg & envcfg::STCE))) return VIRT;
  }
  return OK;
}

// Privileged instructions [doc §1.4].
int priv_rule(Kind k, const State& s) {
  Mode m = s.mode;
  bool tvm = s.mstatus & mstatus::TVM, tsr = s.mstatus & mstatus::TSR, tw = s.mstatus & mstatus::TW;
  bool vtvm = s.hstatus & hstatus::VTVM, vtsr = s.hstatus & hstatus::VTSR, vtw = s.hstatus & hstatus::VTW;
  bool hu = s.hstatus & hstatus::HU;
  switch (k) {
    case Kind::mret: return m == Mode::M ? OK : ILL;
    case Kind::sret:
      switch (m) {
        case Mode::M: return OK;
        case Mode::HS: return tsr ? ILL : OK;
        case Mode::U: return ILL;
        case Mode::VS: return vtsr ? VIRT : OK;
        case Mode::VU: return VIRT;
      }
      break;
    case Kind::wfi:
      if (m == Mode::M) return OK;
      if (tw || m == Mode::U) return ILL;
      if (m == Mode::HS) return OK;
      if (m == Mode::VS) return vtw ? VIRT : OK;
      return VIRT;
    case Kind::sfence_vma:
      switch (m) {
        case Mode::M: return OK;
        case Mode::HS: return tvm ? ILL : OK;
        case Mode::U: return ILL;
        case Mode::VS: return vtvm ? VIRT : OK;
        case Mode::VU: return VIRT;
      }
      break;
    case Kind::sfence_inval:
      return m == Mode::U ? ILL : m == Mode::VU ? VIRT : OK;
    case Kind::hfence_v:
      return m == Mode::U ? ILL : is_virt(m) ? VIRT : OK;
    case Kind::hfence_g:
      if (m == Mode::U) return ILL;
      if (is_virt(m)) return VIRT;
      return m == Mode::HS && tvm ? ILL : OK;
    case Kind::hlv: case Kind::hsv:
      if (is_virt(m)) return VIRT;
      return m == Mode::U && !hu ? ILL : OK;
    default:
      break;
  }
  return OK;
}

bool in_ram(u64 a, u64 len) { return a >= kRamBase && a - kRamBase <= kRamSize - len; }

// Adds the outcomes of one explicit memory access.
void memory_outcomes(const Insn& in, const State& s, Expect& e) {
  u64 addr = s.x[in.base] + static_cast<u64>(in.offset);
  unsigned size = in.size;
  bool store = in.kind == Kind::store || in.kind == Kind::fp_store || in.kind == Kind::sc || in.kind == Kind::amo ||
               in.kind == Kind::hsv;
  bool atomic = in.kind == Kind::lr || in.kind == Kind::sc || in.kind == Kind::amo;
  // Effective V for the access: V=1 modes, and HLV/HSV from V=0 (MPRV is kept 0).
  bool virt = is_virt(s.mode) || in.kind == Kind::hlv || in.kind == Kind::hsv;
  bool two_stage = virt && s.gstage;
  u64 c_gpf = store ? cause::store_guest_page_fault : cause::load_guest_page_fault;
  u64 c_af = store ? cause::store_access_fault : cause::load_access_fault;
  u64 c_mis = store ? cause::store_misaligned : cause::load_misaligned;

  // One page-contained part [a, a+n): the fault it raises (cause 0 = none).
  struct Part {
    u64 a, n, cause;
  };
  auto check_part = [&](u64 a, u64 n) -> Part {
    if (two_stage) {
      // Sv39x4 identity leaf for GPA [2 GiB, 3 GiB); GPA bits 63:41 must be zero [H §hgatp].
      if ((a >> 41) != 0 || a < 0x8000'0000 || a >= 0xc000'0000) return {a, n, c_gpf};
    }
    return {a, n, in_ram(a, n) ? 0 : c_af};
  };
  std::vector<Part> parts;
  u64 first = std::min<u64>(size, 0x1000 - (addr & 0xfff));
  parts.push_back(check_part(addr, first));
  if (first < size) parts.push_back(check_part(addr + first, size - first));

  auto fault_spec = [&](const Part& p, std::vector<u64> tvals) {
    TrapSpec t{p.cause, std::move(tvals)};
    t.gva = virt;
    // htval/mtval2: zero, or the GPA of the faulting portion "as indicated by" xtval [H §htval].
    // With vsatp Bare and an identity G-stage that GPA equals xtval.
    if (p.cause == c_gpf) t.tval2_is_gpa = true;
    t.tinsts = {0, in.tinst, in.tinst | ((p.a - addr) & 31) << 15};
    return t;
  };
  bool misaligned = addr % size != 0;
  if (atomic) {
    // LR/SC/AMO need natural alignment: address-misaligned or access fault [A "Zalrsc", "Zaamo"];
    // translation may be checked first (misaligned has the lower priority option, doc §1.5).
    if (misaligned) {
      e.traps.push_back(fault_spec({addr, size, c_mis}, {addr}));
      e.traps.push_back(fault_spec({addr, size, c_af}, {addr}));
      if (parts[0].cause == c_gpf) e.traps.push_back(fault_spec(parts[0], {addr}));
      e.why = "misaligned atomic";
      return;
    }
    if (parts[0].cause) e.traps.push_back(fault_spec(parts[0], {addr}));
    // An SC without a valid reservation may simply fail; with one it must store.
    e.may_retire = parts[0].cause == 0 || in.kind == Kind::sc;
    e.why = "atomic";
    return;
  }
  if (!misaligned) {
    if (parts[0].cause)
      e.traps.push_back(fault_spec(parts[0], {addr}));
    else
      e.may_retire = true;
    e.why = "aligned access";
    return;
  }
  // Misaligned ordinary access: performed, or address-misaligned, or the fault of a part (xtval is
  // the original address or, for the second part, the start of that part).
  e.traps.push_back(fault_spec({addr, size, c_mis}, {addr}));
  bool ok = true;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!parts[i].cause) continue;
    ok = false;
    e.traps.push_back(fault_spec(parts[i], i == 0 ? std::vector<u64>{addr} : std::vector<u64>{addr, parts[i].a}));
  }
  e.may_retire = ok;
  e.why = "misaligned access";
}

Expect expect(const Insn& in, const State& s, const CsrExistence& exists) {
  Expect e;
  u64 next = s.pc + in.len;
  auto trap = [&](u64 cause, std::vector<u64> tvals) { e.traps.push_back(TrapSpec{cause, std::move(tvals)}); };
  u64 bits = in.len == 2 ? (in.raw & 0xffff) : in.raw;
  auto illegal = [&](const char* why) {
    trap(cause::illegal_insn, {bits});
    e.why = why;
  };
  auto by_rule = [&](int r, u64 ok_pc, const char* why) {
    e.why = why;
    if (r == OK) {
      e.may_retire = true;
      e.pcs = {ok_pc};
    } else {
      trap(static_cast<u64>(r), {bits});
    }
  };
  switch (in.kind) {
    case Kind::undefined:
      if (in.len == 4 && (in.raw & 0x1f) == 0x1f) {
        trap(cause::illegal_insn, {});  // >= 48-bit encoding: the hart can only report part of it
        e.why = "long encoding";
      } else {
        illegal("undefined encoding");
      }
      break;
    case Kind::alu:
      e.may_retire = true;
      e.pcs = {next};
      if (in.reserved_hint) {
        e.no_reg_change = true;
        trap(cause::illegal_insn, {bits});
      }
      e.why = "integer op";
      break;
    case Kind::fence:
      e.may_retire = true;
      e.pcs = {next};
      e.why = "fence";
      break;
    case Kind::fp:
      if (fs_off(s)) return illegal("FP with FS=Off"), e;
      if (in.has_rm && in.rm == 7 && s.frm > 4) return illegal("dynamic rm with invalid frm"), e;
      e.may_retire = true;
      e.pcs = {next};
      e.why = "FP op";
      break;
    case Kind::fp_load: case Kind::fp_store:
      if (fs_off(s)) return illegal("FP memory with FS=Off"), e;
      e.pcs = {next};
      memory_outcomes(in, s, e);
      break;
    case Kind::load: case Kind::store: case Kind::lr: case Kind::sc: case Kind::amo:
      e.pcs = {next};
      memory_outcomes(in, s, e);
      break;
    case Kind::hlv: case Kind::hsv: {
      int r = priv_rule(in.kind, s);
      if (r != OK) return by_rule(r, next, "HLV/HSV privilege"), e;
      e.pcs = {next};
      memory_outcomes(in, s, e);
      break;
    }
    case Kind::branch: {
      u64 a = s.x[in.rs1], b = s.x[in.rs2];
      bool t = false;
      switch (in.branch_cond) {
        case 0: t = a == b; break;
        case 1: t = a != b; break;
        case 4: t = static_cast<i64>(a) < static_cast<i64>(b); break;
        case 5: t = static_cast<i64>(a) >= static_cast<i64>(b); break;
        case 6: t = a < b; break;
        case 7: t = a >= b; break;
      }
      e.may_retire = true;
      e.pcs = {t ? s.pc + static_cast<u64>(in.rel) : next};
      e.why = "branch";
      break;
    }
    case Kind::jal:
      e.may_retire = true;
      e.pcs = {s.pc + static_cast<u64>(in.rel)};
      e.why = "jal";
      break;
    case Kind::jalr:
      e.may_retire = true;
      e.pcs = {(s.x[in.rs1] + static_cast<u64>(in.offset)) & ~1ull};
      e.why = "jalr";
      break;
    case Kind::csr:
      by_rule(csr_rule(in.csr, in.csr_writes, s, exists), next, "CSR access");
      break;
    case Kind::ecall: {
      static const u64 c[] = {cause::ecall_m, cause::ecall_s, cause::ecall_u, cause::ecall_vs, cause::ecall_u};
      trap(c[static_cast<int>(s.mode)], {0});
      e.why = "ecall";
      break;
    }
    case Kind::ebreak:
      trap(cause::breakpoint, {0, s.pc});
      // GVA=1 when mtval holds a guest virtual address, i.e. the nonzero pc of a V=1 EBREAK.
      if (is_virt(s.mode)) {
        e.traps = {TrapSpec{cause::breakpoint, {0}}, TrapSpec{cause::breakpoint, {s.pc}}};
        e.traps[1].gva = true;
      }
      e.why = "ebreak";
      break;
    case Kind::mret: by_rule(priv_rule(in.kind, s), kMepc, "mret"); break;
    case Kind::sret: by_rule(priv_rule(in.kind, s), is_virt(s.mode) ? kVsepc : kSepc, "sret"); break;
    case Kind::wfi: by_rule(priv_rule(in.kind, s), next, "wfi"); break;
    case Kind::sfence_vma: case Kind::sfence_inval: case Kind::hfence_v: case Kind::hfence_g:
      by_rule(priv_rule(in.kind, s), next, "fence instruction");
      break;
  }
  return e;
}

// =============================================================================================
// Word generators

std::vector<u16> interesting_csrs() {
  std::vector<u16> v = {
      csr::fflags, csr::frm, csr::fcsr, csr::cycle, csr::time, csr::instret, csr::hpmcounter3, csr::hpmcounter31,
      0xc80, 0xc81, csr::sstatus, csr::sie, csr::stvec, csr::scounteren, csr::senvcfg, csr::sscratch, csr::sepc,
      csr::scause, csr::stval, csr::sip, csr::stimecmp, csr::satp, csr::hstatus, csr::hedeleg, csr::hideleg,
      csr::hie, csr::htimedelta, csr::hcounteren, csr::hgeie, csr::henvcfg, csr::htval, csr::hip, csr::hvip,
      csr::htinst, csr::hgatp, csr::hgeip, csr::vsstatus, csr::vsie, csr::vstvec, csr::vsscratch, csr::vsepc,
      csr::vscause, csr::vstval, csr::vsip, csr::vstimecmp, csr::vsatp, csr::mvendorid, csr::mhartid,
      csr::mconfigptr, csr::mstatus, csr::misa, csr::medeleg, csr::mideleg, csr::mie, csr::mtvec, csr::mcounteren,
      csr::menvcfg, csr::mcountinhibit, csr::mhpmevent3, csr::mscratch, csr::mepc, csr::mcause, csr::mtval,
      csr::mip, csr::mtinst, csr::mtval2, csr::pmpcfg0, 0x3a1, csr::pmpaddr0, csr::mcycle, csr::minstret,
      csr::mhpmcounter3, 0x601, 0x615, 0x61a, 0x101, 0x310, 0x31a, 0x5a8, 0x7a0, 0x7b0, 0x015, 0x10c, 0x30c,
      0x6c0, 0x5c0, 0x8c0, 0xcc0, 0xdc0, 0xa00, 0x9c0,
  };
  return v;
}

// Random 32-bit words, half of them steered toward defined encodings of each major opcode so that
// the defined instructions are well covered, not just the illegal space.
class WordGen {
 public:
  explicit WordGen(u64 seed) : rng_(seed), csrs_(interesting_csrs()) {}

  u32 next32() {
    for (;;) {
      u32 w = (rng_() & 1) ? templated() : static_cast<u32>(rng_()) | 3;
      if ((w & 3) == 3) return w;
    }
  }

 private:
  u32 r(u32 bits) { return static_cast<u32>(rng_()) & ((1u << bits) - 1); }
  template <typename T, std::size_t N>
  T pick(const T (&a)[N]) {
    return a[rng_() % N];
  }
  u32 templated() {
    static const u32 kOpcodes[] = {0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37,
                                   0x3b, 0x43, 0x47, 0x4b, 0x4f, 0x53, 0x63, 0x67, 0x6f, 0x73, 0x73};
    u32 opc = pick(kOpcodes);
    u32 w = (static_cast<u32>(rng_()) & ~0x7fu) | opc;
    u32 rs1 = r(5), rd = r(5), rs2 = r(5);
    switch (opc) {
      case 0x33: case 0x3b: {
        static const u32 kF7[] = {0x00, 0x20, 0x01, 0x10, 0x04, 0x05, 0x07, 0x30, 0x24, 0x34, 0x14};
        return pick(kF7) << 25 | rs2 << 20 | rs1 << 15 | r(3) << 12 | rd << 7 | opc;
      }
      case 0x13: case 0x1b: {
        static const u32 kHi[] = {0x000, 0x400, 0x600, 0x480, 0x680, 0x280, 0x080, 0x287 >> 0, 0x6b8};
        u32 f3 = r(3);
        if (f3 == 1 || f3 == 5) {
          u32 hi = pick(kHi);
          u32 imm = (hi == 0x287 || hi == 0x6b8) ? hi : (hi | r(hi == 0x600 && (rng_() & 1) ? 3 : 6));
          return imm << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
        }
        return w;
      }
      case 0x2f: {
        static const u32 kF5[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c};
        u32 f5 = pick(kF5);
        if (f5 == 0x02 && (rng_() & 3)) rs2 = 0;
        return f5 << 27 | r(2) << 25 | rs2 << 20 | rs1 << 15 | (2 + r(1)) << 12 | rd << 7 | opc;
      }
      case 0x53: {
        static const u32 kF7[] = {0x00, 0x04, 0x08, 0x0c, 0x2c, 0x10, 0x14, 0x60, 0x68, 0x70, 0x78, 0x50,
                                  0x01, 0x05, 0x09, 0x0d, 0x2d, 0x11, 0x15, 0x61, 0x69, 0x71, 0x79, 0x51,
                                  0x20, 0x21};
        u32 f7 = pick(kF7);
        if (f7 == 0x2c || f7 == 0x2d || f7 == 0x70 || f7 == 0x71 || f7 == 0x78 || f7 == 0x79) rs2 = 0;
        if (f7 == 0x60 || f7 == 0x61 || f7 == 0x68 || f7 == 0x69) rs2 = r(2);
        if (f7 == 0x20) rs2 = 1;
        if (f7 == 0x21) rs2 = 0;
        return f7 << 25 | rs2 << 20 | rs1 << 15 | r(3) << 12 | rd << 7 | opc;
      }
      case 0x43: case 0x47: case 0x4b: case 0x4f:
        return (w & ~(3u << 25)) | r(1) << 25;
      case 0x73:
        return system();
      default:
        return w;
    }
  }
  u32 system() {
    u32 rs1 = r(5), rd = r(5);
    switch (rng_() % 4) {
      case 0: case 1: {  // CSR access
        static const u32 kF3[] = {1, 2, 3, 5, 6, 7};
        u16 num = (rng_() % 5) ? csrs_[rng_() % csrs_.size()] : static_cast<u16>(r(12));
        if (rng_() % 3 == 0) rs1 = 0;
        return static_cast<u32>(num) << 20 | rs1 << 15 | pick(kF3) << 12 | rd << 7 | 0x73;
      }
      case 2: {  // privileged, mostly with the canonical zero fields
        static const u32 kWords[] = {0x00000073, 0x00100073, 0x30200073, 0x10200073, 0x10500073, 0x12000073,
                                     0x16000073, 0x18000073, 0x18100073, 0x22000073, 0x62000073, 0x26000073,
                                     0x66000073, 0x7b200073, 0x00200073};
        u32 w = pick(kWords);
        if (w == 0x12000073 || w == 0x16000073 || w == 0x22000073 || w == 0x62000073 || w == 0x26000073 ||
            w == 0x66000073)
          w |= r(5) << 15 | r(5) << 20;
        if (rng_() % 8 == 0) w |= r(5) << 7;  // nonzero rd: not defined
        return w;
      }
      default: {  // HLV / HLVX / HSV
        static const u32 kF7[] = {0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37};
        static const u32 kRs2[] = {0, 1, 3};
        u32 f7 = pick(kF7);
        u32 rs2 = (f7 & 1) ? r(5) : pick(kRs2);
        if (f7 & 1) rd = 0;
        return f7 << 25 | rs2 << 20 | rs1 << 15 | 4u << 12 | rd << 7 | 0x73;
      }
    }
  }
  std::mt19937_64 rng_;
  std::vector<u16> csrs_;
};

// =============================================================================================
// The test environment

class HartRandomTest : public ::testing::Test {
 protected:
  HartRandomTest() : hart_(bus_, config()), rng_(0x5eed'1234'abcd'0001ull) {
    bus_.add_ram(kRamBase, kRamSize, ram_.p);
    hart_.reset(kCode);
    exists_ = std::make_unique<CsrExistence>(hart_);
    // Random memory contents, so that loaded values (and their sign extension) are meaningful.
    for (u64 off = 0; off < kRamSize; off += 8) {
      u64 v = rng_();
      std::memcpy(ram_.p + off, &v, 8);
    }
    std::memset(ram_.p + (kGRoot - kRamBase), 0, 16384);
    // Sv39x4 G-stage: one 1 GiB leaf mapping GPA [2 GiB, 3 GiB) to the same SPA (RAM lives there).
    u64 leaf = ((kRamBase >> 12) << 10) | pte::V | pte::R | pte::W | pte::X | pte::U | pte::A | pte::D;
    std::memcpy(ram_.p + (kGRoot - kRamBase) + 2 * 8, &leaf, 8);
  }
  static HartConfig config() {
    HartConfig c;
    c.clock = ClockKind::instret;
    return c;
  }
  u64 csr(u16 n) {
    u64 v = 0;
    hart_.read_csr_raw(n, v);
    return v;
  }
  void set_csr(u16 n, u64 v) { hart_.write_csr_raw(n, v); }

  // A register value that points into RAM, just outside it, into unmapped guest space, or anywhere.
  u64 random_reg() {
    switch (rng_() % 10) {
      case 0: case 1: case 2: return kData + (rng_() % 0x10000);
      case 3: return kData + (rng_() % 0x10000 & ~7ull);
      case 4: return (rng_() & 1) ? kRamBase + kRamSize - (rng_() % 64) : kRamBase - (rng_() % 64);
      case 5: return (rng_() & 1) ? 0x4000'0000 + (rng_() % 0x4000'0000) : (1ull << 41) + (rng_() % 4096);
      case 6: case 7: return rng_() % 4096;
      default: return rng_();
    }
  }
  u64 random_freg() {
    switch (rng_() % 4) {
      case 0: return 0xffff'ffff'0000'0000ull | static_cast<u32>(rng_());  // boxed single
      case 1: return static_cast<u32>(rng_());                            // unboxed
      default: return rng_();
    }
  }

  // Restores every CSR an earlier random instruction may have changed and randomizes the controls
  // the oracle depends on.
  State randomize(Mode mode, u64 pc, unsigned fs_sel, bool gstage) {
    State s{};
    s.mode = mode;
    s.pc = pc;
    s.gstage = gstage;
    auto bit = [&](u64 b) { return (rng_() & 1) ? b : 0; };
    u64 mpp = std::array<u64, 3>{0, 1, 3}[rng_() % 3];
    u64 fs_m = fs_sel == 1 ? 0 : 1 + rng_() % 3, fs_vs = fs_sel == 2 ? 0 : 1 + rng_() % 3;
    // SUM/MXR and the translation-related envcfg bits are left alone: with Bare first stages they
    // change nothing the oracle looks at, and every combination costs the hart a TLB context.
    set_csr(csr::mstatus, mpp << mstatus::kMppShift | fs_m << mstatus::kFsShift | bit(mstatus::TVM) |
                              bit(mstatus::TW) | bit(mstatus::TSR) | bit(mstatus::MPV) | bit(mstatus::SPP));
    set_csr(csr::vsstatus, fs_vs << mstatus::kFsShift | bit(mstatus::SPP));
    set_csr(csr::hstatus, bit(hstatus::VTSR) | bit(hstatus::VTW) | bit(hstatus::VTVM) | bit(hstatus::HU) |
                              bit(hstatus::SPV) | bit(hstatus::SPVP));
    auto counteren = [&] { return rng_() % 3 == 0 ? 0xffffffffull : static_cast<u32>(rng_()); };
    set_csr(csr::mcounteren, counteren());
    set_csr(csr::hcounteren, counteren());
    set_csr(csr::scounteren, counteren());
    set_csr(csr::menvcfg, bit(envcfg::STCE));
    set_csr(csr::henvcfg, bit(envcfg::STCE));
    set_csr(csr::frm, rng_() % 8);
    set_csr(csr::fflags, 0);
    set_csr(csr::mie, 0);
    set_csr(csr::mip, 0);
    set_csr(csr::hvip, 0);
    set_csr(csr::hgeie, 0);
    set_csr(csr::mideleg, 0);
    set_csr(csr::hideleg, 0);
    set_csr(csr::medeleg, 0);
    set_csr(csr::hedeleg, 0);
    set_csr(csr::mtvec, kTrapVec);
    set_csr(csr::mepc, kMepc);
    set_csr(csr::sepc, kSepc);
    set_csr(csr::vsepc, kVsepc);
    set_csr(csr::satp, 0);
    set_csr(csr::vsatp, 0);
    set_csr(csr::hgatp, gstage ? (u64{atp::Sv39} << atp::kModeShift) | (kGRoot >> 12) : 0);
    set_csr(csr::senvcfg, 0);
    set_csr(csr::mcause, 0);
    set_csr(csr::mtval, 0);
    set_csr(csr::mtval2, 0);
    set_csr(csr::mtinst, 0);
    for (u16 i = 0; i < 16; i += 2) set_csr(csr::pmpcfg0 + i, 0);
    set_csr(csr::pmpaddr0, (1ull << 54) - 1);
    set_csr(csr::pmpcfg0, 0x1f);  // NAPOT over everything, RWX
    s.mstatus = csr(csr::mstatus);
    s.vsstatus = csr(csr::vsstatus);
    s.hstatus = csr(csr::hstatus);
    s.mcounteren = csr(csr::mcounteren);
    s.hcounteren = csr(csr::hcounteren);
    s.scounteren = csr(csr::scounteren);
    s.menvcfg = csr(csr::menvcfg);
    s.henvcfg = csr(csr::henvcfg);
    s.frm = static_cast<unsigned>(csr(csr::frm));
    s.x[0] = 0;
    for (unsigned i = 1; i < 32; ++i) hart_.set_x(i, s.x[i] = random_reg());
    for (unsigned i = 0; i < 32; ++i) hart_.set_f(i, random_freg());
    return s;
  }

  // Failures are grouped so that one hart bug gives one readable report, with a few examples.
  void record(const std::string& category, const std::string& example) {
    auto& f = failures_[category];
    if (f.count++ < 4) f.examples.push_back(example);
  }
  void report() {
    for (auto& [cat, f] : failures_) {
      std::string msg = cat + " (" + std::to_string(f.count) + " executions)";
      for (auto& ex : f.examples) msg += "\n    e.g. " + ex;
      ADD_FAILURE() << msg;
    }
  }

  // Executes `in` once in mode `m` and checks the outcome against the oracle.
  void execute_and_check(const Insn& in, Mode m, unsigned variant) {
    u64 pc = kCode + ((rng_() % 0x800) * 2);
    if (in.len == 4 && variant % 7 == 0) pc = kCode + 0xffe;  // straddles into the next page
    unsigned fs_sel = variant % 3;
    bool gstage = (variant / 3) % 2;
    State s = randomize(m, pc, fs_sel, gstage);
    std::memcpy(ram_.p + (pc - kRamBase), &in.raw, in.len);
    hart_.invalidate_code(ram_.p + (pc - kRamBase), in.len);
    hart_.set_pc(pc);
    hart_.set_priv(nominal(m), is_virt(m));

    std::array<u64, 32> f_before;
    for (unsigned i = 0; i < 32; ++i) f_before[i] = hart_.f(i);
    u64 mem_before = 0;
    u64 ea = s.x[in.base] + static_cast<u64>(in.offset);
    if (in.size && in_ram(ea, in.size)) std::memcpy(&mem_before, ram_.p + (ea - kRamBase), in.size);
    u64 traps = hart_.stats().traps;
    StopReason why = hart_.run(1);
    bool trapped = hart_.stats().traps != traps;
    ++executions_;

    Expect e = expect(in, s, *exists_);
    char head[160];
    std::snprintf(head, sizeof head, "%0*x %-16s in %-2s", in.len * 2, in.raw, in.mnem.c_str(), name(m));
    auto fail = [&](const std::string& what, const std::string& detail) {
      record(std::string(in.mnem == "<undefined>" ? "undefined encoding" : e.why) + ": " + what + " [" + name(m) +
                 "]",
             std::string(head) + ": " + detail);
    };
    unsigned x_changed = 0, f_changed = 0;
    for (unsigned i = 1; i < 32; ++i) x_changed += hart_.x(i) != s.x[i];
    for (unsigned i = 0; i < 32; ++i) f_changed += hart_.f(i) != f_before[i];

    if (why != StopReason::budget && !(why == StopReason::wfi && in.kind == Kind::wfi && !trapped))
      fail("run() stopped for a reason other than the budget", std::to_string(static_cast<int>(why)));
    if (hart_.pc() & 1) fail("odd pc", std::to_string(hart_.pc()));
    if (hart_.priv() == Priv::M && hart_.virt()) fail("V=1 in M-mode", "");

    auto expected_causes = [&] {
      std::string c;
      for (auto& t : e.traps) c += std::to_string(t.cause) + " ";
      return c + (e.may_retire ? "or retire" : "");
    };
    if (!trapped) {
      if (!e.may_retire) {
        fail("retired but must trap with " + expected_causes(), "pc -> " + hex(hart_.pc()));
        return;
      }
      if (std::find(e.pcs.begin(), e.pcs.end(), hart_.pc()) == e.pcs.end())
        fail("wrong next pc", "got " + hex(hart_.pc()) + ", want " + hex(e.pcs[0]));
      if (x_changed > 1 || f_changed > 1 || (x_changed && f_changed))
        fail("more than one register written", std::to_string(x_changed) + " x, " + std::to_string(f_changed) + " f");
      if (e.no_reg_change && (x_changed || f_changed)) fail("reserved code point changed a register", "");
      if ((in.kind == Kind::jal || in.kind == Kind::jalr) && in.rd && hart_.x(in.rd) != pc + in.len)
        fail("wrong link value", hex(hart_.x(in.rd)));
      check_memory_value(in, s, mem_before, f_before, fail);
      return;
    }
    // Trapped: the trap must be one of the allowed ones, precise, and recorded correctly in M-mode.
    u64 cause = csr(csr::mcause), tval = csr(csr::mtval), tval2 = csr(csr::mtval2), tinst = csr(csr::mtinst);
    u64 ms = csr(csr::mstatus);
    // Several specs may share a cause (e.g. either part of a misaligned access): one must fit fully.
    auto contains = [](const std::vector<u64>& v, u64 x) { return std::find(v.begin(), v.end(), x) != v.end(); };
    std::string mismatch;
    bool matched = false, cause_ok = false;
    for (auto& t : e.traps) {
      if (t.cause != cause) continue;
      cause_ok = true;
      if (!t.tvals.empty() && !contains(t.tvals, tval)) {
        mismatch = "wrong mtval for cause " + std::to_string(cause) + ": " + hex(tval);
      } else if (t.tval2_is_gpa ? (tval2 != 0 && tval2 != tval >> 2) : !contains(t.tval2s, tval2)) {
        mismatch = "wrong mtval2 for cause " + std::to_string(cause) + ": " + hex(tval2) + " (mtval " + hex(tval) + ")";
      } else if (!contains(t.tinsts, tinst)) {
        mismatch = "mtinst not 0 or the transformed instruction, cause " + std::to_string(cause) + ": " + hex(tinst);
      } else if (((ms & mstatus::GVA) != 0) != t.gva) {
        mismatch = "wrong mstatus.GVA for cause " + std::to_string(cause);
      } else {
        matched = true;
        break;
      }
    }
    if (!cause_ok) {
      fail("trap cause " + std::to_string(cause) + ", allowed: " + expected_causes(), "mtval " + hex(tval));
      return;
    }
    if (!matched) {
      std::size_t colon = mismatch.find(':');
      fail(mismatch.substr(0, colon), colon == std::string::npos ? "" : mismatch.substr(colon + 2));
    }
    if (x_changed || f_changed) fail("trap is not precise: registers written", "");
    if (csr(csr::mepc) != pc) fail("mepc", hex(csr(csr::mepc)));
    if (((ms & mstatus::MPP) >> mstatus::kMppShift) != static_cast<u64>(nominal(m))) fail("mstatus.MPP", "");
    if (((ms & mstatus::MPV) != 0) != is_virt(m)) fail("mstatus.MPV", "");
    if (hart_.pc() != kTrapVec || hart_.priv() != Priv::M || hart_.virt()) fail("not at mtvec in M-mode", "");
  }

  // A retired load wrote the (extended) memory value; a retired store wrote its register's bytes.
  template <typename Fail>
  void check_memory_value(const Insn& in, const State& s, u64 mem_before, const std::array<u64, 32>& f_before,
                          Fail& fail) {
    u64 ea = s.x[in.base] + static_cast<u64>(in.offset);
    if (!in.size || !in_ram(ea, in.size)) return;
    unsigned bits = in.size * 8;
    u64 mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    switch (in.kind) {
      case Kind::load: case Kind::hlv: {
        if (!in.rd) break;
        u64 want = in.load_signed ? static_cast<u64>(sext(mem_before, bits)) : mem_before;
        if (hart_.x(in.rd) != want) fail("wrong loaded value", hex(hart_.x(in.rd)) + ", memory " + hex(mem_before));
        break;
      }
      case Kind::fp_load: {
        u64 want = in.size == 4 ? 0xffff'ffff'0000'0000ull | mem_before : mem_before;
        if (hart_.f(in.rd) != want) fail("wrong loaded FP value (NaN boxing?)", hex(hart_.f(in.rd)));
        break;
      }
      case Kind::store: case Kind::hsv: case Kind::fp_store: {
        u64 now = 0;
        std::memcpy(&now, ram_.p + (ea - kRamBase), in.size);
        u64 src = in.kind == Kind::fp_store ? f_before[in.rs2] : s.x[in.rs2];
        if (now != (src & mask)) fail("wrong stored value", hex(now) + ", register " + hex(src));
        break;
      }
      default:
        break;
    }
  }

  static std::string hex(u64 v) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
    return b;
  }

  void run_all(const std::vector<Insn>& insns) {
    unsigned variant = 0;
    for (const Insn& in : insns)
      for (Mode m : kModes) execute_and_check(in, m, variant++);
    report();
    RecordProperty("executions", std::to_string(executions_));
  }

  AlignedRam ram_{kRamSize};
  Bus bus_;
  Hart hart_;
  std::mt19937_64 rng_;
  std::unique_ptr<CsrExistence> exists_;
  struct Failure {
    u64 count = 0;
    std::vector<std::string> examples;
  };
  std::map<std::string, Failure> failures_;
  u64 executions_ = 0;
};

// The CSR oracle takes which optional CSRs exist from the hart; the spec decides the rest.
TEST_F(HartRandomTest, CsrExistenceMatchesTheSpecification) {
  for (u16 n : {csr::fflags, csr::frm, csr::fcsr, csr::cycle, csr::time, csr::instret, csr::sstatus, csr::sie,
                csr::stvec, csr::scounteren, csr::senvcfg, csr::sscratch, csr::sepc, csr::scause, csr::stval, csr::sip,
                csr::satp, csr::stimecmp, csr::hstatus, csr::hedeleg, csr::hideleg, csr::hie, csr::htimedelta,
                csr::hcounteren, csr::hgeie, csr::henvcfg, csr::htval, csr::hip, csr::hvip, csr::htinst, csr::hgatp,
                csr::hgeip, csr::vsstatus, csr::vsie, csr::vstvec, csr::vsscratch, csr::vsepc, csr::vscause,
                csr::vstval, csr::vsip, csr::vsatp, csr::vstimecmp, csr::mvendorid, csr::marchid, csr::mimpid,
                csr::mhartid, csr::mconfigptr, csr::mstatus, csr::misa, csr::medeleg, csr::mideleg, csr::mie,
                csr::mtvec, csr::mcounteren, csr::menvcfg, csr::mscratch, csr::mepc, csr::mcause, csr::mtval,
                csr::mip, csr::mtinst, csr::mtval2, csr::mcycle, csr::minstret, csr::mcountinhibit})
    EXPECT_TRUE((*exists_)(n)) << "mandatory CSR 0x" << std::hex << n;
  for (unsigned i = 0; i < 29; ++i) {
    EXPECT_TRUE((*exists_)(static_cast<u16>(csr::mhpmcounter3 + i)));
    EXPECT_TRUE((*exists_)(static_cast<u16>(csr::mhpmevent3 + i)));
  }
  for (unsigned i = 0; i < 16; i += 2) EXPECT_TRUE((*exists_)(static_cast<u16>(csr::pmpcfg0 + i)));
  // RV64: no high halves, no odd pmpcfg.
  for (u16 n : {u16{0x310}, u16{0x312}, u16{0x31a}, u16{0x615}, u16{0x61a}, u16{0xc80}, u16{0xc82}, u16{0xb80},
                u16{0xb82}, u16{0x3a1}, u16{0x3a3}, u16{0x15d}, u16{0x25d}})
    EXPECT_FALSE((*exists_)(n)) << "0x" << std::hex << n << " does not exist on RV64";
}

TEST_F(HartRandomTest, Random32BitWordsInEveryMode) {
  if (!tools_present()) GTEST_SKIP() << "riscv64-unknown-elf binutils not installed in /usr/bin";
  constexpr unsigned kWords = 40000;
  WordGen gen(0x1234'5678'9abc'def0ull);
  std::vector<std::pair<u32, unsigned>> for_objdump;
  std::vector<u32> words;
  for (unsigned i = 0; i < kWords; ++i) {
    u32 w = gen.next32();
    words.push_back(w);
    if ((w & 0x1f) != 0x1f) for_objdump.push_back({w, 4});  // >= 48-bit encodings would desync objdump
  }
  std::vector<Dis> dis = objdump_words(for_objdump);
  ASSERT_EQ(dis.size(), for_objdump.size()) << "objdump output could not be matched to the words";
  std::vector<Insn> insns;
  std::size_t k = 0;
  unsigned defined = 0;
  for (u32 w : words) {
    Dis d = (w & 0x1f) != 0x1f ? dis[k++] : Dis{};
    insns.push_back(classify(w, 4, d));
    defined += insns.back().kind != Kind::undefined;
  }
  RecordProperty("defined_words", std::to_string(defined));
  EXPECT_GT(defined, kWords / 3) << "the generator should hit defined encodings often";
  run_all(insns);
}

TEST_F(HartRandomTest, Every16BitWordInEveryMode) {
  if (!tools_present()) GTEST_SKIP() << "riscv64-unknown-elf binutils not installed in /usr/bin";
  std::vector<std::pair<u32, unsigned>> words;
  for (u32 h = 0; h < 0x10000; ++h)
    if ((h & 3) != 3) words.push_back({h, 2});
  std::vector<Dis> dis = objdump_words(words);
  ASSERT_EQ(dis.size(), words.size()) << "objdump output could not be matched to the words";
  std::vector<Insn> insns;
  for (std::size_t i = 0; i < words.size(); ++i) insns.push_back(classify(words[i].first, 2, dis[i]));
  run_all(insns);
}

// Whole random programs, with random delegation and trap vectors inside the random code, run under
// a budget: run() must come back, and the hart must stay in a consistent state.
TEST_F(HartRandomTest, RandomProgramsAlwaysReturnFromRun) {
  WordGen gen(0xfeed'beef'0000'0042ull);
  for (unsigned prog = 0; prog < 600; ++prog) {
    hart_.reset(kCode);
    for (u64 off = 0; off < 0x2000; off += 4) {
      u32 w = (rng_() % 3 == 0) ? static_cast<u32>(rng_()) : gen.next32();
      std::memcpy(ram_.p + (kCode - kRamBase) + off, &w, 4);
    }
    hart_.invalidate_code(ram_.p + (kCode - kRamBase), 0x2000);
    Mode m = kModes[prog % 5];
    randomize(m, kCode, prog % 3, (prog / 5) % 2);
    auto vec = [&] { return kCode + (rng_() % 0x800) * 4; };
    set_csr(csr::mtvec, vec());
    set_csr(csr::stvec, vec());
    set_csr(csr::vstvec, vec());
    set_csr(csr::medeleg, rng_() & 0xf0b7ff);
    set_csr(csr::hedeleg, rng_());
    hart_.set_pc(kCode + (rng_() % 0x800) * 4);
    hart_.set_priv(nominal(m), is_virt(m));
    for (int round = 0; round < 4; ++round) {
      StopReason r = hart_.run(256);
      ASSERT_TRUE(r == StopReason::budget || r == StopReason::wfi) << static_cast<int>(r);
      ASSERT_EQ(hart_.pc() & 1, 0u);
      ASSERT_FALSE(hart_.priv() == Priv::M && hart_.virt());
      // Whatever the random code wrote, the WARL registers hold legal values.
      u64 ms = csr(csr::mstatus), vs = csr(csr::vsstatus);
      ASSERT_NE((ms & mstatus::MPP) >> mstatus::kMppShift, 2u) << "MPP holds a reserved value";
      ASSERT_EQ((ms & (mstatus::UXL | mstatus::SXL)) >> 32, 0xau) << "UXL = SXL = 64";
      ASSERT_EQ((vs & mstatus::UXL) >> 32, 2u);
      ASSERT_EQ((ms & mstatus::SD) != 0, (ms & mstatus::FS) == mstatus::FS) << "SD summarises FS";
      ASSERT_EQ((vs & mstatus::SD) != 0, (vs & mstatus::FS) == mstatus::FS);
      ASSERT_EQ((csr(csr::hstatus) & hstatus::VSXL) >> 32, 2u);
      for (u16 atp_csr : {csr::satp, csr::vsatp, csr::hgatp}) {
        u64 mode = csr(atp_csr) >> atp::kModeShift;
        ASSERT_TRUE(mode == 0 || mode == 8 || mode == 9 || mode == 10) << std::hex << atp_csr << " mode " << mode;
      }
      ASSERT_EQ(csr(csr::mideleg) & irq::kVsMask, irq::kVsMask);
      ASSERT_EQ(csr(csr::medeleg) & (1ull << cause::ecall_m), 0u);
      ASSERT_LE(csr(csr::fcsr), 0xffu);
    }
  }
}

}  // namespace
}  // namespace rvkvm
