#include "test.h"
int fib(int n) { return n < 2 ? n : fib(n-1) + fib(n-2); }
int main(void) {
  puts_("hello from rvkvm\n");
  CHECK_EQ(2, fib(20), 6765);
  volatile u64 a = 7, b = 6;
  CHECK_EQ(3, a * b, 42);
  volatile double d = 1.5; d = d * 3.0;
  CHECK(4, d == 4.5);
  return 0;
}
