#include "vmm/net_slirp.h"

#include <arpa/inet.h>
#include <slirp/libslirp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "common/log.h"

namespace rvkvm::vmm {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMinFrameLen = 14;     // an Ethernet header; libslirp ignores anything shorter
constexpr size_t kMaxFrameLen = 65536;  // beyond any MTU the guest can have been offered
// Bounds on frames queued between from_guest() and the loop thread, so a guest that transmits
// faster than the loop drains cannot grow VMM memory without limit. Dropping is what a real NIC
// does when its queue is full; TCP recovers.
constexpr size_t kMaxQueuedFrames = 512;
constexpr size_t kMaxQueuedBytes = 1 << 20;
// How often every epoll registration is re-asserted (see sync_epoll_locked).
constexpr auto kVerifyInterval = std::chrono::seconds(1);
// libslirp asks to be polled again within at most a second; this caps a pass without a timeout.
constexpr u32 kMaxTimeoutMs = 1000;

WarnCounter g_guest_errors{"slirp guest error"};
WarnCounter g_epoll_errors{"slirp epoll"};

std::string format_ipv4(u32 a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

bool parse_ipv4(std::string_view s, u32& out) {
  // inet_pton (unlike inet_aton) accepts only the dotted quad, so "127.1" or "0x7f.1" are errors.
  std::string tmp(s);
  in_addr a{};
  if (inet_pton(AF_INET, tmp.c_str(), &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

bool parse_port(std::string_view s, u16& out) {
  unsigned v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || v == 0 || v > 65535) return false;
  out = static_cast<u16>(v);
  return true;
}

u32 slirp_to_epoll(int ev) {
  u32 r = 0;
  if (ev & SLIRP_POLL_IN) r |= EPOLLIN;
  if (ev & SLIRP_POLL_OUT) r |= EPOLLOUT;
  if (ev & SLIRP_POLL_PRI) r |= EPOLLPRI;
  return r;  // EPOLLERR and EPOLLHUP are always reported, as with poll()
}

int epoll_to_slirp(u32 ev) {
  int r = 0;
  if (ev & EPOLLIN) r |= SLIRP_POLL_IN;
  if (ev & EPOLLOUT) r |= SLIRP_POLL_OUT;
  if (ev & EPOLLPRI) r |= SLIRP_POLL_PRI;
  if (ev & EPOLLERR) r |= SLIRP_POLL_ERR;
  if (ev & EPOLLHUP) r |= SLIRP_POLL_HUP;
  return r;
}

in_addr to_in_addr(u32 host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  return a;
}

}  // namespace

std::optional<HostFwd> parse_hostfwd(std::string_view spec, std::string& error) {
  const std::string_view whole = spec;
  auto fail = [&](std::string_view why) {
    error = fmt::format("bad hostfwd '{}': {} (expected [tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)",
                        whole, why);
    return std::nullopt;
  };
  constexpr std::string_view kPrefix = "hostfwd=";
  if (spec.starts_with(kPrefix)) spec.remove_prefix(kPrefix.size());

  HostFwd fwd;
  auto colon = spec.find(':');
  if (colon == std::string_view::npos) return fail("missing the protocol field");
  std::string_view proto = spec.substr(0, colon);
  if (proto == "udp") {
    fwd.udp = true;
  } else if (!proto.empty() && proto != "tcp") {
    return fail("protocol must be tcp or udp");
  }
  std::string_view rest = spec.substr(colon + 1);
  auto dash = rest.find('-');
  if (dash == std::string_view::npos) return fail("missing '-' between the host and guest sides");
  std::string_view host = rest.substr(0, dash);
  std::string_view guest = rest.substr(dash + 1);

  auto host_colon = host.rfind(':');
  if (host_colon == std::string_view::npos) return fail("host side must be [hostaddr]:hostport");
  std::string_view host_addr = host.substr(0, host_colon);
  if (!host_addr.empty() && !parse_ipv4(host_addr, fwd.host_addr)) return fail("host address must be an IPv4 address");
  if (!parse_port(host.substr(host_colon + 1), fwd.host_port)) return fail("host port must be a number 1-65535");

  auto guest_colon = guest.find(':');
  if (guest_colon == std::string_view::npos) return fail("guest side must be [guestaddr]:guestport");
  std::string_view guest_addr = guest.substr(0, guest_colon);
  if (!guest_addr.empty()) {
    if (!parse_ipv4(guest_addr, fwd.guest_addr)) return fail("guest address must be an IPv4 address");
    u32 a = fwd.guest_addr;
    if ((a & kSlirpNetmask) != kSlirpNetwork) return fail("guest address must be inside 10.0.2.0/24");
    // libslirp answers for .2 and .3 itself; .0 and .255 are not hosts. A rule to them could
    // never reach the guest.
    if (a == kSlirpNetwork || a == (kSlirpNetwork | ~kSlirpNetmask) || a == kSlirpHostAddr || a == kSlirpDnsAddr)
      return fail("guest address is reserved (network, broadcast, 10.0.2.2 or 10.0.2.3)");
  }
  if (!parse_port(guest.substr(guest_colon + 1), fwd.guest_port)) return fail("guest port must be a number 1-65535");
  return fwd;
}

std::string to_string(const HostFwd& fwd) {
  return fmt::format("{}:{}:{}-{}:{}", fwd.udp ? "udp" : "tcp", format_ipv4(fwd.host_addr), fwd.host_port,
                     format_ipv4(fwd.guest_addr), fwd.guest_port);
}

// How libslirp is driven. libslirp is written for a poll() loop: slirp_pollfds_fill() names the
// sockets and events it wants, the application sleeps in poll(), then slirp_pollfds_poll() gets
// each socket's revents, and the fill's timeout says when TCP timers need a pass anyway.
//
// Here the "poll()" is a private epoll set (m_poll_epoll) mirroring the last fill exactly. That
// epoll fd is itself registered with the EventLoop: it becomes readable when any of libslirp's
// sockets is ready, so the loop thread wakes only when there is work, with no periodic tick. An
// epoll set with the same events behaves like poll() on sockets (level-triggered, ERR and HUP
// always reported), which is what libslirp's fill/poll contract assumes; and because every pass
// re-syncs the set to the new fill, a socket libslirp stops asking about (its buffers are full)
// stops waking the loop.
//
// A pass runs on the loop thread when: that epoll fd is readable, the fill's timeout or a libslirp
// timer is due, or the guest queued frames. Every pass does the whole cycle: poll with the
// readiness seen now, run due timers, feed queued guest frames, fill again, re-sync, re-arm.
class SlirpNet::Core : public std::enable_shared_from_this<SlirpNet::Core> {
 public:
  Core(EventLoop& loop, ToGuest to_guest, SlirpOptions options)
      : m_loop(loop),
        m_to_guest(std::move(to_guest)),
        m_options(std::move(options)),
        // libslirp treats a time of 0 as "unset" in places, so its clock starts at one second.
        m_clock_base(Clock::now() - std::chrono::seconds(1)) {}

  ~Core() {
    std::lock_guard lock(m_slirp_mu);
    stop_locked();
  }

  bool start(const std::vector<HostFwd>& fwds, std::string& error);
  void stop() {
    std::lock_guard lock(m_slirp_mu);
    stop_locked();
  }
  void from_guest(const u8* frame, size_t len);
  SlirpNetStats stats() const {
    return {m_frames_to_guest.load(std::memory_order_relaxed), m_frames_from_guest.load(std::memory_order_relaxed),
            m_dropped_from_guest.load(std::memory_order_relaxed)};
  }

 private:
  struct Timer {
    SlirpTimerId id;
    void* cb_opaque;
    SlirpTimerCb legacy_cb;  // set only when created through the pre-version-4 timer_new
    i64 expire_ms = -1;      // libslirp's clock, in ms; -1 = not armed
  };
  struct PollFd {
    int fd;
    int slirp_events;
  };
  struct Registration {
    u32 events = 0;
    u64 generation = 0;
    int index = -1;        // into m_poll_fds
    bool suspect = false;  // the fd number may now name a different socket: re-assert it
  };

  void run_pass() {
    std::lock_guard lock(m_slirp_mu);
    pass_locked();
  }
  void pass_locked();
  void collect_readiness_locked();
  void run_timers_locked();
  void drain_guest_frames_locked();
  void fill_locked();
  void sync_epoll_locked(bool verify);
  bool epoll_set_locked(int fd, u32 events, bool registered);
  void arm_wakeup_locked(Clock::time_point deadline, Clock::time_point now);
  void on_wakeup(u64 token);
  void stop_locked();
  [[nodiscard]] i64 now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - m_clock_base).count();
  }
  [[nodiscard]] Clock::time_point ms_to_time_point(i64 ms) const { return m_clock_base + std::chrono::milliseconds(ms); }
  template <typename Fn>
  void post_weak(Fn fn) {
    m_loop.post([weak = weak_from_this(), fn] {
      if (auto core = weak.lock()) fn(*core);
    });
  }

  // libslirp callbacks. `opaque` is the Core. Each runs inside a libslirp call, that is with
  // m_slirp_mu held, so none of them locks it.
  static ssize_t cb_send_packet(const void* buf, size_t len, void* opaque);
  static void cb_guest_error(const char* msg, void* opaque);
  static int64_t cb_clock_get_ns(void* opaque);
  static void* cb_timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque);
  static void* cb_timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque);
  static void cb_timer_free(void* timer, void* opaque);
  static void cb_timer_mod(void* timer, int64_t expire_ms, void* opaque);
  static void cb_register_poll_fd(int fd, void* opaque);
  static void cb_unregister_poll_fd(int fd, void* opaque);
  static void cb_notify(void* opaque);
  static void cb_init_completed(Slirp* slirp, void* opaque) {}
  static int cb_add_poll(int fd, int events, void* opaque);
  static int cb_get_revents(int idx, void* opaque);
  static const SlirpCb kCallbacks;

  EventLoop& m_loop;
  const ToGuest m_to_guest;
  const SlirpOptions m_options;
  const Clock::time_point m_clock_base;

  // Everything libslirp-related. Held for every libslirp call, which (after start) happens only
  // on the loop thread, so it is uncontended except against start()/stop() from another thread.
  std::mutex m_slirp_mu;
  Slirp* m_slirp = nullptr;
  int m_poll_epoll = -1;
  std::vector<PollFd> m_poll_fds;  // the last fill, by the index add_poll returned
  std::vector<int> m_revents;      // readiness for the coming poll, same indexing
  std::vector<epoll_event> m_events;
  std::unordered_map<int, Registration> m_registered;  // what m_poll_epoll holds
  u64 m_generation = 0;
  Clock::time_point m_last_verify{};
  std::vector<std::unique_ptr<Timer>> m_timers;
  // The pending EventLoop::call_after we rely on. The loop cannot cancel a timer, so superseded
  // ones still fire; the token lets them recognise themselves and do nothing.
  std::optional<Clock::time_point> m_wakeup_at;
  u64 m_wakeup_token = 0;
  std::vector<u8> m_input_bytes;  // the batch being fed to libslirp (loop thread only)
  std::vector<u32> m_input_lens;

  // Frames from the guest waiting for the loop thread: all frames back to back, and their lengths.
  std::mutex m_tx_mu;
  bool m_accepting = false;
  bool m_drain_posted = false;
  std::vector<u8> m_tx_bytes;
  std::vector<u32> m_tx_lens;

  std::atomic<u64> m_frames_to_guest{0};
  std::atomic<u64> m_frames_from_guest{0};
  std::atomic<u64> m_dropped_from_guest{0};
};

