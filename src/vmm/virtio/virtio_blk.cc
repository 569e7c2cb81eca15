#include "vmm/virtio/virtio_blk.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace rvkvm::vmm::virtio {

namespace {

WarnCounter g_warn_request{"virtio-blk: malformed request"};
WarnCounter g_warn_io{"virtio-blk: host I/O error"};

template <typename T>
void put_le(u8* p, T v) {
  std::memcpy(p, &v, sizeof(T));  // the host is little-endian (virtqueue.cc asserts it)
}
template <typename T>
T get_le(const u8* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Full-length positional I/O: short transfers are continued, EINTR retried; running into the end
// of the file (the image shrank under us) is an error.
bool pread_full(int fd, u8* p, u64 n, u64 off) {
  while (n) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<u64>(r);
    off += static_cast<u64>(r);
  }
  return true;
}
bool pwrite_full(int fd, const u8* p, u64 n, u64 off) {
  while (n) {
    const ssize_t r = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<u64>(r);
    off += static_cast<u64>(r);
  }
  return true;
}

// struct virtio_blk_req header (5.2.6): le32 type, le32 reserved, le64 sector.
constexpr u64 kHeaderSize = 16;
// struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags.
constexpr u64 kSegmentSize = 16;

}  // namespace

std::unique_ptr<VirtioBlk> VirtioBlk::open(const Options& options, std::string& error) {
  const int fd = ::open(options.path.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("cannot open disk image {}: {}", options.path, std::strerror(errno));
    return nullptr;
  }
  if (::flock(fd, (options.read_only ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    error = fmt::format("disk image {} is in use by another process: {}", options.path, std::strerror(errno));
    ::close(fd);
    return nullptr;
  }
  // lseek rather than fstat: it also gives the size of a host block device.
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size < 0) {
    error = fmt::format("cannot size disk image {}: {}", options.path, std::strerror(errno));
    ::close(fd);
    return nullptr;
  }
  // capacity is in 512-byte sectors (5.2.4); a trailing partial sector is not visible.
  return std::unique_ptr<VirtioBlk>(new VirtioBlk(fd, static_cast<u64>(size) / kSectorSize, options));
}

VirtioBlk::VirtioBlk(int fd, u64 capacity, Options options)
    : m_fd(fd), m_capacity(capacity), m_options(std::move(options)) {
  std::string serial = m_options.serial;
  if (serial.empty()) {
    const auto slash = m_options.path.find_last_of('/');
    serial = "rvkvm-" + (slash == std::string::npos ? m_options.path : m_options.path.substr(slash + 1));
  }
  // 5.2.6: "a NUL-padded ASCII string up to 20 bytes long. If the string is 20 bytes long then
  // there is no NUL terminator."
  std::memcpy(m_id, serial.data(), std::min<size_t>(serial.size(), VIRTIO_BLK_ID_BYTES));

  // 5.2.4; unoffered fields and padding stay 0 (5.2.5.2: "The device MUST initialize padding
  // bytes unused0 and unused1 to 0").
  put_le<u64>(m_config + kBlkCfgCapacity, m_capacity);
  put_le<u32>(m_config + kBlkCfgSegMax, kSegMax);
  put_le<u32>(m_config + kBlkCfgBlkSize, static_cast<u32>(kSectorSize));
  put_le<u16>(m_config + kBlkCfgNumQueues, 1);
  put_le<u32>(m_config + kBlkCfgMaxDiscardSectors, kMaxDiscardSectors);
  put_le<u32>(m_config + kBlkCfgMaxDiscardSeg, kMaxDiscardSeg);
  put_le<u32>(m_config + kBlkCfgDiscardSectorAlignment, kDiscardSectorAlignment);
  put_le<u32>(m_config + kBlkCfgMaxWriteZeroesSectors, kMaxDiscardSectors);
  put_le<u32>(m_config + kBlkCfgMaxWriteZeroesSeg, kMaxDiscardSeg);
  m_config[kBlkCfgWriteZeroesMayUnmap] = 1;
}

VirtioBlk::~VirtioBlk() {
  // The VMM is going away (poweroff, reboot, SIGINT/SIGTERM): what the guest wrote must be on
  // stable storage even if its driver never sent a flush.
  if (m_fd >= 0 && !m_options.read_only && ::fsync(m_fd) != 0)
    warn(g_warn_io, "virtio-blk: fsync {} at exit: {}", m_options.path, std::strerror(errno));
  if (m_fd >= 0) ::close(m_fd);
}

u64 VirtioBlk::device_features() const {
  // 5.2.5.2: "Devices SHOULD always offer VIRTIO_BLK_F_FLUSH".
  u64 f = feature_bit(VIRTIO_BLK_F_SEG_MAX) | feature_bit(VIRTIO_BLK_F_BLK_SIZE) | feature_bit(VIRTIO_BLK_F_FLUSH);
  if (m_options.read_only) f |= feature_bit(VIRTIO_BLK_F_RO);
  else f |= feature_bit(VIRTIO_BLK_F_DISCARD) | feature_bit(VIRTIO_BLK_F_WRITE_ZEROES);
  return f;
}

void VirtioBlk::read_config(u32 offset, u8* data, u32 len) { std::memcpy(data, m_config + offset, len); }

void VirtioBlk::on_notify(u32 queue) {
  if (queue != 0) return;
  process_queue(0, [this](const DescChain& chain) { return handle(chain); });
}

u32 VirtioBlk::handle(const DescChain& chain) {
  // The status byte is the last device-writable byte of the request (5.2.6); a request without
  // one cannot even be failed, so it is returned untouched.
  if (chain.writable_len() == 0) {
    ++m_failed;
    warn(g_warn_request, "virtio-blk: request without a writable status byte (head {})", chain.head());
    return 0;
  }
  const u64 status_at = chain.writable_len() - 1;
  const u8 status = execute(chain, status_at);
  if (status != VIRTIO_BLK_S_OK) ++m_failed;
  chain.write(status_at, &status, 1);
  // The used length counts every writable byte, as many devices report it; block drivers look at
  // the status byte, not at the length (see the legacy-interface note at the end of 5.2.6).
  return static_cast<u32>(chain.writable_len());
}

u8 VirtioBlk::execute(const DescChain& chain, u64 data_in_len) {
  u8 hdr[kHeaderSize];
  if (chain.read(0, hdr, kHeaderSize) != kHeaderSize) {
    warn(g_warn_request, "virtio-blk: request shorter than its header (head {})", chain.head());
    return VIRTIO_BLK_S_IOERR;
  }
  const u32 type = get_le<u32>(hdr);
  const u64 sector = get_le<u64>(hdr + 8);
  switch (type) {
    case VIRTIO_BLK_T_IN: return do_read(chain, sector, data_in_len);
    case VIRTIO_BLK_T_OUT:
      // 5.2.6.2: "A device MUST set the status byte to VIRTIO_BLK_S_IOERR for a write request if
      // the VIRTIO_BLK_F_RO feature if offered, and MUST NOT write any data."
      if (m_options.read_only) return VIRTIO_BLK_S_IOERR;
      return do_write(chain, sector, chain.readable_len() - kHeaderSize);
    case VIRTIO_BLK_T_FLUSH:
      if (::fsync(m_fd) != 0) {
        warn(g_warn_io, "virtio-blk: fsync {}: {}", m_options.path, std::strerror(errno));
        return VIRTIO_BLK_S_IOERR;
      }
      return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_GET_ID:
      chain.write(0, m_id, std::min<u64>(data_in_len, VIRTIO_BLK_ID_BYTES));
      return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
      const unsigned bit = type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
      if (!transport() || !transport()->negotiated(bit)) return VIRTIO_BLK_S_UNSUPP;
      if (m_options.read_only) return VIRTIO_BLK_S_IOERR;
      return do_discard_or_zeroes(chain, type);
    }
    default: return VIRTIO_BLK_S_UNSUPP;
  }
}

