// A extension, LR/SC (unprivileged spec, "A" chapter §Load-Reserved/Store-Conditional and
// §Eventual Success of Store-Conditional Instructions). Only mandated behaviour is asserted:
//  - a failed SC writes nothing to memory and a non-zero value to rd; a successful one writes rs2
//    (low word for SC.W) and 0 to rd;
//  - an SC with no valid reservation fails; "executing an SC instruction invalidates any
//    reservation held by this hart", and "an SC must fail if there is another SC (to any address)
//    between the LR and the SC in program order";
//  - LR.W/SC.W sign-extend the value placed in rd;
//  - an SC in a constrained LR/SC loop eventually succeeds (a single attempt may fail spuriously,
//    so success is checked through a bounded retry loop).
// Not asserted: the outcome of an SC after a store by the *same* hart to the reserved address (the
// spec only requires failure for stores by other harts or devices), nor the size of the
// reservation set. For those the test only checks that rd and memory agree.
#include "rv64.h"

static volatile u64 cell[4] __attribute__((aligned(64)));
static volatile u64 scratch[8] __attribute__((aligned(64)));

#define TRIES 100

// A constrained loop (LR, SC, retry branch only). Returns the number of failed attempts, or
// TRIES if it never succeeded; *old gets the value LR returned on the last attempt.
#define LRSC_LOOP(lr, sc, addr, val, old)                                               \
  ({                                                                                    \
    u64 fails_ = 0, old_, st_;                                                          \
    asm volatile("1: " lr " %1, (%3)\n"                                                 \
                 sc " %2, %4, (%3)\n"                                                   \
                 "beqz %2, 2f\n"                                                        \
                 "addi %0, %0, 1\n"                                                     \
                 "blt %0, %5, 1b\n"                                                     \
                 "2:"                                                                   \
                 : "+&r"(fails_), "=&r"(old_), "=&r"(st_)                               \
                 : "r"(addr), "r"((u64)(val)), "r"((u64)TRIES)                          \
                 : "memory");                                                           \
    *(old) = old_;                                                                      \
    fails_;                                                                             \
  })

#define SC(insn, addr, val)                                                             \
  ({                                                                                    \
    u64 st_;                                                                            \
    asm volatile(insn " %0, %2, (%1)" : "=&r"(st_) : "r"(addr), "r"((u64)(val)) : "memory"); \
    st_;                                                                                \
  })
#define LR(insn, addr)                                                                  \
  ({                                                                                    \
    u64 v_;                                                                             \
    asm volatile(insn " %0, (%1)" : "=&r"(v_) : "r"(addr) : "memory");                  \
    v_;                                                                                 \
  })

// Drops any reservation: an SC to a scratch word, whatever its outcome.
static void kill_reservation(void) { (void)SC("sc.d", &scratch[0], scratch[0]); }

static void test_success_d(void) {
  u64 old;
  cell[1] = 0x1122334455667788ull;
  OK(LRSC_LOOP("lr.d", "sc.d", &cell[1], 0x8877665544332211ull, &old) < TRIES);
  EQ(old, 0x1122334455667788ull);
  EQ(cell[1], 0x8877665544332211ull);
  // Every aq/rl combination of the pair (ordering only; the values are the same).
  cell[1] = 1;
  OK(LRSC_LOOP("lr.d.aq", "sc.d.rl", &cell[1], 2, &old) < TRIES);
  EQ(old, 1);
  EQ(cell[1], 2);
  OK(LRSC_LOOP("lr.d.aqrl", "sc.d.aqrl", &cell[1], 3, &old) < TRIES);
  EQ(old, 2);
  EQ(cell[1], 3);
  OK(LRSC_LOOP("lr.d.rl", "sc.d.aq", &cell[1], 4, &old) < TRIES);
  EQ(old, 3);
  EQ(cell[1], 4);
  EQ(cell[0], 0);
  EQ(cell[2], 0);
}

