// The tracker's HTTP API as a function from request to response: routing,
// parameter validation, JSON answers, over any store (tracker_store.hpp). No
// sockets here, so every endpoint and every error is unit-testable; the
// generic net::HttpServer feeds it parsed requests through net::HttpHandler.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "base/task.hpp"
#include "net/http_handler.hpp"
#include "tracker/bt_announce.hpp"
#include "tracker/meta_check.hpp"
#include "tracker/metrics.hpp"
#include "tracker/publish_budget.hpp"
#include "tracker/query.hpp"
#include "tracker/relay_counters.hpp"
#include "tracker/rendezvous_board.hpp"
#include "tracker/tracker_store.hpp"

namespace p2p::tracker {

struct ApiOptions {
  int interval_seconds = 60;
};

// Rendezvous and relay (docs/TRACKER.md "Across NATs"): the edge supplies what needs sockets.
struct RendezvousOptions {
  // Connects to ip:port and reports whether it accepted (the connect-back probe that
  // tells a member whether it can be dialled from outside). Empty: no probes.
  std::function<void(const std::string& ip, std::uint16_t port, std::function<void(bool)> done)> probe;
  // The relay (p2p-tracker --relay): a fresh ticket for a swarm, and the relay's port.
  std::function<std::string(const std::string& swarm_hex)> issue_relay_ticket;
  std::uint16_t relay_port = 0;
  const RelayCounters* relay_counters = nullptr;  // shown in /stats and /metrics
};

class Api final : public net::HttpHandler {
 public:
  Api(SwarmStore& swarms, CatalogStore& catalog, CounterStore& counters, ApiOptions options);

  // Answers one request; never throws (store outages become 503, internal
  // failures 500). `now` is when the request was fully read; announce latency
  // is measured from it to the answer.
  Task<void> serve(const net::HttpRequest& request, Clock::time_point now, net::HttpResponse& out);

  // net::HttpHandler: serve() started on the server's loop, done() when answered.
  std::size_t body_limit(std::string_view method, std::string_view target) const override;
  // A publish from an address over its budget is refused (429) before its body is read.
  std::optional<net::HttpRefusal> refuse_body(std::string_view method, std::string_view target,
                                              std::string_view remote_ip, std::uint64_t declared) override;
  void handle(const net::HttpRequest& request, net::HttpResponse& response, net::HttpDone done) override;
  void on_server_answer(int status) override { pending_.count_request(Endpoint::other, status); }
  void on_event(net::HttpEvent event) override;

  // Dead-peer cleanup: drops peers silent for two intervals. Returns peers dropped.
  Task<std::size_t> expire(Clock::time_point now);
  // Periodic persistence: catalog counters and this process's request counters.
  Task<void> flush();
  // Reloads the withdrawn files from the store (other trackers on a shared store
  // withdraw too); at start and with every flush.
  Task<void> refresh_withdrawn();
  Task<Gauges> gauges();

  // Turns on GET /rendezvous (long polls) and the notes announces post to them;
  // with a ticket issuer, GET /relay too.
  void enable_rendezvous(RendezvousOptions options) {
    rendezvous_ = std::move(options);
    rendezvous_on_ = true;
  }
  // Turns on the BitTorrent dialect of /announce and /scrape (a 20-byte info_hash);
  // `policy` (open or whitelist, reloaded on SIGHUP) must outlive the Api.
  void enable_bittorrent(const BtPolicy& policy) { bt_.emplace(swarms_, policy, options_.interval_seconds); }

  // Every 1 s or so: answers polls held for RendezvousBoard::kHold.
  void expire_polls(Clock::time_point now) { board_.expire(now); }
  // At stop: answers every open poll (the server waits for every answer).
  void close_polls() { board_.close_all(); }
  const RendezvousBoard& rendezvous_board() const { return board_; }

  // Where POST /publish has its meta checked: starts the check of `text` elsewhere
  // (the server's MetaCheckPool) and calls `done` on the loop with the verdict;
  // false when there is no room for it now (503). Unset: checked inline (tests).
  using MetaChecker = std::function<bool(std::string_view text, std::function<void(MetaCheck)> done)>;
  void set_meta_checker(MetaChecker checker) { meta_checker_ = std::move(checker); }

  void set_connection_count(std::function<std::size_t()> open_connections) {
    open_connections_ = std::move(open_connections);
  }
  const Counters& pending_counters() const { return pending_; }
  // Requests served outside this class (the UDP tracker) are counted here too.
  void count_request(Endpoint endpoint, int status) { pending_.count_request(endpoint, status); }
  int interval_seconds() const { return options_.interval_seconds; }

 private:
  Task<void> route(const net::HttpRequest& request, Clock::time_point now, net::HttpResponse& out, Endpoint& endpoint);
  Task<void> announce(const net::HttpRequest& request, Clock::time_point now, net::HttpResponse& out);
  Task<void> scrape(net::HttpResponse& out);
  Task<void> files(net::HttpResponse& out);
  Task<void> lookup(net::HttpResponse& out);
  Task<void> publish(const net::HttpRequest& request, net::HttpResponse& out);
  Task<void> withdraw(const net::HttpRequest& request, net::HttpResponse& out);
  Task<void> meta(std::string_view hash_hex, net::HttpResponse& out);
  Task<void> stats(net::HttpResponse& out);
  Task<void> metrics(net::HttpResponse& out);
  // GET /rendezvous: answered later, outside serve() (a long poll).
  void rendezvous(const net::HttpRequest& request, net::HttpResponse& out, net::HttpDone done);
  void relay(const net::HttpRequest& request, net::HttpResponse& out);
  // The BitTorrent dialect: refusals and store outages become a bencoded failure reason.
  Task<void> bt_serve(const net::HttpRequest& request, Clock::time_point now, net::HttpResponse& out, Endpoint endpoint);
  void fill_poll_answer(net::HttpResponse& out, const std::string& ip, std::uint16_t port,
                        const std::vector<RendezvousNote>& notes);

  SwarmStore& swarms_;
  CatalogStore& catalog_;
  CounterStore& counters_;
  ApiOptions options_;
  Counters pending_;  // this process's counts not yet in the counter store
  std::function<std::size_t()> open_connections_;
  Clock::time_point started_;
  // Reused: parsing allocates nothing for plain values. Several requests may be
  // in flight on a shared store, so handlers read it only before their first
  // co_await and copy what they keep.
  Query query_;
  // Info hashes withdrawn by their owner: announces for them answer "withdrawn".
  std::set<Digest> withdrawn_;
  bool rendezvous_on_ = false;
  RendezvousOptions rendezvous_;
  RendezvousBoard board_;
  std::optional<BtAnnounce> bt_;
  MetaChecker meta_checker_;
  PublishBudget publish_budget_;  // per address: checks at once, bytes checked over time
};

}  // namespace p2p::tracker
