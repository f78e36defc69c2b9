// Wires the tracker together on one io_context thread. One thread owns the
// registry and catalog, so there are no locks; the announce path is short
// enough that one core outruns the C tracker (see docs/TRACKER.md).
#include "tracker/server.hpp"

#include <asio.hpp>
#include <cstdio>
#include <fmt/core.h>
#include <random>

#include "base/error.hpp"
#include "tracker/api.hpp"
#include "tracker/catalog.hpp"
#include "net/http_server.hpp"
#include "tracker/tracker_limits.hpp"
#include "tracker/metrics.hpp"
#include "tracker/swarm_registry.hpp"

namespace p2p::tracker {

namespace {

std::uint64_t random_seed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

// Runs `tick` every `period` until the timer is cancelled.
void every(asio::steady_timer& timer, std::chrono::milliseconds period, std::function<void()> tick) {
  timer.expires_after(period);
  timer.async_wait([&timer, period, tick = std::move(tick)](asio::error_code ec) mutable {
    if (ec) return;
    tick();
    every(timer, period, std::move(tick));
  });
}

}  // namespace

void run_tracker(const TrackerConfig& config, const std::function<void(const std::string&)>& on_listening) {
  if (config.interval_seconds < limits::kMinIntervalSeconds || config.interval_seconds > limits::kMaxIntervalSeconds)
    throw Error(ExitCode::usage, fmt::format("--interval {} is outside {}-{} seconds", config.interval_seconds,
                                             limits::kMinIntervalSeconds, limits::kMaxIntervalSeconds));
  if (config.header_timeout.count() <= 0 || config.idle_timeout.count() <= 0)
    throw Error(ExitCode::usage, "timeouts must be positive");

  Catalog catalog(config.db);
  SwarmRegistry swarms(random_seed());
  Metrics metrics;
  Api api(swarms, catalog, metrics, ApiOptions{config.interval_seconds});

  asio::io_context io(1);
  HttpOptions http;
  http.host = config.host;
  http.port = config.port;
  http.header_timeout = config.header_timeout;
  http.idle_timeout = config.idle_timeout;
  http.max_connections = limits::kMaxConnections;
  HttpServer server(io, api, http);
  server.start();

  // Sweep often enough that a peer is gone within ~2.5 intervals of its last announce.
  asio::steady_timer expiry(io), flush(io);
  auto sweep_period = std::chrono::milliseconds(std::max(250, config.interval_seconds * 1000 / 2));
  every(expiry, sweep_period, [&] { api.expire(Clock::now()); });
  every(flush, std::chrono::duration_cast<std::chrono::milliseconds>(limits::kCatalogFlushInterval), [&] {
    try {
      catalog.flush();
    } catch (const Error& e) {
      std::fprintf(stderr, "p2p-tracker: %s (will retry)\n", e.what());
    }
  });

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](asio::error_code ec, int) {
    if (ec) return;
    server.stop();
    expiry.cancel();
    flush.cancel();
  });

  on_listening(server.local_address());
  io.run();  // returns once the server, timers and signal wait have all finished
  signals.cancel();
  catalog.flush();
}

}  // namespace p2p::tracker
