// Hypervisor and virtual-supervisor CSRs: fields, WARL behaviour, aliases, and the redirection of
// the S-level CSR names to the vs* registers while V=1.
// Spec: H "hstatus", "hedeleg/hideleg", "hvip/hip/hie", "hgeip/hgeie", "henvcfg", "htimedelta",
// "hgatp", "vsstatus" ... "vsatp", "Hypervisor and Virtual Supervisor CSRs"; docs/h-extension.md §0, 2.1,
// 3.1, 7, 8.
#include "h_env.h"

static int popcount(u64 v) {
  int n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}

static u64 read_time(u64 a) {
  (void)a;
  u64 t;
  asm volatile("rdtime %0" : "=r"(t));
  return t;
}

// hstatus read/write from HS: sets the bits in `a`, returns what reads back, then clears them.
static u64 hs_hstatus_rw(u64 a) {
  csr_set(hstatus, a);
  u64 v = csr_read(hstatus);
  csr_clear(hstatus, a);
  return v;
}
static u64 hs_hedeleg_rw(u64 a) {
  csr_write(hedeleg, a);
  return csr_read(hedeleg);
}
static u64 hs_hideleg_rw(u64 a) {
  csr_write(hideleg, a);
  return csr_read(hideleg);
}
static u64 hs_hie_rw(u64 a) {
  csr_write(hie, a);
  return csr_read(hie);
}

// --- VS CSRs written and read from HS.
u64 vsv[16];
static u64 hs_vs_csrs(u64 a) {
  (void)a;
  csr_write(vsstatus, MS_SIE | MS_SPIE | MS_SPP | MS_SUM | MS_MXR | MS_FS);
  vsv[0] = csr_read(vsstatus);
  csr_write(vstvec, 0x80001201ull);  // vectored mode
  vsv[1] = csr_read(vstvec);
  csr_write(vsscratch, 0x0123456789abcdefull);
  vsv[2] = csr_read(vsscratch);
  csr_write(vsepc, 0x80001235ull);  // bit 0 of an xepc is always 0
  vsv[3] = csr_read(vsepc);
  csr_write(vscause, INTR | 5);
  vsv[4] = csr_read(vscause);
  csr_write(vscause, 13);
  vsv[5] = csr_read(vscause);
  csr_write(vstval, 0xdeadbeef12345678ull);
  vsv[6] = csr_read(vstval);
  csr_write(vsatp, (ATP_SV39 << 60) | (0xffffull << 44) | 0x12345);
  vsv[7] = csr_read(vsatp);
  csr_write(vsatp, (ATP_SV48 << 60) | 0x12345);
  vsv[8] = csr_read(vsatp);
  csr_write(vsatp, (ATP_SV57 << 60) | 0x12345);
  vsv[9] = csr_read(vsatp);
  csr_write(vsatp, (5ull << 60) | 0x777);  // reserved mode: ignored, or a legal WARL value
  vsv[10] = csr_read(vsatp);
  csr_write(vsatp, 0);
  return 0;
}

// --- S-level CSR names in VS-mode reach the vs* registers.
u64 vs_rd[16];
u64 vs_new_satp;
static u64 vs_alias(u64 a) {
  (void)a;
  vs_rd[0] = csr_read(sstatus);
  vs_rd[1] = csr_read(stvec);
  vs_rd[2] = csr_read(sscratch);
  vs_rd[3] = csr_read(sepc);
  vs_rd[4] = csr_read(scause);
  vs_rd[5] = csr_read(stval);
  vs_rd[6] = csr_read(satp);
  vs_rd[7] = csr_read(sie);
  vs_rd[8] = csr_read(sip);
  csr_set(sstatus, MS_MXR);
  csr_clear(sstatus, MS_SUM);
  csr_write(stvec, (u64)h_vs_vtab | 1);
  csr_write(sscratch, 0xc1);
  csr_write(sepc, 0x800000c2ull);
  csr_write(scause, 3);
  csr_write(stval, 0xc4);
  csr_write(sie, BIT(9));   // vsie.SEIE = hie.VSEIE
  csr_clear(sip, BIT(1));   // vsip.SSIP = hvip.VSSIP
  csr_write(scounteren, 5); // no VS twin: the real scounteren (it controls VU)
  csr_write(satp, vs_new_satp);
  asm volatile("sfence.vma" ::: "memory");
  vs_rd[9] = csr_read(satp);
  // A write of an unsupported MODE through satp while V=1 is ignored entirely [H "vsatp"].
  csr_write(satp, (5ull << 60) | (1ull << 44) | 0x1234);
  vs_rd[10] = csr_read(satp);
  return 0x77;
}

