// Relay counters: refusal names and the /stats object.
#include "tracker/relay_counters.hpp"

#include <nlohmann/json.hpp>

namespace p2p::tracker {

std::string_view relay_refusal_name(RelayRefusal r) {
  switch (r) {
    case RelayRefusal::bad_hello: return "bad_hello";
    case RelayRefusal::hello_timeout: return "hello_timeout";
    case RelayRefusal::bad_ticket: return "bad_ticket";
    case RelayRefusal::no_partner: return "no_partner";
    case RelayRefusal::pairs: return "pairs";
    case RelayRefusal::pairs_per_address: return "pairs_per_address";
    case RelayRefusal::connections: return "connections";
    case RelayRefusal::stopping: return "stopping";
    default: return "other";
  }
}

std::uint64_t RelayCounters::refusals_total() const {
  std::uint64_t n = 0;
  for (auto v : refusals) n += v;
  return n;
}

nlohmann::json relay_stats_json(const RelayCounters& c, std::uint16_t port) {
  nlohmann::json refusals = nlohmann::json::object();
  for (std::size_t r = 0; r < c.refusals.size(); ++r)
    refusals[std::string(relay_refusal_name(static_cast<RelayRefusal>(r)))] = c.refusals[r];
  return nlohmann::json{{"port", port},
                        {"pairs_active", c.pairs_active},
                        {"waiting", c.waiting},
                        {"pairs_total", c.pairs_total},
                        {"bytes_relayed", c.bytes_relayed},
                        {"refusals", std::move(refusals)}};
}

}  // namespace p2p::tracker
