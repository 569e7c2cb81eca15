// Shared environment for the H-extension test programs (included by exactly one .c per program).
//
// What it provides:
//  - trap handlers for the three trap-taking levels (M via mtvec, HS via stvec, VS via vstvec), all
//    recording into `tr` and resuming after the faulting instruction (or at `tr_resume`);
//  - run_in(mode, fn, arg): call fn(arg) in U, HS, M, VU or VS and come back to M with its result;
//  - page-table builders for the G-stage (Sv39x4/Sv48x4/Sv57x4, 16 KiB root, 11-bit root index) and
//    the VS-stage (Sv39/Sv48/Sv57 whose PTEs hold guest-physical addresses);
//  - a standard guest: RAM (0x80000000, 1 GiB) identity-mapped in both stages so that the test code,
//    its stack and its data are usable unchanged at every privilege level.
#pragma once
#include "test.h"

typedef unsigned char u8;
typedef unsigned short u16;

#define CK(c) CHECK(__LINE__, c)
#define CKEQ(a, b) CHECK_EQ(__LINE__, a, b)

// ---------------------------------------------------------------------------------------------
// Encodings

// Modes for run_in: bits 1:0 nominal privilege, bit 2 V.
enum { MODE_U = 0, MODE_HS = 1, MODE_M = 3, MODE_VU = 4, MODE_VS = 5 };
// Level that took a trap (as recorded in tr.level).
enum { LVL_HS = 1, LVL_M = 3, LVL_VS = 5 };

#define BIT(n) (1ull << (n))
#define INTR BIT(63)

#define MS_SIE BIT(1)
#define MS_MIE BIT(3)
#define MS_SPIE BIT(5)
#define MS_MPIE BIT(7)
#define MS_SPP BIT(8)
#define MS_MPP (3ull << 11)
#define MS_FS (3ull << 13)
#define MS_MPRV BIT(17)
#define MS_SUM BIT(18)
#define MS_MXR BIT(19)
#define MS_TVM BIT(20)
#define MS_TW BIT(21)
#define MS_TSR BIT(22)
#define MS_GVA BIT(38)
#define MS_MPV BIT(39)
#define MPP_OF(s) (((s) >> 11) & 3)

#define HS_VSBE BIT(5)
#define HS_GVA BIT(6)
#define HS_SPV BIT(7)
#define HS_SPVP BIT(8)
#define HS_HU BIT(9)
#define HS_VGEIN (0x3full << 12)
#define HS_VTVM BIT(20)
#define HS_VTW BIT(21)
#define HS_VTSR BIT(22)
#define HS_VSXL (3ull << 32)

#define ENV_FIOM BIT(0)
#define ENV_ADUE BIT(61)
#define ENV_PBMTE BIT(62)
#define ENV_STCE BIT(63)

#define IRQ_SSI 1
#define IRQ_VSSI 2
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_VSTI 6
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_VSEI 10
#define IRQ_MEI 11
#define IRQ_SGEI 12
#define VS_IRQS (BIT(2) | BIT(6) | BIT(10))

enum {
  C_INSN_MISALIGNED = 0, C_INSN_ACCESS = 1, C_ILLEGAL = 2, C_BREAKPOINT = 3, C_LOAD_MISALIGNED = 4,
  C_LOAD_ACCESS = 5, C_STORE_MISALIGNED = 6, C_STORE_ACCESS = 7, C_ECALL_U = 8, C_ECALL_S = 9,
  C_ECALL_VS = 10, C_ECALL_M = 11, C_INSN_PF = 12, C_LOAD_PF = 13, C_STORE_PF = 15,
  C_INSN_GPF = 20, C_LOAD_GPF = 21, C_VIRTUAL = 22, C_STORE_GPF = 23,
};

#define PTE_V BIT(0)
#define PTE_R BIT(1)
#define PTE_W BIT(2)
#define PTE_X BIT(3)
#define PTE_U BIT(4)
#define PTE_G BIT(5)
#define PTE_A BIT(6)
#define PTE_D BIT(7)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_LEAF (PTE_V | PTE_A | PTE_D)

#define ATP_BARE 0ull
#define ATP_SV39 8ull
#define ATP_SV48 9ull
#define ATP_SV57 10ull
#define ATP_MODE(a) ((a) >> 60)

#define MAGIC_EXIT 0x4856455849543031ull  // "HVEXIT01" in a7: the ecall that ends run_in

