// Never finishes: for --max-insns.
int main(void) {
  for (;;) asm volatile("nop");
}
