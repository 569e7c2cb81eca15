// Shared helpers for the rv64 user-level ISA tests (header only: each test is one translation unit).
#pragma once
#include "test.h"

typedef uint16_t u16;
typedef uint8_t u8;
typedef int32_t i32;

// The failure id is the source line, so a failing run names the check without a lookup table.
// (Guarded so a debugging build can pre-define non-fatal versions that report every mismatch.)
#ifndef EQ
#define EQ(a, b) CHECK_EQ(__LINE__, a, b)
#endif
#ifndef OK
#define OK(c) CHECK(__LINE__, c)
#endif

// One instruction on register operands; the result is whatever it wrote to rd.
#define RR(insn, a, b)                                                                        \
  ({                                                                                          \
    u64 r_;                                                                                   \
    asm volatile(insn " %0, %1, %2" : "=r"(r_) : "r"((u64)(a)), "r"((u64)(b)));               \
    r_;                                                                                       \
  })
#define RI(insn, a, imm)                                                                      \
  ({                                                                                          \
    u64 r_;                                                                                   \
    asm volatile(insn " %0, %1, %2" : "=r"(r_) : "r"((u64)(a)), "i"(imm));                    \
    r_;                                                                                       \
  })
#define R1(insn, a)                                                                           \
  ({                                                                                          \
    u64 r_;                                                                                   \
    asm volatile(insn " %0, %1" : "=r"(r_) : "r"((u64)(a)));                                  \
    r_;                                                                                       \
  })
