#pragma once
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <string_view>

namespace rvkvm {

// Guest misbehaviour is never fatal for the host: it is counted and, the first few times, reported.
struct WarnCounter {
  const char* what;
  std::atomic<std::uint64_t> count{0};
};

void warn_print(std::string_view msg);

template <typename... Args>
void warn(WarnCounter& c, fmt::format_string<Args...> f, Args&&... args) {
  auto n = c.count.fetch_add(1, std::memory_order_relaxed);
  if (n < 8) warn_print(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace rvkvm