const SlirpCb SlirpNet::Core::kCallbacks = {
    .send_packet = &Core::cb_send_packet,
    .guest_error = &Core::cb_guest_error,
    .clock_get_ns = &Core::cb_clock_get_ns,
    .timer_new = &Core::cb_timer_new,
    .timer_free = &Core::cb_timer_free,
    .timer_mod = &Core::cb_timer_mod,
    .register_poll_fd = &Core::cb_register_poll_fd,
    .unregister_poll_fd = &Core::cb_unregister_poll_fd,
    .notify = &Core::cb_notify,
    .init_completed = &Core::cb_init_completed,
    .timer_new_opaque = &Core::cb_timer_new_opaque,
};

bool SlirpNet::Core::start(const std::vector<HostFwd>& fwds, std::string& error) {
  // start() runs on the caller's thread. That is safe for libslirp because nothing on the loop
  // thread can reach this instance before start() returns and drops the lock: every callback that
  // could run takes m_slirp_mu first.
  std::lock_guard lock(m_slirp_mu);
  if (m_slirp) {
    error = "slirp: already started";
    return false;
  }
  m_poll_epoll = epoll_create1(EPOLL_CLOEXEC);
  if (m_poll_epoll < 0) {
    error = fmt::format("slirp: epoll_create1: {}", std::strerror(errno));
    return false;
  }

  SlirpConfig cfg{};
  cfg.version = 4;
  cfg.restricted = m_options.restricted ? 1 : 0;
  cfg.in_enabled = true;
  cfg.vnetwork = to_in_addr(kSlirpNetwork);
  cfg.vnetmask = to_in_addr(kSlirpNetmask);
  cfg.vhost = to_in_addr(kSlirpHostAddr);
  cfg.vdhcp_start = to_in_addr(kSlirpGuestAddr);
  cfg.vnameserver = to_in_addr(kSlirpDnsAddr);
  cfg.in6_enabled = m_options.ipv6;
  if (m_options.ipv6) {
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    cfg.vprefix_len = 64;
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
  }
  cfg.vhostname = m_options.hostname.empty() ? nullptr : m_options.hostname.c_str();  // copied by libslirp
  cfg.disable_host_loopback = !m_options.host_loopback;
  cfg.enable_emu = false;  // libslirp's own header calls that code unsafe
  m_slirp = slirp_new(&cfg, &kCallbacks, this);
  if (!m_slirp) {
    close(m_poll_epoll);
    m_poll_epoll = -1;
    error = "slirp: slirp_new failed";
    return false;
  }

  for (const HostFwd& fwd : fwds) {
    errno = 0;
    if (slirp_add_hostfwd(m_slirp, fwd.udp ? 1 : 0, to_in_addr(fwd.host_addr), fwd.host_port,
                          to_in_addr(fwd.guest_addr), fwd.guest_port) < 0) {
      int e = errno;
      error = fmt::format("slirp: cannot forward {}: {}", to_string(fwd),
                          e ? std::strerror(e) : "could not bind the host port");
      stop_locked();
      return false;
    }
  }

  if (!m_loop.add_fd(m_poll_epoll, [weak = weak_from_this()] {
        if (auto core = weak.lock()) core->run_pass();
      })) {
    error = fmt::format("slirp: cannot watch the poll set: {}", std::strerror(errno));
    stop_locked();
    return false;
  }
  {
    std::lock_guard tx(m_tx_mu);
    m_accepting = true;
  }
  // A poll with nothing ready first, so libslirp reads its clock before the first fill.
  m_poll_fds.clear();
  m_revents.clear();
  slirp_pollfds_poll(m_slirp, 0, &Core::cb_get_revents, this);
  fill_locked();
  return true;
}

