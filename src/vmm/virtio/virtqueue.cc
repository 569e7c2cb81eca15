#include "vmm/virtio/virtqueue.h"

#include <atomic>
#include <bit>
#include <cstring>

#include "common/log.h"

namespace rvkvm::vmm::virtio {

static_assert(std::endian::native == std::endian::little,
              "virtio 1.x rings are little-endian; a big-endian host would need byte swaps");

namespace {

WarnCounter g_warn_chain{"virtio: malformed descriptor chain"};
WarnCounter g_warn_ring{"virtio: corrupt available ring"};

// Sizes of the three rings as the table in 2.7 gives them (including the used_event and
// avail_event words, which the device never touches since VIRTIO_F_EVENT_IDX is not offered).
constexpr u64 kDescSize = 16;
constexpr u64 desc_table_bytes(u64 n) { return kDescSize * n; }
constexpr u64 avail_ring_bytes(u64 n) { return 6 + 2 * n; }  // flags, idx, ring[n], used_event
constexpr u64 used_ring_bytes(u64 n) { return 6 + 8 * n; }   // flags, idx, ring[n] of {id, len}, avail_event

// Ring indices live in memory the guest writes from other threads: every access to them is an
// atomic access, and the acquire/release pairs below are the device half of the barriers the
// driver uses (2.7.13: the driver publishes descriptors and ring entries before avail->idx; we
// publish used elements and buffer contents before used->idx).
u16 load_u16(const u8* p, int order) { return __atomic_load_n(reinterpret_cast<const u16*>(p), order); }
void store_u32(u8* p, u32 v) { __atomic_store_n(reinterpret_cast<u32*>(p), v, __ATOMIC_RELAXED); }

bool aligned(const void* p, std::uintptr_t a) { return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0; }

}  // namespace

const char* chain_error_name(ChainError e) {
  switch (e) {
    case ChainError::none: return "none";
    case ChainError::head_out_of_range: return "head index out of range";
    case ChainError::next_out_of_range: return "next index out of range";
    case ChainError::bad_address: return "buffer outside guest RAM";
    case ChainError::too_long: return "chain longer than the queue (loop)";
    case ChainError::total_too_large: return "chain longer than 4 GiB";
    case ChainError::read_after_write: return "device-readable descriptor after a device-writable one";
    case ChainError::indirect_not_negotiated: return "indirect descriptor without VIRTIO_F_INDIRECT_DESC";
    case ChainError::indirect_with_next: return "indirect descriptor with VIRTQ_DESC_F_NEXT";
    case ChainError::indirect_bad_length: return "indirect table length not a non-zero multiple of 16";
    case ChainError::indirect_too_large: return "indirect table too large";
    case ChainError::indirect_bad_address: return "indirect table outside guest RAM";
    case ChainError::indirect_nested: return "nested indirect descriptor";
  }
  return "?";
}

u64 DescChain::read(u64 offset, void* dst, u64 len) const {
  u8* out = static_cast<u8*>(dst);
  u64 done = 0;
  for_each_readable(offset, std::min(len, m_readable_len > offset ? m_readable_len - offset : 0), [&](u8* p, u32 n) {
    std::memcpy(out + done, p, n);
    done += n;
    return true;
  });
  return done;
}

u64 DescChain::write(u64 offset, const void* src, u64 len) const {
  const u8* in = static_cast<const u8*>(src);
  u64 done = 0;
  for_each_writable(offset, std::min(len, m_writable_len > offset ? m_writable_len - offset : 0), [&](u8* p, u32 n) {
    std::memcpy(p, in + done, n);
    done += n;
    return true;
  });
  return done;
}

bool Virtqueue::set_size(u32 n) {
  if (m_ready) return false;
  m_size = n;
  return true;
}
bool Virtqueue::set_desc_addr(u64 a) {
  if (m_ready) return false;
  m_desc_addr = a;
  return true;
}
bool Virtqueue::set_driver_addr(u64 a) {
  if (m_ready) return false;
  m_driver_addr = a;
  return true;
}
bool Virtqueue::set_device_addr(u64 a) {
  if (m_ready) return false;
  m_device_addr = a;
  return true;
}

void Virtqueue::reset() {
  m_ready = false;
  m_broken = false;
  m_size = m_max_size;  // QueueNum reads back nothing, but a sane default does no harm
  m_desc_addr = m_driver_addr = m_device_addr = 0;
  m_desc = m_avail = m_used = nullptr;
  m_next_avail = m_used_idx = 0;
}

const char* Virtqueue::enable(const GuestMemory& mem, bool indirect_negotiated) {
  // 2.7: "Queue Size value is always a power of 2. The maximum Queue Size value is 32768."
  if (m_size == 0 || !std::has_single_bit(m_size)) return "queue size not a power of two";
  if (m_size > m_max_size || m_size > kMaxQueueSize) return "queue size above QueueNumMax";
  // 2.7 Table "Virtqueue Part Alignment": descriptor table 16, available ring 2, used ring 4.
  if (m_desc_addr % 16 || m_driver_addr % 2 || m_device_addr % 4) return "misaligned ring address";
  u8* desc = mem.ptr(m_desc_addr, desc_table_bytes(m_size));
  u8* avail = mem.ptr(m_driver_addr, avail_ring_bytes(m_size));
  u8* used = mem.ptr(m_device_addr, used_ring_bytes(m_size));
  if (!desc || !avail || !used) return "ring outside guest RAM";
  // The host mapping keeps the guest alignment when RAM is page-aligned; check anyway, because
  // the atomic accesses below need naturally aligned host addresses.
  if (!aligned(desc, 8) || !aligned(avail, 2) || !aligned(used, 4)) return "host mapping misaligned";
  m_mem = mem;
  m_desc = desc;
  m_avail = avail;
  m_used = used;
  m_indirect = indirect_negotiated;
  // A freshly enabled ring starts at index 0 on both sides (the driver zeroes the rings).
  m_next_avail = 0;
  m_used_idx = 0;
  m_broken = false;
  m_ready = true;
  return nullptr;
}

Virtqueue::Desc Virtqueue::load_desc(const u8* p) {
  // One copy of the guest's descriptor; only the copy is checked and used.
  u8 raw[kDescSize];
  std::memcpy(raw, p, sizeof(raw));
  Desc d;
  std::memcpy(&d.addr, raw + 0, 8);
  std::memcpy(&d.len, raw + 8, 4);
  std::memcpy(&d.flags, raw + 12, 2);
  std::memcpy(&d.next, raw + 14, 2);
  return d;
}

ChainError Virtqueue::add_buffer(const Desc& d, DescChain& chain, bool& seen_write) const {
  const bool writable = d.flags & VIRTQ_DESC_F_WRITE;
  // 2.7.4.2: "The driver MUST place any device-writable descriptor elements after any
  // device-readable descriptor elements."
  if (!writable && seen_write) return ChainError::read_after_write;
  u8* host = m_mem.ptr(d.addr, d.len);
  if (!host) return ChainError::bad_address;
  // 2.7.5.2: "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in total".
  if (chain.m_readable_len + chain.m_writable_len + d.len > 0xffffffffull) return ChainError::total_too_large;
  seen_write |= writable;
  if (d.len == 0) return ChainError::none;
  if (writable) {
    chain.m_writable.push_back({host, d.len});
    chain.m_writable_len += d.len;
  } else {
    chain.m_readable.push_back({host, d.len});
    chain.m_readable_len += d.len;
  }
  return ChainError::none;
}

ChainError Virtqueue::walk_indirect(const Desc& d, DescChain& chain, bool& seen_write) const {
  if (!m_indirect) return ChainError::indirect_not_negotiated;
  // 2.7.5.3.1: "A driver MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT in flags."
  if (d.flags & VIRTQ_DESC_F_NEXT) return ChainError::indirect_with_next;
  if (d.len == 0 || d.len % kDescSize) return ChainError::indirect_bad_length;
  const u32 entries = d.len / kDescSize;
  if (entries > kMaxIndirectEntries) return ChainError::indirect_too_large;
  const u8* table = m_mem.ptr(d.addr, d.len);
  if (!table) return ChainError::indirect_bad_address;
  // 2.7.5.3.2: the device ignores VIRTQ_DESC_F_WRITE on the descriptor naming the table; the
  // table's own descriptors say which buffers are writable. Chains start at entry 0.
  u32 index = 0;
  for (u32 count = 1;; ++count) {
    if (count > entries) return ChainError::too_long;
    const Desc e = load_desc(table + kDescSize * index);
    // 2.7.5.3.1: "A driver MUST NOT set the VIRTQ_DESC_F_INDIRECT flag within an indirect
    // descriptor".
    if (e.flags & VIRTQ_DESC_F_INDIRECT) return ChainError::indirect_nested;
    if (ChainError err = add_buffer(e, chain, seen_write); err != ChainError::none) return err;
    if (!(e.flags & VIRTQ_DESC_F_NEXT)) return ChainError::none;
    if (e.next >= entries) return ChainError::next_out_of_range;
    index = e.next;
  }
}

ChainError Virtqueue::walk(u16 head, DescChain& chain) const {
  if (head >= m_size) return ChainError::head_out_of_range;
  chain.m_head_valid = true;
  bool seen_write = false;
  u32 index = head;
  // A chain visits each descriptor at most once, so more than Queue Size steps means a loop
  // (2.7.5.2: loops are forbidden; 2.7.5.3.1: "A driver MUST NOT create a descriptor chain
  // longer than the Queue Size of the device").
  for (u32 count = 1;; ++count) {
    if (count > m_size) return ChainError::too_long;
    const Desc d = load_desc(m_desc + kDescSize * index);
    if (d.flags & VIRTQ_DESC_F_INDIRECT) return walk_indirect(d, chain, seen_write);
    if (ChainError err = add_buffer(d, chain, seen_write); err != ChainError::none) return err;
    if (!(d.flags & VIRTQ_DESC_F_NEXT)) return ChainError::none;
    if (d.next >= m_size) return ChainError::next_out_of_range;
    index = d.next;
  }
}

void Virtqueue::fail(ChainError e, u16 head) {
  ++m_errors;
  warn(g_warn_chain, "virtio: malformed descriptor chain (head {}): {}", head, chain_error_name(e));
}

PopStatus Virtqueue::pop(DescChain& chain) {
  if (!m_ready || m_broken) return m_broken ? PopStatus::broken : PopStatus::empty;
  // Acquire: the ring entry and descriptors the driver published before bumping idx are
  // visible after this load.
  const u16 avail_idx = load_u16(m_avail + 2, __ATOMIC_ACQUIRE);
  const u16 pending = static_cast<u16>(avail_idx - m_next_avail);
  if (pending == 0) return PopStatus::empty;
  if (pending > m_size) {
    // The driver cannot have more than Queue Size chains outstanding: idx is garbage, and no
    // entry of this ring can be trusted any more.
    m_broken = true;
    ++m_errors;
    warn(g_warn_ring, "virtio: avail idx {} is {} ahead of the device (queue size {})", avail_idx, pending, m_size);
    return PopStatus::broken;
  }
  const u16 head = load_u16(m_avail + 4 + 2 * (m_next_avail & (m_size - 1)), __ATOMIC_RELAXED);
  ++m_next_avail;
  chain.clear(head);
  const ChainError e = walk(head, chain);
  if (e != ChainError::none) {
    chain.m_error = e;
    fail(e, head);
    return PopStatus::malformed;
  }
  return PopStatus::ok;
}

void Virtqueue::push(u16 head, u32 written) {
  if (!m_ready) return;
  u8* elem = m_used + 4 + 8 * (m_used_idx & (m_size - 1));
  store_u32(elem, head);
  store_u32(elem + 4, written);
  ++m_used_idx;
  // Release: the element (and the data written into the buffers) is visible before the index
  // (2.7.8.2: the device MUST set len prior to updating the used idx).
  __atomic_store_n(reinterpret_cast<u16*>(m_used + 2), m_used_idx, __ATOMIC_RELEASE);
}

bool Virtqueue::needs_interrupt() const {
  if (!m_ready) return false;
  // Full barrier between publishing used->idx and reading avail->flags, so that a driver which
  // re-enables interrupts and then re-checks the used ring cannot miss both the entry and the
  // interrupt (the suppression flag itself is only advisory, 2.7.7).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return !(load_u16(m_avail, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

}  // namespace rvkvm::vmm::virtio
