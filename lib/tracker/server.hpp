// The whole tracker process minus argument parsing: the store (embedded or
// Redis), API, HTTP server, periodic dead-peer cleanup and counter flushes,
// a clean stop on SIGINT/SIGTERM,
// and SIGHUP re-reading the BitTorrent whitelist. p2p-tracker is a thin CLI over run_tracker().
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "tracker/relay_quota.hpp"

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
  // The relay (docs/TRACKER.md "Relay"): off unless asked, since it carries
  // anyone's traffic. It listens on `host` too; relay_port 0 = any free port.
  bool relay = false;
  std::uint16_t relay_port = limits::kDefaultRelayPort;
  RelayCaps relay_caps;
  // The BitTorrent dialects (docs/TRACKER.md "BitTorrent clients"): off unless asked,
  // since an open tracker serves anyone's swarms. bt_whitelist non-empty: only the
  // hashes it lists (re-read on SIGHUP). udp: BEP 15 on the same port number.
  bool bittorrent = false;
  std::filesystem::path bt_whitelist;
  bool udp = true;
};

// Validates the config (Error(usage), e.g. a malformed --store), opens the
// store (embedded: Error(disk); Redis: connects in the background and answers
// 503 until it can), binds (Error(bind_failed)), calls on_listening("HOST:PORT"),
// then serves until SIGINT or SIGTERM and returns normally after a last flush.
// With config.relay the relay is bound too (Error(bind_failed) naming it) and
// on_relay_listening("HOST:PORT") is called right after on_listening.
// With `reload`, SIGHUP (`systemctl reload`) asks it for the settings again
// (p2p-tracker re-reads its --config file), applies what can change while the
// tracker runs (the relay's caps) and prints one line saying what was reloaded
// and what needs a restart; a reload that throws Error changes nothing and says why.
using ReloadConfig = std::function<TrackerConfig()>;
void run_tracker(const TrackerConfig& config, const std::function<void(const std::string&)>& on_listening,
                 const std::function<void(const std::string&)>& on_relay_listening = {},
                 const ReloadConfig& reload = {});

}  // namespace p2p::tracker
