/* The test machine, shared by the guests (C) and the test VMM (C++). Plain macros only. */
#ifndef RVKVM_HYP_TEST_LAYOUT_H
#define RVKVM_HYP_TEST_LAYOUT_H

#define GUEST_RAM_BASE 0x80000000ull
#define GUEST_DTB_ADDR 0x82000000ull /* RAM + 32 MiB: the fake device tree (FDT header only) */
#define GUEST_MAX_HARTS 8
#define GUEST_TIMEBASE_HZ 10000000ull

/* System device: 8-byte registers. */
#define SYSDEV_BASE 0x10000000ull
#define SYSDEV_CONSOLE (SYSDEV_BASE + 0x00)  /* W: low byte appended to the console */
#define SYSDEV_SYNC (SYSDEV_BASE + 0x08)     /* W: calls the test's sync hook with the value */
#define SYSDEV_CONFIG (SYSDEV_BASE + 0x10)   /* R: the per-test configuration word */
#define SYSDEV_COUNTER (SYSDEV_BASE + 0x18)  /* R: 0, 1, 2, ... (one per read) */
#define SYSDEV_SIZE 0x1000ull

/* Test device for the MMIO guest. */
#define TESTDEV_BASE 0x10001000ull
#define TESTDEV_NEG 0x000     /* R: byte at offset o is 0x80 | (o & 0x7f) (bit 7 set) */
#define TESTDEV_POS 0x100     /* R: byte at offset o is o & 0x7f (bit 7 clear) */
#define TESTDEV_LOG 0x200     /* W: every write to 0x200..0x2ff is logged (offset, len, value) */
#define TESTDEV_SCRATCH 0x300 /* RW: 64 bytes of plain storage */
#define TESTDEV_COUNTER 0x400 /* R: 0, 1, 2, ... (one per read, truncated to the access width) */
#define TESTDEV_SIZE 0x1000ull

/* Dirty-logging data area: a second memslot. */
#define DIRTY_SLOT 1
#define DIRTY_BASE 0xc0000000ull
#define DIRTY_SIZE 0x200000ull /* 2 MiB = 512 pages, 2 MiB aligned on the host too */
#define DIRTY_PAGES 512

/* Read-only memslot for the MMIO guest: reads are plain memory, writes exit as MMIO. The host
   fills word i with ROM_WORD(i). */
#define ROM_SLOT 2
#define ROM_BASE 0xb0000000ull
#define ROM_SIZE 0x2000ull
#define ROM_WORD(i) (0x524f4d0000000000ull | (u64)(i))

#endif
