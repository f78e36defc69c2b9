// What each peer has done for us, kept across runs in SQLite (<workdir>/reputation.db).
// Events move a peer's score; below the ban threshold it is refused for a while,
// also after a restart. Pure policy (score, ban) plus a small SQLite edge.
//
// Scoring rule (documented in docs/SECURITY.md):
//   piece delivered and verified   +1   (score capped at +50)
//   request timed out / stalled    -3
//   protocol violation             -25
//   corrupt data, proven           ban() at once (sole source, or named by smart ban)
// Score <= -20: banned for kBanDuration from the moment it crossed the line.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

// Who a peer is to its reputation: its IP address and the first 16 hex digits of the
// peer id it gave ("203.0.113.5#0123456789abcdef"), so another process on the same IP
// (another peer id) is scored apart, and a peer cannot shed a ban by changing port.
std::string reputation_key(std::string_view ip, std::string_view peer_id);

class Reputation {
 public:
  using SysClock = std::chrono::system_clock;
  enum class Event { delivered, timeout, violation };
  static constexpr double kMaxScore = 50;
  static constexpr double kBanThreshold = -20;
  static constexpr auto kBanDuration = std::chrono::hours(1);

  struct Record {
    double score = 0;
    std::uint64_t delivered = 0, corrupt = 0, timeouts = 0, violations = 0;
    std::int64_t banned_until = 0;  // unix seconds; 0 = not banned
    std::string reason;             // why it was last banned
  };

  // db empty: in memory only (tests). Throws Error(disk) if the database cannot be opened.
  explicit Reputation(const std::filesystem::path& db = {});
  // Makes the database file with its schema if there is none, so that a Reputation
  // opened on it later finds it ready (a fresh workdir's database costs SQLite's first
  // flushes): for another thread while the process does other work. Never throws: a
  // database that cannot be made is reported by the Reputation that opens it.
  static void create_if_missing(const std::filesystem::path& db) noexcept;
  ~Reputation();
  Reputation(const Reputation&) = delete;
  Reputation& operator=(const Reputation&) = delete;

  // Applies an event; returns true if this event got the peer banned.
  bool record(const std::string& peer, Event e, const std::string& detail, SysClock::time_point now);
  // Bans at once (e.g. a proven liar), whatever the score.
  void ban(const std::string& peer, const std::string& reason, SysClock::time_point now);
  bool banned(const std::string& peer, SysClock::time_point now) const;
  double score(const std::string& peer) const;
  const Record* find(const std::string& peer) const;
  // Peers banned at `now`, for --list-bans.
  std::vector<std::pair<std::string, Record>> bans(SysClock::time_point now) const;
  // Lifts every ban and resets those peers' scores to 0 (--forget-bans); returns how many.
  std::size_t forget_bans(SysClock::time_point now);
  // Writes changed records in one transaction (crash-safe: SQLite journal).
  void flush();

 private:
  struct Db;
  std::unique_ptr<Db> db_;
  std::map<std::string, Record> records_;
  std::map<std::string, bool> dirty_;
};

}  // namespace p2p
