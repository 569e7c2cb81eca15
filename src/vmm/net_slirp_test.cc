// SlirpNet against a fake guest written here: just enough Ethernet, ARP, IPv4, UDP, TCP and DHCP
// to exercise the paths a real guest uses. Everything on the host side is 127.0.0.1; nothing
// leaves the machine. Every wait is bounded.
#include "vmm/net_slirp.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rvkvm::vmm {
namespace {

using namespace std::chrono_literals;
using Mac = std::array<u8, 6>;
using Bytes = std::vector<u8>;

constexpr auto kTimeout = 5s;
constexpr Mac kGuestMac = kSlirpDefaultGuestMac;
constexpr Mac kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr Mac kSlirpGatewayMac{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
constexpr u16 kEthArp = 0x0806;
constexpr u16 kEthIpv4 = 0x0800;
constexpr u8 kProtoTcp = 6;
constexpr u8 kProtoUdp = 17;
constexpr u8 kTcpFin = 0x01;
constexpr u8 kTcpSyn = 0x02;
constexpr u8 kTcpPsh = 0x08;
constexpr u8 kTcpAck = 0x10;

// ---- hostfwd parsing ----------------------------------------------------------------------------

TEST(HostFwdParse, AcceptsQemuSyntax) {
  struct Case {
    const char* spec;
    HostFwd want;
  };
  const Case cases[] = {
      {"tcp::8080-:80", {false, kLoopbackAddr, 8080, kSlirpGuestAddr, 80}},
      {"hostfwd=tcp::2222-:22", {false, kLoopbackAddr, 2222, kSlirpGuestAddr, 22}},
      {"::8080-:80", {false, kLoopbackAddr, 8080, kSlirpGuestAddr, 80}},  // empty protocol is tcp
      {"udp::5353-:53", {true, kLoopbackAddr, 5353, kSlirpGuestAddr, 53}},
      {"tcp:127.0.0.1:8080-:80", {false, kLoopbackAddr, 8080, kSlirpGuestAddr, 80}},
      {"tcp:0.0.0.0:1-10.0.2.16:65535", {false, 0, 1, 0x0a000210, 65535}},
      {"udp:192.168.1.7:65535-10.0.2.254:1", {true, 0xc0a80107, 65535, 0x0a0002fe, 1}},
  };
  for (const auto& c : cases) {
    std::string error;
    auto got = parse_hostfwd(c.spec, error);
    ASSERT_TRUE(got.has_value()) << c.spec << ": " << error;
    EXPECT_EQ(*got, c.want) << c.spec;
    // The canonical form parses back to the same rule.
    auto again = parse_hostfwd(to_string(*got), error);
    ASSERT_TRUE(again.has_value()) << to_string(*got);
    EXPECT_EQ(*again, *got);
  }
  std::string error;
  EXPECT_EQ(to_string(*parse_hostfwd("tcp::2222-:22", error)), "tcp:127.0.0.1:2222-10.0.2.15:22");
}

TEST(HostFwdParse, RejectsMalformed) {
  const char* bad[] = {
      "",
      "tcp",
      "tcp:8080-:80x",
      "sctp::1-:2",
      "TCP::1-:2",
      "tcp::8080",           // no guest side
      "tcp::8080-80",        // guest side without ':'
      "tcp:8080-:80",        // host side without ':'
      "tcp::0-:80",          // port 0
      "tcp::80-:0",
      "tcp::65536-:80",
      "tcp::-1-:80",
      "tcp::+80-:80",
      "tcp:: 80-:80",
      "tcp::80 -:80",
      "tcp::0x50-:80",
      "tcp::80-:80 ",
      "tcp::-:80",
      "tcp::80-:",
      "tcp:1.2.3:80-:80",    // not a dotted quad
      "tcp:localhost:80-:80",
      "tcp:[::1]:80-:80",
      "tcp::80-192.168.1.5:80",  // guest outside 10.0.2.0/24
      "tcp::80-10.0.2.2:80",     // libslirp's own addresses
      "tcp::80-10.0.2.3:80",
      "tcp::80-10.0.2.0:80",
      "tcp::80-10.0.2.255:80",
      "tcp::80-10.0.2.15:80:1",
  };
  for (const char* spec : bad) {
    std::string error;
    EXPECT_FALSE(parse_hostfwd(spec, error).has_value()) << "accepted: '" << spec << "'";
    EXPECT_NE(error.find("hostfwd"), std::string::npos) << spec << ": " << error;
  }
}

// ---- a fake guest -------------------------------------------------------------------------------

void put16(Bytes& b, size_t off, u16 v) {
  b[off] = static_cast<u8>(v >> 8);
  b[off + 1] = static_cast<u8>(v);
}
void put32(Bytes& b, size_t off, u32 v) {
  put16(b, off, static_cast<u16>(v >> 16));
  put16(b, off + 2, static_cast<u16>(v));
}
u16 get16(const u8* p) { return static_cast<u16>(p[0] << 8 | p[1]); }
u32 get32(const u8* p) { return static_cast<u32>(get16(p)) << 16 | get16(p + 2); }

// RFC 1071 ones' complement sum, folded and inverted.
u16 checksum(const u8* p, size_t n, u32 sum = 0) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += get16(p + i);
  if (n & 1) sum += static_cast<u32>(p[n - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<u16>(~sum);
}
u32 pseudo_header_sum(u32 src, u32 dst, u8 proto, size_t len) {
  return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + static_cast<u32>(len);
}

Bytes ethernet(const Mac& dst, const Mac& src, u16 type, const Bytes& payload) {
  Bytes f(14);
  std::copy(dst.begin(), dst.end(), f.begin());
  std::copy(src.begin(), src.end(), f.begin() + 6);
  put16(f, 12, type);
  f.insert(f.end(), payload.begin(), payload.end());
  if (f.size() < 60) f.resize(60);  // minimum frame, as a NIC pads
  return f;
}

Bytes ipv4(u32 src, u32 dst, u8 proto, const Bytes& l4) {
  Bytes p(20);
  p[0] = 0x45;
  put16(p, 2, static_cast<u16>(20 + l4.size()));
  put16(p, 4, 0x1234);  // id
  p[8] = 64;            // TTL
  p[9] = proto;
  put32(p, 12, src);
  put32(p, 16, dst);
  put16(p, 10, checksum(p.data(), 20));
  p.insert(p.end(), l4.begin(), l4.end());
  return p;
}

Bytes udp(u32 src, u32 dst, u16 sport, u16 dport, const Bytes& payload) {
  Bytes u(8);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<u16>(8 + payload.size()));
  u.insert(u.end(), payload.begin(), payload.end());
  u16 sum = checksum(u.data(), u.size(), pseudo_header_sum(src, dst, kProtoUdp, u.size()));
  put16(u, 6, sum == 0 ? 0xffff : sum);
  return ethernet(kSlirpGatewayMac, kGuestMac, kEthIpv4, ipv4(src, dst, kProtoUdp, u));
}

Bytes tcp(u32 src, u32 dst, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags, const Bytes& payload = {}) {
  Bytes t(20);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = 5 << 4;  // data offset: no options
  t[13] = flags;
  put16(t, 14, 65535);  // window
  t.insert(t.end(), payload.begin(), payload.end());
  put16(t, 16, checksum(t.data(), t.size(), pseudo_header_sum(src, dst, kProtoTcp, t.size())));
  return ethernet(kSlirpGatewayMac, kGuestMac, kEthIpv4, ipv4(src, dst, kProtoTcp, t));
}

Bytes arp_request(u32 sender_ip, u32 target_ip) {
  Bytes a(28);
  put16(a, 0, 1);       // Ethernet
  put16(a, 2, kEthIpv4);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, 1);       // request
  std::copy(kGuestMac.begin(), kGuestMac.end(), a.begin() + 8);
  put32(a, 14, sender_ip);
  put32(a, 24, target_ip);  // target MAC (18..23) unknown: zero
  return ethernet(kBroadcastMac, kGuestMac, kEthArp, a);
}

Bytes dhcp_discover(u32 xid) {
  Bytes b(548);  // fixed BOOTP fields (236) + a full-size options area, as real clients send
  b[0] = 1;      // BOOTREQUEST
  b[1] = 1;      // Ethernet
  b[2] = 6;
  put32(b, 4, xid);
  put16(b, 10, 0x8000);  // please broadcast the reply: we have no address yet
  std::copy(kGuestMac.begin(), kGuestMac.end(), b.begin() + 28);
  put32(b, 236, 0x63825363);  // magic cookie
  b[240] = 53;                // DHCP message type
  b[241] = 1;
  b[242] = 1;  // DISCOVER
  b[243] = 255;
  Bytes u(8);
  put16(u, 0, 68);
  put16(u, 2, 67);
  put16(u, 4, static_cast<u16>(8 + b.size()));
  u.insert(u.end(), b.begin(), b.end());
  put16(u, 6, checksum(u.data(), u.size(), pseudo_header_sum(0, 0xffffffff, kProtoUdp, u.size())));
  return ethernet(kBroadcastMac, kGuestMac, kEthIpv4, ipv4(0, 0xffffffff, kProtoUdp, u));
}

// An ICMPv6 Router Solicitation from the guest's link-local address, as a booting guest sends.
Bytes router_solicitation() {
  const u8 src[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56};
  const u8 dst[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};  // all routers
  Bytes icmp(16);
  icmp[0] = 133;  // Router Solicitation
  icmp[8] = 1;    // option: source link-layer address, 8 bytes
  icmp[9] = 1;
  std::copy(kGuestMac.begin(), kGuestMac.end(), icmp.begin() + 10);
  u32 sum = static_cast<u32>(icmp.size()) + 58;  // pseudo-header: length and next header
  for (int i = 0; i < 16; i += 2) sum += get16(src + i) + get16(dst + i);
  put16(icmp, 2, checksum(icmp.data(), icmp.size(), sum));
  Bytes ip(40);
  ip[0] = 0x60;
  put16(ip, 4, static_cast<u16>(icmp.size()));
  ip[6] = 58;   // ICMPv6
  ip[7] = 255;  // hop limit: NDP requires 255
  std::copy(src, src + 16, ip.begin() + 8);
  std::copy(dst, dst + 16, ip.begin() + 24);
  ip.insert(ip.end(), icmp.begin(), icmp.end());
  return ethernet({0x33, 0x33, 0, 0, 0, 2}, kGuestMac, 0x86dd, ip);
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// What the fake guest understands of a frame from libslirp.
struct Packet {
  u16 ethertype = 0;
  Mac dst_mac{}, src_mac{};
  // ARP
  u16 arp_op = 0;
  Mac arp_sha{}, arp_tha{};
  u32 arp_spa = 0, arp_tpa = 0;
  // IPv4 + UDP/TCP
  u8 proto = 0;
  u32 src_ip = 0, dst_ip = 0;
  u16 sport = 0, dport = 0;
  u32 seq = 0, ack = 0;
  u8 tcp_flags = 0;
  Bytes payload;
  Bytes raw;  // the whole frame, for what the fields above do not cover
};

std::optional<Packet> parse(const Bytes& f) {
  if (f.size() < 14) return std::nullopt;
  Packet p;
  p.raw = f;
  std::copy(f.begin(), f.begin() + 6, p.dst_mac.begin());
  std::copy(f.begin() + 6, f.begin() + 12, p.src_mac.begin());
  p.ethertype = get16(&f[12]);
  if (p.ethertype == kEthArp) {
    if (f.size() < 42) return std::nullopt;
    p.arp_op = get16(&f[20]);
    std::copy(f.begin() + 22, f.begin() + 28, p.arp_sha.begin());
    p.arp_spa = get32(&f[28]);
    std::copy(f.begin() + 32, f.begin() + 38, p.arp_tha.begin());
    p.arp_tpa = get32(&f[38]);
    return p;
  }
  if (p.ethertype != kEthIpv4 || f.size() < 34) return p;
  const u8* ip = &f[14];
  size_t ihl = (ip[0] & 15) * 4u;
  size_t total = get16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || 14 + total > f.size()) return std::nullopt;
  p.proto = ip[9];
  p.src_ip = get32(ip + 12);
  p.dst_ip = get32(ip + 16);
  const u8* l4 = ip + ihl;
  size_t l4_len = total - ihl;
  if (p.proto == kProtoUdp && l4_len >= 8) {
    p.sport = get16(l4);
    p.dport = get16(l4 + 2);
    p.payload.assign(l4 + 8, l4 + l4_len);
  } else if (p.proto == kProtoTcp && l4_len >= 20) {
    size_t off = (l4[12] >> 4) * 4u;
    if (off < 20 || off > l4_len) return std::nullopt;
    p.sport = get16(l4);
    p.dport = get16(l4 + 2);
    p.seq = get32(l4 + 4);
    p.ack = get32(l4 + 8);
    p.tcp_flags = l4[13];
    p.payload.assign(l4 + off, l4 + l4_len);
  }
  return p;
}

// The guest's side of the wire: frames from to_guest (loop thread), awaited by the test thread.
class GuestWire {
 public:
  void deliver(const u8* p, size_t n) {
    std::lock_guard lock(m_mu);
    m_frames.emplace_back(p, p + n);
    ++m_delivered;
    m_cv.notify_all();
  }
  // Consumes frames until one satisfies `want`; nullopt after `timeout`.
  std::optional<Packet> wait_for(const std::function<bool(const Packet&)>& want,
                                 std::chrono::milliseconds timeout = kTimeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(m_mu);
    for (;;) {
      while (!m_frames.empty()) {
        Bytes f = std::move(m_frames.front());
        m_frames.pop_front();
        auto p = parse(f);
        if (p && want(*p)) return p;
      }
      if (m_cv.wait_until(lock, deadline) == std::cv_status::timeout && m_frames.empty()) return std::nullopt;
    }
  }
  bool wait_delivered(u64 n, std::chrono::milliseconds timeout = kTimeout) {
    std::unique_lock lock(m_mu);
    return m_cv.wait_for(lock, timeout, [&] { return m_delivered >= n; });
  }
  u64 delivered() {
    std::lock_guard lock(m_mu);
    return m_delivered;
  }

