#pragma once
// The VMM's I/O thread: an epoll loop that calls back when a file descriptor is readable, plus
// one-shot timers and cross-thread wake-ups. Device back ends (console input, network) live here.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/types.h"

namespace rvkvm::vmm {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Calls `cb` on the loop thread whenever `fd` is readable (level-triggered).
  bool add_fd(int fd, Callback cb);
  void remove_fd(int fd);
  // Runs `cb` once on the loop thread after `delay` (from any thread).
  void call_after(std::chrono::nanoseconds delay, Callback cb);
  // Runs `cb` on the loop thread as soon as possible (from any thread).
  void post(Callback cb);

  void start();
  void stop();
  [[nodiscard]] bool on_loop_thread() const { return std::this_thread::get_id() == m_thread.get_id(); }

 private:
  void run();
  void wake();
  int m_epoll = -1;
  int m_wake_fd = -1;
  std::thread m_thread;
  std::atomic<bool> m_stop{false};
  std::mutex m_mu;
  std::map<int, Callback> m_fds;
  std::multimap<std::chrono::steady_clock::time_point, Callback> m_timers;
  std::vector<Callback> m_posted;
};

}  // namespace rvkvm::vmm
