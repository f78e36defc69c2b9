// Wires the tracker together on one io_context thread. One thread owns the
// API and the stores, so there are no locks; with the embedded store the
// announce path is short enough that one core outruns the C tracker, with the
// Redis store several processes share one state (see docs/TRACKER.md).
#include "tracker/server.hpp"

#include <malloc.h>

#include <asio.hpp>
#include <cstdio>
#include <fmt/core.h>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <asio/experimental/awaitable_operators.hpp>

#include "base/error.hpp"
#include "base/log_level.hpp"
#include "net/http_server.hpp"
#include "net/use_tuple.hpp"
#include "tracker/api.hpp"
#include "tracker/bt_swarm.hpp"
#include "tracker/embedded_store.hpp"
#include "tracker/meta_check_pool.hpp"
#include "tracker/redis_catalog_store.hpp"
#include "tracker/redis_client.hpp"
#include "tracker/redis_counter_store.hpp"
#include "tracker/redis_layout.hpp"
#include "tracker/redis_swarm_store.hpp"
#include "tracker/relay_server.hpp"
#include "tracker/relay_tickets.hpp"
#include "tracker/tracker_limits.hpp"
#include "tracker/udp_tracker.hpp"

namespace p2p::tracker {

namespace {

std::uint64_t random_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

// A line for the operator: as it always was on a terminal, filed at its level in the journal.
void log_line(LogLevel level, const std::string& line) {
  std::fprintf(stderr, "%sp2p-tracker: %s\n", journal_prefix(level).c_str(), line.c_str());
  std::fflush(stderr);
}
void log_warning(const std::string& line) { log_line(LogLevel::warning, line); }

struct ReloadOutcome {
  LogLevel level;
  std::string line;
};

// Runs `tick` every `period` until the timer is cancelled.
void every(asio::steady_timer& timer, std::chrono::milliseconds period, std::function<void()> tick) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, tick = std::move(tick)](asio::error_code ec) mutable {
    if (ec) return;
    tick();
    every(timer, period, std::move(tick));
  });
}

// A periodic job that never overlaps itself (a slow store must not pile them up)
// and reports failures other than an unavailable store, which the store's own
// down/up lines already report.
class Job {
 public:
  Job(std::string name) : name_(std::move(name)) {}
  void run(Task<void> task) {
    if (busy_) return;
    busy_ = true;
    start_detached(std::move(task), [this](std::exception_ptr e) {
      busy_ = false;
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const StoreUnavailable&) {
      } catch (const std::exception& ex) {
        log_warning(fmt::format("{}: {} (will retry)", name_, ex.what()));
      }
    });
  }

 private:
  std::string name_;
  bool busy_ = false;
};

Task<void> expire_task(Api& api) { co_await api.expire(Clock::now()); }

// The connect-back probe behind GET /rendezvous: can the member be dialled at the
// address it announced? A connect that completes within kProbeTimeout says yes; the
// connection is closed at once (the member sees a connection that never speaks).
// At most kMaxProbes run at once; beyond that a member's reachability stays unknown.
constexpr auto kProbeTimeout = std::chrono::seconds(3);
constexpr std::size_t kMaxProbes = 256;

void probe(asio::io_context& io, std::shared_ptr<std::size_t> running, const std::string& ip, std::uint16_t port,
           std::function<void(bool)> done) {
  std::error_code ec;
  auto address = asio::ip::make_address(ip, ec);
  if (ec || *running >= kMaxProbes) return;
  ++*running;
  asio::co_spawn(
      io,
      [&io, running, endpoint = asio::ip::tcp::endpoint(address, port), done = std::move(done)]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        asio::ip::tcp::socket socket(io);
        asio::steady_timer deadline(io, kProbeTimeout);
        auto result = co_await (socket.async_connect(endpoint, kUseTuple) || deadline.async_wait(kUseTuple));
        bool ok = result.index() == 0 && !std::get<0>(std::get<0>(result));
        std::error_code ignored;
        socket.close(ignored);
        --*running;
        done(ok);
      },
      asio::detached);
}

// The three stores and, for Redis, the connection they share.
struct Stores {
  std::unique_ptr<RedisClient> redis;
  std::unique_ptr<SwarmStore> swarms;
  std::unique_ptr<CatalogStore> catalog;
  std::unique_ptr<CounterStore> counters;
  std::chrono::milliseconds flush_period{0};
};

