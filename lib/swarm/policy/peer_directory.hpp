// Every peer address a torrent knows of, where it came from, and when to dial
// it. Pure bookkeeping (time is passed in); the torrent does the dialling.
//
// * Peers given on the command line get `parallel` connections; peers learned
//   from trackers or peer exchange get one.
// * When a failed address is dialled again is DialBackoff's rule (dial_backoff.hpp):
//   peers from the command line or a tracker are retried with exponential back-off
//   capped at kMaxRetryInterval for as long as the torrent waits (a seeder restart
//   or a short outage must not end a long download); addresses learned by gossip or
//   a LAN announce wait 60 s after a failure, doubling, and are tried
//   kMaxPexDialAttempts times.
// * Gossip is not an amplifier: each advertiser (a peer's IP: its connections share
//   it) may introduce at most kMaxAddsPerAdvertiser addresses, unroutable or self-pointing ones are never
//   accepted (dialable()), and addresses confirmed by several sources (or by a
//   tracker) are dialled first.
#pragma once
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "format/wire.hpp"
#include "swarm/policy/dial_backoff.hpp"

namespace p2p {

std::string address_label(const wire::PeerAddress& a);  // "1.2.3.4:5" or "[::1]:5"

// Whether an address learned from `advertiser_ip` (a tracker's or a peer's
// address; empty for the command line) may be dialled at all: a numeric address,
// port != 0, not unspecified, multicast or broadcast; loopback and link-local
// only when the advertiser is itself loopback / link-local (a remote peer has
// no business pointing us at our own machine's services).
bool dialable(const wire::PeerAddress& a, std::string_view advertiser_ip);

class PeerDirectory {
 public:
  using Clock = std::chrono::steady_clock;
  // Best vouched first. A LAN announce is a hint anyone on the LAN can forge: tried
  // kMaxPexDialAttempts times, as gossip is.
  enum class Source { command_line, tracker, lan, pex };
  static constexpr std::size_t kMaxKnownPeers = 500;
  static constexpr std::size_t kMaxAddsPerAdvertiser = 50;
  static constexpr int kMaxPexDialAttempts = DialBackoff::kHintAttempts;
  static constexpr auto kMaxRetryInterval = DialBackoff::kVouchedMaxInterval;

  explicit PeerDirectory(int parallel) : parallel_(parallel) {}

  // `advertiser`: who told us (the peer's IP) for gossip; a second advertiser confirms it.
  // False if not added (known already, directory full, or that advertiser's quota is spent).
  bool add(const wire::PeerAddress& a, Source source, const std::string& advertiser = {});
  std::size_t size() const { return peers_.size(); }

  // Addresses to open one more connection to now (one entry per connection), the
  // best-vouched first: command line, tracker, gossip confirmed twice, gossip.
  std::vector<wire::PeerAddress> to_dial(Clock::time_point now, std::size_t budget) const;
  void dialling(const wire::PeerAddress& a);
  void dial_failed(const wire::PeerAddress& a, const std::string& why, Clock::time_point now);
  void connected(const wire::PeerAddress& a);
  // An established connection ended; `useful` if it delivered data.
  void closed(const wire::PeerAddress& a, bool useful, const std::string& why, Clock::time_point now);
  // Our connection to it closed in favour of the one it opened to us (both dialled at
  // once): no failure, and no redial while that one lasts (incoming()).
  void superseded(const wire::PeerAddress& a);
  // The peer told us it will never serve this file (wrong file, version, or it is us).
  void refuse_forever(const wire::PeerAddress& a, const std::string& why);
  // An incoming connection from a peer listening at `a`: counts as connected, no need to dial.
  void incoming(const wire::PeerAddress& a);
  void incoming_closed(const wire::PeerAddress& a);
  void ban(const wire::PeerAddress& a, const std::string& why);
  // A tracker's rendezvous: that peer dials us now (it waits behind a NAT, or we do), so
  // we dial it now too, whatever its back-off says, so that both SYNs cross. Not for a
  // dead address. Remembered: a connection it gives was punched (session_snapshot.hpp).
  void rendezvous(const wire::PeerAddress& a, Clock::time_point now);
  bool met_by_rendezvous(const wire::PeerAddress& a) const;

  // True while some peer may still be reached (connected, connecting, or retries left).
  bool any_hope() const;
  // When the next dial is due (time_point::max() if none): for "retrying in N s".
  Clock::time_point next_retry() const;
  // Failures so far, e.g. "1.2.3.4:5: connection refused (gave up)", for the final error.
  std::string failure_summary() const;
  int failures(const wire::PeerAddress& a) const;
  std::string last_error(const wire::PeerAddress& a) const;
  bool first_failure(const wire::PeerAddress& a) const { return failures(a) == 1; }
  bool gave_up(const wire::PeerAddress& a) const;
  int confirmations(const wire::PeerAddress& a) const;
  // Where an address was learned first; nullopt if unknown.
  std::optional<Source> source(const wire::PeerAddress& a) const;

 private:
  struct Record {
    Source source = Source::pex;
    std::set<std::string> advertisers;  // bounded: only whether there are several matters
    int failures = 0;
    int open = 0, connecting = 0, incoming = 0;
    Clock::time_point next_try{}, last_failure{};
    bool dead = false;
    bool rendezvous = false;
    std::string last_error;
  };
  void backoff(Record& r, const std::string& why, Clock::time_point now);
  int wanted_connections(const Record& r) const;
  bool out_of_attempts(const Record& r) const;
  int rank(const Record& r) const;  // lower dials first
  static DialBackoff::Trust trust(Source s) {
    return s == Source::command_line || s == Source::tracker ? DialBackoff::Trust::vouched : DialBackoff::Trust::hint;
  }

  int parallel_;
  std::map<wire::PeerAddress, Record> peers_;
  std::map<std::string, std::size_t> adds_by_advertiser_;
};

}  // namespace p2p
