// Local subnets: getifaddrs for the list, byte-wise prefix comparison for membership.
#include "net/local_subnets.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace p2p {

namespace {
// Parses a numeric v4 or v6 address; a v4-mapped v6 address becomes v4.
bool parse_address(std::string_view text, bool& v6, std::array<std::uint8_t, 16>& out) {
  std::string s(text);
  out.fill(0);
  in_addr a4{};
  if (::inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    v6 = false;
    std::memcpy(out.data(), &a4, 4);
    return true;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, s.c_str(), &a6) != 1) return false;
  if (IN6_IS_ADDR_V4MAPPED(&a6)) {
    v6 = false;
    std::memcpy(out.data(), a6.s6_addr + 12, 4);
    return true;
  }
  v6 = true;
  std::memcpy(out.data(), a6.s6_addr, 16);
  return true;
}

int mask_bits(const std::uint8_t* mask, std::size_t len) {
  int bits = 0;
  for (std::size_t i = 0; i < len; ++i)
    for (int b = 7; b >= 0 && (mask[i] >> b & 1); --b) ++bits;
  return bits;
}

bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b, int prefix) {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  auto m = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[static_cast<std::size_t>(full)] & m) == (b[static_cast<std::size_t>(full)] & m);
}
}  // namespace

std::vector<Subnet> local_subnets() {
  std::vector<Subnet> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_netmask || !(i->ifa_flags & IFF_UP)) continue;
    Subnet s;
    if (i->ifa_addr->sa_family == AF_INET) {
      auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      auto* m = reinterpret_cast<const sockaddr_in*>(i->ifa_netmask);
      std::memcpy(s.address.data(), &a->sin_addr, 4);
      s.prefix = mask_bits(reinterpret_cast<const std::uint8_t*>(&m->sin_addr), 4);
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      auto* a = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
      auto* m = reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask);
      s.v6 = true;
      std::memcpy(s.address.data(), a->sin6_addr.s6_addr, 16);
      s.prefix = mask_bits(m->sin6_addr.s6_addr, 16);
    } else {
      continue;
    }
    out.push_back(s);
  }
  ::freeifaddrs(list);
  return out;
}

bool in_subnets(std::string_view text, const std::vector<Subnet>& subnets) {
  bool v6 = false;
  std::array<std::uint8_t, 16> a{};
  if (!parse_address(text, v6, a)) return false;
  for (const auto& s : subnets)
    if (s.v6 == v6 && s.prefix >= 0 && same_prefix(a, s.address, s.prefix)) return true;
  return false;
}

Subnet parse_subnet(std::string_view text) {
  Subnet s;
  s.prefix = -1;
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return s;
  std::array<std::uint8_t, 16> a{};
  bool v6 = false;
  if (!parse_address(text.substr(0, slash), v6, a)) return s;
  int bits = 0;
  auto digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return s;
  for (char c : digits) {
    if (c < '0' || c > '9') return s;
    bits = bits * 10 + (c - '0');
  }
  if (bits > (v6 ? 128 : 32)) return s;
  s.v6 = v6;
  s.address = a;
  s.prefix = bits;
  return s;
}

}  // namespace p2p
