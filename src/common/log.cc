#include "common/log.h"

namespace rvkvm {

void warn_print(std::string_view msg) {
  std::fprintf(stderr, "rvkvm: warning: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

}  // namespace rvkvm