 private:
  std::mutex m_mu;
  std::condition_variable m_cv;
  std::deque<Bytes> m_frames;
  u64 m_delivered = 0;
};

// ---- host-side sockets --------------------------------------------------------------------------

class Fd {
 public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (m_fd >= 0) close(m_fd);
  }
  [[nodiscard]] int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) close(m_fd);
    m_fd = -1;
  }

 private:
  int m_fd;
};

sockaddr_in loopback(u16 port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(kLoopbackAddr);
  return a;
}

u16 bound_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A socket bound to 127.0.0.1 on a port the kernel picks.
int bind_loopback(int type) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A port that was free a moment ago, for a rule SlirpNet itself must bind.
u16 free_port(int type) {
  Fd fd(bind_loopback(type));
  return bound_port(fd.get());
}

// recv() with a deadline; an empty result means nothing arrived in time.
Bytes recv_with_timeout(int fd, sockaddr_in* from = nullptr, std::chrono::milliseconds timeout = kTimeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return {};
  Bytes buf(2048);
  socklen_t len = sizeof(sockaddr_in);
  ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(from), from ? &len : nullptr);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

// CPU time the whole process uses over `wall` of doing nothing: a busy-polling loop shows up here.
std::chrono::nanoseconds cpu_time_while_idle(std::chrono::milliseconds wall) {
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  };
  auto before = cpu_now();
  std::this_thread::sleep_for(wall);
  return cpu_now() - before;
}

