// "host:port" text: the one parser and the one formatter for every address a
// user, a meta or a peer gives us ("[v6]:port" for IPv6).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace p2p {

struct HostPort {
  std::string host;  // brackets removed: "::1", "10.0.0.1", "tracker.lan"
  std::uint16_t port = 0;
};

// Parses "host:port" or "[v6]:port" with a port in 1-65535. On failure returns
// nullopt and says why in `why` (the caller adds where the text came from).
std::optional<HostPort> parse_host_port(std::string_view text, std::string& why);

// A host alone (no port), as `p2p-download --host` takes it: a name, an IPv4
// address, or an IPv6 address bare or in brackets, with an optional zone
// ("::1", "[::1]", "fe80::1%eth0"). Returns it without brackets; nullopt and
// `why` for anything else, e.g. "1.2.3.4:5" (a host with a port: that is --peer).
std::optional<std::string> parse_host(std::string_view text, std::string& why);

// "1.2.3.4:5", "[::1]:5".
std::string format_host_port(std::string_view host, std::uint16_t port);

}  // namespace p2p