// Layout of the addresses the tests use.
#define RAM_BASE 0x80000000ull
#define GPA_TEST 0x100000000ull  // G-stage test mappings live at 4 GiB and up
#define GVA_TEST 0x40000000ull   // VS-stage test mappings live at 1 GiB and up

// ---------------------------------------------------------------------------------------------
// Trap recording

struct trap_rec {
  u64 count;   // traps taken since tr_reset()
  u64 level;   // LVL_M / LVL_HS / LVL_VS of the last trap
  u64 cause;   // xcause as read by the handler (vscause for LVL_VS)
  u64 epc, tval;
  u64 tval2;   // mtval2 (M) or htval (HS)
  u64 tinst;   // mtinst (M) or htinst (HS)
  u64 status;  // mstatus (M), sstatus (HS) or vsstatus (VS), read on entry
  u64 hstatus; // hstatus read on entry (M and HS)
  u64 vec;     // 0: direct entry; k+1: entered through vector table slot k
};
volatile struct trap_rec tr;
volatile u64 tr_resume;           // if nonzero: resume pc for the next exception (then cleared)
volatile u64 tr_log_level[8], tr_log_cause[8];
// Optional hook, called for every recorded trap; a nonzero return is the resume pc.
u64 (*volatile tr_hook)(u64* frame, u64 level, u64 cause);

static inline void tr_reset(void) {
  tr.count = 0;
  tr.level = tr.cause = tr.epc = tr.tval = tr.tval2 = tr.tinst = tr.status = tr.hstatus = tr.vec = ~0ull;
  tr_resume = 0;
}

// The 32-bit (or 16-bit) instruction at pc; code is identity-mapped, so this works at every level.
static inline u32 insn_at(u64 pc) {
  const volatile unsigned short* p = (const volatile unsigned short*)pc;
  u32 lo = p[0];
  if ((lo & 3) != 3) return lo;
  return lo | ((u32)p[1] << 16);
}

void h_run_return(u64 value) __attribute__((noreturn));

static inline __attribute__((noreturn)) void h_escalate(u64 value) {
  // A trap handler below M asks M to finish run_in: an ecall from HS (cause 9) or VS (cause 10) always
  // reaches M or HS, never VS (hedeleg[9..11] are read-only zero), so the chain ends in M.
  register u64 a0 asm("a0") = value;
  register u64 a7 asm("a7") = MAGIC_EXIT;
  asm volatile("ecall" ::"r"(a0), "r"(a7) : "memory");
  __builtin_unreachable();
}

__attribute__((used)) u64 h_trap(u64* f, u64 level) {
  u64 cause, epc, tval, tval2 = 0, tinst = 0, status, hst = 0;
  if (level == LVL_M) {
    cause = csr_read(mcause);
    epc = csr_read(mepc);
    tval = csr_read(mtval);
    tval2 = csr_read(0x34b);  // mtval2
    tinst = csr_read(0x34a);  // mtinst
    status = csr_read(mstatus);
    hst = csr_read(hstatus);
  } else if (level == LVL_HS) {
    cause = csr_read(scause);
    epc = csr_read(sepc);
    tval = csr_read(stval);
    tval2 = csr_read(htval);
    tinst = csr_read(htinst);
    status = csr_read(sstatus);
    hst = csr_read(hstatus);
  } else {  // VS-mode: the s* names reach the vs* registers
    cause = csr_read(scause);
    epc = csr_read(sepc);
    tval = csr_read(stval);
    status = csr_read(sstatus);
  }
  u64 intr = cause >> 63, code = cause & ~INTR;
  if (!intr && code >= C_ECALL_U && code <= C_ECALL_M && f[17] == MAGIC_EXIT) {
    if (level == LVL_M) h_run_return(f[10]);
    h_escalate(f[10]);
  }
  u64 n = tr.count;
  if (n < 8) {
    tr_log_level[n] = level;
    tr_log_cause[n] = cause;
  }
  tr.count = n + 1;
  tr.level = level;
  tr.cause = cause;
  tr.epc = epc;
  tr.tval = tval;
  tr.tval2 = tval2;
  tr.tinst = tinst;
  tr.status = status;
  tr.hstatus = hst;
  tr.vec = f[0];
  if (n > 64) {
    puts_("trap storm, last cause ");
    put_hex(cause);
    htif_exit(999);
  }
  if (tr_hook) {
    u64 r = tr_hook(f, level, cause);
    if (r) return r;
  }
  if (intr) {
    // Mask the interrupt at the level that took it so that the resumed code can make progress.
    u64 bit = BIT(code & 63);
    if (level == LVL_M) csr_clear(mie, bit);
    else if (level == LVL_HS && (bit & (VS_IRQS | BIT(IRQ_SGEI)))) csr_clear(hie, bit);
    else csr_clear(sie, bit);
    return epc;
  }
  if (tr_resume) {
    u64 r = tr_resume;
    tr_resume = 0;
    return r;
  }
  if (code == C_INSN_ACCESS || code == C_INSN_PF || code == C_INSN_GPF || code == C_INSN_MISALIGNED) {
    puts_("fetch fault without tr_resume at ");
    put_hex(tval);
    htif_exit(900 + code);
  }
  return epc + ((insn_at(epc) & 3) == 3 ? 4 : 2);
}