// ---- the stack ----------------------------------------------------------------------------------

class SlirpNetTest : public ::testing::Test {
 protected:
  void SetUp() override { m_loop.start(); }

  void make_net(SlirpOptions options = {}) {
    m_net = std::make_unique<SlirpNet>(
        m_loop, [this](const u8* p, size_t n) { m_wire.deliver(p, n); }, std::move(options));
  }
  void start(const std::vector<std::string>& fwds, SlirpOptions options = {}) {
    make_net(std::move(options));
    std::string error;
    ASSERT_TRUE(m_net->start(fwds, error)) << error;
  }
  void send(const Bytes& frame) { m_net->from_guest(frame.data(), frame.size()); }

  // The fake guest ARPs for its gateway, as any guest does first. This also teaches libslirp the
  // guest's MAC, which it needs before it can send the guest anything.
  void arp_gateway() {
    send(arp_request(kSlirpGuestAddr, kSlirpHostAddr));
    auto reply = m_wire.wait_for([](const Packet& p) { return p.ethertype == kEthArp && p.arp_op == 2; });
    ASSERT_TRUE(reply) << "no ARP reply for 10.0.2.2";
  }

  // Member order matters: the SlirpNet goes first, while the loop and the wire still exist.
  EventLoop m_loop;
  GuestWire m_wire;
  std::unique_ptr<SlirpNet> m_net;
};

