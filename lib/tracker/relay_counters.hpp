// What the relay counts, as plain values: the tracker's /metrics renders them
// (render_relay_metrics in metrics.hpp, prefix p2p_tracker_relay_) and /stats
// shows them (relay_stats_json). Written by the relay on the io thread only.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace p2p::tracker {

// Why the relay refused a connection (the "reason" label of the refusal counter).
enum class RelayRefusal {
  bad_hello,       // not a relay_hello frame: length, JSON, type, ticket or role wrong
  hello_timeout,   // no complete hello within kRelayHelloTimeout
  bad_ticket,      // unknown, expired, dropped, or already used for that role
  no_partner,      // the other member did not come within kRelayPartnerTimeout
  pairs,           // the relay's pair cap (--relay-max-pairs)
  pairs_per_address,  // this address's pair cap
  connections,     // the relay's connection cap (kMaxRelayConnections)
  stopping,        // the tracker is shutting down
  count_,
};
std::string_view relay_refusal_name(RelayRefusal r);

struct RelayCounters {
  std::size_t pairs_active = 0;   // relaying now
  std::size_t waiting = 0;        // connections with a valid ticket waiting for their partner
  std::uint64_t pairs_total = 0;  // pairs that reached relay_ready
  std::uint64_t bytes_relayed = 0;  // forwarded, both directions summed
  std::array<std::uint64_t, static_cast<std::size_t>(RelayRefusal::count_)> refusals{};

  void refuse(RelayRefusal r) { ++refusals[static_cast<std::size_t>(r)]; }
  std::uint64_t refused(RelayRefusal r) const { return refusals[static_cast<std::size_t>(r)]; }
  std::uint64_t refusals_total() const;
};

// {"port","pairs_active","waiting","pairs_total","bytes_relayed","refusals":{reason:n}}
nlohmann::json relay_stats_json(const RelayCounters& counters, std::uint16_t port);

}  // namespace p2p::tracker