// Entry points. A frame is 32 dwords: f[i] = x_i for i >= 1, f[0] = vector slot + 1 (0 if direct).
asm(R"(
  .macro H_SAVE_REST
  sd x1, 8(sp)
  .irp r,3,4,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\r, \r*8(sp)
  .endr
  addi t0, sp, 256
  sd t0, 16(sp)
  .endm
  .macro H_RESTORE
  ld x1, 8(sp)
  .irp r,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\r, \r*8(sp)
  .endr
  ld sp, 16(sp)
  .endm
  .macro H_ENTRY name, level, epc, ret
  .balign 4
  .globl \name
\name:
  addi sp, sp, -256
  sd t0, 40(sp)
  sd zero, 0(sp)
\name\()_common:
  H_SAVE_REST
  mv a0, sp
  li a1, \level
  call h_trap
  csrw \epc, a0
  H_RESTORE
  \ret
  .endm
  .macro H_VTAB name
  .balign 256
  .globl \name
\name:
  .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
  j \name\()_s\n
  .endr
  .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
\name\()_s\n:
  addi sp, sp, -256
  sd t0, 40(sp)
  li t0, \n + 1
  sd t0, 0(sp)
  j \name\()_e
  .endr
  .endm

  .text
  .option push
  .option norvc
  H_ENTRY h_m_entry, 3, mepc, mret
  H_ENTRY h_hs_entry, 1, sepc, sret
  H_ENTRY h_vs_entry, 5, sepc, sret
  /* Vectored tables: slot k saves t0 and records k+1, then joins the common path. */
  H_VTAB h_hs_vtab
h_hs_vtab_e:
  j h_hs_entry_common
  H_VTAB h_vs_vtab
h_vs_vtab_e:
  j h_vs_entry_common

  /* u64 h_run_in(u64 mode, u64 (*fn)(u64), u64 arg): M-mode only. */
  .globl h_run_in
h_run_in:
  la t0, h_run_ctx
  sd ra, 0(t0)
  sd sp, 8(t0)
  sd s0, 16(t0)
  sd s1, 24(t0)
  sd s2, 32(t0)
  sd s3, 40(t0)
  sd s4, 48(t0)
  sd s5, 56(t0)
  sd s6, 64(t0)
  sd s7, 72(t0)
  sd s8, 80(t0)
  sd s9, 88(t0)
  sd s10, 96(t0)
  sd s11, 104(t0)
  li t1, (3 << 11) | (1 << 17)
  csrc mstatus, t1
  li t1, 1
  slli t1, t1, 39
  csrc mstatus, t1
  andi t2, a0, 3
  slli t2, t2, 11
  csrs mstatus, t2
  srli t2, a0, 2
  andi t2, t2, 1
  slli t2, t2, 39
  csrs mstatus, t2
  la t1, h_run_tramp
  csrw mepc, t1
  mv a0, a2
  mret
  /* Runs fn (a1) with its argument (a0) in the entered mode, then leaves with the magic ecall. */
  .globl h_run_tramp
h_run_tramp:
  jalr a1
  li a7, 0x4856455849543031
  ecall
1:
  j 1b
  .globl h_run_return
h_run_return:
  la t0, h_run_ctx
  ld ra, 0(t0)
  ld sp, 8(t0)
  ld s0, 16(t0)
  ld s1, 24(t0)
  ld s2, 32(t0)
  ld s3, 40(t0)
  ld s4, 48(t0)
  ld s5, 56(t0)
  ld s6, 64(t0)
  ld s7, 72(t0)
  ld s8, 80(t0)
  ld s9, 88(t0)
  ld s10, 96(t0)
  ld s11, 104(t0)
  ret
  /* void h_sret_enter(u64 (*fn)(u64), u64 arg): from HS (or VS), sret into fn through the
     trampoline; the caller has prepared sstatus.SPP and hstatus.SPV (or vsstatus.SPP). */
  .globl h_sret_enter
h_sret_enter:
  la t0, h_run_tramp
  csrw sepc, t0
  mv t1, a0
  mv a0, a1
  mv a1, t1
  sret

  /* A page of code that fetch tests map at other addresses: returns 0x600d. */
  .balign 4096
  .globl h_code_page
h_code_page:
  li a0, 0x600d
  ret
  .balign 4096
  .option pop
)");

