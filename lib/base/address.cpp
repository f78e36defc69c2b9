// parse_host_port / format_host_port.
#include "base/address.hpp"

#include <arpa/inet.h>
#include <fmt/core.h>
#include <net/if.h>

#include <algorithm>

namespace p2p {

std::optional<HostPort> parse_host_port(std::string_view text, std::string& why) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    why = "is not HOST:PORT";
    return std::nullopt;
  }
  std::string_view host = text.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      why = "has a malformed [IPv6] address";
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of(":[]") != std::string_view::npos) {
    why = "has an IPv6 address without [brackets]";
    return std::nullopt;
  }
  if (host.empty() || host.size() > 253) {
    why = "has an empty or over-long host";
    return std::nullopt;
  }
  unsigned long port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) {
      why = "port is not a number in 1-65535";
      return std::nullopt;
    }
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  if (port == 0 || port > 65535) {
    why = "port must be 1-65535";
    return std::nullopt;
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(port)};
}

namespace {
// "fe80::1%eth0": an IPv6 address, and a zone that is an interface name or number.
bool ipv6_with_zone(std::string_view text) {
  auto pct = text.find('%');
  std::string addr(text.substr(0, pct));
  in6_addr out{};
  if (::inet_pton(AF_INET6, addr.c_str(), &out) != 1) return false;
  if (pct == std::string_view::npos) return true;
  std::string_view zone = text.substr(pct + 1);
  return !zone.empty() && zone.size() < IF_NAMESIZE &&
         std::all_of(zone.begin(), zone.end(), [](char c) { return c > ' ' && c < 127 && c != '/' && c != '%'; });
}
}  // namespace

std::optional<std::string> parse_host(std::string_view text, std::string& why) {
  std::string_view host = text;
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > 253) {
    why = "is an empty or over-long host";
    return std::nullopt;
  }
  if (host.find(':') != std::string_view::npos || bracketed) {
    if (ipv6_with_zone(host)) return std::string(host);
    why = "is not a host name or IP address (a HOST:PORT goes in --peer; the port of --host in --port)";
    return std::nullopt;
  }
  if (host.find_first_of("[]/% \t") != std::string_view::npos) {
    why = "is not a host name or IP address";
    return std::nullopt;
  }
  return std::string(host);
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

}  // namespace p2p