static u64 vs_fp_write(u64 a) {
  asm volatile("fmv.d.x ft0, %0" ::"r"(a));
  return 0;
}

int main(void) {
  h_init();

  // ------------------------------------------------------------------------------------------
  // hstatus [H "hstatus"]: VSXL reads 2 (VSXLEN=64, the only value this RV64 hart supports, so a
  // write of the reserved value 0 must leave 2); the single-bit fields are writable from M and HS.
  CKEQ((csr_read(hstatus) >> 32) & 3, 2);
  csr_write(hstatus, 0);
  CKEQ((csr_read(hstatus) >> 32) & 3, 2);
  {
    static const u64 bits[] = {HS_SPV, HS_SPVP, HS_GVA, HS_HU, HS_VTVM, HS_VTW, HS_VTSR};
    for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++) {
      csr_set(hstatus, bits[i]);
      CKEQ(csr_read(hstatus) & bits[i], bits[i]);
      csr_clear(hstatus, bits[i]);
      CKEQ(csr_read(hstatus) & bits[i], 0);
      CKEQ(run_in(MODE_HS, hs_hstatus_rw, bits[i]) & bits[i], bits[i]);
      CKEQ(csr_read(hstatus) & bits[i], 0);
    }
  }

  // ------------------------------------------------------------------------------------------
  // hgeie / hgeip / VGEIN [H "hgeip/hgeie", "hstatus"]: hgeie implements bits GEILEN:1 (bit 0 is
  // read-only zero); hgeip is read-only (nothing drives it here, so it reads 0); VGEIN holds 0..GEILEN.
  csr_write(hgeie, ~0ull);
  u64 ge = csr_read(hgeie);
  int geilen = popcount(ge);
  CKEQ(ge & 1, 0);
  CKEQ(ge, ((1ull << (geilen + 1)) - 1) & ~1ull);  // contiguous from bit 1
  CK(geilen <= 63);
  csr_write(hgeie, 0);
  CKEQ(csr_read(hgeie), 0);
  CKEQ(csr_read(hgeip), 0);
  CKEQ(csr_read(hip) & BIT(IRQ_SGEI), 0);  // SGEIP = OR(hgeip & hgeie) = 0
  tr_reset();
  asm volatile(".option push\n.option norvc\ncsrw hgeip, %0\n.option pop" ::"r"(~0ull));
  EXPECT_TRAP(LVL_M, C_ILLEGAL);  // read-only CSR number (0xE12): a write is illegal
  CKEQ(csr_read(hgeip), 0);
  for (int v = 0; v <= geilen; v++) {
    csr_clear(hstatus, HS_VGEIN);
    csr_set(hstatus, (u64)v << 12);
    CKEQ((csr_read(hstatus) & HS_VGEIN) >> 12, v);
  }
  csr_clear(hstatus, HS_VGEIN);
  // VGEIN selecting a line that is not pending gives no VSEIP.
  if (geilen) {
    csr_set(hstatus, 1ull << 12);
    CKEQ(csr_read(hip) & BIT(IRQ_VSEI), 0);
    csr_clear(hstatus, HS_VGEIN);
  }

  // ------------------------------------------------------------------------------------------
  // medeleg/mideleg with H [M "medeleg", H "mideleg"]: medeleg[10] and [20..23] are writable,
  // medeleg[11] read-only zero; mideleg bits 2, 6, 10 (and 12 when GEILEN > 0) read-only one.
  csr_write(medeleg, ~0ull);
  {
    u64 m = csr_read(medeleg);
    CKEQ(m & BIT(11), 0);
    CKEQ(m & (BIT(10) | BIT(20) | BIT(21) | BIT(22) | BIT(23)), BIT(10) | BIT(20) | BIT(21) | BIT(22) | BIT(23));
  }
  csr_write(medeleg, 0);
  csr_write(mideleg, 0);
  CKEQ(csr_read(mideleg) & (VS_IRQS | BIT(IRQ_SGEI)), VS_IRQS | (geilen ? BIT(IRQ_SGEI) : 0));

  // ------------------------------------------------------------------------------------------
  // hedeleg [H "hedeleg"]: 9, 10, 11 (ecalls from HS/VS/M), 16, 20..23 (guest-page faults,
  // virtual instruction) are read-only zero; the other standard synchronous causes are writable.
  {
    const u64 must_rw = BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) |
                        BIT(12) | BIT(13) | BIT(15);
    const u64 must_ro0 = BIT(9) | BIT(10) | BIT(11) | BIT(16) | BIT(20) | BIT(21) | BIT(22) | BIT(23);
    csr_write(hedeleg, ~0ull);
    u64 h = csr_read(hedeleg);
    CKEQ(h & must_rw, must_rw);
    CKEQ(h & must_ro0, 0);
    csr_write(hedeleg, 0);
    CKEQ(csr_read(hedeleg) & must_rw, 0);
    h = run_in(MODE_HS, hs_hedeleg_rw, ~0ull);
    CKEQ(h & must_rw, must_rw);
    CKEQ(h & must_ro0, 0);
    csr_write(hedeleg, 0);
  }

  // ------------------------------------------------------------------------------------------
  // hideleg [H "hideleg"]: only the VS-level bits 2, 6, 10 are writable (no LCOFI here).
  csr_write(hideleg, ~0ull);
  CKEQ(csr_read(hideleg), VS_IRQS);
  csr_write(hideleg, 0);
  CKEQ(csr_read(hideleg), 0);
  CKEQ(run_in(MODE_HS, hs_hideleg_rw, ~0ull), VS_IRQS);
  csr_write(hideleg, 0);

  // ------------------------------------------------------------------------------------------
  // hvip / hip / mip [H "hvip/hip/hie"]: hvip has exactly VSEIP, VSTIP, VSSIP writable; hip.VSSIP
  // (and mip.VSSIP) is an alias of hvip.VSSIP; hip.VSTIP/VSEIP are read-only and follow hvip
  // (Sstc off, VGEIN=0). HS sip never shows these bits.
  csr_write(hvip, ~0ull);
  CKEQ(csr_read(hvip), VS_IRQS);
  CKEQ(csr_read(hip) & VS_IRQS, VS_IRQS);
  CKEQ(csr_read(mip) & VS_IRQS, VS_IRQS);
  CKEQ(csr_read(sip) & VS_IRQS, 0);
  csr_write(hvip, 0);
  CKEQ(csr_read(hip) & VS_IRQS, 0);
  CKEQ(csr_read(mip) & VS_IRQS, 0);
  csr_write(hip, ~0ull);  // only VSSIP is writable through hip
  CKEQ(csr_read(hvip), BIT(IRQ_VSSI));
  CKEQ(csr_read(hip) & (VS_IRQS | BIT(IRQ_SGEI)), BIT(IRQ_VSSI));
  csr_clear(hip, BIT(IRQ_VSSI));
  CKEQ(csr_read(hvip), 0);
  csr_set(mip, BIT(IRQ_VSSI));  // mip.VSSIP is the same bit
  CKEQ(csr_read(hvip), BIT(IRQ_VSSI));
  CKEQ(csr_read(hip) & BIT(IRQ_VSSI), BIT(IRQ_VSSI));
  csr_clear(mip, BIT(IRQ_VSSI));
  CKEQ(csr_read(hvip), 0);
  csr_set(mip, BIT(IRQ_VSTI) | BIT(IRQ_VSEI));  // read-only in mip
  CKEQ(csr_read(hvip), 0);
  CKEQ(csr_read(mip) & VS_IRQS, 0);
  csr_write(hvip, BIT(IRQ_VSTI));
  CKEQ(csr_read(hip) & VS_IRQS, BIT(IRQ_VSTI));
  CKEQ(csr_read(mip) & VS_IRQS, BIT(IRQ_VSTI));
  csr_write(hvip, BIT(IRQ_VSEI));
  CKEQ(csr_read(hip) & VS_IRQS, BIT(IRQ_VSEI));
  csr_write(hvip, 0);

  // hie [H "hvip/hip/hie"]: VSSIE, VSTIE, VSEIE and (GEILEN>0) SGEIE writable, the same bits as
  // mie's; HS sie never has them.
  {
    u64 want = VS_IRQS | (geilen ? BIT(IRQ_SGEI) : 0);
    csr_write(hie, ~0ull);
    CKEQ(csr_read(hie), want);
    CKEQ(csr_read(mie) & want, want);
    CKEQ(csr_read(sie) & want, 0);
    csr_clear(mie, VS_IRQS);
    CKEQ(csr_read(hie), want & ~VS_IRQS);
    csr_write(hie, 0);
    CKEQ(csr_read(mie) & want, 0);
    CKEQ(run_in(MODE_HS, hs_hie_rw, ~0ull), want);
    csr_write(hie, 0);
  }

  // ------------------------------------------------------------------------------------------
  // vsip / vsie [H "vsip/vsie"]: the VS bits shifted down by one (2->1, 6->5, 10->9), each present
  // only when its hideleg bit is set, else read-only zero.
  csr_write(hideleg, 0);
  csr_write(hvip, VS_IRQS);
  CKEQ(csr_read(vsip), 0);
  csr_write(vsie, ~0ull);
  CKEQ(csr_read(vsie), 0);
  CKEQ(csr_read(hie), 0);
  csr_write(hideleg, VS_IRQS);
  CKEQ(csr_read(vsip), 0x222);
  csr_write(vsie, ~0ull);
  CKEQ(csr_read(vsie), 0x222);
  CKEQ(csr_read(hie) & VS_IRQS, VS_IRQS);
  csr_write(vsie, BIT(5));
  CKEQ(csr_read(hie) & VS_IRQS, BIT(6));
  csr_write(vsie, 0);
  CKEQ(csr_read(hie) & VS_IRQS, 0);
  csr_clear(vsip, BIT(1));  // vsip.SSIP is writable: clears hvip.VSSIP
  CKEQ(csr_read(hvip), BIT(6) | BIT(10));
  csr_clear(vsip, BIT(5) | BIT(9));  // vsip.STIP/SEIP are read-only
  CKEQ(csr_read(hvip), BIT(6) | BIT(10));
  csr_set(vsip, BIT(1));
  CKEQ(csr_read(hvip), VS_IRQS);
  csr_write(hideleg, BIT(2));  // only VSSI delegated: only vsip/vsie bit 1 exist
  CKEQ(csr_read(vsip), BIT(1));
  csr_write(vsie, ~0ull);
  CKEQ(csr_read(vsie), BIT(1));
  CKEQ(csr_read(hie) & VS_IRQS, BIT(2));
  csr_write(hie, 0);
  csr_write(hvip, 0);
  // HS-level interrupts never show in vsip, even when pending.
  csr_write(hideleg, VS_IRQS);
  csr_write(mideleg, BIT(IRQ_SSI));
  csr_set(mip, BIT(IRQ_SSI));
  CKEQ(csr_read(sip) & BIT(IRQ_SSI), BIT(IRQ_SSI));
  CKEQ(csr_read(vsip), 0);
  csr_clear(mip, BIT(IRQ_SSI));
  csr_write(mideleg, 0);
  csr_write(hideleg, 0);

  // ------------------------------------------------------------------------------------------
  // hgatp [H "hgatp"; docs §8]: VMID is WARL with its implemented bits at the bottom (found by
  // writing ones), bits 59:58 and PPN[1:0] read zero, modes 8/9/10 are supported. An unsupported
  // MODE is not an ignored write as for satp: each field is WARL. This hart's documented choice is to
  // keep the old MODE while still writing PPN and VMID.
  {
    csr_write(hgatp, (ATP_SV39 << 60) | (3ull << 58) | (0x3fffull << 44) | ((1ull << 44) - 1));
    u64 g = csr_read(hgatp);
    u64 vmid = (g >> 44) & 0x3fff;
    CKEQ(ATP_MODE(g), ATP_SV39);
    CKEQ(g & (3ull << 58), 0);
    CKEQ(vmid & (vmid + 1), 0);  // 2^VMIDLEN - 1
    CKEQ(g & 3, 0);
    CKEQ(g & 0xffffc, 0xffffc);  // PPN bits that RAM addresses need are implemented
    csr_write(hgatp, (ATP_SV48 << 60) | 0x80004);
    CKEQ(csr_read(hgatp), (ATP_SV48 << 60) | 0x80004);
    csr_write(hgatp, (ATP_SV57 << 60) | 0x80007);
    CKEQ(csr_read(hgatp), (ATP_SV57 << 60) | 0x80004);
    csr_write(hgatp, (ATP_SV39 << 60) | 0x80008);
    for (u64 mode = 1; mode < 16; mode++) {
      if (mode == ATP_SV39 || mode == ATP_SV48 || mode == ATP_SV57) continue;
      u64 want_vmid = 5 & vmid;
      csr_write(hgatp, (mode << 60) | (5ull << 44) | 0x8000c);
      g = csr_read(hgatp);
      CKEQ(ATP_MODE(g), ATP_SV39);
      CKEQ((g >> 44) & 0x3fff, want_vmid);
      CKEQ(g & ((1ull << 44) - 1), 0x8000c);
    }
    csr_write(hgatp, 0);
    CKEQ(csr_read(hgatp), 0);
    csr_write(hgatp, 3ull << 60);  // from Bare, an unsupported mode keeps Bare
    CKEQ(ATP_MODE(csr_read(hgatp)), 0);
    csr_write(hgatp, 0);
  }

  // ------------------------------------------------------------------------------------------
  // henvcfg [H "henvcfg"]: STCE, PBMTE, ADUE read 0 while the corresponding menvcfg bit is 0.
  {
    const u64 bits = ENV_STCE | ENV_PBMTE | ENV_ADUE;
    csr_write(menvcfg, 0);
    csr_write(henvcfg, bits);
    CKEQ(csr_read(henvcfg) & bits, 0);
    csr_write(menvcfg, bits);
    u64 m = csr_read(menvcfg);
    CKEQ(m & (ENV_STCE | ENV_PBMTE), ENV_STCE | ENV_PBMTE);  // Sstc and Svpbmt are implemented
    csr_write(henvcfg, bits);
    CKEQ(csr_read(henvcfg) & bits, m & bits);
    for (int i = 61; i <= 63; i++) {
      if (!(m & BIT(i))) continue;
      csr_write(henvcfg, bits);
      csr_clear(menvcfg, BIT(i));
      CKEQ(csr_read(henvcfg) & BIT(i), 0);
      csr_set(menvcfg, BIT(i));
    }
    csr_write(henvcfg, 0);
    csr_write(menvcfg, 0);
  }

  // ------------------------------------------------------------------------------------------
  // htimedelta [H "htimedelta"]: `time` read with V=1 returns time + htimedelta (mod 2^64); with
  // V=0 it is unaffected.
  csr_write(mcounteren, 7);
  csr_write(hcounteren, 7);
  csr_write(scounteren, 7);
  {
    static const u64 deltas[] = {0x100000000000ull, ~0ull - 100};  // the second one wraps
    for (unsigned i = 0; i < 2; i++) {
      u64 d = deltas[i];
      csr_write(htimedelta, d);
      CKEQ(csr_read(htimedelta), d);
      for (u64 mode = MODE_VU; mode <= MODE_VS; mode++) {
        u64 t0 = read_time(0);
        u64 tv = run_in(mode, read_time, 0);
        u64 t1 = read_time(0);
        CK(t0 > 101);
        CK(tv - d >= t0 && tv - d <= t1);
      }
      u64 t0 = read_time(0);
      u64 th = run_in(MODE_HS, read_time, 0);
      u64 t1 = read_time(0);
      CK(th >= t0 && th <= t1);
    }
    csr_write(htimedelta, 0);
  }

  // ------------------------------------------------------------------------------------------
  // VS CSRs accessed by their own numbers from HS; the HS registers are unaffected.
  {
    h_init();
    csr_write(sscratch, 0x51);
    csr_write(sepc, 0x80000052ull);
    csr_write(scause, 2);
    csr_write(stval, 0x54);
    csr_clear(sstatus, MS_SUM | MS_MXR | MS_SPP);
    tr_reset();
    run_in(MODE_HS, hs_vs_csrs, 0);
    EXPECT_NONE();
    u64 want = MS_SIE | MS_SPIE | MS_SPP | MS_SUM | MS_MXR | MS_FS;
    CKEQ(vsv[0] & want, want);
    CKEQ((vsv[0] >> 32) & 3, 2);  // vsstatus.UXL: VU is 64-bit
    CKEQ(vsv[1], 0x80001201ull);
    CKEQ(vsv[2], 0x0123456789abcdefull);
    CKEQ(vsv[3], 0x80001234ull);
    CKEQ(vsv[4], INTR | 5);
    CKEQ(vsv[5], 13);
    CKEQ(vsv[6], 0xdeadbeef12345678ull);
    CKEQ(ATP_MODE(vsv[7]), ATP_SV39);
    CKEQ(vsv[7] & ((1ull << 44) - 1), 0x12345);
    {
      u64 asid = (vsv[7] >> 44) & 0xffff;
      CKEQ(asid & (asid + 1), 0);  // ASIDLEN low bits
    }
    CKEQ(vsv[8], (ATP_SV48 << 60) | 0x12345);
    CKEQ(vsv[9], (ATP_SV57 << 60) | 0x12345);
    {
      u64 m = ATP_MODE(vsv[10]);
      CK(m == 0 || m == ATP_SV39 || m == ATP_SV48 || m == ATP_SV57);
    }
    CKEQ(csr_read(sscratch), 0x51);
    CKEQ(csr_read(sepc), 0x80000052ull);
    CKEQ(csr_read(scause), 2);
    CKEQ(csr_read(stval), 0x54);
    CKEQ(csr_read(sstatus) & (MS_SUM | MS_MXR | MS_SPP), 0);
    CKEQ(csr_read(vsscratch), 0x0123456789abcdefull);
  }

  // ------------------------------------------------------------------------------------------
  // V=1: sstatus, stvec, sscratch, sepc, scause, stval, satp, sie, sip act on vsstatus ... vsatp,
  // vsie, vsip [H "Hypervisor and Virtual Supervisor CSRs"]. The guest runs with vsatp = Sv39 and
  // switches itself to an Sv48 table through `satp`.
  {
    h_init();
    guest_setup(ATP_BARE, ATP_SV48);
    vs_new_satp = vsatp_val(0);
    u64* root48 = vs_root;
    vs_mode = ATP_SV39;
    vs_root = pt_alloc(1);
    vs_map(RAM_BASE, RAM_BASE, 2, PTE_LEAF | PTE_RWX);
    u64 satp39 = vsatp_val(0);
    CK((u64)root48 != (u64)vs_root);
    csr_write(vsatp, satp39);
    h_flush();
    // HS ("real") values
    csr_write(stvec, (u64)h_hs_entry);
    csr_write(sscratch, 0xa1);
    csr_write(sepc, 0x800000a2ull);
    csr_write(scause, 9);
    csr_write(stval, 0xa4);
    csr_clear(sstatus, MS_SUM | MS_SPP | MS_MXR);
    csr_write(mideleg, BIT(IRQ_STI));
    csr_write(sie, BIT(IRQ_STI));
    csr_write(scounteren, 0);
    // VS values
    csr_write(vsstatus, MS_SUM | MS_SPP | (1ull << 13));
    csr_write(vsscratch, 0xb1);
    csr_write(vsepc, 0x800000b2ull);
    csr_write(vscause, 12);
    csr_write(vstval, 0xb4);
    csr_write(hideleg, VS_IRQS);
    csr_write(hvip, BIT(IRQ_VSSI));  // pending for the guest, but vsstatus.SIE=0 and vsie=0
    tr_reset();
    CKEQ(run_in(MODE_VS, vs_alias, 0), 0x77);
    EXPECT_NONE();
    // What the guest read: the vs* values.
    CKEQ(vs_rd[0] & (MS_SUM | MS_SPP | MS_MXR), MS_SUM | MS_SPP);
    CKEQ(vs_rd[1], (u64)h_vs_entry);
    CKEQ(vs_rd[2], 0xb1);
    CKEQ(vs_rd[3], 0x800000b2ull);
    CKEQ(vs_rd[4], 12);
    CKEQ(vs_rd[5], 0xb4);
    CKEQ(vs_rd[6], satp39);
    CKEQ(vs_rd[7], 0);       // vsie, not sie (which has STIE)
    CKEQ(vs_rd[8], BIT(1));  // vsip.SSIP = hvip.VSSIP
    CKEQ(vs_rd[9], vs_new_satp);
    CKEQ(vs_rd[10], vs_new_satp);
    // What the guest wrote went to the vs* registers ...
    CKEQ(csr_read(vsstatus) & (MS_SUM | MS_MXR), MS_MXR);
    CKEQ(csr_read(vstvec), (u64)h_vs_vtab | 1);
    CKEQ(csr_read(vsscratch), 0xc1);
    CKEQ(csr_read(vsepc), 0x800000c2ull);
    CKEQ(csr_read(vscause), 3);
    CKEQ(csr_read(vstval), 0xc4);
    CKEQ(csr_read(vsatp), vs_new_satp);
    CKEQ(csr_read(hie) & VS_IRQS, BIT(IRQ_VSEI));
    CKEQ(csr_read(hvip), 0);
    CKEQ(csr_read(scounteren), 5);
    // ... and the HS registers kept their values.
    CKEQ(csr_read(stvec), (u64)h_hs_entry);
    CKEQ(csr_read(sscratch), 0xa1);
    CKEQ(csr_read(sepc), 0x800000a2ull);
    CKEQ(csr_read(scause), 9);
    CKEQ(csr_read(stval), 0xa4);
    CKEQ(csr_read(satp), 0);
    CKEQ(csr_read(sstatus) & (MS_SUM | MS_SPP | MS_MXR), 0);
    CKEQ(csr_read(sie), BIT(IRQ_STI));
    h_init();
  }

  // ------------------------------------------------------------------------------------------
  // FP state written with V=1 makes both vsstatus.FS and the HS-level FS Dirty (and both SD bits
  // set) [H "vsstatus"].
  {
    h_init();
    csr_clear(mstatus, MS_FS);
    csr_set(mstatus, 1ull << 13);  // Initial
    csr_write(vsstatus, 1ull << 13);
    CKEQ(csr_read(vsstatus) >> 63, 0);
    tr_reset();
    run_in(MODE_VS, vs_fp_write, 0x4000000000000000ull);
    EXPECT_NONE();
    CKEQ(csr_read(vsstatus) & MS_FS, MS_FS);
    CKEQ(csr_read(vsstatus) >> 63, 1);
    CKEQ(csr_read(mstatus) & MS_FS, MS_FS);
    CKEQ(csr_read(mstatus) >> 63, 1);
    h_init();
  }
  return 0;
}