void SlirpNet::Core::stop_locked() {
  {
    std::lock_guard tx(m_tx_mu);
    m_accepting = false;
    m_drain_posted = false;
    m_tx_bytes.clear();
    m_tx_lens.clear();
  }
  if (m_poll_epoll >= 0) m_loop.remove_fd(m_poll_epoll);
  if (m_slirp) {
    slirp_cleanup(m_slirp);  // closes its sockets (through cb_unregister_poll_fd) and frees its timers
    m_slirp = nullptr;
  }
  if (m_poll_epoll >= 0) {
    close(m_poll_epoll);
    m_poll_epoll = -1;
  }
  m_registered.clear();
  m_poll_fds.clear();
  m_revents.clear();
  m_timers.clear();
  m_input_bytes.clear();
  m_input_lens.clear();
  m_wakeup_at.reset();
  ++m_wakeup_token;  // any call_after still queued is now stale
}

void SlirpNet::Core::from_guest(const u8* frame, size_t len) {
  if (len < kMinFrameLen || len > kMaxFrameLen) {
    m_dropped_from_guest.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool post = false;
  {
    std::lock_guard tx(m_tx_mu);
    if (!m_accepting || m_tx_lens.size() >= kMaxQueuedFrames || m_tx_bytes.size() + len > kMaxQueuedBytes) {
      m_dropped_from_guest.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    m_tx_bytes.insert(m_tx_bytes.end(), frame, frame + len);
    m_tx_lens.push_back(static_cast<u32>(len));
    m_frames_from_guest.fetch_add(1, std::memory_order_relaxed);
    // One posted pass drains everything queued until it runs: a burst costs one wake-up.
    post = !m_drain_posted;
    m_drain_posted = true;
  }
  if (post) post_weak([](Core& core) { core.run_pass(); });
}

void SlirpNet::Core::pass_locked() {
  if (!m_slirp) return;  // stopped while this callback was queued
  collect_readiness_locked();
  slirp_pollfds_poll(m_slirp, 0, &Core::cb_get_revents, this);
  run_timers_locked();
  drain_guest_frames_locked();
  fill_locked();
}

void SlirpNet::Core::collect_readiness_locked() {
  m_revents.assign(m_poll_fds.size(), 0);
  if (m_registered.empty()) return;
  m_events.resize(m_registered.size());
  int n = epoll_wait(m_poll_epoll, m_events.data(), static_cast<int>(m_events.size()), 0);
  for (int i = 0; i < n; ++i) {
    auto it = m_registered.find(m_events[i].data.fd);
    if (it == m_registered.end()) continue;
    int idx = it->second.index;
    if (idx >= 0 && static_cast<size_t>(idx) < m_revents.size()) m_revents[idx] |= epoll_to_slirp(m_events[i].events);
  }
}

void SlirpNet::Core::run_timers_locked() {
  i64 now_ms = now_ns() / 1000000;
  std::vector<Timer*> due;
  for (auto& t : m_timers) {
    if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
      t->expire_ms = -1;  // one-shot: libslirp re-arms from the handler if it wants to
      due.push_back(t.get());
    }
  }
  for (Timer* t : due) {
    // An earlier handler may have freed this timer.
    bool alive = std::any_of(m_timers.begin(), m_timers.end(), [t](const auto& p) { return p.get() == t; });
    if (!alive) continue;
    if (t->legacy_cb) {
      t->legacy_cb(t->cb_opaque);
    } else {
      slirp_handle_timer(m_slirp, t->id, t->cb_opaque);
    }
  }
}

void SlirpNet::Core::drain_guest_frames_locked() {
  {
    std::lock_guard tx(m_tx_mu);
    // Swapping keeps both pairs' capacity, so steady traffic allocates nothing.
    m_input_bytes.swap(m_tx_bytes);
    m_input_lens.swap(m_tx_lens);
    m_drain_posted = false;
  }
  size_t off = 0;
  for (u32 len : m_input_lens) {
    slirp_input(m_slirp, m_input_bytes.data() + off, static_cast<int>(len));
    off += len;
  }
  m_input_bytes.clear();
  m_input_lens.clear();
}

void SlirpNet::Core::fill_locked() {
  m_poll_fds.clear();
  u32 timeout_ms = UINT32_MAX;
  slirp_pollfds_fill(m_slirp, &timeout_ms, &Core::cb_add_poll, this);
  auto now = Clock::now();
  bool verify = now - m_last_verify >= kVerifyInterval;
  if (verify) m_last_verify = now;
  sync_epoll_locked(verify);

  auto deadline = now + std::chrono::milliseconds(std::min(timeout_ms, kMaxTimeoutMs));
  for (const auto& t : m_timers) {
    if (t->expire_ms >= 0) deadline = std::min(deadline, ms_to_time_point(t->expire_ms));
  }
  arm_wakeup_locked(deadline, now);
}

// Makes m_poll_epoll hold exactly the fds and events of the last fill.
//
// The one hazard is fd reuse: libslirp may close a socket and open another that gets the same
// number. The kernel drops a closed fd from the epoll set by itself, so a map entry that still
// claims "registered with these events" would wrongly skip the new socket. libslirp tells us about
// most closes (unregister_poll_fd, which erases the entry) and opens (register_poll_fd, which marks
// the entry suspect); for anything it does not report, every registration is re-asserted once a
// second (`verify`), bounding the damage to a one-second delay.
void SlirpNet::Core::sync_epoll_locked(bool verify) {
  ++m_generation;
  for (size_t i = 0; i < m_poll_fds.size(); ++i) {
    const PollFd& p = m_poll_fds[i];
    u32 events = slirp_to_epoll(p.slirp_events);
    auto [it, inserted] = m_registered.try_emplace(p.fd);
    Registration& r = it->second;
    if (!inserted && r.generation == m_generation) events |= r.events;  // same fd twice in one fill
    bool ok = true;
    if (inserted || r.suspect || verify || r.events != events) ok = epoll_set_locked(p.fd, events, !inserted);
    if (!ok) {
      m_registered.erase(it);  // try again from scratch next pass
      continue;
    }
    r.events = events;
    r.generation = m_generation;
    r.index = static_cast<int>(i);
    r.suspect = false;
  }
  for (auto it = m_registered.begin(); it != m_registered.end();) {
    if (it->second.generation != m_generation) {
      epoll_ctl(m_poll_epoll, EPOLL_CTL_DEL, it->first, nullptr);  // may already be gone: fine
      it = m_registered.erase(it);
    } else {
      ++it;
    }
  }
}

bool SlirpNet::Core::epoll_set_locked(int fd, u32 events, bool registered) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  int op = registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(m_poll_epoll, op, fd, &ev) == 0) return true;
  // Our idea of the set was stale (see sync_epoll_locked): use the other operation.
  if ((op == EPOLL_CTL_MOD && errno == ENOENT) || (op == EPOLL_CTL_ADD && errno == EEXIST)) {
    op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(m_poll_epoll, op, fd, &ev) == 0) return true;
  }
  warn(g_epoll_errors, "slirp: cannot watch fd {}: {}", fd, std::strerror(errno));
  return false;
}