TEST_F(SlirpNetTest, AnswersArpForGatewayAndDns) {
  start({});
  send(arp_request(kSlirpGuestAddr, kSlirpHostAddr));
  auto reply = m_wire.wait_for([](const Packet& p) { return p.ethertype == kEthArp; });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->arp_op, 2);
  EXPECT_EQ(reply->arp_spa, kSlirpHostAddr);
  EXPECT_EQ(reply->arp_sha, kSlirpGatewayMac);
  EXPECT_EQ(reply->arp_tpa, kSlirpGuestAddr);
  EXPECT_EQ(reply->arp_tha, kGuestMac);
  EXPECT_EQ(reply->dst_mac, kGuestMac);
  EXPECT_EQ(reply->src_mac, kSlirpGatewayMac);

  send(arp_request(kSlirpGuestAddr, kSlirpDnsAddr));
  reply = m_wire.wait_for([](const Packet& p) { return p.ethertype == kEthArp; });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->arp_spa, kSlirpDnsAddr);
  EXPECT_EQ(reply->arp_tpa, kSlirpGuestAddr);

  auto stats = m_net->stats();
  EXPECT_EQ(stats.frames_from_guest, 2u);
  EXPECT_EQ(stats.frames_to_guest, 2u);
  EXPECT_EQ(stats.dropped_from_guest, 0u);
}

