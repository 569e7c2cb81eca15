#pragma once
// User-mode networking for one guest NIC, built on libslirp: the guest's Ethernet frames go into a
// small TCP/IP stack in the VMM that turns the guest's connections into ordinary host sockets, so
// a guest gets network access without privileges, TAP devices or bridges.
//
// Addressing is QEMU's "-netdev user" default, so guest images and habits carry over:
//   network 10.0.2.0/24, gateway and host alias 10.0.2.2, DNS proxy 10.0.2.3, DHCP hands out
//   10.0.2.15 (and up); with IPv6 on, prefix fec0::/64, host fec0::2, DNS fec0::3.
// Connections the guest makes to 10.0.2.2 reach the host's 127.0.0.1 unless
// SlirpOptions::host_loopback is false.
//
// Host port forwarding uses QEMU's syntax, `[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`
// (e.g. `tcp::2222-:22`, `udp:127.0.0.1:5353-10.0.2.15:53`). One difference from QEMU, for safety:
// an empty host address binds 127.0.0.1, not every interface, so a forwarded guest service is not
// exposed to the network by accident. Write `tcp:0.0.0.0:2222-:22` to expose it on purpose.
//
// Threading: libslirp is not thread-safe, so all of its state is behind one mutex, and between
// start() and stop() it is only ever driven from the EventLoop's thread. Frames the guest
// transmits (from_guest, any thread) are queued and handed to libslirp there; frames for the guest
// are delivered through `to_guest` on the loop thread. start() and stop() may run on another
// thread: they take the same mutex, so libslirp is never entered twice at once (it has no thread
// affinity, only no locking), and they need no running loop, so shutdown cannot hang on one.
#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.h"
#include "vmm/event_loop.h"

namespace rvkvm::vmm {

// IPv4 addresses in host byte order.
inline constexpr u32 kSlirpNetwork = 0x0a000200;    // 10.0.2.0
inline constexpr u32 kSlirpNetmask = 0xffffff00;    // /24
inline constexpr u32 kSlirpHostAddr = 0x0a000202;   // 10.0.2.2: gateway, and the host itself
inline constexpr u32 kSlirpDnsAddr = 0x0a000203;    // 10.0.2.3
inline constexpr u32 kSlirpGuestAddr = 0x0a00020f;  // 10.0.2.15: first DHCP lease
inline constexpr u32 kLoopbackAddr = 0x7f000001;    // 127.0.0.1
// The MAC the VMM gives the guest NIC (virtio-net config space) unless told otherwise: QEMU's
// default, in the locally administered 52:54:00 range. libslirp itself learns the guest's MAC from
// its frames and answers from 52:55:0a:00:02:02 (10.0.2.2) and 52:55:0a:00:02:03 (10.0.2.3).
inline constexpr std::array<u8, 6> kSlirpDefaultGuestMac{0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// One `hostfwd` rule, already validated.
struct HostFwd {
  bool udp = false;
  u32 host_addr = kLoopbackAddr;  // host byte order
  u16 host_port = 0;
  u32 guest_addr = kSlirpGuestAddr;
  u16 guest_port = 0;
  bool operator==(const HostFwd&) const = default;
};

// Parses `[hostfwd=][tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport`. An empty protocol is
// tcp, an empty host address 127.0.0.1 (see above), an empty guest address 10.0.2.15. Ports are
// decimal 1..65535; the guest address must be a usable address of 10.0.2.0/24 (not the network,
// broadcast, 10.0.2.2 or 10.0.2.3). On failure returns nullopt and says why in `error`.
std::optional<HostFwd> parse_hostfwd(std::string_view spec, std::string& error);
// The canonical spelling, e.g. "tcp:127.0.0.1:2222-10.0.2.15:22".
std::string to_string(const HostFwd& fwd);

struct SlirpOptions {
  // Isolate the guest: no connections out, only the forwarded ports and the virtual DHCP/DNS.
  bool restricted = false;
  // Let the guest reach the host's 127.0.0.1 through 10.0.2.2 (QEMU's default). Turn off when the
  // host runs loopback-only services the guest must not see.
  bool host_loopback = true;
  bool ipv6 = true;
  std::string hostname;  // DHCP option 12; empty sends none
};

struct SlirpNetStats {
  u64 frames_to_guest = 0;
  u64 frames_from_guest = 0;    // accepted by from_guest
  u64 dropped_from_guest = 0;   // malformed size, queue full, or not running
};

class SlirpNet {
 public:
  // Called on the event-loop thread, with SlirpNet's internal lock held: it may call from_guest()
  // but must not call start()/stop() or destroy the SlirpNet. A device with no receive buffer free
  // just drops the frame; TCP retransmits.
  using ToGuest = std::function<void(const u8* frame, size_t len)>;

  // `loop` must outlive this object. Nothing happens until start().
  SlirpNet(EventLoop& loop, ToGuest to_guest, SlirpOptions options = {});
  ~SlirpNet();  // stop()s
  SlirpNet(const SlirpNet&) = delete;
  SlirpNet& operator=(const SlirpNet&) = delete;

  // Creates the stack and binds every forwarded port. Validates all rules before touching
  // anything; on any failure nothing is left running and `error` says which rule and why.
  // The loop may be running or not yet started. Fails if already started.
  bool start(const std::vector<std::string>& hostfwds, std::string& error);
  // Closes every socket and forwarded port. Idempotent; start() may be called again afterwards.
  // Callable from any thread (including the loop thread), but not from inside `to_guest` nor while
  // holding a lock that `to_guest` takes (it waits for a pass in progress to finish).
  void stop();

  // A frame the guest transmitted: a complete Ethernet frame without the virtio-net header.
  // Copied; callable from any thread. Dropped (and counted) if not running or backed up.
  void from_guest(const u8* frame, size_t len);

  [[nodiscard]] SlirpNetStats stats() const;

 private:
  class Core;
  // Shared with the callbacks queued on the event loop, which hold it weakly: the loop cannot
  // cancel them, and this way one that runs after destruction finds nothing and returns.
  std::shared_ptr<Core> m_core;
};

}  // namespace rvkvm::vmm
