#pragma once
// CSR numbers and fields, named as in the RISC-V privileged specification.
#include "common/types.h"

namespace rvkvm::csr {

enum : u16 {
  // Unprivileged floating point and counters
  fflags = 0x001, frm = 0x002, fcsr = 0x003,
  cycle = 0xc00, time = 0xc01, instret = 0xc02, hpmcounter3 = 0xc03, hpmcounter31 = 0xc1f,
  // Supervisor
  sstatus = 0x100, sie = 0x104, stvec = 0x105, scounteren = 0x106, senvcfg = 0x10a,
  sscratch = 0x140, sepc = 0x141, scause = 0x142, stval = 0x143, sip = 0x144,
  stimecmp = 0x14d, satp = 0x180,
  // Hypervisor
  hstatus = 0x600, hedeleg = 0x602, hideleg = 0x603, hie = 0x604, htimedelta = 0x605,
  hcounteren = 0x606, hgeie = 0x607, henvcfg = 0x60a, htval = 0x643, hip = 0x644, hvip = 0x645,
  htinst = 0x64a, hgatp = 0x680, hgeip = 0xe12,
  // Virtual supervisor
  vsstatus = 0x200, vsie = 0x204, vstvec = 0x205, vsscratch = 0x240, vsepc = 0x241,
  vscause = 0x242, vstval = 0x243, vsip = 0x244, vstimecmp = 0x24d, vsatp = 0x280,
  // Machine
  mvendorid = 0xf11, marchid = 0xf12, mimpid = 0xf13, mhartid = 0xf14, mconfigptr = 0xf15,
  mstatus = 0x300, misa = 0x301, medeleg = 0x302, mideleg = 0x303, mie = 0x304, mtvec = 0x305,
  mcounteren = 0x306, menvcfg = 0x30a, mcountinhibit = 0x320, mhpmevent3 = 0x323,
  mhpmevent31 = 0x33f, mscratch = 0x340, mepc = 0x341, mcause = 0x342, mtval = 0x343,
  mip = 0x344, mtinst = 0x34a, mtval2 = 0x34b, pmpcfg0 = 0x3a0, pmpcfg15 = 0x3af,
  pmpaddr0 = 0x3b0, pmpaddr63 = 0x3ef, mcycle = 0xb00, minstret = 0xb02,
  mhpmcounter3 = 0xb03, mhpmcounter31 = 0xb1f,
};

}  // namespace rvkvm::csr

namespace rvkvm {

enum class Priv : u8 { U = 0, S = 1, M = 3 };

// mstatus / sstatus / vsstatus fields.
namespace mstatus {
inline constexpr u64 SIE = 1ull << 1, MIE = 1ull << 3, SPIE = 1ull << 5, UBE = 1ull << 6,
                     MPIE = 1ull << 7, SPP = 1ull << 8, MPP = 3ull << 11, FS = 3ull << 13,
                     XS = 3ull << 15, MPRV = 1ull << 17, SUM = 1ull << 18, MXR = 1ull << 19,
                     TVM = 1ull << 20, TW = 1ull << 21, TSR = 1ull << 22, UXL = 3ull << 32,
                     SXL = 3ull << 34, SBE = 1ull << 36, MBE = 1ull << 37, GVA = 1ull << 38,
                     MPV = 1ull << 39, SD = 1ull << 63;
inline constexpr unsigned kMppShift = 11, kFsShift = 13;
// The bits of mstatus that sstatus (and vsstatus, in its own register) exposes.
inline constexpr u64 kSstatusMask = SIE | SPIE | UBE | SPP | FS | XS | SUM | MXR | UXL | SD;
}  // namespace mstatus

namespace hstatus {
inline constexpr u64 VSBE = 1ull << 5, GVA = 1ull << 6, SPV = 1ull << 7, SPVP = 1ull << 8,
                     HU = 1ull << 9, VGEIN = 0x3full << 12, VTVM = 1ull << 20, VTW = 1ull << 21,
                     VTSR = 1ull << 22, VSXL = 3ull << 32;
inline constexpr unsigned kVgeinShift = 12;
}  // namespace hstatus

namespace envcfg {
inline constexpr u64 FIOM = 1ull << 0, CBIE = 3ull << 4, CBCFE = 1ull << 6, CBZE = 1ull << 7,
                     ADUE = 1ull << 61, PBMTE = 1ull << 62, STCE = 1ull << 63;
}

// Interrupt numbers (bit positions in mip/mie) and exception causes.
namespace irq {
inline constexpr unsigned SSI = 1, VSSI = 2, MSI = 3, STI = 5, VSTI = 6, MTI = 7, SEI = 9,
                          VSEI = 10, MEI = 11, SGEI = 12;
inline constexpr u64 SSIP = 1ull << SSI, VSSIP = 1ull << VSSI, MSIP = 1ull << MSI,
                     STIP = 1ull << STI, VSTIP = 1ull << VSTI, MTIP = 1ull << MTI,
                     SEIP = 1ull << SEI, VSEIP = 1ull << VSEI, MEIP = 1ull << MEI,
                     SGEIP = 1ull << SGEI;
inline constexpr u64 kVsMask = VSSIP | VSTIP | VSEIP;
inline constexpr u64 kSMask = SSIP | STIP | SEIP;
inline constexpr u64 kHsMask = kVsMask | SGEIP;
inline constexpr u64 kAll = kSMask | kHsMask | MSIP | MTIP | MEIP;
}  // namespace irq

namespace cause {
inline constexpr u64 kInterrupt = 1ull << 63;
enum : u64 {
  insn_misaligned = 0, insn_access_fault = 1, illegal_insn = 2, breakpoint = 3,
  load_misaligned = 4, load_access_fault = 5, store_misaligned = 6, store_access_fault = 7,
  ecall_u = 8, ecall_s = 9, ecall_vs = 10, ecall_m = 11, insn_page_fault = 12,
  load_page_fault = 13, store_page_fault = 15, insn_guest_page_fault = 20,
  load_guest_page_fault = 21, virtual_insn = 22, store_guest_page_fault = 23,
};
}  // namespace cause

// satp / vsatp / hgatp layout.
namespace atp {
inline constexpr unsigned kModeShift = 60;
inline constexpr u64 kPpnMask = (1ull << 44) - 1;
inline constexpr u64 kAsidMask = 0xffffull << 44;  // ASID in satp/vsatp, VMID in hgatp
inline constexpr unsigned kAsidShift = 44;
enum Mode : u64 { Bare = 0, Sv39 = 8, Sv48 = 9, Sv57 = 10 };  // Sv39x4 etc. share the numbers
}  // namespace atp

// Page-table entry bits.
namespace pte {
inline constexpr u64 V = 1, R = 2, W = 4, X = 8, U = 16, G = 32, A = 64, D = 128;
inline constexpr u64 kPpnMask = ((1ull << 44) - 1) << 10;
inline constexpr u64 kReserved = 0x7full << 54;
inline constexpr u64 kPbmt = 3ull << 61;
inline constexpr u64 N = 1ull << 63;
}  // namespace pte

}  // namespace rvkvm
