#pragma once
#include <string_view>

#include "common/types.h"

namespace rvkvm::isa {

// The spec name of a CSR number ("mstatus", "pmpaddr12", "hgatp"), or "" if the number is not
// assigned. Names cover the unprivileged counters and FP/vector state, privileged spec 1.12 (S,
// H, VS and M levels), Sstc, Smstateen, Sscofpmf, Smaia/Ssaia, Zkr and the debug/trigger CSRs,
// including the RV32-only high halves, since a disassembler must name whatever it is shown.
[[nodiscard]] std::string_view csr_name(u16 csr);

}  // namespace rvkvm::isa