void SlirpNet::Core::arm_wakeup_locked(Clock::time_point deadline, Clock::time_point now) {
  if (m_wakeup_at && *m_wakeup_at <= deadline) return;  // an earlier wake-up is already queued
  m_wakeup_at = deadline;
  u64 token = ++m_wakeup_token;
  m_loop.call_after(std::max(deadline - now, Clock::duration::zero()), [weak = weak_from_this(), token] {
    if (auto core = weak.lock()) core->on_wakeup(token);
  });
}

void SlirpNet::Core::on_wakeup(u64 token) {
  std::lock_guard lock(m_slirp_mu);
  if (token != m_wakeup_token) return;
  m_wakeup_at.reset();
  pass_locked();
}

ssize_t SlirpNet::Core::cb_send_packet(const void* buf, size_t len, void* opaque) {
  auto* core = static_cast<Core*>(opaque);
  core->m_frames_to_guest.fetch_add(1, std::memory_order_relaxed);
  if (core->m_to_guest) core->m_to_guest(static_cast<const u8*>(buf), len);
  return static_cast<ssize_t>(len);
}

void SlirpNet::Core::cb_guest_error(const char* msg, void* opaque) { warn(g_guest_errors, "slirp: {}", msg); }

int64_t SlirpNet::Core::cb_clock_get_ns(void* opaque) { return static_cast<Core*>(opaque)->now_ns(); }

