// LAN discovery's pacing (docs/PROTOCOL.md, "LAN announces"): when to announce which
// swarms, how much of what we hear is processed, and when an announce is answered.
// Pure bookkeeping: time is passed in; lan_discovery.cpp does the sockets.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.hpp"
#include "format/lan_announce.hpp"

namespace p2p {

namespace lan_limits {
using namespace std::chrono_literals;
// Full rounds: at start, again 1 s later (a datagram lost while the group was being
// joined on a switch costs a second, not a period), then every 45 s. A newcomer does not
// wait for the period: its own start announce is answered at once, so the period only
// repairs what answers miss (a lost datagram, an answer held back by its limit, a node
// that was paused): 45 s repairs a loss in under a minute, at ≤ 8 datagrams per
// interface a round. (BEP 14 recommends one a minute per torrent: there, announces are
// the only mechanism.)
inline constexpr auto kRepeatAfterStart = 1s;
inline constexpr auto kAnnounceInterval = 45s;
// A swarm added later (p2p-seed --dir) goes out this soon, coalesced with others added
// meanwhile, but never sooner than kMinRoundGap after the previous round.
inline constexpr auto kAddedDelay = 200ms;
inline constexpr auto kMinRoundGap = 1s;
// At most this many datagrams per round (x16 ids = 128 swarms). A node in more swarms
// announces the next 128 at the next round (rotating), so a p2p-seed of thousands of
// files never sends more than 8 datagrams per interface per round.
inline constexpr std::size_t kMaxDatagramsPerRound = 8;
inline constexpr std::size_t kMaxSwarmsPerRound = kMaxDatagramsPerRound * lan::kMaxSwarmsPerDatagram;
// Answers: one per swarm per second, and at most 64 ids a second in all (4 datagrams):
// forged announces naming every swarm we are in cannot make us send more than that.
inline constexpr auto kAnswerInterval = 1s;
inline constexpr std::size_t kMaxAnsweredSwarmsPerSecond = 64;
// Intake: datagrams processed per source address (burst, then per second) and in all.
// An honest node sends a few datagrams per round; the excess is dropped unparsed.
inline constexpr double kPerSourceBurst = 16, kPerSourceRate = 4;
inline constexpr double kTotalBurst = 128, kTotalRate = 64;
// Distinct TCP ports one source address may claim: a host runs one node, rarely a few.
// Forged announces carrying a third party's address can then point us at no more than
// this many of its ports (each dialled at most PeerDirectory::kMaxPexDialAttempts times).
inline constexpr std::size_t kMaxPortsPerSource = 4;
// Sources remembered for their limit; a flood from many forged addresses is held by the
// total limit, and the table never grows past this.
inline constexpr std::size_t kMaxTrackedSources = 1024;
}  // namespace lan_limits

// A token bucket over a steady clock (tokens refill continuously up to the burst).
class PacingBucket {
 public:
  using Clock = std::chrono::steady_clock;
  PacingBucket(double burst, double per_second, Clock::time_point now)
      : burst_(burst), rate_(per_second), tokens_(burst), at_(now) {}
  bool has(Clock::time_point now, double n = 1);  // refills, then whether n tokens are there
  void take(double n = 1) { tokens_ -= n; }
  bool full(Clock::time_point now);

 private:
  double burst_, rate_, tokens_;
  Clock::time_point at_;
};

// What we hear: admit() says whether a datagram from this source is processed at all.
class LanIntake {
 public:
  using Clock = std::chrono::steady_clock;
  struct Counters {
    std::uint64_t admitted = 0, dropped_per_source = 0, dropped_total = 0;
  };
  explicit LanIntake(Clock::time_point now);
  bool admit(const std::string& source_ip, Clock::time_point now);
  const Counters& counters() const { return counters_; }
  std::size_t tracked_sources() const { return sources_.size(); }

 private:
  PacingBucket total_;
  std::map<std::string, PacingBucket> sources_;
  Clock::time_point last_purge_{};
  Counters counters_;
};

// Which ports each source has claimed: claim() is false for a fifth distinct port.
class LanClaims {
 public:
  bool claim(const std::string& source_ip, std::uint16_t port);
  std::uint64_t refused() const { return refused_; }

 private:
  std::map<std::string, std::set<std::uint16_t>> ports_;
  std::uint64_t refused_ = 0;
};

// Which of the swarms an announce named (and we are in) we answer now.
class LanAnswers {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LanAnswers(Clock::time_point now);
  std::vector<Digest> take(const std::vector<Digest>& asked, Clock::time_point now);
  std::uint64_t suppressed() const { return suppressed_; }

 private:
  PacingBucket total_;
  std::map<Digest, Clock::time_point> last_;
  std::uint64_t suppressed_ = 0;
};

// When we announce and which of our swarms each round carries.
class LanAnnouncePlan {
 public:
  using Clock = std::chrono::steady_clock;
  void start(Clock::time_point now);
  void added(const Digest& id, Clock::time_point now);
  Clock::time_point next_due() const;
  // The ids to announce now (nothing if no round is due): a full round takes the next
  // kMaxSwarmsPerRound of `ours` (rotating), a quick round the added ones still ours.
  std::vector<Digest> take_due(Clock::time_point now, const std::vector<Digest>& ours);

 private:
  bool started_ = false;
  Clock::time_point next_full_ = Clock::time_point::max();
  Clock::time_point repeat_ = Clock::time_point::max();  // the one repeat after start
  Clock::time_point quick_ = Clock::time_point::max();
  Clock::time_point last_round_{};
  std::set<Digest> added_;
  std::size_t cursor_ = 0;
};

}  // namespace p2p