u64 h_run_ctx[14];
extern char h_m_entry[], h_hs_entry[], h_vs_entry[], h_hs_vtab[], h_vs_vtab[], h_run_tramp[], h_code_page[];
u64 h_run_in(u64 mode, u64 (*fn)(u64), u64 arg);
void h_sret_enter(u64 (*fn)(u64), u64 arg) __attribute__((noreturn));

// Calls fn(arg) in `mode` and returns its result in M-mode. Entry is an mret with MPP/MPV set.
static inline u64 run_in(u64 mode, u64 (*fn)(u64), u64 arg) {
  if (mode == MODE_M) return fn(arg);
  return h_run_in(mode, fn, arg);
}

// ---------------------------------------------------------------------------------------------
// Fences (legal in M and HS)

// GCC's own .attribute arch wins over -Wa,-march for inline asm, so H/Svinval mnemonics are
// wrapped in an .option arch scope.
#define HX(s) ".option push\n.option arch, +h, +svinval\n" s "\n.option pop\n"

static inline void h_flush(void) {
  asm volatile(HX("sfence.vma zero, zero\n hfence.vvma zero, zero\n hfence.gvma zero, zero") ::: "memory");
}

// ---------------------------------------------------------------------------------------------
// Page tables

#define H_POOL_PAGES 112
u8 h_pool[H_POOL_PAGES * 4096] __attribute__((aligned(16384)));
u64 h_pool_next;
// Data pages that the tests map at guest addresses (their SPAs are inside RAM).
#define H_DATA_PAGES 16
u8 h_data[H_DATA_PAGES * 4096] __attribute__((aligned(4096)));

static inline u64 dpage(unsigned i) { return (u64)&h_data[i * 4096]; }

static inline u64* pt_alloc(unsigned pages) {
  u64 align = pages > 1 ? 4 : 1;  // the G-stage root is 16 KiB and 16 KiB aligned
  h_pool_next = (h_pool_next + align - 1) & ~(align - 1);
  if (h_pool_next + pages > H_POOL_PAGES) {
    puts_("page-table pool exhausted\n");
    htif_exit(998);
  }
  u64* p = (u64*)&h_pool[h_pool_next * 4096];
  h_pool_next += pages;
  for (unsigned i = 0; i < pages * 512; i++) p[i] = 0;
  return p;
}

static inline u64 pte_table(u64 pa) { return ((pa >> 12) << 10) | PTE_V; }
static inline u64 pte_leaf(u64 pa, u64 flags) { return ((pa >> 12) << 10) | flags; }
static inline u64 pte_pa(u64 pte) { return (pte >> 10) << 12; }

// Walks (creating missing tables) to the PTE that maps `addr` at `level` (0 = 4 KiB). Table
// addresses are used directly: every table lives in RAM, where GPA = SPA.
static inline u64* pte_walk(u64* root, int levels, int rootbits, u64 addr, int level) {
  u64* table = root;
  for (int l = levels - 1;; l--) {
    int bits = l == levels - 1 ? rootbits : 9;
    u64 idx = (addr >> (12 + 9 * l)) & ((1ull << bits) - 1);
    u64* p = &table[idx];
    if (l == level) return p;
    if (!(*p & PTE_V)) *p = pte_table((u64)pt_alloc(1));
    if (*p & PTE_RWX) {
      puts_("pte_walk: a leaf is in the way\n");  // a test bug: mapping inside a superpage
      htif_exit(997);
    }
    table = (u64*)pte_pa(*p);
  }
}