TEST_F(SlirpNetTest, DhcpOffersQemuDefaults) {
  start({});
  constexpr u32 kXid = 0x5eed1234;
  send(dhcp_discover(kXid));
  auto offer = m_wire.wait_for([](const Packet& p) {
    return p.proto == kProtoUdp && p.sport == 67 && p.dport == 68 && p.payload.size() >= 240;
  });
  ASSERT_TRUE(offer) << "no DHCP reply";
  const Bytes& b = offer->payload;
  EXPECT_EQ(b[0], 2);  // BOOTREPLY
  EXPECT_EQ(get32(&b[4]), kXid);
  EXPECT_EQ(get32(&b[16]), kSlirpGuestAddr);  // yiaddr
  ASSERT_EQ(get32(&b[236]), 0x63825363u);
  // Walk the options.
  std::optional<u8> type;
  std::optional<u32> server, router, dns, mask;
  for (size_t i = 240; i < b.size() && b[i] != 255;) {
    if (b[i] == 0) {
      ++i;
      continue;
    }
    if (i + 2 > b.size() || i + 2 + b[i + 1] > b.size()) break;
    u8 code = b[i], len = b[i + 1];
    const u8* v = &b[i + 2];
    if (code == 53 && len == 1) type = v[0];
    if (code == 54 && len == 4) server = get32(v);
    if (code == 3 && len >= 4) router = get32(v);
    if (code == 6 && len >= 4) dns = get32(v);
    if (code == 1 && len == 4) mask = get32(v);
    i += 2 + len;
  }
  EXPECT_EQ(type, std::optional<u8>(2));  // OFFER
  EXPECT_EQ(server, std::optional<u32>(kSlirpHostAddr));
  EXPECT_EQ(router, std::optional<u32>(kSlirpHostAddr));
  EXPECT_EQ(dns, std::optional<u32>(kSlirpDnsAddr));
  EXPECT_EQ(mask, std::optional<u32>(kSlirpNetmask));
}

TEST_F(SlirpNetTest, TcpHostForwardReachesGuestBothWays) {
  const u16 host_port = free_port(SOCK_STREAM);
  constexpr u16 kGuestPort = 8080;
  start({fmt::format("tcp::{}-:{}", host_port, kGuestPort)});
  arp_gateway();

  Fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in to = loopback(host_port);
  ASSERT_EQ(connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0) << std::strerror(errno);

  // libslirp accepts and opens the connection to the guest: a SYN from the gateway address.
  auto syn = m_wire.wait_for([](const Packet& p) { return p.proto == kProtoTcp && p.dport == kGuestPort; });
  ASSERT_TRUE(syn) << "no SYN reached the guest";
  EXPECT_EQ(syn->tcp_flags & (kTcpSyn | kTcpAck), kTcpSyn);
  EXPECT_EQ(syn->dst_ip, kSlirpGuestAddr);
  EXPECT_EQ(syn->src_ip, kSlirpHostAddr);  // the host's 127.0.0.1 appears as 10.0.2.2
  EXPECT_EQ(syn->dst_mac, kGuestMac);

  // The guest accepts.
  constexpr u32 kGuestIsn = 1000;
  const u16 peer_port = syn->sport;
  const u32 slirp_isn = syn->seq;
  send(tcp(kSlirpGuestAddr, kSlirpHostAddr, kGuestPort, peer_port, kGuestIsn, slirp_isn + 1, kTcpSyn | kTcpAck));

  // Host -> guest data.
  ASSERT_EQ(::send(client.get(), "ping", 4, MSG_NOSIGNAL), 4);
  auto data = m_wire.wait_for(
      [&](const Packet& p) { return p.proto == kProtoTcp && p.dport == kGuestPort && !p.payload.empty(); });
  ASSERT_TRUE(data) << "host data did not reach the guest";
  EXPECT_EQ(data->payload, text("ping"));
  EXPECT_EQ(data->seq, slirp_isn + 1);
  EXPECT_EQ(data->ack, kGuestIsn + 1);

  // Guest -> host data, acknowledging the ping.
  send(tcp(kSlirpGuestAddr, kSlirpHostAddr, kGuestPort, peer_port, kGuestIsn + 1, slirp_isn + 1 + 4,
           kTcpPsh | kTcpAck, text("pong")));
  EXPECT_EQ(recv_with_timeout(client.get()), text("pong"));

  // The host closes: the guest sees a FIN. The half-closed socket must not keep the loop busy
  // (libslirp stops asking about it; a stale epoll registration would spin on the hang-up).
  client.reset();
  auto fin = m_wire.wait_for([](const Packet& p) { return p.proto == kProtoTcp && (p.tcp_flags & kTcpFin); });
  ASSERT_TRUE(fin) << "no FIN after the host closed";
  EXPECT_LT(cpu_time_while_idle(300ms), 100ms);
}

