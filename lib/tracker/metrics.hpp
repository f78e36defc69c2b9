// Tracker counters and the announce latency histogram, rendered in the
// Prometheus text format. Plain integers: the event loop is single-threaded.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace p2p::tracker {

enum class Endpoint { announce, scrape, files, lookup, publish, meta, stats, metrics, dashboard, other, count_ };
std::string_view endpoint_name(Endpoint e);

// Point-in-time values the owner of the registry and catalog supplies when rendering.
struct Gauges {
  std::size_t swarms = 0, peers = 0, seeders = 0, files = 0, connections = 0;
  std::uint64_t expired_peers = 0;
};

class Metrics {
 public:
  void count_request(Endpoint endpoint, int status);
  void observe_announce(std::chrono::nanoseconds latency);
  void count_connection_refused() { ++connections_refused_; }
  void count_timeout() { ++timeouts_; }

  std::uint64_t requests_total() const;
  std::string render(const Gauges& gauges) const;

 private:
  // Statuses the tracker can produce; anything else lands in the last slot.
  static constexpr std::array<int, 13> kStatuses{200, 201, 400, 404, 405, 408, 411, 413, 414, 431, 500, 503, 0};
  static constexpr std::array<double, 12> kBucketsSeconds{0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
                                                          0.001,   0.0025,   0.005,   0.01,   0.05,    0.25};
  std::array<std::array<std::uint64_t, kStatuses.size()>, static_cast<std::size_t>(Endpoint::count_)> requests_{};
  std::array<std::uint64_t, kBucketsSeconds.size() + 1> latency_buckets_{};  // non-cumulative; last is +Inf
  double latency_sum_seconds_ = 0;
  std::uint64_t latency_count_ = 0;
  std::uint64_t connections_refused_ = 0, timeouts_ = 0;
};

}  // namespace p2p::tracker