Stores open_stores(const TrackerConfig& config, asio::io_context& io) {
  Stores s;
  if (config.store == "embedded") {
    s.swarms = std::make_unique<EmbeddedSwarmStore>(random_seed(), config.interval_seconds);
    s.catalog = std::make_unique<EmbeddedCatalogStore>(config.db);
    s.counters = std::make_unique<EmbeddedCounterStore>();
    s.flush_period = std::chrono::duration_cast<std::chrono::milliseconds>(limits::kCatalogFlushInterval);
    return s;
  }
  RedisAddress address = parse_redis_url(config.store);  // Error(usage) naming the value
  s.redis = std::make_unique<RedisClient>(io, address, redis_scripts(), log_warning);
  s.swarms = std::make_unique<RedisSwarmStore>(*s.redis, config.interval_seconds);
  s.catalog = std::make_unique<RedisCatalogStore>(*s.redis);
  s.counters = std::make_unique<RedisCounterStore>(*s.redis);
  s.flush_period = std::chrono::duration_cast<std::chrono::milliseconds>(limits::kCounterFlushInterval);
  return s;
}

// SIGHUP: the settings asked for again, the relay's caps applied, one line on what happened.
ReloadOutcome reload_line(const TrackerConfig& running, const ReloadConfig& reload, RelayServer* relay) {
  TrackerConfig fresh;
  try {
    fresh = reload();
  } catch (const Error& e) {
    return {LogLevel::warning, fmt::format("SIGHUP: not reloaded, still running as before: {}", e.what())};
  }
  std::vector<std::string> restart;
  if (fresh.host != running.host || fresh.port != running.port) restart.push_back("host/port");
  if (fresh.store != running.store || fresh.db != running.db) restart.push_back("store/db");
  if (fresh.interval_seconds != running.interval_seconds) restart.push_back("interval");
  if (fresh.header_timeout != running.header_timeout || fresh.idle_timeout != running.idle_timeout)
    restart.push_back("timeouts");
  if (fresh.relay != running.relay || fresh.relay_port != running.relay_port) restart.push_back("relay/relay-port");
  std::string applied = "nothing to apply";
  if (relay) {
    const RelayCaps& caps = fresh.relay_caps;
    relay->set_caps(caps);
    applied = fmt::format("relay caps {} B/s total, {} B/s per swarm, {} pairs (0 = unlimited)", caps.bytes_per_second,
                          caps.swarm_bytes_per_second, caps.max_pairs);
  }
  std::string needs;
  for (const auto& r : restart) needs += (needs.empty() ? "" : ", ") + r;
  return {LogLevel::info, fmt::format("SIGHUP: reloaded: {}{}", applied,
                                      needs.empty() ? std::string() : "; changed but applied only on restart: " + needs)};
}

}  // namespace

