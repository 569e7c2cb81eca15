// Disassembly in the exact text GNU objdump -M no-aliases prints, so that tests and trace diffs can
// compare against it line for line: the mnemonic, then (if there are operands) one tab and the
// operands separated by commas with no spaces: "addi\ta0,a1,-5", "ld\ta0,8(sp)", "c.addi\tsp,-16".
//
// Numbers follow objdump: immediates and offsets in signed decimal, shift amounts, U-type
// immediates and unnamed CSRs in "0x" hex. Branch and jump targets are printed as the absolute
// address "0x80000010", which is what objdump prints when it has no symbols (e.g. for -b binary);
// with an ELF file it would append " <symbol+off>" and drop the 0x, which a stateless
// disassembler cannot know. objdump's "# address" comments (from tracking lui/auipc values across
// instructions) are not produced for the same reason.
//
// The few non-alias spellings objdump always uses are kept: "unimp", "c.unimp", "pause",
// "fence.tso", "c.slli64"/"c.srli64"/"c.srai64" for zero shift amounts, and "c.addi zero,imm"
// for C.NOP. Encodings with no instruction print as ".4byte 0x..." / ".2byte 0x...".
//
// Where our decoder accepts encodings that objdump rejects (fence with nonzero fm, rs1 or rd;
// fence.i with nonzero fields; fcvt.d.s/fcvt.d.w/fcvt.d.wu with a nonzero rm) we print the
// instruction the hart will execute rather than ".4byte".

#include <fmt/format.h>

#include <array>

#include "isa/csr_names.h"
#include "isa/isa.h"
#include "isa/rvc.h"