TEST_F(SlirpNetTest, UdpHostForwardReachesGuestBothWays) {
  const u16 host_port = free_port(SOCK_DGRAM);
  constexpr u16 kGuestPort = 7000;
  start({fmt::format("udp::{}-:{}", host_port, kGuestPort)});
  arp_gateway();

  Fd client(bind_loopback(SOCK_DGRAM));
  ASSERT_GE(client.get(), 0);
  sockaddr_in to = loopback(host_port);
  ASSERT_EQ(sendto(client.get(), "hello", 5, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 5);

  auto dgram = m_wire.wait_for([](const Packet& p) { return p.proto == kProtoUdp && p.dport == kGuestPort; });
  ASSERT_TRUE(dgram) << "forwarded datagram did not reach the guest";
  EXPECT_EQ(dgram->payload, text("hello"));
  EXPECT_EQ(dgram->dst_ip, kSlirpGuestAddr);
  EXPECT_EQ(dgram->src_ip, kSlirpHostAddr);
  EXPECT_EQ(dgram->sport, bound_port(client.get()));

  // The guest answers the sender it saw; the host client gets it from the forwarded port.
  send(udp(kSlirpGuestAddr, dgram->src_ip, kGuestPort, dgram->sport, text("world")));
  sockaddr_in from{};
  EXPECT_EQ(recv_with_timeout(client.get(), &from), text("world"));
  EXPECT_EQ(ntohs(from.sin_port), host_port);
}

TEST_F(SlirpNetTest, GuestUdpToGatewayReachesHostLoopback) {
  start({});
  arp_gateway();
  Fd server(bind_loopback(SOCK_DGRAM));
  ASSERT_GE(server.get(), 0);
  const u16 server_port = bound_port(server.get());
  constexpr u16 kGuestPort = 5555;

  send(udp(kSlirpGuestAddr, kSlirpHostAddr, kGuestPort, server_port, text("to-host")));
  sockaddr_in from{};
  ASSERT_EQ(recv_with_timeout(server.get(), &from), text("to-host"));
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), kLoopbackAddr);

  // The reply comes back through the socket libslirp opened for the guest, which only the
  // epoll integration notices.
  ASSERT_EQ(sendto(server.get(), "to-guest", 8, 0, reinterpret_cast<sockaddr*>(&from), sizeof(from)), 8);
  auto reply = m_wire.wait_for([](const Packet& p) { return p.proto == kProtoUdp && p.dport == kGuestPort; });
  ASSERT_TRUE(reply) << "reply did not reach the guest";
  EXPECT_EQ(reply->payload, text("to-guest"));
  EXPECT_EQ(reply->src_ip, kSlirpHostAddr);
  EXPECT_EQ(reply->sport, server_port);
  EXPECT_EQ(reply->dst_ip, kSlirpGuestAddr);
  EXPECT_LT(cpu_time_while_idle(200ms), 100ms);  // open sockets, nothing to do: no busy loop
}

TEST_F(SlirpNetTest, RestrictedAndNoLoopbackKeepGuestAwayFromHost) {
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant == 0 ? "restricted" : "host_loopback=false");
    SlirpOptions options;
    if (variant == 0) options.restricted = true;
    if (variant == 1) options.host_loopback = false;
    start({}, options);
    arp_gateway();  // the virtual network itself still works
    Fd server(bind_loopback(SOCK_DGRAM));
    ASSERT_GE(server.get(), 0);
    send(udp(kSlirpGuestAddr, kSlirpHostAddr, 5555, bound_port(server.get()), text("blocked")));
    EXPECT_TRUE(recv_with_timeout(server.get(), nullptr, 300ms).empty());
    m_net.reset();
  }
}

