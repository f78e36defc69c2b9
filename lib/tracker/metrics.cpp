// Prometheus text rendering of the tracker's counters.
#include "tracker/metrics.hpp"

#include <fmt/format.h>

#include <iterator>

namespace p2p::tracker {

std::string_view endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::announce: return "announce";
    case Endpoint::scrape: return "scrape";
    case Endpoint::files: return "files";
    case Endpoint::lookup: return "lookup";
    case Endpoint::publish: return "publish";
    case Endpoint::meta: return "meta";
    case Endpoint::stats: return "stats";
    case Endpoint::metrics: return "metrics";
    case Endpoint::dashboard: return "dashboard";
    default: return "other";
  }
}

void Metrics::count_request(Endpoint endpoint, int status) {
  std::size_t s = kStatuses.size() - 1;
  for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i)
    if (kStatuses[i] == status) s = i;
  ++requests_[static_cast<std::size_t>(endpoint)][s];
}

void Metrics::observe_announce(std::chrono::nanoseconds latency) {
  double seconds = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kBucketsSeconds.size() && seconds > kBucketsSeconds[b]) ++b;
  ++latency_buckets_[b];
  latency_sum_seconds_ += seconds;
  ++latency_count_;
}

std::uint64_t Metrics::requests_total() const {
  std::uint64_t n = 0;
  for (const auto& row : requests_)
    for (auto v : row) n += v;
  return n;
}

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "# HELP p2p_tracker_requests_total HTTP requests answered, by endpoint and status.\n"
                    "# TYPE p2p_tracker_requests_total counter\n");
  for (std::size_t e = 0; e < requests_.size(); ++e)
    for (std::size_t s = 0; s < kStatuses.size(); ++s)
      if (requests_[e][s] != 0) {
        auto status = kStatuses[s] == 0 ? std::string("other") : std::to_string(kStatuses[s]);
        fmt::format_to(o, "p2p_tracker_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                       endpoint_name(static_cast<Endpoint>(e)), status, requests_[e][s]);
      }
  fmt::format_to(o,
                 "# HELP p2p_tracker_announce_duration_seconds Time to handle an announce (parse, update, answer).\n"
                 "# TYPE p2p_tracker_announce_duration_seconds histogram\n");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kBucketsSeconds.size(); ++b) {
    cumulative += latency_buckets_[b];
    fmt::format_to(o, "p2p_tracker_announce_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBucketsSeconds[b], cumulative);
  }
  cumulative += latency_buckets_.back();
  fmt::format_to(o, "p2p_tracker_announce_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  fmt::format_to(o, "p2p_tracker_announce_duration_seconds_sum {}\n", latency_sum_seconds_);
  fmt::format_to(o, "p2p_tracker_announce_duration_seconds_count {}\n", latency_count_);

  auto gauge = [&](std::string_view name, std::string_view help, auto value) {
    fmt::format_to(o, "# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
  };
  auto counter = [&](std::string_view name, std::string_view help, auto value) {
    fmt::format_to(o, "# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
  };
  gauge("p2p_tracker_swarms", "Swarms with at least one live peer.", g.swarms);
  gauge("p2p_tracker_peers", "Live peers over all swarms.", g.peers);
  gauge("p2p_tracker_seeders", "Live peers that have the whole file.", g.seeders);
  gauge("p2p_tracker_leechers", "Live peers still downloading.", g.peers - g.seeders);
  gauge("p2p_tracker_files", "Files in the catalog (published metas).", g.files);
  gauge("p2p_tracker_connections", "Open HTTP connections.", g.connections);
  counter("p2p_tracker_expired_peers_total", "Peers dropped for missing two announce intervals.", g.expired_peers);
  counter("p2p_tracker_connections_refused_total", "Connections refused at the connection cap.", connections_refused_);
  counter("p2p_tracker_timeouts_total", "Connections closed for a header, body or write timeout.", timeouts_);
  return out;
}

}  // namespace p2p::tracker
