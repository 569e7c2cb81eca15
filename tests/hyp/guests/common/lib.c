/* Shared guest runtime: console (the test VMM's MMIO console), checks, traps, exit through SBI
   SRST (shutdown with reason 0 = pass, reason 1 = system failure after a message). */
#include "guest.h"

volatile trap_hook_t g_trap_hook;
static volatile u32 g_console_lock;

void* memset(void* d, int c, size_t n) {
  u8* p = d;
  while (n--) *p++ = (u8)c;
  return d;
}
void* memcpy(void* d, const void* s, size_t n) {
  u8* p = d;
  const u8* q = s;
  while (n--) *p++ = *q++;
  return d;
}
size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}

void console_lock(void) {
  while (__atomic_exchange_n(&g_console_lock, 1, __ATOMIC_ACQUIRE)) {
  }
}
void console_unlock(void) { __atomic_store_n(&g_console_lock, 0, __ATOMIC_RELEASE); }

void putc_(char c) { mmio_w8(SYSDEV_CONSOLE, (u8)c); }
void puts_(const char* s) {
  while (*s) putc_(*s++);
}
void puthex(u64 v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 0xf]);
}
void putdec(u64 v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) putc_(buf[--n]);
}

static void __attribute__((noreturn)) fail_now(void) {
  sbi_system_reset(0, 1); /* shutdown, system failure */
  for (;;) wfi();
}

void fail_check(const char* file, int line, const char* what) {
  console_lock();
  puts_("FAIL hart ");
  putdec(hartid());
  puts_(" ");
  puts_(file);
  puts_(":");
  putdec((u64)line);
  puts_(": ");
  puts_(what);
  puts_("\n");
  console_unlock();
  fail_now();
}

void fail_eq(const char* file, int line, const char* what, u64 got, u64 want) {
  console_lock();
  puts_("FAIL hart ");
  putdec(hartid());
  puts_(" ");
  puts_(file);
  puts_(":");
  putdec((u64)line);
  puts_(": ");
  puts_(what);
  puts_(": got ");
  puthex(got);
  puts_(", want ");
  puthex(want);
  puts_("\n");
  console_unlock();
  fail_now();
}

void guest_exit(i64 code) {
  if (code != 0) {
    console_lock();
    puts_("FAIL: main returned ");
    putdec((u64)code);
    puts_("\n");
    console_unlock();
    fail_now();
  }
  sbi_system_reset(0, 0);
  fail_check(__FILE__, __LINE__, "SRST shutdown returned");
}

void sbi_hart_stop_self(void) {
  SBI0(SBI_EXT_HSM, 1);
  fail_check(__FILE__, __LINE__, "HSM hart_stop returned");
}

/* Weak default for guests without secondary harts. */
__attribute__((weak)) void secondary_main(u64 hart, u64 opaque) {
  (void)hart;
  (void)opaque;
  fail_check(__FILE__, __LINE__, "unexpected secondary hart");
}

void trap_handler(struct trap_frame* f) {
  trap_hook_t hook = g_trap_hook;
  if (hook && hook(f)) return;
  console_lock();
  puts_("FAIL hart ");
  putdec(hartid());
  puts_(": unexpected trap scause=");
  puthex(f->scause);
  puts_(" sepc=");
  puthex(f->sepc);
  puts_(" stval=");
  puthex(f->stval);
  puts_("\n");
  console_unlock();
  fail_now();
}
