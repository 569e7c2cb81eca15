#pragma once
// Indices into the interpreter's label table beyond the instruction rows (hart-internal).
#include <atomic>

#include "isa/isa.h"

namespace rvkvm {
// Handlers for 4-byte encodings come first, then the same handlers for compressed encodings.
inline constexpr std::size_t kLabelCompressedBase = isa::kOpCount;
inline constexpr std::size_t kLabelDecodeIndex = 2 * isa::kOpCount;      // decode lazily, then execute
inline constexpr std::size_t kLabelLookupIndex = 2 * isa::kOpCount + 1;  // fresh fetch lookup at pc
inline constexpr std::size_t kLabelCount = 2 * isa::kOpCount + 2;
// Set by the first Interp::run() (always to the same table); read by the decode cache.
extern std::atomic<const void* const*> g_interp_labels;
}  // namespace rvkvm
