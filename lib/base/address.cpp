// parse_host_port / format_host_port.
#include "base/address.hpp"

#include <fmt/core.h>

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

std::string format_host_port(std::string_view host, std::uint16_t port) {
  return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

}  // namespace p2p
