// HFENCE.VVMA / HFENCE.GVMA (and HINVAL.*, SFENCE.VMA at V=1): after a VS-stage or G-stage PTE
// changes and the matching fence runs, the guest sees the new translation. The guest always reads
// the address first so that a cached translation exists.
// Spec: H "Hypervisor Memory-Management Fence Instructions" (hfence.vma), "Memory-Management
// Fences"; Svinval; docs/h-extension.md §4.6.
#include "h_env.h"

#define HV(text) ".option push\n.option arch, +h, +svinval\n" text "\n.option pop\n"

static u64 guest_read(u64 va) { return *(volatile u64*)va; }
static u64 guest_sfence_read(u64 va) {
  asm volatile("sfence.vma" ::: "memory");  // V=1: flushes VS-stage translations of this VM
  return *(volatile u64*)va;
}
static u64 guest_sfence_addr_read(u64 va) {
  asm volatile("sfence.vma %0, zero" ::"r"(va) : "memory");
  return *(volatile u64*)va;
}

volatile u64 f_rs1, f_rs2;
// The fences, executed in HS (or M): rs1/rs2 from f_rs1/f_rs2.
static u64 vvma(u64 a) {
  (void)a;
  asm volatile(HV("hfence.vvma %0, %1") ::"r"(f_rs1), "r"(f_rs2) : "memory");
  return 0;
}
static u64 vvma_all(u64 a) {
  (void)a;
  asm volatile(HV("hfence.vvma zero, zero") ::: "memory");
  return 0;
}
static u64 vvma_addr(u64 a) {
  (void)a;
  asm volatile(HV("hfence.vvma %0, zero") ::"r"(f_rs1) : "memory");
  return 0;
}
static u64 vvma_asid(u64 a) {
  (void)a;
  asm volatile(HV("hfence.vvma zero, %0") ::"r"(f_rs2) : "memory");
  return 0;
}
static u64 gvma(u64 a) {
  (void)a;
  asm volatile(HV("hfence.gvma %0, %1") ::"r"(f_rs1), "r"(f_rs2) : "memory");
  return 0;
}
static u64 gvma_all(u64 a) {
  (void)a;
  asm volatile(HV("hfence.gvma zero, zero") ::: "memory");
  return 0;
}
static u64 gvma_vmid(u64 a) {
  (void)a;
  asm volatile(HV("hfence.gvma zero, %0") ::"r"(f_rs2) : "memory");
  return 0;
}
static u64 gvma_addr(u64 a) {
  (void)a;
  asm volatile(HV("hfence.gvma %0, zero") ::"r"(f_rs1) : "memory");
  return 0;
}
static u64 hinval_vvma(u64 a) {
  (void)a;
  asm volatile(HV("sfence.w.inval\nhinval.vvma %0, zero\nsfence.inval.ir") ::"r"(f_rs1) : "memory");
  return 0;
}
static u64 hinval_gvma(u64 a) {
  (void)a;
  asm volatile(HV("sfence.w.inval\nhinval.gvma %0, zero\nsfence.inval.ir") ::"r"(f_rs1) : "memory");
  return 0;
}

static u64 hlv_d(u64 va) {
  register u64 a0 asm("a0") = va;
  asm volatile(HV("hlv.d a0, (a0)") : "+r"(a0)::"memory");
  return a0;
}

static void expect_read(int line, u64 va, u64 want) {
  tr_reset();
  u64 v = run_in(MODE_VS, guest_read, va);
  CHECK_EQ(line, tr.count, 0);
  CHECK_EQ(line, v, want);
}
#define READS(va, want) expect_read(__LINE__, va, want)

#define ASID 5
#define VMID 3