namespace rvkvm::isa {
namespace {

constexpr std::array<std::string_view, 32> kXregNames = {
    "zero", "ra", "sp", "gp", "tp",  "t0",  "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6",   "a7", "s2", "s3", "s4",  "s5",  "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};
constexpr std::array<std::string_view, 32> kFregNames = {
    "ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",  "fs0",  "fs1",  "fa0",
    "fa1", "fa2", "fa3",  "fa4",  "fa5", "fa6", "fa7",  "fs2",  "fs3",  "fs4",  "fs5",
    "fs6", "fs7", "fs8",  "fs9",  "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

// --- CSR names --------------------------------------------------------------------------------

#define RVKVM_CSR_NAMES(X)                                                                          \
  /* Unprivileged: FP, vector, entropy source, counters */                                         \
  X(0x001, "fflags") X(0x002, "frm") X(0x003, "fcsr")                                               \
  X(0x008, "vstart") X(0x009, "vxsat") X(0x00a, "vxrm") X(0x00f, "vcsr")                            \
  X(0x015, "seed")                                                                                  \
  X(0xc00, "cycle") X(0xc01, "time") X(0xc02, "instret")                                            \
  X(0xc20, "vl") X(0xc21, "vtype") X(0xc22, "vlenb")                                                \
  X(0xc80, "cycleh") X(0xc81, "timeh") X(0xc82, "instreth")                                         \
  /* Supervisor */                                                                                  \
  X(0x100, "sstatus") X(0x104, "sie") X(0x105, "stvec") X(0x106, "scounteren")                      \
  X(0x10a, "senvcfg") X(0x114, "sieh")                                                              \
  X(0x140, "sscratch") X(0x141, "sepc") X(0x142, "scause") X(0x143, "stval") X(0x144, "sip")        \
  X(0x14d, "stimecmp") X(0x15d, "stimecmph")                                                        \
  X(0x150, "siselect") X(0x151, "sireg") X(0x154, "siph") X(0x15c, "stopei")                        \
  X(0x180, "satp") X(0x5a8, "scontext") X(0xda0, "scountovf") X(0xdb0, "stopi")                     \
  /* Virtual supervisor */                                                                          \
  X(0x200, "vsstatus") X(0x204, "vsie") X(0x205, "vstvec") X(0x214, "vsieh")                        \
  X(0x240, "vsscratch") X(0x241, "vsepc") X(0x242, "vscause") X(0x243, "vstval") X(0x244, "vsip")   \
  X(0x24d, "vstimecmp") X(0x25d, "vstimecmph")                                                      \
  X(0x250, "vsiselect") X(0x251, "vsireg") X(0x254, "vsiph") X(0x25c, "vstopei")                    \
  X(0x280, "vsatp") X(0xeb0, "vstopi")                                                              \
  /* Hypervisor */                                                                                  \
  X(0x600, "hstatus") X(0x602, "hedeleg") X(0x603, "hideleg") X(0x604, "hie")                       \
  X(0x605, "htimedelta") X(0x606, "hcounteren") X(0x607, "hgeie")                                   \
  X(0x608, "hvien") X(0x609, "hvictl") X(0x60a, "henvcfg")                                          \
  X(0x613, "hidelegh") X(0x615, "htimedeltah") X(0x618, "hvienh") X(0x61a, "henvcfgh")              \
  X(0x643, "htval") X(0x644, "hip") X(0x645, "hvip") X(0x646, "hviprio1") X(0x647, "hviprio2")      \
  X(0x64a, "htinst") X(0x655, "hviph") X(0x656, "hviprio1h") X(0x657, "hviprio2h")                  \
  X(0x680, "hgatp") X(0x6a8, "hcontext") X(0xe12, "hgeip")                                          \
  /* Machine */                                                                                     \
  X(0xf11, "mvendorid") X(0xf12, "marchid") X(0xf13, "mimpid") X(0xf14, "mhartid")                  \
  X(0xf15, "mconfigptr")                                                                            \
  X(0x300, "mstatus") X(0x301, "misa") X(0x302, "medeleg") X(0x303, "mideleg") X(0x304, "mie")      \
  X(0x305, "mtvec") X(0x306, "mcounteren") X(0x308, "mvien") X(0x309, "mvip") X(0x30a, "menvcfg")   \
  X(0x310, "mstatush") X(0x313, "midelegh") X(0x314, "mieh") X(0x318, "mvienh") X(0x319, "mviph")   \
  X(0x31a, "menvcfgh") X(0x320, "mcountinhibit")                                                    \
  X(0x340, "mscratch") X(0x341, "mepc") X(0x342, "mcause") X(0x343, "mtval") X(0x344, "mip")        \
  X(0x34a, "mtinst") X(0x34b, "mtval2")                                                             \
  X(0x350, "miselect") X(0x351, "mireg") X(0x354, "miph") X(0x35c, "mtopei") X(0xfb0, "mtopi")      \
  X(0x747, "mseccfg") X(0x757, "mseccfgh")                                                          \
  X(0xb00, "mcycle") X(0xb02, "minstret") X(0xb80, "mcycleh") X(0xb82, "minstreth")                 \
  /* Debug and trigger module */                                                                    \
  X(0x7a0, "tselect") X(0x7a1, "tdata1") X(0x7a2, "tdata2") X(0x7a3, "tdata3") X(0x7a4, "tinfo")    \
  X(0x7a5, "tcontrol") X(0x7a8, "mcontext") X(0x7aa, "mscontext")                                  \
  X(0x7b0, "dcsr") X(0x7b1, "dpc") X(0x7b2, "dscratch0") X(0x7b3, "dscratch1")

// Numbered families: `prefix` N `suffix` at base + (N - first) for N in [first, last].
#define RVKVM_CSR_RANGES(X)                        \
  X(0xc03, "hpmcounter", 3, 31, "")                \
  X(0xc83, "hpmcounter", 3, 31, "h")               \
  X(0x10c, "sstateen", 0, 3, "")                   \
  X(0x60c, "hstateen", 0, 3, "")                   \
  X(0x61c, "hstateen", 0, 3, "h")                  \
  X(0x30c, "mstateen", 0, 3, "")                   \
  X(0x31c, "mstateen", 0, 3, "h")                  \
  X(0x323, "mhpmevent", 3, 31, "")                 \
  X(0x723, "mhpmevent", 3, 31, "h")                \
  X(0x3a0, "pmpcfg", 0, 15, "")                    \
  X(0x3b0, "pmpaddr", 0, 63, "")                   \
  X(0xb03, "mhpmcounter", 3, 31, "")               \
  X(0xb83, "mhpmcounter", 3, 31, "h")

constexpr std::size_t kCsrCount = 4096;
constexpr std::size_t kCsrNameMax = 16;  // longest is "mhpmcounter31h" plus the terminator

struct CsrNameTable {
  std::array<std::array<char, kCsrNameMax>, kCsrCount> names{};
  bool duplicate = false;  // two entries named the same number: a typo in the lists above
};

constexpr void put_name(CsrNameTable& t, unsigned csr, std::string_view prefix, int number, std::string_view suffix) {
  auto& out = t.names[csr];
  if (out[0] != 0) t.duplicate = true;
  std::size_t n = 0;
  for (char ch : prefix) out[n++] = ch;
  if (number >= 10) out[n++] = static_cast<char>('0' + number / 10);
  if (number >= 0) out[n++] = static_cast<char>('0' + number % 10);
  for (char ch : suffix) out[n++] = ch;
}

constexpr CsrNameTable make_csr_names() {
  CsrNameTable t{};
#define RVKVM_X(csr, name) put_name(t, csr, name, -1, "");
  RVKVM_CSR_NAMES(RVKVM_X)
#undef RVKVM_X
#define RVKVM_X(base, prefix, first, last, suffix) \
  for (int i = first; i <= last; ++i) put_name(t, base + (i - first), prefix, i, suffix);
  RVKVM_CSR_RANGES(RVKVM_X)
#undef RVKVM_X
  return t;
}
constexpr CsrNameTable kCsrNames = make_csr_names();
static_assert(!kCsrNames.duplicate, "a CSR number is named twice");

// --- Operand formatting -----------------------------------------------------------------------

std::string_view x(unsigned r) { return kXregNames[r & 31]; }
std::string_view f(unsigned r) { return kFregNames[r & 31]; }

// objdump's spelling of a fence's predecessor/successor set: a subset of "iorw", or "unknown" for
// the empty set.
std::string fence_set(unsigned set) {
  if (set == 0) return "unknown";
  std::string s;
  if (set & 8) s += 'i';
  if (set & 4) s += 'o';
  if (set & 2) s += 'r';
  if (set & 1) s += 'w';
  return s;
}

// The dynamic rounding mode (7) is the assembler's default and is not printed.
void append_rm(std::string& out, unsigned rm) {
  static constexpr std::array<std::string_view, 8> kNames = {"rne", "rtz",     "rdn",     "rup",
                                                             "rmm", "unknown", "unknown", ""};
  if (rm == 7) return;
  out += ',';
  out += kNames[rm & 7];
}

std::string aq_rl_suffix(i64 aqrl) {
  switch (aqrl & 3) {
    case 1: return ".rl";
    case 2: return ".aq";
    case 3: return ".aqrl";
    default: return "";
  }
}

std::string csr_operand(i64 csr) {
  std::string_view name = csr_name(static_cast<u16>(csr));
  return name.empty() ? fmt::format("0x{:x}", csr) : std::string(name);
}

std::string target(u64 pc, i64 offset) { return fmt::format("0x{:x}", pc + static_cast<u64>(offset)); }

// The U-type immediate as the 20-bit field value objdump shows ("lui a0,0xfffff").
std::string upper_imm(i64 imm) { return fmt::format("0x{:x}", (static_cast<u64>(imm) >> 12) & 0xfffff); }

std::string with_operands(std::string_view mnemonic, std::string_view operands) {
  std::string out(mnemonic);
  if (!operands.empty()) {
    out += '\t';
    out += operands;
  }
  return out;
}

// fcvt.d.s/fcvt.d.w/fcvt.d.wu are exact, so objdump leaves out their (canonically rne) rm.
bool rm_is_irrelevant(Op op) { return op == Op::fcvt_d_s || op == Op::fcvt_d_w || op == Op::fcvt_d_wu; }

std::string disassemble32(u32 raw, u64 pc) {
  // csrrw zero,cycle,zero is the canonical unimplemented instruction; objdump always names it.
  if (raw == 0xc0001073) return "unimp";
  DecodedInsn d = decode32(raw);
  if (d.op == Op::illegal) return fmt::format(".4byte\t0x{:x}", raw);
  const InsnInfo& row = info(d.op);
  std::string_view m = row.mnemonic;
  std::string ops;
  auto rm = [&] {
    if (!(rm_is_irrelevant(d.op) && d.rm == 0)) append_rm(ops, d.rm);
  };
  switch (row.fmt) {
    case Fmt::R: ops = fmt::format("{},{},{}", x(d.rd), x(d.rs1), x(d.rs2)); break;
    case Fmt::R1: ops = fmt::format("{},{}", x(d.rd), x(d.rs1)); break;
    case Fmt::I: ops = fmt::format("{},{},{}", x(d.rd), x(d.rs1), d.imm); break;
    case Fmt::Shift: ops = fmt::format("{},{},0x{:x}", x(d.rd), x(d.rs1), d.imm); break;
    case Fmt::U: ops = fmt::format("{},{}", x(d.rd), upper_imm(d.imm)); break;
    case Fmt::J: ops = fmt::format("{},{}", x(d.rd), target(pc, d.imm)); break;
    case Fmt::Jalr:
    case Fmt::Load: ops = fmt::format("{},{}({})", x(d.rd), d.imm, x(d.rs1)); break;
    case Fmt::B: ops = fmt::format("{},{},{}", x(d.rs1), x(d.rs2), target(pc, d.imm)); break;
    case Fmt::Store: ops = fmt::format("{},{}({})", x(d.rs2), d.imm, x(d.rs1)); break;
    case Fmt::Fence:
      if (raw == 0x0100000f) return "pause";  // Zihintpause: fence w,0
      if (raw == 0x8330000f) return "fence.tso";
      ops = fmt::format("{},{}", fence_set(bits(raw, 27, 24)), fence_set(bits(raw, 23, 20)));
      break;
    case Fmt::Fence2: ops = fmt::format("{},{}", x(d.rs1), x(d.rs2)); break;
    case Fmt::None: break;
    case Fmt::Csr: ops = fmt::format("{},{},{}", x(d.rd), csr_operand(d.imm), x(d.rs1)); break;
    case Fmt::CsrI: ops = fmt::format("{},{},{}", x(d.rd), csr_operand(d.imm), d.rs1); break;
    case Fmt::Lr:
      return with_operands(std::string(m) + aq_rl_suffix(d.imm), fmt::format("{},({})", x(d.rd), x(d.rs1)));
    case Fmt::Amo:
      return with_operands(std::string(m) + aq_rl_suffix(d.imm),
                           fmt::format("{},{},({})", x(d.rd), x(d.rs2), x(d.rs1)));
    case Fmt::FLoad: ops = fmt::format("{},{}({})", f(d.rd), d.imm, x(d.rs1)); break;
    case Fmt::FStore: ops = fmt::format("{},{}({})", f(d.rs2), d.imm, x(d.rs1)); break;
    case Fmt::R4:
      ops = fmt::format("{},{},{},{}", f(d.rd), f(d.rs1), f(d.rs2), f(d.rs3));
      rm();
      break;
    case Fmt::FRrm:
      ops = fmt::format("{},{},{}", f(d.rd), f(d.rs1), f(d.rs2));
      rm();
      break;
    case Fmt::FR1rm:
      ops = fmt::format("{},{}", f(d.rd), f(d.rs1));
      rm();
      break;
    case Fmt::FR: ops = fmt::format("{},{},{}", f(d.rd), f(d.rs1), f(d.rs2)); break;
    case Fmt::XFrm:
      ops = fmt::format("{},{}", x(d.rd), f(d.rs1));
      rm();
      break;
    case Fmt::XF: ops = fmt::format("{},{}", x(d.rd), f(d.rs1)); break;
    case Fmt::XFF: ops = fmt::format("{},{},{}", x(d.rd), f(d.rs1), f(d.rs2)); break;
    case Fmt::FXrm:
      ops = fmt::format("{},{}", f(d.rd), x(d.rs1));
      rm();
      break;
    case Fmt::FX: ops = fmt::format("{},{}", f(d.rd), x(d.rs1)); break;
    case Fmt::Hlv: ops = fmt::format("{},({})", x(d.rd), x(d.rs1)); break;
    case Fmt::Hsv: ops = fmt::format("{},({})", x(d.rs2), x(d.rs1)); break;
  }
  return with_operands(m, ops);
}

// Operands come from the decoded expansion, so that comparing this text with objdump's reading
// of the halfword also checks every expanded field.
std::string disassemble16(u16 c, u64 pc) {
  RvcExpansion e = expand_rvc(c);
  if (e.op == RvcOp::illegal) return c == 0 ? "c.unimp" : fmt::format(".2byte\t0x{:x}", c);
  DecodedInsn d = decode32(e.insn);
  std::string_view m = info(e.op).mnemonic;
  switch (e.op) {
    case RvcOp::c_addi4spn: return with_operands(m, fmt::format("{},{},{}", x(d.rd), x(d.rs1), d.imm));
    case RvcOp::c_fld:
    case RvcOp::c_fldsp: return with_operands(m, fmt::format("{},{}({})", f(d.rd), d.imm, x(d.rs1)));
    case RvcOp::c_lw:
    case RvcOp::c_ld:
    case RvcOp::c_lwsp:
    case RvcOp::c_ldsp: return with_operands(m, fmt::format("{},{}({})", x(d.rd), d.imm, x(d.rs1)));
    case RvcOp::c_fsd:
    case RvcOp::c_fsdsp: return with_operands(m, fmt::format("{},{}({})", f(d.rs2), d.imm, x(d.rs1)));
    case RvcOp::c_sw:
    case RvcOp::c_sd:
    case RvcOp::c_swsp:
    case RvcOp::c_sdsp: return with_operands(m, fmt::format("{},{}({})", x(d.rs2), d.imm, x(d.rs1)));
    case RvcOp::c_nop:  // objdump treats c.nop as an alias of c.addi
      return with_operands("c.addi", fmt::format("{},{}", x(d.rd), d.imm));
    case RvcOp::c_addi:
    case RvcOp::c_addiw:
    case RvcOp::c_li:
    case RvcOp::c_addi16sp:
    case RvcOp::c_andi: return with_operands(m, fmt::format("{},{}", x(d.rd), d.imm));
    case RvcOp::c_lui: return with_operands(m, fmt::format("{},{}", x(d.rd), upper_imm(d.imm)));
    case RvcOp::c_srli:
    case RvcOp::c_srai:
    case RvcOp::c_slli:
      // A zero shift amount is the RV128 shift-by-64 spelling, which objdump keeps for the HINT.
      if (d.imm == 0) return with_operands(std::string(m) + "64", x(d.rd));
      return with_operands(m, fmt::format("{},0x{:x}", x(d.rd), d.imm));
    case RvcOp::c_sub:
    case RvcOp::c_xor:
    case RvcOp::c_or:
    case RvcOp::c_and:
    case RvcOp::c_subw:
    case RvcOp::c_addw:
    case RvcOp::c_mv:
    case RvcOp::c_add: return with_operands(m, fmt::format("{},{}", x(d.rd), x(d.rs2)));
    case RvcOp::c_j: return with_operands(m, target(pc, d.imm));
    case RvcOp::c_beqz:
    case RvcOp::c_bnez: return with_operands(m, fmt::format("{},{}", x(d.rs1), target(pc, d.imm)));
    case RvcOp::c_jr:
    case RvcOp::c_jalr: return with_operands(m, x(d.rs1));
    case RvcOp::c_ebreak: return std::string(m);
    case RvcOp::illegal:
    case RvcOp::count: break;
  }
  return fmt::format(".2byte\t0x{:x}", c);
}

}  // namespace

std::string_view csr_name(u16 csr) {
  if (csr >= kCsrCount) return {};
  return std::string_view(kCsrNames.names[csr].data());
}

std::string_view xreg_name(unsigned r) { return r < 32 ? kXregNames[r] : std::string_view{}; }
std::string_view freg_name(unsigned r) { return r < 32 ? kFregNames[r] : std::string_view{}; }

std::string disassemble(u32 raw, u64 pc) {
  if ((raw & 3) != 3) return disassemble16(static_cast<u16>(raw), pc);
  return disassemble32(raw, pc);
}

}  // namespace rvkvm::isa