u8 VirtioBlk::do_read(const DescChain& chain, u64 sector, u64 len) {
  if (len % kSectorSize || !in_range(sector, len / kSectorSize)) {
    warn(g_warn_request, "virtio-blk: read of {} bytes at sector {} outside the disk ({} sectors)", len, sector, m_capacity);
    return VIRTIO_BLK_S_IOERR;
  }
  u64 off = sector * kSectorSize;
  const bool ok = chain.for_each_writable(0, len, [&](u8* p, u32 n) {
    if (!pread_full(m_fd, p, n, off)) return false;
    off += n;
    return true;
  });
  if (!ok) {
    warn(g_warn_io, "virtio-blk: read {} at {:#x}: {}", m_options.path, off, std::strerror(errno));
    return VIRTIO_BLK_S_IOERR;
  }
  return VIRTIO_BLK_S_OK;
}

u8 VirtioBlk::do_write(const DescChain& chain, u64 sector, u64 len) {
  if (len % kSectorSize || !in_range(sector, len / kSectorSize)) {
    warn(g_warn_request, "virtio-blk: write of {} bytes at sector {} outside the disk ({} sectors)", len, sector, m_capacity);
    return VIRTIO_BLK_S_IOERR;
  }
  u64 off = sector * kSectorSize;
  const bool ok = chain.for_each_readable(kHeaderSize, len, [&](u8* p, u32 n) {
    if (!pwrite_full(m_fd, p, n, off)) return false;
    off += n;
    return true;
  });
  if (!ok) {
    warn(g_warn_io, "virtio-blk: write {} at {:#x}: {}", m_options.path, off, std::strerror(errno));
    return VIRTIO_BLK_S_IOERR;
  }
  return stable_after_write() ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

bool VirtioBlk::stable_after_write() {
  // 5.2.6.2: if VIRTIO_BLK_F_FLUSH was offered but not negotiated, a completed write must already
  // be stable: without flushes, the driver assumes a write-through cache.
  if (transport() && transport()->negotiated(VIRTIO_BLK_F_FLUSH)) return true;
  if (::fdatasync(m_fd) == 0) return true;
  warn(g_warn_io, "virtio-blk: fdatasync {}: {}", m_options.path, std::strerror(errno));
  return false;
}

u8 VirtioBlk::do_discard_or_zeroes(const DescChain& chain, u32 type) {
  const bool discard = type == VIRTIO_BLK_T_DISCARD;
  const u64 bytes = chain.readable_len() - kHeaderSize;
  if (bytes == 0 || bytes % kSegmentSize || bytes / kSegmentSize > kMaxDiscardSeg) {
    warn(g_warn_request, "virtio-blk: {} with {} bytes of segments", discard ? "discard" : "write-zeroes", bytes);
    return VIRTIO_BLK_S_IOERR;
  }
  const u64 count = bytes / kSegmentSize;
  // Check every segment before touching the disk, so a bad request changes nothing.
  for (int pass = 0; pass < 2; ++pass) {
    for (u64 i = 0; i < count; ++i) {
      u8 seg[kSegmentSize];
      chain.read(kHeaderSize + i * kSegmentSize, seg, kSegmentSize);
      const u64 sector = get_le<u64>(seg);
      const u32 num = get_le<u32>(seg + 8);
      const u32 flags = get_le<u32>(seg + 12);
      if (pass == 0) {
        // 5.2.6.2: UNSUPP for unknown flags, and for a discard with the unmap flag.
        if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) return VIRTIO_BLK_S_UNSUPP;
        if (discard && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) return VIRTIO_BLK_S_UNSUPP;
        if (num > kMaxDiscardSectors || !in_range(sector, num)) {
          warn(g_warn_request, "virtio-blk: {} of {} sectors at {} outside the disk", discard ? "discard" : "write-zeroes", num, sector);
          return VIRTIO_BLK_S_IOERR;
        }
        continue;
      }
      const u64 off = sector * kSectorSize, len = static_cast<u64>(num) * kSectorSize;
      if (len == 0) continue;
      if (discard) {
        // 5.2.6.2: the device MAY deallocate; a file system that cannot punch holes just keeps
        // the data, which is still a correct discard.
        (void)::fallocate(m_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off), static_cast<off_t>(len));
      } else if (!zero_range(off, len, flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) {
        warn(g_warn_io, "virtio-blk: write-zeroes {} at {:#x}: {}", m_options.path, off, std::strerror(errno));
        return VIRTIO_BLK_S_IOERR;
      }
    }
  }
  return stable_after_write() ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

bool VirtioBlk::zero_range(u64 offset, u64 len, bool may_unmap) {
  // 5.2.6.2: after a write-zeroes the range reads as zeroes; with unmap set the device may
  // deallocate it (a punched hole reads as zeroes).
  if (may_unmap && ::fallocate(m_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(len)) == 0)
    return true;
  if (::fallocate(m_fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset), static_cast<off_t>(len)) == 0)
    return true;
  static const u8 kZeros[64 * 1024] = {};
  while (len) {
    const u64 n = std::min<u64>(len, sizeof(kZeros));
    if (!pwrite_full(m_fd, kZeros, n, offset)) return false;
    offset += n;
    len -= n;
  }
  return true;
}

}  // namespace rvkvm::vmm::virtio
