#pragma once
// virtio-blk (VIRTIO 1.2 section 5.2) backed by a raw image file or a host block device.
//
// One request queue; requests are served synchronously in on_notify() (on the VCPU thread that
// wrote QueueNotify) with pread/pwrite straight into guest RAM. Supported: VIRTIO_BLK_T_IN, _OUT,
// _FLUSH (fsync), _GET_ID, and on writable disks _DISCARD and _WRITE_ZEROES (fallocate). Anything
// else completes with VIRTIO_BLK_S_UNSUPP.
#include <memory>
#include <string>

#include "common/types.h"
#include "vmm/virtio/virtio.h"

namespace rvkvm::vmm::virtio {

// 5.2.3 Feature bits.
inline constexpr unsigned VIRTIO_BLK_F_SIZE_MAX = 1;
inline constexpr unsigned VIRTIO_BLK_F_SEG_MAX = 2;
inline constexpr unsigned VIRTIO_BLK_F_GEOMETRY = 4;
inline constexpr unsigned VIRTIO_BLK_F_RO = 5;
inline constexpr unsigned VIRTIO_BLK_F_BLK_SIZE = 6;
inline constexpr unsigned VIRTIO_BLK_F_FLUSH = 9;
inline constexpr unsigned VIRTIO_BLK_F_TOPOLOGY = 10;
inline constexpr unsigned VIRTIO_BLK_F_CONFIG_WCE = 11;
inline constexpr unsigned VIRTIO_BLK_F_MQ = 12;
inline constexpr unsigned VIRTIO_BLK_F_DISCARD = 13;
inline constexpr unsigned VIRTIO_BLK_F_WRITE_ZEROES = 14;

// 5.2.6 Device Operation: request types and status values.
inline constexpr u32 VIRTIO_BLK_T_IN = 0;
inline constexpr u32 VIRTIO_BLK_T_OUT = 1;
inline constexpr u32 VIRTIO_BLK_T_FLUSH = 4;
inline constexpr u32 VIRTIO_BLK_T_GET_ID = 8;
inline constexpr u32 VIRTIO_BLK_T_GET_LIFETIME = 10;
inline constexpr u32 VIRTIO_BLK_T_DISCARD = 11;
inline constexpr u32 VIRTIO_BLK_T_WRITE_ZEROES = 13;
inline constexpr u32 VIRTIO_BLK_T_SECURE_ERASE = 14;
inline constexpr u8 VIRTIO_BLK_S_OK = 0;
inline constexpr u8 VIRTIO_BLK_S_IOERR = 1;
inline constexpr u8 VIRTIO_BLK_S_UNSUPP = 2;
inline constexpr u32 VIRTIO_BLK_ID_BYTES = 20;
inline constexpr u32 VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

// struct virtio_blk_config (5.2.4), byte offsets of the fields this device fills in.
inline constexpr u32 kBlkCfgCapacity = 0;
inline constexpr u32 kBlkCfgSizeMax = 8;
inline constexpr u32 kBlkCfgSegMax = 12;
inline constexpr u32 kBlkCfgBlkSize = 20;
inline constexpr u32 kBlkCfgWriteback = 32;
inline constexpr u32 kBlkCfgNumQueues = 34;
inline constexpr u32 kBlkCfgMaxDiscardSectors = 36;
inline constexpr u32 kBlkCfgMaxDiscardSeg = 40;
inline constexpr u32 kBlkCfgDiscardSectorAlignment = 44;
inline constexpr u32 kBlkCfgMaxWriteZeroesSectors = 48;
inline constexpr u32 kBlkCfgMaxWriteZeroesSeg = 52;
inline constexpr u32 kBlkCfgWriteZeroesMayUnmap = 56;
inline constexpr u32 kBlkConfigSize = 60;  // through unused1[3]; the secure-erase and zoned fields are not offered

class VirtioBlk final : public VirtioDevice {
 public:
  struct Options {
    std::string path;
    bool read_only = false;
    // The VIRTIO_BLK_T_GET_ID string (at most 20 bytes are reported). Empty: "rvkvm-" followed
    // by the image's file name.
    std::string serial;
  };

  static constexpr u64 kSectorSize = 512;
  static constexpr u16 kQueueSize = 256;
  // seg_max: the header and the status byte take two descriptors of a chain.
  static constexpr u32 kSegMax = kQueueSize - 2;
  static constexpr u32 kMaxDiscardSectors = 1u << 22;  // 2 GiB per segment
  static constexpr u32 kMaxDiscardSeg = 32;
  static constexpr u32 kDiscardSectorAlignment = 8;  // 4 KiB, the usual file-system block

  // Opens the image (O_RDWR, or O_RDONLY for a read-only disk) and takes an flock (exclusive, or
  // shared for read-only) so two VMMs cannot write one image. nullptr with `error` set on failure.
  static std::unique_ptr<VirtioBlk> open(const Options& options, std::string& error);
  ~VirtioBlk() override;
  VirtioBlk(const VirtioBlk&) = delete;
  VirtioBlk& operator=(const VirtioBlk&) = delete;

  [[nodiscard]] u64 capacity() const { return m_capacity; }  // in 512-byte sectors
  [[nodiscard]] bool read_only() const { return m_options.read_only; }
  // Requests completed with VIRTIO_BLK_S_IOERR or VIRTIO_BLK_S_UNSUPP, or dropped for having no
  // status byte (for tests and statistics; read with the transport lock held or while idle).
  [[nodiscard]] u64 failed_requests() const { return m_failed; }

  // VirtioDevice.
  [[nodiscard]] u32 device_id() const override { return VIRTIO_ID_BLOCK; }
  [[nodiscard]] u64 device_features() const override;
  [[nodiscard]] u32 num_queues() const override { return 1; }
  [[nodiscard]] u16 queue_max_size(u32) const override { return kQueueSize; }
  [[nodiscard]] u32 config_size() const override { return kBlkConfigSize; }
  void read_config(u32 offset, u8* data, u32 len) override;
  void on_notify(u32 queue) override;

 private:
  VirtioBlk(int fd, u64 capacity, Options options);
  u32 handle(const DescChain& chain);
  u8 execute(const DescChain& chain, u64 data_in_len);
  u8 do_read(const DescChain& chain, u64 sector, u64 len);
  u8 do_write(const DescChain& chain, u64 sector, u64 len);
  u8 do_discard_or_zeroes(const DescChain& chain, u32 type);
  [[nodiscard]] bool in_range(u64 sector, u64 sectors) const {
    return sector <= m_capacity && sectors <= m_capacity - sector;
  }
  bool zero_range(u64 offset, u64 len, bool may_unmap);
  bool stable_after_write();

  int m_fd;
  u64 m_capacity;
  Options m_options;
  u8 m_id[VIRTIO_BLK_ID_BYTES] = {};
  u8 m_config[kBlkConfigSize] = {};
  u64 m_failed = 0;
};

}  // namespace rvkvm::vmm::virtio
