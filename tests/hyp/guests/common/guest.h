/* Helpers for the VS-mode test guests: SBI calls, CSRs, MMIO, console, checks. */
#ifndef RVKVM_HYP_GUEST_H
#define RVKVM_HYP_GUEST_H
#include <stdint.h>
#include <stddef.h>

#include "layout.h"

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;
typedef int32_t i32;
typedef uint16_t u16;
typedef uint8_t u8;

/* ---- SBI ---- */
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_RFENCE 0x52464E43
#define SBI_EXT_HSM 0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_PMU 0x504D55
#define SBI_EXT_DBCN 0x4442434E
#define SBI_EXT_0_1_SET_TIMER 0x0
#define SBI_EXT_0_1_CONSOLE_PUTCHAR 0x1
#define SBI_EXT_0_1_CONSOLE_GETCHAR 0x2
#define SBI_EXT_0_1_CLEAR_IPI 0x3
#define SBI_EXT_0_1_SEND_IPI 0x4
#define SBI_EXT_0_1_SHUTDOWN 0x8

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED -1
#define SBI_ERR_NOT_SUPPORTED -2
#define SBI_ERR_INVALID_PARAM -3
#define SBI_ERR_DENIED -4
#define SBI_ERR_INVALID_ADDRESS -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED -7
#define SBI_ERR_ALREADY_STOPPED -8

#define SBI_HSM_STARTED 0
#define SBI_HSM_STOPPED 1

struct sbiret {
  i64 error;
  i64 value;
};

static inline struct sbiret sbi_call(u64 ext, u64 fid, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5) {
  register u64 r0 __asm__("a0") = a0;
  register u64 r1 __asm__("a1") = a1;
  register u64 r2 __asm__("a2") = a2;
  register u64 r3 __asm__("a3") = a3;
  register u64 r4 __asm__("a4") = a4;
  register u64 r5 __asm__("a5") = a5;
  register u64 r6 __asm__("a6") = fid;
  register u64 r7 __asm__("a7") = ext;
  __asm__ volatile("ecall"
                   : "+r"(r0), "+r"(r1)
                   : "r"(r2), "r"(r3), "r"(r4), "r"(r5), "r"(r6), "r"(r7)
                   : "memory");
  struct sbiret r = {(i64)r0, (i64)r1};
  return r;
}
#define SBI0(e, f) sbi_call((e), (f), 0, 0, 0, 0, 0, 0)
#define SBI1(e, f, a) sbi_call((e), (f), (a), 0, 0, 0, 0, 0)
#define SBI2(e, f, a, b) sbi_call((e), (f), (a), (b), 0, 0, 0, 0)
#define SBI3(e, f, a, b, c) sbi_call((e), (f), (a), (b), (c), 0, 0, 0)

/* Legacy (v0.1) call: the result is a0 only. */
static inline i64 sbi_legacy(u64 ext, u64 a0) {
  register u64 r0 __asm__("a0") = a0;
  register u64 r7 __asm__("a7") = ext;
  __asm__ volatile("ecall" : "+r"(r0) : "r"(r7) : "a1", "memory");
  return (i64)r0;
}

static inline struct sbiret sbi_probe(u64 ext) { return SBI1(SBI_EXT_BASE, 3, ext); }
static inline struct sbiret sbi_set_timer(u64 t) { return SBI1(SBI_EXT_TIME, 0, t); }
static inline struct sbiret sbi_send_ipi(u64 mask, u64 base) { return SBI2(SBI_EXT_IPI, 0, mask, base); }
static inline struct sbiret sbi_hart_start(u64 hart, u64 addr, u64 opaque) {
  return SBI3(SBI_EXT_HSM, 0, hart, addr, opaque);
}
static inline struct sbiret sbi_hart_status(u64 hart) { return SBI1(SBI_EXT_HSM, 2, hart); }
static inline struct sbiret sbi_system_reset(u64 type, u64 reason) { return SBI2(SBI_EXT_SRST, 0, type, reason); }
void sbi_hart_stop_self(void) __attribute__((noreturn));

