// Machine counters (priv spec "Machine Cycle Counter", "Machine Instructions-Retired Counter",
// "Machine Counter-Inhibit Register (mcountinhibit)"): minstret/mcycle are writable and keep
// counting from the written value; when mcountinhibit.IR (bit 2) / .CY (bit 0) hold 1 the
// corresponding counter does not increment (mcountinhibit.TM, bit 1, is read-only zero).
#include "priv.h"

static void burn(void) {
  for (volatile int i = 0; i < 200; ++i) {
  }
}

int main(void) {
  priv_init();

  // Written values are where counting continues from.
  csr_write(minstret, 5000);
  burn();
  {
    u64 v = csr_read(minstret);
    CHECK(1, v > 5000 + 200 && v < 5000 + 100000);
  }
  csr_write(mcycle, 1ull << 40);
  burn();
  {
    u64 v = csr_read(mcycle);
    CHECK(2, v > (1ull << 40) && v < (1ull << 40) + 1000000);
    CHECK(3, csr_read(cycle) >= v);  // cycle is the unprivileged shadow of mcycle
  }

  csr_write(mcountinhibit, 7);
  u64 inh = csr_read(mcountinhibit);
  CHECK_EQ(10, inh & 2, 0);  // no TM bit
  if (inh & 4) {
    u64 a = csr_read(minstret);
    burn();
    u64 b = csr_read(minstret);
    CHECK_EQ(11, b, a);
    CHECK_EQ(12, csr_read(instret), a);
  }
  if (inh & 1) {
    u64 a = csr_read(mcycle);
    burn();
    CHECK_EQ(13, csr_read(mcycle), a);
  }
  // Writes still work while inhibited, and counting resumes when the bit is cleared.
  csr_write(minstret, 77);
  if (inh & 4) CHECK_EQ(14, csr_read(minstret), 77);
  csr_write(mcountinhibit, 0);
  CHECK_EQ(15, csr_read(mcountinhibit), 0);
  burn();
  CHECK(16, csr_read(minstret) > 77 + 200);
  return 0;
}
