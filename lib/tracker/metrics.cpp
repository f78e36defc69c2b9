// Counter arithmetic and Prometheus text rendering of the tracker's counters.
#include "tracker/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "tracker/relay_counters.hpp"

namespace p2p::tracker {

std::string_view endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::announce: return "announce";
    case Endpoint::scrape: return "scrape";
    case Endpoint::files: return "files";
    case Endpoint::lookup: return "lookup";
    case Endpoint::publish: return "publish";
    case Endpoint::withdraw: return "withdraw";
    case Endpoint::meta: return "meta";
    case Endpoint::stats: return "stats";
    case Endpoint::metrics: return "metrics";
    case Endpoint::dashboard: return "dashboard";
    case Endpoint::rendezvous: return "rendezvous";
    case Endpoint::relay: return "relay";
    case Endpoint::bt_announce: return "bt_announce";
    case Endpoint::bt_scrape: return "bt_scrape";
    case Endpoint::bt_swarms: return "bt_swarms";
    case Endpoint::udp_connect: return "udp_connect";
    case Endpoint::udp_announce: return "udp_announce";
    case Endpoint::udp_scrape: return "udp_scrape";
    default: return "other";
  }
}

namespace {
std::string status_label(std::size_t slot) {
  int s = Counters::kStatuses[slot];
  return s == 0 ? std::string("other") : std::to_string(s);
}
}  // namespace

void Counters::count_request(Endpoint endpoint, int status) {
  std::size_t s = kStatuses.size() - 1;
  for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i)
    if (kStatuses[i] == status) s = i;
  ++requests[static_cast<std::size_t>(endpoint)][s];
}

void Counters::observe_announce(std::chrono::nanoseconds latency) {
  double seconds = std::chrono::duration<double>(latency).count();
  std::size_t b = 0;
  while (b < kBucketsSeconds.size() && seconds > kBucketsSeconds[b]) ++b;
  ++latency_buckets[b];
  latency_sum_ns += static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency.count()));
  ++latency_count;
}

std::uint64_t Counters::requests_total() const {
  std::uint64_t n = 0;
  for (const auto& row : requests)
    for (auto v : row) n += v;
  return n;
}

bool Counters::empty() const { return *this == Counters{}; }

namespace {
// Applies op(mine, theirs) to every pair of corresponding counters.
template <typename Op>
void combine(Counters& a, const Counters& b, Op op) {
  for (std::size_t e = 0; e < a.requests.size(); ++e)
    for (std::size_t s = 0; s < a.requests[e].size(); ++s) op(a.requests[e][s], b.requests[e][s]);
  for (std::size_t i = 0; i < a.latency_buckets.size(); ++i) op(a.latency_buckets[i], b.latency_buckets[i]);
  op(a.latency_sum_ns, b.latency_sum_ns);
  op(a.latency_count, b.latency_count);
  op(a.connections_refused, b.connections_refused);
  op(a.timeouts, b.timeouts);
  op(a.connections_displaced, b.connections_displaced);
}
}  // namespace

Counters& Counters::operator+=(const Counters& other) {
  combine(*this, other, [](std::uint64_t& a, std::uint64_t b) { a += b; });
  return *this;
}

// Saturating: a counter never goes below zero even if a store lost an update.
Counters& Counters::operator-=(const Counters& other) {
  combine(*this, other, [](std::uint64_t& a, std::uint64_t b) { a = a >= b ? a - b : 0; });
  return *this;
}

std::string Counters::request_field(std::size_t endpoint, std::size_t status_slot) {
  return fmt::format("requests:{}:{}", endpoint_name(static_cast<Endpoint>(endpoint)), status_label(status_slot));
}

std::string Counters::bucket_field(std::size_t bucket) { return fmt::format("latency_bucket:{}", bucket); }

std::string render_metrics(const Counters& c, const Gauges& g) {
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "# HELP p2p_tracker_requests_total HTTP requests answered, by endpoint and status.\n"
                    "# TYPE p2p_tracker_requests_total counter\n");
  for (std::size_t e = 0; e < c.requests.size(); ++e)
    for (std::size_t s = 0; s < Counters::kStatuses.size(); ++s)
      if (c.requests[e][s] != 0)
        fmt::format_to(o, "p2p_tracker_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                       endpoint_name(static_cast<Endpoint>(e)), status_label(s), c.requests[e][s]);
  fmt::format_to(o,
                 "# HELP p2p_tracker_announce_duration_seconds Time to handle an announce (parse, store, answer).\n"
                 "# TYPE p2p_tracker_announce_duration_seconds histogram\n");
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < Counters::kBucketsSeconds.size(); ++b) {
    cumulative += c.latency_buckets[b];
    fmt::format_to(o, "p2p_tracker_announce_duration_seconds_bucket{{le=\"{}\"}} {}\n", Counters::kBucketsSeconds[b],
                   cumulative);
  }
  cumulative += c.latency_buckets.back();
  fmt::format_to(o, "p2p_tracker_announce_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  fmt::format_to(o, "p2p_tracker_announce_duration_seconds_sum {}\n", static_cast<double>(c.latency_sum_ns) / 1e9);
  fmt::format_to(o, "p2p_tracker_announce_duration_seconds_count {}\n", c.latency_count);

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
  gauge("p2p_tracker_connections", "Open HTTP connections to this process.", g.connections);
  counter("p2p_tracker_expired_peers_total", "Peers dropped for missing two announce intervals.", g.expired_peers);
  counter("p2p_tracker_connections_refused_total", "Connections refused at the connection cap.", c.connections_refused);
  counter("p2p_tracker_timeouts_total", "Connections closed for a header, body or write timeout.", c.timeouts);
  counter("p2p_tracker_connections_displaced_total",
          "Connections closed at the connection cap to admit a newcomer (the one idle longest).", c.connections_displaced);
  return out;
}

std::string render_relay_metrics(const RelayCounters& r) {
  std::string out;
  auto o = std::back_inserter(out);
  auto line = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    fmt::format_to(o, "# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
  };
  line("p2p_tracker_relay_pairs_active", "gauge", "Pairs being relayed now.", r.pairs_active);
  line("p2p_tracker_relay_waiting", "gauge", "Relay connections with a valid ticket waiting for their partner.", r.waiting);
  line("p2p_tracker_relay_pairs_total", "counter", "Pairs that were relayed (reached relay_ready).", r.pairs_total);
  line("p2p_tracker_relay_bytes_total", "counter", "Bytes forwarded by the relay, both directions.", r.bytes_relayed);
  fmt::format_to(o, "# HELP p2p_tracker_relay_refusals_total Relay connections refused, by reason.\n"
                    "# TYPE p2p_tracker_relay_refusals_total counter\n");
  for (std::size_t i = 0; i < r.refusals.size(); ++i)
    fmt::format_to(o, "p2p_tracker_relay_refusals_total{{reason=\"{}\"}} {}\n",
                   relay_refusal_name(static_cast<RelayRefusal>(i)), r.refusals[i]);
  return out;
}

}  // namespace p2p::tracker