/* ---- CSRs ---- */
#define csr_read(csr)                                  \
  ({                                                   \
    u64 __v;                                           \
    __asm__ volatile("csrr %0, " #csr : "=r"(__v)::"memory"); \
    __v;                                               \
  })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"((u64)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" ::"rK"((u64)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" ::"rK"((u64)(val)) : "memory")

#define SSTATUS_SIE (1ull << 1)
#define SSTATUS_SPIE (1ull << 5)
#define SSTATUS_SPP (1ull << 8)
#define SIE_SSIE (1ull << 1)
#define SIE_STIE (1ull << 5)
#define SIE_SEIE (1ull << 9)
#define SIP_SSIP (1ull << 1)
#define SIP_STIP (1ull << 5)
#define SCAUSE_INTR (1ull << 63)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_ECALL_U 8

static inline u64 rdtime(void) {
  u64 t;
  __asm__ volatile("rdtime %0" : "=r"(t));
  return t;
}
static inline u64 hartid(void) {
  u64 t;
  __asm__ volatile("mv %0, tp" : "=r"(t));
  return t;
}
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void irq_enable(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void irq_disable(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline void delay_ticks(u64 ticks) {
  u64 t0 = rdtime();
  while (rdtime() - t0 < ticks) {
  }
}
#define MS(x) ((u64)(x) * (GUEST_TIMEBASE_HZ / 1000))

/* ---- MMIO ---- */
static inline void mmio_w8(u64 a, u8 v) { *(volatile u8*)a = v; }
static inline void mmio_w64(u64 a, u64 v) { *(volatile u64*)a = v; }
static inline u64 mmio_r64(u64 a) { return *(volatile u64*)a; }
static inline void sync_host(u64 v) { mmio_w64(SYSDEV_SYNC, v); }
static inline u64 test_config(void) { return mmio_r64(SYSDEV_CONFIG); }

/* ---- Traps ---- */
struct trap_frame {
  u64 x[32];
  u64 sepc, scause, stval, sstatus;
};
/* The test's handler: returns nonzero if it handled the trap (it may edit the frame). Unhandled
   traps fail the test. Shared by every hart. */
typedef int (*trap_hook_t)(struct trap_frame* f);
extern volatile trap_hook_t g_trap_hook;
/* Length of the instruction at `pc` (2 or 4). */
static inline u64 insn_len(u64 pc) { return ((*(volatile u16*)pc) & 3) == 3 ? 4 : 2; }

/* ---- Console and checks ---- */
void putc_(char c);
void puts_(const char* s);
void puthex(u64 v);
void putdec(u64 v);
void console_lock(void);
void console_unlock(void);
void fail_check(const char* file, int line, const char* what) __attribute__((noreturn));
void fail_eq(const char* file, int line, const char* what, u64 got, u64 want) __attribute__((noreturn));
void guest_exit(i64 code) __attribute__((noreturn));

#define CHECK(c)                                      \
  do {                                                \
    if (!(c)) fail_check(__FILE__, __LINE__, #c);     \
  } while (0)
#define CHECK_EQ(a, b)                                                        \
  do {                                                                        \
    u64 __a = (u64)(a), __b = (u64)(b);                                       \
    if (__a != __b) fail_eq(__FILE__, __LINE__, #a " == " #b, __a, __b);      \
  } while (0)
/* Spins until `cond` holds, failing after `ms` milliseconds of guest time. */
#define WAIT_UNTIL(cond, ms)                                                  \
  do {                                                                        \
    u64 __t0 = rdtime();                                                      \
    while (!(cond)) {                                                         \
      if (rdtime() - __t0 > MS(ms)) fail_check(__FILE__, __LINE__, "timed out waiting for " #cond); \
    }                                                                         \
  } while (0)

void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
size_t strlen(const char* s);

#endif
