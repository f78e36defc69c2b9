// P2P_NO_DISCOVERY and the loopback rule (discovery_switch.hpp).
#include "base/discovery_switch.hpp"

#include <cstdlib>
#include <string>

namespace p2p {

bool discovery_disabled_by_env() {
  const char* v = std::getenv("P2P_NO_DISCOVERY");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

bool discovery_allowed(std::string_view listen_host) {
  if (discovery_disabled_by_env()) return false;
  bool loopback = listen_host == "localhost" || listen_host == "::1" || listen_host.starts_with("127.");
  return !loopback;
}

}  // namespace p2p
