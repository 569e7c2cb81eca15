// Physical memory protection. rvkvm keeps the PMP registers with their WARL rules — reserved
// W-without-R encodings cleared, a locked entry (and the base of a locked TOR entry) ignoring
// writes — so firmware can program and read them back, but it never denies an access: this is the
// documented allow-all choice of the hart (README), not the spec's enforcement. The test pins
// that behaviour down: S-mode accesses that a real PMP would deny all succeed.
#include "vm.h"

#define CFG_R 0x01ull
#define CFG_W 0x02ull
#define CFG_X 0x04ull
#define CFG_TOR 0x08ull
#define CFG_NAPOT 0x18ull
#define CFG_L 0x80ull

static u64 dpage[2][512] __attribute__((aligned(4096)));
static u64 napot4k(u64 pa) { return (pa >> 2) | 0x1ff; }

static u64 s_access(u64 arg) {
  (void)arg;
  u64 v;
  const u64 p0 = (u64)dpage[0];
  // A real PMP with entry 0 = read-only and no other match would deny the store and the fetch.
  CHECK_EQ(10, try_ld(p0 + 8, &v), NOTRAP);
  CHECK_EQ(11, v, 0x1001);
  CHECK_EQ(12, try_sd(p0 + 8, 0x77), NOTRAP);
  CHECK_EQ(13, try_amoadd_d(p0 + 16, 1), NOTRAP);
  CHECK_EQ(14, try_exec((u64)dpage[1], &v), NOTRAP);
  CHECK_EQ(15, v, 0x55);
  return 0x11;
}

int main(void) {
  priv_init();
  vm_check_layout();
  fill_page((u64)dpage[0], 0x1000);
  put_ret_code((u64)dpage[1], 0x55);

  // WARL: W=1 with R=0 is reserved and legalised away; the value is otherwise kept.
  csr_write(pmpcfg0, (CFG_NAPOT | CFG_W) | ((CFG_NAPOT | CFG_R) << 8));
  CHECK_EQ(1, csr_read(pmpcfg0) & 0xffff, ((CFG_NAPOT | CFG_R) << 8) | CFG_NAPOT);

  // Entry 0: dpage[0] read-only, nothing else matches: every S-mode access still succeeds.
  csr_write(pmpcfg0, 0);
  csr_write(pmpaddr0, napot4k((u64)dpage[0]));
  csr_write(pmpcfg0, CFG_NAPOT | CFG_R);
  sfence_all();
  CHECK_EQ(2, run_as(PRV_S, s_access, 0), 0x11);
  CHECK_EQ(3, dpage[0][1], 0x77);

  // A locked entry ignores writes to its configuration and address; so does the base address of
  // a locked TOR entry (pmpaddr[i-1] for entry i).
  csr_write(pmpaddr1, 0x1000);
  csr_write(pmpaddr2, 0x2000);
  csr_write(pmpcfg0, (CFG_L | CFG_NAPOT | CFG_R) | ((CFG_L | CFG_TOR | CFG_R | CFG_X) << 16));
  u64 cfg = csr_read(pmpcfg0);
  csr_write(pmpcfg0, 0);
  CHECK_EQ(20, csr_read(pmpcfg0), cfg);
  csr_write(pmpaddr0, 0);
  CHECK_EQ(21, csr_read(pmpaddr0), napot4k((u64)dpage[0]));
  csr_write(pmpaddr1, 0x1234);
  CHECK_EQ(22, csr_read(pmpaddr1), 0x1000);  // TOR base of locked entry 2
  csr_write(pmpaddr2, 0x1234);
  CHECK_EQ(23, csr_read(pmpaddr2), 0x2000);
  csr_write(pmpaddr3, 0x4321);
  CHECK_EQ(24, csr_read(pmpaddr3), 0x4321);  // unlocked
  // Even locked entries do not restrict M-mode here.
  u64 x;
  CHECK_EQ(25, try_sd((u64)dpage[0] + 8, 5), NOTRAP);
  CHECK_EQ(26, try_ld((u64)dpage[0] + 8, &x), NOTRAP);
  CHECK_EQ(27, x, 5);
  return 0;
}
