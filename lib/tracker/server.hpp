// The whole tracker process minus argument parsing: the store (embedded or
// Redis), API, HTTP server, periodic dead-peer cleanup and counter flushes,
// and a clean stop on SIGINT/SIGTERM. p2p-tracker is a thin CLI over run_tracker().
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace p2p::tracker {

struct TrackerConfig {
  std::string host = "0.0.0.0";
  std::uint16_t port = 6969;
  // "embedded" (SQLite file `db` + memory) or "redis://HOST:PORT[/DB]".
  std::string store = "embedded";
  std::filesystem::path db = "data/tracker.db";
  int interval_seconds = 60;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};
};

// Validates the config (Error(usage), e.g. a malformed --store), opens the
// store (embedded: Error(disk); Redis: connects in the background and answers
// 503 until it can), binds (Error(bind_failed)), calls on_listening("HOST:PORT"),
// then serves until SIGINT or SIGTERM and returns normally after a last flush.
void run_tracker(const TrackerConfig& config, const std::function<void(const std::string&)>& on_listening);

}  // namespace p2p::tracker
