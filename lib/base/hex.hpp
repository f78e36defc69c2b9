// Hex text checks shared by the wire codec, the tracker client and the tracker.
// (to_hex / from_hex live with the digest type in base/sha256.hpp.)
#pragma once
#include <cstddef>
#include <string_view>

namespace p2p {

// True if `s` is exactly `digits` hex digits; lowercase only if asked (the wire
// protocol's canonical form), else either case.
bool is_hex(std::string_view s, std::size_t digits, bool lowercase_only = false);

}  // namespace p2p
