// Prints through the HTIF write system call (magic_mem: syscall number 64, fd, buffer, length),
// checks the returned length, and passes.
#include "test.h"

static volatile u64 magic_mem[8] __attribute__((aligned(64)));

static i64 sys_write(u64 fd, const char* buf, u64 len) {
  magic_mem[0] = 64;
  magic_mem[1] = fd;
  magic_mem[2] = (u64)buf;
  magic_mem[3] = len;
  asm volatile("fence" ::: "memory");
  tohost = (u64)magic_mem;
  while (fromhost == 0) {
  }
  fromhost = 0;
  asm volatile("fence" ::: "memory");
  return (i64)magic_mem[0];
}

int main(void) {
  static const char msg[] = "written through SYS_write\n";
  CHECK_EQ(2, sys_write(1, msg, sizeof(msg) - 1), sizeof(msg) - 1);
  static const char err[] = "and to stderr\n";
  CHECK_EQ(3, sys_write(2, err, sizeof(err) - 1), sizeof(err) - 1);
  CHECK_EQ(4, sys_write(9, msg, 1), -38);  // other descriptors are not proxied
  return 0;
}
