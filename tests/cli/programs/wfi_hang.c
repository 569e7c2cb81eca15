// WFI with every interrupt disabled: nothing can ever wake the hart.
int main(void) {
  asm volatile("csrw mie, zero; wfi");
  return 0;
}
