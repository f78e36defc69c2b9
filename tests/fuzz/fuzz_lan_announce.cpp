// Fuzzes lan::decode on arbitrary datagrams. Checks: nothing escapes (decode never
// throws); a refusal always says why; every accepted announce respects the limits and
// survives encode -> decode unchanged, within kMaxDatagramBytes.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "format/lan_announce.hpp"

using namespace p2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view datagram(reinterpret_cast<const char*>(data), size);
  lan::Refusal why{};
  std::string detail;
  auto a = lan::decode(datagram, why, detail);
  if (!a) {
    if (why == lan::Refusal::none || detail.empty()) __builtin_trap();
    return 0;
  }
  if (why != lan::Refusal::none) __builtin_trap();
  if (a->port == 0 || a->swarms.empty() || a->swarms.size() > lan::kMaxSwarmsPerDatagram) __builtin_trap();
  if (std::set<Digest>(a->swarms.begin(), a->swarms.end()).size() != a->swarms.size()) __builtin_trap();
  std::string again = lan::encode(*a);  // throws (and so crashes the target) if limits were broken
  if (again.size() > lan::kMaxDatagramBytes) __builtin_trap();
  auto b = lan::decode(again, why, detail);
  if (!b || !(*b == *a)) __builtin_trap();  // we refused or changed what we ourselves encoded
  return 0;
}