int main(void) {
  for (unsigned i = 0; i < 8; i++) *(volatile u64*)dpage(i) = 0xAA00 + i;

  // ------------------------------------------------------------------------------------------
  // VS-stage PTE changes, flushed with HFENCE.VVMA in its forms (from HS, and from M).
  {
    // all; by address; by address and ASID; by ASID; HINVAL by address.
    static u64 (*const fences[])(u64) = {vvma_all, vvma_addr, vvma, vvma_asid, hinval_vvma};
    for (unsigned k = 0; k < 5; k++) {
      for (u64 from = MODE_HS; from <= MODE_M; from += 2) {
        h_init();
        guest_setup(ATP_SV39, ATP_SV39);
        csr_write(hgatp, hgatp_val(VMID));
        csr_write(vsatp, vsatp_val(ASID));
        h_flush();
        for (unsigned i = 0; i < 3; i++) g_map(GPA_TEST + i * 0x1000, dpage(i), 0, PTE_LEAF | PTE_RWX | PTE_U);
        u64* pte = vs_pte(GVA_TEST, 0);
        *pte = pte_leaf(GPA_TEST, PTE_LEAF | PTE_R | PTE_W);
        h_flush();
        READS(GVA_TEST + 8, 0);  // dpage(0)+8 is zero
        READS(GVA_TEST, 0xAA00);
        *pte = pte_leaf(GPA_TEST + 0x1000, PTE_LEAF | PTE_R | PTE_W);
        f_rs1 = GVA_TEST;
        f_rs2 = ASID;
        run_in(from, fences[k], 0);
        READS(GVA_TEST, 0xAA01);
        // Invalidate the PTE: the guest now takes a page fault.
        *pte = 0;
        run_in(from, fences[k], 0);
        tr_reset();
        run_in(MODE_VS, guest_read, GVA_TEST);
        EXPECT_TRAP(LVL_M, C_LOAD_PF);
        CKEQ(tr.tval, GVA_TEST);
      }
    }
  }

  // SFENCE.VMA executed by the guest itself (V=1) flushes its VS-stage translations.
  {
    h_init();
    guest_setup(ATP_SV39, ATP_SV39);
    for (unsigned i = 0; i < 3; i++) g_map(GPA_TEST + i * 0x1000, dpage(i), 0, PTE_LEAF | PTE_RWX | PTE_U);
    u64* pte = vs_pte(GVA_TEST, 0);
    *pte = pte_leaf(GPA_TEST, PTE_LEAF | PTE_R);
    h_flush();
    READS(GVA_TEST, 0xAA00);
    *pte = pte_leaf(GPA_TEST + 0x2000, PTE_LEAF | PTE_R);
    tr_reset();
    CKEQ(run_in(MODE_VS, guest_sfence_read, GVA_TEST), 0xAA02);
    EXPECT_NONE();
    *pte = pte_leaf(GPA_TEST + 0x1000, PTE_LEAF | PTE_R);
    tr_reset();
    CKEQ(run_in(MODE_VS, guest_sfence_addr_read, GVA_TEST), 0xAA01);
    EXPECT_NONE();
  }

  // ------------------------------------------------------------------------------------------
  // G-stage PTE changes, flushed with HFENCE.GVMA in its forms (rs1 = GPA >> 2, rs2 = VMID),
  // both with a Bare VS-stage and under an Sv39 VS-stage (combined GVA->SPA translations must go).
  {
    // all; by GPA; by GPA and VMID; by VMID; HINVAL by GPA.
    static u64 (*const fences[])(u64) = {gvma_all, gvma_addr, gvma, gvma_vmid, hinval_gvma};
    for (unsigned k = 0; k < 5; k++) {
      for (u64 vm = ATP_BARE; vm <= ATP_SV39; vm += ATP_SV39) {
        for (u64 from = MODE_HS; from <= MODE_M; from += 2) {
          h_init();
          guest_setup(ATP_SV39, vm);
          csr_write(hgatp, hgatp_val(VMID));
          h_flush();
          u64 va = GPA_TEST;
          if (vm) {
            vs_map(GVA_TEST, GPA_TEST, 0, PTE_LEAF | PTE_R | PTE_W);
            va = GVA_TEST;
          }
          u64* pte = g_pte(GPA_TEST, 0);
          *pte = pte_leaf(dpage(3), PTE_LEAF | PTE_RWX | PTE_U);
          h_flush();
          READS(va, 0xAA03);
          *pte = pte_leaf(dpage(4), PTE_LEAF | PTE_RWX | PTE_U);
          f_rs1 = GPA_TEST >> 2;
          f_rs2 = VMID;
          run_in(from, fences[k], 0);
          READS(va, 0xAA04);
          *pte = 0;
          run_in(from, fences[k], 0);
          tr_reset();
          run_in(MODE_VS, guest_read, va);
          EXPECT_TRAP(LVL_M, C_LOAD_GPF);
          CKEQ(tr.tval2, GPA_TEST >> 2);
        }
      }
    }
  }

  // A change of hgatp.MODE (same tables re-rooted as Sv48x4) followed by HFENCE.GVMA x0 works.
  {
    h_init();
    guest_setup(ATP_SV39, ATP_BARE);
    g_map(GPA_TEST, dpage(5), 0, PTE_LEAF | PTE_RWX | PTE_U);
    h_flush();
    READS(GPA_TEST, 0xAA05);
    u64* root39 = g_root;
    g_mode = ATP_SV48;
    g_root = pt_alloc(4);
    g_root[0] = pte_table((u64)root39);  // Sv48x4 level 3 -> the Sv39x4 root as a level-2 table
    // (the Sv39x4 root is 16 KiB; only its first 4 KiB serve as a level-2 table for GPAs < 512 GiB)
    g_map(GPA_TEST + 0x1000, dpage(6), 0, PTE_LEAF | PTE_RWX | PTE_U);
    csr_write(hgatp, hgatp_val(0));
    run_in(MODE_HS, gvma_all, 0);
    READS(GPA_TEST, 0xAA05);
    READS(GPA_TEST + 0x1000, 0xAA06);
  }

  // Switching between guests by rewriting hgatp (different VMIDs) or vsatp (different ASIDs),
  // each with page tables that were complete before first use and never changed: no fence is
  // needed, translations are per VMID/ASID [H "hgatp"; S "satp"].
  {
    h_init();
    guest_setup(ATP_SV39, ATP_SV39);
    u64* root_a = g_root;
    u64* vs_a = vs_root;
    g_map(GPA_TEST, dpage(0), 0, PTE_LEAF | PTE_RWX | PTE_U);
    vs_map(GVA_TEST, GPA_TEST, 0, PTE_LEAF | PTE_R);
    vs_map(GVA_TEST + 0x1000, GPA_TEST, 0, PTE_LEAF | PTE_R);
    // Second G-stage: same GPA -> dpage(1). Second VS-stage: GVA_TEST -> GPA of dpage(2) page.
    g_root = pt_alloc(4);
    g_map(RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX | PTE_U);
    g_map(GPA_TEST, dpage(1), 0, PTE_LEAF | PTE_RWX | PTE_U);
    u64* root_b = g_root;
    vs_root = pt_alloc(1);
    vs_map(RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX);
    vs_map(GVA_TEST, GPA_TEST, 0, PTE_LEAF | PTE_R);
    vs_map(GVA_TEST + 0x1000, dpage(2), 0, PTE_LEAF | PTE_R);  // RAM GPA = SPA in both G-stages
    u64* vs_b = vs_root;
    h_flush();
    g_mode = ATP_SV39;
    for (int round = 0; round < 3; round++) {
      g_root = root_a;
      vs_root = vs_a;
      csr_write(hgatp, hgatp_val(1));
      csr_write(vsatp, vsatp_val(1));
      READS(GVA_TEST, 0xAA00);
      READS(GVA_TEST + 0x1000, 0xAA00);
      g_root = root_b;
      csr_write(hgatp, hgatp_val(2));
      READS(GVA_TEST, 0xAA01);
      vs_root = vs_b;
      csr_write(vsatp, vsatp_val(2));
      READS(GVA_TEST + 0x1000, 0xAA02);
      READS(GVA_TEST, 0xAA01);
    }
  }

  // The hypervisor's own view (V=0, satp Bare), the guest's view and HLV of the same address are
  // different translations and must not be confused.
  {
    h_init();
    guest_setup(ATP_SV39, ATP_SV39);
    u64 va = dpage(3);  // a RAM address: physical for HS, remapped for the guest
    vs_split_ram(va);
    vs_map(va, dpage(4), 0, PTE_LEAF | PTE_R | PTE_W);
    h_flush();
    csr_set(hstatus, HS_SPVP);
    for (int round = 0; round < 3; round++) {
      CKEQ(run_in(MODE_HS, guest_read, va), 0xAA03);
      READS(va, 0xAA04);
      CKEQ(run_in(MODE_HS, hlv_d, va), 0xAA04);
      CKEQ(run_in(MODE_M, guest_read, va), 0xAA03);
    }
  }
  return 0;
}
