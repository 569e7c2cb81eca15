/* Dirty logging on the data memslot (DIRTY_BASE, DIRTY_PAGES pages).
   config 0 (phases): the guest writes known page sets in phases and tells the host at each
   boundary (sync(n)); the host reads the dirty log there and expects exactly that set.
     phase 0: every page (before logging is on; the host then enables it: log must be empty)
     phase 1: P1 (plus reads elsewhere)      phase 2: P2 (sb, amoadd, last byte of a page)
     phase 3: reads only (empty log)         phase 4: {5,6,7} (host clears page 5 with
     CLEAR_DIRTY_LOG before GET: {6,7})      phase 5: {5,6} (both re-protected)
     phase 6: host turns logging off; the guest writes every page, then verifies all contents.
   Each write stores (phase << 32 | page) in the page's first word, which the host also checks.
   config 1 (spin): the guest stores an increasing counter into page 10 until the host sets
   g_host_stop; the host reads the log concurrently from its own thread.
   config 2 (ram): logging on the RAM slot the guest runs from (sync 10: on, 11 and 12: check,
   then off); the guest writes pages of g_buf; code pages must never be logged. */
#include "guest.h"

#define PAGE(p) ((volatile u64*)(DIRTY_BASE + (u64)(p) * 4096))

volatile u64 g_host_stop;
u8 g_buf[4][4096] __attribute__((aligned(4096))); /* set by the host through its mapping of RAM (found by symbol) */

static const u16 kP1[] = {0, 1, 63, 64, 65, 127, 128, 300, 511};
static u64 g_expect[DIRTY_PAGES]; /* what each page's first word must hold */

static void put(u64 page, u64 phase) {
  u64 v = phase << 32 | page;
  *PAGE(page) = v;
  g_expect[page] = v;
}

static u64 read_all(void) {
  u64 sum = 0;
  for (u64 p = 0; p < DIRTY_PAGES; ++p) sum += *PAGE(p);
  return sum;
}

static void verify_all(void) {
  for (u64 p = 0; p < DIRTY_PAGES; ++p) CHECK_EQ(*PAGE(p), g_expect[p]);
}

static int phases(void) {
  for (u64 p = 0; p < DIRTY_PAGES; ++p) put(p, 0);
  sync_host(0); /* host: enable logging, expect an empty log */

  for (unsigned i = 0; i < sizeof(kP1) / sizeof(kP1[0]); ++i) put(kP1[i], 1);
  (void)*PAGE(2);
  (void)*PAGE(3);
  (void)*PAGE(200);
  put(64, 1); /* twice */
  sync_host(1);

  /* Phase 2: page 1 by a byte store, page 2 by an AMO, page 300 by a store to its last byte,
     page 400 by a plain store; page 0 (dirty in phase 1) is only read. */
  (void)*PAGE(0);
  put(1, 2);
  *(volatile u8*)(DIRTY_BASE + 1 * 4096 + 100) = 0x5a;
  __atomic_fetch_add((u64*)(DIRTY_BASE + 2 * 4096 + 8), 3, __ATOMIC_SEQ_CST);
  put(2, 2);
  *(volatile u8*)(DIRTY_BASE + 300 * 4096 + 4095) = 0x77;
  put(400, 2);
  sync_host(2);

  (void)read_all();
  verify_all();
  sync_host(3);

  put(5, 4);
  put(6, 4);
  put(7, 4);
  sync_host(4);

  put(5, 5);
  put(6, 5);
  sync_host(5);

  for (u64 p = 0; p < DIRTY_PAGES; ++p) put(p, 6);
  sync_host(6);
  verify_all();
  CHECK_EQ(*(volatile u8*)(DIRTY_BASE + 1 * 4096 + 100), 0x5a);
  CHECK_EQ(*(volatile u64*)(DIRTY_BASE + 2 * 4096 + 8), 3);
  CHECK_EQ(*(volatile u8*)(DIRTY_BASE + 300 * 4096 + 4095), 0x77);
  puts_("dirty: ok\n");
  return 0;
}

static int spin(void) {
  u64 n = 0;
  while (!g_host_stop) *PAGE(10) = ++n;
  CHECK(n > 0);
  puts_("dirty spin: ok\n");
  return 0;
}

static int ram_slot(void) {
  sync_host(10);
  *(volatile u8*)&g_buf[0][0] = 1;
  *(volatile u8*)&g_buf[2][100] = 2;
  sync_host(11);
  *(volatile u8*)&g_buf[1][4095] = 3;
  sync_host(12);
  *(volatile u8*)&g_buf[3][8] = 4;
  CHECK_EQ(g_buf[0][0], 1);
  CHECK_EQ(g_buf[2][100], 2);
  CHECK_EQ(g_buf[1][4095], 3);
  CHECK_EQ(g_buf[3][8], 4);
  puts_("dirty ram: ok\n");
  return 0;
}

int main(u64 hart, u64 dtb) {
  (void)hart;
  (void)dtb;
  switch (test_config()) {
    case 0: return phases();
    case 1: return spin();
    case 2: return ram_slot();
  }
  return 99;
}