static inline int atp_levels(u64 mode) { return mode == ATP_SV39 ? 3 : mode == ATP_SV48 ? 4 : 5; }

u64* g_root;
u64 g_mode;
u64* vs_root;
u64 vs_mode;

static inline u64* g_pte(u64 gpa, int level) { return pte_walk(g_root, atp_levels(g_mode), 11, gpa, level); }
static inline u64* vs_pte(u64 gva, int level) { return pte_walk(vs_root, atp_levels(vs_mode), 9, gva, level); }
static inline void g_map(u64 gpa, u64 spa, int level, u64 flags) { *g_pte(gpa, level) = pte_leaf(spa, flags); }
static inline void vs_map(u64 gva, u64 gpa, int level, u64 flags) { *vs_pte(gva, level) = pte_leaf(gpa, flags); }

// Replaces the VS-stage 1 GiB RAM leaf by 2 MiB leaves, and the 2 MiB around `va` by 4 KiB leaves,
// so that single RAM pages can be remapped for the guest.
static inline void vs_split_ram(u64 va) {
  u64* l2 = vs_pte(RAM_BASE, 2);
  u64 flags = *l2 & 0x3ff;
  *l2 = 0;
  for (u64 a = RAM_BASE; a < RAM_BASE + (1ull << 30); a += 1ull << 21)
    if ((a >> 21) != (va >> 21)) vs_map(a, a, 1, flags);
  for (u64 a = va & ~0x1fffffull; a < (va & ~0x1fffffull) + (1ull << 21); a += 0x1000) vs_map(a, a, 0, flags);
}

static inline u64 hgatp_val(u64 vmid) { return g_mode ? (g_mode << 60) | (vmid << 44) | ((u64)g_root >> 12) : 0; }
static inline u64 vsatp_val(u64 asid) { return vs_mode ? (vs_mode << 60) | (asid << 44) | ((u64)vs_root >> 12) : 0; }

// Builds the standard guest: RAM identity-mapped (1 GiB leaves) at both stages, the G-stage leaf
// with U=1 as every G-stage leaf must have [H "Guest Physical Address Translation"]. Writes hgatp
// and vsatp and flushes. `vs_user` makes the VS-stage RAM mapping U=1 (for VU code).
static inline void guest_setup_u(u64 gmode, u64 vsmode, int vs_user) {
  h_pool_next = 0;
  g_mode = gmode;
  vs_mode = vsmode;
  g_root = vs_root = 0;
  if (gmode) {
    g_root = pt_alloc(4);
    g_map(RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX | PTE_U);
  }
  if (vsmode) {
    vs_root = pt_alloc(1);
    vs_map(RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX | (vs_user ? PTE_U : 0));
  }
  csr_write(hgatp, hgatp_val(0));
  csr_write(vsatp, vsatp_val(0));
  h_flush();
}
static inline void guest_setup(u64 gmode, u64 vsmode) { guest_setup_u(gmode, vsmode, 0); }

// ---------------------------------------------------------------------------------------------
// Reset of the hypervisor state between test cases (M-mode only).

static inline void h_init(void) {
  csr_write(mtvec, (u64)h_m_entry);
  csr_write(stvec, (u64)h_hs_entry);
  csr_write(vstvec, (u64)h_vs_entry);
  // One PMP entry covering everything, so that S/U accesses are allowed on any PMP implementation.
  csr_write(pmpaddr0, ~0ull >> 10);
  csr_write(pmpcfg0, 0x1f);
  csr_write(medeleg, 0);
  csr_write(mideleg, 0);
  csr_write(hedeleg, 0);
  csr_write(hideleg, 0);
  csr_write(hvip, 0);
  csr_write(hie, 0);
  csr_write(mie, 0);
  csr_write(sie, 0);
  csr_clear(mip, BIT(IRQ_SSI) | BIT(IRQ_STI) | BIT(IRQ_SEI));
  csr_clear(mstatus, MS_MIE | MS_SIE | MS_MPRV | MS_SUM | MS_MXR | MS_TVM | MS_TW | MS_TSR | MS_GVA | MS_MPV);
  csr_clear(hstatus, HS_GVA | HS_SPV | HS_SPVP | HS_HU | HS_VGEIN | HS_VTVM | HS_VTW | HS_VTSR);
  // vsstatus.FS=Initial: with FS=Off in vsstatus, FP instructions would trap in VS/VU.
  csr_write(vsstatus, 1ull << 13);
  csr_write(satp, 0);
  csr_write(vsatp, 0);
  csr_write(hgatp, 0);
  csr_write(htimedelta, 0);
  h_flush();
  tr_hook = 0;
  tr_reset();
}

