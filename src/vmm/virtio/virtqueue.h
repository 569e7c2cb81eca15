#pragma once
// Split virtqueues (VIRTIO 1.2 section 2.7), device side, over guest RAM.
//
// The guest is hostile until proven otherwise: every index, address and length it provides is
// checked before use, rings are validated once when the queue is enabled (QueueReady = 1) and
// cannot be moved while it is, and a descriptor is copied out of guest memory once and then only
// the copy is used, so the guest cannot change it between the check and the use.
#include <algorithm>
#include <vector>

#include "common/types.h"
#include "vmm/device.h"

namespace rvkvm::vmm::virtio {

// 2.7.5 The Virtqueue Descriptor Table.
inline constexpr u16 VIRTQ_DESC_F_NEXT = 1;
inline constexpr u16 VIRTQ_DESC_F_WRITE = 2;
inline constexpr u16 VIRTQ_DESC_F_INDIRECT = 4;
// 2.7.6 The Virtqueue Available Ring.
inline constexpr u16 VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
// 2.7.8 The Virtqueue Used Ring.
inline constexpr u16 VIRTQ_USED_F_NO_NOTIFY = 1;

// The largest Queue Size a split virtqueue can have (2.7).
inline constexpr u32 kMaxQueueSize = 32768;
// The largest indirect table accepted. The spec sets no limit for indirect tables (Linux uses
// them precisely to exceed the queue size); a bound keeps the work per request finite.
inline constexpr u32 kMaxIndirectEntries = 1024;

// One guest buffer of a chain, already translated: `host` points at `len` bytes inside guest RAM.
struct GuestBuffer {
  u8* host;
  u32 len;
};

// Why a chain was rejected.
enum class ChainError : u8 {
  none,
  head_out_of_range,        // avail ring entry >= Queue Size
  next_out_of_range,        // `next` >= Queue Size (or >= indirect table length)
  bad_address,              // buffer not wholly inside guest RAM
  too_long,                 // more descriptors than the queue/table has: a loop
  total_too_large,          // chain longer than 4 GiB in total
  read_after_write,         // device-readable descriptor after a device-writable one (2.7.4.2)
  indirect_not_negotiated,  // VIRTQ_DESC_F_INDIRECT without VIRTIO_F_INDIRECT_DESC
  indirect_with_next,       // INDIRECT and NEXT together (2.7.5.3.1)
  indirect_bad_length,      // table length 0 or not a multiple of 16
  indirect_too_large,       // more than kMaxIndirectEntries entries
  indirect_bad_address,     // table not wholly inside guest RAM
  indirect_nested,          // INDIRECT inside an indirect table (2.7.5.3.1)
};
[[nodiscard]] const char* chain_error_name(ChainError e);

// An available descriptor chain: the device-readable buffers, then the device-writable ones,
// in chain order. Zero-length descriptors are dropped.
class DescChain {
 public:
  [[nodiscard]] u16 head() const { return m_head; }
  // False when the avail ring named a descriptor outside the table: such a head cannot be
  // returned to the driver.
  [[nodiscard]] bool head_valid() const { return m_head_valid; }
  [[nodiscard]] ChainError error() const { return m_error; }
  [[nodiscard]] const std::vector<GuestBuffer>& readable() const { return m_readable; }
  [[nodiscard]] const std::vector<GuestBuffer>& writable() const { return m_writable; }
  [[nodiscard]] u64 readable_len() const { return m_readable_len; }
  [[nodiscard]] u64 writable_len() const { return m_writable_len; }

  // Copies readable bytes [offset, offset + len) to `dst`; returns how many existed.
  u64 read(u64 offset, void* dst, u64 len) const;
  // Copies `src` to writable bytes [offset, offset + len); returns how many fitted.
  u64 write(u64 offset, const void* src, u64 len) const;

  // Calls fn(u8* host, u32 len) for each piece of the readable (or writable) bytes
  // [offset, offset + len), in order; stops early and returns false if fn returns false.
  // Returns false as well if the range runs past the end of the buffers.
  template <typename Fn>
  bool for_each_readable(u64 offset, u64 len, Fn&& fn) const {
    return visit(m_readable, offset, len, fn);
  }
  template <typename Fn>
  bool for_each_writable(u64 offset, u64 len, Fn&& fn) const {
    return visit(m_writable, offset, len, fn);
  }

