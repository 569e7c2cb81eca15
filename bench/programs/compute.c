// A compute-bound benchmark: integer arithmetic, memory traffic and branches in roughly equal
// measure (CRC-32, quicksort, integer matrix multiply, a sieve, and an open-addressing hash table).
// Prints a checksum on the 16550 UART and reports through the SiFive test finisher.
#include <stdint.h>

#define UART ((volatile uint8_t*)0x10000000)

static void putc_(char c) {
  while (!(UART[5] & 0x20)) {
  }
  UART[0] = (uint8_t)c;
}
static void puts_(const char* s) {
  while (*s) putc_(*s++);
}
static void put_hex(uint64_t v) {
  for (int i = 60; i >= 0; i -= 4) putc_("0123456789abcdef"[(v >> i) & 15]);
}

#ifndef ROUNDS
#define ROUNDS 24
#endif

static uint32_t crc_table[256];
static uint8_t buf[64 * 1024];
static int32_t arr[16 * 1024];
static int32_t ma[48 * 48], mb[48 * 48], mc[48 * 48];
static uint8_t sieve[256 * 1024];
static uint64_t keys[8192], vals[8192];

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint32_t crc32(const uint8_t* p, uint32_t n) {
  uint32_t c = 0xffffffffu;
  for (uint32_t i = 0; i < n; ++i) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

static void quicksort(int32_t* a, int lo, int hi) {
  while (lo < hi) {
    int32_t pivot = a[(lo + hi) >> 1];
    int i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) ++i;
      while (a[j] > pivot) --j;
      if (i <= j) {
        int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
        ++i;
        --j;
      }
    }
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
}

static uint64_t matmul(void) {
  const int n = 48;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      int32_t s = 0;
      for (int k = 0; k < n; ++k) s += ma[i * n + k] * mb[k * n + j];
      mc[i * n + j] = s;
    }
  uint64_t h = 0;
  for (int i = 0; i < n * n; ++i) h = h * 31 + (uint32_t)mc[i];
  return h;
}

static uint64_t primes(void) {
  const uint32_t n = sizeof(sieve);
  for (uint32_t i = 0; i < n; ++i) sieve[i] = 1;
  sieve[0] = sieve[1] = 0;
  for (uint32_t i = 2; i * i < n; ++i)
    if (sieve[i])
      for (uint32_t j = i * i; j < n; j += i) sieve[j] = 0;
  uint64_t count = 0;
  for (uint32_t i = 0; i < n; ++i) count += sieve[i];
  return count;
}

static uint64_t hashing(void) {
  const uint32_t cap = 8192;
  for (uint32_t i = 0; i < cap; ++i) keys[i] = 0;
  uint64_t sum = 0;
  for (uint32_t i = 0; i < 6000; ++i) {
    uint64_t k = (next_rand() | 1);
    uint32_t h = (uint32_t)((k * 0x9e3779b97f4a7c15ull) >> 51);
    while (keys[h] != 0 && keys[h] != k) h = (h + 1) & (cap - 1);
    keys[h] = k;
    vals[h] += i;
  }
  for (uint32_t i = 0; i < cap; ++i) sum += keys[i] ^ vals[i];
  return sum;
}

int main(void) {
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  uint64_t check = 0;
  for (int round = 0; round < ROUNDS; ++round) {
    for (uint32_t i = 0; i < sizeof(buf); ++i) buf[i] = (uint8_t)next_rand();
    check += crc32(buf, sizeof(buf));
    for (uint32_t i = 0; i < sizeof(arr) / sizeof(arr[0]); ++i) arr[i] = (int32_t)next_rand();
    quicksort(arr, 0, (int)(sizeof(arr) / sizeof(arr[0])) - 1);
    for (uint32_t i = 1; i < sizeof(arr) / sizeof(arr[0]); ++i)
      if (arr[i - 1] > arr[i]) return 2;
    for (int i = 0; i < 48 * 48; ++i) {
      ma[i] = (int32_t)(next_rand() & 0xff);
      mb[i] = (int32_t)(next_rand() & 0xff);
    }
    check += matmul();
    check += primes();
    check += hashing();
  }
  puts_("checksum ");
  put_hex(check);
  putc_('\n');
  return 0;
}