void* SlirpNet::Core::cb_timer_new(SlirpTimerCb cb, void* cb_opaque, void* opaque) {
  auto* core = static_cast<Core*>(opaque);
  core->m_timers.push_back(std::make_unique<Timer>(Timer{SLIRP_TIMER_RA, cb_opaque, cb}));
  return core->m_timers.back().get();
}

void* SlirpNet::Core::cb_timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
  auto* core = static_cast<Core*>(opaque);
  core->m_timers.push_back(std::make_unique<Timer>(Timer{id, cb_opaque, nullptr}));
  return core->m_timers.back().get();
}

void SlirpNet::Core::cb_timer_free(void* timer, void* opaque) {
  auto& timers = static_cast<Core*>(opaque)->m_timers;
  std::erase_if(timers, [timer](const auto& p) { return p.get() == timer; });
}

void SlirpNet::Core::cb_timer_mod(void* timer, int64_t expire_ms, void* opaque) {
  // Always called inside a pass or start(), whose closing fill_locked() arms the wake-up.
  static_cast<Timer*>(timer)->expire_ms = std::max<int64_t>(expire_ms, 0);
}

void SlirpNet::Core::cb_register_poll_fd(int fd, void* opaque) {
  auto& reg = static_cast<Core*>(opaque)->m_registered;
  if (auto it = reg.find(fd); it != reg.end()) it->second.suspect = true;
}