 private:
  friend class Virtqueue;
  void clear(u16 head) {
    m_head = head;
    m_head_valid = false;
    m_error = ChainError::none;
    m_readable.clear();
    m_writable.clear();
    m_readable_len = m_writable_len = 0;
  }
  template <typename Fn>
  static bool visit(const std::vector<GuestBuffer>& bufs, u64 offset, u64 len, Fn& fn) {
    for (const GuestBuffer& b : bufs) {
      if (len == 0) break;
      if (offset >= b.len) {
        offset -= b.len;
        continue;
      }
      const u64 n = std::min<u64>(b.len - offset, len);
      if (!fn(b.host + offset, static_cast<u32>(n))) return false;
      len -= n;
      offset = 0;
    }
    return len == 0;
  }

  u16 m_head = 0;
  bool m_head_valid = false;
  ChainError m_error = ChainError::none;
  std::vector<GuestBuffer> m_readable, m_writable;
  u64 m_readable_len = 0, m_writable_len = 0;
};

enum class PopStatus : u8 {
  empty,      // nothing available
  ok,         // a well-formed chain
  malformed,  // a chain was consumed but rejected; see DescChain::error()
  broken,     // the available ring itself is corrupt: the queue stops until reset
};

class Virtqueue {
 public:
  explicit Virtqueue(u16 max_size = 256) : m_max_size(max_size), m_size(max_size) {}

  // Registers the driver programs while the queue is not ready. Writes while it is ready are
  // refused (the transport ignores them), so a validated ring can never be moved or resized.
  [[nodiscard]] u16 max_size() const { return m_max_size; }
  [[nodiscard]] u32 size() const { return m_size; }
  [[nodiscard]] u64 desc_addr() const { return m_desc_addr; }
  [[nodiscard]] u64 driver_addr() const { return m_driver_addr; }
  [[nodiscard]] u64 device_addr() const { return m_device_addr; }
  bool set_size(u32 n);
  bool set_desc_addr(u64 a);
  bool set_driver_addr(u64 a);
  bool set_device_addr(u64 a);

  // QueueReady = 1: validates the configuration against guest RAM (size a power of two and at
  // most max_size(), rings aligned as 2.7 requires and wholly inside RAM). Returns nullptr on
  // success, else why the queue stays disabled.
  [[nodiscard]] const char* enable(const GuestMemory& mem, bool indirect_negotiated);
  // QueueReady = 0: stops using the rings (the addresses stay programmed).
  void disable() { m_ready = false; }
  // Device reset: disabled, registers back to their reset values.
  void reset();
  [[nodiscard]] bool ready() const { return m_ready; }
  [[nodiscard]] bool broken() const { return m_broken; }

  // Takes the next available chain. Requires ready().
  PopStatus pop(DescChain& chain);
  // Returns chain `head` to the driver with `written` bytes written into its writable buffers.
  void push(u16 head, u32 written);
  // After push(): whether the driver wants an interrupt (VIRTQ_AVAIL_F_NO_INTERRUPT clear,
  // 2.7.7; VIRTIO_F_EVENT_IDX is not offered).
  [[nodiscard]] bool needs_interrupt() const;

  // Malformed chains and ring corruption seen since construction (for tests and statistics).
  [[nodiscard]] u64 errors() const { return m_errors; }

 private:
  struct Desc {
    u64 addr;
    u32 len;
    u16 flags;
    u16 next;
  };
  static Desc load_desc(const u8* p);
  ChainError walk(u16 head, DescChain& chain) const;
  ChainError walk_indirect(const Desc& d, DescChain& chain, bool& seen_write) const;
  ChainError add_buffer(const Desc& d, DescChain& chain, bool& seen_write) const;
  void fail(ChainError e, u16 head);

  u16 m_max_size;
  u32 m_size;
  u64 m_desc_addr = 0, m_driver_addr = 0, m_device_addr = 0;
  bool m_ready = false;
  bool m_broken = false;
  bool m_indirect = false;
  GuestMemory m_mem;
  // Host views of the three rings, set by enable().
  u8* m_desc = nullptr;
  u8* m_avail = nullptr;
  u8* m_used = nullptr;
  u16 m_next_avail = 0;  // the driver's avail idx we will read next
  u16 m_used_idx = 0;    // our shadow of used->idx
  u64 m_errors = 0;
};

}  // namespace rvkvm::vmm::virtio
