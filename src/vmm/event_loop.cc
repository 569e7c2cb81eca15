#include "vmm/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace rvkvm::vmm {

EventLoop::EventLoop() {
  m_epoll = epoll_create1(EPOLL_CLOEXEC);
  m_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = m_wake_fd;
  epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake_fd, &ev);
}

EventLoop::~EventLoop() {
  stop();
  if (m_wake_fd >= 0) close(m_wake_fd);
  if (m_epoll >= 0) close(m_epoll);
}

bool EventLoop::add_fd(int fd, Callback cb) {
  {
    std::lock_guard lock(m_mu);
    m_fds[fd] = std::move(cb);
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  return epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::remove_fd(int fd) {
  epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, nullptr);
  std::lock_guard lock(m_mu);
  m_fds.erase(fd);
}

void EventLoop::call_after(std::chrono::nanoseconds delay, Callback cb) {
  {
    std::lock_guard lock(m_mu);
    m_timers.emplace(std::chrono::steady_clock::now() + delay, std::move(cb));
  }
  wake();
}

void EventLoop::post(Callback cb) {
  {
    std::lock_guard lock(m_mu);
    m_posted.push_back(std::move(cb));
  }
  wake();
}

void EventLoop::wake() {
  u64 one = 1;
  ssize_t rc = write(m_wake_fd, &one, sizeof(one));
  (void)rc;
}

void EventLoop::start() {
  m_stop = false;
  m_thread = std::thread([this] { run(); });
}

void EventLoop::stop() {
  if (!m_thread.joinable()) return;
  m_stop = true;
  wake();
  m_thread.join();
}

void EventLoop::run() {
  epoll_event events[16];
  while (!m_stop) {
    int timeout_ms = -1;
    {
      std::lock_guard lock(m_mu);
      if (!m_timers.empty()) {
        auto d = m_timers.begin()->first - std::chrono::steady_clock::now();
        timeout_ms = static_cast<int>(std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count() + 1));
      }
    }
    int n = epoll_wait(m_epoll, events, 16, timeout_ms);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == m_wake_fd) {
        u64 v;
        ssize_t rc = read(m_wake_fd, &v, sizeof(v));
        (void)rc;
        continue;
      }
      Callback cb;
      {
        std::lock_guard lock(m_mu);
        auto it = m_fds.find(fd);
        if (it != m_fds.end()) cb = it->second;
      }
      if (cb) cb();
    }
    std::vector<Callback> due;
    {
      std::lock_guard lock(m_mu);
      auto now = std::chrono::steady_clock::now();
      while (!m_timers.empty() && m_timers.begin()->first <= now) {
        due.push_back(std::move(m_timers.begin()->second));
        m_timers.erase(m_timers.begin());
      }
      for (auto& cb : m_posted) due.push_back(std::move(cb));
      m_posted.clear();
    }
    for (auto& cb : due) cb();
  }
}

}  // namespace rvkvm::vmm