TEST_F(SlirpNetTest, StartFailsCleanlyWhenHostPortIsTaken) {
  Fd taken(bind_loopback(SOCK_STREAM));
  ASSERT_GE(taken.get(), 0);
  ASSERT_EQ(listen(taken.get(), 1), 0);
  const u16 port = bound_port(taken.get());

  make_net();
  std::string error;
  const u16 free = free_port(SOCK_STREAM);
  const std::string good = fmt::format("tcp::{}-:22", free);
  EXPECT_FALSE(m_net->start({good, fmt::format("tcp::{}-:22", port)}, error));
  EXPECT_NE(error.find(fmt::format("cannot forward tcp:127.0.0.1:{}-10.0.2.15:22", port)), std::string::npos) << error;
  // Nothing is left running: frames are refused...
  send(arp_request(kSlirpGuestAddr, kSlirpHostAddr));
  EXPECT_EQ(m_net->stats().dropped_from_guest, 1u);
  // ...and the first rule's listener was closed: the same object can bind that port again.
  ASSERT_TRUE(m_net->start({good}, error)) << error;
  arp_gateway();
}

TEST_F(SlirpNetTest, StartRejectsBadOverlappingOrRepeatedStart) {
  make_net();
  std::string error;
  EXPECT_FALSE(m_net->start({"tcp::22"}, error));
  EXPECT_NE(error.find("tcp::22"), std::string::npos) << error;
  const u16 port = free_port(SOCK_DGRAM);
  EXPECT_FALSE(m_net->start({fmt::format("udp::{}-:1", port), fmt::format("udp:0.0.0.0:{}-:2", port)}, error));
  EXPECT_NE(error.find("overlaps"), std::string::npos) << error;
  // Same port, different protocols: fine.
  ASSERT_TRUE(m_net->start({fmt::format("udp::{}-:1", port), fmt::format("tcp::{}-:1", free_port(SOCK_STREAM))}, error))
      << error;
  EXPECT_FALSE(m_net->start({}, error));
  EXPECT_NE(error.find("already started"), std::string::npos);
}

TEST_F(SlirpNetTest, DropsMalformedFramesAndFramesWhileStopped) {
  make_net();
  Bytes frame = arp_request(kSlirpGuestAddr, kSlirpHostAddr);
  send(frame);  // not started
  std::string error;
  ASSERT_TRUE(m_net->start({}, error)) << error;
  m_net->from_guest(frame.data(), 13);  // shorter than an Ethernet header
  Bytes huge(70000, 0);
  send(huge);
  Bytes garbage(1500, 0xa5);  // unknown ethertype, random contents: ignored by libslirp
  send(garbage);
  EXPECT_EQ(m_net->stats().dropped_from_guest, 3u);
  arp_gateway();  // still healthy
  m_net->stop();
  m_net->stop();  // idempotent
  send(frame);
  EXPECT_EQ(m_net->stats().dropped_from_guest, 4u);
  EXPECT_EQ(m_net->stats().frames_from_guest, 2u);
}

TEST_F(SlirpNetTest, ConcurrentSendersEveryAcceptedFrameIsHandled) {
  start({});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this] {
      Bytes frame = arp_request(kSlirpGuestAddr, kSlirpHostAddr);
      for (int i = 0; i < kPerThread; ++i) send(frame);
    });
  }
  for (auto& th : threads) th.join();
  auto stats = m_net->stats();
  EXPECT_EQ(stats.frames_from_guest + stats.dropped_from_guest, u64{kThreads * kPerThread});
  // Each accepted ARP request gets exactly one reply.
  EXPECT_TRUE(m_wire.wait_delivered(stats.frames_from_guest));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(m_wire.delivered(), stats.frames_from_guest);
}

TEST_F(SlirpNetTest, DestroyWhileLoopRunsWithWorkQueued) {
  for (int i = 0; i < 20; ++i) {
    start({fmt::format("tcp::{}-:80", free_port(SOCK_STREAM))});
    Bytes frame = arp_request(kSlirpGuestAddr, kSlirpHostAddr);
    for (int j = 0; j < 10; ++j) send(frame);
    send(dhcp_discover(static_cast<u32>(i)));
    m_net.reset();  // posted passes and timers still queued on the loop must find nothing
  }
  std::this_thread::sleep_for(50ms);  // let those stale callbacks run
}