void SlirpNet::Core::cb_unregister_poll_fd(int fd, void* opaque) {
  auto* core = static_cast<Core*>(opaque);
  auto it = core->m_registered.find(fd);
  if (it == core->m_registered.end()) return;
  epoll_ctl(core->m_poll_epoll, EPOLL_CTL_DEL, fd, nullptr);
  core->m_registered.erase(it);
}

void SlirpNet::Core::cb_notify(void* opaque) {
  // A socket can take more data: have the loop fill and poll again soon.
  static_cast<Core*>(opaque)->post_weak([](Core& core) { core.run_pass(); });
}

int SlirpNet::Core::cb_add_poll(int fd, int events, void* opaque) {
  auto& fds = static_cast<Core*>(opaque)->m_poll_fds;
  fds.push_back({fd, events});
  return static_cast<int>(fds.size() - 1);
}

int SlirpNet::Core::cb_get_revents(int idx, void* opaque) {
  auto* core = static_cast<Core*>(opaque);
  if (idx < 0 || static_cast<size_t>(idx) >= core->m_revents.size() || static_cast<size_t>(idx) >= core->m_poll_fds.size())
    return 0;
  // As poll() would: only what was asked for, plus errors and hang-ups.
  return core->m_revents[idx] & (core->m_poll_fds[idx].slirp_events | SLIRP_POLL_ERR | SLIRP_POLL_HUP);
}

