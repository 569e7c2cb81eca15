#pragma once
// Indices into the interpreter's label table beyond the instruction rows (hart-internal).
#include "isa/isa.h"

namespace rvkvm {
inline constexpr std::size_t kLabelDecodeIndex = isa::kOpCount;      // decode lazily, then execute
inline constexpr std::size_t kLabelLookupIndex = isa::kOpCount + 1;  // fresh fetch lookup at pc
inline constexpr std::size_t kLabelCount = isa::kOpCount + 2;
extern const void* const* g_interp_labels;
}  // namespace rvkvm
