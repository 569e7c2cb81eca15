// Reports failure code 5 through the SiFive test finisher, after printing on the 16550 UART.
#include "test.h"
int main(void) {
  volatile unsigned char* uart = (volatile unsigned char*)0x10000000;
  const char* s = "uart says hi\n";
  while (*s) {
    while (!(uart[5] & 0x20)) {
    }
    uart[0] = (unsigned char)*s++;
  }
  *(volatile unsigned*)0x100000 = (5u << 16) | 0x3333;
  for (;;) {
  }
}