SlirpNet::SlirpNet(EventLoop& loop, ToGuest to_guest, SlirpOptions options)
    : m_core(std::make_shared<Core>(loop, std::move(to_guest), std::move(options))) {}

SlirpNet::~SlirpNet() { m_core->stop(); }

bool SlirpNet::start(const std::vector<std::string>& hostfwds, std::string& error) {
  std::vector<HostFwd> fwds;
  for (const auto& spec : hostfwds) {
    auto fwd = parse_hostfwd(spec, error);
    if (!fwd) return false;
    // libslirp sets SO_REUSEADDR, so two UDP rules on one port would both bind and split the
    // traffic unpredictably; refuse overlapping rules for both protocols.
    for (const HostFwd& other : fwds) {
      bool same_addr = other.host_addr == fwd->host_addr || other.host_addr == 0 || fwd->host_addr == 0;
      if (other.udp == fwd->udp && other.host_port == fwd->host_port && same_addr) {
        error = fmt::format("hostfwd '{}' overlaps {}", spec, to_string(other));
        return false;
      }
    }
    fwds.push_back(*fwd);
  }
  return m_core->start(fwds, error);
}

void SlirpNet::stop() { m_core->stop(); }

void SlirpNet::from_guest(const u8* frame, size_t len) { m_core->from_guest(frame, len); }

SlirpNetStats SlirpNet::stats() const { return m_core->stats(); }

}  // namespace rvkvm::vmm