static void test_success_w(void) {
  u64 old;
  volatile u32* w = (volatile u32*)&cell[1];
  cell[1] = 0xa5a5a5a580000001ull;
  // LR.W sign-extends; SC.W stores only rs2[31:0] and leaves the other word alone.
  OK(LRSC_LOOP("lr.w", "sc.w", &w[0], 0xdeadbeef7ffffffeull, &old) < TRIES);
  EQ(old, 0xffffffff80000001ull);
  EQ(cell[1], 0xa5a5a5a57ffffffeull);
  OK(LRSC_LOOP("lr.w.aq", "sc.w.rl", &w[1], 0x00000000fffffff0ull, &old) < TRIES);
  EQ(old, 0xffffffffa5a5a5a5ull);
  EQ(cell[1], 0xfffffff07ffffffeull);
  OK(LRSC_LOOP("lr.w.aqrl", "sc.w.aqrl", &w[0], 5, &old) < TRIES);
  EQ(old, 0x7ffffffe);
  EQ(cell[1], 0xfffffff000000005ull);
  OK(LRSC_LOOP("lr.w.rl", "sc.w.aq", &w[1], 6, &old) < TRIES);
  EQ(old, 0xfffffffffffffff0ull);
  EQ(cell[1], 0x0000000600000005ull);
  // LR alone is a plain sign-extending load.
  cell[2] = 0x00000000ffffffffull;
  EQ(LR("lr.w", &cell[2]), ~0ull);
  EQ(LR("lr.d", &cell[2]), 0xffffffffull);
  kill_reservation();
}

static void test_sc_without_reservation(void) {
  u64 st;
  kill_reservation();
  cell[1] = 0x1234;
  st = SC("sc.d", &cell[1], 0x9999);
  OK(st != 0);
  EQ(cell[1], 0x1234);
  kill_reservation();
  cell[1] = 0x1234;
  st = SC("sc.w", &cell[1], 0x9999);
  OK(st != 0);
  EQ(cell[1], 0x1234);
  // Again with every ordering bit combination.
  st = SC("sc.d.aq", &cell[1], 1);
  OK(st != 0);
  st = SC("sc.d.rl", &cell[1], 1);
  OK(st != 0);
  st = SC("sc.w.aqrl", &cell[1], 1);
  OK(st != 0);
  EQ(cell[1], 0x1234);
}

static void test_sc_after_sc(void) {
  u64 old, st;
  // A successful SC consumes the reservation: a second SC to the same address must fail.
  cell[1] = 10;
  OK(LRSC_LOOP("lr.d", "sc.d", &cell[1], 11, &old) < TRIES);
  EQ(cell[1], 11);
  st = SC("sc.d", &cell[1], 12);
  OK(st != 0);
  EQ(cell[1], 11);
  // LR; SC to another address (any outcome); SC to the LR address must fail.
  (void)LR("lr.d", &cell[1]);
  (void)SC("sc.d", &scratch[4], 0x77);
  st = SC("sc.d", &cell[1], 13);
  OK(st != 0);
  EQ(cell[1], 11);
  // The same with words.
  volatile u32* w = (volatile u32*)&cell[2];
  cell[2] = 0x0000000500000004ull;
  (void)LR("lr.w", &w[0]);
  (void)SC("sc.w", &scratch[4], 0x77);
  st = SC("sc.w", &w[0], 0x99);
  OK(st != 0);
  EQ(cell[2], 0x0000000500000004ull);
  // The SC that just failed left no reservation behind either.
  st = SC("sc.w", &w[0], 0x98);
  OK(st != 0);
  EQ(cell[2], 0x0000000500000004ull);
}

static void test_store_between(void) {
  u64 st;
  // Same-hart store to the reserved doubleword between LR and SC: the spec permits either result.
  // Whatever rd says must match memory.
  cell[1] = 1;
  (void)LR("lr.d", &cell[1]);
  cell[1] = 42;
  st = SC("sc.d", &cell[1], 43);
  if (st == 0)
    EQ(cell[1], 43);
  else
    EQ(cell[1], 42);
  // LR then SC to a different doubleword: success is allowed only if the implementation's
  // reservation set covers it; again rd and memory must agree.
  cell[1] = 5;
  cell[3] = 6;
  (void)LR("lr.d", &cell[1]);
  st = SC("sc.d", &cell[3], 7);
  if (st == 0)
    EQ(cell[3], 7);
  else
    EQ(cell[3], 6);
  EQ(cell[1], 5);
  kill_reservation();
}

int main(void) {
  test_success_d();
  test_success_w();
  test_sc_without_reservation();
  test_sc_after_sc();
  test_store_between();
  return 0;
}