#define EXPECT_NONE() CKEQ(tr.count, 0)
#define EXPECT_TRAP(lvl, c)  \
  do {                       \
    CKEQ(tr.count, 1);       \
    CKEQ(tr.level, lvl);     \
    CKEQ(tr.cause, c);       \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Soft checks for fault reports: mismatches are printed and counted in h_fails (tests end with
// CKEQ(h_fails, 0)), so that one run shows every wrong field.

// Expected transformed instructions [H "tinst-vals"]: loads keep 14:0 (funct3, rd, opcode), with
// the offset/rs1 fields zero; stores keep rs2, funct3, opcode; AMOs clear only rs1.
static inline u32 xform_load(u32 i) { return i & 0x00007fffu; }
static inline u32 xform_store(u32 i) { return i & 0x01f0707fu; }
static inline u32 xform_amo(u32 i) { return i & ~(0x1fu << 15); }

const char* h_what = "";
int h_fails;
static inline void h_bad(int line, const char* field, u64 got, u64 want) {
  puts_("MISMATCH line ");
  put_hex(line);
  puts_(" [");
  puts_(h_what);
  puts_("] ");
  puts_(field);
  puts_(" got ");
  put_hex(got);
  puts_(" want ");
  put_hex(want);
  htif_putc('\n');
  h_fails++;
}
// EQ needs a variable `line` in scope (the caller's line, reported on mismatch).
#define EQ(field, got, want)                                       \
  do {                                                             \
    if ((u64)(got) != (u64)(want)) h_bad(line, field, got, want); \
  } while (0)

// Runs fn(gva) in `mode` (VS or VU) and checks one trap at `level` with the given cause, xtval = gva,
// htval/mtval2 = tval2 and the trap-entry status bits. htinst/mtinst: if tinst_kind is 0, the literal
// `tinst`; else the transformation of the trapping instruction by kind (T_LOAD/T_STORE/T_AMO), with
// T_OR0 also accepting 0 (where the spec lets the hart write 0).
enum { T_LOAD = 1, T_STORE = 2, T_AMO = 3, T_OR0 = 0x10 };
static inline void expect_fault(int line, u64 mode, u64 (*fn)(u64), u64 gva, u64 level, u64 cause,
                                u64 tval2, u64 tinst_kind, u64 tinst) {
  tr_reset();
  run_in(mode, fn, gva);
  if (tr.count != 1) {
    h_bad(line, "trap count", tr.count, 1);
    return;
  }
  EQ("level", tr.level, level);
  EQ("cause", tr.cause, cause);
  EQ("tval", tr.tval, gva);
  if (tinst_kind) {
    u32 i = insn_at(tr.epc);
    u64 k = tinst_kind & 0xf;
    tinst = k == T_LOAD ? xform_load(i) : k == T_STORE ? xform_store(i) : xform_amo(i);
    // T_OR0: the spec also allows 0 here (page faults); accept it.
    if ((tinst_kind & T_OR0) && tr.tinst == 0) tinst = 0;
  }
  if (level == LVL_HS) {
    EQ("htval", tr.tval2, tval2);
    EQ("htinst", tr.tinst, tinst);
    EQ("hstatus.GVA", !!(tr.hstatus & HS_GVA), cause != C_ILLEGAL);
    EQ("hstatus.SPV", !!(tr.hstatus & HS_SPV), 1);
    EQ("hstatus.SPVP", !!(tr.hstatus & HS_SPVP), mode == MODE_VS);
    EQ("sstatus.SPP", !!(tr.status & MS_SPP), mode == MODE_VS);
  } else if (level == LVL_M) {
    EQ("mtval2", tr.tval2, tval2);
    EQ("mtinst", tr.tinst, tinst);
    EQ("mstatus.GVA", !!(tr.status & MS_GVA), 1);
    EQ("mstatus.MPV", !!(tr.status & MS_MPV), 1);
    EQ("mstatus.MPP", MPP_OF(tr.status), mode & 3);
  }
}
#define GPF(mode, fn, gva, level, cause, gpa, kind, tinst) \
  expect_fault(__LINE__, mode, fn, gva, level, cause, (gpa) >> 2, kind, tinst)

