// is_hex.
#include "base/hex.hpp"

namespace p2p {

bool is_hex(std::string_view s, std::size_t digits, bool lowercase_only) {
  if (s.size() != digits) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (!lowercase_only && c >= 'A' && c <= 'F');
    if (!ok) return false;
  }
  return true;
}

}  // namespace p2p