void run_tracker(const TrackerConfig& config, const std::function<void(const std::string&)>& on_listening,
                 const std::function<void(const std::string&)>& on_relay_listening, const ReloadConfig& reload) {
  if (config.interval_seconds < limits::kMinIntervalSeconds || config.interval_seconds > limits::kMaxIntervalSeconds)
    throw Error(ExitCode::usage, fmt::format("--interval {} is outside {}-{} seconds", config.interval_seconds,
                                             limits::kMinIntervalSeconds, limits::kMaxIntervalSeconds));
  if (config.header_timeout.count() <= 0 || config.idle_timeout.count() <= 0)
    throw Error(ExitCode::usage, "timeouts must be positive");

  // Request bodies (metas up to 8 MiB) are allocated and freed as they come: a
  // fixed mmap threshold gives their memory back to the system when freed,
  // where glibc's adaptive threshold would keep it in the heap for good.
  ::mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  asio::io_context io(1);
  Stores stores = open_stores(config, io);

  // The relay (--relay), bound before the API exists so the API can be told its port.
  RelayTickets relay_tickets;
  std::unique_ptr<RelayServer> relay;
  std::optional<RelayService> relay_service;
  if (config.relay) {
    RelayOptions ro;
    ro.host = config.host;
    ro.port = config.relay_port;
    ro.caps = config.relay_caps;
    relay = std::make_unique<RelayServer>(io, relay_tickets, ro);
    relay_service.emplace(RelayService{relay_tickets, relay->port(), relay->caps(), relay->counters()});
  }
  // Published metas are validated on worker threads; each verdict comes back to this
  // loop. A check in flight holds the loop open (io.run() waits for its answer).
  MetaCheckPool meta_checks(limits::kMetaCheckThreads, limits::kMaxMetaChecksQueued, limits::kMetaCheckCacheEntries,
                            [&io](std::function<void()> fn) { asio::post(io, std::move(fn)); });
  Api api(*stores.swarms, *stores.catalog, *stores.counters, ApiOptions{config.interval_seconds});
  api.set_meta_checker([&io, &meta_checks](std::string_view text, std::function<void(MetaCheck)> done) {
    auto hold = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(io.get_executor());
    return meta_checks.submit(text, [hold, done = std::move(done)](MetaCheck verdict) mutable {
      done(std::move(verdict));
      hold.reset();
    });
  });

  net::HttpOptions http;
  http.host = config.host;
  http.port = config.port;
  http.header_timeout = config.header_timeout;
  http.idle_timeout = config.idle_timeout;
  http.max_connections = net::limits::kMaxConnections;
  net::HttpServer server(io, api, http);
  api.set_connection_count([&server] { return server.open_connections(); });
  RendezvousOptions rendezvous;
  auto probes = std::make_shared<std::size_t>(0);
  rendezvous.probe = [&io, probes](const std::string& ip, std::uint16_t port, std::function<void(bool)> done) {
    probe(io, probes, ip, port, std::move(done));
  };
  if (relay_service) {
    rendezvous.issue_relay_ticket = [&relay_tickets](const std::string& swarm) {
      return relay_tickets.issue(swarm, Clock::now());
    };
    rendezvous.relay_port = relay_service->port;
    rendezvous.relay_counters = &relay_service->counters;
  }
  api.enable_rendezvous(std::move(rendezvous));
  BtPolicy bt_policy;
  if (!config.bt_whitelist.empty()) bt_policy = BtPolicy::whitelist(config.bt_whitelist);
  else if (config.bittorrent) bt_policy = BtPolicy::open();
  if (bt_policy.enabled()) api.enable_bittorrent(bt_policy);
  if (stores.redis) stores.redis->start();  // Redis down at start: serve 503 until it comes
  if (!stores.redis) run_now(api.refresh_withdrawn());  // Redis: with the first flush
  server.start();
  // BEP 15 on the TCP port's number (the one the kernel picked for --port 0).
  std::unique_ptr<UdpTracker> udp;
  if (bt_policy.enabled() && config.udp) {
    std::string bound = server.local_address();
    auto udp_port = static_cast<std::uint16_t>(std::stoul(bound.substr(bound.rfind(':') + 1)));
    udp = std::make_unique<UdpTracker>(io, *stores.swarms, bt_policy, config.interval_seconds,
                                       [&api](Endpoint e, int status) { api.count_request(e, status); });
    udp->start(config.host, udp_port);
  }
  if (relay) relay->start();

  // Sweep often enough that a peer is gone within ~2.5 intervals of its last announce.
  asio::steady_timer expiry(io), flush(io), polls(io);
  every(polls, std::chrono::milliseconds(1000), [&] { api.expire_polls(Clock::now()); });
  Job expire_job("dead-peer sweep"), flush_job("flush");
  auto sweep_period = std::chrono::milliseconds(std::max(250, config.interval_seconds * 1000 / 2));
  every(expiry, sweep_period, [&] {
    expire_job.run(expire_task(api));
    relay_tickets.sweep(Clock::now());
  });
  every(flush, stores.flush_period, [&] { flush_job.run(api.flush()); });

  // SIGHUP: re-read the BitTorrent whitelist; a bad file keeps the old list.
  asio::signal_set hangup(io, SIGHUP);
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](asio::error_code ec, int) {
      if (ec) return;
      if (auto error = bt_policy.reload()) log_warning(fmt::format("{} (kept the previous list)", *error));
      else if (bt_policy.mode() == BtPolicy::Mode::whitelist)
        log_line(LogLevel::info, fmt::format("re-read --bt-whitelist: {} info hashes", bt_policy.listed()));
      wait_hangup();
    });
  };
  wait_hangup();
  asio::signal_set hangups(io);
  std::function<void()> wait_for_hangup = [&] {
    hangups.async_wait([&](asio::error_code ec, int) {
      if (ec) return;
      ReloadOutcome outcome = reload_line(config, reload, relay.get());
      std::fprintf(stdout, "%s%s\n", journal_prefix(outcome.level).c_str(), outcome.line.c_str());
      std::fflush(stdout);
      wait_for_hangup();
    });
  };
  if (reload) {
    hangups.add(SIGHUP);
    wait_for_hangup();
  }

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](asio::error_code ec, int) {
    if (ec) return;
    hangups.cancel();  // still registered: a late SIGHUP is queued, never the default action
    server.stop();
    hangup.cancel();
    if (udp) udp->stop();
    if (relay) relay->stop();
    expiry.cancel();
    flush.cancel();
    polls.cancel();
    api.close_polls();  // held long polls: the server waits for every answer
    // A shared store gets this process's last counters, then the connection
    // closes (a down Redis fails the flush at once, a stuck one within the
    // command timeout), which ends io.run().
    if (stores.redis)
      start_detached(api.flush(), [&](std::exception_ptr) { stores.redis->stop(); });
  });

  on_listening(server.local_address());
  if (relay && on_relay_listening) on_relay_listening(relay->local_address());
  io.run();  // returns once the server, timers, signal wait and store connection have all finished
  signals.cancel();
  hangups.cancel();
  if (!stores.redis) run_now(api.flush());  // embedded: counters to SQLite
}

}  // namespace p2p::tracker
