// The tracker's HTTP API as a function from request to response: routing,
// parameter validation, JSON answers. No sockets here, so every endpoint and
// every error is unit-testable; tracker_http feeds it parsed requests.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tracker/catalog.hpp"
#include "tracker/metrics.hpp"
#include "tracker/query.hpp"
#include "tracker/swarm_registry.hpp"

namespace p2p::tracker {

inline constexpr std::string_view kJsonType = "application/json";

struct Request {
  std::string_view method;     // as sent: "GET", "POST", ...
  std::string_view target;     // path and query as sent
  std::string_view body;
  std::string_view remote_ip;  // numeric; announces register this address
};

struct Response {
  int status = 200;
  std::string_view content_type = kJsonType;
  std::string body;            // reused between requests to keep its capacity
  std::string_view allow;      // Allow header for 405
  Endpoint endpoint = Endpoint::other;
  void reset() {
    status = 200;
    content_type = kJsonType;
    body.clear();
    allow = {};
    endpoint = Endpoint::other;
  }
};

// Fills `out` with {"error": message} (JSON-escaped) and the status.
void error_response(Response& out, int status, std::string_view message);
std::string_view status_reason(int status);

struct ApiOptions {
  int interval_seconds = 60;
};

class Api {
 public:
  Api(SwarmRegistry& swarms, Catalog& catalog, Metrics& metrics, ApiOptions options);

  // Answers one request; never throws (internal failures become 500). `now` is
  // when the request was fully read; announce latency is measured from it.
  void handle(const Request& request, Clock::time_point now, Response& out);

  // Dead-peer cleanup: drops peers silent for two intervals. Returns peers dropped.
  std::size_t expire(Clock::time_point now);
  void attach_connection_count(const std::size_t* open_connections) { open_connections_ = open_connections; }
  Gauges gauges() const;
  Metrics& metrics() { return metrics_; }
  int interval_seconds() const { return options_.interval_seconds; }

 private:
  void route(const Request& request, Clock::time_point now, Response& out);
  void announce(const Request& request, Clock::time_point now, Response& out);
  void scrape(Response& out);
  void files(Response& out);
  void lookup(Response& out);
  void publish(const Request& request, Response& out);
  void meta(std::string_view hash_hex, Response& out);
  void stats(Response& out);
  std::uint64_t completed_of(const Digest& info_hash, const Swarm* swarm) const;

  SwarmRegistry& swarms_;
  Catalog& catalog_;
  Metrics& metrics_;
  ApiOptions options_;
  const std::size_t* open_connections_ = nullptr;
  std::uint64_t expired_total_ = 0;
  Clock::time_point started_;
  Query query_;                          // reused: parsing allocates nothing for plain values
  std::vector<const Peer*> selected_;    // reused peer selection buffer
};

}  // namespace p2p::tracker
