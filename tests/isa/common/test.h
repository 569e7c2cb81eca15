// Helpers for self-checking bare-metal tests (M-mode, built with riscv64-unknown-elf-gcc).
#pragma once
#include <stdint.h>

typedef uint64_t u64;
typedef int64_t i64;
typedef uint32_t u32;

extern volatile u64 tohost, fromhost;
void htif_exit(u64 code) __attribute__((noreturn));

static inline void htif_putc(char c) {
  tohost = (1ull << 56) | (1ull << 48) | (unsigned char)c;
  while (fromhost == 0) {
  }
  fromhost = 0;
}
static inline void puts_(const char* s) {
  while (*s) htif_putc(*s++);
}
static inline void put_hex(u64 v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) htif_putc("0123456789abcdef"[(v >> i) & 15]);
}

// CHECK(id, cond): fails the test with code `id` and prints the line.
#define CHECK(id, cond)                                     \
  do {                                                      \
    if (!(cond)) {                                          \
      puts_("CHECK failed: " #cond " at line ");            \
      put_hex(__LINE__);                                    \
      htif_putc('\n');                                      \
      htif_exit(id);                                        \
    }                                                       \
  } while (0)
#define CHECK_EQ(id, a, b)                                  \
  do {                                                      \
    u64 a_ = (u64)(a), b_ = (u64)(b);                       \
    if (a_ != b_) {                                         \
      puts_("CHECK_EQ failed: " #a " == " #b ": ");         \
      put_hex(a_);                                          \
      puts_(" != ");                                        \
      put_hex(b_);                                          \
      puts_(" at line ");                                   \
      put_hex(__LINE__);                                    \
      htif_putc('\n');                                      \
      htif_exit(id);                                        \
    }                                                       \
  } while (0)

#define csr_read(csr) ({ u64 v_; asm volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) asm volatile("csrw " #csr ", %0" ::"r"((u64)(val)) : "memory")
#define csr_set(csr, val) asm volatile("csrs " #csr ", %0" ::"r"((u64)(val)) : "memory")
#define csr_clear(csr, val) asm volatile("csrc " #csr ", %0" ::"r"((u64)(val)) : "memory")
