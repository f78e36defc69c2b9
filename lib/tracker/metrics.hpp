// Tracker counters and the announce latency histogram, rendered in the
// Prometheus text format. Plain integers: the event loop is single-threaded.
// Counters add and subtract, so a shared store can sum them over processes.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace p2p::tracker {

enum class Endpoint { announce, scrape, files, lookup, publish, withdraw, meta, stats, metrics, dashboard, rendezvous, relay,
                      // The BitTorrent dialects (bt_announce.*, udp_tracker.*), counted apart from the JSON one.
                      bt_announce, bt_scrape, bt_swarms, udp_connect, udp_announce, udp_scrape, other, count_ };
std::string_view endpoint_name(Endpoint e);

// Point-in-time values the stores supply when rendering.
struct Gauges {
  std::size_t swarms = 0, peers = 0, seeders = 0, files = 0, connections = 0;
  std::uint64_t expired_peers = 0;
};

struct Counters {
  // Statuses the tracker can produce; anything else lands in the last slot.
  static constexpr std::array<int, 14> kStatuses{200, 201, 400, 403, 404, 405, 408, 411, 413, 414, 431, 500, 503, 0};
  static constexpr std::array<double, 12> kBucketsSeconds{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                          0.001,   0.0025,   0.005,   0.01,   0.05,    0.25};
  static constexpr std::size_t kEndpoints = static_cast<std::size_t>(Endpoint::count_);

  std::array<std::array<std::uint64_t, kStatuses.size()>, kEndpoints> requests{};
  std::array<std::uint64_t, kBucketsSeconds.size() + 1> latency_buckets{};  // non-cumulative; last is +Inf
  std::uint64_t latency_sum_ns = 0, latency_count = 0;
  std::uint64_t connections_refused = 0, timeouts = 0;
  std::uint64_t connections_displaced = 0;  // closed at the cap for a newcomer (idle longest)

  void count_request(Endpoint endpoint, int status);
  void observe_announce(std::chrono::nanoseconds latency);
  std::uint64_t requests_total() const;
  bool empty() const;

  bool operator==(const Counters&) const = default;
  Counters& operator+=(const Counters& other);
  Counters& operator-=(const Counters& other);

  // Calls f(name, value) for every counter, e.g. ("requests:announce:200", n),
  // ("latency_bucket:3", n), ("timeouts", n): the field names a shared store keeps.
  template <typename F>
  void for_each(F&& f) {
    for (std::size_t e = 0; e < kEndpoints; ++e)
      for (std::size_t s = 0; s < kStatuses.size(); ++s) f(request_field(e, s), requests[e][s]);
    for (std::size_t b = 0; b < latency_buckets.size(); ++b) f(bucket_field(b), latency_buckets[b]);
    f(std::string("latency_sum_ns"), latency_sum_ns);
    f(std::string("latency_count"), latency_count);
    f(std::string("connections_refused"), connections_refused);
    f(std::string("timeouts"), timeouts);
    f(std::string("connections_displaced"), connections_displaced);
  }

 private:
  static std::string request_field(std::size_t endpoint, std::size_t status_slot);
  static std::string bucket_field(std::size_t bucket);
};

std::string render_metrics(const Counters& counters, const Gauges& gauges);

// The relay's lines (p2p_tracker_relay_*), appended to render_metrics' text when
// the tracker runs a relay (relay_counters.hpp). This process's figures only.
struct RelayCounters;
std::string render_relay_metrics(const RelayCounters& relay);

}  // namespace p2p::tracker