TEST_F(SlirpNetTest, RestartsAfterStop) {
  start({});
  arp_gateway();
  m_net->stop();
  std::string error;
  ASSERT_TRUE(m_net->start({}, error)) << error;
  arp_gateway();
}

TEST_F(SlirpNetTest, RouterSolicitationGetsQemuIpv6Prefix) {
  start({});
  send(router_solicitation());
  auto ra = m_wire.wait_for([](const Packet& p) {
    return p.ethertype == 0x86dd && p.raw.size() >= 14 + 40 + 16 && p.raw[14 + 6] == 58 && p.raw[14 + 40] == 134;
  });
  ASSERT_TRUE(ra) << "no Router Advertisement";
  const Bytes& f = ra->raw;
  EXPECT_EQ(ra->dst_mac, (Mac{0x33, 0x33, 0, 0, 0, 1}));  // to all nodes
  EXPECT_EQ(f[14 + 7], 255);  // hop limit
  EXPECT_EQ(get16(&f[14 + 8]), 0xfe80);  // from a link-local address
  // Find the Prefix Information option (type 3): fec0::/64, QEMU's default.
  bool found = false;
  size_t payload_end = 14 + 40 + get16(&f[14 + 4]);
  for (size_t i = 14 + 40 + 16; i + 8 <= std::min(payload_end, f.size()) && f[i + 1] != 0; i += f[i + 1] * 8u) {
    if (f[i] != 3 || f[i + 1] != 4 || i + 32 > f.size()) continue;
    found = true;
    EXPECT_EQ(f[i + 2], 64);  // prefix length
    EXPECT_EQ(get16(&f[i + 16]), 0xfec0);
    for (size_t b = 2; b < 16; ++b) EXPECT_EQ(f[i + 16 + b], 0) << b;
  }
  EXPECT_TRUE(found) << "no prefix option";
}

TEST_F(SlirpNetTest, Ipv6OffSendsNoRouterAdvertisement) {
  SlirpOptions options;
  options.ipv6 = false;
  start({}, options);
  send(router_solicitation());
  EXPECT_FALSE(m_wire.wait_for([](const Packet& p) { return p.ethertype == 0x86dd; }, 300ms));
  arp_gateway();
}

TEST_F(SlirpNetTest, ToGuestMayTransmitFromTheLoopThread) {
  // A device that answers every frame it receives with a frame of its own, from inside to_guest.
  std::atomic<int> replies{0};
  m_net = std::make_unique<SlirpNet>(m_loop, [this, &replies](const u8* p, size_t n) {
    m_wire.deliver(p, n);
    if (replies.fetch_add(1) < 9) {
      Bytes frame = arp_request(kSlirpGuestAddr, kSlirpHostAddr);
      m_net->from_guest(frame.data(), frame.size());
    }
  });
  std::string error;
  ASSERT_TRUE(m_net->start({}, error)) << error;
  send(arp_request(kSlirpGuestAddr, kSlirpHostAddr));
  EXPECT_TRUE(m_wire.wait_delivered(10));
  // to_guest may still be running (it uses `replies` after delivering); destroying the SlirpNet
  // waits for it, so do that before `replies` goes out of scope.
  m_net.reset();
}

TEST(SlirpNetLoop, WorksWhenStartedBeforeTheLoopAndStopsWithoutIt) {
  GuestWire wire;
  EventLoop loop;  // not running yet
  {
    SlirpNet net(loop, [&wire](const u8* p, size_t n) { wire.deliver(p, n); });
    std::string error;
    ASSERT_TRUE(net.start({fmt::format("tcp::{}-:22", free_port(SOCK_STREAM))}, error)) << error;
    Bytes frame = arp_request(kSlirpGuestAddr, kSlirpHostAddr);
    net.from_guest(frame.data(), frame.size());
    loop.start();
    EXPECT_TRUE(wire.wait_delivered(1));
    loop.stop();
    // Destroyed with the loop stopped and callbacks still queued on it: must neither hang nor
    // leave anything for those callbacks to touch.
    net.from_guest(frame.data(), frame.size());
  }
  loop.start();
  std::this_thread::sleep_for(20ms);
  loop.stop();
  EXPECT_EQ(wire.delivered(), 1u);
}

}  // namespace
}  // namespace rvkvm::vmm
